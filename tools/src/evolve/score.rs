//! Scoring one configuration on one slice: a deterministic replay of the
//! slice's market data against the touch venue, watched by the independent
//! invariant [`Checker`], and the figures of the fitness table.
//!
//! - **pnl**: final equity (realised + unrealised, currency units);
//! - **max_drawdown**: the core's largest fall from the equity peak;
//! - **sharpe**: the equity's change over each second of control time, mean
//!   over standard deviation times √(seconds) — the session's Sharpe ratio,
//!   not annualised (0 when equity never moves);
//! - **risk_hits**: risk rejects for a limit (`POSITION_LIMIT`,
//!   `GROSS_EXPOSURE`, `MAX_ORDER_QTY`, `MAX_NOTIONAL`, `REDUCE_ONLY`,
//!   `DRAWDOWN_HALT`) — throttles, bands and missing references are not limits;
//! - **turnover**: traded notional, currency units;
//! - **violations**: what the checker found (must be 0 for any promotion).

use super::data::Slice;
use crate::check::Checker;
use crate::Error;
use foxtrot_engine::core::Core;
use foxtrot_engine::journal::market_data::MdSource;
use foxtrot_engine::journal::RunJournals;
use foxtrot_engine::records::InputSlot;
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_shm::JournalConfig;
use foxtrot_venue::touch::TouchVenue;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Reject reasons that count as risk hits.
pub const RISK_HIT_REASONS: [&str; 6] = [
    "POSITION_LIMIT",
    "GROSS_EXPOSURE",
    "MAX_ORDER_QTY",
    "MAX_NOTIONAL",
    "REDUCE_ONLY",
    "DRAWDOWN_HALT",
];

/// One configuration's figures on one slice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The slice's id.
    pub slice: String,
    /// Final equity.
    pub pnl: f64,
    /// Largest drawdown.
    pub max_drawdown: f64,
    /// Session Sharpe ratio of one-second equity changes.
    pub sharpe: f64,
    /// Limit rejects.
    pub risk_hits: u64,
    /// Risk rejects of every reason.
    pub rejects: u64,
    /// Traded notional.
    pub turnover: f64,
    /// Orders sent.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// Invariant violations the checker found.
    pub violations: u64,
    /// The first few, described (empty when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violation_examples: Vec<String>,
    /// Market-data events replayed.
    pub events: u64,
    /// Digest of the orders.
    pub order_hash: String,
    /// Digest of the decision diary.
    pub diary_hash: String,
    /// Diary records.
    pub diary_records: u64,
}

/// Equity at the first input of every second of control time.
#[derive(Default)]
struct Seconds {
    next_s: Option<u64>,
    equity: Vec<f64>,
}

impl RunObserver for Seconds {
    fn after_input(&mut self, slot: &InputSlot, core: &Core) {
        let s = slot.header().ts_ns / 1_000_000_000;
        if self.next_s.is_none_or(|n| s >= n) {
            self.equity.push(core.risk().equity());
            self.next_s = Some(s + 1);
        }
    }
}

/// Mean over standard deviation of the changes, times √(number of changes).
pub fn session_sharpe(equity: &[f64]) -> f64 {
    let d: Vec<f64> = equity.windows(2).map(|w| w[1] - w[0]).collect();
    if d.len() < 2 {
        return 0.0;
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    if var <= 0.0 {
        return 0.0;
    }
    mean / var.sqrt() * n.sqrt()
}

/// Replays `slice` (its directory under `grid_dir`) under `cfg` and scores
/// it; with `record`, the replay is also recorded there as a run (its input
/// journal then replays with `foxtrot replay --verify`).
pub fn score(cfg: &Config, grid_dir: &Path, slice: &Slice, record: Option<&Path>) -> Result<Score, Error> {
    let (_, src) = MdSource::open(&grid_dir.join(&slice.dir))?;
    let journals = match record {
        Some(d) => Some(RunJournals::create(d, JournalConfig::default(), &cfg.canonical_text())?),
        None => None,
    };
    let watch = ((Checker::new(cfg), Seconds::default()), journals);
    let mut run = FusedRun::with_observer(cfg, TouchVenue::new(cfg, src), watch).untimed();
    run.run_to_end();
    run.finish();
    if let Some(e) = run.venue_mut().source_mut().take_error() {
        return Err(e.into());
    }
    if let Some(j) = run.observer_mut().1.as_mut() {
        if let Some(e) = j.error() {
            return Err(Error::Evolve(format!("recording {}: {e}", slice.id)));
        }
        j.end()?;
    }
    let s = run.summary();
    let orders = run.venue().stats().orders;
    let ((checker, seconds), _) = run.observer_mut();
    let hits = s
        .rejects_by_reason
        .iter()
        .filter(|(r, _)| RISK_HIT_REASONS.contains(r))
        .map(|(_, n)| n)
        .sum();
    Ok(Score {
        slice: slice.id.clone(),
        pnl: s.pnl.equity,
        max_drawdown: s.pnl.max_drawdown,
        sharpe: session_sharpe(&seconds.equity),
        risk_hits: hits,
        rejects: s.rejects_by_reason.iter().map(|(_, n)| n).sum(),
        turnover: s.pnl.turnover,
        orders,
        fills: s.pnl.fills,
        violations: checker.total(),
        violation_examples: checker.examples.iter().take(3).cloned().collect(),
        events: slice.events,
        order_hash: s.order_hash.0.clone(),
        diary_hash: s.diary_hash.0.clone(),
        diary_records: s.diary_hash.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharpe_is_mean_over_sd_times_root_n() {
        // Changes 1, 3: mean 2, sd √2, n 2 → 2/√2·√2 = 2.
        assert!((session_sharpe(&[0.0, 1.0, 4.0]) - 2.0).abs() < 1e-12);
        assert_eq!(session_sharpe(&[5.0, 5.0, 5.0]), 0.0);
        assert_eq!(session_sharpe(&[1.0]), 0.0);
    }
}
