//! The `runtime` section: threads, rings, waiting, back-pressure and statistics
//! of `foxtrot run`. It never changes a decision: every layout produces the same
//! outputs.

use crate::error::Error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A pipeline stage, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    /// Source, sequencer, input journal.
    Ingest,
    /// Books and features.
    Sensory,
    /// Belief emitter, drift sentry, regime FSM.
    Belief,
    /// Router, risk, open orders, diary.
    Decide,
    /// FIX encoder, output journals, order hand-off.
    Encode,
}

impl StageName {
    /// Every stage, in pipeline order.
    pub const ALL: [StageName; 5] = [
        StageName::Ingest,
        StageName::Sensory,
        StageName::Belief,
        StageName::Decide,
        StageName::Encode,
    ];
    /// The stage's name in configs and stats.
    pub fn name(self) -> &'static str {
        match self {
            StageName::Ingest => "ingest",
            StageName::Sensory => "sensory",
            StageName::Belief => "belief",
            StageName::Decide => "decide",
            StageName::Encode => "encode",
        }
    }
}

/// How stages are grouped onto threads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Layout {
    /// `fused` (one thread) or `per_stage` (one thread per stage).
    Named(String),
    /// Explicit groups, e.g. `[[ingest, sensory, belief], [decide, encode]]`: each
    /// group is one thread; together they list every stage once, in order.
    Groups(Vec<Vec<StageName>>),
}

impl Default for Layout {
    fn default() -> Self {
        Layout::Named("fused".into())
    }
}

impl Layout {
    /// The groups, or why the layout is not valid.
    pub fn groups(&self) -> Result<Vec<Vec<StageName>>, String> {
        let g = match self {
            Layout::Named(n) if n == "fused" => vec![StageName::ALL.to_vec()],
            Layout::Named(n) if n == "per_stage" => StageName::ALL.iter().map(|s| vec![*s]).collect(),
            Layout::Named(n) => return Err(format!("{n:?} is not `fused`, `per_stage` or a list of groups")),
            Layout::Groups(g) => g.clone(),
        };
        if g.iter().any(|x| x.is_empty()) {
            return Err("a group is empty".into());
        }
        let flat: Vec<StageName> = g.iter().flatten().copied().collect();
        if flat != StageName::ALL {
            return Err(format!(
                "groups list {:?}; they must list ingest, sensory, belief, decide, encode once each, in that order",
                flat.iter().map(|s| s.name()).collect::<Vec<_>>()
            ));
        }
        Ok(g)
    }
}

/// What a stage thread does when it has no work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitStrategy {
    /// Spin on the ring (production: one isolated core per thread).
    BusySpin,
    /// Spin a while, then yield the core to the scheduler.
    SpinThenYield,
    /// Spin briefly, then park until the producer unparks it (tests, 2-core hosts).
    #[default]
    Park,
}

/// What ingest does with market data when the ring to the next stage is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backpressure {
    /// Wait for space; nothing is dropped.
    #[default]
    Block,
    /// Keep only the newest quote per instrument until there is space (counting
    /// the ones replaced). Order-level events (add, cancel, execute, trade) are
    /// never conflated — dropping one would corrupt the book — so they wait.
    Conflate,
}

/// Threads, rings, waiting, back-pressure and statistics of `foxtrot run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Stage groups, one thread each: `fused`, `per_stage`, or explicit groups.
    pub layout: Layout,
    /// Idle strategy of every stage thread.
    pub wait: WaitStrategy,
    /// Core per group, in group order (empty: not pinned).
    pub cores: Vec<usize>,
    /// Slots per ring between groups (a power of two).
    #[schemars(range(min = 4, max = 4194304))]
    pub ring_capacity: usize,
    /// Most messages a stage handles before publishing.
    #[schemars(range(min = 1, max = 4096))]
    pub batch: usize,
    /// Market-data back-pressure policy. Execution reports always wait.
    pub md_backpressure: Backpressure,
    /// Memory-mapped statistics file that `foxtrot stat` reads (none if unset).
    pub stats_file: Option<String>,
    /// How often the stats thread publishes, in wall-clock milliseconds.
    #[schemars(range(min = 1, max = 3_600_000))]
    pub stats_interval_ms: u64,
    /// A heartbeat is counted every this many milliseconds of event time.
    #[schemars(range(min = 1, max = 3_600_000))]
    pub heartbeat_ms: u64,
    /// The most memory a configuration may need, in MiB, as `foxtrot config check`
    /// estimates it (books, the simulated venue's arena and levels, rings): a
    /// configuration beyond it is refused before anything is allocated.
    #[serde(skip_serializing_if = "is_default_memory")]
    #[schemars(range(min = 64, max = 1_048_576))]
    pub max_memory_mb: u64,
    /// Size of the largest segment of a recorded run's journals, in MiB. A journal
    /// starts with a 1 MiB segment and doubles the size at each roll up to this,
    /// so a short run takes a few MiB and a long one writes full-size segments.
    #[serde(skip_serializing_if = "is_default_segment")]
    #[schemars(range(min = 1, max = 4096))]
    pub journal_segment_mb: u64,
    /// Size of the first segment of a recorded run's journals, in MiB; each later
    /// one doubles up to `journal_segment_mb`. Small runs stay small with the
    /// default (1). A live engine wants it equal to `journal_segment_mb`: every
    /// segment is then made and pre-faulted at full size before trading, and no
    /// growing segment is prepared (on the helper thread, beside the pipeline)
    /// while it trades.
    #[serde(skip_serializing_if = "is_default_first_segment")]
    #[schemars(range(min = 1, max = 4096))]
    pub journal_first_segment_mb: u64,
}

fn is_default_first_segment(v: &u64) -> bool {
    *v == DEFAULT_JOURNAL_FIRST_SEGMENT_MB
}

/// The default of `runtime.journal_first_segment_mb`.
pub const DEFAULT_JOURNAL_FIRST_SEGMENT_MB: u64 = 1;

fn is_default_segment(v: &u64) -> bool {
    *v == DEFAULT_JOURNAL_SEGMENT_MB
}

/// The default of `runtime.journal_segment_mb`.
pub const DEFAULT_JOURNAL_SEGMENT_MB: u64 = 64;

fn is_default_memory(v: &u64) -> bool {
    *v == DEFAULT_MAX_MEMORY_MB
}

/// The default of `runtime.max_memory_mb`: 8 GiB.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 8192;

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            layout: Layout::default(),
            wait: WaitStrategy::Park,
            cores: Vec::new(),
            ring_capacity: 4096,
            batch: 256,
            md_backpressure: Backpressure::Block,
            stats_file: None,
            stats_interval_ms: 100,
            heartbeat_ms: 1000,
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
            journal_segment_mb: DEFAULT_JOURNAL_SEGMENT_MB,
            journal_first_segment_mb: DEFAULT_JOURNAL_FIRST_SEGMENT_MB,
        }
    }
}

impl RuntimeConfig {
    /// Checks the runtime section; `bad(key, message)` builds the error.
    pub(crate) fn validate(&self, bad: impl Fn(&str, String) -> Error) -> Result<(), Error> {
        let groups = self.layout.groups().map_err(|m| bad("runtime.layout", m))?;
        if !self.cores.is_empty() && self.cores.len() != groups.len() {
            return Err(bad(
                "runtime.cores",
                format!(
                    "{} cores for {} groups; give one per group or none",
                    self.cores.len(),
                    groups.len()
                ),
            ));
        }
        if !self.ring_capacity.is_power_of_two() {
            return Err(bad(
                "runtime.ring_capacity",
                format!("{} must be a power of two", self.ring_capacity),
            ));
        }
        Ok(())
    }
}
