//! Budgeted, seeded exploration.
//!
//! Every `every`-th decision is a candidate for a mutation: if the share of
//! decisions explored so far is below `budget_pct` and exploration is not frozen
//! (by the drift sentry or a risk warning), the decision's policy is replaced by one
//! of the others, drawn from exploration's own seeded generator. So at most
//! `budget_pct`% of decisions — and at most one in `every` — explore, and the same
//! seed and inputs explore the same way.

use crate::core::params::ExplorationConfig;
use crate::rng::SeededRng;

/// The exploration budget and generator.
pub struct Exploration {
    rng: SeededRng,
    budget: f64,
    every: u64,
    decisions: u64,
    explored: u64,
}

impl Exploration {
    /// From the config.
    pub fn new(cfg: &ExplorationConfig) -> Self {
        Exploration {
            rng: SeededRng::new(cfg.seed),
            budget: cfg.budget_pct / 100.0,
            every: cfg.every as u64,
            decisions: 0,
            explored: 0,
        }
    }

    /// Counts one decision whose policy is `chosen` (an index below `n`); returns the
    /// policy to use instead when this decision explores.
    pub fn consider(&mut self, chosen: usize, n: usize, frozen: bool) -> Option<usize> {
        self.decisions += 1;
        if frozen || n < 2 || self.decisions % self.every != 0 {
            return None;
        }
        if (self.explored + 1) as f64 > self.budget * self.decisions as f64 {
            return None;
        }
        self.explored += 1;
        let k = self.rng.below(n as u64 - 1) as usize;
        Some(if k >= chosen { k + 1 } else { k })
    }

    /// (decisions, explored).
    pub fn counts(&self) -> (u64, u64) {
        (self.decisions, self.explored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_cadence_freeze_and_seed() {
        let cfg = ExplorationConfig {
            seed: 3,
            budget_pct: 10.0,
            every: 5,
        };
        let mut e = Exploration::new(&cfg);
        let mut picks = Vec::new();
        for i in 0..10_000 {
            if let Some(p) = e.consider(i % 3, 3, false) {
                assert_ne!(p, i % 3, "a mutation picks another policy");
                assert_eq!((i + 1) % 5, 0, "only every 5th decision");
                picks.push(p);
            }
        }
        let (d, x) = e.counts();
        assert_eq!(d, 10_000);
        assert!(x as f64 <= 0.10 * d as f64 && x >= 990, "explored {x}");
        let mut again = Exploration::new(&cfg);
        let picks2: Vec<usize> = (0..10_000).filter_map(|i| again.consider(i % 3, 3, false)).collect();
        assert_eq!(picks, picks2);
        let mut f = Exploration::new(&cfg);
        assert!((0..1000).all(|i| f.consider(i % 3, 3, true).is_none()));
    }
}
