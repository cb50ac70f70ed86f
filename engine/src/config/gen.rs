//! The `gen` section: the deterministic crowd that generates market data, and
//! the adversarial corruption injected into it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Deterministic market-data generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenConfig {
    /// RNG seed; the same seed gives the same stream.
    pub seed: u64,
    /// Number of market-data events to produce.
    #[schemars(range(min = 1, max = 100_000_000_000_i64))]
    pub events: u64,
    /// Control time of the first event, ns since the epoch.
    #[schemars(range(min = 0, max = 4_000_000_000_000_000_000_i64))]
    pub start_ns: u64,
    /// Mean crowd actions per second per instrument in the calm regime.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.001, max = 10_000_000.0))]
    pub rate_per_sec: f64,
    /// Mean number of resting crowd orders per instrument the flow aims for.
    #[schemars(range(min = 1, max = 100_000))]
    pub target_depth_orders: u32,
    /// Fair-value volatility per action in ticks, calm and volatile regime.
    #[schemars(inner(range(min = 0)))]
    pub sigma_ticks: [f64; 2],
    /// Probability per action of switching volatility regime.
    #[schemars(range(min = 0, max = 1))]
    pub regime_switch_prob: f64,
    /// Fair-value drift per action in ticks (a trending market when non-zero;
    /// negative drifts down). Omitted when zero.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = -1000.0, max = 1000.0))]
    pub drift_ticks: f64,
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
    #[schemars(range(min = 1.0, max = 1_000_000.0))]
    pub mean_order_lots: f64,
    /// Adversarial feed corruption (off by default).
    #[serde(default)]
    pub adversarial: AdversarialConfig,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
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
    #[schemars(range(min = 0, max = 86_400_000_000_000_i64))]
    pub halt_ns: u64,
}
