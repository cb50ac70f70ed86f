//! The ring protocol over a slice of atomic words — the same code on shared memory
//! and under `loom`.

use super::layout::{CONSUMER_POS, PRODUCER_POS, SLOTS};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

/// Geometry of a ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Slots (a power of two).
    pub capacity: u64,
    /// Words per slot, commit word included (≥ 2).
    pub slot_words: usize,
}

impl Geometry {
    #[inline]
    fn slot(&self, pos: u64) -> usize {
        SLOTS + (pos & (self.capacity - 1)) as usize * self.slot_words
    }
    /// Payload words per record.
    pub fn payload_words(&self) -> usize {
        self.slot_words - 1
    }
}

/// Producer state: its position and a cache of the consumer's.
#[derive(Debug)]
pub struct ProducerState {
    /// Next position to write.
    pub pos: u64,
    /// Last consumer position read; refreshed only when the ring looks full.
    pub cached_consumer: u64,
}

/// Tries to write one record. `payload` must be `payload_words` long. Returns
/// false (and writes nothing) when the ring is full.
#[inline]
pub fn try_push(w: &[AtomicU64], g: Geometry, st: &mut ProducerState, payload: &[u64]) -> bool {
    debug_assert_eq!(payload.len(), g.payload_words());
    if st.pos - st.cached_consumer >= g.capacity {
        st.cached_consumer = w[CONSUMER_POS].load(Ordering::Acquire);
        if st.pos - st.cached_consumer >= g.capacity {
            return false;
        }
    }
    let s = g.slot(st.pos);
    for (i, &v) in payload.iter().enumerate() {
        w[s + 1 + i].store(v, Ordering::Relaxed);
    }
    // Commit point: the record is visible to a consumer that reads pos + 1 here.
    w[s].store(st.pos + 1, Ordering::Release);
    st.pos += 1;
    // Advisory (monitoring, restart hint): nothing synchronises on it.
    w[PRODUCER_POS].store(st.pos, Ordering::Relaxed);
    true
}

/// Where a (re)starting producer writes next: the advisory producer position,
/// moved past every record already committed after it (a producer that died
/// between its commit and its position store left one).
pub fn resume_position(w: &[AtomicU64], g: Geometry) -> u64 {
    let mut pos = w[PRODUCER_POS].load(Ordering::Relaxed);
    while w[g.slot(pos)].load(Ordering::Acquire) == pos + 1 {
        pos += 1;
    }
    pos
}

/// Reads every committed record (up to `max`) in order, handing each to `f`, then
/// publishes the consumer position once for the batch. Returns how many it read.
#[inline]
pub fn pop_batch(w: &[AtomicU64], g: Geometry, pos: &mut u64, max: usize, mut f: impl FnMut(&[AtomicU64])) -> usize {
    let mut n = 0;
    while n < max {
        let s = g.slot(*pos);
        if w[s].load(Ordering::Acquire) != *pos + 1 {
            break;
        }
        f(&w[s + 1..s + g.slot_words]);
        *pos += 1;
        n += 1;
    }
    if n > 0 {
        // Frees the slots read: the producer's acquire load of this pairs with it.
        w[CONSUMER_POS].store(*pos, Ordering::Release);
    }
    n
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    fn ring(capacity: u64, slot_words: usize) -> (Arc<Vec<AtomicU64>>, Geometry) {
        let g = Geometry { capacity, slot_words };
        let n = super::super::layout::total_words(capacity, slot_words);
        (Arc::new((0..n).map(|_| AtomicU64::new(0)).collect()), g)
    }

    /// A producer pushing three two-word records through a two-slot ring (so it
    /// laps and must wait for the consumer), a consumer popping them: every
    /// interleaving delivers every record once, in order, with both words intact.
    #[test]
    fn loom_publish_consume() {
        loom::model(|| {
            let (w, g) = ring(2, 3);
            let wp = w.clone();
            let producer = loom::thread::spawn(move || {
                let mut st = ProducerState {
                    pos: 0,
                    cached_consumer: 0,
                };
                for i in 1..=3u64 {
                    while !try_push(&wp, g, &mut st, &[i, i * 100]) {
                        loom::thread::yield_now();
                    }
                }
            });
            let mut pos = 0u64;
            let mut got = Vec::new();
            while got.len() < 3 {
                let n = pop_batch(&w, g, &mut pos, 8, |p| {
                    got.push((p[0].load(Ordering::Relaxed), p[1].load(Ordering::Relaxed)));
                });
                if n == 0 {
                    loom::thread::yield_now();
                }
            }
            producer.join().unwrap();
            assert_eq!(got, vec![(1, 100), (2, 200), (3, 300)]);
        });
    }

    /// The producer never overwrites a slot the consumer has not released: with a
    /// one-slot ring, the second push must fail until the first record is read.
    #[test]
    fn loom_full_ring_waits_for_release() {
        loom::model(|| {
            let (w, g) = ring(1, 2);
            let wp = w.clone();
            let producer = loom::thread::spawn(move || {
                let mut st = ProducerState {
                    pos: 0,
                    cached_consumer: 0,
                };
                assert!(try_push(&wp, g, &mut st, &[7]));
                while !try_push(&wp, g, &mut st, &[8]) {
                    loom::thread::yield_now();
                }
            });
            let mut pos = 0;
            let mut got = Vec::new();
            while got.len() < 2 {
                if pop_batch(&w, g, &mut pos, 1, |p| got.push(p[0].load(Ordering::Relaxed))) == 0 {
                    loom::thread::yield_now();
                }
            }
            producer.join().unwrap();
            assert_eq!(got, vec![7, 8]);
        });
    }
}
