//! foxtrot-shm: memory-mapped storage shared between processes.
//!
//! - [`journal`]: the append-only, CRC-framed, segmented journal every input and
//!   output of the engine is written to (DESIGN §5): crash recovery, sparse index,
//!   tailing readers.
//! - [`ring`]: the cross-process single-producer/single-consumer ring in a shared
//!   memory file, with records committed in-band (DESIGN §7).
//! - [`seqlock`]: consistent snapshots of a block of words written by one process
//!   and read by others (the runtime's stats file).
//! - [`mod@reserve`]: a file's blocks reserved before a mapping writes them, so a
//!   full filesystem is an error, not a `SIGBUS`.
//!
//! It depends on nothing else of foxtrot's, so a feed handler or an inspection
//! tool can link it alone.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod error;
pub mod journal;
pub mod reserve;
pub mod ring;
pub mod seqlock;

pub use error::ShmError;
pub use journal::{Durability, JournalConfig, JournalReader, JournalWriter, MapOptions, RecordRef};
pub use reserve::reserve;
#[cfg(not(loom))]
pub use ring::{ShmConsumer, ShmProducer, ShmRing};
