//! foxtrot-engine: the records every stage exchanges, the stages themselves as
//! pure state machines, and the runtime that drives them.
//!
//! - [`records`]: `#[repr(C)]` `Pod` records with compile-time sizes — the only
//!   shapes that cross rings and journals.
//! - [`core`]: ingest's book, sensory, belief, router, risk, the FIX encoder and the
//!   decision diary, composed in [`core::Core`]. No clock, no I/O, no allocation
//!   after construction: replay runs exactly this.
//! - [`runtime`]: the fused single-thread loop, latency measurement and output
//!   digests.
//! - [`config`]: the one typed configuration.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod config;
pub mod core;
pub mod records;
pub mod rng;
pub mod runtime;

pub use config::{Config, ConfigError};
