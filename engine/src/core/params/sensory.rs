//! Parameters of the sensory stage: the book's shape and the features.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    #[schemars(range(min = 1, max = 1_000_000))]
    pub long_span: u32,
    /// Span of the EWMA of squared returns (realised volatility).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub vol_span: u32,
    /// Span of the trade-flow EWMAs, in executions.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub flow_span: u32,
    /// Span of the imbalance-change mean/variance behind the surge z-score.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub surge_span: u32,
    /// Levels in the top-N imbalance and depth features.
    #[schemars(range(min = 1, max = 64))]
    pub depth_levels: u32,
    /// Mid updates after the open (or a halt) that count as the opening auction.
    #[schemars(range(min = 0, max = 1_000_000))]
    pub auction_updates: u32,
    /// Per-batch decay of the sweep-risk probe, in (0, 1).
    #[schemars(extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub sweep_decay: f64,
    /// An instrument without market data this long (control time) is halted.
    #[schemars(range(min = 0, max = 86_400_000_000_000_i64))]
    pub stale_after_ns: u64,
    /// Compute every feature, read or not. By default the top-N depth group
    /// (`IMBALANCE_N`, `DEPTH_BID_N`, `DEPTH_ASK_N`, `IMB_SURGE_Z`,
    /// `SWEEP_RISK`: a walk of N book levels per side per update) is computed
    /// only when something reads it — a belief unit with a weight on one of
    /// them, or the drift sentry (its theory packets summarise them) — and
    /// reads 0 otherwise. No policy reads them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_features: bool,
}
