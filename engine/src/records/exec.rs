//! Execution reports: the venue's answers, re-entering through ingest.

use super::header::{Header, Kind, Side};
use bytemuck::{Pod, Zeroable};

/// What an execution report says happened, carried in [`Header::sub`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExecKind {
    /// Order accepted and resting (FIX 150=0).
    New = 1,
    /// Part of the order filled; `leaves_qty` > 0 (FIX 150=F, 39=1).
    PartialFill = 2,
    /// The order is completely filled (FIX 150=F, 39=2).
    Fill = 3,
    /// The order was cancelled; `leaves_qty` = 0 (FIX 150=4).
    Canceled = 4,
    /// A cancel/replace took effect; price/qty are the new ones (FIX 150=5).
    Replaced = 5,
    /// A new order was rejected (FIX 150=8).
    Rejected = 6,
    /// A cancel or replace request was rejected (FIX 35=9).
    CancelRejected = 7,
    /// A fill reported before was cancelled (busted) by the venue (FIX 150=H;
    /// in FIX 4.2, 20=1): `last_qty` and `last_px` are the busted fill's.
    /// Booked as the opposite trade at the busted price with the fee given
    /// back: position, cash, fees and so equity are what they would have been
    /// without the fill (the realised/unrealised split follows the average
    /// cost through both trades). The order's cumulative quantity is less by
    /// it; its state is not changed.
    TradeBust = 8,
    /// The venue took an OrderMassCancelRequest of ours (FIX 35=r, 531≠0):
    /// `cl_ord_id` is the request's. Each order it cancels comes in a report
    /// of its own (Canceled, OrigClOrdID the order's); this one changes no
    /// order.
    MassCancelDone = 9,
    /// The venue refused an OrderMassCancelRequest of ours (FIX 35=r, 531=0):
    /// `cl_ord_id` is the request's. The orders it was to cancel are still
    /// working: the core cancels them one by one.
    MassCancelRefused = 10,
    /// A fill reported before, corrected by the venue (FIX 150=G; in FIX 4.2,
    /// 20=2): the trade as it now stands, `last_qty`/`last_px` the corrected
    /// ones. The FIX link journals it right after the [`TradeBust`] of the
    /// trade it corrects (found by ExecRefID among the fills it has seen), so
    /// position, cash and fees are as if the corrected trade alone had
    /// happened. The order's cumulative quantity grows by it; its state is not
    /// changed; fill counts and traded totals (what was reported) are not.
    ///
    /// [`TradeBust`]: ExecKind::TradeBust
    TradeCorrected = 11,
    /// The venue restated the order on its own (FIX 150=D: a quantity
    /// reduced, a price changed, a GT order renewed): `order_qty`, `order_px`
    /// (each when given), `cum_qty` and `leaves_qty` are the order as it now
    /// stands. The order keeps its state (a cancel or replace pending stays
    /// pending) and closes when nothing is left of it (`leaves_qty` 0). A
    /// restatement whose OrdStatus says the order is over is read as that
    /// ([`Canceled`], [`Rejected`]), not as this.
    ///
    /// [`Canceled`]: ExecKind::Canceled
    /// [`Rejected`]: ExecKind::Rejected
    Restated = 12,
}

impl ExecKind {
    /// Decodes a kind byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<ExecKind> {
        Some(match v {
            1 => ExecKind::New,
            2 => ExecKind::PartialFill,
            3 => ExecKind::Fill,
            4 => ExecKind::Canceled,
            5 => ExecKind::Replaced,
            6 => ExecKind::Rejected,
            7 => ExecKind::CancelRejected,
            8 => ExecKind::TradeBust,
            9 => ExecKind::MassCancelDone,
            10 => ExecKind::MassCancelRefused,
            11 => ExecKind::TradeCorrected,
            12 => ExecKind::Restated,
            _ => return None,
        })
    }
    /// True for the kinds that carry a fill (`last_qty` > 0).
    pub const fn is_fill(self) -> bool {
        matches!(self, ExecKind::PartialFill | ExecKind::Fill)
    }
    /// True when the order is no longer working after this report.
    pub const fn is_terminal(self) -> bool {
        matches!(self, ExecKind::Fill | ExecKind::Canceled | ExecKind::Rejected)
    }
    /// True for the kinds that carry a trade in `last_qty`/`last_px`: a fill,
    /// the bust of one, a corrected one.
    pub const fn is_trade(self) -> bool {
        matches!(
            self,
            ExecKind::PartialFill | ExecKind::Fill | ExecKind::TradeBust | ExecKind::TradeCorrected
        )
    }
    /// True for the answers to a mass cancel, which name the request, not an order.
    pub const fn is_mass_cancel(self) -> bool {
        matches!(self, ExecKind::MassCancelDone | ExecKind::MassCancelRefused)
    }
}

/// Why a venue rejected something, carried in [`ExecReport::reason`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VenueReject {
    /// No reason given.
    None = 0,
    /// Unknown instrument.
    UnknownInstrument = 1,
    /// Quantity or price not valid (≤ 0, off tick or lot).
    InvalidPriceOrQty = 2,
    /// Cancel/replace of an order that is not working (filled, cancelled or unknown).
    UnknownOrder = 3,
    /// Duplicate ClOrdID.
    DuplicateClOrdId = 4,
    /// A market order found no liquidity on the other side.
    NoLiquidity = 5,
    /// The venue's book is at capacity (order arena or price levels).
    Capacity = 6,
    /// Never sent: the engine stopped after deciding the order and before sending
    /// it, and a restart does not send stale decisions (the gateway reports this).
    NotSent = 7,
    /// Never sent: the session store could not keep it (a full disk), and an
    /// order no store holds could be sent again after a restart (the gateway
    /// reports this).
    Unrecorded = 8,
}

/// An execution report, 128 bytes.
///
/// ```text
///  0       32        40         48        56      64        72       80      88      96       104        112                    128
///  +-------+---------+----------+---------+-------+---------+--------+-------+-------+--------+----------+----+----+----+-----+----------+
///  |Header |cl_ord_id|orig_cl_id|venue_oid|ord_px |ord_qty  |last_px |last_q |cum_q  |leaves_q|transact  |st  |rsn |type|pad5 | fix_seq  |
///  +-------+---------+----------+---------+-------+---------+--------+-------+-------+--------+----------+----+----+----+-----+----------+
/// ```
/// `header.sub` is an [`ExecKind`], `header.side` the order's [`Side`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct ExecReport {
    /// Common header (`kind` = [`Kind::ExecReport`]).
    pub header: Header,
    /// ClOrdID of the order (for a replace: the new ClOrdID).
    pub cl_ord_id: u64,
    /// OrigClOrdID for replace/cancel reports, 0 otherwise.
    pub orig_cl_ord_id: u64,
    /// The venue's order id.
    pub venue_order_id: u64,
    /// The order's limit price (0 for market orders).
    pub order_px: i64,
    /// The order's total quantity.
    pub order_qty: i64,
    /// Price of this fill (0 when not a fill).
    pub last_px: i64,
    /// Quantity of this fill (0 when not a fill).
    pub last_qty: i64,
    /// Cumulative filled quantity.
    pub cum_qty: i64,
    /// Quantity still working.
    pub leaves_qty: i64,
    /// Venue transaction time in nanoseconds.
    pub transact_ts_ns: u64,
    /// Reserved (zero).
    pub status: u8,
    /// A [`VenueReject`] code for rejects, 0 otherwise.
    pub reason: u8,
    /// 1 = limit, 2 = market (FIX tag 40 values).
    pub ord_type: u8,
    /// The trade's key at the venue: the low 40 bits of the xxh3 of its FIX
    /// ExecID (of a fill, a corrected trade; of a bust, the ExecID of the
    /// trade it takes back), little-endian; zero when not known (in-process
    /// venues, recovered fills). Journalled so that a restarted FIX link
    /// still knows which fill a later correction names ([`exec_key`]).
    pub exec_key: [u8; 5],
    /// The FIX MsgSeqNum the report arrived with (0 when it did not come over
    /// FIX): a restarted engine resumes its session after the last one journalled.
    pub fix_seq: u64,
}
const _: () = assert!(core::mem::size_of::<ExecReport>() == 128);

/// The key [`ExecReport::exec_key`] holds for the venue's ExecID `id`: the
/// low 40 bits of its xxh3 (never all zero: 0 means "not known"). Two
/// ExecIDs among the 65,536 fills a FIX link remembers share a key with a
/// probability of about 2⁻²⁴.
pub fn exec_key(id: &[u8]) -> [u8; 5] {
    let h = xxhash_rust::xxh3::xxh3_64(id) | 1;
    let b = h.to_le_bytes();
    [b[0], b[1], b[2], b[3], b[4]]
}

/// `header.flags` of a fill: it added liquidity (it rested; FIX
/// LastLiquidityInd 851 = 1). Neither bit: the venue did not say.
pub const LIQUIDITY_ADDED: u8 = 1;
/// `header.flags` of a fill: it took liquidity (851 = 2).
pub const LIQUIDITY_REMOVED: u8 = 2;
/// `header.flags` of a fill no report of which reached the engine: the FIX
/// link recovered it from the venue's CumQty and AvgPx (its report was
/// garbled or refused), at the price their average implies.
pub const FILL_RECOVERED: u8 = 4;

impl ExecReport {
    /// An empty report of `kind` for `instrument`, to be filled in by the venue.
    pub fn new(kind: ExecKind, instrument: u32, side: Side, ts_ns: u64) -> Self {
        ExecReport {
            header: Header {
                kind: Kind::ExecReport as u8,
                sub: kind as u8,
                side: side as u8,
                instrument,
                ts_ns,
                ..Header::default()
            },
            transact_ts_ns: ts_ns,
            ..ExecReport::default()
        }
    }
    /// The report kind, or `None` if unknown.
    pub fn kind(&self) -> Option<ExecKind> {
        ExecKind::from_u8(self.header.sub)
    }
    /// The order side, or `None` if unknown.
    pub fn side(&self) -> Option<Side> {
        Side::from_u8(self.header.side)
    }
}
