//! `foxtrot venue`: the simulated venue as a process — a FIX acceptor for the
//! config's sessions (`venue.sessions`, else the `session` section seen from the
//! venue) in front of the matching engine and its crowd, or of the echo
//! application (`venue.application: echo`, `--application echo`) certification
//! harnesses expect; it publishes market data over UDP
//! (`foxtrot_venue::server`). `foxtrot run` with the same config
//! (`venue.address`, `venue.market_data`) trades with it over real TCP.
//!
//! SIGINT or SIGTERM logs the session out and prints the summary; so does the
//! end of the crowd with `--until-done`.

use super::run::{install_signals, STOP};
use crate::setup::{load_config, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::config::VenueApplication;
use foxtrot_fix::session::{Role, SessionSettings};
use foxtrot_venue::server::{AcceptorSettings, VenueServer, VenueSettings, VenueStats};
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
    /// Directory of the FIX session journal, for a venue of one session
    /// (default: the session's `store`, else `fix-store/<venue>-<engine>`); with
    /// several sessions, each gets a directory `<venue>-<engine>` in it.
    #[arg(long, value_name = "DIR")]
    session_store: Option<PathBuf>,
    /// What to do with application messages (default: `venue.application`).
    #[arg(long, value_enum)]
    application: Option<AppArg>,
    /// Directory for a log of every FIX message, one file per session
    /// (default: `venue.message_log`).
    #[arg(long, value_name = "DIR")]
    message_log: Option<PathBuf>,
    /// Seconds a connection may stay without a Logon (default: `venue.logon_timeout_s`).
    #[arg(long, value_name = "S")]
    logon_timeout: Option<u32>,
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
    /// Publish the MoldUDP64 feed through an AF_XDP socket on this interface
    /// (a build with `--features af_xdp`; root): its transmit ring instead of
    /// the kernel's UDP stack. The retransmission server stays a kernel socket.
    #[arg(long, value_name = "IFACE")]
    xdp: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// `--application`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum AppArg {
    /// Orders trade in the simulated book.
    Matching,
    /// Application messages are reflected back.
    Echo,
}

/// The sessions the venue accepts: `venue.sessions`, else the `session`
/// section from the venue's side (which, under the echo application — a
/// certification harness opening every case with MsgSeqNum 1 — resets its
/// numbers on each Logon); each with its store directory.
fn sessions(
    cfg: &foxtrot_engine::config::Config,
    store: Option<&PathBuf>,
    application: VenueApplication,
) -> Result<Vec<AcceptorSettings>> {
    let mut out = Vec::new();
    if cfg.venue.sessions.is_empty() {
        let mut session = SessionSettings::from_config(&cfg.session, Role::Acceptor)?;
        session.reset_on_logon = application == VenueApplication::Echo;
        let dir = store
            .cloned()
            .unwrap_or_else(|| PathBuf::from("fix-store").join(format!("{}-{}", session.sender, session.target)));
        out.push(AcceptorSettings {
            session,
            store_dir: dir,
        });
        return Ok(out);
    }
    let many = cfg.venue.sessions.len() > 1;
    for s in &cfg.venue.sessions {
        let session = SessionSettings::for_acceptor(s)?;
        let name = format!("{}-{}", session.sender, session.target);
        let dir = match (store, &s.store) {
            (Some(d), _) if many => d.join(&name),
            (Some(d), _) => d.clone(),
            (None, Some(d)) => PathBuf::from(d),
            (None, None) => PathBuf::from("fix-store").join(&name),
        };
        out.push(AcceptorSettings {
            session,
            store_dir: dir,
        });
    }
    Ok(out)
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
    anyhow::ensure!(a.speed > 0.0, "--speed must be positive");
    let application = match a.application {
        Some(AppArg::Echo) => VenueApplication::Echo,
        Some(AppArg::Matching) => VenueApplication::Matching,
        None => cfg.venue.application,
    };
    let sessions = sessions(&cfg, a.session_store.as_ref(), application)?;
    install_signals()?;
    let set = VenueSettings {
        listen,
        market_data: md,
        md_format: cfg.venue.market_data_format,
        retransmit: cfg
            .venue
            .retransmit
            .as_deref()
            .map(|r| r.parse().with_context(|| format!("venue.retransmit {r:?}")))
            .transpose()?,
        sessions: sessions.clone(),
        application,
        logon_timeout_s: a.logon_timeout.unwrap_or(cfg.venue.logon_timeout_s).max(1) as u64,
        message_log: a
            .message_log
            .clone()
            .or_else(|| cfg.venue.message_log.as_ref().map(PathBuf::from)),
        speed: a.speed,
        busy_poll: cfg.session.busy_poll.map(crate::setup::busy_poll),
        spin: a.spin,
        xdp: a.xdp.as_deref().map(foxtrot_net::XdpConfig::new),
    };
    let mut v = VenueServer::new(&cfg, set).with_context(|| format!("starting the venue on {listen}"))?;
    tracing::info!(
        listen = %v.local_addr()?,
        market_data = ?md,
        application = ?application,
        "venue listening"
    );
    for (s, (name, seqs)) in sessions.iter().zip(v.session_seqs()) {
        tracing::info!(session = %name, store = %s.store_dir.display(), ?seqs, "session ready");
    }
    let mut done_at: Option<Instant> = None;
    while !STOP.load(Ordering::Relaxed) {
        v.step()?;
        if a.until_done && v.crowd_done() {
            let t = *done_at.get_or_insert_with(Instant::now);
            if t.elapsed() >= Duration::from_secs_f64(a.grace) {
                break;
            }
        }
    }
    v.shutdown();
    let s = v.stats();
    print_summary(&s, v.seqs(), a.json)?;
    if let Some(e) = &s.store_error {
        // The day is not a success: reports went out that no store holds.
        anyhow::bail!(
            "the session store failed ({e}): {} new orders or replacements refused, and the reports sent after it are not kept for a resend",
            s.unrecorded
        );
    }
    Ok(())
}

fn print_summary(s: &VenueStats, seqs: (u64, u64), json: bool) -> Result<()> {
    if json {
        let j = serde_json::json!({
            "logons": s.logons,
            "orders": {"new": s.orders[0], "cancel": s.orders[1], "replace": s.orders[2]},
            "malformed_orders": s.malformed_orders,
            "duplicate_cl_ord_ids": s.duplicate_cl_ord_ids,
            "status_requests": s.status_requests,
            "mass_cancels": s.mass_cancels,
            "mass_cancels_refused": s.mass_cancels_refused,
            "possdup_ignored": s.possdup_ignored,
            "refused_connections": s.refused_connections,
            "logon_timeouts": s.logon_timeouts,
            "echoed": s.echoed,
            "unsupported": s.unsupported,
            "orders_after_logout": s.orders_after_logout,
            "reports": s.reports,
            "restart_cancels": s.restart_cancels,
            "md_sent": s.md_sent,
            "md_dropped": s.md_dropped,
            "fills_in_store": s.fills_in_store,
            "duplicates_in_store": s.duplicates_in_store,
            "filled_qty_in_store": s.filled_qty_in_store,
            "turnover_in_store": s.turnover_in_store,
            "net_filled_qty": s.net_filled_qty,
            "unrecorded": s.unrecorded,
            "store_error": s.store_error,
            "next_out": seqs.0,
            "next_in": seqs.1,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!(
            "venue: {} logons, orders {} new / {} cancel / {} replace, {} reports ({} restart cancels), \
             {} duplicate ClOrdIDs, {} echoed, {} refused connections, {} market-data records sent ({} dropped); \
             store: {} fills, net {:?}; seqs out {} in {}",
            s.logons,
            s.orders[0],
            s.orders[1],
            s.orders[2],
            s.reports,
            s.restart_cancels,
            s.duplicate_cl_ord_ids,
            s.echoed,
            s.refused_connections,
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
