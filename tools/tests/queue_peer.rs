//! The L2 queue models held to a peer: resting limit orders over the same
//! quotes and trades, filled by foxtrot's touch venue and by hftbacktest
//! 2.4.4's exchange (`tests/hftbacktest_queue.py`), must fill alike — the
//! same orders, at the same data events, in the same quantities, at the same
//! prices.
//!
//! The day is generated here (seeded; `FOXTROT_SEED` replays another): one
//! level a side, sizes that grow and shrink (additions and cancellations),
//! trades at the touch that deplete it (the side then steps away), sweeps
//! that take a level and trade one tick beyond it, a book that shifts a tick
//! without a print, and a touch that improves into a wide spread — so orders fill by trades passing their queue, by a
//! print beyond their price, and by the far touch coming to them. Orders rest
//! at or one tick behind the touch and are never cancelled.
//!
//! Each order is of one lot, and the peer runs its NoPartialFillExchange: an
//! order of one lot fills in full the moment one lot has traded past the
//! queue ahead, in both. (hftbacktest 2.4.4's PartialFillExchange cannot be
//! the reference for partial quantities: it fills the whole excess past the
//! queue again at each trade, and an order filled exactly stays in its book
//! until the next fill attempt fails with InvalidOrderStatus. foxtrot's partial
//! fills are held to the hand-computed cases in `touch.rs`.)

mod common;
mod external;

use foxtrot_engine::config::QueueModel;
use foxtrot_engine::records::{
    flags, ExecKind, Header, InputView, InstrumentSpec, Kind, MarketData, MdAction, OrdType, Order, OrderAction, Side,
};
use foxtrot_engine::rng::SeededRng;
use foxtrot_engine::runtime::VenueLink;
use foxtrot_engine::Config;
use foxtrot_venue::touch::TouchVenue;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One event of the day: time, quote (`Q`) or trade (`T`), side (a quote's
/// side, a trade's aggressor), price in ticks, quantity.
#[derive(Clone, Copy, Debug)]
struct Ev {
    ts: u64,
    kind: char,
    side: Side,
    px: i64,
    qty: i64,
}

/// One order: submitted at `ts`, a GTC limit never cancelled.
#[derive(Clone, Copy, Debug)]
struct Ord {
    ts: u64,
    id: u64,
    side: Side,
    px: i64,
    qty: i64,
}

const STEP_NS: u64 = 1_000_000;

fn day(seed: u64, events: usize) -> (Vec<Ev>, Vec<Ord>) {
    let mut r = SeededRng::new(seed);
    let (mut b, mut bq, mut a, mut aq) = (10_000i64, 20i64, 10_001i64, 20i64);
    let mut ts = 1_000_000_000u64;
    let mut out = Vec::with_capacity(events + 64);
    let mut orders = Vec::new();
    let fresh = |r: &mut SeededRng| 5 + r.below(36) as i64;
    while out.len() < events {
        ts += STEP_NS;
        let mut ev = |kind, side, px, qty, ts: &mut u64| {
            out.push(Ev {
                ts: *ts,
                kind,
                side,
                px,
                qty,
            });
            *ts += STEP_NS;
        };
        match r.below(100) {
            // Additions and cancellations at the touch.
            0..=29 => {
                bq = (bq + r.below(11) as i64 - 5).max(1);
                ev('Q', Side::Buy, b, bq, &mut ts);
            }
            30..=59 => {
                aq = (aq + r.below(11) as i64 - 5).max(1);
                ev('Q', Side::Sell, a, aq, &mut ts);
            }
            // A sell at the bid; a level taken whole steps the bid down.
            60..=74 => {
                let q = 1 + r.below(bq as u64) as i64;
                ev('T', Side::Sell, b, q, &mut ts);
                bq -= q;
                if bq == 0 {
                    b -= 1;
                    bq = fresh(&mut r);
                }
                ev('Q', Side::Buy, b, bq, &mut ts);
            }
            75..=89 => {
                let q = 1 + r.below(aq as u64) as i64;
                ev('T', Side::Buy, a, q, &mut ts);
                aq -= q;
                if aq == 0 {
                    a += 1;
                    aq = fresh(&mut r);
                }
                ev('Q', Side::Sell, a, aq, &mut ts);
            }
            // Sweeps: the whole level, then a print one tick beyond it.
            90..=92 => {
                ev('T', Side::Sell, b, bq, &mut ts);
                ev('T', Side::Sell, b - 1, 1 + r.below(5) as i64, &mut ts);
                b -= 2;
                bq = fresh(&mut r);
                ev('Q', Side::Buy, b, bq, &mut ts);
            }
            93..=95 => {
                ev('T', Side::Buy, a, aq, &mut ts);
                ev('T', Side::Buy, a + 1, 1 + r.below(5) as i64, &mut ts);
                a += 2;
                aq = fresh(&mut r);
                ev('Q', Side::Sell, a, aq, &mut ts);
            }
            // The book shifts a tick without a print: a side steps back (its
            // level cancelled), and the other comes to the price it left
            // (the far touch comes to the orders resting there).
            96 => {
                b -= 1;
                bq = fresh(&mut r);
                ev('Q', Side::Buy, b, bq, &mut ts);
                a = b + 1;
                aq = fresh(&mut r);
                ev('Q', Side::Sell, a, aq, &mut ts);
            }
            97 => {
                a += 1;
                aq = fresh(&mut r);
                ev('Q', Side::Sell, a, aq, &mut ts);
                b = a - 1;
                bq = fresh(&mut r);
                ev('Q', Side::Buy, b, bq, &mut ts);
            }
            // A wide spread narrows: the far touch may come to resting orders.
            _ => {
                if a - b >= 2 {
                    if r.chance(0.5) {
                        b += 1;
                        bq = fresh(&mut r);
                        ev('Q', Side::Buy, b, bq, &mut ts);
                    } else {
                        a -= 1;
                        aq = fresh(&mut r);
                        ev('Q', Side::Sell, a, aq, &mut ts);
                    }
                }
            }
        }
        // Keep the spread within three ticks: the stepped-away side comes back.
        while a - b > 3 {
            if r.chance(0.5) {
                b += 1;
                bq = fresh(&mut r);
                ev('Q', Side::Buy, b, bq, &mut ts);
            } else {
                a -= 1;
                aq = fresh(&mut r);
                ev('Q', Side::Sell, a, aq, &mut ts);
            }
        }
        // Now and then an order at (or a tick behind) the touch, half-way to
        // the next event.
        if out.len() > 10 && r.chance(0.02) {
            let behind = r.below(2) as i64;
            let (side, px) = if r.chance(0.5) {
                (Side::Buy, b - behind)
            } else {
                (Side::Sell, a + behind)
            };
            let id = orders.len() as u64 + 1;
            orders.push(Ord {
                ts: ts - STEP_NS / 2,
                id,
                side,
                px,
                qty: 1,
            });
        }
    }
    (out, orders)
}

/// Fills by (order, data event time): price and quantity.
type Fills = BTreeMap<(u64, u64), (i64, i64)>;

fn add(f: &mut Fills, id: u64, ts: u64, px: i64, qty: i64) {
    let e = f.entry((id, ts)).or_insert((px, 0));
    assert_eq!(e.0, px, "order {id} filled at two prices at {ts}");
    e.1 += qty;
}

/// The day through foxtrot's touch venue under `queue`: each order sent once
/// the venue has applied every event before its time.
fn foxtrot_fills(events: &[Ev], orders: &[Ord], queue: QueueModel) -> Fills {
    let mut cfg = Config::default_backtest();
    cfg.instruments = vec![InstrumentSpec {
        symbol: "PEER".into(),
        price_decimals: 0,
        tick: 1,
        qty_decimals: 0,
        lot: 1,
        ref_price: 10_000,
    }];
    cfg.venue.fill_model.queue = queue;
    let ack = cfg.venue.ack_latency_ns;
    let data: Vec<MarketData> = events
        .iter()
        .map(|e| {
            let action = if e.kind == 'Q' {
                MdAction::Quote
            } else {
                MdAction::Trade
            };
            MarketData::new(action, 0, Some(e.side), e.ts, 0, e.px, e.qty, flags::LAST_IN_BATCH)
        })
        .collect();
    let mut v = TouchVenue::new(&cfg, data.into_iter());
    let mut fills = Fills::new();
    let mut md = 0;
    let take = |v: &mut TouchVenue<_>, md: &mut usize, fills: &mut Fills| -> bool {
        let Some(s) = v.poll() else { return false };
        match s.view() {
            Some(InputView::Md(_)) => *md += 1,
            Some(InputView::Exec(e)) if matches!(e.kind(), Some(ExecKind::Fill | ExecKind::PartialFill)) => {
                add(fills, e.cl_ord_id, e.header.ts_ns - ack, e.last_px, e.last_qty)
            }
            Some(InputView::Exec(e)) => assert_eq!(e.kind(), Some(ExecKind::New), "{e:?}"),
            _ => {}
        }
        true
    };
    for o in orders {
        let before = events.iter().take_while(|e| e.ts < o.ts).count();
        while md < before {
            assert!(take(&mut v, &mut md, &mut fills), "the data ended early");
        }
        let order = Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: OrderAction::New as u8,
                side: o.side as u8,
                flags: OrdType::Limit as u8,
                ts_ns: o.ts,
                ..Header::default()
            },
            cl_ord_id: o.id,
            orig_cl_ord_id: 0,
            px: o.px,
            qty: o.qty,
        };
        v.send(&order, &[]);
    }
    while take(&mut v, &mut md, &mut fills) {}
    fills
}

fn peer_fills(dir: &std::path::Path, events: &[Ev], orders: &[Ord], queue: &str) -> Fills {
    let side = |s: Side| if s == Side::Buy { 'B' } else { 'S' };
    let mut e = String::new();
    for x in events {
        let _ = writeln!(e, "{},{},{},{},{}", x.ts, x.kind, side(x.side), x.px, x.qty);
    }
    let mut o = String::new();
    for x in orders {
        let _ = writeln!(o, "{},{},{},{},{}", x.ts, x.id, side(x.side), x.px, x.qty);
    }
    let (ep, op) = (dir.join("events.csv"), dir.join("orders.csv"));
    std::fs::write(&ep, e).unwrap();
    std::fs::write(&op, o).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hftbacktest_queue.py"))
        .args([&ep, &op])
        .args(["--queue", queue])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut fills = Fills::new();
    for f in j["fills"].as_array().unwrap() {
        let v: Vec<i64> = f.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        add(&mut fills, v[0] as u64, v[1] as u64, v[2], v[3]);
    }
    fills
}

/// How the fills came, by the data event that made them: a trade at the
/// order's price (its queue passed), a trade beyond it, a quote (the far
/// touch came to it). Each must be there for the comparison to hold each.
fn by_cause(events: &[Ev], orders: &[Ord], fills: &Fills) -> [usize; 3] {
    let at: BTreeMap<u64, &Ev> = events.iter().map(|e| (e.ts, e)).collect();
    let px: BTreeMap<u64, i64> = orders.iter().map(|o| (o.id, o.px)).collect();
    let mut n = [0; 3];
    for &(id, ts) in fills.keys() {
        let e = at[&ts];
        n[match (e.kind, e.px == px[&id]) {
            ('T', true) => 0,
            ('T', false) => 1,
            _ => 2,
        }] += 1;
    }
    n
}

/// The first differences of two fill maps, for a failure's message.
fn differences(ours: &Fills, theirs: &Fills) -> String {
    let keys: std::collections::BTreeSet<_> = ours.keys().chain(theirs.keys()).collect();
    keys.into_iter()
        .filter(|k| ours.get(k) != theirs.get(k))
        .take(10)
        .map(|k| {
            format!(
                "order {} at {}: foxtrot {:?}, hftbacktest {:?}",
                k.0,
                k.1,
                ours.get(k),
                theirs.get(k)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One seeded day through both under `queue` (the peer's name for it
/// `peer`): the fills must be the same, and each cause must be among them.
fn agree(queue: QueueModel, peer: &str, seed: u64) {
    let d = common::tempdir(&format!("queue-peer-{peer}"));
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let (events, orders) = day(common::seed(seed), 20_000);
    let ours = foxtrot_fills(&events, &orders, queue);
    let theirs = peer_fills(&d, &events, &orders, peer);
    let [queue, through, far] = by_cause(&events, &orders, &ours);
    eprintln!(
        "{} orders of one lot: foxtrot {} fills, hftbacktest {}; by cause: {queue} queue passed, \
         {through} printed through, {far} far touch",
        orders.len(),
        ours.len(),
        theirs.len()
    );
    assert!(queue >= 20 && through >= 10 && far >= 5, "{queue} {through} {far}");
    assert!(ours == theirs, "{}", differences(&ours, &theirs));
}

#[test]
#[cfg_attr(
    not(has_py_hftbacktest),
    ignore = "needs the Python package hftbacktest: bash .ci/run installs it"
)]
fn risk_averse_queue_fills_as_hftbacktest_does() {
    if external::python_module("hftbacktest") {
        agree(QueueModel::RiskAverse, "risk_averse", 20);
    }
}

#[test]
#[cfg_attr(
    not(has_py_hftbacktest),
    ignore = "needs the Python package hftbacktest: bash .ci/run installs it"
)]
fn prob_queue_fills_as_hftbacktest_does() {
    if external::python_module("hftbacktest") {
        agree(QueueModel::Prob, "prob", 21);
    }
}
