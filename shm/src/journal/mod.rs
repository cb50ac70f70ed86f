//! The journal: append-only, CRC-framed records in memory-mapped segment files.
//!
//! - [`layout`]: the on-disk format (segment header, record header, CRC).
//! - [`segment`]: one mapped file, for the writer (read-write) or a reader.
//! - [`writer`]: append, roll, durability modes, crash recovery.
//! - `prepare`: the helper thread that creates segments ahead of the writer.
//! - [`reader`]: zero-copy iteration, seek by seq or time, tailing.
//! - [`index`]: the sparse seq/time index kept beside each segment.
//! - [`scan`]: validating one record (shared by reader and recovery).
//! - [`damage`]: where records stop — the end, a torn tail, or damage.
//! - [`repair`]: keeping what precedes damage, after a backup.
//! - [`writer_lock`]: one writer per journal directory.
//!
//! The commit protocol is one store: a record's `len` word, written last with
//! release ordering. Everything a reader needs to know about crashes follows from
//! it: `len == 0` means not (yet) written; what a crash mid-write can leave at the
//! end is a torn tail; anything else where the records stop is damage, reported
//! with where and how many records it costs ([`damage`]). Segments follow the
//! same rule one level up: a segment prepared ahead has its name but a blank
//! header, and its magic, written last with release ordering, publishes it;
//! blank segments at a journal's end are not listed.

pub mod damage;
pub mod index;
pub mod layout;
mod prepare;
pub mod reader;
pub mod repair;
pub mod scan;
pub mod segment;
pub mod writer;
pub mod writer_lock;

pub use reader::{JournalReader, RecordRef};
pub use segment::MapOptions;
pub use writer::{Durability, JournalConfig, JournalWriter};
