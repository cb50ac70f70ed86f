//! The touch a [`Book`] holds while every event it has been given is a quote
//! (or a trade, which books ignore) — a backtest venue's whole book over L1
//! data, in two levels instead of two ladders.
//!
//! A quote replaces its side with one level, so a book fed only quotes holds at
//! most one level per side, and where its window sits decides only whether the
//! other side's level survives a move (a touch wider than the window keeps the
//! new side only). [`QuoteTouch`] keeps exactly that — the window's base and one
//! level per side — with the same checks and the same window moves as
//! [`Book::apply`], so its [`best_of`](QuoteTouch::best_of) and
//! [`qty_at`](QuoteTouch::qty_at) answer as the book's would after the same
//! events (a differential test holds it to that). The first event that is not
//! a quote or a trade needs the ladder: [`apply`](QuoteTouch::apply) refuses it
//! untouched, and [`to_book`](QuoteTouch::to_book) makes the book this touch
//! stands for, to apply it to and go on with.

use super::book::Book;
use super::tick_grid::TickGrid;
use crate::records::{MarketData, MdAction, Side};

/// See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteTouch {
    tick: i64,
    /// `tick`, for exact division by multiplication.
    grid: TickGrid,
    /// Window length in ticks, as the book's (a power of two, at least 64).
    width: i64,
    /// Tick index of the window's first slot, as the book's.
    base: i64,
    /// Per side (buy, sell): the level's tick index and quantity, if any.
    level: [Option<(i64, i64)>; 2],
}

impl QuoteTouch {
    /// The touch of a fresh [`Book::new`]`(tick, ref_px, width)`.
    pub fn new(tick: i64, ref_px: i64, width: usize) -> Self {
        let (tick, width, base) = Book::window(tick, ref_px, width);
        QuoteTouch {
            tick,
            grid: TickGrid::new(tick),
            width: width as i64,
            base,
            level: [None; 2],
        }
    }

    /// Applies `md` as [`Book::apply`] would and returns true — or, for an event
    /// that is neither a quote nor a trade (an order-level one, which needs the
    /// ladder), changes nothing and returns false.
    #[inline(always)]
    pub fn apply(&mut self, md: &MarketData) -> bool {
        match MdAction::from_u8(md.header.sub) {
            Some(MdAction::Quote) => {}
            Some(MdAction::Trade) => return true,
            Some(_) => return false,
            // Refused by the book, which stays as it was.
            None => return true,
        }
        let Some(side) = Side::from_u8(md.header.side) else {
            return true;
        };
        if md.qty == 0 {
            // Empties its side, whatever its price (as the book).
            self.level[side.index()] = None;
            return true;
        }
        let t = match self.grid.index(md.px) {
            Some(t) if t > 0 && md.qty >= 0 => t,
            _ => return true,
        };
        let s = side.index();
        if md.qty > 0 && matches!(self.level[s], Some((own, _)) if own == t) {
            self.level[s] = Some((t, md.qty));
            return true;
        }
        self.level[s] = None;
        if md.qty > 0 {
            if !self.in_window(t) {
                // The side is empty, so the new level is its best: the window
                // moves to centre between it and the other side, and onto the
                // level itself if the touch is wider than the window.
                let centre = match self.level[1 - s] {
                    None => t,
                    Some((other, _)) => t + (other - t) / 2,
                };
                self.recentre(centre);
                if !self.in_window(t) {
                    self.recentre(t);
                }
            }
            self.level[s] = Some((t, md.qty));
        }
        true
    }

    fn in_window(&self, t: i64) -> bool {
        t >= self.base && t < self.base + self.width
    }

    /// Moves the window as the book's `recentre` does: a level it no longer
    /// holds is dropped.
    fn recentre(&mut self, centre: i64) {
        self.base = centre - self.width / 2;
        for s in 0..2 {
            if let Some((t, _)) = self.level[s] {
                if !self.in_window(t) {
                    self.level[s] = None;
                }
            }
        }
    }

    /// Best price and quantity of `side`, if any (as [`Book::best_of`]).
    #[inline]
    pub fn best_of(&self, side: Side) -> Option<(i64, i64)> {
        self.level[side.index()].map(|(t, q)| (t * self.tick, q))
    }

    /// The quantity at `px` on `side` (as [`Book::qty_at`]).
    pub fn qty_at(&self, side: Side, px: i64) -> i64 {
        match self.level[side.index()] {
            Some((t, q)) if px % self.tick == 0 && px / self.tick == t => q,
            _ => 0,
        }
    }

    /// The book this touch stands for: same window, same levels.
    pub fn to_book(&self) -> Book {
        let lv = |s: usize| self.level[s].map(|(t, q)| (t * self.tick, q));
        Book::with_touch(self.tick, self.width as usize, self.base, lv(0), lv(1))
    }
}

/// A book that stays a [`QuoteTouch`] while its events allow and turns into
/// the ladder it stands for at the first that does not: for readers of the
/// touch only (a backtest venue filling at the touch, a data-quality check),
/// which answer as a [`Book`] fed the same events would.
pub enum TouchBook {
    /// Every event so far was a quote or a trade.
    Touch(QuoteTouch),
    /// An order-level event came.
    Ladder(Book),
}

impl TouchBook {
    /// As [`Book::new`]`(tick, ref_px, width)`, held as its touch.
    pub fn new(tick: i64, ref_px: i64, width: usize) -> Self {
        TouchBook::Touch(QuoteTouch::new(tick, ref_px, width))
    }

    /// Applies `md` as [`Book::apply`] would (bad data changes nothing; what
    /// was wrong with it is the caller's to find).
    #[inline(always)]
    pub fn apply(&mut self, md: &MarketData) {
        match self {
            TouchBook::Touch(t) => {
                if !t.apply(md) {
                    let mut b = t.to_book();
                    let _ = b.apply(md);
                    *self = TouchBook::Ladder(b);
                }
            }
            TouchBook::Ladder(b) => {
                let _ = b.apply(md);
            }
        }
    }

    /// Best price and quantity of `side`, if any.
    #[inline]
    pub fn best_of(&self, side: Side) -> Option<(i64, i64)> {
        match self {
            TouchBook::Touch(t) => t.best_of(side),
            TouchBook::Ladder(b) => b.best_of(side),
        }
    }

    /// The quantity at `px` on `side`.
    pub fn qty_at(&self, side: Side, px: i64) -> i64 {
        match self {
            TouchBook::Touch(t) => t.qty_at(side, px),
            TouchBook::Ladder(b) => b.qty_at(side, px),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::MarketData;
    use proptest::prelude::*;

    fn md(action: u8, side: u8, px: i64, qty: i64) -> MarketData {
        let mut m = MarketData::default();
        m.header.sub = action;
        m.header.side = side;
        m.px = px;
        m.qty = qty;
        m
    }

    /// Quotes (valid and not), trades, and now and then an order-level event;
    /// prices near a reference, some far beyond a 64-tick window, some off the
    /// grid. Returns the events.
    fn events() -> impl Strategy<Value = Vec<(u8, u8, i64, i64)>> {
        let action = prop_oneof![
            8 => Just(MdAction::Quote as u8),
            1 => Just(MdAction::Trade as u8),
            1 => Just(MdAction::Add as u8),
            1 => Just(MdAction::Cancel as u8),
            1 => Just(200u8),
        ];
        let side = prop_oneof![10 => 1u8..3, 1 => prop_oneof![Just(0u8), Just(9u8)]];
        let px = prop_oneof![
            8 => (900i64..1100).prop_map(|t| t * 5),
            2 => (0i64..40_000).prop_map(|t| t * 5),
            1 => -10i64..10_000,
        ];
        let qty = prop_oneof![8 => 1i64..500, 1 => Just(0i64), 1 => -5i64..5];
        proptest::collection::vec((action, side, px, qty), 1..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Fed the same events, the touch answers as the book does, and the
        /// book it stands for goes on exactly as the book fed everything.
        #[test]
        fn answers_as_the_book_does(ev in events(), width in prop_oneof![Just(64usize), Just(100), Just(1024)]) {
            let (tick, ref_px) = (5, 5_000);
            let mut book = Book::new(tick, ref_px, width);
            let mut touch = QuoteTouch::new(tick, ref_px, width);
            let mut full: Option<Book> = None;
            for (i, &(a, s, px, q)) in ev.iter().enumerate() {
                let m = md(a, s, px, q);
                let _ = book.apply(&m);
                match &mut full {
                    Some(b) => { let _ = b.apply(&m); }
                    None if touch.apply(&m) => {}
                    None => {
                        let mut b = touch.to_book();
                        let _ = b.apply(&m);
                        full = Some(b);
                    }
                }
                for side in [Side::Buy, Side::Sell] {
                    let (best, at) = match &full {
                        Some(b) => (b.best_of(side), b.qty_at(side, px)),
                        None => (touch.best_of(side), touch.qty_at(side, px)),
                    };
                    prop_assert_eq!(best, book.best_of(side), "event {} {:?}", i, (a, s, px, q));
                    prop_assert_eq!(at, book.qty_at(side, px), "event {}", i);
                    if let Some(b) = &full {
                        let (mut x, mut y) = ([(0, 0); 8], [(0, 0); 8]);
                        let n = b.depth(side, &mut x);
                        prop_assert_eq!(n, book.depth(side, &mut y));
                        prop_assert_eq!(&x[..n], &y[..n]);
                    }
                }
            }
        }
    }
}
