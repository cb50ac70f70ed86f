//! The full-depth book built from ITCH: the [`Normaliser`]'s live-order map in
//! front of one engine [`Book`] per instrument.
//!
//! The order map holds every live order of the subscribed instruments; each
//! engine book aggregates them into price levels over a window of ticks around
//! the touch (levels far from it are counted, not lost: the orders are still in
//! the map, and come back into view when the window moves). Books are created the
//! first time an instrument appears, centred on its first price; nothing else
//! allocates per message.
//!
//! After each event the book is checked: a crossed or locked touch is a
//! data-quality event (counted here); book issues (off-tick prices, quantities
//! that would go negative) are counted by each book.

use super::msg::Message;
use super::normalise::{DataIssue, Normaliser, Subscription};
use foxtrot_engine::core::Book;
use foxtrot_engine::records::{MarketData, Side};

/// See the module docs.
pub struct ItchBook {
    norm: Normaliser,
    books: Vec<Book>,
    tick: i64,
    window: usize,
    /// (tick, window) per instrument, where known (inferred from the data).
    grids: Vec<(i64, usize)>,
    crossed: u64,
    book_issues: u64,
}

/// Levels of one instrument, best first: (price, quantity) per side.
pub type Snapshot = (Vec<(i64, i64)>, Vec<(i64, i64)>);

impl ItchBook {
    /// A book for `sub` with room for `max_live` live orders; `tick` in `Price(4)`
    /// units (100 = one cent) and a window of `window` ticks per instrument.
    pub fn new(sub: Subscription, max_live: usize, date_ns: u64, tick: i64, window: usize) -> Self {
        ItchBook {
            norm: Normaliser::new(sub, max_live, date_ns),
            books: Vec::new(),
            tick,
            window,
            grids: Vec::new(),
            crossed: 0,
            book_issues: 0,
        }
    }

    /// The same, each instrument's book with its own (tick, window) — instrument
    /// `i` the `i`-th — instead of the common ones (sub-penny prices are valid
    /// ITCH prices: a book on a one-cent grid would count them as issues).
    pub fn with_grids(mut self, grids: Vec<(i64, usize)>) -> Self {
        self.grids = grids;
        self
    }

    /// Applies one message; `out` sees each normalised event after the book has.
    #[inline]
    pub fn apply(&mut self, m: &Message<'_>, out: &mut impl FnMut(&MarketData, &Book)) -> Result<(), DataIssue> {
        let (books, tick, window, grids) = (&mut self.books, self.tick, self.window, &self.grids);
        let (crossed, issues) = (&mut self.crossed, &mut self.book_issues);
        self.norm.on_message(m, &mut |md: &MarketData| {
            let i = md.header.instrument as usize;
            while books.len() <= i {
                let (t, w) = grids.get(books.len()).copied().unwrap_or((tick, window));
                books.push(Book::new(t, md.px, w));
            }
            let b = &mut books[i];
            if b.apply(md).is_err() {
                *issues += 1;
            }
            if b.is_crossed_or_locked() {
                *crossed += 1;
            }
            out(md, b);
        })
    }

    /// The normaliser (its counters, symbols and order map).
    pub fn normaliser(&self) -> &Normaliser {
        &self.norm
    }

    /// The book of instrument `i`, once it has had an event.
    pub fn book(&self, i: usize) -> Option<&Book> {
        self.books.get(i)
    }

    /// Events after which a touch was crossed or locked.
    pub fn crossed(&self) -> u64 {
        self.crossed
    }

    /// Events a book refused or clamped.
    pub fn book_issues(&self) -> u64 {
        self.book_issues
    }

    /// Up to `depth` levels per side of every instrument, by instrument index.
    pub fn snapshot(&self, depth: usize) -> Vec<Snapshot> {
        self.books
            .iter()
            .map(|b| {
                let mut bids = vec![(0, 0); depth];
                let mut asks = vec![(0, 0); depth];
                let nb = b.depth(Side::Buy, &mut bids);
                let na = b.depth(Side::Sell, &mut asks);
                bids.truncate(nb);
                asks.truncate(na);
                (bids, asks)
            })
            .collect()
    }
}
