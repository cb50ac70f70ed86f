//! One-way hop between two pinned threads: the cache-line floor and an `rtrb` ring.

use super::common::{pct, pin};
use hdrhistogram::Histogram;

/// A cache line of its own.
#[repr(align(128))]
struct Line(std::sync::atomic::AtomicU64);

/// One-way hop between two pinned threads: a bare cache-line ping-pong (the
/// physical floor: one line bouncing between the two cores' caches), then an
/// `rtrb` ring each way measured the same way. Each round trip is timed with
/// the TSC; one-way = round trip / 2. Prints p50/p99 of both and their ratio.
pub fn run(opts: &crate::HopArgs) {
    use std::sync::atomic::Ordering::{Acquire, Release};
    let json = opts.json;
    let trips: u64 = opts.trips;
    let c = opts.cores.clone();
    let (a, b) = (c.first().copied(), c.get(1).copied());
    let clock = quanta::Clock::new();
    let warm = trips / 10;

    // Floor: A writes i to `ping`, B echoes it to `pong`.
    let ping = Line(std::sync::atomic::AtomicU64::new(0));
    let pong = Line(std::sync::atomic::AtomicU64::new(0));
    let mut floor = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(b);
            for i in 1..=trips + warm {
                while ping.0.load(Acquire) != i {
                    std::hint::spin_loop();
                }
                pong.0.store(i, Release);
            }
        });
        pin(a);
        for i in 1..=trips + warm {
            let t = clock.raw();
            ping.0.store(i, Release);
            while pong.0.load(Acquire) != i {
                std::hint::spin_loop();
            }
            if i > warm {
                floor.saturating_record((clock.delta_as_nanos(t, clock.raw()) / 2).max(1));
            }
        }
    });

    // rtrb: a ring each way, one u64 per message.
    let (mut tx_ab, mut rx_ab) = rtrb::RingBuffer::<u64>::new(1024);
    let (mut tx_ba, mut rx_ba) = rtrb::RingBuffer::<u64>::new(1024);
    let mut ring = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).unwrap();
    std::thread::scope(|s| {
        s.spawn(move || {
            pin(b);
            for _ in 1..=trips + warm {
                let v = loop {
                    if let Ok(v) = rx_ab.pop() {
                        break v;
                    }
                    std::hint::spin_loop();
                };
                while tx_ba.push(v).is_err() {
                    std::hint::spin_loop();
                }
            }
        });
        pin(a);
        for i in 1..=trips + warm {
            let t = clock.raw();
            while tx_ab.push(i).is_err() {
                std::hint::spin_loop();
            }
            loop {
                if rx_ba.pop().is_ok() {
                    break;
                }
                std::hint::spin_loop();
            }
            if i > warm {
                ring.saturating_record((clock.delta_as_nanos(t, clock.raw()) / 2).max(1));
            }
        }
    });
    let (f, r) = (pct(&floor), pct(&ring));
    let ratio = r[0] as f64 / f[0].max(1) as f64;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "cores": c, "trips": trips,
                "floor_one_way_ns": {"p50": f[0], "p99": f[1], "p999": f[2], "max": f[3]},
                "rtrb_one_way_ns": {"p50": r[0], "p99": r[1], "p999": r[2], "max": r[3]},
                "ratio_p50": ratio,
                "ratio_p99": r[1] as f64 / f[1].max(1) as f64,
            })
        );
    } else {
        println!("one-way hop between cores {a:?} and {b:?}, {trips} round trips each (one-way = RTT/2):");
        println!(
            "  cache-line ping-pong (floor)  p50 {:>5} ns  p99 {:>5} ns  p99.9 {:>6} ns",
            f[0], f[1], f[2]
        );
        println!(
            "  rtrb ring                     p50 {:>5} ns  p99 {:>5} ns  p99.9 {:>6} ns",
            r[0], r[1], r[2]
        );
        println!(
            "  ratio rtrb / floor            p50 {:.2}x     p99 {:.2}x",
            ratio,
            r[1] as f64 / f[1].max(1) as f64
        );
    }
}
