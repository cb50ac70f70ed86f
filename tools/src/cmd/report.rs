//! `foxtrot report RUN_DIR`: PnL, risk and regime statistics, drift alarms and
//! latency of a recorded run, as text, JSON or a self-contained HTML page.

use anyhow::{Context, Result};
use clap::Args;
use foxtrot_tools::report::{analyse, html, text};
use std::path::PathBuf;

/// Arguments of `foxtrot report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A run directory recorded by `foxtrot sim --record` or `foxtrot run --record`,
    /// a sweep's output directory (`foxtrot sweep --out`), or a policy ledger.
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
    if a.run_dir.join("sweep.json").exists() {
        return sweep(&a);
    }
    if a.run_dir.join("journal").is_dir() && !a.run_dir.join("inputs").exists() {
        return ledger(&a);
    }
    super::ensure_recorded_run(&a.run_dir, "report")?;
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
    // Everything the journals hold was shown; the damage still fails the command.
    if let Some(d) = &r.latency_damage {
        anyhow::bail!("{d} (the report above is the journals', without the latency)");
    }
    Ok(())
}

/// A sweep's results: the table on stdout (or JSON rows), the heat map page.
fn sweep(a: &ReportArgs) -> Result<()> {
    let (m, rows) =
        foxtrot_tools::sweep::read(&a.run_dir).with_context(|| format!("reading {}", a.run_dir.display()))?;
    if let Some(path) = &a.html {
        let page = html::render_sweep(&a.run_dir.display().to_string(), &m, &rows);
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        let text = std::fs::read_to_string(a.run_dir.join("results.jsonl"))?;
        let v: Vec<serde_json::Value> = text.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}{}", foxtrot_tools::sweep::table(&m.grid, &rows), m.not_run_lines());
    }
    Ok(())
}

/// A policy ledger: its KPIs and entries (text, JSON, or a page).
fn ledger(a: &ReportArgs) -> Result<()> {
    let l = foxtrot_tools::policy::Ledger::open(&a.run_dir)
        .with_context(|| format!("reading the ledger {}", a.run_dir.display()))?;
    let k = foxtrot_tools::kpi::kpis(&l);
    if let Some(path) = &a.html {
        let page = html::render_ledger(&a.run_dir.display().to_string(), &k, l.entries());
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"kpis": k, "entries": l.entries().len()}))?
        );
    } else {
        print!("{}", foxtrot_tools::kpi::table(&k));
    }
    Ok(())
}
