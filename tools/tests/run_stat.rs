//! `foxtrot run` as a real process, watched by `foxtrot stat` from another
//! process, then stopped with SIGINT: counters move, histograms fill, the rings
//! drain, and the journal it leaves replays to the same outputs.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod external;

use external::KillOnDrop;

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stat(file: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(["stat", "--once", "--json", "--file"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn global(v: &serde_json::Value, name: &str) -> u64 {
    v["globals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == name)
        .unwrap_or_else(|| panic!("no counter {name}"))[1]
        .as_u64()
        .unwrap()
}

#[test]
fn stat_watches_a_running_pipeline_and_sigint_drains_it() {
    let dir = std::env::temp_dir().join(format!("foxtrot-runstat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _clean = RemoveOnDrop(dir.clone());
    let stats = dir.join("run.stats");
    let rec = dir.join("rec");
    // Long enough never to finish on its own: it is stopped by SIGINT.
    let child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_foxtrot"))
            .args([
                "run",
                "--layout",
                "per_stage",
                "--wait",
                "park",
                "--events",
                "500000000",
                "--json",
                "--status-every",
                "0.2",
            ])
            .arg("--stats")
            .arg(&stats)
            .arg("--record")
            .arg(&rec)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let t0 = Instant::now();
    let first = loop {
        if stats.exists() {
            let v = stat(&stats);
            if global(&v, "inputs") > 1000 {
                break v;
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no progress in the stats file");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Every counter must move; on a loaded machine a heartbeat (1 s of event
    // time) can take a while, so wait for it rather than for a fixed time.
    let moving = ["inputs", "market_data", "event_time_ns", "heartbeats"];
    let second = loop {
        std::thread::sleep(Duration::from_millis(200));
        let v = stat(&stats);
        assert_eq!(v["state"], "running");
        if moving.iter().all(|c| global(&v, c) > global(&first, c)) {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "counters did not all move: {first} → {v}"
        );
    };
    let hists = second["hists"].as_array().unwrap();
    for name in ["exit.sensory", "exit.pipeline"] {
        let h = hists.iter().find(|h| h["name"] == name).unwrap();
        assert!(h["count"].as_u64().unwrap() > 0, "{name} has samples");
        assert!(h["p50"].as_u64().unwrap() > 0);
    }
    assert_eq!(second["threads"].as_array().unwrap().len(), 5, "one thread per stage");

    // An operator's controls reach a paper run against the simulated venue
    // too: kill (every open order cancelled, no new one), then re-arm.
    let ctl = |cmd: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
            .arg("ctl")
            .arg(&rec)
            .arg(cmd)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ctl {cmd}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let killed = ctl("kill");
    assert!(
        killed.contains("kill applied")
            && killed.contains("trading         killed")
            && killed.contains(", 0 open orders"),
        "{killed}"
    );
    let rearmed = ctl("rearm");
    assert!(rearmed.contains("trading         normal"), "{rearmed}");

    // Long enough for a few status lines (every 0.2 s) whatever the machine's speed.
    std::thread::sleep(Duration::from_millis(800));
    // SIGINT: the run stops, drains, flushes and reports.
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) }, 0);
    let mut child = child;
    let t1 = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(t1.elapsed() < Duration::from_secs(30), "did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(status.success(), "exit {status:?}");
    // It said how it was doing while it ran: status lines with its figures.
    let mut err = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    let running: Vec<&str> = err.lines().filter(|l| l.contains(" running ")).collect();
    assert!(
        !running.is_empty() && running.iter().all(|l| l.contains("inputs=") && l.contains("equity=")),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stopped"], true);
    assert_eq!(v["runtime"]["state"], "finished");
    let last = stat(&stats);
    assert_eq!(last["state"], "finished");
    assert_eq!(global(&last, "inputs"), v["events"]["inputs"].as_u64().unwrap());

    // The journal holds every input that was processed, the operator's two
    // commands among them: replay verifies.
    let out = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(["replay", "--verify"])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "replay --verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cat = Command::new(env!("CARGO_BIN_EXE_foxtrot"))
        .args(["journal", "cat"])
        .arg(rec.join("inputs"))
        .output()
        .unwrap();
    let commands: Vec<String> = String::from_utf8_lossy(&cat.stdout)
        .lines()
        .filter(|l| l.contains(" command "))
        .map(|l| l.split_whitespace().last().unwrap_or("").to_string())
        .collect();
    assert_eq!(commands, ["action=kill", "action=rearm"]);
}
