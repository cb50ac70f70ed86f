//! ITCH 5.0 messages as zero-copy big-endian views.
//!
//! Every message starts with the same 11 bytes — type (1), stock locate (2),
//! tracking number (2), timestamp (6: nanoseconds since midnight) — and has a
//! fixed length set by its type ([`message_len`]); all integers are big-endian,
//! prices are `Price(4)` (four implied decimals), alphas are space-padded ASCII.
//! Each type the book needs has a `#[repr(C)]` struct of `zerocopy` big-endian
//! fields whose size is asserted against the specification's length, so a view is
//! a bounds check and a cast: nothing is copied or byte-swapped until a field is
//! read. Types the book does not need are decoded as [`Message::Other`], skipped by
//! their documented length.

use crate::Error;
use zerocopy::byteorder::big_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// The length in bytes (type byte included) of each ITCH 5.0 message type, from
/// the specification; `None` for a byte that is no message type.
pub const fn message_len(kind: u8) -> Option<usize> {
    Some(match kind {
        b'S' => 12,
        b'R' => 39,
        b'H' => 25,
        b'Y' => 20,
        b'L' => 26,
        b'V' => 35,
        b'W' => 12,
        b'K' => 28,
        b'J' => 35,
        b'h' => 21,
        b'A' => 36,
        b'F' => 40,
        b'E' => 31,
        b'C' => 36,
        b'X' => 23,
        b'D' => 19,
        b'U' => 35,
        b'P' => 44,
        b'Q' => 40,
        b'B' => 19,
        b'I' => 50,
        b'N' => 20,
        b'O' => 48,
        _ => return None,
    })
}

/// The 11 bytes every message starts with.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Head {
    /// Message type.
    pub kind: u8,
    /// Locate code of the security (0 for market-wide messages).
    pub locate: U16,
    /// NASDAQ internal tracking number.
    pub tracking: U16,
    /// Nanoseconds since midnight, 48-bit big-endian.
    pub ts: [u8; 6],
}
const _: () = assert!(size_of::<Head>() == 11);

impl Head {
    /// Nanoseconds since midnight.
    #[inline]
    pub fn timestamp(&self) -> u64 {
        let t = &self.ts;
        (t[0] as u64) << 40
            | (t[1] as u64) << 32
            | (t[2] as u64) << 24
            | (t[3] as u64) << 16
            | (t[4] as u64) << 8
            | t[5] as u64
    }
    /// Stock locate.
    #[inline]
    pub fn locate(&self) -> u16 {
        self.locate.get()
    }
}

/// `S`: system event (start/end of messages, of system hours, of market hours).
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct SystemEvent {
    /// Common head.
    pub head: Head,
    /// `O` start of messages, `S` start of system hours, `Q` start of market hours,
    /// `M` end of market hours, `E` end of system hours, `C` end of messages.
    pub event: u8,
}
const _: () = assert!(size_of::<SystemEvent>() == 12);

/// `R`: stock directory, one per security at the start of the day.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct StockDirectory {
    /// Common head (its locate is the one this day's messages use for the stock).
    pub head: Head,
    /// Symbol, space-padded.
    pub stock: [u8; 8],
    /// Market category.
    pub market_category: u8,
    /// Financial status indicator.
    pub financial_status: u8,
    /// Round lot size in shares.
    pub round_lot_size: U32,
    /// `Y` if only round lots are accepted.
    pub round_lots_only: u8,
    /// Issue classification.
    pub issue_classification: u8,
    /// Issue sub-type.
    pub issue_subtype: [u8; 2],
    /// `P` live/production, `T` test.
    pub authenticity: u8,
    /// Short-sale threshold indicator.
    pub short_sale_threshold: u8,
    /// IPO flag.
    pub ipo_flag: u8,
    /// LULD reference price tier.
    pub luld_tier: u8,
    /// ETP flag.
    pub etp_flag: u8,
    /// ETP leverage factor.
    pub etp_leverage: U32,
    /// Inverse indicator.
    pub inverse: u8,
}
const _: () = assert!(size_of::<StockDirectory>() == 39);

/// `H`: stock trading action (halted, paused, quotation only, trading).
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct TradingAction {
    /// Common head.
    pub head: Head,
    /// Symbol, space-padded.
    pub stock: [u8; 8],
    /// `H` halted, `P` paused, `Q` quotation only, `T` trading.
    pub state: u8,
    /// Reserved.
    pub reserved: u8,
    /// Reason code, space-padded.
    pub reason: [u8; 4],
}
const _: () = assert!(size_of::<TradingAction>() == 25);

/// `A`: add order (no attribution).
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AddOrder {
    /// Common head.
    pub head: Head,
    /// Order reference number, unique for the day.
    pub order_ref: U64,
    /// `B` buy, `S` sell.
    pub side: u8,
    /// Shares.
    pub shares: U32,
    /// Symbol, space-padded.
    pub stock: [u8; 8],
    /// Limit price, `Price(4)`.
    pub price: U32,
}
const _: () = assert!(size_of::<AddOrder>() == 36);

/// `F`: add order with market-participant attribution.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AddOrderMpid {
    /// The same fields as `A`.
    pub add: AddOrder,
    /// Market participant id.
    pub attribution: [u8; 4],
}
const _: () = assert!(size_of::<AddOrderMpid>() == 40);

/// `E`: part or all of a resting order executed at its limit price.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Executed {
    /// Common head.
    pub head: Head,
    /// The resting order.
    pub order_ref: U64,
    /// Shares executed.
    pub shares: U32,
    /// Match number.
    pub match_number: U64,
}
const _: () = assert!(size_of::<Executed>() == 31);

/// `C`: part or all of a resting order executed at a price other than its limit.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ExecutedWithPrice {
    /// Common head.
    pub head: Head,
    /// The resting order.
    pub order_ref: U64,
    /// Shares executed.
    pub shares: U32,
    /// Match number.
    pub match_number: U64,
    /// `Y` if the print counts towards volume and last sale, `N` if not.
    pub printable: u8,
    /// Execution price, `Price(4)`.
    pub price: U32,
}
const _: () = assert!(size_of::<ExecutedWithPrice>() == 36);

/// `X`: part of a resting order cancelled.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Cancel {
    /// Common head.
    pub head: Head,
    /// The resting order.
    pub order_ref: U64,
    /// Shares removed.
    pub shares: U32,
}
const _: () = assert!(size_of::<Cancel>() == 23);

/// `D`: a resting order deleted.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Delete {
    /// Common head.
    pub head: Head,
    /// The resting order.
    pub order_ref: U64,
}
const _: () = assert!(size_of::<Delete>() == 19);

/// `U`: a resting order replaced by a new one (same side, new reference, price and
/// size; priority lost).
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Replace {
    /// Common head.
    pub head: Head,
    /// The order replaced.
    pub orig_ref: U64,
    /// The new order's reference.
    pub new_ref: U64,
    /// New shares.
    pub shares: U32,
    /// New limit price, `Price(4)`.
    pub price: U32,
}
const _: () = assert!(size_of::<Replace>() == 35);

/// `P`: a trade against a non-displayed order (not reflected in the book).
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Trade {
    /// Common head.
    pub head: Head,
    /// Reference of the non-displayed order (0 since 2014).
    pub order_ref: U64,
    /// Side of the resting non-displayed order: `B` or `S`.
    pub side: u8,
    /// Shares.
    pub shares: U32,
    /// Symbol, space-padded.
    pub stock: [u8; 8],
    /// Price, `Price(4)`.
    pub price: U32,
    /// Match number.
    pub match_number: U64,
}
const _: () = assert!(size_of::<Trade>() == 44);

/// `Q`: the cross of an opening, closing, IPO or halt auction.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct CrossTrade {
    /// Common head.
    pub head: Head,
    /// Shares matched (8 bytes in this message).
    pub shares: U64,
    /// Symbol, space-padded.
    pub stock: [u8; 8],
    /// Cross price, `Price(4)`.
    pub price: U32,
    /// Match number.
    pub match_number: U64,
    /// `O` opening, `C` closing, `H` halt/IPO, `I` intraday.
    pub cross_type: u8,
}
const _: () = assert!(size_of::<CrossTrade>() == 40);

/// One decoded message: a view into the bytes it was decoded from.
#[derive(Clone, Copy, Debug)]
pub enum Message<'a> {
    /// `S`.
    SystemEvent(&'a SystemEvent),
    /// `R`.
    StockDirectory(&'a StockDirectory),
    /// `H`.
    TradingAction(&'a TradingAction),
    /// `A`.
    AddOrder(&'a AddOrder),
    /// `F` (the `A` fields are in `.add`).
    AddOrderMpid(&'a AddOrderMpid),
    /// `E`.
    Executed(&'a Executed),
    /// `C`.
    ExecutedWithPrice(&'a ExecutedWithPrice),
    /// `X`.
    Cancel(&'a Cancel),
    /// `D`.
    Delete(&'a Delete),
    /// `U`.
    Replace(&'a Replace),
    /// `P`.
    Trade(&'a Trade),
    /// `Q`.
    CrossTrade(&'a CrossTrade),
    /// Any other ITCH 5.0 type (`Y`, `L`, `V`, `W`, `K`, `J`, `h`, `B`, `I`, `N`,
    /// `O`): its head only.
    Other(&'a Head),
}

impl<'a> Message<'a> {
    /// The common head.
    #[inline]
    pub fn head(&self) -> &'a Head {
        match *self {
            Message::SystemEvent(m) => &m.head,
            Message::StockDirectory(m) => &m.head,
            Message::TradingAction(m) => &m.head,
            Message::AddOrder(m) => &m.head,
            Message::AddOrderMpid(m) => &m.add.head,
            Message::Executed(m) => &m.head,
            Message::ExecutedWithPrice(m) => &m.head,
            Message::Cancel(m) => &m.head,
            Message::Delete(m) => &m.head,
            Message::Replace(m) => &m.head,
            Message::Trade(m) => &m.head,
            Message::CrossTrade(m) => &m.head,
            Message::Other(h) => h,
        }
    }
}

#[inline]
fn view<T: FromBytes + KnownLayout + Immutable + Unaligned>(b: &[u8]) -> Result<&T, Error> {
    // `decode` has checked the length against the type's, which equals
    // size_of::<T>(), so this cannot fail; if it did, it is a short message.
    T::ref_from_prefix(b).map(|(t, _)| t).map_err(|_| Error::ShortMessage {
        kind: b.first().copied().unwrap_or(0),
        expected: size_of::<T>(),
        found: b.len(),
    })
}

/// Decodes one message from `b` (which may be longer than the message: the extra
/// bytes are ignored, as a newer revision may append fields).
#[inline]
pub fn decode(b: &[u8]) -> Result<Message<'_>, Error> {
    let Some(&kind) = b.first() else {
        return Err(Error::EmptyMessage);
    };
    let Some(expected) = message_len(kind) else {
        return Err(Error::UnknownType { kind });
    };
    if b.len() < expected {
        return Err(Error::ShortMessage {
            kind,
            expected,
            found: b.len(),
        });
    }
    Ok(match kind {
        b'A' => Message::AddOrder(view(b)?),
        b'D' => Message::Delete(view(b)?),
        b'E' => Message::Executed(view(b)?),
        b'X' => Message::Cancel(view(b)?),
        b'U' => Message::Replace(view(b)?),
        b'F' => Message::AddOrderMpid(view(b)?),
        b'C' => Message::ExecutedWithPrice(view(b)?),
        b'P' => Message::Trade(view(b)?),
        b'Q' => Message::CrossTrade(view(b)?),
        b'S' => Message::SystemEvent(view(b)?),
        b'R' => Message::StockDirectory(view(b)?),
        b'H' => Message::TradingAction(view(b)?),
        _ => Message::Other(view(b)?),
    })
}

/// A symbol with its space padding removed.
pub fn symbol(stock: &[u8; 8]) -> &str {
    let n = stock.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    std::str::from_utf8(&stock[..n]).unwrap_or("")
}
