//! `foxtrot policy`: the ledger's gates refuse what they should, and any entry
//! rebuilds to the configuration that was added, byte for byte.

mod common;

use common::{command, foxtrot, ok, ok_cmd, tempdir, RemoveOnSuccess};

/// `foxtrot sim --config CONFIG --events 15000 --record DIR`; the directory.
fn record_sim(config: &std::path::Path, dir: &std::path::Path) -> std::path::PathBuf {
    ok(&[
        "sim",
        "--config",
        config.to_str().unwrap(),
        "--events",
        "15000",
        "--no-progress",
        "--record",
        dir.to_str().unwrap(),
    ]);
    dir.to_path_buf()
}

/// Two configurations in `d`: `configs/sim.yaml` (a) and the same with a
/// faster momentum EMA (b), beside the weights file they name.
/// `foxtrot policy promote HASH --evidence RUN --ledger L --by WHO`.
fn promote(hash: &str, evidence: &std::path::Path, ledger: &str, by: &str) -> std::process::Command {
    let mut c = command();
    c.args(["policy", "promote", hash, "--evidence"])
        .arg(evidence)
        .args(["--ledger", ledger, "--by", by]);
    c
}

fn two_configs(d: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    std::fs::copy(root.join("belief_weights.yaml"), d.join("belief_weights.yaml")).unwrap();
    let text = std::fs::read_to_string(root.join("sim.yaml")).unwrap();
    let (a, b) = (d.join("a.yaml"), d.join("b.yaml"));
    std::fs::write(&a, &text).unwrap();
    std::fs::write(&b, text.replace("    fast: 20 ", "    fast: 9  ")).unwrap();
    (a, b)
}

#[test]
fn gates_refuse_foreign_evidence_and_rebuild_is_byte_identical() {
    let d = tempdir("policy");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (a, b) = two_configs(&d);
    let ledger = d.join("ledger");
    let l = ledger.to_str().unwrap();
    let hash = |line: String| line.split_whitespace().nth(2).unwrap().to_string();
    let ha = hash(ok(&["policy", "add", a.to_str().unwrap(), "--ledger", l, "--by", "x"]));
    let hb = hash(ok(&["policy", "add", b.to_str().unwrap(), "--ledger", l, "--by", "x"]));
    assert_ne!(ha, hb);
    // Adding the same configuration again adds nothing.
    ok(&["policy", "add", a.to_str().unwrap(), "--ledger", l, "--by", "x"]);
    assert_eq!(ok(&["policy", "list", "--ledger", l]).lines().count(), 2);

    let ev_a = record_sim(&a, &d.join("ev-a"));
    // B's promotion on A's run: another policy decided it; refused, nothing appended.
    let o = promote(&hb, &ev_a, l, "r").output().unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("same policy false"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A damaged evidence run does not replay: refused too.
    let damaged = record_sim(&a, &d.join("ev-damaged"));
    let seg = damaged.join("orders/00000000000000000000.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[10_000] ^= 0x20;
    std::fs::write(&seg, bytes).unwrap();
    let o = promote(&ha, &damaged, l, "r").output().unwrap();
    assert!(!o.status.success(), "a damaged run was accepted as evidence");
    assert_eq!(ok(&["policy", "list", "--ledger", l]).lines().count(), 2);

    ok_cmd(&mut promote(&ha, &ev_a, l, "r"));
    // One promotion: nothing to roll back to.
    let o = foxtrot(&["policy", "rollback", "--ledger", l, "--by", "r", "--reason", "x"]);
    assert!(!o.status.success());
    // The rebuilt configuration is the file's effective configuration, byte for byte.
    let rebuilt = ok(&["policy", "rebuild", &ha[..8], "--ledger", l]);
    let check = ok(&["config", "check", "--effective", a.to_str().unwrap()]);
    assert!(
        check.ends_with(&rebuilt),
        "rebuild differs from the effective configuration"
    );
    assert_eq!(ok(&["policy", "current", "--ledger", l]), rebuilt);

    // B promoted on its own run, then rolled back: A is current again, and
    // the KPIs count both promotions, the rollback and its latency.
    let ev_b = record_sim(&b, &d.join("ev-b"));
    ok_cmd(&mut promote(&hb, &ev_b, l, "r"));
    std::thread::sleep(std::time::Duration::from_millis(50));
    ok(&[
        "policy",
        "rollback",
        "--ledger",
        l,
        "--by",
        "r",
        "--reason",
        "worse live",
    ]);
    assert_eq!(ok(&["policy", "current", "--ledger", l]), rebuilt);
    let k: serde_json::Value = serde_json::from_str(&ok(&["policy", "kpi", "--ledger", l, "--json"])).unwrap();
    assert_eq!(
        (k["promotions"].as_u64(), k["rollbacks"].as_u64()),
        (Some(2), Some(1)),
        "{k}"
    );
    assert_eq!(k["candidates"], 2, "two candidates added by hand: {k}");
    let lat = k["rollback_latency_seconds"].as_f64().unwrap();
    assert!((0.05..60.0).contains(&lat), "{k}");
    let r: serde_json::Value = serde_json::from_str(&ok(&["report", l, "--json"])).unwrap();
    assert_eq!(r["kpis"], k);
    assert_eq!(r["entries"], 5);
}

/// Two commands on one ledger, the way an operator and a long `foxtrot evolve`
/// share it: an entry appended by a ledger read before another command's
/// append is numbered after it (they both took number 1), an identical
/// candidate is not added twice, and a promotion decided on the state before
/// another promotion is refused, appending nothing.
#[test]
fn a_ledger_read_before_another_commands_append_numbers_after_it_and_refuses_a_stale_promotion() {
    use foxtrot_tools::policy::{EntryKind, Ledger};
    let d = tempdir("policy-stale");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (a, b) = two_configs(&d);
    let ledger = d.join("ledger");
    let l = ledger.to_str().unwrap();
    let mut stale = Ledger::open(&ledger).unwrap();
    let hash = |line: String| line.split_whitespace().nth(2).unwrap().to_string();
    let ha = hash(ok(&["policy", "add", a.to_str().unwrap(), "--ledger", l, "--by", "op"]));
    let cb = foxtrot_engine::Config::load(&b).unwrap();
    let eb = stale.add(&cb, "evolve", "").unwrap();
    assert_eq!(eb.n, 2, "numbered after the other command's entry");
    let ca = foxtrot_engine::Config::load(&a).unwrap();
    assert_eq!(
        stale.add(&ca, "evolve", "").unwrap().n,
        1,
        "the candidate another command added"
    );
    let numbers: Vec<u64> = Ledger::open(&ledger).unwrap().entries().iter().map(|e| e.n).collect();
    assert_eq!(numbers, [1, 2]);

    let ev_a = record_sim(&a, &d.join("ev-a"));
    let mut stale = Ledger::open(&ledger).unwrap();
    ok_cmd(&mut promote(&ha, &ev_a, l, "op"));
    let e = stale.promote(&ha, &[ev_a], "evolve", "").unwrap_err().to_string();
    assert!(
        e.contains("the ledger changed since it was read: entry 3 (Promotion"),
        "{e}"
    );
    let fresh = Ledger::open(&ledger).unwrap();
    let kinds: Vec<EntryKind> = fresh.entries().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EntryKind::Candidate, EntryKind::Candidate, EntryKind::Promotion]
    );
    std::fs::remove_dir_all(&d).ok();
}

/// Reading a ledger that is not there — a mistyped `--ledger` — is an error
/// naming it, not an empty ledger's answer; an empty directory is an empty
/// ledger.
#[test]
fn a_ledger_that_is_not_there_is_named_not_read_as_empty() {
    let d = tempdir("policy-no-ledger");
    let _cleanup = RemoveOnSuccess(d.clone());
    let typo = d.join("ledgr");
    let t = typo.to_str().unwrap();
    for cmd in [&["list"][..], &["kpi"], &["current"], &["rebuild", "abc"]] {
        let mut a = vec!["policy", "--ledger", t];
        a.extend_from_slice(cmd);
        let o = foxtrot(&a);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && e.contains("ledgr: no such directory, so no ledger"),
            "{a:?}: {e}"
        );
        assert!(o.stdout.is_empty(), "{a:?}");
    }
    assert!(!typo.exists());
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(ok(&["policy", "--ledger", empty.to_str().unwrap(), "list"]), "");
}
