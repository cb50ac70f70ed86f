//! The threaded runtime against the fused one: every layout gives the fused
//! core's bytes, live against the simulated venue and in replay of a journal.

use foxtrot_engine::config::{Layout, StageName, WaitStrategy};
use foxtrot_engine::records::InputSlot;
use foxtrot_engine::runtime::{run_threaded, FusedRun, JournalInputs, RunJournals, RunSummary, Source};
use foxtrot_engine::Config;
use foxtrot_gateway::SimWorld;
use foxtrot_shm::JournalConfig;
use std::sync::atomic::AtomicBool;

fn cfg(events: u64) -> Config {
    let mut c = Config::default_sim();
    c.gen.events = events;
    c.flags.fast_weights = true;
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

fn threaded(c: &Config, source: Source<SimWorld, std::iter::Empty<InputSlot>>) -> RunSummary {
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
            let got = threaded(&c, Source::Venue(SimWorld::new(&c)));
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
        let out = run_threaded::<SimWorld, _, _, _>(&c, Source::Sequenced(inputs), (), (), &stop).unwrap();
        let Source::Sequenced(inputs) = out.source else {
            unreachable!()
        };
        assert!(inputs.error().is_none());
        assert_eq!(inputs.read(), want.input_hash.1, "{name}: every input replayed");
        assert_eq!(out.summary.order_hash, want.order_hash, "{name}");
        assert_eq!(out.summary.diary_hash, want.diary_hash, "{name}");
        assert_eq!(out.summary.counters, want.counters, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
