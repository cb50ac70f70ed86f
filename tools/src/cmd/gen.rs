//! `foxtrot gen`: deterministic synthetic market data, into a native file
//! (`--format native`: the simulated crowd through the matching engine) or an
//! ITCH 5.0 file (`--format itch`: a synthetic NASDAQ day, see
//! `foxtrot_gateway::itch::gen`).

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
    /// Output file (default `data/gen.fxmd`, or `data/gen.itch` for ITCH).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Output format: `native` or `itch` (ITCH 5.0 binary file).
    #[arg(long, default_value = "native", value_parser = ["native", "itch"])]
    format: String,
    /// ITCH only: `prefixed` (2-byte length before each message, the standard
    /// file format) or `raw` (messages back to back, for the inferred fallback).
    #[arg(long, default_value = "prefixed", value_parser = ["prefixed", "raw"])]
    framing: String,
}

/// Writes a synthetic ITCH day for the config's symbols.
fn gen_itch(cfg: &foxtrot_engine::config::Config, out: &std::path::Path, raw: bool) -> Result<()> {
    use foxtrot_gateway::itch::gen::{ItchGen, ItchGenConfig};
    use std::io::Write;
    let spec = &cfg.instruments[0];
    // ITCH prices have four decimals.
    let scale = 10f64.powi(4 - spec.price_decimals as i32);
    let start = ((spec.ref_price as f64 * scale) as u32 / 100 * 100).max(100);
    let g = ItchGen::new(ItchGenConfig {
        seed: cfg.gen.seed,
        messages: cfg.gen.events,
        symbols: cfg.instruments.iter().map(|i| i.symbol.clone()).collect(),
        start_price: start,
        ..ItchGenConfig::default()
    });
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let (mut n, mut bytes) = (0u64, 0u64);
    for m in g {
        if !raw {
            w.write_all(&(m.len() as u16).to_be_bytes())?;
            bytes += 2;
        }
        w.write_all(&m)?;
        bytes += m.len() as u64;
        n += 1;
    }
    w.flush().with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {n} ITCH 5.0 messages ({bytes} bytes, {} framing) for {} symbols (seed {}) to {}",
        if raw { "raw" } else { "length-prefixed" },
        cfg.instruments.len(),
        cfg.gen.seed,
        out.display()
    );
    Ok(())
}

/// Runs `foxtrot gen`.
pub fn run(a: GenArgs) -> Result<()> {
    let cfg = load_config(&a.common)?;
    let itch = a.format == "itch";
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(if itch { "data/gen.itch" } else { "data/gen.fxmd" }));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if itch {
        return gen_itch(&cfg, &out, a.framing == "raw");
    }
    let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
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
        out.display()
    );
    Ok(())
}
