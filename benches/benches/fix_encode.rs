//! FIX encoding of a NewOrderSingle into its pre-built template.
//!
//! Inputs vary per iteration (ClOrdID, side, price, quantity, time across second
//! boundaries) so the digit writers and the time cache do real work.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::format::fix::FixEncoder;
use foxtrot_engine::records::{Header, Kind, OrdType, Order, OrderAction, Side};

fn orders() -> Vec<Order> {
    (0..1024u64)
        .map(|i| Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: OrderAction::New as u8,
                side: if i % 3 == 0 { Side::Sell } else { Side::Buy } as u8,
                flags: OrdType::Limit as u8,
                instrument: (i % 3) as u32,
                // ~300 µs apart: a new second every ~3300 orders.
                ts_ns: 1_767_623_400_000_000_000 + i * 300_123,
                ..Header::default()
            },
            cl_ord_id: 1_000_000 + i * 16,
            orig_cl_ord_id: 0,
            px: 1_000_000 + (i as i64 % 50 - 25) * 100,
            qty: 100 + (i as i64 % 7) * 10,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cfg = foxtrot_benches::sim_config(1);
    let s = &cfg.session;
    let mut enc = FixEncoder::new(&s.begin_string, &s.sender_comp_id, &s.target_comp_id, &cfg.instruments);
    let os = orders();
    let mut i = 0usize;
    c.bench_function("fix_encode/new_order_single", |b| {
        b.iter(|| {
            let o = &os[i & 1023];
            i += 1;
            let wire = enc.encode(black_box(o)).expect("valid order");
            black_box(wire.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
