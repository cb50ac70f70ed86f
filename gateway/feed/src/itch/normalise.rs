//! ITCH messages → the engine's [`MarketData`] events.
//!
//! ITCH refers to a resting order by reference only once it is on the book
//! (executions, cancels, deletes, replaces carry no price, side or symbol), so the
//! normaliser keeps every live order of the subscribed instruments in an
//! [`OrderMap`] and emits self-contained order-level events, which the engine's
//! price-level [`Book`](foxtrot_engine::core::book::Book) aggregates:
//!
//! | ITCH | emitted |
//! |---|---|
//! | `A`, `F` add | `Add` at the order's price and side |
//! | `E` executed | `Execute` of the shares at the order's price |
//! | `C` executed with price | `Execute` at the order's resting price (the book loses those shares there), plus a `Trade` at the execution price when printable |
//! | `X` cancel | `Cancel` of the shares |
//! | `D` delete | `Cancel` of all shares left |
//! | `U` replace | `Cancel` of the old order's shares, `Add` of the new order |
//! | `P` trade (non-displayed) | `Trade`, aggressor = opposite of the resting side |
//! | `Q` cross | `Trade`, no side |
//! | `R` directory | maps the locate to an instrument when the symbol is subscribed |
//! | others | nothing |
//!
//! Prices stay in ITCH's `Price(4)` units (price_decimals 4; a cent is 100);
//! quantities are shares. Times are the day's midnight (`date_ns`) plus ITCH's
//! nanoseconds since midnight.
//!
//! Each message's last event carries `LAST_IN_BATCH` (the book is consistent
//! after it; the engine decides only on such events); a replace's cancel does not.
//!
//! Nothing here trusts the feed: a reference to an unknown order, a duplicate
//! reference, an execution or cancel larger than the order, a full order map, an
//! unknown side — each is a [`DataIssue`], counted, and the message is dropped or
//! clamped; none panics.

use super::msg::{self, Message};
use super::orders::{LiveOrder, OrderMap};
use crate::Error;
use foxtrot_engine::records::{flags, MarketData, MdAction, Side};

/// Every event but the first of a replace's pair ends its message: the book is
/// consistent after it, so the engine may decide on it.
const LAST: u8 = flags::LAST_IN_BATCH;

/// A data-quality finding while normalising one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataIssue {
    /// An execute/cancel/delete/replace names an order that is not live.
    UnknownOrder(u64),
    /// An add reuses a live reference.
    DuplicateOrder(u64),
    /// The order map is at its limit; the add was dropped.
    OrderMapFull,
    /// Executed or cancelled more shares than were resting; clamped.
    Overfill(u64),
    /// Side byte neither `B` nor `S`.
    BadSide(u8),
}

impl DataIssue {
    /// The issue as a data-quality finding: code `Book`, `a` = the order
    /// reference it is about (0 if none), `b` = where in the feed (`at`: an
    /// offset or a message number).
    pub fn finding(&self, at: i64) -> foxtrot_engine::records::DqEvent {
        let r = match *self {
            DataIssue::UnknownOrder(r) | DataIssue::DuplicateOrder(r) | DataIssue::Overfill(r) => r as i64,
            _ => 0,
        };
        foxtrot_engine::records::DqEvent::new(foxtrot_engine::records::DqCode::Book, u32::MAX, 0, r, at)
    }
}

/// Counters of one normaliser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ItchStats {
    /// Messages seen.
    pub messages: u64,
    /// Messages of unsubscribed instruments (or market-wide) skipped.
    pub filtered: u64,
    /// Events emitted.
    pub events: u64,
    /// Unknown order references.
    pub unknown_order: u64,
    /// Duplicate adds.
    pub duplicate_order: u64,
    /// Adds dropped for a full map.
    pub map_full: u64,
    /// Executions/cancels clamped.
    pub overfill: u64,
    /// Bad side bytes.
    pub bad_side: u64,
}

/// Which instruments to keep.
#[derive(Clone, Debug)]
pub enum Subscription {
    /// Every symbol, numbered in order of first appearance.
    All,
    /// These symbols; instrument `i` is the `i`-th.
    Symbols(Vec<String>),
}

/// The normaliser: see the module docs.
pub struct Normaliser {
    orders: OrderMap,
    /// Instrument of each locate (`u32::MAX`: not subscribed; `UNSEEN`: not yet
    /// decided).
    by_locate: Vec<u32>,
    sub: Subscription,
    /// Symbols of instruments `0..n`, in instrument order.
    symbols: Vec<String>,
    date_ns: u64,
    /// Time of the last message normalised.
    last_ts: u64,
    stats: ItchStats,
}

const SKIP: u32 = u32::MAX;
const UNSEEN: u32 = u32::MAX - 1;

impl Normaliser {
    /// A normaliser keeping `sub`, with room for `max_live` live orders, stamping
    /// times as `date_ns` + ITCH's time of day.
    pub fn new(sub: Subscription, max_live: usize, date_ns: u64) -> Self {
        let symbols = match &sub {
            Subscription::All => Vec::new(),
            Subscription::Symbols(s) => s.clone(),
        };
        Normaliser {
            orders: OrderMap::with_capacity(max_live),
            by_locate: vec![UNSEEN; 1 << 16],
            sub,
            symbols,
            date_ns,
            last_ts: date_ns,
            stats: ItchStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &ItchStats {
        &self.stats
    }

    /// Symbols of the instruments seen or subscribed, by instrument index.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The live orders.
    pub fn orders(&self) -> &OrderMap {
        &self.orders
    }

    /// Withdraws every live order: the session they were published in is over
    /// (its publisher restarted, and its book went with it). Calls `out` with a
    /// Cancel of each order's shares left, in order-reference order (never the
    /// table's), at the time of the last message, the last one ending the
    /// batch; forgets the locates (a new session tells them again, perhaps
    /// otherwise). Instrument numbers stay. Returns how many were withdrawn.
    /// Allocates the sorted list: a session change is a recovery, not the
    /// steady state.
    pub fn withdraw_all(&mut self, out: &mut impl FnMut(&MarketData)) -> usize {
        let mut live: Vec<LiveOrder> = self.orders.iter().copied().collect();
        live.sort_unstable_by_key(|o| o.order_ref);
        for (k, o) in live.iter().enumerate() {
            let side = if o.side == b'B' { Side::Buy } else { Side::Sell };
            let last = if k + 1 == live.len() { LAST } else { 0 };
            let md = MarketData::new(
                MdAction::Cancel,
                o.instrument,
                Some(side),
                self.last_ts,
                o.order_ref,
                o.price as i64,
                o.shares as i64,
                last,
            );
            self.stats.events += 1;
            out(&md);
        }
        self.orders.clear();
        self.by_locate.fill(UNSEEN);
        live.len()
    }

    /// The instrument of `locate`, deciding it from `stock` the first time.
    #[inline]
    fn instrument(&mut self, locate: u16, stock: Option<&[u8; 8]>) -> Option<u32> {
        let i = self.by_locate[locate as usize];
        if i < UNSEEN {
            return Some(i);
        }
        if i == SKIP {
            return None;
        }
        let stock = stock?;
        let sym = msg::symbol(stock);
        let inst = match &self.sub {
            Subscription::Symbols(s) => s.iter().position(|x| x == sym).map(|p| p as u32),
            Subscription::All => match self.symbols.iter().position(|x| x == sym) {
                Some(p) => Some(p as u32),
                None => {
                    self.symbols.push(sym.to_string());
                    Some(self.symbols.len() as u32 - 1)
                }
            },
        };
        self.by_locate[locate as usize] = inst.unwrap_or(SKIP);
        inst
    }

    fn side(&mut self, b: u8) -> Result<Side, DataIssue> {
        match b {
            b'B' => Ok(Side::Buy),
            b'S' => Ok(Side::Sell),
            other => {
                self.stats.bad_side += 1;
                Err(DataIssue::BadSide(other))
            }
        }
    }

    /// Normalises one message, calling `out` for each event (at most two).
    #[inline]
    pub fn on_message(&mut self, m: &Message<'_>, out: &mut impl FnMut(&MarketData)) -> Result<(), DataIssue> {
        self.stats.messages += 1;
        let head = m.head();
        let ts = self.date_ns.wrapping_add(head.timestamp());
        self.last_ts = ts;
        let locate = head.locate();
        let mut emit = |stats: &mut ItchStats, md: MarketData| {
            stats.events += 1;
            out(&md);
        };
        match *m {
            Message::AddOrder(a) | Message::AddOrderMpid(msg::AddOrderMpid { add: a, .. }) => {
                let Some(inst) = self.instrument(locate, Some(&a.stock)) else {
                    self.stats.filtered += 1;
                    return Ok(());
                };
                let side = self.side(a.side)?;
                let (r, px, qty) = (a.order_ref.get(), a.price.get(), a.shares.get());
                self.insert(r, inst, a.side, px, qty)?;
                emit(
                    &mut self.stats,
                    MarketData::new(MdAction::Add, inst, Some(side), ts, r, px as i64, qty as i64, LAST),
                );
            }
            Message::Executed(e) => {
                if self.by_locate[locate as usize] >= UNSEEN {
                    self.stats.filtered += 1;
                    return Ok(());
                }
                return self.reduce(e.order_ref.get(), e.shares.get(), MdAction::Execute, ts, &mut emit);
            }
            Message::ExecutedWithPrice(c) => {
                if self.by_locate[locate as usize] >= UNSEEN {
                    self.stats.filtered += 1;
                    return Ok(());
                }
                let r = c.order_ref.get();
                let resting = self.orders.get(r).copied();
                self.reduce(r, c.shares.get(), MdAction::Execute, ts, &mut emit)?;
                if let (Some(o), b'Y') = (resting, c.printable) {
                    let aggressor = if o.side == b'B' { Side::Sell } else { Side::Buy };
                    emit(
                        &mut self.stats,
                        MarketData::new(
                            MdAction::Trade,
                            o.instrument,
                            Some(aggressor),
                            ts,
                            0,
                            c.price.get() as i64,
                            c.shares.get() as i64,
                            LAST,
                        ),
                    );
                }
            }
            Message::Cancel(x) => {
                if self.by_locate[locate as usize] >= UNSEEN {
                    self.stats.filtered += 1;
                    return Ok(());
                }
                return self.reduce(x.order_ref.get(), x.shares.get(), MdAction::Cancel, ts, &mut emit);
            }
            Message::Delete(d) => {
                if self.by_locate[locate as usize] >= UNSEEN {
                    self.stats.filtered += 1;
                    return Ok(());
                }
                return self.reduce(d.order_ref.get(), u32::MAX, MdAction::Cancel, ts, &mut emit);
            }
            Message::Replace(u) => {
                if self.by_locate[locate as usize] >= UNSEEN {
                    self.stats.filtered += 1;
                    return Ok(());
                }
                let (old, new) = (u.orig_ref.get(), u.new_ref.get());
                let Some(o) = self.orders.remove(old) else {
                    self.stats.unknown_order += 1;
                    return Err(DataIssue::UnknownOrder(old));
                };
                let side = if o.side == b'B' { Side::Buy } else { Side::Sell };
                emit(
                    &mut self.stats,
                    MarketData::new(
                        MdAction::Cancel,
                        o.instrument,
                        Some(side),
                        ts,
                        old,
                        o.price as i64,
                        o.shares as i64,
                        0,
                    ),
                );
                let (px, qty) = (u.price.get(), u.shares.get());
                self.insert(new, o.instrument, o.side, px, qty)?;
                emit(
                    &mut self.stats,
                    MarketData::new(
                        MdAction::Add,
                        o.instrument,
                        Some(side),
                        ts,
                        new,
                        px as i64,
                        qty as i64,
                        LAST,
                    ),
                );
            }
            Message::Trade(p) => {
                let Some(inst) = self.instrument(locate, Some(&p.stock)) else {
                    self.stats.filtered += 1;
                    return Ok(());
                };
                let resting = self.side(p.side)?;
                let aggressor = if resting == Side::Buy { Side::Sell } else { Side::Buy };
                emit(
                    &mut self.stats,
                    MarketData::new(
                        MdAction::Trade,
                        inst,
                        Some(aggressor),
                        ts,
                        0,
                        p.price.get() as i64,
                        p.shares.get() as i64,
                        LAST,
                    ),
                );
            }
            Message::CrossTrade(q) => {
                let Some(inst) = self.instrument(locate, Some(&q.stock)) else {
                    self.stats.filtered += 1;
                    return Ok(());
                };
                let shares = q.shares.get().min(i64::MAX as u64) as i64;
                if shares > 0 {
                    emit(
                        &mut self.stats,
                        MarketData::new(MdAction::Trade, inst, None, ts, 0, q.price.get() as i64, shares, LAST),
                    );
                }
            }
            Message::StockDirectory(r) => {
                if self.instrument(locate, Some(&r.stock)).is_none() {
                    self.stats.filtered += 1;
                }
            }
            Message::SystemEvent(_) | Message::TradingAction(_) | Message::Other(_) => {
                self.stats.filtered += 1;
            }
        }
        Ok(())
    }

    /// Adds a live order, counting a refusal as the data issue it is.
    #[inline]
    fn insert(&mut self, r: u64, inst: u32, side: u8, px: u32, qty: u32) -> Result<(), DataIssue> {
        match self.orders.insert(r, inst, side, px, qty) {
            Ok(()) => Ok(()),
            Err(Error::DuplicateOrder(r)) => {
                self.stats.duplicate_order += 1;
                Err(DataIssue::DuplicateOrder(r))
            }
            // The map refuses only when full.
            Err(_) => {
                self.stats.map_full += 1;
                Err(DataIssue::OrderMapFull)
            }
        }
    }

    /// Takes `shares` (all for `u32::MAX`) off order `r`, emitting `action`.
    #[inline]
    fn reduce(
        &mut self,
        r: u64,
        shares: u32,
        action: MdAction,
        ts: u64,
        emit: &mut impl FnMut(&mut ItchStats, MarketData),
    ) -> Result<(), DataIssue> {
        let Some(o) = self.orders.get_mut(r) else {
            self.stats.unknown_order += 1;
            return Err(DataIssue::UnknownOrder(r));
        };
        let over = shares != u32::MAX && shares > o.shares;
        let take = shares.min(o.shares);
        o.shares -= take;
        let (inst, px, side, left) = (o.instrument, o.price, o.side, o.shares);
        if left == 0 {
            self.orders.remove(r);
        }
        let side = if side == b'B' { Side::Buy } else { Side::Sell };
        if take > 0 {
            emit(
                &mut self.stats,
                MarketData::new(action, inst, Some(side), ts, r, px as i64, take as i64, LAST),
            );
        }
        if over {
            self.stats.overfill += 1;
            return Err(DataIssue::Overfill(r));
        }
        Ok(())
    }
}
