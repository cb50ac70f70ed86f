//! What the core is parameterised by: one plain struct per area, and
//! [`CoreParams`], all of them together, which the loader builds once from a
//! validated configuration (`Config::core_params`).
//!
//! The stages take these, never the configuration itself: the core knows nothing
//! of files, YAML, environment variables or validation. The structs derive
//! `serde` and `schemars` so that the configuration file maps onto them and its
//! schema documents them, and carry no behaviour beyond that.

pub mod belief;
pub mod flags;
pub mod risk;
pub mod router;
pub mod sensory;
pub mod strategy;

pub use belief::{AttentionModel, BeliefModel, BeliefUnit, DriftConfig, DriftSignal, RegimeConfig};
pub use flags::Flags;
pub use risk::{DiaryConfig, FeeSchedule, RiskConfig};
pub use router::{AttentionMode, ExplorationConfig, FastWeightsConfig, RouterConfig};
pub use sensory::{BookConfig, SensoryConfig};
pub use strategy::{
    MarketMakingConfig, MeanReversionConfig, MomentumConfig, PolicyChoice, PolicyName, RegimeTable, StrategyConfig,
    TopologyName,
};

use crate::records::InstrumentSpec;

/// The FIX identity the encode stage writes into every order template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixIdentity {
    /// BeginString (tag 8): `FIX.4.4` or `FIX.4.2`.
    pub begin_string: String,
    /// SenderCompID (tag 49).
    pub sender_comp_id: String,
    /// TargetCompID (tag 56).
    pub target_comp_id: String,
}

/// The belief stage's parameters: how many units it keeps, and its model.
#[derive(Clone, Debug, PartialEq)]
pub struct BeliefParams {
    /// Units kept (top-k), 1..=8.
    pub k: u8,
    /// The emitter's model (loaded from the weights file).
    pub model: BeliefModel,
    /// Regime FSM thresholds.
    pub regime: RegimeConfig,
    /// Drift sentry.
    pub drift: DriftConfig,
    /// Whether the emitter runs (`belief.enabled`).
    pub enabled: bool,
}

/// Everything the core's stages read, built once at load time.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreParams {
    /// Instruments, by index = instrument id.
    pub instruments: Vec<InstrumentSpec>,
    /// The FIX identity of the order templates.
    pub fix: FixIdentity,
    /// Period of the housekeeping timer, ns of control time.
    pub tick_ns: u64,
    /// Book shape.
    pub book: BookConfig,
    /// Features.
    pub sensory: SensoryConfig,
    /// Belief layer.
    pub belief: BeliefParams,
    /// Policies and the regime table.
    pub strategy: StrategyConfig,
    /// Router extensions.
    pub router: RouterConfig,
    /// Pre-trade risk limits.
    pub risk: RiskConfig,
    /// Decision diary.
    pub diary: DiaryConfig,
    /// Feature flags.
    pub flags: Flags,
    /// Hash of the running policies' canonical encoding (strategy, router, flags),
    /// carried by every diary record.
    pub policy_hash: u64,
    /// Kills and halts cancel in one OrderMassCancelRequest (`venue.mass_cancel`).
    pub mass_cancel: bool,
}
