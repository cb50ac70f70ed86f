//! Data-quality checks on normalised market data, and the record that journals
//! each finding.
//!
//! [`QualityMonitor::check`] looks at every event before it is used and reports:
//!
//! | code | finding |
//! |---|---|
//! | [`DqCode::Gap`] | a transport lost messages (MoldUDP64 sequence gap): `a` = first missing sequence number, `b` = how many |
//! | [`DqCode::OutOfOrder`] | the event's time is before the previous event's: `a` = previous, `b` = this |
//! | [`DqCode::Crossed`] | after an update the best bid is above the best ask: `a` = bid, `b` = ask |
//! | [`DqCode::Locked`] | after an update the best bid equals the best ask |
//! | [`DqCode::Stale`] | the instrument had no event for longer than the stale limit before this one: `a` = silence in ns |
//! | [`DqCode::PriceJump`] | a trade or the mid moved beyond the band from the last mid: `a` = last mid, `b` = new price |
//! | [`DqCode::Decode`] | a message could not be decoded (`a` = offset or sequence number) |
//! | [`DqCode::Book`] | the feed referred to an unknown order, or similar (`a` = order id) |
//! | [`DqCode::Session`] | the feed's session changed (its publisher restarted): every order of the old session withdrawn, `a` = how many, `b` = messages of the old session received |
//! | [`DqCode::Invalid`] | an event that cannot be — a non-positive price with a size, a negative size, a trade of nothing: `a` = price, `b` = size. **The event is dropped**: it never reaches a book, a journal or a strategy |
//!
//! None stops the feed: each is counted and handed to the caller, who journals it
//! (as a `DqEvent`, journal record kind 102) next to the data. The
//! monitor keeps one book per instrument, created on first sight: its touch
//! while the data is quotes (`TouchBook`), the engine's ladder from the first
//! order-level event; nothing else allocates.

use foxtrot_engine::core::TouchBook;
use foxtrot_engine::records::{flags, DqCode, DqEvent, MarketData, MdAction, Side};

/// Counts by code (codes start at 1).
const CODES: usize = DqCode::ALL.len() + 1;

/// Limits of a [`QualityMonitor`].
#[derive(Clone, Copy, Debug)]
pub struct QualityLimits {
    /// Silence after which an instrument is stale, ns.
    pub stale_ns: u64,
    /// Largest move from the last mid, in basis points.
    pub band_bps: i64,
    /// Tick for the books (price units).
    pub tick: i64,
    /// Book window in ticks.
    pub window: usize,
}

impl Default for QualityLimits {
    fn default() -> Self {
        QualityLimits {
            stale_ns: 5_000_000_000,
            band_bps: 500,
            tick: 1,
            window: 4096,
        }
    }
}

struct Inst {
    /// The touch while the data is quotes (two levels, not a ladder).
    book: TouchBook,
    last_ts: u64,
    mid: Option<i64>,
    crossed: bool,
}

/// See the module docs.
pub struct QualityMonitor {
    lim: QualityLimits,
    insts: Vec<Inst>,
    last_ts: u64,
    counts: [u64; CODES],
}

impl QualityMonitor {
    /// A monitor with these limits.
    pub fn new(lim: QualityLimits) -> Self {
        QualityMonitor {
            lim,
            insts: Vec::new(),
            last_ts: 0,
            counts: [0; CODES],
        }
    }

    /// Findings so far, by code.
    pub fn count(&self, c: DqCode) -> u64 {
        self.counts[c as usize]
    }

    /// All findings so far.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Counts a finding made elsewhere (a gap, a decode error) and returns it.
    pub fn note(&mut self, e: DqEvent) -> DqEvent {
        if let Some(c) = e.code() {
            self.counts[c as usize] += 1;
        }
        e
    }

    /// Whether an event can be at all: a price above zero wherever it carries a
    /// size (a quote of size zero empties its side, whatever its price), no
    /// negative size, a trade of something. Deletes and cancels carry no price.
    #[inline]
    pub fn possible(md: &MarketData) -> bool {
        match md.action() {
            Some(MdAction::Quote) => md.qty >= 0 && (md.qty == 0 || md.px > 0),
            Some(MdAction::Trade) | Some(MdAction::Execute) => md.qty > 0 && md.px > 0,
            Some(MdAction::Add) => md.qty > 0 && md.px > 0,
            Some(MdAction::Modify) => md.px >= 0,
            _ => md.qty >= 0,
        }
    }

    /// Checks one event, calling `out` for each finding. `false`: the event is
    /// impossible ([`DqCode::Invalid`]) and must be dropped.
    #[inline(always)]
    pub fn check(&mut self, md: &MarketData, out: &mut impl FnMut(DqEvent)) -> bool {
        let ts = md.header.ts_ns;
        let i = md.header.instrument;
        let mut emit = |counts: &mut [u64; CODES], e: DqEvent| {
            counts[e.code as usize] += 1;
            out(e);
        };
        if !Self::possible(md) {
            emit(&mut self.counts, DqEvent::new(DqCode::Invalid, i, ts, md.px, md.qty));
            return false;
        }
        if ts < self.last_ts {
            emit(
                &mut self.counts,
                DqEvent::new(DqCode::OutOfOrder, i, ts, self.last_ts as i64, ts as i64),
            );
        } else {
            self.last_ts = ts;
        }
        while self.insts.len() <= i as usize {
            self.insts.push(Inst {
                book: TouchBook::new(self.lim.tick, md.px.max(self.lim.tick), self.lim.window),
                last_ts: ts,
                mid: None,
                crossed: false,
            });
        }
        let (lim, st) = (self.lim, &mut self.insts[i as usize]);
        if ts > st.last_ts && ts - st.last_ts > lim.stale_ns {
            emit(
                &mut self.counts,
                DqEvent::new(DqCode::Stale, i, ts, (ts - st.last_ts) as i64, 0),
            );
        }
        st.last_ts = st.last_ts.max(ts);
        let jump = |from: i64, to: i64| from > 0 && (to - from).abs() * 10_000 > lim.band_bps * from;
        if md.action() == Some(MdAction::Trade) {
            if let Some(m) = st.mid {
                if jump(m, md.px) {
                    emit(&mut self.counts, DqEvent::new(DqCode::PriceJump, i, ts, m, md.px));
                }
            }
            return true;
        }
        st.book.apply(md);
        if md.header.flags & flags::LAST_IN_BATCH == 0 {
            return true;
        }
        match (st.book.best_of(Side::Buy), st.book.best_of(Side::Sell)) {
            (Some((b, _)), Some((a, _))) if b >= a => {
                // Once per episode, not once per event while it lasts.
                if !st.crossed {
                    let c = if b > a { DqCode::Crossed } else { DqCode::Locked };
                    emit(&mut self.counts, DqEvent::new(c, i, ts, b, a));
                }
                st.crossed = true;
            }
            (Some((b, _)), Some((a, _))) => {
                st.crossed = false;
                let mid = (b + a) / 2;
                if let Some(m) = st.mid {
                    if jump(m, mid) {
                        emit(&mut self.counts, DqEvent::new(DqCode::PriceJump, i, ts, m, mid));
                    }
                }
                st.mid = Some(mid);
            }
            _ => st.crossed = false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(ts: u64, bid: i64, ask: i64) -> [MarketData; 2] {
        [
            MarketData::new(MdAction::Quote, 0, Some(Side::Buy), ts, 0, bid, 1, 0),
            MarketData::new(
                MdAction::Quote,
                0,
                Some(Side::Sell),
                ts,
                0,
                ask,
                1,
                flags::LAST_IN_BATCH,
            ),
        ]
    }

    #[test]
    fn each_check_fires_once_where_it_should() {
        let mut m = QualityMonitor::new(QualityLimits {
            stale_ns: 1_000,
            band_bps: 100,
            tick: 1,
            window: 1024,
        });
        let mut got = Vec::new();
        let mut feed = |m: &mut QualityMonitor, md: &[MarketData]| {
            for e in md {
                m.check(e, &mut |d| got.push((d.code().unwrap(), d.ts_ns)));
            }
        };
        feed(&mut m, &q(100, 10_000, 10_010)); // fine
        feed(&mut m, &q(200, 10_010, 10_010)); // locked
        feed(&mut m, &q(300, 10_020, 10_010)); // still crossed: no second report
        feed(&mut m, &q(400, 10_000, 10_010)); // fine again
        feed(&mut m, &q(350, 10_000, 10_010)); // out of order (twice: both sides)
        feed(&mut m, &q(5_000, 10_000, 10_010)); // stale (once: the bid side ends it)
        feed(&mut m, &q(5_100, 12_000, 12_010)); // price jump > 1%
        let t = MarketData::new(MdAction::Trade, 0, None, 5_200, 0, 9_000, 1, flags::LAST_IN_BATCH);
        feed(&mut m, &[t]); // trade far from the mid
        use DqCode::*;
        assert_eq!(
            got,
            vec![
                (Locked, 200),
                (OutOfOrder, 350),
                (OutOfOrder, 350),
                (Stale, 5_000),
                (PriceJump, 5_100),
                (PriceJump, 5_200)
            ]
        );
        assert_eq!(
            (m.count(OutOfOrder), m.count(Locked), m.count(Crossed), m.total()),
            (2, 1, 0, 6)
        );
    }
}
