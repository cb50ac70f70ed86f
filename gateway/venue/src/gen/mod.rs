//! Deterministic synthetic market data.
//!
//! - [`crowd`]: the crowd generator behind `foxtrot sim`: order flow with
//!   regimes, bursts and gaps, matched by a private matching engine.
//! - [`itch`]: a synthetic ITCH 5.0 day (`foxtrot gen --format itch`).

pub mod crowd;
pub mod itch;
