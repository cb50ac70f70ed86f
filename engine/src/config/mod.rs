//! The one typed configuration: what a YAML file says, loaded, validated and
//! encoded canonically.
//!
//! Every command that runs the pipeline takes `--config FILE` (default: the
//! embedded `configs/sim.yaml`). One file per section; the sections the core
//! reads are the core's own parameter types ([`crate::core::params`]), which
//! the configuration composes; [`Config::core_params`] hands them to the core.
//!
//! - [`load`]: reading a file (and its weights file), the embedded defaults,
//!   and errors with file, line, column and key.
//! - [`validate`]: the schema's ranges, then rules that relate keys.
//! - [`canonical`]: foxtrot's canonical encoding, behind every config and policy
//!   hash and the text journalled with a run.
//! - [`schema`]: the JSON Schema derived from the structs; [`docs`]: the
//!   reference page rendered from it; [`locate`]: key paths → lines.
//! - [`secret`]: values that are never printed, logged or journalled.
//! - sections: [`session`], [`timers`], [`belief`], [`venue`], [`gen`],
//!   [`runtime`], [`feed`] (with [`xdp`] and [`busy_poll`]), [`fill_model`]; the core's sections are re-exported from [`crate::core::params`].

pub mod belief;
pub mod busy_poll;
pub mod canonical;
pub mod docs;
pub mod feed;
pub mod fill_model;
pub mod gen;
pub mod load;
pub mod locate;
pub mod overrides;
pub mod runtime;
pub mod schema;
pub mod secret;
pub mod session;
pub mod timers;
pub mod validate;
pub mod venue;
pub mod xdp;

pub use crate::core::params::{
    AttentionMode, AttentionModel, BeliefModel, BeliefUnit, BookConfig, CoreParams, DiaryConfig, DriftConfig,
    DriftSignal, ExplorationConfig, FastWeightsConfig, FeeSchedule, Flags, MarketMakingConfig, MeanReversionConfig,
    MomentumConfig, PolicyChoice, PolicyName, RegimeConfig, RegimeTable, RiskConfig, RouterConfig, SensoryConfig,
    StrategyConfig, TopologyName,
};
pub use belief::BeliefConfig;
pub use busy_poll::BusyPollConfig;
pub use feed::FeedConfig;
pub use fill_model::{FillModelConfig, LatencyModel, QueueModel};
pub use gen::{AdversarialConfig, GenConfig};
pub use load::{BACKTEST_ORIGIN, BACKTEST_YAML, DEFAULT_SIM_YAML, DEFAULT_WEIGHTS_YAML, EMBEDDED_ORIGIN};
pub use runtime::{Backpressure, Layout, RuntimeConfig, StageName, WaitStrategy};
pub use secret::Secret;
pub use session::{SessionChecks, SessionConfig};
pub use timers::TimerConfig;
pub use venue::{AcceptorSession, MdFormat, VenueApplication, VenueConfig};
pub use xdp::{XdpMode, XdpSection, XdpZeroCopy};

use crate::core::params::{BeliefParams, FixIdentity};
use crate::records::InstrumentSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Instruments, by index = instrument id.
    #[schemars(length(min = 1, max = 4096))]
    pub instruments: Vec<InstrumentSpec>,
    /// FIX session identity used by the encoder.
    pub session: SessionConfig,
    /// Control-time timers injected by ingest.
    pub timers: TimerConfig,
    /// Book shape.
    pub book: BookConfig,
    /// Feature computation.
    pub sensory: SensoryConfig,
    /// Belief layer: emitter weights, regime FSM, drift sentry.
    pub belief: BeliefConfig,
    /// Policy selection and parameters.
    pub strategy: StrategyConfig,
    /// Router: attention, fast weights, exploration (each behind its flag).
    pub router: RouterConfig,
    /// Pre-trade risk limits.
    pub risk: RiskConfig,
    /// Decision diary settings.
    pub diary: DiaryConfig,
    /// Simulated venue settings.
    pub venue: VenueConfig,
    /// Market-data generator settings.
    pub gen: GenConfig,
    /// Where `foxtrot run` takes its market data from, when not from the
    /// simulator or `venue.market_data`: an exchange feed, a feed handler's ring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<FeedConfig>,
    /// Feature flags (all off by default).
    #[serde(default)]
    pub flags: Flags,
    /// Threads, rings, waiting, back-pressure and live statistics (`foxtrot run`).
    /// Not part of the decisions: every layout produces the same outputs.
    #[serde(default)]
    pub runtime: RuntimeConfig,
}

impl Config {
    /// The loaded belief model (always present after loading).
    pub fn model(&self) -> &BeliefModel {
        self.belief
            .model
            .as_ref()
            .expect("the loader always fills in the model")
    }

    /// The core's parameters, built from this (validated) configuration.
    pub fn core_params(&self) -> CoreParams {
        CoreParams {
            instruments: self.instruments.clone(),
            fix: FixIdentity {
                begin_string: self.session.begin_string.clone(),
                sender_comp_id: self.session.sender_comp_id.clone(),
                target_comp_id: self.session.target_comp_id.clone(),
            },
            tick_ns: self.timers.tick_ns,
            book: self.book.clone(),
            sensory: self.sensory.clone(),
            belief: BeliefParams {
                k: self.belief.k,
                model: self.model().clone(),
                regime: self.belief.regime.clone(),
                drift: self.belief.drift.clone(),
                enabled: self.belief.enabled,
            },
            strategy: self.strategy.clone(),
            router: self.router.clone(),
            risk: self.risk.clone(),
            diary: self.diary.clone(),
            flags: self.flags.clone(),
            policy_hash: self.policy_hash(),
            mass_cancel: self.venue.mass_cancel,
        }
    }

    /// The configuration's canonical text ([`canonical`]): what is hashed, and
    /// what a run journals as its first record (it loads back as YAML).
    pub fn canonical_text(&self) -> String {
        canonical::encode(self)
    }

    /// Hash of the canonical text (16 hex digits): what every report prints to
    /// say which configuration produced it.
    pub fn config_hash(&self) -> String {
        format!("{:016x}", canonical::hash(&self.canonical_text()))
    }

    /// Hash of the running policies' canonical encoding: `strategy`, `router`
    /// and `flags`, concatenated (see [`canonical`]).
    pub fn policy_hash(&self) -> u64 {
        let text = format!(
            "{}{}{}",
            canonical::encode(&self.strategy),
            canonical::encode(&self.router),
            canonical::encode(&self.flags)
        );
        canonical::hash(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// A path in the shipped `configs/` folder, so the weights file resolves.
    fn beside_configs(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs").join(name)
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::default_sim();
        assert!(!c.instruments.is_empty());
        assert!(!c.flags.fast_weights && !c.flags.linear_attention && !c.flags.exploration);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = DEFAULT_SIM_YAML.replace("tick_ns:", "tick_nz:");
        let e = Config::from_yaml(&text, &beside_configs("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tick_nz"), "{e}");
        assert!(e.contains("configs/x.yaml:"), "{e}");
        let line = DEFAULT_SIM_YAML.lines().position(|l| l.contains("tick_ns:")).unwrap() + 1;
        assert!(e.contains(&format!(":{line}:")), "expected line {line}: {e}");
    }

    #[test]
    fn out_of_range_names_key() {
        let text = DEFAULT_SIM_YAML.replace("gap_prob: ", "gap_prob: 7 #");
        let e = Config::from_yaml(&text, &beside_configs("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("gen.gap_prob"), "{e}");
    }

    #[test]
    fn an_xdp_feed_is_checked_against_its_source_and_frames() {
        let feed = |src: &str, frames: u32| {
            format!(
                "{DEFAULT_SIM_YAML}\nfeed:\n  source: \"{src}\"\n  xdp:\n    interface: eth1\n    frames: {frames}\n"
            )
        };
        Config::from_yaml(&feed("mold:10.0.0.2:26400", 4096), &beside_configs("x.yaml")).expect("a valid AF_XDP feed");
        let e = Config::from_yaml(&feed("shm:/dev/shm/r", 4096), &beside_configs("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("feed.xdp") && e.contains("UDP feeds"), "{e}");
        let e = Config::from_yaml(&feed("mold:10.0.0.2:26400", 3000), &beside_configs("x.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("feed.xdp.frames") && e.contains("power of two"), "{e}");
    }

    #[test]
    fn canonical_text_is_stable_and_sensitive() {
        let a = Config::default_sim();
        let mut b = a.clone();
        assert_eq!(a.canonical_text(), b.canonical_text());
        b.strategy.momentum.fast += 1;
        assert_ne!(
            canonical::hash(&a.canonical_text()),
            canonical::hash(&b.canonical_text())
        );
    }
}
