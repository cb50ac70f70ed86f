//! Tick-to-order across the threaded pipeline against the simulated venue.

/// Tick-to-order across the threaded pipeline against the simulated venue: the
/// stage groups pinned to the given cores (one per group), `busy_spin` by default.
pub fn run(opts: &crate::PipelineArgs) {
    use foxtrot_engine::config::{Layout, StageName::*, WaitStrategy};
    let json = opts.json;
    let mut cfg = foxtrot_engine::Config::default_sim();
    cfg.gen.events = opts.events;
    let groups: usize = opts.groups;
    cfg.runtime.layout = if groups >= 5 {
        Layout::Named("per_stage".into())
    } else {
        Layout::Groups(vec![vec![Ingest, Sensory, Belief], vec![Decide, Encode]])
    };
    let n = if groups >= 5 { 5 } else { 2 };
    let c = opts.cores.clone();
    if c.len() == n {
        cfg.runtime.cores = c.clone();
    }
    cfg.runtime.wait = match opts.wait.as_str() {
        "park" => WaitStrategy::Park,
        "spin_then_yield" => WaitStrategy::SpinThenYield,
        _ => WaitStrategy::BusySpin,
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let t0 = std::time::Instant::now();
    let out = foxtrot_engine::runtime::run_threaded(&cfg, foxtrot_venue::SimWorld::new(&cfg), (), (), &stop)
        .expect("the pipeline runs");
    let wall = t0.elapsed().as_secs_f64();
    let s = &out.summary;
    let t = s.tick_to_order_ns;
    if json {
        println!(
            "{}",
            serde_json::json!({"groups": n, "cores": cfg.runtime.cores, "wait": format!("{:?}", cfg.runtime.wait),
                "inputs": s.counters.inputs, "orders": s.order_hash.1, "wall_s": wall,
                "tick_to_order_ns": {"p50": t[0], "p99": t[1], "p999": t[2], "max": t[3]},
                "order_hash": s.order_hash.0})
        );
    } else {
        println!(
            "pipeline: {n} groups on cores {:?}, {:?}; {} inputs, {} orders in {wall:.2} s",
            cfg.runtime.cores, cfg.runtime.wait, s.counters.inputs, s.order_hash.1
        );
        println!(
            "  tick-to-order p50 {} ns  p99 {} ns  p99.9 {} ns  max {} ns",
            t[0], t[1], t[2], t[3]
        );
        for h in &out.stats.hists {
            println!(
                "  {:<14} p50 {:>8} ns  p99 {:>8} ns  ({} samples)",
                h.name, h.p50, h.p99, h.count
            );
        }
    }
}
