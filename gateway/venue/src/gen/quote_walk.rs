//! A seeded walk of EUR/USD-like quotes, and the EMA-cross strategy written
//! plainly over it: the data and the independent answer that backtests are
//! held to (the reference test in `tools/tests/backtest.rs`, the
//! `foxtrot-perf backtest` harness).
//!
//! The quotes are in price units of 1e-5 (tick 1): spreads of 1–3 ticks, the
//! doubled mid moving by −2…+2 per quote, 5–50 ms apart, sizes 100,000–900,000.
//! The same seed gives the same quotes on every machine (a 64-bit LCG, no
//! floating point).

/// One quote: a bid and an ask with their sizes, at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// Nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Best bid, price units.
    pub bid: i64,
    /// Size at the bid.
    pub bid_size: i64,
    /// Best ask, price units.
    pub ask: i64,
    /// Size at the ask.
    pub ask_size: i64,
}

/// Price decimals of the walk's prices.
pub const PRICE_DECIMALS: u8 = 5;

/// `n` quotes from `seed`, starting 2026-01-05 14:30 UTC near 1.10000.
pub fn eurusd(n: usize, seed: u64) -> Vec<Quote> {
    eurusd_spreads(n, seed, [1, 1, 2, 3])
}

/// [`eurusd`] with each quote's spread in ticks drawn from `spreads` (a 0
/// gives locked quotes: bid = ask, as FX venues show them).
pub fn eurusd_spreads(n: usize, seed: u64, spreads: [i64; 4]) -> Vec<Quote> {
    let mut x = seed;
    let mut next = |m: u64| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let (mut mid2, mut t) = (220_000i64, 1_767_623_400_000_000_000u64);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        mid2 += [-1, 0, 0, 1][next(4) as usize] * [1, 1, 2][next(3) as usize];
        let spread = spreads[next(4) as usize];
        let bid = (mid2 - spread).div_euclid(2);
        t += 5_000_000 + next(45_000_000);
        let bid_size = (1 + next(9) as i64) * 100_000;
        let ask_size = (1 + next(9) as i64) * 100_000;
        out.push(Quote {
            ts_ns: t,
            bid,
            bid_size,
            ask: bid + spread,
            ask_size,
        });
    }
    out
}

/// The quotes as an import CSV (`timestamp,bid,bid_size,ask,ask_size`, ISO
/// times, prices with [`PRICE_DECIMALS`] decimals).
pub fn to_csv(quotes: &[Quote]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64 * quotes.len() + 40);
    out.push_str("timestamp,bid,bid_size,ask,ask_size\n");
    for q in quotes {
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{},{}.{:05},{},{}.{:05},{}",
            foxtrot_engine::format::calendar::iso8601(q.ts_ns),
            q.bid / 100_000,
            q.bid % 100_000,
            q.bid_size,
            q.ask / 100_000,
            q.ask % 100_000,
            q.ask_size
        );
    }
    out
}

/// The EMA cross of issue #20: spans 10 and 50, a target of ±100,000.
pub const FAST: u32 = 10;
/// See [`FAST`].
pub const SLOW: u32 = 50;
/// See [`FAST`].
pub const QTY: i64 = 100_000;

/// The `--set`s that make foxtrot's momentum policy [`ema_cross`]`(…, FAST,
/// SLOW, QTY)`, with risk limits that let a target be reached in one order and
/// never halt (a test holds them to the constants).
pub const EMA_CROSS_SETS: [&str; 9] = [
    "strategy.momentum.fast=10",
    "strategy.momentum.slow=50",
    "strategy.momentum.qty=100000",
    "risk.max_order_qty=200000",
    "risk.position_limit=100000",
    "risk.max_notional=1000000",
    "risk.max_gross=10000000",
    "risk.reduce_only_drawdown=1e9",
    "risk.halt_drawdown=1e9",
];

/// What the EMA cross did over a run of quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmaCrossAnswer {
    /// Market orders sent.
    pub orders: u64,
    /// Final position.
    pub position: i64,
    /// Cash plus the position marked at the final mid, in price units × 2
    /// (so half-tick mids stay exact) times quantity units.
    pub pnl_x2: i128,
}

impl EmaCrossAnswer {
    /// The PnL in currency units, for prices with `price_decimals` decimals.
    pub fn pnl(&self, price_decimals: u8) -> f64 {
        self.pnl_x2 as f64 / (2.0 * 10f64.powi(price_decimals as i32))
    }
}

/// The EMA cross written plainly: EMAs of the mid in f64 (the first mid
/// starts both, then `alpha = 2/(span+1)`); from the `slow`-th quote on, the
/// target is `+qty` while fast > slow and `−qty` while below (unchanged when
/// equal), reached at once by a market order filled at the far touch.
#[derive(Clone, Copy, Debug)]
pub struct EmaCross {
    alpha_fast: f64,
    alpha_slow: f64,
    slow: u32,
    qty: i64,
    fast_ema: f64,
    slow_ema: f64,
    seen: u32,
    target: i64,
    position: i64,
    cash_x2: i128,
    orders: u64,
    last: (i64, i64),
    scale: f64,
}

impl EmaCross {
    /// Spans `fast` and `slow`, order size `qty`, prices with `price_decimals`.
    pub fn new(fast: u32, slow: u32, qty: i64, price_decimals: u8) -> Self {
        EmaCross {
            alpha_fast: 2.0 / (fast as f64 + 1.0),
            alpha_slow: 2.0 / (slow as f64 + 1.0),
            slow,
            qty,
            fast_ema: 0.0,
            slow_ema: 0.0,
            seen: 0,
            target: 0,
            position: 0,
            cash_x2: 0,
            orders: 0,
            last: (0, 0),
            scale: 0.5 / 10f64.powi(price_decimals as i32),
        }
    }

    /// One quote.
    #[inline]
    pub fn on_quote(&mut self, bid: i64, ask: i64) {
        self.last = (bid, ask);
        let mid = (bid + ask) as f64 * self.scale;
        if self.seen == 0 {
            (self.fast_ema, self.slow_ema) = (mid, mid);
        } else {
            self.fast_ema += self.alpha_fast * (mid - self.fast_ema);
            self.slow_ema += self.alpha_slow * (mid - self.slow_ema);
        }
        self.seen = self.seen.saturating_add(1);
        if self.seen < self.slow {
            return;
        }
        if self.fast_ema > self.slow_ema {
            self.target = self.qty;
        } else if self.fast_ema < self.slow_ema {
            self.target = -self.qty;
        }
        if self.target != self.position {
            let q = self.target - self.position;
            self.cash_x2 -= 2 * q as i128 * if q > 0 { ask } else { bid } as i128;
            self.position = self.target;
            self.orders += 1;
        }
    }

    /// The answer so far, marked at the last quote's mid.
    pub fn answer(&self) -> EmaCrossAnswer {
        let (b, a) = self.last;
        EmaCrossAnswer {
            orders: self.orders,
            position: self.position,
            pnl_x2: self.cash_x2 + self.position as i128 * (b + a) as i128,
        }
    }
}

/// [`EmaCross`] over `quotes`.
pub fn ema_cross(quotes: &[Quote], fast: u32, slow: u32, qty: i64) -> EmaCrossAnswer {
    let mut s = EmaCross::new(fast, slow, qty, PRICE_DECIMALS);
    for q in quotes {
        s.on_quote(q.bid, q.ask);
    }
    s.answer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_is_seeded_and_on_its_grid() {
        let a = eurusd(1000, 7);
        assert_eq!(a, eurusd(1000, 7));
        assert_ne!(a, eurusd(1000, 8));
        for w in a.windows(2) {
            assert!(w[1].ts_ns > w[0].ts_ns);
        }
        assert!(a
            .iter()
            .all(|q| (1..=3).contains(&(q.ask - q.bid)) && q.bid_size > 0 && q.ask_size > 0));
    }

    /// A hand-computed case: mids 1, 1, 3, 3 (×1e-5 … here price decimals 0),
    /// spans 1 and 3 (alphas 1 and 0.5), slow = 2. Quote 2: fast 1 = slow 1,
    /// no target. Quote 3: fast 3 > slow 2 → buy 10 at the ask (4). Quote 4:
    /// fast 3 > slow 2.5, held. Marked at mid 3: −40 + 30 = −10.
    #[test]
    fn a_hand_computed_cross() {
        let mut s = EmaCross::new(1, 3, 10, 0);
        for (b, a) in [(0, 2), (0, 2), (2, 4), (2, 4)] {
            s.on_quote(b, a);
        }
        let got = s.answer();
        assert_eq!((got.orders, got.position), (1, 10));
        assert_eq!(got.pnl(0), -10.0);
    }

    #[test]
    fn the_settings_are_the_constants() {
        let set = |k: &str| EMA_CROSS_SETS.iter().find_map(|s| s.strip_prefix(k)?.strip_prefix('='));
        assert_eq!(set("strategy.momentum.fast"), Some(FAST.to_string().as_str()));
        assert_eq!(set("strategy.momentum.slow"), Some(SLOW.to_string().as_str()));
        assert_eq!(set("strategy.momentum.qty"), Some(QTY.to_string().as_str()));
    }

    #[test]
    fn csv_rows_carry_the_quotes() {
        let q = eurusd(3, 1);
        let text = to_csv(&q);
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 4);
        let f: Vec<&str> = rows[1].split(',').collect();
        assert_eq!(f[1].replace('.', "").parse::<i64>().unwrap(), q[0].bid);
        assert_eq!(f[4].parse::<i64>().unwrap(), q[0].ask_size);
    }

    /// A walk longer than the day it starts in goes on into the next: its
    /// times are the quotes' own (they were written as hour 24, 25, … of the
    /// first day, which the importer rightly refuses, past ~1.25M quotes).
    #[test]
    fn csv_times_cross_midnight() {
        let day = 86_400_000_000_000u64;
        let q = [Quote {
            ts_ns: 1_767_571_200_000_000_000 + day + 3_600_000_000_007,
            bid: 110_000,
            bid_size: 1,
            ask: 110_001,
            ask_size: 1,
        }];
        let text = to_csv(&q);
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("2026-01-06T01:00:00.000000007Z,"), "{row}");
        let ts = foxtrot_engine::format::calendar::parse_iso8601(row.split(',').next().unwrap().as_bytes());
        assert_eq!(ts, Ok(q[0].ts_ns));
    }
}
