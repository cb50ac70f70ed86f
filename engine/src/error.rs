//! The crate's one error type.
//!
//! Every variant says what and where — file, line and column, key path, segment
//! and offset, tag — in one line. Causes from the OS are part of that line and
//! are not chained again as a `source`, so a caller printing the whole chain
//! never repeats them.

use foxtrot_shm::ShmError;
use std::path::PathBuf;

/// Errors of foxtrot-engine: configuration, encoding, journals, runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file could not be read.
    #[error("config {path}: cannot read: {cause}")]
    ConfigIo {
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The YAML did not parse into the schema (wrong type, unknown key, syntax).
    #[error("config {}{}: {message}", path.display(), at(*line, *column))]
    ConfigParse {
        /// The file (or `<string>`).
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// The parser's message, which names the key.
        message: String,
    },
    /// A configuration value parsed but is out of range or inconsistent.
    #[error("config {}{}: {key}: {message}", path.display(), at(*line, *column))]
    ConfigInvalid {
        /// The file (or `<string>`).
        path: PathBuf,
        /// 1-based line of the key, 0 when it is not in the text (a default).
        line: usize,
        /// 1-based column of the key, 0 when unknown.
        column: usize,
        /// Dotted key path, e.g. `risk.max_order_qty`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// Several configuration values are out of range or inconsistent: each
    /// a [`Error::ConfigInvalid`], one per line.
    #[error("{}", many(.0))]
    ConfigInvalidMany(Vec<Error>),
    /// An order names an instrument without FIX templates.
    #[error("no FIX template for instrument {0}")]
    UnknownInstrument(u32),
    /// An order's action, side or order type code is not valid.
    #[error("order has an invalid action, side or order type")]
    BadOrderCodes,
    /// An order's field does not fit its fixed width (negative or too many digits).
    #[error("FIX field {tag} value {value} does not fit {width} characters")]
    FieldOverflow {
        /// The tag.
        tag: u32,
        /// The value.
        value: i64,
        /// The field width.
        width: usize,
    },
    /// A journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] ShmError),
    /// A journal's first record is not its configuration.
    #[error("{0}: holds no configuration record (kind 100) first: empty (its run or import killed before its first record?) or not an input or market-data journal")]
    NoConfig(PathBuf),
    /// A market-data journal whose writer marks its end has no end: the
    /// writer was killed or failed before it finished (or is writing still),
    /// or the journal lost its last records; what it holds is not the whole.
    #[error(
        "{journal}: the market data is incomplete: {} — {records} records read, none marking the end (import it again, or replay it with --partial to backtest what is there)",
        if *live { "its writer is still writing it" } else { "its writer did not finish (killed, or failed), or its last records were lost" }
    )]
    Unfinished {
        /// The journal directory.
        journal: PathBuf,
        /// Records read after the configuration.
        records: u64,
        /// Whether a writer holds the journal now.
        live: bool,
    },
    /// A journal record has a kind or size its journal does not hold.
    #[error("{journal}: segment {segment} offset {offset} (seq {seq}): record of kind {kind} and {len} bytes is not valid here")]
    BadRecord {
        /// The journal directory.
        journal: PathBuf,
        /// Segment.
        segment: u64,
        /// Offset.
        offset: u64,
        /// Seq.
        seq: u64,
        /// Kind.
        kind: u16,
        /// Payload length.
        len: usize,
    },
    /// A run's input journal whose end record does not end it: a count that
    /// is not the inputs before it, or records after it.
    #[error("{journal}: the run's end record (seq {seq}) {what}: the journal is damaged")]
    RunEnd {
        /// The journal directory.
        journal: PathBuf,
        /// The end record's seq.
        seq: u64,
        /// What is wrong with it.
        what: String,
    },
    /// An output journal of a run that ended holds fewer (or more) records
    /// than its end record counts: records were lost after the run wrote
    /// them.
    #[error("{journal}: holds {holds} records, but the run's end record counts {counted}: the run ended with them all journalled, so this is not the journal it wrote ({})", if holds < counted { "its tail was lost" } else { "records were added" })]
    OutputsCut {
        /// The output journal.
        journal: PathBuf,
        /// Records it holds.
        holds: u64,
        /// Records the end record counts.
        counted: u64,
    },
    /// A run is to be recorded into a directory that holds one already.
    #[error("{0} already holds a recorded run; record into a new directory")]
    RunExists(PathBuf),
    /// `--killed` given for a run whose input journal has its end record:
    /// the run ended on its own terms, so its outputs must be whole.
    #[error("{0}: the run ended on its own terms (its input journal ends with an end record), so every output it made is journalled: --killed, which accepts outputs cut short, does not apply; verify it without --killed")]
    RunEnded(PathBuf),
    /// The runtime section's layout is not valid.
    #[error("config runtime.layout: {0}")]
    Layout(String),
    /// A pinned core does not exist on this host (or is outside the
    /// process's affinity mask); the CPUs it may use, listed.
    #[error("runtime.cores: core {0} is not available to this process (its CPUs: {1})")]
    Core(usize, String),
    /// The stats file could not be created, opened or mapped.
    #[error("stats file {path}: {cause}")]
    StatsIo {
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The file is not a stats file of this version.
    #[error("stats file {path}: {what}")]
    StatsFormat {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// Every read met a write in progress.
    #[error("stats file {0}: no consistent snapshot after many tries (writer stuck mid-write?)")]
    StatsBusy(PathBuf),
}

/// `:line:column`, or nothing when the position is unknown.
fn at(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

fn many(errors: &[Error]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("{} problems:\n{}", lines.len(), lines.join("\n"))
}

impl Error {
    /// An out-of-range or inconsistent value at `key` of the file `path`; its
    /// line and column are filled in by the loader.
    pub fn invalid(path: &std::path::Path, key: &str, message: String) -> Error {
        Error::ConfigInvalid {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            key: key.to_string(),
            message,
        }
    }
}

impl Error {
    /// A record of journal `journal` that is not valid there.
    pub fn bad_record(journal: &std::path::Path, r: &foxtrot_shm::RecordRef) -> Error {
        Error::BadRecord {
            journal: journal.to_path_buf(),
            segment: r.segment,
            offset: r.offset,
            seq: r.seq,
            kind: r.kind,
            len: r.payload.len(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
