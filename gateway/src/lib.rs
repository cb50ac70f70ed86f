//! foxtrot-gateway: everything on the venue side of the engine.
//!
//! - [`venue`]: the price-time-priority matching engine and the simulated world
//!   (crowd + venue + latencies) that the fused runtime trades against in-process,
//!   and the touch venue that backtests imported data.
//! - [`feed`]: the deterministic crowd generator, the native market-data file
//!   format, CSV quotes and trades, data-quality checks, and the feed transports
//!   (ITCH file, MoldUDP64 over UDP, the shared-memory ring).
//! - [`itch`]: NASDAQ TotalView-ITCH 5.0 and MoldUDP64: decoder, framings, the
//!   live-order map and the normaliser into the engine's market-data events.
//! - [`decimal`]: exact decimal text → fixed-point integers (CSV, FIX).
//! - [`net`]: socket options beyond what `std` and `mio` expose.
//! - [`fix`]: FIX 4.2/4.4 decoding (framing, field index, BodyLength and CheckSum
//!   checks) and application messages ↔ engine records.
//!
//! The FIX session layer and TCP transport arrive with their issue.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod decimal;
pub mod feed;
pub mod fix;
pub mod itch;
pub mod net;
pub mod venue;

pub use venue::matching::MatchingEngine;
pub use venue::sim::SimWorld;
