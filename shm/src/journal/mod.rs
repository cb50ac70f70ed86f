//! The journal: append-only, CRC-framed records in memory-mapped segment files.
//!
//! - [`layout`]: the on-disk format (segment header, record header, CRC).
//! - [`segment`]: one mapped file, for the writer (read-write) or a reader.
//! - [`writer`]: append, roll, durability modes, crash recovery.
//! - [`prepare`]: the helper thread that creates segments ahead of the writer.
//! - [`reader`]: zero-copy iteration, seek by seq or time, tailing.
//! - [`index`]: the sparse seq/time index kept beside each segment.
//! - [`scan`]: validating one record (shared by reader and recovery).
//!
//! The commit protocol is one store: a record's `len` word, written last with
//! release ordering. Everything a reader needs to know about crashes follows from
//! it: `len == 0` means not (yet) written; a non-zero `len` with a bad CRC and only
//! zeros after it is a torn tail; anything else bad is corruption.

pub mod index;
pub mod layout;
mod prepare;
pub mod reader;
pub mod scan;
pub mod segment;
pub mod writer;

pub use reader::{JournalReader, RecordRef};
pub use segment::MapOptions;
pub use writer::{Durability, JournalConfig, JournalWriter};
