//! The backtest venue for data users bring: recorded market data in, and orders
//! filled against its touch.
//!
//! Imported data (a CSV of quotes, an ITCH or DBN file) cannot react to our
//! orders, so this venue does not pretend to match them against a book it does
//! not have. It keeps each instrument's touch from the data (quotes set it —
//! while fills are at the touch, a [`TouchBook`] of two levels, not a second
//! ladder beside the core's; order-level events go through an engine [`Book`])
//! and fills:
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
//!
//! ## Models (`venue.fill_model`; `docs/backtest-models.md`)
//! - **Queue position** of a resting order at the near touch: `risk_averse` and
//!   `prob` (L2: the quantity ahead, advanced by trades at the price and, for
//!   `prob`, by a share of the level's other decreases), `fifo` (L3: exactly the
//!   orders resting at the price when it joined are ahead). Such an order
//!   fills when the queue ahead is gone and trades reach it (`risk_averse`,
//!   `prob`: in part, by the traded quantity beyond the queue, to the nearest
//!   unit), when an order behind it executes (`fifo`), and in every model when
//!   the far touch reaches its price or a print passes it (a trade or an
//!   execution beyond its price, on the side it rests on). The models agree
//!   with hftbacktest 2.4.4's exchanges on the same data
//!   (`tools/tests/queue_peer.rs`; `fifo` but for an order alone at the top,
//!   which the peer leaves unfilled by an execution beyond it).
//! - **Latency**: `constant` and `interpolated` — market data reaches the
//!   engine `md_latency_ns` after the venue saw it (`interpolated` with a
//!   recorded feed table: that table's latency at the event's time, in
//!   publication order); an order reaches the venue
//!   its entry latency after it was sent and is matched against the book the
//!   venue holds then; reports reach the engine the response latency after the
//!   venue acted (`interpolated`: the entry latency at the send time, the
//!   response latency at the time the venue acted, as hftbacktest's
//!   `IntpOrderLatency`). The venue's clock runs on the data's timestamps: everything
//!   the venue does at time t happens before anything the engine sees after t.

use foxtrot_engine::config::{Config, LatencyModel, QueueModel};
use foxtrot_engine::core::{Book, TouchBook};
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
    /// Filled so far (the queue models fill in parts).
    filled: i64,
    /// The quantity ahead in the queue (L2 models, and `fifo`'s count of what
    /// was resting when it joined).
    front: f64,
    /// Trades at the price since the level last changed (`prob`).
    cum_trade: f64,
    /// `fifo`: the feed's order sequence number when it joined (orders added
    /// before are ahead of it).
    join: u64,
    /// The L2 models: the quantity of its price level as last seen.
    level: i64,
}

/// A feed order, for the `fifo` queue model: where it rests, how much, and
/// when it arrived.
#[derive(Clone, Copy, Debug)]
struct FeedOrder {
    side: Side,
    px: i64,
    qty: i64,
    seq: u64,
}

/// The entry latency of an order sent at a time, and the response latency of
/// the venue acting at a time.
#[derive(Clone, Debug)]
enum Latency {
    /// The touch venue as it always was: matched on send, reported `ack` later.
    Ack(u64),
    /// Constant entry and response latencies.
    Constant { entry: u64, response: u64 },
    /// Recorded orders, interpolated: `[ts, entry]` by the time each was sent,
    /// `[ts + entry, response]` by the time the venue acted on it (as
    /// hftbacktest's `IntpOrderLatency` reads `req_ts`, `exch_ts`, `resp_ts`).
    Table {
        entry: Vec<[u64; 2]>,
        response: Vec<[u64; 2]>,
    },
}

/// The row of recorded `[ts, …]` values at time `t`: each value linear
/// between the rows around `t` (integer arithmetic, rounded down), the end
/// rows' outside them. `rows` is not empty, its times strictly increasing.
fn interpolate<const N: usize>(rows: &[[u64; N]], t: u64) -> [u64; N] {
    let i = rows.partition_point(|r| r[0] <= t);
    if i == 0 || i == rows.len() {
        return rows[i.saturating_sub(1)];
    }
    let (a, b) = (rows[i - 1], rows[i]);
    let mut out = a;
    for k in 1..N {
        let v = a[k] as i128 + (b[k] as i128 - a[k] as i128) * (t - a[0]) as i128 / (b[0] - a[0]) as i128;
        out[k] = v as u64;
    }
    out
}

impl Latency {
    /// Recorded `[ts, entry, response]` rows (times strictly increasing, and
    /// so the times the venue acted, `ts + entry`: the configuration's check).
    fn table(rows: &[[u64; 3]]) -> Self {
        Latency::Table {
            entry: rows.iter().map(|r| [r[0], r[1]]).collect(),
            response: rows.iter().map(|r| [r[0].saturating_add(r[1]), r[2]]).collect(),
        }
    }

    /// The entry latency of an order sent at `t` (see [`interpolate`]).
    fn entry_at(&self, t: u64) -> u64 {
        match self {
            Latency::Ack(_) => 0,
            Latency::Constant { entry, .. } => *entry,
            Latency::Table { entry, .. } => interpolate(entry, t)[1],
        }
    }

    /// The response latency of the venue acting at `t` (see [`interpolate`]).
    fn response_at(&self, t: u64) -> u64 {
        match self {
            Latency::Ack(a) => *a,
            Latency::Constant { response, .. } => *response,
            Latency::Table { response, .. } => interpolate(response, t)[1],
        }
    }

    /// The least entry latency any order can have.
    fn min_entry(&self) -> u64 {
        match self {
            Latency::Ack(_) => 0,
            Latency::Constant { entry, .. } => *entry,
            Latency::Table { entry, .. } => entry.iter().map(|r| r[1]).min().unwrap_or(0),
        }
    }

    /// The least response latency.
    fn min_response(&self) -> u64 {
        match self {
            Latency::Ack(a) => *a,
            Latency::Constant { response, .. } => *response,
            Latency::Table { response, .. } => response.iter().map(|r| r[1]).min().unwrap_or(0),
        }
    }
}

/// When market data the venue publishes reaches the engine.
#[derive(Clone, Debug)]
enum FeedLatency {
    /// `md_latency_ns` for every event (0 in the `ack` model).
    Constant(u64),
    /// Recorded `[ts, md]` rows, interpolated at each event's time; an event
    /// never arrives before one published earlier.
    Table(Vec<[u64; 2]>),
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
    books: Vec<TouchBook>,
    resting: Vec<Resting>,
    reports: VecDeque<ExecReport>,
    ack_ns: u64,
    next_id: u64,
    stats: TouchStats,
    queue: QueueModel,
    power: f64,
    latency: Latency,
    /// When market data reaches the engine after the venue saw it (0 late
    /// unless a latency is modelled).
    feed: FeedLatency,
    /// When the last market data delivered reaches the engine.
    feed_last: u64,
    /// Data the venue has applied, waiting to reach the engine (timestamps
    /// already the engine's).
    delayed: VecDeque<MarketData>,
    /// Orders on their way to the venue: (arrival, response latency, order,
    /// side), in arrival order (equal arrivals in sending order).
    inbound: VecDeque<(u64, u64, Order, Side)>,
    /// `fifo`: the feed's resting orders by id, and the next arrival number.
    feed_orders: std::collections::HashMap<u64, FeedOrder>,
    feed_seq: u64,
}

impl<I: Iterator<Item = MarketData>> TouchVenue<I> {
    /// A venue for `cfg`'s instruments over the data `src`.
    pub fn new(cfg: &Config, src: I) -> Self {
        let mut src = src;
        let fm = &cfg.venue.fill_model;
        TouchVenue {
            ahead: src.next(),
            src,
            books: cfg
                .instruments
                .iter()
                .map(|s| match fm.queue {
                    QueueModel::Touch => TouchBook::new(s.tick, s.ref_price, cfg.book.window_ticks),
                    _ => TouchBook::Ladder(Book::new(s.tick, s.ref_price, cfg.book.window_ticks)),
                })
                .collect(),
            resting: Vec::with_capacity(256),
            reports: VecDeque::with_capacity(1024),
            ack_ns: cfg.venue.ack_latency_ns,
            next_id: 1,
            stats: TouchStats::default(),
            queue: fm.queue,
            power: fm.queue_power,
            latency: match fm.latency {
                LatencyModel::Ack => Latency::Ack(cfg.venue.ack_latency_ns),
                LatencyModel::Constant => Latency::Constant {
                    entry: cfg.venue.entry_latency_ns,
                    response: cfg.venue.ack_latency_ns,
                },
                LatencyModel::Interpolated if !fm.latency_table.is_empty() => Latency::table(&fm.latency_table),
                // Refused by the configuration's check; constant if it got here.
                LatencyModel::Interpolated => Latency::Constant {
                    entry: cfg.venue.entry_latency_ns,
                    response: cfg.venue.ack_latency_ns,
                },
            },
            feed: match fm.latency {
                LatencyModel::Ack => FeedLatency::Constant(0),
                LatencyModel::Interpolated if !fm.feed_latency_table.is_empty() => {
                    FeedLatency::Table(fm.feed_latency_table.clone())
                }
                _ => FeedLatency::Constant(cfg.venue.md_latency_ns),
            },
            feed_last: 0,
            delayed: VecDeque::with_capacity(1024),
            inbound: VecDeque::with_capacity(64),
            feed_orders: std::collections::HashMap::new(),
            feed_seq: 0,
        }
    }

    fn modelled(&self) -> bool {
        !matches!(self.latency, Latency::Ack(_))
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

    /// Fills what remains of `o` at `px`.
    fn fill(&mut self, o: &Resting, px: i64, ts: u64, ord_type: OrdType, liquidity: u8) {
        let mut e = self.report(ExecKind::Fill, o, ts);
        e.header.flags = liquidity;
        e.last_px = px;
        e.last_qty = o.qty - o.filled;
        e.cum_qty = o.qty;
        e.ord_type = ord_type as u8;
        self.stats.fills += 1;
        self.stats.filled_qty += o.qty - o.filled;
        self.push_report(e);
    }

    /// Fills `qty` more of the resting order `i` at its price (a queue model's
    /// fill: it added liquidity); removes it when it is done.
    fn fill_part(&mut self, i: usize, qty: i64, ts: u64) {
        let o = self.resting[i];
        let qty = qty.min(o.qty - o.filled);
        if qty <= 0 {
            return;
        }
        if o.filled + qty == o.qty {
            self.resting.swap_remove(i);
            return self.fill(&o, o.px, ts, OrdType::Limit, LIQUIDITY_ADDED);
        }
        self.resting[i].filled += qty;
        let mut e = self.report(ExecKind::PartialFill, &o, ts);
        e.header.flags = LIQUIDITY_ADDED;
        e.last_px = o.px;
        e.last_qty = qty;
        e.cum_qty = o.filled + qty;
        e.leaves_qty = o.qty - o.filled - qty;
        self.stats.fills += 1;
        self.stats.filled_qty += qty;
        self.push_report(e);
    }

    /// Queues a report in time order (after those at the same time).
    fn push_report(&mut self, e: ExecReport) {
        let at = self.reports.len()
            - self
                .reports
                .iter()
                .rev()
                .take_while(|r| r.header.ts_ns > e.header.ts_ns)
                .count();
        self.reports.insert(at, e);
    }

    fn reject(&mut self, order: &Order, side: Side, reason: VenueReject, ts: u64) {
        self.stats.rejects += 1;
        let mut e = ExecReport::new(ExecKind::Rejected, order.header.instrument, side, ts);
        e.cl_ord_id = order.cl_ord_id;
        e.order_px = order.px;
        e.order_qty = order.qty;
        e.reason = reason as u8;
        e.ord_type = order.header.flags;
        self.push_report(e);
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
        self.fill_resting_where(instrument, ts, |v, o| {
            v.crossing(instrument, o.side, o.px, false).is_some()
        });
    }

    /// Fills in full, at their own prices (liquidity added), the resting
    /// orders of `instrument` that `done` says are done, and takes them out.
    fn fill_resting_where(&mut self, instrument: u32, ts: u64, done: impl Fn(&Self, &Resting) -> bool) {
        let mut i = 0;
        while i < self.resting.len() {
            let o = self.resting[i];
            if o.instrument == instrument && done(self, &o) {
                self.resting.swap_remove(i);
                self.fill(&o, o.px, ts, OrdType::Limit, LIQUIDITY_ADDED);
            } else {
                i += 1;
            }
        }
    }

    /// Fills in full, at their own prices, the resting orders of `instrument`
    /// a print passed: a trade, or an execution of a feed order, at a price
    /// worse for the side it hit than theirs (a sell at 98 while our buy rests
    /// at 99) — under price priority ours would have traded first. The side
    /// hit is the resting side of an execution and the side against a
    /// trade's aggressor; a trade of unknown side passes the orders of both
    /// sides it is beyond.
    fn sweep_traded_through(&mut self, instrument: u32, md: &MarketData, ts: u64) {
        if md.px <= 0 || md.qty <= 0 {
            return;
        }
        let hit = match md.action() {
            Some(MdAction::Trade) => md.side().map(Side::opposite),
            _ => md.side(),
        };
        let px = md.px;
        self.fill_resting_where(instrument, ts, |_, o| {
            let passed = match o.side {
                Side::Buy => o.px > px,
                Side::Sell => o.px < px,
            };
            passed && hit.is_none_or(|s| s == o.side)
        });
    }

    /// Puts `o` in the book: behind the quantity resting at its price now.
    fn rest(&mut self, mut o: Resting) {
        o.level = self
            .books
            .get(o.instrument as usize)
            .map_or(0, |b| b.qty_at(o.side, o.px));
        o.front = o.level as f64;
        o.cum_trade = 0.0;
        o.join = self.feed_seq;
        self.resting.push(o);
    }

    /// The L2 models: trades of `qty` at the price of resting order `i`.
    fn queue_trade(&mut self, i: usize, qty: f64) {
        let r = &mut self.resting[i];
        r.front -= qty;
        r.cum_trade += qty;
    }

    /// The L2 models: the level of resting order `i` went from `prev` to `new`.
    fn queue_depth(&mut self, i: usize, prev: f64, new: f64) {
        let (model, power) = (self.queue, self.power);
        let r = &mut self.resting[i];
        // Trades at the level already moved the queue: only the rest of the
        // change is cancellations (or additions).
        let chg = prev - new - r.cum_trade;
        r.cum_trade = 0.0;
        if chg <= 0.0 || model == QueueModel::RiskAverse {
            // An increase joins behind; risk-averse: cancellations are behind.
            r.front = r.front.min(new);
            return;
        }
        let front = r.front.max(0.0);
        let back = (prev - front).max(0.0);
        let f = |x: f64| x.powf(power);
        let p = if f(back) + f(front) > 0.0 {
            f(back) / (f(back) + f(front))
        } else {
            1.0
        };
        let est = front - (1.0 - p) * chg + (back - p * chg).min(0.0);
        // Cancellations never fill: they can empty the queue ahead, not pass
        // the order (a queue trades already passed stays passed).
        r.front = if r.front < 0.0 { r.front } else { est.min(new).max(0.0) };
    }

    /// Fills resting orders whose queue (L2) the trades have passed.
    fn queue_fills(&mut self, instrument: u32, ts: u64) {
        let mut i = 0;
        while i < self.resting.len() {
            let r = self.resting[i];
            if r.instrument == instrument && r.front < 0.0 {
                let traded = (-r.front).round() as i64;
                let before = self.resting.len();
                self.fill_part(i, traded - r.filled, ts);
                if self.resting.len() < before {
                    continue;
                }
            }
            i += 1;
        }
    }

    /// The queue models' part of applying `md`.
    fn queue_on_md(&mut self, md: &MarketData, ts: u64) {
        let inst = md.header.instrument;
        if self.queue == QueueModel::Fifo {
            return self.fifo_on_md(md, ts);
        }
        let (px, qty, side, action) = (md.px, md.qty, md.side(), md.action());
        for i in 0..self.resting.len() {
            let r = self.resting[i];
            if r.instrument != inst {
                continue;
            }
            let at_level = r.px == px;
            match action {
                // A print at the price against this side (or of unknown side).
                Some(MdAction::Trade) if at_level && side != Some(r.side) => self.queue_trade(i, qty as f64),
                // A resting order of this level executed.
                Some(MdAction::Execute) if at_level && side == Some(r.side) => self.queue_trade(i, qty as f64),
                _ => {}
            }
            let now = self.books[inst as usize].qty_at(r.side, r.px);
            if now != r.level {
                self.queue_depth(i, r.level as f64, now as f64);
                self.resting[i].level = now;
            }
        }
        self.queue_fills(inst, ts);
    }

    /// The `fifo` model: the feed's orders, and what they do to ours.
    fn fifo_on_md(&mut self, md: &MarketData, ts: u64) {
        let inst = md.header.instrument;
        let Some(side) = md.side() else { return };
        match md.action() {
            Some(MdAction::Add) => {
                self.feed_orders.insert(
                    md.order_id,
                    FeedOrder {
                        side,
                        px: md.px,
                        qty: md.qty,
                        seq: self.feed_seq,
                    },
                );
                self.feed_seq += 1;
            }
            Some(a @ (MdAction::Cancel | MdAction::Execute | MdAction::Modify)) => {
                let Some(x) = self.feed_orders.get(&md.order_id).copied() else {
                    return;
                };
                let change = if a == MdAction::Modify { md.qty } else { -md.qty };
                let mut i = 0;
                while i < self.resting.len() {
                    let r = self.resting[i];
                    if r.instrument != inst || r.side != x.side || r.px != x.px {
                        i += 1;
                        continue;
                    }
                    if x.seq < r.join {
                        // Ahead of ours: the queue ahead changes.
                        self.resting[i].front = (r.front + change as f64).max(0.0);
                    } else if a == MdAction::Execute {
                        // Behind ours, executed: price-time priority filled
                        // ours first.
                        let before = self.resting.len();
                        self.fill_part(i, r.qty - r.filled, ts);
                        if self.resting.len() < before {
                            continue;
                        }
                    }
                    i += 1;
                }
                let left = x.qty + change;
                if left <= 0 {
                    self.feed_orders.remove(&md.order_id);
                } else if let Some(o) = self.feed_orders.get_mut(&md.order_id) {
                    o.qty = left;
                }
            }
            _ => {}
        }
    }

    /// Applies one event of the data to the venue's book at its time, with
    /// what it does to resting orders; their reports are stamped `report_ts`.
    fn apply_md(&mut self, md: &MarketData, report_ts: u64) {
        let i = md.header.instrument;
        let Some(b) = self.books.get_mut(i as usize) else {
            return;
        };
        b.apply(md);
        if !self.resting.is_empty() {
            match md.action() {
                Some(MdAction::Trade) => self.sweep_traded_through(i, md, report_ts),
                Some(MdAction::Execute) => {
                    self.sweep_traded_through(i, md, report_ts);
                    self.sweep_resting(i, report_ts);
                }
                _ => self.sweep_resting(i, report_ts),
            }
        }
        if self.queue != QueueModel::Touch && !self.resting.is_empty() {
            self.queue_on_md(md, report_ts);
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
            filled: 0,
            front: 0.0,
            cum_trade: 0.0,
            join: 0,
            level: 0,
        };
        self.next_id += 1;
        let mut ack = self.report(ExecKind::New, &o, ts);
        if market {
            ack.ord_type = OrdType::Market as u8;
        }
        self.push_report(ack);
        match cross {
            Some(far) => {
                let t = if market { OrdType::Market } else { OrdType::Limit };
                self.fill(&o, far, ts, t, LIQUIDITY_REMOVED)
            }
            None => self.rest(o),
        }
    }

    /// A mass cancel: every resting order of ours (of its instrument, or of
    /// all, by its scope) cancelled, oldest first, each reported under the
    /// request's ClOrdID; then the request's own report.
    fn on_mass_cancel(&mut self, order: &Order, ts: u64) {
        let instrument = order.mass_cancel_instrument();
        let mut n = 0;
        let mut k = 0;
        while k < self.resting.len() {
            if instrument.is_some_and(|i| self.resting[k].instrument != i) {
                k += 1;
                continue;
            }
            let old = self.resting.remove(k);
            let mut e = self.report(ExecKind::Canceled, &old, ts);
            e.orig_cl_ord_id = old.cl_ord_id;
            e.cl_ord_id = order.cl_ord_id;
            self.push_report(e);
            n += 1;
        }
        let mut e = ExecReport::new(ExecKind::MassCancelDone, order.header.instrument, Side::Buy, ts);
        e.cl_ord_id = order.cl_ord_id;
        e.ord_type = order.header.flags;
        e.order_qty = n;
        self.push_report(e);
    }

    fn on_cancel_or_replace(&mut self, order: &Order, side: Side, replace: bool, ts: u64) {
        let Some(i) = self.resting.iter().position(|r| r.cl_ord_id == order.orig_cl_ord_id) else {
            let mut e = ExecReport::new(ExecKind::CancelRejected, order.header.instrument, side, ts);
            e.cl_ord_id = order.cl_ord_id;
            e.orig_cl_ord_id = order.orig_cl_ord_id;
            e.reason = VenueReject::UnknownOrder as u8;
            self.push_report(e);
            return;
        };
        let old = self.resting.swap_remove(i);
        if !replace {
            let mut e = self.report(ExecKind::Canceled, &old, ts);
            e.orig_cl_ord_id = old.cl_ord_id;
            e.cl_ord_id = order.cl_ord_id;
            self.push_report(e);
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
        self.push_report(e);
        match self.crossing(new.instrument, new.side, new.px, false) {
            Some(far) => self.fill(&new, far, ts, OrdType::Limit, LIQUIDITY_REMOVED),
            // A replaced order loses its place: it joins the queue again.
            None => self.rest(new),
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

    /// Reports arrive `ack_latency_ns` after their order's trigger; with a
    /// latency model, no sooner than the least entry and response latencies.
    fn feedback_delay(&self) -> Option<u64> {
        if self.modelled() {
            Some(self.latency.min_entry() + self.latency.min_response())
        } else {
            Some(self.ack_ns)
        }
    }

    /// What [`poll`](VenueLink::poll) would deliver, unless an order not yet sent
    /// (triggered at or after `horizon − ack`) could put a report before it: its
    /// report would come at or after `horizon`, and win a tie with market data, so
    /// market data at or after `horizon` waits, as does a queued report after it.
    /// With the data exhausted, the venue is only done when nothing is in flight.
    fn poll_before(&mut self, horizon: u64) -> Polled {
        if self.modelled() {
            return self.poll_modelled(horizon);
        }
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
        self.count_md(&md);
        self.apply_md(&md, md.header.ts_ns + self.ack_ns);
        Polled::Input(InputSlot::from_md(&md))
    }

    fn send(&mut self, order: &Order, _wire: &[u8]) {
        self.stats.orders += 1;
        let side = order.side().unwrap_or(Side::Buy);
        if self.modelled() {
            let t = order.header.ts_ns;
            let arrival = t + self.latency.entry_at(t);
            let response = self.latency.response_at(arrival);
            // In arrival order; an order sent later but arriving at the same
            // time comes after.
            let at = self.inbound.len() - self.inbound.iter().rev().take_while(|x| x.0 > arrival).count();
            self.inbound.insert(at, (arrival, response, *order, side));
            return;
        }
        self.dispatch(order, side, order.header.ts_ns + self.ack_ns);
    }
}

impl<I: Iterator<Item = MarketData>> TouchVenue<I> {
    fn count_md(&mut self, md: &MarketData) {
        self.stats.md += 1;
        self.stats.updates += (md.header.flags & foxtrot_engine::records::flags::LAST_IN_BATCH != 0) as u64;
    }

    /// An order at the venue; its reports are stamped `ts`.
    fn dispatch(&mut self, order: &Order, side: Side, ts: u64) {
        match order.action() {
            Some(OrderAction::New) => self.on_new(order, side, ts),
            Some(OrderAction::Cancel) => self.on_cancel_or_replace(order, side, false, ts),
            Some(OrderAction::Replace) => self.on_cancel_or_replace(order, side, true, ts),
            Some(OrderAction::MassCancel) => self.on_mass_cancel(order, ts),
            None => self.reject(order, side, VenueReject::InvalidPriceOrQty, ts),
        }
    }

    /// The venue with a latency model: its own clock runs through the data's
    /// events and the orders' arrivals, in time order (an order first when it
    /// arrives at an event's time), and what the engine receives — data
    /// `md_latency_ns` late, reports — is delivered in time order (a report
    /// first at equal times). Nothing the venue does at or after `horizon` minus
    /// the least response latency is done early: an order not yet sent could
    /// arrive before it.
    fn poll_modelled(&mut self, horizon: u64) -> Polled {
        let limit = horizon.saturating_sub(self.latency.min_response());
        loop {
            let t_md = self.delayed.front().map(|m| m.header.ts_ns);
            let t_rep = self.reports.front().map(|r| r.header.ts_ns);
            let t_del = match (t_md, t_rep) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let t_src = self.ahead.map(|m| m.header.ts_ns);
            let t_in = self.inbound.front().map(|x| x.0);
            let order_first = match (t_in, t_src) {
                (Some(a), Some(b)) => a <= b,
                (a, _) => a.is_some(),
            };
            let t_ex = if order_first { t_in } else { t_src };
            if let Some(te) = t_ex {
                if t_del.is_none_or(|td| te < td) {
                    if te >= limit {
                        return Polled::Blocked;
                    }
                    if order_first {
                        if let Some((arrival, response, order, side)) = self.inbound.pop_front() {
                            self.dispatch(&order, side, arrival + response);
                        }
                    } else if let Some(md) = self.ahead {
                        self.ahead = self.src.next();
                        let t = md.header.ts_ns;
                        self.apply_md(&md, t + self.latency.response_at(t));
                        let mut seen = md;
                        seen.header.ts_ns = match &self.feed {
                            FeedLatency::Constant(ns) => t + ns,
                            FeedLatency::Table(rows) => (t + interpolate(rows, t)[1]).max(self.feed_last),
                        };
                        self.feed_last = seen.header.ts_ns;
                        self.delayed.push_back(seen);
                    }
                    continue;
                }
            }
            return match (t_rep, t_md) {
                (Some(r), m) if m.is_none_or(|m| r <= m) => {
                    if r > horizon {
                        return Polled::Blocked;
                    }
                    match self.reports.pop_front() {
                        Some(r) => Polled::Input(InputSlot::from_exec(&r)),
                        None => Polled::Blocked,
                    }
                }
                (_, Some(m)) => {
                    if m >= horizon {
                        return Polled::Blocked;
                    }
                    let Some(md) = self.delayed.pop_front() else {
                        return Polled::Blocked;
                    };
                    self.count_md(&md);
                    Polled::Input(InputSlot::from_md(&md))
                }
                _ if horizon == u64::MAX => Polled::Exhausted,
                _ => Polled::Blocked,
            };
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

    /// A report as the tests compare it: kind, ClOrdID, price, quantity, time.
    type Seen = (ExecKind, u64, i64, i64, u64);

    fn drain<I: Iterator<Item = MarketData>>(v: &mut TouchVenue<I>) -> Vec<Seen> {
        let mut out = Vec::new();
        while let Some(s) = v.poll() {
            if let Some(InputView::Exec(e)) = s.view() {
                out.push((e.kind().unwrap(), e.cl_ord_id, e.last_px, e.last_qty, e.header.ts_ns));
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// The venue holding only the touch fills, acknowledges and rejects as
        /// the one holding the ladder does: quotes near and far (beyond the
        /// window), trades, now and then an order-level add (the touch turns
        /// into the ladder), and market, limit and cancel orders between them.
        #[test]
        fn the_touch_alone_answers_as_the_ladder_does(
            steps in proptest::collection::vec((0u8..12, 0i64..60, 0i64..30, proptest::prelude::any::<bool>()), 1..250),
        ) {
            let cfg = Config::default_backtest();
            let spec = &cfg.instruments[0];
            let mut data = Vec::new();
            for (k, &(a, off, q, buy)) in steps.iter().enumerate() {
                let ts = 1_000 * (k as u64 + 1);
                let far = if a == 9 { 500 } else { 1 };
                let px = spec.ref_price + (off - 30) * spec.tick * far;
                let side = Some(if buy { Side::Buy } else { Side::Sell });
                let action = match a {
                    10 => MdAction::Add,
                    11 => MdAction::Trade,
                    _ => MdAction::Quote,
                };
                data.push(MarketData::new(action, 0, side, ts, k as u64, px, q, flags::LAST_IN_BATCH));
            }
            let mut touch = TouchVenue::new(&cfg, data.clone().into_iter());
            let mut ladder = TouchVenue::new(&cfg, data.into_iter());
            proptest::prop_assert!(matches!(touch.books[0], TouchBook::Touch(_)));
            ladder.books[0] = TouchBook::Ladder(Book::new(spec.tick, spec.ref_price, cfg.book.window_ticks));
            let seen = |s: InputSlot| match s.view() {
                Some(InputView::Exec(e)) => (1, e.kind() as Option<ExecKind>, e.cl_ord_id, e.last_px, e.last_qty, e.header.ts_ns),
                Some(InputView::Md(m)) => (0, None, 0, m.px, m.qty, m.header.ts_ns),
                _ => (2, None, 0, 0, 0, 0),
            };
            let mut cl = 1;
            for (k, &(a, off, _, buy)) in steps.iter().enumerate() {
                let (x, y) = (touch.poll(), ladder.poll());
                proptest::prop_assert_eq!(x.map(seen), y.map(seen), "step {}", k);
                let ts = 1_000 * (k as u64 + 1) + 500;
                let side = if buy { Side::Buy } else { Side::Sell };
                let o = match a % 4 {
                    0 => order(OrderAction::New, OrdType::Market, side, 0, cl, 0, ts),
                    1 => order(OrderAction::New, OrdType::Limit, side, spec.ref_price + (off - 30) * spec.tick, cl, 0, ts),
                    2 if cl > 2 => order(OrderAction::Cancel, OrdType::Limit, side, 0, cl, cl - 2, ts),
                    _ => continue,
                };
                cl += 1;
                touch.send(&o, &[]);
                ladder.send(&o, &[]);
            }
            loop {
                let (x, y) = (touch.poll(), ladder.poll());
                proptest::prop_assert_eq!(x.map(seen), y.map(seen));
                if x.is_none() {
                    break;
                }
            }
            proptest::prop_assert_eq!(touch.stats(), ladder.stats());
        }
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

    /// The models' tests: each expected report below is worked out by hand
    /// from the model's rule (written out beside it), not read off a run.
    mod models {
        use super::*;
        use foxtrot_engine::config::{LatencyModel, QueueModel};

        const BID: i64 = 99_0000;
        const ASK: i64 = 99_0100;

        fn md(action: MdAction, side: Side, ts: u64, id: u64, px: i64, qty: i64) -> MarketData {
            MarketData::new(action, 0, Some(side), ts, id, px, qty, flags::LAST_IN_BATCH)
        }

        fn venue(queue: QueueModel, data: Vec<MarketData>) -> (u64, TouchVenue<std::vec::IntoIter<MarketData>>) {
            let mut cfg = Config::default_backtest();
            cfg.venue.fill_model.queue = queue;
            (cfg.venue.ack_latency_ns, TouchVenue::new(&cfg, data.into_iter()))
        }

        fn buy(px: i64, qty: i64, ts: u64) -> Order {
            let mut o = order(OrderAction::New, OrdType::Limit, Side::Buy, px, 1, 0, ts);
            o.qty = qty;
            o
        }

        /// Polls the first `n` inputs (the data before the order).
        fn skip<I: Iterator<Item = MarketData>>(v: &mut TouchVenue<I>, n: usize) {
            for _ in 0..n {
                assert!(v.poll().is_some());
            }
        }

        /// An L2 day at the bid 99.0000: the level grows, shrinks, trades.
        fn l2_day() -> Vec<MarketData> {
            use MdAction::{Quote, Trade};
            vec![
                md(Quote, Side::Buy, 1_000, 0, BID, 30),
                md(Quote, Side::Sell, 1_000, 0, ASK, 10),
                md(Quote, Side::Buy, 2_000, 0, BID, 50),
                md(Quote, Side::Buy, 3_000, 0, BID, 20),
                md(Trade, Side::Sell, 4_000, 0, BID, 15),
                md(Quote, Side::Buy, 4_000, 0, BID, 5),
                md(Trade, Side::Sell, 5_000, 0, BID, 8),
            ]
        }

        /// `prob`, f(x) = x²: our buy of 10 joins behind 30.
        /// - 30 → 50: an increase, behind us: front 30.
        /// - 50 → 20: 30 cancelled; back = 50 − 30 = 20, p = 20² / (20² + 30²)
        ///   = 4/13; front = 30 − (9/13)·30 + min(20 − (4/13)·30, 0) = 9.2308.
        /// - trade 15: front −5.7692: 5.7692 past the queue, to the nearest
        ///   unit 6 filled.
        /// - 20 → 5: the 15 traded explain it all: no change.
        /// - trade 8: front −13.7692: 14 past the queue, the last 4 of ours
        ///   fill.
        ///
        /// (With f(x) = x, p = 0.4 and front 12: 3, then 7 — another answer.)
        /// The reports of a buy of 10 at the bid on the L2 day, and the ack latency.
        fn l2_reports(queue: QueueModel) -> (u64, Vec<Seen>) {
            let (ack, mut v) = venue(queue, l2_day());
            skip(&mut v, 2);
            v.send(&buy(BID, 10, 1_000), &[]);
            (ack, drain(&mut v))
        }

        #[test]
        fn prob_queue_fills_as_worked_out() {
            let (ack, got) = l2_reports(QueueModel::Prob);
            use ExecKind::*;
            assert_eq!(
                got,
                vec![
                    (New, 1, 0, 0, 1_000 + ack),
                    (PartialFill, 1, BID, 6, 4_000 + ack),
                    (Fill, 1, BID, 4, 5_000 + ack)
                ]
            );
        }

        /// `risk_averse`: cancellations are behind us, but the queue ahead is
        /// never longer than the level: 30 → 30 (50) → 20 (level 20) → 5 (trade
        /// 15) → −3 (trade 8): 3 of our 10 fill.
        #[test]
        fn risk_averse_queue_fills_only_past_the_trades() {
            let (ack, got) = l2_reports(QueueModel::RiskAverse);
            use ExecKind::*;
            assert_eq!(
                got,
                vec![(New, 1, 0, 0, 1_000 + ack), (PartialFill, 1, BID, 3, 5_000 + ack)]
            );
        }

        /// A print beyond a resting order's price passed it: under price
        /// priority it traded first, in full, at its own price — in every
        /// model, the queue ahead notwithstanding. Our buy of 10 rests at the
        /// bid 99.0000 behind 30 (the ask 99.0100 never comes down); then, at
        /// 2,000 ns, one print:
        /// - a sell (aggressor) at 98.9900: it hit the bids below ours: all 10 fill;
        /// - a trade of unknown side at 98.9900: someone sold below our bid: all 10;
        /// - an execution of a feed buy order at 98.9900: the same;
        /// - a buy (aggressor) at 98.9900: it hit asks, not bids: nothing;
        /// - a sell at 99.0000, our own price: not beyond it (the queue models
        ///   count it against the queue ahead, 30: nothing for us either).
        ///
        /// And the mirror on the ask: our sell of 10 at 99.0100 behind 10, the
        /// prints at 99.0200 (a buy passes it, a sell does not) or at 99.0100
        /// (a buy of 5 against the 10 ahead: nothing).
        #[test]
        fn a_print_beyond_a_resting_order_fills_it_in_every_model() {
            for (ours, at) in [(Side::Buy, BID), (Side::Sell, ASK)] {
                let beyond = at - 100 * ours.sign();
                let hitting = ours.opposite();
                let prints = [
                    (MdAction::Trade, Some(hitting), beyond, true),
                    (MdAction::Trade, None, beyond, true),
                    (MdAction::Execute, Some(ours), beyond, true),
                    (MdAction::Trade, Some(ours), beyond, false),
                    (MdAction::Trade, Some(hitting), at, false),
                ];
                for queue in [
                    QueueModel::Touch,
                    QueueModel::RiskAverse,
                    QueueModel::Prob,
                    QueueModel::Fifo,
                ] {
                    for (action, side, px, fills) in prints {
                        let print = MarketData::new(action, 0, side, 2_000, 77, px, 5, flags::LAST_IN_BATCH);
                        let (ack, mut v) = venue(
                            queue,
                            vec![
                                md(MdAction::Quote, Side::Buy, 1_000, 0, BID, 30),
                                md(MdAction::Quote, Side::Sell, 1_000, 0, ASK, 10),
                                print,
                            ],
                        );
                        skip(&mut v, 2);
                        let mut order = buy(at, 10, 1_000);
                        order.header.side = ours as u8;
                        v.send(&order, &[]);
                        let mut want = vec![(ExecKind::New, 1, 0, 0, 1_000 + ack)];
                        if fills {
                            want.push((ExecKind::Fill, 1, at, 10, 2_000 + ack));
                        }
                        assert_eq!(drain(&mut v), want, "{ours:?} {queue:?}, {action:?} {side:?} at {px}");
                    }
                }
            }
        }

        /// The touch model on the same day: the ask never comes down to our
        /// price, so nothing fills.
        #[test]
        fn the_touch_model_fills_none_of_it() {
            let (ack, got) = l2_reports(QueueModel::Touch);
            assert_eq!(got, vec![(ExecKind::New, 1, 0, 0, 1_000 + ack)]);
        }

        /// `fifo` on order-level data: A (30) and B (20) rest at 99.0000 when
        /// our 10 joins: 50 ahead. C (40) joins behind. A executes 30: 20
        /// ahead. B cancels 20: none ahead. C executes 15: an order behind
        /// ours traded, so ours (first in line) did: filled, all 10.
        #[test]
        fn fifo_queue_fills_when_an_order_behind_trades() {
            use MdAction::{Add, Cancel, Execute};
            let data = vec![
                md(Add, Side::Buy, 1_000, 1, BID, 30),
                md(Add, Side::Buy, 1_000, 2, BID, 20),
                md(Add, Side::Sell, 1_000, 9, ASK, 10),
                md(Add, Side::Buy, 2_000, 3, BID, 40),
                md(Execute, Side::Buy, 3_000, 1, BID, 30),
                md(Cancel, Side::Buy, 4_000, 2, BID, 20),
                md(Execute, Side::Buy, 5_000, 3, BID, 15),
            ];
            let (ack, mut v) = venue(QueueModel::Fifo, data.clone());
            skip(&mut v, 3);
            v.send(&buy(BID, 10, 1_000), &[]);
            use ExecKind::*;
            assert_eq!(
                drain(&mut v),
                vec![(New, 1, 0, 0, 1_000 + ack), (Fill, 1, BID, 10, 5_000 + ack)]
            );
            // Had B not cancelled, 20 would still be ahead when C traded — but
            // C trading means everything ahead traded: still a fill. Had only A
            // executed, nothing behind us traded: no fill.
            let (_, mut v) = venue(QueueModel::Fifo, data[..5].to_vec());
            skip(&mut v, 3);
            v.send(&buy(BID, 10, 1_000), &[]);
            assert_eq!(drain(&mut v).len(), 1, "only the acknowledgement");
        }

        /// Interpolated latency: rows (1,000 ns: entry 100, response 50) and
        /// (3,000 ns: entry 300, response 150). A market buy sent at 2,000 ns
        /// takes entry 200 and response 100 (halfway): it reaches the venue at
        /// 2,200, when the ask is 99.0200 (set at 2,150; 99.0300 comes at
        /// 2,250), and its reports reach the engine at 2,300. Market data
        /// reaches the engine `md_latency_ns` = 30 ns late.
        #[test]
        fn interpolated_latency_matches_against_the_book_on_arrival() {
            let mut cfg = Config::default_backtest();
            cfg.venue.fill_model.latency = LatencyModel::Interpolated;
            cfg.venue.fill_model.latency_table = vec![[1_000, 100, 50], [3_000, 300, 150]];
            cfg.venue.md_latency_ns = 30;
            let data = [
                quote(1_000, BID, ASK),
                quote(2_150, BID, 99_0200),
                quote(2_250, BID, 99_0300),
            ]
            .concat();
            let mut v = TouchVenue::new(&cfg, data.into_iter());
            let mut seen = Vec::new();
            for _ in 0..2 {
                let s = v.poll().unwrap();
                seen.push(s.view().map(|x| match x {
                    InputView::Md(m) => m.header.ts_ns,
                    _ => 0,
                }));
            }
            assert_eq!(seen, vec![Some(1_030), Some(1_030)]);
            v.send(
                &order(OrderAction::New, OrdType::Market, Side::Buy, 0, 7, 0, 2_000),
                &[],
            );
            let mut got = Vec::new();
            while let Some(s) = v.poll() {
                got.push(match s.view() {
                    Some(InputView::Md(m)) => ("md", m.header.ts_ns, 0),
                    Some(InputView::Exec(e)) => ("exec", e.header.ts_ns, e.last_px),
                    _ => ("other", 0, 0),
                });
            }
            assert_eq!(
                got,
                vec![
                    ("md", 2_180, 0),
                    ("md", 2_180, 0),
                    ("md", 2_280, 0),
                    ("md", 2_280, 0),
                    ("exec", 2_300, 0),
                    ("exec", 2_300, 99_0200),
                ]
            );
            assert_eq!(v.feedback_delay(), Some(150), "the least entry + response");
        }

        /// Recorded feed latencies `[[1,000, 100], [3,000, 300]]`: a quote
        /// published at 1,000 reaches the engine at 1,000 + 100 = 1,100, one at
        /// 2,000 at 2,000 + 200 = 2,200, one at 4,000 at 4,000 + 300 (the last
        /// row's) = 4,300. With the latency falling faster than time passes
        /// (`[[0, 1,000], [100, 0]]`), a quote at 50 (latency 500: 550) arrives
        /// with the one at 0 (1,000), not before it: a feed delivers in order.
        #[test]
        fn recorded_feed_latencies_delay_each_quote_and_keep_the_order() {
            let arrivals = |table: Vec<[u64; 2]>, times: &[u64]| -> Vec<u64> {
                let mut cfg = Config::default_backtest();
                cfg.venue.fill_model.latency = LatencyModel::Interpolated;
                cfg.venue.fill_model.latency_table = vec![[0, 10, 10]];
                cfg.venue.fill_model.feed_latency_table = table;
                cfg.check(std::path::Path::new("test")).expect("a valid model");
                let data: Vec<MarketData> = times.iter().flat_map(|&t| quote(t, BID, ASK)).collect();
                let mut v = TouchVenue::new(&cfg, data.into_iter());
                std::iter::from_fn(|| v.poll())
                    .filter_map(|s| match s.view() {
                        Some(InputView::Md(m)) if m.header.flags & flags::LAST_IN_BATCH != 0 => Some(m.header.ts_ns),
                        _ => None,
                    })
                    .collect()
            };
            assert_eq!(
                arrivals(vec![[1_000, 100], [3_000, 300]], &[1_000, 2_000, 4_000]),
                vec![1_100, 2_200, 4_300]
            );
            assert_eq!(
                arrivals(vec![[0, 1_000], [100, 0]], &[0, 50, 200]),
                vec![1_000, 1_000, 1_000]
            );
            // Only the interpolated model reads them: elsewhere an error, not ignored.
            let mut cfg = Config::default_backtest();
            cfg.venue.fill_model.latency = LatencyModel::Constant;
            cfg.venue.fill_model.feed_latency_table = vec![[0, 5]];
            let e = cfg.check(std::path::Path::new("test")).unwrap_err().to_string();
            assert!(e.contains("feed_latency_table"), "{e}");
        }

        /// Outside the rows, the end rows' latencies; between, rounded down.
        #[test]
        fn latencies_interpolate_between_rows_and_hold_outside() {
            // Sent at 1,000 and 3,000; the venue acted at 1,100 and 3,301.
            let l = Latency::table(&[[1_000, 100, 50], [3_000, 301, 150]]);
            let entry = |t| l.entry_at(t);
            let response = |t| l.response_at(t);
            assert_eq!(
                [entry(0), entry(1_000), entry(3_000), entry(9_000)],
                [100, 100, 301, 301]
            );
            // 100 + 201·1000/2000 = 200.5 → 200.
            assert_eq!(entry(2_000), 200);
            // Responses by the venue's time: 1,100 → 50, 3,301 → 150.
            assert_eq!(
                [response(0), response(1_100), response(3_301), response(9_000)],
                [50, 50, 150, 150]
            );
            assert_eq!(response(2_000), 90); // 50 + 100·900/2201 = 90.89… → 90
            let c = Latency::Constant { entry: 7, response: 9 };
            assert_eq!((c.entry_at(5), c.response_at(5)), (7, 9));
        }
    }
}
