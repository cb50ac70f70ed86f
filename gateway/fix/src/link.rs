//! The engine's link to a venue over FIX: orders out through an initiator
//! session on TCP, execution reports back in through it, market data in over UDP
//! ([`foxtrot_feed::udp`]). It is the [`VenueLink`] `foxtrot run` drives when the
//! config names a venue address, so the core and the threaded runtime are the
//! ones every other mode uses.
//!
//! ## Time
//! Market data carries the venue's publication time and a report its
//! TransactTime; an input's control time is that time, held monotonic (an input
//! stamped earlier than one already returned takes the later time). The session's
//! timers and SendingTime use the wall clock: they are the gateway's, not the core's.
//!
//! ## Connection
//! The link connects on the first poll and reconnects with [`Backoff`] after any
//! loss; the session resumes from its journal ([`JournalStore`]), so whatever the
//! venue sent meanwhile is resent on the gap. An order decided while the link is
//! down is stored and sent on the venue's ResendRequest after logon. A Logout from
//! the venue ends the run: [`VenueLink::poll_before`] reports `Exhausted` once
//! everything received is delivered.
//!
//! ## Restart without duplicates
//! A restarted engine passes the inputs of its previous run ([`Resume`]). The
//! link returns them first (timers excepted: ingest makes those again), so the core
//! rebuilds exactly the state it had, and orders it decides on those inputs —
//! ClOrdIDs are `trigger seq × 16 + k`, so the same orders get the same ids — are
//! not sent again: one in the session store was sent; one that is not was decided
//! but never left, and is reported back `Rejected` ([`VenueReject::NotSent`])
//! rather than sent late. So is an order decided after the venue's Logout. Then the session's expected number is rewound to just
//! after the last report the journal holds ([`ExecReport::fix_seq`]), so a report
//! that reached the old process but not its journal is asked for again, and none
//! that is in the journal is processed twice (what an answer to a status request
//! put in the journal carries the answer's number: the reports it answered for
//! are not resent).

use super::ack_clock::AckClock;
use super::app::{exec_from_fix, report_purpose, trade_correction, Instruments, ReportPurpose};
use super::decode::{FixDecoder, FixError};
use super::fields::Fields;
use super::fill_gaps::{avg_px, FillGaps, GapStats};
use super::fill_ledger::{FillLedger, Trade};
use super::message_log::MessageLog;
use super::reconcile::{Reconcile, ReconcileStats};
use super::session::{is_logout, Inbound, MessageStore, Role, Session, SessionEvent, SessionSettings, Status};
use super::store::JournalStore;
use super::transport::{flush, pump_all, wall_ns, Backoff, Connection};
use foxtrot_engine::config::Config;
use foxtrot_engine::format::fix::encoder::FixEncoder;
use foxtrot_engine::format::fix::tags;
use foxtrot_engine::records::{
    kill_cause, CommandKind, ExecKind, ExecReport, InputSlot, InputView, OperatorCommand, Order, OrderAction, Side,
    VenueReject,
};
use foxtrot_engine::records::{DqCode, DqEvent, CL_PER_INPUT};
use foxtrot_engine::runtime::live::{self, LiveBoard};
use foxtrot_engine::runtime::{Polled, VenueLink};
use foxtrot_feed::findings::{FindingCounts, FindingLog};
use foxtrot_feed::quality::QualityMonitor;
use foxtrot_feed::transport::{Feed, Next};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the venue is and how to talk to it.
#[derive(Clone, Debug)]
pub struct FixLinkSettings {
    /// The venue's FIX acceptor.
    pub connect: SocketAddr,

    /// The session, from the engine's side.
    pub session: SessionSettings,
    /// Directory of the session's journal.
    pub store_dir: PathBuf,
    /// Size of the journal's segments, bytes.
    pub store_segment: u64,
    /// `SO_BUSY_POLL` for the FIX socket, µs.
    pub busy_poll: Option<foxtrot_net::BusyPoll>,
    /// Directory for the log of every FIX message sent and received, if any.
    pub message_log: Option<PathBuf>,
    /// How long after writing an order [`wait_input`](VenueLink::wait_input)
    /// keeps the thread awake (polling, not sleeping in `ppoll`) while an
    /// answer is outstanding; 0 sleeps at once.
    pub answer_spin: Duration,
}

/// The previous run's inputs, for a restart.
pub struct Resume {
    /// Its sequenced inputs, in order.
    pub inputs: Box<dyn Iterator<Item = InputSlot> + Send>,
    /// The highest sequence number among them: every order the store shows sent
    /// must have been decided on one of them.
    pub last_seq: u64,
    /// The ClOrdID epoch of the run it continues (`None`: that run recorded
    /// none, so it sent nothing; a new epoch is taken).
    pub epoch: Option<u64>,
}

/// Bits of a wire ClOrdID below its epoch: the core's `seq × 16 + k`.
pub const EPOCH_SHIFT: u32 = 48;

/// What the link did.
#[derive(Clone, Debug, Default)]
pub struct LinkStats {
    /// Logons completed.
    pub logons: u64,
    /// Connections lost (or refused) and retried.
    pub reconnects: u64,
    /// Orders sent (first time).
    pub orders_sent: u64,
    /// Inputs of the previous run replayed.
    pub replayed: u64,
    /// Orders decided on replayed inputs that were already sent (not sent again).
    pub resent_suppressed: u64,
    /// Orders not sent and reported back rejected: decided on replayed inputs
    /// but never sent before the restart, or decided after the venue's Logout.
    pub never_sent: u64,
    /// Orders not sent because the session store could not keep them (a full
    /// disk), reported back rejected ([`VenueReject::Unrecorded`]).
    pub unrecorded: u64,
    /// The session store's error, once it failed: from then on no new order
    /// or replacement is sent (cancels are), and the kill switch was pulled.
    pub store_error: Option<String>,
    /// The resumed run's inputs ended before its last one (a read failed
    /// after the restart checked them): the core's state misses what the run
    /// decided and received after that point, and orders decided from here
    /// would reuse ClOrdIDs already sent. The link then never connects and
    /// the run ends, failing.
    pub replay_short: Option<String>,
    /// Execution reports received.
    pub reports: u64,
    /// Reports that did not decode.
    pub bad_reports: u64,
    /// Reports whose ClOrdID is not one of ours (not a number foxtrot wrote):
    /// counted and dropped.
    pub foreign_reports: u64,
    /// Session-level Rejects (35=3) received. One of an order, cancel or
    /// replace of ours (by its RefSeqNum) goes to the core as its refusal,
    /// as a BusinessMessageReject's does.
    pub session_rejects: u64,
    /// BusinessMessageRejects received. One of a new order, cancel or replace
    /// of ours (by BusinessRejectRefID, its ClOrdID) goes to the core as the
    /// order's rejection or the request's.
    pub business_rejects: u64,
    /// Trade corrections (ExecType G; FIX 4.2 ExecTransType 2) of our
    /// fills, each journalled as the bust of the trade it names (ExecRefID,
    /// among the trades the link keeps) and the trade as corrected
    /// ([`ExecKind::TradeCorrected`]), and said in a WARN line.
    pub trade_corrections: u64,
    /// Trade corrections of a trade the link does not know (older than the
    /// 65,536 it keeps, or unreadable): not applied (each said in a WARN
    /// line) — positions and PnL here may differ from the venue's by them;
    /// reconcile with its records.
    pub trade_corrections_unapplied: u64,
    /// Trade cancels (busts: ExecType H; FIX 4.2 ExecTransType 1) of our
    /// fills, each journalled and taken back from positions and cash in the
    /// core ([`ExecKind::TradeBust`]).
    pub trade_busts: u64,
    /// Restatements (ExecType D) of our orders by the venue on its own
    /// account — a quantity reduced, a price changed, or the order ended (on a
    /// halt, say) — each taken by the core as the order now stands and said
    /// in a WARN line.
    pub restatements: u64,
    /// Session Rejects and BusinessMessageRejects sent to the venue.
    pub rejects_sent: u64,
    /// Orders decided while the Logon was unanswered, held and sent after it.
    pub held_for_logon: u64,
    /// Market-data records received.
    pub md: u64,
    /// Market-data findings (gaps, malformed datagrams, a session change),
    /// by code.
    pub md_findings: FindingCounts,
    /// Bytes from the venue that were no FIX message (skipped by the framing).
    pub skipped_bytes: u64,
    /// Session rewound to this expected MsgSeqNum on resume (0: not rewound).
    pub rewound_to: u64,
    /// Why the last connection ended.
    pub last_disconnect: Option<String>,
    /// Fills whose reports never reached the core, recovered from the
    /// venue's totals ([`fill_gaps`](super::fill_gaps)); filled in by
    /// [`FixVenueLink::stats`].
    pub gaps: GapStats,
}

/// Messages kept in [`SentBySeq`].
const SENT_BY_SEQ: usize = 4096;

/// The last [`SENT_BY_SEQ`] orders, cancels and replaces sent (wire ids),
/// each at its MsgSeqNum modulo the size: what a counterparty's refusal of
/// one names — a session Reject by MsgSeqNum, a BusinessMessageReject by
/// ClOrdID. Fixed size, written once per order sent.
struct SentBySeq(Box<[(u64, Order); SENT_BY_SEQ]>);

impl Default for SentBySeq {
    fn default() -> Self {
        SentBySeq(Box::new([(0, Order::default()); SENT_BY_SEQ]))
    }
}

impl SentBySeq {
    /// Order `o` (wire ids) went out as MsgSeqNum `seq`.
    fn sent(&mut self, seq: u64, o: &Order) {
        self.0[seq as usize % SENT_BY_SEQ] = (seq, *o);
    }

    /// The core's record of a session Reject (35=3) of one of ours, named by
    /// RefSeqNum (and RefMsgType, when given: a sequence reset reuses numbers).
    fn session_reject<'a>(&self, m: &impl Fields<'a>) -> Option<ExecReport> {
        let seq = m.u64(tags::REF_SEQ_NUM).ok()??;
        let (at, o) = &self.0[seq as usize % SENT_BY_SEQ];
        (*at == seq && seq != 0).then_some(o).and_then(|o| refusal(o, m))
    }

    /// The core's record of a BusinessMessageReject (35=j) of one of ours,
    /// named by BusinessRejectRefID, its ClOrdID (and RefMsgType). One of an
    /// OrderStatusRequest is not here: the caller's.
    fn business_reject<'a>(&self, m: &impl Fields<'a>) -> Option<ExecReport> {
        let cl = m.u64(tags::BUSINESS_REJECT_REF_ID).ok()??;
        let (_, o) = self.0.iter().find(|(at, o)| *at != 0 && o.cl_ord_id == cl)?;
        refusal(o, m)
    }
}

/// What the counterparty's refusal `m` of our message `o` (wire ids) means
/// to the core: a NewOrderSingle's, the order's rejection; a cancel's or
/// replace's, the request's (CancelRejected, the order left working). `None`
/// when `m`'s RefMsgType names another kind of message.
fn refusal<'a>(o: &Order, m: &impl Fields<'a>) -> Option<ExecReport> {
    let action = o.action()?;
    let (kind, msg_type): (ExecKind, &[u8]) = match action {
        OrderAction::New => (ExecKind::Rejected, b"D"),
        OrderAction::Cancel => (ExecKind::CancelRejected, b"F"),
        OrderAction::Replace => (ExecKind::CancelRejected, b"G"),
        OrderAction::MassCancel => (ExecKind::MassCancelRefused, b"q"),
    };
    if m.get(tags::REF_MSG_TYPE).is_some_and(|t| t != msg_type) {
        return None;
    }
    let side = Side::from_u8(o.header.side).unwrap_or(Side::Buy);
    let mut e = ExecReport::new(kind, o.header.instrument, side, 0);
    e.cl_ord_id = o.cl_ord_id;
    e.orig_cl_ord_id = o.orig_cl_ord_id;
    e.reason = VenueReject::None as u8;
    Some(e)
}

/// Report `m` as the core's record; for one the core does not take (`Ok(None)`),
/// the trade correction it is, if it is one that reads (one that does not is
/// said and counted where other such reports are). Fills and the like are
/// read once, as before.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn read_report<'a>(
    m: &impl Fields<'a>,
    inst: &Instruments,
) -> (
    Result<Option<ExecReport>, FixError>,
    Option<(ExecReport, [u8; 5])>,
    bool,
) {
    let exec = exec_from_fix(m, inst, 0);
    let correction = match exec {
        Ok(None) => trade_correction(m, inst, 0).ok().flatten(),
        _ => None,
    };
    // A restatement is read as one of these kinds (see `exec_from_fix`):
    // ExecType is read again only for them.
    let restated = matches!(&exec, Ok(Some(e)) if matches!(e.kind(), Some(ExecKind::Restated | ExecKind::Canceled | ExecKind::Rejected)))
        && m.char(tags::EXEC_TYPE).ok().flatten() == Some(b'D');
    (exec, correction, restated)
}

/// The bust of trade `t` (under key `key`) that correction `c` replaces:
/// the trade taken back at its own quantity, price and liquidity, on `c`'s
/// order (wire ids), the order's totals before the corrected trade.
fn bust_of(t: &Trade, c: &ExecReport, key: [u8; 5]) -> ExecReport {
    let side = Side::from_u8(t.side).unwrap_or(Side::Buy);
    let mut b = ExecReport::new(ExecKind::TradeBust, t.instrument, side, c.header.ts_ns);
    b.cl_ord_id = c.cl_ord_id;
    b.venue_order_id = c.venue_order_id;
    b.order_qty = c.order_qty;
    b.order_px = c.order_px;
    b.last_qty = t.qty;
    b.last_px = t.px;
    b.cum_qty = (c.cum_qty - c.last_qty).max(0);
    b.leaves_qty = c.leaves_qty;
    b.transact_ts_ns = c.transact_ts_ns;
    b.ord_type = c.ord_type;
    b.header.flags = t.flags;
    b.exec_key = key;
    b
}

/// The link. See the module docs.
pub struct FixVenueLink {
    set: FixLinkSettings,
    inst: Instruments,
    session: Session<JournalStore>,
    conn: Option<Connection>,
    /// The connection's skipped bytes at which the next warning is given
    /// (doubling), and as counted into the stats so far.
    skip_warn_at: u64,
    skip_counted: u64,
    backoff: Backoff,
    t0: Instant,
    encoder: FixEncoder,
    md: Option<Box<dyn Feed + Send>>,
    /// The feed's findings, counted and told.
    /// With a feed: its findings' log.
    md_findings: Option<FindingLog>,
    dec: FixDecoder,
    reports: VecDeque<InputSlot>,
    last_ts: u64,
    resume: Option<Resume>,
    /// Highest trigger seq among replayed inputs; orders of triggers up to it are
    /// replays.
    replay_upto: u64,
    /// Highest seq among every replayed record, timers included.
    replay_seen: u64,
    last_report_seq: u64,
    /// Core ClOrdIDs of this epoch the store says were sent.
    sent_cl: BTreeSet<u64>,
    /// Scratch body of the OrderStatusRequests the link sends.
    status_body: Vec<u8>,
    /// The ClOrdID epoch: wire ClOrdIDs are `epoch << EPOCH_SHIFT | core id`.
    epoch: u64,
    ended: bool,
    /// Orders decided while not logged on, sent once the Logon is answered.
    pending: VecDeque<Order>,
    /// The message log, while no connection holds it.
    log: Option<MessageLog>,
    name: String,
    stats: LinkStats,
    acks: AckClock,
    /// Acknowledgements counted when the board last got the figures.
    acks_published: u64,
    board: Option<Arc<LiveBoard>>,
    rec: Reconcile,
    gaps: FillGaps,
    /// The orders, cancels and replaces sent lately (see [`SentBySeq`]):
    /// what a counterparty's refusal names.
    sent_by_seq: SentBySeq,
    /// Status questions about orders whose fills may be missing, to send
    /// after a read.
    questions: Vec<(u64, u32, u8)>,
    /// An eventfd another thread writes to end a [`wait_input`] early.
    wake: Arc<std::os::fd::OwnedFd>,
    /// The trades given to the core, by key: what a correction names.
    ledger: FillLedger,
}

impl FixVenueLink {
    /// A link for `cfg`'s instruments and session identity with `set`, its
    /// market data from `md` (any feed: the venue's, an exchange's, a feed
    /// handler's ring), whose findings it tells to the log given with it;
    /// opens the session journal. Connects on first poll.
    pub fn new(
        cfg: &Config,
        set: FixLinkSettings,
        resume: Option<Resume>,
        md: Option<(Box<dyn Feed + Send>, FindingLog)>,
    ) -> std::io::Result<Self> {
        let (md, md_findings) = md.unzip();
        let store = JournalStore::open_sized(&set.store_dir, set.store_segment).map_err(std::io::Error::other)?;

        let s = &cfg.session;
        let name = format!("{}-{}-{}", s.begin_string, s.sender_comp_id, s.target_comp_id);
        let log = set
            .message_log
            .as_ref()
            .map(|d| MessageLog::open(d, &name))
            .transpose()?;
        let inst = Instruments::new(&cfg.instruments);
        let all_sent = sent_in_store(&store, &inst);
        // A fresh start takes an epoch no order in the store has: its ClOrdIDs
        // (which restart at `1 × 16`) can never be ones sent before.
        let epoch = match resume.as_ref().and_then(|r| r.epoch) {
            Some(e) => e,
            None => all_sent.keys().next_back().map_or(0, |&c| (c >> EPOCH_SHIFT) + 1),
        };
        // This epoch's sends, by core ClOrdID (none for a fresh start).
        let low = (1u64 << EPOCH_SHIFT) - 1;
        let mine = all_sent.range(epoch << EPOCH_SHIFT..=(epoch << EPOCH_SHIFT | low));
        let sent_cl: BTreeSet<u64> = mine.clone().map(|(&c, _)| c & low).collect();
        let mut rec = Reconcile::default();
        if let Some(r) = &resume {
            check_restart(&set.store_dir, &sent_cl, r.last_seq)?;
            // The replay settles what it holds final reports for; the rest of
            // what this epoch sent is in doubt.
            for (&cl, &(i, side, orig)) in mine.filter_map(|(c, o)| o.as_ref().map(|o| (c, o))) {
                // The order a replace replaces, if this epoch's (core ids).
                let orig = if orig >> EPOCH_SHIFT == epoch { orig & low } else { 0 };
                rec.sent_before(cl & low, orig, i, side);
            }
        }
        Ok(FixVenueLink {
            inst,
            session: Session::new(set.session.clone(), Role::Initiator, store),
            conn: None,
            skip_warn_at: 1,
            skip_counted: 0,
            backoff: Backoff::default(),
            t0: Instant::now(),
            encoder: FixEncoder::new(&s.begin_string, &s.sender_comp_id, &s.target_comp_id, &cfg.instruments),
            md,
            md_findings,
            dec: FixDecoder::new(),
            reports: VecDeque::with_capacity(1024),
            last_ts: 0,
            resume,
            replay_upto: 0,
            replay_seen: 0,
            last_report_seq: 0,
            sent_cl,
            epoch,
            ended: false,
            pending: VecDeque::with_capacity(1024),
            log,
            name,
            stats: LinkStats::default(),
            acks: AckClock::default(),
            acks_published: 0,
            board: None,
            rec,
            gaps: FillGaps::new(cfg.instruments.iter().map(|i| i.price_decimals).collect()),
            sent_by_seq: SentBySeq::default(),
            questions: Vec::with_capacity(64),
            status_body: Vec::with_capacity(128),
            wake: Arc::new(eventfd()?),
            ledger: FillLedger::default(),
            set,
        })
    }

    /// What the link did so far.
    pub fn stats(&self) -> LinkStats {
        LinkStats {
            gaps: self.gaps.stats,
            md_findings: self.md_findings.as_ref().map(|l| *l.counts()).unwrap_or_default(),
            ..self.stats.clone()
        }
    }

    /// Says how many market-data findings of the last second went unlogged
    /// (past the lines a second), if any: at the run's end.
    pub fn finish_findings(&mut self) {
        if let Some(l) = &mut self.md_findings {
            l.finish();
        }
    }

    /// The ClOrdID epoch of this run: wire ClOrdIDs are `epoch << 48 | core id`.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The session's next outbound and expected sequence numbers.
    pub fn seqs(&self) -> (u64, u64) {
        self.session.store().seqs()
    }

    /// Whether the session is logged on.
    pub fn is_active(&self) -> bool {
        self.conn.is_some() && self.session.status() == Status::Active
    }

    /// Logs out (if logged on) and waits up to `timeout` for the venue's answer.
    pub fn logout(&mut self, timeout: Duration) {
        if !self.is_active() {
            return;
        }
        self.session.logout("engine stopping", wall_ns());
        let end = Instant::now() + timeout;
        while Instant::now() < end && self.conn.is_some() {
            self.io();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn mono_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    /// Drives the connection: connect when due, read, run timers, write.
    fn io(&mut self) {
        if self.ended {
            return;
        }
        if self.conn.is_none() {
            let now = self.mono_ns();
            if !self.backoff.due(now) {
                return;
            }
            match std::net::TcpStream::connect_timeout(&self.set.connect, Duration::from_millis(200)).and_then(|s| {
                s.set_nonblocking(true)?;
                Connection::new(mio::net::TcpStream::from_std(s), self.set.busy_poll)
            }) {
                Ok(mut c) => {
                    c.set_log(self.log.take());
                    self.conn = Some(c);
                    (self.skip_warn_at, self.skip_counted) = (1, 0);
                    self.session.reconnect();
                    self.session.start(wall_ns());
                }
                Err(e) => {
                    self.stats.reconnects += 1;
                    self.stats.last_disconnect = Some(format!("connect {}: {e}", self.set.connect));
                    self.backoff.failed(now);
                    return;
                }
            }
        }
        let Some(conn) = &mut self.conn else { return };
        let was_active = self.session.status() == Status::Active;
        let now = wall_ns();
        let mono = self.t0.elapsed().as_nanos() as u64;
        let epoch = self.epoch;
        let sent_by_seq = &self.sent_by_seq;
        let (session, dec, inst, reports, stats, last_ts, last_seq, acks, rec, gaps, questions, ledger) = (
            &mut self.session,
            &mut self.dec,
            &self.inst,
            &mut self.reports,
            &mut self.stats,
            &mut self.last_ts,
            &mut self.last_report_seq,
            &mut self.acks,
            &mut self.rec,
            &mut self.gaps,
            &mut self.questions,
            &mut self.ledger,
        );
        let mut answered = 0u32;
        // The venue is asked what became of order `cl` (core id), once.
        let mut ask = |gaps: &mut FillGaps, cl: u64| {
            if let Some((i, side)) = gaps.ask(cl) {
                questions.push((cl, i, side));
            }
        };
        // The core id of a report of ours that could not be read (refused by
        // the session, or not a report): it may have been a fill.
        let unread = |dec: &mut FixDecoder, bytes: &[u8]| {
            let cl = dec.decode(bytes).ok()?.u64(tags::CL_ORD_ID).ok()??;
            (cl >> EPOCH_SHIFT == epoch).then_some(cl & ((1u64 << EPOCH_SHIFT) - 1))
        };
        let app = |bytes: &[u8], session: &mut Session<JournalStore>, kind: &Inbound| {
            if *kind == Inbound::Refused {
                if let Some(cl) = unread(dec, bytes).filter(|_| crate::framing::msg_type(bytes) == Some(b"8")) {
                    ask(gaps, cl);
                }
                return;
            }
            // Reports were read by the session's scanner; anything else it let
            // through is decoded here.
            // A report the core takes, and for one it does not, a trade
            // correction (read from the same view: no second decode).
            let (seq, exec, correction, restated) = match session.report(bytes) {
                Some(r) => {
                    let (exec, correction, restated) = read_report(&r, inst);
                    (r.u64(tags::MSG_SEQ_NUM), exec, correction, restated)
                }
                None => match dec.decode(bytes) {
                    Ok(m) if m.msg_type() == b"3" => {
                        stats.session_rejects += 1;
                        (
                            m.u64(tags::MSG_SEQ_NUM),
                            Ok(sent_by_seq.session_reject(&m)),
                            None,
                            false,
                        )
                    }
                    Ok(m) if m.msg_type() == b"j" => {
                        stats.business_rejects += 1;
                        (
                            m.u64(tags::MSG_SEQ_NUM),
                            Ok(sent_by_seq.business_reject(&m)),
                            None,
                            false,
                        )
                    }
                    Ok(m) => {
                        let (exec, correction, restated) = read_report(&m, inst);
                        (m.u64(tags::MSG_SEQ_NUM), exec, correction, restated)
                    }
                    Err(_) => {
                        stats.bad_reports += 1;
                        return;
                    }
                },
            };
            let seq = seq.ok().flatten().unwrap_or(0);
            // A correction of a trade this link gave the core: the bust of
            // that trade, then the trade as corrected, one after the other.
            let mut corrected = None;
            let exec = match (exec, correction) {
                (Ok(None), Some((c, corrects))) if c.cl_ord_id >> EPOCH_SHIFT == epoch => match ledger.get(corrects) {
                    Some(t) => {
                        corrected = Some(c);
                        Ok(Some(bust_of(&t, &c, corrects)))
                    }
                    None => Ok(None),
                },
                (exec, _) => exec,
            };
            match exec {
                // Another epoch's order (a run before a fresh start): not ours now.
                Ok(Some(e)) if e.cl_ord_id >> EPOCH_SHIFT != epoch => stats.foreign_reports += 1,
                Ok(Some(first)) => {
                    for (k, mut e) in [Some(first), corrected].into_iter().flatten().enumerate() {
                        let low = (1u64 << EPOCH_SHIFT) - 1;
                        e.cl_ord_id &= low;
                        if e.orig_cl_ord_id >> EPOCH_SHIFT == epoch {
                            e.orig_cl_ord_id &= low;
                        }
                        let ts = e.transact_ts_ns.max(*last_ts);
                        *last_ts = ts;
                        e.header.ts_ns = ts;
                        e.fix_seq = seq;
                        *last_seq = seq;
                        // One report, though a correction gives the core two records.
                        stats.reports += u64::from(k == 0);
                        if e.kind() == Some(ExecKind::TradeCorrected) {
                            stats.trade_corrections += 1;
                            tracing::warn!(
                            cl_ord_id = e.cl_ord_id,
                            qty = e.last_qty,
                            "the venue corrected a fill of this order: booked as the bust of the fill and the trade as corrected"
                        );
                        } else if e.kind() == Some(ExecKind::TradeBust) && corrected.is_some() {
                            // The first half of a correction: said with the second.
                        } else if e.kind() == Some(ExecKind::TradeBust) {
                            // Taken back in the core; said, as the venue's
                            // records and ours differ by it until then.
                            stats.trade_busts += 1;
                            tracing::warn!(
                                cl_ord_id = e.cl_ord_id,
                                qty = e.last_qty,
                                "the venue cancelled (busted) a fill of this order: taken back from the position"
                            );
                        }
                        if restated {
                            stats.restatements += 1;
                            tracing::warn!(
                                cl_ord_id = e.cl_ord_id,
                                qty = e.order_qty,
                                leaves = e.leaves_qty,
                                closed = e.kind() != Some(ExecKind::Restated),
                                "the venue restated this order on its own: taken as the order now stands"
                            );
                        }
                        if e.kind() == Some(ExecKind::MassCancelRefused) {
                            tracing::warn!(
                                cl_ord_id = e.cl_ord_id,
                                "the venue refused the mass cancel: its orders are cancelled one by one"
                            );
                        }
                        if acks.answered(e.cl_ord_id, mono) {
                            answered += 1;
                        }
                        rec.settle(&e);
                        // Fills the venue's CumQty says the core never got (their
                        // reports garbled or refused) go to it first; AvgPx, which
                        // prices them, is read only then.
                        let avg = || {
                            dec.decode(bytes)
                                .ok()
                                .and_then(|m| m.get(tags::AVG_PX).and_then(avg_px))
                        };
                        if let Some(f) = gaps.before(&e, avg) {
                            reports.push_back(InputSlot::from_exec(&f));
                        }
                        // A cancel or replace refused as gone: its fills may be
                        // missing too; the venue is asked what became of it.
                        if e.kind() == Some(ExecKind::CancelRejected) && e.reason == VenueReject::UnknownOrder as u8 {
                            ask(gaps, e.orig_cl_ord_id);
                        }
                        ledger.note(&e);
                        reports.push_back(InputSlot::from_exec(&e));
                    }
                }
                Ok(None) => {
                    // Not a report the core takes: an answer to a status request?
                    let Ok(m) = dec.decode(bytes) else { return };
                    // A status question refused — by a BusinessMessageReject
                    // (not supported) or a session Reject (its checks): no
                    // answer is coming, so new orders stop waiting for one.
                    if matches!(m.msg_type(), b"j" | b"3") && m.get(tags::REF_MSG_TYPE) == Some(b"H") {
                        rec.unsupported();
                        return;
                    }
                    if m.msg_type() != b"8" {
                        return;
                    }
                    let purpose = report_purpose(&m);
                    if purpose == ReportPurpose::TradeCorrect {
                        if let Ok(Some(cl)) = m.u64(tags::CL_ORD_ID) {
                            if cl >> EPOCH_SHIFT == epoch {
                                stats.trade_corrections_unapplied += 1;
                                tracing::warn!(
                                    cl_ord_id = cl & ((1u64 << EPOCH_SHIFT) - 1),
                                    exec_id = %String::from_utf8_lossy(m.get(tags::EXEC_ID).unwrap_or(b"")),
                                    exec_ref_id = %String::from_utf8_lossy(m.get(tags::EXEC_REF_ID).unwrap_or(b"")),
                                    "the venue corrected a fill this link does not know (older than the trades it keeps, \
                                     or unreadable): not applied — positions and PnL may differ from the venue's by it; reconcile",
                                );
                            }
                        }
                        return;
                    }
                    if purpose != ReportPurpose::Status {
                        return;
                    }
                    let Ok(Some(cl)) = m.u64(tags::CL_ORD_ID) else { return };
                    if cl >> EPOCH_SHIFT != epoch {
                        return;
                    }
                    let core = cl & ((1u64 << EPOCH_SHIFT) - 1);
                    let known = m.get(tags::ORD_STATUS) != Some(b"8");
                    // About an order gone in session: the fill its totals say is missing.
                    let qd = m.get(tags::SYMBOL).and_then(|s| inst.find(s)).map_or(0, |x| x.2);
                    let cum = m.fixed(tags::CUM_QTY, qd).ok().flatten().unwrap_or(0);
                    let avg = m.get(tags::AVG_PX).and_then(avg_px);
                    // Done at the venue: filled, cancelled, rejected, expired, done for the day.
                    let done = matches!(m.get(tags::ORD_STATUS), Some(b"2" | b"3" | b"4" | b"8" | b"C"));
                    // What an answer puts in the journal carries its MsgSeqNum:
                    // a restart resumes after it, not before — where the venue
                    // would resend the answer and the reports it answered for
                    // (a fill the session refused, say) to be booked a second
                    // time over the fill this answer recovered.
                    if let Some(mut f) = gaps.answer(core, cum, avg, done, *last_ts) {
                        f.fix_seq = seq;
                        *last_seq = seq;
                        reports.push_back(InputSlot::from_exec(&f));
                    }
                    if let Some((i, side)) = rec.answer(core, known) {
                        // The venue never had it: closed in the core, journalled.
                        let side =
                            foxtrot_engine::records::Side::from_u8(side).unwrap_or(foxtrot_engine::records::Side::Buy);
                        let mut e = ExecReport::new(ExecKind::Rejected, i, side, *last_ts);
                        e.cl_ord_id = core;
                        e.reason = VenueReject::UnknownOrder as u8;
                        e.fix_seq = seq;
                        *last_seq = seq;
                        reports.push_back(InputSlot::from_exec(&e));
                    }
                }
                // Not a ClOrdID we wrote: another system's order (a drop copy,
                // a manual order at the venue), not a damaged report.
                Err(e) if matches!(e.tag(), Some(tags::CL_ORD_ID | tags::ORIG_CL_ORD_ID)) => stats.foreign_reports += 1,
                Err(_) => {
                    stats.bad_reports += 1;
                    if let Some(cl) = unread(dec, bytes) {
                        ask(gaps, cl);
                    }
                }
            }
        };
        let lost = pump_all(conn, session, now, app).err();
        // Bytes that were no FIX message: one line when they start, and
        // again each time their count doubles (not one per read).
        let skipped = conn.skipped();
        if skipped != self.skip_counted {
            stats.skipped_bytes += skipped - self.skip_counted;
            self.skip_counted = skipped;
            if skipped >= self.skip_warn_at {
                tracing::warn!(session = %self.name, bytes = skipped, "bytes that are no FIX message skipped on this connection (garbage, or a BodyLength beyond the largest message)");
                self.skip_warn_at = skipped.saturating_mul(2);
            }
        }
        if !was_active && session.status() == Status::Active {
            stats.logons += 1;
            self.backoff.succeeded();
            // After a restart: ask the venue about every order in doubt.
            let mono = self.mono_ns();
            for (cl, orig, i, side) in self.rec.questions(mono) {
                // Its answer also says what it filled that the core never got.
                self.gaps.expect(cl, orig, i, side);
                self.status_request(cl, i, side);
            }
            if !self.rec.stats.gave_up && self.rec.stats.requests > 0 {
                tracing::info!(session = %self.name, orders = self.rec.stats.requests, "orders in doubt after the restart: status requested");
            }
        }
        for k in 0..self.questions.len() {
            let (cl, i, side) = self.questions[k];
            self.status_request(cl, i, side);
        }
        self.questions.clear();
        // Quantiles cost a walk of the histogram: published every 64
        // acknowledgements (the first at once, and with every session change),
        // not per report.
        if answered > 0 && (self.acks_published == 0 || self.acks.count() >= self.acks_published + 64) {
            self.publish_acks();
        }
        if self.session.status() == Status::Active && !self.pending.is_empty() && !self.rec.holding(self.mono_ns()) {
            // Orders decided while the Logon (or the venue's answers about
            // orders in doubt) were awaited go out now, in order.
            while let Some(o) = self.pending.pop_front() {
                self.write_order(&o);
            }
        }
        self.log_events();
        if lost.is_some() || !was_active {
            self.publish_session();
        }
        if let Some(why) = lost {
            if let Some(mut c) = self.conn.take() {
                self.log = c.take_log();
            }
            let logged_out = is_logout(&why);
            tracing::info!(session = %self.name, reason = %why, "FIX session ended");
            self.stats.last_disconnect = Some(why);
            if logged_out {
                self.ended = true;
                // Orders held for a Logon that will not come: reported back.
                while let Some(o) = self.pending.pop_front() {
                    self.not_sent(&o);
                }
            } else {
                self.stats.reconnects += 1;
                self.backoff.failed(self.mono_ns());
            }
        }
    }

    /// Session events as structured log lines (off the report fast path:
    /// events come from the general path only).
    fn log_events(&mut self) {
        let (events, lost) = self.session.take_events();
        for e in events {
            match e {
                SessionEvent::RejectSent { .. } | SessionEvent::BusinessRejectSent { .. } => {
                    self.stats.rejects_sent += 1;
                    tracing::warn!(session = %self.name, event = %e);
                }
                SessionEvent::Garbled(_) | SessionEvent::GapDetected { .. } | SessionEvent::TestRequestSent => {
                    tracing::warn!(session = %self.name, event = %e)
                }
                _ => tracing::info!(session = %self.name, event = %e),
            }
        }
        if lost > 0 {
            tracing::warn!(session = %self.name, lost, "session events not logged (too many at once)");
        }
    }

    /// An order that will never be sent, reported back `Rejected` (NotSent).
    fn not_sent(&mut self, order: &Order) {
        self.stats.never_sent += 1;
        self.report_unsent(order, VenueReject::NotSent);
    }

    /// Reports `order` back `Rejected` for `reason`: it never left.
    fn report_unsent(&mut self, order: &Order, reason: VenueReject) {
        let mut e = ExecReport::new(
            ExecKind::Rejected,
            order.header.instrument,
            order.side().unwrap_or(foxtrot_engine::records::Side::Buy),
            self.last_ts,
        );
        e.cl_ord_id = order.cl_ord_id;
        e.orig_cl_ord_id = order.orig_cl_ord_id;
        e.order_qty = order.qty;
        e.order_px = order.px;
        e.ord_type = order.header.flags;
        e.reason = reason as u8;
        self.reports.push_back(InputSlot::from_exec(&e));
    }

    /// An order the session store could not keep, reported back `Rejected`
    /// ([`VenueReject::Unrecorded`]). At the store's first failure the kill
    /// switch is pulled, as an input (journalled, so a replay shows it): the
    /// core cancels every open order and decides no new ones.
    fn unrecorded(&mut self, order: &Order) {
        self.stats.unrecorded += 1;
        self.report_unsent(order, VenueReject::Unrecorded);
        if self.stats.store_error.is_none() {
            let why = self
                .session
                .store()
                .error()
                .map_or_else(|| "unknown".into(), |e| e.to_string());
            tracing::error!(
                session = %self.name,
                store = %self.set.store_dir.display(),
                error = %why,
                "the FIX session store cannot keep orders: no new order or replacement is sent; kill switch pulled, open orders cancelled"
            );
            self.stats.store_error = Some(why);
            let mut kill = OperatorCommand::new(CommandKind::Kill, self.last_ts);
            kill.arg0 = kill_cause::SESSION_STORE;
            self.reports.push_back(InputSlot::from_command(&kill));
        }
    }

    /// After the replay: rewind the expected number past the last journalled report.
    fn finish_replay(&mut self) {
        let expected = self.resume.take().map_or(0, |r| r.last_seq);
        if self.replay_seen < expected {
            let why = format!(
                "the resumed run's inputs ended at seq {} of {expected}: a read of its journal failed after the \
                 restart checked it",
                self.replay_seen
            );
            tracing::error!(session = %self.name, error = %why, "replay stopped short: not connecting, the run ends");
            self.stats.replay_short = Some(why);
            // Ended, with no market data to follow: the next polls find the
            // link exhausted, as at a logout.
            self.ended = true;
            self.md = None;
            return;
        }
        self.rec.arm();
        tracing::info!(session = %self.name, orders = self.rec.in_doubt(), "replay done; orders sent without a final report");
        let (out, next_in) = self.session.store().seqs();
        let want = self.last_report_seq + 1;
        if want < next_in {
            self.session.store_mut().set_seqs(out, want);
            self.stats.rewound_to = want;
        }
    }

    fn next_md(&mut self) -> Option<InputSlot> {
        let md = self.md.as_mut()?;
        loop {
            match md.next() {
                // An event that cannot be never reaches the core.
                Next::Event(m) if !QualityMonitor::possible(&m) => {
                    let d = DqEvent::new(DqCode::Invalid, m.header.instrument, m.header.ts_ns, m.px, m.qty);
                    note_finding(&mut self.md_findings, &d);
                }
                Next::Event(mut m) => {
                    let ts = m.header.ts_ns.max(self.last_ts);
                    self.last_ts = ts;
                    m.header.ts_ns = ts;
                    self.stats.md += 1;
                    return Some(InputSlot::from_md(&m));
                }
                Next::Quality(d) => note_finding(&mut self.md_findings, &d),
                Next::Idle | Next::End => return None,
            }
        }
    }
}

/// Every ClOrdID the session store holds as sent (orders and cancels alike:
/// each ClOrdID is used once), with the instrument and side of the new orders
/// and replaces among them — one pass over the store.
fn sent_in_store(store: &JournalStore, inst: &Instruments) -> BTreeMap<u64, Option<(u32, u8, u64)>> {
    let mut dec = FixDecoder::new();
    let mut sent = BTreeMap::new();
    for (_, msg) in store.sent() {
        let Ok(m) = dec.decode(msg) else { continue };
        // A status request names an order sent before, under its ClOrdID: it
        // is no order, and must not hide the one it asks about (it did: every
        // order asked about in session then dropped out of the restart's
        // orders in doubt, and a fill its answer never brought stayed lost).
        if m.msg_type() == b"H" {
            continue;
        }
        let Ok(Some(cl)) = m.u64(tags::CL_ORD_ID) else { continue };
        let order = match (m.msg_type(), m.get(tags::SYMBOL).and_then(|s| inst.find(s))) {
            (b"D" | b"G", Some((i, _, _))) => {
                let side = if m.get(tags::SIDE) == Some(b"2") {
                    Side::Sell
                } else {
                    Side::Buy
                };
                // A replace's OrigClOrdID (0 for a new order).
                let orig = match m.msg_type() {
                    b"G" => m.u64(tags::ORIG_CL_ORD_ID).ok().flatten().unwrap_or(0),
                    _ => 0,
                };
                Some((i, side as u8, orig))
            }
            _ => None,
        };
        sent.insert(cl, order);
    }
    sent
}

/// Refuses a restart that would decide orders under ClOrdIDs already sent: one
/// whose inputs end (at `upto`) before the input the store's last order of its
/// epoch was decided on (core ClOrdIDs are `trigger seq × CL_PER_INPUT + k`;
/// `sent` holds the epoch's). A fresh start needs no check: its epoch is new.
fn check_restart(store_dir: &std::path::Path, sent: &BTreeSet<u64>, upto: u64) -> std::io::Result<()> {
    match sent.last().map(|&last| last / CL_PER_INPUT) {
        Some(trigger) if trigger > upto => Err(std::io::Error::other(format!(
            "the FIX session store {} shows an order decided on input {trigger}, but the resumed run's inputs end at {upto}; \
             resume from the run that journalled it",
            store_dir.display()
        ))),
        _ => Ok(()),
    }
}

impl FixVenueLink {
    /// The session's state as the live board shows it.
    fn publish_session(&mut self) {
        if let Some(b) = &self.board {
            let state = if self.ended {
                3
            } else if self.is_active() {
                2
            } else {
                1
            };
            b.set(live::word::SESSION, state);
        }
        self.publish_acks();
    }

    /// The order → acknowledgement figures, onto the live board.
    fn publish_acks(&mut self) {
        if let Some(b) = &self.board {
            for (k, v) in self.acks.summary().into_iter().enumerate() {
                b.set(live::word::ORDER_ACK + k, v);
            }
        }
        self.acks_published = self.acks.count();
    }
}

/// Notes a market-data finding in the feed's log (there is one with a feed).
fn note_finding(log: &mut Option<FindingLog>, d: &DqEvent) {
    if let Some(l) = log {
        l.note(d);
    }
}

impl VenueLink for FixVenueLink {
    fn attach_board(&mut self, board: Arc<LiveBoard>) {
        self.board = Some(board);
        self.publish_session();
    }

    /// Waits on the session's socket, the feed's socket and the wake-up
    /// eventfd (one `ppoll`): a report or market data ends the wait the moment
    /// it arrives.
    fn wait_input(&mut self, timeout: std::time::Duration) -> bool {
        use std::os::fd::AsRawFd;
        if !self.reports.is_empty() || self.resume.is_some() {
            return true;
        }
        // An answer is due within the window: a thread woken from `ppoll` by
        // it would start tens of µs late, so the caller polls again instead.
        if self
            .acks
            .awaiting(self.mono_ns(), self.set.answer_spin.as_nanos() as u64)
        {
            std::hint::spin_loop();
            return true;
        }
        let mut fds = [self.wake.as_raw_fd(), -1, -1];
        let mut n = 1;
        if let Some(c) = &mut self.conn {
            fds[n] = c.stream().as_raw_fd();
            n += 1;
        }
        if let Some(fd) = self.md.as_ref().and_then(|m| m.socket()) {
            fds[n] = fd;
            n += 1;
        }
        if foxtrot_net::wait_readable(&fds[..n], timeout) & 1 != 0 {
            let mut v = 0u64;
            // SAFETY: reads the eventfd's 8-byte counter into `v` (resetting it).
            unsafe { libc::read(fds[0], (&mut v as *mut u64).cast(), 8) };
        }
        true
    }

    fn waker(&self) -> Option<Arc<dyn Fn() + Send + Sync>> {
        let fd = self.wake.clone();
        Some(Arc::new(move || {
            use std::os::fd::AsRawFd;
            let one = 1u64;
            // SAFETY: writes 8 bytes to an eventfd this closure keeps open.
            unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        }))
    }

    fn poll(&mut self) -> Option<InputSlot> {
        match self.poll_before(u64::MAX) {
            Polled::Input(s) => Some(s),
            Polled::Blocked | Polled::Exhausted => None,
        }
    }

    /// The next input: the previous run's (on a restart), then reports, then
    /// market data; `Blocked` when nothing has arrived yet.
    fn poll_before(&mut self, _horizon: u64) -> Polled {
        if let Some(r) = &mut self.resume {
            for s in r.inputs.by_ref() {
                let h = *s.header();
                self.replay_seen = self.replay_seen.max(h.seq);
                match s.view() {
                    Some(InputView::Timer(_)) | None => continue,
                    Some(InputView::Exec(e)) => {
                        self.rec.settle(e);
                        // What the core was given before the restart.
                        self.gaps.replayed(e);
                        self.ledger.note(e);
                        if e.fix_seq != 0 {
                            self.last_report_seq = e.fix_seq;
                        }
                    }
                    _ => {}
                }
                self.replay_upto = h.seq;
                self.last_ts = self.last_ts.max(h.ts_ns);
                self.stats.replayed += 1;
                return Polled::Input(s);
            }
            self.finish_replay();
        }
        if let Some(s) = self.reports.pop_front() {
            return Polled::Input(s);
        }
        self.io();
        if let Some(s) = self.reports.pop_front() {
            return Polled::Input(s);
        }
        if let Some(s) = self.next_md() {
            return Polled::Input(s);
        }
        // The session is over, but a market-data gap still being recovered is
        // waited for (the feed gives up after its own timeout), so what the
        // venue published before its end of day is not declared lost early.
        if self.ended && !self.md.as_ref().is_some_and(|m| m.recovering()) {
            Polled::Exhausted
        } else {
            Polled::Blocked
        }
    }

    /// Sends `order` (the encoder's bytes at the wall-clock time) through the
    /// session; an order decided on a replayed input is not sent again (see the
    /// module docs).
    fn send(&mut self, order: &Order, _wire: &[u8]) {
        let replayed = order.cl_ord_id / CL_PER_INPUT <= self.replay_upto;
        if replayed || self.ended {
            if replayed && self.sent_cl.contains(&order.cl_ord_id) {
                self.stats.resent_suppressed += 1;
            } else {
                // Decided before a restart and never sent, or decided after the
                // venue ended the session: reported back, never sent late.
                self.not_sent(order);
            }
            return;
        }
        let holding = self.rec.holding(self.mono_ns());
        if self.is_active() && self.pending.is_empty() && !holding {
            self.write_order(order);
        } else {
            // Not logged on (connecting, or the Logon unanswered): held, and
            // sent in order once the venue has answered the Logon. An order
            // sent before that answer may be lost by a venue still deciding
            // whether to accept the session.
            self.pending.push_back(*order);
            self.stats.held_for_logon += 1;
        }
    }
}

impl FixVenueLink {
    /// Asks the venue about order `cl` (core id) of `instrument` and `side`,
    /// written in the link's kept scratch body: no allocation.
    fn status_request(&mut self, cl: u64, instrument: u32, side: u8) {
        // The ClOrdID's text exactly as the order carried it (zero-padded):
        // to the venue a ClOrdID is a string, and "128" is not the order
        // "00000000000000000128".
        let id = foxtrot_engine::format::fix::encoder::clordid_text(cl | self.epoch << EPOCH_SHIFT);
        let side: &[u8] = if side == foxtrot_engine::records::Side::Sell as u8 {
            b"2"
        } else {
            b"1"
        };
        let body = &mut self.status_body;
        body.clear();
        crate::message::put(body, i64::from(tags::CL_ORD_ID), &id);
        crate::message::put(body, i64::from(tags::SIDE), side);
        crate::message::put(
            body,
            i64::from(tags::SYMBOL),
            self.inst.symbol(instrument).unwrap_or(b""),
        );
        self.session.send_body(b"H", &[], &self.status_body, wall_ns());
        if let Some(conn) = &mut self.conn {
            let _ = flush(conn, &mut self.session);
        }
    }

    /// What reconciliation after a restart did.
    pub fn reconcile_stats(&self) -> ReconcileStats {
        self.rec.stats
    }

    /// Encodes `order` at the wall-clock time with the session's next number,
    /// stores it and writes it.
    fn write_order(&mut self, order: &Order) {
        let mut o = *order;
        let now = wall_ns();
        o.header.ts_ns = now;
        // On the wire, in this run's epoch (the core's ids stay as decided).
        let base = self.epoch << EPOCH_SHIFT;
        o.cl_ord_id |= base;
        if o.orig_cl_ord_id != 0 {
            o.orig_cl_ord_id |= base;
        }
        let seq = self.session.next_out();
        self.encoder.set_next_seq(seq);
        let mut sent = false;
        if let Ok(bytes) = self.encoder.encode(&o) {
            // A new order or a replacement leaves only if the store keeps it:
            // a restart knows its ClOrdIDs from the store. A cancel (or a
            // mass cancel) leaves whatever the store does (it only takes
            // risk away).
            if matches!(order.action(), Some(OrderAction::Cancel | OrderAction::MassCancel)) {
                self.session.sent_app(bytes, now);
            } else if !self.session.sent_app_kept(bytes, now) {
                self.unrecorded(order);
                return;
            }
            self.stats.orders_sent += 1;
            self.acks.sent(order.cl_ord_id, self.mono_ns());
            self.sent_by_seq.sent(seq, &o);
            sent = true;
        }
        if let Some(conn) = &mut self.conn {
            // A failed write shows on the next poll, which reconnects.
            let _ = flush(conn, &mut self.session);
        }
        // Bookkeeping after the order is out.
        if sent {
            self.gaps.sent(order);
        }
    }
}

/// A non-blocking eventfd (the link's wake-up).
fn eventfd() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: a plain eventfd(2) call; the descriptor is owned at once.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the descriptor eventfd(2) just returned, owned by nothing else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionSettings;

    /// What a restart reads from the store: the orders sent, with their
    /// instrument and side — an order asked about later (35=H, under its own
    /// ClOrdID) among them, a cancel's ClOrdID as used but no order.
    #[test]
    fn the_store_s_orders_survive_the_status_requests_about_them() {
        let dir = std::env::temp_dir().join(format!("foxtrot-link-sent-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // The default configuration's instruments: FOXB is instrument 1.
        let inst = Instruments::new(&Config::default_sim().instruments);
        let mut session = Session::new(
            SessionSettings::new("FIX.4.4", "FOXTROT", "VENUE"),
            Role::Initiator,
            JournalStore::open(&dir).unwrap(),
        );
        let f = |pairs: &[(u32, &'static str)]| pairs.iter().map(|&(t, v)| (t, v.as_bytes())).collect::<Vec<_>>();
        let order = f(&[
            (11, "00000000000000334096"),
            (38, "50"),
            (40, "2"),
            (44, "25.02"),
            (54, "2"),
            (55, "FOXB"),
        ]);
        session.send_with(b"D", &[], &order, 1);
        let cancel = f(&[
            (11, "00000000000000334112"),
            (41, "00000000000000334096"),
            (54, "2"),
            (55, "FOXB"),
        ]);
        session.send_with(b"F", &[], &cancel, 2);
        let ask = f(&[(11, "00000000000000334096"), (54, "2"), (55, "FOXB")]);
        session.send_with(b"H", &[], &ask, 3);
        let sent = sent_in_store(session.store(), &inst);
        assert_eq!(
            sent.into_iter().collect::<Vec<_>>(),
            vec![(334_096, Some((1, Side::Sell as u8, 0))), (334_112, None)]
        );
        drop(session);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
