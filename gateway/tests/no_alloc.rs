//! No heap allocation per event in the fused loop after warm-up.
//!
//! A counting global allocator wraps the system allocator for this test binary.
//! The fused run (simulated world + sequencer + every core stage + encoder +
//! diary + digests + latency histogram) warms up, then runs well over 100k more
//! events while the count of allocations must not move.

use foxtrot_engine::runtime::FusedRun;
use foxtrot_engine::Config;
use foxtrot_gateway::SimWorld;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel cannot disturb each other's count.
    // Const-initialised with no destructor: reading it never allocates.
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
fn fused_loop_allocates_nothing_after_warm_up() {
    let mut cfg = Config::default_sim();
    cfg.gen.events = 400_000;
    measure(&cfg);
}

#[test]
fn with_every_flag_on_and_a_corrupt_feed_too() {
    let mut cfg = Config::default_sim();
    cfg.gen.events = 400_000;
    cfg.gen.adversarial.enabled = true;
    cfg.flags = foxtrot_engine::config::Flags {
        fast_weights: true,
        linear_attention: true,
        exploration: true,
        auto_feedback: true,
    };
    measure(&cfg);
}

fn measure(cfg: &Config) {
    let cfg = cfg.clone();
    let mut run = FusedRun::new(&cfg, SimWorld::new(&cfg));
    for _ in 0..50_000 {
        assert!(run.step());
    }
    let orders_before = run.summary().order_hash.1;
    let inputs_before = run.core().counters().inputs;
    let before = allocs();
    let mut steps = 0u64;
    while steps < 250_000 && run.step() {
        steps += 1;
    }
    let after = allocs();
    let inputs = run.core().counters().inputs - inputs_before;
    let orders = run.summary().order_hash.1 - orders_before;
    assert!(inputs >= 100_000, "measured only {inputs} inputs");
    assert!(
        orders > 100,
        "the measured window must include trading, had {orders} orders"
    );
    assert_eq!(after - before, 0, "{} allocations over {inputs} inputs", after - before);
}

#[test]
fn the_counter_counts() {
    // The allocator above is live: a fresh Vec is seen.
    let before = allocs();
    let v: Vec<u64> = std::hint::black_box(Vec::with_capacity(16));
    drop(v);
    assert!(allocs() > before);
}

/// The feed handler's path — MoldUDP64 packets through the sequencer, ITCH
/// decoding, the normaliser's order map and the books — allocates nothing once
/// every instrument has been seen.
#[test]
fn itch_over_mold_allocates_nothing_after_warm_up() {
    use foxtrot_gateway::itch::gen::{ItchGen, ItchGenConfig};
    use foxtrot_gateway::itch::mold::{MoldEvent, PacketWriter, Sequencer};
    use foxtrot_gateway::itch::{decode, ItchBook, Subscription};
    let msgs: Vec<Vec<u8>> = ItchGen::new(ItchGenConfig {
        seed: 4,
        messages: 300_000,
        ..ItchGenConfig::default()
    })
    .collect();
    let mut w = PacketWriter::new("NOALLOC", 1, 1400);
    let mut packets: Vec<Vec<u8>> = msgs.iter().filter_map(|m| w.push(m)).collect();
    packets.extend(w.flush());
    // Out of order in pairs, so the reordering slots are used too.
    for pair in packets.chunks_mut(2).skip(100).step_by(7) {
        pair.reverse();
    }
    let mut seq = Sequencer::new(1, 8);
    let mut book = ItchBook::new(Subscription::All, 1 << 20, 0, 100, 4096);
    let (mut events, mut issues) = (0u64, 0u64);
    let mut feed = |seq: &mut Sequencer, book: &mut ItchBook, p: &[u8]| {
        seq.push(p, &mut |e| {
            if let MoldEvent::Message { msg, .. } = e {
                if let Ok(m) = decode(msg) {
                    if book.apply(&m, &mut |_, _| events += 1).is_err() {
                        issues += 1;
                    }
                }
            }
        })
        .unwrap();
    };
    let warm = packets.len() / 5;
    for p in &packets[..warm] {
        feed(&mut seq, &mut book, p);
    }
    let before = allocs();
    for p in &packets[warm..] {
        feed(&mut seq, &mut book, p);
    }
    let after = allocs();
    assert_eq!(after - before, 0, "{} allocations", after - before);
    assert!(seq.stats().reordered > 100 && seq.stats().gaps == 0);
    assert!(events > 200_000 && issues == 0, "{events} events, {issues} issues");
}
