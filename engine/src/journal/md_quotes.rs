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

use super::md_block::{put_varint, read_delta, BadBlock};
use crate::records::{flags::LAST_IN_BATCH, Header, Kind, MarketData, MdAction, Side};

/// Quotes per block at most.
pub const MAX_QUOTES: usize = 256;
/// The block format's version.
const VERSION: u16 = 1;
/// Columns of a row.
const COLUMNS: usize = 7;
/// Bytes a block may take: the header and every row at its longest (a mask
/// and seven 10-byte varints).
pub const MAX_PAYLOAD: usize = 4 + MAX_QUOTES * (1 + COLUMNS * 10);

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

    /// Whether `bid` can open a quote: it is the first of the events of some
    /// quote ([`Quote::events`]).
    #[inline(always)]
    pub fn opens(bid: &MarketData) -> bool {
        let q = Quote {
            ts_ns: bid.header.ts_ns,
            exch_ts_ns: bid.exch_ts_ns,
            instrument: bid.header.instrument,
            bid: bid.px,
            bid_qty: bid.qty,
            ..Quote::default()
        };
        q.events()[0] == *bid
    }

    /// The quote whose two events are exactly `bid` then `ask`, if there is one.
    #[inline(always)]
    pub fn of_pair(bid: &MarketData, ask: &MarketData) -> Option<Quote> {
        let q = Quote {
            ts_ns: bid.header.ts_ns,
            exch_ts_ns: bid.exch_ts_ns,
            instrument: bid.header.instrument,
            bid: bid.px,
            bid_qty: bid.qty,
            ask: ask.px,
            ask_qty: ask.qty,
        };
        (q.events() == [*bid, *ask]).then_some(q)
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

/// Builds one block of quotes.
pub struct QuoteEncoder {
    /// The payload so far in `buf[..end]`; the bytes past [`MAX_PAYLOAD`] are
    /// slack, so a varint is stored as one eight-byte write.
    buf: Box<[u8]>,
    end: usize,
    prev: [u64; COLUMNS],
    count: usize,
    last_ts: u64,
}

impl Default for QuoteEncoder {
    fn default() -> Self {
        let mut buf = vec![0u8; MAX_PAYLOAD + 8].into_boxed_slice();
        buf[2..4].copy_from_slice(&VERSION.to_le_bytes());
        QuoteEncoder {
            buf,
            end: 4,
            prev: [0; COLUMNS],
            count: 0,
            last_ts: 0,
        }
    }
}

impl QuoteEncoder {
    /// Adds a quote (the block must not be full).
    #[inline(always)]
    pub fn push(&mut self, q: &Quote) {
        debug_assert!(!self.is_full());
        let c = q.columns();
        let mask_at = self.end;
        let mut at = mask_at + 1;
        let mut mask = 0u8;
        for (k, (&now, &before)) in c.iter().zip(&self.prev).enumerate() {
            let d = now.wrapping_sub(before) as i64;
            if d != 0 {
                mask |= 1 << k;
                at = put_varint(&mut self.buf, at, ((d << 1) ^ (d >> 63)) as u64);
            }
        }
        self.buf[mask_at] = mask;
        self.end = at;
        self.prev = c;
        self.count += 1;
        self.last_ts = self.last_ts.max(q.ts_ns);
    }

    /// Quotes in the block.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether it holds [`MAX_QUOTES`].
    pub fn is_full(&self) -> bool {
        self.count == MAX_QUOTES
    }

    /// The latest quote time in the block.
    pub fn last_ts(&self) -> u64 {
        self.last_ts
    }

    /// The finished payload; the encoder is empty again once `f` has it.
    pub fn take<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let n = self.count as u16;
        self.buf[..2].copy_from_slice(&n.to_le_bytes());
        let r = f(&self.buf[..self.end]);
        self.end = 4;
        self.prev = [0; COLUMNS];
        self.count = 0;
        self.last_ts = 0;
        r
    }
}

/// Reads the quotes of blocks, one block at a time (the payload is copied in:
/// no allocation after the first block).
pub struct QuoteDecoder {
    buf: Vec<u8>,
    pos: usize,
    left: usize,
    prev: [u64; COLUMNS],
}

impl Default for QuoteDecoder {
    fn default() -> Self {
        QuoteDecoder {
            buf: Vec::with_capacity(MAX_PAYLOAD),
            pos: 0,
            left: 0,
            prev: [0; COLUMNS],
        }
    }
}

impl QuoteDecoder {
    /// Starts on the block `payload`.
    pub fn load(&mut self, payload: &[u8]) -> Result<(), BadBlock> {
        if payload.len() < 4 || payload.len() > MAX_PAYLOAD || payload[2..4] != VERSION.to_le_bytes() {
            return Err(BadBlock);
        }
        let n = u16::from_le_bytes([payload[0], payload[1]]) as usize;
        if n == 0 || n > MAX_QUOTES {
            return Err(BadBlock);
        }
        self.buf.clear();
        self.buf.extend_from_slice(payload);
        self.pos = 4;
        self.left = n;
        self.prev = [0; COLUMNS];
        Ok(())
    }

    /// Quotes of the current block not yet read.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// The next quote of the current block; an error when the block is
    /// malformed (then nothing more is read from it).
    #[inline]
    pub fn next_quote(&mut self) -> Option<Result<Quote, BadBlock>> {
        if self.left == 0 {
            return None;
        }
        match self.decode() {
            Some(c) => {
                self.left -= 1;
                if self.left == 0 && self.pos != self.buf.len() {
                    // Bytes after the last row: the block is not what it says.
                    return Some(Err(BadBlock));
                }
                // The instrument column holds a u32 (the writer's); a wider
                // value is damage, not an instrument.
                let Ok(instrument) = u32::try_from(c[2]) else {
                    self.left = 0;
                    return Some(Err(BadBlock));
                };
                Some(Ok(Quote {
                    ts_ns: c[0],
                    exch_ts_ns: c[0].wrapping_add(c[1]),
                    instrument,
                    bid: c[3] as i64,
                    ask: c[3].wrapping_add(c[4]) as i64,
                    bid_qty: c[5] as i64,
                    ask_qty: c[6] as i64,
                }))
            }
            None => {
                self.left = 0;
                Some(Err(BadBlock))
            }
        }
    }

    #[inline(always)]
    fn decode(&mut self) -> Option<[u64; COLUMNS]> {
        let buf = &self.buf[..];
        let mut pos = self.pos;
        let mask = *buf.get(pos)?;
        if mask & 0x80 != 0 {
            return None;
        }
        pos += 1;
        // Each column is held in a register and stored once (see md_block).
        let [mut c0, mut c1, mut c2, mut c3, mut c4, mut c5, mut c6] = self.prev;
        macro_rules! column {
            ($k:literal, $c:ident) => {
                if mask & (1 << $k) != 0 {
                    $c = $c.wrapping_add(read_delta(buf, &mut pos)?);
                }
            };
        }
        column!(0, c0);
        column!(1, c1);
        column!(2, c2);
        column!(3, c3);
        column!(4, c4);
        column!(5, c5);
        column!(6, c6);
        self.pos = pos;
        let c = [c0, c1, c2, c3, c4, c5, c6];
        self.prev = c;
        Some(c)
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

        /// Damaged blocks are refused or read as other quotes — never a panic.
        #[test]
        fn damaged_blocks_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut d = QuoteDecoder::default();
            if d.load(&bytes).is_ok() {
                while let Some(r) = d.next_quote() {
                    if r.is_err() {
                        break;
                    }
                }
            }
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

    /// The format read one byte at a time, as its description says: the
    /// reference the decoder is held to.
    fn plain_reading(payload: &[u8]) -> Vec<Result<Quote, BadBlock>> {
        let n = u16::from_le_bytes([payload[0], payload[1]]) as usize;
        let (mut pos, mut prev, mut out) = (4usize, [0u64; COLUMNS], Vec::new());
        let varint = |pos: &mut usize| -> Option<u64> {
            let mut z: u128 = 0;
            for i in 0..10 {
                let b = *payload.get(*pos)?;
                *pos += 1;
                z |= ((b & 0x7f) as u128) << (7 * i);
                if b & 0x80 == 0 {
                    return u64::try_from(z).ok();
                }
            }
            None
        };
        for e in 0..n {
            let Some(&mask) = payload.get(pos).filter(|m| **m & 0x80 == 0) else {
                out.push(Err(BadBlock));
                return out;
            };
            pos += 1;
            for (k, col) in prev.iter_mut().enumerate() {
                if mask & (1 << k) != 0 {
                    let Some(z) = varint(&mut pos) else {
                        out.push(Err(BadBlock));
                        return out;
                    };
                    let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
                    *col = col.wrapping_add(d as u64);
                }
            }
            if e + 1 == n && pos != payload.len() {
                out.push(Err(BadBlock));
                return out;
            }
            let Ok(instrument) = u32::try_from(prev[2]) else {
                out.push(Err(BadBlock));
                return out;
            };
            out.push(Ok(Quote {
                ts_ns: prev[0],
                exch_ts_ns: prev[0].wrapping_add(prev[1]),
                instrument,
                bid: prev[3] as i64,
                ask: prev[3].wrapping_add(prev[4]) as i64,
                bid_qty: prev[5] as i64,
                ask_qty: prev[6] as i64,
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
