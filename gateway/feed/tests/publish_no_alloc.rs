//! No heap allocation per message in the MoldUDP64 publisher once its history
//! has filled: `foxtrot venue` publishes every book change through it.
//!
//! A counting global allocator wraps the system allocator for this test binary.

use foxtrot_feed::itch::publish::MoldPublisher;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel cannot disturb each other's count.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    ALLOCS.with(|c| c.set(c.get() + 1));
}

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn publishing_allocates_nothing_once_the_history_is_full() {
    // A receiver that never reads: sends succeed until its buffer fills, then
    // are dropped (counted) — both paths run.
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut p = MoldPublisher::new("NOALLOC001", sink.local_addr().unwrap(), Some(rtx), 10_000).unwrap();
    // ITCH-sized messages of varying length (an add order is 36 bytes).
    let msgs: Vec<Vec<u8>> = (0..64u8).map(|k| vec![k; 20 + (k as usize * 7) % 31]).collect();
    let publish = |p: &mut MoldPublisher, n: usize| {
        for i in 0..n {
            p.push(&msgs[i % msgs.len()]);
            if i % 5 == 4 {
                p.flush();
            }
        }
    };
    // Warm-up: the history fills (and its ring grows to hold it) twice over.
    publish(&mut p, 30_000);
    let before = allocs();
    publish(&mut p, 200_000);
    let after = allocs();
    assert!(p.stats().packets + p.stats().dropped > 40_000, "{:?}", p.stats());
    assert_eq!(after - before, 0, "allocations while publishing 200k messages");
}
