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
//! Replay, the fused runtime and the threaded runtime all drive this function.

use super::belief::{BeliefEmitter, DriftSentry, Regime, RegimeFsm, Transition};
use super::book::Book;
use super::diary::Diary;
use super::fix_encoder::FixEncoder;
use super::orders::{ExecOutcome, OrderState, OrderTracker};
use super::risk::Risk;
use super::router::{DecideCtx, IntentBuf, Route, Router};
use super::sensory::{idx, Sensory};
use crate::config::{hash_text, Config};
use crate::records::{
    Belief, CommandKind, DiaryRecord, ExecKind, FeatureVector, Header, InputSlot, InputView, Kind, OrdType, Order,
    OrderAction, OrderIntent, RejectReason, RiskReject, TheoryPacket, Verdict,
};

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
}

/// ClOrdIDs are `seq × CL_PER_INPUT + k` for the k-th order an input produced.
pub const CL_PER_INPUT: u64 = 16;

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
    /// Execution reports naming no open order of ours.
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
    /// Risk rejects by [`RejectReason`] code (index = code).
    pub rejects: [u64; 16],
    /// Venue rejects (new orders and cancel/replace requests).
    pub venue_rejects: u64,
    /// Decisions recorded in the diary (orders, rejects, no-ops).
    pub decisions: u64,
    /// Regime transitions.
    pub transitions: u64,
    /// Drift-sentry alarms (theory packets).
    pub drift_alarms: u64,
    /// Decisions taken by exploration.
    pub explored: u64,
    /// Mid updates per regime (index = regime code): time spent in each.
    pub regime_updates: [u64; 5],
}

/// The composed core.
pub struct Core {
    books: Vec<Book>,
    sensory: Sensory,
    emitter: BeliefEmitter,
    regime: RegimeFsm,
    drift: DriftSentry,
    router: Router,
    risk: Risk,
    orders: OrderTracker,
    encoder: FixEncoder,
    diary: Diary,
    policy_hash: u64,
    risk_template: u16,
    fast_weights: bool,
    ticks: Vec<i64>,
    fv: FeatureVector,
    beliefs: Vec<Belief>,
    intents: IntentBuf,
    counters: CoreCounters,
}

impl Core {
    /// Builds every stage from a validated configuration.
    pub fn new(cfg: &Config) -> Core {
        let ins = &cfg.instruments;
        let m = &cfg.strategy.momentum;
        let policy_text = format!(
            "{}{}{}",
            serde_yaml_ng::to_string(&cfg.strategy).expect("config serialises"),
            serde_yaml_ng::to_string(&cfg.router).expect("config serialises"),
            serde_yaml_ng::to_string(&cfg.flags).expect("config serialises"),
        );
        Core {
            books: ins
                .iter()
                .map(|s| Book::new(s.tick, s.ref_price, cfg.book.window_ticks))
                .collect(),
            sensory: Sensory::new(ins, m.fast, m.slow, &cfg.sensory),
            emitter: BeliefEmitter::new(cfg.model(), cfg.belief.k),
            regime: RegimeFsm::new(&cfg.belief.regime, ins.len()),
            drift: DriftSentry::new(&cfg.belief.drift, ins.len(), cfg.flags.auto_feedback),
            router: Router::new(cfg),
            risk: Risk::new(&cfg.risk, ins),
            orders: OrderTracker::new(cfg.risk.max_open_orders as usize),
            encoder: FixEncoder::new(
                &cfg.session.begin_string,
                &cfg.session.sender_comp_id,
                &cfg.session.target_comp_id,
                ins,
            ),
            diary: Diary::new(1 << 14, cfg.diary.markout_events as u64),
            policy_hash: hash_text(&policy_text),
            risk_template: cfg.risk.template_id,
            fast_weights: cfg.flags.fast_weights,
            ticks: ins.iter().map(|s| s.tick).collect(),
            fv: FeatureVector::default(),
            beliefs: vec![Belief::default(); ins.len()],
            intents: IntentBuf::default(),
            counters: CoreCounters::default(),
        }
    }

    /// Processes one sequenced input.
    #[inline]
    pub fn on_input(&mut self, slot: &InputSlot, out: &mut impl CoreSink) {
        self.counters.inputs += 1;
        self.intents.clear();
        match slot.view() {
            Some(InputView::Md(md)) => {
                self.counters.md += 1;
                let i = md.header.instrument as usize;
                let Some(book) = self.books.get_mut(i) else {
                    self.counters.bad_inputs += 1;
                    return self.release_diary(out);
                };
                if book.apply(md).is_err() {
                    self.counters.book_issues += 1;
                }
                self.risk.mark(md.header.instrument, book);
                if self.sensory.on_md(md, book, &mut self.fv) {
                    self.decide(&md.header, out);
                }
            }
            Some(InputView::Exec(er)) => {
                self.counters.exec_reports += 1;
                if self.orders.on_exec(er) == ExecOutcome::Unknown {
                    self.counters.unknown_exec += 1;
                }
                self.risk.on_exec(er);
                if matches!(er.kind(), Some(ExecKind::Rejected | ExecKind::CancelRejected)) {
                    self.counters.venue_rejects += 1;
                    self.router.on_reject(er.header.instrument, er.header.ts_ns);
                }
            }
            Some(InputView::Timer(t)) => {
                self.counters.timers += 1;
                self.sensory.on_timer(t.header.ts_ns);
                for i in 0..self.books.len() as u32 {
                    if self.sensory.is_halted(i) {
                        if let Some(tr) = self.regime.halt(i) {
                            self.transition(
                                &Header {
                                    instrument: i,
                                    ..t.header
                                },
                                tr,
                                out,
                            );
                        }
                    }
                }
                self.risk.sample_equity();
                let sensory = &self.sensory;
                self.router.on_timer(
                    &t.header,
                    &self.books,
                    &self.orders,
                    |i| sensory.is_halted(i),
                    &mut self.intents,
                );
                self.act(&t.header, Route::default(), out);
            }
            Some(InputView::Command(c)) => {
                self.counters.commands += 1;
                match CommandKind::from_u8(c.header.sub) {
                    Some(CommandKind::Kill) => self.kill(&c.header, out),
                    Some(CommandKind::Rearm) => {
                        self.risk.rearm();
                        self.drift.rearm();
                    }
                    None => self.counters.bad_inputs += 1,
                }
            }
            None => self.counters.bad_inputs += 1,
        }
        self.release_diary(out);
    }

    /// A decision point on `h.instrument` (its mid moved): belief, drift, regime, route.
    #[inline]
    fn decide(&mut self, h: &Header, out: &mut impl CoreSink) {
        let i = h.instrument;
        let b = &mut self.beliefs[i as usize];
        let prediction = self.emitter.emit(&self.fv, b);
        let ret = self.fv.values[idx::RET_BPS] as f64;
        for a in self.drift.on_update(i, ret, prediction, &self.fv).into_iter().flatten() {
            self.counters.drift_alarms += 1;
            out.on_theory(&self.drift.packet(h, i, &a));
        }
        let vol = self.fv.values[idx::VOL_BPS] as f64;
        let trend = self.fv.values[idx::TREND_Z] as f64;
        if let Some(tr) = self.regime.on_update(i, vol, trend) {
            self.transition(h, tr, out);
        }
        let (regime, confidence) = self.regime.current(i);
        self.counters.regime_updates[regime as usize] += 1;
        let b = &mut self.beliefs[i as usize];
        b.regime = regime as u8;
        b.confidence = confidence;
        let book = &self.books[i as usize];
        let ctx = DecideCtx {
            trigger: h,
            fv: &self.fv,
            belief: &self.beliefs[i as usize],
            regime,
            book,
            position: self.risk.position(i),
            orders: &self.orders,
            size_factor: self.drift.size_factor(i),
            frozen: self.drift.exploration_frozen() || self.risk.warning(i, h.ts_ns),
        };
        let route = self.router.decide(&ctx, &mut self.intents);
        if route.explored {
            self.counters.explored += 1;
        }
        self.act(h, route, out);
    }

    fn transition(&mut self, h: &Header, tr: Transition, out: &mut impl CoreSink) {
        self.counters.transitions += 1;
        let mut rec = self.diary_record(h, Verdict::Transition, 0, 0, 0, 0, 0, Route::default());
        rec.regime = tr.to as u8;
        rec.aux = tr.from as u64 | (tr.confidence.to_bits() as u64) << 32;
        // Transitions carry no price: they are released at once, with no markout.
        out.on_diary(&rec);
    }

    fn kill(&mut self, trigger: &Header, out: &mut impl CoreSink) {
        self.risk.kill();
        // Cancel everything open, in batches the intent buffer holds. Each cancel
        // marks its order pending, so the next batch skips it.
        let mut k = 0;
        loop {
            self.intents.clear();
            for o in self.orders.iter() {
                if o.state == OrderState::Working || o.state == OrderState::PendingNew {
                    let it = OrderIntent {
                        header: Header {
                            kind: Kind::Intent as u8,
                            sub: OrderAction::Cancel as u8,
                            side: o.side as u8,
                            instrument: o.instrument,
                            ..*trigger
                        },
                        qty: o.qty,
                        target_cl_ord_id: o.cl_ord_id,
                        ord_type: OrdType::Limit as u8,
                        ..OrderIntent::default()
                    };
                    if !self.intents.push(it) {
                        break;
                    }
                }
            }
            if self.intents.as_slice().is_empty() || k >= CL_PER_INPUT {
                break;
            }
            let handled = self.act_from(trigger, k, Route::default(), out);
            if handled == 0 {
                break;
            }
            k += handled;
        }
    }

    #[inline]
    fn act(&mut self, trigger: &Header, route: Route, out: &mut impl CoreSink) {
        self.act_from(trigger, 0, route, out);
    }

    /// Runs the buffered intents through risk and the encoder, numbering ClOrdIDs
    /// from `k0`. Returns how many orders left.
    fn act_from(&mut self, trigger: &Header, k0: u64, route: Route, out: &mut impl CoreSink) -> u64 {
        let input_no = self.counters.inputs;
        if let Some(side) = self.intents.noop {
            let mid = mid_of(&self.books, trigger.instrument).unwrap_or(0);
            let rec = self.diary_record(trigger, Verdict::NoOp, side as u8, 0, mid, 0, 0, route);
            self.record(rec, input_no, out);
        }
        let mut k = k0;
        for idx in 0..self.intents.as_slice().len() {
            if k >= CL_PER_INPUT {
                break;
            }
            let it = self.intents.as_slice()[idx];
            let i = it.header.instrument as usize;
            let route = Route {
                policy_id: it.policy_id,
                topology: it.topology,
                explored: route.explored,
            };
            let verdict = self.risk.check(&it, self.books.get(i), &self.orders);
            match verdict {
                Ok(()) => {
                    let cl = trigger.seq * CL_PER_INPUT + k;
                    let action = it.action().expect("risk passed only known actions");
                    let order = Order {
                        header: Header {
                            kind: Kind::Order as u8,
                            sub: it.header.sub,
                            side: it.header.side,
                            flags: it.ord_type,
                            ..it.header
                        },
                        cl_ord_id: cl,
                        orig_cl_ord_id: if action == OrderAction::New {
                            0
                        } else {
                            it.target_cl_ord_id
                        },
                        px: it.px,
                        qty: it.qty,
                    };
                    match self.encoder.encode(&order) {
                        Ok(wire) => {
                            self.orders.on_sent(&order);
                            self.risk.on_sent(action, it.header.ts_ns);
                            self.counters.orders[match action {
                                OrderAction::New => 0,
                                OrderAction::Cancel => 1,
                                OrderAction::Replace => 2,
                            }] += 1;
                            out.on_order(&order, wire);
                            let rec = self.diary_record(
                                &it.header,
                                Verdict::Order,
                                it.header.side,
                                cl,
                                it.px,
                                it.qty,
                                0,
                                route,
                            );
                            self.record(rec, input_no, out);
                        }
                        Err(_) => self.reject(&it, RejectReason::Malformed, 0, it.px, input_no, route, out),
                    }
                    k += 1;
                }
                Err(b) => self.reject(&it, b.reason, b.limit, b.value, input_no, route, out),
            }
        }
        k - k0
    }

    #[allow(clippy::too_many_arguments)]
    fn reject(
        &mut self,
        it: &OrderIntent,
        reason: RejectReason,
        limit: i64,
        value: i64,
        input_no: u64,
        route: Route,
        out: &mut impl CoreSink,
    ) {
        self.counters.rejects[reason as usize] += 1;
        out.on_reject(&RiskReject {
            header: Header {
                kind: Kind::Reject as u8,
                tsc: 0,
                ..it.header
            },
            reason: reason as u16,
            _pad: [0; 6],
            limit,
            value,
            px: it.px,
        });
        self.router.on_reject(it.header.instrument, it.header.ts_ns);
        let rec = self.diary_record(
            &it.header,
            Verdict::Reject,
            it.header.side,
            0,
            it.px,
            it.qty,
            reason as u16,
            route,
        );
        self.record(rec, input_no, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn diary_record(
        &self,
        h: &Header,
        verdict: Verdict,
        side: u8,
        cl: u64,
        px: i64,
        qty: i64,
        reason: u16,
        route: Route,
    ) -> DiaryRecord {
        let b = self.beliefs.get(h.instrument as usize).copied().unwrap_or_default();
        let fv = self.sensory.features(h.instrument).map_or(&self.fv, |f| f);
        DiaryRecord {
            header: Header {
                kind: Kind::Diary as u8,
                sub: verdict as u8,
                side,
                flags: if route.explored { DIARY_EXPLORED } else { 0 },
                tsc: 0,
                ..*h
            },
            cl_ord_id: cl,
            policy_hash: self.policy_hash,
            feature_digest: xxhash_rust::xxh3::xxh3_64(bytemuck::bytes_of(&fv.values)),
            markout: 0,
            markout_events: 0,
            px,
            qty,
            top_idx: [b.top_idx[0], b.top_idx[1], b.top_idx[2], b.top_idx[3]],
            top_val: [b.top_val[0], b.top_val[1], b.top_val[2], b.top_val[3]],
            policy_id: route.policy_id,
            topology: route.topology,
            regime: b.regime,
            risk_template: self.risk_template,
            reject_reason: reason,
            aux: 0,
        }
    }

    fn record(&mut self, rec: DiaryRecord, input_no: u64, out: &mut impl CoreSink) {
        self.counters.decisions += 1;
        let (books, router, ticks, fw) = (&self.books, &mut self.router, &self.ticks, self.fast_weights);
        self.diary.record(rec, input_no, |i| mid_of(books, i), &mut |r| {
            reward(router, ticks, fw, r);
            out.on_diary(r)
        });
    }

    #[inline]
    fn release_diary(&mut self, out: &mut impl CoreSink) {
        let (books, router, ticks, fw) = (&self.books, &mut self.router, &self.ticks, self.fast_weights);
        self.diary
            .on_input(self.counters.inputs, |i| mid_of(books, i), &mut |r| {
                reward(router, ticks, fw, r);
                out.on_diary(r)
            });
    }

    /// Ends the session: releases every diary record still awaiting its markout.
    pub fn finish(&mut self, out: &mut impl CoreSink) {
        let books = &self.books;
        self.diary
            .flush(self.counters.inputs, |i| mid_of(books, i), &mut |r| out.on_diary(r));
    }

    /// Activity counters.
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// The risk stage (positions, PnL).
    pub fn risk(&self) -> &Risk {
        &self.risk
    }

    /// The router (policy counts, attention state).
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The book of `instrument`.
    pub fn book(&self, instrument: u32) -> Option<&Book> {
        self.books.get(instrument as usize)
    }

    /// Open orders.
    pub fn open_orders(&self) -> &OrderTracker {
        &self.orders
    }

    /// Current regime of `instrument`.
    pub fn regime(&self, instrument: u32) -> Regime {
        self.regime.current(instrument).0
    }

    /// The drift sentry.
    pub fn drift(&self) -> &DriftSentry {
        &self.drift
    }

    /// Hash of the running policies' canonical configuration (strategy, router, flags).
    pub fn policy_hash(&self) -> u64 {
        self.policy_hash
    }
}

/// Feeds an order's markout back as reward (fast weights on): ticks of markout,
/// clamped to ±5.
#[inline]
fn reward(router: &mut Router, ticks: &[i64], on: bool, r: &DiaryRecord) {
    if on && r.header.sub == Verdict::Order as u8 && r.markout_events > 0 {
        let tick = ticks.get(r.header.instrument as usize).copied().unwrap_or(1).max(1);
        let reward = (r.markout as f64 / tick as f64).clamp(-5.0, 5.0) as f32;
        router.reinforce(r.policy_id, &r.top_idx, &r.top_val, reward);
    }
}

#[inline]
fn mid_of(books: &[Book], i: u32) -> Option<i64> {
    let b = books.get(i as usize)?;
    match (b.best_bid(), b.best_ask()) {
        (Some((bp, _)), Some((ap, _))) if bp < ap => Some((bp + ap) / 2),
        _ => None,
    }
}
