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
#[inline]
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    // Nineteen digits cannot overflow; only a twentieth needs checking.
    let (head, last) = if b.len() == 20 {
        (&b[..19], Some(b[19]))
    } else {
        (b, None)
    };
    let mut v: u64 = 0;
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

/// Parses a decimal (`-12.5`) into an integer with `decimals` implied decimals,
/// exactly; `None` if it has more decimals, is not a number, or overflows.
#[inline]
pub fn parse_fixed(b: &[u8], decimals: u8) -> Option<i64> {
    crate::decimal::fixed(b, decimals).ok()
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
}

impl Default for FixDecoder {
    fn default() -> Self {
        FixDecoder {
            fields: Box::new([Field::default(); MAX_FIELDS]),
            first: Box::new([0; DIRECT_TAGS]),
            n: 0,
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
    #[inline]
    pub fn decode<'a>(&'a mut self, buf: &'a [u8]) -> Result<FixMessage<'a>, FixError> {
        for f in &self.fields[..self.n] {
            if (f.tag as usize) < DIRECT_TAGS {
                self.first[f.tag as usize] = 0;
            }
        }
        self.n = 0;
        if !buf.starts_with(b"8=") {
            return Err(FixError::NoBeginString { offset: 0 });
        }
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
            let field = &rest[..p];
            let mut tag: u32 = 0;
            let mut k = 0;
            while k < field.len() && field[k] != b'=' {
                let d = field[k].wrapping_sub(b'0');
                if d > 9 || k == 9 {
                    return Err(FixError::Garbled { offset: field_at });
                }
                tag = tag * 10 + d as u32;
                k += 1;
            }
            // No tag, no '=', no value, or a tag with a leading zero.
            if k == 0 || k + 1 >= field.len() || (k > 1 && field[0] == b'0') {
                return Err(FixError::Garbled { offset: field_at });
            }
            let (start, end) = (at + k + 1, at + p);
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

    /// MsgType (tag 35), e.g. `b"8"`.
    #[inline]
    pub fn msg_type(&self) -> &'a [u8] {
        let f = self.fields[2];
        &self.buf[f.start as usize..f.end as usize]
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

    /// The value of the first field with `tag`.
    #[inline]
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        let buf = self.buf;
        self.find(tag).map(|f| &buf[f.start as usize..f.end as usize])
    }

    /// The value of `tag`, required.
    #[inline]
    pub fn req(&self, tag: u32) -> Result<&'a [u8], FixError> {
        self.get(tag).ok_or(FixError::Missing { tag })
    }

    /// Byte offset of the value of the first field with `tag` (0 if absent).
    pub fn offset_of(&self, tag: u32) -> usize {
        self.find(tag).map_or(0, |f| f.start as usize)
    }

    /// `tag` as an unsigned integer, if present.
    #[inline]
    pub fn u64(&self, tag: u32) -> Result<Option<u64>, FixError> {
        match self.get(tag) {
            None => Ok(None),
            Some(v) => parse_u64(v).map(Some).ok_or_else(|| FixError::BadValue {
                offset: self.offset_of(tag),
                tag,
                what: "unsigned integer",
            }),
        }
    }

    /// `tag` as a decimal with `decimals` implied decimals, if present.
    #[inline]
    pub fn fixed(&self, tag: u32, decimals: u8) -> Result<Option<i64>, FixError> {
        match self.get(tag) {
            None => Ok(None),
            Some(v) => parse_fixed(v, decimals).map(Some).ok_or_else(|| FixError::BadValue {
                offset: self.offset_of(tag),
                tag,
                what: "decimal at the instrument's precision",
            }),
        }
    }

    /// `tag` as a single character, if present.
    #[inline]
    pub fn char(&self, tag: u32) -> Result<Option<u8>, FixError> {
        match self.get(tag) {
            None => Ok(None),
            Some([c]) => Ok(Some(*c)),
            Some(_) => Err(FixError::BadValue {
                offset: self.offset_of(tag),
                tag,
                what: "single character",
            }),
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
