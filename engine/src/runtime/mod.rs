//! The runtime: what drives the pure core — sources, the sequencer's I/O half,
//! clocks for latency measurement, and output sinks.
//!
//! - [`link`]: the boundary traits — [`VenueLink`] (where inputs come from and
//!   orders go), [`RunObserver`] (what watches a run) — and [`Sequenced`]
//!   inputs of a journal.
//! - [`fused`]: every stage on one thread, in one loop; what `sim`, replay,
//!   reports and backtests drive.
//! - [`threaded`]: stage groups on pinned threads joined by SPSC rings.
//! - [`replay`]: a recorded run through the core again, verified output by output.
//! - [`summary`]: what a run did, the same from every runtime.
//! - [`stats`]: the memory-mapped live statistics file; [`latency`]: TSC stamps
//!   and histograms; [`digest`]: output stream hashes; [`wait`]: idle strategies.

pub mod control;
pub mod digest;
pub mod fused;
pub mod latency;
pub mod link;
pub mod replay;
pub mod stats;
pub mod summary;
pub mod threaded;
pub mod wait;

/// The live board a threaded run shares with its link (defined beside the stage that fills it).
pub use crate::core::live;
pub use digest::StreamDigest;
pub use fused::FusedRun;
pub use latency::LatencyRecorder;
pub use link::{Polled, RunObserver, Sequenced, VenueLink};
pub use summary::RunSummary;
pub use threaded::{run_threaded, ThreadedOutcome};
