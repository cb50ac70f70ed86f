//! Bring-your-own-data backtests through the command line: `foxtrot gen --format
//! csv|itch` → `foxtrot import` → `foxtrot replay` against the touch venue, with
//! the EMA-cross momentum policy trading market orders.

mod common;

use common::{foxtrot, ok, tempdir};

/// `foxtrot import --format csv CSV -o OUT EXTRA…`, whatever its outcome.
fn import_csv(csv: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        "--format",
        "csv",
        csv.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    foxtrot(&args)
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.lines().last().unwrap()).unwrap()
}

#[test]
fn csv_quotes_backtest_deterministically_and_record_a_verifiable_run() {
    let d = tempdir("csv");
    let csv = d.join("q.csv");
    let md = d.join("md");
    ok(&[
        "gen",
        "--format",
        "csv",
        "--events",
        "150000",
        "-o",
        csv.to_str().unwrap(),
    ]);
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
    ok(&[
        "import",
        "--format",
        "csv",
        csv.to_str().unwrap(),
        "-o",
        md.to_str().unwrap(),
        "--symbol",
        "FOXA",
    ]);
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
    let s = ok(&[
        "import",
        "--format",
        "itch",
        f.to_str().unwrap(),
        "-o",
        md.to_str().unwrap(),
        "--symbols",
        "FOXA,FOXB",
    ]);
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
    let s = ok(&[
        "import",
        "--format",
        "csv",
        csv.to_str().unwrap(),
        "-o",
        md.to_str().unwrap(),
    ]);
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
