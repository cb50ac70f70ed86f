//! A synthetic ITCH 5.0 day, deterministic from a seed: what `foxtrot gen
//! --format itch` writes, and what the decoder tests and benchmarks read.
//!
//! The session has the shape of a real one: system events (start of messages,
//! system hours, market hours, and their ends), one stock directory per symbol,
//! an opening and a closing cross, and in between a flow of adds (a tenth with
//! attribution) whose lifetimes are log-uniform between 20 µs and 10 minutes, as
//! most orders on a lit book are cancelled within milliseconds and a few rest for
//! the day. When an order's time comes it is deleted (most often), partly
//! cancelled, replaced, or executed (in full or in part, `E`, or `C` at a better
//! price); now and then an aggressor sweeps the best level of one side (an `E`
//! for each order there) and the price moves through it; non-displayed trades
//! (`P`) and the odd other message (`Y`, `N`) are mixed in. Prices follow a random walk per symbol in whole
//! cents; a new bid is never at or above the best ask (and vice versa), so the
//! book is never crossed.
//!
//! Every message is built field by field with big-endian writes, independently of
//! the decoder's views, so the round trip tests something.

use foxtrot_engine::rng::SeededRng;
use std::collections::{BTreeMap, BinaryHeap};

/// Generator parameters.
#[derive(Clone, Debug)]
pub struct ItchGenConfig {
    /// Seed of everything.
    pub seed: u64,
    /// Messages to write (approximately: the closing messages come on top).
    pub messages: u64,
    /// Symbols, one locate each (1, 2, …).
    pub symbols: Vec<String>,
    /// Starting price of each symbol, `Price(4)`.
    pub start_price: u32,
    /// Mean time between messages, ns.
    pub mean_gap_ns: f64,
}

impl Default for ItchGenConfig {
    fn default() -> Self {
        ItchGenConfig {
            seed: 1,
            messages: 100_000,
            symbols: ["FOXA", "FOXB", "FOXC", "FOXD"].map(String::from).to_vec(),
            start_price: 100_0000,
            mean_gap_ns: 2_000.0,
        }
    }
}

const TICK: u32 = 100;
const OPEN_NS: u64 = 9 * 3_600_000_000_000 + 30 * 60_000_000_000;

struct Live {
    locate: u16,
    side: u8,
    price: u32,
    shares: u32,
}

struct SymbolState {
    mid: u32,
    /// Live orders per price, per side (to keep new orders off the far side).
    bids: BTreeMap<u32, Vec<u64>>,
    asks: BTreeMap<u32, Vec<u64>>,
}

/// The generator: call [`ItchGen::next_message`] until it returns `None`.
pub struct ItchGen {
    cfg: ItchGenConfig,
    rng: SeededRng,
    now: u64,
    written: u64,
    next_ref: u64,
    next_match: u64,
    tracking: u16,
    live: BTreeMap<u64, Live>,
    /// (Reverse(deadline), order ref): the next order whose time has come.
    due: BinaryHeap<(std::cmp::Reverse<u64>, u64)>,
    syms: Vec<SymbolState>,
    /// Opening messages not yet written.
    opening: Vec<Vec<u8>>,
    /// Messages of a sweep not yet written.
    pending: std::collections::VecDeque<Vec<u8>>,
    closing_done: bool,
}

fn head(out: &mut Vec<u8>, kind: u8, locate: u16, tracking: u16, ts: u64) {
    out.push(kind);
    out.extend_from_slice(&locate.to_be_bytes());
    out.extend_from_slice(&tracking.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes()[2..]);
}

fn stock(out: &mut Vec<u8>, s: &str) {
    let mut b = [b' '; 8];
    for (d, c) in b.iter_mut().zip(s.bytes()) {
        *d = c;
    }
    out.extend_from_slice(&b);
}

impl ItchGen {
    /// A generator for `cfg`.
    pub fn new(cfg: ItchGenConfig) -> Self {
        let syms = cfg
            .symbols
            .iter()
            .map(|_| SymbolState {
                mid: cfg.start_price,
                bids: BTreeMap::new(),
                asks: BTreeMap::new(),
            })
            .collect();
        let mut g = ItchGen {
            rng: SeededRng::new(cfg.seed),
            now: OPEN_NS - 1_000_000_000,
            written: 0,
            next_ref: 1,
            next_match: 1,
            tracking: 0,
            live: BTreeMap::new(),
            due: BinaryHeap::new(),
            syms,
            opening: Vec::new(),
            pending: std::collections::VecDeque::new(),
            closing_done: false,
            cfg,
        };
        let mut opening = vec![g.system_event(b'O'), g.system_event(b'S')];
        for i in 0..g.cfg.symbols.len() {
            opening.push(g.directory(i));
        }
        opening.push(g.system_event(b'Q'));
        for i in 0..g.cfg.symbols.len() {
            opening.push(g.cross(i, b'O'));
        }
        opening.reverse();
        g.opening = opening;
        g.now = OPEN_NS;
        g
    }

    fn track(&mut self) -> u16 {
        self.tracking = self.tracking.wrapping_add(1);
        self.tracking
    }

    fn system_event(&mut self, code: u8) -> Vec<u8> {
        let mut m = Vec::with_capacity(12);
        let t = self.track();
        head(&mut m, b'S', 0, t, self.now);
        m.push(code);
        m
    }

    fn directory(&mut self, i: usize) -> Vec<u8> {
        let mut m = Vec::with_capacity(39);
        let t = self.track();
        head(&mut m, b'R', i as u16 + 1, t, self.now);
        stock(&mut m, &self.cfg.symbols[i].clone());
        m.extend_from_slice(b"QN");
        m.extend_from_slice(&100u32.to_be_bytes());
        m.extend_from_slice(b"NCC PN 1N");
        m.extend_from_slice(&0u32.to_be_bytes());
        m.push(b'N');
        m
    }

    fn cross(&mut self, i: usize, kind: u8) -> Vec<u8> {
        let mut m = Vec::with_capacity(40);
        let t = self.track();
        head(&mut m, b'Q', i as u16 + 1, t, self.now);
        m.extend_from_slice(&(1_000 + self.rng.below(50_000)).to_be_bytes());
        stock(&mut m, &self.cfg.symbols[i].clone());
        m.extend_from_slice(&self.syms[i].mid.to_be_bytes());
        let mn = self.next_match;
        self.next_match += 1;
        m.extend_from_slice(&mn.to_be_bytes());
        m.push(kind);
        m
    }

    fn book_of(&mut self, i: usize, side: u8) -> &mut BTreeMap<u32, Vec<u64>> {
        if side == b'B' {
            &mut self.syms[i].bids
        } else {
            &mut self.syms[i].asks
        }
    }

    fn level_add(&mut self, i: usize, side: u8, price: u32, r: u64) {
        self.book_of(i, side).entry(price).or_default().push(r);
    }

    fn level_remove(&mut self, i: usize, side: u8, price: u32, r: u64) {
        let b = self.book_of(i, side);
        if let Some(v) = b.get_mut(&price) {
            if let Some(k) = v.iter().position(|x| *x == r) {
                v.swap_remove(k);
            }
            if v.is_empty() {
                b.remove(&price);
            }
        }
    }

    /// An aggressor takes out the best level of one side of a symbol: one `E`
    /// per resting order there (queued), and the mid moves through it.
    fn sweep(&mut self) {
        let i = self.rng.below(self.syms.len() as u64) as usize;
        let buy = self.rng.chance(0.5);
        let s = &self.syms[i];
        let level = if buy {
            s.asks.iter().next().map(|(p, v)| (*p, v.clone()))
        } else {
            s.bids.iter().next_back().map(|(p, v)| (*p, v.clone()))
        };
        let Some((price, refs)) = level else { return };
        let side = if buy { b'S' } else { b'B' };
        for r in refs {
            let Some(o) = self.live.remove(&r) else { continue };
            self.level_remove(i, side, price, r);
            let mut m = Vec::with_capacity(31);
            let t = self.track();
            head(&mut m, b'E', o.locate, t, self.now);
            m.extend_from_slice(&r.to_be_bytes());
            m.extend_from_slice(&o.shares.to_be_bytes());
            let mn = self.next_match;
            self.next_match += 1;
            m.extend_from_slice(&mn.to_be_bytes());
            self.pending.push_back(m);
        }
        self.syms[i].mid = price;
    }

    fn add(&mut self) -> Vec<u8> {
        let i = self.rng.below(self.syms.len() as u64) as usize;
        // Random walk of the mid, in cents.
        let s = &mut self.syms[i];
        if self.rng.chance(0.05) {
            s.mid = if self.rng.chance(0.5) {
                s.mid + TICK
            } else {
                s.mid.saturating_sub(TICK).max(10 * TICK)
            };
        }
        let side = if self.rng.chance(0.5) { b'B' } else { b'S' };
        let away = self.rng.geometric(0.35) as u32 * TICK;
        let s = &self.syms[i];
        let price = if side == b'B' {
            let p = s.mid.saturating_sub(TICK / 2 + away) / TICK * TICK;
            match s.asks.keys().next() {
                Some(&a) => p.min(a.saturating_sub(TICK)),
                None => p,
            }
            .max(TICK)
        } else {
            let p = (s.mid + TICK / 2 + away).div_ceil(TICK) * TICK;
            match s.bids.keys().next_back() {
                Some(&b) => p.max(b + TICK),
                None => p,
            }
        };
        let shares = (1 + self.rng.geometric(0.3) as u32) * 100;
        let r = self.next_ref;
        self.next_ref += 1;
        let lifetime = (20_000f64 * (3.0e7f64).powf(self.rng.uniform())) as u64; // 20 µs .. 10 min
        self.due.push((std::cmp::Reverse(self.now + lifetime), r));
        self.live.insert(
            r,
            Live {
                locate: i as u16 + 1,
                side,
                price,
                shares,
            },
        );
        self.level_add(i, side, price, r);
        let mpid = self.rng.chance(0.1);
        let mut m = Vec::with_capacity(40);
        let t = self.track();
        head(&mut m, if mpid { b'F' } else { b'A' }, i as u16 + 1, t, self.now);
        m.extend_from_slice(&r.to_be_bytes());
        m.push(side);
        m.extend_from_slice(&shares.to_be_bytes());
        stock(&mut m, &self.cfg.symbols[i].clone());
        m.extend_from_slice(&price.to_be_bytes());
        if mpid {
            m.extend_from_slice(b"FOXT");
        }
        m
    }

    /// The end (or a step towards it) of order `r`, whose time has come.
    fn finish(&mut self, r: u64) -> Option<Vec<u8>> {
        let o = self.live.get(&r)?;
        let (locate, side, price, shares) = (o.locate, o.side, o.price, o.shares);
        let i = locate as usize - 1;
        let t = self.track();
        let mut m = Vec::with_capacity(36);
        let roll = self.rng.uniform();
        if roll < 0.70 || shares <= 100 && roll < 0.8 {
            head(&mut m, b'D', locate, t, self.now);
            m.extend_from_slice(&r.to_be_bytes());
            self.live.remove(&r);
            self.level_remove(i, side, price, r);
        } else if roll < 0.80 {
            // Part cancel: the rest lives on a while.
            let cut = (shares / 200).max(1) * 100;
            head(&mut m, b'X', locate, t, self.now);
            m.extend_from_slice(&r.to_be_bytes());
            m.extend_from_slice(&cut.min(shares).to_be_bytes());
            self.after_reduce(r, i, side, price, shares, cut.min(shares));
        } else if roll < 0.88 {
            // Replace: new reference, new size, price a tick further away.
            let nr = self.next_ref;
            self.next_ref += 1;
            let np = if side == b'B' {
                price.saturating_sub(TICK).max(TICK)
            } else {
                price + TICK
            };
            let ns = shares + 100;
            head(&mut m, b'U', locate, t, self.now);
            m.extend_from_slice(&r.to_be_bytes());
            m.extend_from_slice(&nr.to_be_bytes());
            m.extend_from_slice(&ns.to_be_bytes());
            m.extend_from_slice(&np.to_be_bytes());
            self.live.remove(&r);
            self.level_remove(i, side, price, r);
            self.live.insert(
                nr,
                Live {
                    locate,
                    side,
                    price: np,
                    shares: ns,
                },
            );
            self.level_add(i, side, np, nr);
            let later = (50_000f64 * (1.0e6f64).powf(self.rng.uniform())) as u64;
            self.due.push((std::cmp::Reverse(self.now + later), nr));
        } else {
            let qty = if self.rng.chance(0.5) {
                shares
            } else {
                (shares / 200).max(1) * 100
            }
            .min(shares);
            let mn = self.next_match;
            self.next_match += 1;
            if self.rng.chance(0.15) {
                head(&mut m, b'C', locate, t, self.now);
                m.extend_from_slice(&r.to_be_bytes());
                m.extend_from_slice(&qty.to_be_bytes());
                m.extend_from_slice(&mn.to_be_bytes());
                m.push(if self.rng.chance(0.9) { b'Y' } else { b'N' });
                m.extend_from_slice(&price.to_be_bytes());
            } else {
                head(&mut m, b'E', locate, t, self.now);
                m.extend_from_slice(&r.to_be_bytes());
                m.extend_from_slice(&qty.to_be_bytes());
                m.extend_from_slice(&mn.to_be_bytes());
            }
            self.after_reduce(r, i, side, price, shares, qty);
        }
        Some(m)
    }

    fn after_reduce(&mut self, r: u64, i: usize, side: u8, price: u32, shares: u32, took: u32) {
        if took >= shares {
            self.live.remove(&r);
            self.level_remove(i, side, price, r);
        } else {
            if let Some(o) = self.live.get_mut(&r) {
                o.shares = shares - took;
            }
            let later = (50_000f64 * (1.0e6f64).powf(self.rng.uniform())) as u64;
            self.due.push((std::cmp::Reverse(self.now + later), r));
        }
    }

    fn odd(&mut self) -> Vec<u8> {
        let i = self.rng.below(self.syms.len() as u64) as usize;
        let locate = i as u16 + 1;
        let t = self.track();
        let mut m = Vec::with_capacity(50);
        match self.rng.below(4) {
            0 | 1 => {
                // A non-displayed trade.
                let side = if self.rng.chance(0.5) { b'B' } else { b'S' };
                head(&mut m, b'P', locate, t, self.now);
                m.extend_from_slice(&0u64.to_be_bytes());
                m.push(side);
                m.extend_from_slice(&((1 + self.rng.below(10) as u32) * 100).to_be_bytes());
                stock(&mut m, &self.cfg.symbols[i].clone());
                m.extend_from_slice(&self.syms[i].mid.to_be_bytes());
                let mn = self.next_match;
                self.next_match += 1;
                m.extend_from_slice(&mn.to_be_bytes());
            }
            2 => {
                head(&mut m, b'Y', locate, t, self.now);
                stock(&mut m, &self.cfg.symbols[i].clone());
                m.push(b'0');
            }
            _ => {
                head(&mut m, b'N', locate, t, self.now);
                stock(&mut m, &self.cfg.symbols[i].clone());
                m.push(b'B');
            }
        }
        m
    }

    /// The next message, or `None` once the day is over.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        if let Some(m) = self.opening.pop() {
            self.written += 1;
            return Some(m);
        }
        if self.written >= self.cfg.messages && self.pending.is_empty() {
            if self.closing_done {
                return self.opening.pop();
            }
            self.closing_done = true;
            let mut closing = Vec::new();
            for i in 0..self.cfg.symbols.len() {
                closing.push(self.cross(i, b'C'));
            }
            closing.push(self.system_event(b'M'));
            closing.push(self.system_event(b'E'));
            closing.push(self.system_event(b'C'));
            closing.reverse();
            self.opening = closing;
            return self.opening.pop();
        }
        self.written += 1;
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        self.now += 1 + self.rng.exponential(self.cfg.mean_gap_ns) as u64;
        if self.rng.chance(0.004) {
            self.sweep();
            if let Some(m) = self.pending.pop_front() {
                return Some(m);
            }
        }
        if let Some(&(std::cmp::Reverse(when), r)) = self.due.peek() {
            if when <= self.now {
                self.due.pop();
                if let Some(m) = self.finish(r) {
                    return Some(m);
                }
            }
        }
        if self.rng.chance(0.02) {
            return Some(self.odd());
        }
        Some(self.add())
    }

    /// Orders still live (for tests: the book's view must agree).
    pub fn live_orders(&self) -> usize {
        self.live.len()
    }
}

impl Iterator for ItchGen {
    type Item = Vec<u8>;
    fn next(&mut self) -> Option<Vec<u8>> {
        self.next_message()
    }
}
