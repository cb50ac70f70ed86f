//! `foxtrot export --parquet` read back by DuckDB's Python package: row counts and
//! values agree with the journals and with the run's own summary.

mod external;

mod common;
use common::{tempdir, RemoveOnSuccess};
use foxtrot_engine::journal::JournalInputs;
use foxtrot_engine::records::{InputView, Kind, Order};
use foxtrot_shm::JournalReader;
use std::process::Command;

fn foxtrot(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(args)
        .output()
        .expect("run foxtrot");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
#[cfg_attr(
    not(has_py_duckdb),
    ignore = "needs the Python package duckdb: bash .ci/run installs it"
)]
fn parquet_export_reads_back_in_duckdb() {
    if !external::python_module("duckdb") {
        return;
    }
    let dir = tempdir("duckdb");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let run = dir.join("run");
    let sim: serde_json::Value = serde_json::from_slice(
        &foxtrot(&[
            "sim",
            "--json",
            "--events",
            "40000",
            "--seed",
            "11",
            "--record",
            run.to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    let pq = dir.join("pq");
    let said = foxtrot(&[
        "export",
        "--parquet",
        run.to_str().unwrap(),
        "--out",
        pq.to_str().unwrap(),
    ]);
    // Its counts add up to the run's, and say how.
    let said = String::from_utf8_lossy(&said.stdout);
    let total = format!("= {} diary records", sim["diary_records"]);
    assert!(said.contains(&total), "{said}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/duckdb_check.py");
    let out = Command::new("python3").arg(script).arg(&pq).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // The input journal, read directly.
    let (_, inputs) = JournalInputs::open(&run).unwrap();
    let (mut n, mut md, mut er, mut timers, mut md_qty, mut min_seq, mut max_seq) =
        (0u64, 0u64, 0u64, 0u64, 0i64, u64::MAX, 0u64);
    for s in inputs {
        n += 1;
        min_seq = min_seq.min(s.header().seq);
        max_seq = max_seq.max(s.header().seq);
        match s.view() {
            Some(InputView::Md(m)) => {
                md += 1;
                md_qty += m.qty;
            }
            Some(InputView::Exec(_)) => er += 1,
            Some(InputView::Timer(_)) => timers += 1,
            _ => {}
        }
    }
    assert_eq!(d["counts"]["inputs"], n);
    assert_eq!(d["inputs_by_kind"]["market_data"], md);
    assert_eq!(d["inputs_by_kind"]["exec_report"], er);
    assert_eq!(d["inputs_by_kind"]["timer"], timers);
    assert_eq!(d["inputs_seq"], serde_json::json!([min_seq, max_seq, n]));
    assert_eq!(d["md_qty_sum"].as_i64().unwrap(), md_qty);
    assert_eq!(n, sim["events"]["inputs"].as_u64().unwrap());

    // The orders journal, read directly, against DuckDB's rows (ordered by ClOrdID).
    let mut r = JournalReader::open(&run.join("orders")).unwrap();
    let mut orders = Vec::new();
    while let Some(rec) = r.next().unwrap() {
        if rec.kind == Kind::Order as u16 {
            let o: Order = bytemuck::pod_read_unaligned(&rec.payload[..64]);
            orders.push((o, String::from_utf8(rec.payload[64..].to_vec()).unwrap()));
        }
    }
    orders.sort_by_key(|(o, _)| o.cl_ord_id);
    let rows = d["orders"].as_array().unwrap();
    assert_eq!(rows.len(), orders.len());
    assert_eq!(rows.len() as u64, sim["orders"]["total"].as_u64().unwrap());
    for (row, (o, fix)) in rows.iter().zip(&orders) {
        assert_eq!(row[0], o.header.seq);
        assert_eq!(row[1], o.cl_ord_id);
        assert_eq!(row[2], o.orig_cl_ord_id);
        let action = match o.header.sub {
            b'D' => "new",
            b'F' => "cancel",
            _ => "replace",
        };
        assert_eq!(row[3], action);
        assert_eq!(row[4], if o.header.side == 1 { "buy" } else { "sell" });
        assert_eq!(row[5], o.px);
        assert_eq!(row[6], o.qty);
        assert_eq!(row[7], o.header.instrument);
        assert_eq!(row[8].as_str().unwrap(), fix, "FIX bytes survive the round trip");
    }

    // Fills, diary and alarms against the run's summary.
    assert_eq!(d["counts"]["fills"], sim["fills"]);
    assert_eq!(d["filled_qty"], sim["filled_qty"]);
    assert_eq!(
        d["fills_vs_inputs"], sim["fills"],
        "every fill row matches its input row"
    );
    let diary = d["counts"]["diary"].as_u64().unwrap();
    let alarms = d["counts"]["drift_alarms"].as_u64().unwrap();
    assert_eq!(alarms, sim["drift_alarms"].as_u64().unwrap());
    assert_eq!(diary + alarms, sim["diary_records"].as_u64().unwrap());
    assert_eq!(
        d["diary_verdicts"]["order"], sim["orders"]["total"],
        "one diary record per order"
    );
    if alarms > 0 {
        assert!(d["alarm_detectors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x == "page_hinkley" || x == "cusum"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Imported market data is not a run: `report` and `export` say so and what
/// to do (nothing is made), and doing it works.
#[test]
fn imported_data_is_named_as_such_by_report_and_export() {
    let d = tempdir("export-imported");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (csv, md, run) = (d.join("q.csv"), d.join("md"), d.join("run"));
    let p = |x: &std::path::Path| x.to_str().unwrap().to_string();
    foxtrot(&["gen", "--format", "csv", "--events", "2000", "-o", &p(&csv)]);
    foxtrot(&["import", "--format", "csv", &p(&csv), "-o", &p(&md)]);
    for cmd in [&["report"][..], &["export", "--parquet"]] {
        let mut a = cmd.to_vec();
        let mdp = p(&md);
        a.push(&mdp);
        let o = common::foxtrot(&a);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && e.contains("is imported market data, not a recorded run") && e.contains("--out RUN"),
            "{a:?}: {e}"
        );
    }
    assert!(!md.join("parquet").exists());
    foxtrot(&["replay", &p(&md), "--out", &p(&run)]);
    foxtrot(&["report", &p(&run)]);
    foxtrot(&["export", "--parquet", &p(&run)]);
    assert!(run.join("parquet/orders.parquet").exists());
}
