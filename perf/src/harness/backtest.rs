//! The EMA-cross backtest of issue #20, timed with its answer checked, beside
//! the same strategy as a tight loop over the same data.
//!
//! Generates a seeded EUR/USD-like walk (`foxtrot_venue::gen::quote_walk`),
//! writes it as a compact market-data directory exactly as `foxtrot import`
//! does — its CSV text through the importer's reader — (not timed, as loading
//! is not for the peers), then, alternating in each round so the machine's
//! noise falls on all of them alike:
//!
//! - `tight, array`: the plain EMA cross over the quotes in memory — the floor;
//! - `tight, journal`: the same over the memory-mapped journal, decoded by
//!   `MdSource` into events — the floor with foxtrot's data path;
//! - `tight, rows`: the same reading the journal's quote rows
//!   (`MdSource::next_item`), not their events — the floor of a core that
//!   takes a quote as one input;
//! - `lean`: `FusedRun` + `TouchVenue` with only what the strategy needs (no
//!   belief, no drift sentry, no regime classifier, no timers) — `foxtrot
//!   replay`'s backtest;
//! - `full`: the same under the default pipeline (every feature, belief,
//!   regime, drift sentry, diary, timers).
//!
//! Every timed run of the first four must give the reference's answer
//! (orders, final position, PnL to the cent), or the harness stops: a fast
//! wrong backtest is not a figure. `full` is not held to it (its drift sentry
//! scales orders), and its orders are printed.

use super::common::{exit_if_missed, Target};
use foxtrot_engine::config::overrides::parse_with_sets;
use foxtrot_engine::journal::market_data::{MdItem, MdSource};
use foxtrot_engine::records::{flags::LAST_IN_BATCH, InstrumentSpec, MarketData, MdAction, Side};
use foxtrot_engine::runtime::FusedRun;
use foxtrot_engine::Config;
use foxtrot_feed::capture::MdWriter;
use foxtrot_feed::csv::{CsvItem, CsvOptions, CsvReader, CsvShape};
use foxtrot_venue::gen::quote_walk::{self, EmaCross, Quote, EMA_CROSS_SETS, FAST, PRICE_DECIMALS, QTY, SLOW};
use foxtrot_venue::touch::TouchVenue;
use std::path::Path;
use std::time::Instant;

/// What the strategy does not read, switched off.
const LEAN: [&str; 4] = [
    "belief.enabled=false",
    "belief.drift.enabled=false",
    "belief.regime.enabled=false",
    "timers.enabled=false",
];

/// One variant's result of one timed run.
struct Outcome {
    secs: f64,
    orders: u64,
    position: i64,
    /// Cash plus the position marked at the last mid, currency units.
    equity: f64,
}

impl Outcome {
    fn of(secs: f64, s: &EmaCross) -> Self {
        let a = s.answer();
        Outcome {
            secs,
            orders: a.orders,
            position: a.position,
            equity: a.pnl(PRICE_DECIMALS),
        }
    }
}

fn tight_array(quotes: &[Quote]) -> Outcome {
    let t = Instant::now();
    let mut s = EmaCross::new(FAST, SLOW, QTY, PRICE_DECIMALS);
    for q in std::hint::black_box(quotes) {
        s.on_quote(q.bid, q.ask);
    }
    let s = std::hint::black_box(s);
    Outcome::of(t.elapsed().as_secs_f64(), &s)
}

/// The strategy fed market-data events: a quote's bid side is held until
/// its ask side ends the batch.
struct FromEvents {
    s: EmaCross,
    bid: i64,
}

impl FromEvents {
    fn new() -> Self {
        FromEvents {
            s: EmaCross::new(FAST, SLOW, QTY, PRICE_DECIMALS),
            bid: 0,
        }
    }

    #[inline(always)]
    fn on_event(&mut self, m: &MarketData) {
        if m.action() != Some(MdAction::Quote) {
            return;
        }
        match m.side() {
            Some(Side::Buy) => self.bid = m.px,
            _ if m.header.flags & LAST_IN_BATCH != 0 => self.s.on_quote(self.bid, m.px),
            _ => {}
        }
    }
}

fn tight_journal(dir: &Path) -> Outcome {
    let t = Instant::now();
    let (_, src) = MdSource::open(dir).expect("the data just written opens");
    let mut f = FromEvents::new();
    for m in src {
        f.on_event(&m);
    }
    Outcome::of(t.elapsed().as_secs_f64(), &f.s)
}

fn tight_rows(dir: &Path) -> Outcome {
    let t = Instant::now();
    let (_, mut src) = MdSource::open(dir).expect("the data just written opens");
    let mut f = FromEvents::new();
    while let Some(item) = src.next_item() {
        match item {
            MdItem::Quote(q) => f.s.on_quote(q.bid, q.ask),
            MdItem::Event(m) => f.on_event(&m),
        }
    }
    Outcome::of(t.elapsed().as_secs_f64(), &f.s)
}

fn backtest(dir: &Path, cfg: &Config) -> Outcome {
    let t = Instant::now();
    let (_, src) = MdSource::open(dir).expect("the data just written opens");
    // As `foxtrot replay` runs it: untimed.
    let mut run = FusedRun::new(cfg, TouchVenue::new(cfg, src)).untimed();
    run.run_to_end();
    run.finish();
    let secs = t.elapsed().as_secs_f64();
    let s = run.summary();
    Outcome {
        secs,
        orders: run.venue().stats().orders,
        position: s.positions.first().map_or(0, |p| p.0),
        equity: s.pnl.equity,
    }
}

/// Writes `quotes` as `foxtrot import --format csv --tick 1` does: the walk as
/// CSV text read by the importer's reader, each row's events (or finding)
/// journalled compact under the backtest template with one instrument.
fn import(dir: &Path, quotes: &[Quote]) -> Config {
    let mut cfg = Config::default_backtest();
    cfg.instruments = vec![InstrumentSpec {
        symbol: "EURUSD".into(),
        price_decimals: PRICE_DECIMALS,
        tick: 1,
        qty_decimals: 0,
        lot: 1,
        ref_price: quotes.first().map_or(1, |q| q.bid.max(1)),
    }];
    cfg.check(Path::new("<foxtrot-perf backtest>"))
        .expect("the template takes the instrument");
    let text = quote_walk::to_csv(quotes);
    let mut o = CsvOptions::new(CsvShape::Quotes);
    o.price_decimals = PRICE_DECIMALS;
    let mut r = CsvReader::new(text.as_bytes(), o).expect("the walk's header");
    let mut w = MdWriter::create_compact(dir, &cfg).expect("creating the market-data directory");
    while let Some(item) = r.next_item().expect("the walk's rows read") {
        match item {
            CsvItem::Event(m) => w.append(&m),
            CsvItem::Finding(d) => w.append_quality(&d),
        }
        .expect("journalling a quote");
    }
    w.finish().expect("finishing the market-data directory");
    cfg
}

fn with_sets(cfg: &Config, sets: &[&str]) -> Config {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse_with_sets(&cfg.canonical_text(), &sets, Path::new("<foxtrot-perf backtest>"))
        .expect("the harness's settings are valid")
}

/// Median and best of `xs` (seconds); none when empty.
fn median_best(xs: &mut [f64]) -> Option<(f64, f64)> {
    xs.sort_by(f64::total_cmp);
    Some((*xs.get(xs.len() / 2)?, xs[0]))
}

pub fn run(a: &crate::BacktestArgs) {
    let quotes = quote_walk::eurusd(a.quotes as usize, a.seed);
    let want = quote_walk::ema_cross(&quotes, FAST, SLOW, QTY);
    if let Some(csv) = &a.csv {
        if let Err(e) = std::fs::write(csv, quote_walk::to_csv(&quotes)) {
            eprintln!("foxtrot-perf backtest: writing {}: {e}", csv.display());
            std::process::exit(1);
        }
    }
    let dir = a.dir.join(format!("foxtrot-perf-backtest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = import(&dir, &quotes);
    let lean = with_sets(&base, &[&EMA_CROSS_SETS[..], &LEAN[..]].concat());
    let full = with_sets(&base, &EMA_CROSS_SETS);
    const KEYS: [&str; 5] = ["tight-array", "tight-journal", "tight-rows", "lean", "full"];
    let names = [
        "tight, array",
        "tight, journal",
        "tight, rows",
        "lean backtest",
        "full pipeline",
    ];
    let on: Vec<bool> = KEYS
        .iter()
        .map(|k| a.only.is_empty() || a.only.iter().any(|o| o == k))
        .collect();
    let mut secs: [Vec<f64>; 5] = Default::default();
    let mut full_orders = 0;
    for _ in 0..a.runs {
        for k in (0..5).filter(|&k| on[k]) {
            let o = match k {
                0 => tight_array(&quotes),
                1 => tight_journal(&dir),
                2 => tight_rows(&dir),
                3 => backtest(&dir, &lean),
                _ => backtest(&dir, &full),
            };
            if k < 4 {
                let same = o.orders == want.orders
                    && o.position == want.position
                    && (o.equity - want.pnl(PRICE_DECIMALS)).abs() < 0.005;
                if !same {
                    let _ = std::fs::remove_dir_all(&dir);
                    eprintln!(
                        "foxtrot-perf backtest: {} answered {} orders, position {}, PnL {:.2}; the reference {} orders, position {}, PnL {:.2}",
                        names[k], o.orders, o.position, o.equity, want.orders, want.position, want.pnl(PRICE_DECIMALS)
                    );
                    std::process::exit(1);
                }
            } else {
                full_orders = o.orders;
            }
            secs[k].push(o.secs);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let n = quotes.len() as f64;
    let rates: Vec<Option<(f64, f64)>> = secs
        .iter_mut()
        .map(|s| {
            let (med, best) = median_best(s)?;
            Some((n / med, n / best))
        })
        .collect();
    // Issue #20's targets, for the median rate; the tight loops are floors, not held to one.
    let targets = [
        None,
        None,
        None,
        Some(Target::AtLeast(25e6)),
        Some(Target::AtLeast(5e6)),
    ];
    let met = |k: usize| Some(targets[k]?.met(rates[k]?.0));
    let all_met = (0..5).all(|k| met(k) != Some(false));
    let rate = |k: usize| {
        rates[k].map(|(m, b)| {
            let mut j = serde_json::json!({"median": m, "best": b});
            if let Some(t) = targets[k] {
                j["target"] = t.bound().into();
                j["met"] = met(k).into();
            }
            j
        })
    };
    if a.json {
        let j = serde_json::json!({
            "quotes": quotes.len(), "runs": a.runs,
            "answer": {"orders": want.orders, "position": want.position, "pnl": want.pnl(PRICE_DECIMALS)},
            "quotes_per_s": {
                "tight_array": rate(0), "tight_journal": rate(1), "tight_rows": rate(2), "lean": rate(3), "full": rate(4),
            },
            "full_orders": full_orders,
        });
        println!("{j}");
        return exit_if_missed(a.check, all_met, "backtest");
    }
    println!(
        "EMA-cross backtest, {} quotes, {} runs each (alternated); answer checked: {} orders, position {}, PnL {:.2}",
        quotes.len(),
        a.runs,
        want.orders,
        want.position,
        want.pnl(PRICE_DECIMALS)
    );
    for k in 0..5 {
        if let Some((med, best)) = rates[k] {
            let target = targets[k].map_or(String::new(), |t| {
                format!("target ≥ {}M/s: {}", t.bound() / 1e6, t.verdict(med))
            });
            println!(
                "  {:<15} median {:>7.2} M quotes/s  best {:>7.2} M/s  {target}",
                names[k],
                med / 1e6,
                best / 1e6,
            );
        }
    }
    if on[4] {
        println!(
            "  (full pipeline: {full_orders} orders; its drift sentry scales them, so it is not held to the answer)"
        );
    }
    exit_if_missed(a.check, all_met, "backtest");
}
