//! The one typed configuration, loaded from YAML.
//!
//! Every command that runs the pipeline takes `--config FILE` (default
//! `configs/sim.yaml`). Unknown keys are rejected everywhere; errors name the key
//! path and the line and column where the YAML parser could place them.

use crate::records::InstrumentSpec;
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
    #[error("config {path}: {key}: {message}")]
    Invalid {
        /// The file (or `<string>`).
        path: PathBuf,
        /// Dotted key path, e.g. `risk.max_order_qty`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Instruments, by index = instrument id.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Stage groups, one thread each: `fused`, `per_stage`, or explicit groups.
    pub layout: Layout,
    /// Idle strategy of every stage thread.
    pub wait: WaitStrategy,
    /// Core per group, in group order (empty: not pinned).
    pub cores: Vec<usize>,
    /// Slots per ring between groups (a power of two).
    pub ring_capacity: usize,
    /// Most messages a stage handles before publishing.
    pub batch: usize,
    /// Market-data back-pressure policy. Execution reports always wait.
    pub md_backpressure: Backpressure,
    /// Memory-mapped statistics file that `foxtrot stat` reads (none if unset).
    pub stats_file: Option<String>,
    /// How often the stats thread publishes, in wall-clock milliseconds.
    pub stats_interval_ms: u64,
    /// A heartbeat is counted every this many milliseconds of event time.
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
        if !self.ring_capacity.is_power_of_two() || !(4..=1 << 22).contains(&self.ring_capacity) {
            return Err(bad(
                "runtime.ring_capacity",
                format!("{} must be a power of two in 4..=4194304", self.ring_capacity),
            ));
        }
        if !(1..=4096).contains(&self.batch) {
            return Err(bad("runtime.batch", format!("{} must be in 1..=4096", self.batch)));
        }
        for (key, v) in [
            ("runtime.stats_interval_ms", self.stats_interval_ms),
            ("runtime.heartbeat_ms", self.heartbeat_ms),
        ] {
            if v == 0 {
                return Err(bad(key, "must be > 0".into()));
            }
        }
        Ok(())
    }
}

/// FIX identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// BeginString (tag 8): `FIX.4.4` or `FIX.4.2`.
    pub begin_string: String,
    /// SenderCompID (tag 49).
    pub sender_comp_id: String,
    /// TargetCompID (tag 56).
    pub target_comp_id: String,
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerConfig {
    /// Period of the housekeeping tick in nanoseconds of control time.
    pub tick_ns: u64,
}

/// Book shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookConfig {
    /// Ladder window in ticks (rounded up to a power of two).
    pub window_ticks: usize,
}

/// Sensory parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensoryConfig {
    /// Span of the long EMA of mid, in mid updates.
    pub long_span: u32,
    /// Span of the EWMA of squared returns (realised volatility).
    pub vol_span: u32,
    /// Span of the trade-flow EWMAs, in executions.
    pub flow_span: u32,
    /// Span of the imbalance-change mean/variance behind the surge z-score.
    pub surge_span: u32,
    /// Levels in the top-N imbalance and depth features.
    pub depth_levels: u32,
    /// Mid updates after the open (or a halt) that count as the opening auction.
    pub auction_updates: u32,
    /// Per-batch decay of the sweep-risk probe, in (0, 1).
    pub sweep_decay: f64,
    /// An instrument without market data this long (control time) is halted.
    pub stale_after_ns: u64,
}

/// Belief layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeliefConfig {
    /// Weights file, relative to the config file's folder.
    pub weights_file: String,
    /// How many units the belief keeps (top-k), 1..=8.
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionModel {
    /// Query projection: `dim` rows of one weight per belief unit.
    pub query: Vec<Vec<f32>>,
    /// Keys (`dim` values each), in policy order: momentum, market making, mean reversion.
    pub keys: Vec<Vec<f32>>,
}

/// Regime FSM thresholds (with hysteresis: enter above `*_enter`, leave below `*_exit`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeConfig {
    /// Volatile when realised vol (bps per update) rises above this…
    pub vol_enter_bps: f64,
    /// …and no longer once it falls below this.
    pub vol_exit_bps: f64,
    /// Trending when |TREND_Z| rises above this…
    pub trend_enter: f64,
    /// …and no longer once it falls below this.
    pub trend_exit: f64,
    /// Minimum mid updates spent in a regime before leaving it (halts excepted).
    pub min_dwell_updates: u32,
}

/// Drift sentry parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// Signal monitored: `prediction_error` (|realised − predicted next return|, bps)
    /// or `abs_return` (|return|, bps).
    pub signal: DriftSignal,
    /// Samples used to estimate the reference mean before detection starts.
    pub warmup: u32,
    /// Page–Hinkley tolerance δ.
    pub ph_delta: f64,
    /// Page–Hinkley threshold λ.
    pub ph_lambda: f64,
    /// CUSUM slack k.
    pub cusum_k: f64,
    /// CUSUM threshold h.
    pub cusum_h: f64,
}

/// The signal the drift sentry watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftSignal {
    /// |realised next return − belief readout prediction|, bps.
    PredictionError,
    /// |return|, bps.
    AbsReturn,
}

/// Which policy runs, and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChoice {
    /// The policy.
    pub policy: PolicyName,
    /// How it is worked.
    pub topology: TopologyName,
}

/// Built-in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketMakingConfig {
    /// Quote size.
    pub qty: i64,
    /// Half spread around the microprice, in ticks (passive topology; aggressive joins the touch).
    pub half_spread_ticks: i64,
    /// Quotes shift by this many ticks per `qty` of inventory, against the inventory.
    pub skew_ticks_per_qty: f64,
    /// No quote that would grow |inventory| beyond this.
    pub max_inventory: i64,
    /// Requote when the desired price is this many ticks from the working one.
    pub requote_ticks: i64,
}

/// Mean reversion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanReversionConfig {
    /// Target position magnitude.
    pub qty: i64,
    /// Enter when |mid − EMA_LONG| exceeds this many volatility units.
    pub entry_z: f64,
    /// Flatten once it is back inside this many.
    pub exit_z: f64,
}

/// Router extensions, each used only when its flag is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionMode {
    /// Run the policy with the largest weight (ties: lowest index).
    Choose,
    /// Blend the directional policies' targets by weight; quote size × market making's weight.
    Blend,
}

/// Low-rank Hebbian fast weights on the query projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastWeightsConfig {
    /// Rank of the fast-weight matrix (number of outer products kept).
    pub rank: u32,
    /// Decay per update, in (0, 1].
    pub decay: f64,
    /// Learning rate of the reward-modulated outer product.
    pub eta: f64,
    /// Frobenius-norm bound of the fast weights.
    pub max_norm: f64,
}

/// Budgeted, seeded exploration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorationConfig {
    /// Seed of exploration's own generator.
    pub seed: u64,
    /// At most this percentage of decisions explore.
    pub budget_pct: f64,
    /// A mutation is considered every this many decisions.
    pub every: u32,
}

/// Execution topology as named in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyName {
    /// Rest at our touch.
    Passive,
    /// Cross the spread.
    Aggressive,
}

/// EMA-cross momentum policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    /// Fast EMA span in mid updates (alpha = 2/(n+1)).
    pub fast: u32,
    /// Slow EMA span in mid updates; trading starts once it has seen this many.
    pub slow: u32,
    /// Target position magnitude in quantity units.
    pub qty: i64,
    /// Aggressive orders cross this many ticks beyond the far touch.
    pub slip_ticks: i64,
    /// A working order older than this (control time) is re-priced or cancelled.
    pub max_order_age_ns: u64,
}

/// Pre-trade risk limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Risk template id, recorded in every diary record.
    pub template_id: u16,
    /// Largest gross exposure Σ|position × mark| + working notional, currency units.
    pub max_gross: f64,
    /// Order-rate throttle: sustained orders per second of control time (cancels exempt).
    pub orders_per_sec: f64,
    /// Order-rate throttle: burst size (bucket capacity).
    pub order_burst: u32,
    /// Drawdown (currency) from the intraday equity peak at which only risk-reducing
    /// orders pass.
    pub reduce_only_drawdown: f64,
    /// Drawdown at which no new order passes (cancels still do).
    pub halt_drawdown: f64,
    /// Largest quantity of one order, in quantity units.
    pub max_order_qty: i64,
    /// Largest notional of one order, in currency units.
    pub max_notional: f64,
    /// Allowed distance of a limit price from the reference (mid), in basis points.
    pub price_band_bps: u32,
    /// Largest absolute position per instrument, counting working orders, in quantity units.
    pub position_limit: i64,
    /// Largest number of open orders across instruments.
    pub max_open_orders: u32,
}

/// Decision diary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiaryConfig {
    /// Markouts are taken this many inputs (on any instrument) after the decision.
    pub markout_events: u32,
}

/// Simulated venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Order-entry latency: an order sent at control time t reaches the matching
    /// engine at t + this.
    pub entry_latency_ns: u64,
    /// Execution reports reach the engine this long after the venue produced them.
    pub ack_latency_ns: u64,
    /// Market data reaches the engine this long after the venue published it.
    pub md_latency_ns: u64,
}

/// Deterministic market-data generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenConfig {
    /// RNG seed; the same seed gives the same stream.
    pub seed: u64,
    /// Number of market-data events to produce.
    pub events: u64,
    /// Control time of the first event, ns since the epoch.
    pub start_ns: u64,
    /// Mean crowd actions per second per instrument in the calm regime.
    pub rate_per_sec: f64,
    /// Mean number of resting crowd orders per instrument the flow aims for.
    pub target_depth_orders: u32,
    /// Fair-value volatility per action in ticks, calm and volatile regime.
    pub sigma_ticks: [f64; 2],
    /// Probability per action of switching volatility regime.
    pub regime_switch_prob: f64,
    /// Probability per action of starting a burst (20× rate for ~200 actions).
    pub burst_prob: f64,
    /// Probability per action of a feed gap (0.2–2 s of silence).
    pub gap_prob: f64,
    /// Fraction of actions that are aggressive (market) orders.
    pub market_order_frac: f64,
    /// Mean crowd order size in lots.
    pub mean_order_lots: f64,
    /// Adversarial feed corruption (off by default).
    #[serde(default)]
    pub adversarial: AdversarialConfig,
}

/// Feed corruption injected between the venue and the engine, to prove the core
/// keeps its invariants on bad data. Each probability is per crowd action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdversarialConfig {
    /// Master switch.
    #[serde(default)]
    pub enabled: bool,
    /// A phantom level across the touch (a crossed book) that is withdrawn 50 actions later.
    #[serde(default)]
    pub crossed_prob: f64,
    /// A print far from the market (±50%), at zero or a negative price, or of absurd size.
    #[serde(default)]
    pub bad_print_prob: f64,
    /// A malformed record: off-tick, zero or negative price, bad side, unknown action
    /// or instrument, negative quantity.
    #[serde(default)]
    pub garbage_prob: f64,
    /// An instrument halts: its crowd falls silent for `halt_ns`.
    #[serde(default)]
    pub halt_prob: f64,
    /// Length of a halt in control-time ns.
    #[serde(default)]
    pub halt_ns: u64,
}

/// Feature flags; part of the journalled configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
pub const DEFAULT_SIM_YAML: &str = include_str!("../../configs/sim.yaml");

/// The default belief weights (`configs/belief_weights.yaml`), embedded for the
/// embedded default config.
pub const DEFAULT_WEIGHTS_YAML: &str = include_str!("../../configs/belief_weights.yaml");

/// Origin name of the embedded default config.
pub const EMBEDDED_ORIGIN: &str = "<embedded configs/sim.yaml>";

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

    /// Parses and validates YAML text; `origin` names it in errors and anchors the
    /// weights file (relative to its folder). The embedded origin uses the embedded
    /// weights.
    pub fn from_yaml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = parse_yaml(text, origin)?;
        if cfg.belief.model.is_none() {
            let wf = &cfg.belief.weights_file;
            let (wtext, wpath) = if origin == Path::new(EMBEDDED_ORIGIN) && wf == "belief_weights.yaml" {
                (
                    DEFAULT_WEIGHTS_YAML.to_string(),
                    PathBuf::from("<embedded configs/belief_weights.yaml>"),
                )
            } else {
                let p = origin.parent().unwrap_or(Path::new(".")).join(wf);
                let t = std::fs::read_to_string(&p).map_err(|source| ConfigError::Io {
                    path: p.clone(),
                    source,
                })?;
                (t, p)
            };
            let model: BeliefModel = parse_yaml(&wtext, &wpath)?;
            model.validate(&wpath)?;
            cfg.belief.model = Some(model);
        }
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// The loaded belief model (always present after loading).
    pub fn model(&self) -> &BeliefModel {
        self.belief
            .model
            .as_ref()
            .expect("the loader always fills in the model")
    }

    /// Checks ranges and consistency.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: origin.to_path_buf(),
            key: key.to_string(),
            message,
        };
        if self.instruments.is_empty() {
            return Err(bad("instruments", "at least one instrument is required".into()));
        }
        for (i, ins) in self.instruments.iter().enumerate() {
            let k = |f: &str| format!("instruments[{i}].{f}");
            if ins.symbol.is_empty()
                || ins.symbol.len() > crate::records::fixed::MAX_SYMBOL_LEN
                || !ins.symbol.bytes().all(|b| b.is_ascii_graphic() && b != b'|')
            {
                return Err(bad(
                    &k("symbol"),
                    format!("{:?} must be 1..=12 printable ASCII bytes", ins.symbol),
                ));
            }
            if ins.price_decimals > 9 || ins.qty_decimals > 9 {
                return Err(bad(&k("price_decimals"), "decimals must be at most 9".into()));
            }
            if ins.tick <= 0 || ins.lot <= 0 {
                return Err(bad(&k("tick"), "tick and lot must be > 0".into()));
            }
            if ins.ref_price <= 0 || ins.ref_price % ins.tick != 0 {
                return Err(bad(
                    &k("ref_price"),
                    format!("{} must be > 0 and a multiple of tick {}", ins.ref_price, ins.tick),
                ));
            }
        }
        if self.session.begin_string != "FIX.4.4" && self.session.begin_string != "FIX.4.2" {
            return Err(bad(
                "session.begin_string",
                format!("{:?}: expected FIX.4.4 or FIX.4.2", self.session.begin_string),
            ));
        }
        for (key, v) in [
            ("session.sender_comp_id", &self.session.sender_comp_id),
            ("session.target_comp_id", &self.session.target_comp_id),
        ] {
            if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_graphic() && b != b'|') {
                return Err(bad(key, format!("{v:?} must be 1..=32 printable ASCII bytes")));
            }
        }
        if self.timers.tick_ns == 0 {
            return Err(bad("timers.tick_ns", "must be > 0".into()));
        }
        if !(64..=1 << 20).contains(&self.book.window_ticks) {
            return Err(bad(
                "book.window_ticks",
                format!("{} not in 64..=1048576", self.book.window_ticks),
            ));
        }
        let sn = &self.sensory;
        if sn.long_span == 0 || sn.vol_span == 0 || sn.flow_span == 0 || sn.surge_span == 0 {
            return Err(bad("sensory", "spans must be > 0".into()));
        }
        if !(1..=64).contains(&sn.depth_levels) {
            return Err(bad(
                "sensory.depth_levels",
                format!("{} not in 1..=64", sn.depth_levels),
            ));
        }
        if !(sn.sweep_decay > 0.0 && sn.sweep_decay < 1.0) {
            return Err(bad("sensory.sweep_decay", format!("{} not in (0, 1)", sn.sweep_decay)));
        }
        let b = &self.belief;
        if !(1..=crate::records::BELIEF_K_MAX as u8).contains(&b.k) {
            return Err(bad("belief.k", format!("{} not in 1..=8", b.k)));
        }
        match &b.model {
            Some(m) => m.validate(origin)?,
            None => return Err(bad("belief.model", "no model loaded".into())),
        }
        if b.k as usize > self.model().units.len() {
            return Err(bad(
                "belief.k",
                format!("{} exceeds the model's {} units", b.k, self.model().units.len()),
            ));
        }
        let rg = &b.regime;
        if !(rg.vol_exit_bps >= 0.0 && rg.vol_exit_bps <= rg.vol_enter_bps) {
            return Err(bad(
                "belief.regime.vol_exit_bps",
                "need 0 ≤ vol_exit_bps ≤ vol_enter_bps".into(),
            ));
        }
        if !(rg.trend_exit >= 0.0 && rg.trend_exit <= rg.trend_enter) {
            return Err(bad(
                "belief.regime.trend_exit",
                "need 0 ≤ trend_exit ≤ trend_enter".into(),
            ));
        }
        let d = &b.drift;
        for (key, v) in [
            ("belief.drift.ph_delta", d.ph_delta),
            ("belief.drift.ph_lambda", d.ph_lambda),
            ("belief.drift.cusum_k", d.cusum_k),
            ("belief.drift.cusum_h", d.cusum_h),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(key, format!("{v} must be a finite number ≥ 0")));
            }
        }
        if d.ph_lambda == 0.0 || d.cusum_h == 0.0 {
            return Err(bad("belief.drift", "ph_lambda and cusum_h must be > 0".into()));
        }
        let mm = &self.strategy.market_making;
        if mm.qty <= 0 || mm.half_spread_ticks < 0 || mm.max_inventory <= 0 || mm.requote_ticks < 1 {
            return Err(bad(
                "strategy.market_making",
                "qty > 0, half_spread_ticks ≥ 0, max_inventory > 0, requote_ticks ≥ 1".into(),
            ));
        }
        if !mm.skew_ticks_per_qty.is_finite() || mm.skew_ticks_per_qty < 0.0 {
            return Err(bad("strategy.market_making.skew_ticks_per_qty", "must be ≥ 0".into()));
        }
        let mr = &self.strategy.mean_reversion;
        if mr.qty <= 0 || !(mr.exit_z >= 0.0 && mr.exit_z < mr.entry_z) {
            return Err(bad(
                "strategy.mean_reversion",
                "qty > 0 and 0 ≤ exit_z < entry_z".into(),
            ));
        }
        let fw = &self.router.fast_weights;
        let fw_ok = (1..=16).contains(&fw.rank)
            && fw.decay > 0.0
            && fw.decay <= 1.0
            && fw.eta >= 0.0
            && fw.eta.is_finite()
            && fw.max_norm > 0.0
            && fw.max_norm.is_finite();
        if !fw_ok {
            return Err(bad(
                "router.fast_weights",
                "rank in 1..=16, decay in (0, 1], eta ≥ 0, max_norm > 0".into(),
            ));
        }
        let ex = &self.router.exploration;
        if !(0.0..=100.0).contains(&ex.budget_pct) || ex.every == 0 {
            return Err(bad("router.exploration", "budget_pct in [0, 100], every > 0".into()));
        }
        let m = &self.strategy.momentum;
        if m.fast == 0 || m.slow <= m.fast {
            return Err(bad(
                "strategy.momentum.slow",
                format!("need 0 < fast ({}) < slow ({})", m.fast, m.slow),
            ));
        }
        if m.qty <= 0 || m.slip_ticks < 0 {
            return Err(bad(
                "strategy.momentum.qty",
                "qty must be > 0 and slip_ticks ≥ 0".into(),
            ));
        }
        let r = &self.risk;
        if r.max_order_qty <= 0 || r.position_limit <= 0 || r.max_open_orders == 0 || r.max_open_orders > 1024 {
            return Err(bad(
                "risk",
                "max_order_qty, position_limit > 0; max_open_orders in 1..=1024".into(),
            ));
        }
        for (key, v) in [
            ("risk.max_gross", r.max_gross),
            ("risk.orders_per_sec", r.orders_per_sec),
            ("risk.reduce_only_drawdown", r.reduce_only_drawdown),
            ("risk.halt_drawdown", r.halt_drawdown),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(bad(key, format!("{v} must be a positive number")));
            }
        }
        if r.order_burst == 0 {
            return Err(bad("risk.order_burst", "must be > 0".into()));
        }
        if r.halt_drawdown < r.reduce_only_drawdown {
            return Err(bad("risk.halt_drawdown", "must be ≥ reduce_only_drawdown".into()));
        }
        if !(r.max_notional > 0.0 && r.max_notional.is_finite()) {
            return Err(bad("risk.max_notional", "must be a positive number".into()));
        }
        if self.diary.markout_events == 0 {
            return Err(bad("diary.markout_events", "must be > 0".into()));
        }
        let g = &self.gen;
        if !(g.rate_per_sec > 0.0 && g.rate_per_sec.is_finite()) {
            return Err(bad("gen.rate_per_sec", "must be a positive number".into()));
        }
        for (key, p) in [
            ("gen.adversarial.crossed_prob", g.adversarial.crossed_prob),
            ("gen.adversarial.bad_print_prob", g.adversarial.bad_print_prob),
            ("gen.adversarial.garbage_prob", g.adversarial.garbage_prob),
            ("gen.adversarial.halt_prob", g.adversarial.halt_prob),
            ("gen.regime_switch_prob", g.regime_switch_prob),
            ("gen.burst_prob", g.burst_prob),
            ("gen.gap_prob", g.gap_prob),
            ("gen.market_order_frac", g.market_order_frac),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(bad(key, format!("{p} is not a probability in [0, 1]")));
            }
        }
        if g.sigma_ticks.iter().any(|s| !(*s >= 0.0 && s.is_finite()))
            || g.mean_order_lots < 1.0
            || g.target_depth_orders == 0
        {
            return Err(bad(
                "gen",
                "sigma_ticks ≥ 0, mean_order_lots ≥ 1, target_depth_orders > 0".into(),
            ));
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
        ConfigError::Parse {
            path: origin.to_path_buf(),
            line,
            column,
            message: e.to_string(),
        }
    })
}

impl BeliefModel {
    /// Checks shapes: 24 means and non-zero scales, 1..=64 units of 24 weights, one
    /// readout weight per unit, query rows of one weight per unit, three keys of the
    /// query's dimension; every number finite.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let n = crate::records::N_FEATURES;
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: origin.to_path_buf(),
            key: key.to_string(),
            message,
        };
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
