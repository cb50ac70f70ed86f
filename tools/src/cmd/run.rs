//! `foxtrot run`: the configured pipeline on threads — stage groups, pinning,
//! wait strategy, rings and back-pressure from the config's `runtime` section —
//! against the in-process simulated venue, replaying a recorded run's inputs, or
//! paper-trading the market data a `foxtrot feed` process writes into a
//! shared-memory ring (`--feed shm:PATH`: orders fill at that data's touch).
//! Live statistics go to a memory-mapped file that `foxtrot stat` reads.
//! SIGINT or SIGTERM stops the source, drains the rings, flushes the journals
//! and prints the final statistics.

use super::ctl::{serve, ControlServer};
use super::resume::{check_store, choose, link, record_epoch, record_store, Chosen};
use super::sim::{finish_journals, new_journals, print_text, to_json};
use super::stat::print_table;
use crate::setup::{load_config, CommonArgs};
use anyhow::{Context, Result};
use clap::Args;
use foxtrot_engine::config::{FeedConfig, Layout, MdFormat, WaitStrategy};
use foxtrot_engine::journal::{InputJournal, JournalInputs, OutputJournals, RunJournals};
use foxtrot_engine::records::kill_cause;
use foxtrot_engine::runtime::control::Controlled;
use foxtrot_engine::runtime::{run_threaded, Sequenced, ThreadedOutcome, VenueLink};
use foxtrot_engine::Config;
use foxtrot_feed::findings::{FindingCounts, FindingLog};
use foxtrot_feed::transport::FeedEvents;
use foxtrot_fix::link::{FixLinkSettings, FixVenueLink, Resume};
use foxtrot_fix::session::{Role, SessionSettings};
use foxtrot_venue::touch::TouchVenue;
use foxtrot_venue::SimWorld;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Arguments of `foxtrot run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Replay the inputs journalled in this run directory instead of generating.
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "feed")]
    from: Option<PathBuf>,
    /// Take market data from this source (overrides `feed.source`):
    /// `mold:HOST:PORT`, `udp:HOST:PORT`, `shm:PATH` (a `foxtrot feed` ring) or
    /// `itch:PATH`. With `venue.address`, orders go to that FIX venue; without,
    /// they fill at the feed's touch (paper trading).
    #[arg(long, value_name = "SPEC")]
    feed: Option<String>,
    /// Journal the run under DIR (inputs, orders, diary, effective config).
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Stats file (overrides `runtime.stats_file`; default /dev/shm/foxtrot.stats).
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
    /// Stage layout (overrides `runtime.layout`, and drops `runtime.cores`):
    /// `fused` or `per_stage`.
    #[arg(long)]
    layout: Option<String>,
    /// Wait strategy (overrides `runtime.wait`).
    #[arg(long, value_parser = ["busy_spin", "spin_then_yield", "park"])]
    wait: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// With `venue.address` set: the FIX session journal's directory (default:
    /// `fix-store/<sender>-<target>`). Keep it across restarts.
    #[arg(long, value_name = "DIR")]
    session_store: Option<PathBuf>,
    /// With `venue.address` set: restart after the run journalled in RUN_DIR.
    /// Its inputs rebuild the core's state first; orders they decide are not
    /// sent again; the session resumes after the last report it journalled.
    /// Record the new run with `--record` (a new directory, holding both).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["from", "feed"])]
    resume: Option<PathBuf>,
    /// Log one status line (inputs, orders, fills, equity, trading and session
    /// state) every this many seconds while running; 0: none.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    status_every: f64,
}

/// Raised by SIGINT or SIGTERM once [`install_signals`] has run; read by
/// ingest once per pass.
pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

/// Raised just before the pipeline takes its first input: from then on the
/// run directory holds a run (see [`run`]).
static STARTED: AtomicBool = AtomicBool::new(false);

/// `run_threaded`, once the run directory is to be kept.
fn start<L: VenueLink + Send + 'static>(
    cfg: &Config,
    link: L,
    ij: Option<InputJournal>,
    oj: Option<OutputJournals>,
) -> Result<ThreadedOutcome<L, Option<InputJournal>, Option<OutputJournals>>> {
    STARTED.store(true, Ordering::Relaxed);
    Ok(run_threaded(cfg, link, ij, oj, &STOP)?)
}

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::Relaxed);
}

/// Installs the SIGINT/SIGTERM handler (off the hot path: the handler only sets a flag).
/// Makes SIGINT and SIGTERM raise [`STOP`] instead of killing the process.
pub(crate) fn install_signals() -> Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `sigaction` with a zeroed struct, an empty mask and a handler that
        // only stores to an atomic; the struct outlives the call.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        anyhow::ensure!(rc == 0, "installing the signal handler failed");
    }
    Ok(())
}

/// The default stats file: in /dev/shm where it exists (no disk I/O), else the temp dir.
pub fn default_stats_path() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.join("foxtrot.stats")
    } else {
        std::env::temp_dir().join("foxtrot.stats")
    }
}

/// Runs `foxtrot run`. A run that fails before its pipeline starts (the
/// market-data port taken, the session store in use…) removes the record
/// directory it made: it holds nothing but the configuration, and the same
/// command, run again once the cause is gone, would be refused for it
/// ("already holds a recorded run"). Nothing was sent by then.
pub fn run(a: RunArgs) -> Result<()> {
    let made = a.record.as_ref().filter(|d| !d.exists()).cloned();
    let r = run_recorded(&a);
    if let (Err(e), Some(dir), false) = (&r, &made, STARTED.load(Ordering::Relaxed)) {
        if dir.exists() && std::fs::remove_dir_all(dir).is_ok() {
            return Err(anyhow::anyhow!(
                "{e:#} (nothing was recorded: {} removed)",
                dir.display()
            ));
        }
    }
    r
}

fn run_recorded(a: &RunArgs) -> Result<()> {
    let mut cfg = match &a.from {
        Some(dir) => {
            let (yaml, _) = JournalInputs::open(dir).with_context(|| format!("opening {}", dir.display()))?;
            let mut c = Config::from_yaml(&yaml, &dir.join("inputs/config.yaml"))?;
            if let Some(p) = &a.common.config {
                // The runtime section comes from the given file; decisions from the journal.
                c.runtime = Config::load(p)?.runtime;
            }
            c
        }
        None => load_config(&a.common)?,
    };
    if let Some(l) = &a.layout {
        // Another layout: the configured pinning (one core per group of the
        // configured layout) does not apply to it.
        cfg.runtime.layout = Layout::Named(l.clone());
        cfg.runtime.cores.clear();
    }
    if let Some(w) = &a.wait {
        cfg.runtime.wait = serde_yaml_ng::from_str::<WaitStrategy>(w)?;
    }
    let stats = a
        .stats
        .clone()
        .or(cfg.runtime.stats_file.clone().map(PathBuf::from))
        .unwrap_or_else(default_stats_path);
    cfg.runtime.stats_file = Some(stats.display().to_string());
    cfg.check(Path::new("<command line>"))?;
    cfg.check_paths(Path::new("<command line>"))?;
    // Before anything is made (the run directory, the session store, the
    // control socket): a run that cannot start records nothing.
    foxtrot_engine::runtime::threaded::check_cores(&cfg.runtime.cores)
        .map_err(|e| anyhow::anyhow!("{e}; `--layout fused --wait park` runs unpinned on a small host"))?;
    install_signals()?;

    // A restart's predecessor is linked before its journal exists (see `resume`).
    let resume = match &a.resume {
        Some(dir) => {
            anyhow::ensure!(
                cfg.venue.address.is_some(),
                "--resume needs venue.address (a FIX venue) in the config"
            );
            let record = a
                .record
                .as_deref()
                .context("--resume needs --record: a restart that journals nothing cannot be resumed from")?;
            anyhow::ensure!(
                dir.is_dir(),
                "--resume {}: no such run directory (a run killed before it started leaves none: resume from the one before it)",
                dir.display()
            );
            let chosen = resume_from(dir, &cfg)?;
            // The record directory is made here, with its link: killed from here
            // on, this run is a link of the chain; killed before, it left nothing.
            link(record, dir, chosen.last_seq)?;
            Some(chosen)
        }
        None => None,
    };
    let mut journals = a.record.as_deref().map(|d| new_journals(d, &cfg)).transpose()?;
    // Live: no roll in the first minutes may wait for a segment to be made.
    if let Some(j) = &mut journals {
        j.warm_up();
    }
    let (ij, oj) = journals.map(RunJournals::into_parts).unzip();
    tracing::info!(
        threads = cfg.runtime.layout.groups().map_err(anyhow::Error::msg)?.len(),
        wait = ?cfg.runtime.wait,
        stats = %stats.display(),
        "pipeline starting"
    );
    let t0 = Instant::now();
    let _status = StatusLine::start(&stats, a.status_every);
    if let Some(spec) = &a.feed {
        let f = cfg.feed.get_or_insert_with(|| FeedConfig {
            busy_poll: None,
            source: spec.clone(),
            retransmit: None,
            date: None,
            pace: None,
            reorder_window: 4096,
            xdp: None,
        });
        f.source = spec.clone();
    }
    if let (Some(address), None) = (&cfg.venue.address, &a.from) {
        let address = address.clone();
        return run_fix(a, &cfg, &address, resume, ij, oj, t0);
    }
    if cfg.feed.is_some() && a.from.is_none() {
        let (feed, log) = market_data(&cfg, a.record.as_deref())?.expect("a feed is configured");
        let venue = TouchVenue::new(&cfg, FeedEvents::new(feed, log, Some(&STOP)));
        let (venue, ctl) = controlled(a, &cfg, venue, ij.as_ref());
        let _ctl = ctl?;
        let mut out = start(&cfg, venue, ij, oj)?;
        let findings = *out.source.inner_mut().source_mut().findings();
        if !a.json && findings.total() > 0 {
            println!("{}", findings_line("feed", &findings));
        }
        let feed = serde_json::json!({"md_findings": findings.total(), "md_findings_by_code": by_code(&findings)});
        return finish(a, &cfg, out, t0.elapsed(), Some(("feed", feed)));
    }
    anyhow::ensure!(
        a.resume.is_none(),
        "--resume needs venue.address (a FIX venue) in the config"
    );
    match &a.from {
        Some(dir) => {
            let (_, inputs) = JournalInputs::open(dir)?;
            let out = start(&cfg, Sequenced(inputs), ij, oj)?;
            if let Some(e) = out.source.0.error() {
                tracing::warn!(error = %e, "the input journal ended early");
            }
            finish(a, &cfg, out, t0.elapsed(), None)
        }
        None => {
            // A paper run against the simulated venue takes an operator's
            // commands too; where another engine already serves this stats
            // file's socket, it runs without them (and says so).
            let (sim, ctl) = controlled(a, &cfg, SimWorld::new(&cfg), ij.as_ref());
            let _ctl = ctl
                .map_err(
                    |e| tracing::warn!(error = %format!("{e:#}"), "no operator controls for this run (foxtrot ctl)"),
                )
                .ok();
            let out = start(&cfg, sim, ij, oj)?;
            finish(a, &cfg, out, t0.elapsed(), None)
        }
    }
}

/// While a run lasts, a thread that logs its figures from the stats file every
/// `every` seconds (sleeping between: it never competes with the pipeline).
struct StatusLine {
    stop: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StatusLine {
    fn start(stats: &Path, every: f64) -> StatusLine {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (path, flag) = (stats.to_path_buf(), stop.clone());
        let thread = (every > 0.0 && every.is_finite())
            .then(|| {
                std::thread::Builder::new()
                    .name("status".into())
                    .spawn(move || status_loop(&path, std::time::Duration::from_secs_f64(every), &flag))
                    .ok()
            })
            .flatten();
        StatusLine { stop, thread }
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn status_loop(path: &Path, every: std::time::Duration, stop: &AtomicBool) {
    use foxtrot_engine::runtime::stats::StatsReader;
    use foxtrot_tools::logging::rounded;
    let started = Instant::now();
    let mut next = every;
    let mut last_inputs = (0u64, std::time::Duration::ZERO);
    // Opened once the engine has made the file, then kept.
    let mut reader = None;
    while !stop.load(Ordering::Relaxed) && !STOP.load(Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = started.elapsed();
        if now < next {
            continue;
        }
        next += every;
        if reader.is_none() {
            reader = StatsReader::open(path).ok();
        }
        let Some(Ok(s)) = reader.as_ref().map(StatsReader::read) else {
            continue;
        };
        let inputs = s.global("inputs");
        let rate = (inputs - last_inputs.0.min(inputs)) as f64 / (now - last_inputs.1).as_secs_f64().max(1e-9);
        last_inputs = (inputs, now);
        let live = s.live_figures().unwrap_or_default();
        tracing::info!(
            inputs,
            inputs_per_s = rate as u64,
            market_data = s.global("market_data"),
            orders = s.global("orders"),
            fills = live.fills,
            open_orders = live.open_orders,
            equity = rounded(live.equity, 2),
            trading = %live.trading_state,
            session = %live.session,
            "running"
        );
    }
}

/// `link` with the operator's control channel in front, and the kill switch
/// pulled when the run's input journal stops (a full disk): what the engine
/// did after that could neither be replayed nor be known to a restart. With
/// it, the control server that feeds the channel (`foxtrot ctl`), serving
/// until it is dropped — or why it could not start.
fn controlled<L: VenueLink>(
    a: &RunArgs,
    cfg: &Config,
    link: L,
    journal: Option<&InputJournal>,
) -> (Controlled<L>, Result<ControlServer>) {
    let (mut link, tx) = Controlled::new(link);
    if let Some(j) = journal {
        let dir = a.record.clone().unwrap_or_default();
        link.kill_when(j.stop_signal(), kill_cause::RUN_JOURNAL, move || {
            tracing::error!(
                run = %dir.display(),
                "the run's input journal stopped (see the journal error at the end): kill switch pulled, open orders cancelled, no new orders"
            );
        });
    }
    let stats = PathBuf::from(
        cfg.runtime
            .stats_file
            .as_deref()
            .expect("the stats file is set before the run"),
    );
    let symbols = cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
    (link, serve(a.record.as_deref(), stats, symbols, tx))
}

/// The run of `dir`'s restart chain to resume from ([`choose`]), refused unless
/// its decisions were taken under this config (the runtime section aside).
fn resume_from(dir: &Path, cfg: &Config) -> Result<Chosen> {
    let chosen = choose(dir)?;
    let mut prev = Config::from_yaml(&chosen.yaml, &chosen.dir.join("inputs/config.yaml"))?;
    // Threads, rings and the stats file may differ; what decides may not.
    prev.runtime = cfg.runtime.clone();
    anyhow::ensure!(
        prev.config_hash() == cfg.config_hash(),
        "--resume {}: that run's config hash is {} (runtime section aside), this one's {}; a restart needs the same config",
        chosen.dir.display(),
        prev.config_hash(),
        cfg.config_hash()
    );
    tracing::info!(
        from = %chosen.dir.display(),
        last_seq = chosen.last_seq,
        chain = chosen.walked,
        "resuming"
    );
    Ok(chosen)
}

/// The market data of a run that does not simulate it: `feed` (an exchange's
/// feed, a feed handler's ring), else the venue's at `venue.market_data` in its
/// `venue.market_data_format` (MoldUDP64 gaps asked for at `venue.retransmit`);
/// `None` when neither is configured. With it, the log its findings are told
/// to (and journalled in, for a run recorded in `record`).
fn market_data(
    cfg: &Config,
    record: Option<&Path>,
) -> Result<Option<(Box<dyn foxtrot_feed::transport::Feed + Send>, FindingLog)>> {
    let symbols: Vec<String> = cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
    let day = |date: Option<&str>| -> Result<u64> {
        Ok(match date {
            Some(d) => foxtrot_engine::format::calendar::parse_iso8601(format!("{d}T00:00:00Z").as_bytes())
                .map_err(|e| anyhow::anyhow!("feed.date {d:?}: {e}"))?,
            None => cfg.gen.start_ns - cfg.gen.start_ns % 86_400_000_000_000,
        })
    };
    let addr = |key: &str, a: &str| -> Result<std::net::SocketAddr> {
        a.parse()
            .with_context(|| format!("{key} {a:?}: not an IP address and port"))
    };
    let (spec, retransmit, date, pace, window) = match (&cfg.feed, &cfg.venue.market_data) {
        (Some(f), _) => (
            f.source.clone(),
            f.retransmit
                .as_deref()
                .map(|r| addr("feed.retransmit", r))
                .transpose()?,
            day(f.date.as_deref())?,
            f.pace,
            f.reorder_window as usize,
        ),
        (None, Some(md)) => {
            let spec = match cfg.venue.market_data_format {
                MdFormat::Native => format!("udp:{md}"),
                MdFormat::Moldudp64 => format!("mold:{md}"),
            };
            let rtx = cfg
                .venue
                .retransmit
                .as_deref()
                .map(|r| addr("venue.retransmit", r))
                .transpose()?;
            (spec, rtx, day(None)?, None, 4096)
        }
        (None, None) => return Ok(None),
    };
    let xdp = cfg
        .feed
        .as_ref()
        .and_then(|f| f.xdp.as_ref().map(|x| crate::setup::xdp(x, f.busy_poll)));
    let feed =
        foxtrot_feed::transport::open_source(&spec, symbols.clone(), date, pace, window, retransmit, xdp.as_ref())
            .map_err(anyhow::Error::msg)?;
    if let Some(x) = &xdp {
        // The AF_XDP socket was opened with its busy polling set.
        tracing::info!(source = %spec, interface = %x.interface, queue = x.queue, "market data through AF_XDP");
    } else if let Some(bp) = cfg.feed.as_ref().and_then(|f| f.busy_poll) {
        let fd = feed.socket().with_context(|| {
            format!("feed.busy_poll: {spec} has no socket to busy-poll (mold: and udp: sources do)")
        })?;
        crate::setup::busy_poll(bp)
            .apply(fd)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("feed.busy_poll on {spec}"))?;
        tracing::info!(source = %spec, usecs = bp.usecs, prefer = bp.prefer, budget = ?bp.budget, "busy polling the feed's socket");
    }
    tracing::info!(source = %spec, retransmit = ?retransmit, path = feed.receive_path().as_deref().unwrap_or("-"), "market data");
    let log = match record {
        Some(dir) => FindingLog::journalled(spec, symbols, dir)
            .with_context(|| format!("journalling the feed's findings in {}", dir.display()))?,
        None => FindingLog::new(spec, symbols),
    };
    Ok(Some((feed, log)))
}

/// `foxtrot run` against a `foxtrot venue` process over FIX.
fn run_fix(
    a: &RunArgs,
    cfg: &Config,
    address: &str,
    resume: Option<Chosen>,
    ij: Option<InputJournal>,
    oj: Option<OutputJournals>,
    t0: Instant,
) -> Result<()> {
    let session = SessionSettings::from_config(&cfg.session, Role::Initiator)?;
    let set = FixLinkSettings {
        connect: address.parse().with_context(|| format!("venue.address {address:?}"))?,
        store_dir: a
            .session_store
            .clone()
            .unwrap_or_else(|| PathBuf::from("fix-store").join(format!("{}-{}", session.sender, session.target))),
        store_segment: u64::from(cfg.session.store_segment_kib) << 10,
        session,
        busy_poll: cfg.session.busy_poll.map(crate::setup::busy_poll),
        message_log: cfg.session.message_log.as_ref().map(std::path::PathBuf::from),
        answer_spin: std::time::Duration::from_micros(cfg.session.answer_spin_us.into()),
    };
    if let Some(c) = &resume {
        check_store(&c.dir, &set.store_dir)?;
    }
    let store_dir = set.store_dir.clone();
    let resume = resume.map(|c| Resume {
        inputs: Box::new(c.inputs),
        last_seq: c.last_seq,
        epoch: c.epoch,
    });
    let store = set.store_dir.display().to_string();
    let md = market_data(cfg, a.record.as_deref())?;
    let link = FixVenueLink::new(cfg, set, resume, md).context("starting the FIX link")?;
    if let Some(rec) = &a.record {
        // Before any order: a restart of this run must trade in its epoch,
        // on its store.
        record_store(rec, &store_dir)?;
        record_epoch(rec, link.epoch())?;
    }
    tracing::info!(venue = %address, store = %store, seqs = ?link.seqs(), epoch = link.epoch(), "trading with a FIX venue");
    let (link, ctl) = controlled(a, cfg, link, ij.as_ref());
    let _ctl = ctl?;
    let mut out = start(cfg, link, ij, oj)?;
    let fix = {
        let link = out.source.inner_mut();
        link.logout(std::time::Duration::from_secs(2));
        link.finish_findings();
        let st = link.stats();
        tracing::info!(
            logons = st.logons,
            reconnects = st.reconnects,
            orders_sent = st.orders_sent,
            reports = st.reports,
            replayed = st.replayed,
            last_disconnect = ?st.last_disconnect,
            "FIX session over"
        );
        Some((st, link.seqs(), link.reconcile_stats(), link.epoch()))
    };
    let store_failed = fix
        .as_ref()
        .and_then(|f| f.0.store_error.clone().map(|e| (e, f.0.unrecorded)));
    let replay_short = fix.as_ref().and_then(|f| f.0.replay_short.clone());
    let extra = fix.map(|(st, seqs, rec, epoch)| {
        if !a.json {
            println!(
                "fix: {} logons, {} reconnects, {} orders sent, {} reports, {} market-data records; \
                 replayed {} inputs ({} orders already sent, {} never sent); seqs out {} in {}",
                st.logons,
                st.reconnects,
                st.orders_sent,
                st.reports,
                st.md,
                st.replayed,
                st.resent_suppressed,
                st.never_sent,
                seqs.0,
                seqs.1
            );
            // What was refused or lost on the way in: one line, when anything was.
            let bad = [
                (
                    st.md_findings.total(),
                    "market-data findings (gaps, malformed datagrams, session changes)",
                ),
                (st.skipped_bytes, "bytes from the venue that were no FIX message"),
                (st.bad_reports, "reports that did not decode"),
                (
                    st.rejects_sent,
                    "session or business rejects sent (a malformed message refused)",
                ),
                (st.foreign_reports, "reports of ClOrdIDs not ours"),
                (
                    st.trade_corrections,
                    "fills corrected at the venue, booked as the fill's bust and the corrected trade",
                ),
                (
                    st.trade_corrections_unapplied,
                    "fills corrected at the venue that this engine no longer knows, not applied (reconcile)",
                ),
                (
                    st.trade_busts,
                    "fills cancelled (busted) at the venue, taken back from positions",
                ),
                (
                    st.restatements,
                    "orders restated by the venue on its own (quantity, price, or ended)",
                ),
            ];
            let said: Vec<String> = bad
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
            if !said.is_empty() {
                println!("fix: refused or lost on the way in: {}", said.join(", "));
            }
            let g = st.gaps;
            if g.recovered + g.questions + g.unpriced + g.untracked + g.outstanding > 0 {
                println!(
                    "fix: {} fills recovered ({} in quantity) whose reports never reached the core, \
                     from the venue's CumQty and AvgPx; {} orders asked about in session; \
                     {} missing fills not priced, {} orders not tracked",
                    g.recovered, g.recovered_qty, g.questions, g.unpriced, g.untracked
                );
            }
            if g.implausible_avg > 0 {
                println!(
                    "fix: {} recovered fills priced at their order's limit: the venue's AvgPx put them beyond it \
                     (a venue error; their prices may be off — reconcile the turnover)",
                    g.implausible_avg
                );
            }
            if g.outstanding > 0 {
                println!(
                    "fix: {} orders asked about got no answer before the session ended: their fills may be \
                     missing; a restart with --resume asks again",
                    g.outstanding
                );
            }
            if let Some(e) = &st.store_error {
                println!(
                    "fix: the session store failed ({e}): {} orders not sent, kill switch pulled",
                    st.unrecorded
                );
            }
        }
        serde_json::json!({
            "logons": st.logons,
            "reconnects": st.reconnects,
            "orders_sent": st.orders_sent,
            "reports": st.reports,
            "bad_reports": st.bad_reports,
            "foreign_reports": st.foreign_reports,
            "trade_corrections": st.trade_corrections,
            "trade_corrections_unapplied": st.trade_corrections_unapplied,
            "trade_busts": st.trade_busts,
            "restatements": st.restatements,
            "business_rejects": st.business_rejects,
            "session_rejects": st.session_rejects,
            "rejects_sent": st.rejects_sent,
            "held_for_logon": st.held_for_logon,
            "replayed": st.replayed,
            "resent_suppressed": st.resent_suppressed,
            "never_sent": st.never_sent,
            "unrecorded": st.unrecorded,
            "store_error": st.store_error,
            "rewound_to": st.rewound_to,
            "md": st.md,
            "md_findings": st.md_findings.total(),
            "md_findings_by_code": by_code(&st.md_findings),
            "skipped_bytes": st.skipped_bytes,
            "fills_recovered": st.gaps.recovered,
            "recovered_qty": st.gaps.recovered_qty,
            "gone_questions": st.gaps.questions,
            "fills_unpriced": st.gaps.unpriced,
            "fills_implausible_avg": st.gaps.implausible_avg,
            "orders_untracked": st.gaps.untracked,
            "questions_unanswered": st.gaps.outstanding,
            "next_out": seqs.0,
            "next_in": seqs.1,
            "last_disconnect": st.last_disconnect,
            "clordid_epoch": epoch,
            "status_requests": rec.requests,
            "status_answers": rec.answers,
            "status_unknown": rec.unknown,
            "status_gave_up": rec.gave_up,
        })
    });
    finish(a, cfg, out, t0.elapsed(), extra.map(|e| ("fix", e)))?;
    if let Some(e) = replay_short {
        anyhow::bail!("--resume: {e}; nothing was sent. Check the journal (`foxtrot journal verify`) and restart");
    }
    if let Some((e, n)) = store_failed {
        anyhow::bail!(
            "the FIX session store {store} failed ({e}): {n} orders were not sent, the kill switch was pulled; \
             free space there before the next start"
        );
    }
    Ok(())
}

/// Findings by code name, as JSON.
fn by_code(f: &FindingCounts) -> serde_json::Value {
    f.named()
        .into_iter()
        .map(|(k, n)| (k.to_string(), serde_json::Value::from(n)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// One summary line of a live feed's findings: how many, by code.
fn findings_line(who: &str, f: &FindingCounts) -> String {
    let by: Vec<String> = f.named().iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!(
        "{who}: {} market-data findings passed over (each logged as it came; by code: {})",
        f.total(),
        by.join(", ")
    )
}

fn finish<V>(
    a: &RunArgs,
    cfg: &Config,
    out: ThreadedOutcome<V, Option<InputJournal>, Option<OutputJournals>>,
    wall: std::time::Duration,
    extra: Option<(&str, serde_json::Value)>,
) -> Result<()> {
    // A journal that failed fails the run, but after its summary: a live
    // run's operator needs its fills and positions all the more then.
    let mut journals = Ok(());
    if let (Some(dir), Some(i), Some(o)) = (&a.record, out.input_observer, out.output_observer) {
        journals = finish_journals(&mut RunJournals::from_parts(dir, i, o));
        let source = format!(
            "foxtrot run (threads: {:?})",
            cfg.runtime.layout.groups().map_err(anyhow::Error::msg)?
        );
        journals = journals.and(super::sim::write_latency(dir, &source, &out.stats.hists));
    }
    if out.stopped {
        tracing::info!("stopped by signal; rings drained, journals flushed");
    }
    if a.json {
        let mut j = to_json(&out.summary, cfg, wall);
        j["runtime"] = serde_json::to_value(&out.stats)?;
        j["stopped"] = serde_json::json!(out.stopped);
        if let Some((key, v)) = extra {
            j[key] = v;
        }
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        print_text("foxtrot run", &out.summary, cfg, wall);
        print_table(&out.stats);
    }
    journals
}
