//! The core: every stage composed, one input at a time.
//!
//! `Core::on_input` is the whole decision path for one sequenced input:
//!
//! ```text
//! market data ─► book ─► sensory ─► belief (emitter, drift sentry, regime FSM)
//!                                       └─► router ─► risk ─► fix-encoder ─► sink
//! exec report ─► open orders, positions (risk)
//! timer       ─► halts, equity / drawdown, order ageing ─► router ─► risk ─► …
//! command     ─► kill switch (cancel everything, block new) / re-arm
//! ```
//!
//! and every decision — an order, a reject, a deliberate no-op, a regime change —
//! becomes a diary record, released with its markout; drift alarms become theory
//! packets. It is pure: no clock, no I/O, no allocation after construction.
//!
//! The core is the four stages of [`super::stage`] called one after the other on
//! one thread; the threaded runtime runs the same stages on threads joined by
//! rings. Replay, the fused runtime and the threaded runtime all run this code.

use super::belief::{DriftSentry, Regime};
use super::book::Book;
use super::orders::OrderTracker;
use super::risk::Risk;
use super::router::Router;
use super::stage::{BeliefStage, DecideStage, EncodeStage, Msg, SensoryStage, Staged};
use crate::core::params::CoreParams;
use crate::records::{DiaryRecord, InputSlot, Order, RiskReject, TheoryPacket};

/// Where the core's outputs go.
pub trait CoreSink {
    /// An order passed risk and was encoded; `wire` is the complete FIX message.
    fn on_order(&mut self, order: &Order, wire: &[u8]);
    /// Risk rejected an intent.
    fn on_reject(&mut self, reject: &RiskReject);
    /// A diary record was released (with its markout).
    fn on_diary(&mut self, rec: &DiaryRecord);
    /// The drift sentry fired: a theory packet for the diary stream.
    fn on_theory(&mut self, packet: &TheoryPacket);
    /// Everything input `seq` (ingest TSC stamp `tsc`) caused has been delivered.
    fn on_input_done(&mut self, _seq: u64, _tsc: u64) {}
}

/// Diary flag bit: the decision's policy was chosen by exploration.
pub const DIARY_EXPLORED: u8 = 1 << 0;

/// Activity counters of the core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreCounters {
    /// Inputs processed.
    pub inputs: u64,
    /// Market-data inputs.
    pub md: u64,
    /// Execution reports.
    pub exec_reports: u64,
    /// Execution reports naming no open order of ours (a late, duplicate or
    /// foreign report; 0 against a sound venue). A cancel/replace refused
    /// for an order already closed — it filled before the request arrived —
    /// is not one: it is counted in `venue_cancel_rejects`.
    pub unknown_exec: u64,
    /// Timers.
    pub timers: u64,
    /// Operator commands.
    pub commands: u64,
    /// Inputs with an unknown kind or instrument.
    pub bad_inputs: u64,
    /// Book data-quality issues.
    pub book_issues: u64,
    /// Orders emitted, by action: new, cancel, replace.
    pub orders: [u64; 3],
    /// Risk rejects by [`RejectReason`](crate::records::RejectReason) code (index = code).
    pub rejects: [u64; 16],
    /// Venue rejects (new orders and cancel/replace requests).
    pub venue_rejects: u64,
    /// Of `venue_rejects`, cancel/replace requests refused (35=9: the order had
    /// already filled or gone when the request arrived).
    pub venue_cancel_rejects: u64,
    /// Orders closed because the venue refused a cancel/replace of them as
    /// no longer working (unknown, or too late) while the core held them
    /// working: a final report was missed (a garbled or lost report), so
    /// their last fills may be missing — 0 in a consistent session, where
    /// the fill or cancel report comes first. Reconcile with the venue.
    pub orders_gone: u64,
    /// Fills an order of ours cannot have had — no quantity, more in all than
    /// the order's, or beyond its limit price — booked as the venue reported
    /// them and counted here: a venue error or a garbled report (0 against
    /// a sound venue).
    pub suspect_fills: u64,
    /// Fills the venue cancelled (busted) after reporting them, taken back
    /// from positions and cash ([`ExecKind::TradeBust`](crate::records::ExecKind::TradeBust)),
    /// the busts that begin a correction included (`trade_corrections`).
    pub trade_busts: u64,
    /// Fills the venue corrected after reporting them: each booked as the
    /// bust of the fill and the corrected trade ([`ExecKind::TradeCorrected`](crate::records::ExecKind::TradeCorrected)).
    pub trade_corrections: u64,
    /// OrderMassCancelRequests sent by kills and halts (`venue.mass_cancel`;
    /// counted in `orders[1]` too, as cancels).
    pub mass_cancels: u64,
    /// Of those, refused by the venue (their orders then cancelled one by one).
    pub mass_cancel_refusals: u64,
    /// Decisions recorded in the diary (orders, rejects, no-ops).
    pub decisions: u64,
    /// Regime transitions.
    pub transitions: u64,
    /// Drift-sentry alarms (theory packets).
    pub drift_alarms: u64,
    /// New and replace orders a decision asked for while the drift sentry
    /// held its instrument's order size below the strategy's (each alarm
    /// halves it, see `belief.drift`): the strategy traded smaller than
    /// configured. 0 with the sentry off or never alarmed.
    pub drift_sized: u64,
    /// Orders that passed risk but failed to encode (0 unless the encoder and the
    /// rules decide checks disagree; such an order is never sent).
    pub encode_failures: u64,
    /// Decisions taken by exploration.
    pub explored: u64,
    /// Intents of an input's own decision (or housekeeping timer) left
    /// unplaced because the input's [`crate::records::CL_PER_INPUT`] order
    /// numbers had run out — 0 by construction: the cancels of a kill or halt
    /// that go on over the inputs after it leave each input
    /// [`crate::core::router::MAX_INTENTS`] numbers for its own decision.
    pub unplaced: u64,
    /// Mid updates per regime (index = regime code): time spent in each.
    pub regime_updates: [u64; 5],
}

impl CoreCounters {
    /// Adds `o` field by field (each stage keeps its own share of the counters).
    pub fn add(&mut self, o: &CoreCounters) {
        let add = |a: &mut [u64], b: &[u64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        self.inputs += o.inputs;
        self.md += o.md;
        self.exec_reports += o.exec_reports;
        self.unknown_exec += o.unknown_exec;
        self.timers += o.timers;
        self.commands += o.commands;
        self.bad_inputs += o.bad_inputs;
        self.book_issues += o.book_issues;
        add(&mut self.orders, &o.orders);
        add(&mut self.rejects, &o.rejects);
        self.venue_rejects += o.venue_rejects;
        self.venue_cancel_rejects += o.venue_cancel_rejects;
        self.orders_gone += o.orders_gone;
        self.suspect_fills += o.suspect_fills;
        self.trade_busts += o.trade_busts;
        self.trade_corrections += o.trade_corrections;
        self.mass_cancels += o.mass_cancels;
        self.mass_cancel_refusals += o.mass_cancel_refusals;
        self.decisions += o.decisions;
        self.transitions += o.transitions;
        self.drift_alarms += o.drift_alarms;
        self.drift_sized += o.drift_sized;
        self.encode_failures += o.encode_failures;
        self.explored += o.explored;
        self.unplaced += o.unplaced;
        add(&mut self.regime_updates, &o.regime_updates);
    }
}

/// Passes `msg` through the stages; each works on the message in place and
/// hands it on by reference, so nothing is copied between them.
#[inline]
fn run(
    sensory: &mut SensoryStage,
    b: &mut BeliefStage,
    d: &mut DecideStage,
    e: &mut EncodeStage,
    msg: &mut Msg,
    out: &mut impl CoreSink,
) {
    sensory.on(msg, &mut |m| b.on(m, &mut |m| d.on(m, &mut |m| e.on(m, out))));
}

/// The composed core: the four stages fused on one thread.
pub struct Core {
    sensory: SensoryStage,
    belief: BeliefStage,
    decide: DecideStage,
    encode: EncodeStage,
    /// The message each input travels in, kept from one input to the next
    /// (see [`Msg::set_input`]): no ~330-byte message built and zeroed per input.
    msg: Msg,
}

impl Core {
    /// Builds every stage from the core's parameters (`Config::core_params`).
    pub fn new(p: &CoreParams) -> Core {
        Core::from_stages(
            SensoryStage::new(p),
            BeliefStage::new(p),
            DecideStage::new(p),
            EncodeStage::new(p),
        )
    }

    /// Reassembles a core from its stages (after a threaded run hands them back).
    pub fn from_stages(sensory: SensoryStage, belief: BeliefStage, decide: DecideStage, encode: EncodeStage) -> Core {
        Core {
            sensory,
            belief,
            decide,
            encode,
            msg: Msg::Input(Staged::new(InputSlot::default())),
        }
    }

    /// Processes one sequenced input.
    #[inline]
    pub fn on_input(&mut self, slot: &InputSlot, out: &mut impl CoreSink) {
        self.msg.set_input(slot);
        let Core {
            sensory,
            belief,
            decide,
            encode,
            msg,
        } = self;
        run(sensory, belief, decide, encode, msg, out);
    }

    /// Ends the session: releases every diary record still awaiting its markout.
    pub fn finish(&mut self, out: &mut impl CoreSink) {
        let (s, b, d, e) = (&mut self.sensory, &mut self.belief, &mut self.decide, &mut self.encode);
        run(s, b, d, e, &mut Msg::Finish, out);
    }

    /// Activity counters, summed over the stages.
    pub fn counters(&self) -> CoreCounters {
        let mut c = *self.sensory.counters();
        c.add(self.belief.counters());
        c.add(self.decide.counters());
        c.add(self.encode.counters());
        c
    }

    /// The risk stage (positions, PnL).
    pub fn risk(&self) -> &Risk {
        self.decide.risk()
    }

    /// The router (policy counts, attention state).
    pub fn router(&self) -> &Router {
        self.decide.router()
    }

    /// The book of `instrument`.
    pub fn book(&self, instrument: u32) -> Option<&Book> {
        self.sensory.book(instrument)
    }

    /// Open orders.
    pub fn open_orders(&self) -> &OrderTracker {
        self.decide.open_orders()
    }

    /// Current regime of `instrument`.
    pub fn regime(&self, instrument: u32) -> Regime {
        self.belief.regime(instrument)
    }

    /// The drift sentry.
    pub fn drift(&self) -> &DriftSentry {
        self.belief.drift()
    }

    /// Hash of the running policies' canonical configuration (strategy, router, flags).
    pub fn policy_hash(&self) -> u64 {
        self.decide.policy_hash()
    }
}
