//! Market data that cannot be never reaches a book, a journal or a strategy:
//! non-positive prices and negative sizes, and crossed quote rows, become
//! data-quality findings journalled in place of the data.

mod common;

use common::{import_cmd, ok, ok_cmd, quote_csv, tempdir, RemoveOnSuccess};

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
    let out = ok_cmd(import_cmd(&csv, "csv", &md).args(["--symbol", "ACME", "--tick", "1"]));
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

/// A file with nothing to import says why: no rows at all, or how many rows
/// and what each was refused as — not that no price was positive when every
/// row was a crossed quote.
#[test]
fn a_file_with_nothing_to_import_says_what_its_rows_were() {
    let d = tempdir("nothing");
    let _cleanup = RemoveOnSuccess(d.clone());
    let header = "timestamp,bid,bid_size,ask,ask_size\n";
    for (rows, why) in [
        ("", "no data rows (nothing after the header): nothing to import"),
        (
            "2026-01-05T14:30:00Z,100.05,5,100.01,5\n2026-01-05T14:30:01Z,-1,5,100.01,5\n",
            "no row with a positive price in 2 data rows; refused as data-quality findings: crossed 1, invalid 1",
        ),
    ] {
        let csv = d.join("q.csv");
        std::fs::write(&csv, format!("{header}{rows}")).unwrap();
        let md = d.join("md");
        for tick in [&[][..], &["--tick", "1"]] {
            let o = import_cmd(&csv, "csv", &md).args(tick).output().unwrap();
            let e = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success() && e.contains(why), "{rows:?} {tick:?}: {e}");
            assert!(!md.exists());
        }
    }
}

/// A file large enough to be scanned on several threads: an off-tick price
/// and a bad row are reported at their own line, as one reader would.
#[test]
fn errors_in_a_large_csv_name_their_line() {
    let d = tempdir("large");
    let _cleanup = RemoveOnSuccess(d.clone());
    let mut text = String::from("timestamp,bid,bid_size,ask,ask_size\n");
    let rows = 40_000;
    for i in 0..rows {
        text.push_str(&format!(
            "2026-01-05T14:{:02}:{:02}.{i:06}Z,100.00,5,100.01,5\n",
            i / 3600 % 60,
            i / 60 % 60
        ));
    }
    assert!(text.len() > 1 << 20, "more than the one-thread limit");
    let csv = d.join("q.csv");
    let run = |text: &str, extra: &[&str]| {
        std::fs::write(&csv, text).unwrap();
        let md = d.join("md");
        let _ = std::fs::remove_dir_all(&md);
        let o = import_cmd(&csv, "csv", &md).args(extra).output().unwrap();
        (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    assert!(run(&text, &[]).0);
    // Line 35,002 (the header is line 1): a price off the cent grid.
    let mut lines: Vec<&str> = text.lines().collect();
    let bad_tick = lines[35_001].replace("100.01", "100.015");
    lines[35_001] = &bad_tick;
    let (okk, e) = run(&(lines.join("\n") + "\n"), &["--tick", "100", "--price-decimals", "4"]);
    assert!(
        !okk && e.contains("line 35002") && e.contains("not a multiple of --tick"),
        "{e}"
    );
    // Line 30,001: a price that is no number.
    let mut lines: Vec<&str> = text.lines().collect();
    let bad = lines[30_000].replace("100.00", "1oo.00");
    lines[30_000] = &bad;
    let (okk, e) = run(&(lines.join("\n") + "\n"), &[]);
    assert!(!okk && e.contains("line 30001"), "{e}");
}

/// An import that fails leaves the directory as it found it: a CSV price off
/// `--tick` (one pass, so found after rows were journalled) or a damaged native
/// record removes what was written, keeps what the directory already held,
/// and never touches an earlier import's data.
#[test]
fn a_failed_import_leaves_nothing_behind() {
    let d = tempdir("leaves-nothing");
    let _cleanup = RemoveOnSuccess(d.clone());
    let csv = d.join("q.csv");
    let mut text = String::from("timestamp,bid,bid_size,ask,ask_size\n");
    for i in 0..20_000 {
        text.push_str(&format!("2026-01-05T14:30:{:02}.{i:06}Z,100.00,5,100.01,5\n", i / 1000));
    }
    text.push_str("2026-01-05T14:31:00Z,100.015,5,100.02,5\n");
    std::fs::write(&csv, &text).unwrap();
    // A new directory: gone after the failure.
    let fresh = d.join("fresh");
    let o = import_cmd(&csv, "csv", &fresh)
        .args(["--tick", "100", "--price-decimals", "4"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("line 20002") && e.contains("not a multiple of --tick"),
        "{e}"
    );
    assert!(!fresh.exists(), "a failed import removes the directory it created");
    // A directory holding other files: they stay, the market data goes.
    let kept = d.join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::write(kept.join("notes.txt"), "mine").unwrap();
    let o = import_cmd(&csv, "csv", &kept)
        .args(["--tick", "100", "--price-decimals", "4"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let left: Vec<_> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["notes.txt"]);
    // An earlier import's data is refused and left whole.
    let good: String = text.lines().take(100).map(|l| format!("{l}\n")).collect();
    std::fs::write(&csv, &good).unwrap();
    let done = d.join("done");
    ok_cmd(import_cmd(&csv, "csv", &done).args(["--tick", "100", "--price-decimals", "4"]));
    let before = ok(&["journal", "cat", "--json", done.join("market_data").to_str().unwrap()]);
    std::fs::write(&csv, &text).unwrap();
    let o = import_cmd(&csv, "csv", &done)
        .args(["--tick", "100", "--price-decimals", "4"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let after = ok(&["journal", "cat", "--json", done.join("market_data").to_str().unwrap()]);
    assert_eq!(before, after, "an earlier import is not touched");
    // Any format: a native file whose middle record is damaged (a 256-byte
    // header, then 64-byte records) fails after 10,000 events were written.
    let fxmd = d.join("day.fxmd");
    ok(&["gen", "--events", "20000", "-o", fxmd.to_str().unwrap()]);
    let mut bytes = std::fs::read(&fxmd).unwrap();
    bytes[256 + 64 * 10_000..256 + 64 * 10_001].fill(0xff);
    std::fs::write(&fxmd, &bytes).unwrap();
    let native = d.join("native");
    let o = import_cmd(&fxmd, "native", &native).output().unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains("record 10000"), "{e}");
    assert!(!native.exists(), "a failed native import removes what it wrote");
}

/// A CSV as Python writes one — written by Python: pandas' unnamed index
/// column, epoch seconds as floats (`time.time()`), prices reached by float
/// arithmetic and printed by `repr` (`1.0999599999999998`), sizes as floats.
/// It imports to the prices meant, says how many values it rounded, and a
/// price really off the scale is still refused with the option to change.
#[test]
fn a_csv_written_by_python_imports_to_the_prices_meant() {
    let d = tempdir("python-csv");
    let _cleanup = RemoveOnSuccess(d.clone());
    let csv = d.join("q.csv");
    // The walk, in ticks of 0.00001: the same steps in both languages.
    let step = |i: u64| [1i64, -1, 0, 1, -1, -1][(i % 6) as usize] * if i % 7 == 0 { 2 } else { 1 };
    let script = r#"
import sys
bid, t0 = 1.1, 1767623400.0
with open(sys.argv[1], "w") as f:
    f.write(",timestamp,bid,ask,bid_size,ask_size\n")
    for i in range(3000):
        bid += [1, -1, 0, 1, -1, -1][i % 6] * (2 if i % 7 == 0 else 1) * 0.00001
        f.write(f"{i},{t0 + i * 0.05!r},{bid!r},{bid + 0.00002!r},{1000000.0!r},{2500000.0!r}\n")
"#;
    let py = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&csv)
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut ticks = 110_000i64;
    let want: Vec<i64> = (0..3000u64)
        .flat_map(|i| {
            ticks += step(i);
            [ticks, ticks + 2]
        })
        .collect();
    let noisy = text
        .lines()
        .filter(|l| l.split(',').nth(2).is_some_and(|p| p.len() > 12))
        .count();
    assert!(noisy > 100, "the walk prints float noise ({noisy} rows)");
    std::fs::write(&csv, &text).unwrap();
    let md = d.join("md");
    let out = ok_cmd(import_cmd(&csv, "csv", &md).args(["--ts-unit", "s", "--price-decimals", "5"]));
    assert!(
        out.contains("values written in binary floating point rounded to their scale"),
        "{out}"
    );
    let cat = ok(&["journal", "cat", "--json", md.join("market_data").to_str().unwrap()]);
    let events: Vec<serde_json::Value> = cat
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "market_data")
        .collect();
    let px: Vec<i64> = events.iter().map(|e| e["px"].as_i64().unwrap()).collect();
    assert_eq!(px, want);
    // Row 1 at 0.05 s: its fraction read to the nanosecond, not cut to the second.
    let ts = events[2]["event_ts_ns"].as_u64().unwrap();
    assert!(ts.abs_diff(1_767_623_400_050_000_000) < 1_000, "{ts}");
    assert!(events.iter().all(|e| e["qty"] == 1_000_000 || e["qty"] == 2_500_000));

    // At the default four decimals the prices do not fit: said, with the option.
    let out = import_cmd(&csv, "csv", &d.join("md4"))
        .args(["--ts-unit", "s"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("line 2, column 3 (bid): more decimals than the price scale holds (--price-decimals)"),
        "{err}"
    );
}

/// An import killed half way (`kill -9`, a real process) leaves a journal
/// whose every record reads as sound; it is refused as incomplete, not
/// backtested as if it were the whole file — before the import wrote its
/// end, `replay` ran it and exited 0. `--partial` runs what is there and
/// says so; the finished import of the same file is complete.
#[test]
fn a_killed_import_is_refused_as_incomplete_not_backtested_as_the_whole() {
    let d = tempdir("killed-import");
    let _cleanup = RemoveOnSuccess(d.clone());
    let csv = d.join("q.csv");
    let rows = 600_000u64;
    std::fs::write(&csv, quote_csv(rows)).unwrap();
    let md = d.join("md");
    // Killed once its journal has filled a first segment (~87k quotes of the
    // 600k): once the second is published (its magic written; the file
    // itself is made ahead, blank).
    let published = |p: &std::path::Path| {
        use std::io::Read;
        let mut magic = [0u8; 8];
        std::fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
            && &magic == b"FXJRNL01"
    };
    let killed = (0..5).any(|_| {
        let _ = std::fs::remove_dir_all(&md);
        let mut child = import_cmd(&csv, "csv", &md)
            .args(["--tick", "1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let second = md.join("market_data").join("00000000000000000001.seg");
        let t = std::time::Instant::now();
        while !published(&second) && t.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        !status.success()
    });
    assert!(killed, "no import was killed before it finished, in five tries");
    let dir = md.to_str().unwrap();
    let o = common::foxtrot(&["replay", dir]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("the market data is incomplete") && e.contains("--partial"),
        "{e}"
    );
    let j: serde_json::Value = serde_json::from_str(&ok(&["replay", dir, "--partial", "--json"])).unwrap();
    let events = j["market_data"].as_u64().unwrap();
    assert!(j["complete"] == false && events > 0 && events < 2 * rows, "{j}");
    let text = ok(&["replay", dir, "--partial"]);
    assert!(text.contains("INCOMPLETE"), "{text}");
    // Its journal's records are all sound; `journal verify` says it is incomplete.
    let journal = md.join("market_data");
    let v = common::foxtrot(&["journal", "verify", journal.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&v.stderr);
    assert!(
        !v.status.success() && e.contains("the market data is incomplete") && e.contains("records OK)"),
        "{e}"
    );
    // A repair ends it where it stops (a killed capture's data is all there
    // is): then whole, and what `--partial` ran.
    let sealed = d.join("sealed");
    std::fs::create_dir_all(sealed.join("market_data")).unwrap();
    for f in std::fs::read_dir(&journal).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), sealed.join("market_data").join(f.file_name())).unwrap();
    }
    let said = ok(&["journal", "repair", sealed.join("market_data").to_str().unwrap()]);
    assert!(said.contains("sealed: the market data now ends after its"), "{said}");
    ok(&["journal", "verify", sealed.join("market_data").to_str().unwrap()]);
    let s: serde_json::Value = serde_json::from_str(&ok(&["replay", sealed.to_str().unwrap(), "--json"])).unwrap();
    assert!(
        s["complete"] == true && s["market_data"] == events && s["order_hash"] == j["order_hash"],
        "{s}"
    );
    let again = ok(&["journal", "repair", sealed.join("market_data").to_str().unwrap()]);
    assert!(again.contains("nothing to repair"), "{again}");
    std::fs::remove_dir_all(&md).unwrap();
    ok_cmd(import_cmd(&csv, "csv", &md).args(["--tick", "1"]));
    let j: serde_json::Value = serde_json::from_str(&ok(&["replay", dir, "--json"])).unwrap();
    assert!(j["complete"] == true && j["market_data"] == 2 * rows, "{j}");
    ok(&["journal", "verify", journal.to_str().unwrap()]);
}

/// Data as it is shipped: an ITCH day gzipped (as Nasdaq publishes them; by the
/// system's `gzip`, two members joined as `cat` joins them) or zstd-compressed,
/// and a CSV piped in on standard input (`-`) straight from `gzip -c`, import to
/// the very records of the plain file. A gzip file cut short is refused, naming
/// it, and leaves no market data behind — not imported as a shorter day.
/// (Before: "length prefix 8075 is followed by 0x08, not an ITCH message type",
/// and a CSV header of binary garbage.)
#[test]
fn compressed_and_piped_inputs_import_as_the_plain_file() {
    use std::process::{Command, Stdio};
    let d = tempdir("compressed");
    let _cleanup = RemoveOnSuccess(d.clone());
    let cat = |md: &std::path::Path| ok(&["journal", "cat", "--json", md.join("market_data").to_str().unwrap()]);
    let import = |file: &std::path::Path, format: &str, name: &str| {
        let md = d.join(name);
        ok_cmd(import_cmd(file, format, &md).args(["--tick", "1"]));
        cat(&md)
    };

    let itch = d.join("day.itch");
    ok(&[
        "gen",
        "--format",
        "itch",
        "--events",
        "20000",
        "-o",
        itch.to_str().unwrap(),
    ]);
    let plain = import(&itch, "itch", "plain");
    // Two gzip members: the first half and the rest of the file.
    let bytes = std::fs::read(&itch).unwrap();
    let gz = d.join("day.itch.gz");
    let mut joined = Vec::new();
    for (k, part) in [&bytes[..bytes.len() / 2], &bytes[bytes.len() / 2..]]
        .iter()
        .enumerate()
    {
        let p = d.join(format!("part{k}"));
        std::fs::write(&p, part).unwrap();
        let st = Command::new("gzip").arg("-f").arg(&p).status().unwrap();
        assert!(st.success(), "gzip {}", p.display());
        joined.extend(std::fs::read(d.join(format!("part{k}.gz"))).unwrap());
    }
    std::fs::write(&gz, &joined).unwrap();
    assert_eq!(
        import(&gz, "itch", "gz"),
        plain,
        "the gzipped day imports as the plain one"
    );
    let zst = d.join("day.itch.zst");
    let mut z = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    z.include_checksum(true).unwrap();
    std::io::Write::write_all(&mut z, &bytes).unwrap();
    std::fs::write(&zst, z.finish().unwrap()).unwrap();
    assert_eq!(
        import(&zst, "itch", "zst"),
        plain,
        "the zstd day imports as the plain one"
    );

    // Cut short: refused, nothing left.
    let cut = d.join("cut.itch.gz");
    std::fs::write(&cut, &joined[..joined.len() * 3 / 4]).unwrap();
    let md = d.join("cut");
    common::refused_as_cut_gzip(import_cmd(&cut, "itch", &md).args(["--tick", "1"]), &cut, &md);

    // A CSV on standard input, from a pipe.
    let csv = d.join("q.csv");
    let text = quote_csv(50_000);
    std::fs::write(&csv, &text).unwrap();
    let plain = import(&csv, "csv", "csv-plain");
    let mut gzip = Command::new("gzip")
        .arg("-c")
        .arg(&csv)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let md = d.join("csv-pipe");
    ok_cmd(
        import_cmd(std::path::Path::new("-"), "csv", &md)
            .args(["--tick", "1"])
            .stdin(Stdio::from(gzip.stdout.take().unwrap())),
    );
    assert!(gzip.wait().unwrap().success());
    assert_eq!(cat(&md), plain, "the piped CSV imports as the file");
}

/// A CSV of several instruments (a `symbol` column, as vendors' multi-symbol
/// files have) is not imported as one instrument's book made of several —
/// before, it was, without a word: it is refused, naming the symbols, unless
/// `--symbol` picks one, whose rows then import exactly as a file of that
/// symbol alone (filtered here by hand) does. A file of one symbol takes its
/// name from the column.
#[test]
fn a_csv_of_several_instruments_imports_the_one_asked_for() {
    let d = tempdir("symbols");
    let _cleanup = RemoveOnSuccess(d.clone());
    let header = "timestamp,symbol,bid,bid_size,ask,ask_size";
    let mut rows = Vec::new();
    for i in 0..6_000u64 {
        let (s, base) = [("AAPL", 19_000), ("MSFT", 41_000), ("IBM", 15_000)][(i % 3) as usize];
        let bid = base + i * 7919 % 13;
        rows.push(format!(
            "2026-01-05T14:{:02}:{:02}.{:06}Z,{s},{}.{:02},{},{}.{:02},7",
            i / 6_000 % 60,
            i / 100 % 60,
            i % 100 * 10_000,
            bid / 100,
            bid % 100,
            1 + i % 5,
            (bid + 1) / 100,
            (bid + 1) % 100
        ));
    }
    let write = |name: &str, head: &str, rows: &[String]| {
        let p = d.join(name);
        std::fs::write(&p, format!("{head}\n{}\n", rows.join("\n"))).unwrap();
        p
    };
    let multi = write("multi.csv", header, &rows);
    let msft: Vec<String> = rows.iter().filter(|r| r.contains(",MSFT,")).cloned().collect();
    let only = write("msft.csv", header, &msft);
    let plain = write(
        "plain.csv",
        "timestamp,bid,bid_size,ask,ask_size",
        &msft.iter().map(|r| r.replace(",MSFT,", ",")).collect::<Vec<_>>(),
    );
    let cat = |md: &std::path::Path| ok(&["journal", "cat", "--json", md.join("market_data").to_str().unwrap()]);
    for tick in [None, Some("1")] {
        let import = |file: &std::path::Path, name: &str, extra: &[&str]| {
            let md = d.join(format!("{name}-{tick:?}"));
            let mut c = import_cmd(file, "csv", &md);
            c.args(extra);
            if let Some(t) = tick {
                c.args(["--tick", t]);
            }
            (c.output().unwrap(), md)
        };
        let (out, md) = import(&multi, "refused", &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("names 3 instruments — AAPL (2000 rows), IBM (2000 rows), MSFT (2000 rows)")
                && err.contains("--symbol"),
            "{err}"
        );
        assert!(!md.exists());
        let (out, md) = import(&multi, "picked", &["--symbol", "MSFT"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("MSFT: 2000 rows imported; 4000 rows of 2 other symbols left out"),
            "{said}"
        );
        let reference = {
            let (out, md) = import(&plain, "plain", &["--symbol", "MSFT"]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            cat(&md)
        };
        assert_eq!(
            cat(&md),
            reference,
            "MSFT picked from the file of three (tick {tick:?})"
        );
        let (out, md) = import(&only, "named", &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(cat(&md), reference, "a file of MSFT alone is named by its column");
        let (out, _) = import(&multi, "absent", &["--symbol", "TSLA"]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no row of TSLA in column \"symbol\""),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
