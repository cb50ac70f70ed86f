//! Reading CSV quotes (`foxtrot import --format csv`'s parser) from memory:
//! 1M rows of `timestamp,bid,bid_size,ask,ask_size`, ISO timestamps with
//! nanoseconds and four-decimal prices, each row into two market-data events.
//! Throughput is in rows.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use foxtrot_feed::csv::{CsvOptions, CsvReader, CsvShape, TsUnit};
use std::fmt::Write;

fn bench(c: &mut Criterion) {
    let rows = 1_000_000u64;
    let mut csv = String::from("timestamp,bid,bid_size,ask,ask_size\n");
    let mut mid = 1_000_000i64;
    for i in 0..rows {
        mid += [-100, 0, 0, 100][((i * 2_654_435_761) >> 7) as usize & 3];
        let (s, ns) = (i / 1_000, (i % 1_000) * 997_003);
        writeln!(
            csv,
            "2026-01-05T14:{:02}:{:02}.{ns:09}Z,{}.{:04},{},{}.{:04},{}",
            30 + s / 60 % 30,
            s % 60,
            (mid - 100) / 10_000,
            (mid - 100) % 10_000,
            100 + i % 900,
            (mid + 100) / 10_000,
            (mid + 100) % 10_000,
            200 + i % 700
        )
        .unwrap();
    }
    let bytes = csv.into_bytes();
    let mut g = c.benchmark_group("csv");
    g.throughput(Throughput::Elements(rows));
    g.sample_size(20);
    g.bench_function("quotes_iso", |b| {
        b.iter(|| {
            let mut o = CsvOptions::new(CsvShape::Quotes);
            o.ts_unit = TsUnit::Iso;
            let mut r = CsvReader::new(black_box(&bytes), o).unwrap();
            let mut acc = 0i64;
            while let Ok(Some(m)) = r.next_event() {
                acc = acc.wrapping_add(m.px ^ m.qty);
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
