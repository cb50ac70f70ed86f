//! A price-time-priority matching engine: the heart of the simulated venue.
//!
//! Each instrument has two sides; each side is a vector of price levels sorted so
//! the best level is *last* (pushing or popping the touch is O(1); a new level
//! deeper in the book is a binary search and a short `memmove`). Each level is a
//! FIFO of resting orders, linked through an arena of fixed capacity with a free
//! list, so the engine never allocates after construction: when the arena or a
//! side's level vector is full, the order is rejected with `Capacity`.
//!
//! Every state change is published twice: as market data (what everyone sees:
//! `Add`, `Cancel`, `Modify`, `Execute`, in the order they happened, the last one of
//! an action flagged `LAST_IN_BATCH`), and, for orders of the [`ENGINE`] owner, as
//! execution reports. Quantity is conserved: for every fill the aggressor's and the
//! resting order's filled quantities rise by the same amount.

use foxtrot_engine::records::{
    flags, ExecKind, ExecReport, MarketData, MassCancelScope, MdAction, OrdType, Side, VenueReject, LIQUIDITY_ADDED,
    LIQUIDITY_REMOVED,
};

/// Owner id of crowd (simulated third-party) orders: no execution reports.
pub const CROWD: u32 = 0;
/// Owner id of the engine's orders: execution reports are produced.
pub const ENGINE: u32 = 1;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, Default)]
struct Resting {
    id: u64,
    cl_ord_id: u64,
    owner: u32,
    instrument: u32,
    side: u8,
    live: bool,
    px: i64,
    qty: i64,
    cum: i64,
    next: u32,
    prev: u32,
}

impl Resting {
    fn leaves(&self) -> i64 {
        self.qty - self.cum
    }
}

#[derive(Clone, Copy, Debug)]
struct Level {
    px: i64,
    qty: i64,
    head: u32,
    tail: u32,
}

/// An order request to the matching engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// [`CROWD`] or [`ENGINE`].
    pub owner: u32,
    /// Client order id (engine orders), 0 for crowd orders.
    pub cl_ord_id: u64,
    /// Instrument id.
    pub instrument: u32,
    /// Side.
    pub side: Side,
    /// Limit or market.
    pub ord_type: OrdType,
    /// Limit price (ignored for market orders).
    pub px: i64,
    /// Quantity.
    pub qty: i64,
}

/// What one action produced. Cleared by the caller between actions.
#[derive(Default)]
pub struct VenueOutput {
    /// Market data, in the order it happened.
    pub md: Vec<MarketData>,
    /// Execution reports for [`ENGINE`] orders.
    pub er: Vec<ExecReport>,
}

impl VenueOutput {
    /// Buffers able to hold `n` records each without growing.
    pub fn with_capacity(n: usize) -> Self {
        VenueOutput {
            md: Vec::with_capacity(n),
            er: Vec::with_capacity(n),
        }
    }
    /// Empties both buffers, keeping their capacity.
    pub fn clear(&mut self) {
        self.md.clear();
        self.er.clear();
    }
}

/// Counters of what the venue did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VenueCounters {
    /// Orders accepted.
    pub orders: u64,
    /// Fills (one per resting order hit).
    pub fills: u64,
    /// Total filled quantity.
    pub filled_qty: i64,
    /// Cancels done.
    pub cancels: u64,
    /// Replaces done.
    pub replaces: u64,
    /// Requests rejected.
    pub rejects: u64,
}

/// The matching engine for a set of instruments.
pub struct MatchingEngine {
    /// Per instrument, per side (index by `Side::index`): levels, best last.
    sides: Vec<[Vec<Level>; 2]>,
    max_levels: usize,
    ticks: Vec<i64>,
    arena: Vec<Resting>,
    free: Vec<u32>,
    /// Open engine orders: (cl_ord_id, slot), oldest first.
    own: Vec<(u64, u32)>,
    next_gen: u64,
    counters: VenueCounters,
}

impl MatchingEngine {
    /// An engine for instruments with the given tick sizes, holding at most
    /// `max_orders` resting orders and `max_levels` levels per side.
    pub fn new(ticks: &[i64], max_orders: usize, max_levels: usize) -> Self {
        let max_orders = max_orders.clamp(1, NIL as usize - 1);
        MatchingEngine {
            sides: ticks
                .iter()
                .map(|_| [Vec::with_capacity(max_levels), Vec::with_capacity(max_levels)])
                .collect(),
            max_levels,
            ticks: ticks.to_vec(),
            arena: vec![Resting::default(); max_orders],
            free: (0..max_orders as u32).rev().collect(),
            own: Vec::with_capacity(1024),
            next_gen: 1,
            counters: VenueCounters::default(),
        }
    }

    /// Numbers every order from now on above `id`: its generation (the id's
    /// upper 32 bits) is never given again. A restarted venue calls it with
    /// the highest OrderID its session store reported, so an OrderID names one
    /// order over every life of the session (a new process otherwise starts
    /// again at generation 1 and reuses the ids of the orders before).
    pub fn number_orders_after(&mut self, id: u64) {
        self.next_gen = self.next_gen.max((id >> 32) + 1);
    }

    /// What the venue has done so far.
    pub fn counters(&self) -> &VenueCounters {
        &self.counters
    }

    /// Best price and total quantity of `side`.
    pub fn best(&self, instrument: u32, side: Side) -> Option<(i64, i64)> {
        self.sides.get(instrument as usize)?[side.index()]
            .last()
            .map(|l| (l.px, l.qty))
    }

    /// Levels of `side`, best first, as (price, quantity).
    pub fn levels(&self, instrument: u32, side: Side) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.sides[instrument as usize][side.index()]
            .iter()
            .rev()
            .map(|l| (l.px, l.qty))
    }

    /// Resting orders of one level, in time priority, as (order id, leaves).
    pub fn queue(&self, instrument: u32, side: Side, px: i64) -> Vec<(u64, i64)> {
        let mut v = Vec::new();
        if let Some(l) = self.sides[instrument as usize][side.index()]
            .iter()
            .find(|l| l.px == px)
        {
            let mut s = l.head;
            while s != NIL {
                let r = &self.arena[s as usize];
                v.push((r.id, r.leaves()));
                s = r.next;
            }
        }
        v
    }

    /// True while the order with venue id `id` rests in the book.
    pub fn is_live(&self, id: u64) -> bool {
        self.slot_of(id).is_some()
    }

    fn slot_of(&self, id: u64) -> Option<u32> {
        let slot = (id & 0xFFFF_FFFF) as usize;
        let r = self.arena.get(slot)?;
        (r.live && r.id == id).then_some(slot as u32)
    }

    fn er(&self, kind: ExecKind, r: &Resting, side: Side, ts: u64) -> ExecReport {
        let mut e = ExecReport::new(kind, r.instrument, side, ts);
        e.cl_ord_id = r.cl_ord_id;
        e.venue_order_id = r.id;
        e.order_px = r.px;
        e.order_qty = r.qty;
        e.cum_qty = r.cum;
        e.leaves_qty = if kind.is_terminal() { 0 } else { r.leaves() };
        // A market order rests at no price.
        e.ord_type = if r.px == 0 { OrdType::Market } else { OrdType::Limit } as u8;
        e
    }

    /// Rejects a new order (reported to the engine when it is the engine's).
    fn reject_new(&mut self, o: &NewOrder, reason: VenueReject, ts: u64, out: &mut VenueOutput) {
        self.counters.rejects += 1;
        if o.owner == ENGINE {
            let mut e = ExecReport::new(ExecKind::Rejected, o.instrument, o.side, ts);
            e.cl_ord_id = o.cl_ord_id;
            e.order_px = o.px;
            e.order_qty = o.qty;
            e.reason = reason as u8;
            e.ord_type = o.ord_type as u8;
            out.er.push(e);
        }
    }

    fn valid(&self, o: &NewOrder) -> Result<(), VenueReject> {
        let Some(&tick) = self.ticks.get(o.instrument as usize) else {
            return Err(VenueReject::UnknownInstrument);
        };
        if o.qty <= 0 || (o.ord_type == OrdType::Limit && (o.px <= 0 || o.px % tick != 0)) {
            return Err(VenueReject::InvalidPriceOrQty);
        }
        Ok(())
    }

    /// Submits a new order at control time `ts`: matches what crosses, rests a
    /// limit order's remainder, cancels a market order's remainder.
    pub fn submit(&mut self, o: &NewOrder, ts: u64, out: &mut VenueOutput) {
        let md_start = out.md.len();
        if let Err(r) = self.valid(o) {
            return self.reject_new(o, r, ts, out);
        }
        if self.free.is_empty() {
            return self.reject_new(o, VenueReject::Capacity, ts, out);
        }
        self.counters.orders += 1;
        let slot = self.free.pop().expect("checked non-empty");
        let id = (self.next_gen << 32) | slot as u64;
        self.next_gen += 1;
        let px = if o.ord_type == OrdType::Limit { o.px } else { 0 };
        self.arena[slot as usize] = Resting {
            id,
            cl_ord_id: o.cl_ord_id,
            owner: o.owner,
            instrument: o.instrument,
            side: o.side as u8,
            live: false,
            px,
            qty: o.qty,
            cum: 0,
            next: NIL,
            prev: NIL,
        };
        if o.owner == ENGINE {
            let r = self.arena[slot as usize];
            out.er.push(self.er(ExecKind::New, &r, o.side, ts));
        }
        self.sweep(slot, o.ord_type, ts, out);
        self.settle(slot, o.ord_type, ts, out);
        mark_last(out, md_start);
    }

    /// Rests what is left of `slot` (limit) or ends it (market).
    fn settle(&mut self, slot: u32, ord_type: OrdType, ts: u64, out: &mut VenueOutput) {
        let r = self.arena[slot as usize];
        let side = Side::from_u8(r.side).expect("sides are validated on entry");
        if r.leaves() == 0 {
            self.release(slot);
            return;
        }
        if ord_type == OrdType::Market || !self.link(slot) {
            // Market remainder (IOC) or no room to rest: the rest is cancelled.
            if r.owner == ENGINE {
                // Either way the order was accepted (reported New): what it
                // could not do is cancelled, never rejected after the fact.
                let mut e = self.er(ExecKind::Canceled, &r, side, ts);
                e.reason = if ord_type == OrdType::Market {
                    VenueReject::NoLiquidity
                } else {
                    VenueReject::Capacity
                } as u8;
                out.er.push(e);
            }
            self.release(slot);
            return;
        }
        out.md.push(MarketData::new(
            MdAction::Add,
            r.instrument,
            Some(side),
            ts,
            r.id,
            r.px,
            r.leaves(),
            0,
        ));
    }

    /// Matches `slot` as an aggressor against the opposite side.
    fn sweep(&mut self, slot: u32, ord_type: OrdType, ts: u64, out: &mut VenueOutput) {
        let agg = self.arena[slot as usize];
        let side = Side::from_u8(agg.side).expect("sides are validated on entry");
        let opp = side.opposite();
        let inst = agg.instrument as usize;
        loop {
            let a = self.arena[slot as usize];
            if a.leaves() == 0 {
                break;
            }
            let Some(level) = self.sides[inst][opp.index()].last().copied() else {
                break;
            };
            let crosses = ord_type == OrdType::Market
                || match side {
                    Side::Buy => a.px >= level.px,
                    Side::Sell => a.px <= level.px,
                };
            if !crosses {
                break;
            }
            let rs = level.head;
            let r = self.arena[rs as usize];
            let q = a.leaves().min(r.leaves());
            let px = level.px;
            self.arena[rs as usize].cum += q;
            self.arena[slot as usize].cum += q;
            self.sides[inst][opp.index()].last_mut().expect("level exists").qty -= q;
            self.counters.fills += 1;
            self.counters.filled_qty += q;
            out.md.push(MarketData::new(
                MdAction::Execute,
                r.instrument,
                Some(opp),
                ts,
                r.id,
                px,
                q,
                0,
            ));
            for (s, sd) in [(rs, opp), (slot, side)] {
                let o = self.arena[s as usize];
                if o.owner == ENGINE {
                    let kind = if o.leaves() == 0 {
                        ExecKind::Fill
                    } else {
                        ExecKind::PartialFill
                    };
                    let mut e = self.er(kind, &o, sd, ts);
                    e.last_px = px;
                    e.last_qty = q;
                    // The resting order made the market; the aggressor took it.
                    e.header.flags = if s == rs { LIQUIDITY_ADDED } else { LIQUIDITY_REMOVED };
                    out.er.push(e);
                }
            }
            if self.arena[rs as usize].leaves() == 0 {
                self.unlink(rs);
                self.release(rs);
            }
        }
    }

    /// Appends `slot` at the tail of its price level; false if the side is full.
    fn link(&mut self, slot: u32) -> bool {
        let r = self.arena[slot as usize];
        let side = Side::from_u8(r.side).expect("sides are validated on entry");
        let levels = &mut self.sides[r.instrument as usize][side.index()];
        // Sorted so the best is last: bids ascending, asks descending.
        let pos = match side {
            Side::Buy => levels.partition_point(|l| l.px < r.px),
            Side::Sell => levels.partition_point(|l| l.px > r.px),
        };
        let exists = pos < levels.len() && levels[pos].px == r.px;
        if !exists {
            if levels.len() >= self.max_levels {
                return false;
            }
            levels.insert(
                pos,
                Level {
                    px: r.px,
                    qty: 0,
                    head: NIL,
                    tail: NIL,
                },
            );
        }
        let l = &mut levels[pos];
        let tail = l.tail;
        l.qty += r.leaves();
        l.tail = slot;
        if tail == NIL {
            l.head = slot;
        }
        let a = &mut self.arena[slot as usize];
        a.prev = tail;
        a.next = NIL;
        a.live = true;
        if tail != NIL {
            self.arena[tail as usize].next = slot;
        }
        if r.owner == ENGINE {
            self.own.push((r.cl_ord_id, slot));
        }
        true
    }

    /// Removes `slot` from its level (the level goes when empty).
    fn unlink(&mut self, slot: u32) {
        let r = self.arena[slot as usize];
        debug_assert!(r.live, "only resting orders are unlinked");
        let side = Side::from_u8(r.side).expect("sides are validated on entry");
        let levels = &mut self.sides[r.instrument as usize][side.index()];
        let pos = match side {
            Side::Buy => levels.partition_point(|l| l.px < r.px),
            Side::Sell => levels.partition_point(|l| l.px > r.px),
        };
        debug_assert!(
            pos < levels.len() && levels[pos].px == r.px,
            "a resting order's level exists"
        );
        let l = &mut levels[pos];
        if r.prev == NIL {
            l.head = r.next;
        } else {
            self.arena[r.prev as usize].next = r.next;
        }
        if r.next == NIL {
            l.tail = r.prev;
        } else {
            self.arena[r.next as usize].prev = r.prev;
        }
        l.qty -= r.leaves();
        if l.head == NIL {
            levels.remove(pos);
        }
        let a = &mut self.arena[slot as usize];
        a.live = false;
        a.next = NIL;
        a.prev = NIL;
        if r.owner == ENGINE {
            if let Some(i) = self.own.iter().position(|&(_, s)| s == slot) {
                self.own.remove(i);
            }
        }
    }

    fn release(&mut self, slot: u32) {
        let a = &mut self.arena[slot as usize];
        a.live = false;
        a.id = 0;
        self.free.push(slot);
    }

    fn own_slot(&self, cl: u64) -> Option<u32> {
        self.own.iter().find(|&&(c, _)| c == cl).map(|&(_, s)| s)
    }

    /// Cancels a crowd order by venue id. Unknown or already gone: nothing happens
    /// (returns false).
    pub fn cancel_crowd(&mut self, id: u64, ts: u64, out: &mut VenueOutput) -> bool {
        let Some(slot) = self.slot_of(id) else { return false };
        let md_start = out.md.len();
        self.cancel_slot(slot, ts, out);
        mark_last(out, md_start);
        true
    }

    /// Takes a resting order out of its level and publishes the `Cancel` of its
    /// remaining quantity (the slot stays allocated).
    fn pull(&mut self, slot: u32, ts: u64, out: &mut VenueOutput) -> Resting {
        let r = self.arena[slot as usize];
        let side = Side::from_u8(r.side).expect("sides are validated on entry");
        self.unlink(slot);
        out.md.push(MarketData::new(
            MdAction::Cancel,
            r.instrument,
            Some(side),
            ts,
            r.id,
            r.px,
            r.leaves(),
            0,
        ));
        r
    }

    fn cancel_slot(&mut self, slot: u32, ts: u64, out: &mut VenueOutput) -> Resting {
        let r = self.pull(slot, ts, out);
        self.counters.cancels += 1;
        self.release(slot);
        r
    }

    /// Cancels the engine order `orig_cl` (request ClOrdID `cl`).
    pub fn cancel_own(&mut self, cl: u64, orig_cl: u64, ts: u64, out: &mut VenueOutput) {
        let md_start = out.md.len();
        match self.own_slot(orig_cl) {
            Some(slot) => {
                let r = self.cancel_slot(slot, ts, out);
                let side = Side::from_u8(r.side).expect("sides are validated on entry");
                let mut e = self.er(ExecKind::Canceled, &r, side, ts);
                e.cl_ord_id = cl;
                e.orig_cl_ord_id = orig_cl;
                out.er.push(e);
            }
            None => self.cancel_reject(None, cl, orig_cl, VenueReject::UnknownOrder, ts, out),
        }
        mark_last(out, md_start);
    }

    /// Cancels, for mass cancel request `cl`, every open engine order (of
    /// `instrument`, or of all), oldest first: each with its Canceled report
    /// (ClOrdID `cl`, OrigClOrdID the order's), then the request's
    /// [`ExecKind::MassCancelDone`] (its scope in `ord_type`, the orders
    /// cancelled in `order_qty`).
    pub fn mass_cancel_own(&mut self, cl: u64, instrument: Option<u32>, ts: u64, out: &mut VenueOutput) {
        let mut n = 0;
        let mut k = 0;
        while let Some(&(orig_cl, slot)) = self.own.get(k) {
            if instrument.is_some_and(|i| self.arena[slot as usize].instrument != i) {
                k += 1;
                continue;
            }
            // Cancelling takes the order out of `own`: the next is at `k`.
            self.cancel_own(cl, orig_cl, ts, out);
            n += 1;
        }
        let mut e = ExecReport::new(ExecKind::MassCancelDone, instrument.unwrap_or(0), Side::Buy, ts);
        e.cl_ord_id = cl;
        e.ord_type = match instrument {
            Some(_) => MassCancelScope::Instrument,
            None => MassCancelScope::All,
        } as u8;
        e.order_qty = n as i64;
        out.er.push(e);
    }

    /// Answers a cancel or replace request (ClOrdID `cl`, for `orig_cl`) with a
    /// cancel reject: of the working order `of`, whose state the reject
    /// carries (OrdStatus), or of an order it does not have.
    fn cancel_reject(
        &mut self,
        of: Option<&Resting>,
        cl: u64,
        orig_cl: u64,
        reason: VenueReject,
        ts: u64,
        out: &mut VenueOutput,
    ) {
        self.counters.rejects += 1;
        let mut e = match of {
            Some(r) => self.er(
                ExecKind::CancelRejected,
                r,
                Side::from_u8(r.side).unwrap_or(Side::Buy),
                ts,
            ),
            None => ExecReport::new(ExecKind::CancelRejected, 0, Side::Buy, ts),
        };
        e.cl_ord_id = cl;
        e.orig_cl_ord_id = orig_cl;
        e.reason = reason as u8;
        out.er.push(e);
    }

    /// Cancel/replace of the engine order `orig_cl` to price `px` and total quantity
    /// `qty` under the new ClOrdID `cl`. A pure size reduction at the same price keeps
    /// time priority (`Modify`); any other change loses it (the order is taken out
    /// and re-entered, matching if it now crosses).
    pub fn replace_own(&mut self, cl: u64, orig_cl: u64, px: i64, qty: i64, ts: u64, out: &mut VenueOutput) {
        let md_start = out.md.len();
        let Some(slot) = self.own_slot(orig_cl) else {
            return self.cancel_reject(None, cl, orig_cl, VenueReject::UnknownOrder, ts, out);
        };
        let r = self.arena[slot as usize];
        let side = Side::from_u8(r.side).expect("sides are validated on entry");
        let tick = self.ticks[r.instrument as usize];
        if qty <= r.cum || px <= 0 || px % tick != 0 {
            // The order stays working.
            return self.cancel_reject(Some(&r), cl, orig_cl, VenueReject::InvalidPriceOrQty, ts, out);
        }
        self.counters.replaces += 1;
        if px == r.px && qty <= r.qty {
            let delta = qty - r.qty;
            let a = &mut self.arena[slot as usize];
            a.qty = qty;
            a.cl_ord_id = cl;
            let levels = &mut self.sides[r.instrument as usize][side.index()];
            if let Some(l) = levels.iter_mut().find(|l| l.px == px) {
                l.qty += delta;
            }
            if let Some(e) = self.own.iter_mut().find(|(_, s)| *s == slot) {
                e.0 = cl;
            }
            if delta != 0 {
                out.md.push(MarketData::new(
                    MdAction::Modify,
                    r.instrument,
                    Some(side),
                    ts,
                    r.id,
                    px,
                    delta,
                    0,
                ));
            }
            let a = self.arena[slot as usize];
            let mut e = self.er(ExecKind::Replaced, &a, side, ts);
            e.orig_cl_ord_id = orig_cl;
            out.er.push(e);
        } else {
            self.pull(slot, ts, out);
            let a = &mut self.arena[slot as usize];
            a.px = px;
            a.qty = qty;
            a.cl_ord_id = cl;
            let a = *a;
            let mut e = self.er(ExecKind::Replaced, &a, side, ts);
            e.orig_cl_ord_id = orig_cl;
            out.er.push(e);
            self.sweep(slot, OrdType::Limit, ts, out);
            self.settle(slot, OrdType::Limit, ts, out);
        }
        mark_last(out, md_start);
    }
}

fn mark_last(out: &mut VenueOutput, md_start: usize) {
    if out.md.len() > md_start {
        if let Some(m) = out.md.last_mut() {
            m.header.flags |= flags::LAST_IN_BATCH;
        }
    }
}
