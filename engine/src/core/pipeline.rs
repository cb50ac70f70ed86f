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
use super::stage::{
    BeliefStage, DecideStage, EncodeStage, Msg, SensoryStage, Staged, STAGED_BAD_INSTRUMENT, STAGED_DECIDE,
};
use crate::core::params::CoreParams;
use crate::records::{DiaryRecord, InputSlot, Kind, Order, RiskReject, TheoryPacket};

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
            belief: belief.deferring(),
            decide,
            encode,
            msg: Msg::Input(Staged::new(InputSlot::default())),
        }
    }

    /// Processes one sequenced input.
    #[inline]
    pub fn on_input(&mut self, slot: &InputSlot, out: &mut impl CoreSink) {
        self.staged(slot, out);
        // What waited for the decision (see `BeliefStage::deferring`).
        if let Some((i, b)) = self.belief.settle() {
            self.decide.settle_belief(i, b);
        }
    }

    /// The input through the stages.
    #[inline]
    fn staged(&mut self, slot: &InputSlot, out: &mut impl CoreSink) {
        self.msg.set_input(slot);
        let Core {
            sensory,
            belief,
            decide,
            encode,
            msg,
        } = self;
        if let Msg::Input(s) = msg {
            if slot.header().kind == Kind::MarketData as u8 {
                // Market data goes the stages' way without the messages
                // between them: sensory's only message for it is the input.
                sensory.on_md(s);
                if s.flags & (STAGED_DECIDE | STAGED_BAD_INSTRUMENT) == 0 {
                    belief.on_quiet_md(slot.header().instrument);
                    return decide.on_input(s, &mut |m| encode.on(m, out));
                }
                return belief.on(msg, &mut |m| decide.on(m, &mut |m| encode.on(m, out)));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::core::Sequencer;
    use crate::records::{
        flags, CommandKind, ExecKind, ExecReport, MarketData, MdAction, OperatorCommand, OrderAction, Side,
    };

    /// Every output the core gives, as bytes, in order; and its orders.
    #[derive(Default)]
    struct Outputs(Vec<(u8, Vec<u8>)>, Vec<Order>);

    impl CoreSink for Outputs {
        fn on_order(&mut self, o: &Order, wire: &[u8]) {
            self.0.push((0, wire.to_vec()));
            self.1.push(*o);
        }
        fn on_reject(&mut self, r: &RiskReject) {
            self.0.push((1, bytemuck::bytes_of(r).to_vec()));
        }
        fn on_diary(&mut self, d: &DiaryRecord) {
            self.0.push((2, bytemuck::bytes_of(d).to_vec()));
        }
        fn on_theory(&mut self, t: &TheoryPacket) {
            self.0.push((3, bytemuck::bytes_of(t).to_vec()));
        }
        fn on_input_done(&mut self, seq: u64, _: u64) {
            self.0.push((4, seq.to_le_bytes().to_vec()));
        }
    }

    /// A seeded day on the configured instruments and one the core does not
    /// know: adds, executions, cancels, trades, quotes with and without the
    /// end of their batch, gaps past the stale limit (halts and reopenings on
    /// the timers), kills and re-arms — and a venue's answer to each order at
    /// the next input (a new order filled at its limit, or at the reference
    /// price for a market order, or one in three left working; a cancel done;
    /// a replace done).
    struct Day {
        rng: crate::rng::SeededRng,
        ts: u64,
        /// Each instrument's price walks, a tick at a time.
        mids: Vec<i64>,
        answers: Vec<ExecReport>,
    }

    impl Day {
        fn new(cfg: &Config, seed: u64) -> Self {
            Day {
                rng: crate::rng::SeededRng::new(seed),
                ts: 1_000_000,
                mids: cfg.instruments.iter().map(|s| s.ref_price).collect(),
                answers: Vec::new(),
            }
        }

        /// The venue's answers to `orders`, at the next inputs.
        fn answer(&mut self, cfg: &Config, orders: &[Order]) {
            for o in orders {
                let (Some(action), Some(side)) = (o.action(), o.side()) else {
                    continue;
                };
                let kind = match action {
                    // One in three left working, for housekeeping and kills to cancel.
                    OrderAction::New if o.cl_ord_id % 3 == 0 => ExecKind::New,
                    OrderAction::New => ExecKind::Fill,
                    OrderAction::Cancel => ExecKind::Canceled,
                    OrderAction::Replace => ExecKind::Replaced,
                    OrderAction::MassCancel => continue,
                };
                let mut e = ExecReport::new(kind, o.header.instrument, side, self.ts);
                e.cl_ord_id = o.cl_ord_id;
                e.orig_cl_ord_id = o.orig_cl_ord_id;
                e.order_qty = o.qty;
                e.order_px = o.px;
                if kind == ExecKind::Fill {
                    let reference = cfg
                        .instruments
                        .get(o.header.instrument as usize)
                        .map_or(1, |s| s.ref_price);
                    e.last_qty = o.qty;
                    e.last_px = if o.px > 0 { o.px } else { reference };
                    e.cum_qty = o.qty;
                } else if matches!(kind, ExecKind::New | ExecKind::Replaced) {
                    e.leaves_qty = o.qty;
                }
                self.answers.push(e);
            }
        }

        /// The next input, unsequenced.
        fn next(&mut self, cfg: &Config) -> InputSlot {
            if let Some(mut e) = self.answers.pop() {
                e.header.ts_ns = self.ts;
                return InputSlot::from_exec(&e);
            }
            let r = self.rng.next_u64();
            self.ts += if r % 211 == 0 {
                5_000_000_000
            } else {
                1_000 + (r >> 44) % 200_000
            };
            if r % 997 == 0 {
                let kind = if (r >> 20) % 4 == 0 {
                    CommandKind::Kill
                } else {
                    CommandKind::Rearm
                };
                return InputSlot::from_command(&OperatorCommand::new(kind, self.ts));
            }
            let i = ((r >> 8) % (cfg.instruments.len() as u64 + 1)) as u32;
            let spec = cfg.instruments.get(i as usize).unwrap_or(&cfg.instruments[0]);
            let side = if r & 2 == 0 { Side::Buy } else { Side::Sell };
            let off = (1 + (r >> 24) % 4) as i64 * spec.tick;
            let mid = self.mids.get_mut(i as usize).map_or(spec.ref_price, |m| {
                *m += spec.tick * ((r >> 50) % 3) as i64 - spec.tick;
                *m
            });
            let px = mid + if side == Side::Buy { -off } else { off };
            let qty = (1 + (r >> 32) % 40) as i64 * spec.lot;
            let action = [
                MdAction::Add,
                MdAction::Execute,
                MdAction::Cancel,
                MdAction::Trade,
                MdAction::Quote,
                MdAction::Quote,
            ][((r >> 16) % 6) as usize];
            let last = if (r >> 40) % 3 == 0 { 0 } else { flags::LAST_IN_BATCH };
            InputSlot::from_md(&MarketData::new(action, i, Some(side), self.ts, r >> 48, px, qty, last))
        }
    }

    /// The fused core's short way for market data and its belief computed
    /// after the decision (`on_input`) give, output for output and counter
    /// for counter, what the stages give when every input travels through
    /// them as messages with its belief computed before (the threaded
    /// runtime's way) — with the belief on and off, and the drift sentry
    /// watching the prediction's error or the return; over three seeded days.
    #[test]
    fn the_fused_short_ways_give_what_the_stages_give() {
        use crate::core::params::DriftSignal;
        for seed in [0x91e7, 7, 0x5eed] {
            for (belief, signal) in [
                (true, DriftSignal::PredictionError),
                (true, DriftSignal::AbsReturn),
                (false, DriftSignal::PredictionError),
            ] {
                let mut cfg = Config::default_sim();
                cfg.belief.enabled = belief;
                cfg.belief.drift.signal = signal;
                // A sentry quick to alarm, so that alarms and transitions occur.
                cfg.belief.drift.warmup = 20;
                cfg.belief.drift.ph_lambda = 5.0;
                cfg.belief.drift.cusum_h = 5.0;
                let p = cfg.core_params();
                let mut short = Core::new(&p);
                let mut staged = Core {
                    sensory: SensoryStage::new(&p),
                    belief: BeliefStage::new(&p),
                    decide: DecideStage::new(&p),
                    encode: EncodeStage::new(&p),
                    msg: Msg::Input(Staged::new(InputSlot::default())),
                };
                let (mut a, mut b) = (Outputs::default(), Outputs::default());
                let mut day = Day::new(&cfg, seed);
                let mut seq = Sequencer::new(1, cfg.timers.tick_ns).with_timers(true);
                for _ in 0..40_000 {
                    let slot = day.next(&cfg);
                    let t = slot.header().ts_ns;
                    let mut slots = Vec::new();
                    while let Some(tm) = seq.due_timer(t) {
                        slots.push(InputSlot::from_timer(&tm));
                    }
                    slots.push(slot);
                    for slot in &mut slots {
                        seq.stamp(slot);
                        let sent = a.1.len();
                        short.on_input(slot, &mut a);
                        staged.msg.set_input(slot);
                        let s = &mut staged;
                        run(
                            &mut s.sensory,
                            &mut s.belief,
                            &mut s.decide,
                            &mut s.encode,
                            &mut s.msg,
                            &mut b,
                        );
                        day.answer(&cfg, &a.1[sent..]);
                    }
                }
                short.finish(&mut a);
                staged.finish(&mut b);
                let c = short.counters();
                assert!(c.decisions > 100 && c.commands > 10 && c.bad_inputs > 100, "{c:?}");
                assert!(c.orders[0] > 100 && c.orders[1] > 10 && c.exec_reports > 100, "{c:?}");
                assert!(c.transitions > 0 || !belief, "{c:?}");
                assert!(c.drift_alarms > 0 || !belief, "{c:?}");
                assert_eq!(c, staged.counters());
                assert_eq!(a.0.len(), b.0.len());
                for (k, (x, y)) in a.0.iter().zip(&b.0).enumerate() {
                    assert_eq!(x, y, "seed {seed:#x}, output {k}");
                }
            }
        }
    }
}
