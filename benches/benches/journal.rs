//! Journal throughput: appending 64-byte records into a provisioned, pre-faulted
//! segment (page cache, durability none) — a 1 GiB segment, so the measured loop
//! never rolls; `foxtrot-perf journal-append` reports the sustained rate across
//! rolls and the per-append distribution — and reading records back zero-copy.
//!
//! Records carry varied realistic payloads (a market-data event per record).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use foxtrot_shm::{JournalConfig, JournalReader, JournalWriter};

fn payloads() -> Vec<[u8; 64]> {
    let cfg = foxtrot_benches::sim_config(20_000);
    foxtrot_benches::recorded_inputs(&cfg)
        .iter()
        .filter_map(|s| s.as_bytes()[..64].try_into().ok())
        .take(4096)
        .collect()
}

fn bench(c: &mut Criterion) {
    let ps = payloads();
    let dir = std::env::temp_dir().join(format!("foxtrot-bench-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Elements(1));
    g.bench_function("append_64B", |b| {
        b.iter_custom(|iters| {
            // Chunks of 600k appends, each into a fresh 64 MiB segment created (and
            // pre-faulted) outside the timed region: no chunk ever rolls.
            let mut total = std::time::Duration::ZERO;
            let mut done = 0u64;
            let mut k = 0;
            while done < iters {
                let d = dir.join(format!("append-{k}"));
                k += 1;
                let mut w = JournalWriter::open(&d, JournalConfig::default()).unwrap();
                let n = (iters - done).min(600_000);
                let t = std::time::Instant::now();
                for seq in 1..=n {
                    w.append(1, 0, seq, seq * 1000, black_box(&ps[seq as usize & 4095]))
                        .unwrap();
                }
                total += t.elapsed();
                done += n;
                drop(w);
                std::fs::remove_dir_all(&d).ok();
            }
            total
        })
    });
    // Read: 2M records written once, iterated whole per batch of iterations.
    let rdir = dir.join("read");
    {
        let mut w = JournalWriter::open(&rdir, JournalConfig::default()).unwrap();
        for seq in 1..=2_000_000u64 {
            w.append(1, 0, seq, seq, &ps[seq as usize & 4095]).unwrap();
        }
    }
    g.bench_function("read_64B", |b| {
        b.iter_custom(|iters| {
            let mut left = iters;
            let start = std::time::Instant::now();
            while left > 0 {
                let mut r = JournalReader::open(&rdir).unwrap();
                while left > 0 {
                    match r.next().unwrap() {
                        Some(rec) => {
                            black_box(rec.payload[0]);
                            left -= 1;
                        }
                        None => break,
                    }
                }
            }
            start.elapsed()
        })
    });
    g.finish();
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, bench);
criterion_main!(benches);
