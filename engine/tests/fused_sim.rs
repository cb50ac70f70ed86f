//! The fused pipeline against the in-process simulated venue: determinism,
//! attribution coverage, causality and the kill switch.

use foxtrot_engine::records::{
    CommandKind, DiaryRecord, InputSlot, InputView, OperatorCommand, Order, OrderAction, RiskReject, TheoryPacket,
    Verdict,
};
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_venue::SimWorld;

/// Keeps every output byte, so runs can be compared byte for byte.
#[derive(Default)]
struct Capture {
    wire: Vec<u8>,
    orders: Vec<Order>,
    diary: Vec<DiaryRecord>,
    theory: Vec<TheoryPacket>,
    rejects: Vec<RiskReject>,
    inputs: u64,
    last_ts: u64,
    ts_backwards: u64,
    exec_reports: u64,
}

impl RunObserver for Capture {
    fn on_input(&mut self, slot: &InputSlot) {
        self.inputs += 1;
        let ts = slot.header().ts_ns;
        if ts < self.last_ts {
            self.ts_backwards += 1;
        }
        self.last_ts = ts;
        if let Some(InputView::Exec(_)) = slot.view() {
            self.exec_reports += 1;
        }
    }
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        self.orders.push(*order);
        self.wire.extend_from_slice(wire);
    }
    fn on_reject(&mut self, r: &RiskReject) {
        self.rejects.push(*r);
    }
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.diary.push(*rec);
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.theory.push(*p);
    }
}

fn cfg(seed: u64, events: u64) -> Config {
    let mut c = Config::default_sim();
    c.gen.seed = seed;
    c.gen.events = events;
    c
}

fn run(c: &Config) -> FusedRun<SimWorld, Capture> {
    let mut r = FusedRun::with_observer(c, SimWorld::new(c), Capture::default());
    r.run_to_end();
    r
}

#[test]
fn same_seed_gives_byte_identical_orders_and_diary() {
    let c = cfg(7, 60_000);
    let (a, b) = (run(&c), run(&c));
    let (ca, cb) = (a.observer(), b.observer());
    assert!(
        !ca.orders.is_empty(),
        "the run must trade for this test to mean anything"
    );
    assert_eq!(ca.wire, cb.wire, "FIX order stream differs");
    let da: Vec<u8> = ca.diary.iter().flat_map(|d| bytemuck::bytes_of(d).to_vec()).collect();
    let db: Vec<u8> = cb.diary.iter().flat_map(|d| bytemuck::bytes_of(d).to_vec()).collect();
    assert_eq!(da, db, "diary differs");
    let (sa, sb) = (a.summary(), b.summary());
    assert_eq!(sa.order_hash, sb.order_hash);
    assert_eq!(sa.diary_hash, sb.diary_hash);
    assert_eq!(sa.input_hash, sb.input_hash);
    // The digests cover what the observer saw.
    assert_eq!(sa.order_hash.1, ca.orders.len() as u64);
    assert_eq!(sa.diary_hash.1, (ca.diary.len() + ca.theory.len()) as u64);
}

/// An untimed run reads no clock and records no latency, and its outputs are
/// the timed run's to the byte.
#[test]
fn an_untimed_run_gives_the_same_outputs_and_no_latency() {
    let c = cfg(7, 60_000);
    let timed = run(&c);
    let mut untimed = FusedRun::with_observer(&c, SimWorld::new(&c), Capture::default()).untimed();
    untimed.run_to_end();
    let (a, b) = (timed.observer(), untimed.observer());
    assert!(
        !a.orders.is_empty(),
        "the run must trade for this test to mean anything"
    );
    assert_eq!(a.wire, b.wire, "FIX order stream differs");
    let (sa, sb) = (timed.summary(), untimed.summary());
    assert_eq!(
        (sa.order_hash, sa.diary_hash, sa.input_hash),
        (sb.order_hash, sb.diary_hash, sb.input_hash)
    );
    assert_eq!(timed.latency().len(), a.orders.len() as u64, "every order timed");
    assert_eq!(untimed.latency().len(), 0, "nothing timed");
    assert!(b.orders.iter().all(|o| o.header.tsc == 0), "no input stamped");
}

#[test]
fn a_different_seed_gives_a_different_stream() {
    let a = run(&cfg(7, 30_000));
    let b = run(&cfg(8, 30_000));
    assert_ne!(a.summary().order_hash.0, b.summary().order_hash.0);
    assert_ne!(a.summary().input_hash.0, b.summary().input_hash.0);
}

/// Every order sent has exactly one diary record (Verdict::Order), matched
/// by ClOrdID: the diary accounts for every message that left.
fn one_diary_record_per_order(c: &Capture) {
    let mut recorded: Vec<u64> = c
        .diary
        .iter()
        .filter(|d| d.header.sub == Verdict::Order as u8)
        .map(|d| d.cl_ord_id)
        .collect();
    let mut sent: Vec<u64> = c.orders.iter().map(|o| o.cl_ord_id).collect();
    sent.sort_unstable();
    recorded.sort_unstable();
    assert_eq!(sent, recorded, "one diary record per order, matched by ClOrdID");
}

#[test]
fn every_order_has_exactly_one_diary_record_and_fills_happen() {
    let r = run(&cfg(11, 80_000));
    let c = r.observer();
    let s = r.summary();
    assert!(s.pnl.fills > 0, "no fills");
    assert!(c.exec_reports > 0);
    one_diary_record_per_order(c);
    let reject_records = c.diary.iter().filter(|d| d.header.sub == Verdict::Reject as u8).count();
    assert_eq!(reject_records, c.rejects.len());
    // Every decision left the diary with its markout horizon filled in (all but those
    // flushed at the very end); regime transitions carry no price and no markout.
    let decisions: Vec<&DiaryRecord> = c
        .diary
        .iter()
        .filter(|d| d.header.sub != Verdict::Transition as u8)
        .collect();
    assert_eq!(decisions.len() as u64, s.counters.decisions);
    let late = decisions.iter().filter(|d| d.markout_events == 0).count();
    assert!(late <= 1, "{late} decisions without a markout horizon");
    // ClOrdIDs are unique.
    let mut sent: Vec<u64> = c.orders.iter().map(|o| o.cl_ord_id).collect();
    sent.sort_unstable();
    let before = sent.len();
    sent.dedup();
    assert_eq!(sent.len(), before);
}

/// Against the simulated venue, a sound counterparty, every execution report
/// names an order of ours: a cancel refused as too late (the order filled
/// first) is a venue cancel reject, not an unknown report — the unknown
/// count is for reports a venue should not have sent.
#[test]
fn a_sound_venue_sends_no_unknown_reports() {
    let r = run(&cfg(42, 100_000));
    let c = r.summary().counters;
    assert!(
        c.venue_cancel_rejects > 0,
        "no cancel came too late: the run tests nothing"
    );
    assert_eq!(
        c.unknown_exec, 0,
        "{} of {} reports unknown",
        c.unknown_exec, c.exec_reports
    );
}

#[test]
fn control_time_never_runs_backwards() {
    let r = run(&cfg(3, 60_000));
    assert_eq!(r.observer().ts_backwards, 0);
    assert_eq!(r.summary().out_of_order_inputs, 0);
}

#[test]
fn kill_switch_cancels_open_orders_and_blocks_new_ones() {
    let mut c = cfg(5, 100_000);
    let passive = foxtrot_engine::config::PolicyChoice {
        policy: foxtrot_engine::config::PolicyName::Momentum,
        topology: foxtrot_engine::config::TopologyName::Passive,
    };
    let t = &mut c.strategy.regime_table;
    (t.unclassified, t.calm, t.trending, t.volatile) = (passive, passive, passive, passive);
    let mut r = FusedRun::with_observer(&c, SimWorld::new(&c), Capture::default());
    // Run until something is resting at the venue.
    let mut ok = false;
    for _ in 0..100_000 {
        if !r.step() {
            break;
        }
        if !r.core().open_orders().is_empty()
            && r.core()
                .open_orders()
                .iter()
                .all(|o| o.state == foxtrot_engine::core::orders::OrderState::Working)
        {
            ok = true;
            break;
        }
    }
    assert!(ok, "no working order appeared");
    let open: Vec<u64> = r.core().open_orders().iter().map(|o| o.cl_ord_id).collect();
    let before = r.observer().orders.len();
    let ts = r.observer().last_ts;
    r.command(OperatorCommand::new(CommandKind::Kill, ts));
    let cancels: Vec<u64> = r.observer().orders[before..]
        .iter()
        .inspect(|o| assert_eq!(o.action(), Some(OrderAction::Cancel)))
        .map(|o| o.orig_cl_ord_id)
        .collect();
    assert_eq!(cancels, open, "every open order is cancelled");
    let after_kill = r.observer().orders.len();
    r.run_to_end();
    let later: Vec<&Order> = r.observer().orders[after_kill..].iter().collect();
    assert!(
        later.iter().all(|o| o.action() == Some(OrderAction::Cancel)),
        "no new order or replace after the kill"
    );
    assert!(r.core().open_orders().is_empty(), "the cancels were acknowledged");
}

/// One input sends at most `CL_PER_INPUT` (16) orders: a kill with more open
/// orders than that cancels them over the inputs that follow it, first thing at
/// each, until none it found open is left — none is left working at the venue.
/// Those inputs keep `MAX_INTENTS` (4) numbers for their own decisions, so
/// no decision is left unplaced (it would have no order, reject or diary
/// record): what is checked is the cancels per input (it fails with all 16
/// taken). `unplaced` stays 0 here even then — the inputs after a kill are its
/// cancels' acknowledgements and the router holds while orders are pending —
/// so its check is a guard, not the proof.
#[test]
fn a_kill_of_more_open_orders_than_one_input_may_send_cancels_them_all() {
    use foxtrot_engine::core::orders::OrderState;
    use foxtrot_engine::records::CL_PER_INPUT;
    let c = passive(5, 400_000, 48, false);
    let mut r = FusedRun::with_observer(&c, SimWorld::new(&c), Capture::default());
    let working = |r: &FusedRun<SimWorld, Capture>| -> Vec<u64> {
        r.core()
            .open_orders()
            .iter()
            .filter(|o| o.state == OrderState::Working)
            .map(|o| o.cl_ord_id)
            .collect()
    };
    // Enough that the cancels go on over inputs that use all the numbers a
    // continuing sweep may take.
    let enough = 36;
    let mut ok = false;
    let mut most = 0;
    while r.step() {
        most = most.max(working(&r).len());
        if working(&r).len() >= enough {
            ok = true;
            break;
        }
    }
    assert!(ok, "never {enough} working orders (most {most})");
    let mut open = working(&r);
    let before = r.observer().orders.len();
    r.command(OperatorCommand::new(CommandKind::Kill, r.observer().last_ts));
    assert_eq!(
        r.observer().orders.len() - before,
        CL_PER_INPUT as usize,
        "the kill's own input sends as many cancels as it may"
    );
    // The rest go at the next inputs, CL_PER_INPUT − MAX_INTENTS at most each.
    let sweep_max = (CL_PER_INPUT as usize) - foxtrot_engine::core::router::MAX_INTENTS;
    for _ in 0..6 {
        let n = r.observer().orders.len();
        assert!(r.step());
        assert!(
            r.observer().orders.len() - n <= sweep_max,
            "an input after the kill sent more than {sweep_max} cancels"
        );
    }
    let mut cancelled: Vec<u64> = r.observer().orders[before..]
        .iter()
        .inspect(|o| assert_eq!(o.action(), Some(OrderAction::Cancel), "only cancels after the kill"))
        .map(|o| o.orig_cl_ord_id)
        .collect();
    cancelled.sort_unstable();
    open.sort_unstable();
    assert_eq!(cancelled, open, "every order working at the kill is cancelled, once");
    let ids: std::collections::BTreeSet<u64> = r.observer().orders.iter().map(|o| o.cl_ord_id).collect();
    assert_eq!(ids.len(), r.observer().orders.len(), "no ClOrdID used twice");
    r.run_to_end();
    assert!(r.core().open_orders().is_empty(), "the cancels were acknowledged");
    assert_eq!(
        r.core().counters().unplaced,
        0,
        "a decision was left without order numbers"
    );
}

#[test]
fn every_flag_on_is_still_byte_identical_and_changes_behaviour() {
    let mut c = cfg(9, 80_000);
    c.flags = foxtrot_engine::config::Flags {
        fast_weights: true,
        linear_attention: true,
        exploration: true,
        auto_feedback: true,
    };
    c.router.exploration.budget_pct = 20.0;
    c.router.exploration.every = 3;
    let (a, b) = (run(&c), run(&c));
    assert_eq!(a.observer().wire, b.observer().wire, "FIX order stream differs");
    let bytes = |r: &FusedRun<SimWorld, Capture>| -> Vec<u8> {
        let o = r.observer();
        o.diary
            .iter()
            .flat_map(|d| bytemuck::bytes_of(d).to_vec())
            .chain(o.theory.iter().flat_map(|p| bytemuck::bytes_of(p).to_vec()))
            .collect()
    };
    assert_eq!(bytes(&a), bytes(&b), "diary differs");
    let s = a.summary();
    assert_eq!(s.policy, "linear_attention");
    assert!(s.counters.explored > 0, "exploration explored nothing");
    assert!(a
        .observer()
        .diary
        .iter()
        .any(|d| d.header.flags & foxtrot_engine::core::pipeline::DIARY_EXPLORED != 0));
    assert!(
        a.core().router().attention().fast.updates() > 0,
        "no fast-weight update"
    );
    let off = run(&cfg(9, 80_000));
    assert_ne!(
        off.summary().order_hash.0,
        s.order_hash.0,
        "the flags change what trades"
    );
}

/// The fast weights change what the attention router picks: the same run with
/// linear attention, with and without them, trades differently (the flag alone
/// is refused by the configuration's validation, as nothing would read them).
#[test]
fn fast_weights_change_the_attention_routers_choices() {
    let mut c = cfg(5, 120_000);
    c.flags.linear_attention = true;
    c.router.fast_weights.eta = 0.5;
    let without = run(&c);
    c.flags.fast_weights = true;
    let with = run(&c);
    assert!(
        with.core().router().attention().fast.updates() > 0,
        "no fast-weight update"
    );
    assert_ne!(
        with.summary().order_hash.0,
        without.summary().order_hash.0,
        "fast weights changed nothing"
    );
    let mut lone = Config::default_sim();
    lone.flags.fast_weights = true;
    let err = lone.check(std::path::Path::new("<test>")).unwrap_err().to_string();
    assert!(
        err.contains("flags.fast_weights") && err.contains("linear_attention"),
        "{err}"
    );
}

#[test]
fn attention_blend_mode_is_deterministic_and_differs_from_choose() {
    let mut c = cfg(21, 60_000);
    c.flags.linear_attention = true;
    c.router.attention_mode = foxtrot_engine::config::AttentionMode::Blend;
    let (a, b) = (run(&c), run(&c));
    assert_eq!(a.observer().wire, b.observer().wire);
    assert!(!a.observer().orders.is_empty(), "blend mode trades");
    c.router.attention_mode = foxtrot_engine::config::AttentionMode::Choose;
    assert_ne!(
        run(&c).summary().order_hash.0,
        a.summary().order_hash.0,
        "blending changes the targets"
    );
}

/// A run of `c` (momentum, passive everywhere) stepped until at least
/// `enough` orders are working at the venue; panics if none appears.
fn with_working_orders<V: foxtrot_engine::runtime::VenueLink>(
    c: &Config,
    venue: V,
    enough: usize,
) -> FusedRun<V, Capture> {
    let mut r = FusedRun::with_observer(c, venue, Capture::default());
    let working = |r: &FusedRun<V, Capture>| {
        r.core()
            .open_orders()
            .iter()
            .filter(|o| o.state == foxtrot_engine::core::orders::OrderState::Working)
            .count()
    };
    while r.step() {
        if working(&r) >= enough {
            return r;
        }
    }
    panic!("never {enough} working orders");
}

/// Momentum, passive in every regime, over `instruments` copies of the
/// first instrument: orders rest at the venue. Kills and halts cancel with
/// one mass cancel if `mass_cancel`, else order by order.
fn passive(seed: u64, events: u64, instruments: usize, mass_cancel: bool) -> Config {
    let mut c = cfg(seed, events);
    let base = c.instruments[0].clone();
    c.instruments = (0..instruments)
        .map(|k| {
            let mut s = base.clone();
            s.symbol = format!("FX{k:02}");
            s
        })
        .collect();
    c.risk.max_open_orders = 128;
    let passive = foxtrot_engine::config::PolicyChoice {
        policy: foxtrot_engine::config::PolicyName::Momentum,
        topology: foxtrot_engine::config::TopologyName::Passive,
    };
    let t = &mut c.strategy.regime_table;
    (t.unclassified, t.calm, t.trending, t.volatile) = (passive, passive, passive, passive);
    c.venue.mass_cancel = mass_cancel;
    c.validate(std::path::Path::new("test")).expect("a valid configuration");
    c
}

/// With `venue.mass_cancel`, a kill sends one OrderMassCancelRequest for
/// every order (530=7), however many are open — not one cancel per order —
/// and the venue's cancels of each close them all in the core; nothing new
/// is sent after it.
#[test]
fn a_kill_sends_one_mass_cancel_and_every_order_it_covers_is_cancelled() {
    let c = passive(5, 400_000, 24, true);
    let mut r = with_working_orders(&c, SimWorld::new(&c), 20);
    let open = r.core().open_orders().len();
    let before = r.observer().orders.len();
    let wire_before = r.observer().wire.len();
    r.command(OperatorCommand::new(CommandKind::Kill, r.observer().last_ts));
    let sent = &r.observer().orders[before..];
    assert_eq!(sent.len(), 1, "one message for {open} open orders");
    assert_eq!(sent[0].action(), Some(OrderAction::MassCancel));
    assert_eq!(
        sent[0].header.flags,
        foxtrot_engine::records::MassCancelScope::All as u8
    );
    let sent_cl = sent[0].cl_ord_id;
    let wire = String::from_utf8_lossy(&r.observer().wire[wire_before..]).replace('\x01', "|");
    assert!(
        wire.contains("|35=q|") && wire.contains("|530=7|") && !wire.contains("|55="),
        "{wire}"
    );
    use foxtrot_engine::core::orders::OrderState;
    assert!(
        r.core()
            .open_orders()
            .iter()
            .all(|o| !matches!(o.state, OrderState::Working | OrderState::PendingNew)),
        "every order working or unacknowledged is pending cancel under the request: {:?}",
        r.core().open_orders().iter().collect::<Vec<_>>()
    );
    r.run_to_end();
    assert_eq!(r.observer().orders.len(), before + 1, "nothing sent after the kill");
    assert!(r.core().open_orders().is_empty(), "the venue cancelled them all");
    let k = r.core().counters();
    assert_eq!((k.mass_cancels, k.mass_cancel_refusals, k.unknown_exec), (1, 0, 0));
    // The request has its diary record, as every order has.
    one_diary_record_per_order(r.observer());
    let rec = r.observer().diary.iter().find(|d| d.cl_ord_id == sent_cl).unwrap();
    assert_eq!((rec.px, rec.qty, rec.header.side, rec.markout), (0, 0, 0, 0), "{rec:?}");
}

/// A halt cancels its instrument's orders in one request (530=1 with the
/// symbol); the other instruments' orders stay working.
#[test]
fn a_halt_mass_cancels_its_instruments_orders_only() {
    let c = passive(5, 400_000, 24, true);
    let mut r = with_working_orders(&c, SimWorld::new(&c), 20);
    let of =
        |r: &FusedRun<SimWorld, Capture>, i: u32| r.core().open_orders().iter().filter(|o| o.instrument == i).count();
    let i = (0..24).max_by_key(|&i| of(&r, i)).unwrap();
    let others: usize = (0..24).filter(|&j| j != i).map(|j| of(&r, j)).sum();
    assert!(
        of(&r, i) > 0 && others > 0,
        "orders on the halted instrument and on others"
    );
    let before = r.observer().orders.len();
    let wire_before = r.observer().wire.len();
    let mut cmd = OperatorCommand::new(CommandKind::Halt, r.observer().last_ts);
    cmd.header.instrument = i;
    r.command(cmd);
    let sent = &r.observer().orders[before..];
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].action(), sent[0].header.instrument),
        (Some(OrderAction::MassCancel), i)
    );
    let wire = String::from_utf8_lossy(&r.observer().wire[wire_before..]).replace('\x01', "|");
    assert!(
        wire.contains("|530=1|") && wire.contains(&format!("|55=FX{i:02}|")),
        "{wire}"
    );
    // The venue's answers come within the entry and report latencies.
    for _ in 0..200 {
        r.step();
    }
    assert_eq!(of(&r, i), 0, "the halted instrument's orders are cancelled");
    assert!(
        r.core().open_orders().iter().any(|o| o.instrument != i),
        "the others' are not"
    );
}

/// A venue that refuses every mass cancel (FIX 35=r, MassCancelResponse 0)
/// and is the simulated venue otherwise.
struct RefusesMassCancels {
    inner: SimWorld,
    refusals: std::collections::VecDeque<InputSlot>,
}

impl foxtrot_engine::runtime::VenueLink for RefusesMassCancels {
    fn poll(&mut self) -> Option<InputSlot> {
        self.refusals.pop_front().or_else(|| self.inner.poll())
    }
    fn send(&mut self, order: &Order, wire: &[u8]) {
        if order.action() == Some(OrderAction::MassCancel) {
            use foxtrot_engine::records::{ExecKind, ExecReport, Side};
            let mut e = ExecReport::new(ExecKind::MassCancelRefused, u32::MAX, Side::Buy, order.header.ts_ns + 1);
            e.cl_ord_id = order.cl_ord_id;
            self.refusals.push_back(InputSlot::from_exec(&e));
        } else {
            self.inner.send(order, wire);
        }
    }
    fn feedback_delay(&self) -> Option<u64> {
        self.inner.feedback_delay()
    }
    fn poll_before(&mut self, horizon: u64) -> foxtrot_engine::runtime::Polled {
        match self.refusals.pop_front() {
            Some(s) => foxtrot_engine::runtime::Polled::Input(s),
            None => self.inner.poll_before(horizon),
        }
    }
}

/// Refused, a mass cancel falls back to one cancel per order it covered:
/// each order working at the kill is cancelled once, and all are closed.
#[test]
fn a_refused_mass_cancel_cancels_order_by_order() {
    let c = passive(5, 400_000, 24, true);
    let venue = RefusesMassCancels {
        inner: SimWorld::new(&c),
        refusals: Default::default(),
    };
    let mut r = with_working_orders(&c, venue, 20);
    let mut open: Vec<u64> = r.core().open_orders().iter().map(|o| o.cl_ord_id).collect();
    let before = r.observer().orders.len();
    r.command(OperatorCommand::new(CommandKind::Kill, r.observer().last_ts));
    assert_eq!(r.observer().orders.len(), before + 1, "first, the mass cancel");
    r.run_to_end();
    let after = &r.observer().orders[before + 1..];
    let mut cancelled: Vec<u64> = after
        .iter()
        .inspect(|o| assert_eq!(o.action(), Some(OrderAction::Cancel), "only cancels after the kill"))
        .map(|o| o.orig_cl_ord_id)
        .collect();
    cancelled.sort_unstable();
    open.sort_unstable();
    assert_eq!(
        cancelled, open,
        "every order the refused request covered is cancelled, once"
    );
    assert!(r.core().open_orders().is_empty());
    let k = r.core().counters();
    assert_eq!((k.mass_cancels, k.mass_cancel_refusals), (1, 1));
    one_diary_record_per_order(r.observer());
}
