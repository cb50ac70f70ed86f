//! `foxtrot report` on a recorded `foxtrot sim` run: its figures agree with what
//! the run itself printed, it refuses a run whose journals do not replay, and its
//! HTML page renders in a real browser.

mod external;

mod common;
use common::{tempdir, RemoveOnSuccess};
use std::path::{Path, PathBuf};
use std::process::Command;

fn foxtrot(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(args)
        .output()
        .expect("run foxtrot")
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Records a sim run under `dir/name`; returns its directory and `sim --json` summary.
fn record(dir: &Path, name: &str, seed: &str) -> (PathBuf, serde_json::Value) {
    let run = dir.join(name);
    let out = ok(foxtrot(&[
        "sim",
        "--json",
        "--events",
        "40000",
        "--seed",
        seed,
        "--record",
        run.to_str().unwrap(),
    ]));
    (run, serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn report_agrees_with_the_run() {
    let dir = tempdir("agree");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (run, sim) = record(&dir, "run", "7");
    let out = ok(foxtrot(&["report", "--json", run.to_str().unwrap()]));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["config_hash"], sim["config_hash"]);
    assert_eq!(r["policy_hash"], sim["policy_hash"]);
    assert_eq!(r["order_hash"], sim["order_hash"]);
    assert_eq!(r["diary_hash"], sim["diary_hash"]);
    assert_eq!(r["fills"], sim["fills"]);
    assert_eq!(r["filled_qty"], sim["filled_qty"]);
    assert!((r["pnl"].as_f64().unwrap() - sim["pnl"].as_f64().unwrap()).abs() < 1e-9);
    assert!((r["turnover"].as_f64().unwrap() - sim["turnover"].as_f64().unwrap()).abs() < 1e-6);
    assert!(r["max_drawdown"].as_f64().unwrap() >= sim["max_drawdown"].as_f64().unwrap() - 1e-9);
    for k in ["new", "cancel", "replace"] {
        assert_eq!(r["orders"][k], sim["orders"][k], "{k}");
    }
    assert_eq!(r["rejects"], sim["rejects"]["risk"]);
    assert_eq!(r["venue_rejects"], sim["rejects"]["venue"]);
    assert_eq!(r["transitions"], sim["transitions"]);
    assert_eq!(
        r["drift_alarms"].as_array().unwrap().len() as u64,
        sim["drift_alarms"].as_u64().unwrap()
    );
    for g in r["regimes"].as_array().unwrap() {
        let name = g["regime"].as_str().unwrap();
        assert_eq!(
            g["updates"].as_u64().unwrap(),
            sim["regime_updates"][name].as_u64().unwrap_or(0),
            "{name}"
        );
    }
    let share: f64 = r["regimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["time_share"].as_f64().unwrap())
        .sum();
    assert!((share - 1.0).abs() < 1e-6, "regime time shares sum to {share}");
    let lat = &r["latency"]["hists"][0];
    assert_eq!(lat["name"], "tick_to_order");
    assert_eq!(lat["count"], sim["tick_to_order_ns"]["samples"]);
    assert_eq!(lat["p50"], sim["tick_to_order_ns"]["p50"]);
    // A run of seconds is no sample to annualise: no Sharpe, no Sortino.
    assert!(r["duration_s"].as_f64().unwrap() < 23_400.0);
    assert!(
        r["sharpe"].is_null() && r["sortino"].is_null(),
        "{} {}",
        r["sharpe"],
        r["sortino"]
    );
    // Per instrument and by strategy, the parts add up to the whole: realised +
    // unrealised per instrument, and each fill marked to the final mid (another
    // computation than the risk engine's cash and position) by strategy.
    let pnl = r["pnl"].as_f64().unwrap();
    let per = r["per_instrument"].as_array().unwrap();
    assert_eq!(per.len(), 3);
    let sum = |v: &[serde_json::Value], f: &dyn Fn(&serde_json::Value) -> f64| v.iter().map(f).sum::<f64>();
    let split = sum(per, &|x| {
        x["realised"].as_f64().unwrap() + x["unrealised"].as_f64().unwrap()
    });
    assert!((split - pnl).abs() < 1e-6, "per instrument {split} vs {pnl}");
    assert_eq!(
        sum(per, &|x| x["fills"].as_f64().unwrap()) as u64,
        sim["fills"].as_u64().unwrap()
    );
    let attr = r["attribution"].as_array().unwrap();
    assert!(attr.iter().any(|a| a["policy"] == "momentum"), "{attr:?}");
    let attributed = sum(attr, &|a| a["pnl"].as_f64().unwrap());
    assert!((attributed - pnl).abs() < 0.005, "attribution {attributed} vs {pnl}");
    assert_eq!(
        sum(attr, &|a| a["fills"].as_f64().unwrap()) as u64,
        sim["fills"].as_u64().unwrap()
    );
    // The text form names the same figures.
    let text = String::from_utf8(ok(foxtrot(&["report", run.to_str().unwrap()])).stdout).unwrap();
    for needle in [
        "config hash",
        "max drawdown",
        "sharpe        not shown",
        "attribution   momentum/",
        "realised",
        "turnover",
        "rejects",
        "regimes",
        "drift alarms",
        "tick_to_order",
    ] {
        assert!(text.contains(needle), "no {needle} in:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_refuses_journals_that_do_not_replay() {
    let dir = tempdir("diverged");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (a, _) = record(&dir, "a", "1");
    let (b, _) = record(&dir, "b", "2");
    // Run a's inputs with run b's orders: the replay cannot reproduce them.
    std::fs::remove_dir_all(a.join("orders")).unwrap();
    std::fs::rename(b.join("orders"), a.join("orders")).unwrap();
    let out = foxtrot(&["report", a.to_str().unwrap()]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("were recorded") && e.contains("different build"), "{e}");
    let out = foxtrot(&["report", dir.join("nothing").to_str().unwrap()]);
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run whose diary journal is damaged (one bit of a record flipped) is
/// refused with one line naming the segment, though the report is derived
/// from the inputs and the damaged records would not change it.
#[test]
fn report_refuses_a_damaged_diary() {
    let dir = tempdir("damaged-diary");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (run, _) = record(&dir, "a", "1");
    let seg = run.join("diary/00000000000000000000.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    // Inside the first records (past the 64-byte segment header and the
    // configuration record), well before the written end.
    let at = 4096;
    assert!(bytes[at..].iter().take(4096).any(|&b| b != 0), "records at byte {at}");
    bytes[at] ^= 0x10;
    std::fs::write(&seg, bytes).unwrap();
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["report", run.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = foxtrot(&args);
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "a damaged diary reported as sound {extra:?}");
        let lines: Vec<&str> = e.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{e}");
        assert!(lines[0].contains("diary") && lines[0].contains("damaged"), "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run whose `latency.json` changed after the run wrote it (a digit of its
/// p50) or no longer parses: the report is still shown from the journals,
/// says the latency is not shown and why, and the command fails with one
/// line naming the file — where a changed figure used to be reported as
/// measured, and a garbled file refused the whole report.
#[test]
fn report_shows_the_journals_and_refuses_a_damaged_latency_file() {
    let dir = tempdir("damaged-latency");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (run, sim) = record(&dir, "a", "1");
    let file = run.join("latency.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let p50 = sim["tick_to_order_ns"]["p50"].as_u64().unwrap();
    let at = text.find(&format!("\"p50\": {p50}")).expect("the p50 in latency.json");
    let digit = at + "\"p50\": ".len();
    let mut changed = text.clone().into_bytes();
    changed[digit] = if changed[digit] == b'9' {
        b'1'
    } else {
        changed[digit] + 1
    };
    for (what, bytes) in [
        ("a changed p50", changed),
        ("a garbled file", text.as_bytes()[..text.len() / 2].to_vec()),
    ] {
        std::fs::write(&file, &bytes).unwrap();
        for extra in [&[][..], &["--json"][..]] {
            let mut args = vec!["report", run.to_str().unwrap()];
            args.extend_from_slice(extra);
            let out = foxtrot(&args);
            let (o, e) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert!(!out.status.success(), "{what} reported as sound {extra:?}: {o}");
            let lines: Vec<&str> = e.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{what}: {e}");
            assert!(
                lines[0].contains("latency.json") && lines[0].contains("damaged"),
                "{what}: {e}"
            );
            assert!(
                o.contains(sim["order_hash"].as_str().unwrap()),
                "{what}: the report is shown: {o}"
            );
            assert!(
                o.contains("damaged"),
                "{what}: the report says why the latency is missing: {o}"
            );
        }
    }
    // The file as written reads back.
    std::fs::write(&file, &text).unwrap();
    ok(foxtrot(&["report", run.to_str().unwrap()]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The attribute `name="…"` of the tag that starts `element`.
fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let tag = &element[..element.find('>').unwrap_or(element.len())];
    let v = tag.split(&format!("{name}=\"")).nth(1)?;
    Some(&v[..v.find('"')?])
}

/// Whether a plot drew data: a coloured line of three points or more, or at
/// least four coloured shapes (bars, markers) — not only axes, grid, labels
/// and a legend.
fn plotted(svg: &str) -> bool {
    let coloured = |c: Option<&str>| c.is_some_and(|c| c.starts_with('#') && c != "#000000" && c != "#FFFFFF");
    let lines = svg
        .split("<polyline")
        .skip(1)
        .filter(|e| coloured(attr(e, "stroke")) && attr(e, "points").is_some_and(|p| p.split(' ').count() >= 3))
        .count();
    let shapes: usize = ["<rect", "<polygon"]
        .iter()
        .map(|t| svg.split(t).skip(1).filter(|e| coloured(attr(e, "fill"))).count())
        .sum();
    lines > 0 || shapes >= 4
}

#[test]
#[cfg_attr(not(has_chromium), ignore = "needs chromium: bash .ci/run installs it")]
fn html_report_renders_in_chromium() {
    let Some(chromium) = external::tool("chromium") else {
        return;
    };
    let dir = tempdir("html");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (run, _) = record(&dir, "run", "42");
    let page = dir.join("report.html");
    // The check itself: an empty chart is caught.
    assert!(!plotted(
        r##"<svg><rect fill="#FFFFFF"/><polyline stroke="#000000" points="0,0 1,1 2,2"/><text fill="#000000">x</text><rect fill="#466EC8"/></svg>"##
    ));
    ok(foxtrot(&[
        "report",
        run.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]));
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained inline plots, nothing fetched: equity, PnL and position per
    // instrument, a price chart per instrument, regimes, latency (and drawdown
    // when the equity ever rose above its start); every one with data drawn.
    let svgs: Vec<&str> = html
        .split("<svg")
        .skip(1)
        .map(|s| &s[..s.find("</svg>").unwrap()])
        .collect();
    assert!(svgs.len() >= 8, "{} plots", svgs.len());
    for (i, svg) in svgs.iter().enumerate() {
        assert!(plotted(svg), "plot {i} is empty");
    }
    // The regime timeline names every instrument's row (the middle one was
    // dropped once), the latency axis says what it is, a one-stage latency
    // table says why, and the drawdown is drawn or said to mirror the equity.
    let regimes = svgs
        .iter()
        .find(|s| s.contains("Regime timeline"))
        .expect("regime chart");
    for sym in ["FOXA", "FOXB", "FOXC"] {
        assert!(
            regimes.lines().any(|l| l.trim() == sym),
            "no {sym} label on the regime timeline"
        );
    }
    assert!(html.contains("latency (bucket"), "latency axis unlabelled");
    assert!(html.contains("One row: this run kept every stage on one thread"));
    assert!(html.contains("Drawdown from the running peak") || html.contains("mirrored (not drawn twice)"));
    for section in [
        "Per instrument",
        "Prices and fills",
        "Attribution by strategy",
        "Rejects by reason",
        "Fills (",
        "Orders (",
        "Drift alarms",
        "Sharpe / Sortino</th><td>not shown",
    ] {
        assert!(html.contains(section), "no {section:?}");
    }
    assert!(
        !html.contains("src=") && !html.contains("href="),
        "the page refers to other files"
    );
    let png = dir.join("shot.png");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1100,7000",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(png.exists(), "no screenshot: {}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(ch).collect();
    let non_white = px.iter().filter(|p| p[..3].iter().any(|c| *c < 235)).count();
    let share = non_white as f64 / px.len() as f64;
    let mut colours: Vec<[u8; 3]> = px.iter().map(|p| [p[0], p[1], p[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    // The plots' own colours are on the page: the equity line (70,110,200), calm
    // regime bars (102,170,102) and the drawdown fill (a pale red).
    let has = |c: [u8; 3]| px.iter().any(|p| p[..3].iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 6));
    assert!(
        share > 0.05,
        "only {:.1}% of the screenshot is not white",
        share * 100.0
    );
    assert!(colours.len() > 50, "only {} colours", colours.len());
    assert!(has([70, 110, 200]) && has([102, 170, 102]), "plot colours missing");
    let _ = std::fs::remove_dir_all(&dir);
}
