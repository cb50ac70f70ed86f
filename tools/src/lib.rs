//! foxtrot-tools: the `foxtrot` binary's library half — what its commands share and
//! what tests need to reach.
//!
//! - [`check`]: the independent invariant checker behind `foxtrot sim --check`.
#![deny(missing_docs)]

pub mod check;
