//! `foxtrot stat`: reads a running (or finished) pipeline's stats file — once, as
//! a table or JSON, or refreshing until interrupted.

use super::run::default_stats_path;
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::runtime::stats::LiveFigures;
use foxtrot_engine::runtime::stats::{StatsReader, StatsSnapshot};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `foxtrot stat`.
#[derive(Args, Debug)]
pub struct StatArgs {
    /// The stats file (default: the one `foxtrot run` writes by default).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// The configuration the run was started with: its `runtime.stats_file`.
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    config: Option<PathBuf>,
    /// Set one configuration key (repeatable) as the run was started with
    /// (on --config's, or the embedded default): `--set runtime.stats_file=/dev/shm/a.stats`.
    #[arg(long = "set", value_name = "KEY=VALUE", conflicts_with = "file")]
    set: Vec<String>,
    /// Print one snapshot and exit.
    #[arg(long)]
    once: bool,
    /// JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Serve the stats in the Prometheus text format at http://ADDR/metrics
    /// (e.g. 127.0.0.1:9464; port 0 picks a free one) until interrupted.
    #[arg(long, value_name = "ADDR")]
    prometheus: Option<String>,
    /// Refresh period in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
}

/// Runs `foxtrot stat`.
pub fn run(a: StatArgs) -> Result<()> {
    let path = match (&a.file, &a.config) {
        (Some(f), _) => f.clone(),
        (None, None) if a.set.is_empty() => default_stats_path(),
        (None, c) => {
            let cfg = crate::setup::load_with_sets(c.as_deref(), &a.set)?;
            cfg.runtime
                .stats_file
                .as_ref()
                .map(PathBuf::from)
                .unwrap_or_else(default_stats_path)
        }
    };
    if !path.exists() {
        anyhow::bail!(
            "{}",
            no_stats_file(&path, a.file.is_none() && a.config.is_none() && a.set.is_empty())
        );
    }
    let mut r = StatsReader::open(&path)?;
    if let Some(addr) = &a.prometheus {
        let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        let bound = listener.local_addr()?;
        println!("foxtrot stat: serving Prometheus metrics on http://{bound}/metrics");
        std::io::Write::flush(&mut std::io::stdout())?;
        tracing::info!(addr = %bound, file = %path.display(), "serving Prometheus metrics");
        foxtrot_tools::prometheus::serve(listener, r)?;
        return Ok(());
    }
    loop {
        // A file deleted and made again (a cleaned /dev/shm) is followed.
        r.follow();
        let s = r.read()?;
        if a.json {
            let mut j = serde_json::to_value(&s)?;
            j["live"] = serde_json::to_value(s.live_figures())?;
            println!("{j}");
        } else {
            if !a.once {
                print!("\x1b[2J\x1b[H");
            }
            println!("{}  (pid {}, {})", path.display(), s.pid, s.state);
            print_table(&s);
        }
        if a.once || s.state == "finished" {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(a.interval_ms));
    }
}

/// Prints counters and histograms as aligned tables.
pub fn print_table(s: &StatsSnapshot) {
    println!("  counters");
    for (n, v) in &s.globals {
        // Named as the summaries name them: the core's rejects are risk's (the
        // venue's refusals are exec reports).
        let n = if n == "rejects" { "risk_rejects" } else { n.as_str() };
        println!("    {n:<16} {v:>14}");
    }
    println!("  threads");
    for t in &s.threads {
        let c: Vec<String> = t.counters.iter().map(|(n, v)| format!("{n}={v}")).collect();
        println!("    {:<4} {:<32} {}", t.name, t.stages, c.join(" "));
    }
    println!("  latency (µs)       count      p50      p90      p99    p99.9      max");
    for h in &s.hists {
        println!(
            "    {:<14} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
            h.name,
            h.count,
            us(h.p50),
            us(h.p90),
            us(h.p99),
            us(h.p999),
            us(h.max)
        );
    }
    if let Some(l) = s.live_figures() {
        print!("{}", live_text(&l));
    }
}

/// The live board as text (`foxtrot stat`, `foxtrot ctl`).
pub fn live_text(l: &LiveFigures) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  trading         {} (halted: {}); FIX session {}; {} operator commands applied",
        l.trading_state,
        if l.halted.is_empty() {
            "none".to_string()
        } else {
            l.halted.join(" ")
        },
        l.session,
        l.commands
    );
    let _ = writeln!(
        o,
        "  pnl             equity {:.2}, drawdown {:.2} (max {:.2}); {} fills, {} open orders, {} drift alarms",
        l.equity, l.drawdown, l.max_drawdown, l.fills, l.open_orders, l.drift_alarms
    );
    let [n, p50, p99, p999, max] = l.order_ack;
    if n > 0 {
        let _ = writeln!(
            o,
            "  order→ack (µs)  count {n} p50 {} p99 {} p99.9 {} max {}",
            us(p50),
            us(p99),
            us(p999),
            us(max)
        );
    }
    if !l.rejects.is_empty() {
        let r: Vec<String> = l.rejects.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "  risk rejects    {}", r.join(" "));
    }
    let _ = writeln!(o, "  instrument        position      realised    unrealised  open");
    for x in &l.instruments {
        let f = &x.figures;
        let _ = writeln!(
            o,
            "    {:<12} {:>12} {:>13.2} {:>13.2} {:>5}",
            x.symbol, f.position, f.realised, f.unrealised, f.open_orders
        );
    }
    o
}

/// The one line for a missing stats file: where it looked, how to point it
/// elsewhere, and the stats files that do exist in the usual places.
fn no_stats_file(path: &std::path::Path, defaulted: bool) -> String {
    let mut found: Vec<String> = [std::path::Path::new("/dev/shm").to_path_buf(), std::env::temp_dir()]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "stats"))
        .map(|p| p.display().to_string())
        .collect();
    found.sort();
    let how = if defaulted {
        " (the default path): give --file FILE, or --config CONFIG for the runtime.stats_file a run of that configuration writes"
    } else {
        ""
    };
    let seen = if found.is_empty() {
        "no *.stats file in /dev/shm or the temporary directory".to_string()
    } else {
        format!("stats files here: {}", found.join(", "))
    };
    format!("no stats file at {}{how}; {seen}", path.display())
}

/// Nanoseconds as microseconds with two decimals, as the run summaries print them.
fn us(ns: u64) -> String {
    format!("{:.2}", ns as f64 / 1000.0)
}
