//! Matching-engine behaviour: price-time priority, partial fills, cancels and
//! replaces, market sweeps, and conservation of quantity under random flow.

use foxtrot_engine::records::{ExecKind, MdAction, OrdType, Side, VenueReject};
use foxtrot_venue::matching::{MatchingEngine, NewOrder, VenueOutput, CROWD, ENGINE};
use proptest::prelude::*;

fn lim(owner: u32, cl: u64, side: Side, px: i64, qty: i64) -> NewOrder {
    NewOrder {
        owner,
        cl_ord_id: cl,
        instrument: 0,
        side,
        ord_type: OrdType::Limit,
        px,
        qty,
    }
}
fn mkt(owner: u32, cl: u64, side: Side, qty: i64) -> NewOrder {
    NewOrder {
        owner,
        cl_ord_id: cl,
        instrument: 0,
        side,
        ord_type: OrdType::Market,
        px: 0,
        qty,
    }
}
fn engine() -> (MatchingEngine, VenueOutput) {
    (MatchingEngine::new(&[1], 1024, 256), VenueOutput::with_capacity(64))
}
/// Venue id of the order an `Add` just published.
fn added(out: &VenueOutput) -> u64 {
    out.md
        .iter()
        .find(|m| m.action() == Some(MdAction::Add))
        .unwrap()
        .order_id
}

#[test]
fn price_time_priority() {
    let (mut v, mut out) = engine();
    v.submit(&lim(CROWD, 0, Side::Sell, 101, 5), 1, &mut out);
    let a = added(&out);
    out.clear();
    v.submit(&lim(CROWD, 0, Side::Sell, 100, 5), 2, &mut out);
    let b = added(&out);
    out.clear();
    v.submit(&lim(CROWD, 0, Side::Sell, 100, 5), 3, &mut out);
    let c = added(&out);
    out.clear();
    // Buy 7 @ 101: better price first (100: b then c by time), never a at 101.
    v.submit(&lim(ENGINE, 9, Side::Buy, 101, 7), 4, &mut out);
    let execs: Vec<(u64, i64, i64)> = out
        .md
        .iter()
        .filter(|m| m.action() == Some(MdAction::Execute))
        .map(|m| (m.order_id, m.px, m.qty))
        .collect();
    assert_eq!(execs, vec![(b, 100, 5), (c, 100, 2)]);
    assert_eq!(v.queue(0, Side::Sell, 100), vec![(c, 3)]);
    assert_eq!(v.queue(0, Side::Sell, 101), vec![(a, 5)]);
    // Our order: New, then two fills at 100, fully filled.
    let kinds: Vec<_> = out
        .er
        .iter()
        .map(|e| (e.kind().unwrap(), e.last_qty, e.cum_qty, e.leaves_qty))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (ExecKind::New, 0, 0, 7),
            (ExecKind::PartialFill, 5, 5, 2),
            (ExecKind::Fill, 2, 7, 0)
        ]
    );
    assert!(out.md.last().unwrap().header.flags & foxtrot_engine::records::flags::LAST_IN_BATCH != 0);
}

#[test]
fn partial_fill_then_cancel_of_the_rest() {
    let (mut v, mut out) = engine();
    v.submit(&lim(ENGINE, 1, Side::Buy, 99, 10), 1, &mut out);
    out.clear();
    v.submit(&mkt(CROWD, 0, Side::Sell, 4), 2, &mut out);
    let er = out.er[0];
    assert_eq!(
        (er.kind(), er.last_px, er.last_qty, er.cum_qty, er.leaves_qty),
        (Some(ExecKind::PartialFill), 99, 4, 4, 6)
    );
    out.clear();
    v.cancel_own(2, 1, 3, &mut out);
    let er = out.er[0];
    assert_eq!(
        (er.kind(), er.cl_ord_id, er.orig_cl_ord_id, er.cum_qty, er.leaves_qty),
        (Some(ExecKind::Canceled), 2, 1, 4, 0)
    );
    let md = out.md[0];
    assert_eq!((md.action(), md.px, md.qty), (Some(MdAction::Cancel), 99, 6));
    assert_eq!(v.best(0, Side::Buy), None);
    // Cancelling again is rejected: the order is gone.
    out.clear();
    v.cancel_own(3, 1, 4, &mut out);
    assert_eq!(out.er[0].kind(), Some(ExecKind::CancelRejected));
}

#[test]
fn replace_up_loses_priority_replace_down_keeps_it() {
    let (mut v, mut out) = engine();
    v.submit(&lim(ENGINE, 1, Side::Buy, 99, 10), 1, &mut out);
    let ours = added(&out);
    out.clear();
    v.submit(&lim(CROWD, 0, Side::Buy, 99, 10), 2, &mut out);
    let theirs = added(&out);
    out.clear();
    // Size down at the same price: stays first.
    v.replace_own(2, 1, 99, 8, 3, &mut out);
    assert_eq!(out.er[0].kind(), Some(ExecKind::Replaced));
    assert_eq!((out.md[0].action(), out.md[0].qty), (Some(MdAction::Modify), -2));
    assert_eq!(v.queue(0, Side::Buy, 99), vec![(ours, 8), (theirs, 10)]);
    out.clear();
    // Size up: goes behind the crowd order.
    v.replace_own(3, 2, 99, 12, 4, &mut out);
    assert_eq!(v.queue(0, Side::Buy, 99), vec![(theirs, 10), (ours, 12)]);
    out.clear();
    // A sell of 15 fills the crowd order first, then 5 of ours.
    v.submit(&mkt(CROWD, 0, Side::Sell, 15), 5, &mut out);
    let fills: Vec<(u64, i64)> = out.md.iter().map(|m| (m.order_id, m.qty)).collect();
    assert_eq!(fills, vec![(theirs, 10), (ours, 5)]);
    assert_eq!(
        (out.er[0].cl_ord_id, out.er[0].last_qty, out.er[0].leaves_qty),
        (3, 5, 7)
    );
    out.clear();
    // Re-price across the spread: it trades on arrival.
    v.submit(&lim(CROWD, 0, Side::Sell, 101, 3), 6, &mut out);
    out.clear();
    v.replace_own(4, 3, 101, 12, 7, &mut out);
    let kinds: Vec<_> = out.er.iter().map(|e| e.kind().unwrap()).collect();
    assert_eq!(kinds, vec![ExecKind::Replaced, ExecKind::PartialFill]);
    assert_eq!(v.best(0, Side::Buy), Some((101, 4)));
}

#[test]
fn market_order_sweeps_levels_and_cancels_the_remainder() {
    let (mut v, mut out) = engine();
    for (px, q) in [(100, 2), (101, 3), (103, 4)] {
        v.submit(&lim(CROWD, 0, Side::Sell, px, q), 1, &mut out);
    }
    out.clear();
    v.submit(&mkt(ENGINE, 7, Side::Buy, 12), 2, &mut out);
    let execs: Vec<(i64, i64)> = out.md.iter().map(|m| (m.px, m.qty)).collect();
    assert_eq!(execs, vec![(100, 2), (101, 3), (103, 4)]);
    let last = out.er.last().unwrap();
    assert_eq!(
        (last.kind(), last.cum_qty, last.leaves_qty),
        (Some(ExecKind::Canceled), 9, 0)
    );
    assert_eq!(v.best(0, Side::Sell), None);
    out.clear();
    // No liquidity at all: accepted, then cancelled (IOC), never rejected
    // after its acknowledgement; its reports say it is a market order.
    v.submit(&mkt(ENGINE, 8, Side::Buy, 1), 3, &mut out);
    let kinds: Vec<_> = out.er.iter().map(|e| e.kind().unwrap()).collect();
    assert_eq!(kinds, vec![ExecKind::New, ExecKind::Canceled]);
    assert!(out.er.iter().all(|e| e.ord_type == OrdType::Market as u8));
    assert_eq!(out.er[1].reason, VenueReject::NoLiquidity as u8);
}

#[test]
fn invalid_orders_are_rejected() {
    let (mut v, mut out) = engine();
    v.submit(&lim(ENGINE, 1, Side::Buy, 0, 1), 1, &mut out);
    v.submit(&lim(ENGINE, 2, Side::Buy, 10, 0), 1, &mut out);
    let mut o = lim(ENGINE, 3, Side::Buy, 10, 1);
    o.instrument = 5;
    v.submit(&o, 1, &mut out);
    assert!(out.er.iter().all(|e| e.kind() == Some(ExecKind::Rejected)));
    assert_eq!(out.er.len(), 3);
    assert!(out.md.is_empty());
}

#[derive(Clone, Debug)]
enum Op {
    Limit(bool, bool, i64, i64),
    Market(bool, bool, i64),
    CancelOwn(usize),
    ReplaceOwn(usize, i64, i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), any::<bool>(), 95i64..106, 1i64..20).prop_map(|(o, s, p, q)| Op::Limit(o, s, p, q)),
        1 => (any::<bool>(), any::<bool>(), 1i64..40).prop_map(|(o, s, q)| Op::Market(o, s, q)),
        1 => (0usize..64).prop_map(Op::CancelOwn),
        1 => (0usize..64, 95i64..106, 1i64..30).prop_map(|(i, p, q)| Op::ReplaceOwn(i, p, q)),
    ]
}

proptest! {
    /// Under any flow: every execution fills aggressor and resting order by the same
    /// amount; each engine order's reports add up (cum = Σ last_qty, leaves = qty − cum);
    /// book level totals equal the sum of their queues; the book is never crossed.
    #[test]
    fn quantity_is_conserved(ops in proptest::collection::vec(op(), 1..200)) {
        let (mut v, mut out) = engine();
        let mut cl = 0u64;
        let mut own: Vec<u64> = Vec::new();
        let mut fills_by_cl: std::collections::BTreeMap<u64, i64> = Default::default();
        let mut exec_md_qty = 0i64;
        let mut engine_fill_qty = 0i64;
        for (t, op) in ops.into_iter().enumerate() {
            out.clear();
            let ts = t as u64;
            let side = |s: bool| if s { Side::Buy } else { Side::Sell };
            match op {
                Op::Limit(ours, s, px, q) => {
                    cl += 1;
                    v.submit(&lim(if ours { ENGINE } else { CROWD }, cl, side(s), px, q), ts, &mut out);
                    if ours { own.push(cl); }
                }
                Op::Market(ours, s, q) => {
                    cl += 1;
                    v.submit(&mkt(if ours { ENGINE } else { CROWD }, cl, side(s), q), ts, &mut out);
                }
                Op::CancelOwn(i) if !own.is_empty() => {
                    cl += 1;
                    v.cancel_own(cl, own[i % own.len()], ts, &mut out);
                }
                Op::ReplaceOwn(i, px, q) if !own.is_empty() => {
                    cl += 1;
                    let k = i % own.len();
                    let before = out.er.len();
                    v.replace_own(cl, own[k], px, q, ts, &mut out);
                    if out.er[before..].iter().any(|e| e.kind() == Some(ExecKind::Replaced)) {
                        // Fills reported under the old id carry over to the new one.
                        let prior = fills_by_cl.remove(&own[k]).unwrap_or(0);
                        fills_by_cl.insert(cl, prior);
                        own[k] = cl;
                    }
                }
                _ => {}
            }
            for m in &out.md {
                if m.action() == Some(MdAction::Execute) { exec_md_qty += m.qty; }
            }
            for e in &out.er {
                if e.kind().is_some_and(|k| k.is_fill()) {
                    prop_assert!(e.last_qty > 0);
                    engine_fill_qty += e.last_qty;
                    let c = fills_by_cl.entry(e.cl_ord_id).or_default();
                    *c += e.last_qty;
                    prop_assert_eq!(*c, e.cum_qty, "cum_qty is the sum of last_qty");
                    prop_assert_eq!(e.leaves_qty, e.order_qty - e.cum_qty);
                }
            }
            for s in [Side::Buy, Side::Sell] {
                let levels: Vec<_> = v.levels(0, s).collect();
                for (px, q) in &levels {
                    let queue: i64 = v.queue(0, s, *px).iter().map(|(_, l)| l).sum();
                    prop_assert_eq!(*q, queue);
                    prop_assert!(*q > 0);
                }
                let sorted = levels.windows(2).all(|w| match s {
                    Side::Buy => w[0].0 > w[1].0,
                    Side::Sell => w[0].0 < w[1].0,
                });
                prop_assert!(sorted, "levels listed best first");
            }
            if let (Some((b, _)), Some((a, _))) = (v.best(0, Side::Buy), v.best(0, Side::Sell)) {
                prop_assert!(b < a, "book crossed: {} >= {}", b, a);
            }
        }
        // Each execution is one fill of a resting order and one of an aggressor, so
        // the venue's filled quantity equals the market data's executed quantity.
        prop_assert_eq!(v.counters().filled_qty, exec_md_qty);
        // Engine fills are a subset of all fills (counted on both sides when we trade with ourselves).
        prop_assert!(engine_fill_qty <= 2 * exec_md_qty);
    }
}

/// Every fill of an engine order says whether it made the market (it rested:
/// LIQUIDITY_ADDED) or took it (it crossed: LIQUIDITY_REMOVED) — what the fee
/// schedule's maker and taker rates need.
#[test]
fn engine_fills_say_whether_they_added_or_took_liquidity() {
    use foxtrot_engine::records::{LIQUIDITY_ADDED, LIQUIDITY_REMOVED};
    let (mut v, mut out) = engine();
    // Our bid rests; the crowd sells into it: we added liquidity.
    v.submit(&lim(ENGINE, 1, Side::Buy, 100, 5), 1, &mut out);
    out.clear();
    v.submit(&mkt(CROWD, 0, Side::Sell, 3), 2, &mut out);
    let f: Vec<(ExecKind, u8)> = out.er.iter().map(|e| (e.kind().unwrap(), e.header.flags)).collect();
    assert_eq!(f, vec![(ExecKind::PartialFill, LIQUIDITY_ADDED)]);
    out.clear();
    // We cross the crowd's resting offer, limit and market: we took it.
    v.submit(&lim(CROWD, 0, Side::Sell, 101, 10), 3, &mut out);
    out.clear();
    v.submit(&lim(ENGINE, 2, Side::Buy, 101, 4), 4, &mut out);
    v.submit(&mkt(ENGINE, 3, Side::Buy, 2), 5, &mut out);
    let f: Vec<(u64, u8)> = out
        .er
        .iter()
        .filter(|e| e.kind().is_some_and(|k| k.is_fill()))
        .map(|e| (e.cl_ord_id, e.header.flags))
        .collect();
    assert_eq!(f, vec![(2, LIQUIDITY_REMOVED), (3, LIQUIDITY_REMOVED)]);
    // Reports that are not fills say nothing.
    assert!(out
        .er
        .iter()
        .filter(|e| e.kind() == Some(ExecKind::New))
        .all(|e| e.header.flags == 0));
}

/// Orders numbered after an id (a restarted venue, after the highest OrderID
/// its store reported) never take an id at or below it, the cancelled
/// orders' freed slots included.
#[test]
fn orders_numbered_after_an_id_never_take_one_below_it() {
    let (mut v, mut out) = engine();
    let before = (7u64 << 32) | 3;
    v.number_orders_after(before);
    for k in 0..50u64 {
        out.clear();
        v.submit(&lim(ENGINE, k + 1, Side::Buy, 10 + k as i64 % 3, 1), k, &mut out);
        let id = out.er[0].venue_order_id;
        assert!(
            id >> 32 > before >> 32,
            "order {k} numbered {id:#x}, not after {before:#x}"
        );
        if k % 2 == 0 {
            out.clear();
            v.cancel_own(1000 + k, k + 1, k, &mut out);
        }
    }
    // Numbering after an id below the current generation changes nothing.
    v.number_orders_after(1 << 32);
    out.clear();
    v.submit(&lim(ENGINE, 100, Side::Buy, 10, 1), 100, &mut out);
    assert!(out.er[0].venue_order_id >> 32 > 50 + 7);
}
