//! The budgeted compute scheduler for candidate replays.
//!
//! A generation's work is one **job** per (candidate, fitted slice) not scored
//! before (scores are cached by genotype hash: an elite is not replayed
//! again). Each job's **cost** is its slice's market-data events — known
//! before anything runs, so the schedule is the same on every machine.
//!
//! - **Budget**: with a budget of E events per generation, candidates are
//!   admitted whole, in population order, while their cost fits; the rest are
//!   deferred (not scored this generation, so not selectable). A cut never
//!   leaves a candidate scored on some instruments and not others.
//! - **Fair share across instruments**: the admitted jobs are queued one per
//!   instrument in turn (instrument order of the grid, each instrument's jobs
//!   in candidate order), so every stretch of the queue — and every shard,
//!   which takes every N-th job — carries each instrument's work in equal
//!   measure.
//! - **All cores**: a shard's jobs run on a pool of threads taking the next job
//!   from one counter; results are kept by job index, so the output never
//!   depends on which thread finished first.
//! - **Shards**: `--shard I/N` runs the jobs k with k mod N = I; merging the
//!   N shards' results (each job exactly once) gives what one machine gives.

use super::data::{Grid, Slice};
use super::score::{score, Score};
use crate::sweep::Shard;
use crate::Error;
use foxtrot_engine::Config;
use std::path::Path;

/// One replay: a candidate (index in the population) on a slice (index in the grid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The candidate.
    pub candidate: usize,
    /// The slice.
    pub slice: usize,
}

/// A generation's schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Admitted jobs, in queue order.
    pub jobs: Vec<Job>,
    /// Candidates deferred by the budget.
    pub deferred: Vec<usize>,
    /// Events the admitted jobs replay.
    pub cost: u64,
}

/// Plans the jobs `need` (per candidate, the slices it still needs) under
/// `budget` (events; `None`: no limit).
pub fn plan(grid: &Grid, need: &[(usize, Vec<usize>)], budget: Option<u64>) -> Schedule {
    let cost_of = |s: &[usize]| s.iter().map(|&i| grid.slices[i].events).sum::<u64>();
    let (mut admitted, mut deferred, mut used) = (Vec::new(), Vec::new(), 0u64);
    for (c, slices) in need {
        let cost = cost_of(slices);
        if budget.is_none_or(|b| used + cost <= b) {
            used += cost;
            admitted.push((*c, slices.clone()));
        } else {
            deferred.push(*c);
        }
    }
    let mut instruments: Vec<&str> = Vec::new();
    for s in &grid.slices {
        if !instruments.contains(&s.instrument.as_str()) {
            instruments.push(&s.instrument);
        }
    }
    let mut queues: Vec<std::collections::VecDeque<Job>> = instruments
        .iter()
        .map(|inst| {
            admitted
                .iter()
                .flat_map(|(c, ss)| {
                    ss.iter()
                        .filter(|&&s| grid.slices[s].instrument == *inst)
                        .map(|&s| Job {
                            candidate: *c,
                            slice: s,
                        })
                })
                .collect()
        })
        .collect();
    let mut jobs = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        for q in &mut queues {
            if let Some(j) = q.pop_front() {
                jobs.push(j);
            }
        }
    }
    Schedule {
        jobs,
        deferred,
        cost: used,
    }
}

/// CPU seconds this process has used (user + system).
pub fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes one rusage into the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Runs this shard's jobs of `schedule` on `threads` threads: (job index in
/// the schedule, its score), in job order.
pub fn run_shard(
    grid_dir: &Path,
    grid: &Grid,
    configs: &[Config],
    schedule: &Schedule,
    shard: Shard,
    threads: usize,
) -> Result<Vec<(usize, Score)>, Error> {
    let mine: Vec<usize> = (0..schedule.jobs.len()).filter(|&k| shard.has(k)).collect();
    let slice = |j: &Job| -> &Slice { &grid.slices[j.slice] };
    let out = crate::pool::map(mine.len(), threads, |k| {
        let j = &schedule.jobs[mine[k]];
        score(&configs[j.candidate], grid_dir, slice(j), None)
    })?;
    Ok(mine.into_iter().zip(out).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evolve::data::{Part, Slice};

    fn grid() -> Grid {
        let mut slices = Vec::new();
        for r in ["calm", "volatile"] {
            for (inst, ev) in [("A", 100), ("B", 300)] {
                slices.push(Slice {
                    id: format!("{r}/{inst}/fit"),
                    regime: r.into(),
                    instrument: inst.into(),
                    part: Part::Fit,
                    dir: String::new(),
                    events: ev,
                    first_ns: 0,
                    last_ns: 0,
                    hash: String::new(),
                });
            }
        }
        Grid {
            base_config_hash: String::new(),
            events_per_regime: 0,
            fit_frac: 0.5,
            slices,
        }
    }

    #[test]
    fn budget_admits_whole_candidates_and_the_queue_alternates_instruments() {
        let g = grid();
        let all = vec![0, 1, 2, 3];
        let need = vec![(0, all.clone()), (1, all.clone()), (2, vec![0, 1]), (3, all.clone())];
        let s = plan(&g, &need, Some(1200));
        // 800 + 800 > 1200: candidate 1 is deferred; candidate 2 (400) fits; 3 does not.
        assert_eq!(s.deferred, vec![1, 3]);
        assert_eq!(s.cost, 1200);
        let inst: Vec<&str> = s.jobs.iter().map(|j| g.slices[j.slice].instrument.as_str()).collect();
        assert_eq!(inst, ["A", "B", "A", "B", "A", "B"]);
        assert_eq!(s.jobs[0], Job { candidate: 0, slice: 0 });
        assert_eq!(s.jobs[5], Job { candidate: 2, slice: 1 });
        let all_in = plan(&g, &need, None);
        assert!(all_in.deferred.is_empty());
        assert_eq!(all_in.jobs.len(), 14);
        // Shards split the queue and cover it once.
        let s0 = Shard::parse("0/2").unwrap();
        let s1 = Shard::parse("1/2").unwrap();
        let n = (0..all_in.jobs.len()).filter(|&k| s0.has(k) ^ s1.has(k)).count();
        assert_eq!(n, all_in.jobs.len());
    }
}
