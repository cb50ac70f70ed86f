//! `foxtrot gen`: deterministic synthetic market data into a native file.

use crate::setup::{load_config, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::records::InputView;
use foxtrot_engine::runtime::VenueLink;
use foxtrot_gateway::feed::native::NativeWriter;
use foxtrot_gateway::SimWorld;
use std::path::PathBuf;

/// Arguments of `foxtrot gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output file.
    #[arg(long, short, default_value = "data/gen.fxmd")]
    out: PathBuf,
    /// Output format (`native`; ITCH arrives with the market-data issue).
    #[arg(long, default_value = "native", value_parser = ["native"])]
    format: String,
}

/// Runs `foxtrot gen`.
pub fn run(a: GenArgs) -> Result<()> {
    let cfg = load_config(&a.common)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::File::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut w = NativeWriter::new(
        std::io::BufWriter::new(file),
        &cfg.instruments,
        cfg.gen.seed,
        cfg.gen.start_ns,
    )?;
    // The crowd alone, through the matching engine: what the venue would publish.
    let mut world = SimWorld::new(&cfg);
    let mut n = 0u64;
    while n < cfg.gen.events {
        match world.poll() {
            Some(slot) => {
                if let Some(InputView::Md(m)) = slot.view() {
                    w.write(m)?;
                    n += 1;
                }
            }
            None => break,
        }
    }
    w.finish()?;
    println!(
        "wrote {n} market-data events for {} instruments (seed {}) to {}",
        cfg.instruments.len(),
        cfg.gen.seed,
        a.out.display()
    );
    Ok(())
}
