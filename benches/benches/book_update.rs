//! Applying one market-data event to the ladder book, over a recorded stream of
//! real simulated order flow (adds, cancels, executions, at and away from the touch).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::core::Book;
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let cfg = foxtrot_benches::sim_config(300_000);
    let spec = cfg.instruments[0].clone();
    let stream = foxtrot_benches::md_stream(&cfg, 0);
    assert!(stream.len() > 50_000);
    c.bench_function("book_update/recorded_flow", |b| {
        b.iter_custom(|iters| {
            // Replays the stream from an empty book, as many events as asked;
            // a fresh book at each wrap (outside the timed region).
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let mut book = Book::new(spec.tick, spec.ref_price, cfg.book.window_ticks);
                let n = ((iters - done) as usize).min(stream.len());
                let t = Instant::now();
                for m in &stream[..n] {
                    let _ = black_box(book.apply(black_box(m)));
                }
                black_box(book.best_bid());
                total += t.elapsed();
                done += n as u64;
            }
            total
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
