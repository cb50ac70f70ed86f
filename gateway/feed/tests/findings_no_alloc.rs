//! A live feed's findings cost the thread that reads the feed no allocation:
//! [`FindingLog::note`] counts and hands each to the teller thread, which
//! formats and logs it (`findings.rs`).
//!
//! A counting global allocator wraps the system allocator for this test
//! binary, counting per thread: the teller's lines are its own.

use foxtrot_engine::records::{DqCode, DqEvent};
use foxtrot_feed::findings::FindingLog;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Const-initialised with no destructor: reading it never allocates.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn noting_findings_allocates_nothing_on_the_feeds_thread() {
    // Lines are formatted and written, as in a run (on the teller's thread).
    let _ = tracing_subscriber::fmt().with_writer(std::io::sink).try_init();
    let mut log = FindingLog::new("mold:127.0.0.1:26400", vec!["FOXA".into()]);
    let codes = [DqCode::Gap, DqCode::Decode, DqCode::OutOfOrder, DqCode::Invalid];
    let before = allocs();
    for k in 0..100_000u64 {
        let d = DqEvent::new(codes[k as usize % codes.len()], 0, k, k as i64, 3);
        log.note(&d);
    }
    let during = allocs() - before;
    log.finish();
    assert_eq!(
        during, 0,
        "allocations on the feed's thread while noting 100,000 findings"
    );
    assert_eq!(log.counts().total(), 100_000);
}
