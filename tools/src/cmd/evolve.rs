//! `foxtrot evolve`: search strategies over a regime grid and promote the
//! champion through the policy ledger's gates (see `foxtrot_tools::evolve`).
//!
//! One machine: `foxtrot evolve [CONFIG] --data GRID --generations G
//! --population P --seed S --out EVO`. Many machines (a Slurm job array per
//! generation): `evolve init …`, then per generation `evolve eval EVO --shard
//! I/N` on every task and `evolve advance EVO` once they are done.

use crate::setup::load_with_sets;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use foxtrot_tools::evolve::data::{self, Part};
use foxtrot_tools::evolve::score::score;
use foxtrot_tools::evolve::select;
use foxtrot_tools::evolve::state::{self, Evolution, Mode, Plan};
use foxtrot_tools::policy::Ledger;
use foxtrot_tools::sweep::Shard;
use std::path::{Path, PathBuf};

/// What is searched (shared by `evolve` and `evolve init`).
#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    /// The base configuration (default: the embedded `configs/sim.yaml`).
    config: Option<PathBuf>,
    /// Set one configuration key on the base configuration (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The regime grid (`foxtrot evolve data`'s output).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Generations.
    #[arg(long, default_value_t = 4)]
    generations: u32,
    /// Candidates per generation.
    #[arg(long, default_value_t = 8)]
    population: usize,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `tournament` (one elite, the rest offspring) or `mu-plus-lambda` (the best half survive).
    #[arg(long, default_value = "tournament", value_parser = ["tournament", "mu-plus-lambda"])]
    mode: String,
    /// Market-data events each generation may replay (default: no limit).
    #[arg(long, value_name = "EVENTS")]
    budget: Option<u64>,
    /// Weight of novelty against fitness in selection.
    #[arg(long, default_value_t = 0.3)]
    novelty: f64,
    /// Tournament size.
    #[arg(long, default_value_t = 3)]
    tournament: usize,
    /// Held-out fitness uplift over the incumbent needed to promote.
    #[arg(long, default_value_t = 0.0)]
    min_uplift: f64,
    /// The evolution's directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Arguments of `foxtrot evolve`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvolveArgs {
    #[command(flatten)]
    plan: PlanArgs,
    /// The policy ledger.
    #[arg(long, value_name = "DIR", default_value = "ledger")]
    ledger: PathBuf,
    /// Threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// This task's part of every generation, `I/N` (a Slurm job array runs the
    /// same command with `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`
    /// and one `--out` on a shared file system): every task scores its shard,
    /// then any shard not yet scored; task 0 initialises the evolution,
    /// advances each generation and alone writes the ledger.
    #[arg(long, value_name = "I/N", default_value = "0/1")]
    shard: String,
    /// How long a task waits for the others (seconds) before giving up.
    #[arg(long, default_value_t = 3600)]
    wait_timeout: u64,
    #[command(subcommand)]
    cmd: Option<EvolveCmd>,
}

#[derive(Subcommand, Debug)]
enum EvolveCmd {
    /// Generate a regime grid: per regime, every instrument's events cut in time
    /// into a fitted and a held-out slice.
    Data {
        /// The base configuration (default: the embedded `configs/sim.yaml`).
        config: Option<PathBuf>,
        /// Set one configuration key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// The grid's directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Crowd events per regime.
        #[arg(long, default_value_t = 60_000)]
        events: u64,
        /// Share of each slice pair kept for fitting.
        #[arg(long, default_value_t = 0.7)]
        fit: f64,
    },
    /// Create an evolution directory with its first generation.
    Init {
        #[command(flatten)]
        plan: PlanArgs,
    },
    /// Score one shard of the current generation.
    Eval {
        /// The evolution's directory.
        dir: PathBuf,
        /// This task's part, `I/N`.
        #[arg(long, value_name = "I/N", default_value = "0/1")]
        shard: String,
        /// Threads (default: the machine's cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Merge the current generation's shards, then breed the next or promote.
    Advance {
        /// The evolution's directory.
        dir: PathBuf,
        /// The policy ledger.
        #[arg(long, value_name = "DIR", default_value = "ledger")]
        ledger: PathBuf,
    },
    /// Compile a genotype (canonical text) over a base configuration: the
    /// phenotype's canonical configuration text.
    Compile {
        /// The genotype file.
        genotype: PathBuf,
        /// The base configuration (default: the embedded `configs/sim.yaml`).
        config: Option<PathBuf>,
        /// Set one configuration key on the base (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Write it here (default stdout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Score a configuration on a regime grid: its fitness table, as JSON.
    Score {
        /// The configuration.
        config: PathBuf,
        /// The regime grid.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// `fit` or `oos` slices.
        #[arg(long, default_value = "oos", value_parser = ["fit", "oos"])]
        part: String,
    },
}

fn threads(j: Option<usize>) -> usize {
    j.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn init(p: &PlanArgs) -> Result<Evolution> {
    let base = load_with_sets(p.config.as_deref(), &p.set)?;
    let data = p
        .data
        .clone()
        .context("--data DIR: the regime grid (foxtrot evolve data)")?;
    let out = p.out.clone().context("--out DIR: the evolution's directory")?;
    let plan = Plan {
        data,
        grid_hash: String::new(),
        base_config_hash: String::new(),
        generations: p.generations,
        population: p.population,
        seed: p.seed,
        mode: if p.mode == "tournament" {
            Mode::Tournament
        } else {
            Mode::MuPlusLambda
        },
        budget: p.budget,
        novelty_weight: p.novelty,
        tournament: p.tournament,
        min_uplift: p.min_uplift,
    };
    Ok(state::init(&out, &base, plan)?)
}

fn open_ledger(p: &Path) -> Result<Ledger> {
    Ledger::open(p).with_context(|| format!("opening the ledger {}", p.display()))
}

/// Runs `foxtrot evolve`.
pub fn run(a: EvolveArgs) -> Result<()> {
    match a.cmd {
        Some(EvolveCmd::Data {
            config,
            set,
            out,
            events,
            fit,
        }) => {
            let base = load_with_sets(config.as_deref(), &set)?;
            let g = data::generate(&base, &out, events, fit)?;
            for s in &g.slices {
                println!("{:<28} {:>7} events  {}", s.id, s.events, s.hash);
            }
            println!("regime grid: {} slices → {}", g.slices.len(), out.display());
        }
        Some(EvolveCmd::Init { plan }) => {
            let e = init(&plan)?;
            println!(
                "evolution {} initialised: generation 0 of {}",
                e.dir().display(),
                e.plan.generations
            );
        }
        Some(EvolveCmd::Eval { dir, shard, jobs }) => {
            let e = Evolution::open(&dir)?;
            let shard = Shard::parse(&shard)?;
            let g = e.generation()?;
            let n = e.eval(shard, threads(jobs))?;
            println!(
                "generation {}: shard {}/{} scored {n} replays",
                g.unwrap_or(0),
                shard.index,
                shard.count
            );
        }
        Some(EvolveCmd::Advance { dir, ledger }) => {
            let e = Evolution::open(&dir)?;
            let mut l = open_ledger(&ledger)?;
            println!("{}", e.advance(&mut l)?);
        }
        Some(EvolveCmd::Compile {
            genotype,
            config,
            set,
            out,
        }) => {
            let base = load_with_sets(config.as_deref(), &set)?;
            let text = std::fs::read_to_string(&genotype).with_context(|| format!("reading {}", genotype.display()))?;
            let g = foxtrot_tools::evolve::StrategyGenotype::parse(&text)?;
            let cfg = g.compile(&base)?;
            match out {
                Some(p) => {
                    std::fs::write(&p, cfg.canonical_text()).with_context(|| format!("writing {}", p.display()))?;
                    println!("genotype {} → config {} ({})", g.hash(), cfg.config_hash(), p.display());
                }
                None => print!("{}", cfg.canonical_text()),
            }
        }
        Some(EvolveCmd::Score { config, data, part }) => {
            let cfg = foxtrot_engine::Config::load(&config)?;
            let grid = data::Grid::open(&data)?;
            data::check_instruments(&data, &grid, &cfg)?;
            let part = if part == "fit" { Part::Fit } else { Part::Oos };
            let scores = grid
                .part(part)
                .map(|s| score(&cfg, &data, s, None))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<_> = scores.iter().collect();
            let out = serde_json::json!({
                "config_hash": cfg.config_hash(),
                "fitness": select::fitness(&refs),
                "regimes": select::regime_table(&grid, &refs),
                "slices": scores,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        None => {
            let shard = Shard::parse(&a.shard)?;
            if shard.count > 1 {
                return sharded(&a, shard);
            }
            if a.plan.out.as_ref().is_some_and(|o| o.join("plan.json").exists()) {
                bail!(
                    "--out {}: already holds an evolution (resume it with evolve eval/advance)",
                    a.plan.out.as_ref().map_or(String::new(), |o| o.display().to_string())
                );
            }
            let e = init(&a.plan)?;
            let mut l = open_ledger(&a.ledger)?;
            let t = threads(a.jobs);
            while let Some(g) = e.generation()? {
                let t0 = std::time::Instant::now();
                let n = e.eval(Shard::ALL, t)?;
                let said = e.advance(&mut l)?;
                println!(
                    "[{:>6.1} s] generation {g}: {n} replays — {said}",
                    t0.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(())
}

/// Polls `done` every 100 ms until it holds, for at most `secs` seconds.
fn wait_until(secs: u64, what: &str, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !done()? {
        if std::time::Instant::now() > until {
            bail!("waited {secs} s for {what}; give more with --wait-timeout");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// One task of a sharded evolution (see `--shard`).
fn sharded(a: &EvolveArgs, shard: Shard) -> Result<()> {
    let out = a
        .plan
        .out
        .clone()
        .context("--out DIR: the evolution's directory (shared by every task)")?;
    if shard.index == 0 && !out.join("plan.json").exists() {
        init(&a.plan)?;
    }
    wait_until(a.wait_timeout, "task 0 to initialise the evolution", || {
        Ok(out.join("state.json").exists())
    })?;
    let e = Evolution::open(&out)?;
    let t = threads(a.jobs);
    let mut ledger = if shard.index == 0 {
        Some(open_ledger(&a.ledger)?)
    } else {
        None
    };
    while let Some(g) = e.generation()? {
        let t0 = std::time::Instant::now();
        // Its own shard first, then any other not yet filed (a task that never
        // starts does not stall the rest; a shard scored twice files the same bytes).
        let mut n = 0;
        for k in 0..shard.count {
            let part = Shard {
                index: (shard.index + k) % shard.count,
                count: shard.count,
            };
            if e.generation()? == Some(g) && !e.shard_done(g, part) {
                n += e.eval(part, t)?;
            }
        }
        match ledger.as_mut() {
            Some(l) => {
                let said = e.advance(l)?;
                println!(
                    "[{:>6.1} s] generation {g}: {n} replays here — {said}",
                    t0.elapsed().as_secs_f64()
                );
            }
            None => {
                wait_until(a.wait_timeout, "task 0 to advance the generation", || {
                    Ok(e.generation()? != Some(g))
                })?;
                println!(
                    "[{:>6.1} s] generation {g}: {n} replays here",
                    t0.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(())
}
