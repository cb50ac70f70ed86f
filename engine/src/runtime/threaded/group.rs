//! A stage group: the stages one thread runs, what their messages flow into
//! (the ring to the next group, or the encode stage and the outputs), and the
//! thread's duty cycle: `n = poll(); idle.idle(n)`.

use super::hist::HistSlot;
use crate::config::WaitStrategy;
use crate::core::stage::{BeliefStage, DecideStage, EncodeStage, Msg, SensoryStage};
use crate::core::CoreSink;
use crate::records::{DiaryRecord, Order, RiskReject, TheoryPacket};
use crate::runtime::link::RunObserver;
use crate::runtime::stats::{global, thread, GLOBALS, THREAD_COUNTERS};
use crate::runtime::wait::Idle;
use crate::runtime::StreamDigest;
use rtrb::{Consumer, Producer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

/// How a thread is woken when work arrives on its ring: unparked, and — for
/// the ingest thread, when it waits on its link's sockets rather than parking
/// — the link's waker too.
pub(crate) struct Wake {
    thread: Thread,
    extra: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Wake {
    /// The current thread, with `extra` called on every wake-up too.
    pub(crate) fn current(extra: Option<Arc<dyn Fn() + Send + Sync>>) -> Self {
        Wake {
            thread: std::thread::current(),
            extra,
        }
    }

    /// Wakes the thread: unparks it, and — when `urgent` (an order for the
    /// link to send) — ends its wait on the link too. The link's waker is a
    /// system call, so the completions that follow every input do not make it:
    /// a thread waiting on its link wakes for them at its next input or timeout.
    #[inline]
    pub(crate) fn wake(&self, urgent: bool) {
        self.thread.unpark();
        if urgent {
            if let Some(f) = &self.extra {
                f();
            }
        }
    }
}

/// One thread's counters, written by that thread only (relaxed), read by the stats
/// thread. On its own cache lines so threads never share one.
#[repr(align(128))]
#[derive(Default)]
pub(super) struct ThreadCounters {
    pub(super) thread: [AtomicU64; THREAD_COUNTERS.len()],
    pub(super) globals: [AtomicU64; GLOBALS.len()],
}

/// A thread's local counts, published to its [`ThreadCounters`] once per batch.
#[derive(Default)]
pub(super) struct Local {
    pub(super) thread: [u64; THREAD_COUNTERS.len()],
    pub(super) globals: [u64; GLOBALS.len()],
}

impl Local {
    #[inline]
    pub(super) fn publish(&self, c: &ThreadCounters) {
        for (a, v) in c.thread.iter().zip(&self.thread) {
            a.store(*v, Ordering::Relaxed);
        }
        for (a, v) in c.globals.iter().zip(&self.globals) {
            a.store(*v, Ordering::Relaxed);
        }
    }
}

/// The stages of one group after ingest, before the group's end. Each lives in
/// its thread for the whole run, so their different sizes cost nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum MidStage {
    Sensory(SensoryStage),
    Belief(BeliefStage),
    Decide(DecideStage),
}

impl MidStage {
    #[inline]
    pub(super) fn on(&mut self, m: &mut Msg, emit: &mut dyn FnMut(&mut Msg)) {
        match self {
            MidStage::Sensory(s) => s.on(m, &mut |x| emit(x)),
            MidStage::Belief(s) => s.on(m, &mut |x| emit(x)),
            MidStage::Decide(s) => s.on(m, &mut |x| emit(x)),
        }
    }
}

/// Passes `m` through `stages` in order; what leaves the last goes to `end`.
pub(super) fn through(stages: &mut [MidStage], m: &mut Msg, end: &mut dyn FnMut(&mut Msg)) {
    match stages.split_first_mut() {
        None => end(m),
        Some((s, rest)) => s.on(m, &mut |x| through(rest, x, end)),
    }
}

/// The TSC stamp of the input a message belongs to, for exit latency.
#[inline]
pub(super) fn stamp_of(m: &Msg) -> Option<u64> {
    match m {
        Msg::Input(s) => Some(s.input.header().tsc),
        Msg::Done { tsc, .. } => Some(*tsc),
        _ => None,
    }
}

/// Staged output of a thread onto its ring, published once per batch.
pub(super) struct Outbox {
    pub(super) tx: Producer<Msg>,
    pub(super) staged: Vec<Msg>,
    pub(super) stamps: Vec<u64>,
    pub(super) consumer: Arc<OnceLock<Wake>>,
    pub(super) unpark: bool,
    pub(super) capacity: usize,
    /// An order is among the staged messages (see [`Wake::wake`]).
    urgent: bool,
}

impl Outbox {
    /// An outbox staging up to `batch` messages; `stamped` records exit latency.
    pub(super) fn new(
        tx: Producer<Msg>,
        batch: usize,
        consumer: Arc<OnceLock<Wake>>,
        unpark: bool,
        stamped: bool,
    ) -> Self {
        let capacity = tx.buffer().capacity();
        Outbox {
            tx,
            staged: Vec::with_capacity(batch),
            stamps: Vec::with_capacity(if stamped { batch } else { 0 }),
            consumer,
            unpark,
            capacity,
            urgent: false,
        }
    }

    /// Room on the ring beyond what is already staged.
    #[inline]
    pub(super) fn free(&self) -> usize {
        self.tx.slots().saturating_sub(self.staged.len())
    }

    /// Stages `m`; publishes first if the stage is full.
    #[inline]
    pub(super) fn push(&mut self, m: Msg, ctx: &mut FlushCtx) {
        if self.staged.len() == self.staged.capacity() {
            self.flush(ctx);
        }
        if let Some(t) = stamp_of(&m) {
            if self.stamps.len() < self.stamps.capacity() {
                self.stamps.push(t);
            }
        }
        self.urgent |= matches!(m, Msg::Order(_));
        self.staged.push(m);
    }

    /// Publishes everything staged with one commit, waiting for room if the ring
    /// is full (calling `ctx.wait` meanwhile), then records exit latencies.
    #[inline]
    pub(super) fn flush(&mut self, ctx: &mut FlushCtx) {
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
                t.wake(self.urgent);
            }
        }
        self.urgent = false;
        let now = ctx.clock.raw();
        for &t in &self.stamps {
            ctx.hist.hist.saturating_record(ctx.clock.delta_as_nanos(t, now).max(1));
        }
        self.stamps.clear();
    }
}

/// What a flush needs of its thread.
pub(super) struct FlushCtx<'a> {
    pub(super) local: &'a mut Local,
    pub(super) hist: &'a mut HistSlot,
    pub(super) clock: &'a quanta::Clock,
    pub(super) wait: WaitStrategy,
    /// Work to do while waiting for room (ingest drains the back ring); returns
    /// how much it did.
    pub(super) waiting: &'a mut dyn FnMut() -> usize,
}

/// Output side of the last group: the encode stage's sink.
pub(super) struct OutSink<'a, O: RunObserver> {
    pub(super) obs: &'a mut O,
    pub(super) orders: &'a mut StreamDigest,
    pub(super) diary: &'a mut StreamDigest,
    pub(super) t2o: &'a mut super::hist::Hist,
    pub(super) clock: &'a quanta::Clock,
    pub(super) back: Option<&'a mut Vec<Msg>>,
    pub(super) local: &'a mut Local,
    pub(super) done_stamps: &'a mut Vec<u64>,
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
pub(super) struct LastEnd<O: RunObserver> {
    pub(super) encode: EncodeStage,
    pub(super) obs: O,
    pub(super) orders: StreamDigest,
    pub(super) diary: StreamDigest,
    pub(super) t2o: HistSlot,
    /// Back-ring messages staged this batch (orders and Done for the venue).
    pub(super) back_staged: Vec<Msg>,
    pub(super) done_stamps: Vec<u64>,
    pub(super) finished: bool,
}

/// What a group's messages flow into.
pub(super) enum End<O: RunObserver> {
    Ring(Outbox),
    Last(Box<LastEnd<O>>),
}

/// A group thread's state.
pub(super) struct Group<O: RunObserver> {
    pub(super) stages: Vec<MidStage>,
    pub(super) end: End<O>,
    pub(super) back: Option<Outbox>,
    pub(super) hist: HistSlot,
    pub(super) local: Local,
    pub(super) counters: Arc<ThreadCounters>,
    pub(super) clock: quanta::Clock,
    pub(super) wait: WaitStrategy,
    /// `messages` at the last flush (a batch is a flush with new messages).
    pub(super) flushed_at: u64,
}

impl<O: RunObserver> Group<O> {
    /// Passes one message through this group's stages into its end; `waiting` is
    /// called while a full ring holds it up.
    #[inline]
    pub(super) fn handle(&mut self, m: &mut Msg, waiting: &mut dyn FnMut() -> usize) {
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
    pub(super) fn flush(&mut self, waiting: &mut dyn FnMut() -> usize) {
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

    pub(super) fn finished(&self) -> bool {
        matches!(&self.end, End::Last(l) if l.finished)
    }
}

/// The duty cycle of a group after the first: read what is on the input ring
/// (up to `batch`), pass each message through the stages, publish with one
/// commit, and idle when there was nothing. Ends at `Finish` (or when the ring's
/// producer is gone) and hands the group back.
pub(super) fn run_group<O: RunObserver>(
    mut grp: Group<O>,
    mut rx: Consumer<Msg>,
    wake: &OnceLock<Wake>,
    core: Option<usize>,
    batch: usize,
) -> Group<O> {
    let _ = wake.set(Wake::current(None));
    if let Some(c) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id: c });
    }
    let mut idle = Idle::new(grp.wait);
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
}
