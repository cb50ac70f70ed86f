//! The journal's append latency (per record, across segment rolls) and read rate.

use super::common::{pct, Target};
use hdrhistogram::Histogram;

/// The journal's append SLO: p99.9 ≤ 1 µs per record.
pub const SLO_P999_NS: Target = Target::AtMost(1_000.0);

/// Appends records with `--payload` bytes (default 64; 32 makes 64-byte records
/// with the 32-byte header) to a prefaulted journal (page cache, durability none).
/// First pass: each append timed with the TSC, for p50/p99/p99.9/max. Second pass,
/// into a new journal: untimed, for the sustained rate across segment rolls, with
/// the rate of every window of 2^20 records so a slow stretch cannot hide in the
/// average.
pub fn append(opts: &crate::JournalAppendArgs) {
    let json = opts.json;
    let n: u64 = opts.records;
    let payload_len: usize = opts.payload.min(4096);
    let dir: std::path::PathBuf = opts.dir.join(format!("foxtrot-perf-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let payloads: Vec<Vec<u8>> = (0..4096usize)
        .map(|i| (0..payload_len).map(|j| (i * 131 + j * 7) as u8).collect())
        .collect();
    let record_len = foxtrot_shm::journal::layout::record_len(payload_len);
    let mut w = foxtrot_shm::JournalWriter::open(&dir, foxtrot_shm::JournalConfig::default()).expect("open journal");
    w.warm_up();
    let clock = quanta::Clock::new();
    let mut h = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("static bounds");
    // Paced: append k is due at k / rate seconds after the start (busy-waited:
    // one thread, no sleep to add its own wake-up tails).
    let gap_ns = if opts.rate > 0.0 { 1e9 / opts.rate } else { 0.0 };
    let (mut worst, mut worst_seq) = (0u64, 0u64);
    // The appends that rolled (the segment changed under them).
    let (mut last_seg, mut rolls, mut worst_roll) = (w.segment_index(), 0u64, 0u64);
    let start = std::time::Instant::now();
    let t_start = clock.raw();
    for seq in 1..=n {
        if gap_ns > 0.0 {
            let due = (seq as f64 * gap_ns) as u64;
            while clock.delta_as_nanos(t_start, clock.raw()) < due {
                std::hint::spin_loop();
            }
        }
        let t0 = clock.raw();
        w.append(1, 0, seq, seq * 1000, &payloads[seq as usize & 4095])
            .expect("append");
        let ns = clock.delta_as_nanos(t0, clock.raw()).max(1);
        let seg = w.segment_index();
        if seg != last_seg {
            last_seg = seg;
            rolls += 1;
            worst_roll = worst_roll.max(ns);
        }
        if ns > worst {
            (worst, worst_seq) = (ns, seq);
        }
        h.saturating_record(ns);
    }
    let wall = start.elapsed().as_secs_f64();
    let per_segment = (foxtrot_shm::JournalConfig::default().segment_size as usize - 64) / record_len;
    let over_10us = h.count_between(10_001, u64::MAX);
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
            "slo": {"p999_ns": SLO_P999_NS.bound(), "met": SLO_P999_NS.met(p[2] as f64)},
            "rate": opts.rate, "records_per_segment": per_segment, "appends_over_10us": over_10us,
            "max_at_seq": worst_seq, "rolls": rolls, "slowest_roll_ns": worst_roll,
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
            "  per append  p50 {} ns  p99 {} ns  p99.9 {} ns  max {} ns   SLO p99.9 ≤ {} ns: {}",
            p[0],
            p[1],
            p[2],
            p[3],
            SLO_P999_NS.bound(),
            SLO_P999_NS.verdict(p[2] as f64)
        );
        let pace = if opts.rate > 0.0 {
            format!("paced at {:.2} M appends/s", opts.rate / 1e6)
        } else {
            "unpaced".to_string()
        };
        println!(
            "  {pace}: {rolls} rolls, the slowest append that rolled {worst_roll} ns; {over_10us} appends over 10 µs; the slowest, {worst} ns, was record {worst_seq} (~{} records into its segment)",
            (worst_seq as usize - 1) % per_segment
        );
    }
}

/// Reads a journal of 64-byte records end to end (zero-copy, CRC checked) and
/// reports the rate.
pub fn read(opts: &crate::JournalReadArgs) {
    let n: u64 = opts.records;
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
