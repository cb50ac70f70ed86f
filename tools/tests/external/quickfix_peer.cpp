// A FIX counterparty built on QuickFIX (C++, Debian's libquickfix-dev), for the
// interop tests in tools/tests/quickfix.rs. Nothing of foxtrot is in it: it is
// QuickFIX's session layer, parser and store talking to ours.
//
//   quickfix_peer acceptor  PORT BEGIN SENDER TARGET SECONDS [LOGONS [SPEC_DIR]]
//       Accepts one session; refuses one NewOrderSingle in ten with a
//       BusinessMessageReject (as a broker's throttle does) and another with a
//       session Reject (as its checks of a field would), answers the others
//       with a Pending New (ExecType A, as a broker that routes the order on
//       does), then acknowledges them (ExecType 0), fills two of
//       every three at their limit price (busting one fill in ten again, in
//       the version's way: ExecType H, or ExecTransType 1, and correcting
//       another to half its quantity: ExecType G, or ExecTransType 2) and leaves the
//       third resting (restating one in two of those, ExecType D: its
//       quantity halved, or the order ended, OrdStatus 4); cancels and
//       replaces resting orders (counting cancels whose OrderQty is not the
//       order's as it stands), answers an
//       OrderStatusRequest as the version says (ExecType I; in FIX 4.2
//       ExecTransType 3; or refuses it, QF_PEER_STATUS=unsupported|refused),
//       cancels every resting order an OrderMassCancelRequest covers (FIX 4.4:
//       each reported cancelled, then an OrderMassCancelReport; or refuses it
//       with MassCancelResponse 0, QF_PEER_MASS=refused),
//       and answers anything else with an
//       OrderCancelReject. Logs out after SECONDS (or when the peer does); an
//       order that arrives once it has decided to log out is counted but not
//       answered, so no report follows its Logout. With LOGONS, it serves that
//       many logons of the session in turn (sequence numbers carry on), and
//       counts per logon the orders it received ("per_logon").
//   quickfix_peer initiator HOST PORT BEGIN SENDER TARGET SYMBOL [SPEC_DIR]
//       Logs on and trades with QuickFIX-style ClOrdIDs (`C<time>-<n>`, a
//       cancel's `<orig>-X`, a replace's `<orig>-R`): a marketable buy and
//       sell, a resting buy that it fails to replace off the tick and for half
//       a lot (cancel rejects that leave it working), replaces and
//       then cancels, an off-tick
//       order and an order for an unknown symbol (both rejected by the venue),
//       an order with an invalid HandlInst (a session-level reject), and a
//       cancel of an order that never was (a cancel reject); asks the status
//       of its first order and of one it never sent (OrderStatusRequest);
//       in FIX 4.4, rests a buy and a sell and cancels both with one
//       OrderMassCancelRequest for the symbol; waits for the answers, logs out.
//
// With SPEC_DIR (QuickFIX's FIX42.xml / FIX44.xml), QuickFIX checks every
// message it receives against its data dictionary and rejects what does not
// conform. Both print one JSON object of counts on stdout when done ("sent":
// the acceptor's execution reports and cancel rejects). Debian ships QuickFIX
// 1.15, whose headers use dynamic exception specifications: build with -std=c++14.

#include <quickfix/Application.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <vector>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace {

std::string get(const FIX::FieldMap& m, int tag) {
  return m.isSetField(tag) ? m.getField(tag) : std::string();
}

long long to_ll(const std::string& s) {
  try {
    return static_cast<long long>(std::stod(s));
  } catch (...) {
    return 0;
  }
}

struct Resting {
  std::string symbol, side, qty, px, order_id;
  // When its quantity was restated (a default time point: never).
  std::chrono::steady_clock::time_point restated_at{};
};

// A cancel that names the quantity from before a restatement sent less than
// this long ago crossed the restatement on the wire: the engine could not
// have known of it yet. A slow line between the two (QF_PEER_LINE_MS, the
// delay it holds what this peer sends for) widens the window by its delay.
const auto CROSSING = std::chrono::milliseconds(
    200 + (std::getenv("QF_PEER_LINE_MS") ? std::stoll(std::getenv("QF_PEER_LINE_MS")) : 0));

class Peer : public FIX::Application {
 public:
  explicit Peer(bool acceptor) : acceptor_(acceptor) {}

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& s) override {
    std::lock_guard<std::mutex> g(mu_);
    session_ = s;
    logons_++;
    logged_on_ = true;
  }
  void onLogout(const FIX::SessionID&) override { logged_on_ = false; }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    if (get(m.getHeader(), 35) == "3") session_rejects_++;
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID& s)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
             FIX::UnsupportedMessageType) override {
    std::lock_guard<std::mutex> g(mu_);
    std::string t = get(m.getHeader(), 35);
    if (acceptor_ && closing_) {
      // Too late to answer: a report now could follow our Logout on the wire.
      if (t == "D") orders_++, unanswered_new_++;
      else if (t == "F") cancels_++;
      else if (t == "G") replaces_++;
      else if (t == "q") mass_cancels_++;
      unanswered_++;
    } else if (acceptor_) {
      if (t == "D") on_new(m, s);
      else if (t == "F") on_cancel(m, s);
      else if (t == "G") on_replace(m, s);
      else if (t == "H") on_status(m, s);
      else if (t == "q") on_mass_cancel(m, s);
    } else if (t == "r") {
      mass_reports_++;
      mass_responses_ += (mass_responses_.empty() ? "" : ",") + get(m, 531) + ":" + get(m, 533);
    } else if (t == "8") {
      reports_++;
      std::string et = get(m, 150), st = get(m, 39);
      // An answer to an OrderStatusRequest: FIX 4.4 says so in ExecType (I),
      // FIX 4.2 in ExecTransType (3), its ExecType then the order's state.
      if (et == "I" || get(m, 20) == "3") {
        status_answers_ += (status_answers_.empty() ? "" : ",") + get(m, 11) + ":" + st;
        return;
      }
      if (et == "0") acks_++;
      if (et == "5") replaced_++;
      if (et == "1" || et == "2" || et == "F") {
        fills_++;
        filled_qty_ += to_ll(get(m, 32));
        filled_by_cl_[get(m, 11)] += to_ll(get(m, 32));
      }
      if (et == "4") canceled_++;
      if (et == "8") rejected_++;
      last_status_[get(m, 11)] = st;
      // A cancel's report names the order it cancelled in OrigClOrdID (one
      // of a mass cancel, under the request's ClOrdID).
      if (et == "4" && !get(m, 41).empty()) last_status_[get(m, 41)] = st;
    } else if (t == "9") {
      cancel_rejects_++;
      cxl_rej_reasons_ += (cxl_rej_reasons_.empty() ? "" : ",") + get(m, 102);
      cxl_rej_statuses_ += (cxl_rej_statuses_.empty() ? "" : ",") + get(m, 39);
    }
  }

  // --- acceptor side ---------------------------------------------------------
  void send(FIX::Message& m, const FIX::SessionID& s) {
    FIX::Session::sendToTarget(m, s);
    sent_++;
  }

  FIX::Message report(const std::string& exec_type, const std::string& status, const std::string& cl,
                      const Resting& o, const std::string& cum, const std::string& leaves) {
    bool fix42 = session_.getBeginString().getValue() == "FIX.4.2";
    FIX::Message r;
    r.getHeader().setField(35, "8");
    r.setField(37, o.order_id);
    r.setField(17, std::to_string(++exec_id_));
    r.setField(11, cl);
    if (fix42) r.setField(20, "0");
    r.setField(150, exec_type);
    r.setField(39, status);
    r.setField(55, o.symbol);
    r.setField(54, o.side);
    r.setField(38, o.qty);
    if (!o.px.empty()) r.setField(44, o.px);
    r.setField(14, cum);
    r.setField(151, leaves);
    r.setField(6, "0");
    return r;
  }

  void on_new(const FIX::Message& m, const FIX::SessionID& s) {
    session_ = s;
    orders_++;
    Resting o{get(m, 55), get(m, 54), get(m, 38), get(m, 44), std::to_string(++order_id_)};
    std::string cl = get(m, 11);
    if (!seen_.insert(cl).second) duplicate_cl_ord_ids_++;
    if (orders_ % 10 == 5) {
      // Refused above the session, as a broker's throttle or risk check does.
      FIX::Message j;
      j.getHeader().setField(35, "j");
      j.setField(45, get(m.getHeader(), 34));
      j.setField(372, "D");
      j.setField(379, cl);
      j.setField(380, "0");
      j.setField(58, "throttled");
      send(j, s);
      business_rejects_++;
      return;
    }
    if (orders_ % 10 == 8) {
      // Refused at the session layer, as a broker whose checks find a field
      // wanting does: a Reject names the message by its MsgSeqNum only.
      FIX::Message r;
      r.getHeader().setField(35, "3");
      r.setField(45, get(m.getHeader(), 34));
      r.setField(372, "D");
      r.setField(373, "5");
      r.setField(58, "value is incorrect (test)");
      send(r, s);
      session_rejects_sent_++;
      return;
    }
    FIX::Message pending = report("A", "A", cl, o, "0", o.qty);
    send(pending, s);
    pending_new_++;
    FIX::Message ack = report("0", "0", cl, o, "0", o.qty);
    send(ack, s);
    if (orders_ % 3 == 0) {
      if (orders_ % 12 == 6) {
        // Ended by a restatement, as some venues end an order on a halt or
        // a system failure: ExecType D, OrdStatus 4, nothing left.
        FIX::Message r = report("D", "4", cl, o, "0", "0");
        r.setField(378, "4");
        send(r, s);
        restated_ended_++;
        done_[cl] = {o, "4", "0"};
        return;
      }
      if (orders_ % 6 == 3 && to_ll(o.qty) / 2 > 0) {
        // Its quantity restated to half (a partial decline of OrderQty):
        // ExecType D, the order working at the new OrderQty.
        o.qty = std::to_string(to_ll(o.qty) / 2);
        o.restated_at = std::chrono::steady_clock::now();
        FIX::Message r = report("D", "0", cl, o, "0", o.qty);
        r.setField(378, "5");
        send(r, s);
        restated_++;
      }
      resting_[cl] = o;
      return;
    }
    bool fix42 = s.getBeginString().getValue() == "FIX.4.2";
    FIX::Message fill = report(fix42 ? "2" : "F", "2", cl, o, o.qty, "0");
    fill.setField(31, o.px.empty() ? "100" : o.px);
    fill.setField(32, o.qty);
    std::string fill_id = fill.getField(17);
    send(fill, s);
    fills_++;
    filled_qty_ += to_ll(o.qty);
    net_[o.symbol] += (o.side == "2" ? -1 : 1) * to_ll(o.qty);
    done_[cl] = {o, "2", o.qty};
    if (orders_ % 10 == 4) {
      // The trade busted, as venues do after an erroneous trade: FIX 4.4 by
      // ExecType H, FIX 4.2 by ExecTransType 1 with the busted fill's
      // ExecType (2) and LastShares; ExecRefID names the fill.
      FIX::Message bust = report(fix42 ? "2" : "H", "4", cl, o, "0", "0");
      if (fix42) bust.setField(20, "1");
      bust.setField(19, fill_id);
      bust.setField(31, o.px.empty() ? "100" : o.px);
      bust.setField(32, o.qty);
      send(bust, s);
      busts_++;
      net_[o.symbol] -= (o.side == "2" ? -1 : 1) * to_ll(o.qty);
      done_[cl] = {o, "4", "0"};
    }
    if (orders_ % 10 == 7) {
      // The trade corrected to half its quantity, as venues do after an
      // erroneous trade: FIX 4.4 by ExecType G, FIX 4.2 by ExecTransType 2
      // with the order's state as ExecType; ExecRefID names the fill,
      // LastQty/LastPx are the trade as it now stands.
      long long q = to_ll(o.qty), half = q / 2;
      std::string h = std::to_string(half);
      FIX::Message c = report(fix42 ? "2" : "G", "2", cl, o, h, "0");
      if (fix42) c.setField(20, "2");
      c.setField(19, fill_id);
      c.setField(31, o.px.empty() ? "100" : o.px);
      c.setField(32, h);
      send(c, s);
      corrections_++;
      net_[o.symbol] -= (o.side == "2" ? -1 : 1) * (q - half);
      done_[cl] = {o, "2", h};
    }
  }

  void cancel_reject(const FIX::Message& m, const FIX::SessionID& s, const char* response_to) {
    FIX::Message r;
    r.getHeader().setField(35, "9");
    r.setField(37, "NONE");
    r.setField(11, get(m, 11));
    r.setField(41, get(m, 41));
    r.setField(39, "8");
    r.setField(434, response_to);
    r.setField(102, "1");
    send(r, s);
    cancel_rejects_++;
  }

  void on_cancel(const FIX::Message& m, const FIX::SessionID& s) {
    cancels_++;
    auto it = resting_.find(get(m, 41));
    if (it == resting_.end()) return cancel_reject(m, s, "1");
    // A cancel names the order's quantity as it stands (after a restatement).
    if (m.isSetField(38) && to_ll(get(m, 38)) != to_ll(it->second.qty)) {
      const auto& at = it->second.restated_at;
      bool crossed = at != std::chrono::steady_clock::time_point{} &&
                     std::chrono::steady_clock::now() - at < CROSSING;
      // Sent before the restatement could have reached the engine: a race
      // of the wire, counted apart; after that, a stale quantity.
      if (crossed) cancel_qty_crossings_++;
      else cancel_qty_mismatches_++;
    }
    FIX::Message r = report("4", "4", get(m, 11), it->second, "0", "0");
    r.setField(41, get(m, 41));
    send(r, s);
    done_[get(m, 41)] = {it->second, "4", "0"};
    resting_.erase(it);
    canceled_++;
  }

  void on_replace(const FIX::Message& m, const FIX::SessionID& s) {
    replaces_++;
    auto it = resting_.find(get(m, 41));
    if (it == resting_.end()) return cancel_reject(m, s, "2");
    Resting o = it->second;
    resting_.erase(it);
    o.qty = get(m, 38);
    o.px = get(m, 44);
    bool fix42 = s.getBeginString().getValue() == "FIX.4.2";
    FIX::Message r = report("5", fix42 ? "5" : "0", get(m, 11), o, "0", o.qty);
    r.setField(41, get(m, 41));
    send(r, s);
    resting_[get(m, 11)] = o;
  }

  // An OrderMassCancelRequest (FIX 4.4): every resting order of the session
  // (MassCancelRequestType 7) or of its Symbol (1) cancelled, each in a report
  // of its own (ClOrdID the request's, OrigClOrdID the order's), then the
  // OrderMassCancelReport; QF_PEER_MASS=refused: MassCancelResponse 0 (mass
  // cancel not supported), nothing cancelled.
  void on_mass_cancel(const FIX::Message& m, const FIX::SessionID& s) {
    mass_cancels_++;
    std::string type = get(m, 530), sym = get(m, 55), cl = get(m, 11);
    mass_types_ += (mass_types_.empty() ? "" : ",") + type;
    FIX::Message r;
    r.getHeader().setField(35, "r");
    r.setField(11, cl);
    r.setField(37, "MC" + std::to_string(++order_id_));
    r.setField(530, type);
    const char* mode = std::getenv("QF_PEER_MASS");
    if (mode && std::string(mode) == "refused") {
      r.setField(531, "0");
      r.setField(532, "0");
      send(r, s);
      mass_refused_++;
      return;
    }
    int n = 0;
    for (auto it = resting_.begin(); it != resting_.end();) {
      if (type == "1" && it->second.symbol != sym) {
        ++it;
        continue;
      }
      FIX::Message c = report("4", "4", cl, it->second, "0", "0");
      c.setField(41, it->first);
      send(c, s);
      done_[it->first] = {it->second, "4", "0"};
      canceled_++;
      mass_canceled_++;
      n++;
      it = resting_.erase(it);
    }
    r.setField(531, type);
    r.setField(533, std::to_string(n));
    send(r, s);
  }

  void mass_cancel(const std::string& cl, const std::string& symbol) {
    FIX::Message o;
    o.getHeader().setField(35, "q");
    o.setField(11, cl);
    o.setField(530, "1");
    o.setField(55, symbol);
    o.setField(60, FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3));
    FIX::Session::sendToTarget(o, session_);
  }

  int mass_reports() {
    std::lock_guard<std::mutex> g(mu_);
    return mass_reports_;
  }

  // An OrderStatusRequest, answered as the version says: FIX 4.4 with
  // ExecType I, FIX 4.2 with ExecTransType 3 and the order's state as
  // ExecType; an order it never had as Rejected (8).
  void on_status(const FIX::Message& m, const FIX::SessionID& s) {
    status_requests_++;
    // QF_PEER_STATUS=unsupported: a broker that does not take the message
    // (QuickFIX answers it with a BusinessMessageReject); =refused: one whose
    // checks refuse it (QuickFIX answers with a session Reject).
    const char* mode = std::getenv("QF_PEER_STATUS");
    std::string m_ = mode ? mode : "";
    if (m_ == "unsupported" || m_ == "refused") status_refused_++;
    if (m_ == "unsupported") throw FIX::UnsupportedMessageType();
    if (m_ == "refused") throw FIX::IncorrectTagValue(11);
    std::string cl = get(m, 11), st = "8", cum = "0", leaves = "0";
    Resting o{get(m, 55), get(m, 54), "0", "", "NONE"};
    auto r = resting_.find(cl);
    auto d = done_.find(cl);
    if (r != resting_.end()) {
      o = r->second;
      st = "0";
      leaves = o.qty;
    } else if (d != done_.end()) {
      o = d->second.order;
      st = d->second.status;
      cum = d->second.cum;
    }
    bool fix42 = s.getBeginString().getValue() == "FIX.4.2";
    FIX::Message a = report(fix42 ? st : "I", st, cl, o, cum, leaves);
    if (fix42) a.setField(20, "3");
    if (st == "8") a.setField(58, "unknown order");
    send(a, s);
    status_answers_sent_++;
  }

  // --- initiator side --------------------------------------------------------
  void order(const std::string& cl, const std::string& symbol, const std::string& side, const std::string& qty,
             const std::string& px) {
    FIX::Message o;
    o.getHeader().setField(35, "D");
    o.setField(11, cl);
    o.setField(21, "1");
    o.setField(55, symbol);
    o.setField(54, side);
    o.setField(60, FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3));
    o.setField(38, qty);
    o.setField(40, "2");
    o.setField(44, px);
    o.setField(59, "0");
    FIX::Session::sendToTarget(o, session_);
  }

  // An order QuickFIX sends as given: HandlInst 4 is no value of it.
  void bad_order(const std::string& cl, const std::string& symbol) {
    FIX::Message o;
    o.getHeader().setField(35, "D");
    o.setField(11, cl);
    o.setField(21, "4");
    o.setField(55, symbol);
    o.setField(54, "1");
    o.setField(60, FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3));
    o.setField(38, "100");
    o.setField(40, "2");
    o.setField(44, "50.0000");
    FIX::Session::sendToTarget(o, session_);
  }

  void replace(const std::string& cl, const std::string& orig, const std::string& symbol, const std::string& side,
               const std::string& qty, const std::string& px) {
    FIX::Message o;
    o.getHeader().setField(35, "G");
    o.setField(11, cl);
    o.setField(41, orig);
    o.setField(21, "1");
    o.setField(55, symbol);
    o.setField(54, side);
    o.setField(60, FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3));
    o.setField(38, qty);
    o.setField(40, "2");
    o.setField(44, px);
    FIX::Session::sendToTarget(o, session_);
  }

  void status_request(const std::string& cl, const std::string& symbol, const std::string& side) {
    FIX::Message o;
    o.getHeader().setField(35, "H");
    o.setField(11, cl);
    o.setField(55, symbol);
    o.setField(54, side);
    FIX::Session::sendToTarget(o, session_);
  }

  int status_answers() {
    std::lock_guard<std::mutex> g(mu_);
    return status_answers_.empty() ? 0 : 1 + std::count(status_answers_.begin(), status_answers_.end(), ',');
  }

  void cancel(const std::string& cl, const std::string& orig, const std::string& symbol, const std::string& side,
              const std::string& qty) {
    FIX::Message o;
    o.getHeader().setField(35, "F");
    o.setField(11, cl);
    o.setField(41, orig);
    o.setField(55, symbol);
    o.setField(54, side);
    o.setField(38, qty);
    o.setField(60, FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3));
    FIX::Session::sendToTarget(o, session_);
  }

  std::string status(const std::string& cl) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = last_status_.find(cl);
    return it == last_status_.end() ? "" : it->second;
  }
  int cancel_rejects() {
    std::lock_guard<std::mutex> g(mu_);
    return cancel_rejects_;
  }
  long long filled(const std::string& cl) {
    std::lock_guard<std::mutex> g(mu_);
    return filled_by_cl_[cl];
  }

  // From now on no order is answered. Answers are sent while `mu_` is held, so
  // every one sent before this returns is ahead of the Logout that follows it.
  void close() {
    std::lock_guard<std::mutex> g(mu_);
    closing_ = true;
  }

  // The logon is over: its orders are counted, and the next one is answered.
  void next_logon() {
    std::lock_guard<std::mutex> g(mu_);
    int total = orders_ + cancels_ + replaces_;
    per_logon_.push_back(total - counted_);
    counted_ = total;
    closing_ = false;
  }

  FIX::SessionID session_id() {
    std::lock_guard<std::mutex> g(mu_);
    return session_;
  }

  std::string summary() {
    std::lock_guard<std::mutex> g(mu_);
    std::ostringstream j;
    j << "{\"logons\":" << logons_.load() << ",\"orders\":" << orders_ << ",\"cancels\":" << cancels_
      << ",\"replaces\":" << replaces_ << ",\"reports\":" << reports_ << ",\"acks\":" << acks_
      << ",\"fills\":" << fills_ << ",\"filled_qty\":" << filled_qty_ << ",\"canceled\":" << canceled_
      << ",\"rejected\":" << rejected_ << ",\"cancel_rejects\":" << cancel_rejects_
      << ",\"session_rejects\":" << session_rejects_.load() << ",\"sent\":" << sent_ << ",\"pending_new\":" << pending_new_ << ",\"business_rejects\":" << business_rejects_ << ",\"session_rejects_sent\":" << session_rejects_sent_ << ",\"unanswered\":" << unanswered_ << ",\"unanswered_new\":" << unanswered_new_
      << ",\"replaced\":" << replaced_ << ",\"busts\":" << busts_ << ",\"corrections\":" << corrections_ << ",\"restated\":" << restated_ << ",\"restated_ended\":" << restated_ended_ << ",\"cancel_qty_mismatches\":" << cancel_qty_mismatches_ << ",\"cancel_qty_crossings\":" << cancel_qty_crossings_ << ",\"status_requests\":" << status_requests_
      << ",\"status_answers_sent\":" << status_answers_sent_ << ",\"status_refused\":" << status_refused_ << ",\"duplicate_cl_ord_ids\":" << duplicate_cl_ord_ids_ << ",\"status_answers\":\"" << status_answers_
      << "\",\"cxl_rej_reasons\":\"" << cxl_rej_reasons_
      << "\",\"cxl_rej_statuses\":\"" << cxl_rej_statuses_ << "\",\"mass_cancels\":" << mass_cancels_
      << ",\"mass_refused\":" << mass_refused_ << ",\"mass_canceled\":" << mass_canceled_ << ",\"mass_types\":\""
      << mass_types_ << "\",\"mass_reports\":" << mass_reports_ << ",\"mass_responses\":\"" << mass_responses_
      << "\",\"resting\":" << resting_.size() << ",\"per_logon\":[";
    for (size_t i = 0; i < per_logon_.size(); i++) j << (i ? "," : "") << per_logon_[i];
    j << "],\"net\":{";
    bool first = true;
    for (auto& kv : net_) {
      j << (first ? "" : ",") << "\"" << kv.first << "\":" << kv.second;
      first = false;
    }
    j << "}}";
    return j.str();
  }

  std::atomic<bool> logged_on_{false};
  std::atomic<int> session_rejects_{0};
  std::atomic<int> logons_{0};

 private:
  bool acceptor_;
  bool closing_ = false;
  std::mutex mu_;
  FIX::SessionID session_;
  std::map<std::string, Resting> resting_;
  // Orders no longer working: what a status request about one is told.
  struct Done {
    Resting order;
    std::string status, cum;
  };
  std::map<std::string, Done> done_;
  // Every ClOrdID of a NewOrderSingle received, over all logons.
  std::set<std::string> seen_;
  // Net position per symbol of the fills it reported, less the busted ones.
  std::map<std::string, long long> net_;
  std::map<std::string, std::string> last_status_;
  std::map<std::string, long long> filled_by_cl_;
  // CxlRejReason of each OrderCancelReject received, in order, comma-separated.
  std::string cxl_rej_reasons_;
  // OrdStatus of each OrderCancelReject received, in order, comma-separated.
  std::string cxl_rej_statuses_;
  // ClOrdID:OrdStatus of each answer to an OrderStatusRequest, in order.
  std::string status_answers_;
  // MassCancelRequestType of each OrderMassCancelRequest received; and, on
  // the initiator side, MassCancelResponse:TotalAffectedOrders of each report.
  std::string mass_types_, mass_responses_;
  int mass_cancels_ = 0, mass_refused_ = 0, mass_canceled_ = 0, mass_reports_ = 0;
  long long exec_id_ = 0, order_id_ = 0;
  int orders_ = 0, cancels_ = 0, replaces_ = 0, reports_ = 0, acks_ = 0, fills_ = 0, canceled_ = 0,
      rejected_ = 0, cancel_rejects_ = 0, sent_ = 0, pending_new_ = 0, business_rejects_ = 0, session_rejects_sent_ = 0,
      unanswered_ = 0, replaced_ = 0, counted_ = 0, busts_ = 0, status_requests_ = 0, status_answers_sent_ = 0,
      duplicate_cl_ord_ids_ = 0, status_refused_ = 0, corrections_ = 0, restated_ = 0, restated_ended_ = 0,
      cancel_qty_mismatches_ = 0, cancel_qty_crossings_ = 0, unanswered_new_ = 0;
  std::vector<int> per_logon_;
  long long filled_qty_ = 0;
};

std::string settings(bool acceptor, const std::string& host, const std::string& port, const std::string& begin,
                     const std::string& sender, const std::string& target, const std::string& spec_dir) {
  std::ostringstream s;
  s << "[DEFAULT]\n"
    << "ConnectionType=" << (acceptor ? "acceptor" : "initiator") << "\n"
    << "StartTime=00:00:00\nEndTime=00:00:00\nHeartBtInt=5\n"
    << "ReconnectInterval=1\nResetOnLogon=N\nSocketNodelay=Y\n";
  if (spec_dir.empty()) {
    s << "UseDataDictionary=N\n";
  } else {
    std::string v = begin == "FIX.4.2" ? "FIX42.xml" : "FIX44.xml";
    s << "UseDataDictionary=Y\nDataDictionary=" << spec_dir << "/" << v << "\n";
  }
  if (acceptor) s << "SocketAcceptPort=" << port << "\n";
  else s << "SocketConnectHost=" << host << "\nSocketConnectPort=" << port << "\n";
  s << "[SESSION]\nBeginString=" << begin << "\nSenderCompID=" << sender << "\nTargetCompID=" << target << "\n";
  return s.str();
}

template <typename F>
bool wait_until(F f, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "acceptor" && argc >= 7 && argc <= 9) {
      std::string spec = argc == 9 ? argv[8] : "";
      std::istringstream in(settings(true, "", argv[2], argv[3], argv[4], argv[5], spec));
      FIX::SessionSettings ss(in);
      Peer app(true);
      FIX::MemoryStoreFactory store;
      FIX::SocketAcceptor acc(app, store, ss);
      acc.start();
      int seconds = std::stoi(argv[6]);
      int logons = argc >= 8 ? std::stoi(argv[7]) : 1;
      for (int k = 0; k < logons; k++) {
        if (!wait_until([&] { return app.logons_ > k; }, 60000)) break;
        // Serve until the time is up or the engine logs out.
        wait_until([&] { return !app.logged_on_; }, seconds * 1000);
        app.close();
        if (k + 1 < logons) {
          FIX::Session* s = FIX::Session::lookupSession(app.session_id());
          if (s && app.logged_on_) s->logout("end of this logon");
          wait_until([&] { return !app.logged_on_; }, 10000);
          // logout() disables the session; the next logon needs it enabled.
          if (s) s->logon();
          app.next_logon();
        }
      }
      acc.stop();
      app.next_logon();
      std::printf("%s\n", app.summary().c_str());
      return 0;
    }
    if (mode == "initiator" && (argc == 8 || argc == 9)) {
      std::string spec = argc == 9 ? argv[8] : "";
      std::istringstream in(settings(false, argv[2], argv[3], argv[4], argv[5], argv[6], spec));
      FIX::SessionSettings ss(in);
      Peer app(false);
      FIX::MemoryStoreFactory store;
      FIX::SocketInitiator ini(app, store, ss);
      ini.start();
      if (!wait_until([&] { return app.logged_on_.load(); }, 20000)) {
        std::fprintf(stderr, "no logon\n");
        return 2;
      }
      std::string sym = argv[7];
      std::string c = "C" + std::to_string(std::time(nullptr)) + "-";
      app.order(c + "1", sym, "1", "100", "200.0000");  // marketable buy
      app.order(c + "2", sym, "2", "100", "50.0000");   // marketable sell
      app.order(c + "3", sym, "1", "100", "50.0000");   // rests far below the touch
      wait_until([&] { return app.status(c + "3") == "0"; }, 10000);
      app.replace(c + "3-T", c + "3", sym, "1", "200", "49.0050");  // off the tick: refused, still resting
      wait_until([&] { return app.cancel_rejects() > 0; }, 10000);
      app.replace(c + "3-Q", c + "3", sym, "1", "100.5", "49.0000");  // half a lot: refused unread, still resting
      wait_until([&] { return app.cancel_rejects() > 1; }, 10000);
      app.replace(c + "3-R", c + "3", sym, "1", "200", "49.0000");
      wait_until([&] { return !app.status(c + "3-R").empty(); }, 10000);
      app.cancel(c + "3-R-X", c + "3-R", sym, "1", "200");
      app.order(c + "5", sym, "1", "100", "100.0050");    // off the tick: the venue rejects it
      app.order(c + "6", "NOSUCH", "1", "100", "1.0000");  // unknown symbol: rejected
      app.bad_order(c + "7", sym);                          // HandlInst 4: a session-level reject
      app.cancel(c + "8-X", c + "8", sym, "1", "100");      // no such order: a cancel reject
      wait_until(
          [&] {
            return app.filled(c + "1") == 100 && app.filled(c + "2") == 100 && app.status(c + "3-R-X") == "4" &&
                   app.status(c + "5") == "8" && app.status(c + "6") == "8" && app.session_rejects_ > 0 &&
                   app.cancel_rejects() > 2;
          },
          10000);
      // What the venue says of a filled order and of one it never had.
      app.status_request(c + "1", sym, "1");
      app.status_request(c + "9", sym, "1");
      wait_until([&] { return app.status_answers() >= 2; }, 10000);
      if (std::string(argv[4]) == "FIX.4.4") {
        // Two orders far from the touch, cancelled together for the symbol.
        app.order(c + "10", sym, "1", "100", "50.0000");
        app.order(c + "11", sym, "2", "100", "300.0000");
        wait_until([&] { return app.status(c + "10") == "0" && app.status(c + "11") == "0"; }, 10000);
        app.mass_cancel(c + "12", sym);
        wait_until(
            [&] { return app.mass_reports() >= 1 && app.status(c + "10") == "4" && app.status(c + "11") == "4"; },
            10000);
      }
      ini.stop();
      std::printf("%s\n", app.summary().c_str());
      return 0;
    }
  } catch (std::exception& e) {
    std::fprintf(stderr, "quickfix_peer: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: quickfix_peer acceptor PORT BEGIN SENDER TARGET SECONDS [LOGONS [SPEC_DIR]]\n"
                       "       quickfix_peer initiator HOST PORT BEGIN SENDER TARGET SYMBOL [SPEC_DIR]\n");
  return 2;
}
