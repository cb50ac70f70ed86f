//! Parameters of the router's extensions: attention, fast weights, exploration.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    #[schemars(range(min = 0.0, max = 1.0))]
    pub eta: f64,
    /// Frobenius-norm bound of the fast weights.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1_000_000.0))]
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
    #[schemars(range(min = 1, max = 1_000_000))]
    pub every: u32,
}
