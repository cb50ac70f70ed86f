//! Sensory and belief outputs.

use super::header::Header;
use bytemuck::{Pod, Zeroable};

/// Number of feature slots in a [`FeatureVector`].
pub const N_FEATURES: usize = 24;

/// A feature vector, 128 bytes: `header` of the input that produced it, then
/// [`N_FEATURES`] `f32` slots whose meaning is documented by the sensory stage's
/// index constants. Unused slots are zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct FeatureVector {
    /// Common header (`kind` = `Features`).
    pub header: Header,
    /// Feature values.
    pub values: [f32; N_FEATURES],
}
const _: () = assert!(core::mem::size_of::<FeatureVector>() == 128);

/// Largest top-k a [`Belief`] carries.
pub const BELIEF_K_MAX: usize = 8;

/// A belief, 96 bytes: the top-k active units of the belief layer, the regime and
/// its confidence.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct Belief {
    /// Common header (`kind` = `Belief`).
    pub header: Header,
    /// Indices of the top-k units, in descending order of value.
    pub top_idx: [u16; BELIEF_K_MAX],
    /// Values of the top-k units.
    pub top_val: [f32; BELIEF_K_MAX],
    /// How many of the top-k slots are filled.
    pub k: u8,
    /// Regime code.
    pub regime: u8,
    /// Padding (zero).
    pub _pad: [u8; 2],
    /// Confidence in the regime, in `0.0..=1.0`.
    pub confidence: f32,
    /// Reserved (zero).
    pub reserved: u64,
}
const _: () = assert!(core::mem::size_of::<Belief>() == 96);
