//! The live board: figures an operator watches (trading state, positions, PnL,
//! drawdown, open orders, rejects by reason, drift alarms), published by the
//! stages that own them for the stats thread to copy into the stats file.
//!
//! Every word is a relaxed atomic written by one stage thread and read by the
//! stats thread; no figure is read back by the core, so nothing decided depends
//! on it. A reader may see figures of neighbouring inputs side by side (a
//! position from one input, a PnL from the next): they are for watching, and the
//! journals hold the exact history. Floating-point figures are stored as their
//! `f64` bits.
//!
//! ```text
//! word  0        trading state (0 normal, 1 reduce-only, 2 drawdown halt, 3 killed)
//! word  1        halted instruments (bit i: instrument i)
//! word  2        operator commands applied
//! word  3..5     equity, drawdown, max drawdown (f64)
//! word  6        open orders
//! word  7        fills
//! word  8        drift alarms
//! word  9        inputs the decide stage has applied
//! word 10        FIX session state (0 none, 1 connecting, 2 active, 3 ended; the link's)
//! word 11..16    order → acknowledgement ns over FIX: count, p50, p99, p99.9, max (the link's)
//! word 16..32    risk rejects by reason code (index = code)
//! word 32..      MAX_INSTRUMENTS × [position, realised PnL (f64), unrealised PnL (f64), open orders]
//! ```

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Instruments the board describes.
pub const MAX_INSTRUMENTS: usize = 32;
/// Words per instrument.
pub const INSTRUMENT_WORDS: usize = 4;
/// Words of the board.
pub const WORDS: usize = FIRST_INSTRUMENT + MAX_INSTRUMENTS * INSTRUMENT_WORDS;

/// Word indices.
pub mod word {
    /// Trading state.
    pub const STATE: usize = 0;
    /// Halted instruments, one bit each.
    pub const HALTED: usize = 1;
    /// Operator commands applied.
    pub const COMMANDS: usize = 2;
    /// Equity (f64 bits).
    pub const EQUITY: usize = 3;
    /// Drawdown from the equity peak (f64 bits).
    pub const DRAWDOWN: usize = 4;
    /// Largest drawdown so far (f64 bits).
    pub const MAX_DRAWDOWN: usize = 5;
    /// Open orders.
    pub const OPEN_ORDERS: usize = 6;
    /// Fills.
    pub const FILLS: usize = 7;
    /// Drift alarms.
    pub const DRIFT_ALARMS: usize = 8;
    /// Inputs the decide stage has applied.
    pub const APPLIED: usize = 9;
    /// FIX session state (written by the FIX link).
    pub const SESSION: usize = 10;
    /// Order → acknowledgement latency: count, p50, p99, p99.9, max (ns; the FIX link's).
    pub const ORDER_ACK: usize = 11;
    /// Rejects by reason: `REJECTS + code`.
    pub const REJECTS: usize = 16;
}

const FIRST_INSTRUMENT: usize = 32;

/// Trading states by code (word 0).
pub const TRADING_STATES: [&str; 4] = ["normal", "reduce_only", "drawdown_halt", "killed"];

/// The board: fixed-size, allocated once before the run.
pub struct LiveBoard {
    words: Box<[AtomicU64]>,
    symbols: Vec<String>,
}

/// One instrument's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct InstrumentFigures {
    /// Position in quantity units.
    pub position: i64,
    /// Realised PnL, currency units.
    pub realised: f64,
    /// Unrealised PnL at the last mark, currency units.
    pub unrealised: f64,
    /// Open orders.
    pub open_orders: u64,
}

impl LiveBoard {
    /// A board for `symbols` (those past [`MAX_INSTRUMENTS`] are not shown).
    pub fn new(symbols: Vec<String>) -> Self {
        LiveBoard {
            words: (0..WORDS).map(|_| AtomicU64::new(0)).collect(),
            symbols,
        }
    }

    /// The instruments' symbols.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// Sets word `w` (ignored past the board).
    #[inline]
    pub fn set(&self, w: usize, v: u64) {
        if let Some(a) = self.words.get(w) {
            a.store(v, Relaxed);
        }
    }

    /// Sets word `w` to `v`'s bits.
    #[inline]
    pub fn set_f64(&self, w: usize, v: f64) {
        self.set(w, v.to_bits());
    }

    /// Sets instrument `i`'s figures (ignored past [`MAX_INSTRUMENTS`]).
    #[inline]
    pub fn set_instrument(&self, i: usize, f: &InstrumentFigures) {
        if i >= MAX_INSTRUMENTS {
            return;
        }
        let at = FIRST_INSTRUMENT + i * INSTRUMENT_WORDS;
        self.set(at, f.position as u64);
        self.set_f64(at + 1, f.realised);
        self.set_f64(at + 2, f.unrealised);
        self.set(at + 3, f.open_orders);
    }

    /// Every word, as the stats thread copies them.
    pub fn read(&self, out: &mut [u64]) {
        for (o, a) in out.iter_mut().zip(self.words.iter()) {
            *o = a.load(Relaxed);
        }
    }
}

/// Instrument `i`'s figures from board words `w` (as [`LiveBoard::read`] copies them).
pub fn instrument_of(w: &[u64], i: usize) -> InstrumentFigures {
    let at = FIRST_INSTRUMENT + i * INSTRUMENT_WORDS;
    let get = |k: usize| w.get(at + k).copied().unwrap_or(0);
    InstrumentFigures {
        position: get(0) as i64,
        realised: f64::from_bits(get(1)),
        unrealised: f64::from_bits(get(2)),
        open_orders: get(3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruments_and_words_round_trip() {
        let b = LiveBoard::new(vec!["A".into(), "B".into()]);
        let f = InstrumentFigures {
            position: -300,
            realised: 12.5,
            unrealised: -0.25,
            open_orders: 2,
        };
        b.set_instrument(1, &f);
        b.set_f64(word::EQUITY, 12.25);
        b.set_instrument(MAX_INSTRUMENTS, &f); // ignored, no panic
        b.set(WORDS, 1); // ignored, no panic
        let mut w = vec![0; WORDS];
        b.read(&mut w);
        assert_eq!(instrument_of(&w, 1), f);
        assert_eq!(instrument_of(&w, 0), InstrumentFigures::default());
        assert_eq!(f64::from_bits(w[word::EQUITY]), 12.25);
    }
}
