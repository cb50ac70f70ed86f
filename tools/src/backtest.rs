//! Backtests on data users bring: `foxtrot import` writes a market-data
//! directory (`foxtrot_engine::journal::market_data`), `foxtrot replay` runs it
//! against the touch venue.
//!
//! The fused core runs against [`TouchVenue`]: the core sequences the events and
//! its timers, the venue fills orders at the data's touch, and the outputs are
//! hashed as any run's are. With `--record DIR` the backtest is recorded as a
//! normal run, whose input journal (data, execution reports, timers) then replays
//! with `--verify`.

use crate::Error;
use foxtrot_engine::journal::market_data::MdSource;
use foxtrot_engine::journal::RunJournals;
use foxtrot_engine::runtime::{FusedRun, RunSummary};
use foxtrot_engine::Config;
use foxtrot_shm::{JournalConfig, ShmError};
use foxtrot_venue::touch::{TouchStats, TouchVenue};
use std::path::Path;

/// What a backtest did.
pub struct BacktestOutcome {
    /// The configuration it ran under.
    pub config: Config,
    /// The run's summary (hashes, PnL, counters).
    pub summary: RunSummary,
    /// The venue's counters.
    pub venue: TouchStats,
    /// The market data's writer did not finish it: the backtest covers only
    /// what it wrote (run with `partial`; otherwise such data is an error).
    pub unfinished: bool,
}

/// Runs the market-data directory `dir` (under `config` if given, else its own)
/// against the touch venue; records the run under `record` if given. Data its
/// writer did not finish is an error ([`foxtrot_engine::Error::Unfinished`]),
/// or with `partial` backtested as far as it goes.
pub fn run(dir: &Path, config: Option<Config>, record: Option<&Path>, partial: bool) -> Result<BacktestOutcome, Error> {
    let (own, src) = MdSource::open(dir)?;
    let src = if partial { src.partial() } else { src };
    let cfg = config.unwrap_or(own);
    let journals = match record {
        Some(d) => Some(RunJournals::create(d, JournalConfig::default(), &cfg.canonical_text())?),
        None => None,
    };
    // Nobody reads a backtest's tick-to-order: no clock is read.
    let mut run = FusedRun::with_observer(&cfg, TouchVenue::new(&cfg, src), journals).untimed();
    run.run_to_end();
    run.finish();
    if let Some(e) = run.venue_mut().source_mut().take_error() {
        return Err(e.into());
    }
    if let Some(j) = run.observer_mut().as_mut() {
        if let Some(e) = j.error() {
            return Err(
                foxtrot_engine::Error::Journal(ShmError::Config(format!("recording the backtest: {e}"))).into(),
            );
        }
        j.end()?;
    }
    Ok(BacktestOutcome {
        summary: run.summary(),
        venue: *run.venue().stats(),
        unfinished: run.venue_mut().source_mut().unfinished(),
        config: cfg,
    })
}
