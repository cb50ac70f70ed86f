//! The threaded runtime against the fused one: every layout gives the fused
//! core's bytes, live against the simulated venue and in replay of a journal.

use foxtrot_engine::config::{Layout, StageName, WaitStrategy};
use foxtrot_engine::journal::{JournalInputs, RunJournals};
use foxtrot_engine::records::InputSlot;
use foxtrot_engine::runtime::{run_threaded, FusedRun, RunSummary, Sequenced};
use foxtrot_engine::Config;
use foxtrot_shm::JournalConfig;
use foxtrot_venue::SimWorld;
use std::sync::atomic::AtomicBool;

fn cfg(events: u64) -> Config {
    let mut c = Config::default_sim();
    c.gen.events = events;
    c.flags.fast_weights = true;
    c.flags.linear_attention = true;
    c.flags.auto_feedback = true;
    c
}

/// The layouts under test: fused, two groups, three groups, one thread per stage.
fn layouts() -> Vec<(&'static str, Layout)> {
    use StageName::*;
    vec![
        ("fused", Layout::Named("fused".into())),
        (
            "two groups",
            Layout::Groups(vec![vec![Ingest, Sensory, Belief], vec![Decide, Encode]]),
        ),
        (
            "three groups",
            Layout::Groups(vec![vec![Ingest], vec![Sensory, Belief, Decide], vec![Encode]]),
        ),
        ("per stage", Layout::Named("per_stage".into())),
    ]
}

fn key(s: &RunSummary) -> (String, String, String, u64, u64) {
    (
        s.order_hash.0.clone(),
        s.diary_hash.0.clone(),
        s.input_hash.0.clone(),
        s.order_hash.1,
        s.diary_hash.1,
    )
}

fn threaded(c: &Config, source: SimWorld) -> RunSummary {
    let stop = AtomicBool::new(false);
    run_threaded(c, source, (), (), &stop).expect("runs").summary
}

#[test]
fn live_runs_match_the_fused_run_in_every_layout() {
    let mut c = cfg(60_000);
    let mut fused = FusedRun::new(&c, SimWorld::new(&c));
    fused.run_to_end();
    let want = fused.summary();
    assert!(want.order_hash.1 > 100, "the run trades ({} orders)", want.order_hash.1);
    for (name, layout) in layouts() {
        for wait in [WaitStrategy::Park, WaitStrategy::SpinThenYield] {
            if wait == WaitStrategy::SpinThenYield && name != "two groups" {
                continue; // two spinning threads at most on a 2-core machine
            }
            c.runtime.layout = layout.clone();
            c.runtime.wait = wait;
            c.runtime.ring_capacity = 64;
            c.runtime.batch = 16;
            let got = threaded(&c, SimWorld::new(&c));
            assert_eq!(key(&got), key(&want), "{name} / {wait:?}");
            assert_eq!(got.counters, want.counters, "{name}");
            assert_eq!(got.pnl, want.pnl, "{name}");
            assert_eq!(
                got.latency_samples, want.latency_samples,
                "{name}: one latency sample per order"
            );
        }
    }
}

#[test]
fn replaying_a_journal_matches_in_every_layout() {
    let dir = std::env::temp_dir().join(format!("foxtrot-threaded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let c = cfg(40_000);
    let yaml = c.canonical_text();
    let j = RunJournals::create(&dir, JournalConfig::default(), &yaml).unwrap();
    let mut rec = FusedRun::with_observer(&c, SimWorld::new(&c), j);
    rec.run_to_end();
    rec.observer_mut().sync().unwrap();
    let want = rec.summary();
    drop(rec);
    for (name, layout) in layouts() {
        let mut c = c.clone();
        c.runtime.layout = layout;
        c.runtime.ring_capacity = 16;
        c.runtime.batch = 8;
        let (_, inputs) = JournalInputs::open(&dir).unwrap();
        let stop = AtomicBool::new(false);
        let out = run_threaded(&c, Sequenced(inputs), (), (), &stop).unwrap();
        let inputs = out.source.0;
        assert!(inputs.error().is_none());
        assert_eq!(inputs.read(), want.input_hash.1, "{name}: every input replayed");
        assert_eq!(out.summary.order_hash, want.order_hash, "{name}");
        assert_eq!(out.summary.diary_hash, want.diary_hash, "{name}");
        assert_eq!(out.summary.counters, want.counters, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A source that has everything ready at once: quotes on three instruments with
/// an execution report every tenth input. Much faster than the stages behind it,
/// so small rings fill at once.
struct Burst {
    inputs: std::vec::IntoIter<InputSlot>,
}

fn burst(n: usize) -> (Burst, Vec<InputSlot>) {
    use foxtrot_engine::records::{ExecKind, ExecReport, MarketData, MdAction, Side};
    let c = Config::default_sim();
    let mut v = Vec::with_capacity(n);
    for k in 0..n {
        let ts = 1_767_600_000_000_000_000 + k as u64 * 1_000;
        if k % 10 == 9 {
            let mut er = ExecReport::new(ExecKind::Fill, 0, Side::Buy, ts);
            er.cl_ord_id = 1_000_000 + k as u64;
            v.push(InputSlot::from_exec(&er));
        } else {
            let i = (k % 3) as u32;
            let spec = &c.instruments[i as usize];
            let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
            let off = (k % 7) as i64 - 3 + if side == Side::Buy { -5 } else { 5 };
            let px = spec.ref_price + off * spec.tick;
            v.push(InputSlot::from_md(&MarketData::new(
                MdAction::Quote,
                i,
                Some(side),
                ts,
                k as u64,
                px,
                10 + k as i64 % 5,
                1,
            )));
        }
    }
    (
        Burst {
            inputs: v.clone().into_iter(),
        },
        v,
    )
}

impl foxtrot_engine::runtime::VenueLink for Burst {
    fn poll(&mut self) -> Option<InputSlot> {
        self.inputs.next()
    }
    fn send(&mut self, _: &foxtrot_engine::records::Order, _: &[u8]) {}
}

/// Every input the core was given, in order.
#[derive(Default)]
struct Seen(Vec<InputSlot>);

impl foxtrot_engine::runtime::RunObserver for Seen {
    fn on_input(&mut self, s: &InputSlot) {
        self.0.push(*s);
    }
}

fn run_burst(policy: foxtrot_engine::config::Backpressure) -> (Vec<InputSlot>, Vec<InputSlot>, u64, RunSummary) {
    let mut c = Config::default_sim();
    c.runtime.layout = Layout::Named("per_stage".into());
    c.runtime.ring_capacity = 4;
    c.runtime.batch = 2;
    c.runtime.md_backpressure = policy;
    let (src, produced) = burst(30_000);
    let stop = AtomicBool::new(false);
    let out = run_threaded(&c, src, Seen::default(), (), &stop).unwrap();
    let conflated = out.stats.global("conflated");
    (produced, out.input_observer.0, conflated, out.summary)
}

fn is_exec(s: &InputSlot) -> bool {
    matches!(s.view(), Some(foxtrot_engine::records::InputView::Exec(_)))
}
fn md_key(s: &InputSlot) -> Option<(u32, u64)> {
    match s.view() {
        Some(foxtrot_engine::records::InputView::Md(m)) => Some((m.header.instrument, m.order_id)),
        _ => None,
    }
}

#[test]
fn conflation_keeps_the_latest_quote_and_never_an_execution_report() {
    let (produced, seq, conflated, summary) = run_burst(foxtrot_engine::config::Backpressure::Conflate);
    let produced_md: Vec<_> = produced.iter().filter_map(md_key).collect();
    let seen_md: Vec<_> = seq.iter().filter_map(md_key).collect();
    assert!(conflated > 0, "the tiny rings filled and quotes were conflated");
    assert_eq!(
        seen_md.len() as u64 + conflated,
        produced_md.len() as u64,
        "every quote is sequenced or counted"
    );
    // Execution reports: all of them, in order.
    let ers = |v: &[InputSlot]| {
        v.iter()
            .filter(|s| is_exec(s))
            .map(|s| s.header().ts_ns)
            .collect::<Vec<_>>()
    };
    assert_eq!(ers(&seq), ers(&produced));
    assert_eq!(summary.counters.exec_reports, ers(&produced).len() as u64);
    assert_eq!(
        summary.out_of_order_inputs, 0,
        "conflated quotes are released oldest first"
    );
    // The newest quote of each instrument reached the core.
    for i in 0..3u32 {
        let last = |v: &[(u32, u64)]| v.iter().rev().find(|(j, _)| *j == i).copied();
        assert_eq!(last(&seen_md), last(&produced_md), "instrument {i}");
    }
    // Conflation happened before sequencing: what was journalled replays exactly.
    let c = Config::default_sim();
    let stop = AtomicBool::new(false);
    let again = run_threaded(&c, Sequenced(seq.into_iter()), (), (), &stop).unwrap();
    assert_eq!(again.summary.order_hash, summary.order_hash);
    assert_eq!(again.summary.diary_hash, summary.diary_hash);
    assert_eq!(again.summary.counters, summary.counters);
}

#[test]
fn blocking_backpressure_loses_nothing() {
    let (produced, seq, conflated, summary) = run_burst(foxtrot_engine::config::Backpressure::Block);
    assert_eq!(conflated, 0);
    let strip = |v: &[InputSlot]| v.iter().map(|s| (s.kind_byte(), s.header().ts_ns)).collect::<Vec<_>>();
    let sequenced: Vec<_> = strip(&seq).into_iter().filter(|(k, _)| *k != 3).collect(); // timers are injected
    assert_eq!(sequenced, strip(&produced));
    assert_eq!(summary.counters.md, 27_000);
}
