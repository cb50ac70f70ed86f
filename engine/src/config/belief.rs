//! The `belief` section: the weights file the emitter's model is loaded from,
//! and the regime FSM and drift sentry parameters.

use crate::core::params::{BeliefModel, DriftConfig, RegimeConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// The emitter's off switch: `false` computes no belief units (the
    /// attention over the feature vector is skipped; the belief carries only
    /// the regime and its confidence), and so the drift sentry, which judges
    /// the emitter's predictions, has nothing to judge and stays silent. The
    /// regime FSM still runs: the regime table needs it.
    #[serde(default = "on", skip_serializing_if = "is_on")]
    pub enabled: bool,
}

fn on() -> bool {
    true
}

fn is_on(v: &bool) -> bool {
    *v
}
