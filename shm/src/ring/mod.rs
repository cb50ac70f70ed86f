//! The cross-process single-producer/single-consumer ring in shared memory.
//!
//! - [`layout`]: the file layout and the in-band commit protocol, documented.
//! - [`core`]: the protocol itself over atomic words (`loom`-checked).
//! - [`shm`]: the ring mapped from a file, producer and consumer ends.

pub mod core;
pub mod layout;
#[cfg(not(loom))]
pub mod shm;

#[cfg(not(loom))]
pub use shm::{ShmConsumer, ShmProducer, ShmRing};
