//! `foxtrot gen`: deterministic synthetic market data, into a native file
//! (`--format native`: the simulated crowd through the matching engine) or an
//! ITCH 5.0 file (`--format itch`: a synthetic NASDAQ day, see
//! `foxtrot_venue::gen::itch`).

use crate::setup::{load_config, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::records::InputView;
use foxtrot_engine::runtime::VenueLink;
use foxtrot_feed::native::NativeWriter;
use foxtrot_venue::SimWorld;
use std::path::PathBuf;

/// Arguments of `foxtrot gen`.
#[derive(Args, Debug)]
pub struct GenArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output file (default `data/gen.fxmd`, or `data/gen.itch` for ITCH).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Output format: `native`, `itch` (ITCH 5.0 binary file), or `csv` (the first
    /// instrument's top-of-book quotes from the simulated market, one row per change:
    /// timestamp,bid,bid_size,ask,ask_size, ISO timestamps).
    #[arg(long, default_value = "native", value_parser = ["native", "itch", "csv"])]
    format: String,
    /// ITCH only: `prefixed` (2-byte length before each message, the standard
    /// file format) or `raw` (messages back to back, for the inferred fallback).
    #[arg(long, default_value = "prefixed", value_parser = ["prefixed", "raw"])]
    framing: String,
}

/// Writes the first instrument's quotes from the simulated market as CSV.
fn gen_csv(cfg: &foxtrot_engine::config::Config, out: &std::path::Path) -> Result<()> {
    use std::io::Write;
    let spec = &cfg.instruments[0];
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "timestamp,bid,bid_size,ask,ask_size")?;
    let mut world = SimWorld::new(cfg);
    let mut book = foxtrot_engine::core::Book::new(spec.tick, spec.ref_price, cfg.book.window_ticks);
    let (mut rows, mut n, mut last) = (0u64, 0u64, None);
    while n < cfg.gen.events {
        let Some(slot) = world.poll() else { break };
        let Some(InputView::Md(m)) = slot.view() else { continue };
        n += 1;
        if m.header.instrument != 0 || book.apply(m).is_err() {
            continue;
        }
        let (Some((b, bs)), Some((a, as_))) = (book.best_bid(), book.best_ask()) else {
            continue;
        };
        if b >= a || last == Some((b, bs, a, as_)) {
            continue;
        }
        last = Some((b, bs, a, as_));
        let (pd, qd) = (spec.price_decimals, spec.qty_decimals);
        writeln!(
            w,
            "{},{},{},{},{}",
            foxtrot_engine::format::calendar::iso8601(m.header.ts_ns),
            foxtrot_engine::format::decimal::to_text(b, pd),
            foxtrot_engine::format::decimal::to_text(bs, qd),
            foxtrot_engine::format::decimal::to_text(a, pd),
            foxtrot_engine::format::decimal::to_text(as_, qd)
        )?;
        rows += 1;
    }
    w.flush().with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {rows} quotes of {} from {n} simulated market-data events (seed {}) to {}",
        spec.symbol,
        cfg.gen.seed,
        out.display()
    );
    let dir = out.with_extension("md");
    println!(
        "backtest it with: foxtrot import --format csv {} --symbol {} --out {} && foxtrot replay {}",
        out.display(),
        spec.symbol,
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// Writes a synthetic ITCH day for the config's symbols.
fn gen_itch(cfg: &foxtrot_engine::config::Config, out: &std::path::Path, raw: bool) -> Result<()> {
    use foxtrot_venue::gen::itch::{ItchGen, ItchGenConfig};
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
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from(match a.format.as_str() {
            "itch" => "data/gen.itch",
            "csv" => "data/gen.csv",
            _ => "data/gen.fxmd",
        })
    });
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if itch {
        return gen_itch(&cfg, &out, a.framing == "raw");
    }
    if a.format == "csv" {
        return gen_csv(&cfg, &out);
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
