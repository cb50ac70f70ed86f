//! The runtime: what drives the pure core — sources, the sequencer's I/O half,
//! clocks for latency measurement, and output sinks.
//!
//! The spine ships the fused runtime (every stage on one thread); the threaded
//! pipeline over SPSC rings arrives with the runtime issue and drives the same core.

pub mod digest;
pub mod fused;
pub mod journal;
pub mod latency;
pub mod replay;

pub use digest::StreamDigest;
pub use fused::{FusedRun, RunObserver, RunSummary, VenueLink};
pub use journal::RunJournals;
pub use latency::LatencyRecorder;
