//! Market-data events: the normalised form every feed decoder produces.

use super::header::{Header, Kind, Side};
use bytemuck::{Pod, Zeroable};

/// Market-data action codes, carried in [`Header::sub`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MdAction {
    /// A resting order of `qty` was added at `px` on `side`.
    Add = 1,
    /// `qty` was removed from a resting order at `px` on `side` (partial or full cancel).
    Cancel = 2,
    /// A resting order at `px` changed size in place, keeping priority; `qty` is the
    /// signed change (negative for a reduction).
    Modify = 3,
    /// `qty` of a resting order at `px` on `side` was executed against an aggressor
    /// of the opposite side.
    Execute = 4,
    /// A print not reflected in the visible book (e.g. a hidden or off-book trade);
    /// `side` is the aggressor side when known, 0 otherwise.
    Trade = 5,
    /// Top-of-book snapshot for `side`: the best level is now `px` with `qty` total
    /// (qty 0 empties the side). Used by quote-only sources.
    Quote = 6,
}

impl MdAction {
    /// Decodes an action byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<MdAction> {
        Some(match v {
            1 => MdAction::Add,
            2 => MdAction::Cancel,
            3 => MdAction::Modify,
            4 => MdAction::Execute,
            5 => MdAction::Trade,
            6 => MdAction::Quote,
            _ => return None,
        })
    }
}

/// A market-data event, 64 bytes.
///
/// ```text
///  0        32            40            48       56       64
///  +--------+-------------+-------------+--------+--------+
///  | Header | exch_ts_ns  | order_id    | px     | qty    |
///  +--------+-------------+-------------+--------+--------+
/// ```
/// `header.sub` is an [`MdAction`], `header.side` a [`Side`]. `header.ts_ns` is the
/// receive (control) time; `exch_ts_ns` the exchange's own timestamp.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct MarketData {
    /// Common header (`kind` = [`Kind::MarketData`]).
    pub header: Header,
    /// Exchange timestamp in nanoseconds since the epoch.
    pub exch_ts_ns: u64,
    /// Venue order id of the resting order concerned (0 for quotes and prints).
    pub order_id: u64,
    /// Price in the instrument's price units.
    pub px: i64,
    /// Quantity in the instrument's quantity units (see [`MdAction`] for the sign).
    pub qty: i64,
}
const _: () = assert!(core::mem::size_of::<MarketData>() == 64);

impl MarketData {
    /// Builds a market-data event; `seq`, `tsc` are left for ingest to stamp.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        action: MdAction,
        instrument: u32,
        side: Option<Side>,
        ts_ns: u64,
        order_id: u64,
        px: i64,
        qty: i64,
        flags: u8,
    ) -> Self {
        MarketData {
            header: Header {
                seq: 0,
                ts_ns,
                tsc: 0,
                kind: Kind::MarketData as u8,
                sub: action as u8,
                side: side.map_or(0, |s| s as u8),
                flags,
                instrument,
            },
            exch_ts_ns: ts_ns,
            order_id,
            px,
            qty,
        }
    }
    /// The action, or `None` if the byte is not a known code.
    pub fn action(&self) -> Option<MdAction> {
        MdAction::from_u8(self.header.sub)
    }
    /// The side, or `None` if absent or unknown.
    pub fn side(&self) -> Option<Side> {
        Side::from_u8(self.header.side)
    }
}
