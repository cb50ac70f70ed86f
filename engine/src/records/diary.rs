//! The decision diary record: one per decision, for attribution.

use super::header::Header;
use bytemuck::{Pod, Zeroable};

/// What a decision came to, carried in [`Header::sub`] of a diary record.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// An order left risk.
    Order = 1,
    /// Risk rejected the intent.
    Reject = 2,
    /// The policy saw a signal and deliberately did nothing.
    NoOp = 3,
    /// The regime FSM changed regime: `regime` is the new one, `aux` holds the old
    /// regime code in its low byte and the confidence (f32 bits) in its high half.
    Transition = 4,
}

impl Verdict {
    /// Decodes a verdict byte; `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<Verdict> {
        match v {
            1 => Some(Verdict::Order),
            2 => Some(Verdict::Reject),
            3 => Some(Verdict::NoOp),
            4 => Some(Verdict::Transition),
            _ => None,
        }
    }
}

/// A decision-diary record, 128 bytes.
///
/// ```text
///  0      32        40          48             56       64         72       80        88       96             104          112       128
///  +------+---------+-----------+--------------+--------+----------+--------+---------+--------+--------------+------------+---------+
///  |Header|cl_ord_id|policy_hash|feature_digest|markout |mark_after|px      |qty      |top_idx |top_val[0..2] |top_val[2..]|ids/pad  |
///  +------+---------+-----------+--------------+--------+----------+--------+---------+--------+--------------+------------+---------+
/// ```
/// `header` is the deciding input's seq/ts/instrument with `sub` = [`Verdict`] and
/// `side` the intent's side. `markout` is written when the record is released,
/// `markout_events` inputs after the decision.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct DiaryRecord {
    /// Common header (see above).
    pub header: Header,
    /// ClOrdID of the order (0 for rejects and no-ops).
    pub cl_ord_id: u64,
    /// Hash of the policy's canonical configuration.
    pub policy_hash: u64,
    /// Digest of the feature vector the decision saw.
    pub feature_digest: u64,
    /// Ex-post markout in price units × quantity sign: (mid after − decision price)
    /// × side sign, measured `markout_events` inputs later on the same instrument.
    pub markout: i64,
    /// How many inputs after the decision the markout was taken.
    pub markout_events: u64,
    /// Intent price.
    pub px: i64,
    /// Intent quantity.
    pub qty: i64,
    /// Belief top-4 unit indices.
    pub top_idx: [u16; 4],
    /// Belief top-4 unit values.
    pub top_val: [f32; 4],
    /// Policy id.
    pub policy_id: u16,
    /// Execution topology code.
    pub topology: u8,
    /// Regime code.
    pub regime: u8,
    /// Risk template id.
    pub risk_template: u16,
    /// [`crate::records::RejectReason`] code for rejects, 0 otherwise.
    pub reject_reason: u16,
    /// Verdict-specific detail (see [`Verdict`]); zero when unused.
    pub aux: u64,
}
const _: () = assert!(core::mem::size_of::<DiaryRecord>() == 128);

/// Drift detectors, as named in a [`TheoryPacket`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Detector {
    /// Page–Hinkley test for an increase in the mean.
    PageHinkley = 1,
    /// One-sided CUSUM for an increase in the mean.
    Cusum = 2,
}

/// Number of feature summaries carried by a theory packet.
pub const THEORY_FEATURES: usize = 8;

/// A theory packet, 128 bytes: written to the diary stream when the drift sentry
/// fires, so a researcher can see what the model believed when it stopped working.
///
/// `header.kind` = `Theory`, `header.sub` = [`Detector`], `header.instrument` the
/// instrument whose signal drifted.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct TheoryPacket {
    /// Common header (see above).
    pub header: Header,
    /// The detector statistic when it fired.
    pub statistic: f64,
    /// The threshold it crossed.
    pub threshold: f64,
    /// Running mean of the monitored signal.
    pub signal_mean: f64,
    /// Samples the detector had seen since its last reset.
    pub samples: u64,
    /// Order-size factor in force after the alarm (halved by each alarm).
    pub size_factor: f32,
    /// Alarm count so far on this instrument, including this one.
    pub alarms: u32,
    /// Slow EWMA means of eight key features, in the order of
    /// `core::sensory::THEORY_SUMMARY`.
    pub feature_means: [f32; THEORY_FEATURES],
    /// Reserved (zero).
    pub reserved: [u64; 3],
}
const _: () = assert!(core::mem::size_of::<TheoryPacket>() == 128);
