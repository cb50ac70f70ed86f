//! The fused runtime: every stage on one thread, in one loop.
//!
//! Each step takes the next input from the venue side (market data and execution
//! reports, already in control-time order), lets the sequencer inject any timers
//! due before it, stamps sequence number and TSC on each, and runs the core. Orders
//! the core emits go straight back to the venue, whose answers re-enter through
//! the same path on a later step — the single-sequencer loop of DESIGN §1.
//!
//! Tick-to-order latency is measured from the TSC stamp taken when an input enters
//! ingest to the moment its order is encoded and handed to the venue link.

use super::link::{RunObserver, VenueLink};
use super::summary::{policy_name, summarize, RunSummary};
use crate::config::Config;
use crate::core::pipeline::{Core, CoreSink};
use crate::core::Sequencer;
use crate::records::{DiaryRecord, InputSlot, Order, RiskReject, TheoryPacket};
use crate::runtime::{LatencyRecorder, StreamDigest};

/// Output side of a run: digests, latency, counts.
struct Outputs {
    orders: StreamDigest,
    diary: StreamDigest,
    inputs: StreamDigest,
    latency: LatencyRecorder,
    /// Whether inputs are stamped and tick-to-order recorded (see
    /// [`FusedRun::untimed`]).
    timed: bool,
}

impl Outputs {
    /// The ingest stamp of an input: the TSC, or 0 in an untimed run.
    #[inline]
    fn stamp(&self) -> u64 {
        if self.timed {
            self.latency.stamp()
        } else {
            0
        }
    }
}

struct Sink<'a, V: VenueLink, O: RunObserver> {
    venue: &'a mut V,
    out: &'a mut Outputs,
    obs: &'a mut O,
}

impl<V: VenueLink, O: RunObserver> CoreSink for Sink<'_, V, O> {
    #[inline]
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        self.venue.send(order, wire);
        if self.out.timed {
            self.out.latency.record_since(order.header.tsc);
        }
        self.out.orders.add(wire);
        self.obs.on_order(order, wire);
    }
    #[inline]
    fn on_reject(&mut self, reject: &RiskReject) {
        self.obs.on_reject(reject);
    }
    #[inline]
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.out.diary.add(bytemuck::bytes_of(rec));
        self.obs.on_diary(rec);
    }
    #[inline]
    fn on_theory(&mut self, packet: &TheoryPacket) {
        self.out.diary.add(bytemuck::bytes_of(packet));
        self.obs.on_theory(packet);
    }
}

/// A fused run of the core against one venue link, with an optional observer.
pub struct FusedRun<V: VenueLink, O: RunObserver = ()> {
    core: Core,
    seq: Sequencer,
    venue: V,
    obs: O,
    out: Outputs,
    policy: String,
    finished: bool,
    sequenced: bool,
}

impl<V: VenueLink> FusedRun<V, ()> {
    /// A run of the core configured by `cfg` against `venue`.
    pub fn new(cfg: &Config, venue: V) -> Self {
        Self::with_observer(cfg, venue, ())
    }
}

impl<V: VenueLink, O: RunObserver> FusedRun<V, O> {
    /// A run of the core configured by `cfg` against `venue`, reporting to `obs`.
    pub fn with_observer(cfg: &Config, venue: V, obs: O) -> Self {
        let sequenced = venue.sequenced();
        FusedRun {
            core: Core::new(&cfg.core_params()),
            seq: Sequencer::new(1, cfg.timers.tick_ns).with_timers(cfg.timers.enabled),
            venue,
            obs,
            out: Outputs {
                orders: StreamDigest::default(),
                diary: StreamDigest::default(),
                inputs: StreamDigest::default(),
                latency: LatencyRecorder::new(),
                timed: true,
            },
            policy: policy_name(cfg).to_string(),
            finished: false,
            sequenced,
        }
    }

    /// A run that reads no clock at all: no input is stamped and no
    /// tick-to-order latency recorded ([`latency`](Self::latency) stays
    /// empty). For runs whose latency nobody reads — a backtest, the scoring
    /// of a policy — where a TSC read per input (and one more per order) is a
    /// few percent of the time. The outputs are the same: the stamp is never
    /// hashed and never decides anything.
    pub fn untimed(mut self) -> Self {
        self.out.timed = false;
        self
    }

    /// Feeds one input through sequencer and core.
    #[inline]
    fn feed(&mut self, mut slot: InputSlot) {
        self.seq.stamp(&mut slot);
        self.feed_sequenced(slot);
    }

    /// Feeds one sequenced input through the core.
    #[inline]
    fn feed_sequenced(&mut self, slot: InputSlot) {
        // Hashed without its latency stamp (`tsc`).
        self.out.inputs.add_words(slot.words(), InputSlot::TSC_WORD);
        self.obs.on_input(&slot);
        let mut sink = Sink {
            venue: &mut self.venue,
            out: &mut self.out,
            obs: &mut self.obs,
        };
        self.core.on_input(&slot, &mut sink);
        self.obs.after_input(&slot, &self.core);
    }

    /// Processes the next venue input (and any timers due before it). Returns false
    /// when the venue is exhausted; the run is then finished.
    #[inline]
    pub fn step(&mut self) -> bool {
        let Some(mut slot) = self.venue.poll() else {
            self.finish();
            return false;
        };
        if self.sequenced {
            slot.header_mut().tsc = self.out.stamp();
            self.feed_sequenced(slot);
            return true;
        }
        let ts = slot.header().ts_ns;
        while let Some(t) = self.seq.due_timer(ts) {
            let mut ts_slot = InputSlot::from_timer(&t);
            ts_slot.header_mut().tsc = self.out.stamp();
            self.feed(ts_slot);
        }
        slot.header_mut().tsc = self.out.stamp();
        self.feed(slot);
        true
    }

    /// Injects an operator command at control time `ts_ns` (sequenced like any input).
    pub fn command(&mut self, mut cmd: crate::records::OperatorCommand) {
        cmd.header.tsc = self.out.stamp();
        self.feed(InputSlot::from_command(&cmd));
    }

    /// Runs until the venue is exhausted.
    pub fn run_to_end(&mut self) {
        while self.step() {}
    }

    /// Leaves the run unended when its inputs run out: no end-of-run outputs
    /// (the diary's pending records stay pending), as for a prefix of a run
    /// that goes on elsewhere (the replay of a run still being recorded).
    pub fn leave_open(&mut self) {
        self.finished = true;
    }

    /// Ends the run: releases the diary's pending records. Idempotent.
    pub fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            let mut sink = Sink {
                venue: &mut self.venue,
                out: &mut self.out,
                obs: &mut self.obs,
            };
            self.core.finish(&mut sink);
        }
    }

    /// The core (for inspection).
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The venue link (for inspection).
    pub fn venue(&self) -> &V {
        &self.venue
    }

    /// The venue link, mutably.
    pub fn venue_mut(&mut self) -> &mut V {
        &mut self.venue
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.obs
    }

    /// The observer, mutably (to flush journals at the end).
    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.obs
    }

    /// Tick-to-order latency so far (ns, from the ingest stamp to the hand-off).
    pub fn latency(&self) -> &hdrhistogram::Histogram<u64> {
        self.out.latency.histogram()
    }

    /// The summary so far.
    pub fn summary(&self) -> RunSummary {
        summarize(
            &self.policy,
            &self.core,
            [&self.out.orders, &self.out.diary, &self.out.inputs],
            self.out.latency.histogram(),
            self.seq.out_of_order(),
        )
    }
}
