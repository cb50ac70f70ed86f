//! `foxtrot sim`: the main job on the embedded default — generated market data
//! through the fused pipeline against the in-process simulated venue.

use crate::setup::{load_config, CommonArgs};
use anyhow::Result;
use clap::Args;
use foxtrot_engine::journal::RunJournals;
use foxtrot_engine::runtime::stats::HistSnapshot;
use foxtrot_engine::runtime::{FusedRun, RunObserver, RunSummary};
use foxtrot_engine::Config;
use foxtrot_shm::JournalConfig;
use foxtrot_tools::check::Checker;
use foxtrot_tools::report::text::ns;
use foxtrot_venue::SimWorld;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `foxtrot sim`.
#[derive(Args, Debug)]
pub struct SimArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Corrupt the feed (crossed books, bad prints, garbage records, halts; see
    /// `gen.adversarial` in the config).
    #[arg(long)]
    adversarial: bool,
    /// Re-verify every order against the risk limits with an independent checker;
    /// exit non-zero on any violation.
    #[arg(long)]
    check: bool,
    /// Journal the run (inputs, orders, diary, and the effective config) under DIR,
    /// for `foxtrot replay` and `foxtrot journal`.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
}

/// Runs `foxtrot sim`.
pub fn run(a: SimArgs) -> Result<()> {
    let mut cfg = load_config(&a.common)?;
    if a.adversarial {
        cfg.gen.adversarial.enabled = true;
    }
    let journals = a.record.as_deref().map(|d| new_journals(d, &cfg)).transpose()?;
    let checker = a.check.then(|| Checker::new(&cfg));
    let (mut run, wall) = drive(&a, &cfg, (checker, journals));
    let h = HistSnapshot::of("tick_to_order", run.latency());
    if let Some(j) = run.observer_mut().1.as_mut() {
        finish_journals(j)?;
        write_latency(j.dir(), "foxtrot sim (fused: every stage on one thread)", &[h])?;
    }
    let s = run.summary();
    tracing::info!(
        inputs = s.counters.inputs,
        orders = s.counters.orders.iter().sum::<u64>(),
        fills = s.pnl.fills,
        pnl = foxtrot_tools::logging::rounded(s.pnl.equity, 2),
        order_hash = %s.order_hash.0,
        wall_s = foxtrot_tools::logging::rounded(wall.as_secs_f64(), 3),
        "sim finished"
    );
    report(&a, &cfg, &run, wall, run.observer().0.as_ref())?;
    let violations = run.observer().0.as_ref().map_or(0, Checker::total);
    anyhow::ensure!(violations == 0, "{violations} invariant violations");
    Ok(())
}

/// Journals for a new run in `dir`, starting with `cfg`; refuses a directory
/// that already holds a run.
pub(crate) fn new_journals(dir: &std::path::Path, cfg: &Config) -> Result<RunJournals> {
    // Small runs stay small: the first segment is `journal_first_segment_mb`
    // (1 MiB by default), doubling per roll up to `journal_segment_mb`.
    let jc = JournalConfig {
        segment_size: cfg.runtime.journal_segment_mb << 20,
        first_segment_size: cfg.runtime.journal_first_segment_mb << 20,
        ..JournalConfig::default()
    };
    RunJournals::create(dir, jc, &cfg.canonical_text()).map_err(|e| match e {
        // Says the directory itself.
        foxtrot_engine::Error::RunExists(_) => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(format!("creating journals in {}", dir.display())),
    })
}

/// Writes the run's latency histograms to `dir/latency.json` for `foxtrot report`.
pub(crate) fn write_latency(dir: &std::path::Path, source: &str, hists: &[HistSnapshot]) -> Result<()> {
    let l = foxtrot_tools::report::Latency {
        source: source.to_string(),
        hists: hists.to_vec(),
    };
    Ok(foxtrot_tools::report::write_latency(dir, l)?)
}

/// Ends the journals of a run that ended on its own terms (its inputs ran
/// out, or it was stopped and drained): their end record, after every output.
pub(crate) fn finish_journals(j: &mut RunJournals) -> Result<()> {
    if let Some(e) = j.error() {
        anyhow::bail!("journalling failed: {e}");
    }
    j.end()?;
    tracing::info!(dir = %j.dir().display(), "recorded");
    Ok(())
}

/// A progress bar over `what`, its rate in whole units (`2.21M/s`, not
/// indicatif's `2,206,565.6588/s`).
pub(crate) fn progress_style(what: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{human_pos}}/{{human_len}} {what} ({{rate}}, eta {{eta}})"
    ))
    .expect("the template is valid")
    .with_key("rate", |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = w.write_str(&rate(s.per_sec()));
    })
}

/// `per_sec` as a short rate: `950/s`, `12.3k/s`, `2.21M/s`.
pub(crate) fn rate(per_sec: f64) -> String {
    match per_sec {
        r if r >= 1e6 => format!("{:.2}M/s", r / 1e6),
        r if r >= 1e4 => format!("{:.1}k/s", r / 1e3),
        r => format!("{r:.0}/s"),
    }
}

fn drive<O: RunObserver>(a: &SimArgs, cfg: &Config, obs: O) -> (FusedRun<SimWorld, O>, Duration) {
    let world = SimWorld::new(cfg);
    let mut run = FusedRun::with_observer(cfg, world, obs);
    let started = Instant::now();
    let bar = indicatif::ProgressBar::hidden();
    let mut shown = false;
    let total = cfg.gen.events;
    let mut steps = 0u64;
    while run.step() {
        steps += 1;
        if steps & 0xFFFF == 0 && !a.no_progress && !a.json {
            if !shown && started.elapsed() > Duration::from_secs(1) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_length(total);
                bar.set_style(progress_style("market-data events"));
                shown = true;
            }
            bar.set_position(run.venue().md_delivered().min(total));
        }
    }
    bar.finish_and_clear();
    (run, started.elapsed())
}

fn report<O: RunObserver>(
    a: &SimArgs,
    cfg: &Config,
    run: &FusedRun<SimWorld, O>,
    wall: Duration,
    checker: Option<&Checker>,
) -> Result<()> {
    let s = run.summary();
    let injected = run.venue().injected();
    if a.json {
        let mut j = to_json(&s, cfg, wall);
        j["injected_corrupt_records"] = serde_json::json!(injected);
        if let Some(c) = checker {
            j["check"] = serde_json::json!({
                "orders_checked": c.orders,
                "violations": c.total(),
                "by_kind": c.violations.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
                "examples": c.examples,
            });
        }
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        print_text("foxtrot sim", &s, cfg, wall);
        if cfg.gen.adversarial.enabled {
            println!("  adversarial   {injected} corrupt records injected");
        }
        if let Some(c) = checker {
            println!(
                "  check         {} orders re-verified independently: {} invariant violations",
                c.orders,
                c.total()
            );
            for e in &c.examples {
                println!("                {e}");
            }
        }
    }
    Ok(())
}

pub(crate) fn to_json(s: &RunSummary, cfg: &Config, wall: Duration) -> serde_json::Value {
    let c = &s.counters;
    serde_json::json!({
        "policy": s.policy,
        "policy_hash": s.policy_hash,
        "config_hash": cfg.config_hash(),
        "seed": cfg.gen.seed,
        "instruments": cfg.instruments.len(),
        "events": {
            "inputs": c.inputs, "market_data": c.md, "exec_reports": c.exec_reports,
            "timers": c.timers, "commands": c.commands, "bad_inputs": c.bad_inputs,
            "book_issues": c.book_issues, "unknown_exec_reports": c.unknown_exec,
            "out_of_order": s.out_of_order_inputs,
        },
        "orders": {
            "total": c.orders.iter().sum::<u64>(), "new": c.orders[0], "cancel": c.orders[1], "replace": c.orders[2],
            "mass_cancel": c.mass_cancels, "mass_cancel_refused": c.mass_cancel_refusals,
            "open_at_end": s.open_orders,
        },
        "fills": s.pnl.fills,
        "filled_qty": s.pnl.filled_qty,
        "turnover": s.pnl.turnover,
        "rejects": {
            "risk": rejects_json(s),
            "venue": c.venue_rejects,
            "venue_cancel_too_late": c.venue_cancel_rejects,
        },
        "anomalies": anomalies_json(c),
        "decisions": c.decisions,
        "decisions_by_policy": s.decisions_by_policy.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
        "regime_updates": s.regime_updates.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
        "transitions": c.transitions,
        "drift_alarms": c.drift_alarms,
        "drift": drift_json(s, cfg),
        "explored": c.explored,
        "pnl": s.pnl.equity,
        "max_drawdown": s.pnl.max_drawdown,
        "positions": positions_json(s, cfg),
        "tick_to_order_ns": {
            "p50": s.tick_to_order_ns[0], "p99": s.tick_to_order_ns[1],
            "p999": s.tick_to_order_ns[2], "max": s.tick_to_order_ns[3], "samples": s.latency_samples,
        },
        "order_hash": s.order_hash.0, "orders_hashed": s.order_hash.1,
        "diary_hash": s.diary_hash.0, "diary_records": s.diary_hash.1,
        "input_hash": s.input_hash.0,
        "wall_seconds": wall.as_secs_f64(),
    })
}

/// Final position and PnL split per instrument, by symbol.
pub(crate) fn positions_json(s: &RunSummary, cfg: &Config) -> serde_json::Value {
    cfg.instruments
        .iter()
        .zip(&s.positions)
        .map(|(i, (p, r, u))| {
            (
                i.symbol.clone(),
                serde_json::json!({ "position": p, "realised": r, "unrealised": u }),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Final positions as one line: `SYM pos (realised r, unrealised u), …`.
pub(crate) fn positions_text(s: &RunSummary, cfg: &Config) -> String {
    cfg.instruments
        .iter()
        .zip(&s.positions)
        .map(|(i, (p, r, u))| format!("{} {p} (realised {r:.2}, unrealised {u:.2})", i.symbol))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a sound venue never causes — fills an order cannot have had, orders
/// closed as gone without a final report — as summary lines (none when
/// there was none).
pub(crate) fn anomaly_lines(c: &foxtrot_engine::core::CoreCounters) -> Vec<String> {
    let mut v = Vec::new();
    if c.suspect_fills > 0 {
        v.push(format!(
            "  suspect fills {} fills an order of ours cannot have had (no quantity, more than the order's, or beyond its limit), booked as the venue reported them: a venue error or a garbled report",
            c.suspect_fills
        ));
    }
    if c.orders_gone > 0 {
        v.push(format!(
            "  missed reports {} orders closed when the venue refused a cancel/replace as unknown or too late while no final report of them had come: their last fills may be missing; reconcile with the venue",
            c.orders_gone
        ));
    }
    if c.trade_busts > 0 {
        v.push(format!(
            "  trade busts    {} fills the venue cancelled after reporting them, taken back from positions, cash and fees",
            c.trade_busts
        ));
    }
    if c.trade_corrections > 0 {
        v.push(format!(
            "  corrections   {} fills the venue corrected after reporting them, booked as the trade as corrected",
            c.trade_corrections
        ));
    }
    v
}

/// What the drift sentry did to the orders, when it did anything: its alarms,
/// the orders placed below the strategy's size, and the instruments still
/// scaled at the end — a line, since an answer smaller than the strategy's
/// must not pass unremarked (a backtest compared with another backtester's
/// would otherwise just look wrong).
pub(crate) fn drift_line(s: &RunSummary, cfg: &Config) -> Option<String> {
    let c = &s.counters;
    if c.drift_alarms == 0 && c.drift_sized == 0 {
        return None;
    }
    let scaled: Vec<String> = cfg
        .instruments
        .iter()
        .zip(&s.drift_size_factors)
        .filter(|(_, f)| **f < 1.0)
        .map(|(i, f)| format!("{} ×{f}", i.symbol))
        .collect();
    let end = if scaled.is_empty() {
        "none scaled at the end".to_string()
    } else {
        format!("scaled at the end: {}", scaled.join(", "))
    };
    Some(format!(
        "  drift sentry  {} alarms: {} orders placed below the strategy's size (each alarm halves it, to ×{} at \
         least); {end} (belief.drift.enabled=false turns the sentry off)",
        c.drift_alarms,
        c.drift_sized,
        foxtrot_engine::core::belief::drift::MIN_SIZE_FACTOR
    ))
}

/// [`drift_line`]'s figures, for `--json`.
pub(crate) fn drift_json(s: &RunSummary, cfg: &Config) -> serde_json::Value {
    let factors: serde_json::Map<_, _> = cfg
        .instruments
        .iter()
        .zip(&s.drift_size_factors)
        .map(|(i, f)| (i.symbol.clone(), serde_json::json!(f)))
        .collect();
    serde_json::json!({
        "alarms": s.counters.drift_alarms,
        "orders_sized_down": s.counters.drift_sized,
        "size_factor": factors,
    })
}

/// [`anomaly_lines`]' counts, for `--json`.
pub(crate) fn anomalies_json(c: &foxtrot_engine::core::CoreCounters) -> serde_json::Value {
    serde_json::json!({
        "suspect_fills": c.suspect_fills, "orders_gone": c.orders_gone, "trade_busts": c.trade_busts,
        "trade_corrections": c.trade_corrections,
    })
}

/// Risk rejects by reason as `reason=n, …`, or `none`.
pub(crate) fn rejects_text(s: &RunSummary) -> String {
    if s.rejects_by_reason.is_empty() {
        return "none".to_string();
    }
    s.rejects_by_reason
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The configured limits behind the run's risk rejects, as `key value`
/// pairs (`risk.max_order_qty 1000`), for the reasons that have one: a
/// backtest whose every order a template's limit refused says which key to
/// raise. Empty when no reject has a configured limit.
pub(crate) fn reject_limits(s: &RunSummary, cfg: &Config) -> String {
    use foxtrot_engine::records::RejectReason as R;
    let r = &cfg.risk;
    // Every reason named, so a new one is a decision here, not a silent gap.
    let limit = |reason: R| -> Option<String> {
        Some(match reason {
            R::MaxOrderQty => format!("risk.max_order_qty {}", r.max_order_qty),
            R::MaxNotional => format!("risk.max_notional {}", r.max_notional),
            R::PriceBand => format!("risk.price_band_bps {}", r.price_band_bps),
            R::PositionLimit => format!("risk.position_limit {}", r.position_limit),
            R::MaxOpenOrders => format!("risk.max_open_orders {}", r.max_open_orders),
            R::GrossExposure => format!("risk.max_gross {}", r.max_gross),
            R::Throttle => format!(
                "risk.orders_per_sec {}, risk.order_burst {}",
                r.orders_per_sec, r.order_burst
            ),
            R::ReduceOnly => format!("risk.reduce_only_drawdown {}", r.reduce_only_drawdown),
            R::DrawdownHalt => format!("risk.halt_drawdown {}", r.halt_drawdown),
            R::NoReference
            | R::Malformed
            | R::UnknownOrder
            | R::KillSwitch
            | R::OperatorReduceOnly
            | R::InstrumentHalted => return None,
        })
    };
    let v: Vec<String> = R::ALL
        .iter()
        .filter(|&&reason| s.counters.rejects[reason as usize] > 0)
        .filter_map(|&reason| limit(reason))
        .collect();
    if v.is_empty() {
        String::new()
    } else {
        format!(" (limits: {})", v.join("; "))
    }
}

/// Risk rejects by reason, as a JSON object.
pub(crate) fn rejects_json(s: &RunSummary) -> serde_json::Value {
    s.rejects_by_reason
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The text summary of a run, titled by the command that ran it.
pub(crate) fn print_text(title: &str, s: &RunSummary, cfg: &Config, wall: Duration) {
    let c = &s.counters;
    let rejects = rejects_text(s) + &reject_limits(s, cfg);
    println!(
        "{title}: policy {} (hash {}), seed {}, {} instruments",
        s.policy,
        s.policy_hash,
        cfg.gen.seed,
        cfg.instruments.len()
    );
    println!(
        "  events        {} inputs: {} market data, {} exec reports, {} timers",
        c.inputs, c.md, c.exec_reports, c.timers
    );
    let mass = match (c.mass_cancels, c.mass_cancel_refusals) {
        (0, _) => String::new(),
        (n, 0) => format!(" — of the cancels, {n} mass cancels"),
        (n, r) => format!(" — of the cancels, {n} mass cancels, {r} refused (their orders then cancelled one by one)"),
    };
    println!(
        "  orders        {} (new {}, cancel {}, replace {}){mass}",
        c.orders.iter().sum::<u64>(),
        c.orders[0],
        c.orders[1],
        c.orders[2]
    );
    println!(
        "  fills         {} (qty {}, turnover {:.2})",
        s.pnl.fills, s.pnl.filled_qty, s.pnl.turnover
    );
    println!(
        "  rejects       risk: {rejects}; venue: {}",
        foxtrot_tools::report::text::venue_rejects(c.venue_rejects, c.venue_cancel_rejects)
    );
    for line in anomaly_lines(c) {
        println!("{line}");
    }
    if let Some(line) = drift_line(s, cfg) {
        println!("{line}");
    }
    println!("  positions     {}", positions_text(s, cfg));
    let pairs = |v: &[(&str, u64)]| v.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
    println!(
        "  decisions     {} ({}); {} explored",
        c.decisions,
        pairs(&s.decisions_by_policy),
        c.explored
    );
    println!(
        "  regimes       {} ({} transitions); {} drift alarms",
        pairs(&s.regime_updates),
        c.transitions,
        c.drift_alarms
    );
    println!(
        "  pnl           {:+.2} (max drawdown {:.2})",
        s.pnl.equity, s.pnl.max_drawdown
    );
    println!(
        "  tick-to-order p50 {}  p99 {}  p99.9 {}  max {}  ({} orders)",
        ns(s.tick_to_order_ns[0]),
        ns(s.tick_to_order_ns[1]),
        ns(s.tick_to_order_ns[2]),
        ns(s.tick_to_order_ns[3]),
        s.latency_samples
    );
    println!(
        "  data quality  {} book issues (events the book could not apply: unknown order ids, prices outside its window), {} out-of-order inputs",
        c.book_issues, s.out_of_order_inputs
    );
    println!("  config hash   {}", cfg.config_hash());
    println!("  order hash    {} ({} messages)", s.order_hash.0, s.order_hash.1);
    println!("  diary hash    {} ({} records)", s.diary_hash.0, s.diary_hash.1);
    println!("  input hash    {} ({} inputs)", s.input_hash.0, s.input_hash.1);
    println!(
        "  wall time     {:.3} s ({:.0} inputs/s)",
        wall.as_secs_f64(),
        c.inputs as f64 / wall.as_secs_f64().max(1e-9)
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates_are_short() {
        assert_eq!(super::rate(2_206_565.658_8), "2.21M/s");
        assert_eq!(super::rate(12_345.6), "12.3k/s");
        assert_eq!(super::rate(950.4), "950/s");
    }
}
