//! Data-quality findings as journalled beside market data: what the feed's
//! quality monitor found, and where (journal kind 102).
//!
//! | code | finding |
//! |---|---|
//! | [`DqCode::Gap`] | a transport lost messages (MoldUDP64 sequence gap): `a` = first missing sequence number, `b` = how many |
//! | [`DqCode::OutOfOrder`] | the event's time is before the previous event's: `a` = previous, `b` = this |
//! | [`DqCode::Crossed`] | after an update the best bid is above the best ask: `a` = bid, `b` = ask |
//! | [`DqCode::Locked`] | after an update the best bid equals the best ask |
//! | [`DqCode::Stale`] | the instrument had no event for longer than the stale limit before this one: `a` = silence in ns |
//! | [`DqCode::PriceJump`] | a trade or the mid moved beyond the band from the last mid: `a` = last mid, `b` = new price |
//! | [`DqCode::Decode`] | a message could not be decoded (`a` = offset or sequence number) |
//! | [`DqCode::Book`] | the feed referred to an unknown order, or similar (`a` = order id) |
//! | [`DqCode::Session`] | the feed's session changed (its publisher restarted): every order of the old session withdrawn, `a` = how many, `b` = messages of the old session received |

use bytemuck::{Pod, Zeroable};

/// What a data-quality event says.
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DqCode {
    /// Messages lost in transport.
    Gap = 1,
    /// Time went backwards.
    OutOfOrder = 2,
    /// Bid above ask.
    Crossed = 3,
    /// Bid equal to ask.
    Locked = 4,
    /// Instrument silent too long.
    Stale = 5,
    /// Price moved beyond the band.
    PriceJump = 6,
    /// Undecodable message.
    Decode = 7,
    /// Inconsistent order-level data (unknown order, duplicate, overfill).
    Book = 8,
    /// An event that cannot be: a non-positive price or a negative size (or a
    /// crossed quote row): dropped, never journalled as data.
    Invalid = 9,
    /// The feed's session changed (a MoldUDP64 publisher restarted under a
    /// new session name): the old session's book was withdrawn.
    Session = 10,
}

impl DqCode {
    /// All codes, in order.
    pub const ALL: [DqCode; 10] = [
        DqCode::Gap,
        DqCode::OutOfOrder,
        DqCode::Crossed,
        DqCode::Locked,
        DqCode::Stale,
        DqCode::PriceJump,
        DqCode::Decode,
        DqCode::Book,
        DqCode::Invalid,
        DqCode::Session,
    ];

    /// Decodes a code.
    pub fn from_u16(v: u16) -> Option<DqCode> {
        DqCode::ALL.into_iter().find(|c| *c as u16 == v)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DqCode::Gap => "gap",
            DqCode::OutOfOrder => "out_of_order",
            DqCode::Crossed => "crossed",
            DqCode::Locked => "locked",
            DqCode::Stale => "stale",
            DqCode::PriceJump => "price_jump",
            DqCode::Decode => "decode",
            DqCode::Book => "book",
            DqCode::Invalid => "invalid",
            DqCode::Session => "session",
        }
    }
}

/// One finding, 32 bytes, as journalled.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct DqEvent {
    /// Time of the event that revealed it.
    pub ts_ns: u64,
    /// First detail (see the module table).
    pub a: i64,
    /// Second detail.
    pub b: i64,
    /// Instrument (`u32::MAX` when not about one).
    pub instrument: u32,
    /// A [`DqCode`].
    pub code: u16,
    /// Padding (zero).
    pub _pad: u16,
}
const _: () = assert!(size_of::<DqEvent>() == 32);

impl DqEvent {
    /// A finding.
    pub fn new(code: DqCode, instrument: u32, ts_ns: u64, a: i64, b: i64) -> Self {
        DqEvent {
            ts_ns,
            a,
            b,
            instrument,
            code: code as u16,
            _pad: 0,
        }
    }

    /// The code, if known.
    pub fn code(&self) -> Option<DqCode> {
        DqCode::from_u16(self.code)
    }
}
