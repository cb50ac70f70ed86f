//! Order → acknowledgement latency over FIX: the time from writing an order to
//! the session until the venue's first answer to it (New, Rejected, a fill,
//! Canceled or a cancel reject), on the link's monotonic clock.
//!
//! Send times sit in a fixed table indexed by ClOrdID (a later order in the same
//! slot replaces an unanswered one, which is then not measured): no allocation
//! after construction.

use hdrhistogram::Histogram;

const SLOTS: usize = 4096;

/// Send times and the latency histogram.
pub struct AckClock {
    sent: Box<[(u64, u64)]>,
    hist: Histogram<u64>,
    /// Orders written and not yet answered (an order whose slot a later one
    /// took is no longer counted).
    outstanding: u32,
    /// When the last order was written.
    last_sent_ns: u64,
}

impl Default for AckClock {
    fn default() -> Self {
        AckClock {
            sent: vec![(u64::MAX, 0); SLOTS].into_boxed_slice(),
            hist: Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds"),
            outstanding: 0,
            last_sent_ns: 0,
        }
    }
}

impl AckClock {
    /// Order `cl` written at `now_ns`.
    #[inline]
    pub fn sent(&mut self, cl: u64, now_ns: u64) {
        let slot = &mut self.sent[(cl as usize) % SLOTS];
        if slot.0 == u64::MAX {
            self.outstanding += 1;
        }
        *slot = (cl, now_ns);
        self.last_sent_ns = now_ns;
    }

    /// Whether an answer is due: an order is unanswered and the last one was
    /// written less than `window_ns` before `now_ns`.
    #[inline]
    pub fn awaiting(&self, now_ns: u64, window_ns: u64) -> bool {
        self.outstanding > 0 && now_ns.saturating_sub(self.last_sent_ns) < window_ns
    }

    /// An answer about `cl` at `now_ns`: records its latency if it is the
    /// first. Returns whether one was recorded.
    #[inline]
    pub fn answered(&mut self, cl: u64, now_ns: u64) -> bool {
        let slot = &mut self.sent[(cl as usize) % SLOTS];
        if slot.0 != cl {
            return false;
        }
        let (_, at) = std::mem::replace(slot, (u64::MAX, 0));
        self.outstanding -= 1;
        self.hist.saturating_record(now_ns.saturating_sub(at).max(1));
        true
    }

    /// Acknowledgements measured.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// count, p50, p99, p99.9, max (ns).
    pub fn summary(&self) -> [u64; 5] {
        let h = &self.hist;
        if h.is_empty() {
            return [0; 5];
        }
        [
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_answers_are_measured_once() {
        let mut c = AckClock::default();
        c.sent(17, 1_000);
        c.sent(18, 1_000);
        assert!(c.answered(17, 6_000));
        assert!(!c.answered(17, 9_000), "a second report is not an acknowledgement");
        assert!(!c.answered(99, 9_000), "never sent");
        // Same slot, later order: the earlier is no longer measured.
        c.sent(18 + SLOTS as u64, 2_000);
        assert!(!c.answered(18, 3_000));
        assert!(c.answered(18 + SLOTS as u64, 4_000));
        let s = c.summary();
        assert_eq!(s[0], 2);
        assert!((4_990..=5_010).contains(&s[4]), "{s:?}");
    }

    #[test]
    fn an_answer_is_awaited_within_the_window_after_the_last_send() {
        let mut c = AckClock::default();
        assert!(!c.awaiting(0, 1_000), "nothing sent");
        c.sent(1, 10_000);
        c.sent(2, 10_500);
        assert!(c.awaiting(11_000, 1_000));
        assert!(!c.awaiting(11_500, 1_000), "the window is over");
        assert!(c.answered(1, 10_800));
        assert!(c.awaiting(10_900, 1_000), "order 2 is still unanswered");
        assert!(c.answered(2, 10_900));
        assert!(!c.awaiting(10_950, 1_000), "everything answered");
        // An order whose slot a later one takes is not awaited twice.
        c.sent(3, 20_000);
        c.sent(3 + SLOTS as u64, 20_100);
        assert!(c.answered(3 + SLOTS as u64, 20_200));
        assert!(!c.awaiting(20_300, 1_000));
    }
}
