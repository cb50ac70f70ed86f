//! `foxtrot replay RUN_DIR`: the recorded inputs through the core again.

use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::runtime::replay::{replay, ReplayOptions};
use foxtrot_engine::Config;
use std::path::PathBuf;

/// Arguments of `foxtrot replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A run directory recorded by `foxtrot sim --record` (holding `inputs/`).
    run_dir: PathBuf,
    /// Replay under this configuration instead of the journalled one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one configuration key (repeatable) on the journalled configuration
    /// (or `--config`'s, or the imported data's): `--set strategy.momentum.fast=10`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Compare every output with the recorded ones; exit non-zero at the first
    /// divergence, naming its seq.
    #[arg(long)]
    verify: bool,
    /// With --verify, for a run that was killed: its recorded outputs may end
    /// early (a kill cuts them after the inputs that decided them), but must be
    /// a prefix of the replay's.
    #[arg(long, requires = "verify")]
    killed: bool,
    /// Write the replay's output journals under this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Backtest imported market data whose writer did not finish (an import or
    /// a capture killed half way), as far as it goes, instead of refusing it;
    /// the result says the data was incomplete.
    #[arg(long)]
    partial: bool,
}

/// A backtest of a market-data directory (`foxtrot import`'s output).
fn backtest(a: &ReplayArgs, config: Option<Config>) -> Result<()> {
    anyhow::ensure!(
        !a.verify,
        "{} is imported market data, not a recorded run: there is nothing to verify against \
         (record the backtest with --out DIR, then replay DIR --verify)",
        a.run_dir.display()
    );
    let started = std::time::Instant::now();
    let o = foxtrot_tools::backtest::run(&a.run_dir, config, a.out.as_deref(), a.partial)
        .with_context(|| format!("backtesting {}", a.run_dir.display()))?;
    let incomplete = o.unfinished.then(|| {
        format!(
            "INCOMPLETE: the market data's writer did not finish it (--partial): this backtest covers its first {} events only",
            o.venue.md
        )
    });
    let wall = started.elapsed().as_secs_f64();
    let s = &o.summary;
    let md_rate = o.venue.md as f64 / wall.max(1e-9);
    if a.json {
        let j = serde_json::json!({
            "backtest": true, "complete": !o.unfinished,
            "market_data": o.venue.md, "updates": o.venue.updates, "inputs": s.counters.inputs,
            "order_hash": s.order_hash.0, "orders_hashed": s.order_hash.1,
            "diary_hash": s.diary_hash.0, "diary_records": s.diary_hash.1,
            "orders": o.venue.orders, "fills": o.venue.fills, "filled_qty": o.venue.filled_qty,
            "venue_rejects": o.venue.rejects,
            "equity": s.pnl.equity, "max_drawdown": s.pnl.max_drawdown,
            "config_hash": o.config.config_hash(),
            "positions": super::sim::positions_json(s, &o.config),
            "rejects": super::sim::rejects_json(s),
            "anomalies": super::sim::anomalies_json(&s.counters),
            "drift": super::sim::drift_json(s, &o.config),
            "book_issues": s.counters.book_issues,
            "wall_seconds": wall, "market_data_per_sec": md_rate,
            "updates_per_sec": o.venue.updates as f64 / wall.max(1e-9),
        });
        println!("{j}");
        if let Some(w) = &incomplete {
            eprintln!("foxtrot replay: {w}");
        }
    } else {
        if let Some(w) = &incomplete {
            println!("  data          {w}");
        }
        println!(
            "foxtrot replay (backtest against the touch venue): {} market-data events, {} updates (quotes) in {wall:.3} s ({md_rate:.0} events/s, {:.0} updates/s)",
            o.venue.md,
            o.venue.updates,
            o.venue.updates as f64 / wall.max(1e-9)
        );
        println!(
            "  orders {}  fills {} ({} qty)  venue rejects {}  equity {:.2}  max drawdown {:.2}",
            o.venue.orders, o.venue.fills, o.venue.filled_qty, o.venue.rejects, s.pnl.equity, s.pnl.max_drawdown
        );
        println!("  order hash    {} ({} messages)", s.order_hash.0, s.order_hash.1);
        println!("  diary hash    {} ({} records)", s.diary_hash.0, s.diary_hash.1);
        println!("  config hash   {}", o.config.config_hash());
        print_outcome(s, &o.config);
        if let Some(d) = &a.out {
            println!("  recorded      {} (replay it with --verify)", d.display());
        }
    }
    Ok(())
}

/// PnL, fills, risk rejects by reason and final positions.
fn print_outcome(s: &foxtrot_engine::runtime::RunSummary, cfg: &Config) {
    let rejects = super::sim::rejects_text(s) + &super::sim::reject_limits(s, cfg);
    println!(
        "  pnl           {:.2} (max drawdown {:.2}); {} fills",
        s.pnl.equity, s.pnl.max_drawdown, s.pnl.fills
    );
    println!("  risk rejects  {rejects}");
    println!("  positions     {}", super::sim::positions_text(s, cfg));
    let c = &s.counters;
    if c.book_issues > 0 {
        println!(
            "  book issues   {} of {} market-data events the books could not apply (a price off the instrument's tick \
             grid or outside the book's window, an unknown order id): decisions saw the books without them; data \
             recorded at a tick coarser than its prices', or a window narrower than their span, is the usual cause",
            c.book_issues, c.md
        );
    }
    for line in super::sim::anomaly_lines(c) {
        println!("{line}");
    }
    if let Some(line) = super::sim::drift_line(s, cfg) {
        println!("{line}");
    }
}

/// The configuration hash of the run `dir` recorded (none when it cannot be read).
fn recorded_config_hash(dir: &std::path::Path) -> Option<String> {
    let (text, _) = foxtrot_engine::journal::JournalInputs::open(dir).ok()?;
    Some(
        Config::from_yaml(&text, &dir.join("inputs/config.yaml"))
            .ok()?
            .config_hash(),
    )
}

/// Runs `foxtrot replay`.
pub fn run(a: ReplayArgs) -> Result<()> {
    let md = foxtrot_engine::journal::market_data::is_market_data(&a.run_dir);
    let config = match (&a.config, a.set.is_empty()) {
        (Some(p), _) => Some(crate::setup::load_with_sets(Some(p), &a.set)?),
        (None, true) => None,
        (None, false) => {
            use foxtrot_engine::config::overrides::parse_with_sets;
            let (text, origin) = if md {
                // The market data's own configuration, as its canonical text.
                let (own, _) = foxtrot_engine::journal::market_data::MdSource::open(&a.run_dir)
                    .with_context(|| format!("opening {}", a.run_dir.display()))?;
                (own.canonical_text(), a.run_dir.join("config.yaml"))
            } else {
                let (text, _) = foxtrot_engine::journal::JournalInputs::open(&a.run_dir)
                    .with_context(|| format!("opening {}", a.run_dir.display()))?;
                (text, a.run_dir.join("inputs/config.yaml"))
            };
            Some(parse_with_sets(&text, &a.set, &origin)?)
        }
    };
    if md {
        return backtest(&a, config);
    }
    anyhow::ensure!(
        !a.partial,
        "--partial is for imported market data; {} is a recorded run, and a killed run replays as far as it was recorded",
        a.run_dir.display()
    );
    // A run still being recorded is verified as far as it was read: its
    // outputs grow while they are compared.
    let live = a
        .verify
        .then(|| foxtrot_shm::journal::writer_lock::held_elsewhere(&a.run_dir.join("inputs")))
        .flatten();
    let started = std::time::Instant::now();
    let opts = ReplayOptions {
        config,
        out: a.out.clone(),
        verify: a.verify,
        killed: a.killed,
        live: live.is_some(),
    };
    let o = replay(&a.run_dir, &opts).with_context(|| format!("replaying {}", a.run_dir.display()))?;
    let wall = started.elapsed();
    if a.json {
        let j = serde_json::json!({
            "inputs": o.inputs,
            "config_hash": o.config.config_hash(),
            "order_hash": o.summary.order_hash.0, "orders_hashed": o.summary.order_hash.1,
            "diary_hash": o.summary.diary_hash.0, "diary_records": o.summary.diary_hash.1,
            "verified": a.verify && o.divergence.is_none(),
            "pnl": o.summary.pnl.equity,
            "max_drawdown": o.summary.pnl.max_drawdown,
            "fills": o.summary.pnl.fills,
            "positions": super::sim::positions_json(&o.summary, &o.config),
            "rejects": super::sim::rejects_json(&o.summary),
            "drift": super::sim::drift_json(&o.summary, &o.config),
            "book_issues": o.summary.counters.book_issues,
            "ended": o.ended,
            "past_recorded_end": o.past_end,
            "recording_pid": live,
            "recorded_ahead": o.recorded_ahead,
            "divergence": o.divergence.as_ref().map(|d| serde_json::json!({
                "seq": d.seq, "stream": d.stream, "recorded": d.recorded, "replayed": d.replayed,
            })),
            "wall_seconds": wall.as_secs_f64(),
        });
        println!("{j}");
    } else {
        println!(
            "foxtrot replay: {} inputs in {:.3} s ({:.0} inputs/s)",
            o.inputs,
            wall.as_secs_f64(),
            o.inputs as f64 / wall.as_secs_f64().max(1e-9)
        );
        println!(
            "  order hash    {} ({} messages)",
            o.summary.order_hash.0, o.summary.order_hash.1
        );
        println!(
            "  diary hash    {} ({} records)",
            o.summary.diary_hash.0, o.summary.diary_hash.1
        );
        print_outcome(&o.summary, &o.config);
        println!("  run end       {}", foxtrot_tools::report::run_end_line(o.ended, live));
        if let (true, None, Some(pid)) = (a.verify, &o.divergence, live) {
            println!(
                "  verify        identical to the recorded orders and diary as far as both go \
                 (still being recorded by pid {pid}: {} replayed past the outputs read, {} recorded past the inputs read)",
                o.past_end, o.recorded_ahead
            );
        } else if a.verify && o.divergence.is_none() && a.killed {
            println!(
                "  verify        identical to the recorded orders and diary as far as they go ({} outputs past the kill)",
                o.past_end
            );
        } else if a.verify && o.divergence.is_none() {
            println!("  verify        identical to the recorded orders and diary");
        }
    }
    if let Some(d) = &o.divergence {
        // Replayed under a configuration of its own (--set, --config): the
        // outputs may differ by design, which the divergence should say.
        let changed = (a.config.is_some() || !a.set.is_empty())
            .then(|| recorded_config_hash(&a.run_dir))
            .flatten()
            .filter(|h| *h != o.config.config_hash())
            .map(|h| {
                format!(
                    "\n  replayed under another configuration than the recorded one (config hash {}, recorded {h}: \
                     --set/--config changed it), so its outputs may differ by design; without them the run replays \
                     as recorded",
                    o.config.config_hash()
                )
            });
        anyhow::bail!(
            "first divergence at seq {} in the {} stream:\n  recorded: {}\n  replayed: {}{}{}",
            d.seq,
            d.stream,
            d.recorded,
            d.replayed,
            if !o.ended && !a.killed && d.recorded_short {
                "\n  the run has no end record: it was killed (or its journal's tail was lost), and a killed run's \
                 outputs stop short of its inputs; `--verify --killed` checks them as a prefix of the replay's"
            } else {
                ""
            },
            changed.unwrap_or_default()
        );
    }
    Ok(())
}
