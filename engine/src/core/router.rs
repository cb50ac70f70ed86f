//! Router: turns beliefs into order intents through a policy.
//!
//! The spine ships one policy, **momentum (EMA cross)**: once the slow EMA of mid has
//! seen `slow` updates, the target position is `+qty` while fast > slow and `−qty`
//! while fast < slow. The router is level-triggered: at every decision point it
//! compares target, position and what is working, and emits at most one intent per
//! instrument — a new order for the difference when nothing is working, a cancel
//! when the working order points the wrong way. On the housekeeping timer, orders
//! older than `max_order_age_ns` are re-priced to the current touch (replace).
//!
//! A change of target that needs no action is a deliberate no-op and is reported as
//! such, so the diary records it.

use super::book::Book;
use super::orders::{OrderState, OrderTracker};
use crate::config::{MomentumConfig, TopologyName};
use crate::records::{Header, Kind, OrdType, OrderAction, OrderIntent, Side, Topology};

/// Largest number of intents one input can produce (kill switch aside).
pub const MAX_INTENTS: usize = 4;

/// Policy id of the momentum policy.
pub const POLICY_MOMENTUM: u16 = 1;

/// A small fixed buffer of intents produced by one input.
#[derive(Clone, Debug, Default)]
pub struct IntentBuf {
    items: [OrderIntent; MAX_INTENTS],
    len: usize,
    /// A target changed but no intent was needed: `Some(side of the new target)`.
    pub noop: Option<Side>,
}

impl IntentBuf {
    /// Empties the buffer.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        self.noop = None;
    }
    /// Appends an intent; returns false if full.
    #[inline]
    pub fn push(&mut self, i: OrderIntent) -> bool {
        if self.len == MAX_INTENTS {
            return false;
        }
        self.items[self.len] = i;
        self.len += 1;
        true
    }
    /// The intents.
    #[inline]
    pub fn as_slice(&self) -> &[OrderIntent] {
        &self.items[..self.len]
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct PolicyState {
    target: i64,
    cooldown_until: u64,
}

/// The router stage with the momentum policy.
pub struct Router {
    qty: i64,
    slow: u64,
    topology: Topology,
    slip_ticks: i64,
    max_age_ns: u64,
    state: Vec<PolicyState>,
}

impl Router {
    /// A router for `n_instruments` with the momentum parameters.
    pub fn new(n_instruments: usize, m: &MomentumConfig) -> Self {
        Router {
            qty: m.qty,
            slow: m.slow as u64,
            topology: match m.topology {
                TopologyName::Passive => Topology::Passive,
                TopologyName::Aggressive => Topology::Aggressive,
            },
            slip_ticks: m.slip_ticks,
            max_age_ns: m.max_order_age_ns,
            state: vec![PolicyState::default(); n_instruments],
        }
    }

    /// The execution topology in use.
    pub fn topology(&self) -> Topology {
        self.topology
    }

    /// Current target position of `instrument`.
    pub fn target(&self, instrument: u32) -> i64 {
        self.state.get(instrument as usize).map_or(0, |s| s.target)
    }

    /// Holds new decisions on `instrument` for one order age after a reject.
    pub fn on_reject(&mut self, instrument: u32, ts: u64) {
        if let Some(s) = self.state.get_mut(instrument as usize) {
            s.cooldown_until = ts.saturating_add(self.max_age_ns);
        }
    }

    fn price_for(&self, side: Side, book: &Book) -> Option<i64> {
        let slip = self.slip_ticks * book.tick();
        match (self.topology, side) {
            (Topology::Aggressive, Side::Buy) => book.best_ask().map(|(p, _)| p + slip),
            (Topology::Aggressive, Side::Sell) => book.best_bid().map(|(p, _)| (p - slip).max(book.tick())),
            (Topology::Passive, Side::Buy) => book.best_bid().map(|(p, _)| p),
            (Topology::Passive, Side::Sell) => book.best_ask().map(|(p, _)| p),
        }
    }

    fn intent(&self, trigger: &Header, action: OrderAction, side: Side, px: i64, qty: i64, target: u64) -> OrderIntent {
        OrderIntent {
            header: Header {
                kind: Kind::Intent as u8,
                sub: action as u8,
                side: side as u8,
                flags: 0,
                ..*trigger
            },
            px,
            qty,
            target_cl_ord_id: target,
            policy_id: POLICY_MOMENTUM,
            topology: self.topology as u8,
            ord_type: OrdType::Limit as u8,
            _pad: [0; 4],
        }
    }

    /// A decision point on `trigger.instrument` (the mid moved): emits at most one
    /// intent into `out`, or flags a no-op.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn decide(
        &mut self,
        trigger: &Header,
        emas: (f64, f64),
        mid_updates: u64,
        book: &Book,
        position: i64,
        orders: &OrderTracker,
        out: &mut IntentBuf,
    ) {
        let i = trigger.instrument;
        let Some(st) = self.state.get(i as usize).copied() else {
            return;
        };
        if mid_updates < self.slow {
            return;
        }
        let (fast, slow) = emas;
        let target = if fast > slow {
            self.qty
        } else if fast < slow {
            -self.qty
        } else {
            st.target
        };
        let changed = target != st.target;
        self.state[i as usize].target = target;
        let noop_side = if target > 0 { Side::Buy } else { Side::Sell };
        if trigger.ts_ns < st.cooldown_until {
            if changed {
                out.noop = Some(noop_side);
            }
            return;
        }
        let delta = target - position;
        match orders.first_on(i) {
            Some(o) if o.state != OrderState::Working => {
                if changed {
                    out.noop = Some(noop_side);
                }
            }
            Some(o) => {
                if delta == 0 || delta.signum() != o.side.sign() {
                    out.push(self.intent(trigger, OrderAction::Cancel, o.side, 0, o.qty, o.cl_ord_id));
                } else if changed {
                    out.noop = Some(noop_side);
                }
            }
            None => {
                let side = if delta > 0 { Side::Buy } else { Side::Sell };
                match (delta != 0).then(|| self.price_for(side, book)).flatten() {
                    Some(px) => {
                        out.push(self.intent(trigger, OrderAction::New, side, px, delta.abs(), 0));
                    }
                    None if changed => out.noop = Some(noop_side),
                    None => {}
                }
            }
        }
    }

    /// The housekeeping timer: re-prices working orders older than the maximum age
    /// whose price is no longer the policy's price for the current touch.
    pub fn on_timer(&mut self, trigger: &Header, books: &[Book], orders: &OrderTracker, out: &mut IntentBuf) {
        for o in orders.iter() {
            if o.state != OrderState::Working || trigger.ts_ns.saturating_sub(o.sent_ts) < self.max_age_ns {
                continue;
            }
            let Some(book) = books.get(o.instrument as usize) else {
                continue;
            };
            if let Some(px) = self.price_for(o.side, book) {
                if px != o.px {
                    let h = Header {
                        instrument: o.instrument,
                        ..*trigger
                    };
                    if !out.push(self.intent(&h, OrderAction::Replace, o.side, px, o.qty, o.cl_ord_id)) {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{MarketData, MdAction, Order};

    fn cfg(top: TopologyName) -> MomentumConfig {
        MomentumConfig {
            fast: 2,
            slow: 4,
            qty: 10,
            topology: top,
            slip_ticks: 1,
            max_order_age_ns: 100,
        }
    }

    fn book() -> Book {
        let mut b = Book::new(1, 1000, 64);
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Buy), 0, 1, 999, 5, 0))
            .unwrap();
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Sell), 0, 2, 1001, 5, 0))
            .unwrap();
        b
    }

    fn hdr(ts: u64) -> Header {
        Header {
            ts_ns: ts,
            seq: 7,
            ..Header::default()
        }
    }

    #[test]
    fn waits_for_warm_up_then_buys_aggressively() {
        let mut r = Router::new(1, &cfg(TopologyName::Aggressive));
        let t = OrderTracker::new(4);
        let mut out = IntentBuf::default();
        r.decide(&hdr(1), (10.0, 9.0), 3, &book(), 0, &t, &mut out);
        assert!(out.as_slice().is_empty() && out.noop.is_none(), "not warmed up");
        r.decide(&hdr(2), (10.0, 9.0), 4, &book(), 0, &t, &mut out);
        let i = out.as_slice()[0];
        assert_eq!(
            (i.action(), i.side(), i.px, i.qty),
            (Some(OrderAction::New), Some(Side::Buy), 1002, 10)
        );
    }

    #[test]
    fn sells_the_difference_passively_and_cancels_a_wrong_way_order() {
        let mut r = Router::new(1, &cfg(TopologyName::Passive));
        let mut t = OrderTracker::new(4);
        let mut out = IntentBuf::default();
        // Long 10, signal turns down: target −10, sell 20 at the ask.
        r.decide(&hdr(1), (9.0, 10.0), 9, &book(), 10, &t, &mut out);
        let i = out.as_slice()[0];
        assert_eq!((i.side(), i.px, i.qty), (Some(Side::Sell), 1001, 20));
        // A working sell exists and the signal turns up again: cancel it.
        let o = Order {
            header: Header {
                sub: OrderAction::New as u8,
                side: Side::Sell as u8,
                flags: 2,
                ..Header::default()
            },
            cl_ord_id: 55,
            orig_cl_ord_id: 0,
            px: 1001,
            qty: 20,
        };
        t.on_sent(&o);
        let mut ack = crate::records::ExecReport::new(crate::records::ExecKind::New, 0, Side::Sell, 2);
        ack.cl_ord_id = 55;
        ack.leaves_qty = 20;
        t.on_exec(&ack);
        out.clear();
        r.decide(&hdr(2), (11.0, 10.0), 10, &book(), 10, &t, &mut out);
        let i = out.as_slice()[0];
        assert_eq!((i.action(), i.target_cl_ord_id), (Some(OrderAction::Cancel), 55));
    }

    #[test]
    fn target_change_with_nothing_to_do_is_a_noop() {
        let mut r = Router::new(1, &cfg(TopologyName::Aggressive));
        let t = OrderTracker::new(4);
        let mut out = IntentBuf::default();
        r.decide(&hdr(1), (11.0, 10.0), 9, &book(), 10, &t, &mut out);
        assert!(out.as_slice().is_empty());
        assert_eq!(out.noop, Some(Side::Buy));
    }

    #[test]
    fn old_orders_are_repriced_on_the_timer() {
        let mut r = Router::new(1, &cfg(TopologyName::Passive));
        let mut t = OrderTracker::new(4);
        let o = Order {
            header: Header {
                sub: OrderAction::New as u8,
                side: Side::Buy as u8,
                flags: 2,
                ts_ns: 0,
                ..Header::default()
            },
            cl_ord_id: 8,
            orig_cl_ord_id: 0,
            px: 990,
            qty: 3,
        };
        t.on_sent(&o);
        let mut ack = crate::records::ExecReport::new(crate::records::ExecKind::New, 0, Side::Buy, 1);
        ack.cl_ord_id = 8;
        t.on_exec(&ack);
        let mut out = IntentBuf::default();
        r.on_timer(&hdr(50), &[book()], &t, &mut out);
        assert!(out.as_slice().is_empty(), "too young");
        r.on_timer(&hdr(150), &[book()], &t, &mut out);
        let i = out.as_slice()[0];
        assert_eq!(
            (i.action(), i.px, i.qty, i.target_cl_ord_id),
            (Some(OrderAction::Replace), 999, 3, 8)
        );
    }
}
