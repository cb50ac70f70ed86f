//! Fitness over the regime grid, the novelty archive, and selection.
//!
//! **Fitness** of a candidate over a set of slices: Σ (pnl − ½·max_drawdown)
//! − 100·risk_hits, summed over the slices; a candidate with any invariant
//! violation, or not scored on every slice, is not eligible. The
//! **regime table** sums each figure per regime.
//!
//! **Behaviour probe**: per regime of the grid, ln(1 + orders) and
//! ln(1 + turnover/1000) — what a candidate *does*, not how well. The
//! **novelty** of a probe is its mean Euclidean distance to its
//! [`NOVELTY_K`] nearest neighbours among the archive and the rest of its
//! generation. After each generation the [`ARCHIVE_PER_GEN`] most novel
//! eligible candidates not yet archived join the archive (signature: the
//! genotype hash).
//!
//! **Selection** weighs both by rank: a candidate's selection value is
//! rank(fitness)/n + w·rank(novelty)/n (w = the plan's novelty weight; ties
//! in order of the population). A **tournament** draws k candidates with the
//! seeded generator and keeps the one of highest value (the earliest on a
//! tie).

use super::data::Grid;
use super::score::Score;
use foxtrot_engine::rng::SeededRng as Rng;
use serde::{Deserialize, Serialize};

/// Neighbours a novelty is measured against.
pub const NOVELTY_K: usize = 3;
/// Candidates archived per generation.
pub const ARCHIVE_PER_GEN: usize = 2;

/// Scalar fitness of scores (see the module docs).
pub fn fitness(scores: &[&Score]) -> f64 {
    scores
        .iter()
        .map(|s| s.pnl - 0.5 * s.max_drawdown - 100.0 * s.risk_hits as f64)
        .sum()
}

/// One regime's row of a fitness table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegimeRow {
    /// The regime.
    pub regime: String,
    /// Σ pnl.
    pub pnl: f64,
    /// Largest drawdown of its slices.
    pub max_drawdown: f64,
    /// Mean session Sharpe of its slices.
    pub sharpe: f64,
    /// Σ risk hits.
    pub risk_hits: u64,
    /// Σ turnover.
    pub turnover: f64,
    /// Σ orders.
    pub orders: u64,
    /// Σ invariant violations.
    pub violations: u64,
    /// Fitness of its slices.
    pub fitness: f64,
}

/// The multi-regime fitness table of `scores`, regimes in grid order.
pub fn regime_table(grid: &Grid, scores: &[&Score]) -> Vec<RegimeRow> {
    let mut regimes: Vec<&str> = Vec::new();
    for s in &grid.slices {
        if !regimes.contains(&s.regime.as_str()) {
            regimes.push(&s.regime);
        }
    }
    regimes
        .into_iter()
        .filter_map(|r| {
            let mine: Vec<&Score> = scores
                .iter()
                .copied()
                .filter(|s| grid.slices.iter().any(|g| g.id == s.slice && g.regime == r))
                .collect();
            if mine.is_empty() {
                return None;
            }
            Some(RegimeRow {
                regime: r.to_string(),
                pnl: mine.iter().map(|s| s.pnl).sum(),
                max_drawdown: mine.iter().map(|s| s.max_drawdown).fold(0.0, f64::max),
                sharpe: mine.iter().map(|s| s.sharpe).sum::<f64>() / mine.len() as f64,
                risk_hits: mine.iter().map(|s| s.risk_hits).sum(),
                turnover: mine.iter().map(|s| s.turnover).sum(),
                orders: mine.iter().map(|s| s.orders).sum(),
                violations: mine.iter().map(|s| s.violations).sum(),
                fitness: fitness(&mine),
            })
        })
        .collect()
}

/// The behaviour probe of a fitness table.
pub fn probe(table: &[RegimeRow]) -> Vec<f64> {
    table
        .iter()
        .flat_map(|r| [(1.0 + r.orders as f64).ln(), (1.0 + r.turnover / 1000.0).ln()])
        .collect()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Mean distance from `p` to its [`NOVELTY_K`] nearest in `others`.
pub fn novelty(p: &[f64], others: &[&[f64]]) -> f64 {
    let mut d: Vec<f64> = others.iter().map(|o| distance(p, o)).collect();
    if d.is_empty() {
        return 0.0;
    }
    d.sort_by(f64::total_cmp);
    let k = d.len().min(NOVELTY_K);
    d[..k].iter().sum::<f64>() / k as f64
}

/// An archived behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Archived {
    /// The genotype hash.
    pub signature: String,
    /// Its behaviour probe.
    pub probe: Vec<f64>,
    /// The generation it joined in.
    pub generation: u32,
}

/// Ranks of `v` scaled to (0, 1]: the smallest gets 1/n; ties keep order.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
    let mut r = vec![0.0; v.len()];
    for (k, i) in order.into_iter().enumerate() {
        r[i] = (k + 1) as f64 / v.len() as f64;
    }
    r
}

/// Selection values of a generation: `None` for ineligible candidates.
pub fn selection_values(fit: &[Option<f64>], nov: &[f64], weight: f64) -> Vec<Option<f64>> {
    let elig: Vec<usize> = (0..fit.len()).filter(|&i| fit[i].is_some()).collect();
    let f: Vec<f64> = elig.iter().map(|&i| fit[i].unwrap_or(f64::MIN)).collect();
    let n: Vec<f64> = elig.iter().map(|&i| nov[i]).collect();
    let (rf, rn) = (ranks(&f), ranks(&n));
    let mut out = vec![None; fit.len()];
    for (k, &i) in elig.iter().enumerate() {
        out[i] = Some(rf[k] + weight * rn[k]);
    }
    out
}

/// A tournament of `k` draws among the eligible: the index of the winner.
/// `None` when nobody is eligible.
pub fn tournament(values: &[Option<f64>], k: usize, rng: &mut Rng) -> Option<usize> {
    let elig: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
    if elig.is_empty() {
        return None;
    }
    let mut best: Option<usize> = None;
    for _ in 0..k.max(1) {
        let c = elig[rng.below(elig.len() as u64) as usize];
        best = match best {
            Some(b) if values[b] >= values[c] && (values[b] > values[c] || b < c) => Some(b),
            _ => Some(c),
        };
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novelty_is_the_mean_distance_to_the_nearest() {
        let a = [0.0, 0.0];
        let others: Vec<&[f64]> = vec![&[3.0, 4.0], &[0.0, 1.0], &[0.0, 2.0], &[10.0, 0.0]];
        // nearest three: 1, 2, 5 → 8/3
        assert!((novelty(&a, &others) - 8.0 / 3.0).abs() < 1e-12);
        assert_eq!(novelty(&a, &[]), 0.0);
    }

    #[test]
    fn selection_weighs_fitness_and_novelty_by_rank_and_skips_the_ineligible() {
        let fit = [Some(10.0), None, Some(-5.0), Some(3.0)];
        let nov = [0.0, 9.0, 4.0, 1.0];
        let v = selection_values(&fit, &nov, 0.0);
        assert_eq!(v, vec![Some(1.0), None, Some(1.0 / 3.0), Some(2.0 / 3.0)]);
        let v = selection_values(&fit, &nov, 1.0);
        assert_eq!(v[2], Some(1.0 / 3.0 + 1.0));
        let mut rng = Rng::new(1);
        for _ in 0..50 {
            let w = tournament(&selection_values(&fit, &nov, 0.0), 8, &mut rng).unwrap();
            assert_ne!(w, 1);
        }
        // With every eligible drawn, the best wins.
        let mut rng = Rng::new(2);
        assert_eq!(tournament(&selection_values(&fit, &nov, 0.0), 64, &mut rng), Some(0));
        assert_eq!(tournament(&[None, None], 3, &mut rng), None);
    }
}
