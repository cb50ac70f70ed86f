//! One module per subcommand.

pub mod config;
pub mod ctl;
pub mod evolve;
pub mod export;
pub mod feed;
pub mod gen;
pub mod host_check;
pub mod import;
pub mod itch;
pub mod journal;
pub mod policy;
pub mod reflect;
pub mod replay;
pub mod report;
pub mod resume;
pub mod run;
pub mod sim;
pub mod soak;
pub mod stat;
pub mod sweep;
pub mod venue;

/// Refuses imported market data given where a recorded run is read (`report`,
/// `export`): it has no run journals, and `foxtrot replay DIR --out RUN` makes
/// a run of it.
pub(crate) fn ensure_recorded_run(dir: &std::path::Path, command: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !foxtrot_engine::journal::market_data::is_market_data(dir),
        "{} is imported market data, not a recorded run: {command} reads a run's journals \
         (backtest it into one with `foxtrot replay {} --out RUN`, then {command} RUN)",
        dir.display(),
        dir.display()
    );
    Ok(())
}
