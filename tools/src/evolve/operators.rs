//! Mutation operators and crossover over [`StrategyGenotype`]s, and the
//! constraints every offspring is held to.
//!
//! Operators: add a feature, drop a feature, swap a regime's execution
//! topology, swap a regime's policy, tighten the risk template, move one
//! tunable by up to its step. Crossover takes each regime row, the risk level
//! and each tunable from either parent and the union or intersection of the
//! feature sets.
//!
//! **Constraints** ([`repair`] enforces them; [`violations`] lists what a
//! genotype breaks):
//!
//! - the halted regime trades nothing (`none`): a halted book has no price to
//!   trade against;
//! - no `market` topology in the volatile regime (market orders there pay the
//!   widest spreads), and none for market making (a quote is a limit order);
//! - at least [`MIN_FEATURES`] features;
//! - every tunable within its domain, momentum `fast < slow`, mean reversion
//!   `exit_z < entry_z`, and no target or quote size above the risk level's
//!   position limit.
//!
//! Everything is drawn from the caller's seeded [`Rng`]: the same seed gives
//! the same offspring.

use super::genotype::{Choice, StrategyGenotype, MAX_RISK_LEVEL, POLICIES, REGIMES, TOPOLOGIES, TUNABLES};
use foxtrot_engine::config::{PolicyName, TopologyName};
use foxtrot_engine::records::N_FEATURES;
use foxtrot_engine::rng::SeededRng as Rng;
use foxtrot_engine::Config;

/// Fewest features a genotype may keep.
pub const MIN_FEATURES: u32 = 3;

const HALTED: usize = 4;
const VOLATILE: usize = 3;

/// What changed a genotype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// A feature slot joined the set.
    AddFeature,
    /// A feature slot left the set.
    DropFeature,
    /// A regime's topology changed.
    SwapTopology,
    /// A regime's policy changed.
    SwapPolicy,
    /// The risk template moved one level tighter.
    TightenRisk,
    /// One tunable moved.
    MutateParam,
    /// Two parents combined.
    Crossover,
}

impl Operator {
    /// Its name in ledgers and reports.
    pub fn name(self) -> &'static str {
        match self {
            Operator::AddFeature => "add_feature",
            Operator::DropFeature => "drop_feature",
            Operator::SwapTopology => "swap_topology",
            Operator::SwapPolicy => "swap_policy",
            Operator::TightenRisk => "tighten_risk",
            Operator::MutateParam => "mutate_param",
            Operator::Crossover => "crossover",
        }
    }
}

/// Whether `c` may stand in regime `r` (see the module docs).
pub fn allowed(r: usize, c: Choice) -> bool {
    if r == HALTED {
        return c.policy == PolicyName::None;
    }
    if c.topology == TopologyName::Market && (r == VOLATILE || c.policy == PolicyName::MarketMaking) {
        return false;
    }
    true
}

/// The constraints `g` breaks over `base`, as sentences (empty: none).
pub fn violations(g: &StrategyGenotype, base: &Config) -> Vec<String> {
    let mut v = Vec::new();
    for (r, c) in g.table.iter().enumerate() {
        if !allowed(r, *c) {
            v.push(format!(
                "regime {}: {:?} {:?} is not allowed",
                REGIMES[r], c.policy, c.topology
            ));
        }
    }
    if g.features.count_ones() < MIN_FEATURES {
        v.push(format!("{} features; at least {MIN_FEATURES}", g.features.count_ones()));
    }
    for (t, x) in TUNABLES.iter().zip(&g.tunables) {
        if *x < t.min || *x > t.max {
            v.push(format!("{} = {x} outside {}..={}", t.key, t.min, t.max));
        }
    }
    let [fast, slow, mq, _, mmq, entry, exit] = g.tunables;
    if fast >= slow {
        v.push(format!("momentum fast {fast} must be below slow {slow}"));
    }
    if exit >= entry {
        v.push(format!(
            "mean reversion exit_z {exit} must be below entry_z {entry} (tenths)"
        ));
    }
    let limit = g.position_limit(base);
    if mq > limit || mmq > limit {
        v.push(format!("a size above the risk level's position limit {limit}"));
    }
    if g.risk > MAX_RISK_LEVEL {
        v.push(format!("risk level {} above {MAX_RISK_LEVEL}", g.risk));
    }
    v
}

/// `g` moved onto the constraints: disallowed rows become the nearest allowed
/// one, tunables are clamped and ordered, sizes capped at the position limit.
pub fn repair(g: &mut StrategyGenotype, base: &Config) {
    for (r, c) in g.table.iter_mut().enumerate() {
        if r == HALTED {
            c.policy = PolicyName::None;
        }
        if !allowed(r, *c) {
            c.topology = TopologyName::Aggressive;
        }
    }
    let mut f = 0;
    while g.features.count_ones() < MIN_FEATURES && f < N_FEATURES {
        g.features |= 1 << f;
        f += 1;
    }
    g.risk = g.risk.min(MAX_RISK_LEVEL);
    for (t, x) in TUNABLES.iter().zip(g.tunables.iter_mut()) {
        *x = (*x).clamp(t.min, t.max);
    }
    let limit = g.position_limit(base);
    for i in [2, 4] {
        g.tunables[i] = g.tunables[i].min(limit).max(TUNABLES[i].min.min(limit));
    }
    if g.tunables[0] >= g.tunables[1] {
        g.tunables[1] = (g.tunables[0] + 1).min(TUNABLES[1].max);
        g.tunables[0] = g.tunables[0].min(g.tunables[1] - 1);
    }
    if g.tunables[6] >= g.tunables[5] {
        g.tunables[6] = g.tunables[5] - 1;
    }
}

fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[rng.below(xs.len() as u64) as usize]
}

/// Applies `op` to a copy of `g` (then [`repair`]); `None` when it cannot
/// change `g` (nothing to add, nothing tighter, …).
pub fn apply(op: Operator, g: &StrategyGenotype, base: &Config, rng: &mut Rng) -> Option<StrategyGenotype> {
    let mut c = g.clone();
    match op {
        Operator::AddFeature | Operator::DropFeature => {
            let want_set = op == Operator::DropFeature;
            let slots: Vec<usize> = (0..N_FEATURES)
                .filter(|f| (g.features & (1 << f) != 0) == want_set)
                .collect();
            if slots.is_empty() || (want_set && g.features.count_ones() <= MIN_FEATURES) {
                return None;
            }
            c.features ^= 1 << pick(rng, &slots);
        }
        Operator::SwapTopology | Operator::SwapPolicy => {
            let mut options = Vec::new();
            for r in 0..REGIMES.len() {
                let cur = g.table[r];
                if op == Operator::SwapTopology {
                    for t in TOPOLOGIES {
                        let n = Choice { topology: t, ..cur };
                        if t != cur.topology && allowed(r, n) {
                            options.push((r, n));
                        }
                    }
                } else {
                    for p in POLICIES {
                        let n = Choice { policy: p, ..cur };
                        if p != cur.policy && allowed(r, n) {
                            options.push((r, n));
                        }
                    }
                }
            }
            if options.is_empty() {
                return None;
            }
            let (r, n) = pick(rng, &options);
            c.table[r] = n;
        }
        Operator::TightenRisk => {
            if g.risk >= MAX_RISK_LEVEL {
                return None;
            }
            c.risk += 1;
        }
        Operator::MutateParam => {
            let i = rng.below(TUNABLES.len() as u64) as usize;
            let t = TUNABLES[i];
            let mut d = 1 + rng.below(t.step as u64) as i64;
            if rng.chance(0.5) {
                d = -d;
            }
            c.tunables[i] += d;
        }
        Operator::Crossover => return None,
    }
    repair(&mut c, base);
    (c != *g).then_some(c)
}

/// The mutation operators, in the order [`mutate`] draws from.
pub const MUTATIONS: [Operator; 6] = [
    Operator::AddFeature,
    Operator::DropFeature,
    Operator::SwapTopology,
    Operator::SwapPolicy,
    Operator::TightenRisk,
    Operator::MutateParam,
];

/// One mutation of `g`: an operator drawn from [`MUTATIONS`] (parameter
/// mutation twice as likely as each other one), the first that changes `g`.
pub fn mutate(g: &StrategyGenotype, base: &Config, rng: &mut Rng) -> (StrategyGenotype, Operator) {
    for _ in 0..32 {
        let k = rng.below(MUTATIONS.len() as u64 + 1) as usize;
        let op = MUTATIONS.get(k).copied().unwrap_or(Operator::MutateParam);
        if let Some(c) = apply(op, g, base, rng) {
            return (c, op);
        }
    }
    (g.clone(), Operator::MutateParam)
}

/// Uniform crossover of two parents (then [`repair`]).
pub fn crossover(a: &StrategyGenotype, b: &StrategyGenotype, base: &Config, rng: &mut Rng) -> StrategyGenotype {
    let mut c = a.clone();
    for r in 0..REGIMES.len() {
        if rng.chance(0.5) {
            c.table[r] = b.table[r];
        }
    }
    c.features = if rng.chance(0.5) {
        a.features | b.features
    } else {
        a.features & b.features
    };
    if rng.chance(0.5) {
        c.risk = b.risk;
    }
    for i in 0..TUNABLES.len() {
        if rng.chance(0.5) {
            c.tunables[i] = b.tunables[i];
        }
    }
    repair(&mut c, base);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_keeps_the_constraints_and_the_seed_decides() {
        let base = Config::default_sim();
        let g0 = StrategyGenotype::of(&base).unwrap();
        assert!(violations(&g0, &base).is_empty(), "{:?}", violations(&g0, &base));
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut g = g0.clone();
            let mut seen = Vec::new();
            for _ in 0..400 {
                let (c, op) = mutate(&g, &base, &mut rng);
                assert!(violations(&c, &base).is_empty(), "{op:?}: {:?}", violations(&c, &base));
                assert!(c.compile(&base).is_ok(), "{op:?} gave a genotype that does not compile");
                seen.push(op);
                g = crossover(&c, &g0, &base, &mut rng);
                assert!(violations(&g, &base).is_empty());
            }
            (g, seen)
        };
        let (a, ops) = run(11);
        assert_eq!(run(11).0, a);
        assert_ne!(run(12).0, a);
        for op in MUTATIONS {
            assert!(ops.contains(&op), "{op:?} never applied");
        }
    }

    #[test]
    fn repair_enforces_each_rule() {
        let base = Config::default_sim();
        let mut g = StrategyGenotype::of(&base).unwrap();
        g.table[4] = Choice {
            policy: PolicyName::Momentum,
            topology: TopologyName::Market,
        };
        g.table[3] = Choice {
            policy: PolicyName::Momentum,
            topology: TopologyName::Market,
        };
        g.features = 1;
        g.risk = 2;
        g.tunables[0] = 300;
        g.tunables[2] = 500;
        g.tunables[6] = 900;
        assert_eq!(violations(&g, &base).len(), 8, "{:?}", violations(&g, &base));
        repair(&mut g, &base);
        assert!(violations(&g, &base).is_empty(), "{:?}", violations(&g, &base));
        assert_eq!(g.table[4].policy, PolicyName::None);
        assert_eq!(g.tunables[2], base.risk.position_limit / 4);
    }
}
