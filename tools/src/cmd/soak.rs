//! `foxtrot soak`: days of event time through the full pipeline, sampled every
//! simulated hour, with a verdict and an HTML page (see `foxtrot_tools::soak`).

use anyhow::{Context, Result};
use clap::Args;
use foxtrot_tools::soak::{self, Verdict};
use std::path::PathBuf;

/// Arguments of `foxtrot soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// The configuration (default: the embedded sim configuration).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one configuration key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Simulated days.
    #[arg(long, default_value_t = 7)]
    days: u64,
    /// Simulated hours instead of days.
    #[arg(long, conflicts_with = "days")]
    hours: Option<u64>,
    /// Write the HTML page (curves, table, verdict) here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the hours and the verdict as JSON (one object at the end).
    #[arg(long)]
    json: bool,
    /// Where to journal the inputs while timing each append (default: a
    /// directory under the temp dir; finished segments are deleted as the soak
    /// goes and the directory at its end).
    #[arg(long, value_name = "DIR", conflicts_with = "no_journal")]
    journal: Option<PathBuf>,
    /// Do not journal (no append figures).
    #[arg(long)]
    no_journal: bool,
}

/// Runs `foxtrot soak`; fails (exit 1) when the verdict does.
pub fn run(a: SoakArgs) -> Result<()> {
    let cfg = crate::setup::load_with_sets(a.config.as_deref(), &a.set)?;
    let hours = a.hours.unwrap_or(a.days * 24);
    anyhow::ensure!(hours > 0, "--hours/--days must be > 0");
    // Right-aligned columns as wide as their headers or values.
    const WIDTHS: [usize; 15] = [4, 10, 7, 7, 8, 4, 7, 7, 8, 10, 6, 13, 7, 11, 7];
    let row = |cells: &[String]| {
        let parts: Vec<String> = cells.iter().zip(WIDTHS).map(|(c, w)| format!("{c:>w$}")).collect();
        println!("{}", parts.join("  "));
    };
    if !a.json {
        row(&soak::COLUMNS.map(str::to_string));
    }
    let journal = (!a.no_journal).then(|| {
        a.journal
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("foxtrot-soak-{}", std::process::id())))
    });
    let samples = soak::run(&cfg, hours, journal.as_deref(), |s| {
        if !a.json {
            row(&s.cells());
        }
    })
    .map_err(anyhow::Error::msg)?;
    let appends = soak::AppendTotals::of(&samples);
    anyhow::ensure!(
        samples.len() as u64 == hours,
        "the generator ended after {} of {hours} hours",
        samples.len()
    );
    let v = Verdict::of(&samples);
    if let Some(p) = &a.html {
        std::fs::write(p, soak::html(&samples, &v)).with_context(|| format!("writing {}", p.display()))?;
    }
    let wall = samples.last().map_or(0.0, |s| s.wall_s);
    let events: u64 = samples.iter().map(|s| s.events).sum();
    if a.json {
        let j = serde_json::json!({
            "hours": samples.iter().map(|s| serde_json::json!({
                "hour": s.hour, "events": s.events, "orders": s.orders, "rss_bytes": s.rss_bytes,
                "heap_bytes": s.heap_bytes, "open_fds": s.open_fds,
                "t2o_p50_ns": s.t2o_ns[0], "t2o_p99_ns": s.t2o_ns[1], "t2o_p999_ns": s.t2o_ns[2],
                "violations": s.violations, "drift_alarms": s.drift_alarms, "wall_seconds": s.wall_s,
                "append_max_ns": s.append.max_ns, "appends_over_target": s.append.over_target,
                "control_max_ns": s.append.control_max_ns, "control_over_target": s.append.control_over_target,
                "rolls": s.append.rolls, "rearmed": s.rearmed,
            })).collect::<Vec<_>>(),
            "journal": {
                "appends": appends.all.appends, "max_ns": appends.all.max_ns, "over_target": appends.all.over_target,
                "target_ns": soak::APPEND_TARGET_NS, "control_max_ns": appends.all.control_max_ns,
                "control_over_target": appends.all.control_over_target, "rolls": appends.all.rolls,
                "rolling_hours_max_ns": appends.rolling_hours_max_ns,
            },
            "verdict": {
                "passed": v.passed(), "rss_slope_bytes_per_hour": v.rss_slope,
                "median_p99_ns": v.median_p99, "worst_p99_ns": v.worst_p99.0, "worst_p99_hour": v.worst_p99.1,
                "violations": v.violations,
                "flat_memory": v.checks[0], "stable_tail": v.checks[1], "no_violations": v.checks[2],
            },
            "events": events, "wall_seconds": wall, "events_per_wall_second": events as f64 / wall.max(1e-9),
        });
        println!("{j}");
    } else {
        println!(
            "foxtrot soak: {hours} simulated hours, {events} market-data events in {wall:.1} s ({:.0} events/s; a 7-day soak at this rate: {:.0} min)",
            events as f64 / wall.max(1e-9),
            wall / hours as f64 * 168.0 / 60.0
        );
        let mark = |ok: bool| if ok { "pass" } else { "FAIL" };
        println!(
            "  flat memory   {}: RSS slope after hour 1 {:.0} B/hour (at most {:.0})",
            mark(v.checks[0]),
            v.rss_slope,
            soak::MAX_RSS_SLOPE
        );
        println!(
            "  stable tail   {}: worst hour p99 {} ns (hour {}), median hour {} ns (at most {}x)",
            mark(v.checks[1]),
            v.worst_p99.0,
            v.worst_p99.1,
            v.median_p99,
            soak::MAX_P99_RATIO
        );
        println!("  violations    {}: {}", mark(v.checks[2]), v.violations);
        if appends.all.appends > 0 {
            println!("  journal       {}", appends.text());
        }
        let rearms = samples.iter().filter(|s| s.rearmed).count();
        let quiet = samples.iter().filter(|s| s.orders == 0).count();
        println!(
            "  trading       {rearms} hours ended under the drawdown brake (reduce-only or halt), re-armed by the soak's operator; {quiet} hours without orders"
        );
    }
    anyhow::ensure!(v.passed(), "the soak's verdict failed");
    Ok(())
}
