//! The price grid of an instrument, inferred from its data: the tick (the
//! greatest common divisor of every price seen) and the range, so that a book
//! over the data neither rejects valid sub-penny prices nor allocates a window
//! far wider than the prices span.

/// What a pass over the data saw of one instrument's prices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PriceGrid {
    gcd: i64,
    /// `gcd`, for the membership test of every price without a division.
    on: TickGrid,
    min: i64,
    max: i64,
}

use foxtrot_engine::core::TickGrid;

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The widest book window inferred (ticks): 2^20 (16 MiB of ladder per side).
pub const MAX_WINDOW: usize = 1 << 20;

impl PriceGrid {
    /// Sees one price (non-positive prices are not on any grid: ignored).
    #[inline]
    pub fn observe(&mut self, px: i64) {
        if px <= 0 {
            return;
        }
        if self.gcd == 0 {
            (self.gcd, self.min, self.max) = (px, px, px);
            self.on = TickGrid::new(px);
            return;
        }
        // Nearly every price is on the grid found so far: one multiplication.
        if self.on.index(px).is_none() {
            self.gcd = gcd(self.gcd, px);
            self.on = TickGrid::new(self.gcd);
        }
        self.min = self.min.min(px);
        self.max = self.max.max(px);
    }

    /// What `self` and `other` saw together (as if one pass had seen both).
    pub fn merge(&mut self, other: &PriceGrid) {
        if other.gcd == 0 {
            return;
        }
        if self.gcd == 0 {
            *self = *other;
            return;
        }
        self.gcd = gcd(self.gcd, other.gcd);
        self.on = TickGrid::new(self.gcd);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Whether a price was seen.
    pub fn is_empty(&self) -> bool {
        self.gcd == 0
    }

    /// The coarsest tick every price seen is a multiple of, at most `cap` (a
    /// grid coarser than the instrument's usual tick is a coincidence of few
    /// prices): the largest divisor of the prices' gcd that is ≤ `cap`.
    pub fn tick(&self, cap: i64) -> i64 {
        if self.gcd == 0 {
            return 1;
        }
        let cap = cap.max(1);
        if self.gcd <= cap {
            return self.gcd;
        }
        (1..=cap).rev().find(|d| self.gcd % d == 0).unwrap_or(1)
    }

    /// A book window (ticks) holding every price seen at `tick`, with room
    /// either side, up to [`MAX_WINDOW`].
    pub fn window(&self, tick: i64) -> usize {
        if self.gcd == 0 {
            return 4096;
        }
        let span = ((self.max - self.min) / tick.max(1)) as usize;
        (span * 2 + 256).clamp(256, MAX_WINDOW)
    }

    /// The lowest and highest prices seen.
    pub fn range(&self) -> Option<(i64, i64)> {
        (self.gcd != 0).then_some((self.min, self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_is_the_prices_gcd_within_the_cap() {
        let mut g = PriceGrid::default();
        for px in [1_234_500, 1_234_600, 1_235_000] {
            g.observe(px);
        }
        assert_eq!(g.tick(100), 100);
        // A sub-penny price: the grid is finer.
        g.observe(1_234_567);
        assert_eq!(g.tick(100), 1);
        let mut h = PriceGrid::default();
        h.observe(5_000_000);
        h.observe(6_000_000);
        // gcd 1,000,000; capped at a cent: the largest divisor ≤ 100.
        assert_eq!(h.tick(100), 100);
        assert_eq!(h.window(100), 20_256);
        assert_eq!(PriceGrid::default().tick(100), 1);
    }
}
