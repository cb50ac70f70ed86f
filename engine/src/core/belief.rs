//! Belief: what the core currently believes about each instrument.
//!
//! The spine's belief is the smallest honest layer: two units, "up" = ReLU(s) and
//! "down" = ReLU(−s), over the EMA signal s (feature `EMA_SIGNAL`), of which the top
//! one is kept (k = 1). The core-stages issue replaces it with the configured linear
//! layer, top-k sparsity and the regime FSM; the record it fills stays the same.

use super::sensory::idx;
use crate::records::{Belief, FeatureVector, Header, Kind};

/// Regime code for "not classified" (no regime model running).
pub const REGIME_UNCLASSIFIED: u8 = 0;

/// The belief stage.
#[derive(Default)]
pub struct BeliefStage;

impl BeliefStage {
    /// Computes the belief for one feature vector into `out`.
    #[inline]
    pub fn on_features(&mut self, fv: &FeatureVector, out: &mut Belief) {
        let s = fv.values[idx::EMA_SIGNAL];
        let units = [s.max(0.0), (-s).max(0.0)];
        let (i, v) = if units[0] >= units[1] {
            (0, units[0])
        } else {
            (1, units[1])
        };
        *out = Belief {
            header: Header {
                kind: Kind::Belief as u8,
                ..fv.header
            },
            k: 1,
            regime: REGIME_UNCLASSIFIED,
            ..Belief::default()
        };
        out.top_idx[0] = i;
        out.top_val[0] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_unit_follows_the_sign_of_the_signal() {
        let mut b = BeliefStage;
        let mut fv = FeatureVector::default();
        let mut out = Belief::default();
        fv.values[idx::EMA_SIGNAL] = -2.5;
        b.on_features(&fv, &mut out);
        assert_eq!((out.k, out.top_idx[0], out.top_val[0]), (1, 1, 2.5));
        fv.values[idx::EMA_SIGNAL] = 0.75;
        b.on_features(&fv, &mut out);
        assert_eq!((out.top_idx[0], out.top_val[0]), (0, 0.75));
    }
}
