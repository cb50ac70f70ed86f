//! Market-data sources and formats.
//!
//! - [`gen`]: the deterministic crowd generator behind `foxtrot sim`.
//! - [`native`]: the native `.fxmd` file format.
//! - [`csv`]: CSV quotes and trades users bring.
//! - [`mapped`]: input files mapped read-only rather than read into memory.
//! - [`quality`]: data-quality checks and the record that journals them.
//! - [`transport`]: feeds behind one trait — ITCH file, MoldUDP64 over UDP, and
//!   the shared-memory ring between a feed-handler process and the engine.
//! - [`udp`]: native records over UDP, from `foxtrot venue` to the engine.

pub mod csv;
pub mod gen;
pub mod mapped;
pub mod native;
pub mod quality;
pub mod transport;
pub mod udp;
