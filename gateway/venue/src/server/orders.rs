//! The matching application's side of one session: the counterparty's
//! ClOrdIDs (any FIX string) mapped to the matching engine's order ids, the
//! orders it was told about, and the reports that go back.
//!
//! ## Ids
//! Session `k` (0-based, in the config's order) gives its ClOrdIDs the ids
//! `(k + 1) << 40 | n`, `n` counting from 0 in the order it first saw them
//! ([`ClOrdIds`]), so a report the world produces names its session by its
//! id alone. An OrigClOrdID the session never saw gets the session's highest
//! id, which no order has: the matching engine answers a cancel reject, and the
//! text the counterparty sent is kept with the request to be echoed.
//!
//! ## Duplicates
//! A ClOrdID is accepted once: a second order with a ClOrdID the session has
//! seen (in this process or in its store) is rejected (OrdRejReason 6), unless
//! it is a resend (PossDupFlag or PossResend), which is ignored as handled.

use foxtrot_engine::format::fix::tags;
use foxtrot_engine::records::{
    ExecKind, ExecReport, Header, Kind, MassCancelScope, OrdType, Order, OrderAction, Side, VenueReject,
};
use foxtrot_fix::app::{
    avg_px_scaled, order_from_fix, report_purpose, write_exec_body, ClOrdIdMap, Echo, Instruments, ReportPurpose,
    AVG_PX_EXTRA_DECIMALS,
};
use foxtrot_fix::clordid::ClOrdIds;
use foxtrot_fix::decode::{FixDecoder, FixError, FixMessage};
use foxtrot_fix::fields::Fields;
use foxtrot_fix::session::{BusinessReason, Session, Status};
use foxtrot_fix::store::JournalStore;
use std::collections::BTreeMap;

/// Bits of an id below its session's number.
const ID_BITS: u32 = 40;
/// ClOrdIDs a session may use in one process (an arena of at most this many
/// times the longest ClOrdID; address space until used).
const MAX_IDS: usize = 1 << 20;

/// The session an order id belongs to.
pub(crate) fn session_of(id: u64) -> Option<usize> {
    ((id >> ID_BITS) as usize).checked_sub(1)
}

/// One order the session was told about.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnOrder {
    pub instrument: u32,
    pub side: Side,
    pub qty: i64,
    pub cum: i64,
    /// Σ LastQty × LastPx of its fills (with the order it replaced), in
    /// quantity and price units: its AvgPx is this over `cum`.
    pub notional: i128,
    pub open: bool,
    pub venue_id: u64,
}

/// A cancel or replace in flight: what its answer echoes.
#[derive(Clone, Debug)]
struct Request {
    response_to: u8,
    orig_text: Vec<u8>,
}

/// The highest of what a session's store says the venue sent, which a
/// restarted venue carries on after.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Restored {
    /// ExecID (numbers every report).
    pub exec_id: u64,
    /// OrderID (names an order for the session's whole life).
    pub order_id: u64,
    /// TransactTime, nanoseconds since the epoch.
    pub transact_time: u64,
}

/// The matching application's state for one session.
pub(crate) struct SessionOrders {
    pub ids: ClOrdIds,
    unknown: u64,
    /// Orders reported to the counterparty, by id.
    pub known: BTreeMap<u64, OwnOrder>,
    requests: BTreeMap<u64, Request>,
    /// Execution reports and cancel rejects sent (first time).
    pub sent: u64,
    /// The body of the report being written (kept: no allocation per report).
    body: Vec<u8>,
}

/// What an order message came to.
#[derive(Debug)]
pub(crate) enum Intake {
    /// For the matching engine.
    Order(Order),
    /// A resend of an order already handled: ignored.
    PossDup,
    /// A ClOrdID seen before: rejected here (unless the session is closing).
    Duplicate,
    /// An order that arrived once the session was closing (a Logout sent or
    /// received): the peer reads nothing more, so it is neither taken nor
    /// answered — an answer would be lost, and counted as told.
    Closing,
    /// An order that cannot go to the book (unknown symbol, missing price…):
    /// answered here.
    Answered,
    /// A new order or replacement refused because the session's store can
    /// no longer record (its reports could not be resent after a restart):
    /// answered here. Cancels still go to the book: they only take risk away.
    Unrecorded,
}

/// An OrderMassCancelRequest (35=q) taken: the cancels of the session's
/// open orders it covers, for the matching engine, all under its ClOrdID.
#[derive(Debug)]
pub(crate) struct MassCancel {
    /// The request's id.
    pub cl: u64,
    /// Its instrument (MassCancelRequestType 1), or none (7: all).
    pub instrument: Option<u32>,
    /// One cancel per open order it covers, oldest first.
    pub cancels: Vec<Order>,
}

/// What an OrderMassCancelRequest came to.
#[derive(Debug)]
pub(crate) enum MassIntake {
    /// For the matching engine; [`SessionOrders::mass_report`] answers it after.
    Cancel(MassCancel),
    /// A resend of a request already handled: ignored.
    PossDup,
    /// A ClOrdID seen before: refused here (unless the session is closing).
    Duplicate,
    /// Arrived once the session was closing: neither taken nor answered.
    Closing,
    /// Refused here (an unknown symbol, a request type not supported, a
    /// ClOrdID too long): answered with MassCancelResponse 0.
    Refused,
}

/// A request, before it is read: new to the session; a resend (PossDup or
/// PossResend) of one handled, ignored; a ClOrdID seen before, refused —
/// `answer`ed unless the session is closing; or, new, arriving once the
/// session is closing, neither taken nor answered.
enum Before {
    Fresh,
    PossDup,
    Duplicate { answer: bool },
    Closing,
}

struct Ids<'a> {
    ids: &'a mut ClOrdIds,
    unknown: u64,
}

impl ClOrdIdMap for Ids<'_> {
    fn resolve(&mut self, text: &[u8]) -> Option<u64> {
        self.ids.intern(text).ok().map(|(id, _)| id)
    }
    fn resolve_orig(&mut self, text: &[u8]) -> Option<u64> {
        (text.len() <= 256).then(|| self.ids.get(text).unwrap_or(self.unknown))
    }
}

impl SessionOrders {
    /// The state of session `k`, whose ClOrdIDs are at most `max_len` bytes.
    pub(crate) fn new(k: usize, max_len: usize) -> Self {
        let base = (k as u64 + 1) << ID_BITS;
        SessionOrders {
            ids: ClOrdIds::new(base, MAX_IDS, max_len),
            unknown: base | ((1 << ID_BITS) - 1),
            known: BTreeMap::new(),
            requests: BTreeMap::new(),
            sent: 0,
            body: Vec::with_capacity(512),
        }
    }

    /// Rebuilds what the session's store says it reported: the ClOrdIDs, and
    /// which orders it left open; returns the highest ids and time it sent.
    pub(crate) fn restore(&mut self, store: &JournalStore, inst: &Instruments) -> Restored {
        let mut dec = FixDecoder::new();
        let mut last = Restored::default();
        for (_, msg) in store.sent() {
            let Ok(m) = dec.decode(msg) else { continue };
            let id = |tag| m.u64(tag).ok().flatten().unwrap_or(0);
            last.exec_id = last.exec_id.max(id(tags::EXEC_ID));
            last.order_id = last.order_id.max(id(tags::ORDER_ID));
            if let Some(t) = m
                .get(tags::TRANSACT_TIME)
                .and_then(foxtrot_fix::app::parse_utc_timestamp)
            {
                last.transact_time = last.transact_time.max(t);
            }
            // A status answer (ExecType I; in FIX 4.2 ExecTransType 3)
            // repeats what the order's reports said, without its quantity
            // (OrderQty is not one of its fields): read as a report it left
            // the order's quantity 0 after a restart (LeavesQty then negative
            // in later answers, a restart cancel reporting OrderQty 0), and
            // made a ClOrdID never sent "seen".
            if m.msg_type() != b"8" || report_purpose(&m) == ReportPurpose::Status {
                continue;
            }
            let Some(Ok((cl, _))) = m.get(tags::CL_ORD_ID).map(|t| self.ids.intern(t)) else {
                continue;
            };
            let Some((i, _, qd)) = m.get(tags::SYMBOL).and_then(|s| inst.find(s)) else {
                continue;
            };
            let status = m.char(tags::ORD_STATUS).ok().flatten().unwrap_or(b'8');
            let cum = m.fixed(tags::CUM_QTY, qd).ok().flatten().unwrap_or(0);
            // AvgPx as written, with the decimals it was written with.
            let pd = inst.decimals(i).map_or(0, |d| d.0);
            let avg = m
                .fixed(tags::AVG_PX, pd + AVG_PX_EXTRA_DECIMALS)
                .ok()
                .flatten()
                .unwrap_or(0);
            self.known.insert(
                cl,
                OwnOrder {
                    instrument: i,
                    side: if m.get(tags::SIDE) == Some(b"2") {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    qty: m.fixed(tags::ORDER_QTY, qd).ok().flatten().unwrap_or(0),
                    cum,
                    notional: avg as i128 * cum as i128 / 10i128.pow(AVG_PX_EXTRA_DECIMALS as u32),
                    open: matches!(status, b'0' | b'1' | b'5' | b'6' | b'A' | b'E'),
                    venue_id: m.u64(tags::ORDER_ID).ok().flatten().unwrap_or(0),
                },
            );
            // A replace or cancel report closes the order it names.
            if matches!(m.get(tags::EXEC_TYPE), Some(b"5" | b"4")) {
                if let Some(orig) = m.get(tags::ORIG_CL_ORD_ID).and_then(|t| self.ids.get(t)) {
                    if let Some(o) = self.known.get_mut(&orig) {
                        o.open = false;
                    }
                }
            }
        }
        last
    }

    /// What a request's ClOrdID and the session's state say before it is
    /// read: see [`Before`].
    fn before(&self, m: &FixMessage<'_>, session: &Session<JournalStore>) -> Before {
        let resend = m.get(tags::POSS_DUP_FLAG) == Some(b"Y") || m.get(tags::POSS_RESEND) == Some(b"Y");
        let closing = session.status() != Status::Active;
        if self.ids.get(m.get(tags::CL_ORD_ID).unwrap_or(b"")).is_some() {
            if resend {
                return Before::PossDup;
            }
            return Before::Duplicate { answer: !closing };
        }
        if closing {
            Before::Closing
        } else {
            Before::Fresh
        }
    }

    /// Reads an order message (`D`, `F`, `G`) the session accepted, at
    /// control time `now`; answers it itself when it cannot go to the book.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn intake(
        &mut self,
        raw: &[u8],
        m: &FixMessage<'_>,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        now: u64,
        wall: u64,
    ) -> Intake {
        let cl_text = m.get(tags::CL_ORD_ID).unwrap_or(b"");
        match self.before(m, session) {
            Before::Fresh => {}
            Before::PossDup => return Intake::PossDup,
            Before::Closing => return Intake::Closing,
            Before::Duplicate { answer: false } => return Intake::Duplicate,
            Before::Duplicate { answer: true } => {
                // Not tracked: the ClOrdID belongs to the first order.
                let mut e = ExecReport::new(ExecKind::Rejected, u32::MAX, side_of(m), now);
                e.reason = VenueReject::DuplicateClOrdId as u8;
                let echo = Echo {
                    cl_ord_id: cl_text,
                    orig_cl_ord_id: m.get(tags::ORIG_CL_ORD_ID).unwrap_or(b""),
                    symbol: m.get(tags::SYMBOL),
                    text: Some(b"duplicate ClOrdID"),
                    response_to: 0,
                    avg_px: None,
                };
                self.send_report(&e, inst, session, exec_id, &echo, wall);
                return Intake::Duplicate;
            }
        }
        if session.store().error().is_some() && matches!(m.msg_type(), b"D" | b"G") {
            let text = b"the venue cannot record orders now (its session store failed)";
            self.answer_rejected(m, VenueReject::Unrecorded, text, inst, session, exec_id, now, wall);
            return Intake::Unrecorded;
        }
        let mut ids = Ids {
            ids: &mut self.ids,
            unknown: self.unknown,
        };
        match order_from_fix(m, inst, now, &mut ids) {
            Ok(o) => {
                if o.action() != Some(OrderAction::New) {
                    self.requests.insert(
                        o.cl_ord_id,
                        Request {
                            response_to: if o.action() == Some(OrderAction::Replace) {
                                b'2'
                            } else {
                                b'1'
                            },
                            orig_text: m.get(tags::ORIG_CL_ORD_ID).unwrap_or(b"").to_vec(),
                        },
                    );
                }
                Intake::Order(o)
            }
            Err(e) => {
                self.refuse(raw, m, &e, inst, session, exec_id, now, wall);
                Intake::Answered
            }
        }
    }

    /// Reads an OrderMassCancelRequest (35=q, FIX 4.4) the session accepted:
    /// MassCancelRequestType 1 (the orders of its Symbol) or 7 (all the
    /// session's orders); refuses any other itself.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mass_intake(
        &mut self,
        m: &FixMessage<'_>,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        now: u64,
        wall: u64,
    ) -> MassIntake {
        let cl_text = m.get(tags::CL_ORD_ID).unwrap_or(b"");
        let before = self.before(m, session);
        let scope = match m.get(tags::MASS_CANCEL_REQUEST_TYPE) {
            Some(b"1") => MassCancelScope::Instrument,
            _ => MassCancelScope::All,
        };
        let mut refuse = |this: &mut Self, reason: VenueReject, text: &[u8]| {
            let mut e = ExecReport::new(ExecKind::MassCancelRefused, u32::MAX, Side::Buy, now);
            e.ord_type = scope as u8;
            e.reason = reason as u8;
            let echo = Echo {
                cl_ord_id: cl_text,
                symbol: m.get(tags::SYMBOL),
                text: Some(text),
                ..Echo::default()
            };
            this.send_report(&e, inst, session, exec_id, &echo, wall);
        };
        match before {
            Before::Fresh => {}
            Before::PossDup => return MassIntake::PossDup,
            Before::Closing => return MassIntake::Closing,
            Before::Duplicate { answer } => {
                if answer {
                    refuse(self, VenueReject::DuplicateClOrdId, b"duplicate ClOrdID");
                }
                return MassIntake::Duplicate;
            }
        }
        let instrument = match m.get(tags::MASS_CANCEL_REQUEST_TYPE) {
            Some(b"7") => None,
            Some(b"1") => match m.get(tags::SYMBOL).and_then(|s| inst.find(s)) {
                Some((i, _, _)) => Some(i),
                None => {
                    refuse(self, VenueReject::UnknownInstrument, b"unknown symbol");
                    return MassIntake::Refused;
                }
            },
            _ => {
                refuse(
                    self,
                    VenueReject::None,
                    b"MassCancelRequestType not supported (1, by symbol, and 7, all, are)",
                );
                return MassIntake::Refused;
            }
        };
        let Ok((cl, _)) = self.ids.intern(cl_text) else {
            refuse(self, VenueReject::None, b"ClOrdID too long, or too many");
            return MassIntake::Refused;
        };
        let cancels = self
            .known
            .iter()
            .filter(|(_, o)| o.open && instrument.is_none_or(|i| o.instrument == i))
            .map(|(&id, o)| Order {
                header: Header {
                    kind: Kind::Order as u8,
                    sub: OrderAction::Cancel as u8,
                    side: o.side as u8,
                    flags: OrdType::Limit as u8,
                    instrument: o.instrument,
                    ts_ns: now,
                    ..Header::default()
                },
                cl_ord_id: cl,
                orig_cl_ord_id: id,
                px: 0,
                qty: o.qty,
            })
            .collect();
        MassIntake::Cancel(MassCancel {
            cl,
            instrument,
            cancels,
        })
    }

    /// Answers mass cancel `mc` (once the matching engine has its cancels):
    /// an OrderMassCancelReport saying it was taken, and how many orders it
    /// cancelled.
    pub(crate) fn mass_report(
        &mut self,
        mc: &MassCancel,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        now: u64,
        wall: u64,
    ) {
        let mut e = ExecReport::new(ExecKind::MassCancelDone, mc.instrument.unwrap_or(0), Side::Buy, now);
        e.cl_ord_id = mc.cl;
        e.venue_order_id = mc.cl;
        e.ord_type = match mc.instrument {
            Some(_) => MassCancelScope::Instrument,
            None => MassCancelScope::All,
        } as u8;
        e.order_qty = mc.cancels.len() as i64;
        let cl = self.ids.text(mc.cl).unwrap_or(b"").to_vec();
        let echo = Echo {
            cl_ord_id: &cl,
            ..Echo::default()
        };
        self.send_report(&e, inst, session, exec_id, &echo, wall);
    }

    /// Answers an order foxtrot cannot take: a BusinessMessageReject for a
    /// conditionally required field missing (a limit order's price, say), else
    /// an ExecutionReport (new orders) or OrderCancelReject (cancels, replaces)
    /// saying why.
    #[allow(clippy::too_many_arguments)]
    fn refuse(
        &mut self,
        raw: &[u8],
        m: &FixMessage<'_>,
        e: &FixError,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        now: u64,
        wall: u64,
    ) {
        if let FixError::Missing { tag } = *e {
            session.business_reject(raw, BusinessReason::ConditionallyRequiredFieldMissing, Some(tag), wall);
            return;
        }
        let text = match e.tag() {
            Some(tags::SYMBOL) => "unknown symbol".to_string(),
            Some(tags::ORD_TYPE) => "unsupported order type".to_string(),
            Some(tags::CL_ORD_ID | tags::ORIG_CL_ORD_ID) => "ClOrdID too long, or too many".to_string(),
            _ => e.to_string(),
        };
        let reason = match e.tag() {
            Some(tags::SYMBOL) => VenueReject::UnknownInstrument,
            _ => VenueReject::InvalidPriceOrQty,
        };
        self.answer_rejected(m, reason, text.as_bytes(), inst, session, exec_id, now, wall);
    }

    /// Answers `m` itself with `reason` and `text`: an ExecutionReport
    /// `Rejected` for a new order, an OrderCancelReject for a cancel or a
    /// replace.
    #[allow(clippy::too_many_arguments)]
    fn answer_rejected(
        &mut self,
        m: &FixMessage<'_>,
        reason: VenueReject,
        text: &[u8],
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        now: u64,
        wall: u64,
    ) {
        let kind = if m.msg_type() == b"D" {
            ExecKind::Rejected
        } else {
            ExecKind::CancelRejected
        };
        let mut r = ExecReport::new(kind, u32::MAX, side_of(m), now);
        r.reason = reason as u8;
        // A refused cancel or replace of a working order says so: its OrderID,
        // quantities and OrdStatus New or PartiallyFilled (a counterparty reads
        // Rejected, 8, as a dead order).
        let orig = m.get(tags::ORIG_CL_ORD_ID).and_then(|t| self.ids.get(t));
        if let Some(o) = orig
            .and_then(|id| self.known.get(&id))
            .filter(|o| o.open && kind == ExecKind::CancelRejected)
        {
            r.venue_order_id = o.venue_id;
            r.order_qty = o.qty;
            r.cum_qty = o.cum;
            r.leaves_qty = o.qty - o.cum;
        }
        let echo = Echo {
            cl_ord_id: m.get(tags::CL_ORD_ID).unwrap_or(b""),
            orig_cl_ord_id: m.get(tags::ORIG_CL_ORD_ID).unwrap_or(b""),
            symbol: m.get(tags::SYMBOL),
            text: Some(text),
            response_to: if m.msg_type() == b"G" { b'2' } else { b'1' },
            avg_px: None,
        };
        self.send_report(&r, inst, session, exec_id, &echo, wall);
    }

    /// Reports `e` (of one of this session's orders) to the counterparty, with
    /// the ClOrdIDs it used, and tracks the order's state from it.
    pub(crate) fn report(
        &mut self,
        e: &ExecReport,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        text: Option<&[u8]>,
        wall: u64,
    ) {
        let kind = e.kind();
        if kind.is_some_and(ExecKind::is_mass_cancel) {
            // Names the request, no order: nothing to track.
            let cl = self.ids.text(e.cl_ord_id).unwrap_or(b"").to_vec();
            let echo = Echo {
                cl_ord_id: &cl,
                ..Echo::default()
            };
            return self.send_report(e, inst, session, exec_id, &echo, wall);
        }
        let answers_request = matches!(
            kind,
            Some(ExecKind::Replaced | ExecKind::Canceled | ExecKind::CancelRejected)
        );
        let request = if answers_request {
            self.requests.remove(&e.cl_ord_id)
        } else {
            None
        };
        let cl = self.ids.text(e.cl_ord_id).unwrap_or(b"").to_vec();
        let orig = match (e.orig_cl_ord_id, &request) {
            (0, _) => Vec::new(),
            (o, r) => self
                .ids
                .text(o)
                .map(<[u8]>::to_vec)
                .or_else(|| r.as_ref().map(|r| r.orig_text.clone()))
                .unwrap_or_default(),
        };
        // The order's fills so far: a replacement's start with those of the
        // order it replaced, a cancel's report (under the cancel request's
        // ClOrdID) with those of the order it cancelled.
        let before = match self.known.get(&e.cl_ord_id) {
            Some(o) => o.notional,
            None if matches!(kind, Some(ExecKind::Replaced | ExecKind::Canceled)) => {
                self.known.get(&e.orig_cl_ord_id).map_or(0, |o| o.notional)
            }
            None => 0,
        };
        let notional = before
            + if e.last_qty > 0 {
                e.last_qty as i128 * e.last_px as i128
            } else {
                0
            };
        let echo = Echo {
            cl_ord_id: &cl,
            orig_cl_ord_id: &orig,
            symbol: None,
            text,
            response_to: request.as_ref().map_or(b'1', |r| r.response_to),
            avg_px: (kind != Some(ExecKind::CancelRejected)).then(|| avg_px_scaled(notional, e.cum_qty)),
        };
        self.send_report(e, inst, session, exec_id, &echo, wall);
        if kind == Some(ExecKind::CancelRejected) {
            return;
        }
        let open = !matches!(
            kind,
            Some(ExecKind::Fill | ExecKind::Canceled | ExecKind::Rejected | ExecKind::Replaced)
        );
        let entry = self.known.entry(e.cl_ord_id).or_insert(OwnOrder {
            instrument: e.header.instrument,
            side: e.side().unwrap_or(Side::Buy),
            qty: e.order_qty,
            cum: 0,
            notional: 0,
            open,
            venue_id: e.venue_order_id,
        });
        entry.cum = e.cum_qty;
        entry.notional = notional;
        entry.open = open;
        entry.qty = e.order_qty;
        if kind == Some(ExecKind::Replaced) {
            // The replacement lives on under the new ClOrdID.
            entry.open = e.leaves_qty > 0;
        }
        if matches!(kind, Some(ExecKind::Replaced | ExecKind::Canceled)) {
            // The order a replace or cancel names is over (a cancel's report
            // comes under the cancel request's ClOrdID): a restarted venue
            // must not cancel it again.
            if let Some(o) = self.known.get_mut(&e.orig_cl_ord_id) {
                o.open = false;
            }
        }
    }

    fn send_report(
        &mut self,
        e: &ExecReport,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        echo: &Echo,
        wall: u64,
    ) {
        let fix42 = session.settings().begin_string == "FIX.4.2";
        self.body.clear();
        let mt = write_exec_body(e, inst, *exec_id, fix42, echo, &mut self.body);
        *exec_id += 1;
        session.send_body(mt.as_bytes(), &[], &self.body, wall);
        self.sent += 1;
    }

    /// Answers an OrderStatusRequest (35=H) with an ExecutionReport of
    /// ExecType `I` (in FIX 4.2, ExecTransType `3` and the order's state as
    /// ExecType): the order's status, cumulative and leaves quantity as this
    /// session reported them; OrdStatus `8` (Rejected) with Text "unknown order"
    /// for a ClOrdID it never reported on. Returns whether it knew the order.
    pub(crate) fn status(
        &mut self,
        m: &FixMessage<'_>,
        inst: &Instruments,
        session: &mut Session<JournalStore>,
        exec_id: &mut u64,
        wall: u64,
    ) -> bool {
        use foxtrot_engine::format::decimal::to_text;
        let fix42 = session.settings().begin_string == "FIX.4.2";
        let cl = m.get(tags::CL_ORD_ID).unwrap_or(b"");
        let own = self.ids.get(cl).and_then(|id| self.known.get(&id)).copied();
        let sym = m.get(tags::SYMBOL).unwrap_or(b"").to_vec();
        let side = m.get(tags::SIDE).unwrap_or(b"1").to_vec();
        let (pd, qd) = own.and_then(|o| inst.decimals(o.instrument)).unwrap_or((0, 0));
        let (order_id, status, cum, leaves) = match own {
            Some(o) => {
                let status = match (o.open, o.cum) {
                    (true, 0) => "0",
                    (true, _) => "1",
                    (false, c) if c >= o.qty => "2",
                    (false, _) => "4",
                };
                let leaves = if o.open { o.qty - o.cum } else { 0 };
                (o.venue_id.to_string(), status, o.cum, leaves)
            }
            None => ("NONE".to_string(), "8", 0, 0),
        };
        let mut f: Vec<(u32, Vec<u8>)> = vec![
            (
                tags::AVG_PX,
                to_text(
                    own.map_or(0, |o| avg_px_scaled(o.notional, o.cum)),
                    pd + AVG_PX_EXTRA_DECIMALS,
                )
                .into_bytes(),
            ),
            (tags::CL_ORD_ID, cl.to_vec()),
            (tags::CUM_QTY, to_text(cum, qd).into_bytes()),
            (tags::EXEC_ID, exec_id.to_string().into_bytes()),
        ];
        *exec_id += 1;
        if fix42 {
            f.push((tags::EXEC_TRANS_TYPE, b"3".to_vec()));
        }
        f.push((tags::ORDER_ID, order_id.into_bytes()));
        f.push((tags::ORD_STATUS, status.as_bytes().to_vec()));
        f.push((tags::SIDE, side));
        f.push((tags::SYMBOL, sym));
        if own.is_none() {
            f.push((tags::TEXT, b"unknown order".to_vec()));
        }
        // FIX 4.2 has no ExecType I: its status answer is ExecTransType 3
        // with the order's state as ExecType.
        f.push((tags::EXEC_TYPE, if fix42 { status } else { "I" }.as_bytes().to_vec()));
        f.push((tags::LEAVES_QTY, to_text(leaves, qd).into_bytes()));
        let refs: Vec<(u32, &[u8])> = f.iter().map(|(t, v)| (*t, v.as_slice())).collect();
        session.send_with(b"8", &[], &refs, wall);
        self.sent += 1;
        own.is_some()
    }

    /// Orders the store says are open, which a restarted venue's book no
    /// longer holds: (id, order).
    pub(crate) fn open_orders(&self) -> Vec<(u64, OwnOrder)> {
        self.known
            .iter()
            .filter(|(_, o)| o.open)
            .map(|(k, o)| (*k, *o))
            .collect()
    }
}

fn side_of(m: &FixMessage<'_>) -> Side {
    if m.get(tags::SIDE) == Some(b"2") {
        Side::Sell
    } else {
        Side::Buy
    }
}

/// Orders the store shows rejected as duplicate ClOrdIDs (OrdRejReason 6), over
/// every life of the venue that wrote it.
pub(crate) fn duplicates_in_store(store: &JournalStore) -> u64 {
    let mut dec = FixDecoder::new();
    let mut n = 0;
    for (_, msg) in store.sent() {
        let Ok(m) = dec.decode(msg) else { continue };
        if m.msg_type() == b"8" && m.get(tags::ORD_REJ_REASON) == Some(b"6") {
            n += 1;
        }
    }
    n
}

/// Fill reports in a session's store: (count, total quantity, turnover in
/// currency units — Σ LastQty × LastPx), with the net quantity per instrument
/// (buys positive) added into `net`, read from the fields that say so
/// (ExecType, LastQty, LastPx, Side, Symbol) whatever the ClOrdIDs are.
pub(crate) fn fills_in_store(store: &JournalStore, inst: &Instruments, net: &mut [i64]) -> (u64, i64, f64) {
    let mut dec = FixDecoder::new();
    let (mut n, mut qty, mut turnover) = (0u64, 0i64, 0f64);
    for (_, msg) in store.sent() {
        let Ok(m) = dec.decode(msg) else { continue };
        if m.msg_type() != b"8"
            || report_purpose(&m) != ReportPurpose::New
            || !matches!(m.get(tags::EXEC_TYPE), Some(b"1" | b"2" | b"F"))
        {
            continue;
        }
        let Some((i, _, qd)) = m.get(tags::SYMBOL).and_then(|s| inst.find(s)) else {
            continue;
        };
        let Ok(Some(q)) = m.fixed(tags::LAST_QTY, qd) else {
            continue;
        };
        n += 1;
        qty += q;
        let pd = inst.decimals(i).map_or(0, |d| d.0);
        if let Ok(Some(px)) = m.fixed(tags::LAST_PX, pd) {
            turnover += q as f64 * px as f64 / 10f64.powi(i32::from(pd) + i32::from(qd));
        }
        if let Some(x) = net.get_mut(i as usize) {
            *x += if m.get(tags::SIDE) == Some(b"2") { -q } else { q };
        }
    }
    (n, qty, turnover)
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_fix::session::{Role, SessionSettings};

    /// The tests trade the default configuration's FOXB (instrument 1: four
    /// price decimals, whole shares).
    const FOXB: u32 = 1;

    fn instruments() -> Instruments {
        let cfg = foxtrot_engine::Config::default_sim();
        assert_eq!(cfg.instruments[FOXB as usize].symbol, "FOXB");
        Instruments::new(&cfg.instruments)
    }

    /// AvgPx (6) of the last message in `out`.
    fn last_avg_px(out: &[u8]) -> String {
        let m = out.split(|&c| c == 1).collect::<Vec<_>>();
        let at = m.iter().rposition(|f| f.starts_with(b"6=")).expect("an AvgPx");
        String::from_utf8_lossy(&m[at][2..]).into_owned()
    }

    /// Orders that arrive once the venue's side of the session is closing (its
    /// Logout sent) are classified but never answered — the peer reads nothing
    /// after a Logout, so an answer would be lost and counted as told (CI
    /// once counted refusals sent so as delivered) — and never taken.
    #[test]
    fn orders_after_the_logout_are_neither_answered_nor_taken() {
        use foxtrot_fix::framing::split_frames;
        use foxtrot_fix::session::MemoryStore;
        let dir = std::env::temp_dir().join(format!("foxtrot-venue-orders-closing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let inst = instruments();
        let t0 = 1_767_623_400_000_000_000u64;
        let mut venue = Session::new(
            SessionSettings::new("FIX.4.4", "VENUE", "FOXTROT"),
            Role::Acceptor,
            JournalStore::open(&dir).unwrap(),
        );
        let mut peer = Session::new(
            SessionSettings::new("FIX.4.4", "FOXTROT", "VENUE"),
            Role::Initiator,
            MemoryStore::default(),
        );
        // Everything one side queued, handed to the other; the messages the
        // venue's session passes on to the application.
        fn deliver<A: foxtrot_fix::session::MessageStore, B: foxtrot_fix::session::MessageStore>(
            from: &mut Session<A>,
            to: &mut Session<B>,
            now: u64,
        ) -> Vec<Vec<u8>> {
            let bytes = std::mem::take(from.outbox());
            let mut app = Vec::new();
            split_frames(&bytes, |m| {
                if to.on_message(m, now) == foxtrot_fix::session::Inbound::App {
                    app.push(m.to_vec());
                }
            });
            app
        }
        peer.start(t0);
        for _ in 0..3 {
            deliver(&mut peer, &mut venue, t0);
            deliver(&mut venue, &mut peer, t0);
        }
        assert_eq!(venue.status(), Status::Active);
        let order = |peer: &mut Session<MemoryStore>, cl: &str| {
            peer.send(
                "D",
                &[
                    (11, cl),
                    (55, "FOXB"),
                    (54, "1"),
                    (38, "10"),
                    (40, "2"),
                    (44, "24.91"),
                    (60, "20260105-14:30:00.000"),
                ],
                t0,
            );
        };
        let mut orders = SessionOrders::new(0, 20);
        let (mut dec, mut exec_id) = (FixDecoder::new(), 1);
        let mut intake = |venue: &mut Session<JournalStore>, raw: &[u8]| {
            let m = dec.decode(raw).unwrap();
            orders.intake(raw, &m, &inst, venue, &mut exec_id, t0, t0)
        };
        order(&mut peer, "1");
        let raw = deliver(&mut peer, &mut venue, t0);
        assert!(matches!(intake(&mut venue, &raw[0]), Intake::Order(_)));
        venue.logout("the day ends", t0);
        venue.outbox().clear();
        // Crossing the Logout: a new order and a duplicate of the first.
        order(&mut peer, "2");
        order(&mut peer, "1");
        let raw = deliver(&mut peer, &mut venue, t0);
        assert_eq!(raw.len(), 2, "both reach the application");
        assert!(matches!(intake(&mut venue, &raw[0]), Intake::Closing));
        assert!(matches!(intake(&mut venue, &raw[1]), Intake::Duplicate));
        assert!(
            venue.outbox().is_empty(),
            "answered after the Logout: {}",
            String::from_utf8_lossy(venue.outbox())
        );
        drop(venue);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A restarted venue rebuilds its orders from the reports in its store;
    /// a status answer there (no OrderQty, ExecType I) changes nothing: the
    /// open order keeps its quantity and fills, and its restart cancel and
    /// later answers say them.
    #[test]
    fn a_status_answer_in_the_store_leaves_the_restored_order_as_its_reports_left_it() {
        let dir = std::env::temp_dir().join(format!("foxtrot-venue-orders-restore-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let inst = instruments();
        let settings = SessionSettings::new("FIX.4.4", "VENUE", "FOXTROT");
        let mut session = Session::new(settings.clone(), Role::Acceptor, JournalStore::open(&dir).unwrap());
        let mut orders = SessionOrders::new(0, 20);
        let (cl, _) = orders.ids.intern(b"00000000000000000016").unwrap();
        let mut exec_id = 1;
        let mut e = ExecReport::new(ExecKind::New, FOXB, Side::Sell, 1);
        (e.cl_ord_id, e.order_qty, e.order_px, e.leaves_qty) = (cl, 50, 249_100, 50);
        e.venue_order_id = (5 << 32) | 2;
        orders.report(&e, &inst, &mut session, &mut exec_id, None, 1);
        e.header.sub = ExecKind::PartialFill as u8;
        (e.last_qty, e.last_px, e.cum_qty, e.leaves_qty) = (20, 249_100, 20, 30);
        orders.report(&e, &inst, &mut session, &mut exec_id, None, 1);
        // The answer to a status request about it, as `status` writes one.
        let f = |pairs: &[(u32, &'static str)]| pairs.iter().map(|&(t, v)| (t, v.as_bytes())).collect::<Vec<_>>();
        let answer = f(&[
            (6, "24.91000000"),
            (11, "00000000000000000016"),
            (14, "20"),
            (17, "9"),
            (37, "21474836482"),
            (39, "1"),
            (54, "2"),
            (55, "FOXB"),
            (150, "I"),
            (151, "30"),
        ]);
        session.send_with(b"8", &[], &answer, 2);
        drop(session);
        let store = JournalStore::open(&dir).unwrap();
        let mut restored = SessionOrders::new(0, 20);
        let last = restored.restore(&store, &inst);
        let open = restored.open_orders();
        assert_eq!(open.len(), 1);
        let o = open[0].1;
        assert_eq!((o.qty, o.cum, o.notional), (50, 20, 20 * 249_100));
        assert_eq!(last.exec_id, 9, "the answer's ExecID is still never reused");
        assert_eq!(last.order_id, (5 << 32) | 2, "nor the order's OrderID");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A cancel's report comes under the cancel request's ClOrdID: its AvgPx
    /// is the average of the fills of the order it cancelled (it said 0, and
    /// an engine that lost a fill before the cancel recovered it at price 0).
    /// Hand-computed: a sell of 50 fills 39 @ 24.91 and 1 @ 24.92, then is
    /// cancelled: AvgPx (39 × 24.91 + 24.92) / 40 = 24.91025.
    #[test]
    fn a_cancel_report_carries_the_average_of_the_order_it_cancelled() {
        let dir = std::env::temp_dir().join(format!("foxtrot-venue-orders-avg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = JournalStore::open(&dir).unwrap();
        let mut session = Session::new(
            SessionSettings::new("FIX.4.4", "VENUE", "FOXTROT"),
            Role::Acceptor,
            store,
        );
        let inst = instruments();
        let mut orders = SessionOrders::new(0, 20);
        let mut exec_id = 1;
        let mut e = ExecReport::new(ExecKind::New, FOXB, Side::Sell, 1);
        (e.cl_ord_id, e.order_qty, e.order_px, e.leaves_qty) = (16, 50, 249_100, 50);
        orders.report(&e, &inst, &mut session, &mut exec_id, None, 1);
        for (qty, px, cum) in [(39, 249_100, 39), (1, 249_200, 40)] {
            e.header.sub = ExecKind::PartialFill as u8;
            (e.last_qty, e.last_px, e.cum_qty, e.leaves_qty) = (qty, px, cum, 50 - cum);
            orders.report(&e, &inst, &mut session, &mut exec_id, None, 1);
        }
        assert_eq!(last_avg_px(session.outbox()), "24.91025000");
        let mut c = ExecReport::new(ExecKind::Canceled, FOXB, Side::Sell, 2);
        (c.cl_ord_id, c.orig_cl_ord_id, c.order_qty, c.order_px, c.cum_qty) = (32, 16, 50, 249_100, 40);
        orders.report(&c, &inst, &mut session, &mut exec_id, None, 2);
        let out = session.outbox().clone();
        assert!(out.windows(5).any(|w| w == b"150=4"), "a cancel report");
        assert_eq!(last_avg_px(&out), "24.91025000");
        drop(session);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
