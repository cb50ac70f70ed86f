//! ITCH 5.0 over a generated day (`foxtrot gen --format itch`'s generator, 2M
//! messages, realistic order lifetimes), read from memory:
//!
//! - `itch/parse`: framing and decoding each message into its view, reading the
//!   type, locate and timestamp (parse only);
//! - `itch/decode_book`: the same plus the normaliser (order map) and the engine
//!   books, i.e. everything from bytes to an updated touch.
//!
//! Throughput is in messages; criterion prints it as elements/s.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use foxtrot_feed::itch::{decode, file, Frames, Framing, ItchBook, Subscription};
use foxtrot_venue::gen::itch::{ItchGen, ItchGenConfig};

fn bench(c: &mut Criterion) {
    let mut day = Vec::new();
    let mut n = 0u64;
    for m in ItchGen::new(ItchGenConfig {
        seed: 2,
        messages: 2_000_000,
        ..ItchGenConfig::default()
    }) {
        file::write_prefixed(&mut day, &m);
        n += 1;
    }
    let mut g = c.benchmark_group("itch");
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for (_, raw) in Frames::new(black_box(&day), Framing::LengthPrefixed).flatten() {
                if let Ok(m) = decode(raw) {
                    let h = m.head();
                    acc = acc.wrapping_add(h.timestamp() ^ h.locate() as u64 ^ h.kind as u64);
                }
            }
            acc
        })
    });
    g.bench_function("decode_book", |b| {
        b.iter_batched_ref(
            || ItchBook::new(Subscription::All, 1 << 20, 0, 100, 4096),
            |book| {
                let mut acc = 0i64;
                for (_, raw) in Frames::new(black_box(&day), Framing::LengthPrefixed).flatten() {
                    if let Ok(m) = decode(raw) {
                        let _ = book.apply(&m, &mut |md, _| acc = acc.wrapping_add(md.qty));
                    }
                }
                acc
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
