//! Compact market-data blocks: up to [`MAX_EVENTS`] market-data events in one
//! journal record (kind 103), each written as its difference from the one
//! before, so an imported quote costs about a quarter of its 64-byte record and
//! the journal's per-record header is paid once per block.
//!
//! ```text
//! payload = count u16 LE | version u16 LE (1) | event × count
//! event   = mask u8 | delta × popcount(mask)
//! ```
//! An event is the 64-byte [`MarketData`] read as eight little-endian u64
//! words; bit k of `mask` says word k differs from the previous event's (the
//! first event of a block differs from all-zero words), and each differing
//! word follows, in order, as the zigzag LEB128 varint of its wrapping
//! difference. Lossless for any event; a quote stream (time, price and size
//! moving a little, side alternating) takes 10–14 bytes an event.

pub use super::delta_rows::BadBlock;
use super::delta_rows::{RowDecoder, RowEncoder};
use crate::records::MarketData;

/// Events per block at most.
pub const MAX_EVENTS: usize = 256;
/// The block format's version.
const VERSION: u16 = 1;

/// An event's eight columns: its words.
#[inline(always)]
fn words(md: &MarketData) -> [u64; 8] {
    bytemuck::cast(*md)
}

/// Builds one block: a block of rows (its length, time and payload through
/// [`RowEncoder`]) whose columns are each event's words.
pub struct BlockEncoder(RowEncoder<8>);

impl Default for BlockEncoder {
    fn default() -> Self {
        BlockEncoder(RowEncoder::new(VERSION, MAX_EVENTS))
    }
}

impl BlockEncoder {
    /// Adds an event (the block must not be full).
    #[inline(always)]
    pub fn push(&mut self, md: &MarketData) {
        self.0.push(words(md), md.header.ts_ns);
    }
}

impl std::ops::Deref for BlockEncoder {
    type Target = RowEncoder<8>;
    fn deref(&self) -> &RowEncoder<8> {
        &self.0
    }
}

impl std::ops::DerefMut for BlockEncoder {
    fn deref_mut(&mut self) -> &mut RowEncoder<8> {
        &mut self.0
    }
}

/// Reads the events of blocks, one block at a time (the payload is copied in:
/// no allocation after the first block).
pub struct BlockDecoder(RowDecoder<8>);

impl Default for BlockDecoder {
    fn default() -> Self {
        BlockDecoder(RowDecoder::new(VERSION, MAX_EVENTS))
    }
}

impl BlockDecoder {
    /// Starts on the block `payload`.
    pub fn load(&mut self, payload: &[u8]) -> Result<(), BadBlock> {
        self.0.load(payload)
    }

    /// Events of the current block not yet read.
    pub fn remaining(&self) -> usize {
        self.0.remaining()
    }

    /// The next event of the current block; an error when the block is
    /// malformed (then nothing more is read from it).
    #[inline]
    pub fn next_event(&mut self) -> Option<Result<MarketData, BadBlock>> {
        Some(self.0.next_row()?.map(bytemuck::cast))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{flags, MdAction, Side};
    use proptest::prelude::*;

    fn arb_md() -> impl Strategy<Value = MarketData> {
        proptest::array::uniform8(any::<u64>()).prop_map(bytemuck::cast)
    }

    proptest! {
        /// Any events, including ones no venue sends, come back bit for bit.
        #[test]
        fn blocks_are_lossless(evs in proptest::collection::vec(arb_md(), 1..MAX_EVENTS)) {
            let mut e = BlockEncoder::default();
            for m in &evs {
                e.push(m);
            }
            let mut d = BlockDecoder::default();
            e.take(|p| d.load(p)).unwrap();
            let got: Vec<MarketData> = std::iter::from_fn(|| d.next_event()).map(|r| r.unwrap()).collect();
            prop_assert_eq!(bytemuck::cast_slice::<MarketData, u8>(&got), bytemuck::cast_slice::<MarketData, u8>(&evs));
        }
    }

    /// A quote stream (bid then ask, a few ticks and lots moving) takes well
    /// under the 24 bytes an event that 48 bytes a quote allow.
    #[test]
    fn quotes_take_a_few_bytes_each() {
        let mut e = BlockEncoder::default();
        let (mut ts, mut bid) = (1_767_623_400_000_000_000u64, 1_099_950i64);
        for i in 0..MAX_EVENTS / 2 {
            ts += 1_000 + (i as u64 * 7919) % 50_000;
            bid += [0, 10, -10, 0, 20][i % 5];
            let q = |side, px, qty, f| MarketData::new(MdAction::Quote, 0, Some(side), ts, 0, px, qty, f);
            e.push(&q(Side::Buy, bid, 100_000 + (i as i64 % 3) * 50_000, 0));
            e.push(&q(Side::Sell, bid + 10, 100_000, flags::LAST_IN_BATCH));
        }
        let bytes = e.take(|p| p.len());
        let per_event = bytes as f64 / MAX_EVENTS as f64;
        assert!(per_event < 16.0, "{per_event} bytes an event");
    }
}
