//! Running digests of output streams, so two runs can be compared by one line.

use xxhash_rust::xxh3::Xxh3;

/// A streaming 128-bit XXH3 digest over a sequence of records, with a count.
///
/// Each record is hashed with its length prefix, so a stream of records cannot
/// collide with a different split of the same bytes.
pub struct StreamDigest {
    h: Xxh3,
    n: u64,
}

impl Default for StreamDigest {
    fn default() -> Self {
        StreamDigest { h: Xxh3::new(), n: 0 }
    }
}

impl StreamDigest {
    /// Adds one record.
    #[inline]
    pub fn add(&mut self, bytes: &[u8]) {
        self.h.update(&(bytes.len() as u32).to_le_bytes());
        self.h.update(bytes);
        self.n += 1;
    }
    /// Records added.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// The digest as 32 lowercase hex characters.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.h.digest128())
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
}
