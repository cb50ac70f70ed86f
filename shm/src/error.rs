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
    /// The journal is damaged where iteration stops (not a torn tail; see
    /// `journal::damage`).
    #[error(
        "{path}: segment {segment}, offset {offset}: damaged: {what}; {after} valid records after it cannot be read"
    )]
    Corrupt {
        /// Segment index.
        segment: u64,
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the record in the segment.
        offset: u64,
        /// What failed (length, CRC, a missing range).
        what: &'static str,
        /// Valid records found after the damage (in this segment and later ones).
        after: u64,
    },
    /// A segment file is shorter than its header says: everything past its end is lost.
    #[error(
        "{path}: segment {segment} is {len} bytes, its header says {size}: truncated, records past byte {len} are lost"
    )]
    Truncated {
        /// Segment index.
        segment: u64,
        /// The segment file.
        path: PathBuf,
        /// The file's length.
        len: u64,
        /// The length its header gives.
        size: u64,
    },
    /// Another writer holds the journal (see `journal::writer_lock`).
    #[error("{}: in use by another writer{}: a journal has one writer at a time (stop it first)", .path.display(), .pid.map_or(String::new(), |p| format!(" (pid {p})")))]
    InUse {
        /// The journal directory.
        path: PathBuf,
        /// The holder's process id, as the kernel reports its lock.
        pid: Option<u32>,
    },
    /// A directory holds no journal (or does not exist).
    #[error("{}: {}", .0.display(), if .0.exists() { "not a journal (no segment files)" } else { "no such journal" })]
    NotAJournal(PathBuf),
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
