//! One bench per core stage, each on inputs recorded from a simulated session:
//! sensory (book → features), belief emitter, regime FSM, drift sentry, router
//! (a market-making decision with orders working), and risk (a full pre-trade check).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::core::belief::{BeliefEmitter, DriftSentry, Regime, RegimeFsm};
use foxtrot_engine::core::orders::OrderTracker;
use foxtrot_engine::core::risk::Risk;
use foxtrot_engine::core::router::{DecideCtx, IntentBuf, Router};
use foxtrot_engine::core::sensory::{idx, ExactFeatures, Sensory};
use foxtrot_engine::core::Book;
use foxtrot_engine::records::{
    Belief, ExecKind, ExecReport, FeatureVector, Header, Kind, MarketData, OrdType, Order, OrderAction, OrderIntent,
    Side,
};

fn bench(c: &mut Criterion) {
    let cfg = foxtrot_benches::sim_config(200_000);
    let spec = &cfg.instruments[0];
    let stream: Vec<MarketData> = foxtrot_benches::md_stream(&cfg, 0);
    let m = &cfg.strategy.momentum;

    // Features at every decision point of instrument 0, and the book after each.
    let mut book = Book::new(spec.tick, spec.ref_price, cfg.book.window_ticks);
    let mut sensory = Sensory::new(&cfg.instruments, m.fast, m.slow, &cfg.sensory);
    let mut fvs: Vec<FeatureVector> = Vec::new();
    let mut exacts: Vec<ExactFeatures> = Vec::new();
    let mut fv = FeatureVector::default();
    for md in &stream {
        let _ = book.apply(md);
        if sensory.on_md(md, &book, &mut fv) {
            fvs.push(fv);
            exacts.push(*sensory.exact(md.header.instrument).expect("instrument 0"));
        }
    }
    assert!(fvs.len() > 10_000);

    c.bench_function("stage/sensory_on_md", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let mut book = Book::new(spec.tick, spec.ref_price, cfg.book.window_ticks);
                let mut s = Sensory::new(&cfg.instruments, m.fast, m.slow, &cfg.sensory);
                let n = ((iters - done) as usize).min(stream.len());
                for md in &stream[..n] {
                    let _ = book.apply(md);
                    let t = std::time::Instant::now();
                    black_box(s.on_md(black_box(md), &book, &mut fv));
                    total += t.elapsed();
                }
                done += n as u64;
            }
            total
        })
    });

    let mut emitter = BeliefEmitter::new(cfg.model(), cfg.belief.k);
    let mut belief = Belief::default();
    let mut i = 0usize;
    c.bench_function("stage/belief_emit", |b| {
        b.iter(|| {
            i += 1;
            black_box(emitter.emit(black_box(&fvs[i % fvs.len()]), &mut belief))
        })
    });

    let mut fsm = RegimeFsm::new(&cfg.belief.regime, 1);
    c.bench_function("stage/regime_fsm", |b| {
        b.iter(|| {
            i += 1;
            let v = &fvs[i % fvs.len()].values;
            black_box(fsm.on_update(0, v[idx::VOL_BPS] as f64, v[idx::TREND_Z] as f64))
        })
    });

    let mut sentry = DriftSentry::new(&cfg.belief.drift, 1, false);
    c.bench_function("stage/drift_sentry", |b| {
        b.iter(|| {
            i += 1;
            let f = &fvs[i % fvs.len()];
            black_box(sentry.on_update(0, f.values[idx::RET_BPS] as f64, 0.1, f))
        })
    });

    // Router: a calm-regime market-making decision with both quotes working.
    let mut router = Router::new(&cfg.core_params());
    let mut orders = OrderTracker::new(cfg.risk.max_open_orders as usize);
    let (bb, ba) = (book.best_bid().unwrap().0, book.best_ask().unwrap().0);
    for (cl, side, px) in [
        (1u64, Side::Buy, bb - 5 * spec.tick),
        (2, Side::Sell, ba + 5 * spec.tick),
    ] {
        let o = Order {
            header: Header {
                sub: OrderAction::New as u8,
                side: side as u8,
                flags: OrdType::Limit as u8,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: 0,
            px,
            qty: 50,
        };
        orders.on_sent(&o);
        let mut ack = ExecReport::new(ExecKind::New, 0, side, 0);
        ack.cl_ord_id = cl;
        ack.leaves_qty = 50;
        orders.on_exec(&ack);
    }
    emitter.emit(&fvs[0], &mut belief);
    let mut out = IntentBuf::default();
    c.bench_function("stage/router_decide", |b| {
        b.iter(|| {
            i += 1;
            let f = &fvs[i % fvs.len()];
            let h = Header {
                ts_ns: i as u64,
                ..f.header
            };
            out.clear();
            let ctx = DecideCtx {
                trigger: &h,
                fv: f,
                exact: &exacts[i % fvs.len()],
                belief: &belief,
                regime: Regime::Calm,
                book: &book.top(),
                position: 0,
                orders: &orders,
                size_factor: 1.0,
                frozen: false,
            };
            black_box(router.decide(&ctx, &mut out));
            black_box(out.as_slice().len())
        })
    });

    let risk = Risk::new(&cfg.risk, &cfg.instruments);
    let mid = (bb + ba) / 2 / spec.tick * spec.tick;
    c.bench_function("stage/risk_check", |b| {
        b.iter(|| {
            i += 1;
            let it = OrderIntent {
                header: Header {
                    kind: Kind::Intent as u8,
                    sub: OrderAction::New as u8,
                    side: if i % 2 == 0 { Side::Buy } else { Side::Sell } as u8,
                    ts_ns: i as u64 * 10_000_000,
                    ..Header::default()
                },
                px: mid + (i % 5) as i64 * spec.tick,
                qty: 100,
                ord_type: OrdType::Limit as u8,
                ..OrderIntent::default()
            };
            black_box(risk.check(black_box(&it), Some(&book.top()), &orders))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
