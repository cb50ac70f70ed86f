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

use crate::records::MarketData;

/// Events per block at most.
pub const MAX_EVENTS: usize = 256;
/// The block format's version.
const VERSION: u16 = 1;
/// Bytes a block may take: the header and every event at its longest (a mask
/// and eight 10-byte varints).
pub const MAX_PAYLOAD: usize = 4 + MAX_EVENTS * (1 + 8 * 10);

fn words(md: &MarketData) -> [u64; 8] {
    bytemuck::cast(*md)
}

/// Builds one block.
pub struct BlockEncoder {
    /// The payload so far in `buf[..end]`; the bytes past [`MAX_PAYLOAD`] are
    /// slack, so a varint is stored as one eight-byte write.
    buf: Box<[u8]>,
    end: usize,
    prev: [u64; 8],
    count: usize,
    last_ts: u64,
}

impl Default for BlockEncoder {
    fn default() -> Self {
        let mut buf = vec![0u8; MAX_PAYLOAD + 8].into_boxed_slice();
        buf[2..4].copy_from_slice(&VERSION.to_le_bytes());
        BlockEncoder {
            buf,
            end: 4,
            prev: [0; 8],
            count: 0,
            last_ts: 0,
        }
    }
}

/// Stores the LEB128 varint of `z` at `buf[at..]`; returns where it ends.
/// Up to eight bytes (any `z` below 2^56: every delta of a quote stream) are
/// built in a register without a branch and stored at once, which the slack
/// past the payload leaves room for: the value's 7-bit groups are spread one
/// to a byte (halves of 28 bits, then quarters of 14, then groups of 7), and
/// every byte before the last gets its continuation bit.
#[inline(always)]
pub(super) fn put_varint(buf: &mut [u8], at: usize, z: u64) -> usize {
    if z < 0x80 {
        // One byte: a price that moved a few ticks, a field back where it was.
        buf[at] = z as u8;
        return at + 1;
    }
    if z < 1 << 56 {
        // Bytes it takes: one per started 7 bits (x * 37 >> 8 is x / 7 for
        // every x up to 64 + 6).
        let bits = 64 - z.leading_zeros();
        let n = ((bits + 6) * 37) >> 8;
        let w = (z & 0x0fff_ffff) | ((z & 0x00ff_ffff_f000_0000) << 4);
        let w = (w & 0x0000_3fff_0000_3fff) | ((w & 0x0fff_c000_0fff_c000) << 2);
        let w = (w & 0x007f_007f_007f_007f) | ((w & 0x3f80_3f80_3f80_3f80) << 1);
        let w = w | (0x8080_8080_8080_8080 & ((1u64 << (8 * (n - 1))) - 1));
        buf[at..at + 8].copy_from_slice(&w.to_le_bytes());
        return at + n as usize;
    }
    let mut at = at;
    let mut z = z;
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            buf[at] = b;
            return at + 1;
        }
        buf[at] = b | 0x80;
        at += 1;
    }
}

impl BlockEncoder {
    /// Adds an event (the block must not be full).
    #[inline(always)]
    pub fn push(&mut self, md: &MarketData) {
        debug_assert!(!self.is_full());
        let w = words(md);
        let mask_at = self.end;
        let mut at = mask_at + 1;
        let mut mask = 0u8;
        // Unrolled, each word its own branch (a quote stream moves the same
        // words event after event, so each is well predicted), and inlined
        // into a caller that builds the event, words it knows are constant.
        macro_rules! word {
            ($k:literal) => {
                let d = w[$k].wrapping_sub(self.prev[$k]) as i64;
                if d != 0 {
                    mask |= 1 << $k;
                    at = put_varint(&mut self.buf, at, ((d << 1) ^ (d >> 63)) as u64);
                }
            };
        }
        word!(0);
        word!(1);
        word!(2);
        word!(3);
        word!(4);
        word!(5);
        word!(6);
        word!(7);
        self.buf[mask_at] = mask;
        self.end = at;
        self.prev = w;
        self.count += 1;
        self.last_ts = self.last_ts.max(md.header.ts_ns);
    }

    /// Events in the block.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether it holds [`MAX_EVENTS`].
    pub fn is_full(&self) -> bool {
        self.count == MAX_EVENTS
    }

    /// The latest event time in the block.
    pub fn last_ts(&self) -> u64 {
        self.last_ts
    }

    /// The finished payload; the encoder is empty again once `f` has it.
    pub fn take<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let n = self.count as u16;
        self.buf[..2].copy_from_slice(&n.to_le_bytes());
        let r = f(&self.buf[..self.end]);
        self.end = 4;
        self.prev = [0; 8];
        self.count = 0;
        self.last_ts = 0;
        r
    }
}

/// Why a block could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadBlock;

/// Reads the events of blocks, one block at a time (the payload is copied in:
/// no allocation after the first block).
pub struct BlockDecoder {
    buf: Vec<u8>,
    pos: usize,
    left: usize,
    prev: [u64; 8],
}

impl Default for BlockDecoder {
    fn default() -> Self {
        BlockDecoder {
            buf: Vec::with_capacity(MAX_PAYLOAD),
            pos: 0,
            left: 0,
            prev: [0; 8],
        }
    }
}

impl BlockDecoder {
    /// Starts on the block `payload`.
    pub fn load(&mut self, payload: &[u8]) -> Result<(), BadBlock> {
        if payload.len() < 4 || payload.len() > MAX_PAYLOAD || payload[2..4] != VERSION.to_le_bytes() {
            return Err(BadBlock);
        }
        let n = u16::from_le_bytes([payload[0], payload[1]]) as usize;
        if n == 0 || n > MAX_EVENTS {
            return Err(BadBlock);
        }
        self.buf.clear();
        self.buf.extend_from_slice(payload);
        self.pos = 4;
        self.left = n;
        self.prev = [0; 8];
        Ok(())
    }

    /// Events of the current block not yet read.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// The next event of the current block; an error when the block is
    /// malformed (then nothing more is read from it).
    pub fn next_event(&mut self) -> Option<Result<MarketData, BadBlock>> {
        if self.left == 0 {
            return None;
        }
        match self.decode() {
            Some(w) => {
                self.left -= 1;
                if self.left == 0 && self.pos != self.buf.len() {
                    // Bytes after the last event: the block is not what it says.
                    return Some(Err(BadBlock));
                }
                Some(Ok(bytemuck::cast(w)))
            }
            None => {
                self.left = 0;
                Some(Err(BadBlock))
            }
        }
    }

    fn decode(&mut self) -> Option<[u64; 8]> {
        let buf = &self.buf[..];
        let mut pos = self.pos;
        let mask = *buf.get(pos)?;
        pos += 1;
        // Each word is held in a register and stored once, whole: updating
        // an array in memory word by word and then copying it out as one
        // event made the copy's wide loads wait on the narrow stores before
        // them (store forwarding fails): ~30% of the journal loop's samples
        // sat on that copy.
        let [mut w0, mut w1, mut w2, mut w3, mut w4, mut w5, mut w6, mut w7] = self.prev;
        macro_rules! word {
            ($k:literal, $w:ident) => {
                if mask & (1 << $k) != 0 {
                    $w = $w.wrapping_add(read_delta(buf, &mut pos)?);
                }
            };
        }
        word!(0, w0);
        word!(1, w1);
        word!(2, w2);
        word!(3, w3);
        word!(4, w4);
        word!(5, w5);
        word!(6, w6);
        word!(7, w7);
        self.pos = pos;
        let w = [w0, w1, w2, w3, w4, w5, w6, w7];
        self.prev = w;
        Some(w)
    }
}

/// The zigzag LEB128 varint at `buf[*pos..]` as the wrapping difference it
/// encodes; `None` when it runs past the end or holds more than 64 bits.
#[inline(always)]
pub(super) fn read_delta(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut z = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return None; // more than 64 bits
        }
        z |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    Some((((z >> 1) as i64) ^ -((z & 1) as i64)) as u64)
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

        /// Any block body (valid header, arbitrary bytes after it) decodes as a
        /// plain byte-at-a-time reading of the format decodes it: the same
        /// events, and the error at the same event.
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
            let mut d = BlockDecoder::default();
            d.load(&payload).unwrap();
            let got: Vec<Result<[u64; 8], BadBlock>> =
                std::iter::from_fn(|| d.next_event()).map(|r| r.map(bytemuck::cast)).collect();
            prop_assert_eq!(got, plain_reading(&payload));
        }

        /// The varint writer (built in a register below 2^49) writes the
        /// byte-at-a-time LEB128 of any value.
        #[test]
        fn put_varint_writes_leb128(z in prop_oneof![any::<u64>(), 0u64..1 << 21, (0u32..64).prop_map(|k| 1u64 << k)]) {
            let mut want = Vec::new();
            let mut v = z;
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                want.push(if v == 0 { b } else { b | 0x80 });
                if v == 0 {
                    break;
                }
            }
            let mut buf = [0u8; 24];
            let end = put_varint(&mut buf, 3, z);
            prop_assert_eq!(&buf[3..end], &want[..]);
        }

        /// Damaged blocks are refused or read as other events — never a panic.
        #[test]
        fn damaged_blocks_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut d = BlockDecoder::default();
            if d.load(&bytes).is_ok() {
                while let Some(r) = d.next_event() {
                    if r.is_err() {
                        break;
                    }
                }
            }
        }
    }

    /// The format read one byte at a time, as its description says: the
    /// reference the decoder is held to.
    fn plain_reading(payload: &[u8]) -> Vec<Result<[u64; 8], BadBlock>> {
        let n = u16::from_le_bytes([payload[0], payload[1]]) as usize;
        let (mut pos, mut prev, mut out) = (4usize, [0u64; 8], Vec::new());
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
            let Some(&mask) = payload.get(pos) else {
                out.push(Err(BadBlock));
                return out;
            };
            pos += 1;
            for (k, word) in prev.iter_mut().enumerate() {
                if mask & (1 << k) != 0 {
                    let Some(z) = varint(&mut pos) else {
                        out.push(Err(BadBlock));
                        return out;
                    };
                    let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
                    *word = word.wrapping_add(d as u64);
                }
            }
            if e + 1 == n && pos != payload.len() {
                out.push(Err(BadBlock));
                return out;
            }
            out.push(Ok(prev));
        }
        out
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
