//! The one typed configuration, loaded from YAML.
//!
//! Every command that runs the pipeline takes `--config FILE` (default
//! `configs/sim.yaml`). Unknown keys are rejected everywhere; errors name the key
//! path and the line and column where the YAML parser could place them.

pub mod docs;
pub mod locate;
pub mod schema;
pub mod secret;

pub use secret::Secret;

use crate::records::InstrumentSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Errors from loading or validating a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config {path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML did not parse into the schema (wrong type, unknown key, syntax).
    #[error("config {path}:{line}:{column}: {message}")]
    Parse {
        /// The file (or `<string>`).
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// The parser's message, which names the key.
        message: String,
    },
    /// A value parsed but is out of range or inconsistent.
    #[error("config {}{}: {key}: {message}", path.display(), at(*line, *column))]
    Invalid {
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
}

/// `:line:column`, or nothing when the position is unknown.
fn at(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

impl ConfigError {
    /// An out-of-range or inconsistent value at `key` of the file `path`.
    pub fn invalid(path: &Path, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            key: key.to_string(),
            message,
        }
    }

    /// Fills in the line and column of an [`Invalid`](Self::Invalid) error's key
    /// from the text it was loaded from.
    fn located(self, text: &str) -> ConfigError {
        match self {
            ConfigError::Invalid {
                path,
                line: 0,
                key,
                message,
                ..
            } => {
                let (line, column) = locate::Locations::index(text).find(&key).unwrap_or((0, 0));
                ConfigError::Invalid {
                    path,
                    line,
                    column,
                    key,
                    message,
                }
            }
            e => e,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Instruments, by index = instrument id.
    #[schemars(length(min = 1))]
    pub instruments: Vec<InstrumentSpec>,
    /// FIX session identity used by the encoder.
    pub session: SessionConfig,
    /// Control-time timers injected by ingest.
    pub timers: TimerConfig,
    /// Book shape.
    pub book: BookConfig,
    /// Feature computation.
    pub sensory: SensoryConfig,
    /// Belief layer: emitter weights, regime FSM, drift sentry.
    pub belief: BeliefConfig,
    /// Policy selection and parameters.
    pub strategy: StrategyConfig,
    /// Router: attention, fast weights, exploration (each behind its flag).
    pub router: RouterConfig,
    /// Pre-trade risk limits.
    pub risk: RiskConfig,
    /// Decision diary settings.
    pub diary: DiaryConfig,
    /// Simulated venue settings.
    pub venue: VenueConfig,
    /// Market-data generator settings.
    pub gen: GenConfig,
    /// Feature flags (all off by default).
    #[serde(default)]
    pub flags: Flags,
    /// Threads, rings, waiting, back-pressure and live statistics (`foxtrot run`).
    /// Not part of the decisions: every layout produces the same outputs.
    #[serde(default)]
    pub runtime: RuntimeConfig,
}

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
    #[schemars(range(min = 1))]
    pub stats_interval_ms: u64,
    /// A heartbeat is counted every this many milliseconds of event time.
    #[schemars(range(min = 1))]
    pub heartbeat_ms: u64,
}

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
        }
    }
}

impl RuntimeConfig {
    /// Checks the runtime section; `bad(key, message)` builds the error.
    fn validate(&self, bad: impl Fn(&str, String) -> ConfigError) -> Result<(), ConfigError> {
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

/// FIX identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// BeginString (tag 8): `FIX.4.4` or `FIX.4.2`.
    #[schemars(extend("enum" = ["FIX.4.4", "FIX.4.2"]))]
    pub begin_string: String,
    /// SenderCompID (tag 49).
    #[schemars(length(min = 1, max = 32))]
    pub sender_comp_id: String,
    /// TargetCompID (tag 56).
    #[schemars(length(min = 1, max = 32))]
    pub target_comp_id: String,
    /// Username (tag 553) sent in the FIX Logon, if the counterparty wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password (tag 554) sent in the FIX Logon: a [`Secret`], never printed,
    /// logged or journalled; `env:NAME` reads it from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// HeartBtInt (tag 108) proposed at Logon, seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub heartbeat_s: Option<u32>,
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimerConfig {
    /// Period of the housekeeping tick in nanoseconds of control time.
    #[schemars(range(min = 1))]
    pub tick_ns: u64,
}

/// Book shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookConfig {
    /// Ladder window in ticks (rounded up to a power of two).
    #[schemars(range(min = 64, max = 1048576))]
    pub window_ticks: usize,
}

/// Sensory parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SensoryConfig {
    /// Span of the long EMA of mid, in mid updates.
    #[schemars(range(min = 1))]
    pub long_span: u32,
    /// Span of the EWMA of squared returns (realised volatility).
    #[schemars(range(min = 1))]
    pub vol_span: u32,
    /// Span of the trade-flow EWMAs, in executions.
    #[schemars(range(min = 1))]
    pub flow_span: u32,
    /// Span of the imbalance-change mean/variance behind the surge z-score.
    #[schemars(range(min = 1))]
    pub surge_span: u32,
    /// Levels in the top-N imbalance and depth features.
    #[schemars(range(min = 1, max = 64))]
    pub depth_levels: u32,
    /// Mid updates after the open (or a halt) that count as the opening auction.
    pub auction_updates: u32,
    /// Per-batch decay of the sweep-risk probe, in (0, 1).
    #[schemars(extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub sweep_decay: f64,
    /// An instrument without market data this long (control time) is halted.
    pub stale_after_ns: u64,
}

/// Belief layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeliefConfig {
    /// Weights file, relative to the config file's folder.
    pub weights_file: String,
    /// How many units the belief keeps (top-k), 1..=8.
    #[schemars(range(min = 1, max = 8))]
    pub k: u8,
    /// The loaded model (filled in by the loader from `weights_file`; may also be
    /// given inline). Always present in the effective config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<BeliefModel>,
    /// Regime FSM thresholds.
    pub regime: RegimeConfig,
    /// Drift sentry.
    pub drift: DriftConfig,
}

/// The belief model: input normalisation, the linear layer, a readout that predicts
/// the next mid return, and the attention router's query projection and keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeliefModel {
    /// Per-feature offset subtracted before the layer (24 values).
    pub mean: Vec<f32>,
    /// Per-feature divisor applied before the layer (24 values, non-zero).
    pub scale: Vec<f32>,
    /// The layer's units: one weight row (24 values) and a bias each.
    pub units: Vec<BeliefUnit>,
    /// Readout: predicted next mid return in bps = Σ readout[u] · unit[u] (one per unit).
    pub readout: Vec<f32>,
    /// Attention: query projection rows (each one weight per unit) and one key per policy.
    pub attention: AttentionModel,
}

/// One unit of the belief layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeliefUnit {
    /// Name, for reports.
    pub name: String,
    /// Weights, one per feature.
    pub w: Vec<f32>,
    /// Bias.
    pub b: f32,
}

/// Attention parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttentionModel {
    /// Query projection: `dim` rows of one weight per belief unit.
    pub query: Vec<Vec<f32>>,
    /// Keys (`dim` values each), in policy order: momentum, market making, mean reversion.
    pub keys: Vec<Vec<f32>>,
}

/// Regime FSM thresholds (with hysteresis: enter above `*_enter`, leave below `*_exit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegimeConfig {
    /// Volatile when realised vol (bps per update) rises above this…
    #[schemars(range(min = 0))]
    pub vol_enter_bps: f64,
    /// …and no longer once it falls below this.
    #[schemars(range(min = 0))]
    pub vol_exit_bps: f64,
    /// Trending when |TREND_Z| rises above this…
    #[schemars(range(min = 0))]
    pub trend_enter: f64,
    /// …and no longer once it falls below this.
    #[schemars(range(min = 0))]
    pub trend_exit: f64,
    /// Minimum mid updates spent in a regime before leaving it (halts excepted).
    pub min_dwell_updates: u32,
}

/// Drift sentry parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// Signal monitored: `prediction_error` (|realised − predicted next return|, bps)
    /// or `abs_return` (|return|, bps).
    pub signal: DriftSignal,
    /// Samples used to estimate the reference mean before detection starts.
    pub warmup: u32,
    /// Page–Hinkley tolerance δ.
    #[schemars(range(min = 0))]
    pub ph_delta: f64,
    /// Page–Hinkley threshold λ.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub ph_lambda: f64,
    /// CUSUM slack k.
    #[schemars(range(min = 0))]
    pub cusum_k: f64,
    /// CUSUM threshold h.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub cusum_h: f64,
}

/// The signal the drift sentry watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftSignal {
    /// |realised next return − belief readout prediction|, bps.
    PredictionError,
    /// |return|, bps.
    AbsReturn,
}

/// Which policy runs, and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Regime → policy table (used unless `flags.linear_attention`).
    pub regime_table: RegimeTable,
    /// Momentum (EMA-cross) parameters.
    pub momentum: MomentumConfig,
    /// Market-making parameters.
    pub market_making: MarketMakingConfig,
    /// Mean-reversion parameters.
    pub mean_reversion: MeanReversionConfig,
}

/// What runs in each regime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegimeTable {
    /// Before the FSM has classified anything.
    pub unclassified: PolicyChoice,
    /// Calm.
    pub calm: PolicyChoice,
    /// Trending.
    pub trending: PolicyChoice,
    /// Volatile.
    pub volatile: PolicyChoice,
    /// Halted.
    pub halted: PolicyChoice,
}

/// A policy and its execution topology, or nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyChoice {
    /// The policy.
    pub policy: PolicyName,
    /// How it is worked.
    pub topology: TopologyName,
}

/// Built-in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// EMA-cross momentum.
    Momentum,
    /// Two-sided quoting around the microprice with inventory skew.
    MarketMaking,
    /// Fade deviations from the long EMA.
    MeanReversion,
    /// Trade nothing (and cancel what is working).
    None,
}

/// Market making.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketMakingConfig {
    /// Quote size.
    #[schemars(range(min = 1))]
    pub qty: i64,
    /// Half spread around the microprice, in ticks (passive topology; aggressive joins the touch).
    #[schemars(range(min = 0))]
    pub half_spread_ticks: i64,
    /// Quotes shift by this many ticks per `qty` of inventory, against the inventory.
    #[schemars(range(min = 0))]
    pub skew_ticks_per_qty: f64,
    /// No quote that would grow |inventory| beyond this.
    #[schemars(range(min = 1))]
    pub max_inventory: i64,
    /// Requote when the desired price is this many ticks from the working one.
    #[schemars(range(min = 1))]
    pub requote_ticks: i64,
}

/// Mean reversion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeanReversionConfig {
    /// Target position magnitude.
    #[schemars(range(min = 1))]
    pub qty: i64,
    /// Enter when |mid − EMA_LONG| exceeds this many volatility units.
    pub entry_z: f64,
    /// Flatten once it is back inside this many.
    #[schemars(range(min = 0))]
    pub exit_z: f64,
}

/// Router extensions, each used only when its flag is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// `choose` the policy with the largest attention weight, or `blend` directional targets.
    pub attention_mode: AttentionMode,
    /// Fast-weights parameters.
    pub fast_weights: FastWeightsConfig,
    /// Exploration parameters.
    pub exploration: ExplorationConfig,
}

/// How attention weights are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttentionMode {
    /// Run the policy with the largest weight (ties: lowest index).
    Choose,
    /// Blend the directional policies' targets by weight; quote size × market making's weight.
    Blend,
}

/// Low-rank Hebbian fast weights on the query projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FastWeightsConfig {
    /// Rank of the fast-weight matrix (number of outer products kept).
    #[schemars(range(min = 1, max = 16))]
    pub rank: u32,
    /// Decay per update, in (0, 1].
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0))]
    pub decay: f64,
    /// Learning rate of the reward-modulated outer product.
    #[schemars(range(min = 0))]
    pub eta: f64,
    /// Frobenius-norm bound of the fast weights.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub max_norm: f64,
}

/// Budgeted, seeded exploration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplorationConfig {
    /// Seed of exploration's own generator.
    pub seed: u64,
    /// At most this percentage of decisions explore.
    #[schemars(range(min = 0, max = 100))]
    pub budget_pct: f64,
    /// A mutation is considered every this many decisions.
    #[schemars(range(min = 1))]
    pub every: u32,
}

/// Execution topology as named in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopologyName {
    /// Rest at our touch.
    Passive,
    /// Cross the spread.
    Aggressive,
    /// Market orders (directional policies); quoting policies treat it as aggressive.
    Market,
}

/// EMA-cross momentum policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    /// Fast EMA span in mid updates (alpha = 2/(n+1)).
    #[schemars(range(min = 1))]
    pub fast: u32,
    /// Slow EMA span in mid updates; trading starts once it has seen this many.
    pub slow: u32,
    /// Target position magnitude in quantity units.
    #[schemars(range(min = 1))]
    pub qty: i64,
    /// Aggressive orders cross this many ticks beyond the far touch.
    #[schemars(range(min = 0))]
    pub slip_ticks: i64,
    /// A working order older than this (control time) is re-priced or cancelled.
    pub max_order_age_ns: u64,
}

/// Pre-trade risk limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Risk template id, recorded in every diary record.
    pub template_id: u16,
    /// Largest gross exposure Σ|position × mark| + working notional, currency units.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub max_gross: f64,
    /// Order-rate throttle: sustained orders per second of control time (cancels exempt).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub orders_per_sec: f64,
    /// Order-rate throttle: burst size (bucket capacity).
    #[schemars(range(min = 1))]
    pub order_burst: u32,
    /// Drawdown (currency) from the intraday equity peak at which only risk-reducing
    /// orders pass.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub reduce_only_drawdown: f64,
    /// Drawdown at which no new order passes (cancels still do).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub halt_drawdown: f64,
    /// Largest quantity of one order, in quantity units.
    #[schemars(range(min = 1))]
    pub max_order_qty: i64,
    /// Largest notional of one order, in currency units.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub max_notional: f64,
    /// Allowed distance of a limit price from the reference (mid), in basis points.
    pub price_band_bps: u32,
    /// Largest absolute position per instrument, counting working orders, in quantity units.
    #[schemars(range(min = 1))]
    pub position_limit: i64,
    /// Largest number of open orders across instruments.
    #[schemars(range(min = 1, max = 1024))]
    pub max_open_orders: u32,
}

/// Decision diary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiaryConfig {
    /// Markouts are taken this many inputs (on any instrument) after the decision.
    #[schemars(range(min = 1))]
    pub markout_events: u32,
}

/// Simulated venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Order-entry latency: an order sent at control time t reaches the matching
    /// engine at t + this.
    pub entry_latency_ns: u64,
    /// Execution reports reach the engine this long after the venue produced them.
    pub ack_latency_ns: u64,
    /// Market data reaches the engine this long after the venue published it.
    pub md_latency_ns: u64,
    /// The venue's FIX acceptor, `host:port`. When set, `foxtrot run` trades with
    /// the `foxtrot venue` process listening there, over TCP, instead of
    /// simulating the venue in-process (and the three latencies above are the
    /// network's, not simulated). `foxtrot sim` always simulates in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// UDP `host:port` where `foxtrot venue` publishes its market data and
    /// `foxtrot run` receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_data: Option<String>,
}

/// Deterministic market-data generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenConfig {
    /// RNG seed; the same seed gives the same stream.
    pub seed: u64,
    /// Number of market-data events to produce.
    #[schemars(range(min = 1))]
    pub events: u64,
    /// Control time of the first event, ns since the epoch.
    pub start_ns: u64,
    /// Mean crowd actions per second per instrument in the calm regime.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub rate_per_sec: f64,
    /// Mean number of resting crowd orders per instrument the flow aims for.
    #[schemars(range(min = 1))]
    pub target_depth_orders: u32,
    /// Fair-value volatility per action in ticks, calm and volatile regime.
    #[schemars(inner(range(min = 0)))]
    pub sigma_ticks: [f64; 2],
    /// Probability per action of switching volatility regime.
    #[schemars(range(min = 0, max = 1))]
    pub regime_switch_prob: f64,
    /// Probability per action of starting a burst (20× rate for ~200 actions).
    #[schemars(range(min = 0, max = 1))]
    pub burst_prob: f64,
    /// Probability per action of a feed gap (0.2–2 s of silence).
    #[schemars(range(min = 0, max = 1))]
    pub gap_prob: f64,
    /// Fraction of actions that are aggressive (market) orders.
    #[schemars(range(min = 0, max = 1))]
    pub market_order_frac: f64,
    /// Mean crowd order size in lots.
    #[schemars(range(min = 1))]
    pub mean_order_lots: f64,
    /// Adversarial feed corruption (off by default).
    #[serde(default)]
    pub adversarial: AdversarialConfig,
}

/// Feed corruption injected between the venue and the engine, to prove the core
/// keeps its invariants on bad data. Each probability is per crowd action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdversarialConfig {
    /// Master switch.
    #[serde(default)]
    pub enabled: bool,
    /// A phantom level across the touch (a crossed book) that is withdrawn 50 actions later.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub crossed_prob: f64,
    /// A print far from the market (±50%), at zero or a negative price, or of absurd size.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub bad_print_prob: f64,
    /// A malformed record: off-tick, zero or negative price, bad side, unknown action
    /// or instrument, negative quantity.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub garbage_prob: f64,
    /// An instrument halts: its crowd falls silent for `halt_ns`.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub halt_prob: f64,
    /// Length of a halt in control-time ns.
    #[serde(default)]
    pub halt_ns: u64,
}

/// Feature flags; part of the journalled configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    /// Low-rank Hebbian fast weights in the router.
    #[serde(default)]
    pub fast_weights: bool,
    /// The linear-attention router instead of the regime table.
    #[serde(default)]
    pub linear_attention: bool,
    /// Budgeted, seeded exploration.
    #[serde(default)]
    pub exploration: bool,
    /// Quiet periods after a drift alarm restore the halved order size automatically.
    #[serde(default)]
    pub auto_feedback: bool,
}

/// The default configuration shipped with foxtrot (`configs/sim.yaml`), embedded so
/// `foxtrot sim` runs anywhere.
pub const DEFAULT_SIM_YAML: &str = include_str!("../../../configs/sim.yaml");

/// The default belief weights (`configs/belief_weights.yaml`), embedded for the
/// embedded default config.
pub const DEFAULT_WEIGHTS_YAML: &str = include_str!("../../../configs/belief_weights.yaml");

/// Origin name of the embedded default config.
pub const EMBEDDED_ORIGIN: &str = "<embedded configs/sim.yaml>";

/// The embedded backtest template (`configs/backtest.yaml`), what `foxtrot import`
/// writes unless given another.
pub const BACKTEST_YAML: &str = include_str!("../../../configs/backtest.yaml");

/// Origin name of the embedded backtest template.
pub const BACKTEST_ORIGIN: &str = "<embedded configs/backtest.yaml>";

impl Config {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text, path)
    }

    /// The embedded default configuration.
    pub fn default_sim() -> Config {
        Self::from_yaml(DEFAULT_SIM_YAML, Path::new(EMBEDDED_ORIGIN))
            .expect("the embedded default config is valid (tested)")
    }

    /// The embedded backtest template.
    pub fn default_backtest() -> Config {
        Self::from_yaml(BACKTEST_YAML, Path::new(BACKTEST_ORIGIN))
            .expect("the embedded backtest config is valid (tested)")
    }

    /// Parses and validates YAML text; `origin` names it in errors and anchors the
    /// weights file (relative to its folder). The embedded origin uses the embedded
    /// weights.
    pub fn from_yaml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = parse_yaml(text, origin)?;
        if cfg.belief.model.is_none() {
            let wf = &cfg.belief.weights_file;
            let embedded = origin == Path::new(EMBEDDED_ORIGIN) || origin == Path::new(BACKTEST_ORIGIN);
            let (wtext, wpath) = if embedded && wf == "belief_weights.yaml" {
                (
                    DEFAULT_WEIGHTS_YAML.to_string(),
                    PathBuf::from("<embedded configs/belief_weights.yaml>"),
                )
            } else {
                let p = origin.parent().unwrap_or(Path::new(".")).join(wf);
                let t = std::fs::read_to_string(&p).map_err(|e| {
                    let m = format!("cannot read {}: {e}", p.display());
                    ConfigError::invalid(origin, "belief.weights_file", m).located(text)
                })?;
                (t, p)
            };
            let model: BeliefModel = parse_yaml(&wtext, &wpath)?;
            model.validate(&wpath).map_err(|e| e.located(&wtext))?;
            cfg.belief.model = Some(model);
        }
        cfg.check(origin).map_err(|e| e.located(text))?;
        Ok(cfg)
    }

    /// Checks the whole configuration: the schema's ranges, then [`validate`](Self::validate).
    /// Run it again after changing a loaded configuration.
    pub fn check(&self, origin: &Path) -> Result<(), ConfigError> {
        let value = serde_json::to_value(self).expect("config structs always serialise");
        if let Err((key, message)) = schema::check(&schema::json_schema(), &value) {
            return Err(ConfigError::invalid(origin, &key, message));
        }
        self.validate(origin)
    }

    /// Hash of the effective configuration's canonical text (16 hex digits): what
    /// every report prints to say which configuration produced it.
    pub fn config_hash(&self) -> String {
        format!("{:016x}", hash_text(&self.canonical_text()))
    }

    /// The loaded belief model (always present after loading).
    pub fn model(&self) -> &BeliefModel {
        self.belief
            .model
            .as_ref()
            .expect("the loader always fills in the model")
    }

    /// Checks what the schema cannot say: rules relating two keys, character sets
    /// and arithmetic. Ranges are the schema's (see [`schema`]), checked on load.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::invalid(origin, key, message);
        let printable = |v: &str| v.bytes().all(|b| b.is_ascii_graphic() && b != b'|');
        for (i, ins) in self.instruments.iter().enumerate() {
            let k = |f: &str| format!("instruments[{i}].{f}");
            if !printable(&ins.symbol) || ins.symbol.len() > crate::records::fixed::MAX_SYMBOL_LEN {
                return Err(bad(
                    &k("symbol"),
                    format!("{:?} must be 1..=12 printable ASCII bytes other than `|`", ins.symbol),
                ));
            }
            if ins.tick > 0 && ins.ref_price % ins.tick != 0 {
                return Err(bad(
                    &k("ref_price"),
                    format!("{} must be a multiple of tick {}", ins.ref_price, ins.tick),
                ));
            }
        }
        for (key, v) in [
            ("session.sender_comp_id", &self.session.sender_comp_id),
            ("session.target_comp_id", &self.session.target_comp_id),
        ] {
            if !printable(v) {
                return Err(bad(key, format!("{v:?} must be printable ASCII other than `|`")));
            }
        }
        for (key, v) in [
            ("venue.address", &self.venue.address),
            ("venue.market_data", &self.venue.market_data),
        ] {
            if let Some(a) = v {
                if a.parse::<std::net::SocketAddr>().is_err() {
                    return Err(bad(
                        key,
                        format!("{a:?} must be an IP address and port, as 127.0.0.1:9878"),
                    ));
                }
            }
        }
        let b = &self.belief;
        match &b.model {
            Some(m) => m.validate(origin).map_err(|e| match e {
                ConfigError::Invalid { path, key, message, .. } => {
                    ConfigError::invalid(&path, &format!("belief.model.{key}"), message)
                }
                e => e,
            })?,
            None => return Err(bad("belief.model", "no model loaded".into())),
        }
        if b.k as usize > self.model().units.len() {
            return Err(bad(
                "belief.k",
                format!("{} exceeds the model's {} units", b.k, self.model().units.len()),
            ));
        }
        let rg = &b.regime;
        if rg.vol_exit_bps > rg.vol_enter_bps {
            return Err(bad("belief.regime.vol_exit_bps", "must be ≤ vol_enter_bps".into()));
        }
        if rg.trend_exit > rg.trend_enter {
            return Err(bad("belief.regime.trend_exit", "must be ≤ trend_enter".into()));
        }
        let mr = &self.strategy.mean_reversion;
        if mr.exit_z >= mr.entry_z {
            return Err(bad(
                "strategy.mean_reversion.exit_z",
                format!("{} must be less than entry_z {}", mr.exit_z, mr.entry_z),
            ));
        }
        let m = &self.strategy.momentum;
        if m.slow <= m.fast {
            return Err(bad(
                "strategy.momentum.slow",
                format!("need fast ({}) < slow ({})", m.fast, m.slow),
            ));
        }
        let r = &self.risk;
        if r.halt_drawdown < r.reduce_only_drawdown {
            return Err(bad("risk.halt_drawdown", "must be ≥ reduce_only_drawdown".into()));
        }
        self.runtime.validate(bad)
    }

    /// Canonical text of the configuration (YAML with fields in declaration order),
    /// the input to configuration and policy hashes.
    pub fn canonical_text(&self) -> String {
        canonical_yaml(self)
    }
}

fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str, origin: &Path) -> Result<T, ConfigError> {
    serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        // The position leads the error already; drop the parser's own copy of it.
        let message = e.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = message.strip_suffix(&suffix).unwrap_or(&message).to_string();
        // A syntax error names no key: name the last key read before it.
        let names_key = message.split_once(": ").is_some_and(|(k, _)| !k.contains(' '));
        let message = match locate::Locations::index(text).last_key_before(line, column) {
            Some(k) if !names_key => format!("after key `{k}`: {message}"),
            _ => message,
        };
        ConfigError::Parse {
            path: origin.to_path_buf(),
            line,
            column,
            message,
        }
    })
}

impl BeliefModel {
    /// Checks shapes: 24 means and non-zero scales, 1..=64 units of 24 weights, one
    /// readout weight per unit, query rows of one weight per unit, three keys of the
    /// query's dimension; every number finite.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let n = crate::records::N_FEATURES;
        let bad = |key: &str, message: String| ConfigError::invalid(origin, key, message);
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if self.mean.len() != n || !finite(&self.mean) {
            return Err(bad("mean", format!("needs {n} finite values, has {}", self.mean.len())));
        }
        if self.scale.len() != n || self.scale.iter().any(|x| !x.is_finite() || *x == 0.0) {
            return Err(bad("scale", format!("needs {n} finite non-zero values")));
        }
        let h = self.units.len();
        if !(1..=64).contains(&h) {
            return Err(bad("units", format!("{h} units; need 1..=64")));
        }
        for (i, u) in self.units.iter().enumerate() {
            if u.w.len() != n || !finite(&u.w) || !u.b.is_finite() {
                return Err(bad(
                    &format!("units[{i}].w"),
                    format!("needs {n} finite weights and a finite bias"),
                ));
            }
        }
        if self.readout.len() != h || !finite(&self.readout) {
            return Err(bad("readout", format!("needs {h} finite values (one per unit)")));
        }
        let a = &self.attention;
        let d = a.query.len();
        if d == 0 || d > 64 || a.query.iter().any(|r| r.len() != h || !finite(r)) {
            return Err(bad(
                "attention.query",
                format!("needs 1..=64 rows of {h} finite values"),
            ));
        }
        if a.keys.len() != 3 || a.keys.iter().any(|k| k.len() != d || !finite(k)) {
            return Err(bad(
                "attention.keys",
                format!("needs 3 keys (momentum, market_making, mean_reversion) of {d} values"),
            ));
        }
        Ok(())
    }
}

/// Serialises through serde_yaml_ng into a YAML string; field order is the struct's
/// declaration order, so the text is canonical for a given config.
fn canonical_yaml<T: Serialize>(v: &T) -> String {
    serde_yaml_ng::to_string(v).expect("config structs always serialise")
}

/// Hash of a canonical text, for policy and config hashes.
pub fn hash_text(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path in the shipped `configs/` folder, so the weights file resolves.
    fn beside_configs(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs").join(name)
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::default_sim();
        assert!(!c.instruments.is_empty());
        assert!(!c.flags.fast_weights && !c.flags.linear_attention && !c.flags.exploration);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = DEFAULT_SIM_YAML.replace("tick_ns:", "tick_nz:");
        let e = Config::from_yaml(&text, &beside_configs("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tick_nz"), "{e}");
        assert!(e.contains("configs/x.yaml:"), "{e}");
        let line = DEFAULT_SIM_YAML.lines().position(|l| l.contains("tick_ns:")).unwrap() + 1;
        assert!(e.contains(&format!(":{line}:")), "expected line {line}: {e}");
    }

    #[test]
    fn out_of_range_names_key() {
        let text = DEFAULT_SIM_YAML.replace("gap_prob: ", "gap_prob: 7 #");
        let e = Config::from_yaml(&text, &beside_configs("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("gen.gap_prob"), "{e}");
    }

    #[test]
    fn canonical_text_is_stable_and_sensitive() {
        let a = Config::default_sim();
        let mut b = a.clone();
        assert_eq!(a.canonical_text(), b.canonical_text());
        b.strategy.momentum.fast += 1;
        assert_ne!(hash_text(&a.canonical_text()), hash_text(&b.canonical_text()));
    }
}
