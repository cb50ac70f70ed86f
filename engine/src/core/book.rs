//! Price-level order book per instrument, maintained by ingest.
//!
//! The book is a *ladder*: two arrays of aggregated quantity indexed by tick offset
//! from a moving base, shared by both sides, plus an occupancy bitmap per side (one
//! bit per tick). An update is an array index and a bit flip (O(1)); the best price
//! moves in O(1) when a level appears at or inside the touch; when the best level
//! empties, or when depth is walked, the next non-empty level is found a 64-tick word
//! at a time with `leading_zeros`/`trailing_zeros`, so sparse books cost no more
//! than dense ones (the profile of `foxtrot sim` put 41% of the run in the tick-by-
//! tick scan this replaced). When a price falls outside the window, the window
//! is re-centred on it (O(window), rare); levels that fall off are counted, never
//! silently lost. Nothing allocates after [`Book::new`].
//!
//! The book trusts no feed: quantities that would go negative are clamped to zero,
//! off-tick prices and unknown actions are refused; each is reported as a
//! [`BookIssue`] and counted.

use super::tick_grid::TickGrid;
use crate::records::{MarketData, MdAction, Side};

/// A data-quality finding from applying one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookIssue {
    /// The price is not a multiple of the tick.
    OffTick,
    /// The price is zero or negative.
    BadPrice,
    /// The quantity is zero or negative where it must be positive (add, cancel,
    /// execute, quote is ≥ 0), or a modify changes nothing.
    BadQty,
    /// The action code or side is unknown.
    BadAction,
    /// A removal exceeded the level's quantity; the level was clamped to zero.
    NegativeLevel,
    /// The update moved the window and levels fell off its far edge.
    LevelsDropped,
    /// A level deeper than the window holds was ignored (it is not near the touch).
    OutOfWindow,
}

/// Counters of [`BookIssue`]s seen by one book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookCounters {
    /// Updates applied.
    pub updates: u64,
    /// Off-tick prices refused.
    pub off_tick: u64,
    /// Non-positive prices refused.
    pub bad_price: u64,
    /// Non-positive quantities refused.
    pub bad_qty: u64,
    /// Unknown actions or sides refused.
    pub bad_action: u64,
    /// Removals clamped at zero.
    pub negative_level: u64,
    /// Levels dropped by window moves.
    pub levels_dropped: u64,
    /// Window re-centrings.
    pub recentres: u64,
    /// Deep levels outside the window that were ignored.
    pub out_of_window: u64,
}

const NONE: i64 = i64::MIN;

/// The touch of one book: best bid and best ask with their quantities, and the
/// tick. It is what every stage after sensory needs of a book, so it travels with
/// each market-data input instead of the whole ladder. `Book::top` copies it out;
/// the accessors answer exactly as the book's own would.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Top {
    bid: Option<(i64, i64)>,
    ask: Option<(i64, i64)>,
    tick: i64,
}

impl Top {
    /// An empty touch for an instrument with tick size `tick`.
    pub fn empty(tick: i64) -> Self {
        Top {
            bid: None,
            ask: None,
            tick,
        }
    }

    /// Best bid as (price, quantity), if any.
    #[inline]
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.bid
    }

    /// Best ask as (price, quantity), if any.
    #[inline]
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.ask
    }

    /// The tick size.
    #[inline]
    pub fn tick(&self) -> i64 {
        self.tick
    }

    /// Twice the mid (exact for a mid between two ticks) when both sides
    /// exist and are not crossed: the one definition of a book's price that
    /// marks, price bands and reports read. A locked book's mid is its one
    /// price, as FX venues and consolidated feeds show locked quotes.
    #[inline]
    pub fn mid2(&self) -> Option<i64> {
        match (self.bid, self.ask) {
            (Some((b, _)), Some((a, _))) if b <= a => Some(b + a),
            _ => None,
        }
    }

    /// [`mid2`](Self::mid2) halved, in whole price units (a half tick
    /// rounded down): for the diary's records and markouts.
    #[inline]
    pub fn mid(&self) -> Option<i64> {
        self.mid2().map(|m| m / 2)
    }
}

/// One instrument's aggregated book.
pub struct Book {
    tick: i64,
    /// `tick`, for exact division by multiplication.
    grid: TickGrid,
    /// Tick index (price / tick) of ladder slot 0.
    base: i64,
    /// Window length in ticks; a power of two.
    width: usize,
    /// Quantity per level; index = tick index − base. Always ≥ 0.
    qty: [Box<[i64]>; 2],
    /// Occupancy: bit `i` of side `s` is set iff `qty[s][i] != 0`.
    occ: [Box<[u64]>; 2],
    /// Non-empty level count per side.
    levels: [usize; 2],
    /// Best tick index per side, or `NONE` when the side is empty.
    best: [i64; 2],
    counters: BookCounters,
}

impl Book {
    /// A book for an instrument with tick size `tick` (> 0) whose window spans `width`
    /// ticks (rounded up to a power of two, at least 64), initially centred on `ref_px`.
    pub fn new(tick: i64, ref_px: i64, width: usize) -> Self {
        let (tick, width, base) = Book::window(tick, ref_px, width);
        Book {
            tick,
            grid: TickGrid::new(tick),
            base,
            width,
            qty: [vec![0; width].into_boxed_slice(), vec![0; width].into_boxed_slice()],
            occ: [
                vec![0; width / 64].into_boxed_slice(),
                vec![0; width / 64].into_boxed_slice(),
            ],
            levels: [0; 2],
            best: [NONE; 2],
            counters: BookCounters::default(),
        }
    }

    /// The tick (at least 1), the window's length in ticks (a power of two, at
    /// least 64) and the tick index of its first slot of a new book for
    /// `tick`, `ref_px` and `width`.
    pub fn window(tick: i64, ref_px: i64, width: usize) -> (i64, usize, i64) {
        let tick = tick.max(1);
        let width = width.max(64).next_power_of_two();
        (tick, width, ref_px / tick - (width / 2) as i64)
    }

    /// A book whose window (see [`window`](Self::window)) starts at tick index
    /// `base`, with (price, quantity) levels `bid` and `ask` — what a
    /// [`QuoteTouch`](super::QuoteTouch) stands for. A level outside the
    /// window, off the grid or without a positive quantity is left out.
    pub fn with_touch(tick: i64, width: usize, base: i64, bid: Option<(i64, i64)>, ask: Option<(i64, i64)>) -> Self {
        let mut b = Book::new(tick, 0, width);
        b.base = base;
        for (side, level) in [(Side::Buy, bid), (Side::Sell, ask)] {
            if let Some((px, q)) = level {
                if q > 0 && px % b.tick == 0 && b.in_window(px / b.tick) {
                    b.add(side, px / b.tick, q);
                }
            }
        }
        b
    }

    /// Applies one market-data event. Trades do not change the book. On an issue the
    /// book stays consistent and the issue is counted; `LevelsDropped` and
    /// `NegativeLevel` are reported after the update was applied.
    #[inline]
    pub fn apply(&mut self, md: &MarketData) -> Result<(), BookIssue> {
        let action = match MdAction::from_u8(md.header.sub) {
            Some(MdAction::Trade) => return Ok(()),
            Some(a) => a,
            None => return self.issue(BookIssue::BadAction),
        };
        let side = match Side::from_u8(md.header.side) {
            Some(s) => s,
            None => return self.issue(BookIssue::BadAction),
        };
        if action == MdAction::Quote && md.qty == 0 {
            // A quote of nothing empties its side, whatever price it carries:
            // an undefined price (DBN's, a CSV's empty field) reads as 0.
            self.counters.updates += 1;
            self.clear_side(side);
            return Ok(());
        }
        if md.px <= 0 {
            return self.issue(BookIssue::BadPrice);
        }
        let Some(t) = self.grid.index(md.px) else {
            return self.issue(BookIssue::OffTick);
        };
        let qty_ok = match action {
            MdAction::Add | MdAction::Cancel | MdAction::Execute => md.qty > 0,
            MdAction::Modify => md.qty != 0,
            MdAction::Quote => md.qty >= 0,
            MdAction::Trade => true,
        };
        if !qty_ok {
            return self.issue(BookIssue::BadQty);
        }
        self.counters.updates += 1;
        let mut result = Ok(());
        if action == MdAction::Quote {
            let s = side.index();
            // The side's only level takes a new size, at its price or another
            // one in the window (most quote updates): what clearing the side
            // and adding the level back leaves, without the walk — the old
            // slot emptied, the new one set.
            if md.qty > 0 && self.levels[s] == 1 && self.in_window(t) {
                let (old, i) = (self.slot(self.best[s]), self.slot(t));
                self.qty[s][old] = 0;
                self.occ[s][old / 64] &= !(1 << (old % 64));
                self.qty[s][i] = md.qty;
                self.occ[s][i / 64] |= 1 << (i % 64);
                self.best[s] = t;
                return Ok(());
            }
            self.clear_side(side);
            if md.qty > 0 {
                result = self.ensure_in_window(side, t);
                if result != Err(BookIssue::OutOfWindow) {
                    self.add(side, t, md.qty);
                }
            }
            return result;
        }
        let delta = match action {
            MdAction::Add => md.qty,
            MdAction::Modify => md.qty,
            MdAction::Cancel | MdAction::Execute => -md.qty,
            MdAction::Quote | MdAction::Trade => 0,
        };
        if delta > 0 {
            result = self.ensure_in_window(side, t);
            if result != Err(BookIssue::OutOfWindow) {
                self.add(side, t, delta);
            }
        } else if delta < 0 {
            if !self.in_window(t) {
                // A removal at a deep level the window does not hold.
                return self.issue(BookIssue::OutOfWindow);
            }
            if self.remove(side, t, -delta) {
                return self.issue(BookIssue::NegativeLevel);
            }
        }
        result
    }

    #[inline]
    fn issue(&mut self, i: BookIssue) -> Result<(), BookIssue> {
        let c = &mut self.counters;
        match i {
            BookIssue::OffTick => c.off_tick += 1,
            BookIssue::BadPrice => c.bad_price += 1,
            BookIssue::BadQty => c.bad_qty += 1,
            BookIssue::BadAction => c.bad_action += 1,
            BookIssue::NegativeLevel => c.negative_level += 1,
            BookIssue::OutOfWindow => c.out_of_window += 1,
            BookIssue::LevelsDropped => {}
        }
        Err(i)
    }

    #[inline]
    fn in_window(&self, t: i64) -> bool {
        t >= self.base && t < self.base + self.width as i64
    }

    #[inline]
    fn slot(&self, t: i64) -> usize {
        debug_assert!(self.in_window(t));
        (t - self.base) as usize
    }

    #[inline]
    fn add(&mut self, side: Side, t: i64, q: i64) {
        let s = side.index();
        let i = self.slot(t);
        if self.qty[s][i] == 0 {
            self.levels[s] += 1;
            self.occ[s][i / 64] |= 1 << (i % 64);
        }
        self.qty[s][i] += q;
        let better = match side {
            Side::Buy => t > self.best[s],
            Side::Sell => self.best[s] == NONE || t < self.best[s],
        };
        if better {
            self.best[s] = t;
        }
    }

    /// Removes `q` at `t`; returns true if it had to clamp at zero.
    #[inline]
    fn remove(&mut self, side: Side, t: i64, q: i64) -> bool {
        let s = side.index();
        let i = self.slot(t);
        let have = self.qty[s][i];
        if have == 0 {
            return true;
        }
        let clamped = q > have;
        let left = if clamped { 0 } else { have - q };
        self.qty[s][i] = left;
        if left == 0 {
            self.levels[s] -= 1;
            self.occ[s][i / 64] &= !(1 << (i % 64));
            if self.best[s] == t {
                self.best[s] = self.scan_from(side, t);
            }
        }
        clamped
    }

    /// The next non-empty level strictly worse than `t`, or `NONE`.
    #[inline]
    fn scan_from(&self, side: Side, t: i64) -> i64 {
        let s = side.index();
        if self.levels[s] == 0 {
            return NONE;
        }
        let i = self.slot(t);
        let found = match side {
            Side::Buy => highest_below(&self.occ[s], i),
            Side::Sell => lowest_above(&self.occ[s], i),
        };
        found.map_or(NONE, |j| self.base + j as i64)
    }

    fn clear_side(&mut self, side: Side) {
        let s = side.index();
        while self.best[s] != NONE {
            let t = self.best[s];
            let i = self.slot(t);
            let q = self.qty[s][i];
            self.remove(side, t, q);
        }
    }

    /// Moves the window so that it is centred on `centre`; counts dropped levels.
    #[cold]
    fn recentre(&mut self, centre: i64) -> Result<(), BookIssue> {
        let new_base = centre - (self.width / 2) as i64;
        let shift = new_base - self.base;
        let w = self.width as i64;
        let mut dropped = 0u64;
        for s in 0..2 {
            let q = &mut self.qty[s];
            if shift.abs() >= w {
                dropped += q.iter().filter(|&&v| v != 0).count() as u64;
                q.fill(0);
            } else if shift > 0 {
                let k = shift as usize;
                dropped += q[..k].iter().filter(|&&v| v != 0).count() as u64;
                q.copy_within(k.., 0);
                let n = q.len();
                q[n - k..].fill(0);
            } else if shift < 0 {
                let k = (-shift) as usize;
                let n = q.len();
                dropped += q[n - k..].iter().filter(|&&v| v != 0).count() as u64;
                q.copy_within(..n - k, k);
                q[..k].fill(0);
            }
        }
        self.base = new_base;
        self.counters.recentres += 1;
        // Recount, rebuild the bitmaps and re-find the best levels from scratch: the
        // rare path may be slow.
        for side in [Side::Buy, Side::Sell] {
            let s = side.index();
            let q = &self.qty[s];
            for (w, word) in self.occ[s].iter_mut().enumerate() {
                *word = (0..64).filter(|b| q[w * 64 + b] != 0).fold(0u64, |acc, b| acc | 1 << b);
            }
            self.levels[s] = q.iter().filter(|&&v| v != 0).count();
            self.best[s] = match side {
                Side::Buy => q.iter().rposition(|&v| v != 0),
                Side::Sell => q.iter().position(|&v| v != 0),
            }
            .map_or(NONE, |i| self.base + i as i64);
        }
        if dropped > 0 {
            self.counters.levels_dropped += dropped;
            Err(BookIssue::LevelsDropped)
        } else {
            Ok(())
        }
    }

    /// Makes room for a level at `t` on `side`. The window moves only when `t` would
    /// be the new best of its side (the touch itself moved), centred between `t` and
    /// the other side's best; a deep level beyond the window is refused instead, so a
    /// stray far order can never push the real touch out.
    #[inline]
    fn ensure_in_window(&mut self, side: Side, t: i64) -> Result<(), BookIssue> {
        if self.in_window(t) {
            return Ok(());
        }
        let s = side.index();
        let own = self.best[s];
        let becomes_best = own == NONE
            || match side {
                Side::Buy => t > own,
                Side::Sell => t < own,
            };
        if !becomes_best {
            return self.issue(BookIssue::OutOfWindow);
        }
        let other = self.best[1 - s];
        let centre = if other == NONE { t } else { t + (other - t) / 2 };
        let r = self.recentre(centre);
        if self.in_window(t) {
            r
        } else {
            // The touch is wider than the window: keep the new touch, drop the rest.
            self.recentre(t).and(r)
        }
    }

    /// The touch, copied out.
    #[inline]
    pub fn top(&self) -> Top {
        Top {
            bid: self.best_bid(),
            ask: self.best_ask(),
            tick: self.tick,
        }
    }

    /// Best bid as (price, quantity), if any.
    #[inline]
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.best_of(Side::Buy)
    }

    /// Best ask as (price, quantity), if any.
    #[inline]
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.best_of(Side::Sell)
    }

    /// Best level of `side` as (price, quantity), if any.
    #[inline]
    pub fn best_of(&self, side: Side) -> Option<(i64, i64)> {
        let t = self.best[side.index()];
        if t == NONE {
            None
        } else {
            Some((t * self.tick, self.qty[side.index()][self.slot(t)]))
        }
    }

    /// Fills `out` with up to `out.len()` levels of `side`, best first, as (price,
    /// quantity); returns how many were written.
    pub fn depth(&self, side: Side, out: &mut [(i64, i64)]) -> usize {
        let n = out.len();
        match side {
            Side::Buy => self.write_levels(side, out, self.levels_of::<true>(n)),
            Side::Sell => self.write_levels(side, out, self.levels_of::<false>(n)),
        }
    }

    /// Writes `levels` (ladder slots of `side`) into `out` as (price,
    /// quantity); returns how many.
    fn write_levels(&self, side: Side, out: &mut [(i64, i64)], levels: impl Iterator<Item = usize>) -> usize {
        let qty = &self.qty[side.index()];
        let mut n = 0;
        for (o, i) in out.iter_mut().zip(levels) {
            *o = ((self.base + i as i64) * self.tick, qty[i]);
            n += 1;
        }
        n
    }

    /// The quantity resting at `px` on `side` (0 off the grid or outside the
    /// window).
    pub fn qty_at(&self, side: Side, px: i64) -> i64 {
        if px % self.tick != 0 || !self.in_window(px / self.tick) {
            return 0;
        }
        self.qty[side.index()][self.slot(px / self.tick)]
    }

    /// Total quantity in the best `n` levels of `side` (the levels [`depth`]
    /// lists).
    ///
    /// [`depth`]: Self::depth
    #[inline]
    pub fn depth_qty(&self, side: Side, n: usize) -> i64 {
        let qty = &self.qty[side.index()];
        match side {
            Side::Buy => self.levels_of::<true>(n).map(|i| qty[i]).sum(),
            Side::Sell => self.levels_of::<false>(n).map(|i| qty[i]).sum(),
        }
    }

    /// The best `n` non-empty levels of the bids (`BUY`) or the asks, best
    /// first, as ladder slots.
    #[inline]
    fn levels_of<const BUY: bool>(&self, n: usize) -> Levels<'_, BUY> {
        let s = if BUY { Side::Buy } else { Side::Sell }.index();
        let t = self.best[s];
        let (i, left) = if t == NONE {
            (0, 0)
        } else {
            (self.slot(t), self.levels[s].min(n))
        };
        let occ = &self.occ[s];
        Levels {
            occ,
            w: i / 64,
            // The best level's word, without the bits on the wrong side of it.
            word: match (left, BUY) {
                (0, _) => 0,
                (_, true) => occ[i / 64] & (u64::MAX >> (63 - i % 64)),
                (_, false) => occ[i / 64] & (u64::MAX << (i % 64)),
            },
            left,
        }
    }

    /// Number of non-empty levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.levels[side.index()]
    }

    /// True when both sides exist and bid ≥ ask.
    pub fn is_crossed_or_locked(&self) -> bool {
        let (b, a) = (self.best[0], self.best[1]);
        b != NONE && a != NONE && b >= a
    }

    /// The tick size.
    pub fn tick(&self) -> i64 {
        self.tick
    }

    /// Data-quality and activity counters.
    pub fn counters(&self) -> &BookCounters {
        &self.counters
    }
}

/// The non-empty levels of one side, best first, as ladder slots: the
/// occupancy words walked from the best level, one bit scan per level, and
/// no further than the side's last level (a side of one level does not scan
/// the rest of the window for more).
/// Bids (`BUY`) walk down from the highest bit, asks up from the lowest.
struct Levels<'a, const BUY: bool> {
    occ: &'a [u64],
    /// The word being walked, and what is left of it.
    w: usize,
    word: u64,
    /// Levels still to give.
    left: usize,
}

impl<const BUY: bool> Iterator for Levels<'_, BUY> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        loop {
            if self.word != 0 {
                let b = if BUY {
                    63 - self.word.leading_zeros() as usize
                } else {
                    self.word.trailing_zeros() as usize
                };
                self.word &= !(1u64 << b);
                self.left -= 1;
                return Some(self.w * 64 + b);
            }
            if BUY {
                self.w = self.w.checked_sub(1)?;
            } else {
                self.w += 1;
            }
            self.word = *self.occ.get(self.w)?;
        }
    }
}

/// Highest set bit index strictly below `i`, if any.
#[inline]
fn highest_below(bits: &[u64], i: usize) -> Option<usize> {
    if i == 0 {
        return None;
    }
    let j = i - 1;
    let mut w = j / 64;
    let mut word = bits[w] & (u64::MAX >> (63 - j % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + 63 - word.leading_zeros() as usize);
        }
        if w == 0 {
            return None;
        }
        w -= 1;
        word = bits[w];
    }
}

/// Lowest set bit index strictly above `i`, if any.
#[inline]
fn lowest_above(bits: &[u64], i: usize) -> Option<usize> {
    let j = i + 1;
    let mut w = j / 64;
    if w >= bits.len() {
        return None;
    }
    let mut word = bits[w] & (u64::MAX << (j % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        if w == bits.len() {
            return None;
        }
        word = bits[w];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::MdAction::*;

    #[test]
    fn bit_scans_match_a_linear_search() {
        let mut rng = crate::rng::SeededRng::new(4);
        for _ in 0..200 {
            let bits: Vec<u64> = (0..4)
                .map(|_| rng.next_u64() & rng.next_u64() & rng.next_u64())
                .collect();
            let set = |k: usize| bits[k / 64] >> (k % 64) & 1 == 1;
            for i in 0..256 {
                assert_eq!(highest_below(&bits, i), (0..i).rev().find(|&k| set(k)), "below {i}");
                assert_eq!(lowest_above(&bits, i), (i + 1..256).find(|&k| set(k)), "above {i}");
            }
        }
    }

    /// A ladder against a sorted-map book under random flow: best prices, depth and
    /// level counts always agree.
    #[test]
    fn matches_a_reference_book_under_random_flow() {
        use std::collections::BTreeMap;
        let mut rng = crate::rng::SeededRng::new(11);
        let mut b = Book::new(1, 1000, 128);
        let mut r: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
        for _ in 0..20_000 {
            let side = if rng.chance(0.5) { Side::Buy } else { Side::Sell };
            let px = match side {
                Side::Buy => 999 - rng.below(40) as i64,
                Side::Sell => 1001 + rng.below(40) as i64,
            };
            let m = &mut r[side.index()];
            if rng.chance(0.15) {
                // A quote: the side becomes this one level (often at the price
                // it already had: the fast path), or empty at size 0.
                let px = match m.keys().next_back().filter(|_| rng.chance(0.5)) {
                    Some(&p) if side == Side::Buy => p,
                    Some(_) => *m.keys().next().unwrap(),
                    None => px,
                };
                let q = rng.below(9) as i64;
                b.apply(&ev(Quote, side, px, q)).unwrap();
                m.clear();
                if q > 0 {
                    m.insert(px, q);
                }
            } else if rng.chance(0.55) || !m.contains_key(&px) {
                let q = 1 + rng.below(9) as i64;
                b.apply(&ev(Add, side, px, q)).unwrap();
                *m.entry(px).or_default() += q;
            } else {
                let have = m[&px];
                let q = 1 + rng.below(have as u64) as i64;
                b.apply(&ev(Cancel, side, px, q)).unwrap();
                *m.get_mut(&px).unwrap() -= q;
                if m[&px] == 0 {
                    m.remove(&px);
                }
            }
            assert_eq!(b.best_bid(), r[0].iter().next_back().map(|(p, q)| (*p, *q)));
            assert_eq!(b.best_ask(), r[1].iter().next().map(|(p, q)| (*p, *q)));
            assert_eq!(b.level_count(Side::Buy), r[0].len());
            assert_eq!(b.depth_qty(Side::Sell, 5), r[1].values().take(5).sum::<i64>());
            assert_eq!(b.depth_qty(Side::Buy, 5), r[0].values().rev().take(5).sum::<i64>());
        }
    }

    fn ev(a: MdAction, side: Side, px: i64, qty: i64) -> MarketData {
        MarketData::new(a, 0, Some(side), 1, 0, px, qty, 0)
    }

    #[test]
    fn a_quote_of_nothing_empties_its_side_whatever_its_price() {
        let mut b = Book::new(5, 10_000, 256);
        b.apply(&ev(Quote, Side::Buy, 9_995, 10)).unwrap();
        b.apply(&ev(Quote, Side::Sell, 10_005, 7)).unwrap();
        // An undefined price (DBN's, an empty CSV field) arrives as 0; an
        // off-tick one with no size empties the side as well.
        b.apply(&ev(Quote, Side::Sell, 0, 0)).unwrap();
        assert_eq!((b.best_bid(), b.best_ask()), (Some((9_995, 10)), None));
        b.apply(&ev(Quote, Side::Buy, 9_993, 0)).unwrap();
        assert_eq!(b.best_bid(), None);
        assert_eq!((b.counters().bad_price, b.counters().off_tick), (0, 0));
        // A quote of something still needs a price on the grid.
        assert!(b.apply(&ev(Quote, Side::Buy, 0, 5)).is_err());
    }

    #[test]
    fn best_prices_follow_adds_and_removals() {
        let mut b = Book::new(5, 10_000, 256);
        b.apply(&ev(Add, Side::Buy, 9_995, 10)).unwrap();
        b.apply(&ev(Add, Side::Buy, 9_990, 20)).unwrap();
        b.apply(&ev(Add, Side::Sell, 10_005, 7)).unwrap();
        b.apply(&ev(Add, Side::Sell, 10_020, 3)).unwrap();
        assert_eq!(b.best_bid(), Some((9_995, 10)));
        assert_eq!(b.best_ask(), Some((10_005, 7)));
        b.apply(&ev(Execute, Side::Buy, 9_995, 4)).unwrap();
        assert_eq!(b.best_bid(), Some((9_995, 6)));
        b.apply(&ev(Cancel, Side::Buy, 9_995, 6)).unwrap();
        assert_eq!(b.best_bid(), Some((9_990, 20)));
        b.apply(&ev(Cancel, Side::Sell, 10_005, 7)).unwrap();
        assert_eq!(b.best_ask(), Some((10_020, 3)));
        b.apply(&ev(Modify, Side::Sell, 10_020, -1)).unwrap();
        assert_eq!(b.best_ask(), Some((10_020, 2)));
        b.apply(&ev(Cancel, Side::Sell, 10_020, 2)).unwrap();
        assert_eq!(b.best_ask(), None);
        assert_eq!(b.level_count(Side::Sell), 0);
    }

    #[test]
    fn depth_lists_levels_best_first() {
        let mut b = Book::new(1, 100, 64);
        for (px, q) in [(98, 1), (99, 2), (95, 3)] {
            b.apply(&ev(Add, Side::Buy, px, q)).unwrap();
        }
        let mut out = [(0, 0); 5];
        assert_eq!(b.depth(Side::Buy, &mut out), 3);
        assert_eq!(&out[..3], &[(99, 2), (98, 1), (95, 3)]);
        assert_eq!(b.depth_qty(Side::Buy, 2), 3);
    }

    proptest::proptest! {
        /// `depth` and `depth_qty` give the best `n` levels a plain scan of
        /// the whole ladder finds, on books built by any adds, cancels and
        /// executes, across occupancy-word boundaries.
        #[test]
        fn depth_and_depth_qty_give_the_best_levels_a_scan_finds(
            ops in proptest::collection::vec((0u8..3, proptest::bool::ANY, 900i64..1100, 1i64..50), 1..300),
            n in 0usize..12,
        ) {
            let mut b = Book::new(1, 1000, 256);
            for (op, buy, px, q) in ops {
                let side = if buy { Side::Buy } else { Side::Sell };
                let act = [Add, Cancel, Execute][op as usize];
                let _ = b.apply(&ev(act, side, px, q));
            }
            for side in [Side::Buy, Side::Sell] {
                // The plain answer: every slot of the ladder looked at, best first.
                let q = &b.qty[side.index()];
                let mut want: Vec<(i64, i64)> = (0..q.len())
                    .filter(|&i| q[i] != 0)
                    .map(|i| ((b.base + i as i64) * b.tick, q[i]))
                    .collect();
                if side == Side::Buy {
                    want.reverse();
                }
                want.truncate(n);
                let mut out = vec![(0, 0); n];
                let k = b.depth(side, &mut out);
                proptest::prop_assert_eq!(&out[..k], &want[..]);
                proptest::prop_assert_eq!(b.depth_qty(side, n), want.iter().map(|l| l.1).sum::<i64>());
            }
        }
    }

    #[test]
    fn bad_input_is_counted_not_applied() {
        let mut b = Book::new(5, 1000, 64);
        assert_eq!(b.apply(&ev(Add, Side::Buy, 1002, 1)), Err(BookIssue::OffTick));
        assert_eq!(b.apply(&ev(Add, Side::Buy, 0, 1)), Err(BookIssue::BadPrice));
        let mut m = ev(Add, Side::Buy, 1000, 1);
        m.header.sub = 99;
        assert_eq!(b.apply(&m), Err(BookIssue::BadAction));
        m.header.sub = Add as u8;
        m.header.side = 0;
        assert_eq!(b.apply(&m), Err(BookIssue::BadAction));
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.apply(&ev(Add, Side::Buy, 1000, -4)), Err(BookIssue::BadQty));
        assert_eq!(b.apply(&ev(Cancel, Side::Buy, 1000, 0)), Err(BookIssue::BadQty));
        b.apply(&ev(Add, Side::Buy, 1000, 3)).unwrap();
        assert_eq!(b.apply(&ev(Cancel, Side::Buy, 1000, 5)), Err(BookIssue::NegativeLevel));
        assert_eq!(b.best_bid(), None);
        let c = b.counters();
        assert_eq!((c.off_tick, c.bad_price, c.bad_action, c.negative_level), (1, 1, 2, 1));
    }

    #[test]
    fn deep_levels_outside_the_window_are_ignored() {
        let mut b = Book::new(1, 1000, 64); // window [968, 1032)
        b.apply(&ev(Add, Side::Buy, 999, 1)).unwrap();
        b.apply(&ev(Add, Side::Sell, 1001, 1)).unwrap();
        assert_eq!(b.apply(&ev(Add, Side::Sell, 1100, 5)), Err(BookIssue::OutOfWindow));
        assert_eq!(b.apply(&ev(Cancel, Side::Sell, 1100, 5)), Err(BookIssue::OutOfWindow));
        assert_eq!(b.best_ask(), Some((1001, 1)));
        assert_eq!(b.counters().out_of_window, 2);
        assert_eq!(b.counters().recentres, 0);
    }

    #[test]
    fn window_follows_the_touch_and_counts_dropped_levels() {
        let mut b = Book::new(1, 1000, 64); // window [968, 1032)
        b.apply(&ev(Add, Side::Buy, 970, 1)).unwrap();
        b.apply(&ev(Add, Side::Buy, 1020, 1)).unwrap();
        b.apply(&ev(Add, Side::Sell, 1030, 1)).unwrap();
        // The bid moves up past the window edge. Centre between 1040 and the ask 1030
        // (1035) → window [1003, 1067): 970 drops, 1020 and 1030 stay.
        assert_eq!(b.apply(&ev(Add, Side::Buy, 1040, 2)), Err(BookIssue::LevelsDropped));
        assert_eq!(b.best_bid(), Some((1040, 2)));
        assert_eq!(b.best_ask(), Some((1030, 1)));
        assert_eq!(b.level_count(Side::Buy), 2);
        assert_eq!(b.counters().levels_dropped, 1);
        // An empty book re-centres on the first level wherever it is.
        let mut e = Book::new(1, 1000, 64);
        assert_eq!(e.apply(&ev(Add, Side::Sell, 5000, 1)), Ok(()));
        assert_eq!(e.best_ask(), Some((5000, 1)));
    }

    #[test]
    fn quote_replaces_the_side() {
        let mut b = Book::new(1, 100, 64);
        b.apply(&ev(Quote, Side::Buy, 99, 10)).unwrap();
        b.apply(&ev(Quote, Side::Buy, 98, 4)).unwrap();
        assert_eq!(b.best_bid(), Some((98, 4)));
        assert_eq!(b.level_count(Side::Buy), 1);
        b.apply(&ev(Quote, Side::Buy, 98, 0)).unwrap();
        assert_eq!(b.best_bid(), None);
    }

    #[test]
    fn crossed_book_is_reported() {
        let mut b = Book::new(1, 100, 64);
        b.apply(&ev(Add, Side::Buy, 101, 1)).unwrap();
        b.apply(&ev(Add, Side::Sell, 100, 1)).unwrap();
        assert!(b.is_crossed_or_locked());
    }
}
