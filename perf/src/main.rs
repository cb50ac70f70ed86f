//! foxtrot-perf: latency distributions of the hot path, measured with the TSC into
//! HDR histograms.
//!
//! `foxtrot-perf tick-to-order [--events N] [--seed S] [--json]`
//!
//! Records a simulated session (market data, execution reports, timers), keeps the
//! market data as the 64-byte native wire records, then replays every input through
//! a fresh core on this thread — exactly the fused path: decode → sequence → book →
//! sensory → belief → router → risk → FIX encode. For each input it takes a TSC stamp
//! before decoding, and a second one when the first order the input causes has been
//! encoded (tick-to-order), or when the core returns (per-input cost). The replayed
//! core reproduces the recorded run's decisions exactly (the core is deterministic),
//! so the orders measured are the ones the live run sent.
//!
//! Targets live in `perf/slo.txt`; the harness prints each figure beside its target.

use foxtrot_engine::core::{Core, CoreSink, Sequencer};
use foxtrot_engine::records::{DiaryRecord, InputSlot, InputView, Order, RiskReject, TheoryPacket};
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_gateway::feed::native::{decode_record, encode_record, BLOCK};
use foxtrot_gateway::SimWorld;
use hdrhistogram::Histogram;

#[derive(Default)]
struct Recorder(Vec<InputSlot>);
impl RunObserver for Recorder {
    fn on_input(&mut self, s: &InputSlot) {
        self.0.push(*s);
    }
}

/// One recorded input, as it arrives: market data as wire bytes, the rest as slots.
enum Wire {
    Md([u8; BLOCK]),
    Other(InputSlot),
}

struct Stamp<'a> {
    clock: &'a quanta::Clock,
    first_order: Option<u64>,
    orders: u64,
}

impl CoreSink for Stamp<'_> {
    #[inline]
    fn on_order(&mut self, _o: &Order, wire: &[u8]) {
        if self.first_order.is_none() {
            self.first_order = Some(self.clock.raw());
        }
        self.orders += wire.len() as u64;
    }
    fn on_reject(&mut self, _r: &RiskReject) {}
    fn on_diary(&mut self, _d: &DiaryRecord) {}
    fn on_theory(&mut self, _p: &TheoryPacket) {}
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(h: &Histogram<u64>) -> [u64; 4] {
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("tick-to-order") => tick_to_order(&args),
        Some("journal-append") => journal_append(&args),
        Some("ring-hop") => ring_hop(&args),
        Some("journal-read") => journal_read(&args),
        Some("ring-echo") => ring_echo(&args),
        Some("hop") => hop(&args),
        Some("pipeline") => pipeline(&args),
        Some("fix-rtt") => fix_rtt(&args),
        _ => {
            eprintln!("usage: foxtrot-perf tick-to-order [--events N] [--seed S] [--passes P] [--json]");
            eprintln!("       foxtrot-perf journal-append [--records N] [--payload BYTES] [--dir DIR] [--json]");
            eprintln!("       foxtrot-perf ring-hop [--trips N] [--cores A,B] [--json]");
            eprintln!("       foxtrot-perf journal-read [--records N]");
            eprintln!("       foxtrot-perf hop [--trips N] [--cores A,B] [--json]");
            eprintln!("       foxtrot-perf pipeline [--events N] [--cores A,B,..] [--groups 2|5] [--wait W] [--json]");
            eprintln!("       foxtrot-perf fix-rtt --connect ADDR [--config FILE] [--orders N] [--warmup N] [--label L] [--json]");
            std::process::exit(2);
        }
    }
}

/// Appends records with `--payload` bytes (default 64; 32 makes 64-byte records
/// with the 32-byte header) to a prefaulted journal (page cache, durability none).
/// First pass: each append timed with the TSC, for p50/p99/p99.9/max. Second pass,
/// into a new journal: untimed, for the sustained rate across segment rolls, with
/// the rate of every window of 2^20 records so a slow stretch cannot hide in the
/// average.
fn journal_append(args: &[String]) {
    let json = args.iter().any(|a| a == "--json");
    let n: u64 = arg(args, "--records", 10_000_000u64);
    let payload_len: usize = arg(args, "--payload", 64usize).min(4096);
    let dir: std::path::PathBuf =
        arg(args, "--dir", std::env::temp_dir()).join(format!("foxtrot-perf-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let payloads: Vec<Vec<u8>> = (0..4096usize)
        .map(|i| (0..payload_len).map(|j| (i * 131 + j * 7) as u8).collect())
        .collect();
    let record_len = foxtrot_shm::journal::layout::record_len(payload_len);
    let mut w = foxtrot_shm::JournalWriter::open(&dir, foxtrot_shm::JournalConfig::default()).expect("open journal");
    w.warm_up();
    let clock = quanta::Clock::new();
    let mut h = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("static bounds");
    let start = std::time::Instant::now();
    for seq in 1..=n {
        let t0 = clock.raw();
        w.append(1, 0, seq, seq * 1000, &payloads[seq as usize & 4095])
            .expect("append");
        h.saturating_record(clock.delta_as_nanos(t0, clock.raw()).max(1));
    }
    let wall = start.elapsed().as_secs_f64();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
    let mut w = foxtrot_shm::JournalWriter::open(&dir, foxtrot_shm::JournalConfig::default()).expect("open journal");
    w.warm_up();
    let window = 1u64 << 20;
    let mut marks = Vec::with_capacity((n / window) as usize + 1);
    let start = std::time::Instant::now();
    for seq in 1..=n {
        w.append(1, 0, seq, seq * 1000, &payloads[seq as usize & 4095])
            .expect("append");
        if seq % window == 0 {
            marks.push(start.elapsed().as_secs_f64());
        }
    }
    let untimed = start.elapsed().as_secs_f64();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
    let mut windows: Vec<f64> = marks
        .iter()
        .scan(0.0, |prev, m| {
            let r = window as f64 / (m - *prev);
            *prev = *m;
            Some(r)
        })
        .collect();
    windows.sort_by(f64::total_cmp);
    let (slowest, median) = match windows.len() {
        0 => (f64::NAN, f64::NAN),
        k => (windows[0], windows[k / 2]),
    };
    let p = pct(&h);
    if json {
        let j = serde_json::json!({
            "records": n, "payload_bytes": payload_len, "record_bytes": record_len,
            "records_per_sec": n as f64 / untimed, "records_per_sec_timed": n as f64 / wall,
            "window_records": window, "slowest_window_per_sec": slowest, "median_window_per_sec": median,
            "p50": p[0], "p99": p[1], "p999": p[2], "max": p[3],
        });
        println!("{j}");
    } else {
        println!(
            "journal append, {payload_len}-byte payloads ({record_len}-byte records), {n} records ({:.2} GB): sustained {:.1} M records/s across segment rolls ({:.1} M/s with per-append timing)",
            (n * record_len as u64) as f64 / 1e9,
            n as f64 / untimed / 1e6,
            n as f64 / wall / 1e6
        );
        println!(
            "  windows of {window} records: median {:.1} M/s, slowest {:.1} M/s",
            median / 1e6,
            slowest / 1e6
        );
        println!(
            "  per append  p50 {} ns  p99 {} ns  p99.9 {} ns  max {} ns   SLO p99.9 ≤ 1000",
            p[0], p[1], p[2], p[3]
        );
    }
}

/// Reads a journal of 64-byte records end to end (zero-copy, CRC checked) and
/// reports the rate.
fn journal_read(args: &[String]) {
    let n: u64 = arg(args, "--records", 5_000_000u64);
    let dir = std::env::temp_dir().join(format!("foxtrot-perf-read-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut w =
            foxtrot_shm::JournalWriter::open(&dir, foxtrot_shm::JournalConfig::default()).expect("open journal");
        for seq in 1..=n {
            w.append(1, 0, seq, seq, &[seq as u8; 64]).expect("append");
        }
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let mut r = foxtrot_shm::JournalReader::open(&dir).expect("open reader");
        let mut sum = 0u64;
        while let Some(rec) = r.next().expect("read") {
            sum = sum.wrapping_add(rec.payload[0] as u64 + rec.seq);
        }
        std::hint::black_box(sum);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "journal read, 64-byte payloads, {n} records: best of 5 {:.1} M records/s ({:.1} ns/record)",
        n as f64 / best / 1e6,
        best * 1e9 / n as f64
    );
}

/// Pins the current thread to `core`. `core_affinity` is not enough here: it only
/// offers the cores of the current mask, and a child process inherits its parent's
/// (already pinned) mask — so it could never move a child to another core.
fn pin(core: Option<usize>) {
    let Some(c) = core else { return };
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and
    // sched_setaffinity(0, …) act on this thread only, with a correctly sized set.
    let ok = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(c, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    };
    if !ok {
        eprintln!(
            "foxtrot-perf: could not pin to core {c}: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// The echo side of the shm ring ping-pong, run as a separate process:
/// `foxtrot-perf ring-echo IN OUT [core]`.
fn ring_echo(args: &[String]) {
    pin(args.get(4).and_then(|c| c.parse().ok()));
    let mut rx = foxtrot_shm::ShmRing::open(std::path::Path::new(&args[2]))
        .expect("open in ring")
        .consumer();
    let mut tx = foxtrot_shm::ShmRing::open(std::path::Path::new(&args[3]))
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
fn ring_hop(args: &[String]) {
    let json = args.iter().any(|a| a == "--json");
    let trips: u64 = arg(args, "--trips", 200_000u64);
    let cores: Vec<usize> = arg(args, "--cores", "0,1".to_string())
        .split(',')
        .filter_map(|c| c.parse().ok())
        .collect();
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
        .arg(cb.map_or(String::new(), |c| c.to_string()))
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

fn tick_to_order(args: &[String]) {
    let json = args.iter().any(|a| a == "--json");
    let mut cfg = Config::default_sim();
    cfg.gen.events = arg(args, "--events", 500_000u64);
    cfg.gen.seed = arg(args, "--seed", cfg.gen.seed);
    let passes: u32 = arg(args, "--passes", 3);

    let mut run = FusedRun::with_observer(&cfg, SimWorld::new(&cfg), Recorder::default());
    run.run_to_end();
    let inputs: Vec<Wire> = run
        .observer()
        .0
        .iter()
        .map(|s| match s.view() {
            Some(InputView::Md(m)) => Wire::Md(encode_record(m)),
            _ => {
                let mut s = *s;
                s.header_mut().seq = 0;
                Wire::Other(s)
            }
        })
        .collect();
    let n_instruments = cfg.instruments.len() as u32;

    let clock = quanta::Clock::new();
    let mut t2o = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("static bounds");
    let mut per_input = t2o.clone();
    let mut orders = 0u64;
    for _ in 0..passes {
        let mut core = Core::new(&cfg);
        let mut seq = Sequencer::new(1, cfg.timers.tick_ns);
        for w in &inputs {
            let mut sink = Stamp {
                clock: &clock,
                first_order: None,
                orders: 0,
            };
            let t0 = clock.raw();
            let mut slot = match w {
                Wire::Md(b) => match decode_record(b, n_instruments) {
                    Ok(m) => InputSlot::from_md(&m),
                    Err(_) => continue,
                },
                Wire::Other(s) => *s,
            };
            slot.header_mut().tsc = t0;
            seq.stamp(&mut slot);
            core.on_input(&slot, &mut sink);
            let t1 = clock.raw();
            per_input.saturating_record(clock.delta_as_nanos(t0, t1).max(1));
            if let Some(t) = sink.first_order {
                t2o.saturating_record(clock.delta_as_nanos(t0, t).max(1));
                orders += 1;
            }
            std::hint::black_box(sink.orders);
        }
    }
    let (a, b) = (pct(&t2o), pct(&per_input));
    if json {
        let j = serde_json::json!({
            "tick_to_order_ns": {"p50": a[0], "p99": a[1], "p999": a[2], "max": a[3], "samples": t2o.len()},
            "per_input_ns": {"p50": b[0], "p99": b[1], "p999": b[2], "max": b[3], "mean": per_input.mean(), "samples": per_input.len()},
            "inputs_per_pass": inputs.len(), "passes": passes, "order_inputs": orders,
        });
        println!("{j}");
    } else {
        println!("tick-to-order (decode → book → sensory → belief → router → risk → FIX encode), {passes} passes over {} inputs", inputs.len());
        println!("  inputs that sent an order  p50 {:>6} ns  p99 {:>6} ns  p99.9 {:>6} ns  max {:>8} ns  ({} samples)   SLO p50 ≤ 500, p99 ≤ 2000", a[0], a[1], a[2], a[3], t2o.len());
        println!(
            "  every input                p50 {:>6} ns  p99 {:>6} ns  p99.9 {:>6} ns  max {:>8} ns  (mean {:.0} ns)",
            b[0],
            b[1],
            b[2],
            b[3],
            per_input.mean()
        );
    }
}

fn cores(args: &[String], default: &str) -> Vec<usize> {
    arg(args, "--cores", default.to_string())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect()
}

/// A cache line of its own.
#[repr(align(128))]
struct Line(std::sync::atomic::AtomicU64);

/// One-way hop between two pinned threads: a bare cache-line ping-pong (the
/// physical floor: one line bouncing between the two cores' caches), then an
/// `rtrb` ring each way measured the same way. Each round trip is timed with
/// the TSC; one-way = round trip / 2. Prints p50/p99 of both and their ratio.
fn hop(args: &[String]) {
    use std::sync::atomic::Ordering::{Acquire, Release};
    let json = args.iter().any(|a| a == "--json");
    let trips: u64 = arg(args, "--trips", 2_000_000u64);
    let c = cores(args, "0,1");
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

/// Tick-to-order across the threaded pipeline against the simulated venue: the
/// stage groups pinned to the given cores (one per group), `busy_spin` by default.
fn pipeline(args: &[String]) {
    use foxtrot_engine::config::{Layout, StageName::*, WaitStrategy};
    let json = args.iter().any(|a| a == "--json");
    let mut cfg = foxtrot_engine::Config::default_sim();
    cfg.gen.events = arg(args, "--events", 1_000_000u64);
    let groups: usize = arg(args, "--groups", 2usize);
    cfg.runtime.layout = if groups >= 5 {
        Layout::Named("per_stage".into())
    } else {
        Layout::Groups(vec![vec![Ingest, Sensory, Belief], vec![Decide, Encode]])
    };
    let n = if groups >= 5 { 5 } else { 2 };
    let c = cores(args, "");
    if c.len() == n {
        cfg.runtime.cores = c.clone();
    }
    cfg.runtime.wait = match arg(args, "--wait", "busy_spin".to_string()).as_str() {
        "park" => WaitStrategy::Park,
        "spin_then_yield" => WaitStrategy::SpinThenYield,
        _ => WaitStrategy::BusySpin,
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let t0 = std::time::Instant::now();
    let out = foxtrot_engine::runtime::run_threaded::<_, std::iter::Empty<InputSlot>, _, _>(
        &cfg,
        foxtrot_engine::runtime::Source::Venue(foxtrot_gateway::SimWorld::new(&cfg)),
        (),
        (),
        &stop,
    )
    .expect("the pipeline runs");
    let wall = t0.elapsed().as_secs_f64();
    let s = &out.summary;
    let t = s.tick_to_order_ns;
    if json {
        println!(
            "{}",
            serde_json::json!({"groups": n, "cores": cfg.runtime.cores, "wait": format!("{:?}", cfg.runtime.wait),
                "inputs": s.counters.inputs, "orders": s.order_hash.1, "wall_s": wall,
                "tick_to_order_ns": {"p50": t[0], "p99": t[1], "p999": t[2], "max": t[3]},
                "order_hash": s.order_hash.0})
        );
    } else {
        println!(
            "pipeline: {n} groups on cores {:?}, {:?}; {} inputs, {} orders in {wall:.2} s",
            cfg.runtime.cores, cfg.runtime.wait, s.counters.inputs, s.order_hash.1
        );
        println!(
            "  tick-to-order p50 {} ns  p99 {} ns  p99.9 {} ns  max {} ns",
            t[0], t[1], t[2], t[3]
        );
        for h in &out.stats.hists {
            println!(
                "  {:<14} p50 {:>8} ns  p99 {:>8} ns  ({} samples)",
                h.name, h.p50, h.p99, h.count
            );
        }
    }
}

/// The order → first answer round trip over a real FIX session on loopback:
/// this process is the initiator (the engine's FIX encoder, our session layer,
/// busy-polling a non-blocking socket), the venue is whatever listens at
/// `--connect` — `foxtrot venue`, or the QuickFIX acceptor of the interop tests.
/// Each round sends a NewOrderSingle far below the market (it rests) and waits
/// for its first report, then cancels it and waits for that answer; the clock runs
/// from just before the order is encoded to the moment its answer is decoded.
fn fix_rtt(args: &[String]) {
    use foxtrot_engine::core::fix_encoder::FixEncoder;
    use foxtrot_engine::records::{Header, Kind, OrdType, OrderAction, Side};
    use foxtrot_gateway::fix::decode::FixDecoder;
    use foxtrot_gateway::fix::session::{Inbound, MemoryStore, Role, Session, SessionSettings, Status};
    use foxtrot_gateway::fix::transport::{wall_ns, Connection};
    use foxtrot_gateway::fix::Fields;

    let json = args.iter().any(|a| a == "--json");
    let rounds: usize = arg(args, "--orders", 10_000usize);
    let warmup: usize = arg(args, "--warmup", 1_000usize);
    let connect: std::net::SocketAddr = arg(args, "--connect", "127.0.0.1:9878".parse().expect("address"));
    let cfg_path: String = arg(args, "--config", "configs/paper.yaml".to_string());
    let label: String = arg(args, "--label", connect.to_string());
    let cfg = Config::load(std::path::Path::new(&cfg_path)).expect("config");
    let s = &cfg.session;
    let mut settings = SessionSettings::from_config(s, Role::Initiator);
    // Each measurement starts a fresh session: the peer keeps no state of ours.
    settings.reset_on_logon = true;
    let mut session = Session::new(settings, Role::Initiator, MemoryStore::default());
    let mut enc = FixEncoder::new(&s.begin_string, &s.sender_comp_id, &s.target_comp_id, &cfg.instruments);
    let stream = std::net::TcpStream::connect(connect).expect("connect to the venue");
    stream.set_nonblocking(true).expect("non-blocking");
    let mut conn = Connection::new(mio::net::TcpStream::from_std(stream), None).expect("connection");
    let mut dec = FixDecoder::new();
    session.start(wall_ns());
    let flush = |session: &mut Session<MemoryStore>, conn: &mut Connection| {
        let out = session.outbox();
        conn.queue(out).expect("queue");
        out.clear();
        conn.flush().expect("write");
    };
    flush(&mut session, &mut conn);
    // Reads until `want` (a ClOrdID) is answered, or until logged on if 0.
    let mut pump = |session: &mut Session<MemoryStore>, conn: &mut Connection, want: u64| -> bool {
        let mut done = false;
        let t0 = std::time::Instant::now();
        while !done {
            let open = conn
                .read(|m| {
                    if let Inbound::App = session.on_message(m, wall_ns()) {
                        // Reports come read by the session's scanner, as in the engine.
                        let cl = match session.report(m) {
                            Some(r) => r.u64(11).ok().flatten(),
                            None => dec.decode(m).ok().and_then(|msg| msg.u64(11).ok().flatten()),
                        };
                        done |= cl == Some(want);
                    }
                })
                .expect("read");
            if want == 0 && session.status() == Status::Active {
                done = true;
            }
            if !session.outbox().is_empty() {
                flush(session, conn);
            }
            assert!(open, "the venue closed the connection");
            assert!(t0.elapsed().as_secs() < 10, "no answer for ClOrdID {want} in 10 s");
        }
        true
    };
    pump(&mut session, &mut conn, 0);
    let clock = quanta::Clock::new();
    let spec = &cfg.instruments[0];
    let px = (spec.ref_price / 2 / spec.tick) * spec.tick;
    let mut h_new = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("static bounds");
    let mut h_cancel = h_new.clone();
    let mut cl = 1_000_000_000u64 + (wall_ns() / 1_000_000_000 % 1_000_000) * 1_000_000;
    for round in 0..warmup + rounds {
        for action in [OrderAction::New, OrderAction::Cancel] {
            cl += 1;
            let o = Order {
                header: Header {
                    kind: Kind::Order as u8,
                    sub: action as u8,
                    side: Side::Buy as u8,
                    flags: OrdType::Limit as u8,
                    instrument: 0,
                    ts_ns: wall_ns(),
                    ..Header::default()
                },
                cl_ord_id: cl,
                orig_cl_ord_id: if action == OrderAction::Cancel { cl - 1 } else { 0 },
                px,
                qty: spec.lot * 100,
            };
            let t0 = clock.raw();
            enc.set_next_seq(session.next_out());
            let bytes = enc.encode(&o).expect("encodes");
            session.sent_app(bytes, o.header.ts_ns);
            flush(&mut session, &mut conn);
            pump(&mut session, &mut conn, cl);
            let ns = clock.delta_as_nanos(t0, clock.raw()).max(1);
            if round >= warmup {
                let h = if action == OrderAction::New {
                    &mut h_new
                } else {
                    &mut h_cancel
                };
                h.saturating_record(ns);
            }
        }
    }
    session.logout("done", wall_ns());
    flush(&mut session, &mut conn);
    let (n, c) = (pct(&h_new), pct(&h_cancel));
    if json {
        println!(
            "{}",
            serde_json::json!({"venue": label, "rounds": rounds,
                "new_to_ack_ns": {"p50": n[0], "p99": n[1], "p999": n[2], "max": n[3]},
                "cancel_to_ack_ns": {"p50": c[0], "p99": c[1], "p999": c[2], "max": c[3]}})
        );
    } else {
        println!("fix-rtt against {label}: {rounds} rounds after {warmup} warm-up");
        println!(
            "  order  -> first report  p50 {:>7} ns  p99 {:>7} ns  p99.9 {:>7} ns  max {:>9} ns",
            n[0], n[1], n[2], n[3]
        );
        println!(
            "  cancel -> its answer    p50 {:>7} ns  p99 {:>7} ns  p99.9 {:>7} ns  max {:>9} ns",
            c[0], c[1], c[2], c[3]
        );
    }
}
