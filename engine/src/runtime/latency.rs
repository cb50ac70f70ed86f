//! Latency measurement with the TSC (`quanta`) into an HDR histogram.
//!
//! Only the runtime reads this clock; the core copies the ingest stamp through
//! `Header::tsc` and never looks at it.

use hdrhistogram::Histogram;

/// Records intervals between a raw TSC stamp and now, in nanoseconds.
pub struct LatencyRecorder {
    clock: quanta::Clock,
    hist: Histogram<u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// A recorder for 1 ns .. 10 s with 3 significant digits (allocated here, once).
    pub fn new() -> Self {
        LatencyRecorder {
            clock: quanta::Clock::new(),
            hist: Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("static histogram bounds are valid"),
        }
    }
    /// A raw stamp (cheap: one `rdtsc` where available).
    #[inline]
    pub fn stamp(&self) -> u64 {
        self.clock.raw()
    }
    /// Records now − `start` (a raw stamp).
    #[inline]
    pub fn record_since(&mut self, start: u64) {
        let ns = self.clock.delta_as_nanos(start, self.clock.raw());
        self.hist.saturating_record(ns.max(1));
    }
    /// The histogram.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }
    /// (p50, p99, p99.9, max) in ns; zeros when empty.
    pub fn percentiles(&self) -> [u64; 4] {
        percentiles(&self.hist)
    }
}

/// (p50, p99, p99.9, max) of `h`; zeros when empty.
pub fn percentiles(h: &Histogram<u64>) -> [u64; 4] {
    if h.is_empty() {
        return [0; 4];
    }
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
    ]
}
