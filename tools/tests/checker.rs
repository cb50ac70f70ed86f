//! The independent checker can fail: run the engine under one set of limits and
//! check it against stricter ones, and every tightened limit shows violations;
//! against the limits the engine ran with, none.

use foxtrot_engine::records::{CommandKind, InputSlot, OperatorCommand};
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_tools::check::Checker;
use foxtrot_venue::SimWorld;
use std::path::Path;

fn stress(events: u64) -> Config {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/adversarial.yaml");
    let mut c = Config::load(&p).expect("configs/adversarial.yaml loads");
    c.gen.events = events;
    c
}

#[test]
fn same_limits_no_violations_on_adversarial_data() {
    let c = stress(300_000);
    let mut run = FusedRun::with_observer(&c, SimWorld::new(&c), Checker::new(&c));
    run.run_to_end();
    let k = run.observer();
    assert!(run.venue().injected() > 1_000, "the feed was corrupted");
    assert!(k.orders > 500, "enough orders to mean something: {}", k.orders);
    assert_eq!(k.total(), 0, "{:?}", k.examples);
    assert!(
        run.summary().rejects_by_reason.len() >= 4,
        "several limits were pressed: {:?}",
        run.summary().rejects_by_reason
    );
}

#[test]
fn stricter_limits_are_caught() {
    let engine = stress(300_000);
    let mut strict = engine.clone();
    strict.risk.max_order_qty = 40;
    strict.risk.position_limit = 60;
    strict.risk.price_band_bps = 2;
    strict.risk.max_open_orders = 1;
    strict.risk.orders_per_sec = 2.0;
    strict.risk.max_notional = 2_000.0;
    let mut run = FusedRun::with_observer(&engine, SimWorld::new(&engine), Checker::new(&strict));
    run.run_to_end();
    let v = &run.observer().violations;
    for kind in [
        "MAX_ORDER_QTY",
        "POSITION_LIMIT",
        "PRICE_BAND",
        "MAX_OPEN_ORDERS",
        "THROTTLE",
        "MAX_NOTIONAL",
    ] {
        assert!(v.get(kind).copied().unwrap_or(0) > 0, "{kind} not caught: {v:?}");
    }
}

/// Feeds the checker a kill the engine never saw: every later order is a violation.
struct KillOnlyTheChecker {
    inner: Checker,
    inputs: u64,
}

impl RunObserver for KillOnlyTheChecker {
    fn on_input(&mut self, slot: &InputSlot) {
        self.inputs += 1;
        if self.inputs == 50_000 {
            let kill = OperatorCommand::new(CommandKind::Kill, slot.header().ts_ns);
            self.inner.on_input(&InputSlot::from_command(&kill));
        }
        self.inner.on_input(slot);
    }
    fn on_order(&mut self, o: &foxtrot_engine::records::Order, wire: &[u8]) {
        self.inner.on_order(o, wire);
    }
}

#[test]
fn orders_after_a_kill_are_caught() {
    let c = stress(150_000);
    let obs = KillOnlyTheChecker {
        inner: Checker::new(&c),
        inputs: 0,
    };
    let mut run = FusedRun::with_observer(&c, SimWorld::new(&c), obs);
    run.run_to_end();
    assert!(run.observer().inner.violations.get("KILL_SWITCH").copied().unwrap_or(0) > 0);
}

/// Market orders (the `market` topology) carry no price: the checker values
/// them at the reference, skips the limit-price band, and holds their FIX
/// bytes to OrdType 1 without a price — none of which counts against an
/// engine that follows the rules; a tighter notional is still caught on them.
#[test]
fn market_orders_are_checked_at_the_reference() {
    use foxtrot_engine::config::{PolicyName, TopologyName};
    let mut c = Config::default_sim();
    c.gen.events = 100_000;
    let t = &mut c.strategy.regime_table;
    for r in [&mut t.unclassified, &mut t.calm, &mut t.trending, &mut t.volatile] {
        r.policy = PolicyName::Momentum;
        r.topology = TopologyName::Market;
    }
    let mut run = FusedRun::with_observer(&c, SimWorld::new(&c), Checker::new(&c));
    run.run_to_end();
    let k = run.observer();
    assert!(k.orders > 200, "enough market orders to mean something: {}", k.orders);
    assert_eq!(k.total(), 0, "{:?}", k.examples);
    assert!(
        run.summary().rejects_by_reason.is_empty(),
        "{:?}",
        run.summary().rejects_by_reason
    );

    let mut strict = c.clone();
    strict.risk.max_notional = 5_000.0;
    let mut run = FusedRun::with_observer(&c, SimWorld::new(&c), Checker::new(&strict));
    run.run_to_end();
    let v = &run.observer().violations;
    assert!(v.get("MAX_NOTIONAL").copied().unwrap_or(0) > 0, "{v:?}");
    assert_eq!(v.len(), 1, "only the tightened limit: {v:?}");
}

/// A regime whose topology is `market` next to a quoting regime: the quotes
/// left resting when the regime turns are cancelled once they age, never
/// "re-priced" to a zero-price replace (which risk rejects as malformed).
#[test]
fn aged_quotes_under_a_market_topology_are_cancelled_not_replaced_at_zero() {
    use foxtrot_engine::config::{PolicyName, TopologyName};
    let mut c = Config::default_sim();
    c.gen.events = 200_000;
    c.strategy.regime_table.trending.policy = PolicyName::Momentum;
    c.strategy.regime_table.trending.topology = TopologyName::Market;
    let mut run = FusedRun::with_observer(&c, SimWorld::new(&c), Checker::new(&c));
    run.run_to_end();
    let s = run.summary();
    assert!(
        s.regime_updates.iter().any(|(r, n)| *r == "trending" && *n > 0),
        "{:?}",
        s.regime_updates
    );
    assert!(
        !s.rejects_by_reason.iter().any(|(r, _)| *r == "MALFORMED"),
        "{:?}",
        s.rejects_by_reason
    );
    assert_eq!(run.observer().total(), 0, "{:?}", run.observer().examples);
}
