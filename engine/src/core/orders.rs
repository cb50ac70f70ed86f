//! Our open orders, as the core knows them: what we sent and what the venue said.
//!
//! One table serves risk (open-order count, working exposure) and the router (is
//! something already working on this instrument?). It is a fixed-capacity array
//! searched linearly: a few dozen open orders at most, so a scan beats a hash map and
//! its iteration order is deterministic. Capacity is set once; nothing allocates
//! afterwards.

use crate::records::{ExecKind, ExecReport, Order, OrderAction, Side, VenueReject};

/// Lifecycle of one of our orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// Sent, not yet acknowledged.
    PendingNew,
    /// Acknowledged and working.
    Working,
    /// A cancel was sent.
    PendingCancel,
    /// A replace was sent (the new ClOrdID is in `pending_cl_ord_id`).
    PendingReplace,
}

/// One open order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOrder {
    /// Current ClOrdID.
    pub cl_ord_id: u64,
    /// ClOrdID of an outstanding cancel/replace request, 0 if none.
    pub pending_cl_ord_id: u64,
    /// Instrument.
    pub instrument: u32,
    /// Side.
    pub side: Side,
    /// Limit price (0 for market).
    pub px: i64,
    /// Price requested by an outstanding replace.
    pub pending_px: i64,
    /// Total order quantity.
    pub qty: i64,
    /// Quantity requested by an outstanding replace.
    pub pending_qty: i64,
    /// Filled so far.
    pub cum_qty: i64,
    /// Lifecycle state.
    pub state: OrderState,
    /// Control time of the last request we sent for this order.
    pub sent_ts: u64,
}

impl OpenOrder {
    /// Quantity still working (not filled).
    pub fn leaves(&self) -> i64 {
        (self.qty - self.cum_qty).max(0)
    }
}

/// Result of applying an execution report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecOutcome {
    /// The report matched an open order.
    Applied,
    /// The report names no order we have open (late, duplicate, or not ours).
    Unknown,
    /// A cancel/replace refused because the venue no longer has the order
    /// working (unknown, or too late), while we held it working: its final
    /// report was missed, so it is closed now (its last fills may be missing).
    Gone,
    /// A fill the order cannot have had — no quantity, more in all than the
    /// order's, or beyond its limit price — applied as the venue reported
    /// it (the venue's word stands) and flagged: a venue error or a garbled
    /// report.
    SuspectFill,
}

/// Whether fill `er` is one `o` can have: some quantity, no more in all than
/// the order's (or a pending replace's), and at its limit or better (a
/// pending replace's limit counts too: the venue may have applied it).
fn fill_fits(o: &OpenOrder, er: &ExecReport) -> bool {
    let most = o.qty.max(o.pending_qty);
    let within = match (o.side, o.px) {
        (_, 0) => true, // a market order
        (Side::Buy, px) => er.last_px <= px.max(o.pending_px),
        (Side::Sell, px) => er.last_px >= if o.pending_px != 0 { px.min(o.pending_px) } else { px },
    };
    er.last_qty > 0 && er.cum_qty <= most && within
}

/// The open-order table.
pub struct OrderTracker {
    orders: Vec<OpenOrder>,
    capacity: usize,
}

impl OrderTracker {
    /// A table holding at most `capacity` open orders.
    pub fn new(capacity: usize) -> Self {
        OrderTracker {
            orders: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// Number of open orders.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// True when nothing is open.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// True when no further order fits.
    pub fn is_full(&self) -> bool {
        self.orders.len() >= self.capacity
    }

    /// Open orders, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &OpenOrder> {
        self.orders.iter()
    }

    /// The open order whose current ClOrdID is `cl`.
    pub fn get(&self, cl: u64) -> Option<&OpenOrder> {
        self.orders.iter().find(|o| o.cl_ord_id == cl)
    }

    /// Signed working quantity (buys positive) on `instrument`.
    pub fn working_signed(&self, instrument: u32) -> i64 {
        self.orders
            .iter()
            .filter(|o| o.instrument == instrument)
            .map(|o| o.side.sign() * o.leaves())
            .sum()
    }

    /// Working quantity on `side` of `instrument`.
    pub fn working_on_side(&self, instrument: u32, side: Side) -> i64 {
        self.orders
            .iter()
            .filter(|o| o.instrument == instrument && o.side == side)
            .map(|o| o.leaves().max(o.pending_qty - o.cum_qty))
            .sum()
    }

    /// Records an order that left risk. Returns false (and records nothing) if the
    /// table is full or the order is malformed; risk checks capacity first.
    pub fn on_sent(&mut self, o: &Order) -> bool {
        if o.action() == Some(OrderAction::MassCancel) {
            // No side: it names orders by instrument.
            return self.mark_mass_cancel(o) > 0;
        }
        let Some(side) = o.side() else { return false };
        match o.action() {
            Some(OrderAction::New) => {
                if self.is_full() {
                    return false;
                }
                self.orders.push(OpenOrder {
                    cl_ord_id: o.cl_ord_id,
                    pending_cl_ord_id: 0,
                    instrument: o.header.instrument,
                    side,
                    px: o.px,
                    pending_px: 0,
                    qty: o.qty,
                    pending_qty: 0,
                    cum_qty: 0,
                    state: OrderState::PendingNew,
                    sent_ts: o.header.ts_ns,
                });
                true
            }
            Some(OrderAction::Cancel) => self.mark_pending(o, OrderState::PendingCancel),
            Some(OrderAction::Replace) => self.mark_pending(o, OrderState::PendingReplace),
            Some(OrderAction::MassCancel) | None => false,
        }
    }

    /// A mass cancel `o` was sent: every order it covers that is working or
    /// not yet acknowledged — of its instrument (or of all, by its scope),
    /// sent before it (a lower ClOrdID) — is pending cancel under its
    /// ClOrdID. Returns how many.
    fn mark_mass_cancel(&mut self, o: &Order) -> usize {
        let only = o.mass_cancel_instrument();
        let mut n = 0;
        for x in self.orders.iter_mut() {
            let covered = only.is_none_or(|i| x.instrument == i) && x.cl_ord_id < o.cl_ord_id;
            if covered && matches!(x.state, OrderState::Working | OrderState::PendingNew) {
                x.state = OrderState::PendingCancel;
                x.pending_cl_ord_id = o.cl_ord_id;
                x.pending_px = 0;
                x.pending_qty = 0;
                x.sent_ts = o.header.ts_ns;
                n += 1;
            }
        }
        n
    }

    /// The venue refused mass cancel `cl`: the orders it marked pending
    /// cancel are working again (as a refused cancel leaves its order).
    pub fn mass_cancel_refused(&mut self, cl: u64) {
        for x in self.orders.iter_mut() {
            if x.state == OrderState::PendingCancel && x.pending_cl_ord_id == cl {
                x.state = OrderState::Working;
                x.pending_cl_ord_id = 0;
            }
        }
    }

    fn mark_pending(&mut self, o: &Order, state: OrderState) -> bool {
        match self.orders.iter_mut().find(|x| x.cl_ord_id == o.orig_cl_ord_id) {
            Some(x) => {
                x.state = state;
                x.pending_cl_ord_id = o.cl_ord_id;
                x.pending_px = o.px;
                x.pending_qty = o.qty;
                x.sent_ts = o.header.ts_ns;
                true
            }
            None => false,
        }
    }

    /// Applies an execution report: acknowledgements, fills, cancels, replaces and
    /// rejects move orders through their lifecycle; terminal ones leave the table.
    pub fn on_exec(&mut self, er: &ExecReport) -> ExecOutcome {
        let Some(kind) = er.kind() else {
            return ExecOutcome::Unknown;
        };
        if kind.is_mass_cancel() {
            // They name the request, which several orders may be pending on.
            return ExecOutcome::Unknown;
        }
        // Reports for a replace or cancel name the new ClOrdID and the
        // original: the original first, as the orders one mass cancel
        // covers are all pending on its ClOrdID.
        let by_orig = (er.orig_cl_ord_id != 0)
            .then(|| self.orders.iter().position(|o| o.cl_ord_id == er.orig_cl_ord_id))
            .flatten();
        let idx = by_orig.or_else(|| {
            self.orders.iter().position(|o| {
                o.cl_ord_id == er.cl_ord_id || (o.pending_cl_ord_id != 0 && o.pending_cl_ord_id == er.cl_ord_id)
            })
        });
        let Some(i) = idx else { return ExecOutcome::Unknown };
        let o = &mut self.orders[i];
        let mut suspect = false;
        match kind {
            ExecKind::New => {
                if o.state == OrderState::PendingNew {
                    o.state = OrderState::Working;
                }
            }
            ExecKind::PartialFill | ExecKind::Fill => {
                suspect = !fill_fits(o, er);
                o.cum_qty = er.cum_qty.max(o.cum_qty);
                if er.leaves_qty > 0 && o.state == OrderState::PendingNew {
                    o.state = OrderState::Working;
                }
            }
            ExecKind::Replaced => {
                o.cl_ord_id = er.cl_ord_id;
                o.pending_cl_ord_id = 0;
                o.px = er.order_px;
                o.qty = er.order_qty;
                o.cum_qty = er.cum_qty;
                o.state = OrderState::Working;
            }
            ExecKind::CancelRejected if er.reason == VenueReject::UnknownOrder as u8 => {
                // The venue no longer has the order working (it filled or
                // ended) while no final report of it reached us: it is closed
                // here, not retried for ever; its last fills may be missing.
                self.orders.remove(i);
                return ExecOutcome::Gone;
            }
            ExecKind::CancelRejected => {
                o.pending_cl_ord_id = 0;
                o.state = OrderState::Working;
            }
            ExecKind::Canceled | ExecKind::Rejected => {}
            // A bust of a fill of an order still working: what it has done
            // is less by the busted quantity (the venue's CumQty is).
            ExecKind::TradeBust => o.cum_qty = (o.cum_qty - er.last_qty).max(0),
            // The corrected trade, after the bust of the one it corrects.
            ExecKind::TradeCorrected => o.cum_qty += er.last_qty.max(0),
            ExecKind::MassCancelDone | ExecKind::MassCancelRefused => {}
            // The order as the venue now has it; a request pending stays so.
            ExecKind::Restated => {
                if er.order_qty > 0 {
                    o.qty = er.order_qty;
                }
                if er.order_px > 0 {
                    o.px = er.order_px;
                }
                o.cum_qty = er.cum_qty.max(o.cum_qty);
            }
        }
        let done = kind.is_terminal()
            || (kind.is_fill() && er.leaves_qty == 0)
            || (kind == ExecKind::Restated && er.leaves_qty <= 0);
        if done {
            // `remove` keeps the oldest-first order the router relies on.
            self.orders.remove(i);
        }
        if suspect {
            ExecOutcome::SuspectFill
        } else {
            ExecOutcome::Applied
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Header, Kind};

    fn order(action: OrderAction, cl: u64, orig: u64, side: Side, px: i64, qty: i64) -> Order {
        Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: action as u8,
                side: side as u8,
                flags: 2,
                instrument: 4,
                ts_ns: 10,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: orig,
            px,
            qty,
        }
    }

    fn er(kind: ExecKind, cl: u64, orig: u64, cum: i64, leaves: i64) -> ExecReport {
        let mut e = ExecReport::new(kind, 4, Side::Buy, 20);
        e.cl_ord_id = cl;
        e.orig_cl_ord_id = orig;
        e.cum_qty = cum;
        e.leaves_qty = leaves;
        e
    }

    #[test]
    fn lifecycle_new_fill_replace_cancel() {
        let mut t = OrderTracker::new(4);
        assert!(t.on_sent(&order(OrderAction::New, 10, 0, Side::Buy, 100, 5)));
        assert_eq!(t.get(10).unwrap().state, OrderState::PendingNew);
        assert_eq!(t.on_exec(&er(ExecKind::New, 10, 0, 0, 5)), ExecOutcome::Applied);
        t.on_exec(&er(ExecKind::PartialFill, 10, 0, 2, 3));
        assert_eq!(t.working_signed(4), 3);
        assert!(t.on_sent(&order(OrderAction::Replace, 11, 10, Side::Buy, 101, 6)));
        assert_eq!(t.working_on_side(4, Side::Buy), 4); // worst case: the replace's 6 - 2
        let mut r = er(ExecKind::Replaced, 11, 10, 2, 4);
        r.order_px = 101;
        r.order_qty = 6;
        t.on_exec(&r);
        let o = t.get(11).unwrap();
        assert_eq!((o.px, o.qty, o.leaves(), o.state), (101, 6, 4, OrderState::Working));
        assert!(t.on_sent(&order(OrderAction::Cancel, 12, 11, Side::Buy, 0, 6)));
        t.on_exec(&er(ExecKind::Canceled, 12, 11, 2, 0));
        assert!(t.is_empty());
    }

    /// A venue's restatement is the order as it now stands: its quantity
    /// and price (each when given), what is done of it — working exposure
    /// follows — with a request pending left pending; with nothing left,
    /// the order is closed.
    #[test]
    fn a_restatement_is_the_order_as_the_venue_now_has_it() {
        let mut t = OrderTracker::new(4);
        t.on_sent(&order(OrderAction::New, 10, 0, Side::Buy, 100, 8));
        t.on_exec(&er(ExecKind::New, 10, 0, 0, 8));
        t.on_exec(&er(ExecKind::PartialFill, 10, 0, 2, 6));
        // The quantity halved: 4, of which 2 done.
        let mut r = er(ExecKind::Restated, 10, 0, 2, 2);
        r.order_qty = 4;
        assert_eq!(t.on_exec(&r), ExecOutcome::Applied);
        let o = t.get(10).unwrap();
        assert_eq!((o.qty, o.px, o.leaves(), o.state), (4, 100, 2, OrderState::Working));
        assert_eq!(t.working_signed(4), 2);
        // Repriced, while a cancel is pending: still pending, at the new price.
        t.on_sent(&order(OrderAction::Cancel, 11, 10, Side::Buy, 0, 4));
        let mut p = er(ExecKind::Restated, 10, 0, 2, 2);
        p.order_px = 99;
        t.on_exec(&p);
        let o = t.get(10).unwrap();
        assert_eq!((o.qty, o.px, o.pending_cl_ord_id), (4, 99, 11));
        // Nothing left: closed.
        assert_eq!(t.on_exec(&er(ExecKind::Restated, 10, 0, 2, 0)), ExecOutcome::Applied);
        assert!(t.is_empty());
    }

    /// A refused cancel/replace leaves the order working unless the venue
    /// says the order is gone (unknown, or too late): then the order, whose
    /// final report never came, is closed — not cancelled again and again.
    #[test]
    fn a_cancel_refused_as_gone_closes_the_order_and_any_other_leaves_it_working() {
        let mut t = OrderTracker::new(4);
        t.on_sent(&order(OrderAction::New, 10, 0, Side::Buy, 100, 5));
        t.on_exec(&er(ExecKind::New, 10, 0, 0, 5));
        t.on_sent(&order(OrderAction::Replace, 11, 10, Side::Buy, 101, 5));
        // Refused for another reason (its price, say): still working.
        let refused = er(ExecKind::CancelRejected, 11, 10, 0, 0);
        assert_eq!(t.on_exec(&refused), ExecOutcome::Applied);
        let o = t.get(10).unwrap();
        assert_eq!((o.state, o.pending_cl_ord_id), (OrderState::Working, 0));
        // Refused as gone (its fill report was lost): closed.
        t.on_sent(&order(OrderAction::Cancel, 12, 10, Side::Buy, 0, 5));
        let mut gone = er(ExecKind::CancelRejected, 12, 10, 0, 0);
        gone.reason = VenueReject::UnknownOrder as u8;
        assert_eq!(t.on_exec(&gone), ExecOutcome::Gone);
        assert!(t.is_empty());
        // After its fill (a consistent session), the same refusal names nothing.
        t.on_sent(&order(OrderAction::New, 20, 0, Side::Buy, 100, 5));
        t.on_sent(&order(OrderAction::Cancel, 21, 20, Side::Buy, 0, 5));
        t.on_exec(&er(ExecKind::Fill, 20, 0, 5, 0));
        let mut late = er(ExecKind::CancelRejected, 21, 20, 0, 0);
        late.reason = VenueReject::UnknownOrder as u8;
        assert_eq!(t.on_exec(&late), ExecOutcome::Unknown);
    }

    /// A fill is applied as reported, and flagged when the order cannot have
    /// had it: no quantity, more than the order's in all, or beyond its limit
    /// (a pending replace's limit and quantity allowed; a market order has none).
    #[test]
    fn fills_an_order_cannot_have_had_are_flagged() {
        let fill = |cl, cum, leaves, last, px| {
            let mut e = er(ExecKind::PartialFill, cl, 0, cum, leaves);
            e.last_qty = last;
            e.last_px = px;
            e
        };
        let mut t = OrderTracker::new(4);
        t.on_sent(&order(OrderAction::New, 1, 0, Side::Buy, 100, 10));
        use ExecOutcome::{Applied, SuspectFill};
        // Fills (cum, leaves, last qty, last px) of a buy of 10 at 100, in turn.
        for (cum, leaves, last, px, want, what) in [
            (2, 8, 2, 100, Applied, "at the limit"),
            (3, 7, 1, 99, Applied, "better than the limit"),
            (4, 6, 1, 101, SuspectFill, "a buy above its limit"),
            (4, 6, 0, 100, SuspectFill, "no quantity"),
            (12, 0, 8, 100, SuspectFill, "overfilled"),
        ] {
            assert_eq!(t.on_exec(&fill(1, cum, leaves, last, px)), want, "{what}");
        }
        assert!(t.is_empty(), "applied all the same: filled");
        t.on_sent(&order(OrderAction::New, 2, 0, Side::Sell, 100, 10));
        assert_eq!(
            t.on_exec(&fill(2, 1, 9, 1, 99)),
            ExecOutcome::SuspectFill,
            "a sell below its limit"
        );
        // A replace to 98 for 12 is pending: the venue may already have applied it.
        t.on_sent(&order(OrderAction::Replace, 3, 2, Side::Sell, 98, 12));
        assert_eq!(t.on_exec(&fill(2, 11, 1, 10, 98)), ExecOutcome::Applied);
        assert_eq!(t.on_exec(&fill(2, 12, 0, 1, 97)), ExecOutcome::SuspectFill);
        t.on_sent(&order(OrderAction::New, 4, 0, Side::Buy, 0, 5));
        assert_eq!(
            t.on_exec(&fill(4, 5, 0, 5, 1_000_000)),
            ExecOutcome::Applied,
            "a market order"
        );
    }

    #[test]
    fn unknown_reports_and_capacity() {
        let mut t = OrderTracker::new(1);
        assert_eq!(t.on_exec(&er(ExecKind::Fill, 99, 0, 1, 0)), ExecOutcome::Unknown);
        assert!(t.on_sent(&order(OrderAction::New, 1, 0, Side::Sell, 100, 1)));
        assert!(!t.on_sent(&order(OrderAction::New, 2, 0, Side::Sell, 100, 1)));
        t.on_exec(&er(ExecKind::Fill, 1, 0, 1, 0));
        assert!(t.is_empty());
    }
}
