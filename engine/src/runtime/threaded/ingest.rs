//! Ingest, the first group's extra duty: poll the source, sequence each input
//! (stamp seq and time, inject due timers) unless it comes sequenced, journal it,
//! count it, and feed it to the first group's stages. It also drains the back
//! ring (orders for the venue, `Done` for each input the pipeline finished) and,
//! with `md_backpressure: conflate`, keeps only the newest quote per instrument
//! while the first ring is nearly full.

use super::group::{End, Group};
use crate::config::{Backpressure, Config};
use crate::core::stage::{Msg, Staged};
use crate::core::Sequencer;
use crate::records::{InputSlot, InputView, MdAction};
use crate::runtime::link::{Polled, RunObserver, VenueLink};
use crate::runtime::stats::global;
use crate::runtime::StreamDigest;
use rtrb::Consumer;
use std::collections::VecDeque;

/// Most inputs in flight between ingest and the end of the pipeline in a live run.
pub(super) const MAX_IN_FLIGHT: usize = 1 << 16;

/// Messages one input can put on a ring at most (itself, halts, alarms, transitions
/// — and, at the last stage, its orders, rejects and diary records); conflation
/// starts when the first ring has less room than this.
pub(super) const CONFLATE_MARGIN: usize = 64;

/// Ingest's extra state (group 0).
pub(super) struct Ingest<V, OI> {
    pub(super) source: V,
    /// The source's inputs come sequenced (a journal): fed as they are.
    pub(super) sequenced: bool,
    pub(super) seq: Sequencer,
    pub(super) obs: OI,
    pub(super) inputs: StreamDigest,
    pub(super) back_rx: Option<Consumer<Msg>>,
    pub(super) in_flight: VecDeque<u64>,
    pub(super) feedback: Option<u64>,
    pub(super) conflate: bool,
    pub(super) pending: Vec<Option<InputSlot>>,
    pub(super) pending_n: usize,
    pub(super) heartbeat_ns: u64,
    pub(super) next_heartbeat: u64,
    pub(super) exhausted: bool,
    pub(super) venue_sends: u64,
    /// The message each input enters the first group in, kept from one input
    /// to the next (see [`Msg::set_input`]); boxed so that it can be taken out
    /// while the group's drain borrows the rest of `self`. Always `Some`
    /// between inputs.
    pub(super) msg: Option<Box<Msg>>,
}

impl<V: VenueLink, OI: RunObserver> Ingest<V, OI> {
    /// Ingest for `source` under `cfg`, journalling to `obs`; `back_rx` is the
    /// back ring from the last group (closed-loop runs).
    pub(super) fn new(cfg: &Config, source: V, obs: OI, back_rx: Option<Consumer<Msg>>) -> Self {
        let rt = &cfg.runtime;
        let sequenced = source.sequenced();
        Ingest {
            feedback: if sequenced { None } else { source.feedback_delay() },
            source,
            sequenced,
            seq: Sequencer::new(1, cfg.timers.tick_ns).with_timers(cfg.timers.enabled),
            obs,
            inputs: StreamDigest::default(),
            back_rx,
            // Slack for the timers one input can bring in beyond the limit.
            in_flight: VecDeque::with_capacity(MAX_IN_FLIGHT + 16),
            conflate: rt.md_backpressure == Backpressure::Conflate,
            pending: vec![None; cfg.instruments.len()],
            pending_n: 0,
            heartbeat_ns: rt.heartbeat_ms * 1_000_000,
            next_heartbeat: 0,
            exhausted: false,
            venue_sends: 0,
            msg: Some(Box::new(Msg::Input(Staged::new(InputSlot::default())))),
        }
    }

    /// Drains the back ring: orders go to the venue, Done retires the oldest
    /// in-flight input. Returns (messages handled, whether Finish came back).
    pub(super) fn drain(&mut self) -> (usize, bool) {
        let Some(rx) = &mut self.back_rx else {
            return (0, false);
        };
        let mut n = 0;
        let mut finished = false;
        while let Ok(m) = rx.pop() {
            n += 1;
            match m {
                // A journal's orders go nowhere (there is no back ring then).
                Msg::Order(o) if !self.sequenced => {
                    self.source.send(&o, &[]);
                    self.venue_sends += 1;
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
    pub(super) fn feed<O: RunObserver>(&mut self, mut slot: InputSlot, grp: &mut Group<O>) {
        if !self.sequenced {
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
    pub(super) fn enter<O: RunObserver>(&mut self, slot: InputSlot, grp: &mut Group<O>) {
        let h = *slot.header();
        // Hashed without its latency stamp (`tsc`).
        self.inputs.add_words(slot.words(), InputSlot::TSC_WORD);
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
        let mut msg = self.msg.take().unwrap_or_else(|| Box::new(Msg::Finish));
        msg.set_input(&slot);
        grp.handle(&mut msg, &mut || self.drain().0);
        self.msg = Some(msg);
    }

    /// Room on the first ring (unbounded when ingest's group is the whole pipeline).
    pub(super) fn room<O: RunObserver>(grp: &Group<O>) -> usize {
        match &grp.end {
            End::Ring(o) => o.free(),
            End::Last(_) => usize::MAX,
        }
    }

    /// Sequences the conflated quotes, oldest first (ties by instrument), so
    /// control time does not run backwards.
    pub(super) fn release_pending<O: RunObserver>(&mut self, grp: &mut Group<O>) {
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
    pub(super) fn poll_pass<O: RunObserver>(&mut self, grp: &mut Group<O>, batch: usize) -> usize {
        if self.pending_n > 0 && Self::room(grp) >= CONFLATE_MARGIN {
            self.release_pending(grp);
        }
        let mut n = 0;
        while n < batch && !self.exhausted {
            let polled = if self.sequenced {
                match self.source.poll() {
                    Some(s) => Polled::Input(s),
                    None => Polled::Exhausted,
                }
            } else {
                if self.in_flight.len() >= MAX_IN_FLIGHT {
                    break;
                }
                let horizon = match (self.feedback, self.in_flight.front()) {
                    (Some(d), Some(ts)) => ts.saturating_add(d),
                    _ => u64::MAX,
                };
                self.source.poll_before(horizon)
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
/// Ingest's duty cycle, on the calling thread with the first group: drain the
/// back ring, poll up to `batch` inputs through the first group, publish, idle
/// when there was nothing. When the source is exhausted (or `stop` is raised)
/// it sends `Finish` down the pipeline and waits for it to come back. Returns
/// whether `stop` ended the run.
pub(super) fn run_ingest<V: VenueLink, OI: RunObserver, OO: RunObserver>(
    ingest: &mut Ingest<V, OI>,
    first: &mut Group<OO>,
    batch: usize,
    stop: &std::sync::atomic::AtomicBool,
) -> bool {
    use crate::runtime::stats::thread;
    let mut idle = crate::runtime::wait::Idle::new(first.wait);
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
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            stopped = true;
            ingest.exhausted = true;
        }
        if !ingest.exhausted || ingest.pending_n > 0 {
            work += ingest.poll_pass(first, batch);
        }
        if ingest.exhausted && ingest.pending_n == 0 {
            first.handle(&mut Msg::Finish, &mut || ingest.drain().0);
            finishing = true;
        }
        first.local.globals[global::VENUE_SENDS] = ingest.venue_sends;
        first.local.thread[thread::IDLE_PARKS] = idle.parks();
        // Publishes the batch and the counters.
        first.flush(&mut || ingest.drain().0);
        // Where it would park, it waits on the link's sockets instead (woken by
        // a report, or by the stage that queued an order).
        idle.idle_or_wait(work, &mut |d| ingest.source.wait_input(d));
    }
    first.local.globals[global::VENUE_SENDS] = ingest.venue_sends;
    first.local.publish(&first.counters);
    stopped
}
