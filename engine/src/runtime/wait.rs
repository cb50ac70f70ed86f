//! Idle strategies: what a stage thread does when a pass over its rings found no
//! work. A stage loop has one shape — do work, count it, let the idle strategy
//! decide — as in Agrona's `IdleStrategy`.

use crate::config::WaitStrategy;
use std::time::Duration;

/// Spins before a `spin_then_yield` or `park` thread starts yielding.
const SPINS: u32 = 200;
/// Yields before a `park` thread parks.
const YIELDS: u32 = 50;

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
                if self.idle_passes < SPINS {
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
