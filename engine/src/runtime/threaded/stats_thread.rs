//! The stats thread: merges the threads' histograms and counters and publishes
//! a snapshot to the stats file every interval, off the hot path.

use super::group::{End, Group, ThreadCounters};
use super::hist::{Hist, HistFeed};
use crate::core::live::{self, LiveBoard};
use crate::runtime::link::RunObserver;
use crate::runtime::stats::{
    global, HistSnapshot, StatsSnapshot, StatsWriter, ThreadSnapshot, GLOBALS, THREAD_COUNTERS,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A snapshot of the counters and merged histograms.
pub(super) fn snapshot(
    counters: &[Arc<ThreadCounters>],
    names: &[String],
    feeds: &[HistFeed],
    t2o: &HistFeed,
    board: &LiveBoard,
    state: &str,
) -> StatsSnapshot {
    let mut globals = vec![0u64; GLOBALS.len()];
    for c in counters {
        for (i, a) in c.globals.iter().enumerate() {
            let v = a.load(Ordering::Relaxed);
            if i == global::EVENT_TIME_NS {
                globals[i] = globals[i].max(v);
            } else {
                globals[i] += v;
            }
        }
    }
    let (rss, fds) = crate::runtime::stats::process_sample();
    globals[global::RESIDENT_BYTES] = rss;
    globals[global::OPEN_FDS] = fds;
    let mut hists: Vec<HistSnapshot> = vec![HistSnapshot::of(&t2o.name, &t2o.total)];
    hists.extend(feeds.iter().map(|f| HistSnapshot::of(&f.name, &f.total)));
    StatsSnapshot {
        pid: std::process::id() as u64,
        updated_unix_ns: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        state: state.to_string(),
        globals: GLOBALS.iter().zip(globals).map(|(n, v)| (n.to_string(), v)).collect(),
        threads: counters
            .iter()
            .zip(names)
            .enumerate()
            .map(|(k, (c, stages))| ThreadSnapshot {
                name: format!("t{k}"),
                stages: stages.clone(),
                counters: THREAD_COUNTERS
                    .iter()
                    .zip(&c.thread)
                    .map(|(n, a)| {
                        let v = a.load(Ordering::Relaxed);
                        (n.to_string(), v)
                    })
                    .collect(),
            })
            .collect(),
        hists,
        symbols: board.symbols().to_vec(),
        live: {
            let mut w = vec![0; live::WORDS];
            board.read(&mut w);
            w
        },
    }
}
/// The stats thread's ends of every histogram, and the stats file.
pub(super) struct StatsFeeds {
    /// Each group's exit histogram.
    pub feeds: Vec<HistFeed>,
    /// Tick-to-order.
    pub t2o: HistFeed,
    /// The stats file, if one is configured.
    pub writer: Option<StatsWriter>,
    /// The live board the stages publish to.
    pub board: Arc<LiveBoard>,
}

/// The stats thread's loop: merge what the threads handed over, publish a
/// snapshot, sleep `interval`; once `done` is raised, merge one last time and
/// hand everything back (the final snapshot comes after the threads' last counts).
pub(super) fn run_stats(
    mut f: StatsFeeds,
    counters: &[Arc<ThreadCounters>],
    names: &[String],
    done: &AtomicBool,
    interval: Duration,
) -> StatsFeeds {
    loop {
        let finished = done.load(Ordering::Acquire);
        for feed in f.feeds.iter_mut() {
            feed.collect();
        }
        f.t2o.collect();
        if finished {
            return f;
        }
        if let Some(w) = f.writer.as_mut() {
            w.publish(&snapshot(counters, names, &f.feeds, &f.t2o, &f.board, "running"));
        }
        std::thread::park_timeout(interval);
    }
}

impl StatsFeeds {
    /// Adds what each group recorded since its last hand-over, publishes the final
    /// snapshot and returns it with the whole run's tick-to-order histogram.
    pub(super) fn finish<O: RunObserver>(
        mut self,
        groups: &[Group<O>],
        counters: &[Arc<ThreadCounters>],
        names: &[String],
    ) -> (StatsSnapshot, Hist) {
        for (f, grp) in self.feeds.iter_mut().zip(groups) {
            f.collect();
            let _ = f.total.add(&grp.hist.hist);
        }
        self.t2o.collect();
        if let Some(End::Last(l)) = groups.last().map(|g| &g.end) {
            let _ = self.t2o.total.add(&l.t2o.hist);
        }
        let fin = snapshot(counters, names, &self.feeds, &self.t2o, &self.board, "finished");
        if let Some(w) = self.writer.as_mut() {
            w.publish(&fin);
        }
        (fin, self.t2o.total)
    }
}
