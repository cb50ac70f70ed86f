//! Prices to tick indices without a division instruction.
//!
//! Every market-data event is checked against its instrument's tick and turned
//! into a tick index (`px % tick == 0`, then `px / tick`): a 64-bit divide,
//! 15–40 cycles, on every event of every book. The tick is fixed, so both
//! answers come from one multiplication by its inverse modulo 2^64 (exact
//! division, Granlund & Montgomery 1994; Hacker's Delight §10-16):
//!
//! - write `tick = d·2^s` with `d` odd, and let `inv = d⁻¹ mod 2^64`;
//! - `n ≥ 0` is a multiple of `tick` exactly when its low `s` bits are zero and
//!   `m = (n >> s)·inv mod 2^64` is at most `(2^64 − 1) / d` — multiplication by
//!   `inv` is a bijection of the 64-bit integers that sends `k·d` to `k`, so the
//!   multiples of `d` are the numbers sent below that bound;
//! - and then `m` is the quotient.

/// A positive tick, ready for [`TickGrid::index`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickGrid {
    tick: i64,
    shift: u32,
    inv: u64,
    max: u64,
}

impl Default for TickGrid {
    /// The grid of 1: every non-negative price.
    fn default() -> Self {
        TickGrid::new(1)
    }
}

impl TickGrid {
    /// The grid of `tick` (at least 1; a smaller one is taken as 1).
    pub fn new(tick: i64) -> Self {
        let tick = tick.max(1);
        let shift = tick.trailing_zeros();
        let d = (tick as u64) >> shift;
        // Newton's iteration doubles the correct low bits of an inverse of an
        // odd number: d·d ≡ 1 (mod 8) gives 3 bits, five steps give 96.
        let mut inv = d;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(d.wrapping_mul(inv)));
        }
        TickGrid {
            tick,
            shift,
            inv,
            max: u64::MAX / d,
        }
    }

    /// The tick.
    #[inline]
    pub fn tick(&self) -> i64 {
        self.tick
    }

    /// `px / tick` when `px` is a non-negative multiple of the tick; `None`
    /// when it is not on the grid (or negative).
    #[inline(always)]
    pub fn index(&self, px: i64) -> Option<i64> {
        if px < 0 {
            return None;
        }
        let n = px as u64;
        if n & ((1u64 << self.shift) - 1) != 0 {
            return None;
        }
        let m = (n >> self.shift).wrapping_mul(self.inv);
        // On the grid, m is the quotient n / tick ≤ n < 2^63: it fits an i64.
        (m <= self.max).then_some(m as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same answers as `%` and `/`, for any tick and any price —
        /// multiples, near misses, negatives, the extremes.
        #[test]
        fn index_is_division(tick in prop_oneof![1i64..1_000, 1i64..i64::MAX, Just(i64::MAX), (0u32..62).prop_map(|k| 1i64 << k)],
                             k in prop_oneof![0i64..1_000_000, any::<i64>()],
                             off in -2i64..3,
                             px in any::<i64>()) {
            let g = TickGrid::new(tick);
            for p in [px, k.wrapping_mul(tick).wrapping_add(off), k.saturating_mul(tick), i64::MAX, 0, -tick] {
                let want = (p >= 0 && p % tick == 0).then(|| p / tick);
                prop_assert_eq!(g.index(p), want, "tick {} px {}", tick, p);
            }
        }
    }

    #[test]
    fn small_cases() {
        let g = TickGrid::new(100);
        assert_eq!(g.index(1_099_900), Some(10_999));
        assert_eq!(g.index(1_099_950), None);
        assert_eq!(g.index(-100), None);
        assert_eq!(TickGrid::new(1).index(7), Some(7));
        assert_eq!(TickGrid::new(0).tick(), 1);
    }
}
