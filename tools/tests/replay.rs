//! Record a sim, replay it: identical outputs; change one config value: the first
//! divergence is named; damage the journal: the damage is named.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn foxtrot(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(args)
        .output()
        .expect("run foxtrot")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("foxtrot-replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn record(dir: &Path) -> serde_json::Value {
    json(&foxtrot(&[
        "sim",
        "--events",
        "40000",
        "--json",
        "--record",
        dir.to_str().unwrap(),
    ]))
}

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

#[test]
fn replay_reproduces_the_recorded_hashes_and_verifies() {
    let d = tmp("ok");
    let sim = record(&d);
    let r = json(&foxtrot(&["replay", d.to_str().unwrap(), "--verify", "--json"]));
    assert_eq!(r["order_hash"], sim["order_hash"]);
    assert_eq!(r["diary_hash"], sim["diary_hash"]);
    assert_eq!(r["verified"], true);
    assert_eq!(r["inputs"], sim["events"]["inputs"]);
    // Replaying into new journals gives byte-identical output journals.
    let out = d.join("again");
    json(&foxtrot(&[
        "replay",
        d.to_str().unwrap(),
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    for j in ["orders", "diary"] {
        let read = |p: PathBuf| {
            let mut v = Vec::new();
            let mut r = foxtrot_shm::JournalReader::open(&p).unwrap();
            while let Some(x) = r.next().unwrap() {
                v.push((x.kind, x.seq, x.ts_ns, x.payload.to_vec()));
            }
            v
        };
        assert_eq!(read(d.join(j)), read(out.join(j)), "{j} journal differs");
    }
    // The same configuration from a file (other generator settings do not matter).
    let same = configs().join("sim.yaml");
    let r = json(&foxtrot(&[
        "replay",
        d.to_str().unwrap(),
        "--verify",
        "--json",
        "--config",
        same.to_str().unwrap(),
    ]));
    assert_eq!(r["verified"], true);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_changed_config_value_reports_the_first_divergence() {
    let d = tmp("diverge");
    record(&d);
    let text = std::fs::read_to_string(configs().join("sim.yaml")).unwrap();
    let changed = text.replace(
        "    qty: 50\n    half_spread_ticks: 1",
        "    qty: 40\n    half_spread_ticks: 1",
    );
    assert_ne!(text, changed);
    let p = configs().join(format!("changed-{}.yaml", std::process::id()));
    std::fs::write(&p, changed).unwrap();
    let out = foxtrot(&[
        "replay",
        d.to_str().unwrap(),
        "--verify",
        "--config",
        p.to_str().unwrap(),
    ]);
    std::fs::remove_file(&p).ok();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("first divergence at seq "), "{err}");
    // The named seq is a real input of the run, and the diverging order shows the new size.
    let seq: u64 = err
        .split("first divergence at seq ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seq > 0);
    assert!(err.contains("38=000000000040") || err.contains("diary"), "{err}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn journal_cli_and_damage() {
    let d = tmp("cli");
    record(&d);
    let inputs = d.join("inputs");
    let info = json(&foxtrot(&["journal", "info", inputs.to_str().unwrap(), "--json"]));
    assert!(info["records"].as_u64().unwrap() > 40_000);
    let cat = foxtrot(&["journal", "cat", d.join("orders").to_str().unwrap(), "--limit", "3"]);
    assert!(cat.status.success());
    assert_eq!(
        String::from_utf8_lossy(&cat.stdout)
            .lines()
            .filter(|l| l.contains("fix=8=FIX.4.4|"))
            .count(),
        3
    );
    let cat = foxtrot(&[
        "journal",
        "cat",
        inputs.to_str().unwrap(),
        "--json",
        "--from-seq",
        "100",
        "--limit",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&cat.stdout).unwrap();
    assert_eq!(v["seq"], 100);
    assert!(foxtrot(&["journal", "verify", inputs.to_str().unwrap()])
        .status
        .success());
    // Flip a byte in the middle of the inputs journal: verify and replay name where.
    let seg = inputs.join("00000000000000000000.seg");
    let mut b = std::fs::read(&seg).unwrap();
    b[100_000] ^= 0x40;
    std::fs::write(&seg, b).unwrap();
    let v = foxtrot(&["journal", "verify", inputs.to_str().unwrap()]);
    assert!(!v.status.success());
    let e = String::from_utf8_lossy(&v.stderr);
    assert!(
        e.contains("segment 0") && e.contains("offset ") && e.contains("damaged"),
        "{e}"
    );
    let r = foxtrot(&["replay", d.to_str().unwrap()]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("damaged"));
    // A run directory is not a journal: say which to name.
    let e = foxtrot(&["journal", "info", d.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("run directory"));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn journal_cat_explains_rejects() {
    let d = tmp("rejects");
    let cfg = configs().join("adversarial.yaml");
    let out = foxtrot(&[
        "sim",
        "--config",
        cfg.to_str().unwrap(),
        "--events",
        "100000",
        "--json",
        "--record",
        d.to_str().unwrap(),
    ]);
    let sim = json(&out);
    assert!(
        !sim["rejects"]["risk"].as_object().unwrap().is_empty(),
        "the stress config rejects something"
    );
    let cat = foxtrot(&["journal", "cat", d.join("orders").to_str().unwrap(), "--json"]);
    assert!(cat.status.success());
    let rejects: Vec<serde_json::Value> = String::from_utf8_lossy(&cat.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "reject")
        .collect();
    assert!(!rejects.is_empty());
    for r in &rejects {
        let reason = r["reason"].as_str().unwrap();
        let msg = r["message"].as_str().unwrap();
        assert!(msg.starts_with(&format!("{reason}: ")), "{msg}");
        assert!(
            msg.contains(&r["value"].to_string()) || reason == "PRICE_BAND",
            "{msg} names the value"
        );
    }
    std::fs::remove_dir_all(&d).ok();
}

/// An input journal cut at a record boundary: `replay --verify` names the
/// damaged input journal, instead of blaming the outputs it no longer produces.
#[test]
fn replay_verify_names_a_truncated_input_journal() {
    let d = std::env::temp_dir().join(format!("foxtrot-replay-trunc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let o = foxtrot(&[
        "sim",
        "--no-progress",
        "--events",
        "20000",
        "--record",
        d.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let seg = d.join("inputs/00000000000000000000.seg");
    // Cut after the 5000th record, exactly at its end.
    let mut r = foxtrot_shm::JournalReader::open(&d.join("inputs")).unwrap();
    let mut end = 0;
    for _ in 0..5000 {
        let x = r.next().unwrap().unwrap();
        end = x.offset + foxtrot_shm::journal::layout::record_len(x.payload.len()) as u64;
    }
    drop(r);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(end)
        .unwrap();
    let v = foxtrot(&["replay", d.to_str().unwrap(), "--verify"]);
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(!v.status.success(), "{err}");
    assert!(
        err.contains("inputs/00000000000000000000.seg") && err.contains("truncated"),
        "{err}"
    );
    assert!(!err.contains("divergence") && !err.contains("diary stream"), "{err}");
    std::fs::remove_dir_all(&d).ok();
}

/// `timers.enabled=false`: no timer is sequenced, orders still flow, and the
/// recorded run replays to the same hashes.
#[test]
fn a_run_without_housekeeping_timers_records_and_replays() {
    let d = common::tempdir("notimers");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let run = d.join("run");
    let out = common::ok(&[
        "sim",
        "--no-progress",
        "--events",
        "30000",
        "--set",
        "timers.enabled=false",
        "--json",
        "--record",
        run.to_str().unwrap(),
    ]);
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["events"]["timers"], 0, "{j}");
    assert!(j["orders"]["total"].as_u64().unwrap() > 0, "{j}");
    let v = common::ok(&["replay", run.to_str().unwrap(), "--verify", "--json"]);
    let v: serde_json::Value = serde_json::from_str(v.lines().last().unwrap()).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["order_hash"], j["order_hash"]);
}

/// `belief.enabled=false`: no belief units, so no drift alarm; the regimes
/// still move, orders still flow, and the recorded run replays.
#[test]
fn a_run_without_the_belief_emitter_records_and_replays() {
    let d = common::tempdir("nobelief");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let run = d.join("run");
    let args = |off: bool| {
        let mut a = vec!["sim", "--no-progress", "--events", "60000", "--json"];
        if off {
            a.extend(["--set", "belief.enabled=false", "--record", run.to_str().unwrap()]);
        }
        a
    };
    let on: serde_json::Value = serde_json::from_str(common::ok(&args(false)).trim()).unwrap();
    let off: serde_json::Value = serde_json::from_str(common::ok(&args(true)).trim()).unwrap();
    assert!(
        on["drift_alarms"].as_u64().unwrap() > 0,
        "the sentry fires with the emitter on: {on}"
    );
    assert_eq!(off["drift_alarms"], 0, "{off}");
    assert!(off["transitions"].as_u64().unwrap() > 0, "{off}");
    assert!(off["orders"]["total"].as_u64().unwrap() > 0, "{off}");
    let v = common::ok(&["replay", run.to_str().unwrap(), "--verify", "--json"]);
    let v: serde_json::Value = serde_json::from_str(v.lines().last().unwrap()).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["order_hash"], off["order_hash"]);
}

/// Where the last record of the journal in `dir` starts: (segment, offset).
fn last_record(dir: &Path) -> (u64, u64) {
    let mut r = foxtrot_shm::JournalReader::open(dir).unwrap();
    let mut last = None;
    while let Some(x) = r.next().unwrap() {
        last = Some((x.segment, x.offset));
    }
    last.expect("a record")
}

/// A run that ended on its own terms has an end record, and its outputs must
/// then be whole: a diary that lost its last records (zeroed from a record's
/// start, as a lost tail reads, which no check of the records can see) fails
/// `replay --verify`, `report` and `export`, named against the end record's
/// count — and `--verify --killed`, which accepts a killed run's outputs cut
/// short, is refused for it rather than reporting the loss as "identical as
/// far as they go".
#[test]
fn an_ended_run_is_held_to_whole_outputs() {
    let d = tmp("ended");
    record(&d);
    let r = json(&foxtrot(&["replay", d.to_str().unwrap(), "--verify", "--json"]));
    assert_eq!(
        (r["verified"].as_bool(), r["ended"].as_bool()),
        (Some(true), Some(true))
    );
    let text = foxtrot(&["replay", d.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("run end       ended on its own terms"), "{text}");
    // A replay's own recording ends as the run did; it is not written twice.
    let again = d.join("again");
    let (run, out) = (d.to_str().unwrap(), again.to_str().unwrap());
    json(&foxtrot(&["replay", run, "--json", "--out", out]));
    let r = json(&foxtrot(&["replay", out, "--verify", "--json"]));
    assert_eq!(
        (r["verified"].as_bool(), r["ended"].as_bool()),
        (Some(true), Some(true))
    );
    let twice = foxtrot(&["replay", run, "--out", out]);
    let err = String::from_utf8_lossy(&twice.stderr);
    assert!(
        !twice.status.success() && err.contains("already holds a recorded run"),
        "{err}"
    );
    // A run directory mistyped is refused, and not made.
    let typo = d.join("agian");
    let e = foxtrot(&["export", "--parquet", typo.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&e.stderr);
    assert!(!e.status.success() && err.contains("no such journal"), "{err}");
    assert!(!typo.exists(), "export made {}", typo.display());
    let said = foxtrot(&["export", "--parquet", out]);
    let said = String::from_utf8_lossy(&said.stdout);
    assert!(said.contains("run end  ended on its own terms"), "{said}");
    // Without its end record (as a kill after the last input leaves it), the
    // copy exports what it holds and says it may stop short; `--killed`
    // verifies it as a prefix.
    let (seg, at) = last_record(&again.join("inputs"));
    let path = again.join(format!("inputs/{seg:020}.seg"));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at as usize..].fill(0);
    std::fs::write(&path, bytes).unwrap();
    let said = foxtrot(&["export", "--parquet", out, "--out", again.join("pq2").to_str().unwrap()]);
    let said = String::from_utf8_lossy(&said.stdout);
    assert!(said.contains("run end  no end record: the engine was killed"), "{said}");
    let k = json(&foxtrot(&["replay", out, "--verify", "--killed", "--json"]));
    assert_eq!(
        (k["verified"].as_bool(), k["ended"].as_bool()),
        (Some(true), Some(false))
    );
    // And its diary's last record lost too, as a kill leaves outputs: the
    // verify that holds them whole fails, saying why; `--killed` passes.
    let (seg, at) = last_record(&again.join("diary"));
    let path = again.join(format!("diary/{seg:020}.seg"));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at as usize..].fill(0);
    std::fs::write(&path, bytes).unwrap();
    let v = foxtrot(&["replay", out, "--verify"]);
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(
        !v.status.success() && err.contains("recorded: end of journal") && err.contains("the run has no end record"),
        "{err}"
    );
    let k = json(&foxtrot(&["replay", out, "--verify", "--killed", "--json"]));
    assert_eq!(
        (k["verified"].as_bool(), k["past_recorded_end"].as_u64()),
        (Some(true), Some(1)),
        "{k}"
    );

    // The diary's last 5 records lost.
    let mut r = foxtrot_shm::JournalReader::open(&d.join("diary")).unwrap();
    let mut starts = Vec::new();
    while let Some(x) = r.next().unwrap() {
        starts.push((x.segment, x.offset));
    }
    drop(r);
    assert!(starts.len() > 100, "{} diary records", starts.len());
    let (seg, from) = starts[starts.len() - 5];
    assert!(
        starts[starts.len() - 1].0 == seg,
        "the last 5 diary records share a segment"
    );
    let path = d.join(format!("diary/{seg:020}.seg"));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[from as usize..].fill(0);
    std::fs::write(&path, bytes).unwrap();

    // The end record counts the diary's records: every reader of the
    // outputs names the loss before using them.
    let cut = format!(
        "diary: holds {} records, but the run's end record counts {}",
        starts.len() - 5,
        starts.len()
    );
    for args in [&["replay", "--verify"][..], &["report"], &["export", "--parquet"]] {
        let v = foxtrot(&[args, &[d.to_str().unwrap()]].concat());
        let err = String::from_utf8_lossy(&v.stderr);
        assert!(!v.status.success() && err.contains(&cut), "{args:?}: {err}");
    }
    let k = foxtrot(&["replay", d.to_str().unwrap(), "--verify", "--killed"]);
    let err = String::from_utf8_lossy(&k.stderr);
    assert!(!k.status.success(), "{}", String::from_utf8_lossy(&k.stdout));
    assert!(
        err.contains("the run ended on its own terms") && err.contains("--killed"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).ok();
}

/// `--verify` under a configuration of the replay's own (`--set`): a
/// divergence says the configuration was changed from the recorded one, not
/// only that outputs differ; without the `--set` the run verifies.
#[test]
fn a_divergence_under_a_changed_configuration_says_so() {
    let d = common::tempdir("replay-set-verify");
    let _cleanup = common::RemoveOnSuccess(d.clone());
    let run = d.join("run");
    let r = run.to_str().unwrap();
    common::ok(&["sim", "--events", "20000", "--record", r]);
    common::ok(&["replay", r, "--verify"]);
    let o = common::foxtrot(&["replay", r, "--verify", "--set", "strategy.momentum.fast=3"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains("first divergence at seq"), "{e}");
    assert!(
        e.contains("replayed under another configuration than the recorded one")
            && e.contains("--set/--config changed it"),
        "{e}"
    );
}
