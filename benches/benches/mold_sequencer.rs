//! `mold/gap_4096`: MoldUDP64 packets through a recovering [`Sequencer`] with
//! the 4,096-packet window `foxtrot run` uses, while a gap is open: the first
//! packet is missing, 3,000 later ones are held, then the missing one arrives
//! and releases them all. Throughput is in packets: what the feed handler pays
//! per packet while it waits for a retransmission.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use foxtrot_feed::itch::mold::{MoldEvent, PacketWriter, Sequencer};

fn bench(c: &mut Criterion) {
    let mut w = PacketWriter::new("BENCH00001", 1, 200);
    let msg = [b'S'; 12];
    let mut packets = Vec::new();
    while packets.len() < 3_001 {
        if let Some(p) = w.push(&msg) {
            packets.push(p);
        }
    }
    let mut g = c.benchmark_group("mold");
    g.throughput(Throughput::Elements(packets.len() as u64));
    g.sample_size(20);
    g.bench_function("gap_4096", |b| {
        b.iter_batched(
            || Sequencer::new(1, 4096).with_recovery(),
            |mut s| {
                let mut n = 0u64;
                for p in packets[1..].iter().chain(std::iter::once(&packets[0])) {
                    let _ = s.push(black_box(p), &mut |e| {
                        if let MoldEvent::Message { .. } = e {
                            n += 1;
                        }
                    });
                }
                n
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
