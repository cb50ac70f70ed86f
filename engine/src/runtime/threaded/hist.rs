//! Per-thread latency histograms, swapped with the stats thread over SPSC rings
//! so that recording never shares a cache line and merging happens off the hot
//! path.

use hdrhistogram::Histogram;
use rtrb::{Consumer, Producer, RingBuffer};

/// The histogram every thread records into (ns, 1 ns .. 10 s, 3 digits).
pub(super) type Hist = Histogram<u64>;

pub(super) fn new_hist() -> Hist {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("static histogram bounds are valid")
}

/// A thread's histogram with the rings to swap it with the stats thread.
pub(super) struct HistSlot {
    pub(super) hist: Hist,
    pub(super) fresh: Consumer<Hist>,
    pub(super) used: Producer<Hist>,
}

/// The stats thread's end of a [`HistSlot`].
pub(super) struct HistFeed {
    pub(super) name: String,
    pub(super) fresh: Producer<Hist>,
    pub(super) used: Consumer<Hist>,
    pub(super) total: Hist,
}

pub(super) fn hist_pair(name: String) -> (HistSlot, HistFeed) {
    let (mut ftx, frx) = RingBuffer::new(2);
    let (utx, urx) = RingBuffer::new(4);
    for _ in 0..2 {
        let _ = ftx.push(new_hist());
    }
    (
        HistSlot {
            hist: new_hist(),
            fresh: frx,
            used: utx,
        },
        HistFeed {
            name,
            fresh: ftx,
            used: urx,
            total: new_hist(),
        },
    )
}

impl HistSlot {
    /// Hands the filled histogram to the stats thread if it has sent an empty one
    /// (two ring operations, no allocation).
    #[inline]
    pub(super) fn maybe_swap(&mut self) {
        if self.used.slots() > 0 {
            if let Ok(mut h) = self.fresh.pop() {
                std::mem::swap(&mut self.hist, &mut h);
                let _ = self.used.push(h);
            }
        }
    }
}

impl HistFeed {
    /// Merges what the thread handed over and sends back emptied histograms.
    pub(super) fn collect(&mut self) {
        while let Ok(mut h) = self.used.pop() {
            let _ = self.total.add(&h);
            h.reset();
            let _ = self.fresh.push(h);
        }
    }
}
