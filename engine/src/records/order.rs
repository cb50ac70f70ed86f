//! What the router wants (intents), what risk lets out (orders) and what it stops
//! (rejects).

use super::header::{Header, Side};
use bytemuck::{Pod, Zeroable};

/// ClOrdIDs are `seq × CL_PER_INPUT + k` for the k-th order input `seq` produced:
/// the same inputs give the same ids, so a restarted engine recognises its orders.
pub const CL_PER_INPUT: u64 = 16;

/// Order message type, carried in [`Header::sub`] of intents and orders.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// NewOrderSingle (FIX 35=D).
    New = b'D',
    /// OrderCancelRequest (FIX 35=F).
    Cancel = b'F',
    /// OrderCancelReplaceRequest (FIX 35=G).
    Replace = b'G',
    /// OrderMassCancelRequest (FIX 4.4 35=q): every working order of ours (of
    /// one instrument, or of all: [`MassCancelScope`] in `header.flags`) in
    /// one message. Sent by a kill or a halt when the counterparty takes it
    /// (`venue.mass_cancel`); never by a policy.
    MassCancel = b'q',
}

/// What an [`OrderAction::MassCancel`] cancels, carried in its order's
/// `header.flags`: FIX MassCancelRequestType (530) codes.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MassCancelScope {
    /// The orders of the order's instrument (530=1, with its Symbol).
    Instrument = 1,
    /// Every order of the session (530=7).
    All = 7,
}

impl MassCancelScope {
    /// Decodes a scope code; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<MassCancelScope> {
        match v {
            1 => Some(MassCancelScope::Instrument),
            7 => Some(MassCancelScope::All),
            _ => None,
        }
    }
}

impl OrderAction {
    /// Decodes an action byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<OrderAction> {
        match v {
            b'D' => Some(OrderAction::New),
            b'F' => Some(OrderAction::Cancel),
            b'G' => Some(OrderAction::Replace),
            b'q' => Some(OrderAction::MassCancel),
            _ => None,
        }
    }
}

/// Order type (FIX tag 40 values).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrdType {
    /// Market order: no price.
    Market = 1,
    /// Limit order.
    Limit = 2,
}

impl OrdType {
    /// Decodes an order-type byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<OrdType> {
        match v {
            1 => Some(OrdType::Market),
            2 => Some(OrdType::Limit),
            _ => None,
        }
    }
}

/// Execution topology: how a policy's target is worked.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topology {
    /// Rest at our own touch and wait to be filled.
    Passive = 1,
    /// Cross the spread: a limit at the far touch (marketable).
    Aggressive = 2,
    /// A market order for the whole difference (for backtests on quote-only data,
    /// whose venue fills market orders at the touch).
    Market = 3,
}

/// A router's request, before risk, 64 bytes.
///
/// `header.seq`/`ts_ns`/`tsc` are those of the input that triggered it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct OrderIntent {
    /// Common header (`kind` = `Kind::Intent`, `sub` = [`OrderAction`]).
    pub header: Header,
    /// Limit price (0 for market orders and cancels).
    pub px: i64,
    /// Quantity (total order quantity for new and replace).
    pub qty: i64,
    /// For cancel/replace: the ClOrdID of the order to act on.
    pub target_cl_ord_id: u64,
    /// Policy that produced the intent.
    pub policy_id: u16,
    /// A [`Topology`] code.
    pub topology: u8,
    /// An [`OrdType`] code.
    pub ord_type: u8,
    /// Padding (zero).
    pub _pad: [u8; 4],
}
const _: () = assert!(core::mem::size_of::<OrderIntent>() == 64);

impl OrderIntent {
    /// The action, or `None` if unknown.
    pub fn action(&self) -> Option<OrderAction> {
        OrderAction::from_u8(self.header.sub)
    }
    /// The side, or `None` if unknown.
    pub fn side(&self) -> Option<Side> {
        Side::from_u8(self.header.side)
    }
}

/// An order that passed risk, ready for the FIX encoder, 64 bytes.
///
/// ```text
///  0        32           40               48     56     64
///  +--------+------------+----------------+------+------+
///  | Header | cl_ord_id  | orig_cl_ord_id | px   | qty  |
///  +--------+------------+----------------+------+------+
/// ```
/// `header.sub` is the [`OrderAction`]; `header.flags` holds the [`OrdType`]
/// code (of a mass cancel: its [`MassCancelScope`] code; its side, price,
/// quantity and OrigClOrdID are 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Order {
    /// Common header (`kind` = `Kind::Order`).
    pub header: Header,
    /// ClOrdID, derived deterministically from the triggering input's sequence.
    pub cl_ord_id: u64,
    /// OrigClOrdID for cancel/replace, 0 for new orders.
    pub orig_cl_ord_id: u64,
    /// Limit price (0 for market orders).
    pub px: i64,
    /// Order quantity.
    pub qty: i64,
}
const _: () = assert!(core::mem::size_of::<Order>() == 64);

impl Order {
    /// The action, or `None` if unknown.
    pub fn action(&self) -> Option<OrderAction> {
        OrderAction::from_u8(self.header.sub)
    }
    /// The side, or `None` if unknown.
    pub fn side(&self) -> Option<Side> {
        Side::from_u8(self.header.side)
    }
    /// The order type, or `None` if unknown.
    pub fn ord_type(&self) -> Option<OrdType> {
        OrdType::from_u8(self.header.flags)
    }
    /// Of a mass cancel: the instrument whose orders it cancels, or `None`
    /// for every order (its scope [`MassCancelScope::All`]).
    pub fn mass_cancel_instrument(&self) -> Option<u32> {
        (MassCancelScope::from_u8(self.header.flags) == Some(MassCancelScope::Instrument))
            .then_some(self.header.instrument)
    }
}

/// Pre-trade risk reject reasons: stable codes, never renumbered.
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    /// Order quantity above the per-order maximum.
    MaxOrderQty = 1,
    /// Order notional above the per-order maximum.
    MaxNotional = 2,
    /// Limit price outside the band around the reference price.
    PriceBand = 3,
    /// Fill of this order could take the position beyond its limit.
    PositionLimit = 4,
    /// Too many open orders.
    MaxOpenOrders = 5,
    /// No reference price yet (no book, no trade).
    NoReference = 6,
    /// Malformed intent (unknown side/type, non-positive price or quantity).
    Malformed = 7,
    /// Cancel/replace of an order we do not have open.
    UnknownOrder = 8,
    /// Kill switch engaged.
    KillSwitch = 9,
    /// Gross exposure would exceed its cap.
    GrossExposure = 10,
    /// Order-rate throttle: no token left in the bucket.
    Throttle = 11,
    /// Drawdown brake, first stage: only risk-reducing orders pass.
    ReduceOnly = 12,
    /// Drawdown brake, second stage: no new orders.
    DrawdownHalt = 13,
    /// The operator put the engine in reduce-only mode.
    OperatorReduceOnly = 14,
    /// The operator halted the instrument.
    InstrumentHalted = 15,
}

impl RejectReason {
    /// Every reason, in code order (for counting tables).
    pub const ALL: [RejectReason; 15] = [
        RejectReason::MaxOrderQty,
        RejectReason::MaxNotional,
        RejectReason::PriceBand,
        RejectReason::PositionLimit,
        RejectReason::MaxOpenOrders,
        RejectReason::NoReference,
        RejectReason::Malformed,
        RejectReason::UnknownOrder,
        RejectReason::KillSwitch,
        RejectReason::GrossExposure,
        RejectReason::Throttle,
        RejectReason::ReduceOnly,
        RejectReason::DrawdownHalt,
        RejectReason::OperatorReduceOnly,
        RejectReason::InstrumentHalted,
    ];
    /// Decodes a reason code; `None` for an unknown code.
    pub fn from_u16(v: u16) -> Option<RejectReason> {
        Self::ALL.iter().copied().find(|r| *r as u16 == v)
    }
    /// Stable upper-case name used in summaries and messages.
    pub const fn name(self) -> &'static str {
        match self {
            RejectReason::MaxOrderQty => "MAX_ORDER_QTY",
            RejectReason::MaxNotional => "MAX_NOTIONAL",
            RejectReason::PriceBand => "PRICE_BAND",
            RejectReason::PositionLimit => "POSITION_LIMIT",
            RejectReason::MaxOpenOrders => "MAX_OPEN_ORDERS",
            RejectReason::NoReference => "NO_REFERENCE",
            RejectReason::Malformed => "MALFORMED",
            RejectReason::UnknownOrder => "UNKNOWN_ORDER",
            RejectReason::KillSwitch => "KILL_SWITCH",
            RejectReason::GrossExposure => "GROSS_EXPOSURE",
            RejectReason::Throttle => "THROTTLE",
            RejectReason::ReduceOnly => "REDUCE_ONLY",
            RejectReason::DrawdownHalt => "DRAWDOWN_HALT",
            RejectReason::OperatorReduceOnly => "OPERATOR_REDUCE_ONLY",
            RejectReason::InstrumentHalted => "INSTRUMENT_HALTED",
        }
    }
}

/// A risk reject, 64 bytes: the intent that failed, the limit and the offending value.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct RiskReject {
    /// Common header (`kind` = `Kind::Reject`, `sub` = the intent's [`OrderAction`]).
    pub header: Header,
    /// A [`RejectReason`] code.
    pub reason: u16,
    /// Padding (zero).
    pub _pad: [u8; 6],
    /// The limit that was breached, in the unit of the check.
    pub limit: i64,
    /// The value that breached it, in the same unit.
    pub value: i64,
    /// The intent's price.
    pub px: i64,
}
const _: () = assert!(core::mem::size_of::<RiskReject>() == 64);

impl RiskReject {
    /// The reason, or `None` if unknown.
    pub fn reason(&self) -> Option<RejectReason> {
        RejectReason::from_u16(self.reason)
    }
}
