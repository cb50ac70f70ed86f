//! Sensory: per-instrument features from the book and the tape.
//!
//! The spine's sensory computes the features the momentum policy and the risk band
//! need; the core-stages issue extends the vector. Slots are stable: a new feature
//! takes a new index, never an old one.
//!
//! | index | name | unit |
//! |---|---|---|
//! | 0 | `MID` | currency |
//! | 1 | `MICROPRICE` | currency (size-weighted touch) |
//! | 2 | `SPREAD_TICKS` | ticks |
//! | 3 | `IMBALANCE_1` | (bid_qty − ask_qty)/(bid_qty + ask_qty) at the touch, in [−1, 1] |
//! | 4 | `EMA_FAST` | currency |
//! | 5 | `EMA_SLOW` | currency |
//! | 6 | `EMA_SIGNAL` | (fast − slow) / tick |
//! | 7 | `LAST_TRADE` | currency (0 before the first execution) |
//! | 8 | `BID_QTY` | quantity units at the best bid |
//! | 9 | `ASK_QTY` | quantity units at the best ask |
//! | 10 | `MID_UPDATES` | count of mid updates seen (saturating in f32) |
//!
//! The mid is updated only on inputs that end a batch and when the book is two-sided
//! and not crossed; EMAs use alpha = 2/(n+1), seeded by the first mid.

use super::book::Book;
use crate::records::{FeatureVector, Header, InstrumentSpec, Kind, MarketData, MdAction};

/// Feature slot indices (see the module table).
pub mod idx {
    /// Mid price.
    pub const MID: usize = 0;
    /// Microprice.
    pub const MICROPRICE: usize = 1;
    /// Spread in ticks.
    pub const SPREAD_TICKS: usize = 2;
    /// Top-of-book imbalance.
    pub const IMBALANCE_1: usize = 3;
    /// Fast EMA of mid.
    pub const EMA_FAST: usize = 4;
    /// Slow EMA of mid.
    pub const EMA_SLOW: usize = 5;
    /// (fast − slow) / tick.
    pub const EMA_SIGNAL: usize = 6;
    /// Last execution price.
    pub const LAST_TRADE: usize = 7;
    /// Best bid quantity.
    pub const BID_QTY: usize = 8;
    /// Best ask quantity.
    pub const ASK_QTY: usize = 9;
    /// Number of mid updates seen.
    pub const MID_UPDATES: usize = 10;
}

/// An exponential moving average with alpha = 2/(span+1), seeded by its first input.
#[derive(Clone, Copy, Debug)]
pub struct Ema {
    alpha: f64,
    value: f64,
    n: u64,
}

impl Ema {
    /// An EMA over `span` inputs.
    pub fn new(span: u32) -> Self {
        Ema {
            alpha: 2.0 / (span as f64 + 1.0),
            value: 0.0,
            n: 0,
        }
    }
    /// Feeds one value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        self.value = if self.n == 0 {
            x
        } else {
            self.value + self.alpha * (x - self.value)
        };
        self.n += 1;
    }
    /// Current value (0 before the first input).
    pub fn value(&self) -> f64 {
        self.value
    }
    /// Inputs seen.
    pub fn count(&self) -> u64 {
        self.n
    }
}

/// Per-instrument sensory state.
#[derive(Clone, Debug)]
struct InstrumentState {
    px_scale: f64,
    qty_scale: f64,
    tick: f64,
    fast: Ema,
    slow: Ema,
    mid: f64,
    last_trade: f64,
}

/// The sensory stage.
pub struct Sensory {
    state: Vec<InstrumentState>,
}

impl Sensory {
    /// Sensory state for `instruments`, with the momentum EMA spans.
    pub fn new(instruments: &[InstrumentSpec], fast: u32, slow: u32) -> Self {
        Sensory {
            state: instruments
                .iter()
                .map(|s| InstrumentState {
                    px_scale: crate::records::pow10(s.price_decimals) as f64,
                    qty_scale: crate::records::pow10(s.qty_decimals) as f64,
                    tick: s.tick as f64,
                    fast: Ema::new(fast),
                    slow: Ema::new(slow),
                    mid: 0.0,
                    last_trade: 0.0,
                })
                .collect(),
        }
    }

    /// Updates features after `md` was applied to `book`, and writes the feature
    /// vector into `out`. Returns true when the mid was updated (a decision point).
    #[inline]
    pub fn on_md(&mut self, md: &MarketData, book: &Book, out: &mut FeatureVector) -> bool {
        let Some(st) = self.state.get_mut(md.header.instrument as usize) else {
            return false;
        };
        if matches!(md.action(), Some(MdAction::Execute | MdAction::Trade)) && md.px > 0 {
            st.last_trade = md.px as f64 / st.px_scale;
        }
        let mut updated = false;
        let last = md.header.flags & crate::records::flags::LAST_IN_BATCH != 0;
        if let (true, Some((bp, bq)), Some((ap, aq))) = (last, book.best_bid(), book.best_ask()) {
            if bp < ap {
                let mid_raw = (bp + ap) as f64 * 0.5;
                st.mid = mid_raw / st.px_scale;
                st.fast.update(st.mid);
                st.slow.update(st.mid);
                updated = true;
                let v = &mut out.values;
                let (bqf, aqf) = (bq as f64, aq as f64);
                let micro = (bp as f64 * aqf + ap as f64 * bqf) / (bqf + aqf);
                v[idx::MICROPRICE] = (micro / st.px_scale) as f32;
                v[idx::SPREAD_TICKS] = ((ap - bp) as f64 / st.tick) as f32;
                v[idx::IMBALANCE_1] = ((bqf - aqf) / (bqf + aqf)) as f32;
                v[idx::BID_QTY] = (bqf / st.qty_scale) as f32;
                v[idx::ASK_QTY] = (aqf / st.qty_scale) as f32;
            }
        }
        out.header = Header {
            kind: Kind::Features as u8,
            ..md.header
        };
        let v = &mut out.values;
        v[idx::MID] = st.mid as f32;
        v[idx::EMA_FAST] = st.fast.value() as f32;
        v[idx::EMA_SLOW] = st.slow.value() as f32;
        v[idx::EMA_SIGNAL] = ((st.fast.value() - st.slow.value()) * st.px_scale / st.tick) as f32;
        v[idx::LAST_TRADE] = st.last_trade as f32;
        v[idx::MID_UPDATES] = st.slow.count() as f32;
        updated
    }

    /// Mid updates seen on `instrument` (how far the slow EMA has warmed up).
    pub fn mid_updates(&self, instrument: u32) -> u64 {
        self.state.get(instrument as usize).map_or(0, |s| s.slow.count())
    }

    /// Fast and slow EMA values of `instrument`, in currency units.
    pub fn emas(&self, instrument: u32) -> (f64, f64) {
        self.state
            .get(instrument as usize)
            .map_or((0.0, 0.0), |s| (s.fast.value(), s.slow.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_matches_hand_computation() {
        // span 3 → alpha 0.5: 10, then 10 + 0.5·(14 − 10) = 12, then 12 + 0.5·(8 − 12) = 10.
        let mut e = Ema::new(3);
        e.update(10.0);
        assert_eq!(e.value(), 10.0);
        e.update(14.0);
        assert_eq!(e.value(), 12.0);
        e.update(8.0);
        assert_eq!(e.value(), 10.0);
        assert_eq!(e.count(), 3);
    }

    #[test]
    fn features_from_a_two_sided_book() {
        use crate::records::{flags, Side};
        let spec = InstrumentSpec {
            symbol: "T".into(),
            price_decimals: 2,
            tick: 1,
            qty_decimals: 0,
            lot: 1,
            ref_price: 10_000,
        };
        let mut book = Book::new(1, 10_000, 256);
        let mut s = Sensory::new(std::slice::from_ref(&spec), 2, 4);
        let mut fv = FeatureVector::default();
        let bid = MarketData::new(MdAction::Add, 0, Some(Side::Buy), 1, 1, 9_999, 30, 0);
        book.apply(&bid).unwrap();
        assert!(!s.on_md(&bid, &book, &mut fv), "one-sided book: no mid");
        let ask = MarketData::new(
            MdAction::Add,
            0,
            Some(Side::Sell),
            2,
            2,
            10_001,
            10,
            flags::LAST_IN_BATCH,
        );
        book.apply(&ask).unwrap();
        assert!(s.on_md(&ask, &book, &mut fv));
        let v = fv.values;
        assert_eq!(v[idx::MID], 100.00);
        assert_eq!(v[idx::SPREAD_TICKS], 2.0);
        assert_eq!(v[idx::IMBALANCE_1], 0.5); // (30 − 10)/40
                                              // microprice = (99.99·10 + 100.01·30)/40 = 100.005
        assert!((v[idx::MICROPRICE] - 100.005).abs() < 1e-4);
        assert_eq!(fv.header.kind, Kind::Features as u8);
    }
}
