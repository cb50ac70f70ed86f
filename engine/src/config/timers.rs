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
    /// The housekeeping tick's off switch: `false` injects no timer at all (a
    /// backtest of a strategy that needs none). What the tick drives then
    /// stops: orders are not aged out by `max_order_age_ns`, an instrument
    /// whose data stops is not marked stale by time, and the diary's markouts
    /// advance on market data only.
    #[serde(default = "on", skip_serializing_if = "is_on")]
    pub enabled: bool,
}

fn on() -> bool {
    true
}

fn is_on(v: &bool) -> bool {
    *v
}
