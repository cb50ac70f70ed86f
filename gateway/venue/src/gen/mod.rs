//! Deterministic synthetic market data.
//!
//! - [`crowd`]: the crowd generator behind `foxtrot sim`: order flow with
//!   regimes, bursts and gaps, matched by a private matching engine.
//! - [`itch`]: a synthetic ITCH 5.0 day (`foxtrot gen --format itch`).
//! - [`quote_walk`]: a seeded EUR/USD-like quote walk and the EMA cross
//!   written plainly over it, the independent answer backtests are held to.

pub mod crowd;
pub mod itch;
pub mod quote_walk;
