//! Fills the core never got, found from what the venue says it filled.
//!
//! A fill report can be lost to the core in session: garbled so that it
//! passes the session layer's checks but not the report's (the link counts it
//! as a bad report), or refused by the session's dictionary check (a session
//! Reject answers it). FIX resends only what a sequence gap shows, so nothing
//! brings it back. But the venue's totals do: every later report of the order
//! carries CumQty (14) and AvgPx (6), and so does the venue's answer to an
//! OrderStatusRequest (35=H). [`FillGaps`] keeps, per open order, the quantity
//! and notional of the fills the core was given, and turns a difference into
//! one fill for the missing quantity at the price the venue's average implies,
//! flagged [`FILL_RECOVERED`] and journalled like any report: the core's
//! position and cash then agree with the venue's, and a replay gives the same.
//!
//! When a fill is found missing:
//!
//! - a report whose CumQty, less its own LastQty, exceeds what the core was
//!   given: the missing fill goes to the core just before it;
//! - a report of one of our orders that could not be read, or that the
//!   session refused: the link asks the venue the order's status at once;
//! - a cancel or replace refused because the order is gone (CxlRejReason 0 or
//!   1): the link asks too (the core has closed the order, and books the fill
//!   as the venue's word);
//! - after a restart, the orders in doubt the link asks about: their answers
//!   count here as well, so a question the end of a session left unanswered
//!   is answered on the next start.
//!
//! A question is answered once; a report that ends the order first makes it
//! moot (its totals said it all). [`GapStats::outstanding`] counts those still
//! open — at the end of a session, orders whose fills may still be missing.
//!
//! The price of a recovered fill is `(CumQty × AvgPx − LastQty × LastPx −
//! notional given) / missing quantity`, computed exactly from AvgPx's decimal
//! text and rounded to the nearest price unit (the average of fills at their
//! limit or better is at it or better, and so is its rounding). A venue that
//! sends no AvgPx leaves the order's limit price, or the report's LastPx for a
//! market order; with neither the fill is not recovered and is counted. So
//! does an AvgPx that puts the missing fill beyond the limit, or at or below
//! 0 — a venue's error (counted), not a price.
//!
//! Ids are the core's ClOrdIDs (the link strips the epoch). The table is a
//! hash map reserved at construction, used only by lookup (no iteration, so
//! no order depends on hashing), and never grown: an order beyond its capacity
//! is not tracked and counted; nothing allocates per report. An order the
//! table does not hold when a live report comes is one that ended: nothing is
//! recovered for it.

use crate::app::round_div;
use foxtrot_engine::format::decimal;
use foxtrot_engine::records::{ExecKind, ExecReport, Order, OrderAction, Side, FILL_RECOVERED};
use std::collections::HashMap;

/// Orders tracked at most (open orders, and gone ones awaiting an answer).
pub const CAPACITY: usize = 4096;

/// What gap recovery did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GapStats {
    /// Fills recovered (each one input for a run of missing quantity).
    pub recovered: u64,
    /// Quantity recovered, in quantity units (buys and sells alike).
    pub recovered_qty: i64,
    /// OrderStatusRequests sent about orders whose fills may be missing, in
    /// session.
    pub questions: u64,
    /// Missing quantity that could not be priced (no AvgPx, no limit, no
    /// LastPx), not recovered.
    pub unpriced: u64,
    /// Orders not tracked because the table was full.
    pub untracked: u64,
    /// Missing fills whose price the venue's AvgPx put beyond the order's
    /// limit, or at or below 0 (an AvgPx the venue got wrong): priced at the
    /// limit instead (0 against a sound venue).
    pub implausible_avg: u64,
    /// Questions (in session, or after a restart) not answered yet: at the
    /// end of a session, orders whose fills may still be missing (asked
    /// again after the next restart, as orders in doubt).
    pub outstanding: u64,
}

#[derive(Clone, Copy, Debug)]
struct Track {
    instrument: u32,
    side: u8,
    /// The order's limit (0: market) and quantity.
    px: i64,
    qty: i64,
    /// Quantity and notional (Σ qty × px) of the fills the core was given.
    cum: i64,
    notional: i128,
    /// A status question about it is out.
    asked: bool,
}

/// Decimals of AvgPx as it is read ([`avg_px`]), and of the notionals it is
/// compared with.
const SCALE_DECIMALS: u8 = 12;
const SCALE: i128 = 10i128.pow(SCALE_DECIMALS as u32);

/// AvgPx's text in currency units × 10^12, by the shared decimal reader;
/// decimals beyond the twelfth are dropped (what they hold is far below the
/// price unit a recovered fill is rounded to). `None` for no number.
pub fn avg_px(text: &[u8]) -> Option<i64> {
    let keep = match text.iter().position(|&c| c == b'.') {
        Some(dot) => text.len().min(dot + 1 + SCALE_DECIMALS as usize),
        None => text.len(),
    };
    decimal::fixed(&text[..keep], SCALE_DECIMALS).ok()
}

/// The per-order table. See the module docs.
pub struct FillGaps {
    orders: HashMap<u64, Track>,
    /// Price decimals per instrument (AvgPx's text is in currency units).
    price_decimals: Vec<u8>,
    /// What it did.
    pub stats: GapStats,
}

impl FillGaps {
    /// A table for instruments whose prices have `price_decimals`.
    pub fn new(price_decimals: Vec<u8>) -> Self {
        FillGaps {
            orders: HashMap::with_capacity(CAPACITY),
            price_decimals,
            stats: GapStats::default(),
        }
    }

    /// Tracks `cl` from `t` unless it is tracked already or the table is full.
    fn track(&mut self, cl: u64, t: Track) -> Option<&mut Track> {
        if self.orders.len() >= CAPACITY && !self.orders.contains_key(&cl) {
            self.stats.untracked += 1;
            return None;
        }
        Some(self.orders.entry(cl).or_insert(t))
    }

    /// Order `o` (core ids) was sent: a new order is tracked from nothing
    /// given. A replacement is tracked from its Replaced report on.
    pub fn sent(&mut self, o: &Order) {
        if o.action() != Some(OrderAction::New) {
            return;
        }
        let t = Track {
            instrument: o.header.instrument,
            side: o.header.side,
            px: o.px,
            qty: o.qty,
            cum: 0,
            notional: 0,
            asked: false,
        };
        let _ = self.track(o.cl_ord_id, t);
    }

    /// A replayed report (before a restart): what the core was given. Orders
    /// seen first here are tracked from it.
    pub fn replayed(&mut self, e: &ExecReport) {
        let _ = self.apply(e, None::<fn() -> Option<i64>>);
    }

    /// Report `e` (core ids) is about to go to the core: returns the fill
    /// missing before it, if any, and counts `e` as given. Its CumQty is the
    /// venue's; `avg_px` reads its AvgPx ([`avg_px`]'s scale), called only
    /// when a fill is missing. Call for every report the core gets live.
    pub fn before(&mut self, e: &ExecReport, avg_px: impl FnOnce() -> Option<i64>) -> Option<ExecReport> {
        self.apply(e, Some(avg_px))
    }

    /// [`before`](Self::before) with the AvgPx reader of a live report, or
    /// [`replayed`](Self::replayed) without one.
    fn apply(&mut self, e: &ExecReport, avg_px: Option<impl FnOnce() -> Option<i64>>) -> Option<ExecReport> {
        let live = avg_px.is_some();
        let kind = e.kind()?;
        // A refused request changes no fill; a mass cancel's answer names
        // the request, no order.
        if kind == ExecKind::CancelRejected || kind.is_mass_cancel() {
            return None;
        }
        if matches!(kind, ExecKind::TradeBust | ExecKind::TradeCorrected) {
            // The venue's CumQty no longer counts a busted fill, and counts
            // a corrected trade (after the bust of the one it corrects):
            // so does what the core was given (else the next report's total
            // would hide a fill that is missing).
            let sign = if kind == ExecKind::TradeBust { -1 } else { 1 };
            if let Some(t) = self.orders.get_mut(&e.cl_ord_id) {
                t.cum = (t.cum + sign * e.last_qty).max(0);
                t.notional += sign as i128 * e.last_qty as i128 * e.last_px as i128;
            }
            return None;
        }
        let key = key_of(kind, e);
        // Live, an order not tracked is one that ended (or that the table had
        // no room for): nothing is missing that can be known. Replayed, its
        // reports are what the core was given.
        if !self.orders.contains_key(&key) {
            if live {
                return None;
            }
            let fresh = Track {
                instrument: e.header.instrument,
                side: e.header.side,
                px: e.order_px,
                qty: e.order_qty,
                cum: 0,
                notional: 0,
                asked: false,
            };
            self.track(key, fresh)?;
        }
        let pd = self.price_decimals.get(e.header.instrument as usize).copied();
        let t = self.orders.get_mut(&key)?;
        let own = if kind.is_fill() { e.last_qty } else { 0 };
        let own_notional = if kind.is_fill() {
            e.last_qty as i128 * e.last_px as i128
        } else {
            0
        };
        let missing = if live { e.cum_qty - own - t.cum } else { 0 };
        let mut recovered = None;
        if missing > 0 {
            // (CumQty × AvgPx − LastQty × LastPx − given) / missing, in price units.
            let avg = avg_px.and_then(|f| f());
            let venue = avg
                .zip(pd)
                .map(|(a, pd)| e.cum_qty as i128 * a as i128 * 10i128.pow(pd as u32));
            let implied = venue.and_then(|n| {
                i64::try_from(round_div(
                    n - (own_notional + t.notional) * SCALE,
                    missing as i128 * SCALE,
                ))
                .ok()
            });
            // Fills are at the limit or better, and so is any average of them
            // and its rounding: a price the average implies beyond the limit
            // (or not above 0) says the venue's AvgPx is wrong, not the price.
            let plausible = |px: i64| {
                px > 0
                    && match (t.px, t.side == Side::Sell as u8) {
                        (0, _) => true,
                        (limit, true) => px >= limit,
                        (limit, false) => px <= limit,
                    }
            };
            if implied.is_some_and(|px| !plausible(px)) {
                self.stats.implausible_avg += 1;
            }
            let px = match implied.filter(|&px| plausible(px)) {
                Some(px) => Some(px),
                None if t.px != 0 => Some(t.px),
                None if kind.is_fill() && e.last_px != 0 => Some(e.last_px),
                None => None,
            };
            match px {
                Some(px) => {
                    let mut f = *e;
                    f.header.sub = ExecKind::PartialFill as u8;
                    f.header.flags = FILL_RECOVERED;
                    (f.cl_ord_id, f.orig_cl_ord_id, f.reason) = (key, 0, 0);
                    (f.last_qty, f.last_px) = (missing, px);
                    f.cum_qty = t.cum + missing;
                    f.leaves_qty = (e.order_qty - f.cum_qty).max(0);
                    // Not a message of the session: a restart resumes after
                    // the report it came with, not at it.
                    f.fix_seq = 0;
                    t.cum += missing;
                    t.notional += missing as i128 * px as i128;
                    self.stats.recovered += 1;
                    self.stats.recovered_qty += missing;
                    recovered = Some(f);
                }
                None => self.stats.unpriced += 1,
            }
        }
        t.cum += own;
        t.notional += own_notional;
        // A question out about the order is moot once a report gave the
        // venue's totals at its end (or its replacement's start): its answer,
        // should it come, finds nothing to do.
        let ends = matches!(
            kind,
            ExecKind::Fill | ExecKind::Canceled | ExecKind::Rejected | ExecKind::Replaced
        );
        if ends && t.asked {
            t.asked = false;
            self.stats.outstanding -= 1;
        }
        if ends {
            let mut t = self.orders.remove(&key)?;
            // The replacement carries on what its original was given.
            if kind == ExecKind::Replaced && e.leaves_qty > 0 {
                (t.px, t.qty) = (e.order_px, e.order_qty);
                let _ = self.track(e.cl_ord_id, t);
            }
        }
        recovered
    }

    /// Fills of order `cl` may be missing — a cancel or replace of it was
    /// refused because the venue no longer has it, or a report naming it
    /// could not be read: the status question to ask about it, (instrument,
    /// side), unless one is already out.
    pub fn ask(&mut self, cl: u64) -> Option<(u32, u8)> {
        let t = self.orders.get_mut(&cl)?;
        if t.asked {
            return None;
        }
        t.asked = true;
        self.stats.questions += 1;
        self.stats.outstanding += 1;
        Some((t.instrument, t.side))
    }

    /// After a restart the link asks about order `cl` of `instrument` and
    /// `side` (in doubt: sent, no final report journalled): its answer is
    /// taken as one to [`ask`](Self::ask) (an order with no report replayed
    /// was given nothing). A replacement in doubt (`orig`: the order it
    /// replaces, else 0) starts from what its original was given: the
    /// venue's CumQty of a replacement counts the fills of the whole chain.
    /// (It started from nothing: a replace the venue made just before the
    /// kill, its Replaced report not yet journalled, had its original's fills
    /// recovered a second time from the answer — one fill more than the
    /// venue's in a restart test in CI.)
    pub fn expect(&mut self, cl: u64, orig: u64, instrument: u32, side: u8) {
        let (cum, notional) = match self.orders.get(&orig).filter(|_| orig != 0) {
            Some(o) => (o.cum, o.notional),
            None => (0, 0),
        };
        let fresh = Track {
            instrument,
            side,
            px: 0,
            qty: 0,
            cum,
            notional,
            asked: false,
        };
        if let Some(t) = self.track(cl, fresh) {
            if !t.asked {
                t.asked = true;
                self.stats.outstanding += 1;
            }
        }
    }

    /// The venue's answer about `cl`, asked by [`ask`](Self::ask) or
    /// [`expect`](Self::expect), with its CumQty `cum` and AvgPx `avg_px`
    /// ([`avg_px`]'s scale): the fill missing from those totals, if any — a
    /// `Fill` when the order is done at the venue (`done`: OrdStatus filled,
    /// cancelled, rejected, expired), which forgets it, else a `PartialFill`
    /// of an order still tracked. `None` for an order not asked about here.
    pub fn answer(&mut self, cl: u64, cum: i64, avg_px: Option<i64>, done: bool, ts_ns: u64) -> Option<ExecReport> {
        let t = *self.orders.get(&cl).filter(|t| t.asked)?;
        self.stats.outstanding -= 1;
        if let Some(t) = self.orders.get_mut(&cl) {
            t.asked = false;
        }
        // The answer read as a report of the order with the venue's totals.
        let side = if t.side == Side::Sell as u8 {
            Side::Sell
        } else {
            Side::Buy
        };
        let mut e = ExecReport::new(ExecKind::New, t.instrument, side, ts_ns);
        (e.cl_ord_id, e.order_px, e.order_qty, e.cum_qty) = (cl, t.px, t.qty, cum);
        e.transact_ts_ns = ts_ns;
        let f = self.before(&e, || avg_px);
        if done {
            self.orders.remove(&cl);
        }
        f.map(|mut f| {
            if done {
                f.header.sub = ExecKind::Fill as u8;
                (f.order_qty, f.leaves_qty) = (f.cum_qty, 0);
            }
            f
        })
    }

    /// Whether no order is tracked.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }
}

/// The order report `e` of `kind` is about: a cancel's or a replace's names
/// it by OrigClOrdID (an unsolicited cancel by ClOrdID).
#[inline]
fn key_of(kind: ExecKind, e: &ExecReport) -> u64 {
    match kind {
        ExecKind::Canceled | ExecKind::Replaced | ExecKind::CancelRejected if e.orig_cl_ord_id != 0 => e.orig_cl_ord_id,
        _ => e.cl_ord_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_engine::records::Header;

    fn order(cl: u64, side: Side, px: i64) -> Order {
        Order {
            header: Header {
                kind: foxtrot_engine::records::Kind::Order as u8,
                sub: OrderAction::New as u8,
                side: side as u8,
                instrument: 0,
                ..Header::default()
            },
            cl_ord_id: cl,
            px,
            qty: 300,
            ..Order::default()
        }
    }

    fn fill(cl: u64, last_qty: i64, last_px: i64, cum: i64) -> ExecReport {
        let kind = if cum == 300 {
            ExecKind::Fill
        } else {
            ExecKind::PartialFill
        };
        let mut e = ExecReport::new(kind, 0, Side::Buy, 9);
        e.cl_ord_id = cl;
        e.order_qty = 300;
        e.order_px = 1_000_500;
        e.last_qty = last_qty;
        e.last_px = last_px;
        e.cum_qty = cum;
        e.leaves_qty = 300 - cum;
        e
    }

    /// AvgPx as a report's text says it.
    fn avg(text: &str) -> impl FnOnce() -> Option<i64> + '_ {
        move || avg_px(text.as_bytes())
    }

    /// Hand-computed: a buy of 300 (price decimals 4, limit 100.0500) fills
    /// 100 @ 100.0100, then 100 @ 100.0300 whose report is lost, then 100 @
    /// 100.0200. The third report says CumQty 300, AvgPx 100.02 (the average
    /// of the three): the missing 100 is (300 × 100.02 − 100 × 100.02 − 100
    /// × 100.01) / 100 = 100.03, i.e. 1,000,300 price units.
    #[test]
    fn a_lost_fill_is_recovered_before_the_next_report_at_the_price_the_average_implies() {
        let mut g = FillGaps::new(vec![4]);
        g.sent(&order(16, Side::Buy, 1_000_500));
        assert!(g.before(&fill(16, 100, 1_000_100, 100), avg("100.01")).is_none());
        // The report of 100 @ 100.0300 (cum 200) never reaches here.
        let f = g
            .before(&fill(16, 100, 1_000_200, 300), avg("100.02"))
            .expect("the missing fill");
        assert_eq!(
            (f.kind(), f.cl_ord_id, f.last_qty, f.last_px),
            (Some(ExecKind::PartialFill), 16, 100, 1_000_300)
        );
        assert_eq!(
            (f.cum_qty, f.leaves_qty, f.fix_seq, f.header.flags),
            (200, 100, 0, FILL_RECOVERED)
        );
        assert_eq!(g.stats.recovered, 1);
        assert_eq!(g.stats.recovered_qty, 100);
        assert!(g.is_empty(), "filled: forgotten");
    }

    /// An AvgPx that puts the missing fill beyond the order's limit is the
    /// venue's error: the fill is recovered at the limit and counted. Hand-
    /// computed: the buy limited at 100.0500 fills 100 @ 100.0100, then
    /// loses a report of 100; a cancel report says CumQty 200 with AvgPx 0
    /// (as `foxtrot venue`'s cancel reports did): the average implies
    /// (200 × 0 − 100 × 100.01) / 100 < 0, so 100 @ 100.0500 is recovered.
    /// AvgPx 100.10 would imply 100.19, beyond the limit: the limit again. A
    /// sound AvgPx (100.02: 100.0300) is taken as it is, uncounted.
    #[test]
    fn an_average_beyond_the_limit_is_refused_and_the_limit_taken() {
        for (text, px, counted) in [
            ("0.00000000", 1_000_500, 1),
            ("100.10", 1_000_500, 1),
            ("100.02", 1_000_300, 0),
        ] {
            let mut g = FillGaps::new(vec![4]);
            g.sent(&order(16, Side::Buy, 1_000_500));
            assert!(g.before(&fill(16, 100, 1_000_100, 100), avg("100.01")).is_none());
            let mut cancel = ExecReport::new(ExecKind::Canceled, 0, Side::Buy, 9);
            (cancel.cl_ord_id, cancel.orig_cl_ord_id) = (32, 16);
            (cancel.order_qty, cancel.order_px, cancel.cum_qty) = (300, 1_000_500, 200);
            let f = g.before(&cancel, avg(text)).expect("the missing fill");
            assert_eq!((f.cl_ord_id, f.last_qty, f.last_px), (16, 100, px), "AvgPx {text}");
            assert_eq!(g.stats.implausible_avg, counted, "AvgPx {text}");
            assert!(g.is_empty(), "cancelled: forgotten");
        }
        // A sell: the limit is a floor.
        let mut g = FillGaps::new(vec![4]);
        g.sent(&order(16, Side::Sell, 1_000_500));
        let mut e = fill(16, 100, 1_000_600, 200);
        e.header.side = Side::Sell as u8;
        // 200 × 100.04 − 100 × 100.06 = 100.02 for the missing 100: below the limit.
        let f = g.before(&e, avg("100.04")).expect("the missing fill");
        assert_eq!((f.last_qty, f.last_px, g.stats.implausible_avg), (100, 1_000_500, 1));
    }

    /// A run of reports with nothing lost recovers nothing, and a replayed
    /// report counts as given.
    #[test]
    fn nothing_lost_nothing_recovered() {
        let mut g = FillGaps::new(vec![4]);
        g.sent(&order(16, Side::Buy, 1_000_500));
        assert!(g.before(&fill(16, 100, 1_000_100, 100), avg("100.01")).is_none());
        g.replayed(&fill(16, 100, 1_000_300, 200));
        assert!(g.before(&fill(16, 100, 1_000_200, 300), avg("100.02")).is_none());
        assert_eq!(g.stats, GapStats::default());
    }

    /// An order filled in full whose last fill was lost: the cancel is refused
    /// as gone, the venue is asked once, and its answer (CumQty 300, AvgPx
    /// 100.0200) gives the last 200 at (300 × 100.02 − 100 × 100.01) / 200 =
    /// 100.025, i.e. 1,000,250.
    #[test]
    fn a_gone_order_is_asked_about_once_and_its_answer_gives_the_missing_fill() {
        let mut g = FillGaps::new(vec![4]);
        g.sent(&order(16, Side::Buy, 1_000_500));
        assert!(g.before(&fill(16, 100, 1_000_100, 100), avg("100.01")).is_none());
        assert_eq!(g.ask(16), Some((0, Side::Buy as u8)));
        assert_eq!(g.ask(16), None, "asked once");
        assert!(
            g.answer(17, 300, avg_px("100.02".as_bytes()), true, 5).is_none(),
            "not asked about"
        );
        let f = g
            .answer(16, 300, avg_px("100.02".as_bytes()), true, 5)
            .expect("the missing fill");
        assert_eq!(
            (f.kind(), f.last_qty, f.last_px, f.cum_qty, f.leaves_qty),
            (Some(ExecKind::Fill), 200, 1_000_250, 300, 0)
        );
        assert_eq!(g.stats.questions, 1);
        assert!(g.is_empty());
        // An order with nothing missing: answered, nothing recovered.
        g.sent(&order(32, Side::Sell, 990_000));
        g.ask(32);
        assert!(g.answer(32, 0, avg_px("0".as_bytes()), true, 6).is_none());
    }

    /// A report that could not be read: the venue is asked; its answer for an
    /// order still working gives the fill as partial and keeps the order, so
    /// the next report finds nothing missing, whichever comes first.
    #[test]
    fn an_unreadable_report_is_asked_about_and_the_order_tracked_on() {
        let mut g = FillGaps::new(vec![4]);
        g.sent(&order(16, Side::Buy, 1_000_500));
        // 100 @ 100.0100 unread; asked.
        assert!(g.ask(16).is_some());
        let f = g
            .answer(16, 100, avg_px("100.0100".as_bytes()), false, 5)
            .expect("the fill");
        assert_eq!(
            (f.kind(), f.last_qty, f.last_px, f.cum_qty, f.leaves_qty),
            (Some(ExecKind::PartialFill), 100, 1_000_100, 100, 200)
        );
        assert!(g.before(&fill(16, 200, 1_000_200, 300), avg("100.0166")).is_none());
        assert!(g.is_empty());
        // The next report first, then the answer: nothing twice.
        g.sent(&order(32, Side::Buy, 1_000_500));
        assert!(g.ask(32).is_some());
        let f = g
            .before(&fill(32, 100, 1_000_200, 200), avg("100.0150"))
            .expect("the fill");
        assert_eq!((f.last_qty, f.last_px), (100, 1_000_100));
        assert!(g.answer(32, 200, avg_px("100.0150".as_bytes()), false, 6).is_none());
        assert_eq!(g.stats.recovered, 2);
    }

    /// A replacement carries on its original's fills; a venue without AvgPx
    /// leaves the limit price.
    #[test]
    fn a_replacement_carries_on_and_a_missing_average_takes_the_limit() {
        let mut g = FillGaps::new(vec![4]);
        g.sent(&order(16, Side::Buy, 1_000_500));
        g.before(&fill(16, 100, 1_000_100, 100), avg("100.01"));
        let mut r = fill(32, 0, 0, 100);
        r.header.sub = ExecKind::Replaced as u8;
        r.orig_cl_ord_id = 16;
        r.order_px = 1_000_400;
        assert!(g.before(&r, avg("100.01")).is_none());
        let f = g
            .before(&fill(32, 50, 1_000_400, 250), || None)
            .expect("the missing 100");
        assert_eq!((f.cl_ord_id, f.last_qty, f.last_px), (32, 100, 1_000_400));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any run of fills, any of whose reports are lost, the last report
        /// (or, when it is lost too, the venue's status answer) read or not:
        /// the core is given exactly the venue's quantity, and a notional
        /// within half a price unit per recovered fill of the venue's. The
        /// venue's side is `foxtrot venue`'s own: its AvgPx
        /// (`app::avg_px_scaled`) written as it writes it.
        #[test]
        fn what_the_core_is_given_adds_up_to_what_the_venue_filled(
            fills in proptest::collection::vec((1i64..40, 0i64..30), 1..12),
            lost in proptest::collection::vec(proptest::prelude::any::<bool>(), 12),
            buy in proptest::prelude::any::<bool>(),
        ) {
            use crate::app::{avg_px_scaled, AVG_PX_EXTRA_DECIMALS};
            use foxtrot_engine::format::decimal::to_text;
            let (pd, limit) = (4u8, 1_000_000i64);
            let total: i64 = fills.iter().map(|f| f.0).sum();
            let side = if buy { Side::Buy } else { Side::Sell };
            let mut g = FillGaps::new(vec![pd]);
            let mut o = order(16, side, limit);
            o.qty = total;
            g.sent(&o);
            let (mut cum, mut notional) = (0i64, 0i128);
            let (mut given, mut given_notional, mut recovered) = (0i64, 0i128, 0i64);
            let book = |f: &ExecReport, given: &mut i64, gn: &mut i128| {
                *given += f.last_qty;
                *gn += f.last_qty as i128 * f.last_px as i128;
            };
            for (k, &(q, off)) in fills.iter().enumerate() {
                // At the limit or better.
                let px = if buy { limit - 100 * off } else { limit + 100 * off };
                cum += q;
                notional += q as i128 * px as i128;
                let avg = to_text(avg_px_scaled(notional, cum), pd + AVG_PX_EXTRA_DECIMALS);
                let kind = if cum == total { ExecKind::Fill } else { ExecKind::PartialFill };
                let mut e = ExecReport::new(kind, 0, side, 9);
                (e.cl_ord_id, e.order_qty, e.order_px) = (16, total, limit);
                (e.last_qty, e.last_px, e.cum_qty, e.leaves_qty) = (q, px, cum, total - cum);
                if lost[k] {
                    continue;
                }
                if let Some(f) = g.before(&e, || avg_px(avg.as_bytes())) {
                    proptest::prop_assert_eq!(f.cum_qty, given + f.last_qty);
                    recovered += 1;
                    book(&f, &mut given, &mut given_notional);
                }
                book(&e, &mut given, &mut given_notional);
            }
            if given < cum {
                // The last report was lost: the venue is asked and answers.
                proptest::prop_assert!(g.ask(16).is_some());
                let avg = to_text(avg_px_scaled(notional, cum), pd + AVG_PX_EXTRA_DECIMALS);
                let f = g.answer(16, cum, avg_px(avg.as_bytes()), true, 10);
                let f = f.expect("the missing fill");
                recovered += 1;
                book(&f, &mut given, &mut given_notional);
            }
            proptest::prop_assert_eq!(given, cum);
            // Each recovered fill is off by at most half a price unit in price,
            // plus what AvgPx's own rounding (half a unit of its last decimal,
            // times the quantity it covers) carries.
            let slack = recovered as i128 * (total as i128 / 2 + 1);
            proptest::prop_assert!((given_notional - notional).abs() <= slack,
                "given {} venue {} slack {}", given_notional, notional, slack);
            proptest::prop_assert!(g.is_empty());
            proptest::prop_assert_eq!(g.stats.outstanding, 0);
        }
    }

    /// AvgPx is read by the shared decimal reader, its decimals past the
    /// twelfth dropped.
    #[test]
    fn avg_px_reads_as_the_decimal_reader_does() {
        assert_eq!(avg_px(b"100.0250"), Some(100_025_000_000_000));
        assert_eq!(avg_px(b"7"), Some(7_000_000_000_000));
        assert_eq!(avg_px(b"410.50105263157894"), Some(410_501_052_631_578));
        assert_eq!(avg_px(b"1.2.3"), None);
        assert_eq!(avg_px(b""), None);
    }

    /// After a restart, a replace in doubt — the venue made it just before
    /// the kill, its Replaced report not yet journalled — is asked about under
    /// its own ClOrdID, whose CumQty at the venue counts its original's fills.
    /// Replayed: order 16 filled 100 @ 100.0100. Sent before the kill: replace
    /// 17 of 16. The Replaced report comes by resend, then the answer about 17:
    /// CumQty 100, AvgPx 100.01 — nothing is missing (the original's fill was
    /// recovered a second time before). A fill of 17 lost later is still found.
    #[test]
    fn a_replace_in_doubt_after_a_restart_counts_its_originals_fills() {
        let mut g = FillGaps::new(vec![4]);
        g.replayed(&fill(16, 100, 1_000_100, 100));
        g.expect(17, 16, 0, Side::Buy as u8);
        let mut replaced = ExecReport::new(ExecKind::Replaced, 0, Side::Buy, 10);
        (replaced.cl_ord_id, replaced.orig_cl_ord_id) = (17, 16);
        (replaced.order_qty, replaced.order_px) = (300, 1_000_400);
        (replaced.cum_qty, replaced.leaves_qty) = (100, 200);
        assert!(g.before(&replaced, avg("100.01")).is_none());
        assert!(
            g.answer(17, 100, avg_px(b"100.01"), false, 11).is_none(),
            "the original's fill is not recovered again"
        );
        assert_eq!(g.stats.recovered, 0);
        let f = g
            .before(&fill(17, 20, 1_000_300, 150), avg("100.02"))
            .expect("the replacement's lost fill");
        assert_eq!((f.cl_ord_id, f.last_qty, f.cum_qty), (17, 30, 130));
    }
}
