//! Performance statistics of an equity curve, as pure functions.
//!
//! The curve is sampled on the run's timer ticks (control time), then resampled to
//! the last value in each interval of `interval_s` seconds; returns are the PnL
//! changes between consecutive intervals (currency, not percent: the engine has no
//! capital base). Sharpe and Sortino are annualised with √(intervals per trading
//! year), a trading year being 252 days of 6.5 hours.

/// The shortest run (seconds of event time: one 6.5-hour trading day) whose
/// Sharpe and Sortino are annualised and shown. Scaling minutes of one-second
/// PnL changes to a year multiplies noise by √(year / sample) and reads as a
/// figure it is not; shorter runs show none (said so in the report).
pub const MIN_ANNUALISED_S: f64 = 6.5 * 3600.0;

/// Seconds in a trading year (252 days × 6.5 h).
pub const TRADING_YEAR_S: f64 = 252.0 * 6.5 * 3600.0;

/// The last value in each `interval_s`-second bucket of `(t_s, value)` samples
/// (sorted by time), from the first sample's bucket to the last's; empty buckets
/// carry the previous value forward.
pub fn resample(samples: &[(f64, f64)], interval_s: f64) -> Vec<f64> {
    let Some(&(t0, _)) = samples.first() else {
        return Vec::new();
    };
    let mut out: Vec<f64> = Vec::new();
    for &(t, v) in samples {
        let k = ((t - t0) / interval_s).floor() as usize;
        while out.len() <= k {
            let carry = out.last().copied().unwrap_or(v);
            out.push(carry);
        }
        out[k] = v;
    }
    out
}

/// Consecutive differences.
pub fn changes(v: &[f64]) -> Vec<f64> {
    v.windows(2).map(|w| w[1] - w[0]).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// mean / sample standard deviation × √periods_per_year; `None` with fewer than
/// two changes or no variation.
pub fn sharpe(changes: &[f64], periods_per_year: f64) -> Option<f64> {
    if changes.len() < 2 {
        return None;
    }
    let m = mean(changes);
    let var = changes.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (changes.len() - 1) as f64;
    (var > 0.0).then(|| m / var.sqrt() * periods_per_year.sqrt())
}

/// mean / downside deviation (√ of the mean of squared negative changes, zero
/// target) × √periods_per_year; `None` with fewer than two changes or no losses.
pub fn sortino(changes: &[f64], periods_per_year: f64) -> Option<f64> {
    if changes.len() < 2 {
        return None;
    }
    let down = changes.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / changes.len() as f64;
    (down > 0.0).then(|| mean(changes) / down.sqrt() * periods_per_year.sqrt())
}

/// Drawdown from the running peak at every sample (≥ 0), and its maximum.
pub fn drawdowns(values: &[f64]) -> (Vec<f64>, f64) {
    let mut peak = f64::NEG_INFINITY;
    let mut max = 0.0f64;
    let dd = values
        .iter()
        .map(|&v| {
            peak = peak.max(v);
            let d = peak - v;
            max = max.max(d);
            d
        })
        .collect();
    (dd, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_keeps_the_last_value_per_bucket_and_carries_gaps() {
        let s = [(10.0, 1.0), (10.4, 2.0), (11.2, 3.0), (13.9, 5.0)];
        assert_eq!(resample(&s, 1.0), vec![2.0, 3.0, 3.0, 5.0]);
    }

    #[test]
    fn sharpe_and_sortino_match_hand_computation() {
        // changes 1, -1, 3: mean 1, sample variance ((0)²+(−2)²+(2)²)/2 = 4, sd 2.
        let c = [1.0, -1.0, 3.0];
        assert!((sharpe(&c, 4.0).unwrap() - 1.0).abs() < 1e-12); // 1/2 × √4
                                                                 // downside: squares of negatives 1 over 3 samples → √(1/3).
        let want = 1.0 / (1.0f64 / 3.0).sqrt() * 2.0;
        assert!((sortino(&c, 4.0).unwrap() - want).abs() < 1e-12);
        assert_eq!(sharpe(&[1.0, 1.0], 1.0), None);
        assert_eq!(sortino(&[1.0, 2.0], 1.0), None);
        assert_eq!(sharpe(&[1.0], 1.0), None);
    }

    #[test]
    fn drawdown_is_distance_from_the_running_peak() {
        let (dd, max) = drawdowns(&[0.0, 5.0, 2.0, 6.0, 1.0, 3.0]);
        assert_eq!(dd, vec![0.0, 0.0, 3.0, 0.0, 5.0, 3.0]);
        assert_eq!(max, 5.0);
    }
}
