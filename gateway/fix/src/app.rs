//! FIX application messages ↔ the engine's records.
//!
//! - Orders the engine sends (NewOrderSingle `D`, OrderCancelRequest `F`,
//!   OrderCancelReplaceRequest `G`) decode back into [`Order`] records — what a
//!   venue reads, and how the round-trip property of the encoder is tested.
//! - What a venue answers (ExecutionReport `8`, OrderCancelReject `9`) decodes into
//!   [`ExecReport`] records, which re-enter the engine through ingest.
//!
//! Prices and quantities are read exactly at the instrument's decimals (a value
//! with more precision is an error naming the tag); the instrument comes from
//! Symbol (55). FIX 4.2 and 4.4 differ here only in ExecType: 4.2's `1`/`2`
//! (partial fill / fill) and 4.4's `F` (trade, with OrdStatus telling partial from
//! full) both become fills.

use super::decode::{digit_pairs, eight_digits, parse_u64, FixError};
use super::fields::Fields;
use foxtrot_engine::format::calendar::days_from_civil_u;
use foxtrot_engine::format::fix::tags;
use foxtrot_engine::records::{
    exec_key, ExecKind, ExecReport, Header, InstrumentSpec, Kind, MassCancelScope, OrdType, Order, OrderAction, Side,
    VenueReject, LIQUIDITY_ADDED, LIQUIDITY_REMOVED,
};

/// Symbol → (instrument index, price decimals, quantity decimals).
#[derive(Clone, Debug, Default)]
pub struct Instruments {
    list: Vec<(Vec<u8>, u8, u8)>,
}

impl Instruments {
    /// From the config's instruments, in order.
    pub fn new(specs: &[InstrumentSpec]) -> Self {
        Instruments {
            list: specs
                .iter()
                .map(|s| (s.symbol.as_bytes().to_vec(), s.price_decimals, s.qty_decimals))
                .collect(),
        }
    }

    /// The instrument of `symbol`: (index, price decimals, quantity decimals).
    #[inline]
    pub fn find(&self, symbol: &[u8]) -> Option<(u32, u8, u8)> {
        self.list
            .iter()
            .position(|(s, _, _)| s == symbol)
            .map(|i| (i as u32, self.list[i].1, self.list[i].2))
    }

    /// How many instruments there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The symbol of instrument `i`.
    pub fn symbol(&self, i: u32) -> Option<&[u8]> {
        self.list.get(i as usize).map(|(s, _, _)| s.as_slice())
    }

    /// (price, quantity) decimals of instrument `i`.
    pub fn decimals(&self, i: u32) -> Option<(u8, u8)> {
        self.list.get(i as usize).map(|(_, p, q)| (*p, *q))
    }
}

#[inline]
fn instrument<'a>(m: &impl Fields<'a>, inst: &Instruments) -> Result<(u32, u8, u8), FixError> {
    inst.find(m.req(tags::SYMBOL)?)
        .ok_or_else(|| m.bad(tags::SYMBOL, "known symbol"))
}

#[inline]
fn side<'a>(m: &impl Fields<'a>) -> Result<Side, FixError> {
    match m.char(tags::SIDE)? {
        Some(b'1') => Ok(Side::Buy),
        Some(b'2') => Ok(Side::Sell),
        Some(_) => Err(m.bad(tags::SIDE, "side (1 or 2)")),
        None => Err(FixError::Missing { tag: tags::SIDE }),
    }
}

/// Parses a UTCTimestamp (`YYYYMMDD-HH:MM:SS[.fff[fff[fff]]]`) as ns since the epoch.
/// Every component is at a fixed position, so each part is one word: the date's
/// eight digits, the time's eight bytes (colons checked, then taken for zeros),
/// and the fraction's last eight bytes (the ones before it taken for zeros);
/// each word's digits are checked at once and combined in pairs.
#[inline]
pub fn parse_utc_timestamp(b: &[u8]) -> Option<u64> {
    let len = b.len();
    let (Some(date), Some(time)) = (b.first_chunk::<8>(), b.get(9..17)) else {
        return None;
    };
    if b[8] != b'-' || time[2] != b':' || time[5] != b':' {
        return None;
    }
    // Pairs of digits: the date's at bytes 0, 2, 4, 6 (YY, YY, MM, DD); the
    // time's at 0, 3, 6 (HH, MM, SS).
    let d = digit_pairs(u64::from_le_bytes(*date))?;
    let t = digit_pairs(u64::from_le_bytes([
        time[0], time[1], b'0', time[3], time[4], b'0', time[6], time[7],
    ]))?;
    let byte = |w: u64, i: u32| w >> (8 * i) & 0xFF;
    let (y, mo, day) = (byte(d, 0) * 100 + byte(d, 2), byte(d, 4), byte(d, 6));
    let (h, mi, s) = (byte(t, 0), byte(t, 3), byte(t, 6));
    let frac = match len {
        17 => 0,
        21 | 24 | 27 if b[17] == b'.' => {
            // The last eight bytes, those before the fraction's digits (3, 6,
            // or 8 of 9) taken as '0's; the scale to nanoseconds.
            let last = u64::from_le_bytes(*b.last_chunk::<8>()?);
            let (before, scale) = match len {
                21 => (u64::MAX >> 24, 1_000_000),
                24 => (u64::MAX >> 48, 1_000),
                _ => (0, 1),
            };
            let f = eight_digits(last & !before | 0x3030_3030_3030_3030 & before)?;
            let f = if len == 27 {
                let first = b[18].wrapping_sub(b'0');
                if first > 9 {
                    return None;
                }
                first as u64 * 100_000_000 + f
            } else {
                f
            };
            f * scale
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil_u(y, mo, day);
    let secs = days * 86_400 + (h * 3_600 + mi * 60 + s) as i64;
    u64::try_from(secs).ok()?.checked_mul(1_000_000_000)?.checked_add(frac)
}

/// A venue's order id as a number: its digits if it is one, else a fixed 64-bit
/// hash of its bytes, so any id the venue uses is stable. The hash takes eight
/// bytes per step (a multiply and a shift folding the high bits down), the
/// length first, so an id costs one or two dependent multiplies, not one per byte.
#[inline]
pub fn order_id(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = |h: u64, w: u64| {
        let h = (h ^ w).wrapping_mul(K);
        h ^ h >> 29
    };
    parse_u64(b).unwrap_or_else(|| {
        let mut chunks = b.chunks_exact(8);
        let mut h = step(0xcbf2_9ce4_8422_2325, b.len() as u64);
        for c in &mut chunks {
            h = step(h, u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if rest.is_empty() {
            return h;
        }
        let w = rest.iter().rev().fold(0u64, |w, &c| w << 8 | c as u64);
        step(h, w)
    })
}

/// How the ClOrdIDs (and OrigClOrdIDs) of orders a venue receives become the
/// `u64` order ids of foxtrot's records.
pub trait ClOrdIdMap {
    /// The id of the ClOrdID `text`, or `None` if it cannot have one (too
    /// long, map full).
    fn resolve(&mut self, text: &[u8]) -> Option<u64>;
    /// The id of the OrigClOrdID `text` (by default as a ClOrdID).
    fn resolve_orig(&mut self, text: &[u8]) -> Option<u64> {
        self.resolve(text)
    }
}

/// ClOrdIDs that are decimal numbers, read as their own ids (foxtrot's
/// engine writes them so).
pub struct NumericIds;

impl ClOrdIdMap for NumericIds {
    fn resolve(&mut self, text: &[u8]) -> Option<u64> {
        parse_u64(text)
    }
}

impl ClOrdIdMap for crate::clordid::ClOrdIds {
    fn resolve(&mut self, text: &[u8]) -> Option<u64> {
        self.intern(text).ok().map(|(id, _)| id)
    }
}

/// Decodes an order (`D`, `F`, `G`) into an [`Order`], its ClOrdIDs through
/// `ids`; `ts_ns` becomes its header time (SendingTime is in the message too).
pub fn order_from_fix<'a>(
    m: &impl Fields<'a>,
    inst: &Instruments,
    ts_ns: u64,
    ids: &mut impl ClOrdIdMap,
) -> Result<Order, FixError> {
    let action = match m.msg_type() {
        b"D" => OrderAction::New,
        b"F" => OrderAction::Cancel,
        b"G" => OrderAction::Replace,
        _ => return Err(m.bad(tags::MSG_TYPE, "order message type (D, F or G)")),
    };
    let (i, pd, qd) = instrument(m, inst)?;
    let side = side(m)?;
    let ord_type = match (action, m.char(tags::ORD_TYPE)?) {
        (OrderAction::Cancel, _) => OrdType::Limit,
        (_, Some(b'1')) => OrdType::Market,
        (_, Some(b'2')) => OrdType::Limit,
        (_, Some(_)) => return Err(m.bad(tags::ORD_TYPE, "order type (1 or 2)")),
        (_, None) => return Err(FixError::Missing { tag: tags::ORD_TYPE }),
    };
    let cl = ids
        .resolve(m.req(tags::CL_ORD_ID)?)
        .ok_or_else(|| m.bad(tags::CL_ORD_ID, "ClOrdID (too long, or too many)"))?;
    let orig = if action == OrderAction::New {
        0
    } else {
        ids.resolve_orig(m.req(tags::ORIG_CL_ORD_ID)?)
            .ok_or_else(|| m.bad(tags::ORIG_CL_ORD_ID, "OrigClOrdID (too long, or too many)"))?
    };
    let qty = m
        .fixed(tags::ORDER_QTY, qd)?
        .ok_or(FixError::Missing { tag: tags::ORDER_QTY })?;
    let px = if ord_type == OrdType::Limit && action != OrderAction::Cancel {
        m.fixed(tags::PRICE, pd)?
            .ok_or(FixError::Missing { tag: tags::PRICE })?
    } else {
        0
    };
    Ok(Order {
        header: Header {
            kind: Kind::Order as u8,
            sub: action as u8,
            side: side as u8,
            flags: ord_type as u8,
            instrument: i,
            ts_ns,
            ..Header::default()
        },
        cl_ord_id: cl,
        orig_cl_ord_id: orig,
        px,
        qty,
    })
}

/// Decodes an ExecutionReport (`8`) or OrderCancelReject (`9`) into an
/// [`ExecReport`] stamped with the receive time `ts_ns`. `Ok(None)` for reports
/// that change nothing the engine tracks (order status, restatement, done for day).
/// CxlRejReason (102) of a refused cancel/replace whose reason is `reason` (a
/// [`VenueReject`] code): `1` (unknown order) when the order is not working —
/// filled, cancelled or never known — and otherwise a reason that does not say
/// the order is gone (`99` Other; FIX 4.2, which has no `99`, `2` Broker
/// option): a replace refused for its price leaves the order working, and a
/// counterparty reading `0` (too late to cancel) would take it for done.
pub fn cxl_rej_reason(reason: u8, fix42: bool) -> &'static str {
    match reason {
        r if r == VenueReject::UnknownOrder as u8 => "1",
        _ if fix42 => "2",
        _ => "99",
    }
}

/// MassCancelRejectReason (532) of a refused mass cancel whose reason is
/// `reason` (a [`VenueReject`] code): `1` for an unknown instrument, `0` (mass
/// cancel not supported) for none given — a request of a type the venue does
/// not take — and `99` (other) for the rest (a duplicate ClOrdID, say).
pub fn mass_cancel_reject_reason(reason: u8) -> &'static str {
    match reason {
        r if r == VenueReject::UnknownInstrument as u8 => "1",
        r if r == VenueReject::None as u8 => "0",
        _ => "99",
    }
}

/// Whether a CxlRejReason says the order is no longer working at the venue:
/// `0` (too late to cancel: it filled or ended) or `1` (unknown order).
fn order_gone(reason: Option<u64>) -> bool {
    matches!(reason, Some(0 | 1))
}

/// OrdStatus (39) of an OrderCancelReject: the order's state after the reject
/// — Rejected (8) for an order the venue does not have (as FIX 4.4 asks for
/// CxlRejReason "unknown order") or a request refused before its order was
/// looked up (a report with no order quantity), else the working order's New
/// (0) or PartiallyFilled (1): a counterparty reads a working order as dead
/// from 8.
fn cancel_reject_status(e: &ExecReport) -> &'static [u8] {
    if e.reason == VenueReject::UnknownOrder as u8 || e.order_qty <= 0 {
        b"8"
    } else if e.cum_qty > 0 {
        b"1"
    } else {
        b"0"
    }
}

/// What an ExecutionReport (35=8) is for, beyond the order's state it gives.
///
/// FIX 4.3 and later say it in ExecType (150): `I` answers an
/// OrderStatusRequest, `G` corrects and `H` cancels (busts) a trade reported
/// before. FIX 4.2 has none of those values: it says it in ExecTransType (20)
/// — `0` new, `1` cancel (a bust of the execution ExecRefID names), `2`
/// correct, `3` status — and ExecType then gives the state of the order (a
/// bust of a fill comes as ExecType `2` with the busted LastShares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportPurpose {
    /// A report of something that happened now (ExecTransType 0, or absent).
    New,
    /// An answer to an OrderStatusRequest: repeats, reports nothing new.
    Status,
    /// A trade reported before, corrected.
    TradeCorrect,
    /// A trade reported before, cancelled (busted).
    TradeCancel,
    /// An ExecTransType FIX 4.2 does not define.
    Unknown,
}

/// The purpose of ExecutionReport `m` (see [`ReportPurpose`]).
#[inline]
pub fn report_purpose<'a>(m: &impl Fields<'a>) -> ReportPurpose {
    match m.get(tags::EXEC_TRANS_TYPE) {
        None | Some(b"0") => {}
        Some(b"1") => return ReportPurpose::TradeCancel,
        Some(b"2") => return ReportPurpose::TradeCorrect,
        Some(b"3") => return ReportPurpose::Status,
        Some(_) => return ReportPurpose::Unknown,
    }
    match m.get(tags::EXEC_TYPE) {
        Some(b"I") => ReportPurpose::Status,
        Some(b"G") => ReportPurpose::TradeCorrect,
        Some(b"H") => ReportPurpose::TradeCancel,
        _ => ReportPurpose::New,
    }
}

/// (Inlined where it is called, so the record is built where the caller keeps
/// it rather than copied there.)
#[inline(always)]
pub fn exec_from_fix<'a>(m: &impl Fields<'a>, inst: &Instruments, ts_ns: u64) -> Result<Option<ExecReport>, FixError> {
    if m.msg_type() == b"9" {
        let cl = m
            .u64(tags::CL_ORD_ID)?
            .ok_or(FixError::Missing { tag: tags::CL_ORD_ID })?;
        let orig = m.u64(tags::ORIG_CL_ORD_ID)?.unwrap_or(0);
        let (i, side) = match m.get(tags::SYMBOL).and_then(|s| inst.find(s)) {
            Some((i, _, _)) => (i, side(m).unwrap_or(Side::Buy)),
            None => (u32::MAX, Side::Buy),
        };
        let mut e = ExecReport::new(ExecKind::CancelRejected, i, side, ts_ns);
        e.cl_ord_id = cl;
        e.orig_cl_ord_id = orig;
        e.venue_order_id = m.get(tags::ORDER_ID).map_or(0, order_id);
        // Only a reason saying the order is gone closes it in the core; any
        // other (already pending, broker option, other, none) leaves it working.
        e.reason = if order_gone(m.u64(tags::CXL_REJ_REASON).ok().flatten()) {
            VenueReject::UnknownOrder
        } else {
            VenueReject::None
        } as u8;
        return Ok(Some(e));
    }
    if m.msg_type() == b"r" {
        return mass_cancel_report(m, inst, ts_ns).map(Some);
    }
    if m.msg_type() != b"8" {
        return Err(m.bad(
            tags::MSG_TYPE,
            "execution report (8), cancel reject (9) or mass cancel report (r)",
        ));
    }
    // A FIX 4.2 status answer, bust or correction gives the order's state in
    // ExecType: read as a report, a bust of a fill would book the fill again.
    // A bust is the core's TradeBust (its LastQty/LastPx the fill taken back);
    // a status answer is the link's, and so is a correction
    // ([`trade_correction`]), which needs the fill it names.
    let bust = match report_purpose(m) {
        ReportPurpose::New => false,
        ReportPurpose::TradeCancel => true,
        ReportPurpose::Unknown => return Err(m.bad(tags::EXEC_TRANS_TYPE, "ExecTransType")),
        ReportPurpose::Status | ReportPurpose::TradeCorrect => return Ok(None),
    };
    let status = m.char(tags::ORD_STATUS)?;
    let exec_type = m
        .char(tags::EXEC_TYPE)?
        .ok_or(FixError::Missing { tag: tags::EXEC_TYPE })?;
    let kind = if bust {
        ExecKind::TradeBust
    } else {
        match exec_type {
            b'0' => ExecKind::New,
            b'1' => ExecKind::PartialFill,
            b'2' => ExecKind::Fill,
            b'F' => {
                if status == Some(b'2') {
                    ExecKind::Fill
                } else {
                    ExecKind::PartialFill
                }
            }
            // Canceled, expired, or done for the day (3: no further executions
            // this day — the order is over as far as the core is concerned).
            b'3' | b'4' | b'C' => ExecKind::Canceled,
            b'5' => ExecKind::Replaced,
            b'8' => ExecKind::Rejected,
            // Restated on the venue's own account: the order as it now
            // stands — or over, when its OrdStatus says so (cancelled,
            // expired, done for the day, rejected): a restatement is how some
            // venues cancel an order on a halt or a system failure.
            b'D' => match status {
                Some(b'3' | b'4' | b'C') => ExecKind::Canceled,
                Some(b'8') => ExecKind::Rejected,
                _ => ExecKind::Restated,
            },
            // Nothing the core keeps changes: pending cancel (6), stopped (7),
            // suspended (9), pending new (A), calculated (B), pending replace
            // (E) — the order's next report says what becomes of it. (Order
            // status, I, and trade correct and cancel, G and H, are purposes,
            // read above.)
            b'6' | b'7' | b'9' | b'A' | b'B' | b'E' => return Ok(None),
            _ => return Err(m.bad(tags::EXEC_TYPE, "ExecType")),
        }
    };
    let mut e = report_fields(m, inst, kind, ts_ns)?;
    // The trade's key: a fill's own ExecID; a bust's, the ExecID of the fill
    // it takes back.
    let id = match kind {
        ExecKind::TradeBust => m.get(tags::EXEC_REF_ID),
        k if k.is_fill() => m.get(tags::EXEC_ID),
        _ => None,
    };
    if let Some(id) = id {
        e.exec_key = exec_key(id);
    }
    Ok(Some(e))
}

/// A trade correction (FIX 4.4 ExecType G; FIX 4.2 ExecTransType 2) read as
/// the [`ExecKind::TradeCorrected`] record of the trade as it now stands
/// (LastQty, LastPx, the order's CumQty and LeavesQty after it; its key the
/// correction's ExecID), with the key of the trade it corrects (ExecRefID).
/// `Ok(None)` for any other report.
pub fn trade_correction<'a>(
    m: &impl Fields<'a>,
    inst: &Instruments,
    ts_ns: u64,
) -> Result<Option<(ExecReport, [u8; 5])>, FixError> {
    if m.msg_type() != b"8" || report_purpose(m) != ReportPurpose::TradeCorrect {
        return Ok(None);
    }
    let mut e = report_fields(m, inst, ExecKind::TradeCorrected, ts_ns)?;
    e.exec_key = exec_key(m.req(tags::EXEC_ID)?);
    let corrects = exec_key(m.req(tags::EXEC_REF_ID)?);
    Ok(Some((e, corrects)))
}

/// The fields of a report of `kind` every kind has (instrument, side, ids,
/// quantities, time), and those its kind has: a trade's (fill, bust,
/// corrected trade) LastQty, LastPx and liquidity; a rejection's reason.
#[inline(always)]
fn report_fields<'a>(
    m: &impl Fields<'a>,
    inst: &Instruments,
    kind: ExecKind,
    ts_ns: u64,
) -> Result<ExecReport, FixError> {
    let (i, pd, qd) = instrument(m, inst)?;
    let mut e = ExecReport::new(kind, i, side(m)?, ts_ns);
    e.cl_ord_id = m
        .u64(tags::CL_ORD_ID)?
        .ok_or(FixError::Missing { tag: tags::CL_ORD_ID })?;
    e.orig_cl_ord_id = m.u64(tags::ORIG_CL_ORD_ID)?.unwrap_or(0);
    e.venue_order_id = order_id(m.req(tags::ORDER_ID)?);
    e.order_qty = m.fixed(tags::ORDER_QTY, qd)?.unwrap_or(0);
    e.order_px = m.fixed(tags::PRICE, pd)?.unwrap_or(0);
    e.cum_qty = m
        .fixed(tags::CUM_QTY, qd)?
        .ok_or(FixError::Missing { tag: tags::CUM_QTY })?;
    e.leaves_qty = m
        .fixed(tags::LEAVES_QTY, qd)?
        .ok_or(FixError::Missing { tag: tags::LEAVES_QTY })?;
    // A fill's trade, the one a bust takes back, or a corrected one.
    if kind.is_trade() {
        e.last_qty = m
            .fixed(tags::LAST_QTY, qd)?
            .ok_or(FixError::Missing { tag: tags::LAST_QTY })?;
        e.last_px = m
            .fixed(tags::LAST_PX, pd)?
            .ok_or(FixError::Missing { tag: tags::LAST_PX })?;
        // Maker or taker, when the venue says (the fee schedule's rates).
        e.header.flags = match m.u64(tags::LAST_LIQUIDITY_IND)? {
            Some(1) => LIQUIDITY_ADDED,
            Some(2) => LIQUIDITY_REMOVED,
            _ => 0,
        };
    }
    e.ord_type = match m.char(tags::ORD_TYPE)? {
        Some(b'1') => OrdType::Market as u8,
        _ => OrdType::Limit as u8,
    };
    if let Some(t) = m.get(tags::TRANSACT_TIME) {
        e.transact_ts_ns = parse_utc_timestamp(t).ok_or_else(|| m.bad(tags::TRANSACT_TIME, "UTCTimestamp"))?;
    }
    if kind == ExecKind::Rejected {
        e.reason = match m.u64(tags::ORD_REJ_REASON)? {
            Some(1) => VenueReject::UnknownInstrument,
            Some(5) => VenueReject::UnknownOrder,
            Some(6) => VenueReject::DuplicateClOrdId,
            Some(11) | Some(13) => VenueReject::InvalidPriceOrQty,
            _ => VenueReject::None,
        } as u8;
    }
    Ok(e)
}

/// An OrderMassCancelReport (35=r): [`ExecKind::MassCancelDone`], or
/// [`ExecKind::MassCancelRefused`] for MassCancelResponse 0; `ord_type` the
/// request's scope ([`MassCancelScope`] code), `order_qty` the orders it
/// affected (TotalAffectedOrders, 0 when not given), `reason`
/// `UnknownInstrument` for MassCancelRejectReason 1.
fn mass_cancel_report<'a>(m: &impl Fields<'a>, inst: &Instruments, ts_ns: u64) -> Result<ExecReport, FixError> {
    let refused = match m.req(tags::MASS_CANCEL_RESPONSE)? {
        b"0" => true,
        [b'1'..=b'9'] => false,
        _ => return Err(m.bad(tags::MASS_CANCEL_RESPONSE, "MassCancelResponse")),
    };
    let kind = if refused {
        ExecKind::MassCancelRefused
    } else {
        ExecKind::MassCancelDone
    };
    let i = m.get(tags::SYMBOL).and_then(|s| inst.find(s)).map_or(u32::MAX, |x| x.0);
    let mut e = ExecReport::new(kind, i, Side::Buy, ts_ns);
    e.cl_ord_id = m
        .u64(tags::CL_ORD_ID)?
        .ok_or(FixError::Missing { tag: tags::CL_ORD_ID })?;
    e.venue_order_id = m.get(tags::ORDER_ID).map_or(0, order_id);
    e.ord_type = match m.req(tags::MASS_CANCEL_REQUEST_TYPE)? {
        b"1" => MassCancelScope::Instrument,
        _ => MassCancelScope::All,
    } as u8;
    e.order_qty = m.u64(tags::TOTAL_AFFECTED_ORDERS)?.unwrap_or(0).min(i64::MAX as u64) as i64;
    if refused && m.u64(tags::MASS_CANCEL_REJECT_REASON).ok().flatten() == Some(1) {
        e.reason = VenueReject::UnknownInstrument as u8;
    }
    if let Some(t) = m.get(tags::TRANSACT_TIME) {
        e.transact_ts_ns = parse_utc_timestamp(t).ok_or_else(|| m.bad(tags::TRANSACT_TIME, "UTCTimestamp"))?;
    }
    Ok(e)
}

/// What a report echoes of the request it answers, as the counterparty wrote
/// it: its ClOrdID and OrigClOrdID (any FIX string), the symbol (when the
/// instrument is unknown to the venue), and for a cancel reject whether it
/// answers a cancel (`1`) or a replace (`2`) — CxlRejResponseTo.
#[derive(Clone, Copy, Debug, Default)]
pub struct Echo<'a> {
    /// ClOrdID (11).
    pub cl_ord_id: &'a [u8],
    /// OrigClOrdID (41); empty: none.
    pub orig_cl_ord_id: &'a [u8],
    /// Symbol (55), if not the instrument's.
    pub symbol: Option<&'a [u8]>,
    /// CxlRejResponseTo (434) of a cancel reject: `b'1'` or `b'2'`.
    pub response_to: u8,
    /// Text (58), if any.
    pub text: Option<&'a [u8]>,
    /// AvgPx (6) of the order's fills so far, in the instrument's price units
    /// times 10^[`AVG_PX_EXTRA_DECIMALS`] (an average need not be on the
    /// tick); `None`: this report's LastPx, or 0 without a fill.
    pub avg_px: Option<i64>,
}

/// Decimals an [`Echo::avg_px`] carries beyond the instrument's price decimals.
pub const AVG_PX_EXTRA_DECIMALS: u8 = 4;

/// AvgPx (6) in the scale of [`Echo::avg_px`]: `notional` (Σ qty × px, in
/// quantity and price units) over `cum`, rounded half away from zero; 0
/// without a fill.
pub fn avg_px_scaled(notional: i128, cum: i64) -> i64 {
    if cum <= 0 {
        return 0;
    }
    let q = round_div(notional * 10i128.pow(AVG_PX_EXTRA_DECIMALS as u32), cum as i128);
    q.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// `n / d` rounded to the nearest integer, halves away from zero (`d` > 0).
pub(crate) fn round_div(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d {
        q + n.signum()
    } else {
        q
    }
}

/// Appends the body of the FIX message that reports `e` to the engine — its
/// fields as `tag=value<SOH>`, in ascending tag order — to `out`, without
/// allocating (beyond `out` growing), and returns its MsgType (`8`, or `9` for
/// a cancel reject); in FIX 4.2 (`fix42`) or 4.4 conventions; `exec_id` is the
/// venue's unique ExecID (17), `echo` what the report repeats of the request.
/// Every field is one the version's dictionary defines for the message (a
/// counterparty validating against it accepts the report), and the inverse of
/// [`exec_from_fix`] for every field the engine reads.
pub fn write_exec_body(
    e: &ExecReport,
    inst: &Instruments,
    exec_id: u64,
    fix42: bool,
    echo: &Echo,
    out: &mut Vec<u8>,
) -> &'static str {
    use crate::message::put_with;
    use foxtrot_engine::format::calendar::push_utc_timestamp;
    use foxtrot_engine::format::decimal::{push_fixed, push_uint};
    let put = |out: &mut Vec<u8>, t: u32, v: &[u8]| crate::message::put(out, t as i64, v);
    let fixed = |out: &mut Vec<u8>, t: u32, v: i64, d: u8| put_with(out, t as i64, |o| push_fixed(o, v, d));
    let int = |out: &mut Vec<u8>, t: u32, v: u64| put_with(out, t as i64, |o| push_uint(o, v));
    let sym = echo.symbol.or_else(|| inst.symbol(e.header.instrument)).unwrap_or(b"");
    let (pd, qd) = inst.decimals(e.header.instrument).unwrap_or((0, 0));
    let side: &[u8] = if e.header.side == Side::Sell as u8 { b"2" } else { b"1" };
    let kind = e.kind().unwrap_or(ExecKind::New);
    if kind == ExecKind::CancelRejected {
        // OrderCancelReject: ids, status, the request it answers; no symbol or
        // side (neither version defines them for this message).
        put(out, tags::CL_ORD_ID, echo.cl_ord_id);
        int(out, tags::ORDER_ID, e.venue_order_id);
        put(out, tags::ORD_STATUS, cancel_reject_status(e));
        put(out, tags::ORIG_CL_ORD_ID, echo.orig_cl_ord_id);
        if let Some(t) = echo.text {
            put(out, tags::TEXT, t);
        }
        put(out, tags::CXL_REJ_REASON, cxl_rej_reason(e.reason, fix42).as_bytes());
        put(
            out,
            tags::CXL_REJ_RESPONSE_TO,
            if echo.response_to == b'2' { b"2" } else { b"1" },
        );
        return "9";
    }
    if kind.is_mass_cancel() {
        // OrderMassCancelReport (FIX 4.4): the request's ClOrdID and scope,
        // taken (531 = the scope) or refused (0, with the reason), and how
        // many orders it cancelled.
        put(out, tags::CL_ORD_ID, echo.cl_ord_id);
        int(out, tags::ORDER_ID, e.venue_order_id);
        let scope: &[u8] = if e.ord_type == MassCancelScope::Instrument as u8 {
            b"1"
        } else {
            b"7"
        };
        if scope == b"1" {
            put(out, tags::SYMBOL, sym);
        }
        if let Some(t) = echo.text {
            put(out, tags::TEXT, t);
        }
        put(out, tags::MASS_CANCEL_REQUEST_TYPE, scope);
        if kind == ExecKind::MassCancelRefused {
            put(out, tags::MASS_CANCEL_RESPONSE, b"0");
            put(
                out,
                tags::MASS_CANCEL_REJECT_REASON,
                mass_cancel_reject_reason(e.reason).as_bytes(),
            );
        } else {
            put(out, tags::MASS_CANCEL_RESPONSE, scope);
        }
        int(out, tags::TOTAL_AFFECTED_ORDERS, e.order_qty.max(0) as u64);
        return "r";
    }
    let (exec_type, status): (&[u8], &[u8]) = match kind {
        ExecKind::New => (b"0", b"0"),
        ExecKind::PartialFill => (if fix42 { b"1" } else { b"F" }, b"1"),
        ExecKind::Fill => (if fix42 { b"2" } else { b"F" }, b"2"),
        ExecKind::Canceled => (b"4", b"4"),
        // FIX 4.4 has no OrdStatus Replaced: the order's own state stands.
        ExecKind::Replaced if fix42 => (b"5", b"5"),
        ExecKind::Replaced => (b"5", if e.cum_qty > 0 { b"1" } else { b"0" }),
        ExecKind::Rejected | ExecKind::CancelRejected | ExecKind::MassCancelDone | ExecKind::MassCancelRefused => {
            (b"8", b"8")
        }
        // A bust: FIX 4.4 says so in ExecType (H), FIX 4.2 in ExecTransType
        // (1, below) with the busted fill's ExecType; OrdStatus the order's
        // state after it.
        // A correction: FIX 4.4 ExecType G, FIX 4.2 ExecTransType 2 (below).
        // A restatement: ExecType D in both versions.
        ExecKind::TradeBust | ExecKind::TradeCorrected | ExecKind::Restated => (
            match (fix42, kind) {
                (_, ExecKind::Restated) => b"D",
                (true, _) => b"2",
                (false, ExecKind::TradeBust) => b"H",
                _ => b"G",
            },
            if e.leaves_qty > 0 {
                if e.cum_qty > 0 {
                    b"1"
                } else {
                    b"0"
                }
            } else {
                b"4"
            },
        ),
    };
    match echo.avg_px {
        Some(a) => fixed(out, tags::AVG_PX, a, pd + AVG_PX_EXTRA_DECIMALS),
        None => fixed(out, tags::AVG_PX, if e.last_qty > 0 { e.last_px } else { 0 }, pd),
    }
    put(out, tags::CL_ORD_ID, echo.cl_ord_id);
    fixed(out, tags::CUM_QTY, e.cum_qty, qd);
    int(out, tags::EXEC_ID, exec_id);
    if fix42 {
        put(
            out,
            tags::EXEC_TRANS_TYPE,
            match kind {
                ExecKind::TradeBust => b"1",
                ExecKind::TradeCorrected => b"2",
                _ => b"0",
            },
        );
    }
    if kind.is_trade() {
        fixed(out, tags::LAST_PX, e.last_px, pd);
        fixed(out, tags::LAST_QTY, e.last_qty, qd);
    }
    int(out, tags::ORDER_ID, e.venue_order_id);
    fixed(out, tags::ORDER_QTY, e.order_qty, qd);
    put(out, tags::ORD_STATUS, status);
    put(
        out,
        tags::ORD_TYPE,
        if e.ord_type == OrdType::Market as u8 {
            b"1"
        } else {
            b"2"
        },
    );
    if !echo.orig_cl_ord_id.is_empty() {
        put(out, tags::ORIG_CL_ORD_ID, echo.orig_cl_ord_id);
    }
    if e.order_px != 0 {
        fixed(out, tags::PRICE, e.order_px, pd);
    }
    put(out, tags::SIDE, side);
    put(out, tags::SYMBOL, sym);
    if let Some(t) = echo.text {
        put(out, tags::TEXT, t);
    }
    put_with(out, tags::TRANSACT_TIME as i64, |o| {
        push_utc_timestamp(o, e.transact_ts_ns, 6)
    });
    // LastLiquidityInd is FIX 4.3+: a 4.2 counterparty's dictionary does not know it.
    if (kind.is_fill() || kind == ExecKind::TradeBust) && !fix42 {
        if e.header.flags & LIQUIDITY_ADDED != 0 {
            put(out, tags::LAST_LIQUIDITY_IND, b"1");
        } else if e.header.flags & LIQUIDITY_REMOVED != 0 {
            put(out, tags::LAST_LIQUIDITY_IND, b"2");
        }
    }
    if kind == ExecKind::Rejected {
        // OrdRejReason, in the values each version defines (4.2 has 0–8).
        let code: &[u8] = match e.reason {
            r if r == VenueReject::UnknownInstrument as u8 => b"1",
            r if r == VenueReject::UnknownOrder as u8 => b"5",
            r if r == VenueReject::DuplicateClOrdId as u8 => b"6",
            r if r == VenueReject::InvalidPriceOrQty as u8 && !fix42 => b"13",
            _ if fix42 => b"0",
            _ => b"99",
        };
        put(out, tags::ORD_REJ_REASON, code);
    }
    put(out, tags::EXEC_TYPE, exec_type);
    fixed(out, tags::LEAVES_QTY, e.leaves_qty, qd);
    "8"
}

/// [`write_exec_body`] for a report whose ids are foxtrot's numeric ones,
/// written as decimal ClOrdIDs (the simulated venue's answer to foxtrot's engine).
pub fn write_exec_body_numeric(
    e: &ExecReport,
    inst: &Instruments,
    exec_id: u64,
    fix42: bool,
    out: &mut Vec<u8>,
) -> &'static str {
    let cl = e.cl_ord_id.to_string();
    let orig = if e.orig_cl_ord_id != 0 {
        e.orig_cl_ord_id.to_string()
    } else {
        String::new()
    };
    let echo = Echo {
        cl_ord_id: cl.as_bytes(),
        orig_cl_ord_id: orig.as_bytes(),
        ..Echo::default()
    };
    write_exec_body(e, inst, exec_id, fix42, &echo, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use foxtrot_engine::format::calendar::utc_timestamp;
    use foxtrot_engine::format::decimal::to_text;

    /// A report's fields: (tag, value), in ascending tag order.
    type ReportFields = Vec<(u32, Vec<u8>)>;

    /// The report's fields as first written, a value allocated per field: the
    /// model [`write_exec_body`] is held to.
    fn exec_to_fix_model(
        e: &ExecReport,
        inst: &Instruments,
        exec_id: u64,
        fix42: bool,
        echo: &Echo,
    ) -> (&'static str, ReportFields) {
        let txt = |s: &str| s.as_bytes().to_vec();
        let sym = echo
            .symbol
            .or_else(|| inst.symbol(e.header.instrument))
            .unwrap_or(b"")
            .to_vec();
        let (pd, qd) = inst.decimals(e.header.instrument).unwrap_or((0, 0));
        let side = if e.header.side == Side::Sell as u8 { "2" } else { "1" };
        let mut f: ReportFields = Vec::with_capacity(20);
        let kind = e.kind().unwrap_or(ExecKind::New);
        let order_id = e.venue_order_id.to_string();
        if kind == ExecKind::CancelRejected {
            // OrderCancelReject: ids, status, the request it answers; no symbol or
            // side (neither version defines them for this message).
            f.push((tags::CL_ORD_ID, echo.cl_ord_id.to_vec()));
            f.push((tags::ORDER_ID, txt(&order_id)));
            f.push((tags::ORD_STATUS, cancel_reject_status(e).to_vec()));
            f.push((tags::ORIG_CL_ORD_ID, echo.orig_cl_ord_id.to_vec()));
            if let Some(t) = echo.text {
                f.push((tags::TEXT, t.to_vec()));
            }
            f.push((tags::CXL_REJ_REASON, txt(cxl_rej_reason(e.reason, fix42))));
            f.push((
                tags::CXL_REJ_RESPONSE_TO,
                vec![if echo.response_to == b'2' { b'2' } else { b'1' }],
            ));
            return ("9", f);
        }
        if kind.is_mass_cancel() {
            let scope = if e.ord_type == MassCancelScope::Instrument as u8 {
                "1"
            } else {
                "7"
            };
            f.push((tags::CL_ORD_ID, echo.cl_ord_id.to_vec()));
            f.push((tags::ORDER_ID, txt(&order_id)));
            if scope == "1" {
                f.push((tags::SYMBOL, sym));
            }
            if let Some(t) = echo.text {
                f.push((tags::TEXT, t.to_vec()));
            }
            f.push((tags::MASS_CANCEL_REQUEST_TYPE, txt(scope)));
            if kind == ExecKind::MassCancelRefused {
                f.push((tags::MASS_CANCEL_RESPONSE, txt("0")));
                let reason = match e.reason {
                    r if r == VenueReject::UnknownInstrument as u8 => "1",
                    r if r == VenueReject::None as u8 => "0",
                    _ => "99",
                };
                f.push((tags::MASS_CANCEL_REJECT_REASON, txt(reason)));
            } else {
                f.push((tags::MASS_CANCEL_RESPONSE, txt(scope)));
            }
            f.push((tags::TOTAL_AFFECTED_ORDERS, txt(&e.order_qty.max(0).to_string())));
            return ("r", f);
        }
        let (exec_type, status) = match kind {
            ExecKind::New => ("0", "0"),
            ExecKind::PartialFill => (if fix42 { "1" } else { "F" }, "1"),
            ExecKind::Fill => (if fix42 { "2" } else { "F" }, "2"),
            ExecKind::Canceled => ("4", "4"),
            // FIX 4.4 has no OrdStatus Replaced: the order's own state stands.
            ExecKind::Replaced if fix42 => ("5", "5"),
            ExecKind::Replaced => ("5", if e.cum_qty > 0 { "1" } else { "0" }),
            ExecKind::Rejected | ExecKind::CancelRejected | ExecKind::MassCancelDone | ExecKind::MassCancelRefused => {
                ("8", "8")
            }
            ExecKind::TradeBust | ExecKind::TradeCorrected | ExecKind::Restated => (
                match (fix42, kind) {
                    (_, ExecKind::Restated) => "D",
                    (true, _) => "2",
                    (false, ExecKind::TradeBust) => "H",
                    _ => "G",
                },
                match (e.leaves_qty > 0, e.cum_qty > 0) {
                    (true, true) => "1",
                    (true, false) => "0",
                    _ => "4",
                },
            ),
        };
        f.push((
            tags::AVG_PX,
            txt(&match echo.avg_px {
                Some(a) => to_text(a, pd + AVG_PX_EXTRA_DECIMALS),
                None => to_text(if e.last_qty > 0 { e.last_px } else { 0 }, pd),
            }),
        ));
        f.push((tags::CL_ORD_ID, echo.cl_ord_id.to_vec()));
        f.push((tags::CUM_QTY, txt(&to_text(e.cum_qty, qd))));
        f.push((tags::EXEC_ID, txt(&exec_id.to_string())));
        if fix42 {
            f.push((
                tags::EXEC_TRANS_TYPE,
                txt(match kind {
                    ExecKind::TradeBust => "1",
                    ExecKind::TradeCorrected => "2",
                    _ => "0",
                }),
            ));
        }
        if kind.is_trade() {
            f.push((tags::LAST_PX, txt(&to_text(e.last_px, pd))));
            f.push((tags::LAST_QTY, txt(&to_text(e.last_qty, qd))));
        }
        f.push((tags::ORDER_ID, txt(&order_id)));
        f.push((tags::ORDER_QTY, txt(&to_text(e.order_qty, qd))));
        f.push((tags::ORD_STATUS, txt(status)));
        f.push((
            tags::ORD_TYPE,
            txt(if e.ord_type == OrdType::Market as u8 { "1" } else { "2" }),
        ));
        if !echo.orig_cl_ord_id.is_empty() {
            f.push((tags::ORIG_CL_ORD_ID, echo.orig_cl_ord_id.to_vec()));
        }
        if e.order_px != 0 {
            f.push((tags::PRICE, txt(&to_text(e.order_px, pd))));
        }
        f.push((tags::SIDE, txt(side)));
        f.push((tags::SYMBOL, sym));
        if let Some(t) = echo.text {
            f.push((tags::TEXT, t.to_vec()));
        }
        f.push((tags::TRANSACT_TIME, txt(&utc_timestamp(e.transact_ts_ns, 6))));
        // LastLiquidityInd is FIX 4.3+: a 4.2 counterparty's dictionary does not know it.
        if (kind.is_fill() || kind == ExecKind::TradeBust) && !fix42 {
            if e.header.flags & LIQUIDITY_ADDED != 0 {
                f.push((tags::LAST_LIQUIDITY_IND, txt("1")));
            } else if e.header.flags & LIQUIDITY_REMOVED != 0 {
                f.push((tags::LAST_LIQUIDITY_IND, txt("2")));
            }
        }
        if kind == ExecKind::Rejected {
            // OrdRejReason, in the values each version defines (4.2 has 0–8).
            let code = match e.reason {
                r if r == VenueReject::UnknownInstrument as u8 => "1",
                r if r == VenueReject::UnknownOrder as u8 => "5",
                r if r == VenueReject::DuplicateClOrdId as u8 => "6",
                r if r == VenueReject::InvalidPriceOrQty as u8 && !fix42 => "13",
                _ if fix42 => "0",
                _ => "99",
            };
            f.push((tags::ORD_REJ_REASON, txt(code)));
        }
        f.push((tags::EXEC_TYPE, txt(exec_type)));
        f.push((tags::LEAVES_QTY, txt(&to_text(e.leaves_qty, qd))));
        ("8", f)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The body writer gives the model's fields, byte for byte, for every
        /// kind of report, both versions and every echo.
        #[test]
        fn report_bodies_are_the_models_fields(
            kind in 0u8..7, inst in 0u32..3, buy in any::<bool>(), venue_id in any::<u64>(),
            qty in any::<i64>(), px in any::<i64>(), last in any::<i64>(), cum in any::<i64>(),
            leaves in any::<i64>(), ts in any::<u64>(), market in any::<bool>(), fix42 in any::<bool>(),
            reason in 0u8..6, flags in 0u8..4, exec_id in any::<u64>(), texts in 0u8..16, to in any::<u8>(),
            avg in proptest::option::of(any::<i64>()),
        ) {
            let kinds = [ExecKind::New, ExecKind::PartialFill, ExecKind::Fill, ExecKind::Canceled,
                         ExecKind::Replaced, ExecKind::Rejected, ExecKind::CancelRejected];
            let k = kinds[kind as usize];
            let mut e = ExecReport::new(k, inst, if buy { Side::Buy } else { Side::Sell }, 7);
            e.venue_order_id = venue_id;
            e.order_qty = qty;
            e.order_px = if market { 0 } else { px };
            e.last_px = px;
            e.last_qty = last;
            e.cum_qty = cum;
            e.leaves_qty = leaves;
            e.transact_ts_ns = ts;
            e.ord_type = if market { OrdType::Market as u8 } else { OrdType::Limit as u8 };
            e.reason = reason;
            e.header.flags = flags;
            let spec = |symbol: &str, price_decimals, qty_decimals| InstrumentSpec {
                symbol: symbol.into(),
                price_decimals,
                tick: 1,
                qty_decimals,
                lot: 1,
                ref_price: 100,
            };
            let instruments = Instruments::new(&[spec("FOXA", 4, 0), spec("FOXB.X", 2, 3)]);
            let echo = Echo {
                cl_ord_id: b"CL-1",
                orig_cl_ord_id: if texts & 1 != 0 { b"CL-0" } else { b"" },
                symbol: (texts & 2 != 0).then_some(&b"ECHO"[..]),
                response_to: to,
                text: (texts & 4 != 0).then_some(&b"a text"[..]),
                avg_px: avg,
            };
            let want = exec_to_fix_model(&e, &instruments, exec_id, fix42, &echo);
            let mut body = b"58=before\x01".to_vec();
            let mt = write_exec_body(&e, &instruments, exec_id, fix42, &echo, &mut body);
            let mut flat = b"58=before\x01".to_vec();
            for (t, v) in &want.1 {
                flat.extend_from_slice(format!("{t}=").as_bytes());
                flat.extend_from_slice(v);
                flat.push(1);
            }
            prop_assert_eq!((mt, body), (want.0, flat));
        }
    }

    /// The parser as first written, digit by digit: the model.
    fn model(b: &[u8]) -> Option<u64> {
        if b.len() < 17 || b[8] != b'-' || b[11] != b':' || b[14] != b':' {
            return None;
        }
        let mut bad = 0u8;
        let mut d = |i: usize| {
            let v = b[i].wrapping_sub(b'0');
            bad |= (v > 9) as u8;
            v as u64
        };
        let y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
        let mo = d(4) * 10 + d(5);
        let day = d(6) * 10 + d(7);
        let h = d(9) * 10 + d(10);
        let mi = d(12) * 10 + d(13);
        let s = d(15) * 10 + d(16);
        let frac = match b.len() {
            17 => 0,
            21 | 24 | 27 if b[17] == b'.' => {
                let mut f = 0u64;
                for i in 18..b.len() {
                    f = f * 10 + d(i);
                }
                f * 10u64.pow(27 - b.len() as u32)
            }
            _ => return None,
        };
        if bad != 0 || !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = foxtrot_engine::format::calendar::days_from_civil(y as i64, mo as i64, day as i64);
        let secs = days * 86_400 + (h * 3_600 + mi * 60 + s) as i64;
        u64::try_from(secs).ok()?.checked_mul(1_000_000_000)?.checked_add(frac)
    }

    #[test]
    fn venue_order_ids_are_their_digits_or_a_hash_that_tells_them_apart() {
        assert_eq!(order_id(b"77"), 77);
        assert_eq!(order_id(b"V-0000077"), order_id(b"V-0000077"));
        // Every id of a venue's kinds of ids, of every length up to 24, and
        // the same bytes with a zero byte added (the length is hashed too).
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..20_000u32 {
            let id = format!("V-{n:0w$}", w = (n % 22) as usize);
            assert!(seen.insert(order_id(id.as_bytes())), "{id}");
            let mut z = id.into_bytes();
            z.push(0);
            assert!(seen.insert(order_id(&z)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// Word at a time or digit by digit, timestamps parse alike: valid ones
        /// at every precision, and each mutated.
        #[test]
        fn timestamps_parse_as_the_model_does(
            ns in 0u64..4_102_444_800_000_000_000,
            frac in prop::sample::select(vec![0u32, 3, 6, 9]),
            at in 0usize..27,
            byte in prop::sample::select(vec![b'0', b'9', b':', b'-', b'.', b'/', b'A', 0x01]),
            how in 0u8..3,
        ) {
            let mut t = utc_timestamp(ns, frac).into_bytes();
            prop_assert_eq!(parse_utc_timestamp(&t), model(&t));
            prop_assert_eq!(parse_utc_timestamp(&t), Some(ns - ns % 10u64.pow(9 - frac)));
            let i = at.min(t.len() - 1);
            match how {
                0 => t[i] = byte,
                1 => t.insert(i, byte),
                _ => t.truncate(i),
            }
            prop_assert_eq!(parse_utc_timestamp(&t), model(&t), "{:?}", String::from_utf8_lossy(&t));
        }
    }
}
