//! Fast weights stay bounded: 10M Hebbian updates with adversarial rewards (large,
//! same-signed runs, sign flips, zeros) never push the fast-weight matrix's
//! Frobenius norm past its clamp.

use foxtrot_engine::config::FastWeightsConfig;
use foxtrot_engine::core::router::attention::{phi, FastWeights};
use foxtrot_engine::rng::SeededRng;

#[test]
fn norms_stay_bounded_over_ten_million_updates() {
    let cfg = FastWeightsConfig {
        rank: 4,
        decay: 0.9999,
        eta: 0.5,
        max_norm: 4.0,
    };
    let (dim, units) = (3, 8);
    let mut f = FastWeights::new(&cfg, dim, units);
    let mut rng = SeededRng::new(99);
    let keys: Vec<Vec<f32>> = (0..3)
        .map(|i| (0..dim).map(|j| phi(if i == j { 1.0 } else { -0.5 })).collect())
        .collect();
    let mut b = vec![0.0f32; units];
    let mut max_exact = 0.0f32;
    let mut max_bound = 0.0f32;
    for n in 0..10_000_000u64 {
        // Sparse non-negative beliefs like the emitter's, sometimes huge.
        b.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..3 {
            let u = rng.below(units as u64) as usize;
            b[u] = (rng.uniform() * if n % 1000 == 0 { 1e3 } else { 3.0 }) as f32;
        }
        // Rewards: long same-signed runs (potentiation that would diverge unclamped).
        let reward = match (n / 100_000) % 4 {
            0 => 5.0,
            1 => -5.0,
            2 => (rng.uniform() * 10.0 - 5.0) as f32,
            _ => 0.0,
        };
        let p = (n % 3) as usize;
        f.update(p, &keys[p], &b, reward);
        let bound = f.norm_bound();
        max_bound = max_bound.max(bound);
        assert!(
            bound <= cfg.max_norm as f32 * (1.0 + 1e-5),
            "bound {bound} at update {n}"
        );
        if n % 250_000 == 0 {
            let exact = f.frobenius();
            max_exact = max_exact.max(exact);
            assert!(
                exact <= bound * (1.0 + 1e-5) + 1e-6,
                "exact {exact} above the bound {bound}"
            );
        }
    }
    assert_eq!(f.updates(), 10_000_000);
    // The clamp was exercised, not idle: the norm reached it.
    assert!(max_bound > 0.9 * cfg.max_norm as f32, "max bound {max_bound}");
    assert!(max_exact > 0.0);
}
