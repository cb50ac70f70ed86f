//! The incident runbook, run: every `sh` block of `docs/runbook.md`, in the
//! order the page gives them, against a real `foxtrot venue` and `foxtrot run`
//! — kill switch, engine crash and resume, venue crash and resume, rollback to
//! the previous promoted policy, replay of the day's journals. Then what the
//! page promises: no ClOrdID twice, the engine's fills equal to the venue's,
//! the rolled-back policy trading at the end.

mod common;

use common::{free_port, ok, paper_config, tempdir, RemoveOnSuccess};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The page's shell blocks, in order.
fn blocks(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find("```sh\n") {
        let body = &rest[i + 6..];
        let end = body.find("```").expect("a closed block");
        out.push(body[..end].to_string());
        rest = &body[end + 3..];
    }
    out
}

/// Kills the drill's processes (by their pid files) if it stops half way.
struct Stop<'a>(&'a Path);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        for f in ["engine.pid", "venue.pid"] {
            if let Ok(pid) = std::fs::read_to_string(self.0.join(f)) {
                let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            }
        }
    }
}

fn json(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text}"))
}

fn u(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} missing in {v}"))
}

#[test]
fn every_runbook_step_runs_in_order() {
    let dir = tempdir("runbook");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = std::fs::read_to_string(root.join("docs/runbook.md")).unwrap();
    let steps = blocks(&page);
    assert_eq!(steps.len(), 6, "the page's six steps");

    // The ledger as the desk left it: two promoted policies, the newer current.
    let base = paper_config(&dir, "FIX.4.4", free_port(false), free_port(true));
    let text = std::fs::read_to_string(&base).unwrap();
    let previous = dir.join("previous.yaml");
    let newer = dir.join("newer.yaml");
    std::fs::write(&previous, &text).unwrap();
    std::fs::write(&newer, text.replace("    fast: 20 ", "    fast: 12 ")).unwrap();
    let ledger = dir.join("ledger");
    let mut hashes = Vec::new();
    for (name, cfg) in [("previous", &previous), ("newer", &newer)] {
        let line = ok(&[
            "policy",
            "add",
            cfg.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
            "--by",
            "research",
        ]);
        let hash = line.split_whitespace().nth(2).unwrap().to_string();
        let evidence = dir.join(format!("evidence-{name}"));
        ok(&[
            "sim",
            "--config",
            cfg.to_str().unwrap(),
            "--events",
            "20000",
            "--no-progress",
            "--record",
            evidence.to_str().unwrap(),
        ]);
        ok(&[
            "policy",
            "promote",
            &hash,
            "--evidence",
            evidence.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
            "--by",
            "risk",
        ]);
        hashes.push(hash);
    }

    let bin = Path::new(env!("CARGO_BIN_EXE_foxtrot")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let _stop = Stop(&dir);
    for (i, step) in steps.iter().enumerate() {
        let out = Command::new("timeout")
            .args(["180", "bash", "-euo", "pipefail", "-c", step])
            .current_dir(&dir)
            .env("PATH", &path)
            .output()
            .expect("bash");
        let log = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        assert!(
            out.status.success(),
            "step {} failed ({}):\n{step}\nstdout:\n{}\nstderr:\n{}\nrun logs:\n{}{}{}",
            i + 1,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            log("run1.log"),
            log("run2.log"),
            log("run3.log")
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // The venue's second life saw every ClOrdID of the day once.
    let venue = json(&dir, "venue2.json");
    assert_eq!(u(&venue, "duplicate_cl_ord_ids"), 0, "{venue}");
    assert_eq!(u(&venue, "duplicates_in_store"), 0, "{venue}");
    // Fills: the resumed chain (runs 1–2) and the fresh run 3, against the store.
    let (r2, r3) = (json(&dir, "run2.json"), json(&dir, "run3.json"));
    assert_eq!(
        u(&r2, "fills") + u(&r3, "fills"),
        u(&venue, "fills_in_store"),
        "engine fills vs the venue's\nrun2: {r2}\nrun3: {r3}\nvenue: {venue}"
    );
    // Run 3 traded the previous policy, rebuilt from the ledger.
    let cfg3 = ok(&["config", "check", dir.join("live.yaml").to_str().unwrap()]);
    assert!(cfg3.contains(&hashes[0]), "{cfg3} vs {hashes:?}");
    assert_eq!(r3["config_hash"].as_str(), Some(hashes[0].as_str()), "{r3}");
    assert!(u(&r3, "fills") > 0, "the rolled-back policy traded: {r3}");
    // Run 2 lived through the venue's crash: it reconnected.
    assert!(r2["fix"]["reconnects"].as_u64().unwrap_or(0) >= 1, "{r2}");
    let list = ok(&["policy", "list", "--ledger", ledger.to_str().unwrap()]);
    assert!(list.contains("rollback") && list.contains("incident drill"), "{list}");
}
