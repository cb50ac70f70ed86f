//! The `session` section: the FIX identity and logon of the engine's session.

use super::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
