//! The row coding both compact market-data blocks share ([`md_block`]'s
//! events, eight columns; [`md_quotes`]' quotes, seven): a block of rows of `N`
//! u64 columns, each row written as its difference from the one before.
//!
//! ```text
//! payload = count u16 LE | version u16 LE | row × count      (count 1..=max)
//! row     = mask u8 | delta × popcount(mask)
//! ```
//! Bit k of `mask` (k < `N`; the bits from `N` up are never set) says column
//! k differs from the previous row's — the first row of a block differs from
//! all-zero columns — and each differing column follows, in order, as the
//! zigzag LEB128 varint of its wrapping difference. Lossless for any rows.
//!
//! [`md_block`]: super::md_block
//! [`md_quotes`]: super::md_quotes

/// Why a block could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadBlock;

/// The bytes a block of `rows` rows of `n` columns may take: the header and
/// every row at its longest (a mask and `n` 10-byte varints).
pub const fn max_payload(rows: usize, n: usize) -> usize {
    4 + rows * (1 + n * 10)
}

/// Builds one block of rows.
pub struct RowEncoder<const N: usize> {
    /// The payload so far in `buf[..end]`; eight bytes of slack past the
    /// longest payload, so a varint is stored as one eight-byte write.
    buf: Box<[u8]>,
    end: usize,
    prev: [u64; N],
    count: usize,
    max_rows: usize,
    last_ts: u64,
}

impl<const N: usize> RowEncoder<N> {
    /// An empty block of format `version`, holding up to `max_rows` rows.
    pub fn new(version: u16, max_rows: usize) -> Self {
        let mut buf = vec![0u8; max_payload(max_rows, N) + 8].into_boxed_slice();
        buf[2..4].copy_from_slice(&version.to_le_bytes());
        RowEncoder {
            buf,
            end: 4,
            prev: [0; N],
            count: 0,
            max_rows,
            last_ts: 0,
        }
    }

    /// Adds a row of time `ts` (the block must not be full). Unrolled, each
    /// column its own branch (a stream moves the same columns row after row,
    /// so each is well predicted), and inlined into a caller that builds the
    /// row, columns it knows are constant fold.
    #[inline(always)]
    pub fn push(&mut self, cols: [u64; N], ts: u64) {
        debug_assert!(!self.is_full());
        let mask_at = self.end;
        let mut at = mask_at + 1;
        let mut mask = 0u8;
        for (k, (&now, &before)) in cols.iter().zip(&self.prev).enumerate() {
            let d = now.wrapping_sub(before) as i64;
            if d != 0 {
                mask |= 1 << k;
                at = put_varint(&mut self.buf, at, ((d << 1) ^ (d >> 63)) as u64);
            }
        }
        self.buf[mask_at] = mask;
        self.end = at;
        self.prev = cols;
        self.count += 1;
        self.last_ts = self.last_ts.max(ts);
    }

    /// Rows in the block.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether it holds as many as it may.
    pub fn is_full(&self) -> bool {
        self.count == self.max_rows
    }

    /// The latest row time in the block.
    pub fn last_ts(&self) -> u64 {
        self.last_ts
    }

    /// The finished payload; the encoder is empty again once `f` has it.
    pub fn take<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let n = self.count as u16;
        self.buf[..2].copy_from_slice(&n.to_le_bytes());
        let r = f(&self.buf[..self.end]);
        self.end = 4;
        self.prev = [0; N];
        self.count = 0;
        self.last_ts = 0;
        r
    }
}

/// Stores the LEB128 varint of `z` at `buf[at..]`; returns where it ends.
/// Up to eight bytes (any `z` below 2^56: every delta of a quote stream) are
/// built in a register without a branch and stored at once, which the slack
/// past the payload leaves room for: the value's 7-bit groups are spread one
/// to a byte (halves of 28 bits, then quarters of 14, then groups of 7), and
/// every byte before the last gets its continuation bit.
#[inline(always)]
fn put_varint(buf: &mut [u8], at: usize, z: u64) -> usize {
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

/// Reads the rows of blocks, one block at a time (the payload is copied in:
/// no allocation after the first block).
pub struct RowDecoder<const N: usize> {
    buf: Vec<u8>,
    pos: usize,
    left: usize,
    prev: [u64; N],
    version: u16,
    max_rows: usize,
}

impl<const N: usize> RowDecoder<N> {
    /// A decoder of blocks of format `version`, of up to `max_rows` rows.
    pub fn new(version: u16, max_rows: usize) -> Self {
        RowDecoder {
            buf: Vec::with_capacity(max_payload(max_rows, N)),
            pos: 0,
            left: 0,
            prev: [0; N],
            version,
            max_rows,
        }
    }

    /// Starts on the block `payload`.
    pub fn load(&mut self, payload: &[u8]) -> Result<(), BadBlock> {
        if payload.len() < 4
            || payload.len() > max_payload(self.max_rows, N)
            || payload[2..4] != self.version.to_le_bytes()
        {
            return Err(BadBlock);
        }
        let n = u16::from_le_bytes([payload[0], payload[1]]) as usize;
        if n == 0 || n > self.max_rows {
            return Err(BadBlock);
        }
        self.buf.clear();
        self.buf.extend_from_slice(payload);
        self.pos = 4;
        self.left = n;
        self.prev = [0; N];
        Ok(())
    }

    /// Rows of the current block not yet read.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// Ends the block's reading: nothing more is read from it.
    pub fn stop(&mut self) {
        self.left = 0;
    }

    /// The next row of the current block; an error when the block is
    /// malformed (then nothing more is read from it).
    #[inline]
    pub fn next_row(&mut self) -> Option<Result<[u64; N], BadBlock>> {
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
                Some(Ok(c))
            }
            None => {
                self.left = 0;
                Some(Err(BadBlock))
            }
        }
    }

    /// Each column is held in a register and stored once, whole: updating an
    /// array in memory column by column and then copying it out as one event
    /// made the copy's wide loads wait on the narrow stores before them
    /// (store forwarding fails): ~30% of the journal loop's samples sat on
    /// that copy.
    #[inline(always)]
    fn decode(&mut self) -> Option<[u64; N]> {
        let buf = &self.buf[..];
        let mut pos = self.pos;
        let mask = *buf.get(pos)?;
        if N < 8 && mask >> N != 0 {
            return None;
        }
        // The columns past N (none, or the eighth) are constant zeros and
        // their mask bits constant clear: their code folds away.
        let mask = mask & (((1u16 << N) - 1) as u8);
        pos += 1;
        let col = |k: usize| self.prev.get(k).copied().unwrap_or(0);
        let [mut c0, mut c1, mut c2, mut c3, mut c4, mut c5, mut c6, mut c7] =
            [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7)];
        // Eight locals, each updated by its own branch (a loop over an array
        // decoded ~15% slower).
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
        column!(7, c7);
        self.pos = pos;
        let all = [c0, c1, c2, c3, c4, c5, c6, c7];
        let mut c = [0u64; N];
        c.copy_from_slice(&all[..N]);
        self.prev = c;
        Some(c)
    }
}

/// The zigzag LEB128 varint at `buf[*pos..]` as the wrapping difference it
/// encodes; `None` when it runs past the end or holds more than 64 bits.
#[inline(always)]
fn read_delta(buf: &[u8], pos: &mut usize) -> Option<u64> {
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

/// The format read one byte at a time, as the module docs say: the reference
/// the decoders are held to (the rows, and the error at the same row).
#[cfg(test)]
pub(super) fn plain_reading<const N: usize>(payload: &[u8]) -> Vec<Result<[u64; N], BadBlock>> {
    let n = u16::from_le_bytes([payload[0], payload[1]]) as usize;
    let (mut pos, mut prev, mut out) = (4usize, [0u64; N], Vec::new());
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
        let Some(&mask) = payload.get(pos).filter(|m| (**m as u32) < 1 << N) else {
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
        out.push(Ok(prev));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Row bodies as damage and chance make them.
    fn arb_body() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![3 => 0u8..0x80, 3 => 0x80u8..=0xff, 1 => Just(0u8), 1 => Just(0xffu8)],
            0..120,
        )
    }

    /// A block of `n` rows (as its header says) whose body is `body`, read.
    fn read<const N: usize>(n: usize, body: &[u8]) -> (Vec<Result<[u64; N], BadBlock>>, Vec<u8>) {
        let mut payload = (n as u16).to_le_bytes().to_vec();
        payload.extend_from_slice(&7u16.to_le_bytes());
        payload.extend_from_slice(body);
        let mut d = RowDecoder::<N>::new(7, 256);
        d.load(&payload).unwrap();
        (std::iter::from_fn(|| d.next_row()).collect(), payload)
    }

    proptest! {
        /// Any block body (valid header, arbitrary bytes after it) decodes as
        /// a plain byte-at-a-time reading of the format decodes it: the same
        /// rows, and the error at the same row — for eight columns and for
        /// seven (whose masks must leave the eighth bit clear).
        #[test]
        fn decodes_as_the_plain_reading(n in 1usize..6, body in arb_body()) {
            let (got, payload) = read::<8>(n, &body);
            prop_assert_eq!(got, plain_reading::<8>(&payload));
            let (got, payload) = read::<7>(n, &body);
            prop_assert_eq!(got, plain_reading::<7>(&payload));
        }

        /// Any rows come back exactly.
        #[test]
        fn blocks_are_lossless(rows in proptest::collection::vec(proptest::array::uniform7(any::<u64>()), 1..256)) {
            let mut e = RowEncoder::<7>::new(1, 256);
            for r in &rows {
                e.push(*r, 0);
            }
            let mut d = RowDecoder::<7>::new(1, 256);
            e.take(|p| d.load(p)).unwrap();
            let back: Vec<[u64; 7]> = std::iter::from_fn(|| d.next_row()).map(|r| r.unwrap()).collect();
            prop_assert_eq!(back, rows);
        }

        /// Damaged blocks are refused or read as other rows — never a panic.
        #[test]
        fn damaged_blocks_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut d = RowDecoder::<8>::new(1, 256);
            let mut q = RowDecoder::<7>::new(1, 256);
            if d.load(&bytes).is_ok() {
                while let Some(Ok(_)) = d.next_row() {}
            }
            if q.load(&bytes).is_ok() {
                while let Some(Ok(_)) = q.next_row() {}
            }
        }

        /// The varint writer (built in a register below 2^56) writes the
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
    }
}
