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

use crate::config::Config;
use crate::core::pipeline::{Core, CoreCounters, CoreSink};
use crate::core::risk::PnlSnapshot;
use crate::core::Sequencer;
use crate::records::{DiaryRecord, InputSlot, Order, RejectReason, RiskReject, TheoryPacket};
use crate::runtime::{LatencyRecorder, StreamDigest};

/// The venue side as the runtime sees it: a source of inputs and a sink of orders.
pub trait VenueLink {
    /// The next input (market data or an execution report) in control-time order,
    /// or `None` when the source is exhausted and nothing is pending.
    fn poll(&mut self) -> Option<InputSlot>;
    /// Sends one order; `wire` is its encoded FIX message.
    fn send(&mut self, order: &Order, wire: &[u8]);
    /// The least control time between an order's trigger and the first moment it
    /// can change this venue's inputs, if orders can change them at all (a
    /// simulated venue: its entry latency). A threaded runtime uses it to keep
    /// several inputs in flight and still see the inputs a fused run would.
    fn feedback_delay(&self) -> Option<u64> {
        None
    }
    /// Like [`poll`](Self::poll), but does nothing that happens after control time
    /// `horizon`: orders still unknown to the venue could come before it. Only
    /// venues with a [`feedback_delay`](Self::feedback_delay) need to override it.
    fn poll_before(&mut self, horizon: u64) -> Polled {
        let _ = horizon;
        match self.poll() {
            Some(s) => Polled::Input(s),
            None => Polled::Exhausted,
        }
    }
}

/// What [`VenueLink::poll_before`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polled {
    /// The next input.
    Input(InputSlot),
    /// The next input depends on orders not yet sent; ask again after sending them.
    Blocked,
    /// Nothing more will come.
    Exhausted,
}

/// Taps on everything a run sequences and emits, for journals and tests. Every
/// method defaults to doing nothing; `()` is the observer that observes nothing.
pub trait RunObserver {
    /// A sequenced input, just before the core processes it.
    fn on_input(&mut self, _slot: &InputSlot) {}
    /// An order that left the core, with its FIX bytes.
    fn on_order(&mut self, _order: &Order, _wire: &[u8]) {}
    /// A risk reject.
    fn on_reject(&mut self, _reject: &RiskReject) {}
    /// A released diary record.
    fn on_diary(&mut self, _rec: &DiaryRecord) {}
    /// A theory packet (drift alarm), part of the diary stream.
    fn on_theory(&mut self, _packet: &TheoryPacket) {}
}

impl RunObserver for () {}

/// An observer that may be absent (`None` observes nothing).
impl<T: RunObserver> RunObserver for Option<T> {
    #[inline]
    fn on_input(&mut self, s: &InputSlot) {
        if let Some(t) = self {
            t.on_input(s)
        }
    }
    #[inline]
    fn on_order(&mut self, o: &Order, wire: &[u8]) {
        if let Some(t) = self {
            t.on_order(o, wire)
        }
    }
    #[inline]
    fn on_reject(&mut self, r: &RiskReject) {
        if let Some(t) = self {
            t.on_reject(r)
        }
    }
    #[inline]
    fn on_diary(&mut self, d: &DiaryRecord) {
        if let Some(t) = self {
            t.on_diary(d)
        }
    }
    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        if let Some(t) = self {
            t.on_theory(p)
        }
    }
}

/// Two observers, both told everything (first `A`, then `B`).
impl<A: RunObserver, B: RunObserver> RunObserver for (A, B) {
    #[inline]
    fn on_input(&mut self, s: &InputSlot) {
        self.0.on_input(s);
        self.1.on_input(s);
    }
    #[inline]
    fn on_order(&mut self, o: &Order, wire: &[u8]) {
        self.0.on_order(o, wire);
        self.1.on_order(o, wire);
    }
    #[inline]
    fn on_reject(&mut self, r: &RiskReject) {
        self.0.on_reject(r);
        self.1.on_reject(r);
    }
    #[inline]
    fn on_diary(&mut self, d: &DiaryRecord) {
        self.0.on_diary(d);
        self.1.on_diary(d);
    }
    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.0.on_theory(p);
        self.1.on_theory(p);
    }
}

/// Output side of a run: digests, latency, counts.
struct Outputs {
    orders: StreamDigest,
    diary: StreamDigest,
    inputs: StreamDigest,
    latency: LatencyRecorder,
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
        self.out.latency.record_since(order.header.tsc);
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
}

/// What a run did, for the summary line and for tests.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// How policies were arbitrated (`regime_table` or `linear_attention`).
    pub policy: String,
    /// Decisions (orders, rejects, no-ops) by the policy that took them.
    pub decisions_by_policy: Vec<(&'static str, u64)>,
    /// Mid updates spent in each regime, by regime name.
    pub regime_updates: Vec<(&'static str, u64)>,
    /// Hash of the policy's canonical configuration (hex).
    pub policy_hash: String,
    /// Core activity counters.
    pub counters: CoreCounters,
    /// Risk rejects by reason name (only non-zero ones), in code order.
    pub rejects_by_reason: Vec<(&'static str, u64)>,
    /// PnL and activity.
    pub pnl: PnlSnapshot,
    /// Tick-to-order latency (p50, p99, p99.9, max) in ns.
    pub tick_to_order_ns: [u64; 4],
    /// Number of orders the latency was measured on.
    pub latency_samples: u64,
    /// Digest of the FIX order stream, and how many messages it covers.
    pub order_hash: (String, u64),
    /// Digest of the diary stream, and how many records it covers.
    pub diary_hash: (String, u64),
    /// Digest of the sequenced input stream (TSC stamps excluded).
    pub input_hash: (String, u64),
    /// Inputs whose time ran backwards.
    pub out_of_order_inputs: u64,
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
        FusedRun {
            core: Core::new(cfg),
            seq: Sequencer::new(1, cfg.timers.tick_ns),
            venue,
            obs,
            out: Outputs {
                orders: StreamDigest::default(),
                diary: StreamDigest::default(),
                inputs: StreamDigest::default(),
                latency: LatencyRecorder::new(),
            },
            policy: policy_name(cfg).to_string(),
            finished: false,
        }
    }

    /// Feeds one input through sequencer and core.
    #[inline]
    fn feed(&mut self, mut slot: InputSlot) {
        self.seq.stamp(&mut slot);
        let mut hashed = slot;
        hashed.header_mut().tsc = 0;
        self.out.inputs.add(hashed.as_bytes());
        self.obs.on_input(&slot);
        let mut sink = Sink {
            venue: &mut self.venue,
            out: &mut self.out,
            obs: &mut self.obs,
        };
        self.core.on_input(&slot, &mut sink);
    }

    /// Processes the next venue input (and any timers due before it). Returns false
    /// when the venue is exhausted; the run is then finished.
    #[inline]
    pub fn step(&mut self) -> bool {
        let Some(mut slot) = self.venue.poll() else {
            self.finish();
            return false;
        };
        let ts = slot.header().ts_ns;
        while let Some(t) = self.seq.due_timer(ts) {
            let mut ts_slot = InputSlot::from_timer(&t);
            ts_slot.header_mut().tsc = self.out.latency.stamp();
            self.feed(ts_slot);
        }
        slot.header_mut().tsc = self.out.latency.stamp();
        self.feed(slot);
        true
    }

    /// Injects an operator command at control time `ts_ns` (sequenced like any input).
    pub fn command(&mut self, mut cmd: crate::records::OperatorCommand) {
        cmd.header.tsc = self.out.latency.stamp();
        self.feed(InputSlot::from_command(&cmd));
    }

    /// Runs until the venue is exhausted.
    pub fn run_to_end(&mut self) {
        while self.step() {}
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

/// The name of the policy arbitration a config selects.
pub(crate) fn policy_name(cfg: &Config) -> &'static str {
    if cfg.flags.linear_attention {
        "linear_attention"
    } else {
        "regime_table"
    }
}

/// A run's summary from its core, its [orders, diary, inputs] digests, its
/// tick-to-order latency and the sequencer's out-of-order count.
pub(crate) fn summarize(
    policy: &str,
    core: &Core,
    digests: [&StreamDigest; 3],
    latency: &hdrhistogram::Histogram<u64>,
    out_of_order: u64,
) -> RunSummary {
    let c = core.counters();
    let [orders, diary, inputs] = digests;
    RunSummary {
        policy: policy.to_string(),
        policy_hash: format!("{:016x}", core.policy_hash()),
        decisions_by_policy: core
            .router()
            .decisions_by_policy()
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (crate::core::router::policy::policy_name(i as u16), *n))
            .collect(),
        regime_updates: crate::core::belief::Regime::ALL
            .iter()
            .map(|r| (r.name(), c.regime_updates[*r as usize]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        counters: c,
        rejects_by_reason: RejectReason::ALL
            .iter()
            .map(|r| (r.name(), c.rejects[*r as usize]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        pnl: core.risk().snapshot(),
        tick_to_order_ns: super::latency::percentiles(latency),
        latency_samples: latency.len(),
        order_hash: (orders.hex(), orders.count()),
        diary_hash: (diary.hex(), diary.count()),
        input_hash: (inputs.hex(), inputs.count()),
        out_of_order_inputs: out_of_order,
    }
}
