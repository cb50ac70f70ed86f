//! On-disk layout of journal segments and records. All integers little-endian.
//!
//! A journal is a directory of segment files named `NNNNNNNNNNNNNNNNNNNN.seg`
//! (20-digit segment index), each of a fixed size, preallocated and memory-mapped.
//!
//! Segment header, 64 bytes:
//! ```text
//!  0        8        12       16              24              32              40              48         56       64
//!  +--------+--------+--------+---------------+---------------+---------------+---------------+----------+--------+
//!  | magic  |version |hdr_len | segment_index | first_seq     | created_ns    | segment_size  | base_seq |hdr_crc |
//!  +--------+--------+--------+---------------+---------------+---------------+---------------+----------+--------+
//! ```
//! `magic` = `FXJRNL01`; `first_seq` is the seq of the segment's first record (0
//! until one is written); `base_seq` the seq of the last record written before this
//! segment (so a writer recovering an empty segment knows where numbering stood);
//! `created_ns` is wall time, informational only. `hdr_crc` (version 2; bytes
//! 56..60, then 4 zero bytes) is CRC32C over bytes `0..24` and `32..56` — every
//! field the header is published with. `first_seq` is left out because it is
//! written later, by the segment's first append, while readers in other processes
//! may be reading the header; it is checked against the first record's seq
//! instead. Version 1 (written before the checksum; its bytes 56..64 are zero)
//! is still read, with the checks that need no checksum: magic, version,
//! header length, the index against the file name, the size against the file.
//!
//! Records follow from byte 64, each 8-byte aligned:
//! ```text
//!  0      4      8      10     12            16          24          32
//!  +------+------+------+------+-------------+-----------+-----------+----------------+-----+
//!  | len  | crc  | kind |flags | payload_len | seq       | ts_ns     | payload …      | pad |
//!  +------+------+------+------+-------------+-----------+-----------+----------------+-----+
//! ```
//! - `len` is the record's total size (header + payload + zero padding to 8) and is
//!   written **last, with release ordering**: a reader (in any process) that loads a
//!   non-zero `len` with acquire ordering sees the whole record. Zero means "nothing
//!   here yet".
//! - `crc` is CRC32C over the 4 bytes of `len` followed by bytes `8..len` of the
//!   record — every byte but itself, padding included.
//! - `kind` [`KIND_END`] closes a segment: the writer wrote no further record in it
//!   and continued in the next segment.

/// Segment file magic.
pub const SEGMENT_MAGIC: &[u8; 8] = b"FXJRNL01";
/// Segment format version written: 2, the header with its checksum.
pub const SEGMENT_VERSION: u32 = 2;
/// The first segment format version (no header checksum), still read.
pub const SEGMENT_VERSION_1: u32 = 1;
/// Size of the segment header; the first record starts here.
pub const SEGMENT_HEADER: usize = 64;
/// Size of a record header.
pub const RECORD_HEADER: usize = 32;
/// Record alignment.
pub const ALIGN: usize = 8;
/// Record kind of the end-of-segment marker.
pub const KIND_END: u16 = 0xFFFF;

/// Offsets in the segment header.
pub mod seg {
    /// Magic.
    pub const MAGIC: usize = 0;
    /// Version.
    pub const VERSION: usize = 8;
    /// Header length.
    pub const HEADER_LEN: usize = 12;
    /// Segment index.
    pub const INDEX: usize = 16;
    /// First seq.
    pub const FIRST_SEQ: usize = 24;
    /// Creation time.
    pub const CREATED_NS: usize = 32;
    /// Segment size.
    pub const SIZE: usize = 40;
    /// Last seq before this segment.
    pub const BASE_SEQ: usize = 48;
    /// Header checksum (version 2).
    pub const HEADER_CRC: usize = 56;
}

/// Offsets in a record header.
pub mod rec {
    /// Total length (commit word).
    pub const LEN: usize = 0;
    /// CRC32C.
    pub const CRC: usize = 4;
    /// Kind.
    pub const KIND: usize = 8;
    /// Flags.
    pub const FLAGS: usize = 10;
    /// Payload length.
    pub const PAYLOAD_LEN: usize = 12;
    /// Sequence number.
    pub const SEQ: usize = 16;
    /// Timestamp.
    pub const TS: usize = 24;
}

/// Total record size for a payload of `n` bytes.
#[inline]
pub const fn record_len(n: usize) -> usize {
    (RECORD_HEADER + n + ALIGN - 1) & !(ALIGN - 1)
}

/// CRC of a record given its `len` and bytes `8..len`.
///
/// Records are short (tens to a few hundred bytes), where a serial loop of the
/// SSE4.2 `crc32` instruction beats the `crc32c` crate's three-stream path, whose
/// setup and combine dominate below ~1 KiB (`foxtrot-perf journal-read`: CRC was
/// most of the reader's time). Without SSE4.2 the crate computes it; both give the
/// same CRC32C (tested).
#[inline]
pub fn record_crc(len: u32, body: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU supports SSE4.2 (checked just above).
            return unsafe { crc_sse42(len, body) };
        }
    }
    crc32c::crc32c_append(crc32c::crc32c(&len.to_le_bytes()), body)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc_sse42(len: u32, body: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u32, _mm_crc32_u64, _mm_crc32_u8};
    let mut c = !0u32;
    c = _mm_crc32_u32(c, len);
    let mut chunks = body.chunks_exact(8);
    let mut c64 = c as u64;
    for ch in &mut chunks {
        c64 = _mm_crc32_u64(c64, u64::from_le_bytes(ch.try_into().expect("8-byte chunk")));
    }
    c = c64 as u32;
    for &b in chunks.remainder() {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

/// The header checksum (version 2) of the 64 header bytes `h`: CRC32C over
/// bytes `0..24` and `32..56` (all but `first_seq` and the checksum itself).
pub fn header_crc(h: &[u8]) -> u32 {
    crc32c::crc32c_append(
        crc32c::crc32c(&h[..seg::FIRST_SEQ]),
        &h[seg::CREATED_NS..seg::HEADER_CRC],
    )
}

/// The file name of segment `index`.
pub fn segment_name(index: u64) -> String {
    format!("{index:020}.seg")
}

/// Parses a segment file name.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".seg")?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()))
        .then(|| stem.parse().ok())
        .flatten()
}

#[inline]
pub(crate) fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
#[inline]
pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
#[inline]
pub(crate) fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_align_and_names_round_trip() {
        assert_eq!(record_len(0), 32);
        assert_eq!(record_len(1), 40);
        assert_eq!(record_len(64), 96);
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("42.seg"), None);
        assert_eq!(parse_segment_name("0000000000000000004x.seg"), None);
    }

    #[test]
    fn fast_crc_matches_the_crate() {
        for n in 0..300usize {
            let body: Vec<u8> = (0..n).map(|i| (i * 37 + n) as u8).collect();
            let want = crc32c::crc32c_append(crc32c::crc32c(&(n as u32 * 3).to_le_bytes()), &body);
            assert_eq!(record_crc(n as u32 * 3, &body), want, "n = {n}");
        }
    }

    #[test]
    fn crc_covers_len_and_body() {
        let a = record_crc(40, &[1, 2, 3]);
        assert_ne!(a, record_crc(48, &[1, 2, 3]));
        assert_ne!(a, record_crc(40, &[1, 2, 4]));
    }
}
