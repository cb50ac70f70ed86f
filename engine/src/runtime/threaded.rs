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
//! [`Core`]: crate::core::Core

use super::fused::{policy_name, summarize, Polled, RunObserver, RunSummary, VenueLink};
use super::stats::{
    global, thread, HistSnapshot, StatsError, StatsSnapshot, StatsWriter, ThreadSnapshot, GLOBALS, THREAD_COUNTERS,
};
use super::wait::Idle;
use super::StreamDigest;
use crate::config::{Backpressure, Config, StageName};
use crate::core::stage::{BeliefStage, DecideStage, EncodeStage, Msg, SensoryStage, Staged};
use crate::core::{Core, CoreSink, Sequencer};
use crate::records::{DiaryRecord, InputSlot, InputView, MdAction, Order, RiskReject, TheoryPacket};
use hdrhistogram::Histogram;
use rtrb::{Consumer, Producer, RingBuffer};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

/// Most inputs in flight between ingest and the end of the pipeline in a live run.
const MAX_IN_FLIGHT: usize = 1 << 16;
/// Messages one input can put on a ring at most (itself, halts, alarms, transitions
/// — and, at the last stage, its orders, rejects and diary records); conflation
/// starts when the first ring has less room than this.
const CONFLATE_MARGIN: usize = 64;

/// Where a threaded run's inputs come from.
pub enum Source<V, I> {
    /// A venue: inputs are sequenced here, timers injected, orders sent back to it.
    Venue(V),
    /// Inputs already sequenced (a journal): fed as they are; orders go nowhere.
    Sequenced(I),
}

/// Errors of a threaded run.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime section of the config is not valid.
    #[error("config runtime.layout: {0}")]
    Layout(String),
    /// The stats file could not be created.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// A pinned core does not exist on this host.
    #[error("runtime.cores: core {0} is not available to this process")]
    Core(usize),
}

/// Everything a threaded run hands back.
pub struct ThreadedOutcome<V, I, OI, OO> {
    /// The run's summary (same fields and hashes as a fused run's).
    pub summary: RunSummary,
    /// The source, back.
    pub source: Source<V, I>,
    /// The input observer (journal), back.
    pub input_observer: OI,
    /// The output observer (journals), back.
    pub output_observer: OO,
    /// The final statistics (also written to the stats file if one was configured).
    pub stats: StatsSnapshot,
    /// Whether the run ended because `stop` was raised.
    pub stopped: bool,
}

/// One thread's counters, written by that thread only (relaxed), read by the stats
/// thread. On its own cache lines so threads never share one.
#[repr(align(128))]
#[derive(Default)]
struct ThreadCounters {
    thread: [AtomicU64; THREAD_COUNTERS.len()],
    globals: [AtomicU64; GLOBALS.len()],
}

/// A thread's local counts, published to its [`ThreadCounters`] once per batch.
#[derive(Default)]
struct Local {
    thread: [u64; THREAD_COUNTERS.len()],
    globals: [u64; GLOBALS.len()],
}

impl Local {
    #[inline]
    fn publish(&self, c: &ThreadCounters) {
        for (a, v) in c.thread.iter().zip(&self.thread) {
            a.store(*v, Ordering::Relaxed);
        }
        for (a, v) in c.globals.iter().zip(&self.globals) {
            a.store(*v, Ordering::Relaxed);
        }
    }
}

type Hist = Histogram<u64>;

fn new_hist() -> Hist {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("static histogram bounds are valid")
}

/// A thread's histogram with the rings to swap it with the stats thread.
struct HistSlot {
    hist: Hist,
    fresh: Consumer<Hist>,
    used: Producer<Hist>,
}

/// The stats thread's end of a [`HistSlot`].
struct HistFeed {
    name: String,
    fresh: Producer<Hist>,
    used: Consumer<Hist>,
    total: Hist,
}

fn hist_pair(name: String) -> (HistSlot, HistFeed) {
    let (mut ftx, frx) = RingBuffer::new(2);
    let (utx, urx) = RingBuffer::new(4);
    for _ in 0..2 {
        let _ = ftx.push(new_hist());
    }
    (
        HistSlot {
            hist: new_hist(),
            fresh: frx,
            used: utx,
        },
        HistFeed {
            name,
            fresh: ftx,
            used: urx,
            total: new_hist(),
        },
    )
}

impl HistSlot {
    /// Hands the filled histogram to the stats thread if it has sent an empty one
    /// (two ring operations, no allocation).
    #[inline]
    fn maybe_swap(&mut self) {
        if self.used.slots() > 0 {
            if let Ok(mut h) = self.fresh.pop() {
                std::mem::swap(&mut self.hist, &mut h);
                let _ = self.used.push(h);
            }
        }
    }
}

impl HistFeed {
    /// Merges what the thread handed over and sends back emptied histograms.
    fn collect(&mut self) {
        while let Ok(mut h) = self.used.pop() {
            let _ = self.total.add(&h);
            h.reset();
            let _ = self.fresh.push(h);
        }
    }
}

/// The stages of one group after ingest, before the group's end. Each lives in
/// its thread for the whole run, so their different sizes cost nothing.
#[allow(clippy::large_enum_variant)]
enum MidStage {
    Sensory(SensoryStage),
    Belief(BeliefStage),
    Decide(DecideStage),
}

impl MidStage {
    #[inline]
    fn on(&mut self, m: &mut Msg, emit: &mut dyn FnMut(&mut Msg)) {
        match self {
            MidStage::Sensory(s) => s.on(m, &mut |x| emit(x)),
            MidStage::Belief(s) => s.on(m, &mut |x| emit(x)),
            MidStage::Decide(s) => s.on(m, &mut |x| emit(x)),
        }
    }
}

/// Passes `m` through `stages` in order; what leaves the last goes to `end`.
fn through(stages: &mut [MidStage], m: &mut Msg, end: &mut dyn FnMut(&mut Msg)) {
    match stages.split_first_mut() {
        None => end(m),
        Some((s, rest)) => s.on(m, &mut |x| through(rest, x, end)),
    }
}

/// The TSC stamp of the input a message belongs to, for exit latency.
#[inline]
fn stamp_of(m: &Msg) -> Option<u64> {
    match m {
        Msg::Input(s) => Some(s.input.header().tsc),
        Msg::Done { tsc, .. } => Some(*tsc),
        _ => None,
    }
}

/// Staged output of a thread onto its ring, published once per batch.
struct Outbox {
    tx: Producer<Msg>,
    staged: Vec<Msg>,
    stamps: Vec<u64>,
    consumer: Arc<OnceLock<Thread>>,
    unpark: bool,
    capacity: usize,
}

impl Outbox {
    /// An outbox staging up to `batch` messages; `stamped` records exit latency.
    fn new(tx: Producer<Msg>, batch: usize, consumer: Arc<OnceLock<Thread>>, unpark: bool, stamped: bool) -> Self {
        let capacity = tx.buffer().capacity();
        Outbox {
            tx,
            staged: Vec::with_capacity(batch),
            stamps: Vec::with_capacity(if stamped { batch } else { 0 }),
            consumer,
            unpark,
            capacity,
        }
    }

    /// Room on the ring beyond what is already staged.
    #[inline]
    fn free(&self) -> usize {
        self.tx.slots().saturating_sub(self.staged.len())
    }

    /// Stages `m`; publishes first if the stage is full.
    #[inline]
    fn push(&mut self, m: Msg, ctx: &mut FlushCtx) {
        if self.staged.len() == self.staged.capacity() {
            self.flush(ctx);
        }
        if let Some(t) = stamp_of(&m) {
            if self.stamps.len() < self.stamps.capacity() {
                self.stamps.push(t);
            }
        }
        self.staged.push(m);
    }

    /// Publishes everything staged with one commit, waiting for room if the ring
    /// is full (calling `ctx.wait` meanwhile), then records exit latencies.
    #[inline]
    fn flush(&mut self, ctx: &mut FlushCtx) {
        let n = self.staged.len();
        if n == 0 {
            return;
        }
        if self.tx.slots() < n {
            ctx.local.thread[thread::FULL_WAITS] += 1;
            let mut idle = Idle::new(ctx.wait);
            while self.tx.slots() < n {
                if self.tx.is_abandoned() {
                    // The consumer is gone (it can only be after a failure there);
                    // drop rather than wait forever.
                    self.staged.clear();
                    self.stamps.clear();
                    return;
                }
                let work = (ctx.waiting)();
                idle.idle(work);
            }
        }
        if let Ok(chunk) = self.tx.write_chunk_uninit(n) {
            chunk.fill_from_iter(self.staged.drain(..));
        }
        let occupied = (self.capacity - self.tx.slots()) as u64;
        let hwm = &mut ctx.local.thread[thread::RING_HWM];
        *hwm = (*hwm).max(occupied);
        if self.unpark {
            if let Some(t) = self.consumer.get() {
                t.unpark();
            }
        }
        let now = ctx.clock.raw();
        for &t in &self.stamps {
            ctx.hist.hist.saturating_record(ctx.clock.delta_as_nanos(t, now).max(1));
        }
        self.stamps.clear();
    }
}

/// What a flush needs of its thread.
struct FlushCtx<'a> {
    local: &'a mut Local,
    hist: &'a mut HistSlot,
    clock: &'a quanta::Clock,
    wait: crate::config::WaitStrategy,
    /// Work to do while waiting for room (ingest drains the back ring); returns
    /// how much it did.
    waiting: &'a mut dyn FnMut() -> usize,
}

/// Output side of the last group: the encode stage's sink.
struct OutSink<'a, O: RunObserver> {
    obs: &'a mut O,
    orders: &'a mut StreamDigest,
    diary: &'a mut StreamDigest,
    t2o: &'a mut Hist,
    clock: &'a quanta::Clock,
    back: Option<&'a mut Vec<Msg>>,
    local: &'a mut Local,
    done_stamps: &'a mut Vec<u64>,
}

impl<O: RunObserver> CoreSink for OutSink<'_, O> {
    #[inline]
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        let ns = self.clock.delta_as_nanos(order.header.tsc, self.clock.raw());
        self.t2o.saturating_record(ns.max(1));
        self.orders.add(wire);
        self.obs.on_order(order, wire);
        self.local.globals[global::ORDERS] += 1;
        if let Some(b) = self.back.as_deref_mut() {
            b.push(Msg::Order(*order));
        }
    }
    #[inline]
    fn on_reject(&mut self, reject: &RiskReject) {
        self.local.globals[global::REJECTS] += 1;
        self.obs.on_reject(reject);
    }
    #[inline]
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.diary.add(bytemuck::bytes_of(rec));
        self.obs.on_diary(rec);
    }
    #[inline]
    fn on_theory(&mut self, packet: &TheoryPacket) {
        self.diary.add(bytemuck::bytes_of(packet));
        self.obs.on_theory(packet);
    }
    #[inline]
    fn on_input_done(&mut self, seq: u64, tsc: u64) {
        if self.done_stamps.len() < self.done_stamps.capacity() {
            self.done_stamps.push(tsc);
        }
        if let Some(b) = self.back.as_deref_mut() {
            b.push(Msg::Done { seq, tsc });
        }
    }
}

/// The end of the last group: encode, digests, output observer, back ring.
struct LastEnd<O: RunObserver> {
    encode: EncodeStage,
    obs: O,
    orders: StreamDigest,
    diary: StreamDigest,
    t2o: HistSlot,
    /// Back-ring messages staged this batch (orders and Done for the venue).
    back_staged: Vec<Msg>,
    done_stamps: Vec<u64>,
    finished: bool,
}

/// What a group's messages flow into.
enum End<O: RunObserver> {
    Ring(Outbox),
    Last(Box<LastEnd<O>>),
}

/// A group thread's state.
struct Group<O: RunObserver> {
    stages: Vec<MidStage>,
    end: End<O>,
    back: Option<Outbox>,
    hist: HistSlot,
    local: Local,
    counters: Arc<ThreadCounters>,
    clock: quanta::Clock,
    wait: crate::config::WaitStrategy,
    /// `messages` at the last flush (a batch is a flush with new messages).
    flushed_at: u64,
}

impl<O: RunObserver> Group<O> {
    /// Passes one message through this group's stages into its end; `waiting` is
    /// called while a full ring holds it up.
    #[inline]
    fn handle(&mut self, m: &mut Msg, waiting: &mut dyn FnMut() -> usize) {
        let Group {
            stages,
            end,
            local,
            hist,
            clock,
            wait,
            ..
        } = self;
        local.thread[thread::MESSAGES] += 1;
        match end {
            End::Ring(out) => {
                let mut ctx = FlushCtx {
                    local,
                    hist,
                    clock,
                    wait: *wait,
                    waiting,
                };
                through(stages, m, &mut |x| out.push(*x, &mut ctx));
            }
            End::Last(last) => {
                let l = &mut **last;
                through(stages, m, &mut |x| {
                    if matches!(x, Msg::Finish) {
                        l.finished = true;
                        l.back_staged.push(Msg::Finish);
                        return;
                    }
                    let mut sink = OutSink {
                        obs: &mut l.obs,
                        orders: &mut l.orders,
                        diary: &mut l.diary,
                        t2o: &mut l.t2o.hist,
                        clock,
                        back: Some(&mut l.back_staged),
                        local,
                        done_stamps: &mut l.done_stamps,
                    };
                    l.encode.on(x, &mut sink);
                });
            }
        }
    }

    /// Publishes what this batch produced.
    #[inline]
    fn flush(&mut self, waiting: &mut dyn FnMut() -> usize) {
        let mut ctx = FlushCtx {
            local: &mut self.local,
            hist: &mut self.hist,
            clock: &self.clock,
            wait: self.wait,
            waiting,
        };
        match &mut self.end {
            End::Ring(out) => out.flush(&mut ctx),
            End::Last(l) => {
                let now = self.clock.raw();
                for &t in &l.done_stamps {
                    ctx.hist
                        .hist
                        .saturating_record(self.clock.delta_as_nanos(t, now).max(1));
                }
                l.done_stamps.clear();
                if let Some(back) = &mut self.back {
                    for m in l.back_staged.drain(..) {
                        back.push(m, &mut ctx);
                    }
                    back.flush(&mut ctx);
                } else {
                    l.back_staged.clear();
                }
            }
        }
        self.hist.maybe_swap();
        if let End::Last(l) = &mut self.end {
            l.t2o.maybe_swap();
        }
        let m = self.local.thread[thread::MESSAGES];
        if m != self.flushed_at {
            self.flushed_at = m;
            self.local.thread[thread::BATCHES] += 1;
        }
        self.local.publish(&self.counters);
    }

    fn finished(&self) -> bool {
        matches!(&self.end, End::Last(l) if l.finished)
    }
}

/// Ingest's extra state (group 0).
struct Ingest<V, I, OI> {
    source: Source<V, I>,
    seq: Sequencer,
    obs: OI,
    inputs: StreamDigest,
    back_rx: Option<Consumer<Msg>>,
    in_flight: VecDeque<u64>,
    feedback: Option<u64>,
    conflate: bool,
    pending: Vec<Option<InputSlot>>,
    pending_n: usize,
    heartbeat_ns: u64,
    next_heartbeat: u64,
    exhausted: bool,
    venue_sends: u64,
}

impl<V: VenueLink, I: Iterator<Item = InputSlot>, OI: RunObserver> Ingest<V, I, OI> {
    /// Drains the back ring: orders go to the venue, Done retires the oldest
    /// in-flight input. Returns (messages handled, whether Finish came back).
    fn drain(&mut self) -> (usize, bool) {
        let Some(rx) = &mut self.back_rx else {
            return (0, false);
        };
        let mut n = 0;
        let mut finished = false;
        while let Ok(m) = rx.pop() {
            n += 1;
            match m {
                Msg::Order(o) => {
                    if let Source::Venue(v) = &mut self.source {
                        v.send(&o, &[]);
                        self.venue_sends += 1;
                    }
                }
                Msg::Done { .. } => {
                    self.in_flight.pop_front();
                }
                Msg::Finish => finished = true,
                _ => {}
            }
        }
        (n, finished)
    }

    /// Sequences (for a venue source) and feeds one input into the group.
    #[inline]
    fn feed<O: RunObserver>(&mut self, mut slot: InputSlot, grp: &mut Group<O>) {
        if let Source::Venue(_) = self.source {
            let ts = slot.header().ts_ns;
            while let Some(t) = self.seq.due_timer(ts) {
                let mut s = InputSlot::from_timer(&t);
                s.header_mut().tsc = grp.clock.raw();
                self.seq.stamp(&mut s);
                self.enter(s, grp);
            }
            slot.header_mut().tsc = grp.clock.raw();
            self.seq.stamp(&mut slot);
        } else {
            slot.header_mut().tsc = grp.clock.raw();
        }
        self.enter(slot, grp);
    }

    #[inline]
    fn enter<O: RunObserver>(&mut self, slot: InputSlot, grp: &mut Group<O>) {
        let h = *slot.header();
        let mut hashed = slot;
        hashed.header_mut().tsc = 0;
        self.inputs.add(hashed.as_bytes());
        self.obs.on_input(&slot);
        if self.feedback.is_some() {
            self.in_flight.push_back(h.ts_ns);
        }
        let l = &mut grp.local.globals;
        l[global::INPUTS] += 1;
        match slot.view() {
            Some(InputView::Md(_)) => l[global::MARKET_DATA] += 1,
            Some(InputView::Exec(_)) => l[global::EXEC_REPORTS] += 1,
            Some(InputView::Timer(_)) => l[global::TIMERS] += 1,
            _ => {}
        }
        l[global::EVENT_TIME_NS] = h.ts_ns;
        if h.ts_ns >= self.next_heartbeat {
            if self.next_heartbeat > 0 {
                l[global::HEARTBEATS] += 1;
            }
            self.next_heartbeat = (h.ts_ns / self.heartbeat_ns + 1) * self.heartbeat_ns;
        }
        grp.handle(&mut Msg::Input(Staged::new(slot)), &mut || self.drain().0);
    }

    /// Room on the first ring (unbounded when ingest's group is the whole pipeline).
    fn room<O: RunObserver>(grp: &Group<O>) -> usize {
        match &grp.end {
            End::Ring(o) => o.free(),
            End::Last(_) => usize::MAX,
        }
    }

    /// Sequences the conflated quotes, oldest first (ties by instrument), so
    /// control time does not run backwards.
    fn release_pending<O: RunObserver>(&mut self, grp: &mut Group<O>) {
        while self.pending_n > 0 {
            let oldest = self
                .pending
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.map(|s| (s.header().ts_ns, i)))
                .min();
            let Some((_, i)) = oldest else { break };
            if let Some(s) = self.pending[i].take() {
                self.pending_n -= 1;
                self.feed(s, grp);
            }
        }
    }

    /// One pass: up to `batch` inputs from the source. Returns how many.
    fn poll_pass<O: RunObserver>(&mut self, grp: &mut Group<O>, batch: usize) -> usize {
        if self.pending_n > 0 && Self::room(grp) >= CONFLATE_MARGIN {
            self.release_pending(grp);
        }
        let mut n = 0;
        while n < batch && !self.exhausted {
            let polled = match &mut self.source {
                Source::Venue(v) => {
                    if self.in_flight.len() >= MAX_IN_FLIGHT {
                        break;
                    }
                    let horizon = match (self.feedback, self.in_flight.front()) {
                        (Some(d), Some(ts)) => ts.saturating_add(d),
                        _ => u64::MAX,
                    };
                    v.poll_before(horizon)
                }
                Source::Sequenced(it) => match it.next() {
                    Some(s) => Polled::Input(s),
                    None => Polled::Exhausted,
                },
            };
            let slot = match polled {
                Polled::Input(s) => s,
                Polled::Blocked => break,
                Polled::Exhausted => {
                    self.exhausted = true;
                    break;
                }
            };
            n += 1;
            if self.conflate {
                if let Some(InputView::Md(md)) = slot.view() {
                    let i = md.header.instrument as usize;
                    if md.action() == Some(MdAction::Quote)
                        && i < self.pending.len()
                        && Self::room(grp) < CONFLATE_MARGIN
                    {
                        if self.pending[i].replace(slot).is_some() {
                            grp.local.globals[global::CONFLATED] += 1;
                        } else {
                            self.pending_n += 1;
                        }
                        continue;
                    }
                }
                if self.pending_n > 0 {
                    self.release_pending(grp);
                }
            }
            self.feed(slot, grp);
        }
        if self.exhausted && self.pending_n > 0 {
            self.release_pending(grp);
        }
        n
    }
}

/// Runs `cfg`'s pipeline in the layout of `cfg.runtime` until the source is
/// exhausted or `stop` is raised, then drains every ring and returns.
pub fn run_threaded<V, I, OI, OO>(
    cfg: &Config,
    source: Source<V, I>,
    input_observer: OI,
    output_observer: OO,
    stop: &AtomicBool,
) -> Result<ThreadedOutcome<V, I, OI, OO>, RuntimeError>
where
    V: VenueLink + Send,
    I: Iterator<Item = InputSlot> + Send,
    OI: RunObserver + Send,
    OO: RunObserver + Send,
{
    let rt = &cfg.runtime;
    let groups = rt.layout.groups().map_err(RuntimeError::Layout)?;
    let mut stats_writer = match &rt.stats_file {
        Some(p) => Some(StatsWriter::create(&PathBuf::from(p))?),
        None => None,
    };
    let available: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .iter()
        .map(|c| c.id)
        .collect();
    if let Some(c) = rt.cores.iter().find(|c| !available.contains(c)) {
        return Err(RuntimeError::Core(*c));
    }
    let n = groups.len();
    let feedback = match &source {
        Source::Venue(v) => v.feedback_delay(),
        Source::Sequenced(_) => None,
    };
    let closed_loop = matches!(source, Source::Venue(_));

    // Rings between consecutive groups, and the back ring to ingest.
    let wake: Vec<Arc<OnceLock<Thread>>> = (0..n).map(|_| Arc::new(OnceLock::new())).collect();
    let mut txs: Vec<Option<Producer<Msg>>> = Vec::new();
    let mut rxs: Vec<Option<Consumer<Msg>>> = vec![None];
    for _ in 1..n {
        let (tx, rx) = RingBuffer::new(rt.ring_capacity);
        txs.push(Some(tx));
        rxs.push(Some(rx));
    }
    txs.push(None);
    let (back_tx, back_rx) = if closed_loop {
        let (tx, rx) = RingBuffer::new(rt.ring_capacity.max(1 << 14));
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };

    let counters: Vec<Arc<ThreadCounters>> = (0..n).map(|_| Arc::new(ThreadCounters::default())).collect();
    let mut feeds = Vec::new();
    let mut slots = Vec::new();
    for grp in &groups {
        let last = *grp.last().expect("groups are not empty");
        let name = if last == StageName::Encode {
            "exit.pipeline".to_string()
        } else {
            format!("exit.{}", last.name())
        };
        let (s, f) = hist_pair(name);
        slots.push(Some(s));
        feeds.push(f);
    }
    let (t2o_slot, mut t2o_feed) = hist_pair("tick_to_order".into());
    let mut t2o_slot = Some(t2o_slot);

    // Stages, distributed to their groups.
    let mut sensory = Some(SensoryStage::new(cfg));
    let mut belief = Some(BeliefStage::new(cfg));
    let mut decide = Some(DecideStage::new(cfg));
    let mut encode = Some(EncodeStage::new(cfg));
    let mut output_observer = Some(output_observer);
    let mut back_tx = back_tx;
    let mut built: Vec<Group<OO>> = Vec::new();
    for (k, grp) in groups.iter().enumerate() {
        let mut stages = Vec::new();
        for s in grp {
            match s {
                StageName::Sensory => stages.push(MidStage::Sensory(sensory.take().expect("once"))),
                StageName::Belief => stages.push(MidStage::Belief(belief.take().expect("once"))),
                StageName::Decide => stages.push(MidStage::Decide(decide.take().expect("once"))),
                StageName::Ingest | StageName::Encode => {}
            }
        }
        let unpark = rt.wait == crate::config::WaitStrategy::Park;
        let end = if k + 1 == n {
            End::Last(Box::new(LastEnd {
                encode: encode.take().expect("once"),
                obs: output_observer.take().expect("once"),
                orders: StreamDigest::default(),
                diary: StreamDigest::default(),
                t2o: t2o_slot.take().expect("once"),
                back_staged: Vec::with_capacity(rt.batch * 64),
                done_stamps: Vec::with_capacity(rt.batch * 4),
                finished: false,
            }))
        } else {
            End::Ring(Outbox::new(
                txs[k].take().expect("a ring after every group but the last"),
                rt.batch,
                wake[k + 1].clone(),
                unpark,
                true,
            ))
        };
        let back = if k + 1 == n {
            back_tx
                .take()
                .map(|tx| Outbox::new(tx, rt.batch * 64, wake[0].clone(), unpark, false))
        } else {
            None
        };
        let mut local = Local::default();
        if let Some(o) = match &end {
            End::Ring(o) => Some(o),
            End::Last(_) => back.as_ref(),
        } {
            local.thread[thread::RING_CAPACITY] = o.capacity as u64;
        }
        built.push(Group {
            stages,
            end,
            back,
            hist: slots[k].take().expect("one per group"),
            local,
            counters: counters[k].clone(),
            clock: quanta::Clock::new(),
            wait: rt.wait,
            flushed_at: 0,
        });
    }
    let mut ingest = Ingest {
        source,
        seq: Sequencer::new(1, cfg.timers.tick_ns),
        obs: input_observer,
        inputs: StreamDigest::default(),
        back_rx,
        // Slack for the timers one input can bring in beyond the limit.
        in_flight: VecDeque::with_capacity(MAX_IN_FLIGHT + 16),
        feedback,
        conflate: rt.md_backpressure == Backpressure::Conflate,
        pending: vec![None; cfg.instruments.len()],
        pending_n: 0,
        heartbeat_ns: rt.heartbeat_ms * 1_000_000,
        next_heartbeat: 0,
        exhausted: false,
        venue_sends: 0,
    };

    let stats_done = AtomicBool::new(false);
    let batch = rt.batch;
    let wait = rt.wait;
    let cores = rt.cores.clone();
    let stage_names: Vec<String> = groups
        .iter()
        .map(|g| g.iter().map(|s| s.name()).collect::<Vec<_>>().join("+"))
        .collect();
    let interval = Duration::from_millis(rt.stats_interval_ms);

    let (ingest, groups_back, stopped) = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        let mut iter = built.into_iter();
        let mut first = iter.next().expect("at least one group");
        let mut rx_iter = rxs.into_iter();
        let _ = rx_iter.next();
        for (k, mut grp) in iter.enumerate() {
            let k = k + 1;
            let mut rx = rx_iter.next().flatten().expect("a ring into every group but the first");
            let wake = wake[k].clone();
            let core = cores.get(k).copied();
            handles.push(scope.spawn(move || {
                let _ = wake.set(std::thread::current());
                if let Some(c) = core {
                    core_affinity::set_for_current(core_affinity::CoreId { id: c });
                }
                let mut idle = Idle::new(wait);
                loop {
                    let avail = rx.slots().min(batch);
                    if avail > 0 {
                        if let Ok(chunk) = rx.read_chunk(avail) {
                            let (a, b) = chunk.as_slices();
                            let mut fin = false;
                            for m in a.iter().chain(b) {
                                fin |= matches!(m, Msg::Finish);
                                let mut x = *m;
                                grp.handle(&mut x, &mut || 0);
                            }
                            chunk.commit_all();
                            grp.flush(&mut || 0);
                            if fin || grp.finished() {
                                break;
                            }
                        }
                    } else if rx.is_abandoned() {
                        break;
                    }
                    idle.idle(avail);
                    grp.local.thread[thread::IDLE_PARKS] = idle.parks();
                }
                grp.local.publish(&grp.counters);
                grp
            }));
        }

        // The stats thread: merges histograms and publishes snapshots.
        let counters_ref = &counters;
        let stats_done_ref = &stats_done;
        let names_ref = &stage_names;
        let stats_handle = scope.spawn(move || {
            loop {
                let done = stats_done_ref.load(Ordering::Acquire);
                for f in feeds.iter_mut() {
                    f.collect();
                }
                t2o_feed.collect();
                if done {
                    // The final snapshot is published after the threads' last counts.
                    break;
                }
                if let Some(w) = stats_writer.as_mut() {
                    w.publish(&snapshot(counters_ref, names_ref, &feeds, &t2o_feed, "running"));
                }
                std::thread::park_timeout(interval);
            }
            (feeds, t2o_feed, stats_writer)
        });

        // Ingest runs on this thread.
        let _ = wake[0].set(std::thread::current());
        if let Some(c) = cores.first() {
            core_affinity::set_for_current(core_affinity::CoreId { id: *c });
        }
        let mut idle = Idle::new(wait);
        let mut stopped = false;
        let mut finishing = false;
        loop {
            let (mut work, back_finished) = ingest.drain();
            if finishing {
                if back_finished || ingest.back_rx.is_none() || first.finished() {
                    break;
                }
                idle.idle(work);
                continue;
            }
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                ingest.exhausted = true;
            }
            if !ingest.exhausted || ingest.pending_n > 0 {
                work += ingest.poll_pass(&mut first, batch);
            }
            if ingest.exhausted && ingest.pending_n == 0 {
                first.handle(&mut Msg::Finish, &mut || ingest.drain().0);
                finishing = true;
            }
            first.local.globals[global::VENUE_SENDS] = ingest.venue_sends;
            first.local.thread[thread::IDLE_PARKS] = idle.parks();
            // Publishes the batch and the counters.
            first.flush(&mut || ingest.drain().0);
            idle.idle(work);
        }
        first.local.globals[global::VENUE_SENDS] = ingest.venue_sends;
        first.local.publish(&first.counters);
        let mut groups_back = vec![first];
        for h in handles {
            groups_back.push(h.join().expect("a stage thread panicked"));
        }
        stats_done.store(true, Ordering::Release);
        stats_handle.thread().unpark();
        let (mut feeds, mut t2o_feed, mut stats_writer) = stats_handle.join().expect("the stats thread panicked");
        // What the threads recorded since their last hand-over.
        for (f, grp) in feeds.iter_mut().zip(&groups_back) {
            f.collect();
            let _ = f.total.add(&grp.hist.hist);
        }
        t2o_feed.collect();
        let last = groups_back.last().expect("at least one group");
        if let End::Last(l) = &last.end {
            let _ = t2o_feed.total.add(&l.t2o.hist);
        }
        let fin = snapshot(&counters, &stage_names, &feeds, &t2o_feed, "finished");
        if let Some(w) = stats_writer.as_mut() {
            w.publish(&fin);
        }
        ((ingest, fin, t2o_feed.total), groups_back, stopped)
    });
    let ((ingest, stats, t2o), mut groups_back) = (ingest, groups_back);

    // Reassemble the stages into a core for the summary.
    let mut sensory = None;
    let mut belief = None;
    let mut decide = None;
    let mut last_end = None;
    for grp in groups_back.drain(..) {
        for s in grp.stages {
            match s {
                MidStage::Sensory(x) => sensory = Some(x),
                MidStage::Belief(x) => belief = Some(x),
                MidStage::Decide(x) => decide = Some(x),
            }
        }
        if let End::Last(l) = grp.end {
            last_end = Some(l);
        }
    }
    let l = last_end.expect("the last group has the end");
    let l = *l;
    let core = Core::from_stages(
        sensory.expect("sensory ran"),
        belief.expect("belief ran"),
        decide.expect("decide ran"),
        l.encode,
    );
    let summary = summarize(
        policy_name(cfg),
        &core,
        [&l.orders, &l.diary, &ingest.inputs],
        &t2o,
        ingest.seq.out_of_order(),
    );
    Ok(ThreadedOutcome {
        summary,
        source: ingest.source,
        input_observer: ingest.obs,
        output_observer: l.obs,
        stats,
        stopped,
    })
}

/// A snapshot of the counters and merged histograms.
fn snapshot(
    counters: &[Arc<ThreadCounters>],
    names: &[String],
    feeds: &[HistFeed],
    t2o: &HistFeed,
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
    }
}
