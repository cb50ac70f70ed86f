//! Parameters of the built-in policies and the regime table that arbitrates them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which policy runs, and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Regime → policy table (used unless `flags.linear_attention`).
    pub regime_table: RegimeTable,
    /// Momentum (EMA-cross) parameters.
    pub momentum: MomentumConfig,
    /// Market-making parameters.
    pub market_making: MarketMakingConfig,
    /// Mean-reversion parameters.
    pub mean_reversion: MeanReversionConfig,
}

/// What runs in each regime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegimeTable {
    /// Before the FSM has classified anything.
    pub unclassified: PolicyChoice,
    /// Calm.
    pub calm: PolicyChoice,
    /// Trending.
    pub trending: PolicyChoice,
    /// Volatile.
    pub volatile: PolicyChoice,
    /// Halted.
    pub halted: PolicyChoice,
}

impl RegimeTable {
    /// The entries indexed by regime code (`Regime as usize`: unclassified,
    /// calm, trending, volatile, halted).
    pub fn by_regime(&self) -> [PolicyChoice; 5] {
        [self.unclassified, self.calm, self.trending, self.volatile, self.halted]
    }
}

/// A policy and its execution topology, or nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyChoice {
    /// The policy.
    pub policy: PolicyName,
    /// How it is worked.
    pub topology: TopologyName,
}

/// Built-in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// EMA-cross momentum.
    Momentum,
    /// Two-sided quoting around the microprice with inventory skew.
    MarketMaking,
    /// Fade deviations from the long EMA.
    MeanReversion,
    /// Trade nothing (and cancel what is working).
    None,
}

/// Execution topology as named in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopologyName {
    /// Rest at our touch.
    Passive,
    /// Cross the spread.
    Aggressive,
    /// Market orders (directional policies); quoting policies treat it as aggressive.
    Market,
}

/// EMA-cross momentum policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    /// Fast EMA span in mid updates (alpha = 2/(n+1)).
    #[schemars(range(min = 1, max = 100_000))]
    pub fast: u32,
    /// Slow EMA span in mid updates; trading starts once it has seen this many.
    #[schemars(range(min = 2, max = 1_000_000))]
    pub slow: u32,
    /// Target position magnitude in quantity units.
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub qty: i64,
    /// Aggressive orders cross this many ticks beyond the far touch.
    #[schemars(range(min = 0, max = 1_000_000))]
    pub slip_ticks: i64,
    /// A working order older than this (control time) is re-priced or cancelled.
    #[schemars(range(min = 0, max = 86_400_000_000_000_i64))]
    pub max_order_age_ns: u64,
}

/// Market making.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketMakingConfig {
    /// Quote size.
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub qty: i64,
    /// Half spread around the microprice, in ticks (passive topology; aggressive joins the touch).
    #[schemars(range(min = 0, max = 1_000_000))]
    pub half_spread_ticks: i64,
    /// Quotes shift by this many ticks per `qty` of inventory, against the inventory.
    #[schemars(range(min = 0.0, max = 1_000_000.0))]
    pub skew_ticks_per_qty: f64,
    /// No quote that would grow |inventory| beyond this.
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub max_inventory: i64,
    /// Requote when the desired price is this many ticks from the working one.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub requote_ticks: i64,
}

/// Mean reversion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeanReversionConfig {
    /// Target position magnitude.
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub qty: i64,
    /// Enter when |mid − EMA_LONG| exceeds this many volatility units.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub entry_z: f64,
    /// Flatten once it is back inside this many.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub exit_z: f64,
}
