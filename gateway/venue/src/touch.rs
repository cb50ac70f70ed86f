//! The backtest venue for data users bring: recorded market data in, and orders
//! filled against its touch.
//!
//! Imported data (a CSV of quotes, an ITCH or DBN file) cannot react to our
//! orders, so this venue does not pretend to match them against a book it does
//! not have. It keeps each instrument's touch from the data (quotes set it;
//! order-level events go through an engine [`Book`]) and fills:
//!
//! - a **market order** immediately, in full, at the far touch (the best ask for a
//!   buy), or rejects it (`NoLiquidity`) when that side is empty;
//! - a **marketable limit** the same way, at the far touch;
//! - a **resting limit** once a later touch reaches its price (a buy fills at its
//!   own price when the best ask comes down to it), in full.
//!
//! Each order is acknowledged (`New`) before it fills, as a real venue would.
//! A fill says whether it took liquidity (market and marketable orders: the
//! `LIQUIDITY_REMOVED` flag) or added it (a resting limit reached by the touch:
//! `LIQUIDITY_ADDED`), for the fee schedule's maker and taker rates.
//! Reports arrive `ack_latency_ns` after the order's trigger time, and are merged
//! with the data in time order, so a run is a pure function of the data, the
//! config and the orders: deterministic, and replayable from its journal.

use foxtrot_engine::config::Config;
use foxtrot_engine::core::Book;
use foxtrot_engine::records::{
    ExecKind, ExecReport, InputSlot, MarketData, MdAction, OrdType, Order, OrderAction, Side, VenueReject,
    LIQUIDITY_ADDED, LIQUIDITY_REMOVED,
};
use foxtrot_engine::runtime::{Polled, VenueLink};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
struct Resting {
    cl_ord_id: u64,
    venue_id: u64,
    instrument: u32,
    side: Side,
    px: i64,
    qty: i64,
}

/// Counters of a [`TouchVenue`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TouchStats {
    /// Market-data events delivered.
    pub md: u64,
    /// Of which ended an update (`LAST_IN_BATCH`): for CSV quotes, one per row.
    pub updates: u64,
    /// Orders received (new, cancel, replace).
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// Quantity filled.
    pub filled_qty: i64,
    /// New orders rejected.
    pub rejects: u64,
}

/// See the module docs. `I` yields the data in time order.
pub struct TouchVenue<I: Iterator<Item = MarketData>> {
    src: I,
    /// The next event of `src`, read ahead.
    ahead: Option<MarketData>,
    books: Vec<Book>,
    resting: Vec<Resting>,
    reports: VecDeque<ExecReport>,
    ack_ns: u64,
    next_id: u64,
    stats: TouchStats,
}

impl<I: Iterator<Item = MarketData>> TouchVenue<I> {
    /// A venue for `cfg`'s instruments over the data `src`.
    pub fn new(cfg: &Config, src: I) -> Self {
        let mut src = src;
        TouchVenue {
            ahead: src.next(),
            src,
            books: cfg
                .instruments
                .iter()
                .map(|s| Book::new(s.tick, s.ref_price, cfg.book.window_ticks))
                .collect(),
            resting: Vec::with_capacity(256),
            reports: VecDeque::with_capacity(1024),
            ack_ns: cfg.venue.ack_latency_ns,
            next_id: 1,
            stats: TouchStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &TouchStats {
        &self.stats
    }

    /// The data source (to ask it why it ended, say).
    pub fn source_mut(&mut self) -> &mut I {
        &mut self.src
    }

    fn touch(&self, instrument: u32, side: Side) -> Option<(i64, i64)> {
        self.books.get(instrument as usize).and_then(|b| b.best_of(side))
    }

    fn report(&mut self, kind: ExecKind, o: &Resting, ts: u64) -> ExecReport {
        let mut e = ExecReport::new(kind, o.instrument, o.side, ts);
        e.cl_ord_id = o.cl_ord_id;
        e.venue_order_id = o.venue_id;
        e.order_px = o.px;
        e.order_qty = o.qty;
        e.ord_type = OrdType::Limit as u8;
        e.leaves_qty = if kind.is_terminal() { 0 } else { o.qty };
        e
    }

    fn fill(&mut self, o: &Resting, px: i64, ts: u64, ord_type: OrdType, liquidity: u8) {
        let mut e = self.report(ExecKind::Fill, o, ts);
        e.header.flags = liquidity;
        e.last_px = px;
        e.last_qty = o.qty;
        e.cum_qty = o.qty;
        e.ord_type = ord_type as u8;
        self.stats.fills += 1;
        self.stats.filled_qty += o.qty;
        self.reports.push_back(e);
    }

    fn reject(&mut self, order: &Order, side: Side, reason: VenueReject, ts: u64) {
        self.stats.rejects += 1;
        let mut e = ExecReport::new(ExecKind::Rejected, order.header.instrument, side, ts);
        e.cl_ord_id = order.cl_ord_id;
        e.order_px = order.px;
        e.order_qty = order.qty;
        e.reason = reason as u8;
        e.ord_type = order.header.flags;
        self.reports.push_back(e);
    }

    /// The far touch's price if an order of `side` at `px` (0: market) crosses it.
    fn crossing(&self, instrument: u32, side: Side, px: i64, market: bool) -> Option<i64> {
        let (far, _) = self.touch(instrument, side.opposite())?;
        let crosses = market
            || match side {
                Side::Buy => px >= far,
                Side::Sell => px <= far,
            };
        crosses.then_some(far)
    }

    /// Fills resting orders the new touch of `instrument` has reached.
    fn sweep_resting(&mut self, instrument: u32, ts: u64) {
        let mut i = 0;
        while i < self.resting.len() {
            let o = self.resting[i];
            if o.instrument == instrument && self.crossing(instrument, o.side, o.px, false).is_some() {
                self.resting.swap_remove(i);
                self.fill(&o, o.px, ts, OrdType::Limit, LIQUIDITY_ADDED);
            } else {
                i += 1;
            }
        }
    }

    fn on_new(&mut self, order: &Order, side: Side, ts: u64) {
        let market = order.ord_type() == Some(OrdType::Market);
        if order.header.instrument as usize >= self.books.len() {
            return self.reject(order, side, VenueReject::UnknownInstrument, ts);
        }
        if order.qty <= 0 || (!market && order.px <= 0) {
            return self.reject(order, side, VenueReject::InvalidPriceOrQty, ts);
        }
        if self.resting.iter().any(|r| r.cl_ord_id == order.cl_ord_id) {
            return self.reject(order, side, VenueReject::DuplicateClOrdId, ts);
        }
        let cross = self.crossing(order.header.instrument, side, order.px, market);
        if market && cross.is_none() {
            return self.reject(order, side, VenueReject::NoLiquidity, ts);
        }
        let o = Resting {
            cl_ord_id: order.cl_ord_id,
            venue_id: self.next_id,
            instrument: order.header.instrument,
            side,
            px: order.px,
            qty: order.qty,
        };
        self.next_id += 1;
        let mut ack = self.report(ExecKind::New, &o, ts);
        if market {
            ack.ord_type = OrdType::Market as u8;
        }
        self.reports.push_back(ack);
        match cross {
            Some(far) => {
                let t = if market { OrdType::Market } else { OrdType::Limit };
                self.fill(&o, far, ts, t, LIQUIDITY_REMOVED)
            }
            None => self.resting.push(o),
        }
    }

    fn on_cancel_or_replace(&mut self, order: &Order, side: Side, replace: bool, ts: u64) {
        let Some(i) = self.resting.iter().position(|r| r.cl_ord_id == order.orig_cl_ord_id) else {
            let mut e = ExecReport::new(ExecKind::CancelRejected, order.header.instrument, side, ts);
            e.cl_ord_id = order.cl_ord_id;
            e.orig_cl_ord_id = order.orig_cl_ord_id;
            e.reason = VenueReject::UnknownOrder as u8;
            self.reports.push_back(e);
            return;
        };
        let old = self.resting.swap_remove(i);
        if !replace {
            let mut e = self.report(ExecKind::Canceled, &old, ts);
            e.orig_cl_ord_id = old.cl_ord_id;
            e.cl_ord_id = order.cl_ord_id;
            self.reports.push_back(e);
            return;
        }
        let new = Resting {
            cl_ord_id: order.cl_ord_id,
            px: order.px,
            qty: order.qty,
            ..old
        };
        let mut e = self.report(ExecKind::Replaced, &new, ts);
        e.orig_cl_ord_id = old.cl_ord_id;
        self.reports.push_back(e);
        match self.crossing(new.instrument, new.side, new.px, false) {
            Some(far) => self.fill(&new, far, ts, OrdType::Limit, LIQUIDITY_REMOVED),
            None => self.resting.push(new),
        }
    }
}

impl<I: Iterator<Item = MarketData>> VenueLink for TouchVenue<I> {
    fn poll(&mut self) -> Option<InputSlot> {
        match self.poll_before(u64::MAX) {
            Polled::Input(s) => Some(s),
            Polled::Blocked | Polled::Exhausted => None,
        }
    }

    /// Reports arrive `ack_latency_ns` after their order's trigger.
    fn feedback_delay(&self) -> Option<u64> {
        Some(self.ack_ns)
    }

    /// What [`poll`](VenueLink::poll) would deliver, unless an order not yet sent
    /// (triggered at or after `horizon − ack`) could put a report before it: its
    /// report would come at or after `horizon`, and win a tie with market data, so
    /// market data at or after `horizon` waits, as does a queued report after it.
    /// With the data exhausted, the venue is only done when nothing is in flight.
    fn poll_before(&mut self, horizon: u64) -> Polled {
        let next_md = self.ahead.map(|m| m.header.ts_ns);
        if let Some(r) = self.reports.front() {
            if next_md.is_none_or(|t| r.header.ts_ns <= t) {
                if r.header.ts_ns > horizon {
                    return Polled::Blocked;
                }
                return match self.reports.pop_front() {
                    Some(r) => Polled::Input(InputSlot::from_exec(&r)),
                    None => Polled::Blocked,
                };
            }
        }
        let Some(md) = self.ahead else {
            return if horizon == u64::MAX {
                Polled::Exhausted
            } else {
                Polled::Blocked
            };
        };
        if md.header.ts_ns >= horizon {
            return Polled::Blocked;
        }
        self.ahead = self.src.next();
        self.stats.md += 1;
        self.stats.updates += (md.header.flags & foxtrot_engine::records::flags::LAST_IN_BATCH != 0) as u64;
        let i = md.header.instrument;
        if let Some(b) = self.books.get_mut(i as usize) {
            // Bad data is the core's to count; the venue's touch just ignores it.
            let _ = b.apply(&md);
            if md.action() != Some(MdAction::Trade) && !self.resting.is_empty() {
                self.sweep_resting(i, md.header.ts_ns + self.ack_ns);
            }
        }
        Polled::Input(InputSlot::from_md(&md))
    }

    fn send(&mut self, order: &Order, _wire: &[u8]) {
        self.stats.orders += 1;
        let ts = order.header.ts_ns + self.ack_ns;
        let side = order.side().unwrap_or(Side::Buy);
        match order.action() {
            Some(OrderAction::New) => self.on_new(order, side, ts),
            Some(OrderAction::Cancel) => self.on_cancel_or_replace(order, side, false, ts),
            Some(OrderAction::Replace) => self.on_cancel_or_replace(order, side, true, ts),
            None => self.reject(order, side, VenueReject::InvalidPriceOrQty, ts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_engine::records::{flags, Header, InputView, Kind};

    fn quote(ts: u64, bid: i64, ask: i64) -> [MarketData; 2] {
        [
            MarketData::new(MdAction::Quote, 0, Some(Side::Buy), ts, 0, bid, 10, 0),
            MarketData::new(
                MdAction::Quote,
                0,
                Some(Side::Sell),
                ts,
                0,
                ask,
                10,
                flags::LAST_IN_BATCH,
            ),
        ]
    }

    fn order(action: OrderAction, ord_type: OrdType, side: Side, px: i64, cl: u64, orig: u64, ts: u64) -> Order {
        Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: action as u8,
                side: side as u8,
                flags: ord_type as u8,
                ts_ns: ts,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: orig,
            px,
            qty: 5,
        }
    }

    fn drain<I: Iterator<Item = MarketData>>(v: &mut TouchVenue<I>) -> Vec<(ExecKind, u64, i64, i64, u64)> {
        let mut out = Vec::new();
        while let Some(s) = v.poll() {
            if let Some(InputView::Exec(e)) = s.view() {
                out.push((e.kind().unwrap(), e.cl_ord_id, e.last_px, e.last_qty, e.header.ts_ns));
            }
        }
        out
    }

    /// A venue over two quotes (99.0000/99.0100 at 1 µs, 98.9000/98.9900 at
    /// 1 ms), the first delivered.
    fn after_the_first_quote() -> (Config, TouchVenue<std::vec::IntoIter<MarketData>>) {
        let cfg = Config::default_backtest();
        let data: Vec<MarketData> = [quote(1_000, 99_0000, 99_0100), quote(1_000_000, 98_9000, 98_9900)].concat();
        let mut v = TouchVenue::new(&cfg, data.into_iter());
        assert!(v.poll().is_some() && v.poll().is_some());
        (cfg, v)
    }

    #[test]
    fn market_orders_fill_at_the_far_touch_and_limits_when_it_reaches_them() {
        let (cfg, mut v) = after_the_first_quote();
        let ack = cfg.venue.ack_latency_ns;
        v.send(
            &order(OrderAction::New, OrdType::Market, Side::Buy, 0, 1, 0, 1_000),
            &[],
        );
        v.send(
            &order(OrderAction::New, OrdType::Market, Side::Sell, 0, 2, 0, 1_000),
            &[],
        );
        // A resting buy at 98.9900 and one at 98.0000 that we cancel.
        v.send(
            &order(OrderAction::New, OrdType::Limit, Side::Buy, 98_9900, 3, 0, 1_000),
            &[],
        );
        v.send(
            &order(OrderAction::New, OrdType::Limit, Side::Buy, 98_0000, 4, 0, 1_000),
            &[],
        );
        v.send(
            &order(OrderAction::Cancel, OrdType::Limit, Side::Buy, 0, 5, 4, 1_000),
            &[],
        );
        v.send(
            &order(OrderAction::Cancel, OrdType::Limit, Side::Buy, 0, 6, 77, 1_000),
            &[],
        );
        let t = 1_000 + ack;
        use ExecKind::*;
        assert_eq!(
            drain(&mut v),
            vec![
                (New, 1, 0, 0, t),
                (Fill, 1, 99_0100, 5, t),
                (New, 2, 0, 0, t),
                (Fill, 2, 99_0000, 5, t),
                (New, 3, 0, 0, t),
                (New, 4, 0, 0, t),
                (Canceled, 5, 0, 0, t),
                (CancelRejected, 6, 0, 0, t),
                // The second quote's ask reaches order 3's price: filled at its own.
                (Fill, 3, 98_9900, 5, 1_000_000 + ack),
            ]
        );
        assert_eq!((v.stats().fills, v.stats().filled_qty, v.stats().md), (3, 15, 4));
    }

    /// A fill says how it traded: taking (market or marketable) or adding (a
    /// resting limit the touch reached), for the fee schedule's rates.
    #[test]
    fn fills_say_whether_they_took_or_added_liquidity() {
        let (_, mut v) = after_the_first_quote();
        v.send(
            &order(OrderAction::New, OrdType::Market, Side::Buy, 0, 1, 0, 1_000),
            &[],
        );
        v.send(
            &order(OrderAction::New, OrdType::Limit, Side::Sell, 98_9000, 2, 0, 1_000),
            &[],
        );
        v.send(
            &order(OrderAction::New, OrdType::Limit, Side::Buy, 98_9900, 3, 0, 1_000),
            &[],
        );
        let mut liquidity = Vec::new();
        while let Some(s) = v.poll() {
            if let Some(InputView::Exec(e)) = s.view() {
                if e.kind() == Some(ExecKind::Fill) {
                    liquidity.push((e.cl_ord_id, e.header.flags));
                }
            }
        }
        assert_eq!(
            liquidity,
            vec![(1, LIQUIDITY_REMOVED), (2, LIQUIDITY_REMOVED), (3, LIQUIDITY_ADDED)]
        );
    }

    #[test]
    fn a_market_order_without_a_touch_is_rejected() {
        let cfg = Config::default_backtest();
        let mut v = TouchVenue::new(&cfg, std::iter::empty());
        v.send(&order(OrderAction::New, OrdType::Market, Side::Buy, 0, 1, 0, 5), &[]);
        v.send(&order(OrderAction::New, OrdType::Limit, Side::Buy, -1, 2, 0, 5), &[]);
        let got = drain(&mut v);
        assert_eq!(
            got.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>(),
            vec![(ExecKind::Rejected, 1), (ExecKind::Rejected, 2)]
        );
        assert_eq!(v.stats().rejects, 2);
    }
}
