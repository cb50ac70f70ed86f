//! `foxtrot feed` and `foxtrot record`: the feed handler and the capture.
//!
//! `foxtrot feed --from SOURCE --to shm:PATH --symbols A,B` is the feed-handler
//! process: it decodes an ITCH file (`itch:PATH`, optionally `--pace`d) or a
//! MoldUDP64 stream (`mold:ADDR`, unicast or a multicast group) and writes the
//! normalised events and data-quality findings into a shared-memory ring, which
//! the engine side reads with no syscall per message on either side.
//!
//! `foxtrot record --from SOURCE --out DIR --symbols A,B` captures any feed —
//! those two, or the ring (`shm:PATH`) — into a market-data directory (the same
//! format `foxtrot import` writes, so `foxtrot replay DIR` backtests it), checking
//! data quality on the way and journalling every finding next to the data.

use anyhow::{bail, Context, Result};
use clap::Args;
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_feed::capture::MdWriter;
use foxtrot_feed::itch::Subscription;
use foxtrot_feed::transport::{Feed, ItchFileFeed, MoldUdpFeed, Next, ShmFeed, ShmPublisher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What both commands need to open a source.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// `itch:PATH` (an ITCH 5.0 file, gzip or zstd too), `mold:ADDR:PORT` (MoldUDP64 over UDP) or,
    /// for `record`, `shm:PATH` (the ring of a `foxtrot feed`).
    #[arg(long)]
    from: String,
    /// The symbols to keep, comma-separated; instrument i is the i-th.
    #[arg(long, value_delimiter = ',', required = true)]
    symbols: Vec<String>,
    /// The trading day (YYYY-MM-DD) ITCH times of day are on.
    #[arg(long, default_value = "2026-01-05")]
    date: String,
    /// ITCH file only: replay at this multiple of real time (default: as fast as possible).
    #[arg(long)]
    pace: Option<f64>,
    /// ITCH file only: `auto` (detected), `prefixed`, `zero-prefixed` or `raw`.
    #[arg(long, default_value = "auto", value_parser = foxtrot_feed::itch::file::FRAMING_NAMES)]
    framing: String,
    /// MoldUDP64 only: packets held while waiting for a late (or retransmitted) one.
    #[arg(long, default_value_t = 64)]
    reorder_window: usize,
    /// MoldUDP64 only: the publisher's retransmission server (ADDR:PORT); gaps
    /// are asked for there and waited for before they are declared lost.
    #[arg(long, value_name = "ADDR")]
    retransmit: Option<std::net::SocketAddr>,
    /// Stop after this long without data (live sources; default: wait for the end).
    #[arg(long, value_name = "SECONDS")]
    idle_timeout: Option<f64>,
    /// MoldUDP64 only: receive through an AF_XDP socket on this interface
    /// (a build with `--features af_xdp`; root).
    #[arg(long, value_name = "IFACE")]
    xdp: Option<String>,
    /// With --xdp: the receive queue to bind.
    #[arg(long, default_value_t = 0, requires = "xdp")]
    xdp_queue: u32,
    /// With --xdp: where the XDP program runs (`auto`, `native`, `generic`).
    #[arg(long, default_value = "auto", requires = "xdp")]
    xdp_mode: foxtrot_net::xdp_config::AttachMode,
    /// With --xdp: zero-copy mode (`auto`, `on`, `off`).
    #[arg(long, default_value = "auto", requires = "xdp")]
    xdp_zero_copy: foxtrot_net::xdp_config::ZeroCopy,
}

impl SourceArgs {
    /// The AF_XDP endpoint the flags ask for, if any.
    fn xdp(&self) -> Option<foxtrot_net::XdpConfig> {
        let mut x = foxtrot_net::XdpConfig::new(self.xdp.as_deref()?);
        x.queue = self.xdp_queue;
        x.mode = self.xdp_mode;
        x.zero_copy = self.xdp_zero_copy;
        Some(x)
    }
}

/// Arguments of `foxtrot feed`.
#[derive(Args, Debug)]
pub struct FeedArgs {
    #[command(flatten)]
    src: SourceArgs,
    /// `shm:PATH`: the ring file to create (put it on /dev/shm).
    #[arg(long)]
    to: String,
    /// Ring capacity in records (a power of two).
    #[arg(long, default_value_t = 1 << 16)]
    ring_capacity: u64,
}

/// Arguments of `foxtrot record`.
#[derive(Args, Debug)]
pub struct RecordArgs {
    #[command(flatten)]
    src: SourceArgs,
    /// The market-data directory to create.
    #[arg(long, short)]
    out: PathBuf,
    /// Configuration template (default: the embedded `configs/backtest.yaml`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one configuration key (repeatable) on the template (its instruments are the recorded symbols, whatever is set): `--set book.window_ticks=8192`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Tick size of the instruments, in price units of 10^-4.
    #[arg(long, default_value_t = 100)]
    tick: i64,
    /// Reference price of the instruments (price units), until data says otherwise.
    #[arg(long, default_value_t = 1_000_000)]
    ref_price: i64,
}

fn open(a: &SourceArgs, allow_shm: bool) -> Result<Box<dyn Feed>> {
    let midnight = foxtrot_engine::format::calendar::parse_iso8601(format!("{}T00:00:00Z", a.date).as_bytes())
        .map_err(|e| anyhow::anyhow!("--date {:?}: {e}", a.date))?;
    let sub = Subscription::Symbols(a.symbols.clone());
    let xdp = a.xdp();
    if xdp.is_some() && !a.from.starts_with("mold:") {
        bail!(
            "--xdp receives a MoldUDP64 stream (--from mold:ADDR:PORT), not {:?}",
            a.from
        );
    }
    Ok(match a.from.split_once(':') {
        Some(("itch", p)) => {
            let framing = match a.framing.as_str() {
                "auto" => None,
                f => foxtrot_feed::itch::Framing::choose(f, &[]),
            };
            Box::new(
                ItchFileFeed::open(Path::new(p), sub, midnight, a.pace, framing)
                    .with_context(|| format!("opening {p}"))?,
            )
        }
        Some(("mold", addr)) => {
            let addr = addr
                .parse()
                .with_context(|| format!("--from mold:{addr}: not an address:port"))?;
            let net = foxtrot_net::open_udp(addr, xdp.as_ref()).with_context(|| format!("binding {addr}"))?;
            tracing::info!(path = %net.describe(), "receiving {addr}");
            Box::new(MoldUdpFeed::over(net, sub, midnight, a.reorder_window, a.retransmit))
        }
        Some(("shm", p)) if allow_shm => {
            Box::new(ShmFeed::open(Path::new(p)).with_context(|| format!("opening ring {p}"))?)
        }
        _ => bail!(
            "--from {:?}: expected itch:PATH, mold:ADDR:PORT{}",
            a.from,
            if allow_shm { " or shm:PATH" } else { "" }
        ),
    })
}

/// Drives `feed` to its end (or the idle timeout, or SIGINT/SIGTERM), calling `f`
/// with each item; the caller then flushes what it wrote.
fn pump(feed: &mut dyn Feed, idle_timeout: Option<f64>, mut f: impl FnMut(&Next) -> Result<()>) -> Result<()> {
    super::run::install_signals()?;
    let mut idle_since: Option<Instant> = None;
    loop {
        if super::run::STOP.load(std::sync::atomic::Ordering::Relaxed) {
            tracing::info!("stopped by signal");
            return Ok(());
        }
        match feed.next() {
            Next::End => return Ok(()),
            Next::Idle => {
                let since = *idle_since.get_or_insert_with(Instant::now);
                if idle_timeout.is_some_and(|t| since.elapsed().as_secs_f64() > t) {
                    tracing::warn!("no data for {:.1} s: stopping", since.elapsed().as_secs_f64());
                    return Ok(());
                }
                feed.wait(Duration::from_millis(5));
            }
            n => {
                idle_since = None;
                f(&n)?;
            }
        }
    }
}

/// Runs `foxtrot feed`.
pub fn run_feed(a: FeedArgs) -> Result<()> {
    let Some(path) = a.to.strip_prefix("shm:") else {
        bail!("--to {:?}: expected shm:PATH", a.to);
    };
    anyhow::ensure!(
        a.ring_capacity.is_power_of_two(),
        "--ring-capacity must be a power of two"
    );
    let mut feed = open(&a.src, false)?;
    let mut ring =
        ShmPublisher::create(Path::new(path), a.ring_capacity).with_context(|| format!("creating {path}"))?;
    let t = Instant::now();
    let (mut events, mut findings) = (0u64, 0u64);
    pump(feed.as_mut(), a.src.idle_timeout, |n| {
        match n {
            Next::Event(_) => events += 1,
            _ => findings += 1,
        }
        ring.publish(n);
        Ok(())
    })?;
    ring.publish(&Next::End);
    println!(
        "foxtrot feed: {events} events and {findings} data-quality findings into {path} in {:.3} s ({} waits on a full ring)",
        t.elapsed().as_secs_f64(),
        ring.full_waits
    );
    Ok(())
}

/// Runs `foxtrot record`.
pub fn run_record(a: RecordArgs) -> Result<()> {
    anyhow::ensure!(
        !a.out.join(foxtrot_engine::journal::market_data::MD_DIR).exists(),
        "{} already holds data; record into a new directory",
        a.out.display()
    );
    let mut cfg = crate::setup::load_template_with_sets(a.config.as_deref(), &a.set)?;
    cfg.instruments = a
        .src
        .symbols
        .iter()
        .map(|s| InstrumentSpec {
            symbol: s.chars().take(12).collect(),
            price_decimals: 4,
            tick: a.tick.max(1),
            qty_decimals: 0,
            lot: 1,
            ref_price: (a.ref_price / a.tick.max(1) * a.tick.max(1)).max(a.tick.max(1)),
        })
        .collect();
    cfg.check(Path::new("<record>"))?;
    let mut feed = open(&a.src, true)?;
    let path = feed.receive_path();
    let mut w = MdWriter::create(&a.out, &cfg).with_context(|| format!("creating {}", a.out.display()))?;
    let t = Instant::now();
    // Events per instrument: a symbol with none is named at the end.
    let mut per = vec![0u64; cfg.instruments.len()];
    pump(feed.as_mut(), a.src.idle_timeout, |n| {
        match n {
            Next::Event(md) => {
                if let Some(c) = per.get_mut(md.header.instrument as usize) {
                    *c += 1;
                }
                w.append(md)?
            }
            Next::Quality(d) => w.append_quality(d)?,
            _ => {}
        }
        Ok(())
    })?;
    let q = w.quality();
    let n = w.finish()?;
    let counters = feed.receive_counters();
    let list: Vec<String> = q.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "foxtrot record: {n} events from {}{} into {} in {:.3} s; data quality: {}",
        a.src.from,
        path.map(|p| format!(" (through the {p})")).unwrap_or_default(),
        a.out.display(),
        t.elapsed().as_secs_f64(),
        if list.is_empty() {
            "clean".to_string()
        } else {
            list.join(", ")
        }
    );
    if !counters.is_empty() {
        println!("foxtrot record: {counters}");
    }
    let silent: Vec<&str> = cfg
        .instruments
        .iter()
        .zip(&per)
        .filter(|(_, n)| **n == 0)
        .map(|(i, _)| i.symbol.as_str())
        .collect();
    if n == 0 && a.src.from.starts_with("itch:") {
        // A file that has none of the symbols: nothing to keep (a directory of
        // no events would backtest as a clean, empty day). A live capture
        // stopped before any event is a clean, empty recording, and is kept.
        // Its findings (a decode error, a gap) were printed above.
        let _ = std::fs::remove_dir_all(a.out.join(foxtrot_engine::journal::market_data::MD_DIR));
        let _ = std::fs::remove_dir(&a.out);
        anyhow::bail!(
            "nothing recorded from {}: no event for {} (symbols the source does not have, or it sent nothing); \
             {} not kept",
            a.src.from,
            silent.join(", "),
            a.out.display()
        );
    }
    if !silent.is_empty() {
        tracing::warn!(
            symbols = %silent.join(","),
            "no event recorded for these symbols: not in the source, or they did not trade"
        );
    }
    Ok(())
}
