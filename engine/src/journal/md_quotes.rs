//! Compact quote blocks: up to [`MAX_QUOTES`] two-sided quotes in one journal
//! record (kind 104), each a row of seven narrow columns written as their
//! differences from the row before — a quote's two market-data events read as
//! one row, where a [`md_block`](super::md_block) block rebuilds each of them
//! word by word from eight.
//!
//! ```text
//! payload = count u16 LE | version u16 LE (1) | row × count
//! row     = mask u8 | delta × popcount(mask)
//! column  0 ts_ns | 1 exch_ts_ns − ts_ns | 2 instrument | 3 bid
//!         4 ask − bid | 5 bid qty | 6 ask qty            (mask bit 7: never set)
//! ```
//! Bit k of `mask` says column k differs from the previous row's (the first
//! row of a block differs from all-zero columns), and each differing column
//! follows, in order, as the zigzag LEB128 varint of its wrapping difference.
//!
//! A row stands for exactly two events, the ones [`Quote::events`] builds: the
//! bid side, then the ask side ending the batch — what `foxtrot import` makes
//! of a quote. Only a pair of events that is exactly that ([`Quote::of_pair`])
//! is written as a row, so the format is lossless for whatever it holds; any
//! other event goes in an `md_block`. A quote stream takes about 12 bytes a
//! quote when its time moves by tens of microseconds and both sizes change
//! at every quote (`foxtrot-perf backtest`'s walk), fewer when they repeat.

use super::delta_rows::{BadBlock, RowDecoder, RowEncoder};
use crate::records::{flags::LAST_IN_BATCH, Header, Kind, MarketData, MdAction, Side};

/// Quotes per block at most.
pub const MAX_QUOTES: usize = 256;
/// The block format's version.
const VERSION: u16 = 1;
/// Columns of a row.
const COLUMNS: usize = 7;

/// A two-sided quote: the two market-data events of one update of an
/// instrument's touch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quote {
    /// Control time of both events, ns since the epoch.
    pub ts_ns: u64,
    /// Exchange time of both events, ns since the epoch.
    pub exch_ts_ns: u64,
    /// Instrument id.
    pub instrument: u32,
    /// Best bid price and the quantity there.
    pub bid: i64,
    /// See [`Quote::bid`].
    pub bid_qty: i64,
    /// Best ask price and the quantity there.
    pub ask: i64,
    /// See [`Quote::ask`].
    pub ask_qty: i64,
}

impl Quote {
    /// Its two events: the bid side (no flags), then the ask side, which ends
    /// the batch (the engine decides after it). Sequence, TSC stamp and order
    /// id are zero, as an import leaves them.
    #[inline(always)]
    pub fn events(&self) -> [MarketData; 2] {
        let side = |side: Side, flags: u8, px: i64, qty: i64| MarketData {
            header: Header {
                seq: 0,
                ts_ns: self.ts_ns,
                tsc: 0,
                kind: Kind::MarketData as u8,
                sub: MdAction::Quote as u8,
                side: side as u8,
                flags,
                instrument: self.instrument,
            },
            exch_ts_ns: self.exch_ts_ns,
            order_id: 0,
            px,
            qty,
        };
        [
            side(Side::Buy, 0, self.bid, self.bid_qty),
            side(Side::Sell, LAST_IN_BATCH, self.ask, self.ask_qty),
        ]
    }

    /// The quote `bid` would be the first event of, its ask side empty.
    #[inline(always)]
    fn of_bid(bid: &MarketData) -> Quote {
        Quote {
            ts_ns: bid.header.ts_ns,
            exch_ts_ns: bid.exch_ts_ns,
            instrument: bid.header.instrument,
            bid: bid.px,
            bid_qty: bid.qty,
            ..Quote::default()
        }
    }

    /// Whether `bid` can open a quote: it is the first of the events of some
    /// quote ([`Quote::events`]).
    #[inline(always)]
    pub fn opens(bid: &MarketData) -> bool {
        Quote::of_bid(bid).events()[0] == *bid
    }

    /// The quote whose two events are exactly `bid` then `ask`, if there is one.
    #[inline(always)]
    pub fn of_pair(bid: &MarketData, ask: &MarketData) -> Option<Quote> {
        let q = Quote {
            ask: ask.px,
            ask_qty: ask.qty,
            ..Quote::of_bid(bid)
        };
        (q.events() == [*bid, *ask]).then_some(q)
    }

    /// The quote of a row's columns; `None` for an instrument column wider
    /// than an instrument id (damage: the writer's are u32).
    #[inline(always)]
    fn from_columns(c: [u64; COLUMNS]) -> Option<Quote> {
        Some(Quote {
            ts_ns: c[0],
            exch_ts_ns: c[0].wrapping_add(c[1]),
            instrument: u32::try_from(c[2]).ok()?,
            bid: c[3] as i64,
            ask: c[3].wrapping_add(c[4]) as i64,
            bid_qty: c[5] as i64,
            ask_qty: c[6] as i64,
        })
    }

    /// Its columns, as the block writes them.
    #[inline(always)]
    fn columns(&self) -> [u64; COLUMNS] {
        [
            self.ts_ns,
            self.exch_ts_ns.wrapping_sub(self.ts_ns),
            self.instrument as u64,
            self.bid as u64,
            self.ask.wrapping_sub(self.bid) as u64,
            self.bid_qty as u64,
            self.ask_qty as u64,
        ]
    }
}

/// Builds one block of quotes: a block of rows (its length, time and payload
/// through [`RowEncoder`]) whose columns are each quote's.
pub struct QuoteEncoder(RowEncoder<COLUMNS>);

impl Default for QuoteEncoder {
    fn default() -> Self {
        QuoteEncoder(RowEncoder::new(VERSION, MAX_QUOTES))
    }
}

impl QuoteEncoder {
    /// Adds a quote (the block must not be full).
    #[inline(always)]
    pub fn push(&mut self, q: &Quote) {
        self.0.push(q.columns(), q.ts_ns);
    }
}

impl std::ops::Deref for QuoteEncoder {
    type Target = RowEncoder<COLUMNS>;
    fn deref(&self) -> &RowEncoder<COLUMNS> {
        &self.0
    }
}

impl std::ops::DerefMut for QuoteEncoder {
    fn deref_mut(&mut self) -> &mut RowEncoder<COLUMNS> {
        &mut self.0
    }
}

/// Reads the quotes of blocks, one block at a time (the payload is copied in:
/// no allocation after the first block).
pub struct QuoteDecoder(RowDecoder<COLUMNS>);

impl Default for QuoteDecoder {
    fn default() -> Self {
        QuoteDecoder(RowDecoder::new(VERSION, MAX_QUOTES))
    }
}

impl QuoteDecoder {
    /// Starts on the block `payload`.
    pub fn load(&mut self, payload: &[u8]) -> Result<(), BadBlock> {
        self.0.load(payload)
    }

    /// Quotes of the current block not yet read.
    pub fn remaining(&self) -> usize {
        self.0.remaining()
    }

    /// The next quote of the current block; an error when the block is
    /// malformed (then nothing more is read from it).
    #[inline]
    pub fn next_quote(&mut self) -> Option<Result<Quote, BadBlock>> {
        Some(match self.0.next_row()? {
            Ok(c) => Quote::from_columns(c).ok_or_else(|| {
                self.0.stop();
                BadBlock
            }),
            Err(e) => Err(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_quote() -> impl Strategy<Value = Quote> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
        )
            .prop_map(|(ts_ns, exch_ts_ns, instrument, bid, bid_qty, ask, ask_qty)| Quote {
                ts_ns,
                exch_ts_ns,
                instrument,
                bid,
                bid_qty,
                ask,
                ask_qty,
            })
    }

    /// Quotes as a stream moves them: a few ticks, a few lots, time forward.
    fn arb_walk() -> impl Strategy<Value = Vec<Quote>> {
        proptest::collection::vec((0u64..50_000, -3i64..4, 0i64..3, 0i64..3, 0u32..2), 1..MAX_QUOTES).prop_map(
            |steps| {
                let mut q = Quote {
                    ts_ns: 1_767_623_400_000_000_000,
                    exch_ts_ns: 1_767_623_399_999_990_000,
                    instrument: 0,
                    bid: 109_995,
                    bid_qty: 100_000,
                    ask: 110_000,
                    ask_qty: 100_000,
                };
                steps
                    .into_iter()
                    .map(|(dt, dpx, spread, lots, inst)| {
                        q.ts_ns += dt;
                        q.exch_ts_ns += dt;
                        q.bid += 5 * dpx;
                        q.ask = q.bid + 5 * (1 + spread);
                        q.bid_qty = 100_000 * (1 + lots);
                        q.instrument = inst;
                        q
                    })
                    .collect()
            },
        )
    }

    fn round_trip(qs: &[Quote]) -> (Vec<Quote>, usize) {
        let mut e = QuoteEncoder::default();
        for q in qs {
            e.push(q);
        }
        let mut d = QuoteDecoder::default();
        let bytes = e.take(|p| {
            d.load(p).unwrap();
            p.len()
        });
        (
            std::iter::from_fn(|| d.next_quote()).map(|r| r.unwrap()).collect(),
            bytes,
        )
    }

    proptest! {
        /// Any quotes, extremes included, come back exactly.
        #[test]
        fn blocks_are_lossless(qs in proptest::collection::vec(arb_quote(), 1..MAX_QUOTES)) {
            prop_assert_eq!(round_trip(&qs).0, qs);
        }

        /// Any block body (valid header, arbitrary bytes after it) decodes as a
        /// plain byte-at-a-time reading of the format decodes it: the same
        /// quotes, and the error at the same quote.
        #[test]
        fn decodes_as_the_plain_reading(
            n in 1usize..6,
            body in proptest::collection::vec(prop_oneof![
                3 => 0u8..0x80, 3 => 0x80u8..=0xff, 1 => Just(0u8), 1 => Just(0xffu8)
            ], 0..120),
        ) {
            let mut payload = (n as u16).to_le_bytes().to_vec();
            payload.extend_from_slice(&VERSION.to_le_bytes());
            payload.extend_from_slice(&body);
            let mut d = QuoteDecoder::default();
            d.load(&payload).unwrap();
            let got: Vec<Result<Quote, BadBlock>> = std::iter::from_fn(|| d.next_quote()).collect();
            prop_assert_eq!(got, plain_reading(&payload));
        }

        /// A quote is its events, and the events of a quote are that quote:
        /// a pair is recognised exactly when it rebuilds bit for bit.
        #[test]
        fn a_pair_is_a_quote_exactly_when_it_rebuilds(q in arb_quote(), word in 0usize..16, bit in 0u32..64) {
            let [b, a] = q.events();
            prop_assert!(Quote::opens(&b));
            prop_assert_eq!(Quote::of_pair(&b, &a), Some(q));
            // Any one bit changed anywhere in the pair: a quote exactly when
            // the pair still fits the template, read field by field.
            let mut w: [u64; 16] = bytemuck::cast([b, a]);
            w[word] ^= 1 << bit;
            let [b2, a2]: [MarketData; 2] = bytemuck::cast(w);
            let fits = |m: &MarketData, side: Side, flags: u8| {
                let h = m.header;
                h.seq == 0 && h.tsc == 0 && h.kind == Kind::MarketData as u8 && h.sub == MdAction::Quote as u8
                    && h.side == side as u8 && h.flags == flags && m.order_id == 0
            };
            let want = fits(&b2, Side::Buy, 0)
                && fits(&a2, Side::Sell, LAST_IN_BATCH)
                && b2.header.ts_ns == a2.header.ts_ns
                && b2.exch_ts_ns == a2.exch_ts_ns
                && b2.header.instrument == a2.header.instrument;
            let got = Quote::of_pair(&b2, &a2);
            prop_assert_eq!(got.is_some(), want);
            prop_assert_eq!(Quote::opens(&b2), fits(&b2, Side::Buy, 0));
            if let Some(q2) = got {
                prop_assert_eq!(q2.events(), [b2, a2]);
            }
        }
    }

    /// The format read one byte at a time (the rows), each row's columns
    /// read as the module docs say: the reference the decoder is held to.
    fn plain_reading(payload: &[u8]) -> Vec<Result<Quote, BadBlock>> {
        let mut out = Vec::new();
        for row in super::super::delta_rows::plain_reading::<COLUMNS>(payload) {
            let Ok(c) = row else {
                out.push(Err(BadBlock));
                break;
            };
            let Ok(instrument) = u32::try_from(c[2]) else {
                out.push(Err(BadBlock));
                break;
            };
            out.push(Ok(Quote {
                ts_ns: c[0],
                exch_ts_ns: c[0].wrapping_add(c[1]),
                instrument,
                bid: c[3] as i64,
                ask: c[3].wrapping_add(c[4]) as i64,
                bid_qty: c[5] as i64,
                ask_qty: c[6] as i64,
            }));
        }
        out
    }

    /// A quote stream takes a few bytes a quote: well under the 48 a quote
    /// issue #20 allows, and under half what the event blocks take.
    #[test]
    fn quotes_take_a_few_bytes_each() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let qs = arb_walk().new_tree(&mut runner).unwrap().current();
        let (back, bytes) = round_trip(&qs);
        assert_eq!(back, qs);
        let mut ev = super::super::md_block::BlockEncoder::default();
        let mut ev_bytes = 0;
        for q in &qs {
            for m in q.events() {
                ev.push(&m);
                if ev.is_full() {
                    ev_bytes += ev.take(|p| p.len());
                }
            }
        }
        if !ev.is_empty() {
            ev_bytes += ev.take(|p| p.len());
        }
        let per_quote = bytes as f64 / qs.len() as f64;
        assert!(per_quote < 10.0, "{per_quote} bytes a quote");
        assert!(2 * bytes < ev_bytes, "{bytes} bytes as quotes, {ev_bytes} as events");
    }
}
