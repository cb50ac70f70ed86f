//! The live statistics file: counters and latency histograms of a running
//! pipeline, in a memory-mapped file that `foxtrot stat` reads from another
//! process, like Aeron's counters file.
//!
//! Only the stats thread writes it, off the hot path: stage threads publish
//! their counters as relaxed atomics and hand their interval histograms over
//! SPSC rings; the stats thread merges them and writes one snapshot under a
//! [`seqlock`], so a reader always sees a consistent one.
//!
//! Layout: little-endian `u64` words.
//!
//! ```text
//! word 0        magic "FXSTAT01"
//! word 1        layout version (1)
//! word 2        writer pid
//! word 3..7     reserved
//! word 8        seqlock version (odd while a snapshot is being written)
//! word 9..      snapshot: updated (unix ns), state (1 running, 2 finished),
//!               thread count, histogram count, GLOBALS counters,
//!               MAX_THREADS × THREAD_WORDS, MAX_HISTS × HIST_WORDS,
//!               instrument count, MAX_INSTRUMENTS × 2 symbol words,
//!               the live board's words ([`crate::core::live`])
//! ```
//!
//! A thread block is its name (16 bytes, NUL-padded), its stage list (16 bytes)
//! and [`THREAD_COUNTERS`]; a histogram block is its name (16 bytes), the summary
//! fields of [`HistSnapshot`] and [`BUCKETS`] bucket counts, bucket `k` counting
//! values in `[2^k, 2^(k+1))` ns.

use crate::core::live::{self, word, InstrumentFigures, TRADING_STATES};
use crate::error::Error;
use crate::records::RejectReason;
use foxtrot_shm::seqlock;
use hdrhistogram::Histogram;
use memmap2::MmapMut;
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

/// The file's magic word.
pub const MAGIC: u64 = u64::from_le_bytes(*b"FXSTAT01");
/// Layout version (2: the live board after the histograms).
pub const VERSION: u64 = 3;
/// Most threads a file describes.
pub const MAX_THREADS: usize = 8;
/// Most histograms a file holds.
pub const MAX_HISTS: usize = 12;
/// Power-of-two buckets per histogram.
pub const BUCKETS: usize = 40;
/// Global counters, by index: `GLOBALS[global::INPUTS] == "inputs"`.
pub const GLOBALS: [&str; 12] = [
    "inputs",
    "market_data",
    "exec_reports",
    "timers",
    "heartbeats",
    "event_time_ns",
    "conflated",
    "orders",
    "rejects",
    "venue_sends",
    "resident_bytes",
    "open_fds",
];

/// Indices into [`GLOBALS`].
pub mod global {
    /// Inputs sequenced.
    pub const INPUTS: usize = 0;
    /// Market-data inputs.
    pub const MARKET_DATA: usize = 1;
    /// Execution reports.
    pub const EXEC_REPORTS: usize = 2;
    /// Timers.
    pub const TIMERS: usize = 3;
    /// Heartbeats (one per `heartbeat_ms` of event time).
    pub const HEARTBEATS: usize = 4;
    /// Control time of the last input.
    pub const EVENT_TIME_NS: usize = 5;
    /// Quotes replaced by a newer one before they were sequenced.
    pub const CONFLATED: usize = 6;
    /// Orders encoded.
    pub const ORDERS: usize = 7;
    /// Risk rejects.
    pub const REJECTS: usize = 8;
    /// Orders handed to the venue.
    pub const VENUE_SENDS: usize = 9;
    /// The process's resident memory (bytes), sampled by the stats thread.
    pub const RESIDENT_BYTES: usize = 10;
    /// The process's open file descriptors, sampled by the stats thread.
    pub const OPEN_FDS: usize = 11;
}

/// (resident bytes, open file descriptors) of this process, from `/proc/self`
/// (0 where it cannot be read). For the stats thread: a file read and a
/// directory listing, never on the hot path.
pub fn process_sample() -> (u64, u64) {
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            let kb = t.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
            kb.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024);
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    (rss, fds)
}

/// Per-thread counters, by index: `THREAD_COUNTERS[thread::MESSAGES] == "messages"`.
pub const THREAD_COUNTERS: [&str; 6] = [
    "messages",
    "batches",
    "ring_hwm",
    "ring_capacity",
    "full_waits",
    "idle_parks",
];

/// Indices into [`THREAD_COUNTERS`].
pub mod thread {
    /// Messages handled.
    pub const MESSAGES: usize = 0;
    /// Publishes that carried new messages.
    pub const BATCHES: usize = 1;
    /// Most messages seen on the output ring after a publish.
    pub const RING_HWM: usize = 2;
    /// Capacity of the output ring (the back ring for the last thread).
    pub const RING_CAPACITY: usize = 3;
    /// Publishes that had to wait for room.
    pub const FULL_WAITS: usize = 4;
    /// Times the thread parked while idle.
    pub const IDLE_PARKS: usize = 5;
}

const THREAD_WORDS: usize = 4 + THREAD_COUNTERS.len();
const HIST_FIELDS: usize = 9;
const HIST_WORDS: usize = 2 + HIST_FIELDS + BUCKETS;
const SNAP_HEAD: usize = 4;
const LIVE_AT: usize = SNAP_HEAD + GLOBALS.len() + MAX_THREADS * THREAD_WORDS + MAX_HISTS * HIST_WORDS;
const LIVE_SNAP_WORDS: usize = 1 + 2 * live::MAX_INSTRUMENTS + live::WORDS;
const SNAP_WORDS: usize = LIVE_AT + LIVE_SNAP_WORDS;
const SEQ_WORD: usize = 8;
const FILE_WORDS: usize = SEQ_WORD + 1 + SNAP_WORDS;
/// Size of the file in bytes.
pub const FILE_SIZE: usize = FILE_WORDS * 8;

/// One thread's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ThreadSnapshot {
    /// Thread name (`t0`, `t1`, …).
    pub name: String,
    /// The stages it runs, `+`-joined.
    pub stages: String,
    /// [`THREAD_COUNTERS`] in order, by name.
    pub counters: Vec<(String, u64)>,
}

/// One histogram's summary, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistSnapshot {
    /// What it measures (`tick_to_order`, `exit.t1`, …).
    pub name: String,
    /// Samples.
    pub count: u64,
    /// Smallest.
    pub min: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Counts of values in `[2^k, 2^(k+1))` ns.
    pub buckets: Vec<u64>,
}

impl HistSnapshot {
    /// Summarises `h` under `name`.
    pub fn of(name: &str, h: &Histogram<u64>) -> Self {
        let mut buckets = vec![0u64; BUCKETS];
        for v in h.iter_recorded() {
            let x = v.value_iterated_to().max(1);
            let k = (63 - x.leading_zeros() as usize).min(BUCKETS - 1);
            buckets[k] += v.count_at_value();
        }
        let q = |p: f64| if h.is_empty() { 0 } else { h.value_at_quantile(p) };
        HistSnapshot {
            name: name.to_string(),
            count: h.len(),
            min: if h.is_empty() { 0 } else { h.min() },
            max: h.max(),
            mean: h.mean() as u64,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            p9999: q(0.9999),
            buckets,
        }
    }
}

/// A consistent picture of a running (or finished) pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Writer's pid.
    pub pid: u64,
    /// When the snapshot was written (unix ns, wall clock).
    pub updated_unix_ns: u64,
    /// `running` or `finished`.
    pub state: String,
    /// [`GLOBALS`] by name.
    pub globals: Vec<(String, u64)>,
    /// Per-thread counters.
    pub threads: Vec<ThreadSnapshot>,
    /// Latency histograms.
    pub hists: Vec<HistSnapshot>,
    /// The instruments' symbols, as the live board shows them.
    #[serde(skip)]
    pub symbols: Vec<String>,
    /// The live board's words ([`crate::core::live`]); empty when none was published.
    #[serde(skip)]
    pub live: Vec<u64>,
}

/// The live board, read: what an operator watches.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LiveFigures {
    /// `normal`, `reduce_only`, `drawdown_halt` or `killed`.
    pub trading_state: String,
    /// Instruments the operator halted.
    pub halted: Vec<String>,
    /// Operator commands applied.
    pub commands: u64,
    /// Equity, currency units.
    pub equity: f64,
    /// Drawdown from the equity peak.
    pub drawdown: f64,
    /// Largest drawdown so far.
    pub max_drawdown: f64,
    /// Open orders.
    pub open_orders: u64,
    /// Fills.
    pub fills: u64,
    /// Drift alarms.
    pub drift_alarms: u64,
    /// Inputs the decide stage has applied.
    pub applied: u64,
    /// Risk rejects by reason (those seen).
    pub rejects: Vec<(String, u64)>,
    /// FIX session state (`none` without a FIX venue).
    pub session: String,
    /// Order → acknowledgement latency over FIX, ns: count, p50, p99, p99.9, max.
    pub order_ack: [u64; 5],
    /// Per instrument.
    pub instruments: Vec<LiveInstrument>,
}

/// One instrument on the live board.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LiveInstrument {
    /// Its symbol.
    pub symbol: String,
    /// Position, realised and unrealised PnL, open orders.
    #[serde(flatten)]
    pub figures: InstrumentFigures,
}

/// FIX session states by code ([`word::SESSION`]).
pub const SESSION_STATES: [&str; 4] = ["none", "connecting", "active", "ended"];

impl StatsSnapshot {
    /// The live board, when one was published.
    pub fn live_figures(&self) -> Option<LiveFigures> {
        let w = &self.live;
        if w.len() < live::WORDS {
            return None;
        }
        let f = |k: usize| f64::from_bits(w[k]);
        Some(LiveFigures {
            trading_state: TRADING_STATES
                .get(w[word::STATE] as usize)
                .unwrap_or(&"unknown")
                .to_string(),
            halted: (0..self.symbols.len().min(64))
                .filter(|&i| w[word::HALTED] >> i & 1 == 1)
                .map(|i| self.symbols[i].clone())
                .collect(),
            commands: w[word::COMMANDS],
            equity: f(word::EQUITY),
            drawdown: f(word::DRAWDOWN),
            max_drawdown: f(word::MAX_DRAWDOWN),
            open_orders: w[word::OPEN_ORDERS],
            fills: w[word::FILLS],
            drift_alarms: w[word::DRIFT_ALARMS],
            applied: w[word::APPLIED],
            rejects: RejectReason::ALL
                .iter()
                .map(|r| (r.name().to_string(), w[word::REJECTS + *r as usize]))
                .filter(|(_, n)| *n > 0)
                .collect(),
            session: SESSION_STATES
                .get(w[word::SESSION] as usize)
                .unwrap_or(&"unknown")
                .to_string(),
            order_ack: [
                w[word::ORDER_ACK],
                w[word::ORDER_ACK + 1],
                w[word::ORDER_ACK + 2],
                w[word::ORDER_ACK + 3],
                w[word::ORDER_ACK + 4],
            ],
            instruments: self
                .symbols
                .iter()
                .enumerate()
                .take(live::MAX_INSTRUMENTS)
                .map(|(i, s)| LiveInstrument {
                    symbol: s.clone(),
                    figures: live::instrument_of(w, i),
                })
                .collect(),
        })
    }
}

impl StatsSnapshot {
    /// A global counter by name (0 if absent).
    pub fn global(&self, name: &str) -> u64 {
        self.globals.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v)
    }
    /// A histogram by name.
    pub fn hist(&self, name: &str) -> Option<&HistSnapshot> {
        self.hists.iter().find(|h| h.name == name)
    }
}

fn name_words(s: &str) -> [u64; 2] {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    [
        u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
        u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
    ]
}

fn words_name(w: &[u64]) -> String {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&w[0].to_le_bytes());
    b.extend_from_slice(&w[1].to_le_bytes());
    let end = b.iter().position(|&c| c == 0).unwrap_or(16);
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// A mapped stats file, seen as atomic words.
struct Mapped {
    map: MmapMut,
    path: PathBuf,
}

impl Mapped {
    fn words(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is FILE_SIZE bytes (checked at open), page-aligned (so
        // 8-byte aligned), and lives as long as `self`; AtomicU64 has the size and
        // alignment of u64, and every access to these words, by any process, is
        // atomic, so shared mutation through `&AtomicU64` is sound.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr() as *const AtomicU64, FILE_WORDS) }
    }
}

/// The writing side (the stats thread).
pub struct StatsWriter {
    m: Mapped,
    buf: Vec<u64>,
}

impl StatsWriter {
    /// Creates the file at `path`, or takes over the one a previous run left
    /// there, and writes its header; the snapshot reads as `starting` until
    /// the first [`publish`](Self::publish).
    ///
    /// A file of the stats size is never truncated, only rewritten in place:
    /// a reader still mapping it — `foxtrot stat`, a Prometheus exporter
    /// watching across an engine's restart — would take a `SIGBUS` from a load
    /// in the moment it had no pages. Such a reader goes on reading the new
    /// run's snapshots.
    pub fn create(path: &Path) -> Result<Self, Error> {
        let io = |cause| Error::StatsIo {
            path: path.to_path_buf(),
            cause,
        };
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        // A file of another size is no stats file a reader maps (they check).
        if f.metadata().map_err(io)?.len() != FILE_SIZE as u64 {
            f.set_len(FILE_SIZE as u64).map_err(io)?;
        }
        // Its pages before any store: a full /dev/shm is this error, not a SIGBUS.
        foxtrot_shm::reserve(&f, 0, FILE_SIZE as u64).map_err(io)?;
        // SAFETY: the file has its full size (set above, never shrunk while it
        // has that size); other processes only read it through atomics (see
        // `Mapped::words`), and no one truncates it while it is mapped.
        let map = unsafe { MmapMut::map_mut(&f) }.map_err(io)?;
        let m = Mapped {
            map,
            path: path.to_path_buf(),
        };
        let buf = vec![0; SNAP_WORDS];
        let w = m.words();
        // The last run's snapshot, if any, gone before the new pid shows.
        seqlock::write(&w[SEQ_WORD..], &buf);
        use std::sync::atomic::Ordering::Release;
        w[1].store(VERSION, Release);
        w[2].store(std::process::id() as u64, Release);
        w[0].store(MAGIC, Release);
        Ok(StatsWriter { m, buf })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.m.path
    }

    /// Publishes `s` (threads and histograms beyond the file's capacity are left out).
    pub fn publish(&mut self, s: &StatsSnapshot) {
        let b = &mut self.buf;
        b.iter_mut().for_each(|x| *x = 0);
        b[0] = s.updated_unix_ns;
        b[1] = if s.state == "finished" { 2 } else { 1 };
        b[2] = s.threads.len().min(MAX_THREADS) as u64;
        b[3] = s.hists.len().min(MAX_HISTS) as u64;
        for (i, name) in GLOBALS.iter().enumerate() {
            b[SNAP_HEAD + i] = s.global(name);
        }
        let t0 = SNAP_HEAD + GLOBALS.len();
        for (k, t) in s.threads.iter().take(MAX_THREADS).enumerate() {
            let at = t0 + k * THREAD_WORDS;
            b[at..at + 2].copy_from_slice(&name_words(&t.name));
            b[at + 2..at + 4].copy_from_slice(&name_words(&t.stages));
            for (j, (_, v)) in t.counters.iter().take(THREAD_COUNTERS.len()).enumerate() {
                b[at + 4 + j] = *v;
            }
        }
        let h0 = t0 + MAX_THREADS * THREAD_WORDS;
        for (k, h) in s.hists.iter().take(MAX_HISTS).enumerate() {
            let at = h0 + k * HIST_WORDS;
            b[at..at + 2].copy_from_slice(&name_words(&h.name));
            let f = [h.count, h.min, h.max, h.mean, h.p50, h.p90, h.p99, h.p999, h.p9999];
            b[at + 2..at + 2 + HIST_FIELDS].copy_from_slice(&f);
            for (j, c) in h.buckets.iter().take(BUCKETS).enumerate() {
                b[at + 2 + HIST_FIELDS + j] = *c;
            }
        }
        let n = s.symbols.len().min(live::MAX_INSTRUMENTS);
        b[LIVE_AT] = if s.live.len() == live::WORDS {
            n as u64
        } else {
            u64::MAX
        };
        for (k, sym) in s.symbols.iter().take(n).enumerate() {
            b[LIVE_AT + 1 + 2 * k..LIVE_AT + 3 + 2 * k].copy_from_slice(&name_words(sym));
        }
        let l0 = LIVE_AT + 1 + 2 * live::MAX_INSTRUMENTS;
        for (k, v) in s.live.iter().take(live::WORDS).enumerate() {
            b[l0 + k] = *v;
        }
        seqlock::write(&self.m.words()[SEQ_WORD..], b);
    }
}

/// The reading side (`foxtrot stat`, tests).
pub struct StatsReader {
    m: Mapped,
    /// (device, inode) of the file mapped.
    file: (u64, u64),
}

impl StatsReader {
    /// Maps an existing stats file and checks its header.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let io = |cause| Error::StatsIo {
            path: path.to_path_buf(),
            cause,
        };
        let f = OpenOptions::new().read(true).write(true).open(path).map_err(io)?;
        let meta = f.metadata().map_err(io)?;
        let len = meta.len();
        if len != FILE_SIZE as u64 {
            return Err(Error::StatsFormat {
                path: path.to_path_buf(),
                what: format!("{len} bytes; a version-{VERSION} stats file has {FILE_SIZE}"),
            });
        }
        // SAFETY: the file has the full size (checked above); all access to it, here
        // and in the writer, is through atomics; we never write or truncate it.
        let map = unsafe { MmapMut::map_mut(&f) }.map_err(io)?;
        let m = Mapped {
            map,
            path: path.to_path_buf(),
        };
        let w = m.words();
        use std::sync::atomic::Ordering::Acquire;
        if w[0].load(Acquire) != MAGIC || w[1].load(Acquire) != VERSION {
            return Err(Error::StatsFormat {
                path: path.to_path_buf(),
                what: format!("not a version-{VERSION} foxtrot stats file (bad magic or version)"),
            });
        }
        use std::os::unix::fs::MetadataExt;
        Ok(StatsReader {
            m,
            file: (meta.dev(), meta.ino()),
        })
    }

    /// Whether the path now names another file than the one mapped: the
    /// file was deleted and made again (a cleaned `/dev/shm`, a deployment
    /// that removes it), and the mapped one is an orphan no engine writes.
    /// No file at the path at all is not a replacement (yet).
    pub fn replaced(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&self.m.path).is_ok_and(|m| (m.dev(), m.ino()) != self.file)
    }

    /// Follows a replaced file (see [`replaced`](Self::replaced)): maps the
    /// one the path now names once it is a whole stats file, and says so.
    /// A reader that outlives engines — a Prometheus exporter, `foxtrot
    /// stat` — calls it before each read, or would serve the orphan's last
    /// snapshot for ever. (An engine restarting on the file rewrites it in
    /// place, which needs nothing of the reader.)
    pub fn follow(&mut self) -> bool {
        if !self.replaced() {
            return false;
        }
        match StatsReader::open(&self.m.path) {
            Ok(r) => {
                *self = r;
                true
            }
            // Still being made, or not a stats file: the old one until it is.
            Err(_) => false,
        }
    }

    /// A consistent snapshot.
    pub fn read(&self) -> Result<StatsSnapshot, Error> {
        let w = self.m.words();
        let mut b = vec![0u64; SNAP_WORDS];
        if !seqlock::read(&w[SEQ_WORD..], &mut b, 100_000) {
            return Err(Error::StatsBusy(self.m.path.clone()));
        }
        let nt = (b[2] as usize).min(MAX_THREADS);
        let nh = (b[3] as usize).min(MAX_HISTS);
        let t0 = SNAP_HEAD + GLOBALS.len();
        let h0 = t0 + MAX_THREADS * THREAD_WORDS;
        Ok(StatsSnapshot {
            pid: w[2].load(std::sync::atomic::Ordering::Relaxed),
            updated_unix_ns: b[0],
            state: match b[1] {
                2 => "finished",
                1 => "running",
                _ => "starting",
            }
            .to_string(),
            globals: GLOBALS
                .iter()
                .enumerate()
                .map(|(i, n)| (n.to_string(), b[SNAP_HEAD + i]))
                .collect(),
            threads: (0..nt)
                .map(|k| {
                    let at = t0 + k * THREAD_WORDS;
                    ThreadSnapshot {
                        name: words_name(&b[at..at + 2]),
                        stages: words_name(&b[at + 2..at + 4]),
                        counters: THREAD_COUNTERS
                            .iter()
                            .enumerate()
                            .map(|(j, n)| (n.to_string(), b[at + 4 + j]))
                            .collect(),
                    }
                })
                .collect(),
            hists: (0..nh)
                .map(|k| {
                    let at = h0 + k * HIST_WORDS;
                    let f = &b[at + 2..at + 2 + HIST_FIELDS];
                    HistSnapshot {
                        name: words_name(&b[at..at + 2]),
                        count: f[0],
                        min: f[1],
                        max: f[2],
                        mean: f[3],
                        p50: f[4],
                        p90: f[5],
                        p99: f[6],
                        p999: f[7],
                        p9999: f[8],
                        buckets: b[at + 2 + HIST_FIELDS..at + HIST_WORDS].to_vec(),
                    }
                })
                .collect(),
            symbols: match b[LIVE_AT] {
                u64::MAX => vec![],
                n => (0..(n as usize).min(live::MAX_INSTRUMENTS))
                    .map(|k| words_name(&b[LIVE_AT + 1 + 2 * k..LIVE_AT + 3 + 2 * k]))
                    .collect(),
            },
            live: match b[LIVE_AT] {
                u64::MAX => vec![],
                _ => {
                    let l0 = LIVE_AT + 1 + 2 * live::MAX_INSTRUMENTS;
                    b[l0..l0 + live::WORDS].to_vec()
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_indices_name_their_counters() {
        assert_eq!(GLOBALS[global::INPUTS], "inputs");
        assert_eq!(GLOBALS[global::MARKET_DATA], "market_data");
        assert_eq!(GLOBALS[global::EXEC_REPORTS], "exec_reports");
        assert_eq!(GLOBALS[global::TIMERS], "timers");
        assert_eq!(GLOBALS[global::HEARTBEATS], "heartbeats");
        assert_eq!(GLOBALS[global::EVENT_TIME_NS], "event_time_ns");
        assert_eq!(GLOBALS[global::CONFLATED], "conflated");
        assert_eq!(GLOBALS[global::ORDERS], "orders");
        assert_eq!(GLOBALS[global::REJECTS], "rejects");
        assert_eq!(GLOBALS[global::VENUE_SENDS], "venue_sends");
        assert_eq!(THREAD_COUNTERS[thread::MESSAGES], "messages");
        assert_eq!(THREAD_COUNTERS[thread::BATCHES], "batches");
        assert_eq!(THREAD_COUNTERS[thread::RING_HWM], "ring_hwm");
        assert_eq!(THREAD_COUNTERS[thread::RING_CAPACITY], "ring_capacity");
        assert_eq!(THREAD_COUNTERS[thread::FULL_WAITS], "full_waits");
        assert_eq!(THREAD_COUNTERS[thread::IDLE_PARKS], "idle_parks");
    }

    #[test]
    fn a_published_snapshot_reads_back_whole() {
        let (dir, path) = stats_path("snapshot");
        let mut w = StatsWriter::create(&path).unwrap();
        let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).unwrap();
        for v in [100u64, 200, 300, 5_000] {
            h.record(v).unwrap();
        }
        let snap = StatsSnapshot {
            pid: std::process::id() as u64,
            updated_unix_ns: 7,
            state: "running".into(),
            globals: GLOBALS
                .iter()
                .enumerate()
                .map(|(i, n)| (n.to_string(), i as u64 * 3))
                .collect(),
            threads: vec![ThreadSnapshot {
                name: "t0".into(),
                stages: "ingest+sensory".into(),
                counters: THREAD_COUNTERS.iter().map(|n| (n.to_string(), 11)).collect(),
            }],
            hists: vec![HistSnapshot::of("tick_to_order", &h)],
            symbols: vec!["AAPL".into(), "MSFT".into()],
            live: (0..live::WORDS as u64).collect(),
        };
        w.publish(&snap);
        let r = StatsReader::open(&path).unwrap();
        let got = r.read().unwrap();
        assert_eq!(got, snap);
        let t = got.hist("tick_to_order").unwrap();
        assert_eq!(t.count, 4);
        assert_eq!(t.buckets.iter().sum::<u64>(), 4);
        assert_eq!(t.buckets[6], 1, "100 ns is in [64, 128)");
        // Not a stats file: refused with a message, never a panic.
        std::fs::write(dir.join("bad"), vec![0u8; FILE_SIZE]).unwrap();
        assert!(matches!(
            StatsReader::open(&dir.join("bad")),
            Err(Error::StatsFormat { .. })
        ));
        std::fs::write(dir.join("short"), b"x").unwrap();
        assert!(matches!(
            StatsReader::open(&dir.join("short")),
            Err(Error::StatsFormat { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh directory for test `name` and the stats file path in it.
    fn stats_path(name: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("foxtrot-stats-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.stats");
        (dir, path)
    }

    /// A running snapshot of this process whose time and every counter are
    /// `updated`: one run's state told apart from another's.
    fn snap(updated: u64) -> StatsSnapshot {
        StatsSnapshot {
            pid: std::process::id() as u64,
            updated_unix_ns: updated,
            state: "running".into(),
            globals: GLOBALS.iter().map(|n| (n.to_string(), updated)).collect(),
            threads: vec![],
            hists: vec![],
            symbols: vec![],
            live: vec![],
        }
    }

    /// An engine restarting on the stats file a reader has mapped (a
    /// `foxtrot stat` or Prometheus exporter left running) takes the file
    /// over in place: the reader, reading all the while, never faults and
    /// reads the new run's snapshots. Truncating it, as a create once did,
    /// killed the reader with a `SIGBUS` in the moment it had no pages.
    #[test]
    fn a_restart_keeps_a_reader_of_the_file_reading() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (dir, path) = stats_path("restart");
        StatsWriter::create(&path).unwrap().publish(&snap(1));
        let r = StatsReader::open(&path).unwrap();
        let done = AtomicBool::new(false);
        let reads = std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let mut reads = 0u64;
                while !done.load(Ordering::Relaxed) {
                    // Busy is possible (a writer mid-snapshot); a fault is not.
                    if let Ok(s) = r.read() {
                        assert!(s.updated_unix_ns <= 300, "{}", s.updated_unix_ns);
                        reads += 1;
                    }
                }
                reads
            });
            for k in 2..=300 {
                StatsWriter::create(&path).unwrap().publish(&snap(k));
            }
            done.store(true, Ordering::Relaxed);
            reader.join().unwrap()
        });
        assert!(reads > 0);
        assert_eq!(r.read().unwrap(), snap(300));
        // The new writer's file reads as starting until it publishes.
        let _w = StatsWriter::create(&path).unwrap();
        let s = r.read().unwrap();
        assert_eq!((s.state.as_str(), s.updated_unix_ns), ("starting", 0));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), FILE_SIZE as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A stats file deleted and made again under a reader (a cleaned
    /// `/dev/shm`, say) is followed: the reader maps the new file once it is
    /// whole, and until then reads the old; a path with no file, or with a
    /// file that is not a stats file, is not followed.
    #[test]
    fn a_reader_follows_a_replaced_file() {
        let (dir, path) = stats_path("follow");
        StatsWriter::create(&path).unwrap().publish(&snap(1));
        let mut r = StatsReader::open(&path).unwrap();
        assert!(!r.replaced() && !r.follow());
        std::fs::remove_file(&path).unwrap();
        assert!(!r.replaced() && !r.follow(), "no file: nothing to follow");
        std::fs::write(&path, b"half made").unwrap();
        assert!(r.replaced() && !r.follow(), "not yet a stats file: the old one");
        assert_eq!(r.read().unwrap(), snap(1));
        std::fs::remove_file(&path).unwrap();
        StatsWriter::create(&path).unwrap().publish(&snap(2));
        assert!(r.follow(), "the new file, whole");
        assert!(!r.replaced());
        assert_eq!(r.read().unwrap(), snap(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
