//! The LinearAttentionRouter and its low-rank Hebbian fast weights.
//!
//! The query is a projection of the dense belief: q = (W_q + F) · b, where W_q comes
//! from the weights file and F is the fast-weight matrix (zero unless the
//! `fast_weights` flag is on). Each policy i has a key k_i; with φ(x) = elu(x) + 1
//! (positive everywhere), the weight of policy i is
//!
//! ```text
//!   w_i = φ(q)·φ(k_i) / Σ_j φ(q)·φ(k_j)
//! ```
//!
//! Weights are positive and sum to 1. `choose` takes the argmax (ties: lowest
//! index); `blend` uses the weights directly.
//!
//! **Fast weights.** A reward R for a decision taken by policy i with belief b
//! potentiates F by η·R·φ(k_i) bᵀ, after every update decays F by `decay`. The
//! keys are fixed, so every such product's left factor is one of the
//! [`N_POLICIES`] keys and F = Σ_i s_i φ(k_i) a_iᵀ *exactly*, a_i the (decayed)
//! sum of η·R·b over all of policy i's rewards — rank ≤ N_POLICIES, with every
//! reward kept rather than only the newest few. `rank` caps the factors kept:
//! past it, the weakest other factor is dropped. Then the norm clamp: since
//! ‖F‖_F ≤ Σ_r |s_r|·‖u_r‖·‖v_r‖, the scales are shrunk together whenever that bound
//! exceeds `max_norm` — so ‖F‖_F ≤ max_norm always, whatever the rewards.

use crate::core::params::{AttentionModel, FastWeightsConfig};

/// Number of policies the router arbitrates.
pub const N_POLICIES: usize = 3;

/// φ(x) = elu(x) + 1: x + 1 for x > 0, eˣ otherwise.
#[inline]
pub fn phi(x: f32) -> f32 {
    if x > 0.0 {
        x + 1.0
    } else {
        x.exp()
    }
}

/// Low-rank fast weights: F = Σ_i s_i · u_i a_iᵀ over the policies, u_i the
/// policy's key (φ-transformed, fixed), a_i the decayed sum of η·R·b over every
/// reward policy i received, s_i the scale the norm clamp shrinks.
pub struct FastWeights {
    u: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    s: Vec<f32>,
    rank: usize,
    decay: f32,
    eta: f32,
    max_norm: f32,
    updates: u64,
}

impl FastWeights {
    /// Fast weights of `dim` × `units` over [`N_POLICIES`] key directions, at
    /// most `cfg.rank` of them non-zero; initially zero.
    pub fn new(cfg: &FastWeightsConfig, dim: usize, units: usize) -> Self {
        FastWeights {
            u: vec![vec![0.0; dim]; N_POLICIES],
            v: vec![vec![0.0; units]; N_POLICIES],
            s: vec![0.0; N_POLICIES],
            rank: (cfg.rank as usize).max(1),
            decay: cfg.decay as f32,
            eta: cfg.eta as f32,
            max_norm: cfg.max_norm as f32,
            updates: 0,
        }
    }

    /// Adds F · b into `q`.
    #[inline]
    pub fn apply(&self, b: &[f32], q: &mut [f32]) {
        for r in 0..self.s.len() {
            if self.s[r] == 0.0 {
                continue;
            }
            let vb: f32 = self.v[r].iter().zip(b).map(|(x, y)| x * y).sum();
            let c = self.s[r] * vb;
            for (qi, ui) in q.iter_mut().zip(&self.u[r]) {
                *qi += c * ui;
            }
        }
    }

    /// One Hebbian update for a reward to `policy`, whose key is `key_phi`:
    /// decay everything, add η·reward·key ⊗ belief to the policy's factor (every
    /// reward adds; none replaces an earlier one), keep at most `rank` factors
    /// (dropping the weakest other one), clamp the norm.
    pub fn update(&mut self, policy: usize, key_phi: &[f32], b: &[f32], reward: f32) {
        self.updates += 1;
        for s in &mut self.s {
            *s *= self.decay;
        }
        if reward.is_finite() && reward != 0.0 && policy < N_POLICIES {
            let p = policy;
            // Fold the factor's scale into its sum (so neither under- nor
            // overflows however long it decays), then add this reward.
            let scale = self.s[p];
            if scale == 0.0 {
                self.u[p].copy_from_slice(key_phi);
            }
            let add = self.eta * reward;
            for (a, x) in self.v[p].iter_mut().zip(b) {
                *a = *a * scale + add * x;
            }
            self.s[p] = 1.0;
            let live = self.s.iter().filter(|s| **s != 0.0).count();
            if live > self.rank {
                let weakest = (0..N_POLICIES)
                    .filter(|&r| r != p && self.s[r] != 0.0)
                    .min_by(|&x, &y| self.factor_norm(x).total_cmp(&self.factor_norm(y)));
                if let Some(w) = weakest {
                    self.s[w] = 0.0;
                }
            }
        }
        let bound = self.norm_bound();
        if bound > self.max_norm {
            let k = self.max_norm / bound;
            for s in &mut self.s {
                *s *= k;
            }
        }
    }

    fn factor_norm(&self, r: usize) -> f32 {
        let norm = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
        self.s[r].abs() * norm(&self.u[r]) * norm(&self.v[r])
    }

    /// Σ_r |s_r|·‖u_r‖·‖v_r‖, an upper bound of ‖F‖_F.
    pub fn norm_bound(&self) -> f32 {
        (0..self.s.len()).map(|r| self.factor_norm(r)).sum()
    }

    /// The exact Frobenius norm of F (for tests and reports; O(dim × units × rank)).
    pub fn frobenius(&self) -> f32 {
        let (d, h) = (self.u[0].len(), self.v[0].len());
        let mut sum = 0.0f64;
        for i in 0..d {
            for j in 0..h {
                let f: f64 = (0..self.s.len())
                    .map(|r| (self.s[r] * self.u[r][i] * self.v[r][j]) as f64)
                    .sum();
                sum += f * f;
            }
        }
        sum.sqrt() as f32
    }

    /// Updates applied.
    pub fn updates(&self) -> u64 {
        self.updates
    }
}

/// The attention router: query projection, keys, optional fast weights.
pub struct LinearAttention {
    query: Vec<Vec<f32>>,
    keys_phi: [Vec<f32>; N_POLICIES],
    q: Vec<f32>,
    q_phi: Vec<f32>,
    /// The fast weights (used when enabled).
    pub fast: FastWeights,
    fast_on: bool,
}

impl LinearAttention {
    /// Builds from a validated model.
    pub fn new(m: &AttentionModel, fast: &FastWeightsConfig, fast_on: bool) -> Self {
        let d = m.query.len();
        let h = m.query[0].len();
        let kp = |i: usize| m.keys[i].iter().map(|&x| phi(x)).collect::<Vec<f32>>();
        LinearAttention {
            query: m.query.clone(),
            keys_phi: [kp(0), kp(1), kp(2)],
            q: vec![0.0; d],
            q_phi: vec![0.0; d],
            fast: FastWeights::new(fast, d, h),
            fast_on,
        }
    }

    /// Attention weights over the policies for the dense belief `b` (one value per
    /// belief unit), into `w`.
    #[inline]
    pub fn weights(&mut self, b: &[f32], w: &mut [f32; N_POLICIES]) {
        for (qi, row) in self.q.iter_mut().zip(&self.query) {
            *qi = row.iter().zip(b).map(|(x, y)| x * y).sum();
        }
        if self.fast_on {
            self.fast.apply(b, &mut self.q);
        }
        for (p, q) in self.q_phi.iter_mut().zip(&self.q) {
            *p = phi(*q);
        }
        let mut total = 0.0;
        for (wi, k) in w.iter_mut().zip(&self.keys_phi) {
            *wi = self.q_phi.iter().zip(k).map(|(a, b)| a * b).sum();
            total += *wi;
        }
        if total > 0.0 && total.is_finite() {
            w.iter_mut().for_each(|x| *x /= total);
        } else {
            *w = [1.0 / N_POLICIES as f32; N_POLICIES];
        }
    }

    /// Argmax of `w` (ties: lowest index).
    pub fn choose(w: &[f32; N_POLICIES]) -> usize {
        let mut best = 0;
        for i in 1..N_POLICIES {
            if w[i] > w[best] {
                best = i;
            }
        }
        best
    }

    /// Reinforces policy `i` for belief `b` with `reward` (no-op unless fast weights are on).
    pub fn reinforce(&mut self, i: usize, b: &[f32], reward: f32) {
        if self.fast_on && i < N_POLICIES {
            let k = &self.keys_phi[i];
            self.fast.update(i, k, b, reward);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw() -> FastWeightsConfig {
        FastWeightsConfig {
            rank: 4,
            decay: 0.99,
            eta: 0.5,
            max_norm: 3.0,
        }
    }

    #[test]
    fn weights_by_hand() {
        // One query dim, q = 1·b0 = 2 → φ(q) = 3. Keys 0, 1, −1 → φ = 1, 2, e⁻¹.
        let m = AttentionModel {
            query: vec![vec![1.0, 0.0]],
            keys: vec![vec![0.0], vec![1.0], vec![-1.0]],
        };
        let mut a = LinearAttention::new(&m, &fw(), false);
        let mut w = [0.0; 3];
        a.weights(&[2.0, 5.0], &mut w);
        let e = (-1.0f32).exp();
        let tot = 3.0 * (1.0 + 2.0 + e);
        let want = [3.0 / tot, 6.0 / tot, 3.0 * e / tot];
        for i in 0..3 {
            assert!((w[i] - want[i]).abs() < 1e-6, "{w:?} vs {want:?}");
        }
        assert_eq!(LinearAttention::choose(&w), 1);
        assert_eq!(
            LinearAttention::choose(&[0.4, 0.2, 0.4]),
            0,
            "ties go to the lowest index"
        );
        assert_eq!(phi(-2.0), (-2.0f32).exp());
    }

    #[test]
    fn fast_weights_shift_the_query_and_stay_bounded() {
        let m = AttentionModel {
            query: vec![vec![0.0, 0.0]; 2],
            keys: vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.0, 0.0]],
        };
        let mut a = LinearAttention::new(&m, &fw(), true);
        let b = [1.0, 0.0];
        let mut w0 = [0.0; 3];
        a.weights(&b, &mut w0);
        // Reward policy 1 for this belief: its weight must rise.
        for _ in 0..10 {
            a.reinforce(1, &b, 1.0);
        }
        let mut w1 = [0.0; 3];
        a.weights(&b, &mut w1);
        assert!(w1[1] > w0[1], "{w0:?} → {w1:?}");
        assert!(a.fast.frobenius() <= 3.0 + 1e-4);
    }

    #[test]
    fn frobenius_matches_the_outer_product_by_hand() {
        let mut f = FastWeights::new(
            &FastWeightsConfig {
                rank: 2,
                decay: 1.0,
                eta: 1.0,
                max_norm: 100.0,
            },
            2,
            2,
        );
        f.update(0, &[1.0, 2.0], &[3.0, 0.0], 0.5); // F = 0.5·[1,2]ᵀ[3,0] = [[1.5,0],[3,0]]
        assert!((f.frobenius() - (1.5f32 * 1.5 + 9.0).sqrt()).abs() < 1e-5);
        let mut q = [0.0, 0.0];
        f.apply(&[1.0, 1.0], &mut q);
        assert_eq!(q, [1.5, 3.0]);
    }

    /// Every reward stays in F (decayed), not only the last `rank`: F · b equals
    /// a dense reference Σ_n decay^(N−n) · η·R_n · k (b_n · b), computed here.
    #[test]
    fn every_reward_accumulates_against_a_dense_reference() {
        let cfg = FastWeightsConfig {
            rank: 2,
            decay: 0.9,
            eta: 0.25,
            max_norm: 1e6,
        };
        let mut f = FastWeights::new(&cfg, 2, 3);
        let key = [1.0f32, 0.5];
        let mut dense = [[0.0f64; 3]; 2];
        for n in 0..12 {
            let b = [(n % 3) as f32, 1.0, (n as f32) * 0.1];
            let r = if n % 4 == 0 { -1.0 } else { 0.5 + n as f32 * 0.1 };
            f.update(0, &key, &b, r);
            for row in dense.iter_mut() {
                row.iter_mut().for_each(|x| *x *= 0.9);
            }
            for i in 0..2 {
                for j in 0..3 {
                    dense[i][j] += 0.25 * r as f64 * key[i] as f64 * b[j] as f64;
                }
            }
        }
        let probe = [0.3f32, -1.0, 2.0];
        let mut q = [0.0f32; 2];
        f.apply(&probe, &mut q);
        for i in 0..2 {
            let want: f64 = (0..3).map(|j| dense[i][j] * probe[j] as f64).sum();
            assert!(
                (q[i] as f64 - want).abs() < 1e-4 * want.abs().max(1.0),
                "{q:?} vs {want}"
            );
        }
    }

    /// Rank 1 keeps one policy's factor: the stronger survives another's reward.
    #[test]
    fn rank_caps_the_factors_kept() {
        let cfg = FastWeightsConfig {
            rank: 1,
            decay: 1.0,
            eta: 1.0,
            max_norm: 1e6,
        };
        let mut f = FastWeights::new(&cfg, 1, 1);
        f.update(0, &[1.0], &[1.0], 3.0);
        f.update(1, &[1.0], &[1.0], 1.0);
        // Policy 1's new factor outranks nothing: the weakest *other* (policy 0,
        // norm 3) is dropped, so F = 1.
        let mut q = [0.0];
        f.apply(&[1.0], &mut q);
        assert_eq!(q, [1.0]);
        assert_eq!(f.s.iter().filter(|s| **s != 0.0).count(), 1);
    }
}
