//! A sequence lock over a block of atomic words, for one writer and any number of
//! readers in other processes (the stats file).
//!
//! Word 0 is the version. The writer makes it odd, stores the data, and makes it
//! even again; a reader reads the version, copies the data, and reads the version
//! again, keeping the copy only if both reads are the same even number. Every data
//! word is itself an atomic (relaxed), so a torn copy is detected and retried,
//! never undefined behaviour. The writer never waits; a reader retries at most
//! while a write is in progress.
//!
//! ```text
//! writer:  v = ver + 1 (odd, Relaxed) ; fence(Release) ; data (Relaxed) ; ver = v + 1 (Release)
//! reader:  v1 = ver (Acquire) ; data (Relaxed) ; fence(Acquire) ; v2 = ver (Relaxed) ; ok iff v1 == v2, even
//! ```

#[cfg(loom)]
use loom::sync::atomic::{fence, AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Publishes `data` into `block[1..]` under the version in `block[0]`. Only one
/// writer may call this for a block. `data` may be shorter than the block.
pub fn write(block: &[AtomicU64], data: &[u64]) {
    let v = block[0].load(Ordering::Relaxed);
    block[0].store(v.wrapping_add(1), Ordering::Relaxed);
    // Orders the odd version before the data stores (a reader that sees new data
    // then also sees the odd or a later version on its second read).
    fence(Ordering::Release);
    for (w, &d) in block[1..].iter().zip(data) {
        w.store(d, Ordering::Relaxed);
    }
    block[0].store(v.wrapping_add(2), Ordering::Release);
}

/// Copies a consistent snapshot of `block[1..]` into `out` (up to its length).
/// Returns false if `tries` attempts all met a write in progress.
pub fn read(block: &[AtomicU64], out: &mut [u64], tries: usize) -> bool {
    for _ in 0..tries {
        let v1 = block[0].load(Ordering::Acquire);
        if v1 & 1 == 1 {
            spin();
            continue;
        }
        for (o, w) in out.iter_mut().zip(&block[1..]) {
            *o = w.load(Ordering::Relaxed);
        }
        // Orders the data loads before the second version load.
        fence(Ordering::Acquire);
        if block[0].load(Ordering::Relaxed) == v1 {
            return true;
        }
        spin();
    }
    false
}

#[inline]
fn spin() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_round_trips() {
        let b: Vec<AtomicU64> = (0..4).map(|_| AtomicU64::new(0)).collect();
        write(&b, &[1, 2, 3]);
        let mut out = [0u64; 3];
        assert!(read(&b, &mut out, 1));
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(b[0].load(Ordering::Relaxed), 2);
        // A write in progress (odd version) is never read as a snapshot.
        b[0].store(3, Ordering::Relaxed);
        assert!(!read(&b, &mut out, 3));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// One writer publishes (1, 1) then (2, 2); a concurrent reader's successful
    /// snapshot is always one of the published pairs (or the initial zeros), never a
    /// mix of two writes.
    #[test]
    fn loom_seqlock_snapshots_are_never_torn() {
        loom::model(|| {
            let b: Arc<Vec<AtomicU64>> = Arc::new((0..3).map(|_| AtomicU64::new(0)).collect());
            let w = b.clone();
            let writer = loom::thread::spawn(move || {
                write(&w, &[1, 1]);
                write(&w, &[2, 2]);
            });
            let mut out = [0u64; 2];
            if read(&b, &mut out, 2) {
                assert_eq!(out[0], out[1], "torn snapshot {out:?}");
            }
            writer.join().unwrap();
            assert!(read(&b, &mut out, 1));
            assert_eq!(out, [2, 2]);
        });
    }
}
