//! foxtrot-tools: the `foxtrot` binary's library half — what its commands share and
//! what tests need to reach.
//!
//! - [`backtest`]: a market-data directory against the touch venue.
//! - [`check`]: the independent invariant checker behind `foxtrot sim --check`.
//! - [`prometheus`]: `foxtrot stat --prometheus`: the stats file as Prometheus metrics.
//! - [`report`]: `foxtrot report`: a run's performance, from its journals.
//! - [`export`]: `foxtrot export --parquet`: a run's journals as Parquet files.
//! - [`soak`]: `foxtrot soak`: days of event time, sampled hourly, with a verdict.
//! - [`sweep`]: `foxtrot sweep`: a parameter grid over an imported dataset, sharded.
//! - [`policy`]: `foxtrot policy`: the ledger of candidates, promotions and rollbacks.
//! - [`logging`]: `--log-format human|json` and secret masking.
//! - [`Error`]: the library's one error type.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod backtest;
pub mod check;
mod error;
pub mod evolve;
pub mod export;
pub mod kpi;
pub mod logging;
pub mod policy;
pub mod pool;
pub mod prometheus;
pub mod reflect;
pub mod report;
pub mod soak;
pub mod sweep;

pub use error::Error;
