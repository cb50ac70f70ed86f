//! A strategy's genotype, its canonical text and hash, and the runtime
//! configuration (phenotype) it compiles into.
//!
//! A [`StrategyGenotype`] holds what evolution may change, and nothing else:
//!
//! - **features**: the feature slots the belief emitter reads (a set over the 24
//!   slots of `foxtrot_engine::core::sensory`). Compiling zeroes every belief
//!   unit's weight on the slots outside the set; the regime FSM and the
//!   policies read their own slots directly and are not affected. The belief
//!   reaches decisions through the drift sentry (order size) and, with
//!   `flags.linear_attention`, the policy choice.
//! - **topology**: the regime table — for each regime (unclassified, calm,
//!   trending, volatile, halted) a policy and how it is worked.
//! - **risk**: a risk template level over the base configuration's limits:
//!   0 the base's, 1 *tight* (position, order size, open orders, gross and the
//!   drawdown brakes halved, template id + 1), 2 *tighter* (quartered, + 2).
//! - **tunables**: the strategy parameters of [`TUNABLES`], integers in each
//!   one's unit (z-scores in tenths).
//!
//! # Canonical text
//!
//! One line per item, in this order, fields separated by one space:
//!
//! ```text
//! foxtrot-genotype 1
//! features MID,EMA_FAST,VOL_BPS              slot names, in slot order
//! regime unclassified momentum aggressive    five lines, in regime order
//! regime calm market_making passive
//! regime trending momentum aggressive
//! regime volatile mean_reversion passive
//! regime halted none passive
//! risk 0
//! set strategy.momentum.fast 20              one line per tunable, in table order
//! …
//! ```
//!
//! The genotype hash is the engine's canonical hash (the one config hashes
//! use) of this text, as 16 hex digits. [`StrategyGenotype::parse`] reads the
//! text back; `parse(text).text() == text` for every genotype.

use crate::Error;
use foxtrot_engine::config::canonical;
use foxtrot_engine::config::overrides::parse_with_sets;
use foxtrot_engine::config::{PolicyName, TopologyName};
use foxtrot_engine::core::sensory::FEATURE_NAMES;
use foxtrot_engine::records::N_FEATURES;
use foxtrot_engine::Config;
use serde_json::Value;
use std::path::Path;

fn bad(m: impl Into<String>) -> Error {
    Error::Evolve(m.into())
}

/// The regimes of the regime table, in table order.
pub const REGIMES: [&str; 5] = ["unclassified", "calm", "trending", "volatile", "halted"];

/// A strategy parameter evolution may change: its configuration key, its
/// domain and mutation step (in its unit), and its unit (10^-decimals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunable {
    /// The configuration key.
    pub key: &'static str,
    /// Smallest value allowed.
    pub min: i64,
    /// Largest value allowed.
    pub max: i64,
    /// A mutation moves the value by up to this many units each way.
    pub step: i64,
    /// Decimals of the unit: the value is `units / 10^decimals`.
    pub decimals: u32,
}

/// The tunables, in canonical order.
pub const TUNABLES: [Tunable; 7] = [
    Tunable {
        key: "strategy.momentum.fast",
        min: 2,
        max: 200,
        step: 6,
        decimals: 0,
    },
    Tunable {
        key: "strategy.momentum.slow",
        min: 10,
        max: 2000,
        step: 40,
        decimals: 0,
    },
    Tunable {
        key: "strategy.momentum.qty",
        min: 10,
        max: 500,
        step: 30,
        decimals: 0,
    },
    Tunable {
        key: "strategy.market_making.half_spread_ticks",
        min: 0,
        max: 8,
        step: 1,
        decimals: 0,
    },
    Tunable {
        key: "strategy.market_making.qty",
        min: 10,
        max: 300,
        step: 20,
        decimals: 0,
    },
    Tunable {
        key: "strategy.mean_reversion.entry_z",
        min: 20,
        max: 1000,
        step: 40,
        decimals: 1,
    },
    Tunable {
        key: "strategy.mean_reversion.exit_z",
        min: 0,
        max: 500,
        step: 20,
        decimals: 1,
    },
];

/// Highest risk template level.
pub const MAX_RISK_LEVEL: u8 = 2;

/// One row of the regime table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The policy.
    pub policy: PolicyName,
    /// How it is worked.
    pub topology: TopologyName,
}

/// What evolution changes (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategyGenotype {
    /// The feature slots the belief reads, one bit per slot.
    pub features: u32,
    /// The regime table, in [`REGIMES`] order.
    pub table: [Choice; 5],
    /// Risk template level, 0..=[`MAX_RISK_LEVEL`].
    pub risk: u8,
    /// The tunables' values, in [`TUNABLES`] order.
    pub tunables: [i64; TUNABLES.len()],
}

/// A policy's configuration word.
pub fn policy_word(p: PolicyName) -> &'static str {
    match p {
        PolicyName::Momentum => "momentum",
        PolicyName::MarketMaking => "market_making",
        PolicyName::MeanReversion => "mean_reversion",
        PolicyName::None => "none",
    }
}

/// A topology's configuration word.
pub fn topology_word(t: TopologyName) -> &'static str {
    match t {
        TopologyName::Passive => "passive",
        TopologyName::Aggressive => "aggressive",
        TopologyName::Market => "market",
    }
}

/// Every policy, in code order.
pub const POLICIES: [PolicyName; 4] = [
    PolicyName::Momentum,
    PolicyName::MarketMaking,
    PolicyName::MeanReversion,
    PolicyName::None,
];

/// Every topology, in code order.
pub const TOPOLOGIES: [TopologyName; 3] = [TopologyName::Passive, TopologyName::Aggressive, TopologyName::Market];

fn policy_of(w: &str) -> Option<PolicyName> {
    POLICIES.into_iter().find(|p| policy_word(*p) == w)
}

fn topology_of(w: &str) -> Option<TopologyName> {
    TOPOLOGIES.into_iter().find(|t| topology_word(*t) == w)
}

fn lookup<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(v, |v, k| v.get(k))
}

/// Every feature slot.
pub const ALL_FEATURES: u32 = (1u32 << N_FEATURES) - 1;

impl StrategyGenotype {
    /// The genotype of `cfg` as it stands: every feature the belief model
    /// weighs, its regime table, risk level 0 and its tunables. A tunable
    /// outside its domain is an error naming it.
    pub fn of(cfg: &Config) -> Result<StrategyGenotype, Error> {
        let model = cfg.model();
        let mut features = 0u32;
        for f in 0..N_FEATURES {
            if model.units.iter().any(|u| u.w.get(f).is_some_and(|w| *w != 0.0)) {
                features |= 1 << f;
            }
        }
        let t = &cfg.strategy.regime_table;
        let row = |c: &foxtrot_engine::config::PolicyChoice| Choice {
            policy: c.policy,
            topology: c.topology,
        };
        let v = serde_json::to_value(cfg).map_err(|e| bad(e.to_string()))?;
        let mut tunables = [0i64; TUNABLES.len()];
        for (slot, t) in tunables.iter_mut().zip(TUNABLES) {
            let x = lookup(&v, t.key)
                .and_then(Value::as_f64)
                .ok_or_else(|| bad(format!("{}: not in the configuration", t.key)))?;
            let units = (x * 10f64.powi(t.decimals as i32)).round();
            if units < t.min as f64 || units > t.max as f64 {
                return Err(bad(format!(
                    "{} = {x}: outside the domain evolution searches ({}..={} in units of 1e-{})",
                    t.key, t.min, t.max, t.decimals
                )));
            }
            *slot = units as i64;
        }
        Ok(StrategyGenotype {
            features,
            table: [
                row(&t.unclassified),
                row(&t.calm),
                row(&t.trending),
                row(&t.volatile),
                row(&t.halted),
            ],
            risk: 0,
            tunables,
        })
    }

    /// The canonical text (see the module docs).
    pub fn text(&self) -> String {
        let mut s = String::from("foxtrot-genotype 1\n");
        let names: Vec<&str> = (0..N_FEATURES)
            .filter(|f| self.features & (1 << f) != 0)
            .map(|f| FEATURE_NAMES[f])
            .collect();
        s.push_str(&format!("features {}\n", names.join(",")));
        for (r, c) in REGIMES.iter().zip(&self.table) {
            s.push_str(&format!(
                "regime {r} {} {}\n",
                policy_word(c.policy),
                topology_word(c.topology)
            ));
        }
        s.push_str(&format!("risk {}\n", self.risk));
        for (t, v) in TUNABLES.iter().zip(&self.tunables) {
            s.push_str(&format!("set {} {v}\n", t.key));
        }
        s
    }

    /// The genotype hash: 16 hex digits.
    pub fn hash(&self) -> String {
        format!("{:016x}", canonical::hash(&self.text()))
    }

    /// Reads a canonical text back; anything else is an error naming the line.
    pub fn parse(text: &str) -> Result<StrategyGenotype, Error> {
        let mut lines = text.lines().enumerate();
        let err = |n: usize, m: &str| bad(format!("genotype line {}: {m}", n + 1));
        let mut next = |want: &str| -> Result<(usize, Vec<String>), Error> {
            let (n, l) = lines
                .next()
                .ok_or_else(|| bad(format!("genotype: ends before its {want} line")))?;
            Ok((n, l.split(' ').map(str::to_string).collect()))
        };
        let (n, head) = next("header")?;
        if head != ["foxtrot-genotype", "1"] {
            return Err(err(n, "not `foxtrot-genotype 1`"));
        }
        let (n, f) = next("features")?;
        let mut features = 0u32;
        match f.as_slice() {
            [k, list] if k == "features" => {
                for name in list.split(',').filter(|s| !s.is_empty()) {
                    let i = FEATURE_NAMES
                        .iter()
                        .position(|x| *x == name)
                        .ok_or_else(|| err(n, &format!("no feature {name}")))?;
                    features |= 1 << i;
                }
            }
            _ => return Err(err(n, "want `features A,B,…`")),
        }
        let mut table = [Choice {
            policy: PolicyName::None,
            topology: TopologyName::Passive,
        }; 5];
        for (slot, r) in table.iter_mut().zip(REGIMES) {
            let (n, l) = next("regime")?;
            match l.as_slice() {
                [k, name, p, t] if k == "regime" && name == r => {
                    *slot = Choice {
                        policy: policy_of(p).ok_or_else(|| err(n, &format!("no policy {p}")))?,
                        topology: topology_of(t).ok_or_else(|| err(n, &format!("no topology {t}")))?,
                    }
                }
                _ => return Err(err(n, &format!("want `regime {r} POLICY TOPOLOGY`"))),
            }
        }
        let (n, l) = next("risk")?;
        let risk = match l.as_slice() {
            [k, v] if k == "risk" => v.parse::<u8>().ok().filter(|r| *r <= MAX_RISK_LEVEL),
            _ => None,
        }
        .ok_or_else(|| err(n, &format!("want `risk 0..={MAX_RISK_LEVEL}`")))?;
        let mut tunables = [0i64; TUNABLES.len()];
        for (slot, t) in tunables.iter_mut().zip(TUNABLES) {
            let (n, l) = next("set")?;
            *slot = match l.as_slice() {
                [k, key, v] if k == "set" && key == t.key => v.parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| err(n, &format!("want `set {} INTEGER`", t.key)))?;
        }
        if let Some((n, _)) = lines.next() {
            return Err(err(n, "text after the last tunable"));
        }
        let g = StrategyGenotype {
            features,
            table,
            risk,
            tunables,
        };
        if g.text() != text {
            return Err(bad(
                "genotype: not in canonical form (spacing, order or a trailing newline)",
            ));
        }
        Ok(g)
    }

    /// The `--set`s that put this genotype's topology, risk level and
    /// tunables on `base`.
    pub fn sets(&self, base: &Config) -> Vec<String> {
        let mut sets = Vec::new();
        for (r, c) in REGIMES.iter().zip(&self.table) {
            sets.push(format!("strategy.regime_table.{r}.policy={}", policy_word(c.policy)));
            sets.push(format!(
                "strategy.regime_table.{r}.topology={}",
                topology_word(c.topology)
            ));
        }
        if self.risk > 0 {
            let d = self.risk_divisor();
            let r = &base.risk;
            let df = d as f64;
            sets.push(format!(
                "risk.template_id={}",
                r.template_id.saturating_add(self.risk as u16)
            ));
            sets.push(format!("risk.position_limit={}", (r.position_limit / d).max(1)));
            sets.push(format!("risk.max_order_qty={}", (r.max_order_qty / d).max(1)));
            sets.push(format!(
                "risk.max_open_orders={}",
                (r.max_open_orders / d as u32).max(1)
            ));
            sets.push(format!("risk.max_gross={}", r.max_gross / df));
            sets.push(format!("risk.reduce_only_drawdown={}", r.reduce_only_drawdown / df));
            sets.push(format!("risk.halt_drawdown={}", r.halt_drawdown / df));
        }
        for (t, v) in TUNABLES.iter().zip(&self.tunables) {
            let text = if t.decimals == 0 {
                v.to_string()
            } else {
                format!("{}", *v as f64 / 10f64.powi(t.decimals as i32))
            };
            sets.push(format!("{}={text}", t.key));
        }
        sets
    }

    /// The position limit this genotype's risk level gives over `base`.
    pub fn position_limit(&self, base: &Config) -> i64 {
        (base.risk.position_limit / self.risk_divisor()).max(1)
    }

    /// What the risk level divides the base's limits by: 1, 2, 4.
    fn risk_divisor(&self) -> i64 {
        1 << self.risk.min(MAX_RISK_LEVEL)
    }

    /// The phenotype: `base` (its canonical text) with this genotype applied,
    /// as a validated configuration whose canonical text loads back to itself.
    pub fn compile(&self, base: &Config) -> Result<Config, Error> {
        let origin = Path::new("<genotype>");
        let mut cfg = parse_with_sets(&base.canonical_text(), &self.sets(base), origin)?;
        if let Some(model) = cfg.belief.model.as_mut() {
            for u in &mut model.units {
                for (f, w) in u.w.iter_mut().enumerate() {
                    if f < N_FEATURES && self.features & (1 << f) == 0 {
                        *w = 0.0;
                    }
                }
            }
        }
        // Through the canonical text once more: what is stored is what loads.
        let text = cfg.canonical_text();
        let cfg = Config::from_yaml(&text, origin)?;
        if cfg.canonical_text() != text {
            return Err(bad(format!(
                "genotype {}: its configuration does not load back to itself",
                self.hash()
            )));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_compiles_to_a_stable_config() {
        let base = Config::default_sim();
        let g = StrategyGenotype::of(&base).unwrap();
        let t = g.text();
        assert!(t.starts_with("foxtrot-genotype 1\nfeatures "), "{t}");
        assert!(t.contains("regime calm market_making passive\n"), "{t}");
        assert!(t.contains("set strategy.mean_reversion.entry_z 400\n"), "{t}");
        assert_eq!(StrategyGenotype::parse(&t).unwrap(), g);
        // The base's own genotype compiles to the base's behaviour: same policy.
        let c = g.compile(&base).unwrap();
        assert_eq!(c.policy_hash(), base.policy_hash());
        assert_eq!(g.compile(&base).unwrap().canonical_text(), c.canonical_text());
    }

    #[test]
    fn each_part_of_the_genotype_changes_the_phenotype() {
        let base = Config::default_sim();
        let g = StrategyGenotype::of(&base).unwrap();
        let c0 = g.compile(&base).unwrap();
        let mut topo = g.clone();
        topo.table[1] = Choice {
            policy: PolicyName::Momentum,
            topology: TopologyName::Aggressive,
        };
        let c = topo.compile(&base).unwrap();
        assert_eq!(c.strategy.regime_table.calm.policy, PolicyName::Momentum);
        assert_ne!(c.policy_hash(), c0.policy_hash());
        let mut risk = g.clone();
        risk.risk = 2;
        let c = risk.compile(&base).unwrap();
        assert_eq!(c.risk.position_limit, base.risk.position_limit / 4);
        assert_eq!(c.risk.template_id, base.risk.template_id + 2);
        let mut feat = g.clone();
        feat.features &= !(1 << foxtrot_engine::core::sensory::idx::VOL_BPS);
        let c = feat.compile(&base).unwrap();
        assert!(c
            .model()
            .units
            .iter()
            .all(|u| u.w[foxtrot_engine::core::sensory::idx::VOL_BPS] == 0.0));
        assert_ne!(c.config_hash(), c0.config_hash());
        let mut tun = g.clone();
        tun.tunables[5] = 125;
        assert_eq!(tun.compile(&base).unwrap().strategy.mean_reversion.entry_z, 12.5);
        assert_ne!(g.hash(), tun.hash());
    }

    #[test]
    fn parse_names_the_bad_line() {
        let g = StrategyGenotype::of(&Config::default_sim()).unwrap();
        let t = g.text().replace("regime calm market_making", "regime calm scalping");
        let e = StrategyGenotype::parse(&t).unwrap_err().to_string();
        assert!(e.contains("line 4") && e.contains("no policy scalping"), "{e}");
        let e = StrategyGenotype::parse(&g.text().replace("risk 0", "risk 9"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("risk 0..=2"), "{e}");
    }
}
