//! The `foxtrot` binary as a user runs it.

use std::process::Command;

fn foxtrot(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(args)
        .output()
        .expect("run foxtrot")
}

fn sim_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["sim", "--json"];
    a.extend_from_slice(args);
    let out = foxtrot(&a);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("sim --json prints one JSON object")
}

#[test]
fn sim_on_the_embedded_default_trades() {
    let v = sim_json(&["--events", "60000"]);
    assert_eq!(v["policy"], "regime_table");
    assert!(
        v["decisions_by_policy"].as_object().unwrap().len() >= 2,
        "several policies ran: {}",
        v["decisions_by_policy"]
    );
    assert!(v["orders"]["total"].as_u64().unwrap() > 0);
    assert!(v["fills"].as_u64().unwrap() > 0);
    assert!(v["events"]["market_data"].as_u64().unwrap() >= 60_000);
    assert!(v["tick_to_order_ns"]["p50"].as_u64().unwrap() > 0);
    assert_eq!(v["order_hash"].as_str().unwrap().len(), 32);
}

#[test]
fn same_seed_same_hashes_other_seed_other_hashes() {
    let a = sim_json(&["--events", "40000", "--seed", "5"]);
    let b = sim_json(&["--events", "40000", "--seed", "5"]);
    let c = sim_json(&["--events", "40000", "--seed", "6"]);
    for k in ["order_hash", "diary_hash", "input_hash"] {
        assert_eq!(a[k], b[k], "{k}");
        assert_ne!(a[k], c[k], "{k}");
    }
}

#[test]
fn text_summary_names_everything() {
    let out = foxtrot(&["sim", "--events", "20000", "--instruments", "5"]);
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "policy regime_table",
        "momentum",
        "regimes",
        "5 instruments",
        "orders",
        "fills",
        "rejects",
        "pnl",
        "max drawdown",
        "p99.9",
        "order hash",
        "diary hash",
        "too late: the order had filled or gone",
        "book issues (events the book could not apply",
    ] {
        assert!(s.contains(needle), "summary lacks {needle:?}:\n{s}");
    }
}

#[test]
fn gen_writes_a_readable_file_deterministically() {
    let dir = std::env::temp_dir().join(format!("foxtrot-gen-{}", std::process::id()));
    let (a, b) = (dir.join("a.fxmd"), dir.join("b.fxmd"));
    for p in [&a, &b] {
        let out = foxtrot(&["gen", "--events", "5000", "--seed", "3", "--out", p.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ba, bb);
    let (recs, err) = foxtrot_feed::native::decode_all(&ba);
    assert!(err.is_none());
    assert_eq!(recs.len(), 5000);
    // And a command reads it: imported, then backtested, every event replayed.
    let md = dir.join("a.md");
    let out = foxtrot(&[
        "import",
        "--format",
        "native",
        a.to_str().unwrap(),
        "--out",
        md.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 5000 market-data events"));
    let out = foxtrot(&["replay", md.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("replay --json");
    assert_eq!(v["market_data"].as_u64(), Some(5000), "{v}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_config_is_a_clear_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("foxtrot-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.yaml");
    let text = foxtrot_engine::config::DEFAULT_SIM_YAML.replace("max_open_orders: 16", "max_open_orders: lots");
    std::fs::write(&p, text).unwrap();
    let out = foxtrot(&["sim", "--config", p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_open_orders") && err.contains("bad.yaml:"), "{err}");
    assert!(!err.contains("panicked"));
    let out = foxtrot(&["sim", "--config", "/nonexistent/x.yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--set` is the file edited: the same run as a copy of the config with that
/// key changed, and a wrong key or value is refused with the key named.
#[test]
fn set_overrides_a_key_exactly_as_editing_the_file_would() {
    let dir = std::env::temp_dir().join(format!("foxtrot-cli-set-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let text = std::fs::read_to_string(root.join("sim.yaml"))
        .unwrap()
        .replace("    fast: 20 ", "    fast: 7  ")
        .replace(
            "belief_weights.yaml",
            &root.join("belief_weights.yaml").display().to_string(),
        );
    assert!(text.contains("    fast: 7  "));
    let edited = dir.join("edited.yaml");
    std::fs::write(&edited, text).unwrap();
    let base = sim_json(&["--events", "20000"]);
    let set = sim_json(&["--events", "20000", "--set", "strategy.momentum.fast=7"]);
    let file = sim_json(&["--events", "20000", "--config", edited.to_str().unwrap()]);
    assert_eq!(set["order_hash"], file["order_hash"]);
    assert_ne!(set["order_hash"], base["order_hash"]);
    assert_ne!(set["config_hash"], base["config_hash"]);
    // On a file too: the edited file set back is the default's run.
    let back = sim_json(&[
        "--events",
        "20000",
        "--config",
        edited.to_str().unwrap(),
        "--set",
        "strategy.momentum.fast=20",
    ]);
    assert_eq!(back["order_hash"], base["order_hash"]);
    for (arg, want) in [
        ("strategy.momentum.fats=7", "unknown field `fats`"),
        ("risk.max_order_qty=-5", "risk.max_order_qty: -5 is below the minimum"),
        ("strategy.momentum.fast", "key=value"),
    ] {
        let out = foxtrot(&["sim", "--events", "1000", "--set", arg]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{arg}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{arg}: one line: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every command that takes a configuration takes `--set` too (issue #20),
/// read from the binary's own help: `import`, `record`, `stat` and
/// `host-check` took `--config` without it. And each applies it: an import's
/// template, the stats file `stat` looks for, the cores `host-check` checks.
#[test]
fn every_command_that_takes_a_configuration_takes_set() {
    let help = String::from_utf8_lossy(&foxtrot(&["--help"]).stdout).into_owned();
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() > 10, "{help}");
    let mut configured = Vec::new();
    for c in &commands {
        let h = String::from_utf8_lossy(&foxtrot(&[c, "--help"]).stdout).into_owned();
        if h.contains("--config") || h.contains("[CONFIG]") {
            assert!(
                h.contains("--set <KEY=VALUE>"),
                "foxtrot {c} takes a configuration but no --set:\n{h}"
            );
            configured.push(c.as_str());
        }
    }
    for c in [
        "sim",
        "run",
        "replay",
        "import",
        "record",
        "stat",
        "host-check",
        "sweep",
    ] {
        assert!(configured.contains(&c), "{c} not among {configured:?}");
    }
    let dir = std::env::temp_dir().join(format!("foxtrot-cli-set-all-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // import: the key is in the directory's configuration.
    let csv = dir.join("q.csv");
    std::fs::write(
        &csv,
        "timestamp,bid,bid_size,ask,ask_size\n2026-01-05T14:30:00Z,100.00,5,100.01,5\n",
    )
    .unwrap();
    let import = |out: &std::path::Path, set: &str| {
        let (out, csv) = (out.to_str().unwrap(), csv.to_str().unwrap());
        foxtrot(&[
            "import", "--format", "csv", "--tick", "1", "--out", out, csv, "--set", set,
        ])
    };
    let md = dir.join("md");
    let out = import(&md, "risk.max_order_qty=4321");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (cfg, _) = foxtrot_engine::journal::market_data::MdSource::open(&md).unwrap();
    assert_eq!(cfg.risk.max_order_qty, 4321);
    let bad = import(&dir.join("md2"), "risk.max_order_qtx=1");
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("max_order_qtx"));
    // stat: the stats file of a run started with that key.
    let stats = dir.join("set.stats");
    let out = foxtrot(&[
        "stat",
        "--once",
        "--set",
        &format!("runtime.stats_file={}", stats.display()),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains(&stats.display().to_string()),
        "{err}"
    );
    // host-check: the cores set.
    let out = foxtrot(&["host-check", "--json", "--set", "runtime.cores=[1]"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let pinned: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|f| f["item"] == "pinned cores")
        .collect();
    assert_eq!(pinned.len(), 1, "{text}");
    assert_eq!(
        (&pinned[0]["level"], &pinned[0]["detail"]),
        (&"OK".into(), &"1".into()),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The final positions are in the summary, and their realised plus unrealised
/// PnL is the run's PnL (the split adds up; half ticks are not lost).
#[test]
fn positions_and_their_pnl_add_up_to_the_run_pnl() {
    let s = sim_json(&["--events", "20000"]);
    let positions = s["positions"].as_object().expect("positions by symbol");
    assert_eq!(positions.len(), s["instruments"].as_u64().unwrap() as usize);
    let sum: f64 = positions
        .values()
        .map(|p| p["realised"].as_f64().unwrap() + p["unrealised"].as_f64().unwrap())
        .sum();
    let pnl = s["pnl"].as_f64().unwrap();
    assert!((sum - pnl).abs() < 1e-6, "positions sum to {sum}, pnl {pnl}");
    assert!(positions.values().any(|p| p["position"].as_i64().unwrap() != 0), "{s}");
}

/// A short recorded run takes a few MiB of disk, not 64 MiB per journal: its
/// journals start with 1 MiB segments and grow only as the run does.
#[test]
fn a_short_recorded_run_is_small_on_disk() {
    let dir = std::env::temp_dir().join(format!("foxtrot-small-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = foxtrot(&[
        "sim",
        "--events",
        "20000",
        "--no-progress",
        "--record",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    fn bytes(p: &std::path::Path) -> u64 {
        std::fs::read_dir(p)
            .unwrap()
            .flatten()
            .map(|e| {
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    bytes(&e.path())
                } else {
                    m.len()
                }
            })
            .sum()
    }
    let total = bytes(&dir);
    assert!(total < 16 << 20, "a 20,000-event run took {total} bytes");
    // Production's key: full-size segments from the first.
    let full = dir.with_extension("full");
    let _ = std::fs::remove_dir_all(&full);
    let out = foxtrot(&[
        "sim",
        "--events",
        "2000",
        "--no-progress",
        "--set",
        "runtime.journal_first_segment_mb=64",
        "--record",
        full.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seg0 = std::fs::metadata(full.join("inputs/00000000000000000000.seg"))
        .unwrap()
        .len();
    assert_eq!(seg0, 64 << 20);
    std::fs::remove_dir_all(&full).ok();
    // Its journal reads as text: a header, event times, symbols and scaled prices.
    let out = foxtrot(&["journal", "cat", "--limit", "2", dir.join("inputs").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("seq") && lines[0].contains("time (UTC)"), "{text}");
    assert!(lines[1].contains(" config "), "{text}");
    assert!(
        lines[2].contains("T14:30:00.") && lines[2].contains("symbol=FOX") && lines[2].contains("price="),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `config check` names every problem of a file, each with its line, not only
/// the first: out-of-range keys together, and rules relating keys together.
#[test]
fn config_check_reports_every_error_in_a_file() {
    let dir = std::env::temp_dir().join(format!("foxtrot-cfg-all-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    std::fs::copy(root.join("belief_weights.yaml"), dir.join("belief_weights.yaml")).unwrap();
    let base = foxtrot_engine::config::DEFAULT_SIM_YAML;
    let ranges = dir.join("ranges.yaml");
    std::fs::write(
        &ranges,
        base.replace("max_open_orders: 16", "max_open_orders: 0")
            .replace("max_order_qty: 1000", "max_order_qty: 0"),
    )
    .unwrap();
    let rules = dir.join("rules.yaml");
    let text = base
        .replace("    fast: 20 ", "    fast: 200 ")
        .replace("halt_drawdown: ", "halt_drawdown: 0.5 #");
    std::fs::write(&rules, &text).unwrap();
    for (file, keys) in [
        (&ranges, ["risk.max_order_qty", "risk.max_open_orders"]),
        (&rules, ["strategy.momentum.slow", "risk.halt_drawdown"]),
    ] {
        let out = foxtrot(&["config", "check", file.to_str().unwrap()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("2 problems"), "{err}");
        for k in keys {
            assert!(err.lines().any(|l| l.contains(k) && l.contains(".yaml:")), "{k}: {err}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A run killed before its first record leaves an empty input journal: replay
/// says so (a run with nothing to replay), as the restart chain's walk does.
#[test]
fn an_empty_run_says_it_was_killed_before_its_first_record() {
    let dir = std::env::temp_dir().join(format!("foxtrot-empty-run-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("inputs")).unwrap();
    let out = foxtrot(&["replay", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds no configuration record") && err.contains("killed before its first record"),
        "{err}"
    );
    // So does the verifying replay of a killed run (the kill loop's check).
    let out = foxtrot(&["replay", dir.to_str().unwrap(), "--verify", "--killed"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no configuration record"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A run pinned to a core this process may not use fails before it makes
/// anything — no run directory a replay would call killed, no stats file —
/// naming the core and the CPUs it has.
#[test]
fn a_run_pinned_to_a_missing_core_records_nothing() {
    let d = std::env::temp_dir().join(format!("foxtrot-cli-missing-core-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let (run, stats) = (d.join("run"), d.join("stats"));
    let o = foxtrot(&[
        "run",
        "--set",
        "runtime.layout=fused",
        "--set",
        "runtime.cores=[4095]",
        "--record",
        run.to_str().unwrap(),
        "--stats",
        stats.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("runtime.cores: core 4095 is not available to this process (its CPUs: 0"),
        "{e}"
    );
    assert!(!run.exists() && !stats.exists(), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
