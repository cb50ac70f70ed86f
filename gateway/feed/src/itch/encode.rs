//! Market-data events → ITCH 5.0 messages: how `foxtrot venue` publishes its
//! book the way an exchange does.
//!
//! Each instrument `i` is stock locate `i + 1`. [`ItchEncoder::open`] writes the
//! session's opening (start of messages, a stock directory per instrument,
//! start of market hours); then each event of the book becomes:
//!
//! | event | message |
//! |---|---|
//! | `Add` | `A` add order (the order id is the reference) |
//! | `Execute` | `E` order executed (shares, a match number counting up) |
//! | `Cancel` of the whole remainder | `D` order delete |
//! | `Cancel` of part | `X` order cancel (shares cancelled) |
//! | `Modify` reducing the size | `X` order cancel (the reduction) |
//! | `Trade` | `P` trade (non-cross), no order reference |
//!
//! Prices are `Price(4)`: an instrument's price units are scaled by
//! `10^(4 - price_decimals)` (an instrument with more than four decimals cannot
//! be published, and its events are counted as refused). Times are nanoseconds
//! since the UTC midnight of the event's day. The encoder keeps each live
//! order's shares, to tell a delete from a partial cancel.

use foxtrot_engine::records::{InstrumentSpec, MarketData, MdAction, Side};
use std::collections::BTreeMap;

const NS_PER_DAY: u64 = 86_400_000_000_000;

/// See the module docs.
pub struct ItchEncoder {
    symbols: Vec<[u8; 8]>,
    scale: Vec<Option<u32>>,
    live: BTreeMap<u64, u32>,
    match_no: u64,
    /// Events that could not be published (a price off the `Price(4)` grid, an
    /// unknown instrument, a reference the encoder does not know).
    pub refused: u64,
}

fn head(out: &mut Vec<u8>, kind: u8, locate: u16, ts_ns: u64) {
    out.push(kind);
    out.extend_from_slice(&locate.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&(ts_ns % NS_PER_DAY).to_be_bytes()[2..]);
}

impl ItchEncoder {
    /// An encoder for `instruments` (instrument `i` is locate `i + 1`).
    pub fn new(instruments: &[InstrumentSpec]) -> Self {
        ItchEncoder {
            symbols: instruments
                .iter()
                .map(|s| {
                    let mut b = [b' '; 8];
                    for (d, c) in b.iter_mut().zip(s.symbol.bytes()) {
                        *d = c;
                    }
                    b
                })
                .collect(),
            scale: instruments
                .iter()
                .map(|s| 4u32.checked_sub(s.price_decimals as u32).map(|e| 10u32.pow(e)))
                .collect(),
            live: BTreeMap::new(),
            match_no: 0,
            refused: 0,
        }
    }

    /// The session's opening messages at `ts_ns`, each passed to `out`.
    pub fn open(&self, ts_ns: u64, out: &mut impl FnMut(&[u8])) {
        let mut m = Vec::with_capacity(64);
        head(&mut m, b'S', 0, ts_ns);
        m.push(b'O');
        out(&m);
        for (i, s) in self.symbols.iter().enumerate() {
            m.clear();
            head(&mut m, b'R', i as u16 + 1, ts_ns);
            m.extend_from_slice(s);
            m.extend_from_slice(b"QN"); // market category, financial status
            m.extend_from_slice(&100u32.to_be_bytes()); // round lot size
            m.extend_from_slice(b"NCZ "); // round lots only, classification, subtype
                                          // Authenticity (production), short-sale threshold and IPO flag
                                          // (no), LULD reference price tier (' ', not applicable: ITCH 5.0
                                          // has '1', '2' and ' ' only).
            m.extend_from_slice(b"PNN ");
            m.push(b'N'); // ETP flag
            m.extend_from_slice(&0u32.to_be_bytes()); // ETP leverage
            m.push(b'N'); // inverse
            out(&m);
        }
        m.clear();
        head(&mut m, b'S', 0, ts_ns);
        m.push(b'Q');
        out(&m);
    }

    fn price(&self, i: usize, px: i64) -> Option<u32> {
        let s = (*self.scale.get(i)?)? as i64;
        u32::try_from(px.checked_mul(s)?).ok()
    }

    /// The messages of one event, each passed to `out`; `false` if it could not
    /// be published (counted in [`refused`](Self::refused)).
    pub fn encode(&mut self, md: &MarketData, out: &mut impl FnMut(&[u8])) -> bool {
        let i = md.header.instrument as usize;
        let Some(stock) = self.symbols.get(i).copied() else {
            self.refused += 1;
            return false;
        };
        let locate = i as u16 + 1;
        let ts = md.header.ts_ns;
        let side = match Side::from_u8(md.header.side) {
            Some(Side::Sell) => b'S',
            _ => b'B',
        };
        let shares = u32::try_from(md.qty.unsigned_abs()).unwrap_or(u32::MAX);
        let mut m = Vec::with_capacity(48);
        match md.action() {
            Some(MdAction::Add) => {
                let Some(px) = self.price(i, md.px) else {
                    self.refused += 1;
                    return false;
                };
                head(&mut m, b'A', locate, ts);
                m.extend_from_slice(&md.order_id.to_be_bytes());
                m.push(side);
                m.extend_from_slice(&shares.to_be_bytes());
                m.extend_from_slice(&stock);
                m.extend_from_slice(&px.to_be_bytes());
                self.live.insert(md.order_id, shares);
            }
            Some(MdAction::Execute) => {
                let Some(left) = self.live.get_mut(&md.order_id) else {
                    self.refused += 1;
                    return false;
                };
                *left = left.saturating_sub(shares);
                if *left == 0 {
                    self.live.remove(&md.order_id);
                }
                self.match_no += 1;
                head(&mut m, b'E', locate, ts);
                m.extend_from_slice(&md.order_id.to_be_bytes());
                m.extend_from_slice(&shares.to_be_bytes());
                m.extend_from_slice(&self.match_no.to_be_bytes());
            }
            Some(MdAction::Cancel) | Some(MdAction::Modify) => {
                // A modify publishes only a reduction (an increase re-queues
                // the order, which the venue publishes as a cancel and an add).
                if md.action() == Some(MdAction::Modify) && md.qty >= 0 {
                    return md.qty == 0;
                }
                let Some(left) = self.live.get_mut(&md.order_id) else {
                    self.refused += 1;
                    return false;
                };
                if shares >= *left {
                    self.live.remove(&md.order_id);
                    head(&mut m, b'D', locate, ts);
                    m.extend_from_slice(&md.order_id.to_be_bytes());
                } else {
                    *left -= shares;
                    head(&mut m, b'X', locate, ts);
                    m.extend_from_slice(&md.order_id.to_be_bytes());
                    m.extend_from_slice(&shares.to_be_bytes());
                }
            }
            Some(MdAction::Trade) => {
                let Some(px) = self.price(i, md.px) else {
                    self.refused += 1;
                    return false;
                };
                // The resting side: the aggressor's opposite (unknown: buy).
                let resting = match Side::from_u8(md.header.side) {
                    Some(Side::Buy) => b'S',
                    _ => b'B',
                };
                self.match_no += 1;
                head(&mut m, b'P', locate, ts);
                m.extend_from_slice(&0u64.to_be_bytes());
                m.push(resting);
                m.extend_from_slice(&shares.to_be_bytes());
                m.extend_from_slice(&stock);
                m.extend_from_slice(&px.to_be_bytes());
                m.extend_from_slice(&self.match_no.to_be_bytes());
            }
            _ => {
                self.refused += 1;
                return false;
            }
        }
        out(&m);
        true
    }

    /// Live orders it knows of.
    pub fn live_orders(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::{decode, Normaliser, Subscription};

    fn spec(s: &str) -> InstrumentSpec {
        InstrumentSpec {
            symbol: s.into(),
            price_decimals: 4,
            tick: 100,
            qty_decimals: 0,
            lot: 1,
            ref_price: 1_000_000,
        }
    }

    /// The encoder's messages decode, and normalise back into the events it was
    /// given (a whole cancel as the order's remainder, a reduction as a cancel).
    #[test]
    fn events_round_trip_through_itch_and_the_normaliser() {
        let inst = [spec("FOXA"), spec("FOXB")];
        let mut enc = ItchEncoder::new(&inst);
        let day = 1_767_571_200_000_000_000u64; // 2026-01-05 00:00 UTC
        let t = day + 52_200_000_000_000;
        let ev = [
            MarketData::new(MdAction::Add, 1, Some(Side::Buy), t, 7, 2_500_000, 300, 1),
            MarketData::new(MdAction::Add, 0, Some(Side::Sell), t + 1, 8, 1_000_100, 50, 1),
            MarketData::new(MdAction::Execute, 1, Some(Side::Buy), t + 2, 7, 2_500_000, 100, 1),
            MarketData::new(MdAction::Modify, 1, Some(Side::Buy), t + 3, 7, 2_500_000, -50, 1),
            MarketData::new(MdAction::Cancel, 1, Some(Side::Buy), t + 4, 7, 2_500_000, 150, 1),
            MarketData::new(MdAction::Trade, 0, Some(Side::Buy), t + 5, 0, 1_000_100, 20, 1),
        ];
        let mut msgs = Vec::new();
        enc.open(t, &mut |m| msgs.push(m.to_vec()));
        for e in &ev {
            assert!(enc.encode(e, &mut |m| msgs.push(m.to_vec())));
        }
        let mut norm = Normaliser::new(Subscription::Symbols(vec!["FOXA".into(), "FOXB".into()]), 64, day);
        let mut got = Vec::new();
        for m in &msgs {
            let d = decode(m).unwrap();
            norm.on_message(&d, &mut |md| got.push(*md)).unwrap();
        }
        let key = |m: &MarketData| {
            (
                m.header.sub,
                m.header.instrument,
                m.header.ts_ns,
                m.order_id,
                m.px,
                m.qty.abs(),
            )
        };
        let want: Vec<_> = ev.iter().map(key).collect();
        let mut have: Vec<_> = got.iter().map(key).collect();
        // The normaliser names a modify's reduction a cancel.
        have[3].0 = MdAction::Modify as u8;
        assert_eq!(have, want);
        assert_eq!(enc.live_orders(), 1);
    }
}
