//! Validating one record at an offset: shared by the reader and by recovery.

use super::layout::{self, rec, RECORD_HEADER};

/// What is at an offset of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A valid record of `len` bytes.
    Record {
        /// Total length.
        len: usize,
    },
    /// `len` is zero: nothing written here (yet).
    Empty,
    /// Something is here but it is not a valid record.
    Bad(&'static str),
}

/// Checks the record at `offset` of `seg` (the whole mapped segment), given its
/// `len` word (loaded by the caller with the ordering it needs).
#[inline]
pub fn check(seg: &[u8], offset: usize, len: u32) -> Step {
    if len == 0 {
        return Step::Empty;
    }
    let len = len as usize;
    if len < RECORD_HEADER || len % layout::ALIGN != 0 {
        return Step::Bad("length is not a multiple of 8 of at least 32");
    }
    let Some(end) = offset.checked_add(len).filter(|e| *e <= seg.len()) else {
        return Step::Bad("length runs past the end of the segment");
    };
    let b = &seg[offset..end];
    let payload_len = layout::le_u32(b, rec::PAYLOAD_LEN) as usize;
    if layout::record_len(payload_len) != len {
        return Step::Bad("payload length disagrees with the record length");
    }
    if layout::le_u32(b, rec::CRC) != layout::record_crc(len as u32, &b[8..]) {
        return Step::Bad("CRC32C mismatch");
    }
    Step::Record { len }
}

/// True when no byte of `seg` from `from` on is non-zero: what follows a torn tail.
pub fn zero_from(seg: &[u8], from: usize) -> bool {
    let Some(t) = seg.get(from..) else { return true };
    // 64 bytes at a time, each chunk folded without an early exit (which the
    // compiler turns into vector ORs): the tail of a last segment is megabytes.
    let mut chunks = t.chunks_exact(64);
    if chunks.by_ref().any(|c| c.iter().fold(0u8, |a, &b| a | b) != 0) {
        return false;
    }
    chunks.remainder().iter().all(|&b| b == 0)
}

/// Where a bad record's claimed extent ends (clamped to the segment), so that what
/// follows it can be examined.
pub fn claimed_end(seg: &[u8], offset: usize, len: u32) -> usize {
    let l = (len as usize).clamp(RECORD_HEADER, seg.len().saturating_sub(offset).max(RECORD_HEADER));
    (offset + l).min(seg.len())
}
