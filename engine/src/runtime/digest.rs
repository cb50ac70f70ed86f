//! Running digests of output streams, so two runs can be compared by one line.

use xxhash_rust::xxh3::Xxh3;

/// A streaming 128-bit XXH3 digest over a sequence of records, with a count.
///
/// Each record is hashed with its length prefix, so a stream of records cannot
/// collide with a different split of the same bytes. Records are gathered in a
/// buffer and hashed a few kilobytes at a time — XXH3's streaming state gives
/// the same digest however its input is split — rather than in two short
/// updates each (every one copying into the hasher's own 256-byte buffer and
/// paying its call): few instructions saved in all, but the default sim's
/// tick-to-order p50 a few percent lower, its p99 unchanged (one input in ~60
/// hashes the gathered 4 KiB). No allocation after construction.
pub struct StreamDigest {
    h: Xxh3,
    n: u64,
    /// Framed records not yet hashed, `buf[..len]`.
    buf: Box<[u8; BUF]>,
    len: usize,
}

/// Bytes gathered before they are hashed.
const BUF: usize = 4096;

impl Default for StreamDigest {
    fn default() -> Self {
        StreamDigest {
            h: Xxh3::new(),
            n: 0,
            buf: Box::new([0; BUF]),
            len: 0,
        }
    }
}

impl StreamDigest {
    /// Adds one record.
    #[inline]
    pub fn add(&mut self, bytes: &[u8]) {
        if 4 + bytes.len() > BUF {
            // Longer than the buffer: hashed where it lies, after what is
            // gathered.
            self.h.update(&self.buf[..self.len]);
            self.len = 0;
            self.h.update(&(bytes.len() as u32).to_le_bytes());
            self.h.update(bytes);
            self.n += 1;
            return;
        }
        let body = self.frame(bytes.len());
        self.buf[body..body + bytes.len()].copy_from_slice(bytes);
    }

    /// Adds the record of `words` (its bytes in memory order) with word
    /// `zeroed` read as 0: the same digest as [`add`](Self::add) of those
    /// bytes. Each word is stored on its own, so a record just stamped word by
    /// word is not copied out with wide loads that would wait on the stamps.
    #[inline]
    pub fn add_words<const N: usize>(&mut self, words: &[u64; N], zeroed: usize) {
        const { assert!(4 + 8 * N <= BUF, "a record of words fits the buffer") };
        let body = self.frame(8 * N);
        for (k, w) in words.iter().enumerate() {
            let w = if k == zeroed { 0 } else { *w };
            self.buf[body + 8 * k..body + 8 * k + 8].copy_from_slice(&w.to_ne_bytes());
        }
    }

    /// Makes room in the buffer for a record of `len` bytes (its frame fits
    /// an empty buffer), writes its length prefix and counts it; returns where
    /// its bytes go.
    #[inline]
    fn frame(&mut self, len: usize) -> usize {
        if self.len + 4 + len > BUF {
            self.h.update(&self.buf[..self.len]);
            self.len = 0;
        }
        let at = self.len;
        self.buf[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
        self.len = at + 4 + len;
        self.n += 1;
        at + 4
    }
    /// Records added.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// The digest as 32 lowercase hex characters.
    pub fn hex(&self) -> String {
        let mut h = self.h.clone();
        h.update(&self.buf[..self.len]);
        format!("{:032x}", h.digest128())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_boundaries_matter() {
        let mut a = StreamDigest::default();
        a.add(b"ab");
        a.add(b"c");
        let mut b = StreamDigest::default();
        b.add(b"a");
        b.add(b"bc");
        assert_ne!(a.hex(), b.hex());
        let mut c = StreamDigest::default();
        c.add(b"ab");
        c.add(b"c");
        assert_eq!(a.hex(), c.hex());
        assert_eq!(a.hex().len(), 32);
    }

    /// A record added by its words, one word zeroed, hashes as its bytes with
    /// that word zeroed, across the buffer's edge.
    #[test]
    fn words_hash_as_their_bytes() {
        let (mut a, mut b) = (StreamDigest::default(), StreamDigest::default());
        for i in 0..200u64 {
            let w: [u64; 8] = std::array::from_fn(|k| (i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k as u64);
            a.add_words(&w, 2);
            let mut z = w;
            z[2] = 0;
            b.add(bytemuck::bytes_of(&z));
            if i % 3 == 0 {
                a.add(b"between");
                b.add(b"between");
            }
        }
        assert_eq!(a.hex(), b.hex());
        assert_eq!(a.count(), b.count());
    }

    proptest::proptest! {
        /// The buffered digest is XXH3-128 over the framed records written out
        /// whole (each record's length as u32 LE, then its bytes), whatever the
        /// records' sizes — around and past the buffer's — and however often
        /// it is read on the way.
        #[test]
        fn equals_xxh3_over_the_framed_stream(
            sizes in proptest::collection::vec(proptest::prop_oneof![
                8 => 0usize..100, 1 => 4000usize..4100, 1 => 4100usize..9000
            ], 0..60),
            peek in 0usize..60,
        ) {
            let mut d = StreamDigest::default();
            let mut whole = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let rec: Vec<u8> = (0..n).map(|k| (k * 31 + i * 7) as u8).collect();
                d.add(&rec);
                whole.extend_from_slice(&(n as u32).to_le_bytes());
                whole.extend_from_slice(&rec);
                if i == peek {
                    proptest::prop_assert_eq!(d.hex(), format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&whole)));
                }
            }
            proptest::prop_assert_eq!(d.hex(), format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&whole)));
            proptest::prop_assert_eq!(d.count(), sizes.len() as u64);
        }
    }
}
