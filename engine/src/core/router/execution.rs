//! Execution: from a policy's target to order intents, given what is working.
//!
//! Level-triggered: at every decision point the wanted state (a position, or a
//! bid and an ask) is compared with the position and the orders already working,
//! and the smallest set of intents that moves toward it is emitted:
//!
//! - **Position target**: any working order on the wrong side (or any at all when
//!   the target is reached) is cancelled; with nothing working, one order for the
//!   difference is sent — at the far touch + slip (aggressive) or our touch (passive).
//! - **Quotes**: per side, a missing quote is sent, a working one more than
//!   `requote_ticks` off is replaced, an unwanted one cancelled.
//! - **Flat**: everything working is cancelled.
//!
//! Orders with a request in flight (pending new/cancel/replace) are left alone
//! until the venue answers.

use super::policy::Target;
use super::IntentBuf;
use crate::core::book::Top;
use crate::core::orders::{OpenOrder, OrderState, OrderTracker};
use crate::records::{Header, Kind, OrdType, OrderAction, OrderIntent, Side, Topology};

/// Context of one decision.
pub struct Decision<'a> {
    /// The triggering input's header (instrument, seq, time).
    pub trigger: &'a Header,
    /// The instrument's book.
    pub book: &'a Top,
    /// Current position.
    pub position: i64,
    /// Open orders.
    pub orders: &'a OrderTracker,
    /// Policy id (diary).
    pub policy_id: u16,
    /// Topology.
    pub topology: Topology,
    /// Aggressive orders go this many ticks past the far touch.
    pub slip_ticks: i64,
    /// Quotes are replaced when this many ticks off.
    pub requote_ticks: i64,
}

/// A limit order's intent (the price of a cancel is not read).
fn intent(d: &Decision, action: OrderAction, side: Side, px: i64, qty: i64, target: u64) -> OrderIntent {
    OrderIntent {
        header: Header {
            kind: Kind::Intent as u8,
            sub: action as u8,
            side: side as u8,
            flags: 0,
            ..*d.trigger
        },
        px,
        qty,
        target_cl_ord_id: target,
        policy_id: d.policy_id,
        topology: d.topology as u8,
        ord_type: OrdType::Limit as u8,
        _pad: [0; 4],
    }
}

/// A directional target's new order at `px` ([`directional_price`]: 0, no
/// price, under the `Market` topology): a market order under `Market`, else a
/// limit. Quotes are always limits: a quoting policy under `Market` quotes as
/// under `Aggressive`.
fn directional(d: &Decision, side: Side, px: i64, qty: i64) -> OrderIntent {
    let mut i = intent(d, OrderAction::New, side, px, qty, 0);
    if d.topology == Topology::Market {
        i.ord_type = OrdType::Market as u8;
    }
    i
}

fn cancel(d: &Decision, o: &OpenOrder, out: &mut IntentBuf) {
    out.push(intent(d, OrderAction::Cancel, o.side, 0, o.qty, o.cl_ord_id));
}

/// The price a directional order of `side` takes under `topology`.
pub fn directional_price(topology: Topology, side: Side, book: &Top, slip_ticks: i64) -> Option<i64> {
    let slip = slip_ticks * book.tick();
    match (topology, side) {
        (Topology::Aggressive, Side::Buy) => book.best_ask().map(|(p, _)| p + slip),
        (Topology::Aggressive, Side::Sell) => book.best_bid().map(|(p, _)| (p - slip).max(book.tick())),
        (Topology::Passive, Side::Buy) => book.best_bid().map(|(p, _)| p),
        (Topology::Passive, Side::Sell) => book.best_ask().map(|(p, _)| p),
        // No price; only sent when there is a touch to fill against.
        (Topology::Market, Side::Buy) => book.best_ask().map(|_| 0),
        (Topology::Market, Side::Sell) => book.best_bid().map(|_| 0),
    }
}

/// Emits the intents that move toward `target`. Returns true if the target asked
/// for a change that was acted on or is already in flight, false if nothing was
/// needed.
pub fn execute(d: &Decision, target: Target, out: &mut IntentBuf) -> bool {
    let i = d.trigger.instrument;
    let mine = || d.orders.iter().filter(move |o| o.instrument == i);
    let settled = |o: &&OpenOrder| o.state == OrderState::Working;
    match target {
        Target::Hold => false,
        Target::Flat => {
            let mut acted = false;
            for o in mine().filter(settled) {
                cancel(d, o, out);
                acted = true;
            }
            acted
        }
        Target::Position(want) => {
            let delta = want - d.position;
            let mut any = false;
            let mut acted = false;
            for o in mine() {
                any = true;
                if settled(&o) && (delta == 0 || delta.signum() != o.side.sign()) {
                    cancel(d, o, out);
                    acted = true;
                }
            }
            if !any && delta != 0 {
                let side = if delta > 0 { Side::Buy } else { Side::Sell };
                if let Some(px) = directional_price(d.topology, side, d.book, d.slip_ticks) {
                    out.push(directional(d, side, px, delta.abs()));
                    acted = true;
                }
            }
            acted || any
        }
        Target::Quotes { bid, ask } => {
            let mut acted = false;
            for (side, want) in [(Side::Buy, bid), (Side::Sell, ask)] {
                let mut working = mine().filter(|o| o.side == side);
                match (want, working.next()) {
                    (Some((px, qty)), None) => {
                        out.push(intent(d, OrderAction::New, side, px, qty, 0));
                        acted = true;
                    }
                    (Some((px, qty)), Some(o)) => {
                        if o.state == OrderState::Working
                            && (o.px - px).abs() >= d.requote_ticks * d.book.tick()
                            && o.cum_qty < qty
                        {
                            out.push(intent(
                                d,
                                OrderAction::Replace,
                                side,
                                px,
                                qty.max(o.cum_qty + 1),
                                o.cl_ord_id,
                            ));
                            acted = true;
                        }
                    }
                    (None, Some(o)) => {
                        if o.state == OrderState::Working {
                            cancel(d, o, out);
                            acted = true;
                        }
                    }
                    (None, None) => {}
                }
                // More than one order on a side (left by another policy): cancel the rest.
                for o in working.filter(settled) {
                    cancel(d, o, out);
                    acted = true;
                }
            }
            acted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::book::Book;
    use crate::records::{ExecKind, ExecReport, MarketData, MdAction, Order};

    fn book() -> Top {
        let mut b = Book::new(1, 1000, 64);
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Buy), 0, 1, 999, 5, 0))
            .unwrap();
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Sell), 0, 2, 1001, 5, 0))
            .unwrap();
        b.top()
    }

    fn working(t: &mut OrderTracker, cl: u64, side: Side, px: i64, qty: i64) {
        let o = Order {
            header: Header {
                sub: OrderAction::New as u8,
                side: side as u8,
                flags: 2,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: 0,
            px,
            qty,
        };
        t.on_sent(&o);
        let mut ack = ExecReport::new(ExecKind::New, 0, side, 1);
        ack.cl_ord_id = cl;
        ack.leaves_qty = qty;
        t.on_exec(&ack);
    }

    fn ctx<'a>(h: &'a Header, b: &'a Top, pos: i64, t: &'a OrderTracker, top: Topology) -> Decision<'a> {
        Decision {
            trigger: h,
            book: b,
            position: pos,
            orders: t,
            policy_id: 1,
            topology: top,
            slip_ticks: 1,
            requote_ticks: 1,
        }
    }

    #[test]
    fn position_target_sends_the_difference_or_cancels_the_wrong_way() {
        let (h, b) = (Header::default(), book());
        let t = OrderTracker::new(8);
        let mut out = IntentBuf::default();
        assert!(execute(
            &ctx(&h, &b, 30, &t, Topology::Aggressive),
            Target::Position(-20),
            &mut out
        ));
        let i = out.as_slice()[0];
        assert_eq!(
            (i.action(), i.side(), i.px, i.qty),
            (Some(OrderAction::New), Some(Side::Sell), 998, 50)
        );
        let mut t = OrderTracker::new(8);
        working(&mut t, 7, Side::Buy, 999, 10);
        out.clear();
        execute(&ctx(&h, &b, 30, &t, Topology::Passive), Target::Position(-20), &mut out);
        let i = out.as_slice()[0];
        assert_eq!((i.action(), i.target_cl_ord_id), (Some(OrderAction::Cancel), 7));
        assert_eq!(out.as_slice().len(), 1, "no new order while one is working");
        out.clear();
        assert!(!execute(
            &ctx(&h, &b, -20, &OrderTracker::new(8), Topology::Passive),
            Target::Position(-20),
            &mut out
        ));
        assert!(out.as_slice().is_empty());
    }

    #[test]
    fn quotes_are_placed_requoted_and_pulled() {
        let (h, b) = (Header::default(), book());
        let mut out = IntentBuf::default();
        let t = OrderTracker::new(8);
        execute(
            &ctx(&h, &b, 0, &t, Topology::Passive),
            Target::Quotes {
                bid: Some((998, 3)),
                ask: Some((1002, 3)),
            },
            &mut out,
        );
        let a: Vec<_> = out.as_slice().iter().map(|i| (i.action(), i.side(), i.px)).collect();
        assert_eq!(
            a,
            vec![
                (Some(OrderAction::New), Some(Side::Buy), 998),
                (Some(OrderAction::New), Some(Side::Sell), 1002)
            ]
        );
        let mut t = OrderTracker::new(8);
        working(&mut t, 1, Side::Buy, 998, 3);
        working(&mut t, 2, Side::Sell, 1002, 3);
        out.clear();
        // Bid unchanged, ask moved one tick, no more ask wanted... ask replaced; then pulled.
        execute(
            &ctx(&h, &b, 0, &t, Topology::Passive),
            Target::Quotes {
                bid: Some((998, 3)),
                ask: Some((1003, 3)),
            },
            &mut out,
        );
        let a: Vec<_> = out
            .as_slice()
            .iter()
            .map(|i| (i.action(), i.target_cl_ord_id, i.px))
            .collect();
        assert_eq!(a, vec![(Some(OrderAction::Replace), 2, 1003)]);
        out.clear();
        execute(
            &ctx(&h, &b, 0, &t, Topology::Passive),
            Target::Quotes {
                bid: Some((998, 3)),
                ask: None,
            },
            &mut out,
        );
        let a: Vec<_> = out
            .as_slice()
            .iter()
            .map(|i| (i.action(), i.target_cl_ord_id))
            .collect();
        assert_eq!(a, vec![(Some(OrderAction::Cancel), 2)]);
        out.clear();
        assert!(execute(&ctx(&h, &b, 0, &t, Topology::Passive), Target::Flat, &mut out));
        assert_eq!(out.as_slice().len(), 2);
    }

    /// Under the `Market` topology a position target's order is a market
    /// order (no price); quotes stay limit orders at their prices — a market
    /// order carrying a quote's price was booked as a limit, and every fill
    /// of it at the far touch counted as beyond that limit.
    #[test]
    fn only_a_directional_order_is_a_market_order() {
        let (h, b) = (Header::default(), book());
        let t = OrderTracker::new(8);
        let mut out = IntentBuf::default();
        execute(&ctx(&h, &b, 0, &t, Topology::Market), Target::Position(5), &mut out);
        let i = out.as_slice()[0];
        assert_eq!((i.ord_type, i.px, i.qty), (OrdType::Market as u8, 0, 5));
        out.clear();
        let quotes = Target::Quotes {
            bid: Some((999, 3)),
            ask: Some((1001, 3)),
        };
        execute(&ctx(&h, &b, 0, &t, Topology::Market), quotes, &mut out);
        let a: Vec<_> = out.as_slice().iter().map(|i| (i.ord_type, i.side(), i.px)).collect();
        let limit = OrdType::Limit as u8;
        assert_eq!(a, vec![(limit, Some(Side::Buy), 999), (limit, Some(Side::Sell), 1001)]);
    }
}
