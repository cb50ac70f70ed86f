//! The simulated world: crowd → matching engine → market data, with our orders
//! arriving after an order-entry latency and reports returning after an ack
//! latency, all in control time.
//!
//! [`SimWorld::poll`] merges three streams in time order: crowd actions (from the
//! generator), our orders in flight (sent at t, arriving at t + entry latency), and
//! the venue's outputs (market data at t + md latency, execution reports at t + ack
//! latency). An output is delivered once no input could still precede it, so
//! causality holds and the merge is a pure function of the seed, the config and
//! the orders we send.

use crate::gen::crowd::{CrowdAction, CrowdGen};
use crate::matching::{MatchingEngine, NewOrder, VenueOutput, CROWD, ENGINE};
use foxtrot_engine::config::AdversarialConfig;
use foxtrot_engine::config::Config;
use foxtrot_engine::records::{flags, ExecReport, InputSlot, MarketData, MdAction, OrdType, Order, OrderAction, Side};
use foxtrot_engine::rng::SeededRng;
use foxtrot_engine::runtime::{Polled, VenueLink};
use std::collections::VecDeque;

/// Capacity of the in-flight and output queues (they never grow past it in a
/// bounded run; a full queue would only grow the deque, never lose data).
const QUEUE_CAP: usize = 1 << 14;

/// The simulated venue and its crowd.
pub struct SimWorld {
    gen: CrowdGen,
    venue: MatchingEngine,
    out: VenueOutput,
    inbound: VecDeque<(u64, Order)>,
    md_q: VecDeque<MarketData>,
    er_q: VecDeque<ExecReport>,
    entry_ns: u64,
    ack_ns: u64,
    md_ns: u64,
    md_limit: u64,
    md_made: u64,
    /// Control time of the last input the venue processed: its "now".
    venue_now: u64,
    adv: AdversarialConfig,
    adv_rng: SeededRng,
    ticks: Vec<i64>,
    crowd_actions: u64,
    /// Phantom levels to withdraw: (crowd action number, the cancel to inject).
    phantoms: VecDeque<(u64, MarketData)>,
    injected: u64,
    md_delivered: u64,
}

impl SimWorld {
    /// A world for `cfg` (instruments, venue latencies, generator); the crowd stops
    /// once it has caused `cfg.gen.events` market-data events.
    pub fn new(cfg: &Config) -> Self {
        let ticks: Vec<i64> = cfg.instruments.iter().map(|s| s.tick).collect();
        let max_orders = (cfg.gen.target_depth_orders as usize * 16 * ticks.len()).max(1 << 12);
        SimWorld {
            gen: CrowdGen::new(&cfg.gen, &cfg.instruments),
            venue: MatchingEngine::new(&ticks, max_orders, 8192),
            out: VenueOutput::with_capacity(4096),
            inbound: VecDeque::with_capacity(QUEUE_CAP),
            md_q: VecDeque::with_capacity(QUEUE_CAP),
            er_q: VecDeque::with_capacity(QUEUE_CAP),
            entry_ns: cfg.venue.entry_latency_ns,
            ack_ns: cfg.venue.ack_latency_ns,
            md_ns: cfg.venue.md_latency_ns,
            md_limit: cfg.gen.events,
            md_made: 0,
            venue_now: 0,
            adv: cfg.gen.adversarial.clone(),
            adv_rng: SeededRng::new(cfg.gen.seed ^ 0xADE5_A121_0000_0001),
            ticks,
            crowd_actions: 0,
            phantoms: VecDeque::with_capacity(1024),
            injected: 0,
            md_delivered: 0,
        }
    }

    /// Numbers the venue's orders from now on above OrderID `id` (see
    /// [`MatchingEngine::number_orders_after`]).
    pub fn number_orders_after(&mut self, id: u64) {
        self.venue.number_orders_after(id);
    }

    /// The matching engine (for inspection).
    pub fn venue(&self) -> &MatchingEngine {
        &self.venue
    }

    /// Market-data events delivered so far.
    pub fn md_delivered(&self) -> u64 {
        self.md_delivered
    }

    /// Whether the crowd has produced all its events and everything it and our
    /// orders caused has been delivered.
    pub fn is_idle(&self) -> bool {
        self.md_made >= self.md_limit && self.inbound.is_empty() && self.md_q.is_empty() && self.er_q.is_empty()
    }

    /// Corrupt records injected by the adversarial feed.
    pub fn injected(&self) -> u64 {
        self.injected
    }

    /// After a crowd action at `ts` on `instrument`: inject feed corruption into the
    /// venue's output, as a broken line handler or a bad upstream would.
    fn corrupt(&mut self, ts: u64, instrument: u32) {
        self.crowd_actions += 1;
        while self.phantoms.front().is_some_and(|(due, _)| *due <= self.crowd_actions) {
            let (_, mut m) = self.phantoms.pop_front().expect("front exists");
            m.header.ts_ns = ts;
            self.out.md.push(m);
        }
        let a = &self.adv;
        let r = &mut self.adv_rng;
        let tick = self.ticks[instrument as usize];
        let last = flags::LAST_IN_BATCH;
        let (bid, ask) = (
            self.venue.best(instrument, Side::Buy),
            self.venue.best(instrument, Side::Sell),
        );
        if let (true, Some((_, _)), Some((ap, _))) = (r.chance(a.crossed_prob), bid, ask) {
            // A bid above the best ask: the engine's book crosses until it is withdrawn.
            let px = ap + (1 + r.below(5) as i64) * tick;
            let id = u64::MAX - self.injected;
            let add = MarketData::new(MdAction::Add, instrument, Some(Side::Buy), ts, id, px, 100, last);
            self.out.md.push(add);
            if self.phantoms.len() < self.phantoms.capacity() {
                let cancel = MarketData {
                    header: foxtrot_engine::records::Header {
                        sub: MdAction::Cancel as u8,
                        ..add.header
                    },
                    ..add
                };
                self.phantoms.push_back((self.crowd_actions + 50, cancel));
            }
            self.injected += 1;
        }
        if let (true, Some((bp, _))) = (r.chance(a.bad_print_prob), bid) {
            let (px, qty) = match r.below(4) {
                0 => (bp / tick / 2 * tick, 100),
                1 => (bp / tick * 3 / 2 * tick, 100),
                2 => (if r.chance(0.5) { 0 } else { -bp }, 100),
                _ => (bp, i64::MAX / 4),
            };
            self.out.md.push(MarketData::new(
                MdAction::Trade,
                instrument,
                Some(Side::Buy),
                ts,
                0,
                px,
                qty,
                last,
            ));
            self.injected += 1;
        }
        if r.chance(a.garbage_prob) {
            let px = bid.map_or(tick * 1000, |(p, _)| p);
            let mut m = MarketData::new(MdAction::Add, instrument, Some(Side::Sell), ts, 0, px, 10, last);
            match r.below(6) {
                0 => m.px += tick / 2 + 1,
                1 => m.px = -m.px,
                2 => m.header.side = 7,
                3 => m.header.sub = 99,
                4 => m.header.instrument = self.ticks.len() as u32 + 7,
                _ => m.qty = -1_000_000,
            }
            self.out.md.push(m);
            self.injected += 1;
        }
    }

    fn crowd_ts(&self) -> Option<u64> {
        (self.md_made < self.md_limit).then(|| self.gen.peek_ts())
    }

    fn enqueue_outputs(&mut self, ts: u64) {
        self.venue_now = ts;
        self.md_made += self.out.md.len() as u64;
        for mut m in self.out.md.drain(..) {
            m.header.ts_ns = ts + self.md_ns;
            m.exch_ts_ns = ts;
            self.md_q.push_back(m);
        }
        for mut e in self.out.er.drain(..) {
            e.header.ts_ns = ts + self.ack_ns;
            e.transact_ts_ns = ts;
            self.er_q.push_back(e);
        }
    }

    fn run_crowd(&mut self) {
        let a = self.gen.next(&self.venue);
        let ts = a.ts_ns;
        self.out.clear();
        match a.action {
            CrowdAction::Limit {
                instrument,
                side,
                px,
                qty,
            } => {
                let o = NewOrder {
                    owner: CROWD,
                    cl_ord_id: 0,
                    instrument,
                    side,
                    ord_type: OrdType::Limit,
                    px,
                    qty,
                };
                self.venue.submit(&o, ts, &mut self.out);
                if let Some(add) = self
                    .out
                    .md
                    .iter()
                    .find(|m| m.action() == Some(foxtrot_engine::records::MdAction::Add))
                {
                    self.gen.on_rested(instrument, add.order_id);
                }
            }
            CrowdAction::Market { instrument, side, qty } => {
                let o = NewOrder {
                    owner: CROWD,
                    cl_ord_id: 0,
                    instrument,
                    side,
                    ord_type: OrdType::Market,
                    px: 0,
                    qty,
                };
                self.venue.submit(&o, ts, &mut self.out);
            }
            CrowdAction::Cancel { order_id, .. } => {
                self.venue.cancel_crowd(order_id, ts, &mut self.out);
            }
        }
        if let Some(first) = self.out.md.first_mut() {
            first.header.flags |= a.flags;
        }
        if self.adv.enabled {
            let instrument = match a.action {
                CrowdAction::Limit { instrument, .. }
                | CrowdAction::Market { instrument, .. }
                | CrowdAction::Cancel { instrument, .. } => instrument,
            };
            self.corrupt(ts, instrument);
        }
        self.enqueue_outputs(ts);
    }

    fn run_order(&mut self, ts: u64, o: Order) {
        self.out.clear();
        if o.action() == Some(OrderAction::MassCancel) {
            self.venue
                .mass_cancel_own(o.cl_ord_id, o.mass_cancel_instrument(), ts, &mut self.out);
            self.enqueue_outputs(ts);
            return;
        }
        let (Some(action), Some(side)) = (o.action(), o.side()) else {
            return;
        };
        match action {
            OrderAction::New => {
                let n = NewOrder {
                    owner: ENGINE,
                    cl_ord_id: o.cl_ord_id,
                    instrument: o.header.instrument,
                    side,
                    ord_type: o.ord_type().unwrap_or(OrdType::Limit),
                    px: o.px,
                    qty: o.qty,
                };
                self.venue.submit(&n, ts, &mut self.out);
            }
            OrderAction::Cancel => self.venue.cancel_own(o.cl_ord_id, o.orig_cl_ord_id, ts, &mut self.out),
            OrderAction::Replace => {
                self.venue
                    .replace_own(o.cl_ord_id, o.orig_cl_ord_id, o.px, o.qty, ts, &mut self.out)
            }
            OrderAction::MassCancel => {}
        }
        // Reports for requests the venue could not attribute carry the request's instrument.
        for e in self.out.er.iter_mut() {
            e.header.instrument = o.header.instrument;
        }
        self.enqueue_outputs(ts);
    }
}

impl VenueLink for SimWorld {
    fn poll(&mut self) -> Option<InputSlot> {
        match self.poll_before(u64::MAX) {
            Polled::Input(s) => Some(s),
            Polled::Exhausted | Polled::Blocked => None,
        }
    }

    fn feedback_delay(&self) -> Option<u64> {
        Some(self.entry_ns)
    }

    /// Merges as [`poll`](VenueLink::poll) does, but stops before any step later
    /// than `horizon`. Orders not yet sent arrive at or after `horizon` (their
    /// trigger's time plus the entry latency), and every tie at one instant is
    /// resolved in favour of what is already here, so each step taken is one a
    /// run that had already received those orders would take too; and the
    /// venue's "now" never passes `horizon`, so their arrival times are not
    /// clamped differently either.
    fn poll_before(&mut self, horizon: u64) -> Polled {
        loop {
            let t_md = self.md_q.front().map(|m| m.header.ts_ns);
            let t_er = self.er_q.front().map(|e| e.header.ts_ns);
            let t_crowd = self.crowd_ts();
            let t_order = self.inbound.front().map(|(t, _)| *t);
            let t_in = match (t_crowd, t_order) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let t_out = match (t_md, t_er) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(to) = t_out {
                if t_in.is_none_or(|ti| to <= ti) {
                    if to > horizon {
                        return Polled::Blocked;
                    }
                    // Ties: market data first (it was published before the report left).
                    if t_md == Some(to) {
                        let m = self.md_q.pop_front().expect("front exists");
                        self.md_delivered += 1;
                        return Polled::Input(InputSlot::from_md(&m));
                    }
                    let e = self.er_q.pop_front().expect("front exists");
                    return Polled::Input(InputSlot::from_exec(&e));
                }
            }
            if t_in.is_some_and(|ti| ti > horizon) {
                return Polled::Blocked;
            }
            match (t_crowd, t_order) {
                (None, None) => return Polled::Exhausted,
                // Ties: the crowd's action was on the wire first.
                (Some(c), Some(o)) if o < c => {
                    let (ts, ord) = self.inbound.pop_front().expect("front exists");
                    self.run_order(ts, ord);
                }
                (None, Some(_)) => {
                    let (ts, ord) = self.inbound.pop_front().expect("front exists");
                    self.run_order(ts, ord);
                }
                _ => self.run_crowd(),
            }
        }
    }

    /// Queues an order to reach the matching engine one entry latency after its
    /// control time — but never before the venue's "now": the venue may already have
    /// processed inputs later than the order's trigger (a timer fires at its
    /// deadline, after the crowd has moved on), and time at the venue cannot run
    /// backwards.
    fn send(&mut self, order: &Order, _wire: &[u8]) {
        let last_queued = self.inbound.back().map_or(0, |(t, _)| *t);
        let arrive = (order.header.ts_ns + self.entry_ns)
            .max(self.venue_now)
            .max(last_queued);
        self.inbound.push_back((arrive, *order));
    }
}
