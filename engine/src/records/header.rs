//! The 32-byte header every hot-path record starts with.

use bytemuck::{Pod, Zeroable};

/// Common record header, 32 bytes, native-endian, 8-byte aligned.
///
/// ```text
///  0               8               16              24   25   26   27   28        32
///  +---------------+---------------+---------------+----+----+----+----+---------+
///  | seq           | ts_ns         | tsc           |kind|sub |side|flag| instr   |
///  +---------------+---------------+---------------+----+----+----+----+---------+
/// ```
/// - `seq` is assigned by the single sequencer (ingest); 0 means "not yet sequenced".
/// - `ts_ns` is control time in nanoseconds: the only clock the core ever sees.
/// - `tsc` is the ingest stamp for latency measurement. The core copies it through
///   and never branches on it, so it never influences a decision.
/// - `kind` is one of [`Kind`]; `sub` is a per-kind action code; `side` is a [`Side`]
///   code (0 when not applicable); `flags` is per-kind (see [`flags`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Header {
    /// Sequence number assigned by ingest, strictly increasing within a session.
    pub seq: u64,
    /// Control time (event time) in nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Ingest timestamp-counter stamp, for latency measurement only.
    pub tsc: u64,
    /// Record kind, a [`Kind`] code.
    pub kind: u8,
    /// Per-kind action code.
    pub sub: u8,
    /// [`Side`] code, 0 when the record has no side.
    pub side: u8,
    /// Per-kind flag bits.
    pub flags: u8,
    /// Instrument id (index into the configured instrument table).
    pub instrument: u32,
}
const _: () = assert!(core::mem::size_of::<Header>() == 32);

/// Byte offset of [`Header::kind`], for readers that peek at raw bytes.
pub const KIND_OFFSET: usize = 24;

/// Record kinds. Inputs (re-enter through ingest) are below 16; outputs above.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// [`crate::records::MarketData`].
    MarketData = 1,
    /// [`crate::records::ExecReport`].
    ExecReport = 2,
    /// [`crate::records::Timer`].
    Timer = 3,
    /// [`crate::records::OperatorCommand`].
    Command = 4,
    /// [`crate::records::FeatureVector`].
    Features = 16,
    /// [`crate::records::Belief`].
    Belief = 17,
    /// [`crate::records::OrderIntent`].
    Intent = 18,
    /// [`crate::records::Order`].
    Order = 19,
    /// [`crate::records::RiskReject`].
    Reject = 20,
    /// [`crate::records::DiaryRecord`].
    Diary = 21,
    /// [`crate::records::TheoryPacket`].
    Theory = 22,
}

impl Kind {
    /// Decodes a kind byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            1 => Kind::MarketData,
            2 => Kind::ExecReport,
            3 => Kind::Timer,
            4 => Kind::Command,
            16 => Kind::Features,
            17 => Kind::Belief,
            18 => Kind::Intent,
            19 => Kind::Order,
            20 => Kind::Reject,
            21 => Kind::Diary,
            22 => Kind::Theory,
            _ => return None,
        })
    }
}

/// Order side, encoded as FIX tag 54 values.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Bid / buy (FIX `54=1`).
    Buy = 1,
    /// Ask / sell (FIX `54=2`).
    Sell = 2,
}

impl Side {
    /// Decodes a side byte; `None` for 0 or an unknown code.
    pub const fn from_u8(v: u8) -> Option<Side> {
        match v {
            1 => Some(Side::Buy),
            2 => Some(Side::Sell),
            _ => None,
        }
    }
    /// The other side.
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    /// +1 for buy, -1 for sell: the sign of a position change from a fill.
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
    /// Index for per-side arrays: buy 0, sell 1.
    pub const fn index(self) -> usize {
        self as usize - 1
    }
}

/// Flag bits shared by input records.
pub mod flags {
    /// Last record of a feed packet / venue batch: the book is consistent after it,
    /// so stages that decide (router) act only on records carrying this bit.
    pub const LAST_IN_BATCH: u8 = 1 << 0;
    /// First record after a detected feed gap (missing sequence or time jump).
    pub const AFTER_GAP: u8 = 1 << 1;
}
