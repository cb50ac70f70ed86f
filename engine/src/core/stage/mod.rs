//! The core as four stages joined by one message type.
//!
//! ```text
//!  Input ─► sensory ─► belief ─► decide ─► encode ─► CoreSink
//!           book,       emitter,   router, risk,      FIX templates,
//!           features    drift,     open orders,       MsgSeqNum
//!                       regime     diary
//! ```
//!
//! Each stage owns its state and sees every input in sequence order, so each is a
//! deterministic state machine of the stream it receives. What a later stage needs
//! of an earlier stage's state travels *with the input* in a [`Staged`] message —
//! the instrument's touch and features after sensory (the features only when a
//! value changed, [`STAGED_FV_SAME`]), its belief after belief — or
//! as a message of its own ([`Msg::Halted`] when sensory halts a stale
//! instrument). Later stages keep replicas of those per-instrument values. Nothing
//! flows backwards, so the stages can run fused on one thread (the [`Core`]) or on
//! threads joined by rings, and produce the same bytes either way. One thing waits
//! in the fused core: a decision point's belief, which the decision does not read
//! unless the attention router runs, is computed after the input's orders are out
//! ([`BeliefStage::deferring`]) and handed to decide by the core before the next
//! input; on threads it is computed before, as the message's.
//!
//! Router and risk are one stage, `decide`: the router's next decision reads the
//! positions and open orders that risk changes as it passes orders, and the
//! diary's markouts feed the router's fast weights. Splitting them would make the
//! router decide on state that depends on thread timing.
//!
//! [`Core`]: super::Core

pub mod belief;
pub mod decide;
pub mod encode;
pub mod sensory;

pub use belief::BeliefStage;
pub use decide::DecideStage;
pub use encode::EncodeStage;
pub use sensory::SensoryStage;

use super::book::Top;
use super::router::Route;
use super::sensory::ExactFeatures;
use crate::records::{
    Belief, DiaryRecord, FeatureVector, Header, InputSlot, Kind, Order, RiskReject, TheoryPacket, Verdict,
};

/// [`Staged::flags`]: sensory found a decision point (the instrument's mid moved).
pub const STAGED_DECIDE: u8 = 1 << 0;
/// [`Staged::flags`]: the input names an instrument the core does not know.
pub const STAGED_BAD_INSTRUMENT: u8 = 1 << 1;
/// [`Staged::flags`]: market data that changed none of its instrument's
/// feature values (sensory's [`MdUpdate::changed`](super::sensory::MdUpdate)
/// false): `fv` was not set, and the values the later stages hold for the
/// instrument are current. Never set together with [`STAGED_DECIDE`].
pub const STAGED_FV_SAME: u8 = 1 << 2;
/// [`Staged::flags`]: a decision point whose belief the belief stage computes
/// after the decision (the fused core's deferred emitter, see
/// [`BeliefStage::deferring`]): `belief` carries the regime and confidence
/// only, and decide computes the rest itself if a record of the decision
/// needs it before the core hands it over ([`DecideStage::settle_belief`]).
pub const STAGED_BELIEF_LATER: u8 = 1 << 3;

/// One sequenced input with what the stages before have learned from it.
#[derive(Clone, Copy, Debug)]
pub struct Staged {
    /// The input, as sequenced.
    pub input: InputSlot,
    /// Market data: the instrument's features after it (set by sensory unless
    /// [`STAGED_FV_SAME`]).
    pub fv: FeatureVector,
    /// Decision point: the features decisions compare, exact (set by sensory).
    pub exact: ExactFeatures,
    /// Market data: the instrument's touch after it (set by sensory).
    pub top: Top,
    /// Decision point: the instrument's belief, regime and confidence (set by belief).
    pub belief: Belief,
    /// Decision point: the drift sentry's order-size factor (set by belief).
    pub size_factor: f32,
    /// Decision point: exploration frozen by a drift alarm (set by belief).
    pub drift_frozen: bool,
    /// `STAGED_*` bits.
    pub flags: u8,
}

impl Staged {
    /// A sequenced input about to enter sensory.
    #[inline]
    pub fn new(input: InputSlot) -> Self {
        Staged {
            input,
            fv: FeatureVector::default(),
            exact: ExactFeatures::default(),
            top: Top::default(),
            belief: Belief::default(),
            size_factor: 1.0,
            drift_frozen: false,
            flags: 0,
        }
    }

    /// Makes this message carry `input` as [`new`](Self::new) would, in place:
    /// `flags` cleared and the drift fields at their defaults, while `fv`,
    /// `exact`, `top` and `belief` keep the previous input's values — each is
    /// read only for an input whose stage before set it (`top` for market data
    /// on a known instrument, `fv` for those without [`STAGED_FV_SAME`], `exact`
    /// and `belief` at a decision point, [`STAGED_DECIDE`]), so what is left in
    /// them is never read.
    #[inline]
    pub fn reuse(&mut self, input: &InputSlot) {
        self.input = *input;
        self.size_factor = 1.0;
        self.drift_frozen = false;
        self.flags = 0;
    }
}

/// Everything that passes between stages.
#[derive(Clone, Copy, Debug)]
#[allow(clippy::large_enum_variant)] // every variant crosses the same fixed-size rings
pub enum Msg {
    /// A sequenced input on its way through the stages.
    Input(Staged),
    /// Sensory halted a stale instrument on a timer; its features now. Sent before
    /// the timer input itself.
    Halted(u32, FeatureVector),
    /// A diary record released by belief (a regime transition) or decide.
    Diary(DiaryRecord),
    /// A drift alarm's theory packet, part of the diary stream.
    Theory(TheoryPacket),
    /// An order that passed risk, to be encoded and sent.
    Order(Order),
    /// An intent risk refused.
    Reject(RiskReject),
    /// The last message caused by input `seq` (ingest TSC stamp `tsc`).
    Done {
        /// The input's sequence number.
        seq: u64,
        /// Its ingest TSC stamp.
        tsc: u64,
    },
    /// End of session: decide releases every pending diary record, then it passes on.
    Finish,
}

impl Msg {
    /// Makes this message the input `input` on its way through the stages,
    /// in place: a message that already carries an input is reset with
    /// [`Staged::reuse`] (no ~330-byte message built and zeroed per input),
    /// any other becomes a [`Staged::new`].
    #[inline]
    pub fn set_input(&mut self, input: &InputSlot) {
        match self {
            Msg::Input(s) => s.reuse(input),
            m => *m = Msg::Input(Staged::new(*input)),
        }
    }
}

/// Per-instrument replicas of upstream state kept by the stages after sensory
/// (features, belief and halted flag, plus the last market data's features),
/// and the policy identity every diary record carries. Both stages that write
/// diary records build them here.
#[derive(Clone, Debug)]
pub(crate) struct Replicas {
    pub features: Vec<FeatureVector>,
    pub beliefs: Vec<Belief>,
    pub halted: Vec<bool>,
    /// The features of the last market data, for a record of an instrument
    /// out of range: `features[i]` while `last` is `Some(i)` (no copy per
    /// input), else this copy, taken when a halt changed `features[i]` after it.
    last_fv: FeatureVector,
    last: Option<usize>,
    pub policy_hash: u64,
    pub risk_template: u16,
}

impl Replicas {
    pub fn new(p: &crate::core::params::CoreParams) -> Self {
        let n = p.instruments.len();
        Replicas {
            features: vec![FeatureVector::default(); n],
            beliefs: vec![Belief::default(); n],
            halted: vec![false; n],
            last_fv: FeatureVector::default(),
            last: None,
            policy_hash: p.policy_hash,
            risk_template: p.risk.template_id,
        }
    }

    /// A diary record of a decision on `h.instrument`, with that instrument's
    /// current belief and a digest of its current features.
    #[allow(clippy::too_many_arguments)]
    pub fn diary_record(
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
        let b = self.belief_of(h.instrument);
        let fv = self.features_of(h.instrument);
        DiaryRecord {
            header: Header {
                kind: Kind::Diary as u8,
                sub: verdict as u8,
                side,
                flags: if route.explored {
                    super::pipeline::DIARY_EXPLORED
                } else {
                    0
                },
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

    /// Market data on a known instrument `i` passed sensory.
    #[inline]
    pub fn on_md(&mut self, i: usize, s: &Staged) {
        if let (Some(f), Some(h)) = (self.features.get_mut(i), self.halted.get_mut(i)) {
            if s.flags & STAGED_FV_SAME == 0 {
                *f = s.fv;
            }
            *h = false;
            self.last = Some(i);
        }
    }

    /// Sensory halted instrument `i`.
    #[inline]
    pub fn on_halted(&mut self, i: u32, fv: &FeatureVector) {
        let i = i as usize;
        if let (Some(f), Some(h)) = (self.features.get_mut(i), self.halted.get_mut(i)) {
            if self.last == Some(i) {
                // The last market data's features are about to change here.
                self.last_fv = *f;
                self.last = None;
            }
            *f = *fv;
            *h = true;
        }
    }

    /// The features a diary record of instrument `i` digests.
    #[inline]
    pub fn features_of(&self, i: u32) -> &FeatureVector {
        match (self.features.get(i as usize), self.last) {
            (Some(f), _) => f,
            (None, Some(last)) => self.features.get(last).unwrap_or(&self.last_fv),
            (None, None) => &self.last_fv,
        }
    }

    /// The belief a diary record of instrument `i` carries.
    #[inline]
    pub fn belief_of(&self, i: u32) -> Belief {
        self.beliefs.get(i as usize).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::records::{MarketData, MdAction, Side};

    fn staged(i: u32, value: f32, flags: u8) -> Staged {
        let md = MarketData::new(MdAction::Quote, i, Some(Side::Buy), 1, 0, 100, 1, 0);
        let mut s = Staged::new(InputSlot::from_md(&md));
        s.fv.values[0] = value;
        s.flags = flags;
        s
    }

    /// A reused message carries its new input as a new message would in every
    /// field a stage reads whatever the flags (the input, the flags, the drift
    /// fields), whatever the previous input left in them.
    #[test]
    fn a_reused_message_reads_as_a_new_one() {
        let mut prev = staged(1, 7.0, STAGED_DECIDE | STAGED_BAD_INSTRUMENT | STAGED_FV_SAME);
        prev.size_factor = 0.25;
        prev.drift_frozen = true;
        let next = staged(2, 0.0, 0);
        // As the cores reset their kept message: through `Msg::set_input`.
        let mut msg = Msg::Input(prev);
        msg.set_input(&next.input);
        let Msg::Input(m) = msg else { panic!("not an input") };
        let fresh = Staged::new(next.input);
        assert_eq!(bytemuck::bytes_of(&m.input), bytemuck::bytes_of(&fresh.input));
        assert_eq!(
            (m.flags, m.size_factor.to_bits(), m.drift_frozen),
            (fresh.flags, fresh.size_factor.to_bits(), fresh.drift_frozen)
        );
        // A message that carries something else becomes a new input.
        let mut other = Msg::Finish;
        other.set_input(&next.input);
        let Msg::Input(o) = other else { panic!("not an input") };
        assert_eq!(bytemuck::bytes_of(&o.input), bytemuck::bytes_of(&fresh.input));
        assert_eq!(o.flags, 0);
    }

    /// A record of an instrument out of range digests the last market data's
    /// features as they were after it, whichever instrument it was about, also
    /// when it left them unchanged and when a halt changed them since.
    #[test]
    fn out_of_range_records_digest_the_last_market_datas_features() {
        let mut r = Replicas::new(&Config::default_sim().core_params());
        let far = r.features.len() as u32 + 5;
        assert_eq!(r.features_of(far).values[0], 0.0, "none yet");
        r.on_md(1, &staged(1, 7.0, 0));
        assert_eq!(r.features_of(far).values[0], 7.0);
        r.on_md(0, &staged(0, 3.0, 0));
        assert_eq!(r.features_of(far).values[0], 3.0);
        // Unchanged market data on 1: its held values (7) are the last ones.
        r.on_md(1, &staged(1, 99.0, STAGED_FV_SAME));
        assert_eq!(r.features_of(1).values[0], 7.0);
        assert_eq!(r.features_of(far).values[0], 7.0);
        // A halt of 1 changes its features but not the last market data's.
        let mut halted = FeatureVector::default();
        halted.values[0] = -1.0;
        r.on_halted(1, &halted);
        assert_eq!(r.features_of(1).values[0], -1.0);
        assert_eq!(r.features_of(far).values[0], 7.0);
        // A halt of another instrument changes nothing here.
        r.on_md(0, &staged(0, 4.0, 0));
        r.on_halted(1, &halted);
        assert_eq!(r.features_of(far).values[0], 4.0);
    }
}
