//! What every pipeline command shares: loading the config and applying the
//! common overrides (`--seed`, `--events`, `--instruments`).

use anyhow::Result;
use clap::Args;
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_engine::Config;
use std::path::PathBuf;

/// Options shared by every command that runs the pipeline or the generator.
#[derive(Args, Clone, Debug)]
pub struct CommonArgs {
    /// Configuration file (default: the embedded `configs/sim.yaml`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Generator seed (overrides `gen.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Market-data events to generate (overrides `gen.events`).
    #[arg(long)]
    pub events: Option<u64>,
    /// Number of instruments: the first N of the config, or more synthesised after them.
    #[arg(long)]
    pub instruments: Option<usize>,
    /// Set one configuration key (repeatable): `--set strategy.momentum.fast=10`,
    /// `--set instruments.0.tick=5`. Checked like the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Loads `path` (or the embedded default) with `sets` applied.
pub fn load_with_sets(path: Option<&std::path::Path>, sets: &[String]) -> Result<Config> {
    use foxtrot_engine::config::{DEFAULT_SIM_YAML, EMBEDDED_ORIGIN};
    load_or(path, sets, DEFAULT_SIM_YAML, EMBEDDED_ORIGIN)
}

/// Loads `path` (or the embedded backtest template `configs/backtest.yaml`)
/// with `sets` applied: the template of the commands that write market data
/// (`import`, `record`).
pub fn load_template_with_sets(path: Option<&std::path::Path>, sets: &[String]) -> Result<Config> {
    use foxtrot_engine::config::{BACKTEST_ORIGIN, BACKTEST_YAML};
    load_or(path, sets, BACKTEST_YAML, BACKTEST_ORIGIN)
}

/// Loads `path`, or else the embedded `text` (named `origin`), with `sets` applied.
fn load_or(path: Option<&std::path::Path>, sets: &[String], text: &str, origin: &str) -> Result<Config> {
    use foxtrot_engine::config::overrides::parse_with_sets;
    Ok(match path {
        Some(p) if !sets.is_empty() => {
            let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            parse_with_sets(&text, sets, p)?
        }
        Some(p) => Config::load(p)?,
        None if sets.is_empty() => Config::from_yaml(text, std::path::Path::new(origin))?,
        None => parse_with_sets(text, sets, std::path::Path::new(origin))?,
    })
}

/// Loads the config and applies the overrides; the result is validated again.
pub fn load_config(a: &CommonArgs) -> Result<Config> {
    let mut cfg = load_with_sets(a.config.as_deref(), &a.set)?;
    if let Some(s) = a.seed {
        cfg.gen.seed = s;
    }
    if let Some(e) = a.events {
        anyhow::ensure!(e > 0, "--events must be > 0");
        cfg.gen.events = e;
    }
    if let Some(n) = a.instruments {
        anyhow::ensure!((1..=1024).contains(&n), "--instruments must be in 1..=1024");
        let base = cfg.instruments[0].clone();
        cfg.instruments.truncate(n);
        for i in cfg.instruments.len()..n {
            cfg.instruments.push(InstrumentSpec {
                symbol: format!("SYN{i:03}"),
                ref_price: (base.ref_price / base.tick + 37 * i as i64) * base.tick,
                ..base.clone()
            });
        }
    }
    let origin = a.config.clone().unwrap_or_else(|| "<embedded configs/sim.yaml>".into());
    cfg.check(&origin)?;
    note_loaded(&cfg, &origin);
    Ok(cfg)
}

/// Registers the config's secrets with the log masker and logs what was loaded.
pub fn note_loaded(cfg: &Config, origin: &std::path::Path) {
    if let Some(p) = &cfg.session.password {
        foxtrot_tools::logging::register_secret(p.expose());
    }
    tracing::info!(
        config = %origin.display(),
        config_hash = %cfg.config_hash(),
        instruments = cfg.instruments.len(),
        session = %format!(
            "{} {}->{}",
            cfg.session.begin_string, cfg.session.sender_comp_id, cfg.session.target_comp_id
        ),
        "configuration loaded"
    );
}

/// The configured busy polling of a section, as the socket layer takes it.
pub fn busy_poll(c: foxtrot_engine::config::BusyPollConfig) -> foxtrot_net::BusyPoll {
    foxtrot_net::BusyPoll {
        usecs: c.usecs,
        prefer: c.prefer,
        budget: c.budget,
    }
}

/// The configured AF_XDP endpoint, as the socket layer takes it (busy polling
/// from the section's `busy_poll`).
pub fn xdp(
    c: &foxtrot_engine::config::XdpSection,
    busy: Option<foxtrot_engine::config::BusyPollConfig>,
) -> foxtrot_net::XdpConfig {
    use foxtrot_engine::config::{XdpMode, XdpZeroCopy};
    use foxtrot_net::xdp_config::{AttachMode, ZeroCopy};
    let mut x = foxtrot_net::XdpConfig::new(&c.interface);
    x.queue = c.queue;
    x.mode = match c.mode {
        XdpMode::Auto => AttachMode::Auto,
        XdpMode::Native => AttachMode::Native,
        XdpMode::Generic => AttachMode::Generic,
    };
    x.zero_copy = match c.zero_copy {
        XdpZeroCopy::Auto => ZeroCopy::Auto,
        XdpZeroCopy::On => ZeroCopy::On,
        XdpZeroCopy::Off => ZeroCopy::Off,
    };
    x.frames = c.frames;
    x.busy_poll = busy.map(busy_poll);
    x
}
