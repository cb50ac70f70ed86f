//! The threaded runtime: stage groups on pinned threads joined by `rtrb` rings.
//!
//! ```text
//!  group 0: ingest [+ stages] ──ring──► group 1: stages ──ring──► … ──► last group: … encode
//!     ▲                                                                       │
//!     └──────────────── back ring: orders for the venue, Done(seq) ◄──────────┘
//! ```
//!
//! Each group is one thread running the same stage code as the fused [`Core`],
//! in the same order; only the wiring differs. A thread's loop is: read every
//! message available on its input ring (up to `batch`), pass each through its
//! stages, stage what comes out, publish it with one commit, and let the idle
//! strategy decide what to do if there was no work (Disruptor-style batching).
//!
//! **Same outputs in every layout.** The stages are deterministic functions of
//! the sequenced stream and nothing flows backwards between them, so a journal
//! replayed through any layout gives the fused core's bytes. A live run against a
//! simulated venue is kept identical too: the venue's inputs depend on our orders,
//! so ingest lets it advance only up to the earliest in-flight input's time plus
//! the venue's entry latency ([`VenueLink::poll_before`]); an order still in the
//! pipeline cannot arrive before that.
//!
//! **Back-pressure.** A full ring makes its producer wait; nothing is dropped.
//! With `md_backpressure: conflate`, ingest keeps only the newest quote per
//! instrument while the first ring is nearly full, counts the others, and
//! sequences the survivors when there is room. Conflation happens *before*
//! sequencing, so the input journal holds exactly what the core saw and replay
//! stays exact. Execution reports always wait.
//!
//! **Latency.** Ingest stamps each input with the TSC. Each thread records, per
//! message it publishes, the time since that stamp (`exit.<stage>`: the input has
//! left that group), and the last thread records tick-to-order when an order is
//! encoded. Histograms are per thread; the stats thread swaps in empty ones over
//! SPSC rings and merges the full ones off the hot path.
//!
//!
//! The parts: `topology` wires groups, rings, pins and histograms in the
//! order data flows; `group` is one thread's stages and duty cycle;
//! `ingest` is the first group's source, sequencer and back ring;
//! `stats_thread` merges histograms and publishes snapshots; `hist` is the
//! per-thread histogram hand-over. [`run_threaded`] only starts and joins them.
//!
//! [`Core`]: crate::core::Core

mod group;
mod hist;
mod ingest;
mod stats_thread;
mod topology;
pub use topology::check_cores;

use self::group::{run_group, End, MidStage};
use self::ingest::{run_ingest, Ingest};
use self::stats_thread::{run_stats, StatsFeeds};
use self::topology::Topology;
use super::link::{RunObserver, VenueLink};
use super::stats::{StatsSnapshot, StatsWriter};
use super::summary::{policy_name, summarize, RunSummary};
use super::StreamDigest;
use crate::config::Config;
use crate::core::Core;
use crate::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Everything a threaded run hands back.
pub struct ThreadedOutcome<V, OI, OO> {
    /// The run's summary (same fields and hashes as a fused run's).
    pub summary: RunSummary,
    /// The source, back.
    pub source: V,
    /// The input observer (journal), back.
    pub input_observer: OI,
    /// The output observer (journals), back.
    pub output_observer: OO,
    /// The final statistics (also written to the stats file if one was configured).
    pub stats: StatsSnapshot,
    /// Whether the run ended because `stop` was raised.
    pub stopped: bool,
}

/// Runs `cfg`'s pipeline in the layout of `cfg.runtime` until the source is
/// exhausted or `stop` is raised, then drains every ring and returns. A source
/// whose inputs come [sequenced](VenueLink::sequenced) (a journal) is fed as it
/// is; any other is sequenced here, with timers, and answered with orders.
pub fn run_threaded<V, OI, OO>(
    cfg: &Config,
    source: V,
    input_observer: OI,
    output_observer: OO,
    stop: &AtomicBool,
) -> Result<ThreadedOutcome<V, OI, OO>, Error>
where
    V: VenueLink + Send,
    OI: RunObserver + Send,
    OO: RunObserver + Send,
{
    let rt = &cfg.runtime;
    let mut topo = Topology::build(cfg, !source.sequenced(), output_observer)?;
    let writer = match &rt.stats_file {
        Some(p) => Some(StatsWriter::create(&PathBuf::from(p))?),
        None => None,
    };
    let mut source = source;
    source.attach_board(topo.board.clone());
    let mut ingest = Ingest::new(cfg, source, input_observer, topo.back.take());
    let feeds = StatsFeeds {
        feeds: std::mem::take(&mut topo.feeds),
        t2o: topo.t2o,
        writer,
        board: topo.board.clone(),
    };
    let (counters, names, wake, cores) = (&topo.counters, &topo.names, &topo.wake, &topo.cores);
    let stats_done = AtomicBool::new(false);
    let interval = Duration::from_millis(rt.stats_interval_ms);
    let mut groups = topo.groups.into_iter();
    let mut first = groups.next().expect("at least one group");

    let (groups_back, stopped, stats_out) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .zip(topo.inbound.into_iter().skip(1))
            .enumerate()
            .map(|(i, (grp, rx))| {
                let k = i + 1;
                let rx = rx.expect("a ring into every group but the first");
                scope.spawn(move || run_group(grp, rx, &wake[k], cores[k], rt.batch))
            })
            .collect();
        let stats = scope.spawn(|| run_stats(feeds, counters, names, &stats_done, interval));

        let _ = wake[0].set(group::Wake::current(ingest.source.waker()));
        if let Some(c) = cores[0] {
            core_affinity::set_for_current(core_affinity::CoreId { id: c });
        }
        let stopped = run_ingest(&mut ingest, &mut first, rt.batch, stop);

        let mut groups_back = vec![first];
        groups_back.extend(handles.into_iter().map(|h| h.join().expect("a stage thread panicked")));
        stats_done.store(true, Ordering::Release);
        stats.thread().unpark();
        let feeds = stats.join().expect("the stats thread panicked");
        let out = feeds.finish(&groups_back, counters, names);
        (groups_back, stopped, out)
    });
    let (stats, t2o) = stats_out;
    let (core, orders, diary, output_observer) = reassemble(groups_back);
    let summary = summarize(
        policy_name(cfg),
        &core,
        [&orders, &diary, &ingest.inputs],
        &t2o,
        ingest.seq.out_of_order(),
    );
    Ok(ThreadedOutcome {
        summary,
        source: ingest.source,
        input_observer: ingest.obs,
        output_observer,
        stats,
        stopped,
    })
}

/// Puts the stages the groups ran back together into a core (for the summary),
/// with the last group's order and diary digests and its output observer.
fn reassemble<O: RunObserver>(groups: Vec<group::Group<O>>) -> (Core, StreamDigest, StreamDigest, O) {
    let (mut sensory, mut belief, mut decide, mut last_end) = (None, None, None, None);
    for grp in groups {
        for s in grp.stages {
            match s {
                MidStage::Sensory(x) => sensory = Some(x),
                MidStage::Belief(x) => belief = Some(x),
                MidStage::Decide(x) => decide = Some(x),
            }
        }
        if let End::Last(l) = grp.end {
            last_end = Some(*l);
        }
    }
    let group::LastEnd {
        encode,
        obs,
        orders,
        diary,
        ..
    } = last_end.expect("the last group has the end");
    let core = Core::from_stages(
        sensory.expect("sensory ran"),
        belief.expect("belief ran"),
        decide.expect("decide ran"),
        encode,
    );
    (core, orders, diary, obs)
}
