//! DriftSentry: Page–Hinkley and CUSUM detectors on the belief's prediction error.
//!
//! Per instrument, the monitored signal x_t is, by default, the absolute error of
//! the belief's one-step prediction: |r_t − p_{t−1}| in bps, where r_t is the mid
//! return just realised and p_{t−1} the readout's prediction made at the previous
//! mid update. (Or |r_t| with `signal: abs_return`.) When the belief stops
//! predicting — alpha decay — the error's mean rises, and both detectors look for
//! exactly that:
//!
//! - **CUSUM** (one-sided, upward): with μ₀ the mean of the first `warmup` samples,
//!   g_t = max(0, g_{t−1} + x_t − μ₀ − k); alarm when g_t > h.
//! - **Page–Hinkley**: with x̄_t the running mean of the samples since the last
//!   reset, m_t = Σ (x_s − x̄_s − δ), M_t = min_s m_s; alarm when m_t − M_t > λ.
//!
//! On an alarm the instrument's order-size factor halves (down to 1/16), exploration
//! freezes, and the caller writes a theory packet. Both detectors then restart
//! (μ₀ is kept). With the `auto_feedback` flag, good behaviour feeds back: every
//! `warmup` alarm-free samples double the size factor again, up to 1; without it
//! the halving holds until an operator re-arm. Everything is arithmetic on the
//! inputs: no clock, no randomness.

use crate::core::params::{DriftConfig, DriftSignal};
use crate::records::{Detector, FeatureVector, TheoryPacket, THEORY_FEATURES};

/// Smallest order-size factor repeated alarms can reach.
pub const MIN_SIZE_FACTOR: f32 = 1.0 / 16.0;

/// A detector firing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alarm {
    /// Which detector.
    pub detector: Detector,
    /// Its statistic when it fired.
    pub statistic: f64,
    /// The threshold crossed.
    pub threshold: f64,
    /// Running mean of the signal since the last reset.
    pub signal_mean: f64,
    /// Samples since the last reset.
    pub samples: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct State {
    last_prediction: f32,
    has_prediction: bool,
    warm: u64,
    warm_sum: f64,
    mu0: f64,
    // Since the last reset:
    n: u64,
    mean: f64,
    m: f64,
    m_min: f64,
    g: f64,
    size_factor: f32,
    alarms: u32,
    quiet: u64,
    feature_means: [f32; THEORY_FEATURES],
    fm_init: bool,
}

/// The drift sentry.
pub struct DriftSentry {
    cfg: DriftConfig,
    st: Vec<State>,
    frozen: bool,
    auto_feedback: bool,
}

impl DriftSentry {
    /// A sentry for `n` instruments; `auto_feedback` lets quiet periods restore size.
    pub fn new(cfg: &DriftConfig, n: usize, auto_feedback: bool) -> Self {
        DriftSentry {
            cfg: cfg.clone(),
            st: vec![
                State {
                    size_factor: 1.0,
                    ..State::default()
                };
                n
            ],
            frozen: false,
            auto_feedback,
        }
    }

    /// True once any alarm has fired (exploration stays frozen until re-armed).
    pub fn exploration_frozen(&self) -> bool {
        self.frozen
    }

    /// Operator re-arm: lifts the exploration freeze and restores full size.
    pub fn rearm(&mut self) {
        self.frozen = false;
        for s in &mut self.st {
            s.size_factor = 1.0;
        }
    }

    /// Order-size factor of `instrument` (1 until an alarm, halved by each).
    pub fn size_factor(&self, instrument: u32) -> f32 {
        self.st.get(instrument as usize).map_or(1.0, |s| s.size_factor)
    }

    /// Alarms so far on `instrument`.
    pub fn alarms(&self, instrument: u32) -> u32 {
        self.st.get(instrument as usize).map_or(0, |s| s.alarms)
    }

    /// One mid update: `ret_bps` is the return just realised, `prediction_bps` the
    /// belief's prediction of the *next* return, `fv` the features (summarised in
    /// theory packets). Returns the alarms that fired (at most one per detector).
    #[inline]
    pub fn on_update(
        &mut self,
        instrument: u32,
        ret_bps: f64,
        prediction_bps: f32,
        fv: &FeatureVector,
    ) -> [Option<Alarm>; 2] {
        let fired = self.check(instrument, ret_bps, fv);
        self.predicted(instrument, prediction_bps);
        fired
    }

    /// The belief's prediction of the next return, made at the update just
    /// [`check`](Self::check)ed: what that update's alarms did not read (they
    /// compare the return with the prediction made at the update before), so
    /// it may come after them — after the update's decision, off its
    /// critical path. [`on_update`](Self::on_update) is `check` then this.
    #[inline]
    pub fn predicted(&mut self, instrument: u32, prediction_bps: f32) {
        if !self.cfg.enabled {
            return;
        }
        if let Some(s) = self.st.get_mut(instrument as usize) {
            s.last_prediction = prediction_bps;
            if self.cfg.signal == DriftSignal::PredictionError {
                s.has_prediction = true;
            }
        }
    }

    /// One mid update without its prediction (see [`predicted`](Self::predicted)):
    /// the alarms that fired, at most one per detector.
    #[inline]
    pub fn check(&mut self, instrument: u32, ret_bps: f64, fv: &FeatureVector) -> [Option<Alarm>; 2] {
        let mut fired = [None, None];
        if !self.cfg.enabled {
            return fired;
        }
        let Some(s) = self.st.get_mut(instrument as usize) else {
            return fired;
        };
        // Feature summary for theory packets: slow EWMA of the key features.
        // Gathered first, then updated side by side (a few vector operations;
        // `v.abs() < ∞` is `is_finite` as a vector compare).
        let mut x = [0.0f32; THEORY_FEATURES];
        for (xj, &f) in x.iter_mut().zip(&crate::core::sensory::THEORY_SUMMARY) {
            *xj = fv.values[f];
        }
        let init = s.fm_init;
        for (m, &v) in s.feature_means.iter_mut().zip(&x) {
            let next = if init { *m + 0.01 * (v - *m) } else { v };
            *m = if v.abs() < f32::INFINITY { next } else { *m };
        }
        s.fm_init = true;
        let x = match self.cfg.signal {
            DriftSignal::AbsReturn => ret_bps.abs(),
            DriftSignal::PredictionError if s.has_prediction => (ret_bps - s.last_prediction as f64).abs(),
            // The first prediction is yet to come.
            DriftSignal::PredictionError => return fired,
        };
        if !x.is_finite() {
            return fired;
        }
        if s.warm < self.cfg.warmup as u64 {
            s.warm += 1;
            s.warm_sum += x;
            s.mu0 = s.warm_sum / s.warm as f64;
            return fired;
        }
        s.n += 1;
        s.mean += (x - s.mean) / s.n as f64;
        s.m += x - s.mean - self.cfg.ph_delta;
        s.m_min = s.m_min.min(s.m);
        s.g = (s.g + x - s.mu0 - self.cfg.cusum_k).max(0.0);
        let ph = s.m - s.m_min;
        for (slot, (detector, statistic, threshold)) in fired.iter_mut().zip([
            (Detector::PageHinkley, ph, self.cfg.ph_lambda),
            (Detector::Cusum, s.g, self.cfg.cusum_h),
        ]) {
            if statistic > threshold {
                *slot = Some(Alarm {
                    detector,
                    statistic,
                    threshold,
                    signal_mean: s.mean,
                    samples: s.n,
                });
            }
        }
        if fired.iter().any(Option::is_some) {
            s.quiet = 0;
            s.alarms += 1;
            s.size_factor = (s.size_factor * 0.5).max(MIN_SIZE_FACTOR);
            s.n = 0;
            s.mean = 0.0;
            s.m = 0.0;
            s.m_min = 0.0;
            s.g = 0.0;
            self.frozen = true;
        } else if self.auto_feedback && s.size_factor < 1.0 {
            s.quiet += 1;
            if s.quiet >= (self.cfg.warmup as u64).max(1) {
                s.quiet = 0;
                s.size_factor = (s.size_factor * 2.0).min(1.0);
            }
        }
        fired
    }

    /// Builds the theory packet for an alarm on `instrument`, stamped with `header`.
    pub fn packet(&self, header: &crate::records::Header, instrument: u32, a: &Alarm) -> TheoryPacket {
        let s = self.st.get(instrument as usize).copied().unwrap_or_default();
        TheoryPacket {
            header: crate::records::Header {
                kind: crate::records::Kind::Theory as u8,
                sub: a.detector as u8,
                side: 0,
                flags: 0,
                tsc: 0,
                instrument,
                ..*header
            },
            statistic: a.statistic,
            threshold: a.threshold,
            signal_mean: a.signal_mean,
            samples: a.samples,
            size_factor: s.size_factor,
            alarms: s.alarms,
            feature_means: s.feature_means,
            reserved: [0; 3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(warmup: u32) -> DriftConfig {
        DriftConfig {
            enabled: true,
            signal: DriftSignal::AbsReturn,
            warmup,
            ph_delta: 0.1,
            ph_lambda: 1e9,
            cusum_k: 0.5,
            cusum_h: 5.0,
        }
    }

    #[test]
    fn cusum_fires_where_the_arithmetic_says() {
        // Warm-up mean μ₀ = 1 (four samples of 1). Then x = 3: g grows by 3 − 1 − 0.5
        // = 1.5 per sample: 1.5, 3.0, 4.5, 6.0 > 5 → the 4th post-warm-up sample fires.
        let mut d = DriftSentry::new(&cfg(4), 1, false);
        let fv = FeatureVector::default();
        let mut fired_at = None;
        for t in 0..20 {
            let x = if t < 4 { 1.0 } else { 3.0 };
            for a in d.on_update(0, x, 0.0, &fv).into_iter().flatten() {
                if fired_at.is_none() {
                    fired_at = Some((t, a.detector, a.statistic));
                }
            }
        }
        let (t, det, stat) = fired_at.unwrap();
        assert_eq!((t, det), (7, Detector::Cusum));
        assert!((stat - 6.0).abs() < 1e-12);
        assert_eq!(
            d.size_factor(0),
            1.0 / 16.0,
            "alarms at 7, 11, 15 and 19: four halvings"
        );
        assert_eq!(d.alarms(0), 4);
        assert!(d.exploration_frozen());
    }

    #[test]
    fn a_disabled_sentry_never_fires_nor_scales_size() {
        // The CUSUM case above fires at the 8th sample; switched off, nothing.
        let mut c = cfg(4);
        c.enabled = false;
        let mut d = DriftSentry::new(&c, 1, false);
        let fv = FeatureVector::default();
        for t in 0..20 {
            let x = if t < 4 { 1.0 } else { 3.0 };
            assert_eq!(d.on_update(0, x, 0.0, &fv), [None, None], "sample {t}");
        }
        assert_eq!(d.size_factor(0), 1.0);
        assert!(!d.exploration_frozen());
    }

    #[test]
    fn page_hinkley_by_hand() {
        // No warm-up, δ = 0, λ = 2. Samples 0, 0, 4, 4:
        // t1: mean 0, m = 0; t2: mean 0, m = 0; t3: mean 4/3, m = 8/3, M = 0 → 2.67 > 2: fires.
        let mut c = cfg(0);
        c.ph_delta = 0.0;
        c.ph_lambda = 2.0;
        c.cusum_h = 1e9;
        let mut d = DriftSentry::new(&c, 1, false);
        let fv = FeatureVector::default();
        let mut hits = Vec::new();
        for (t, x) in [0.0, 0.0, 4.0, 4.0].into_iter().enumerate() {
            for a in d.on_update(0, x, 0.0, &fv).into_iter().flatten() {
                hits.push((t, a.detector, a.statistic));
            }
        }
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].0, hits[0].1), (2, Detector::PageHinkley));
        assert!((hits[0].2 - 8.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn auto_feedback_restores_size_after_quiet_samples() {
        // μ₀ = 1 after 4 samples of 1; a 3 fires CUSUM at once with h = 1 (g = 1.5).
        let mut c = cfg(4);
        c.cusum_h = 1.0;
        let fv = FeatureVector::default();
        for auto in [false, true] {
            let mut d = DriftSentry::new(&c, 1, auto);
            for x in [1.0, 1.0, 1.0, 1.0, 3.0] {
                d.on_update(0, x, 0.0, &fv);
            }
            assert_eq!(d.size_factor(0), 0.5);
            for _ in 0..4 {
                d.on_update(0, 1.0, 0.0, &fv); // quiet: x = μ₀
            }
            assert_eq!(d.size_factor(0), if auto { 1.0 } else { 0.5 }, "auto_feedback = {auto}");
        }
    }

    #[test]
    fn prediction_error_uses_the_previous_prediction() {
        let mut c = cfg(1);
        c.signal = DriftSignal::PredictionError;
        c.cusum_h = 0.75;
        c.cusum_k = 0.0;
        let mut d = DriftSentry::new(&c, 1, false);
        let fv = FeatureVector::default();
        let mut n = 0;
        // Predictions 2 then 2: returns 2 match (error 0, warm-up μ₀ = 0), then return −1
        // against prediction 2: error 3 > h → fires.
        for (r, p) in [(0.0, 2.0), (2.0, 2.0)] {
            n += d.on_update(0, r, p, &fv).iter().flatten().count();
        }
        assert_eq!(n, 0);
        n += d.on_update(0, -1.0, 2.0, &fv).iter().flatten().count();
        assert_eq!(n, 1);
    }

    proptest::proptest! {
        /// The theory packets' feature means are each feature's slow EWMA,
        /// seeded by its first value and skipping non-finite values, to the
        /// bit — computed here one feature at a time as the plain definition.
        #[test]
        fn feature_means_are_the_plain_ewma(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        -1e6f32..1e6,
                        proptest::strategy::Just(f32::NAN),
                        proptest::strategy::Just(f32::INFINITY),
                        proptest::strategy::Just(f32::NEG_INFINITY),
                    ],
                    crate::records::N_FEATURES,
                ),
                1..40,
            ),
        ) {
            let mut d = DriftSentry::new(&cfg(1_000_000), 1, false);
            let mut want = [0.0f32; THEORY_FEATURES];
            for (n, row) in rows.iter().enumerate() {
                let mut fv = FeatureVector::default();
                fv.values.copy_from_slice(row);
                d.on_update(0, 1.0, 0.0, &fv);
                for (j, &f) in crate::core::sensory::THEORY_SUMMARY.iter().enumerate() {
                    let v = row[f];
                    if v.is_finite() {
                        want[j] = if n == 0 { v } else { want[j] + 0.01 * (v - want[j]) };
                    }
                }
            }
            let a = Alarm { detector: Detector::Cusum, statistic: 0.0, threshold: 0.0, signal_mean: 0.0, samples: 0 };
            let got = d.packet(&crate::records::Header::default(), 0, &a).feature_means;
            for j in 0..THEORY_FEATURES {
                proptest::prop_assert_eq!(got[j].to_bits(), want[j].to_bits(), "feature {}", j);
            }
        }
    }
}
