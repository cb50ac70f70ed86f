//! One-way hop of an `rtrb` ring between two pinned threads and of the
//! shared-memory ring between two pinned processes, measured the same way.

use super::common::{pct, pin};
use hdrhistogram::Histogram;

/// The echo side of the shm ring ping-pong, run as a separate process:
/// `foxtrot-perf ring-echo IN OUT [core]`.
pub fn echo(opts: &crate::RingEchoArgs) {
    pin(opts.core);
    let mut rx = foxtrot_shm::ShmRing::open(&opts.input)
        .expect("open in ring")
        .consumer();
    let mut tx = foxtrot_shm::ShmRing::open(&opts.output)
        .expect("open out ring")
        .producer();
    let mut stop = false;
    while !stop {
        rx.pop_batch(1, |p| {
            stop = p[0] == u64::MAX;
            let w = [p[0]];
            while !tx.try_push(&w) {
                std::hint::spin_loop();
            }
        });
    }
}

/// One-way hop latency (RTT/2 of a ping-pong) of an `rtrb` ring between two pinned
/// threads, and of the shm ring between two pinned processes, measured the same way.
pub fn hop(opts: &crate::RingHopArgs) {
    let json = opts.json;
    let trips: u64 = opts.trips;
    let cores: Vec<usize> = opts.cores.clone();
    let (ca, cb) = (cores.first().copied(), cores.get(1).copied());
    let clock = quanta::Clock::new();
    let new_hist = || Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("static bounds");

    // rtrb: two threads.
    let (mut a_tx, mut b_rx) = rtrb::RingBuffer::<u64>::new(1024);
    let (mut b_tx, mut a_rx) = rtrb::RingBuffer::<u64>::new(1024);
    let echo = std::thread::spawn(move || {
        pin(cb);
        loop {
            if let Ok(v) = b_rx.pop() {
                while b_tx.push(v).is_err() {
                    std::hint::spin_loop();
                }
                if v == u64::MAX {
                    return;
                }
            } else {
                std::hint::spin_loop();
            }
        }
    });
    pin(ca);
    let mut h_rtrb = new_hist();
    for i in 0..trips + 10_000 {
        let t0 = clock.raw();
        while a_tx.push(i).is_err() {}
        loop {
            if a_rx.pop().is_ok() {
                break;
            }
            std::hint::spin_loop();
        }
        if i >= 10_000 {
            h_rtrb.saturating_record((clock.delta_as_nanos(t0, clock.raw()) / 2).max(1));
        }
    }
    let _ = a_tx.push(u64::MAX);
    let _ = echo.join();

    // shm: two processes.
    let dir = std::env::temp_dir();
    let (p_in, p_out) = (
        dir.join(format!("foxtrot-hop-a-{}", std::process::id())),
        dir.join(format!("foxtrot-hop-b-{}", std::process::id())),
    );
    let mut tx = foxtrot_shm::ShmRing::create(&p_in, 1024, 2).expect("ring").producer();
    let mut rx = foxtrot_shm::ShmRing::create(&p_out, 1024, 2).expect("ring").consumer();
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .arg("ring-echo")
        .arg(&p_in)
        .arg(&p_out)
        .args(cb.map(|c| format!("--core={c}")))
        .spawn()
        .expect("spawn echo process");
    let mut h_shm = new_hist();
    for i in 0..trips + 10_000 {
        let t0 = clock.raw();
        while !tx.try_push(&[i]) {}
        while rx.pop_batch(1, |_| {}) == 0 {
            std::hint::spin_loop();
        }
        if i >= 10_000 {
            h_shm.saturating_record((clock.delta_as_nanos(t0, clock.raw()) / 2).max(1));
        }
    }
    while !tx.try_push(&[u64::MAX]) {}
    let _ = child.wait();
    let _ = std::fs::remove_file(&p_in);
    let _ = std::fs::remove_file(&p_out);
    let (r, m) = (pct(&h_rtrb), pct(&h_shm));
    let ratio = m[0] as f64 / r[0].max(1) as f64;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "rtrb_threads": {"p50": r[0], "p99": r[1], "p999": r[2], "max": r[3]},
                "shm_processes": {"p50": m[0], "p99": m[1], "p999": m[2], "max": m[3]},
                "ratio_p50": ratio, "trips": trips, "cores": cores,
            })
        );
    } else {
        println!("one-way hop (RTT/2), {trips} round trips, cores {cores:?}");
        println!(
            "  rtrb, two threads      p50 {:>5} ns  p99 {:>6} ns  p99.9 {:>6} ns  max {:>8} ns",
            r[0], r[1], r[2], r[3]
        );
        println!(
            "  shm ring, two procs    p50 {:>5} ns  p99 {:>6} ns  p99.9 {:>6} ns  max {:>8} ns",
            m[0], m[1], m[2], m[3]
        );
        println!("  shm / rtrb at p50      {ratio:.2}x");
    }
}
