//! The crate's one error type.

use std::path::PathBuf;

/// Errors from journals and rings. Every variant names where: file, segment, byte offset.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// An I/O call failed.
    #[error("{path}: {op}: {cause}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        cause: std::io::Error,
    },
    /// A segment or ring header is not what it must be.
    #[error("{path}: offset {offset}: bad header: {what}")]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// Byte offset of the offending field.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// A record in the middle of a journal failed its checks (not a torn tail).
    #[error("segment {segment} ({path}): offset {offset}: corrupt record: {what}")]
    Corrupt {
        /// Segment index.
        segment: u64,
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the record in the segment.
        offset: u64,
        /// What failed (length, CRC).
        what: &'static str,
    },
    /// A record does not fit a segment.
    #[error("record of {len} bytes does not fit a {segment_size}-byte segment")]
    TooLarge {
        /// The record's length.
        len: usize,
        /// The segment size.
        segment_size: u64,
    },
    /// Invalid configuration.
    #[error("invalid journal or ring parameter: {0}")]
    Config(String),
}

impl ShmError {
    pub(crate) fn io(path: impl Into<PathBuf>, op: &'static str) -> impl FnOnce(std::io::Error) -> ShmError {
        let path = path.into();
        move |cause| ShmError::Io { path, op, cause }
    }
}
