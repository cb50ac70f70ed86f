//! The BeliefEmitter: a linear layer, ReLU, and top-k sparsity.
//!
//! `belief = top_k(ReLU(W · ((x − mean) / scale) + b))`: only the k strongest
//! positive units survive (ties go to the lower unit index, so the result is a pure
//! function of the input). The readout `Σ readout[u] · belief[u]` over the surviving
//! units is the belief's prediction of the next mid return, in bps — the signal the
//! drift sentry watches.

use crate::core::params::BeliefModel;
use crate::records::{Belief, FeatureVector, Header, Kind, BELIEF_K_MAX, N_FEATURES};

/// The emitter. All buffers are sized at construction.
pub struct BeliefEmitter {
    mean: [f32; N_FEATURES],
    inv_scale: [f32; N_FEATURES],
    w: Vec<[f32; N_FEATURES]>,
    b: Vec<f32>,
    readout: Vec<f32>,
    k: usize,
    units: Vec<f32>,
}

impl BeliefEmitter {
    /// An emitter for a validated model, keeping `k` (1..=8) units.
    pub fn new(model: &BeliefModel, k: u8) -> Self {
        let arr = |v: &[f32]| -> [f32; N_FEATURES] {
            let mut a = [0.0; N_FEATURES];
            a.copy_from_slice(&v[..N_FEATURES]);
            a
        };
        let mut inv_scale = arr(&model.scale);
        inv_scale.iter_mut().for_each(|s| *s = 1.0 / *s);
        BeliefEmitter {
            mean: arr(&model.mean),
            inv_scale,
            w: model.units.iter().map(|u| arr(&u.w)).collect(),
            b: model.units.iter().map(|u| u.b).collect(),
            readout: model.readout.clone(),
            k: (k as usize).clamp(1, BELIEF_K_MAX),
            units: vec![0.0; model.units.len()],
        }
    }

    /// Number of units in the layer.
    pub fn width(&self) -> usize {
        self.w.len()
    }

    /// Computes the belief for `fv` into `out` (regime fields untouched) and returns
    /// the predicted next mid return in bps.
    #[inline]
    pub fn emit(&mut self, fv: &FeatureVector, out: &mut Belief) -> f32 {
        let mut x = [0.0f32; N_FEATURES];
        for (((xi, f), m), s) in x.iter_mut().zip(&fv.values).zip(&self.mean).zip(&self.inv_scale) {
            let v = (f - m) * s;
            // A non-finite feature (bad data upstream) contributes nothing.
            *xi = if v.is_finite() { v } else { 0.0 };
        }
        for (u, (w, b)) in self.units.iter_mut().zip(self.w.iter().zip(&self.b)) {
            let acc: f32 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
            *u = (acc + b).max(0.0);
        }
        let (regime, confidence) = (out.regime, out.confidence);
        *out = Belief {
            header: Header {
                kind: Kind::Belief as u8,
                ..fv.header
            },
            regime,
            confidence,
            ..Belief::default()
        };
        // Top-k by insertion: strictly greater displaces, so ties keep the lower index.
        let mut n = 0usize;
        for (i, &v) in self.units.iter().enumerate() {
            if v <= 0.0 {
                continue;
            }
            let mut pos = n.min(self.k);
            while pos > 0 && v > out.top_val[pos - 1] {
                pos -= 1;
            }
            if pos < self.k {
                let end = n.min(self.k - 1);
                let mut j = end;
                while j > pos {
                    out.top_val[j] = out.top_val[j - 1];
                    out.top_idx[j] = out.top_idx[j - 1];
                    j -= 1;
                }
                out.top_val[pos] = v;
                out.top_idx[pos] = i as u16;
                n = (n + 1).min(self.k);
            }
        }
        out.k = n as u8;
        (0..n)
            .map(|j| self.readout[out.top_idx[j] as usize] * out.top_val[j])
            .sum()
    }

    /// The dense belief vector (zeros outside the top-k) of `b`, into `out`.
    pub fn dense(b: &Belief, out: &mut [f32]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..b.k as usize {
            if let Some(v) = out.get_mut(b.top_idx[j] as usize) {
                *v = b.top_val[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::params::{AttentionModel, BeliefUnit};

    fn model(rows: &[(usize, f32, f32)], readout: Vec<f32>) -> BeliefModel {
        // One unit per row: weight `w` on feature `f`, bias `b`.
        BeliefModel {
            mean: vec![0.0; N_FEATURES],
            scale: vec![1.0; N_FEATURES],
            units: rows
                .iter()
                .enumerate()
                .map(|(i, &(f, w, b))| {
                    let mut ws = vec![0.0; N_FEATURES];
                    ws[f] = w;
                    BeliefUnit {
                        name: format!("u{i}"),
                        w: ws,
                        b,
                    }
                })
                .collect(),
            readout,
            attention: AttentionModel {
                query: vec![vec![0.0; rows.len()]],
                keys: vec![vec![0.0]; 3],
            },
        }
    }

    #[test]
    fn relu_top_k_and_readout_by_hand() {
        // Features: x0 = 2, x1 = −1. Units: 3·x0 = 6, −x1 = 1, x1 = −1 → 0, x0 + 1 = 3.
        let m = model(
            &[(0, 3.0, 0.0), (1, -1.0, 0.0), (1, 1.0, 0.0), (0, 1.0, 1.0)],
            vec![1.0, 10.0, 100.0, -2.0],
        );
        let mut e = BeliefEmitter::new(&m, 2);
        let mut fv = FeatureVector::default();
        fv.values[0] = 2.0;
        fv.values[1] = -1.0;
        let mut b = Belief::default();
        let pred = e.emit(&fv, &mut b);
        assert_eq!(b.k, 2);
        assert_eq!((b.top_idx[0], b.top_val[0]), (0, 6.0));
        assert_eq!((b.top_idx[1], b.top_val[1]), (3, 3.0));
        assert_eq!(pred, 1.0 * 6.0 + -2.0 * 3.0);
        let mut d = [9.0; 4];
        BeliefEmitter::dense(&b, &mut d);
        assert_eq!(d, [6.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn ties_go_to_the_lower_index_and_negatives_are_dropped() {
        let m = model(&[(0, 1.0, 0.0), (0, 1.0, 0.0), (0, -1.0, 0.0)], vec![0.0; 3]);
        let mut e = BeliefEmitter::new(&m, 3);
        let mut fv = FeatureVector::default();
        fv.values[0] = 5.0;
        let mut b = Belief::default();
        e.emit(&fv, &mut b);
        assert_eq!(b.k, 2, "the negative unit is not kept");
        assert_eq!(&b.top_idx[..2], &[0, 1]);
    }

    #[test]
    fn normalisation_and_non_finite_inputs() {
        let mut m = model(&[(0, 1.0, 0.0)], vec![1.0]);
        m.mean[0] = 10.0;
        m.scale[0] = 2.0;
        let mut e = BeliefEmitter::new(&m, 1);
        let mut fv = FeatureVector::default();
        fv.values[0] = 16.0; // (16 − 10)/2 = 3
        let mut b = Belief::default();
        assert_eq!(e.emit(&fv, &mut b), 3.0);
        fv.values[0] = f32::NAN;
        assert_eq!(e.emit(&fv, &mut b), 0.0);
        assert_eq!(b.k, 0);
    }
}
