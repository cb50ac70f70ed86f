//! foxtrot-venue: the simulated exchange, and the synthetic data that feeds it.
//!
//! - [`matching`]: the price-time-priority matching engine.
//! - [`sim`]: the simulated world the fused runtime trades against in-process:
//!   crowd, matching engine, latencies.
//! - [`touch`]: the backtest venue that fills orders at the touch of imported data.
//! - [`server`]: the venue as a process of its own, behind a FIX acceptor
//!   (`foxtrot venue`).
//! - [`gen`]: deterministic synthetic data: the crowd behind `foxtrot sim`, and a
//!   synthetic ITCH 5.0 day.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod gen;
pub mod matching;
pub mod server;
pub mod sim;
pub mod touch;

pub use matching::MatchingEngine;
pub use sim::SimWorld;
