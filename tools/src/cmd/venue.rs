//! `foxtrot venue`: the simulated venue as a process — a FIX acceptor in front of
//! the matching engine and its crowd, publishing market data over UDP
//! (`foxtrot_venue::server`). `foxtrot run` with the same config
//! (`venue.address`, `venue.market_data`) trades with it over real TCP.
//!
//! SIGINT or SIGTERM logs the session out and prints the summary; so does the
//! end of the crowd with `--until-done`.

use super::run::{install_signals, STOP};
use crate::setup::{load_config, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_fix::session::{Role, SessionSettings};
use foxtrot_venue::server::{VenueServer, VenueSettings, VenueStats};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Arguments of `foxtrot venue`.
#[derive(Args, Debug)]
pub struct VenueArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to accept FIX on (default: the config's `venue.address`).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// UDP address to publish market data to (default: `venue.market_data`).
    #[arg(long, value_name = "ADDR")]
    market_data: Option<SocketAddr>,
    /// Directory of the FIX session journal (default: fix-store/<venue>-<engine>).
    #[arg(long, value_name = "DIR")]
    session_store: Option<PathBuf>,
    /// Control time per wall-clock time (2.0: the crowd acts twice as fast).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Once the crowd has produced its events (`--events`, else `gen.events`), wait
    /// `--grace` seconds for the engine's last orders, log out and exit.
    #[arg(long)]
    until_done: bool,
    /// Seconds `--until-done` waits after the crowd ends.
    #[arg(long, default_value_t = 1.0)]
    grace: f64,
    /// Busy-poll instead of sleeping between events: the lowest latency, at the
    /// price of a core kept busy (only where a core is free for it).
    #[arg(long)]
    spin: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

fn addr(flag: Option<SocketAddr>, key: &str, v: &Option<String>) -> Result<Option<SocketAddr>> {
    match (flag, v) {
        (Some(a), _) => Ok(Some(a)),
        (None, Some(s)) => Ok(Some(s.parse().with_context(|| format!("{key}: {s:?}"))?)),
        (None, None) => Ok(None),
    }
}

/// Runs `foxtrot venue`.
pub fn run(a: VenueArgs) -> Result<()> {
    let mut cfg = load_config(&a.common)?;
    if a.common.events.is_none() && !a.until_done {
        // A venue serves until stopped.
        cfg.gen.events = u64::MAX;
    }
    let listen = addr(a.listen, "venue.address", &cfg.venue.address)?
        .context("no address to listen on: give --listen or set venue.address")?;
    let md = addr(a.market_data, "venue.market_data", &cfg.venue.market_data)?;
    let session = SessionSettings::from_config(&cfg.session, Role::Acceptor);
    let store_dir = a
        .session_store
        .clone()
        .unwrap_or_else(|| PathBuf::from("fix-store").join(format!("{}-{}", session.sender, session.target)));
    anyhow::ensure!(a.speed > 0.0, "--speed must be positive");
    install_signals()?;
    let set = VenueSettings {
        listen,
        market_data: md,
        session,
        store_dir: store_dir.clone(),
        speed: a.speed,
        busy_poll_us: None,
        spin: a.spin,
    };
    let mut v = VenueServer::new(&cfg, set).with_context(|| format!("starting the venue on {listen}"))?;
    tracing::info!(
        listen = %v.local_addr()?,
        market_data = ?md,
        store = %store_dir.display(),
        seqs = ?v.seqs(),
        "venue listening"
    );
    let mut done_at: Option<Instant> = None;
    let (mut logons, mut connected) = (0, false);
    while !STOP.load(Ordering::Relaxed) {
        v.step()?;
        if v.logons() != logons {
            logons = v.logons();
            tracing::info!(logons, seqs = ?v.seqs(), "engine logged on");
        }
        if v.is_connected() != connected {
            connected = v.is_connected();
            if !connected {
                tracing::info!(seqs = ?v.seqs(), "engine disconnected");
            }
        }
        if a.until_done && v.crowd_done() {
            let t = *done_at.get_or_insert_with(Instant::now);
            if t.elapsed() >= Duration::from_secs_f64(a.grace) {
                break;
            }
        }
    }
    v.shutdown();
    let s = v.stats();
    print_summary(&s, v.seqs(), a.json)
}

fn print_summary(s: &VenueStats, seqs: (u64, u64), json: bool) -> Result<()> {
    if json {
        let j = serde_json::json!({
            "logons": s.logons,
            "orders": {"new": s.orders[0], "cancel": s.orders[1], "replace": s.orders[2]},
            "malformed_orders": s.malformed_orders,
            "duplicate_cl_ord_ids": s.duplicate_cl_ord_ids,
            "possdup_ignored": s.possdup_ignored,
            "orders_after_logout": s.orders_after_logout,
            "reports": s.reports,
            "restart_cancels": s.restart_cancels,
            "md_sent": s.md_sent,
            "md_dropped": s.md_dropped,
            "fills_in_store": s.fills_in_store,
            "filled_qty_in_store": s.filled_qty_in_store,
            "net_filled_qty": s.net_filled_qty,
            "next_out": seqs.0,
            "next_in": seqs.1,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!(
            "venue: {} logons, orders {} new / {} cancel / {} replace, {} reports ({} restart cancels), \
             {} duplicate ClOrdIDs, {} market-data records sent ({} dropped); store: {} fills, net {:?}; seqs out {} in {}",
            s.logons,
            s.orders[0],
            s.orders[1],
            s.orders[2],
            s.reports,
            s.restart_cancels,
            s.duplicate_cl_ord_ids,
            s.md_sent,
            s.md_dropped,
            s.fills_in_store,
            s.net_filled_qty,
            seqs.0,
            seqs.1
        );
    }
    Ok(())
}
