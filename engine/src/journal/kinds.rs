//! Every journal record kind foxtrot writes, in one registry.
//!
//! A journal record (see `foxtrot_shm::journal::layout`) carries a 16-bit kind.
//! The codes below are the only ones written; each is written to one kind of
//! journal, with a payload of the size given. The input kinds are the
//! [`Kind`] codes of the records themselves.
//!
//! | code | name | journal | payload |
//! |---|---|---|---|
//! | 1 | `market_data` | `inputs/`, `market_data/` | [`MarketData`](crate::records::MarketData), 64 B |
//! | 2 | `exec_report` | `inputs/` | [`ExecReport`](crate::records::ExecReport), 128 B |
//! | 3 | `timer` | `inputs/` | [`Timer`](crate::records::Timer), 64 B |
//! | 4 | `command` | `inputs/` | [`OperatorCommand`](crate::records::OperatorCommand), 64 B |
//! | 19 | `order` | `orders/` | [`Order`](crate::records::Order), 64 B, then its FIX message |
//! | 20 | `reject` | `orders/` | [`RiskReject`](crate::records::RiskReject), 64 B |
//! | 21 | `diary` | `diary/` | [`DiaryRecord`](crate::records::DiaryRecord), 128 B |
//! | 22 | `theory` | `diary/` | [`TheoryPacket`](crate::records::TheoryPacket), 128 B |
//! | 100 | `config` | first record of `inputs/` and `market_data/` | the configuration's canonical text |
//! | 102 | `data_quality` | `market_data/`, a live run's `md_findings/` | [`DqEvent`](crate::records::DqEvent), 32 B |
//! | 103 | `md_block` | `market_data/` | up to 256 market-data events, compact ([`md_block`](super::md_block)) |
//! | 104 | `md_quotes` | `market_data/` | up to 256 two-sided quotes, compact ([`md_quotes`](super::md_quotes)) |
//! | 105 | `md_end` | last record of `market_data/` | `records u64 \| events u64`, LE: the records before it (config excluded) and the events they hold — its writer finished ([`market_data`](super::market_data)) |
//! | 106 | `run_end` | last record of `inputs/` | `inputs u64 \| orders u64 \| diary u64`, LE: the records of the run's three journals — it ended on its own terms, its outputs all journalled ([`RunEnd`](super::run::RunEnd)) |
//! | 200 | `fix_sent` | a FIX session store | MsgSeqNum (u64 LE), then the message sent |
//! | 201 | `fix_seqs` | a FIX session store | `next_out u64 \| next_in u64`, LE |
//! | 202 | `fix_reset` | a FIX session store | empty: everything before it is void |
//! | 0xFFFF | end of segment | any | written by the journal itself |

use crate::records::Kind;

/// The effective configuration, first record of a run's input journal and of a
/// market-data journal.
pub const KIND_CONFIG: u16 = 100;
/// A data-quality finding ([`DqEvent`](crate::records::DqEvent)).
pub const KIND_DATA_QUALITY: u16 = 102;
/// A compact block of market-data events ([`super::md_block`]).
pub const KIND_MD_BLOCK: u16 = 103;
/// A compact block of two-sided quotes ([`super::md_quotes`]).
pub const KIND_MD_QUOTES: u16 = 104;
/// The end of a market-data journal: its writer finished
/// ([`super::market_data`]).
pub const KIND_MD_END: u16 = 105;
/// The end of a run's input journal: the run ended on its own terms (its
/// inputs ran out, or it was stopped and drained) with every output
/// journalled ([`super::run`]). A run killed has none.
pub const KIND_RUN_END: u16 = 106;
/// A FIX session store: an application message sent.
pub const KIND_FIX_SENT: u16 = 200;
/// A FIX session store: the sequence numbers.
pub const KIND_FIX_SEQS: u16 = 201;
/// A FIX session store: a sequence reset.
pub const KIND_FIX_RESET: u16 = 202;
/// The end-of-segment marker the journal itself writes.
pub const KIND_END: u16 = foxtrot_shm::journal::layout::KIND_END;

/// The size a payload of a kind must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Exactly this many bytes.
    Exactly(usize),
    /// At least this many (a fixed part followed by text).
    AtLeast(usize),
    /// Any length.
    Any,
}

impl Payload {
    /// Whether `len` bytes is a valid payload.
    pub fn admits(self, len: usize) -> bool {
        match self {
            Payload::Exactly(n) => len == n,
            Payload::AtLeast(n) => len >= n,
            Payload::Any => true,
        }
    }
}

/// One registered kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// The code.
    pub code: u16,
    /// Its name in `journal cat` and exports.
    pub name: &'static str,
    /// Its payload size.
    pub payload: Payload,
}

/// Every kind written, in code order.
pub const ALL: [KindInfo; 17] = [
    KindInfo {
        code: Kind::MarketData as u16,
        name: "market_data",
        payload: Payload::Exactly(64),
    },
    KindInfo {
        code: Kind::ExecReport as u16,
        name: "exec_report",
        payload: Payload::Exactly(128),
    },
    KindInfo {
        code: Kind::Timer as u16,
        name: "timer",
        payload: Payload::Exactly(64),
    },
    KindInfo {
        code: Kind::Command as u16,
        name: "command",
        payload: Payload::Exactly(64),
    },
    KindInfo {
        code: Kind::Order as u16,
        name: "order",
        payload: Payload::AtLeast(64),
    },
    KindInfo {
        code: Kind::Reject as u16,
        name: "reject",
        payload: Payload::Exactly(64),
    },
    KindInfo {
        code: Kind::Diary as u16,
        name: "diary",
        payload: Payload::Exactly(128),
    },
    KindInfo {
        code: Kind::Theory as u16,
        name: "theory",
        payload: Payload::Exactly(128),
    },
    KindInfo {
        code: KIND_CONFIG,
        name: "config",
        payload: Payload::Any,
    },
    KindInfo {
        code: KIND_DATA_QUALITY,
        name: "data_quality",
        payload: Payload::Exactly(32),
    },
    KindInfo {
        code: KIND_MD_BLOCK,
        name: "md_block",
        payload: Payload::AtLeast(4),
    },
    KindInfo {
        code: KIND_MD_QUOTES,
        name: "md_quotes",
        payload: Payload::AtLeast(4),
    },
    KindInfo {
        code: KIND_MD_END,
        name: "md_end",
        payload: Payload::Exactly(16),
    },
    KindInfo {
        code: KIND_RUN_END,
        name: "run_end",
        payload: Payload::Exactly(24),
    },
    KindInfo {
        code: KIND_FIX_SENT,
        name: "fix_sent",
        payload: Payload::AtLeast(9),
    },
    KindInfo {
        code: KIND_FIX_SEQS,
        name: "fix_seqs",
        payload: Payload::Exactly(16),
    },
    KindInfo {
        code: KIND_FIX_RESET,
        name: "fix_reset",
        payload: Payload::Any,
    },
];

/// The registered kind `code`, if it is one.
pub fn info(code: u16) -> Option<&'static KindInfo> {
    ALL.iter().find(|k| k.code == code)
}

/// Size of an input record of `kind` (1–4) in an input journal, `None` for other kinds.
pub fn input_size(kind: u8) -> Option<usize> {
    match Kind::from_u8(kind)? {
        Kind::MarketData | Kind::Timer | Kind::Command => Some(64),
        Kind::ExecReport => Some(128),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted_and_inputs_agree() {
        for w in ALL.windows(2) {
            assert!(w[0].code < w[1].code, "{:?} {:?}", w[0], w[1]);
        }
        for k in 1..=4u8 {
            assert_eq!(info(k as u16).map(|i| i.payload), input_size(k).map(Payload::Exactly));
        }
        assert_eq!(info(KIND_END), None);
    }
}
