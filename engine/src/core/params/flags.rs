//! Feature flags: each switches one optional behaviour of the core.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Feedback without waiting for a person: in the core, quiet periods after a
    /// drift alarm restore the halved order size automatically; in `foxtrot
    /// reflect`, a proposal the governance rule accepts for a run made under
    /// this configuration is promoted at once instead of waiting for
    /// `foxtrot policy sign`.
    #[serde(default)]
    pub auto_feedback: bool,
}
