//! Structured logs: `--log-format json` gives one JSON object per line with stable
//! field names, and a configured secret appears in no log line, no output and no
//! journalled byte.

mod common;
use common::{tempdir, RemoveOnSuccess};
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "Tr0ub4dor-and-3-horses";

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

/// A copy of the default config with Logon credentials, written beside the
/// shipped weights file's copy in `dir`.
fn config_with_password(dir: &Path, password_yaml: &str) -> PathBuf {
    let text = std::fs::read_to_string(configs().join("sim.yaml")).unwrap().replace(
        "  target_comp_id: SIMVENUE\n",
        &format!("  target_comp_id: SIMVENUE\n  username: trader\n  password: {password_yaml}\n"),
    );
    std::fs::copy(configs().join("belief_weights.yaml"), dir.join("belief_weights.yaml")).unwrap();
    let p = dir.join("with-secret.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn run_sim(cfg: &Path, run_dir: &Path, format: &str) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args([
            "--log-format",
            format,
            "sim",
            "--no-progress",
            "--events",
            "3000",
            "--config",
        ])
        .arg(cfg)
        .arg("--record")
        .arg(run_dir)
        .env("FOXTROT_TEST_FIX_PASSWORD", PASSWORD)
        .output()
        .expect("run foxtrot");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn json_logs_have_stable_fields_and_no_secret() {
    let dir = tempdir("json");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let cfg = config_with_password(&dir, PASSWORD);
    let run_dir = dir.join("run");
    let out = run_sim(&cfg, &run_dir, "json");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(events.len() >= 3, "{stderr}");
    for e in &events {
        for k in ["timestamp", "level", "message", "target"] {
            assert!(e.get(k).is_some(), "no {k} in {e}");
        }
    }
    let loaded = events
        .iter()
        .find(|e| e["message"] == "configuration loaded")
        .expect("load event");
    assert_eq!(loaded["config_hash"].as_str().unwrap().len(), 16);
    // The session is named by its identity; its password is nowhere.
    assert!(loaded["session"].as_str().unwrap().contains("->"), "{loaded}");
    assert!(events
        .iter()
        .any(|e| e["message"] == "recorded" && e["dir"].as_str().is_some()));
    let finished = events
        .iter()
        .find(|e| e["message"] == "sim finished")
        .expect("finish event");
    assert!(finished["orders"].as_u64().is_some() && finished["order_hash"].as_str().is_some());
    // Money and seconds are logged rounded (no `-2498.1800000000003`).
    for (k, places) in [("pnl", 2), ("wall_s", 3)] {
        let text = finished[k].to_string();
        let decimals = text.split('.').nth(1).map_or(0, str::len);
        assert!(decimals <= places, "{k} = {text}");
    }
    // Nowhere: not in the logs, not in the summary, not in any journalled byte.
    assert!(!stderr.contains(PASSWORD));
    assert!(!contains(&out.stdout, PASSWORD));
    let journalled = files(&run_dir);
    assert!(journalled.len() >= 6, "{journalled:?}");
    for f in journalled {
        assert!(
            !contains(&std::fs::read(&f).unwrap(), PASSWORD),
            "secret in {}",
            f.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn human_logs_and_env_secrets_are_redacted_too() {
    let dir = tempdir("human");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let cfg = config_with_password(&dir, "env:FOXTROT_TEST_FIX_PASSWORD");
    let run_dir = dir.join("run");
    let out = run_sim(&cfg, &run_dir, "human");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(stderr.contains("configuration loaded"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !contains(&out.stdout, PASSWORD));
    for f in files(&run_dir) {
        assert!(
            !contains(&std::fs::read(&f).unwrap(), PASSWORD),
            "secret in {}",
            f.display()
        );
    }
    // `config check --effective` prints the effective config with the placeholder.
    let c = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(["config", "check", "--effective"])
        .arg(&cfg)
        .env("FOXTROT_TEST_FIX_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let text = String::from_utf8(c.stdout).unwrap();
    assert!(
        text.contains("password: \"<redacted>\"") && !text.contains(PASSWORD),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_errors_are_log_events() {
    let out = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(["--log-format", "json", "config", "check", "/no/such/config.yaml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    for l in String::from_utf8(out.stderr).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert_eq!(v["level"], "ERROR");
    }
}
