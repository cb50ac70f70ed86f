//! `mold/gap_4096`: MoldUDP64 packets through a recovering [`Sequencer`] with
//! the 4,096-packet window `foxtrot run` uses, while a gap is open: the first
//! packet is missing, 3,000 later ones are held, then the missing one arrives
//! and releases them all. Throughput is in packets: what the feed handler pays
//! per packet while it waits for a retransmission.
//!
//! `mold/publish_10k`: 10,000 ITCH-sized messages (20–50 bytes) through a
//! [`MoldPublisher`] keeping a 100,000-message history (full, as a venue's is
//! after its first minutes), a flush every 5 messages, sent over loopback UDP
//! to a socket that never reads (sends to a full buffer fail and are
//! counted): what `foxtrot venue` pays per book change it publishes.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use foxtrot_feed::itch::mold::{MoldEvent, PacketWriter, Sequencer};
use foxtrot_feed::itch::publish::MoldPublisher;

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
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").expect("a loopback socket");
    let mut p =
        MoldPublisher::new("BENCH00001", sink.local_addr().expect("bound"), None, 100_000).expect("a publisher");
    let msgs: Vec<Vec<u8>> = (0..64u8).map(|k| vec![k; 20 + (k as usize * 7) % 31]).collect();
    let publish = |p: &mut MoldPublisher, n: usize| {
        for i in 0..n {
            p.push(black_box(&msgs[i % msgs.len()]));
            if i % 5 == 4 {
                p.flush();
            }
        }
    };
    publish(&mut p, 200_000);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("publish_10k", |b| b.iter(|| publish(&mut p, 10_000)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
