//! `foxtrot sweep`: a parameter grid over one imported dataset, on every core,
//! shardable over machines; `foxtrot sweep merge` joins the shards.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use foxtrot_engine::config::overrides::apply_sets;
use foxtrot_tools::sweep::{self, Grid, Shard, Sweep};
use std::path::PathBuf;

/// Arguments of `foxtrot sweep`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepArgs {
    /// The base configuration (default: the dataset's own).
    config: Option<PathBuf>,
    /// The imported market-data directory (`foxtrot import`'s output).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// An axis of the grid, `key=v1,v2,…` (repeatable; every combination runs).
    #[arg(long, value_name = "KEY=V1,V2,…")]
    grid: Vec<String>,
    /// Set one configuration key on the base configuration (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run only the combinations `i` with `i % N == I` (one machine's part).
    #[arg(long, value_name = "I/N", default_value = "0/1")]
    shard: String,
    /// Threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Option<SweepCmd>,
}

#[derive(Subcommand, Debug)]
enum SweepCmd {
    /// Join the output directories of the shards of one sweep.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Runs `foxtrot sweep`.
pub fn run(a: SweepArgs) -> Result<()> {
    if let Some(SweepCmd::Merge { shards, out }) = a.cmd {
        let n = sweep::merge(&shards, &out).context("merging the sweep")?;
        println!(
            "foxtrot sweep merge: {} shards, {n} combinations → {}",
            shards.len(),
            out.display()
        );
        return Ok(());
    }
    let data = a.data.context("--data DIR: the imported dataset to sweep over")?;
    let out = a.out.context("--out DIR: where the results go")?;
    sweep::check_out(&out)?;
    let grid = Grid::parse(&a.grid)?;
    let shard = Shard::parse(&a.shard)?;
    let (text, origin) = match &a.config {
        Some(p) => (
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            p.clone(),
        ),
        None => {
            let (own, _) = foxtrot_engine::journal::market_data::MdSource::open(&data)
                .with_context(|| format!("opening {}", data.display()))?;
            (own.canonical_text(), data.join("config.yaml"))
        }
    };
    let base_text = apply_sets(&text, &a.set, &origin)?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = std::time::Instant::now();
    let s = Sweep {
        data: &data,
        base_text,
        origin,
        grid,
        shard,
        jobs,
    };
    let (m, rows) = sweep::run(&s).with_context(|| format!("sweeping over {}", data.display()))?;
    sweep::write(&out, &m, &rows)?;
    print!("{}{}", sweep::table(&m.grid, &rows), m.not_run_lines());
    let refused = match m.not_run.len() {
        0 => String::new(),
        n => format!(" ({n} of the grid's not run: the configuration refuses them)"),
    };
    println!(
        "foxtrot sweep: {} of {} combinations (shard {}/{}){refused} on {jobs} threads in {:.2} s → {}",
        rows.len(),
        m.grid.len(),
        shard.index,
        shard.count,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    let scaled = rows.iter().filter(|r| r.orders_sized_down > 0).count();
    if scaled > 0 {
        println!(
            "  drift sentry: {scaled} of {} combinations traded below the strategy's size (orders_sized_down): \
             --set belief.drift.enabled=false turns the sentry off",
            rows.len()
        );
    }
    Ok(())
}
