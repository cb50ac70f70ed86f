//! Decide stage: router, pre-trade risk, open orders and the decision diary.
//!
//! It sees every input after sensory and belief. Market data updates its replica
//! of the instrument's touch and, at decision points, runs the router on the
//! belief attached to the input; execution reports update open orders and
//! positions; timers run housekeeping; operator commands kill or re-arm. Every
//! intent goes through risk and the encoder's rules; what passes leaves as
//! [`Msg::Order`], what fails as [`Msg::Reject`], and every decision is recorded in
//! the diary. Each input ends with [`Msg::Done`].

use std::sync::Arc;

use super::{Msg, Replicas, Staged, STAGED_BAD_INSTRUMENT, STAGED_BELIEF_LATER, STAGED_DECIDE};
use crate::core::belief::{BeliefEmitter, Regime};
use crate::core::book::Top;
use crate::core::diary::Diary;
use crate::core::live::{self, word, InstrumentFigures, LiveBoard};
use crate::core::orders::{ExecOutcome, OrderState, OrderTracker};
use crate::core::params::CoreParams;
use crate::core::pipeline::CoreCounters;
use crate::core::risk::Risk;
use crate::core::router::{DecideCtx, IntentBuf, Route, Router, MAX_INTENTS};
use crate::format::fix::EncodeRules;
use crate::records::{
    Belief, CommandKind, DiaryRecord, ExecKind, ExecReport, Header, InputView, Kind, MassCancelScope, OrdType, Order,
    OrderAction, OrderIntent, RejectReason, RiskReject, Verdict, CL_PER_INPUT,
};

/// Order numbers of an input the cancels of a kill or halt may take when they
/// go on at the inputs after it: the rest ([`MAX_INTENTS`]) are kept for the
/// input's own decision, which so never runs out of them.
const SWEEP_NUMBERS: u64 = CL_PER_INPUT - MAX_INTENTS as u64;

/// The decide stage's state.
pub struct DecideStage {
    tops: Vec<Top>,
    rep: Replicas,
    router: Router,
    risk: Risk,
    orders: OrderTracker,
    rules: EncodeRules,
    diary: Diary,
    fast_weights: bool,
    ticks: Vec<i64>,
    intents: IntentBuf,
    counters: CoreCounters,
    board: Option<Arc<LiveBoard>>,
    drift_alarms: u64,
    /// The current input's next order number (its orders' ClOrdIDs are
    /// `seq × CL_PER_INPUT + k`).
    k_next: u64,
    /// Cancels of a halt (slot = instrument) or a kill (the last slot: every
    /// instrument) that did not all fit in their own input, at most
    /// [`CL_PER_INPUT`] orders each: the orders sent before this ClOrdID are
    /// still to cancel, at the inputs that follow, before anything else they do.
    sweeps: Vec<Option<u64>>,
    /// Whether any slot of `sweeps` is set (one test per input, not a scan).
    sweeping: bool,
    /// Kills and halts send one mass cancel (`venue.mass_cancel`).
    mass_cancel: bool,
    /// The ClOrdID of the mass cancel last sent for each of `sweeps`' slots
    /// and not yet answered: a refusal of it cancels its orders one by one.
    masses: Vec<Option<u64>>,
    /// The instrument of this input's decision point whose belief the belief
    /// stage computes after the decision ([`STAGED_BELIEF_LATER`]): until
    /// [`settle_belief`](Self::settle_belief), its replica has the regime
    /// and confidence only.
    belief_due: Option<u32>,
    /// The belief's emitter, for a record of such a decision (the same
    /// weights as the belief stage's: the same values).
    emitter: Option<BeliefEmitter>,
}

impl DecideStage {
    /// Router, risk, order tracker and diary for a validated configuration.
    pub fn new(p: &CoreParams) -> Self {
        let ins = &p.instruments;
        DecideStage {
            tops: ins.iter().map(|s| Top::empty(s.tick)).collect(),
            rep: Replicas::new(p),
            router: Router::new(p),
            risk: Risk::new(&p.risk, ins),
            orders: OrderTracker::new(p.risk.max_open_orders as usize),
            rules: EncodeRules::new(ins),
            diary: Diary::new(1 << 14, p.diary.markout_events as u64),
            fast_weights: p.flags.fast_weights,
            ticks: ins.iter().map(|s| s.tick).collect(),
            intents: IntentBuf::default(),
            k_next: 0,
            sweeps: vec![None; ins.len() + 1],
            sweeping: false,
            mass_cancel: p.mass_cancel,
            masses: vec![None; ins.len() + 1],
            counters: CoreCounters::default(),
            board: None,
            drift_alarms: 0,
            belief_due: None,
            emitter: p
                .belief
                .enabled
                .then(|| BeliefEmitter::new(&p.belief.model, p.belief.k)),
        }
    }

    /// The belief of this input's decision point on `i`, computed after the
    /// decision by the belief stage: taken into the replica, unless decide
    /// already computed it (for a record).
    #[inline]
    pub fn settle_belief(&mut self, i: u32, b: &Belief) {
        if self.belief_due == Some(i) {
            self.belief_due = None;
            if let Some(r) = self.rep.beliefs.get_mut(i as usize) {
                *r = *b;
            }
        }
    }

    /// Makes instrument `i`'s belief in the replica whole before a record
    /// reads it (a decision whose belief comes after it, see `belief_due`).
    #[inline]
    fn belief_for_record(&mut self, i: u32) {
        if self.belief_due == Some(i) {
            self.belief_due = None;
            if let (Some(e), Some(fv), Some(b)) = (
                self.emitter.as_mut(),
                self.rep.features.get(i as usize),
                self.rep.beliefs.get_mut(i as usize),
            ) {
                e.emit(fv, b);
            }
        }
    }

    /// Publishes the operator's figures to `board` (see [`LiveBoard`]): after
    /// every input that is not market data, and every 256th that is.
    pub fn with_board(mut self, board: Arc<LiveBoard>) -> Self {
        self.board = Some(board);
        self
    }

    /// Writes the figures to the board (off the decisions: nothing reads them back).
    fn publish(&self, b: &LiveBoard) {
        let r = &self.risk;
        b.set(word::STATE, r.trading_state() as u64);
        let halted = (0..self.ticks.len().min(64) as u32)
            .filter(|&i| r.is_halted(i))
            .fold(0u64, |m, i| m | 1 << i);
        b.set(word::HALTED, halted);
        b.set(word::COMMANDS, self.counters.commands);
        let snap = r.snapshot();
        b.set_f64(word::EQUITY, snap.equity);
        b.set_f64(word::DRAWDOWN, r.drawdown());
        b.set_f64(word::MAX_DRAWDOWN, snap.max_drawdown);
        b.set(word::OPEN_ORDERS, self.orders.len() as u64);
        b.set(word::FILLS, snap.fills);
        b.set(word::DRIFT_ALARMS, self.drift_alarms);
        for (code, n) in self.counters.rejects.iter().enumerate() {
            b.set(word::REJECTS + code, *n);
        }
        for i in 0..self.ticks.len().min(live::MAX_INSTRUMENTS) {
            let (position, realised, unrealised) = r.figures(i as u32);
            let open_orders = self.orders.iter().filter(|o| o.instrument == i as u32).count() as u64;
            b.set_instrument(
                i,
                &InstrumentFigures {
                    position,
                    realised,
                    unrealised,
                    open_orders,
                },
            );
        }
        b.set(word::APPLIED, self.counters.inputs);
    }

    /// Handles one message.
    #[inline]
    pub fn on(&mut self, msg: &mut Msg, emit: &mut impl FnMut(&mut Msg)) {
        match msg {
            Msg::Input(s) => self.on_input(s, emit),
            Msg::Halted(i, fv) => self.rep.on_halted(*i, fv),
            Msg::Theory(_) => {
                // The belief stage's drift alarms pass through here.
                self.drift_alarms += 1;
                emit(msg)
            }
            Msg::Finish => {
                self.finish(emit);
                emit(msg)
            }
            _ => emit(msg),
        }
    }

    /// Handles one staged input, as [`on`](Self::on) does a [`Msg::Input`].
    #[inline]
    pub fn on_input(&mut self, s: &Staged, emit: &mut impl FnMut(&mut Msg)) {
        self.counters.inputs += 1;
        self.intents.clear();
        self.k_next = 0;
        if self.sweeping {
            self.continue_sweeps(s.input.header(), emit);
        }
        match s.input.view() {
            Some(InputView::Md(md)) => {
                let i = md.header.instrument;
                if s.flags & STAGED_BAD_INSTRUMENT == 0 {
                    self.rep.on_md(i as usize, s);
                    if let Some(t) = self.tops.get_mut(i as usize) {
                        *t = s.top;
                        self.risk.mark(i, t);
                    }
                    if s.flags & STAGED_DECIDE != 0 {
                        self.decide(&md.header, s, emit);
                    }
                }
            }
            Some(InputView::Exec(er)) if er.kind().is_some_and(ExecKind::is_mass_cancel) => {
                self.counters.exec_reports += 1;
                self.on_mass_answer(er, emit);
            }
            Some(InputView::Exec(er)) => {
                self.counters.exec_reports += 1;
                match self.orders.on_exec(er) {
                    // A cancel refused for an order already closed here is
                    // the race of a cancel with the order's last fill (the
                    // venue's too-late answer, counted below), not a report
                    // the venue should not have sent.
                    ExecOutcome::Unknown if er.kind() == Some(ExecKind::CancelRejected) => {}
                    // A bust or a correction names a fill, often of an order long closed.
                    ExecOutcome::Unknown
                        if matches!(er.kind(), Some(ExecKind::TradeBust | ExecKind::TradeCorrected)) => {}
                    ExecOutcome::Unknown => self.counters.unknown_exec += 1,
                    ExecOutcome::Gone => self.counters.orders_gone += 1,
                    ExecOutcome::SuspectFill => self.counters.suspect_fills += 1,
                    ExecOutcome::Applied => {}
                }
                self.risk.on_exec(er);
                match er.kind() {
                    Some(ExecKind::TradeBust) => self.counters.trade_busts += 1,
                    Some(ExecKind::TradeCorrected) => self.counters.trade_corrections += 1,
                    _ => {}
                }
                if matches!(er.kind(), Some(ExecKind::Rejected | ExecKind::CancelRejected)) {
                    self.counters.venue_rejects += 1;
                    if er.kind() == Some(ExecKind::CancelRejected) {
                        self.counters.venue_cancel_rejects += 1;
                    }
                    self.router.on_reject(er.header.instrument, er.header.ts_ns);
                }
            }
            Some(InputView::Timer(t)) => {
                self.counters.timers += 1;
                self.risk.sample_equity();
                let halted = &self.rep.halted;
                self.router.on_timer(
                    &t.header,
                    &self.tops,
                    &self.orders,
                    |i| halted.get(i as usize).copied().unwrap_or(false),
                    &mut self.intents,
                );
                self.act(&t.header, Route::default(), emit);
            }
            Some(InputView::Command(c)) => {
                self.counters.commands += 1;
                match CommandKind::from_u8(c.header.sub) {
                    Some(CommandKind::Kill) => self.kill(&c.header, emit),
                    Some(CommandKind::Rearm) => self.risk.rearm(),
                    Some(CommandKind::ReduceOnly) => self.risk.set_reduce_only(),
                    Some(CommandKind::Halt) => {
                        self.risk.set_halted(c.header.instrument, true);
                        self.sweep(&c.header, Some(c.header.instrument), emit);
                    }
                    Some(CommandKind::Resume) => self.risk.set_halted(c.header.instrument, false),
                    None => self.counters.bad_inputs += 1,
                }
            }
            None => self.counters.bad_inputs += 1,
        }
        self.release_diary(emit);
        if let Some(b) = &self.board {
            if !matches!(s.input.view(), Some(InputView::Md(_))) || self.counters.inputs % 256 == 0 {
                self.publish(b);
            }
        }
        let h = s.input.header();
        emit(&mut Msg::Done { seq: h.seq, tsc: h.tsc });
    }

    /// A decision point on `h.instrument`: the router on the belief sensory and
    /// belief attached, then risk.
    #[inline]
    fn decide(&mut self, h: &Header, s: &Staged, emit: &mut impl FnMut(&mut Msg)) {
        let i = h.instrument;
        self.rep.beliefs[i as usize] = s.belief;
        if s.flags & STAGED_BELIEF_LATER != 0 {
            self.belief_due = Some(i);
        }
        let ctx = DecideCtx {
            trigger: h,
            fv: &s.fv,
            exact: &s.exact,
            belief: &s.belief,
            regime: Regime::from_u8(s.belief.regime).unwrap_or(Regime::Unclassified),
            book: &self.tops[i as usize],
            position: self.risk.position(i),
            orders: &self.orders,
            size_factor: s.size_factor,
            frozen: s.drift_frozen || self.risk.warning(i, h.ts_ns),
        };
        let route = self.router.decide(&ctx, &mut self.intents);
        if route.explored {
            self.counters.explored += 1;
        }
        if s.size_factor < 1.0 {
            let placed = self.intents.as_slice().iter().filter(|it| {
                matches!(
                    OrderAction::from_u8(it.header.sub),
                    Some(OrderAction::New | OrderAction::Replace)
                )
            });
            self.counters.drift_sized += placed.count() as u64;
        }
        self.act(h, route, emit);
    }

    fn kill(&mut self, trigger: &Header, emit: &mut impl FnMut(&mut Msg)) {
        self.risk.kill();
        self.sweep(trigger, None, emit);
    }

    /// A command's cancels of every order open before it (of `instrument`, or
    /// of all): one mass cancel where the venue takes it, else one cancel
    /// per order.
    fn sweep(&mut self, trigger: &Header, instrument: Option<u32>, emit: &mut impl FnMut(&mut Msg)) {
        if self.mass_cancel && self.k_next < CL_PER_INPUT {
            self.send_mass_cancel(trigger, instrument, emit);
        } else {
            self.sweep_each(trigger, instrument, trigger.seq * CL_PER_INPUT, emit);
        }
    }

    /// One OrderMassCancelRequest for the orders of `instrument` (or of
    /// all), which marks the orders it covers pending cancel. Sent even when
    /// none is open here: the venue may hold orders this engine cannot know
    /// of (sent by a run that died before it journalled them).
    fn send_mass_cancel(&mut self, trigger: &Header, instrument: Option<u32>, emit: &mut impl FnMut(&mut Msg)) {
        let (slot, scope, i) = match instrument {
            Some(i) if (i as usize) < self.ticks.len() => (i as usize, MassCancelScope::Instrument, i),
            // A halt of an instrument this engine does not have: nothing of it is open.
            Some(_) => return,
            None => (self.masses.len() - 1, MassCancelScope::All, 0),
        };
        let cl = trigger.seq * CL_PER_INPUT + self.k_next;
        let order = Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: OrderAction::MassCancel as u8,
                side: 0,
                flags: scope as u8,
                instrument: i,
                ..*trigger
            },
            cl_ord_id: cl,
            orig_cl_ord_id: 0,
            px: 0,
            qty: 0,
        };
        self.orders.on_sent(&order);
        self.k_next += 1;
        self.masses[slot] = Some(cl);
        // A cancel among the orders sent, and counted as mass cancel.
        self.counters.orders[1] += 1;
        self.counters.mass_cancels += 1;
        emit(&mut Msg::Order(order));
        // Its diary record, as every order sent has one: no side and no
        // price (so no markout), the scope's instrument.
        self.belief_for_record(i);
        let rec = self
            .rep
            .diary_record(&order.header, Verdict::Order, 0, cl, 0, 0, 0, Route::default());
        self.record(rec, self.counters.inputs, emit);
    }

    /// The venue's answer to a mass cancel: taken, nothing to do (each order
    /// it cancels has its own report); refused, the orders it covered are
    /// working again, and are cancelled one by one.
    fn on_mass_answer(&mut self, er: &ExecReport, emit: &mut impl FnMut(&mut Msg)) {
        let cl = er.cl_ord_id;
        let slot = self.masses.iter().position(|m| *m == Some(cl));
        if let Some(s) = slot {
            self.masses[s] = None;
        }
        if er.kind() != Some(ExecKind::MassCancelRefused) {
            return;
        }
        self.counters.venue_rejects += 1;
        self.counters.mass_cancel_refusals += 1;
        self.orders.mass_cancel_refused(cl);
        // Unanswered before a newer one of its scope replaced it, the newer
        // covers its orders (or its refusal will).
        if let Some(s) = slot {
            let instrument = (s < self.masses.len() - 1).then_some(s as u32);
            self.sweep_each(&er.header, instrument, cl, emit);
        }
    }

    /// Cancels, one by one, every order (of `instrument`, or of all) open
    /// with a ClOrdID below `below`: what does not fit in the input is left
    /// to the inputs after. A command's or a report's input takes no
    /// decision, so the cancels may use all its order numbers.
    fn sweep_each(&mut self, trigger: &Header, instrument: Option<u32>, below: u64, emit: &mut impl FnMut(&mut Msg)) {
        if !self.cancel_open(trigger, instrument, below, CL_PER_INPUT, emit) {
            let slot = instrument.map_or(self.sweeps.len() - 1, |i| i as usize);
            if let Some(w) = self.sweeps.get_mut(slot) {
                *w = Some(below);
                self.sweeping = true;
            }
        }
    }

    /// Goes on with the kill's and the halts' cancels that did not fit in
    /// their own input, at input `trigger`, with [`SWEEP_NUMBERS`] of its
    /// order numbers at most: the rest are the input's own decision's.
    /// Intents it could not send this input are dropped here (they are built
    /// again at the next input), not left for the input's own decision.
    fn continue_sweeps(&mut self, trigger: &Header, emit: &mut impl FnMut(&mut Msg)) {
        let all = self.sweeps.len() - 1;
        let mut left = false;
        for slot in 0..self.sweeps.len() {
            if let Some(below) = self.sweeps[slot] {
                let instrument = (slot < all).then_some(slot as u32);
                if self.cancel_open(trigger, instrument, below, SWEEP_NUMBERS, emit) {
                    self.sweeps[slot] = None;
                } else {
                    left = true;
                }
            }
        }
        self.sweeping = left;
        self.intents.clear();
    }

    /// Cancels every open order (of `instrument`, if given) sent before
    /// ClOrdID `below`, in batches the intent buffer holds, from the input's
    /// next order number up to (not including) number `limit`. Each cancel
    /// marks its order pending, so the next batch skips it. Returns whether
    /// none is left to cancel; `false` when the numbers ran out first.
    fn cancel_open(
        &mut self,
        trigger: &Header,
        instrument: Option<u32>,
        below: u64,
        limit: u64,
        emit: &mut impl FnMut(&mut Msg),
    ) -> bool {
        loop {
            self.intents.clear();
            for o in self.orders.iter() {
                let mine = instrument.is_none_or(|i| o.instrument == i) && o.cl_ord_id < below;
                if mine && (o.state == OrderState::Working || o.state == OrderState::PendingNew) {
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
            if self.intents.as_slice().is_empty() {
                return true;
            }
            if self.k_next >= limit {
                return false;
            }
            let (handled, _) = self.act_from(trigger, self.k_next, limit, Route::default(), emit);
            if handled == 0 {
                // Risk passes every cancel of an open order; if it ever did
                // not, retrying at each input would only repeat the refusal.
                return true;
            }
            self.k_next += handled;
        }
    }

    /// The input's own decision (or timer): its intents, with the order
    /// numbers the sweeps left — at least [`MAX_INTENTS`], so none is left
    /// unplaced (counted if one were).
    #[inline]
    fn act(&mut self, trigger: &Header, route: Route, emit: &mut impl FnMut(&mut Msg)) {
        let (n, unplaced) = self.act_from(trigger, self.k_next, CL_PER_INPUT, route, emit);
        self.k_next += n;
        self.counters.unplaced += unplaced as u64;
    }

    /// Runs the buffered intents through risk and the encoder's rules, numbering
    /// ClOrdIDs from `k0` up to (not including) `limit`. Returns how many
    /// orders left, and how many intents were not reached when the numbers
    /// ran out.
    fn act_from(
        &mut self,
        trigger: &Header,
        k0: u64,
        limit: u64,
        route: Route,
        emit: &mut impl FnMut(&mut Msg),
    ) -> (u64, usize) {
        let input_no = self.counters.inputs;
        if let Some(side) = self.intents.noop {
            let mid = self
                .tops
                .get(trigger.instrument as usize)
                .and_then(Top::mid)
                .unwrap_or(0);
            self.belief_for_record(trigger.instrument);
            let rec = self
                .rep
                .diary_record(trigger, Verdict::NoOp, side as u8, 0, mid, 0, 0, route);
            self.record(rec, input_no, emit);
        }
        let mut k = k0;
        let n = self.intents.as_slice().len();
        for idx in 0..n {
            if k >= limit {
                return (k - k0, n - idx);
            }
            let it = self.intents.as_slice()[idx];
            let i = it.header.instrument as usize;
            let route = Route {
                policy_id: it.policy_id,
                topology: it.topology,
                explored: route.explored,
            };
            match self.risk.check(&it, self.tops.get(i), &self.orders) {
                Ok(()) => {
                    let cl = trigger.seq * CL_PER_INPUT + k;
                    let Some(action) = it.action() else {
                        // Risk passes only known actions; refuse rather than panic.
                        self.reject(&it, RejectReason::Malformed, 0, it.px, input_no, route, emit);
                        continue;
                    };
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
                    if self.rules.check(&order).is_err() {
                        self.reject(&it, RejectReason::Malformed, 0, it.px, input_no, route, emit);
                    } else {
                        self.orders.on_sent(&order);
                        self.risk.on_sent(action, it.header.ts_ns);
                        self.counters.orders[match action {
                            OrderAction::New => 0,
                            OrderAction::Cancel | OrderAction::MassCancel => 1,
                            OrderAction::Replace => 2,
                        }] += 1;
                        emit(&mut Msg::Order(order));
                        self.belief_for_record(it.header.instrument);
                        let rec = self.rep.diary_record(
                            &it.header,
                            Verdict::Order,
                            it.header.side,
                            cl,
                            it.px,
                            it.qty,
                            0,
                            route,
                        );
                        self.record(rec, input_no, emit);
                    }
                    k += 1;
                }
                Err(b) => self.reject(&it, b.reason, b.limit, b.value, input_no, route, emit),
            }
        }
        (k - k0, 0)
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
        emit: &mut impl FnMut(&mut Msg),
    ) {
        self.counters.rejects[reason as usize] += 1;
        emit(&mut Msg::Reject(RiskReject {
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
        }));
        self.router.on_reject(it.header.instrument, it.header.ts_ns);
        self.belief_for_record(it.header.instrument);
        let rec = self.rep.diary_record(
            &it.header,
            Verdict::Reject,
            it.header.side,
            0,
            it.px,
            it.qty,
            reason as u16,
            route,
        );
        self.record(rec, input_no, emit);
    }

    fn record(&mut self, rec: DiaryRecord, input_no: u64, emit: &mut impl FnMut(&mut Msg)) {
        self.counters.decisions += 1;
        let (tops, router, ticks, fw) = (&self.tops, &mut self.router, &self.ticks, self.fast_weights);
        self.diary.record(rec, input_no, |i| mid_of(tops, i), &mut |r| {
            reward(router, ticks, fw, r);
            emit(&mut Msg::Diary(*r))
        });
    }

    #[inline]
    fn release_diary(&mut self, emit: &mut impl FnMut(&mut Msg)) {
        let (tops, router, ticks, fw) = (&self.tops, &mut self.router, &self.ticks, self.fast_weights);
        self.diary
            .on_input(self.counters.inputs, |i| mid_of(tops, i), &mut |r| {
                reward(router, ticks, fw, r);
                emit(&mut Msg::Diary(*r))
            });
    }

    /// Ends the session: releases every diary record still awaiting its markout.
    pub fn finish(&mut self, emit: &mut impl FnMut(&mut Msg)) {
        let tops = &self.tops;
        self.diary.flush(self.counters.inputs, |i| mid_of(tops, i), &mut |r| {
            emit(&mut Msg::Diary(*r))
        });
    }

    /// The risk stage (positions, PnL).
    pub fn risk(&self) -> &Risk {
        &self.risk
    }

    /// The router (policy counts, attention state).
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Open orders.
    pub fn open_orders(&self) -> &OrderTracker {
        &self.orders
    }

    /// Hash of the running policies' canonical configuration.
    pub fn policy_hash(&self) -> u64 {
        self.rep.policy_hash
    }

    /// This stage's share of the core counters (inputs, reports, timers, commands,
    /// orders, rejects, decisions).
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
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
fn mid_of(tops: &[Top], i: u32) -> Option<i64> {
    tops.get(i as usize).and_then(Top::mid)
}
