//! Zero-copy FIX decoding: framing a byte stream into messages, and indexing a
//! message's fields as views into the receive buffer.
//!
//! A FIX message is `8=BeginString|9=BodyLength|35=MsgType|…|10=CheckSum|` (`|`
//! standing for SOH, 0x01). BodyLength counts the bytes from the one after `9=…|`
//! up to and including the SOH before `10=`; CheckSum is the sum of every byte
//! before `10=`, modulo 256, as exactly three digits.
//!
//! [`frame_len`] finds where the next message of a stream ends (or says more bytes
//! are needed) from its first two fields alone. [`FixDecoder::decode`] then checks
//! the whole message — field syntax, the order of the first three fields,
//! BodyLength, CheckSum — and indexes every field as a (tag, value range) pair in
//! an array the decoder owns and reuses, so decoding allocates nothing and copies
//! nothing. Each error names the byte offset and, where there is one, the tag.
//! Repeated tags (repeating-group instances) keep their order; [`FixMessage::group`]
//! walks a group by its count tag.

use super::fields::Fields;

/// The field separator.
pub const SOH: u8 = 0x01;
/// The most fields one message may have.
pub const MAX_FIELDS: usize = 128;
/// The longest body accepted (a longer BodyLength is garbage, not a wait).
pub const MAX_BODY: usize = 1 << 16;

/// What is wrong with a message, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    /// The message does not start with `8=`.
    #[error("offset {offset}: a FIX message starts with tag 8 (BeginString)")]
    NoBeginString {
        /// Offset.
        offset: usize,
    },
    /// BodyLength (tag 9) missing, not second, not a number, or too large.
    #[error("offset {offset}: tag 9 (BodyLength) must follow BeginString as a number up to {MAX_BODY}")]
    BadBodyLength {
        /// Offset.
        offset: usize,
    },
    /// BodyLength does not reach the CheckSum field.
    #[error("offset {offset}: BodyLength {declared} does not end where tag 10 (CheckSum) begins")]
    BodyLengthMismatch {
        /// Offset where `10=` was expected.
        offset: usize,
        /// The declared length.
        declared: usize,
    },
    /// The CheckSum is not three digits or does not match.
    #[error("offset {offset}: tag 10 (CheckSum) is {declared:?}, computed {computed:03}")]
    BadChecksum {
        /// Offset of the CheckSum's value.
        offset: usize,
        /// The value found (up to three bytes).
        declared: [u8; 3],
        /// The computed sum.
        computed: u8,
    },
    /// A field is not `digits=value` followed by SOH.
    #[error("offset {offset}: garbled field (expected tag=value followed by SOH)")]
    Garbled {
        /// Offset of the field.
        offset: usize,
    },
    /// MsgType (tag 35) is not the third field.
    #[error("offset {offset}: tag 35 (MsgType) must be the third field")]
    NoMsgType {
        /// Offset.
        offset: usize,
    },
    /// More fields than [`MAX_FIELDS`].
    #[error("offset {offset}: more than {MAX_FIELDS} fields")]
    TooManyFields {
        /// Offset.
        offset: usize,
    },
    /// A required field is absent.
    #[error("tag {tag} is required and missing")]
    Missing {
        /// The tag.
        tag: u32,
    },
    /// A field's value is not of its type.
    #[error("offset {offset}: tag {tag} has a value that is not a valid {what}")]
    BadValue {
        /// Offset of the value.
        offset: usize,
        /// The tag.
        tag: u32,
        /// The type expected.
        what: &'static str,
    },
}

impl FixError {
    /// The tag the error is about, if any (for a session-level Reject's RefTagID).
    pub fn tag(&self) -> Option<u32> {
        match *self {
            FixError::NoBeginString { .. } => Some(8),
            FixError::BadBodyLength { .. } | FixError::BodyLengthMismatch { .. } => Some(9),
            FixError::BadChecksum { .. } => Some(10),
            FixError::NoMsgType { .. } => Some(35),
            FixError::Missing { tag } | FixError::BadValue { tag, .. } => Some(tag),
            FixError::Garbled { .. } | FixError::TooManyFields { .. } => None,
        }
    }

    /// Whether the error is in the framing (BeginString, BodyLength, CheckSum): such
    /// a message is garbled and is dropped without a reply, per the FIX session
    /// rules; any other error is answered with a session-level Reject.
    pub fn is_garbled(&self) -> bool {
        matches!(
            self,
            FixError::NoBeginString { .. }
                | FixError::BadBodyLength { .. }
                | FixError::BodyLengthMismatch { .. }
                | FixError::BadChecksum { .. }
                | FixError::Garbled { .. }
        )
    }
}

/// The index of the first SOH in `b`, eight bytes at a time (SWAR: a byte is zero
/// in `w ^ 0x01…01` exactly where `w` holds SOH; the lowest flagged byte of the
/// classic has-zero-byte test is always a true one).
#[inline]
pub fn find_soh(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w) ^ ONES;
        let t = x.wrapping_sub(ONES) & !x & HIGHS;
        if t != 0 {
            return Some(i + (t.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == SOH).map(|p| i + p)
}

/// Parses an unsigned decimal; `None` if empty, not digits, or overflowing.
/// Eight digits at a time where there are eight.
#[inline]
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    let mut rest = b;
    // Nineteen digits cannot overflow; only a twentieth needs checking (the
    // chunks take at most sixteen, so it is always in the rest).
    while let Some((eight, tail)) = rest.split_first_chunk::<8>() {
        v = v * 100_000_000 + eight_digits(u64::from_le_bytes(*eight))?;
        rest = tail;
    }
    let (head, last) = match (b.len(), rest.split_last()) {
        (20, Some((&l, h))) => (h, Some(l)),
        _ => (rest, None),
    };
    for &c in head {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u64;
    }
    match last {
        None => Some(v),
        Some(c) => {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v.checked_mul(10)?.checked_add(d as u64)
        }
    }
}

/// Eight ASCII digits (a little-endian word, the first digit in the low byte)
/// combined in neighbouring pairs: byte `i` of the answer is `10 × digit i +
/// digit i + 1` (so the even bytes hold the pairs); `None` unless all eight are
/// digits.
#[inline]
pub fn digit_pairs(w: u64) -> Option<u64> {
    let d = w.wrapping_sub(0x3030_3030_3030_3030);
    // A byte that was not a digit is above 9 now (or borrowed into one that is).
    if (d.wrapping_add(0x7676_7676_7676_7676) | d) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    Some(d.wrapping_mul(10) + (d >> 8))
}

/// The value of eight ASCII digits read as a little-endian word (the first digit
/// in the low byte), or `None` if one is not a digit: [`digit_pairs`], then two
/// more multiply-shift steps combine pairs into quads and quads into the value.
#[inline]
pub fn eight_digits(w: u64) -> Option<u64> {
    let d = digit_pairs(w)? & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF)
}

/// Parses a decimal (`-12.5`) into an integer with `decimals` implied decimals,
/// exactly; `None` if it has more decimals, is not a number, or overflows.
#[inline(always)]
pub fn parse_fixed(b: &[u8], decimals: u8) -> Option<i64> {
    foxtrot_engine::format::decimal::fixed(b, decimals).ok()
}

/// Where the message at the start of `buf` ends: `Ok(Some(len))`, `Ok(None)` if
/// more bytes are needed, or an error if the start is not a FIX header (the
/// caller then discards up to the next `8=`).
#[inline]
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, FixError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if &buf[..2] != b"8=" {
        return Err(FixError::NoBeginString { offset: 0 });
    }
    let Some(soh1) = buf.iter().position(|&c| c == SOH) else {
        return if buf.len() > 32 {
            Err(FixError::NoBeginString { offset: 0 })
        } else {
            Ok(None)
        };
    };
    let rest = &buf[soh1 + 1..];
    if rest.len() < 2 {
        return Ok(None);
    }
    if &rest[..2] != b"9=" {
        return Err(FixError::BadBodyLength { offset: soh1 + 1 });
    }
    let Some(soh2) = rest.iter().position(|&c| c == SOH) else {
        return if rest.len() > 10 {
            Err(FixError::BadBodyLength { offset: soh1 + 1 })
        } else {
            Ok(None)
        };
    };
    let body = parse_u64(&rest[2..soh2])
        .filter(|&n| n as usize <= MAX_BODY)
        .ok_or(FixError::BadBodyLength { offset: soh1 + 1 })? as usize;
    let total = soh1 + 1 + soh2 + 1 + body + 7;
    Ok((buf.len() >= total).then_some(total))
}

#[derive(Clone, Copy, Debug, Default)]
struct Field {
    tag: u32,
    start: u32,
    end: u32,
}

/// Tags below this are found by table lookup; others by a scan of the fields.
const DIRECT_TAGS: usize = 512;

/// Decodes messages into a reusable field index. See the module docs.
pub struct FixDecoder {
    fields: Box<[Field; MAX_FIELDS]>,
    /// For each tag below [`DIRECT_TAGS`], 1 + the index of its first field in the
    /// last message decoded (0: absent). Reset field by field, not wholesale.
    first: Box<[u8; DIRECT_TAGS]>,
    n: usize,
    /// One bit per byte of the message being decoded: set where it holds SOH.
    soh: Box<[u64; MASK_WORDS]>,
}

/// Mask words for the longest message decoded in two passes (a longer one is
/// garbage by its BodyLength anyway).
const MASK_WORDS: usize = (MAX_BODY + 256) / 64;

impl Default for FixDecoder {
    fn default() -> Self {
        FixDecoder {
            fields: Box::new([Field::default(); MAX_FIELDS]),
            first: Box::new([0; DIRECT_TAGS]),
            n: 0,
            soh: Box::new([0; MASK_WORDS]),
        }
    }
}

const _: () = assert!(MAX_FIELDS < 256);

/// A decoded message: views into the buffer it was decoded from.
pub struct FixMessage<'a> {
    buf: &'a [u8],
    fields: &'a [Field],
    first: &'a [u8; DIRECT_TAGS],
}

impl FixDecoder {
    /// A decoder (allocates its index once).
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks and indexes the one message that is all of `buf`.
    ///
    /// Two passes. The first marks every SOH in a bit mask and sums the bytes for
    /// the CheckSum, sixteen bytes at a time (SSE2 on x86-64, eight at a time in
    /// plain integers elsewhere), with no branch on the data. The second walks
    /// the SOH bits: each field's tag is read up to its `=`, its value is a range,
    /// nothing is scanned twice.
    #[inline]
    pub fn decode<'a>(&'a mut self, buf: &'a [u8]) -> Result<FixMessage<'a>, FixError> {
        self.start(buf)?;
        let len = buf.len();
        // Pass 1: a bit per byte where it is SOH, and the sum of all bytes.
        let words = len.div_ceil(64);
        if words > self.soh.len() {
            return Err(self.too_long(buf));
        }
        let total = soh_mask(buf, &mut self.soh[..words]);
        // Pass 2: fields, from one SOH to the next. The first three and the last
        // are checked for their place; the others are only indexed.
        let mut n = 0usize;
        let r = self.index(buf, words, &mut n);
        self.n = n;
        let (soh, eq) = r?;
        self.finish(buf, n, eq, soh, total)
    }

    /// Indexes the fields up to and including the CheckSum field; counts them in
    /// `n` (also on error, so the next decode clears what this one set). Returns
    /// where the CheckSum field's SOH and `=` are.
    #[inline]
    fn index(&mut self, buf: &[u8], words: usize, n: &mut usize) -> Result<(usize, usize), FixError> {
        let (fields, first, masks) = (&mut self.fields, &mut self.first, &self.soh);
        let mut at = 0usize;
        let (mut body_start, mut declared_body) = (0usize, 0usize);
        for (wi, &mask) in masks[..words].iter().enumerate() {
            let mut bits = mask;
            while bits != 0 {
                let soh = wi * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let (tag, eq) = read_tag(buf, at, soh)?;
                if *n < 3 || tag == 10 {
                    match (*n, tag) {
                        (0, 8) | (2, 35) => {}
                        (0, _) => return Err(FixError::NoBeginString { offset: at }),
                        (1, 9) => {
                            declared_body = parse_u64(&buf[eq + 1..soh])
                                .filter(|&v| v as usize <= MAX_BODY)
                                .ok_or(FixError::BadBodyLength { offset: at })?
                                as usize;
                            body_start = soh + 1;
                        }
                        (1, _) => return Err(FixError::BadBodyLength { offset: at }),
                        (2, _) => return Err(FixError::NoMsgType { offset: at }),
                        _ => {
                            if at != body_start + declared_body {
                                return Err(FixError::BodyLengthMismatch {
                                    offset: at,
                                    declared: declared_body,
                                });
                            }
                        }
                    }
                }
                if *n >= MAX_FIELDS {
                    return Err(FixError::TooManyFields { offset: at });
                }
                fields[*n] = Field {
                    tag,
                    start: (eq + 1) as u32,
                    end: soh as u32,
                };
                *n += 1;
                if (tag as usize) < DIRECT_TAGS && first[tag as usize] == 0 {
                    first[tag as usize] = *n as u8;
                }
                if tag == 10 && *n > 3 {
                    return Ok((soh, eq));
                }
                at = soh + 1;
            }
        }
        Err(FixError::Garbled { offset: at })
    }

    /// Forgets the last message's index (only the entries it set) and checks
    /// that `buf` starts like a FIX message.
    #[inline]
    fn start(&mut self, buf: &[u8]) -> Result<(), FixError> {
        for f in &self.fields[..self.n] {
            if (f.tag as usize) < DIRECT_TAGS {
                self.first[f.tag as usize] = 0;
            }
        }
        self.n = 0;
        if !buf.starts_with(b"8=") {
            return Err(FixError::NoBeginString { offset: 0 });
        }
        Ok(())
    }

    /// The error for a message longer than any BodyLength allows.
    #[cold]
    fn too_long(&mut self, buf: &[u8]) -> FixError {
        match self.decode_bytewise(buf) {
            Err(e) => e,
            Ok(_) => FixError::BadBodyLength { offset: 0 },
        }
    }

    /// The CheckSum field (`=` at `eq`, SOH at `soh`, the last of `n` indexed)
    /// against the sum of every byte before it (`total` less the field's own).
    fn finish<'a>(
        &'a self,
        buf: &'a [u8],
        n: usize,
        eq: usize,
        soh: usize,
        total: u64,
    ) -> Result<FixMessage<'a>, FixError> {
        let field_at = eq - 2;
        let after: u64 = buf[field_at..].iter().map(|&c| c as u64).sum();
        let computed = ((total - after) % 256) as u8;
        let start = eq + 1;
        let v = &buf[start..soh];
        let mut declared = [0u8; 3];
        let m = v.len().min(3);
        declared[..m].copy_from_slice(&v[..m]);
        if v.len() != 3 || parse_u64(v) != Some(computed as u64) || soh + 1 != buf.len() {
            return Err(FixError::BadChecksum {
                offset: start,
                declared,
                computed,
            });
        }
        Ok(FixMessage {
            buf,
            fields: &self.fields[..n],
            first: &self.first,
        })
    }
}

const LOW_BYTES: u64 = 0x00FF_00FF_00FF_00FF;
const SOHS: u64 = 0x0101_0101_0101_0101;

/// Sets bit `i` of `mask` where `buf[i]` is SOH (mask words past the message
/// end up zero) and returns the sum of the bytes.
#[inline]
pub(super) fn soh_mask(buf: &[u8], mask: &mut [u64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if buf.len() >= 32 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { soh_mask_avx2(buf, mask) };
        }
        soh_mask_sse2(buf, mask)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        soh_mask_swar(buf, mask)
    }
}

/// [`soh_mask`] sixteen bytes at a time: compare, move mask, and `psadbw` for
/// the byte sums. SSE2 is part of every x86-64 CPU. Measured on a 238-byte
/// execution report: 21 ns, against 80 ns for the portable word-at-a-time
/// version and 133 ns for the byte loop LLVM does not vectorise.
#[cfg(target_arch = "x86_64")]
#[inline]
fn soh_mask_sse2(buf: &[u8], mask: &mut [u64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi64, _mm_and_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_sad_epu8, _mm_set1_epi8, _mm_setzero_si128, _mm_unpackhi_epi64,
    };
    let mut chunks = buf.chunks_exact(16);
    let mut word = 0u64;
    let mut k = 0usize;
    let rest = chunks.remainder().len();
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions exist on
    // every CPU this target runs on; each load reads exactly the 16 bytes of `ch`,
    // of `buf`'s last 16 (there are at least 16), or of `KEEP_LAST[rest..rest + 16]`
    // (`rest` < 16, so within its 32); `loadu` needs no alignment.
    let mut sum = unsafe {
        let (sohs, zero) = (_mm_set1_epi8(1), _mm_setzero_si128());
        let mut acc = _mm_setzero_si128();
        for ch in &mut chunks {
            let v = _mm_loadu_si128(ch.as_ptr() as *const __m128i);
            let bits = _mm_movemask_epi8(_mm_cmpeq_epi8(v, sohs)) as u16 as u64;
            acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
            word |= bits << ((k % 4) * 16);
            if k % 4 == 3 {
                mask[k / 4] = word;
                word = 0;
            }
            k += 1;
        }
        // The last bytes past the chunks: the buffer's last 16 read again, the
        // ones already counted masked off.
        if rest > 0 && k > 0 {
            let v = _mm_loadu_si128(buf.as_ptr().add(buf.len() - 16) as *const __m128i);
            let v = _mm_and_si128(v, _mm_loadu_si128(KEEP_LAST.as_ptr().add(rest) as *const __m128i));
            let bits = _mm_movemask_epi8(_mm_cmpeq_epi8(v, sohs)) as u32 >> (16 - rest);
            acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
            word |= (bits as u64) << ((k % 4) * 16);
        }
        (_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) as u64
    };
    if k == 0 {
        for (j, &c) in chunks.remainder().iter().enumerate() {
            word |= ((c == SOH) as u64) << j;
            sum += c as u64;
        }
    }
    if k % 4 != 0 || rest != 0 {
        mask[k / 4] = word;
    }
    sum
}

/// 16 bytes from `KEEP_LAST[r]` keep the last `r` bytes of a vector.
#[cfg(target_arch = "x86_64")]
static KEEP_LAST: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 16;
    while i < 32 {
        t[i] = 0xFF;
        i += 1;
    }
    t
};

/// [`soh_mask`] 32 bytes at a time with AVX2 (most x86-64 CPUs since 2013;
/// checked at run time): half the loop of the SSE2 version, whose steps it
/// repeats on twice the width. `buf` has at least 32 bytes.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn soh_mask_avx2(buf: &[u8], mask: &mut [u64]) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi64, _mm256_and_si256, _mm256_castsi256_si128, _mm256_cmpeq_epi8,
        _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_sad_epu8, _mm256_set1_epi8,
        _mm256_setzero_si256, _mm_add_epi64, _mm_cvtsi128_si64, _mm_unpackhi_epi64,
    };
    debug_assert!(buf.len() >= 32);
    let chunks = buf.chunks_exact(32);
    let rest = chunks.remainder().len();
    let (sohs, zero) = (_mm256_set1_epi8(1), _mm256_setzero_si256());
    let mut acc = zero;
    let mut word = 0u64;
    let mut k = 0usize;
    for ch in chunks {
        // SAFETY: reads exactly the 32 bytes of `ch` (`loadu`: no alignment).
        let v = unsafe { _mm256_loadu_si256(ch.as_ptr() as *const __m256i) };
        let bits = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, sohs)) as u32 as u64;
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
        word |= bits << ((k % 2) * 32);
        if k % 2 == 1 {
            mask[k / 2] = word;
            word = 0;
        }
        k += 1;
    }
    if rest > 0 {
        // The buffer's last 32 bytes read again, those already counted masked off.
        // SAFETY: `buf` has at least 32 bytes; `KEEP_LAST_32[rest..rest + 32]`
        // is within its 64 (`rest` < 32).
        let (v, keep) = unsafe {
            (
                _mm256_loadu_si256(buf.as_ptr().add(buf.len() - 32) as *const __m256i),
                _mm256_loadu_si256(KEEP_LAST_32.as_ptr().add(rest) as *const __m256i),
            )
        };
        let v = _mm256_and_si256(v, keep);
        let bits = (_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, sohs)) as u32 >> (32 - rest)) as u64;
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
        word |= bits << ((k % 2) * 32);
    }
    if k % 2 != 0 || rest != 0 {
        mask[k / 2] = word;
    }
    let a = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256::<1>(acc));
    (_mm_cvtsi128_si64(a) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a))) as u64
}

/// 32 bytes from `KEEP_LAST_32[r]` keep the last `r` bytes of a vector.
#[cfg(target_arch = "x86_64")]
static KEEP_LAST_32: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 32;
    while i < 64 {
        t[i] = 0xFF;
        i += 1;
    }
    t
};

/// [`soh_mask`] eight bytes at a time in plain integers (other architectures,
/// and the model the SSE2 version is tested against).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn soh_mask_swar(buf: &[u8], mask: &mut [u64]) -> u64 {
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let mut lanes = 0u64;
    let mut sum = 0u64;
    for (k, m) in mask.iter_mut().enumerate() {
        let mut bits = 0u64;
        for j in 0..8 {
            let at = k * 64 + j * 8;
            if at >= buf.len() {
                break;
            }
            let w = word_at(buf, at).unwrap_or(0);
            lanes += (w & LOW_BYTES) + ((w >> 8) & LOW_BYTES);
            let flags = zero_bytes(w ^ SOHS) >> 7;
            bits |= (flags.wrapping_mul(GATHER) >> 56) << (j * 8);
        }
        // 8 words of at most 510 per 16-bit lane: fold well before they overflow.
        sum += fold_lanes(lanes);
        lanes = 0;
        *m = bits;
    }
    sum
}

/// The tag of the field `buf[at..soh]` and the position of its `=`; `Garbled`
/// unless it is `tag=value` with a tag of one to nine digits and no leading zero,
/// and a value of at least one byte. (Byte by byte: tags are one to three digits,
/// and this measured faster than reading them from one word.)
#[inline]
pub(super) fn read_tag(buf: &[u8], at: usize, soh: usize) -> Result<(u32, usize), FixError> {
    let field = &buf[at..soh];
    let mut tag: u32 = 0;
    let mut k = 0;
    while k < field.len() && field[k] != b'=' {
        let d = field[k].wrapping_sub(b'0');
        if d > 9 || k == 9 {
            return Err(FixError::Garbled { offset: at });
        }
        tag = tag * 10 + d as u32;
        k += 1;
    }
    if k == 0 || k + 1 >= field.len() || (k > 1 && field[0] == b'0') {
        return Err(FixError::Garbled { offset: at });
    }
    Ok((tag, at + k))
}

/// The eight bytes of `b` from `i` as a little-endian word, zeros past the
/// end; `None` if `i` is past it. Near the end of a buffer of eight bytes or
/// more, its last eight shifted down (no copy).
#[inline(always)]
pub(super) fn word_at(b: &[u8], i: usize) -> Option<u64> {
    if let Some(w) = b.get(i..).and_then(|r| r.first_chunk::<8>()) {
        return Some(u64::from_le_bytes(*w));
    }
    if i >= b.len() {
        return None;
    }
    if let Some(last) = b.last_chunk::<8>() {
        return Some(u64::from_le_bytes(*last) >> (8 * (i + 8 - b.len())));
    }
    let mut w = [0u8; 8];
    w[..b.len() - i].copy_from_slice(&b[i..]);
    Some(u64::from_le_bytes(w))
}

/// The low `n` bytes of a word set (`n` ≤ 8): `word_at(…) & FIRST[n]` keeps a
/// word's first `n` bytes.
pub(super) const FIRST: [u64; 9] = {
    let mut t = [0u64; 9];
    let mut n = 1;
    while n <= 8 {
        t[n] = u64::MAX >> (64 - 8 * n);
        n += 1;
    }
    t
};

/// 0x80 in each byte of `x` that is zero, 0 elsewhere (exact: no borrow between
/// bytes, unlike the shorter has-zero test).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// The sum of four 16-bit lanes.
#[inline]
fn fold_lanes(l: u64) -> u64 {
    (l & 0xFFFF) + ((l >> 16) & 0xFFFF) + ((l >> 32) & 0xFFFF) + (l >> 48)
}

impl FixDecoder {
    /// The decoder as first written, a byte at a time: the model the two-pass
    /// [`decode`](Self::decode) is tested against, and its answer for messages
    /// too long to mask.
    fn decode_bytewise<'a>(&'a mut self, buf: &'a [u8]) -> Result<FixMessage<'a>, FixError> {
        self.start(buf)?;
        let len = buf.len();
        let mut n = 0usize;
        let mut at = 0usize;
        let mut body_start = 0usize;
        let mut declared_body = 0usize;
        loop {
            // One field: `tag=value` up to the next SOH, found eight bytes at a time.
            let field_at = at;
            let rest = buf.get(at..).unwrap_or_default();
            let Some(p) = find_soh(rest) else {
                return Err(FixError::Garbled { offset: field_at });
            };
            // The tag is read as the two-pass decoder reads it; what this model
            // checks is the framing and the CheckSum, found the slow way.
            let (tag, eq) = read_tag(buf, at, at + p)?;
            let (start, end) = (eq + 1, at + p);
            match (n, tag) {
                (0, 8) | (2, 35) => {}
                (0, _) => return Err(FixError::NoBeginString { offset: field_at }),
                (1, 9) => {
                    declared_body = parse_u64(&buf[start..end])
                        .filter(|&v| v as usize <= MAX_BODY)
                        .ok_or(FixError::BadBodyLength { offset: field_at })?
                        as usize;
                    body_start = end + 1;
                }
                (1, _) => return Err(FixError::BadBodyLength { offset: field_at }),
                (2, _) => return Err(FixError::NoMsgType { offset: field_at }),
                (_, 10) => {
                    if field_at != body_start + declared_body {
                        return Err(FixError::BodyLengthMismatch {
                            offset: field_at,
                            declared: declared_body,
                        });
                    }
                    let sum = buf[..field_at].iter().fold(0u32, |a, &c| a + c as u32);
                    let computed = (sum % 256) as u8;
                    let v = &buf[start..end];
                    let mut declared = [0u8; 3];
                    let m = v.len().min(3);
                    declared[..m].copy_from_slice(&v[..m]);
                    if v.len() != 3 || parse_u64(v) != Some(computed as u64) || end + 1 != len {
                        return Err(FixError::BadChecksum {
                            offset: start,
                            declared,
                            computed,
                        });
                    }
                }
                _ => {}
            }
            if n >= MAX_FIELDS {
                return Err(FixError::TooManyFields { offset: field_at });
            }
            self.fields[n] = Field {
                tag,
                start: start as u32,
                end: end as u32,
            };
            n += 1;
            self.n = n;
            if (tag as usize) < DIRECT_TAGS && self.first[tag as usize] == 0 {
                self.first[tag as usize] = n as u8;
            }
            at = end + 1;
            if tag == 10 && n > 3 {
                break;
            }
        }
        Ok(FixMessage {
            buf,
            fields: &self.fields[..n],
            first: &self.first,
        })
    }
}

impl<'a> FixMessage<'a> {
    /// The whole message.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// BeginString (tag 8).
    pub fn begin_string(&self) -> &'a [u8] {
        let f = self.fields[0];
        &self.buf[f.start as usize..f.end as usize]
    }

    #[inline]
    fn find(&self, tag: u32) -> Option<&Field> {
        if (tag as usize) < DIRECT_TAGS {
            match self.first[tag as usize] {
                0 => None,
                i => self.fields.get(i as usize - 1),
            }
        } else {
            self.fields.iter().find(|f| f.tag == tag)
        }
    }

    /// Every field, in order, as (tag, value).
    pub fn fields(&self) -> impl Iterator<Item = (u32, &'a [u8])> + '_ {
        self.fields
            .iter()
            .map(|f| (f.tag, &self.buf[f.start as usize..f.end as usize]))
    }

    /// The instances of the repeating group counted by `count_tag`, each as the
    /// fields from its delimiter (the first field after the count) up to the next
    /// delimiter or the first field that is not in `members`.
    pub fn group(&self, count_tag: u32, members: &[u32]) -> Vec<Vec<(u32, &'a [u8])>> {
        let mut out = Vec::new();
        let Some(i) = self.fields.iter().position(|f| f.tag == count_tag) else {
            return out;
        };
        let count = parse_u64(&self.buf[self.fields[i].start as usize..self.fields[i].end as usize]).unwrap_or(0);
        let Some(delim) = self.fields.get(i + 1).map(|f| f.tag) else {
            return out;
        };
        for f in &self.fields[i + 1..] {
            if f.tag == delim {
                if out.len() as u64 == count {
                    break;
                }
                out.push(Vec::new());
            } else if !members.contains(&f.tag) {
                break;
            }
            if let Some(g) = out.last_mut() {
                g.push((f.tag, &self.buf[f.start as usize..f.end as usize]));
            }
        }
        out
    }
}

impl<'a> Fields<'a> for FixMessage<'a> {
    #[inline]
    fn msg_type(&self) -> &'a [u8] {
        let f = self.fields[2];
        &self.buf[f.start as usize..f.end as usize]
    }

    #[inline]
    fn get(&self, tag: u32) -> Option<&'a [u8]> {
        let buf = self.buf;
        self.find(tag).map(|f| &buf[f.start as usize..f.end as usize])
    }

    fn offset_of(&self, tag: u32) -> usize {
        self.find(tag).map_or(0, |f| f.start as usize)
    }
}

impl std::fmt::Debug for FixMessage<'_> {
    /// The message as text, SOH shown as `|`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: String = self
            .buf
            .iter()
            .map(|&c| if c == SOH { '|' } else { c as char })
            .collect();
        write!(f, "FixMessage({s})")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A FIX 4.4 message with `body` (`|` for SOH), BodyLength and CheckSum right.
    pub(crate) fn message(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
        let sum = m.iter().map(|&c| c as u32).sum::<u32>() % 256;
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    /// The outcome of a decode, owned, for comparing two decoders.
    fn outcome(r: Result<FixMessage<'_>, FixError>) -> Result<Vec<(u32, Vec<u8>)>, FixError> {
        r.map(|m| m.fields().map(|(t, v)| (t, v.to_vec())).collect())
    }

    fn same_as_bytewise(buf: &[u8]) {
        let (mut a, mut b) = (FixDecoder::new(), FixDecoder::new());
        let fast = outcome(a.decode(buf));
        let model = outcome(b.decode_bytewise(buf));
        assert_eq!(fast, model, "{:?}", String::from_utf8_lossy(buf));
        // And the decoder is reusable: a second message after this one decodes alike.
        let ok = message("35=0|34=2|49=A|52=20260105-14:30:00.000|56=B|");
        assert_eq!(outcome(a.decode(&ok)), outcome(b.decode_bytewise(&ok)));
    }

    #[test]
    fn long_messages_sum_correctly_across_lane_folds() {
        // Over 64 words between folds, with high bytes, and '=' inside values.
        for n in [1usize, 7, 500, 513, 2000, 9000] {
            let text: String = (0..n).map(|i| ['x', '=', '~', 'Z'][i % 4]).collect();
            same_as_bytewise(&message(&format!(
                "35=B|34=1|49=A|52=20260105-14:30:00.000|56=B|58={text}|"
            )));
            let m = message(&format!("35=B|34=1|58={text}|"));
            assert!(FixDecoder::new().decode(&m).is_ok(), "{n}");
        }
        // Longer than any BodyLength allows: the bytewise answer, not a panic.
        let huge = message(&format!("35=B|58={}|", "y".repeat(70_000)));
        same_as_bytewise(&huge);
        assert!(matches!(
            FixDecoder::new().decode(&huge),
            Err(FixError::BadBodyLength { offset: 10 })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// Eight at a time or one at a time, integers parse alike: digits,
        /// non-digits anywhere, every length, overflow at twenty digits.
        #[test]
        fn parse_u64_is_the_bytewise_parse(
            text in "[0-9]{0,21}|[0-9]{0,10}[/:a ][0-9]{0,10}|1[89][0-9]{18}",
        ) {
            let b = text.as_bytes();
            // (More than twenty characters is never a u64, even zeros.)
            let model = if b.is_empty() || b.len() > 20 {
                None
            } else {
                b.iter().try_fold(0u64, |v, &c| {
                    c.is_ascii_digit().then_some(())?;
                    v.checked_mul(10)?.checked_add((c - b'0') as u64)
                })
            };
            prop_assert_eq!(parse_u64(b), model, "{:?}", text);
        }
    }

    proptest! {
        /// The SSE2 mask and sum are the portable ones, for any bytes and length.
        #[test]
        fn soh_mask_versions_agree(buf in proptest::collection::vec(prop::sample::select(vec![0u8, 1, 2, b'=', 0x7F, 0x80, 0xFF]), 0..700)) {
            let words = buf.len().div_ceil(64);
            let (mut a, mut b) = (vec![0u64; words], vec![0u64; words]);
            let sa = soh_mask(&buf, &mut a);
            let sb = soh_mask_swar(&buf, &mut b);
            #[cfg(target_arch = "x86_64")]
            {
                let mut c = vec![0u64; words];
                prop_assert_eq!(soh_mask_sse2(&buf, &mut c), sb);
                prop_assert_eq!(&c, &b);
            }
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(sa, sb);
            prop_assert_eq!(sa, buf.iter().map(|&c| c as u64).sum::<u64>());
            for (i, &c) in buf.iter().enumerate() {
                prop_assert_eq!(a[i / 64] >> (i % 64) & 1 == 1, c == SOH);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Valid messages, then each mutated (a byte changed, inserted or removed,
        /// or cut short): the two-pass decoder gives exactly the bytewise
        /// model's fields or error.
        #[test]
        fn two_pass_decode_is_the_bytewise_one(
            values in proptest::collection::vec("[ -~]{1,12}", 1..12),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(vec![0x01u8, b'=', b'0', b'9', b'1', b'A', 0x00, 0xFF]),
            how in 0u8..4,
        ) {
            let body: String = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{}={v}|", 100 + i))
                .collect();
            let mut m = message(&format!("35=8|34=7|49=VENUE|56=FOXTROT|{body}"));
            same_as_bytewise(&m);
            let i = at.index(m.len());
            match how {
                0 => m[i] = byte,
                1 => m.insert(i, byte),
                2 => {
                    m.remove(i);
                }
                _ => m.truncate(i),
            }
            same_as_bytewise(&m);
        }
    }
}
