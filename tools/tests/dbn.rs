//! DBN import: files written by Databento's own Python package (`databento-dbn`,
//! installed by `.ci/run`), one per schema, imported with `foxtrot import --format
//! dbn` and read back from the market-data journal: counts, symbols and fields.

mod common;
mod external;

use common::{command, tempdir, RemoveOnSuccess};

use foxtrot_engine::journal::market_data::MdSource;
use foxtrot_engine::records::{MarketData, MdAction, Side};
use std::path::Path;
use std::process::Command;

fn import(dir: &Path, schema: &str) -> (Vec<String>, Vec<MarketData>) {
    import_file(dir, &format!("{schema}.dbn"))
}

fn import_file(dir: &Path, file: &str) -> (Vec<String>, Vec<MarketData>) {
    let md = dir.join(format!("{file}.md"));
    let out = command()
        .args(["import", "--format", "dbn"])
        .arg(dir.join(file))
        .arg("-o")
        .arg(&md)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (cfg, src) = MdSource::open(&md).unwrap();
    (
        cfg.instruments.iter().map(|i| i.symbol.clone()).collect(),
        src.collect(),
    )
}

const T0: u64 = 1_767_623_400_000_000_000;

#[test]
#[cfg_attr(
    not(has_py_dbn),
    ignore = "needs the Python package databento-dbn: bash .ci/run installs it"
)]
fn dbn_files_from_databento_import_field_by_field() {
    if !external::python_module("databento_dbn") {
        return;
    }
    let d = tempdir("schemas");
    let _cleanup = RemoveOnSuccess(d.clone());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dbn_make.py");
    let out = Command::new("python3").arg(script).arg(&d).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    // MBO: adds, a size modify, a trade and the fill it caused, a cancel, a price
    // modify (cancel + add). Prices in 1e-4 units.
    let (syms, ev) = import(&d, "mbo");
    assert_eq!(counts["mbo"], 8);
    assert_eq!(syms, ["FOXA", "FOXB"]);
    let got: Vec<_> = ev
        .iter()
        .map(|m| {
            (
                m.action().unwrap(),
                m.header.instrument,
                m.side(),
                m.order_id,
                m.px,
                m.qty,
                m.header.ts_ns,
                m.exch_ts_ns,
                m.header.flags,
            )
        })
        .collect();
    use MdAction::*;
    let (b, s) = (Some(Side::Buy), Some(Side::Sell));
    assert_eq!(
        got,
        vec![
            (Add, 0, b, 11, 100_0000, 300, T0 + 2, T0 + 1, 1),
            (Add, 0, s, 12, 100_0100, 200, T0 + 4, T0 + 3, 1),
            (Add, 1, b, 13, 50_0000, 100, T0 + 6, T0 + 5, 1),
            (Modify, 0, b, 11, 100_0000, -50, T0 + 8, T0 + 7, 1),
            (Trade, 0, b, 0, 100_0100, 50, T0 + 10, T0 + 9, 0),
            (Execute, 0, s, 12, 100_0100, 50, T0 + 10, T0 + 9, 1),
            (Cancel, 0, s, 12, 100_0100, 150, T0 + 12, T0 + 11, 1),
            (Cancel, 0, b, 11, 100_0000, 250, T0 + 14, T0 + 13, 0),
            (Add, 0, b, 11, 99_0000, 250, T0 + 14, T0 + 13, 1),
        ]
    );

    // MBP-1: every record a bid and an ask quote; every third a trade first.
    let (syms, ev) = import(&d, "mbp1");
    assert_eq!(syms, ["FOXA"]);
    assert_eq!(ev.len(), 30 * 2 + 10);
    let quotes: Vec<_> = ev.iter().filter(|m| m.action() == Some(Quote)).collect();
    for (i, q) in quotes.chunks(2).enumerate() {
        let mid = 100_0000 + 100 * i as i64;
        assert_eq!(
            (q[0].side(), q[0].px, q[0].qty, q[0].header.flags),
            (b, mid - 100, 10 + i as i64, 0)
        );
        assert_eq!(
            (q[1].side(), q[1].px, q[1].qty, q[1].header.flags),
            (s, mid + 100, 20 + i as i64, 1)
        );
        assert_eq!(q[0].header.ts_ns, T0 + 10 + i as u64);
    }
    assert_eq!(ev.iter().filter(|m| m.action() == Some(Trade)).count(), 10);

    // MBP-10: the top level only.
    let (syms, ev) = import(&d, "mbp10");
    assert_eq!((syms.as_slice(), ev.len()), (["FOXB".to_string()].as_slice(), 40));
    assert!(ev
        .chunks(2)
        .enumerate()
        .all(|(i, q)| q[0].px == 49_9900 && q[1].px == 50_0100 && q[0].qty == 100 + i as i64 && q[1].qty == 200));

    // OPRA's option symbols (21 bytes with spaces) named to fit, the full
    // names beside the data; the ask that went undefined empties its side.
    let (syms, ev) = import(&d, "opra");
    assert_eq!(counts["opra"], 6);
    assert!(
        syms.len() == 2 && syms[0] != syms[1] && syms.iter().all(|s| s.starts_with("AAPL261~") && s.len() == 12),
        "{syms:?}"
    );
    let names = std::fs::read_to_string(d.join("opra.dbn.md/symbols.csv")).unwrap();
    assert_eq!(
        names,
        format!(
            "symbol,full_symbol\n{},\"AAPL  261218C00150000\"\n{},\"AAPL  261218C00155000\"\n",
            syms[0], syms[1]
        )
    );
    let asks: Vec<(i64, i64)> = ev.iter().filter(|m| m.side() == s).map(|m| (m.px, m.qty)).collect();
    assert_eq!(asks[3], (0, 0), "{asks:?}");
    assert!(asks.iter().enumerate().all(|(i, a)| i == 3 || a.1 == 9));

    // Trades: price, size, aggressor side, instrument by first appearance.
    let (syms, ev) = import(&d, "trades");
    assert_eq!(syms, ["FOXB", "FOXA"]);
    assert_eq!(ev.len(), 25);
    for (i, t) in ev.iter().enumerate() {
        let (inst, px) = if i % 2 == 1 { (1, 100_0000) } else { (0, 50_0000) };
        assert_eq!(
            (t.action(), t.header.instrument, t.px, t.qty, t.side()),
            (
                Some(Trade),
                inst,
                px + 100 * i as i64,
                10 + i as i64,
                if i % 3 != 0 { s } else { b }
            )
        );
    }

    // BBO-1s.
    let (_, ev) = import(&d, "bbo");
    assert_eq!(ev.len(), 24);
    assert_eq!(
        (ev[23].px, ev[23].qty, ev[23].header.ts_ns),
        (100_0000 + 1_200, 6, T0 + 11 * 1_000_000_000)
    );

    // Compressed, as Databento ships files (`.dbn.zst`): the same events.
    for schema in ["mbo", "mbp1", "mbp10", "trades", "bbo"] {
        let plain = std::fs::read(d.join(format!("{schema}.dbn"))).unwrap();
        let (again, zst) = (format!("{schema}-again.dbn"), format!("{schema}.dbn.zst"));
        std::fs::write(d.join(&again), &plain).unwrap();
        std::fs::write(d.join(&zst), zstd::encode_all(&plain[..], 3).unwrap()).unwrap();
        let (a, b) = (import_file(&d, &again), import_file(&d, &zst));
        assert!(!a.1.is_empty(), "{schema}");
        assert_eq!(a.0, b.0, "{schema}");
        assert_eq!(
            bytemuck::cast_slice::<MarketData, u8>(&a.1),
            bytemuck::cast_slice::<MarketData, u8>(&b.1),
            "{schema}"
        );
    }
}

/// Databento's own test files (`tests/data` of github.com/databento/dbn, at
/// commit `9096c6d`, Apache-2.0: `tests/external/databento/`), each plain and
/// as Databento's encoder compressed it (`.dbn.zst`, not compressed here by
/// the library foxtrot inflates with). Both forms import to the same events,
/// and those carry the prices, sizes, sides and both timestamps that
/// Databento's own decoder (`databento_dbn`) reads from the file: a trade for
/// each trade record, the top of the book as a quote per side for MBP and
/// TBBO records. The MBO file holds two cancels of orders it never added:
/// no event, and the import says it skipped two.
#[test]
#[cfg_attr(
    not(has_py_dbn),
    ignore = "needs the Python package databento-dbn: bash .ci/run installs it"
)]
fn databentos_own_files_import_as_databentos_decoder_reads_them() {
    if !external::python_module("databento_dbn") {
        return;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/external/databento");
    let d = tempdir("databento-files");
    let _cleanup = RemoveOnSuccess(d.clone());
    // What Databento's decoder reads: [action, side, price (1e-9), size, ts_recv, ts_event].
    let script = r#"
import databento_dbn as d, json, sys
out = {}
for name in sys.argv[2:]:
    dec = d.DBNDecoder()
    dec.write(open(f"{sys.argv[1]}/test_data.{name}.dbn", "rb").read())
    ev = []
    side = lambda s: {"A": "sell", "B": "buy"}.get(str(s), "none")
    for r in dec.decode()[1:]:
        if str(r.action) == "T":
            ev.append(["trade", side(r.side), r.price, r.size, r.ts_recv, r.ts_event])
        if hasattr(r, "levels"):
            top = r.levels[0]
            ev.append(["quote", "buy", top.bid_px, top.bid_sz, r.ts_recv, r.ts_event])
            ev.append(["quote", "sell", top.ask_px, top.ask_sz, r.ts_recv, r.ts_event])
    out[name] = ev
print(json.dumps(out))
"#;
    let names = ["mbo", "mbp-1", "mbp-10", "tbbo", "trades"];
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&src)
        .args(names)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in names {
        let (plain, zst) = (format!("test_data.{name}.dbn"), format!("test_data.{name}.dbn.zst"));
        for f in [&plain, &zst] {
            std::fs::copy(src.join(f), d.join(f)).unwrap();
        }
        let (syms, a) = import_file(&d, &plain);
        let (syms_z, b) = import_file(&d, &zst);
        assert_eq!((&syms, a.len()), (&syms_z, b.len()), "{name}");
        assert_eq!(
            bytemuck::cast_slice::<MarketData, u8>(&a),
            bytemuck::cast_slice::<MarketData, u8>(&b),
            "{name}: compressed and plain"
        );
        let md = d.join(format!("{plain}.md"));
        let (cfg, _) = MdSource::open(&md).unwrap();
        let to_nano = |px: i64, i: u32| px * 10i64.pow(9 - cfg.instruments[i as usize].price_decimals as u32);
        let got: Vec<serde_json::Value> = a
            .iter()
            .map(|m| {
                let side = match m.side() {
                    Some(Side::Buy) => "buy",
                    Some(Side::Sell) => "sell",
                    None => "none",
                };
                let action = match m.action() {
                    Some(MdAction::Trade) => "trade",
                    Some(MdAction::Quote) => "quote",
                    other => panic!("{name}: {other:?}"),
                };
                serde_json::json!([
                    action,
                    side,
                    to_nano(m.px, m.header.instrument),
                    m.qty,
                    m.header.ts_ns,
                    m.exch_ts_ns
                ])
            })
            .collect();
        assert_eq!(serde_json::Value::Array(got), want[name], "{name}");
        if name == "mbo" {
            assert!(a.is_empty(), "{name}");
            let out = command()
                .args(["import", "--format", "dbn"])
                .arg(d.join(&plain))
                .arg("-o")
                .arg(d.join("mbo-again.md"))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("2 bad rows or data-quality events skipped"), "{text}");
        } else {
            assert!(a.len() >= 2, "{name}");
        }
    }
}

/// A DBN file as it may come other than by path — gzipped, or on standard
/// input from a pipe, plain or zstd — imports as the file itself does: the
/// same instruments and the same events, byte for byte (the import reads its
/// input twice, so a pipe is read once and kept). A gzip file cut short is
/// refused, naming it, and leaves nothing behind. Before, a gzipped file was
/// "not a DBN file" and `-` was "No such file or directory". Databento's own
/// test files, no Python needed.
#[test]
fn gzipped_and_piped_dbn_files_import_as_the_file() {
    use std::process::Stdio;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/external/databento");
    let d = common::tempdir("dbn-piped");
    let _cleanup = RemoveOnSuccess(d.clone());
    let bytes =
        |(syms, md): (Vec<String>, Vec<MarketData>)| (syms, bytemuck::cast_slice::<MarketData, u8>(&md).to_vec());
    let piped = |file: &Path, out: &str| {
        let mut cat = Command::new("cat").arg(file).stdout(Stdio::piped()).spawn().unwrap();
        let md = d.join(out);
        let o = command()
            .args(["import", "--format", "dbn", "-", "-o"])
            .arg(&md)
            .stdin(Stdio::from(cat.stdout.take().unwrap()))
            .output()
            .unwrap();
        assert!(cat.wait().unwrap().success());
        assert!(o.status.success(), "{out}: {}", String::from_utf8_lossy(&o.stderr));
        let (cfg, src) = MdSource::open(&md).unwrap();
        bytes((
            cfg.instruments.iter().map(|i| i.symbol.clone()).collect(),
            src.collect(),
        ))
    };
    for name in ["mbp-1", "mbp-10", "trades"] {
        let (plain, zst) = (format!("test_data.{name}.dbn"), format!("test_data.{name}.dbn.zst"));
        for f in [&plain, &zst] {
            std::fs::copy(src.join(f), d.join(f)).unwrap();
        }
        let want = bytes(import_file(&d, &plain));
        assert!(!want.1.is_empty(), "{name}: events to compare");
        let st = Command::new("gzip").arg("-k").arg(d.join(&plain)).status().unwrap();
        assert!(st.success());
        assert_eq!(bytes(import_file(&d, &format!("{plain}.gz"))), want, "{name}: gzipped");
        assert_eq!(
            piped(&d.join(&plain), &format!("{name}-pipe.md")),
            want,
            "{name}: piped"
        );
        assert_eq!(
            piped(&d.join(&zst), &format!("{name}-zst-pipe.md")),
            want,
            "{name}: zstd, piped"
        );
    }
    let gz = std::fs::read(d.join("test_data.mbp-10.dbn.gz")).unwrap();
    let cut = d.join("cut.dbn.gz");
    std::fs::write(&cut, &gz[..gz.len() * 3 / 4]).unwrap();
    let md = d.join("cut.md");
    common::refused_as_cut_gzip(&mut common::import_cmd(&cut, "dbn", &md), &cut, &md);
}
