//! Runs the recorded inputs of a default sim session through a fresh fused
//! core `N` times, for counting the core's instructions per pass (which,
//! unlike wall time, do not move with the load of a shared machine):
//!
//! ```text
//! bash perf/core_instr.sh
//! ```
//!
//! counts the instructions of the passes alone under callgrind: one pass over
//! every input (market data, reports, timers), the orders it sends encoded.
//! The core reads no clock and no unseeded randomness, so the count is the
//! same from run to run.

use foxtrot_engine::core::{Core, CoreSink};
use foxtrot_engine::records::{DiaryRecord, Order, RiskReject, TheoryPacket};
use std::hint::black_box;

#[derive(Default)]
struct Count {
    orders: u64,
    bytes: u64,
}

impl CoreSink for Count {
    fn on_order(&mut self, _o: &Order, wire: &[u8]) {
        self.orders += 1;
        self.bytes += black_box(wire).len() as u64;
    }
    fn on_reject(&mut self, r: &RiskReject) {
        black_box(r);
    }
    fn on_diary(&mut self, d: &DiaryRecord) {
        black_box(d);
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        black_box(p);
    }
}

/// The passes, out of line: what `perf/core_instr.sh` counts
/// (`--toggle-collect`), so the recording and the start-up (whose clock
/// calibration loops a varying number of times) are left out.
#[inline(never)]
fn passes_over(
    params: &foxtrot_engine::core::CoreParams,
    inputs: &[foxtrot_engine::records::InputSlot],
    passes: u64,
    out: &mut Count,
) {
    for _ in 0..passes {
        let mut core = Core::new(params);
        for s in inputs {
            core.on_input(black_box(s), out);
        }
        core.finish(out);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let passes: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let events: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let cfg = foxtrot_benches::sim_config(events);
    let inputs = foxtrot_benches::recorded_inputs(&cfg);
    let params = cfg.core_params();
    let mut out = Count::default();
    passes_over(&params, &inputs, passes, &mut out);
    eprintln!(
        "{passes} passes over {} inputs: {} orders, {} bytes",
        inputs.len(),
        out.orders,
        out.bytes
    );
}
