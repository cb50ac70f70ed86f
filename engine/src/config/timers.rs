//! The `timers` section: the housekeeping tick ingest injects.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Timers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimerConfig {
    /// Period of the housekeeping tick in nanoseconds of control time.
    #[schemars(range(min = 1_000, max = 3_600_000_000_000_i64))]
    pub tick_ns: u64,
}
