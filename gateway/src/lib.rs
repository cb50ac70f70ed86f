//! foxtrot-gateway: everything on the venue side of the engine.
//!
//! - [`venue`]: the price-time-priority matching engine and the simulated world
//!   (crowd + venue + latencies) that the fused runtime trades against in-process.
//! - [`feed`]: the deterministic crowd generator and the native market-data file
//!   format that `foxtrot gen` writes.
//!
//! FIX sessions over TCP and the ITCH/MoldUDP64 decoders arrive with their issues.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod feed;
pub mod venue;

pub use venue::matching::MatchingEngine;
pub use venue::sim::SimWorld;
