//! The sparse index: every `every`-th record's (seq, ts, offset), per segment, in a
//! sidecar file `NNNNNNNNNNNNNNNNNNNN.idx` of 32-byte little-endian entries:
//!
//! ```text
//!  0         8         16        24        32
//!  +---------+---------+---------+---------+
//!  | seq     | ts_ns   | offset  | reserved|
//!  +---------+---------+---------+---------+
//! ```
//!
//! The writer keeps a segment's entries in memory (preallocated) and writes the
//! file when the segment rolls, on `sync` and on drop — never per record. The
//! index is a hint: a missing or short index only makes a seek scan further, and
//! a reader checks every entry it uses against the record it points at.

use crate::ShmError;
use std::path::{Path, PathBuf};

/// One index entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Seq of the record.
    pub seq: u64,
    /// Its timestamp.
    pub ts: u64,
    /// Its offset in the segment.
    pub offset: u64,
}

/// Size of an entry on disk.
pub const ENTRY: usize = 32;

/// The sidecar path of a segment path.
pub fn index_path(segment: &Path) -> PathBuf {
    segment.with_extension("idx")
}

/// Writes `entries` as the index of `segment` (replacing any previous file).
pub fn write(segment: &Path, entries: &[Entry]) -> Result<(), ShmError> {
    let mut b = Vec::with_capacity(entries.len() * ENTRY);
    for e in entries {
        b.extend_from_slice(&e.seq.to_le_bytes());
        b.extend_from_slice(&e.ts.to_le_bytes());
        b.extend_from_slice(&e.offset.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
    }
    let p = index_path(segment);
    std::fs::write(&p, b).map_err(ShmError::io(&p, "write index"))
}

/// Reads the index of `segment`; an absent or malformed file reads as empty.
pub fn read(segment: &Path) -> Vec<Entry> {
    let Ok(b) = std::fs::read(index_path(segment)) else {
        return Vec::new();
    };
    b.chunks_exact(ENTRY)
        .map(|c| Entry {
            seq: super::layout::le_u64(c, 0),
            ts: super::layout::le_u64(c, 8),
            offset: super::layout::le_u64(c, 16),
        })
        .collect()
}
