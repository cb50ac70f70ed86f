//! Orders into pre-built FIX templates, patched in place: what the core's encode
//! stage runs and what the FIX link re-stamps with the session's numbers.
//!
//! For each instrument and message type a template is built once, with every field
//! that varies given a **fixed width** (FIX permits leading zeros in int, qty, price
//! and seq fields). So BodyLength is a constant of the template, and encoding an
//! order is: write the digits of MsgSeqNum, SendingTime, ClOrdID, (OrigClOrdID),
//! Side, OrderQty, (Price) and TransactTime into their slots, then the CheckSum.
//! Nothing allocates, nothing is searched.
//!
//! Layout of the NewOrderSingle (limit) template, `|` standing for SOH:
//! ```text
//! 8=FIX.4.4|9=BBB|35=D|34=SSSSSSSSSS|49=SENDER|52=YYYYMMDD-HH:MM:SS.sss|56=TARGET|
//! 11=CCCCCCCCCCCCCCCCCCCC|21=1|38=QQQQQQQQQQQQ|40=2|44=PPPPPPPPPPPPPPPP|54=S|55=SYM|
//! 59=0|60=YYYYMMDD-HH:MM:SS.sss|10=KKK|
//! ```
//! Cancel (35=F) carries 41/11/38/54/55/60; replace (35=G) carries 41/11/21/38/40/44/
//! 54/55/59/60; the market NewOrderSingle has 40=1 and no 44. The
//! OrderMassCancelRequest (35=q, FIX 4.4) carries 11/530=1/55/60 for an
//! instrument's orders and 11/530=7/60 for all (no side, quantity or price).

use super::tags::{self, Tag};
use crate::error::Error;
use crate::format::calendar::fix_second;
use crate::records::{pow10, InstrumentSpec, MassCancelScope, OrdType, Order, OrderAction, Side};

/// Width of MsgSeqNum (tag 34).
pub const SEQ_WIDTH: usize = 10;
/// Width of ClOrdID / OrigClOrdID (tags 11, 41): any u64.
pub const CLORDID_WIDTH: usize = 20;
/// The text of ClOrdID `cl` exactly as an order carries it (tag 11 or 41):
/// zero-padded to [`CLORDID_WIDTH`] digits. To a counterparty a ClOrdID is a
/// string, so anything that names an order later (a status request, say)
/// must write it this way, not as the plain number.
pub fn clordid_text(cl: u64) -> [u8; CLORDID_WIDTH] {
    let mut t = [0u8; CLORDID_WIDTH];
    put_uint(&mut t, cl);
    t
}

/// Width of OrderQty (tag 38), decimals included.
pub const QTY_WIDTH: usize = 12;
/// Width of Price (tag 44), decimals included.
pub const PX_WIDTH: usize = 16;
/// Width of a UTCTimestamp with milliseconds.
pub const TS_WIDTH: usize = 21;

#[derive(Clone, Copy, Debug, Default)]
struct Slots {
    seq: usize,
    sending: usize,
    cl: usize,
    orig: usize,
    side: usize,
    qty: usize,
    px: usize,
    transact: usize,
    checksum: usize,
}

/// One pre-built message with the offsets of its variable fields.
#[derive(Clone, Debug)]
struct Template {
    buf: Vec<u8>,
    slots: Slots,
    /// Sum of every byte before the CheckSum field that is *not* in a variable
    /// slot. The CheckSum is this plus the byte sums the slot writers return, so
    /// encoding never re-reads the message.
    fixed_sum: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    NewLimit,
    NewMarket,
    Cancel,
    Replace,
    MassInstrument,
    MassAll,
}

/// Every shape, in template order (the index [`shape_of`] returns).
const SHAPES: [Shape; 6] = [
    Shape::NewLimit,
    Shape::NewMarket,
    Shape::Cancel,
    Shape::Replace,
    Shape::MassInstrument,
    Shape::MassAll,
];

const SOH: u8 = 0x01;

struct Builder {
    buf: Vec<u8>,
    slots: Slots,
}

impl Builder {
    fn field(&mut self, tag: Tag, value: &[u8]) -> usize {
        self.buf.extend_from_slice(tag.to_string().as_bytes());
        self.buf.push(b'=');
        let at = self.buf.len();
        self.buf.extend_from_slice(value);
        self.buf.push(SOH);
        at
    }
    fn slot(&mut self, tag: Tag, width: usize) -> usize {
        self.field(tag, &vec![b'0'; width])
    }
}

fn build(shape: Shape, begin: &str, sender: &str, target: &str, spec: &InstrumentSpec) -> Template {
    let msg_type: &[u8] = match shape {
        Shape::NewLimit | Shape::NewMarket => b"D",
        Shape::Cancel => b"F",
        Shape::Replace => b"G",
        Shape::MassInstrument | Shape::MassAll => b"q",
    };
    let mass = matches!(shape, Shape::MassInstrument | Shape::MassAll);
    let mut body = Builder {
        buf: Vec::new(),
        slots: Slots::default(),
    };
    body.field(tags::MSG_TYPE, msg_type);
    body.slots.seq = body.slot(tags::MSG_SEQ_NUM, SEQ_WIDTH);
    body.field(tags::SENDER_COMP_ID, sender.as_bytes());
    body.slots.sending = body.slot(tags::SENDING_TIME, TS_WIDTH);
    body.field(tags::TARGET_COMP_ID, target.as_bytes());
    body.slots.cl = body.slot(tags::CL_ORD_ID, CLORDID_WIDTH);
    if matches!(shape, Shape::Cancel | Shape::Replace) {
        body.slots.orig = body.slot(tags::ORIG_CL_ORD_ID, CLORDID_WIDTH);
    }
    match shape {
        Shape::MassInstrument => {
            body.field(tags::MASS_CANCEL_REQUEST_TYPE, b"1");
            body.field(tags::SYMBOL, spec.symbol.as_bytes());
        }
        Shape::MassAll => {
            body.field(tags::MASS_CANCEL_REQUEST_TYPE, b"7");
        }
        _ => {}
    }
    if !mass && shape != Shape::Cancel {
        body.field(tags::HANDL_INST, b"1");
    }
    if !mass {
        body.slots.qty = body.slot(tags::ORDER_QTY, QTY_WIDTH);
    }
    match shape {
        Shape::NewLimit | Shape::Replace => {
            body.field(tags::ORD_TYPE, b"2");
            body.slots.px = body.slot(tags::PRICE, PX_WIDTH);
        }
        Shape::NewMarket => {
            body.field(tags::ORD_TYPE, b"1");
        }
        Shape::Cancel | Shape::MassInstrument | Shape::MassAll => {}
    }
    if !mass {
        body.slots.side = body.slot(tags::SIDE, 1);
        body.field(tags::SYMBOL, spec.symbol.as_bytes());
    }
    if !mass && shape != Shape::Cancel {
        body.field(tags::TIME_IN_FORCE, b"0");
    }
    body.slots.transact = body.slot(tags::TRANSACT_TIME, TS_WIDTH);

    let mut head = Vec::new();
    head.extend_from_slice(b"8=");
    head.extend_from_slice(begin.as_bytes());
    head.push(SOH);
    head.extend_from_slice(format!("9={}", body.buf.len()).as_bytes());
    head.push(SOH);
    let shift = head.len();
    let mut buf = head;
    buf.extend_from_slice(&body.buf);
    let checksum = buf.len() + 3;
    buf.extend_from_slice(b"10=000\x01");
    let s = body.slots;
    let sh = |o: usize| if o == 0 { 0 } else { o + shift };
    let slots = Slots {
        seq: sh(s.seq),
        sending: sh(s.sending),
        cl: sh(s.cl),
        orig: sh(s.orig),
        side: sh(s.side),
        qty: sh(s.qty),
        px: sh(s.px),
        transact: sh(s.transact),
        checksum,
    };
    let mut variable = vec![false; buf.len()];
    for (at, w) in [
        (slots.seq, SEQ_WIDTH),
        (slots.sending, TS_WIDTH),
        (slots.cl, CLORDID_WIDTH),
        (slots.orig, CLORDID_WIDTH),
        (slots.side, 1),
        (slots.qty, QTY_WIDTH),
        (slots.px, PX_WIDTH),
        (slots.transact, TS_WIDTH),
    ] {
        if at != 0 {
            variable[at..at + w].iter_mut().for_each(|v| *v = true);
        }
    }
    let fixed_sum = buf[..checksum - 3]
        .iter()
        .zip(&variable)
        .filter(|(_, v)| !**v)
        .map(|(b, _)| *b as u32)
        .sum();
    Template { buf, slots, fixed_sum }
}

/// Cached `YYYYMMDD-HH:MM:SS` for the current second, and its byte sum.
#[derive(Clone, Copy)]
struct TimeCache {
    sec: u64,
    text: [u8; 17],
    sum: u32,
}

/// The encoder: templates per instrument and message type, and the outbound
/// MsgSeqNum counter.
pub struct FixEncoder {
    templates: Vec<[Template; SHAPES.len()]>,
    rules: EncodeRules,
    next_seq: u64,
    time: TimeCache,
}

impl FixEncoder {
    /// Builds every template. `begin` is the BeginString (`FIX.4.4`/`FIX.4.2`).
    pub fn new(begin: &str, sender: &str, target: &str, instruments: &[InstrumentSpec]) -> Self {
        let templates = instruments
            .iter()
            .map(|spec| SHAPES.map(|shape| build(shape, begin, sender, target, spec)))
            .collect();
        FixEncoder {
            templates,
            rules: EncodeRules::new(instruments),
            next_seq: 1,
            time: TimeCache {
                sec: u64::MAX,
                text: [b'0'; 17],
                sum: 0,
            },
        }
    }

    /// The MsgSeqNum the next message will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Sets the next outbound MsgSeqNum (the session layer owns the numbering).
    pub fn set_next_seq(&mut self, seq: u64) {
        self.next_seq = seq;
    }

    /// The encoder's rules without its templates, for a stage that must know
    /// whether an order will encode before it commits to sending it.
    pub fn rules(&self) -> EncodeRules {
        self.rules.clone()
    }

    /// Encodes `order` at control time `order.header.ts_ns` and returns the complete
    /// message. On error nothing is consumed (the MsgSeqNum is not advanced).
    /// It fails exactly when [`EncodeRules::check`] does.
    #[inline]
    pub fn encode(&mut self, order: &Order) -> Result<&[u8], Error> {
        let (shape, side, (px_dec, qty_dec)) = shape_of(&self.rules.decimals, order)?;
        let ts = order.header.ts_ns;
        if ts / 1_000_000_000 != self.time.sec {
            let text = fix_second(ts / 1_000_000_000);
            let sum = text.iter().map(|&b| b as u32).sum();
            self.time = TimeCache {
                sec: ts / 1_000_000_000,
                text,
                sum,
            };
        }
        let time = self.time;
        let millis = (ts / 1_000_000 % 1000) as usize;
        let seq = self.next_seq;
        let t = &mut self.templates[order.header.instrument as usize][shape];
        let s = t.slots;
        let b = &mut t.buf[..];
        let mut sum = t.fixed_sum;
        if s.qty != 0 {
            sum += put_fixed(&mut b[s.qty..s.qty + QTY_WIDTH], order.qty, qty_dec, tags::ORDER_QTY)?;
        }
        if s.px != 0 {
            sum += put_fixed(&mut b[s.px..s.px + PX_WIDTH], order.px, px_dec, tags::PRICE)?;
        }
        sum += put_uint(&mut b[s.seq..s.seq + SEQ_WIDTH], seq);
        sum += put_uint(&mut b[s.cl..s.cl + CLORDID_WIDTH], order.cl_ord_id);
        if s.orig != 0 {
            sum += put_uint(&mut b[s.orig..s.orig + CLORDID_WIDTH], order.orig_cl_ord_id);
        }
        if s.side != 0 {
            b[s.side] = match side {
                Some(Side::Sell) => b'2',
                _ => b'1',
            };
            sum += b[s.side] as u32;
        }
        let ms = [
            b'.',
            b'0' + (millis / 100) as u8,
            DIGITS[2 * (millis % 100)],
            DIGITS[2 * (millis % 100) + 1],
        ];
        let ms_sum: u32 = ms.iter().map(|&x| x as u32).sum();
        for at in [s.sending, s.transact] {
            b[at..at + 17].copy_from_slice(&time.text);
            b[at + 17..at + 21].copy_from_slice(&ms);
            sum += time.sum + ms_sum;
        }
        let sum = (sum % 256) as u8;
        debug_assert_eq!(sum, checksum(&b[..s.checksum - 3]), "incremental checksum");
        b[s.checksum] = b'0' + sum / 100;
        b[s.checksum + 1] = DIGITS[2 * (sum % 100) as usize];
        b[s.checksum + 2] = DIGITS[2 * (sum % 100) as usize + 1];
        self.next_seq += 1;
        Ok(&t.buf)
    }
}

/// An instrument's (price, quantity) decimals.
type Decimals = (u8, u8);

/// Which template encodes `order` (its index in [`SHAPES`]), its side
/// (`None` only for a mass cancel, which has none), and its instrument's
/// decimals.
#[inline]
fn shape_of(decimals: &[Decimals], order: &Order) -> Result<(usize, Option<Side>, Decimals), Error> {
    let i = order.header.instrument;
    // `let … else`, not `ok_or`: an error built eagerly is dropped on every
    // call that does not fail (the drop glue ran twice per order).
    let Some(&dec) = decimals.get(i as usize) else {
        return Err(Error::UnknownInstrument(i));
    };
    let Some(action) = order.action() else {
        return Err(Error::BadOrderCodes);
    };
    if action == OrderAction::MassCancel {
        return match MassCancelScope::from_u8(order.header.flags) {
            Some(MassCancelScope::Instrument) => Ok((4, None, dec)),
            Some(MassCancelScope::All) => Ok((5, None, dec)),
            None => Err(Error::BadOrderCodes),
        };
    }
    let Some(side) = order.side() else {
        return Err(Error::BadOrderCodes);
    };
    let shape = match (action, order.ord_type()) {
        (OrderAction::New, Some(OrdType::Limit)) => 0,
        (OrderAction::New, Some(OrdType::Market)) => 1,
        (OrderAction::Cancel, _) => 2,
        (OrderAction::Replace, Some(OrdType::Limit)) => 3,
        _ => return Err(Error::BadOrderCodes),
    };
    Ok((shape, Some(side), dec))
}

/// The rules [`FixEncoder::encode`] applies, without the templates: a known
/// instrument, valid codes, and quantity and price that fit their fixed widths.
#[derive(Clone, Debug)]
pub struct EncodeRules {
    decimals: Vec<(u8, u8)>,
}

impl EncodeRules {
    /// The rules for these instruments (their price and quantity decimals).
    pub fn new(instruments: &[InstrumentSpec]) -> Self {
        EncodeRules {
            decimals: instruments.iter().map(|s| (s.price_decimals, s.qty_decimals)).collect(),
        }
    }

    /// `Ok` exactly when `FixEncoder::encode` would encode `order`.
    #[inline]
    pub fn check(&self, order: &Order) -> Result<(), Error> {
        let (shape, _, (px_dec, qty_dec)) = shape_of(&self.decimals, order)?;
        if shape >= 4 {
            // A mass cancel carries no quantity or price.
            return Ok(());
        }
        fits_fixed(order.qty, qty_dec, QTY_WIDTH, tags::ORDER_QTY)?;
        // Shapes 0 (new limit) and 3 (replace) carry a price.
        if shape == 0 || shape == 3 {
            fits_fixed(order.px, px_dec, PX_WIDTH, tags::PRICE)?;
        }
        Ok(())
    }
}

/// FIX CheckSum: the sum of all bytes modulo 256.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    // Summing into u32 lanes lets the compiler vectorise; the modulo comes last.
    let mut acc = 0u32;
    for &x in bytes {
        acc = acc.wrapping_add(x as u32);
    }
    acc as u8
}

/// "00" "01" … "99": two digits per table entry.
const DIGITS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Writes the last `out.len()` decimal digits of `v` (at most 24: a u64 has
/// 20), zero-padded, and returns their byte sum. Digits that do not fit are
/// dropped. Eight digits at a time, side by side in one word ([`digits8`]):
/// no chain of divisions digit pair by digit pair, no table.
#[inline(always)]
fn put_uint(out: &mut [u8], v: u64) -> u32 {
    let w = out.len();
    debug_assert!(w <= 24, "a slot of {w} bytes");
    let w = w.min(24);
    // The widths are constants where this is inlined: the groups a slot
    // does not reach are not computed, nor those all zeros (sequence
    // numbers and ClOrdIDs have most of their twenty digits zero).
    let c = digits8(v % E8);
    let b = if w > 8 && v >= E8 { digits8(v / E8 % E8) } else { 0 };
    let a = if w > 16 && v >= E16 { digits8(v / E16) } else { 0 };
    let mut text = [0u8; 24];
    text[..8].copy_from_slice(&(a | ASCII_ZEROS).to_le_bytes());
    text[8..16].copy_from_slice(&(b | ASCII_ZEROS).to_le_bytes());
    text[16..].copy_from_slice(&(c | ASCII_ZEROS).to_le_bytes());
    out[..w].copy_from_slice(&text[24 - w..]);
    // The digits written: the last `w` of the 24, group by group.
    let kept = |d: u64, n: usize| match n {
        0 => 0,
        n if n >= 8 => digit_sum(d),
        n => digit_sum(d >> (8 * (8 - n))),
    };
    w as u32 * b'0' as u32 + kept(c, w) + kept(b, w.saturating_sub(8)) + kept(a, w.saturating_sub(16))
}

/// 10^8 and 10^16: the groups of eight digits.
const E8: u64 = 100_000_000;
const E16: u64 = E8 * E8;

/// `b'0'` in every byte: a word of digits 0–9 made text.
const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// The eight decimal digits of `v` (below 10^8), most significant first, as
/// the bytes of a little-endian word (each 0–9: `| ASCII_ZEROS` makes them
/// text). Splits into halves of four digits in 32-bit lanes, each into pairs
/// in 16-bit lanes, each into digits in bytes: three steps for all eight,
/// each a multiply by a reciprocal (exact over the lane's range: `x · 5243 >>
/// 19` is `x / 100` for `x` < 43,699; `x · 103 >> 10` is `x / 10` for `x` <
/// 179) and a mask that drops what the next lane's bits shifted in.
#[inline(always)]
fn digits8(v: u64) -> u64 {
    debug_assert!(v < E8);
    let hi = v / 10_000;
    let y = hi | (v - hi * 10_000) << 32;
    let hundreds = ((y * 5243) >> 19) & 0x0000_007F_0000_007F;
    let z = hundreds | (y - hundreds * 100) << 16;
    let tens = ((z * 103) >> 10) & 0x000F_000F_000F_000F;
    tens | (z - tens * 10) << 8
}

/// The sum of a word's bytes, each 0–9 (so the sum, at most 72, fits the
/// top byte of the product).
#[inline(always)]
fn digit_sum(d: u64) -> u32 {
    (d.wrapping_mul(0x0101_0101_0101_0101) >> 56) as u32
}

/// The digits of `v` right-aligned over the zeros already in `out`; returns
/// their sum (each byte's value less `b'0'`). Digits that do not fit are
/// dropped. Digit pair by digit pair: for the fields wider than the fast
/// path of [`put_fixed`] takes.
fn put_digits(out: &mut [u8], mut v: u64) -> u32 {
    let mut i = out.len();
    let mut digit_sum = 0u32;
    while v >= 10 && i >= 2 {
        let d = (v % 100) as usize;
        v /= 100;
        out[i - 2] = DIGITS[2 * d];
        out[i - 1] = DIGITS[2 * d + 1];
        digit_sum += (d / 10 + d % 10) as u32;
        i -= 2;
    }
    if v > 0 && i >= 1 {
        // `v % 10`: at an odd width, `v` may still have more than one digit.
        let d = (v % 10) as u8;
        out[i - 1] = b'0' + d;
        digit_sum += d as u32;
    }
    digit_sum
}

/// Whether `v` with `decimals` fits `w` characters (non-negative, digits in
/// range, room for the point). `v / 10^d < 10^i` exactly when `v < 10^(i + d)`,
/// so no division: `w` digits, or `w − 1` beside a point, hold any `v` below
/// `10^digits`, and 19 digits hold every i64.
#[inline]
fn fits_fixed(v: i64, decimals: u8, w: usize, tag: Tag) -> Result<(), Error> {
    let digits = if decimals == 0 { w } else { w.saturating_sub(1) };
    let fits = v >= 0 && (decimals as usize) < w && (digits >= 19 || v < pow10(digits as u8));
    if fits {
        Ok(())
    } else {
        Err(overflow(tag, v, w))
    }
}

#[cold]
fn overflow(tag: Tag, value: i64, width: usize) -> Error {
    Error::FieldOverflow { tag, value, width }
}

/// Writes a fixed-point decimal (`decimals` places) right-aligned and zero-padded,
/// returning the byte sum; an error if it is negative or does not fit. The
/// digits are written as a whole number ([`digits8`]), and the point put in
/// by a shift of the word that holds them: nothing divides by the
/// instrument's runtime scale (a hardware division, tens of cycles).
#[inline(always)]
fn put_fixed(out: &mut [u8], v: i64, decimals: u8, tag: Tag) -> Result<u32, Error> {
    fits_fixed(v, decimals, out.len(), tag)?;
    Ok(put_fixed_unchecked(out, v as u64, decimals))
}

/// [`put_fixed`] of a value [`fits_fixed`] passed.
#[inline(always)]
fn put_fixed_unchecked(out: &mut [u8], v: u64, decimals: u8) -> u32 {
    let w = out.len();
    if decimals == 0 {
        return put_uint(out, v);
    }
    if w > 16 {
        return put_fixed_wide(out, v, decimals);
    }
    // `fits_fixed` holds `decimals < w` and `v < 10^(w - 1)`: the last
    // sixteen digits, of which the text shows `w - 1`, the point after
    // `w - 1 - decimals` of them.
    let high = if v >= E8 { digits8(v / E8 % E8) } else { 0 };
    let d = high as u128 | (digits8(v % E8) as u128) << 64;
    let sum = w as u32 * b'0' as u32 - (b'0' - b'.') as u32 + digit_sum(d as u64) + digit_sum((d >> 64) as u64);
    let shown = d >> (8 * (17 - w)); // the first (zero) digits dropped
    let int_w = w - 1 - decimals as usize;
    let low = (1u128 << (8 * int_w)) - 1;
    let zeros = u128::from_le_bytes([b'0'; 16]);
    let text = ((shown & low) | (u128::from(b'.') << (8 * int_w)) | (shown & !low) << 8)
        | (zeros & !(0xFFu128 << (8 * int_w)));
    out.copy_from_slice(&text.to_le_bytes()[..w]);
    sum
}

/// [`put_fixed_unchecked`] for a field wider than sixteen characters (no
/// template has one): digit by digit.
#[cold]
fn put_fixed_wide(out: &mut [u8], mut v: u64, decimals: u8) -> u32 {
    out.fill(b'0');
    let w = out.len();
    let int_w = w - decimals as usize - 1;
    let mut digit_sum = 0u32;
    for i in (int_w + 1..w).rev() {
        let d = (v % 10) as u8;
        v /= 10;
        out[i] = b'0' + d;
        digit_sum += d as u32;
    }
    out[int_w] = b'.';
    digit_sum += put_digits(&mut out[..int_w], v);
    (w as u32 - 1) * b'0' as u32 + b'.' as u32 + digit_sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain reading of a fixed-width field: `v` with `decimals` places,
    /// zero-padded to `w` characters, or none when it is negative or longer.
    fn plain(v: i64, decimals: u8, w: usize) -> Option<String> {
        if v < 0 {
            return None;
        }
        let d = decimals as usize;
        let text = if d == 0 {
            format!("{v:0w$}")
        } else {
            let digits = format!("{v:0>width$}", width = d + 1);
            let (int, frac) = digits.split_at(digits.len() - d);
            format!("{int:0>iw$}.{frac}", iw = w.saturating_sub(d + 1))
        };
        (text.len() == w).then_some(text)
    }

    /// A ClOrdID's text: zero-padded to the field's width, any u64 (the
    /// order's own field is held to it in `tests/fix_encode.rs`).
    #[test]
    fn clordid_text_is_zero_padded() {
        assert_eq!(&clordid_text(128), b"00000000000000000128");
        assert_eq!(&clordid_text(u64::MAX), b"18446744073709551615");
    }

    proptest! {
        /// `put_fixed` writes the plain zero-padded text and its byte sum, and
        /// refuses exactly the values the plain text does not fit, at the
        /// widths the templates give quantities and prices (and ClOrdID's, the
        /// widest), and at the edges of each (10^k ± 1).
        #[test]
        fn fixed_fields_are_the_plain_text(
            v in prop_oneof![
                any::<i64>(),
                0i64..1_000_000,
                (0u32..19, -2i64..2).prop_map(|(k, d)| 10i64.pow(k) + d),
            ],
            decimals in 0u8..=9,
            w in prop::sample::select(vec![QTY_WIDTH, PX_WIDTH, CLORDID_WIDTH]),
        ) {
            let mut out = [b'#'; 20];
            let got = put_fixed(&mut out[..w], v, decimals, tags::PRICE);
            match plain(v, decimals, w) {
                Some(text) => {
                    prop_assert_eq!(std::str::from_utf8(&out[..w]).unwrap(), text.as_str());
                    let sum: u32 = text.bytes().map(u32::from).sum();
                    prop_assert_eq!(got.ok(), Some(sum));
                }
                None => prop_assert!(got.is_err(), "{} with {} places wrote {:?}", v, decimals, &out[..w]),
            }
            prop_assert!(out[w..].iter().all(|&b| b == b'#'), "wrote past the slot");
        }

        /// `put_uint` writes the low `w` digits of `v`, zero-padded, and their
        /// byte sum, at every width up to a u64's 20 digits. (At an odd width
        /// too narrow for `v`, the code before this test wrote `b'0' + 10`.)
        #[test]
        fn unsigned_fields_are_the_low_digits(v in any::<u64>(), w in 1usize..=20) {
            let mut out = [b'#'; 20];
            let sum = put_uint(&mut out[..w], v);
            let text = format!("{v:020}");
            let want = &text[20 - w..];
            prop_assert_eq!(std::str::from_utf8(&out[..w]).unwrap(), want);
            prop_assert_eq!(sum, want.bytes().map(u32::from).sum::<u32>());
        }
    }
}
