//! Idle strategies: what a stage thread does when a pass over its rings found no
//! work. A stage loop has one shape — do work, count it, let the idle strategy
//! decide — as in Agrona's `IdleStrategy`.

use crate::config::WaitStrategy;
use std::time::Duration;

/// Spins before a `spin_then_yield` or `park` thread starts yielding.
const SPINS: u32 = 200;
/// Yields before a `park` thread parks.
const YIELDS: u32 = 50;
/// Idle passes before a `park` thread whose link can wait on its sockets
/// does so: a pass of such a link polls its sockets (system calls), so
/// spinning over it keeps a core busy for little.
const PASSES_BEFORE_WAIT: u32 = 4;

/// One thread's idle state.
#[derive(Clone, Debug)]
pub struct Idle {
    strategy: WaitStrategy,
    idle_passes: u32,
    parks: u64,
}

impl Idle {
    /// An idle strategy in its initial (just worked) state.
    pub fn new(strategy: WaitStrategy) -> Self {
        Idle {
            strategy,
            idle_passes: 0,
            parks: 0,
        }
    }

    /// Called after each pass with the amount of work it did. Work resets the
    /// back-off; no work spins, yields or parks according to the strategy. A
    /// parked thread wakes when a producer unparks it, or after at most 1 ms.
    #[inline]
    pub fn idle(&mut self, work: usize) {
        self.idle_or_wait(work, &mut |_| false)
    }

    /// As [`idle`](Self::idle), but once the `park` strategy's spins are over,
    /// `wait` is offered a timeout (62 µs, doubling while idle, up to ~1 ms):
    /// a link that can block on its sockets until input arrives does so, in
    /// place of the yields and the park; if `wait` declines, yields and park
    /// as before.
    #[inline]
    pub fn idle_or_wait(&mut self, work: usize, wait: &mut dyn FnMut(Duration) -> bool) {
        if work > 0 {
            self.idle_passes = 0;
            return;
        }
        self.idle_passes = self.idle_passes.saturating_add(1);
        match self.strategy {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            WaitStrategy::SpinThenYield => {
                if self.idle_passes < SPINS {
                    std::hint::spin_loop()
                } else {
                    std::thread::yield_now()
                }
            }
            WaitStrategy::Park => {
                if self.idle_passes >= PASSES_BEFORE_WAIT && {
                    // A link that can block until its input arrives is waited
                    // on (no spins nor yields: they keep a core busy that the
                    // venue, or the other stages, could use).
                    let backoff = (self.idle_passes - PASSES_BEFORE_WAIT).min(4);
                    wait(Duration::from_micros(62 << backoff))
                } {
                    self.parks += 1;
                } else if self.idle_passes < SPINS {
                    std::hint::spin_loop()
                } else if self.idle_passes < SPINS + YIELDS {
                    std::thread::yield_now()
                } else {
                    self.parks += 1;
                    let backoff = (self.idle_passes - SPINS - YIELDS).min(4);
                    std::thread::park_timeout(Duration::from_micros(62 << backoff));
                }
            }
        }
    }

    /// Times this thread parked.
    pub fn parks(&self) -> u64 {
        self.parks
    }
}

#[cfg(test)]
mod wait_tests {
    use super::*;

    /// `park` with a link that can wait: a few idle passes, then the link is
    /// offered 62 µs, doubling to ~1 ms while idle; work resets it. Other
    /// strategies never offer it (they spin or yield).
    #[test]
    fn an_idle_park_thread_waits_on_its_link_with_a_growing_timeout() {
        let mut offered = Vec::new();
        let mut idle = Idle::new(WaitStrategy::Park);
        for _ in 0..10 {
            idle.idle_or_wait(0, &mut |d| {
                offered.push(d.as_micros());
                true
            });
        }
        // Passes 1-3 spin; from the 4th every idle pass waits.
        assert_eq!(offered, [62, 124, 248, 496, 992, 992, 992]);
        assert_eq!(idle.parks(), 7);
        idle.idle_or_wait(1, &mut |_| panic!("work never waits"));
        let mut again = 0;
        for _ in 0..5 {
            idle.idle_or_wait(0, &mut |_| {
                again += 1;
                true
            });
        }
        assert_eq!(again, 2, "after work, three passes spin again before waiting");
        let mut spin = Idle::new(WaitStrategy::BusySpin);
        for _ in 0..1000 {
            spin.idle_or_wait(0, &mut |_| panic!("busy_spin never waits"));
        }
    }
}
