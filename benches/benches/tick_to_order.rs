//! The fused tick-to-order path, per input.
//!
//! - `core_path`: one recorded input through the whole core (book → sensory →
//!   belief → router → risk → FIX encode → diary), replayed on a fresh core so the
//!   decisions are exactly the recorded run's.
//! - `fused_step`: one step of the fused runtime against the in-process simulated
//!   venue (sequencer, digests and TSC stamps included, and the venue's own work).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::core::{Core, CoreSink};
use foxtrot_engine::records::{DiaryRecord, Order, RiskReject, TheoryPacket};
use foxtrot_engine::runtime::FusedRun;
use foxtrot_venue::SimWorld;
use std::time::{Duration, Instant};

struct Count(u64);
impl CoreSink for Count {
    fn on_order(&mut self, _o: &Order, wire: &[u8]) {
        self.0 += wire.len() as u64;
    }
    fn on_reject(&mut self, _r: &RiskReject) {}
    fn on_diary(&mut self, d: &DiaryRecord) {
        self.0 += d.header.seq;
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.0 += p.samples;
    }
}

fn bench(c: &mut Criterion) {
    let cfg = foxtrot_benches::sim_config(200_000);
    let inputs = foxtrot_benches::recorded_inputs(&cfg);
    c.bench_function("tick_to_order/core_path", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let mut core = Core::new(&cfg.core_params());
                let mut sink = Count(0);
                let n = ((iters - done) as usize).min(inputs.len());
                let t = Instant::now();
                for s in &inputs[..n] {
                    core.on_input(black_box(s), &mut sink);
                }
                total += t.elapsed();
                black_box(sink.0);
                done += n as u64;
            }
            total
        })
    });
    c.bench_function("tick_to_order/fused_step", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let mut run = FusedRun::new(&cfg, SimWorld::new(&cfg));
                let t = Instant::now();
                while done < iters && run.step() {
                    done += 1;
                }
                total += t.elapsed();
                black_box(run.core().counters().inputs);
            }
            total
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
