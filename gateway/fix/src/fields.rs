//! Reading a decoded message's fields by tag, whichever decoder read it.
//!
//! Two decoders produce messages: [`FixDecoder`](super::decode::FixDecoder)
//! indexes every field of any message, and
//! [`ReportScanner`](super::report::ReportScanner) keeps only the fields the
//! receive path reads from execution reports, in one pass. Both answer the same
//! questions through [`Fields`], so the session rules and the conversion to
//! engine records are written once and give the same answers (or the same
//! errors, at the same offsets) over either.

use super::decode::{parse_fixed, parse_u64, FixError};

/// A decoded message's fields. The typed readers are provided: an implementor
/// says where a tag's first occurrence is, and every typed answer and error
/// follows from that.
pub trait Fields<'a> {
    /// MsgType (tag 35), e.g. `b"8"`.
    fn msg_type(&self) -> &'a [u8];

    /// The value of the first field with `tag`.
    fn get(&self, tag: u32) -> Option<&'a [u8]>;

    /// Byte offset of the value of the first field with `tag` (0 if absent).
    fn offset_of(&self, tag: u32) -> usize;

    /// The value of `tag`, required.
    #[inline(always)]
    fn req(&self, tag: u32) -> Result<&'a [u8], FixError> {
        self.get(tag).ok_or(FixError::Missing { tag })
    }

    /// `tag` as an unsigned integer, if present.
    #[inline(always)]
    fn u64(&self, tag: u32) -> Result<Option<u64>, FixError> {
        match self.get(tag) {
            None => Ok(None),
            Some(v) => parse_u64(v).map(Some).ok_or_else(|| self.bad(tag, "unsigned integer")),
        }
    }

    /// `tag` as a decimal with `decimals` implied decimals, if present.
    #[inline(always)]
    fn fixed(&self, tag: u32, decimals: u8) -> Result<Option<i64>, FixError> {
        match self.get(tag) {
            None => Ok(None),
            Some(v) => parse_fixed(v, decimals)
                .map(Some)
                .ok_or_else(|| self.bad(tag, "decimal at the instrument's precision")),
        }
    }

    /// `tag` as a single character, if present.
    #[inline(always)]
    fn char(&self, tag: u32) -> Result<Option<u8>, FixError> {
        match self.get(tag) {
            None => Ok(None),
            Some([c]) => Ok(Some(*c)),
            Some(_) => Err(self.bad(tag, "single character")),
        }
    }

    /// The error for a value of `tag` that is not a valid `what`.
    #[cold]
    fn bad(&self, tag: u32, what: &'static str) -> FixError {
        FixError::BadValue {
            offset: self.offset_of(tag),
            tag,
            what,
        }
    }
}
