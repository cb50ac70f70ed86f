//! Parameters of the decide stage's risk checks and its decision diary.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Pre-trade risk limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Risk template id, recorded in every diary record.
    pub template_id: u16,
    /// Largest gross exposure Σ|position × mark| + working notional, currency units.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1e15))]
    pub max_gross: f64,
    /// Order-rate throttle: sustained orders per second of control time (cancels exempt).
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.001, max = 1_000_000.0))]
    pub orders_per_sec: f64,
    /// Order-rate throttle: burst size (bucket capacity).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub order_burst: u32,
    /// Drawdown (currency) from the intraday equity peak at which only risk-reducing
    /// orders pass.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1e15))]
    pub reduce_only_drawdown: f64,
    /// Drawdown at which no new order passes (cancels still do).
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1e15))]
    pub halt_drawdown: f64,
    /// Largest quantity of one order, in quantity units.
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub max_order_qty: i64,
    /// Largest notional of one order, in currency units.
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(min = 0.0, max = 1e15))]
    pub max_notional: f64,
    /// Allowed distance of a limit price from the reference (mid), in basis points.
    #[schemars(range(min = 1, max = 10_000))]
    pub price_band_bps: u32,
    /// Largest absolute position per instrument, counting working orders, in quantity units.
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub position_limit: i64,
    /// Largest number of open orders across instruments.
    #[schemars(range(min = 1, max = 1024))]
    pub max_open_orders: u32,
}

/// Decision diary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiaryConfig {
    /// Markouts are taken this many inputs (on any instrument) after the decision.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub markout_events: u32,
}
