//! Belief stage: belief emitter, drift sentry and regime FSM.
//!
//! At each decision point it computes the instrument's belief and regime and
//! attaches them, with the drift sentry's size factor and freeze, to the input.
//! Drift alarms (theory packets) and regime transitions (diary records) are sent
//! ahead of the input, in the order the fused core has always emitted them.

use super::{Msg, Replicas, Staged, STAGED_BAD_INSTRUMENT, STAGED_BELIEF_LATER, STAGED_DECIDE};
use crate::core::belief::{BeliefEmitter, DriftSentry, Regime, RegimeFsm, Transition};
use crate::core::params::CoreParams;
use crate::core::pipeline::CoreCounters;
use crate::core::router::Route;
use crate::core::sensory::idx;
use crate::records::{Belief, CommandKind, Header, InputView, Verdict};

/// The belief stage's state.
pub struct BeliefStage {
    emitter: BeliefEmitter,
    regime: RegimeFsm,
    drift: DriftSentry,
    rep: Replicas,
    counters: CoreCounters,
    /// `belief.enabled`: the emitter (and so the drift sentry) runs.
    enabled: bool,
    /// Whether the router reads the belief when it decides (the attention
    /// router does): then it cannot wait for the decision.
    router_reads: bool,
    /// The emitter runs after the decision ([`deferring`](Self::deferring)).
    defer: bool,
    /// The instrument whose decision point's belief is still to compute.
    pending: Option<u32>,
}

impl BeliefStage {
    /// Emitter, drift sentry and regime FSM for every configured instrument.
    pub fn new(p: &CoreParams) -> Self {
        let n = p.instruments.len();
        BeliefStage {
            emitter: BeliefEmitter::new(&p.belief.model, p.belief.k),
            regime: RegimeFsm::new(&p.belief.regime, n),
            drift: DriftSentry::new(&p.belief.drift, n, p.flags.auto_feedback),
            rep: Replicas::new(p),
            counters: CoreCounters::default(),
            enabled: p.belief.enabled,
            router_reads: p.flags.linear_attention,
            defer: false,
            pending: None,
        }
    }

    /// Computes a decision point's belief after the decision rather than
    /// before it — unless the router reads it. Nothing the decision reads
    /// waits on it: the drift sentry's alarms compare the return with the
    /// prediction made at the update before (the new one is handed to it
    /// after, [`DriftSentry::predicted`]); the regime does not read it; the
    /// diary's records of the decision do, and decide computes it for them
    /// (after the orders are out). Whoever runs the stages must then call
    /// [`settle`](Self::settle) after each input, before the next: the fused
    /// core does. The outputs are the same to the byte.
    pub fn deferring(mut self) -> Self {
        self.defer = self.enabled && !self.router_reads;
        self
    }

    /// Computes the belief of the input just processed, if it was deferred:
    /// the instrument and its belief (regime and confidence included), for
    /// [`DecideStage::settle_belief`](super::DecideStage::settle_belief).
    #[inline]
    pub fn settle(&mut self) -> Option<(u32, &Belief)> {
        let i = self.pending.take()?;
        let (fv, b) = (
            self.rep.features.get(i as usize)?,
            self.rep.beliefs.get_mut(i as usize)?,
        );
        let prediction = self.emitter.emit(fv, b);
        self.drift.predicted(i, prediction);
        Some((i, b))
    }

    /// Handles one message.
    #[inline]
    pub fn on(&mut self, msg: &mut Msg, emit: &mut impl FnMut(&mut Msg)) {
        let s = match msg {
            Msg::Input(s) => s,
            Msg::Halted(i, fv) => {
                self.rep.on_halted(*i, fv);
                return emit(msg);
            }
            _ => return emit(msg),
        };
        match s.input.view() {
            Some(InputView::Md(md)) if s.flags & STAGED_BAD_INSTRUMENT == 0 => {
                let h = md.header;
                if s.flags & STAGED_DECIDE != 0 {
                    self.rep.on_md(h.instrument as usize, s);
                    self.decide(h, s, emit);
                } else if let Some(halted) = self.rep.halted.get_mut(h.instrument as usize) {
                    // Belief reads an instrument's features only at its decision
                    // points and halts (which bring their own), so between them
                    // only the halted flag needs following.
                    *halted = false;
                }
            }
            Some(InputView::Timer(t)) => {
                for i in 0..self.rep.halted.len() as u32 {
                    if self.rep.halted[i as usize] {
                        if let Some(tr) = self.regime.halt(i) {
                            self.transition(
                                &Header {
                                    instrument: i,
                                    ..t.header
                                },
                                tr,
                                emit,
                            );
                        }
                    }
                }
            }
            Some(InputView::Command(c)) if CommandKind::from_u8(c.header.sub) == Some(CommandKind::Rearm) => {
                self.drift.rearm();
            }
            _ => {}
        }
        emit(msg)
    }

    /// Market data on known instrument `i` that is no decision point, as
    /// [`on`](Self::on) takes it: between decision points belief follows only
    /// the instrument's halted flag. The fused core's short way for it.
    #[inline]
    pub fn on_quiet_md(&mut self, i: u32) {
        if let Some(halted) = self.rep.halted.get_mut(i as usize) {
            *halted = false;
        }
    }

    #[inline]
    fn decide(&mut self, h: Header, s: &mut Staged, emit: &mut impl FnMut(&mut Msg)) {
        let i = h.instrument;
        if self.enabled {
            let ret = s.fv.values[idx::RET_BPS] as f64;
            let alarms = if self.defer {
                // The belief after the decision (see `deferring`).
                self.pending = Some(i);
                s.flags |= STAGED_BELIEF_LATER;
                self.drift.check(i, ret, &s.fv)
            } else {
                let b = &mut self.rep.beliefs[i as usize];
                let prediction = self.emitter.emit(&s.fv, b);
                self.drift.on_update(i, ret, prediction, &s.fv)
            };
            for a in alarms.into_iter().flatten() {
                self.counters.drift_alarms += 1;
                emit(&mut Msg::Theory(self.drift.packet(&h, i, &a)));
            }
        }
        // The regime's thresholds are compared on the exact features.
        if let Some(tr) = self.regime.on_update(i, s.exact.vol_bps, s.exact.trend_z) {
            // A transition's record carries the belief: computed now, and
            // so sent with the input after all.
            if self.settle().is_some() {
                s.flags &= !STAGED_BELIEF_LATER;
            }
            self.transition(&h, tr, emit);
        }
        let (regime, confidence) = self.regime.current(i);
        self.counters.regime_updates[regime as usize] += 1;
        let b = &mut self.rep.beliefs[i as usize];
        b.regime = regime as u8;
        b.confidence = confidence;
        s.belief = *b;
        s.size_factor = self.drift.size_factor(i);
        s.drift_frozen = self.drift.exploration_frozen();
    }

    fn transition(&mut self, h: &Header, tr: Transition, emit: &mut impl FnMut(&mut Msg)) {
        self.counters.transitions += 1;
        let mut rec = self
            .rep
            .diary_record(h, Verdict::Transition, 0, 0, 0, 0, 0, Route::default());
        rec.regime = tr.to as u8;
        rec.aux = tr.from as u64 | (tr.confidence.to_bits() as u64) << 32;
        // Transitions carry no price: they are released at once, with no markout.
        emit(&mut Msg::Diary(rec));
    }

    /// Current regime of `instrument`.
    pub fn regime(&self, instrument: u32) -> Regime {
        self.regime.current(instrument).0
    }

    /// The drift sentry.
    pub fn drift(&self) -> &DriftSentry {
        &self.drift
    }

    /// This stage's share of the core counters (drift alarms, transitions, regime updates).
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }
}
