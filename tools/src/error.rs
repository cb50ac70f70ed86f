//! The tools library's one error type.

use std::path::PathBuf;

/// Errors of reports, exports and backtests: the engine's (configuration,
/// journals), and what these commands find themselves.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration, journal or record the engine could not read.
    #[error(transparent)]
    Engine(#[from] foxtrot_engine::Error),
    /// A journal could not be read.
    #[error(transparent)]
    Journal(#[from] foxtrot_shm::ShmError),
    /// Replaying the inputs did not give the recorded orders.
    #[error("{dir}: the inputs replay to {replayed} orders (hash {replayed_hash}) but {recorded} were recorded (hash {recorded_hash}); the run was made by a different build or its journals are damaged")]
    Diverged {
        /// The run directory.
        dir: PathBuf,
        /// Orders the replay produced.
        replayed: u64,
        /// Their digest.
        replayed_hash: String,
        /// Orders in the orders journal.
        recorded: u64,
        /// Their digest.
        recorded_hash: String,
    },
    /// A file beside the journals (`latency.json`) does not parse, or its check fails.
    #[error("{path}: {message}")]
    Latency {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing an export failed.
    #[error("{path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The policy ledger refused an entry or could not be read.
    #[error("{0}")]
    Policy(String),
    /// A parameter sweep's grid, shard or merge is wrong.
    #[error("{0}")]
    Sweep(String),
    /// An evolution's plan, data, shard or state is wrong.
    #[error("{0}")]
    Evolve(String),
    /// A record in an output journal is not a valid record of its kind.
    #[error(
        "{journal} journal: record seq {seq} of kind {kind} has {len} bytes, which is not a valid record of that kind"
    )]
    BadRecord {
        /// Which journal.
        journal: &'static str,
        /// Its seq.
        seq: u64,
        /// Its kind.
        kind: u16,
        /// Its length.
        len: usize,
    },
}
