//! The runtime: what drives the pure core — sources, the sequencer's I/O half,
//! clocks for latency measurement, and output sinks.
//!
//! The fused runtime runs every stage on one thread; the threaded runtime runs
//! the same stages in groups on threads joined by SPSC rings, with live
//! statistics in a memory-mapped file.

pub mod digest;
pub mod fused;
pub mod journal;
pub mod latency;
pub mod replay;
pub mod stats;
pub mod threaded;
pub mod wait;

pub use digest::StreamDigest;
pub use fused::{FusedRun, Polled, RunObserver, RunSummary, VenueLink};
pub use journal::{InputJournal, OutputJournals, RunJournals};
pub use latency::LatencyRecorder;
pub use replay::JournalInputs;
pub use threaded::{run_threaded, RuntimeError, Source, ThreadedOutcome};
