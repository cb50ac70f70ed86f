//! The BeliefEmitter: a linear layer, ReLU, and top-k sparsity.
//!
//! `belief = top_k(ReLU(W · ((x − mean) / scale) + b))`: only the k strongest
//! positive units survive (ties go to the lower unit index, so the result is a pure
//! function of the input). The readout `Σ readout[u] · belief[u]` over the surviving
//! units is the belief's prediction of the next mid return, in bps — the signal the
//! drift sentry watches.

use crate::core::params::BeliefModel;
use crate::records::{Belief, FeatureVector, Header, Kind, BELIEF_K_MAX, N_FEATURES};

/// Units summed side by side: eight `f32` lanes (two SSE2 vectors on the
/// baseline x86-64 target, one AVX vector where it is enabled).
const LANES: usize = 8;

/// The emitter. All buffers are sized at construction.
pub struct BeliefEmitter {
    mean: [f32; N_FEATURES],
    inv_scale: [f32; N_FEATURES],
    /// The weights transposed in groups of [`LANES`] units:
    /// `wt[g * N_FEATURES + f][l]` is unit `g * LANES + l`'s weight on feature
    /// `f` (zero past the last unit). One pass over the features updates a
    /// group's sums side by side (vector multiplies and adds per feature, no
    /// chain of dependent adds per unit), each unit still summed in feature
    /// order from `-0.0` as `Iterator::sum` does — the same value to the bit
    /// as the row-by-row dot product (a sum of zero perhaps with the other
    /// sign, see `rows`).
    wt: Vec<[f32; LANES]>,
    /// Per group of [`LANES`] units, the features some unit of it weighs, in
    /// order (`rows[g].1` of them): a feature every unit of the group gives
    /// weight 0 would add ±0 to each sum, which changes no sum but one that is
    /// zero, and that only in its sign — a unit at or below zero is never
    /// kept — so it is skipped.
    rows: Vec<([u8; N_FEATURES], u8)>,
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
        let weighed = |units: &[crate::core::params::BeliefUnit]| {
            let mut rows = ([0u8; N_FEATURES], 0u8);
            for f in (0..N_FEATURES).filter(|&f| units.iter().any(|u| u.w[f] != 0.0)) {
                rows.0[rows.1 as usize] = f as u8;
                rows.1 += 1;
            }
            rows
        };
        BeliefEmitter {
            rows: model.units.chunks(LANES).map(weighed).collect(),
            mean: arr(&model.mean),
            inv_scale,
            wt: model
                .units
                .chunks(LANES)
                .flat_map(|g| {
                    (0..N_FEATURES).map(move |f| {
                        let mut lanes = [0.0; LANES];
                        for (l, u) in g.iter().enumerate() {
                            lanes[l] = u.w[f];
                        }
                        lanes
                    })
                })
                .collect(),
            b: model.units.iter().map(|u| u.b).collect(),
            readout: model.readout.clone(),
            k: (k as usize).clamp(1, BELIEF_K_MAX),
            units: vec![0.0; model.units.len()],
        }
    }

    /// Number of units in the layer.
    pub fn width(&self) -> usize {
        self.units.len()
    }

    /// Computes the belief for `fv` into `out` (regime fields untouched) and returns
    /// the predicted next mid return in bps.
    #[inline]
    pub fn emit(&mut self, fv: &FeatureVector, out: &mut Belief) -> f32 {
        let groups = self.wt.chunks_exact(N_FEATURES).zip(&self.rows);
        for ((group, (rows, n)), units) in groups.zip(self.units.chunks_mut(LANES)) {
            let mut acc = [-0.0f32; LANES];
            // Only the features the group weighs are normalised (a layer
            // weighs a few of the 24), each as the whole vector's would be.
            for &f in &rows[..*n as usize] {
                let f = f as usize;
                let v = (fv.values[f] - self.mean[f]) * self.inv_scale[f];
                // A non-finite feature (bad data upstream) contributes nothing.
                let xf = if v.is_finite() { v } else { 0.0 };
                let w = &group[f];
                for l in 0..LANES {
                    acc[l] += w[l] * xf;
                }
            }
            units.copy_from_slice(&acc[..units.len()]);
        }
        for (u, &b) in self.units.iter_mut().zip(&self.b) {
            *u = (*u + b).max(0.0);
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
        let n = if self.units.len() <= RANKED_MAX {
            top_k_ranked(&self.units, self.k, out)
        } else {
            top_k_inserted(&self.units, self.k, out)
        };
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

/// Widths up to this take their top-k by rank ([`top_k_ranked`]), wider ones
/// by insertion ([`top_k_inserted`]): the rank compares a unit with all of
/// them at once in eight lanes (two SSE registers).
const RANKED_MAX: usize = 8;

/// The `k` largest positive `units` (at most [`RANKED_MAX`]) into
/// `out.top_val`/`out.top_idx`, largest first, ties to the lower index;
/// returns how many. Each positive unit's place is its rank — the units
/// greater than it, and the units equal to it at a lower index — found with
/// two vector compares against all eight units and a table of bit counts,
/// without a branch on the values: a layer whose order changes input by
/// input costs no mispredictions (the insertion this replaced was ~40% of
/// the emitter's `perf` samples). Gives exactly what [`top_k_inserted`]
/// gives (a property test holds it).
#[cfg(target_arch = "x86_64")]
#[inline]
fn top_k_ranked(units: &[f32], k: usize, out: &mut Belief) -> usize {
    // Padded with zeros, which are never kept and never rank above a kept unit.
    let mut u = [0.0f32; RANKED_MAX];
    u[..units.len()].copy_from_slice(units);
    let lanes = sse::Lanes8::new(&u);
    let (positive, _) = lanes.compare(0.0);
    // One spare slot past the k kept receives every unit not kept.
    let mut val = [0.0f32; BELIEF_K_MAX + 1];
    let mut idx = [0u16; BELIEF_K_MAX + 1];
    for (i, &v) in u.iter().enumerate() {
        let (greater, equal) = lanes.compare(v);
        let rank = BITS[greater | (equal & ((1 << i) - 1))] as usize;
        let kept = (positive >> i) & 1 == 1 && rank < k;
        let at = if kept { rank } else { BELIEF_K_MAX };
        val[at] = v;
        idx[at] = i as u16;
    }
    out.top_val.copy_from_slice(&val[..BELIEF_K_MAX]);
    out.top_idx.copy_from_slice(&idx[..BELIEF_K_MAX]);
    (BITS[positive] as usize).min(k)
}

/// Eight `f32` lanes in two SSE registers.
#[cfg(target_arch = "x86_64")]
mod sse {
    use std::arch::x86_64::{__m128, _mm_cmpeq_ps, _mm_cmpgt_ps, _mm_movemask_ps, _mm_set1_ps, _mm_setr_ps};

    pub struct Lanes8 {
        lo: __m128,
        hi: __m128,
    }

    impl Lanes8 {
        #[inline(always)]
        pub fn new(u: &[f32; 8]) -> Self {
            // SAFETY: SSE is part of the x86-64 baseline, so every processor
            // this code is built for has it; the intrinsic touches registers only.
            unsafe {
                Lanes8 {
                    lo: _mm_setr_ps(u[0], u[1], u[2], u[3]),
                    hi: _mm_setr_ps(u[4], u[5], u[6], u[7]),
                }
            }
        }

        /// Bit j of the first mask: lane j is greater than `v`; of the
        /// second: lane j equals `v`.
        #[inline(always)]
        pub fn compare(&self, v: f32) -> (usize, usize) {
            // SAFETY: as in `new`: baseline SSE, registers only.
            unsafe {
                let s = _mm_set1_ps(v);
                let mask = |lo, hi| (_mm_movemask_ps(lo) | _mm_movemask_ps(hi) << 4) as usize;
                (
                    mask(_mm_cmpgt_ps(self.lo, s), _mm_cmpgt_ps(self.hi, s)),
                    mask(_mm_cmpeq_ps(self.lo, s), _mm_cmpeq_ps(self.hi, s)),
                )
            }
        }
    }
}

/// Elsewhere than x86-64, the insertion.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn top_k_ranked(units: &[f32], k: usize, out: &mut Belief) -> usize {
    top_k_inserted(units, k, out)
}

/// The number of bits set in each byte (x86-64's baseline has no `popcnt`).
#[cfg(target_arch = "x86_64")]
const BITS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).count_ones() as u8;
        i += 1;
    }
    t
};

/// [`top_k_ranked`] by insertion: strictly greater displaces, so ties keep
/// the lower index. For layers wider than [`RANKED_MAX`].
fn top_k_inserted(units: &[f32], k: usize, out: &mut Belief) -> usize {
    let mut n = 0usize;
    for (i, &v) in units.iter().enumerate() {
        if v <= 0.0 {
            continue;
        }
        let mut pos = n.min(k);
        while pos > 0 && v > out.top_val[pos - 1] {
            pos -= 1;
        }
        if pos < k {
            let end = n.min(k - 1);
            let mut j = end;
            while j > pos {
                out.top_val[j] = out.top_val[j - 1];
                out.top_idx[j] = out.top_idx[j - 1];
                j -= 1;
            }
            out.top_val[pos] = v;
            out.top_idx[pos] = i as u16;
            n = (n + 1).min(k);
        }
    }
    n
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

    proptest::proptest! {
        /// The branch-free top-k by rank keeps exactly what insertion keeps,
        /// in the same order and with the same count, for layers up to
        /// `RANKED_MAX` wide whose units tie often (few distinct values),
        /// are zero or negative, and every k.
        #[test]
        fn ranked_top_k_is_the_inserted_one(
            units in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(vec![-1.0f32, 0.0, -0.0, 0.5, 1.0, 2.0, 3.0]),
                -5f32..5.0,
            ], 1..=RANKED_MAX),
            k in 1usize..=BELIEF_K_MAX,
        ) {
            let (mut a, mut b) = (Belief::default(), Belief::default());
            let na = top_k_ranked(&units, k, &mut a);
            let nb = top_k_inserted(&units, k, &mut b);
            proptest::prop_assert_eq!(na, nb);
            proptest::prop_assert_eq!(a.top_idx, b.top_idx);
            proptest::prop_assert_eq!(a.top_val.map(f32::to_bits), b.top_val.map(f32::to_bits));
        }

        /// The units computed side by side equal, to the bit, each unit's
        /// row-by-row dot product over every feature summed in feature order
        /// (`Iterator::sum`), for random weights (many of them zero, whole
        /// features unweighed by every unit) and features of every
        /// magnitude. A unit at or below zero is never kept, so there only
        /// its sign of zero may differ.
        #[test]
        fn side_by_side_units_equal_the_row_by_row_sums(
            w in proptest::collection::vec(
                proptest::collection::vec(proptest::prop_oneof![-1e6f32..1e6, proptest::strategy::Just(0.0f32)], N_FEATURES),
                1..12,
            ),
            unweighed in proptest::collection::vec(proptest::bool::weighted(0.5), N_FEATURES),
            b in proptest::collection::vec(proptest::prop_oneof![-10f32..10.0, proptest::strategy::Just(0.0f32)], 12),
            x in proptest::collection::vec(proptest::prop_oneof![-1e9f32..1e9, -1e-6f32..1e-6, proptest::strategy::Just(0.0f32)], N_FEATURES),
        ) {
            let w: Vec<Vec<f32>> = w
                .iter()
                .map(|ws| ws.iter().zip(&unweighed).map(|(&v, &z)| if z { 0.0 } else { v }).collect())
                .collect();
            let mut m = model(&[], vec![0.0; w.len()]);
            m.units = w
                .iter()
                .enumerate()
                .map(|(i, ws)| BeliefUnit { name: format!("u{i}"), w: ws.clone(), b: b[i] })
                .collect();
            let mut e = BeliefEmitter::new(&m, 8);
            let mut fv = FeatureVector::default();
            fv.values.copy_from_slice(&x);
            let mut out = Belief::default();
            e.emit(&fv, &mut out);
            for (u, ws) in w.iter().enumerate() {
                let acc: f32 = ws.iter().zip(&x).map(|(a, b)| a * b).sum();
                let want = (acc + b[u]).max(0.0);
                if want > 0.0 {
                    proptest::prop_assert_eq!(e.units[u].to_bits(), want.to_bits(), "unit {}", u);
                } else {
                    proptest::prop_assert!(e.units[u] <= 0.0, "unit {} is {} where the sum is {}", u, e.units[u], want);
                }
            }
        }
    }
}
