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
    /// Fees and rebates per instrument (none: no fees). Charged on every fill
    /// into equity (so PnL, drawdown and the brake see them) and reported per
    /// instrument; see [`FeeSchedule`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<FeeSchedule>,
}

/// One instrument's fees: `bps` of the fill's notional plus `per_unit` per unit
/// of quantity, at the maker rate when the fill added liquidity (the venue said
/// so: FIX LastLiquidityInd 851 = 1, or the backtest venue's resting fills) and
/// at the taker rate otherwise (taking, or not said: the conservative choice).
/// A negative rate is a rebate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    /// The instrument's symbol.
    pub symbol: String,
    /// Basis points of notional on fills that added liquidity (negative: a rebate).
    #[serde(default)]
    #[schemars(range(min = -100.0, max = 100.0))]
    pub maker_bps: f64,
    /// Basis points of notional on fills that took liquidity (or did not say).
    #[serde(default)]
    #[schemars(range(min = -100.0, max = 100.0))]
    pub taker_bps: f64,
    /// Currency per unit of quantity, on every fill (negative: a rebate).
    #[serde(default)]
    #[schemars(range(min = -1000.0, max = 1000.0))]
    pub per_unit: f64,
}

/// Decision diary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiaryConfig {
    /// Markouts are taken this many inputs (on any instrument) after the decision.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub markout_events: u32,
}
