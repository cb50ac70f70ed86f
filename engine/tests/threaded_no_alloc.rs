//! No heap allocation per input in the threaded runtime's hot path.
//!
//! A counting global allocator (one atomic count over every thread) wraps the
//! system allocator for this test binary, which holds this one test so nothing
//! else allocates meanwhile. An input observer on ingest's thread reads the
//! count when input 50,000 is sequenced and again at input 230,000: between the
//! two, no thread of the run — ingest, the stage threads, the stats thread —
//! may allocate. (Set-up and the summary at the end allocate, outside the window.)

use foxtrot_engine::config::{Layout as StageLayout, StageName};
use foxtrot_engine::records::InputSlot;
use foxtrot_engine::runtime::run_threaded;
use foxtrot_engine::Config;
use foxtrot_venue::SimWorld;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Reads the allocation count when ingest sequences input `FROM` and input `TO`.
struct Window {
    seen: u64,
    at_from: u64,
    at_to: u64,
}

const FROM: u64 = 50_000;
const TO: u64 = 230_000;

impl foxtrot_engine::runtime::RunObserver for Window {
    fn on_input(&mut self, _: &InputSlot) {
        self.seen += 1;
        if self.seen == FROM {
            self.at_from = ALLOCS.load(Ordering::SeqCst);
        }
        if self.seen == TO {
            self.at_to = ALLOCS.load(Ordering::SeqCst);
        }
    }
}

#[test]
fn threaded_runs_allocate_nothing_after_warm_up() {
    use StageName::*;
    for layout in [
        StageLayout::Named("per_stage".into()),
        StageLayout::Groups(vec![vec![Ingest, Sensory, Belief], vec![Decide, Encode]]),
        StageLayout::Named("fused".into()),
    ] {
        let mut c = Config::default_sim();
        c.gen.events = 240_000;
        c.flags.fast_weights = true;
        c.flags.linear_attention = true;
        c.runtime.layout = layout.clone();
        c.runtime.ring_capacity = 64;
        c.runtime.batch = 16;
        let world = SimWorld::new(&c);
        let stop = AtomicBool::new(false);
        let w = Window {
            seen: 0,
            at_from: 0,
            at_to: 0,
        };
        let out = run_threaded(&c, world, w, (), &stop).expect("runs");
        let w = out.input_observer;
        assert!(w.seen > TO, "{layout:?}: only {} inputs", w.seen);
        assert!(out.summary.order_hash.1 > 1000, "the window saw orders and fills");
        assert_eq!(
            w.at_to - w.at_from,
            0,
            "{layout:?}: allocations on any thread between input {FROM} and input {TO}"
        );
    }
}
