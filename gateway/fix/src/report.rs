//! The receive path's one-pass decoder for what a venue sends most:
//! ExecutionReports (`8`) and OrderCancelRejects (`9`).
//!
//! [`FixDecoder`](super::decode::FixDecoder) indexes every field of any message.
//! A report needs less: its framing checked (field syntax, the first three
//! fields, BodyLength, CheckSum) and the values of the few tags that the session
//! rules and [`exec_from_fix`](super::app::exec_from_fix) read ([`KEPT`]).
//! [`ReportScanner::scan`] does both with a little work per field:
//!
//! 1. **Classes, 64 bytes at a time.** SSE2 compares give four bit masks of the
//!    block — SOH, `=`, digits, `0` — and `psadbw` adds its bytes to the
//!    CheckSum, with no branch on the data.
//! 2. **Syntax of every field at once.** Field starts are the bits after SOH
//!    bits. Adding the starts to the digit mask carries each start through its
//!    run of digits, so `(digits + starts) & !digits` marks the byte after each
//!    tag. Every such mark must be a `=` that is not at a start (an empty tag) and
//!    not followed by SOH (an empty value), and a tag starting with `0` must end
//!    right there (no leading zeros). A few mask operations per block check what
//!    the full decoder checks field by field; carries cross block boundaries.
//! 3. **Fields, two bits each.** With the syntax known, the tag-end marks and
//!    the SOH bits alternate: `=`, SOH, `=`, SOH… Walking them gives each field's
//!    tag (one 4-byte load: its digits are combined without a loop) and value
//!    range; a tag of [`KEPT`] has its range stored in its slot if the slot is
//!    still empty (the first occurrence wins, as in the full index).
//!
//! That is the general path. A report whose tags come in the order of one the
//! general path accepted before is read along that order instead, with one
//! compare per field and no syntax pass ([`layout`](super::layout)); the two
//! paths accept the same reports and read them the same.
//!
//! It accepts exactly the messages the full decoder accepts, or answers `None`:
//! for any other message type, any malformed message (the full decoder then
//! says what is wrong and where), and messages over [`MAX_SCAN`] bytes. What it
//! accepts reads the same through [`Fields`] as the full decoder's index: a
//! kept tag from its slot, any other tag by walking the fields (correct, and
//! cold: nothing on the receive path asks for one). Both properties are
//! property-tested against the full decoder.

use super::decode::{find_soh, parse_u64, read_tag, soh_mask, FIRST, MAX_BODY, MAX_FIELDS, SOH};
use super::fields::Fields;
use super::layout::{Layouts, MAX_STEPS};

/// The longest message scanned (reports are a few hundred bytes; a longer
/// message goes to the full decoder).
pub const MAX_SCAN: usize = 4096;

/// The tags whose values a scan keeps: the header fields the session rules read
/// of every message (SendingTime for its accuracy), and every field
/// [`exec_from_fix`](super::app::exec_from_fix) reads. (Not TestReqID (112),
/// which the rules read of session messages only, and those are never scanned.)
pub const KEPT: [u32; 30] = [
    7, 11, 14, 16, 17, 20, 31, 32, 34, 36, 37, 38, 39, 40, 41, 43, 44, 49, 52, 54, 55, 56, 60, 103, 108, 122, 123, 141,
    150, 151,
];

/// Slots: 0 takes the values of tags not kept; `1 + i` is `KEPT[i]`'s.
pub(super) const SLOTS: usize = 32;
// Slots 1..=KEPT.len() are the kept tags'; the last, END, CheckSum's.
const _: () = assert!(KEPT.len() < SLOTS - 1);

/// Tags below this are looked up in [`SLOT_OF`] (every tag of up to three
/// digits); longer ones are never kept.
const SLOT_TABLE: usize = 1024;

/// The slot [`SLOT_OF`] gives CheckSum (10), which ends the scan.
pub(super) const END: u8 = SLOTS as u8 - 1;

/// Tag → slot (0: not kept).
static SLOT_OF: [u8; SLOT_TABLE] = {
    let mut t = [0u8; SLOT_TABLE];
    let mut i = 0;
    while i < KEPT.len() {
        t[KEPT[i] as usize] = (i + 1) as u8;
        i += 1;
    }
    t[10] = END;
    t
};

/// Mask words for the longest message scanned.
const WORDS: usize = MAX_SCAN / 64;

/// Where a report's fields end, and what the checks of its end need.
struct End {
    /// Where the CheckSum field starts, and its SOH.
    at: usize,
    soh: usize,
    /// The slots filled.
    seen: u32,
    /// How many fields there are.
    fields: usize,
    /// Where BodyLength says the body ends.
    body_end: usize,
    /// The sum of all bytes.
    total: u64,
}

/// Scans reports; reuses its buffers for every message.
#[derive(Clone, Debug)]
pub struct ReportScanner {
    /// Value ranges of the kept tags, `start | end << 16`; slot `i` holds one
    /// if bit `i` of `seen` is set.
    slots: [u32; SLOTS],
    /// The slots filled by the last scan.
    seen: u32,
    /// MsgType's range, packed alike.
    msg_type: u32,
    /// The length of the message the slots describe (0: none).
    len: usize,
    /// Per 64 bytes: a bit at each tag's `=` and at each SOH (only the SOHs
    /// when reading along a layout).
    marks: [u64; WORDS],
    /// The layouts of reports accepted.
    layouts: Layouts,
}

const _: () = assert!(MAX_STEPS + 3 <= MAX_FIELDS);

impl Default for ReportScanner {
    fn default() -> Self {
        ReportScanner {
            slots: [0; SLOTS],
            seen: 0,
            msg_type: 0,
            len: 0,
            marks: [0; WORDS],
            layouts: Layouts::default(),
        }
    }
}

/// A scanned report: its bytes and the slots of its kept fields.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    buf: &'a [u8],
    slots: &'a [u32; SLOTS],
    seen: u32,
    msg_type: u32,
}

/// The marks' bits in order, word after word.
#[derive(Clone)]
pub(super) struct Bits<'m> {
    words: &'m [u64],
    /// The position of the current word's bit 0.
    base: usize,
    /// The current word's bits not yet taken.
    bits: u64,
}

impl<'m> Bits<'m> {
    /// From the first bit of `words`.
    #[inline(always)]
    fn new(words: &'m [u64]) -> Self {
        Self::from(words, 0)
    }

    /// From bit `at` of `words` on.
    #[inline(always)]
    fn from(words: &'m [u64], at: usize) -> Self {
        Bits {
            words,
            base: at / 64 * 64,
            bits: words.get(at / 64).map_or(0, |&b| b & u64::MAX << (at % 64)),
        }
    }

    /// The next bit's position.
    #[inline(always)]
    pub(super) fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.base += 64;
            self.bits = *self.words.get(self.base / 64)?;
        }
        let i = self.base + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(i)
    }
}

impl ReportScanner {
    /// A scanner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the message that is all of `buf` and keeps its [`KEPT`] fields, if
    /// it is an ExecutionReport or OrderCancelReject the full decoder accepts;
    /// `None` otherwise (decode it with the full decoder, which reads anything
    /// and names what is wrong).
    ///
    /// A report with the tags of one the scanner accepted before, in the same
    /// order, is read along that [layout](super::layout); any other goes
    /// through the syntax of every field, and its layout is learned.
    #[inline]
    pub fn scan<'a>(&'a mut self, buf: &'a [u8]) -> Option<Report<'a>> {
        self.len = 0;
        let len = buf.len();
        if len > MAX_SCAN {
            return None;
        }
        let (second, third) = is_report(buf)?;
        let words = len.div_ceil(64);
        let (end, learn) = match self.along_layout(buf, words, second, third) {
            Some(end) => (end, false),
            None => (self.by_syntax(buf, words)?, true),
        };
        // The CheckSum field: where BodyLength says, the last bytes, three
        // digits summing what precedes it; at most MAX_FIELDS.
        self.finish(buf, end)?;
        if learn {
            self.learn(buf, words, third + 5);
        }
        Some(Report {
            buf,
            slots: &self.slots,
            seen: self.seen,
            msg_type: self.msg_type,
        })
    }

    /// Like [`scan`](Self::scan), but only along a learned layout: `None` for a
    /// message no learned layout fits (it then needs the full checks, after
    /// which [`scan`](Self::scan) learns its layout). Nothing is learned here.
    #[inline]
    pub fn follow<'a>(&'a mut self, buf: &'a [u8]) -> Option<Report<'a>> {
        self.len = 0;
        let len = buf.len();
        if len > MAX_SCAN || self.layouts.is_empty() {
            return None;
        }
        let (second, third) = is_report(buf)?;
        let words = len.div_ceil(64);
        let end = self.along_layout(buf, words, second, third)?;
        self.finish(buf, end)
    }

    /// The checks of a report's end (CheckSum where BodyLength says, three
    /// digits of the right sum), then the report.
    #[inline(always)]
    fn finish<'a>(&'a mut self, buf: &'a [u8], end: End) -> Option<Report<'a>> {
        let len = buf.len();
        let End {
            at,
            soh,
            seen,
            fields,
            body_end,
            total,
        } = end;
        let eq = at + 2;
        if at != body_end || soh + 1 != len || soh != eq + 4 || fields > MAX_FIELDS {
            return None;
        }
        let [a, b, c] = *buf[eq + 1..soh].first_chunk::<3>()?;
        let d = [a, b, c].map(|x| x.wrapping_sub(b'0') as u64);
        if d.iter().any(|&x| x > 9) {
            return None;
        }
        let own = (b'1' + b'0' + b'=' + SOH) as u64 + (a as u64 + b as u64 + c as u64);
        if d[0] * 100 + d[1] * 10 + d[2] != (total - own) % 256 {
            return None;
        }
        self.len = len;
        self.seen = seen;
        Some(Report {
            buf,
            slots: &self.slots,
            seen,
            msg_type: self.msg_type,
        })
    }

    /// The layouts learned so far, and how many reports were read along them.
    pub fn layouts(&self) -> &Layouts {
        &self.layouts
    }

    /// The fields of `buf` along a learned layout (see [`layout`](super::layout)),
    /// its second and third fields starting at `second` and `third`; `None` if
    /// none fits.
    #[inline]
    fn along_layout(&mut self, buf: &[u8], words: usize, second: usize, third: usize) -> Option<End> {
        if self.layouts.is_empty() {
            return None;
        }
        // `8=…|9=digits|35=8|` or `35=9|` ([`is_report`] read all but
        // BodyLength, and BeginString's value is not empty).
        if second < 4 || buf.get(second..second + 2)? != b"9=" {
            return None;
        }
        let declared = parse_u64(&buf[second + 2..third - 1]).filter(|&v| v as usize <= MAX_BODY)?;
        self.msg_type = pack(third + 3, third + 4);
        let total = soh_mask(buf, &mut self.marks[..words]);
        let sohs = Bits::from(&self.marks[..words], third + 5);
        let f = self.layouts.follow(buf, sohs, &mut self.slots, third + 5)?;
        Some(End {
            at: f.at,
            soh: f.soh,
            seen: f.seen,
            fields: f.fields + 3,
            body_end: third + declared as usize,
            total,
        })
    }

    /// The fields of `buf` through the syntax of every field (see the module
    /// docs); `None` if it is malformed.
    #[inline]
    fn by_syntax(&mut self, buf: &[u8], words: usize) -> Option<End> {
        let total = syntax(buf, &mut self.marks[..words])?;
        let mut marks = Bits::new(&self.marks[..words]);
        // The first three fields: BeginString, BodyLength, MsgType.
        let (eq, soh) = (marks.next()?, marks.next()?);
        if eq != 1 {
            return None;
        }
        let at = soh + 1;
        let (eq, soh) = (marks.next()?, marks.next()?);
        if key(buf, at, eq)? != key_of(9) {
            return None;
        }
        let declared = parse_u64(&buf[eq + 1..soh]).filter(|&v| v as usize <= MAX_BODY)?;
        let body_end = soh + 1 + declared as usize;
        let at = soh + 1;
        let (eq, soh) = (marks.next()?, marks.next()?);
        if key(buf, at, eq)? != key_of(35) || !matches!(&buf[eq + 1..soh], b"8" | b"9") {
            return None;
        }
        // The others, up to CheckSum.
        self.msg_type = pack(eq + 1, soh);
        let (at, _, soh, seen) = kept_fields(buf, marks, &mut self.slots, soh + 1)?;
        let fields = self.marks[..words].iter().map(|w| w.count_ones()).sum::<u32>() / 2;
        Some(End {
            at,
            soh,
            seen,
            fields: fields as usize,
            body_end,
            total,
        })
    }

    /// Learns the layout of the report [`by_syntax`](Self::by_syntax) just
    /// read and the checks accepted, whose fields after MsgType start at `at`.
    #[cold]
    fn learn(&mut self, buf: &[u8], words: usize, at: usize) {
        let marks = Bits::from(&self.marks[..words], at);
        self.layouts
            .learn(buf, marks, at, |at, eq| key(buf, at, eq).map_or(0, slot_by_key));
    }

    /// The report the last [`scan`](Self::scan) accepted, over its bytes `buf`
    /// (`None` if it accepted none, or `buf` is not that message's length).
    pub fn last<'a>(&'a self, buf: &'a [u8]) -> Option<Report<'a>> {
        (self.len != 0 && buf.len() == self.len).then_some(Report {
            buf,
            slots: &self.slots,
            seen: self.seen,
            msg_type: self.msg_type,
        })
    }
}

/// Whether `buf` starts like a report — `8=…|9=…|35=8|` or `35=9|` — read off
/// its first few bytes, so that every other message (a venue's orders, session
/// messages) goes to the full decoder without a pass over its bytes first.
/// `Some(where the second and third fields start)` if it does.
#[inline]
fn is_report(buf: &[u8]) -> Option<(usize, usize)> {
    // Where the field at `from` ends, eight bytes at a time.
    let next = |from: usize| Some(from + find_soh(buf.get(from..)?)? + 1);
    // BeginString is `FIX.4.x` in all but odd sessions: its end read off, not searched.
    let second = if buf.get(..8) == Some(b"8=FIX.4.") && buf.get(9) == Some(&SOH) {
        10
    } else {
        next(buf.starts_with(b"8=").then_some(0)?)?
    };
    let third = next(second)?;
    matches!(buf.get(third..third + 5), Some(b"35=8\x01" | b"35=9\x01")).then_some((second, third))
}

/// The fields from `at` up to CheckSum: each kept tag's first value goes to its
/// slot, and the bits of the slots filled are returned with where the CheckSum
/// field starts, its `=` and its SOH. (A function of its own, not inlined, with
/// little alive in its loop: inlined, the compiler spilled `seen` to the stack
/// and every field waited on memory.)
#[inline(never)]
fn kept_fields(
    buf: &[u8],
    mut marks: Bits<'_>,
    slots: &mut [u32; SLOTS],
    mut at: usize,
) -> Option<(usize, usize, usize, u32)> {
    let mut seen = 0u32;
    loop {
        let (eq, soh) = (marks.next()?, marks.next()?);
        let s = slot_by_key(key(buf, at, eq)?);
        if s == END {
            return Some((at, eq, soh, seen));
        }
        // The first occurrence only, without a branch (which tags repeat
        // follows no pattern to predict) and without reading the slot back
        // (a later field's store would wait on it): a repeat goes to slot 0,
        // where tags not kept go, and which is never read.
        let s = s as usize % SLOTS;
        let first = seen & 1 << s == 0;
        seen |= 1 << s;
        slots[if first { s } else { 0 }] = pack(eq + 1, soh);
        at = soh + 1;
    }
}

#[inline]
pub(super) fn pack(start: usize, end: usize) -> u32 {
    start as u32 | (end as u32) << 16
}

#[inline]
fn range(s: u32) -> std::ops::Range<usize> {
    (s & 0xFFFF) as usize..(s >> 16) as usize
}

/// The tag `buf[at..eq]`, whose characters [`syntax`] checked, as a key for
/// [`slot_by_key`]: its digits and `=` as a little-endian word, for tags of up
/// to three digits; 0 (no tag's key) for four to nine; `None` for more, which the
/// full decoder calls garbled.
#[inline(always)]
fn key(buf: &[u8], at: usize, eq: usize) -> Option<u32> {
    let k = eq - at;
    if k > 3 {
        return (k <= 9).then_some(0);
    }
    let w = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes([w[0], w[1], w[2], w[3]]) & FIRST[k + 1] as u32)
}

/// The key [`key`] reads for `tag` (of one to three digits).
const fn key_of(tag: u32) -> u32 {
    let (mut key, mut div, mut shift) = (0u32, 100u32, 0u32);
    while div > 0 {
        if tag >= div || div == 1 {
            key |= (b'0' as u32 + tag / div % 10) << shift;
            shift += 8;
        }
        div /= 10;
    }
    key | (b'=' as u32) << shift
}

/// The multiplier of the perfect hash from the keys of [`KEPT`] and CheckSum
/// (10) to [`BY_KEY`]'s 64 entries (found by trying; the table's construction
/// fails to compile if two of them collide).
const HASH_MUL: u32 = 0x6bc7_8bf5;

#[inline(always)]
const fn hash(key: u32) -> usize {
    (key.wrapping_mul(HASH_MUL) >> 26) as usize
}

/// Key → `key | slot << 32` at the key's hash (0: no kept tag hashes there).
static BY_KEY: [u64; 64] = {
    let mut t = [0u64; 64];
    let mut i = 0;
    while i <= KEPT.len() {
        let (tag, slot) = if i < KEPT.len() {
            (KEPT[i], i as u8 + 1)
        } else {
            (10, END)
        };
        let h = hash(key_of(tag));
        assert!(t[h] == 0, "HASH_MUL maps two kept tags to one entry");
        t[h] = key_of(tag) as u64 | (slot as u64) << 32;
        i += 1;
    }
    t
};

/// The slot of the tag with `key`: 0 unless it is kept (or [`END`]).
#[inline(always)]
fn slot_by_key(key: u32) -> u8 {
    let e = BY_KEY[hash(key)];
    if e as u32 == key {
        (e >> 32) as u8
    } else {
        0
    }
}

/// Checks the syntax of every field of `buf` (see the module docs), marks each
/// tag's `=` and each SOH in `marks`, and returns the sum of the bytes; `None`
/// if some field is not `tag=value` with a tag of digits and no leading zero
/// (the tag's length, at most nine, is checked as each field is read).
#[inline]
fn syntax(buf: &[u8], marks: &mut [u64]) -> Option<u64> {
    let len = buf.len();
    let (mut total, mut bad) = (0u64, 0u64);
    // What crosses into the next block: a field start after a final SOH, the
    // carry of the digit runs, a tag end in the last bit, a leading zero.
    let (mut start_in, mut carry, mut end_in, mut zero_in) = (1u64, 0u64, 0u64, 0u64);
    for (i, m) in marks.iter_mut().enumerate() {
        let from = i * 64;
        let c = block_classes(buf, from);
        total += c.sum;
        let valid = if len - from >= 64 {
            !0
        } else {
            (1u64 << (len - from)) - 1
        };
        let starts = (c.soh << 1 | start_in) & valid;
        start_in = c.soh >> 63;
        let (t, c1) = c.digits.overflowing_add(starts);
        let (t, c2) = t.overflowing_add(carry);
        carry = (c1 | c2) as u64;
        let ends = t & !c.digits;
        bad |= ends & !c.eq; // a tag not ended by '='
        bad |= ends & starts; // an empty tag
        bad |= (ends << 1 | end_in) & c.soh; // an empty value
        bad |= ((starts & c.zero) << 1 | zero_in) & !ends; // a leading zero
        end_in = ends >> 63;
        zero_in = (starts & c.zero) >> 63;
        *m = ends | c.soh;
    }
    if bad != 0 || carry != 0 {
        return None;
    }
    Some(total)
}

/// The classes of 64 bytes: a bit per byte.
#[derive(Default)]
struct Classes {
    soh: u64,
    eq: u64,
    digits: u64,
    zero: u64,
    sum: u64,
}

/// The classes of `buf[from..from + 64]` (no bits past the end) and the sum of
/// those bytes.
#[inline]
fn block_classes(buf: &[u8], from: usize) -> Classes {
    match buf.get(from..from + 64) {
        Some(b) => classes64(b),
        None => {
            let mut pad = [0u8; 64];
            let rest = &buf[from..];
            pad[..rest.len()].copy_from_slice(rest);
            classes64(&pad)
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn classes64(b: &[u8]) -> Classes {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi64, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_sad_epu8, _mm_set1_epi8, _mm_setzero_si128, _mm_sub_epi8, _mm_unpackhi_epi64,
    };
    assert!(b.len() >= 64);
    let mut c = Classes::default();
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions exist on
    // every CPU this target runs on; the four unaligned loads read bytes 0..64 of
    // `b`, which has at least 64 (asserted above).
    unsafe {
        let (sohs, eqs, zeros, nine) = (
            _mm_set1_epi8(SOH as i8),
            _mm_set1_epi8(b'=' as i8),
            _mm_set1_epi8(b'0' as i8),
            _mm_set1_epi8(9),
        );
        let mut acc = _mm_setzero_si128();
        for k in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * k) as *const __m128i);
            let bits = |m| _mm_movemask_epi8(m) as u16 as u64;
            let d = _mm_sub_epi8(v, zeros);
            c.soh |= bits(_mm_cmpeq_epi8(v, sohs)) << (16 * k);
            c.eq |= bits(_mm_cmpeq_epi8(v, eqs)) << (16 * k);
            c.digits |= bits(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d)) << (16 * k);
            c.zero |= bits(_mm_cmpeq_epi8(v, zeros)) << (16 * k);
            acc = _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_setzero_si128()));
        }
        c.sum = (_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) as u64;
    }
    c
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classes64(b: &[u8]) -> Classes {
    let mut c = Classes::default();
    for (i, &x) in b[..64].iter().enumerate() {
        c.soh |= ((x == SOH) as u64) << i;
        c.eq |= ((x == b'=') as u64) << i;
        c.digits |= (x.is_ascii_digit() as u64) << i;
        c.zero |= ((x == b'0') as u64) << i;
        c.sum += x as u64;
    }
    c
}

impl<'a> Report<'a> {
    /// The whole message.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The first field with `tag`, walking the message (for tags not kept).
    #[cold]
    fn walk(&self, tag: u32) -> Option<std::ops::Range<usize>> {
        let mut at = 0;
        while let Some(p) = find_soh(&self.buf[at..]) {
            let soh = at + p;
            let (t, eq) = read_tag(self.buf, at, soh).ok()?;
            if t == tag {
                return Some(eq + 1..soh);
            }
            at = soh + 1;
        }
        None
    }

    #[inline(always)]
    fn find(&self, tag: u32) -> Option<std::ops::Range<usize>> {
        match SLOT_OF.get(tag as usize) {
            Some(&s) if s != 0 && s != END => (self.seen & 1 << s != 0).then(|| range(self.slots[s as usize % SLOTS])),
            _ => self.walk(tag),
        }
    }
}

impl<'a> Fields<'a> for Report<'a> {
    #[inline]
    fn msg_type(&self) -> &'a [u8] {
        &self.buf[range(self.msg_type)]
    }

    #[inline(always)]
    fn get(&self, tag: u32) -> Option<&'a [u8]> {
        let buf = self.buf;
        self.find(tag).map(|r| &buf[r])
    }

    fn offset_of(&self, tag: u32) -> usize {
        self.find(tag).map_or(0, |r| r.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{exec_from_fix, Instruments};
    use crate::decode::tests::message;
    use crate::decode::{FixDecoder, FixMessage};
    use proptest::prelude::*;

    /// The default config's instruments; the reports here are about FOXA.
    fn instruments() -> &'static Instruments {
        static INST: std::sync::LazyLock<Instruments> =
            std::sync::LazyLock::new(|| Instruments::new(&foxtrot_engine::Config::default_sim().instruments));
        &INST
    }

    /// Every tag the message has, the kept ones, and a few it lacks.
    fn tags_to_ask(m: &FixMessage<'_>) -> Vec<u32> {
        let mut t: Vec<u32> = m.fields().map(|(t, _)| t).collect();
        t.extend(KEPT);
        t.extend([1, 6, 8, 9, 10, 17, 35, 58, 999, 1000, 5000, 123_456_789]);
        t
    }

    /// The scan's answer against the full decoder's: `None` from the scan for
    /// a report means the decoder must fail too; `Some` must read the same.
    fn same_as_decoder(buf: &[u8]) -> bool {
        same_with(&mut ReportScanner::new(), buf)
    }

    /// [`same_as_decoder`] with a scanner that may have learned layouts.
    fn same_with(scanner: &mut ReportScanner, buf: &[u8]) -> bool {
        let mut dec = FixDecoder::new();
        let inst = instruments();
        let scanned = scanner.scan(buf);
        let decoded = dec.decode(buf);
        match (&scanned, &decoded) {
            (Some(r), Ok(m)) => {
                assert_eq!(r.msg_type(), m.msg_type());
                for t in tags_to_ask(m) {
                    assert_eq!(r.get(t), m.get(t), "tag {t} of {:?}", String::from_utf8_lossy(buf));
                    assert_eq!(r.offset_of(t), m.offset_of(t), "tag {t}");
                }
                assert_eq!(exec_from_fix(r, inst, 7), exec_from_fix(m, inst, 7));
                assert!(scanner.last(buf).is_some());
                true
            }
            (Some(_), Err(e)) => panic!(
                "scan accepted what the decoder rejects ({e}): {:?}",
                String::from_utf8_lossy(buf)
            ),
            (None, Ok(m)) => {
                // Only other message types and oversized ones are left to the decoder.
                assert!(
                    !matches!(m.msg_type(), b"8" | b"9") || buf.len() > MAX_SCAN,
                    "scan refused a report the decoder reads: {:?}",
                    String::from_utf8_lossy(buf)
                );
                assert!(scanner.last(buf).is_none());
                false
            }
            (None, Err(_)) => false,
        }
    }

    #[test]
    fn hash_table_finds_every_kept_tag_and_only_those() {
        for (i, &t) in KEPT.iter().enumerate() {
            assert_eq!(slot_by_key(key_of(t)), i as u8 + 1, "tag {t}");
        }
        assert_eq!(slot_by_key(key_of(10)), END);
        let kept = |t: u32| KEPT.contains(&t) || t == 10;
        for t in (0..1000).filter(|&t| !kept(t)) {
            assert_eq!(slot_by_key(key_of(t)), 0, "tag {t}");
        }
        assert_eq!(slot_by_key(0), 0);
    }

    #[test]
    fn a_fill_reads_as_the_decoder_reads_it() {
        let m = message(
            "35=8|34=12345|49=VENUE|52=20260105-14:30:00.123|56=FOXTROT|6=100.25|11=00000000000000000042|\
             14=300|17=E1|31=100.25|32=300|37=V-77|38=1000|39=1|40=2|44=100.2500|54=1|55=FOXA|\
             60=20260105-14:30:00.123456|150=F|151=700|",
        );
        assert!(same_as_decoder(&m));
        let mut s = ReportScanner::new();
        let r = s.scan(&m).unwrap();
        assert_eq!(
            (r.get(34), r.get(151), r.get(58)),
            (Some(&b"12345"[..]), Some(&b"700"[..]), None)
        );
    }

    #[test]
    fn other_messages_and_bad_framing_are_left_to_the_decoder() {
        let mut s = ReportScanner::new();
        let hb = message("35=0|34=2|49=VENUE|52=20260105-14:30:00.000|56=FOXTROT|");
        assert!(s.scan(&hb).is_none());
        let er = message("35=8|34=2|49=VENUE|56=FOXTROT|150=0|");
        assert!(s.scan(&er).is_some());
        for bad in [
            b"8=FIX.4.4\x019=5\x0135=8\x0110=000\x01".to_vec(), // wrong BodyLength and CheckSum
            er[..er.len() - 1].to_vec(),                        // cut short
            [&er[..], b"8"].concat(),                           // trailing bytes
        ] {
            assert!(s.scan(&bad).is_none());
            assert!(FixDecoder::new().decode(&bad).is_err());
        }
        // Garbled fields anywhere: a leading zero, an empty tag, an empty
        // value, a letter in a tag, a ten-digit tag.
        for field in ["034=2", "=2", "58=", "5a=2", "1234567890=1"] {
            let m = message(&format!("35=8|34=2|49=VENUE|56=FOXTROT|{field}|150=0|"));
            assert!(!same_as_decoder(&m), "{field}");
        }
        // Four to nine digits are tags like any other.
        let m = message("35=8|34=2|49=VENUE|56=FOXTROT|5000=x|123456789=y|150=0|");
        assert!(same_as_decoder(&m));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Reports with any fields in any order (kept tags, repeated ones,
        /// long tags, `=` in values, long enough to cross 64-byte blocks at
        /// every offset), then each mutated: the scan reads exactly what the
        /// decoder reads, or leaves the message to it.
        #[test]
        fn scan_reads_what_the_decoder_reads(
            fields in proptest::collection::vec(
                (prop::sample::select(vec![6u32, 7, 11, 14, 17, 31, 32, 34, 37, 38, 39, 40, 41, 43, 44, 54, 55,
                                            58, 60, 103, 122, 150, 151, 999, 5000, 123_456_789]),
                 "[ -{}-~]{1,14}|FOXA|[0-9]{1,6}|[12]|20260105-14:30:00(\\.[0-9]{3}){0,2}"),
                0..24),
            cancel_reject in any::<bool>(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(vec![0x01u8, b'=', b'0', b'9', b'1', b'A', 0x00, 0xFF]),
            how in 0u8..5,
        ) {
            let body: String = fields.iter().map(|(t, v)| format!("{t}={v}|")).collect();
            let mt = if cancel_reject { "9" } else { "8" };
            let mut m = message(&format!("35={mt}|34=7|49=VENUE|56=FOXTROT|{body}"));
            prop_assert!(same_as_decoder(&m), "{:?}", String::from_utf8_lossy(&m));
            // Learned, then read along its layout (unless a tag is too long to
            // be in one).
            let mut learned = ReportScanner::new();
            prop_assert!(same_with(&mut learned, &m));
            prop_assert!(same_with(&mut learned, &m));
            let learnable = fields.iter().all(|(t, _)| *t < 10_000_000);
            prop_assert_eq!(learned.layouts().followed(), learnable as u64);
            let i = at.index(m.len());
            match how {
                0 => m[i] = byte,
                1 => m.insert(i, byte),
                2 => { m.remove(i); }
                3 => m.truncate(i),
                _ => {}
            }
            // The mutated message, by a fresh scanner and by one that tries
            // the original's layout first.
            let fresh = same_as_decoder(&m);
            prop_assert_eq!(same_with(&mut learned, &m), fresh);
        }

        /// Reports of several layouts (sharing first fields or not) in any
        /// order, with values of any length: each reads as the decoder reads
        /// it, whichever layouts the scanner holds at the time.
        #[test]
        fn reports_of_many_layouts_read_as_the_decoder_reads_them(
            layouts in proptest::collection::vec(
                proptest::collection::vec(prop::sample::select(vec![6u32, 11, 14, 17, 31, 32, 37, 38, 39, 44, 54, 55, 58, 60, 150, 151, 5000]), 0..10),
                1..8),
            picks in proptest::collection::vec((any::<prop::sample::Index>(), 1usize..12), 1..40),
            prefix in 0usize..4,
        ) {
            let mut scanner = ReportScanner::new();
            let shared = ["37=V1", "11=42", "17=E9"];
            for (n, (which, width)) in picks.iter().enumerate() {
                let tags = &layouts[which.index(layouts.len())];
                let mut body: String = shared[..prefix].iter().map(|f| format!("{f}|")).collect();
                for (k, t) in tags.iter().enumerate() {
                    let v = "9".repeat(1 + (width + k + n) % 12);
                    body.push_str(&format!("{t}={v}|"));
                }
                let m = message(&format!("35=8|34={n}|49=VENUE|56=FOXTROT|{body}"));
                prop_assert!(same_with(&mut scanner, &m), "{:?}", String::from_utf8_lossy(&m));
            }
            prop_assert!(scanner.layouts().len() <= crate::layout::LAYOUTS);
        }
    }

    #[test]
    fn layouts_are_learned_followed_switched_and_replaced() {
        let kinds = [
            "37=V1|11=1|17=E1|150=0|39=0|55=FOXA|54=1|38=10|44=1.5|14=0|151=10|",
            "37=V1|11=1|17=E2|150=F|39=1|55=FOXA|54=1|38=10|44=1.5|32=4|31=1.5|14=4|151=6|",
            "37=V1|11=1|17=E3|150=F|39=2|55=FOXA|54=1|38=10|44=1.5|32=6|31=1.5|14=10|151=0|60=20260105-14:30:00|",
            "37=V1|11=2|41=1|17=E4|150=4|39=4|55=FOXA|54=1|38=10|14=0|151=0|",
            "37=V1|11=3|17=E5|150=8|39=8|55=FOXA|54=1|38=10|103=6|14=0|151=0|",
        ]
        .map(|b| message(&format!("35=8|34=5|49=VENUE|56=FOXTROT|{b}")));
        let mut s = ReportScanner::new();
        // The first four are learned, one each, and then read along theirs,
        // switching at the field where they part.
        for m in &kinds[..4] {
            assert!(same_with(&mut s, m));
        }
        assert_eq!((s.layouts().len(), s.layouts().followed()), (4, 0));
        for (n, m) in kinds[..4].iter().enumerate() {
            assert!(same_with(&mut s, m));
            assert_eq!(s.layouts().followed(), n as u64 + 1);
        }
        // A fifth replaces the oldest (the first), which is then learned again.
        assert!(same_with(&mut s, &kinds[4]));
        assert!(same_with(&mut s, &kinds[0]));
        assert_eq!(s.layouts().followed(), 4);
        assert!(same_with(&mut s, &kinds[0]));
        assert_eq!(s.layouts().followed(), 5);
        // A garbled report of a learned layout (an empty value, a leading
        // zero): refused, as by the decoder.
        let fine = message("35=8|34=5|49=VENUE|56=FOXTROT|37=V1|39=0|55=FOXA|");
        assert!(same_with(&mut s, &fine));
        for bad in ["37=V1|39=|55=FOXA|", "37=V1|039=0|55=FOXA|"] {
            let m = message(&format!("35=8|34=5|49=VENUE|56=FOXTROT|{bad}"));
            assert!(!same_with(&mut s, &m), "{bad}");
        }
    }
}
