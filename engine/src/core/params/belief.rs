//! Parameters of the belief stage: the emitter's model, the regime FSM's
//! thresholds and the drift sentry's detectors.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Readout: predicted next mid return in bps = Σ `readout[u] · unit[u]` (one per unit).
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
    /// The classifier's off switch: `false` leaves every instrument
    /// `unclassified` (its `strategy.regime_table` entry decides) except while
    /// it is halted (stale), records no calm/trending/volatile transitions, and
    /// spares sensory the return, volatility and trend features when nothing
    /// else reads them — a backtest of a strategy that ignores the regime.
    #[serde(default = "enabled", skip_serializing_if = "is_enabled")]
    pub enabled: bool,
    /// Volatile when realised vol (bps per update) rises above this…
    #[schemars(range(min = 0.0, max = 10_000.0))]
    pub vol_enter_bps: f64,
    /// …and no longer once it falls below this.
    #[schemars(range(min = 0.0, max = 10_000.0))]
    pub vol_exit_bps: f64,
    /// Trending when |TREND_Z| rises above this…
    #[schemars(range(min = 0.0, max = 100.0))]
    pub trend_enter: f64,
    /// …and no longer once it falls below this.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub trend_exit: f64,
    /// Minimum mid updates spent in a regime before leaving it (halts excepted).
    #[schemars(range(min = 0, max = 1_000_000))]
    pub min_dwell_updates: u32,
}

/// Drift sentry parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// The sentry's off switch: `false` raises no alarm and never scales order
    /// size (a backtest of a strategy alone, say).
    #[serde(default = "enabled", skip_serializing_if = "is_enabled")]
    pub enabled: bool,
    /// Signal monitored: `prediction_error` (|realised − predicted next return|, bps)
    /// or `abs_return` (|return|, bps).
    pub signal: DriftSignal,
    /// Samples used to estimate the reference mean before detection starts.
    #[schemars(range(min = 0, max = 1_000_000))]
    pub warmup: u32,
    /// Page–Hinkley tolerance δ.
    #[schemars(range(min = 0.0, max = 1_000_000.0))]
    pub ph_delta: f64,
    /// Page–Hinkley threshold λ.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1_000_000_000.0))]
    pub ph_lambda: f64,
    /// CUSUM slack k.
    #[schemars(range(min = 0.0, max = 1_000_000.0))]
    pub cusum_k: f64,
    /// CUSUM threshold h.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1_000_000_000.0))]
    pub cusum_h: f64,
}

fn enabled() -> bool {
    true
}

fn is_enabled(v: &bool) -> bool {
    *v
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
