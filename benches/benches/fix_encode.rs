//! FIX encoding of a NewOrderSingle into its pre-built template.
//!
//! Inputs vary per iteration ([`foxtrot_benches::fix_orders`]: ClOrdID, side,
//! price, quantity, time across second boundaries) so the digit writers and the
//! time cache do real work.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::format::fix::FixEncoder;

fn bench(c: &mut Criterion) {
    let cfg = foxtrot_benches::sim_config(1);
    let s = &cfg.session;
    let mut enc = FixEncoder::new(&s.begin_string, &s.sender_comp_id, &s.target_comp_id, &cfg.instruments);
    let os = foxtrot_benches::fix_orders();
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
