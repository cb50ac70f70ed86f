//! foxtrot-feed: market data in — formats, transports and data quality.
//!
//! - [`itch`]: NASDAQ TotalView-ITCH 5.0 and MoldUDP64: decoder, framings, the
//!   live-order map and the normaliser into the engine's market-data events.
//! - [`dbn`]: Databento DBN files.
//! - [`csv`]: CSV quotes and trades users bring.
//! - [`native`]: the native `.fxmd` file format.
//! - [`grid`]: an instrument's price grid (tick, range) inferred from its data.
//! - [`mapped`]: input files mapped read-only rather than read into memory.
//! - [`findings`]: a live feed's findings counted and each told in one log line.
//! - [`quality`]: data-quality checks on normalised market data.
//! - [`capture`]: a market-data journal written with its quality findings
//!   (`foxtrot import`, `foxtrot record`).
//! - [`transport`]: feeds behind one trait — ITCH file, MoldUDP64 over UDP, and
//!   the shared-memory ring between a feed-handler process and the engine.
//! - [`udp`]: native records over UDP, from `foxtrot venue` to the engine.
//! - [`Error`]: the crate's one error type.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod capture;
pub mod csv;
pub mod dbn;
mod error;
pub mod findings;
pub mod grid;
pub mod itch;
pub mod mapped;
pub mod native;
pub mod quality;
pub mod transport;
pub mod udp;

pub use error::Error;
