//! `foxtrot export --parquet RUN_DIR`: a run's journals as Parquet files.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `foxtrot export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A run directory recorded by `foxtrot sim --record` or `foxtrot run --record`.
    run_dir: PathBuf,
    /// Write Parquet files (inputs, orders, rejects, fills, diary, drift_alarms;
    /// md_findings for a live run that journalled its feed's findings).
    #[arg(long, required = true)]
    parquet: bool,
    /// Output directory (default: RUN_DIR/parquet).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Runs `foxtrot export`.
pub fn run(a: ExportArgs) -> Result<()> {
    super::ensure_recorded_run(&a.run_dir, "export")?;
    let out = a.out.clone().unwrap_or_else(|| a.run_dir.join("parquet"));
    let c = foxtrot_tools::export::export(&a.run_dir, &out)
        .with_context(|| format!("exporting {}", a.run_dir.display()))?;
    // Row counts per file, named as the run's summary names them: the diary
    // journal's records are split between diary.parquet (decisions and
    // transitions) and drift_alarms.parquet; rejects.parquet holds risk rejects
    // (the venue's refusals are exec reports, in inputs.parquet).
    println!(
        "foxtrot export: {} → {}\n  inputs {}  orders {}  fills {}  risk rejects {}\n  \
         diary {} + drift alarms {} = {} diary records",
        a.run_dir.display(),
        out.display(),
        c.inputs,
        c.orders,
        c.fills,
        c.rejects,
        c.diary,
        c.drift_alarms,
        c.diary + c.drift_alarms
    );
    if let Some(n) = c.md_findings {
        println!("  feed findings {n}");
    }
    println!(
        "  run end  {}",
        foxtrot_tools::report::run_end_line(c.ended, c.recording_pid)
    );
    Ok(())
}
