//! The harnesses, one module each.

pub mod backtest;
pub mod common;
pub mod fix_rtt;
pub mod hop;
pub mod journal;
pub mod pipeline;
pub mod ring;
pub mod tick_to_order;
#[cfg(feature = "af_xdp")]
pub mod xdp_udp;
