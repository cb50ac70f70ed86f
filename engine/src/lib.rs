//! foxtrot-engine: the records every stage exchanges, the stages themselves as
//! pure state machines, the runtime that drives them, and the journals they are
//! recorded in.
//!
//! - [`records`]: `#[repr(C)]` `Pod` records with compile-time sizes — the only
//!   shapes that cross rings and journals.
//! - [`format`](mod@format): text and wire formats shared with the gateways: exact decimals,
//!   UTC timestamps, FIX tag numbers and the order templates.
//! - [`core`]: the pipeline's stages (book and sensory, belief, decide = router +
//!   risk + diary, encode) as state machines, composed in [`core::Core`], and the
//!   parameters they take ([`core::params`]). No clock, no I/O, no allocation
//!   after construction: replay runs exactly this.
//! - [`config`]: the one YAML configuration: sections, loading, validation, the
//!   canonical encoding behind every config and policy hash.
//! - [`runtime`]: what drives the core: the boundary traits, the fused loop, the
//!   threaded topology, replay, live statistics.
//! - [`journal`]: the journal format: record kinds, a run's journals, field
//!   descriptions, the market-data directory.
//! - [`rng`]: the seeded generator every random choice is drawn from.
//! - [`Error`]: the crate's one error type.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod config;
pub mod core;
mod error;
pub mod format;
pub mod journal;
pub mod records;
pub mod rng;
pub mod runtime;

pub use config::Config;
pub use error::{Error, Result};
