//! Bring-your-own-data backtests through the command line: `foxtrot gen --format
//! csv|itch` → `foxtrot import` → `foxtrot replay` against the touch venue, with
//! the EMA-cross momentum policy trading market orders.

mod common;
mod external;

use common::{foxtrot, ok, tempdir, RemoveOnSuccess};
use foxtrot_venue::gen::quote_walk;

/// `foxtrot import --format csv CSV -o OUT EXTRA…`, whatever its outcome.
fn import_csv(csv: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    common::import_cmd(csv, "csv", out)
        .args(extra)
        .output()
        .expect("run foxtrot")
}

/// `foxtrot gen --format csv --events EVENTS` into `d/q.csv`, imported as
/// symbol FOXA into `d/md`; the two paths.
fn generated_day(d: &std::path::Path, events: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (csv, md) = (d.join("q.csv"), d.join("md"));
    ok(&[
        "gen",
        "--format",
        "csv",
        "--events",
        events,
        "-o",
        csv.to_str().unwrap(),
    ]);
    let out = import_csv(&csv, &md, &["--symbol", "FOXA"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (csv, md)
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.lines().last().unwrap()).unwrap()
}

#[test]
fn csv_quotes_backtest_deterministically_and_record_a_verifiable_run() {
    let d = tempdir("csv");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (csv, md) = generated_day(&d, "150000");
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    let a = json(&ok(&["replay", md.to_str().unwrap(), "--json"]));
    let b = json(&ok(&["replay", md.to_str().unwrap(), "--json"]));
    assert_eq!(a["market_data"].as_u64().unwrap() as usize, 2 * rows);
    assert!(a["orders"].as_u64().unwrap() > 10, "{a}");
    // Market orders only, each filled in full at the touch.
    assert_eq!(a["fills"], a["orders"]);
    assert_eq!(a["venue_rejects"], 0);
    for k in ["order_hash", "diary_hash", "fills", "equity"] {
        assert_eq!(a[k], b[k], "{k} differs between two runs");
    }
    // Recorded, the backtest is an ordinary run: replay --verify passes and
    // prints the same hashes.
    let rec = d.join("rec");
    ok(&["replay", md.to_str().unwrap(), "--out", rec.to_str().unwrap()]);
    let v = json(&ok(&["replay", rec.to_str().unwrap(), "--verify", "--json"]));
    assert_eq!(v["verified"], true);
    assert_eq!(v["order_hash"], a["order_hash"]);
    assert_eq!(v["diary_hash"], a["diary_hash"]);
    // --verify on imported data says why it cannot.
    let out = foxtrot(&["replay", md.to_str().unwrap(), "--verify"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a recorded run"));
}

#[test]
fn bad_csv_rows_are_named_and_can_be_skipped() {
    let d = tempdir("bad");
    let _cleanup = RemoveOnSuccess(d.clone());
    let csv = d.join("q.csv");
    std::fs::write(
        &csv,
        "timestamp,bid,bid_size,ask,ask_size\n\
         2026-01-05T14:30:00Z,10.00,5,10.01,5\n\
         2026-01-05T14:30:01Z,10.00,5,ten,5\n\
         2026-01-05T14:30:02Z,10.01,5,10.02,5\n",
    )
    .unwrap();
    let out = import_csv(&csv, &d.join("a"), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3, column 4 (ask): not a decimal number: \"ten\""),
        "{err}"
    );
    let out = import_csv(&csv, &d.join("b"), &["--skip-bad-rows"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("imported 4 market-data events") && s.contains("1 bad rows"),
        "{s}"
    );
    // A column mapping that does not exist names the header.
    let out = import_csv(&csv, &d.join("c"), &["--columns", "ts,b,bs,a,as"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("column \"ts\" not found in header"));
}

#[test]
fn an_itch_day_imports_and_backtests() {
    let d = tempdir("itch");
    let _cleanup = RemoveOnSuccess(d.clone());
    let f = d.join("day.itch");
    let md = d.join("md");
    ok(&[
        "gen",
        "--format",
        "itch",
        "--events",
        "100000",
        "-o",
        f.to_str().unwrap(),
    ]);
    let s = common::ok_cmd(common::import_cmd(&f, "itch", &md).args(["--symbols", "FOXA,FOXB"]));
    assert!(s.contains("imported"), "{s}");
    let a = json(&ok(&["replay", md.to_str().unwrap(), "--json"]));
    assert!(a["market_data"].as_u64().unwrap() > 50_000, "{a}");
    assert!(a["orders"].as_u64().unwrap() > 0, "{a}");
    assert_eq!(a, {
        let mut b = json(&ok(&["replay", md.to_str().unwrap(), "--json"]));
        b["wall_seconds"] = a["wall_seconds"].clone();
        for k in ["market_data_per_sec", "updates_per_sec"] {
            b[k] = a[k].clone();
        }
        b
    });
}

/// Data-quality findings are counted, printed and journalled beside the data:
/// a crossed quote, rows out of time order, a long silence, a price jump.
#[test]
fn import_journals_data_quality_findings() {
    let d = tempdir("dq");
    let _cleanup = RemoveOnSuccess(d.clone());
    let csv = d.join("q.csv");
    std::fs::write(
        &csv,
        "timestamp,bid,bid_size,ask,ask_size\n\
         2026-01-05T14:30:00Z,10.00,5,10.01,5\n\
         2026-01-05T14:30:01Z,10.02,5,10.01,5\n\
         2026-01-05T14:29:59Z,10.00,5,10.01,5\n\
         2026-01-05T14:40:00Z,12.00,5,12.01,5\n",
    )
    .unwrap();
    let md = d.join("md");
    let s = common::ok_cmd(&mut common::import_cmd(&csv, "csv", &md));
    assert!(s.contains("out_of_order 2, crossed 1, stale 1, price_jump 1"), "{s}");
    let cat = ok(&["journal", "cat", "--json", md.join("market_data").to_str().unwrap()]);
    let codes: Vec<String> = cat
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "data_quality")
        .map(|v| v["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        codes,
        ["crossed", "out_of_order", "out_of_order", "stale", "price_jump"]
    );
    // The journal's own times never go back (rows out of order keep theirs in
    // the payload), so seeking by time stays sound.
    let times: Vec<u64> = cat
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["ts_ns"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // The backtest passes over them and trades the data — without the crossed
    // row, which is a finding and not data.
    let a = json(&ok(&["replay", md.to_str().unwrap(), "--json"]));
    assert_eq!(a["market_data"], 6);
}

/// `quotes` as an import CSV in `d/eurusd.csv`, imported as EURUSD (5 price
/// decimals, tick 1) into `d/md`; the two paths.
fn import_walk(d: &std::path::Path, quotes: &[quote_walk::Quote]) -> (std::path::PathBuf, std::path::PathBuf) {
    let (csv, md) = (d.join("eurusd.csv"), d.join("md"));
    std::fs::write(&csv, quote_walk::to_csv(quotes)).unwrap();
    let out = import_csv(
        &csv,
        &md,
        &["--symbol", "EURUSD", "--price-decimals", "5", "--tick", "1"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (csv, md)
}

/// `foxtrot replay MD --json` with foxtrot's momentum policy as the
/// reference's EMA cross of spans `fast`/`slow` (and no drift sentry to scale
/// the order size), `extra` settings after: its orders, final position and PnL.
fn replay_ema(md: &std::path::Path, fast: u32, slow: u32, extra: &[String]) -> (u64, i64, f64) {
    let mut args = vec!["replay".to_string(), md.to_str().unwrap().to_string(), "--json".into()];
    let sets = quote_walk::EMA_CROSS_SETS
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("strategy.momentum.fast={fast}"),
            format!("strategy.momentum.slow={slow}"),
            "belief.drift.enabled=false".to_string(),
        ])
        .chain(extra.iter().cloned());
    for s in sets {
        args.extend(["--set".to_string(), s]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let j = json(&ok(&args));
    (
        j["orders"].as_u64().unwrap(),
        j["positions"]["EURUSD"]["position"].as_i64().unwrap(),
        j["equity"].as_f64().unwrap(),
    )
}

/// [`replay_ema`] with no extra settings, asserted to answer what the plain
/// reference gives over `quotes` — orders, final position, PnL to the cent.
fn replay_as_reference(md: &std::path::Path, quotes: &[quote_walk::Quote], fast: u32, slow: u32) -> (u64, i64, f64) {
    let (orders, pos, equity) = replay_ema(md, fast, slow, &[]);
    let want = quote_walk::ema_cross(quotes, fast, slow, quote_walk::QTY);
    assert!(want.orders > 1000, "a meaningful test trades: {}", want.orders);
    assert_eq!((orders, pos), (want.orders, want.position), "spans {fast}/{slow}");
    let reference = want.pnl(quote_walk::PRICE_DECIMALS);
    assert!(
        (equity - reference).abs() < 0.005,
        "spans {fast}/{slow}: PnL {equity} vs the reference's {reference}"
    );
    (orders, pos, equity)
}

/// Asserts hftbacktest's result `r` is foxtrot's (orders, position, PnL to the cent).
fn assert_peer_agrees(r: &serde_json::Value, (orders, pos, equity): (u64, i64, f64), what: &str) {
    assert_eq!(r["orders"].as_u64(), Some(orders), "{what}: hftbacktest {r}");
    assert_eq!(r["position"].as_f64(), Some(pos as f64), "{what}: hftbacktest {r}");
    let e = r["equity"].as_f64().unwrap();
    assert!(
        (e - equity).abs() < 0.005,
        "{what}: hftbacktest's PnL {e}, foxtrot's {equity}"
    );
}

/// `FOXTROT_EMA_QUOTES`, else 1,000,000.
fn ema_quotes() -> usize {
    std::env::var("FOXTROT_EMA_QUOTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// The EMA-cross backtest of the issue, against a plain reference over
/// 1,000,000 quotes, as issue #20 asks (`FOXTROT_EMA_QUOTES` for another
/// count, `FOXTROT_SEED` for another walk; ~3.5 s here): the same number of orders, final position and PnL to
/// the cent. Decisions on the f32 EMAs fail it (close crosses read as equal or
/// late).
#[test]
fn ema_cross_backtest_agrees_with_a_plain_reference() {
    let d = tempdir("ema-ref");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let n = ema_quotes();
    let quotes = quote_walk::eurusd(n, common::seed(7));
    let (_, md) = import_walk(&d, &quotes);
    let (orders, pos, pnl) = replay_as_reference(&md, &quotes, quote_walk::FAST, quote_walk::SLOW);
    println!("{n} quotes: {orders} orders, final position {pos}, PnL {pnl:.2}: foxtrot and the reference agree");
}

/// The drift sentry of the backtest template scales a strategy's orders down
/// on its alarms; a backtest it did that to says so, in its text and its
/// JSON, with the switch that turns it off — before, the EMA cross of issue
/// #20 answered a sixteenth of the reference's final position with nothing
/// printed about why. Its final position is the strategy's size times the
/// factor it reports; with the sentry off there is no such line and the
/// answer is the reference's.
#[test]
fn a_backtest_the_drift_sentry_scaled_says_so() {
    let d = tempdir("ema-drift");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let quotes = quote_walk::eurusd(200_000, common::seed(11));
    let (_, md) = import_walk(&d, &quotes);
    let mut args = vec!["replay".to_string(), md.to_str().unwrap().to_string()];
    for s in quote_walk::EMA_CROSS_SETS {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    let run = |extra: &[&str]| {
        let a: Vec<&str> = args.iter().map(String::as_str).chain(extra.iter().copied()).collect();
        ok(&a)
    };
    let text = run(&[]);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("drift sentry"))
        .unwrap_or_else(|| panic!("no drift sentry line:\n{text}"));
    assert!(line.contains("belief.drift.enabled=false"), "{line}");
    let j = json(&run(&["--json"]));
    let drift = &j["drift"];
    let alarms = drift["alarms"].as_u64().unwrap();
    let sized = drift["orders_sized_down"].as_u64().unwrap();
    let factor = drift["size_factor"]["EURUSD"].as_f64().unwrap();
    assert!(alarms > 0 && sized > 0 && factor < 1.0, "{drift}");
    assert!(sized <= j["orders"].as_u64().unwrap(), "{j}");
    assert!(
        line.contains(&format!("{alarms} alarms")) && line.contains(&format!("{sized} orders")),
        "{line}"
    );
    // Smaller than the strategy's, and no smaller than the factor it ended at.
    let pos = j["positions"]["EURUSD"]["position"].as_i64().unwrap().unsigned_abs() as f64;
    let qty = quote_walk::QTY as f64;
    assert!(pos < qty && pos >= qty * factor, "{j}");
    // Off: nothing scaled, nothing said, the reference's answer.
    let off = run(&["--set", "belief.drift.enabled=false"]);
    assert!(!off.contains("drift sentry"), "{off}");
    let j = json(&run(&["--set", "belief.drift.enabled=false", "--json"]));
    assert_eq!(
        (j["drift"]["alarms"].as_u64(), j["drift"]["orders_sized_down"].as_u64()),
        (Some(0), Some(0))
    );
    let want = quote_walk::ema_cross(&quotes, quote_walk::FAST, quote_walk::SLOW, quote_walk::QTY);
    assert_eq!(
        (
            j["orders"].as_u64().unwrap(),
            j["positions"]["EURUSD"]["position"].as_i64().unwrap()
        ),
        (want.orders, want.position)
    );
}

/// A backtest whose orders a limit of the template refused names the limit
/// beside the count (the researcher: ±100,000 against the template's
/// `max_order_qty` of 1,000, every order refused, and nothing to say which
/// key to raise); raised, the orders pass.
#[test]
fn risk_rejects_name_the_limit_that_refused_them() {
    let d = tempdir("ema-limits");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let quotes = quote_walk::eurusd(20_000, common::seed(17));
    let (_, md) = import_walk(&d, &quotes);
    let md = md.to_str().unwrap();
    let text = ok(&["replay", md, "--set", "strategy.momentum.qty=100000"]);
    let line = text.lines().find(|l| l.contains("risk rejects")).unwrap();
    assert!(
        line.contains("MAX_ORDER_QTY=") && line.contains("(limits: risk.max_order_qty 1000)"),
        "{line}"
    );
    let j = json(&ok(&["replay", md, "--set", "strategy.momentum.qty=100000", "--json"]));
    assert_eq!(j["orders"], 0, "{j}");
    let raised = ok(&[
        "replay",
        md,
        "--set",
        "strategy.momentum.qty=100000",
        "--set",
        "risk.max_order_qty=200000",
    ]);
    let line = raised.lines().find(|l| l.contains("risk rejects")).unwrap();
    assert!(!line.contains("MAX_ORDER_QTY"), "{line}");
}

/// FX tick files often carry no sizes (`timestamp,bid,ask`): such a file
/// imports (each side quoted at one unit, said on stdout) and the EMA cross,
/// which reads only prices, answers the reference's orders, position and PnL
/// over it. Before, the import stopped at its header ("bid_size" not found).
#[test]
fn quotes_without_sizes_import_and_backtest_to_the_reference() {
    let d = tempdir("ema-sizeless");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let quotes = quote_walk::eurusd(200_000, common::seed(13));
    let full = quote_walk::to_csv(&quotes);
    let mut text = String::from("timestamp,bid,ask\n");
    for l in full.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        text += &format!("{},{},{}\n", f[0], f[1], f[3]);
    }
    let (csv, md) = (d.join("eurusd.csv"), d.join("md"));
    std::fs::write(&csv, text).unwrap();
    let out = import_csv(&csv, &md, &["--symbol", "EURUSD", "--price-decimals", "5"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("no size columns"), "{said}");
    replay_as_reference(&md, &quotes, quote_walk::FAST, quote_walk::SLOW);
}

/// Locked quotes (bid = ask: FX venues and consolidated feeds show them) are
/// prices: the mid the EMAs take and the mark. A walk where a quarter of the
/// quotes are locked, against the plain reference (which takes every quote's
/// mid): the same orders, position and PnL to the cent. Skipping locked books
/// as decision points (the code before) made 4,369 orders where the reference
/// makes 5,981; marking at the last unlocked mid leaves the PnL off by half the
/// last spread times the position. (hftbacktest's depth cannot hold a locked
/// top of book — a bid at the ask's price removes the ask — so it is not the
/// peer here.)
#[test]
fn ema_cross_takes_locked_quotes_as_prices() {
    let d = tempdir("ema-locked");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let mut quotes = quote_walk::eurusd_spreads(200_000, 5, [0, 1, 2, 3]);
    // It ends locked, so the final mark is a locked book's.
    let last = *quotes.last().unwrap();
    quotes.push(quote_walk::Quote {
        ts_ns: last.ts_ns + 10_000_000,
        bid: last.ask,
        ..last
    });
    let locked = quotes.iter().filter(|q| q.bid == q.ask).count();
    assert!(locked > 40_000, "a quarter locked: {locked}");
    let (_, md) = import_walk(&d, &quotes);
    replay_as_reference(&md, &quotes, quote_walk::FAST, quote_walk::SLOW);
}

/// The same EMA cross run by a peer backtester, hftbacktest 2.4.4 (the version
/// issue #20 compared against), over the same CSV: its own market depth,
/// exchange model (market orders filled at the touch), position and balance
/// (`tests/hftbacktest_ema.py`). Over 1,000,000 quotes of another walk than
/// the reference test's (`FOXTROT_EMA_QUOTES` for another count,
/// `FOXTROT_SEED` for another walk; ~25 s here, most of it the peer reading
/// the CSV), with the spans and faster
/// ones (more crosses, more near-ties), foxtrot, the plain reference and both
/// of hftbacktest's depths answer the same orders, final position and PnL to
/// the cent; and with constant order and feed latencies, foxtrot's `constant`
/// model and hftbacktest's `ConstantLatency` do too, as do the `interpolated`
/// model and `IntpOrderLatency` with recorded order latencies.
#[test]
#[cfg_attr(
    not(has_py_hftbacktest),
    ignore = "needs the Python package hftbacktest: bash .ci/run installs it"
)]
fn ema_cross_backtest_agrees_with_hftbacktest() {
    if !external::python_module("hftbacktest") {
        return;
    }
    let d = tempdir("ema-hftbacktest");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let n = ema_quotes();
    let quotes = quote_walk::eurusd(n, common::seed(3));
    let (csv, md) = import_walk(&d, &quotes);
    let spans = [(quote_walk::FAST, quote_walk::SLOW), (5, 20)];
    let peer = |args: &[String]| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hftbacktest_ema.py");
        let out = std::process::Command::new("python3")
            .arg(script)
            .arg(&csv)
            .args(["--qty", &quote_walk::QTY.to_string()])
            .args(["--price-decimals", &quote_walk::PRICE_DECIMALS.to_string()])
            .args(args)
            .output()
            .expect("python3");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let peer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(peer["quotes"].as_u64(), Some(n as u64), "{peer}");
        peer
    };
    let mut args: Vec<String> = ["--depth", "hashmap", "--depth", "roivec"].map(String::from).to_vec();
    for (f, s) in spans {
        args.extend(["--params".to_string(), format!("{f},{s}")]);
    }
    let peer_at_the_touch = peer(&args);
    for (fast, slow) in spans {
        let (orders, pos, equity) = replay_as_reference(&md, &quotes, fast, slow);
        let theirs: Vec<&serde_json::Value> = peer_at_the_touch["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["fast"] == fast && r["slow"] == slow)
            .collect();
        assert_eq!(theirs.len(), 2, "both depths ran: {peer_at_the_touch}");
        for r in theirs {
            assert_peer_agrees(r, (orders, pos, equity), &format!("spans {fast}/{slow}"));
        }
        println!("{n} quotes, spans {fast}/{slow}: {orders} orders, position {pos}, PnL {equity:.2}: foxtrot, the reference and hftbacktest agree");
    }
    // The constant latency model against hftbacktest's `ConstantLatency` and a
    // feed latency: entry 7 ms, response 45 ms, feed 9 ms — longer than the
    // 5–50 ms between quotes, so orders meet later quotes than they were
    // decided on, and the strategy holds while one is out.
    let (entry, response, feed) = (7_000_000u64, 45_000_000u64, 9_000_000u64);
    let theirs = peer(&[
        "--depth".into(),
        "roivec".into(),
        "--latency".into(),
        format!("{entry},{response}"),
        "--feed-ns".into(),
        feed.to_string(),
    ]);
    let r = &theirs["results"][0];
    let (orders, pos, equity) = replay_ema(
        &md,
        quote_walk::FAST,
        quote_walk::SLOW,
        &[
            "venue.fill_model.latency=constant".into(),
            format!("venue.entry_latency_ns={entry}"),
            format!("venue.ack_latency_ns={response}"),
            format!("venue.md_latency_ns={feed}"),
        ],
    );
    let at_the_touch = quote_walk::ema_cross(&quotes, quote_walk::FAST, quote_walk::SLOW, quote_walk::QTY);
    assert_ne!(orders, at_the_touch.orders, "the latencies change the orders");
    assert_peer_agrees(r, (orders, pos, equity), "with latencies");
    println!("{n} quotes, entry/response/feed latency 7/45/9 ms: {orders} orders, position {pos}, PnL {equity:.2}: foxtrot and hftbacktest agree");
    // The interpolated model against hftbacktest's `IntpOrderLatency`: recorded
    // orders every 5 s over the walk, entry 2–40 ms, response 1–200 ms (a
    // seeded draw), the times they reached the venue increasing.
    let lat = d.join("latency.csv");
    let (mut rng, mut text, mut e) = (
        foxtrot_engine::rng::SeededRng::new(11),
        String::from("ts_ns,entry_ns,response_ns\n"),
        20_000_000i64,
    );
    let mut draw = |m: u64| rng.below(m);
    let (first, last) = (quotes[0].ts_ns, quotes[quotes.len() - 1].ts_ns);
    for ts in (first..=last + 5_000_000_000).step_by(5_000_000_000) {
        e = (e + draw(30_000_000) as i64 - 15_000_000).clamp(2_000_000, 40_000_000);
        text += &format!("{ts},{e},{}\n", 1_000_000 + draw(199_000_000));
    }
    std::fs::write(&lat, text).unwrap();
    let theirs = peer(&[
        "--depth".into(),
        "roivec".into(),
        "--latency-file".into(),
        lat.to_str().unwrap().into(),
    ]);
    let (orders, pos, equity) = replay_ema(
        &md,
        quote_walk::FAST,
        quote_walk::SLOW,
        &[
            "venue.fill_model.latency=interpolated".into(),
            format!("venue.fill_model.latency_file={}", lat.display()),
            "venue.md_latency_ns=0".into(),
        ],
    );
    assert_ne!(orders, at_the_touch.orders, "the latencies change the orders");
    assert_peer_agrees(&theirs["results"][0], (orders, pos, equity), "interpolated latencies");
    println!("{n} quotes, interpolated order latencies: {orders} orders, position {pos}, PnL {equity:.2}: foxtrot and hftbacktest agree");
}

/// Fees: the same backtest with and without a schedule sends the same orders,
/// and its equity is lower by exactly the fees a hand computation over the
/// recorded fills gives (equal maker and taker rates, so the liquidity each
/// fill took or added does not matter here; the split is unit-tested in the
/// risk engine and the touch venue). The report shows them per instrument.
#[test]
fn a_fee_schedule_costs_what_the_fills_say() {
    let d = tempdir("fees");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (_, md) = generated_day(&d, "40000");
    let plain = json(&ok(&["replay", md.to_str().unwrap(), "--json"]));
    let run = d.join("run");
    let fees = "risk.fees=[{symbol: FOXA, maker_bps: 1.5, taker_bps: 1.5, per_unit: 0.002}]";
    let charged = json(&ok(&[
        "replay",
        md.to_str().unwrap(),
        "--set",
        fees,
        "--out",
        run.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(plain["order_hash"], charged["order_hash"], "fees changed the orders");
    assert!(charged["fills"].as_u64().unwrap() > 10, "{charged}");
    // By hand, from the recorded fills: 1.5 bp of each fill's notional plus
    // 0.002 a unit (the CSV's prices have 4 decimals, its sizes none).
    let cat = ok(&["journal", "cat", "--json", run.join("inputs").to_str().unwrap()]);
    let mut by_hand = 0.0;
    for l in cat.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["type"] == "exec_report" && v["last_qty"].as_i64().unwrap_or(0) > 0 {
            let (px, qty) = (
                v["last_px"].as_i64().unwrap() as f64 / 1e4,
                v["last_qty"].as_i64().unwrap() as f64,
            );
            by_hand += px * qty * 1.5e-4 + qty * 0.002;
        }
    }
    let cost = plain["equity"].as_f64().unwrap() - charged["equity"].as_f64().unwrap();
    assert!(
        by_hand > 0.0 && (cost - by_hand).abs() < 1e-6,
        "equity fell by {cost}, fills say {by_hand}"
    );
    let report: serde_json::Value = serde_json::from_str(&ok(&["report", run.to_str().unwrap(), "--json"])).unwrap();
    let shown = report["per_instrument"][0]["fees"].as_f64().unwrap();
    assert!((shown - by_hand).abs() < 1e-6, "report {shown} vs {by_hand}");
}

/// The lean path: with the belief and the drift sentry off nothing reads the
/// top-N depth features, and with the regime classifier off too nothing reads
/// the volatility group, so they are not computed — and the backtest sends the
/// same orders, to the byte, as with every feature computed
/// (`sensory.all_features`). Only the diary's feature digests differ.
#[test]
fn unread_features_are_skipped_without_changing_a_decision() {
    let d = tempdir("lean-features");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let (_, md) = generated_day(&d, "60000");
    let mut lean = vec!["--set", "belief.enabled=false", "--set", "belief.drift.enabled=false"];
    for regime_off in [false, true] {
        if regime_off {
            lean.extend(["--set", "belief.regime.enabled=false"]);
        }
        let mut args = vec!["replay", md.to_str().unwrap(), "--json"];
        args.extend(&lean);
        let skipped = json(&ok(&args));
        args.extend(["--set", "sensory.all_features=true"]);
        let all = json(&ok(&args));
        assert!(
            skipped["orders"].as_u64().unwrap() > 50,
            "a meaningful test trades: {skipped}"
        );
        for k in ["order_hash", "orders", "fills", "equity", "positions", "rejects"] {
            assert_eq!(skipped[k], all[k], "{k}, regime off: {regime_off}");
        }
        assert_ne!(
            skipped["diary_hash"], all["diary_hash"],
            "the unread features were computed in one run only (regime off: {regime_off})"
        );
    }
}
