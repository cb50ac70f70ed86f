//! foxtrot-tools: the `foxtrot` binary's library half — what its commands share and
//! what tests need to reach.
//!
//! - [`check`]: the independent invariant checker behind `foxtrot sim --check`.
//! - [`prometheus`]: `foxtrot stat --prometheus`: the stats file as Prometheus metrics.
//! - [`report`]: `foxtrot report`: a run's performance, from its journals.
//! - [`export`]: `foxtrot export --parquet`: a run's journals as Parquet files.
//! - [`logging`]: `--log-format human|json` and secret masking.
#![deny(missing_docs)]

pub mod backtest;
pub mod check;
pub mod dbn_import;
pub mod export;
pub mod logging;
pub mod prometheus;
pub mod report;
