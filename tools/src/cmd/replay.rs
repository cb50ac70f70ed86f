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
    /// Compare every output with the recorded ones; exit non-zero at the first
    /// divergence, naming its seq.
    #[arg(long)]
    verify: bool,
    /// Write the replay's output journals under this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `foxtrot replay`.
pub fn run(a: ReplayArgs) -> Result<()> {
    let config = match &a.config {
        Some(p) => Some(Config::load(p)?),
        None => None,
    };
    let started = std::time::Instant::now();
    let opts = ReplayOptions {
        config,
        out: a.out.clone(),
        verify: a.verify,
    };
    let o = replay(&a.run_dir, &opts).with_context(|| format!("replaying {}", a.run_dir.display()))?;
    let wall = started.elapsed();
    if a.json {
        let j = serde_json::json!({
            "inputs": o.inputs,
            "order_hash": o.order_hash.0, "orders_hashed": o.order_hash.1,
            "diary_hash": o.diary_hash.0, "diary_records": o.diary_hash.1,
            "verified": a.verify && o.divergence.is_none(),
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
        println!("  order hash    {} ({} messages)", o.order_hash.0, o.order_hash.1);
        println!("  diary hash    {} ({} records)", o.diary_hash.0, o.diary_hash.1);
        if a.verify && o.divergence.is_none() {
            println!("  verify        identical to the recorded orders and diary");
        }
    }
    if let Some(d) = &o.divergence {
        anyhow::bail!(
            "first divergence at seq {} in the {} stream:\n  recorded: {}\n  replayed: {}",
            d.seq,
            d.stream,
            d.recorded,
            d.replayed
        );
    }
    Ok(())
}
