//! Alpha decay: a belief that predicted returns stops predicting them, and the drift
//! sentry fires within one decision step of the point where the detectors'
//! statistics — recomputed here from their textbook definitions over the same error
//! sequence — first cross their thresholds.

use foxtrot_engine::config::{DriftConfig, DriftSignal};
use foxtrot_engine::core::belief::{BeliefEmitter, DriftSentry};
use foxtrot_engine::core::sensory::idx;
use foxtrot_engine::records::{Belief, Detector, FeatureVector};
use foxtrot_engine::rng::SeededRng;
use foxtrot_engine::Config;

const DECAY_AT: usize = 3_000;

/// Independent CUSUM and Page–Hinkley over a finished error sequence: the first
/// index at which each crosses, with μ₀ the mean of the first `warmup` samples.
fn theoretical(xs: &[f64], c: &DriftConfig) -> (Option<usize>, Option<usize>) {
    let w = c.warmup as usize;
    let mu0 = xs[..w].iter().sum::<f64>() / w as f64;
    let (mut g, mut cusum) = (0.0f64, None);
    let (mut sum, mut m, mut m_min, mut ph) = (0.0f64, 0.0f64, 0.0f64, None);
    for (t, &x) in xs.iter().enumerate().skip(w) {
        let n = (t - w + 1) as f64;
        g = (g + x - mu0 - c.cusum_k).max(0.0);
        sum += x;
        m += x - sum / n - c.ph_delta;
        m_min = m_min.min(m);
        if cusum.is_none() && g > c.cusum_h {
            cusum = Some(t);
        }
        if ph.is_none() && m - m_min > c.ph_lambda {
            ph = Some(t);
        }
    }
    (cusum, ph)
}

#[test]
fn sentry_fires_at_the_theoretical_trigger_after_alpha_decays() {
    let cfg = Config::default_sim();
    let mut emitter = BeliefEmitter::new(cfg.model(), cfg.belief.k);
    let drift_cfg = DriftConfig {
        enabled: true,
        signal: DriftSignal::PredictionError,
        warmup: 500,
        ph_delta: 0.05,
        ph_lambda: 60.0,
        cusum_k: 0.2,
        cusum_h: 30.0,
    };
    let mut sentry = DriftSentry::new(&drift_cfg, 1, false);
    let mut rng = SeededRng::new(5);
    let mut fv = FeatureVector::default();
    let mut belief = Belief::default();
    let mut prev_pred = 0.0f32;
    let mut errors = Vec::new();
    // (error index, detectors) of the sentry's first alarm. Every alarm resets both
    // detectors, so the first one is what the no-reset theory below describes.
    let mut first_alarm: Option<(usize, Vec<Detector>)> = None;
    for t in 0..6_000 {
        // The features drift slowly; the belief predicts from them.
        fv.values[idx::EMA_SIGNAL] = (3.0 * (t as f64 / 40.0).sin()) as f32;
        fv.values[idx::IMBALANCE_N] = (0.8 * (t as f64 / 17.0).cos()) as f32;
        // Realised return: the previous prediction plus noise while the alpha lives,
        // then its opposite (the edge has decayed and reversed).
        let noise = 0.3 * rng.normal();
        let ret = if t < DECAY_AT {
            prev_pred as f64 + noise
        } else {
            -(prev_pred as f64) + noise
        };
        fv.values[idx::RET_BPS] = ret as f32;
        let pred = emitter.emit(&fv, &mut belief);
        if t > 0 {
            errors.push((ret - prev_pred as f64).abs());
        }
        let fired: Vec<Detector> = sentry
            .on_update(0, ret, pred, &fv)
            .into_iter()
            .flatten()
            .map(|a| a.detector)
            .collect();
        if first_alarm.is_none() && !fired.is_empty() {
            // Index in the error sequence (the first update only records a prediction).
            first_alarm = Some((t - 1, fired));
        }
        prev_pred = pred;
    }
    let (cusum, ph) = theoretical(&errors, &drift_cfg);
    let cusum = cusum.expect("CUSUM must cross after the decay");
    let ph = ph.expect("Page–Hinkley must cross after the decay");
    assert!(
        cusum >= DECAY_AT - 1 && ph >= DECAY_AT - 1,
        "no false alarm before the decay: {cusum} {ph}"
    );
    let (at, detectors) = first_alarm.expect("the sentry fired");
    let expected = cusum.min(ph);
    assert!(
        at.abs_diff(expected) <= 1,
        "first alarm at {at}, theory says {expected} (CUSUM {cusum}, PH {ph})"
    );
    if cusum < ph {
        assert_eq!(detectors, vec![Detector::Cusum]);
    } else if ph < cusum {
        assert_eq!(detectors, vec![Detector::PageHinkley]);
    }
    assert!(at - DECAY_AT < 200, "detection delay {} steps", at - DECAY_AT);
    assert!(sentry.size_factor(0) < 1.0 && sentry.exploration_frozen());
}
