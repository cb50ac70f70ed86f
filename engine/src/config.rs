//! The one typed configuration, loaded from YAML.
//!
//! Every command that runs the pipeline takes `--config FILE` (default
//! `configs/sim.yaml`). Unknown keys are rejected everywhere; errors name the key
//! path and the line and column where the YAML parser could place them.

use crate::records::InstrumentSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Errors from loading or validating a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config {path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML did not parse into the schema (wrong type, unknown key, syntax).
    #[error("config {path}:{line}:{column}: {message}")]
    Parse {
        /// The file (or `<string>`).
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// The parser's message, which names the key.
        message: String,
    },
    /// A value parsed but is out of range or inconsistent.
    #[error("config {path}: {key}: {message}")]
    Invalid {
        /// The file (or `<string>`).
        path: PathBuf,
        /// Dotted key path, e.g. `risk.max_order_qty`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Instruments, by index = instrument id.
    pub instruments: Vec<InstrumentSpec>,
    /// FIX session identity used by the encoder.
    pub session: SessionConfig,
    /// Control-time timers injected by ingest.
    pub timers: TimerConfig,
    /// Book shape.
    pub book: BookConfig,
    /// Policy selection and parameters.
    pub strategy: StrategyConfig,
    /// Pre-trade risk limits.
    pub risk: RiskConfig,
    /// Decision diary settings.
    pub diary: DiaryConfig,
    /// Simulated venue settings.
    pub venue: VenueConfig,
    /// Market-data generator settings.
    pub gen: GenConfig,
    /// Feature flags (all off by default).
    #[serde(default)]
    pub flags: Flags,
}

/// FIX identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// BeginString (tag 8): `FIX.4.4` or `FIX.4.2`.
    pub begin_string: String,
    /// SenderCompID (tag 49).
    pub sender_comp_id: String,
    /// TargetCompID (tag 56).
    pub target_comp_id: String,
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimerConfig {
    /// Period of the housekeeping tick in nanoseconds of control time.
    pub tick_ns: u64,
}

/// Book shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookConfig {
    /// Ladder window in ticks (rounded up to a power of two).
    pub window_ticks: usize,
}

/// Which policy runs, and its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Policy name; the spine ships `momentum`.
    pub policy: String,
    /// Momentum (EMA-cross) parameters.
    pub momentum: MomentumConfig,
}

/// Execution topology as named in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyName {
    /// Rest at our touch.
    Passive,
    /// Cross the spread.
    Aggressive,
}

/// EMA-cross momentum policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    /// Fast EMA span in mid updates (alpha = 2/(n+1)).
    pub fast: u32,
    /// Slow EMA span in mid updates; trading starts once it has seen this many.
    pub slow: u32,
    /// Target position magnitude in quantity units.
    pub qty: i64,
    /// How the target is worked.
    pub topology: TopologyName,
    /// Aggressive orders cross this many ticks beyond the far touch.
    pub slip_ticks: i64,
    /// A working order older than this (control time) is re-priced or cancelled.
    pub max_order_age_ns: u64,
}

/// Pre-trade risk limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest quantity of one order, in quantity units.
    pub max_order_qty: i64,
    /// Largest notional of one order, in currency units.
    pub max_notional: f64,
    /// Allowed distance of a limit price from the reference (mid), in basis points.
    pub price_band_bps: u32,
    /// Largest absolute position per instrument, counting working orders, in quantity units.
    pub position_limit: i64,
    /// Largest number of open orders across instruments.
    pub max_open_orders: u32,
}

/// Decision diary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiaryConfig {
    /// Markouts are taken this many inputs (on any instrument) after the decision.
    pub markout_events: u32,
}

/// Simulated venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Order-entry latency: an order sent at control time t reaches the matching
    /// engine at t + this.
    pub entry_latency_ns: u64,
    /// Execution reports reach the engine this long after the venue produced them.
    pub ack_latency_ns: u64,
    /// Market data reaches the engine this long after the venue published it.
    pub md_latency_ns: u64,
}

/// Deterministic market-data generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenConfig {
    /// RNG seed; the same seed gives the same stream.
    pub seed: u64,
    /// Number of market-data events to produce.
    pub events: u64,
    /// Control time of the first event, ns since the epoch.
    pub start_ns: u64,
    /// Mean crowd actions per second per instrument in the calm regime.
    pub rate_per_sec: f64,
    /// Mean number of resting crowd orders per instrument the flow aims for.
    pub target_depth_orders: u32,
    /// Fair-value volatility per action in ticks, calm and volatile regime.
    pub sigma_ticks: [f64; 2],
    /// Probability per action of switching volatility regime.
    pub regime_switch_prob: f64,
    /// Probability per action of starting a burst (20× rate for ~200 actions).
    pub burst_prob: f64,
    /// Probability per action of a feed gap (0.2–2 s of silence).
    pub gap_prob: f64,
    /// Fraction of actions that are aggressive (market) orders.
    pub market_order_frac: f64,
    /// Mean crowd order size in lots.
    pub mean_order_lots: f64,
}

/// Feature flags; part of the journalled configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Automatic feedback from markouts.
    #[serde(default)]
    pub auto_feedback: bool,
}

/// The default configuration shipped with foxtrot (`configs/sim.yaml`), embedded so
/// `foxtrot sim` runs anywhere.
pub const DEFAULT_SIM_YAML: &str = include_str!("../../configs/sim.yaml");

impl Config {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_yaml(&text, path)
    }

    /// The embedded default configuration.
    pub fn default_sim() -> Config {
        Self::from_yaml(DEFAULT_SIM_YAML, Path::new("<embedded configs/sim.yaml>"))
            .expect("the embedded default config is valid (tested)")
    }

    /// Parses and validates YAML text; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            ConfigError::Parse {
                path: origin.to_path_buf(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Checks ranges and consistency.
    pub fn validate(&self, origin: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: origin.to_path_buf(),
            key: key.to_string(),
            message,
        };
        if self.instruments.is_empty() {
            return Err(bad("instruments", "at least one instrument is required".into()));
        }
        for (i, ins) in self.instruments.iter().enumerate() {
            let k = |f: &str| format!("instruments[{i}].{f}");
            if ins.symbol.is_empty()
                || ins.symbol.len() > crate::records::fixed::MAX_SYMBOL_LEN
                || !ins.symbol.bytes().all(|b| b.is_ascii_graphic() && b != b'|')
            {
                return Err(bad(
                    &k("symbol"),
                    format!("{:?} must be 1..=12 printable ASCII bytes", ins.symbol),
                ));
            }
            if ins.price_decimals > 9 || ins.qty_decimals > 9 {
                return Err(bad(&k("price_decimals"), "decimals must be at most 9".into()));
            }
            if ins.tick <= 0 || ins.lot <= 0 {
                return Err(bad(&k("tick"), "tick and lot must be > 0".into()));
            }
            if ins.ref_price <= 0 || ins.ref_price % ins.tick != 0 {
                return Err(bad(
                    &k("ref_price"),
                    format!("{} must be > 0 and a multiple of tick {}", ins.ref_price, ins.tick),
                ));
            }
        }
        if self.session.begin_string != "FIX.4.4" && self.session.begin_string != "FIX.4.2" {
            return Err(bad(
                "session.begin_string",
                format!("{:?}: expected FIX.4.4 or FIX.4.2", self.session.begin_string),
            ));
        }
        for (key, v) in [
            ("session.sender_comp_id", &self.session.sender_comp_id),
            ("session.target_comp_id", &self.session.target_comp_id),
        ] {
            if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_graphic() && b != b'|') {
                return Err(bad(key, format!("{v:?} must be 1..=32 printable ASCII bytes")));
            }
        }
        if self.timers.tick_ns == 0 {
            return Err(bad("timers.tick_ns", "must be > 0".into()));
        }
        if !(64..=1 << 20).contains(&self.book.window_ticks) {
            return Err(bad(
                "book.window_ticks",
                format!("{} not in 64..=1048576", self.book.window_ticks),
            ));
        }
        if self.strategy.policy != "momentum" {
            return Err(bad(
                "strategy.policy",
                format!("{:?}: known policies: momentum", self.strategy.policy),
            ));
        }
        let m = &self.strategy.momentum;
        if m.fast == 0 || m.slow <= m.fast {
            return Err(bad(
                "strategy.momentum.slow",
                format!("need 0 < fast ({}) < slow ({})", m.fast, m.slow),
            ));
        }
        if m.qty <= 0 || m.slip_ticks < 0 {
            return Err(bad(
                "strategy.momentum.qty",
                "qty must be > 0 and slip_ticks ≥ 0".into(),
            ));
        }
        let r = &self.risk;
        if r.max_order_qty <= 0 || r.position_limit <= 0 || r.max_open_orders == 0 || r.max_open_orders > 1024 {
            return Err(bad(
                "risk",
                "max_order_qty, position_limit > 0; max_open_orders in 1..=1024".into(),
            ));
        }
        if !(r.max_notional > 0.0 && r.max_notional.is_finite()) {
            return Err(bad("risk.max_notional", "must be a positive number".into()));
        }
        if self.diary.markout_events == 0 {
            return Err(bad("diary.markout_events", "must be > 0".into()));
        }
        let g = &self.gen;
        if !(g.rate_per_sec > 0.0 && g.rate_per_sec.is_finite()) {
            return Err(bad("gen.rate_per_sec", "must be a positive number".into()));
        }
        for (key, p) in [
            ("gen.regime_switch_prob", g.regime_switch_prob),
            ("gen.burst_prob", g.burst_prob),
            ("gen.gap_prob", g.gap_prob),
            ("gen.market_order_frac", g.market_order_frac),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(bad(key, format!("{p} is not a probability in [0, 1]")));
            }
        }
        if g.sigma_ticks.iter().any(|s| !(*s >= 0.0 && s.is_finite()))
            || g.mean_order_lots < 1.0
            || g.target_depth_orders == 0
        {
            return Err(bad(
                "gen",
                "sigma_ticks ≥ 0, mean_order_lots ≥ 1, target_depth_orders > 0".into(),
            ));
        }
        Ok(())
    }

    /// Canonical text of the configuration (YAML with fields in declaration order),
    /// the input to configuration and policy hashes.
    pub fn canonical_text(&self) -> String {
        canonical_yaml(self)
    }
}

/// Serialises through serde_yaml_ng into a YAML string; field order is the struct's
/// declaration order, so the text is canonical for a given config.
fn canonical_yaml<T: Serialize>(v: &T) -> String {
    serde_yaml_ng::to_string(v).expect("config structs always serialise")
}

/// Hash of a canonical text, for policy and config hashes.
pub fn hash_text(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::default_sim();
        assert!(!c.instruments.is_empty());
        assert!(!c.flags.fast_weights && !c.flags.linear_attention && !c.flags.exploration);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = DEFAULT_SIM_YAML.replace("tick_ns:", "tick_nz:");
        let e = Config::from_yaml(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(e.contains("tick_nz"), "{e}");
        assert!(e.starts_with("config x.yaml:"), "{e}");
        let line = DEFAULT_SIM_YAML.lines().position(|l| l.contains("tick_ns:")).unwrap() + 1;
        assert!(e.contains(&format!(":{line}:")), "expected line {line}: {e}");
    }

    #[test]
    fn out_of_range_names_key() {
        let text = DEFAULT_SIM_YAML.replace("gap_prob: ", "gap_prob: 7 #");
        let e = Config::from_yaml(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(e.contains("gen.gap_prob"), "{e}");
    }

    #[test]
    fn canonical_text_is_stable_and_sensitive() {
        let a = Config::default_sim();
        let mut b = a.clone();
        assert_eq!(a.canonical_text(), b.canonical_text());
        b.strategy.momentum.fast += 1;
        assert_ne!(hash_text(&a.canonical_text()), hash_text(&b.canonical_text()));
    }
}
