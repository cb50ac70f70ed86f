//! Market data that cannot be never reaches a book, a journal or a strategy:
//! non-positive prices and negative sizes, and crossed quote rows, become
//! data-quality findings journalled in place of the data.

mod common;

use common::{ok, tempdir, RemoveOnSuccess};

#[test]
fn impossible_and_crossed_csv_rows_become_findings_not_data() {
    let d = tempdir("sanity");
    let _cleanup = RemoveOnSuccess(d.clone());
    let csv = d.join("q.csv");
    std::fs::write(
        &csv,
        "timestamp,bid,bid_size,ask,ask_size\n\
         2026-01-05T14:30:00Z,100.00,5,100.01,5\n\
         2026-01-05T14:30:01Z,-100.00,5,100.01,5\n\
         2026-01-05T14:30:02Z,100.00,-5,100.01,5\n\
         2026-01-05T14:30:03Z,100.05,5,100.01,5\n\
         2026-01-05T14:30:04Z,100.01,5,100.02,5\n",
    )
    .unwrap();
    let md = d.join("md");
    let out = ok(&[
        "import",
        csv.to_str().unwrap(),
        "--format",
        "csv",
        "--out",
        md.to_str().unwrap(),
        "--symbol",
        "ACME",
        "--tick",
        "1",
    ]);
    assert!(out.contains("invalid 2") && out.contains("crossed 1"), "{out}");
    let cat = ok(&["journal", "cat", "--json", md.join("market_data").to_str().unwrap()]);
    let rows: Vec<serde_json::Value> = cat.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let events: Vec<&serde_json::Value> = rows.iter().filter(|r| r["type"] == "market_data").collect();
    // Rows 1 and 5, two quotes each; none of the impossible ones.
    assert_eq!(events.len(), 4, "{cat}");
    assert!(
        events
            .iter()
            .all(|e| e["px"].as_i64().unwrap() > 0 && e["qty"].as_i64().unwrap() >= 0),
        "{cat}"
    );
    let findings: Vec<&str> = rows
        .iter()
        .filter(|r| r["type"] == "data_quality")
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert_eq!(findings, ["invalid", "invalid", "crossed"], "{cat}");
}
