//! `foxtrot report RUN_DIR`: PnL, risk and regime statistics, drift alarms and
//! latency of a recorded run, as text, JSON or a self-contained HTML page.

use anyhow::{Context, Result};
use clap::Args;
use foxtrot_tools::report::{analyse, html, text};
use std::path::PathBuf;

/// Arguments of `foxtrot report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A run directory recorded by `foxtrot sim --record` or `foxtrot run --record`.
    run_dir: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also write the report as a self-contained HTML page with plots to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// Runs `foxtrot report`.
pub fn run(a: ReportArgs) -> Result<()> {
    let r = analyse(&a.run_dir).with_context(|| format!("reporting on {}", a.run_dir.display()))?;
    if let Some(path) = &a.html {
        let page = html::render(&r)
            .map_err(anyhow::Error::msg)
            .context("drawing the plots")?;
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(file = %path.display(), "HTML report written");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", text::render(&r));
    }
    Ok(())
}
