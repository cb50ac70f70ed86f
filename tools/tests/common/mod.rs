//! Helpers shared by the command-line tests: a fresh directory per test and the
//! `foxtrot` binary, run to completion or built up as a `Command`.

#![allow(dead_code)] // each test binary uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The seed of a test's random choices: `FOXTROT_SEED` (decimal, or hex
/// with `0x`) when set — to try moments other than CI's, or rerun a failing
/// campaign as it was — else `default`. Printed, so a failure names it.
pub fn seed(default: u64) -> u64 {
    let s = std::env::var("FOXTROT_SEED")
        .ok()
        .and_then(|v| match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => v.parse().ok(),
        });
    let s = s.unwrap_or(default);
    eprintln!("seed {s:#x} (FOXTROT_SEED=0x{s:x} reruns it)");
    s
}

/// A new, empty directory for one test, named after the test file and `name`.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "foxtrot-{}-{name}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary, to add arguments to.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_foxtrot"))
}

/// Runs `foxtrot ARGS` to completion, whatever its outcome.
pub fn foxtrot(args: &[&str]) -> Output {
    command().args(args).output().expect("run foxtrot")
}

/// Runs the command, which must succeed; its standard output.
pub fn ok_cmd(c: &mut Command) -> String {
    let out = c.output().expect("run foxtrot");
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs `foxtrot ARGS`, which must succeed; its standard output.
pub fn ok(args: &[&str]) -> String {
    ok_cmd(command().args(args))
}

/// `foxtrot import FILE --format FORMAT --out OUT`, to add options to (and run
/// with [`ok_cmd`], or `.output()` when it may fail).
pub fn import_cmd(file: &Path, format: &str, out: &Path) -> Command {
    let mut c = command();
    c.arg("import").arg(file).args(["--format", format, "--out"]).arg(out);
    c
}

/// Runs `import` (an import of the gzip file `cut`, cut short, into `out`)
/// and checks that it is refused as a compressed input should be: exit
/// status 1, one line naming the file and the damage, and no `out` left.
pub fn refused_as_cut_gzip(import: &mut Command, cut: &Path, out: &Path) {
    let o = import.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{}: gzip: the compressed data is damaged or cut short",
            cut.display()
        )),
        "{err}"
    );
    assert!(!out.exists(), "the refused import left {}", out.display());
}

/// Removes a test's directory when dropped — unless the test is failing, when
/// the journals and logs are worth keeping (recorded runs preallocate their
/// segments, so a passing test should not leave them behind). A failing test's
/// processes (every `foxtrot` it started names a path in the directory) are
/// killed, so none outlives it.
pub struct RemoveOnSuccess(pub PathBuf);

impl Drop for RemoveOnSuccess {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = Command::new("pkill").arg("-9").arg("-f").arg(&self.0).status();
        }
    }
}

/// The FIX port a `foxtrot venue` started with `--listen 127.0.0.1:0
/// --log-format json` (stderr to `log`) was given by the kernel, read from its
/// "venue listening" line. Safer than a port found free beforehand and probed
/// by connecting: another listener may take that port first, and a connect to
/// a local port nobody listens on can connect to itself — the probe then
/// succeeds against something that is not the venue.
#[allow(dead_code)]
pub fn venue_port(child: &mut std::process::Child, log: &Path) -> u16 {
    let t0 = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let port = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|j| j["message"] == "venue listening")
            .and_then(|j| j["listen"].as_str()?.parse::<std::net::SocketAddr>().ok())
            .map(|a| a.port());
        if let Some(port) = port {
            return port;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the venue exited ({status}) before listening:\n{text}");
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "the venue did not listen:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Waits until `log` holds `n` lines containing `what`.
#[allow(dead_code)]
pub fn wait_for_log(log: &Path, what: &str, n: usize, limit: std::time::Duration) {
    let t0 = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(what)).count() >= n {
            return;
        }
        assert!(
            t0.elapsed() < limit,
            "{what:?} not seen {n} times in {limit:?}:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A loopback port free a moment ago (TCP or UDP).
pub fn free_port(udp: bool) -> u16 {
    let a = if udp {
        std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr()
    };
    a.unwrap().port()
}

/// `configs/paper.yaml` written to `dir`, trading over FIX `begin` with the
/// venue's FIX acceptor on port `fix` and its market data on UDP port `md`, a
/// private stats file (`dir/stats`) and the weights file found from anywhere.
pub fn paper_config(dir: &Path, begin: &str, fix: u16, md: u16) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let text = std::fs::read_to_string(root.join("paper.yaml"))
        .unwrap()
        .replace("127.0.0.1:9878", &format!("127.0.0.1:{fix}"))
        .replace("127.0.0.1:9879", &format!("127.0.0.1:{md}"))
        .replace("/dev/shm/foxtrot-paper.stats", &dir.join("stats").display().to_string())
        .replace(
            "belief_weights.yaml",
            &root.join("belief_weights.yaml").display().to_string(),
        )
        .replace("begin_string: FIX.4.4", &format!("begin_string: {begin}"));
    let p = dir.join("paper.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Starts `foxtrot venue --config configs/conformance.yaml` (the echo
/// application; ISLD accepting TW42 on FIX 4.2 and TW44 on FIX 4.4) on a port
/// the kernel gives it, its stores and JSON log (`venue.log`) in `dir`, with
/// `extra` arguments; the child and its port.
pub fn conformance_venue(dir: &Path, extra: &[&str]) -> (std::process::Child, u16) {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/conformance.yaml");
    let log = dir.join("venue.log");
    let mut child = command()
        .args(["venue", "--config", cfg.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--session-store")
        .arg(dir.join("stores"))
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let port = venue_port(&mut child, &log);
    (child, port)
}

/// The open orders `foxtrot ctl status` shows (none when it shows no count).
pub fn open_orders(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.contains(" open orders"))?;
    line.split(" open orders")
        .next()?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// A quote CSV of one instrument, header and `rows` rows: ten rows a
/// millisecond apart from 14:00:00, bids 100.00–100.12 by a fixed rule, the
/// ask a cent above, sizes 5 and 7 (~60 bytes a row).
pub fn quote_csv(rows: u64) -> String {
    let mut text = String::with_capacity(rows as usize * 60 + 40);
    text.push_str("timestamp,bid,bid_size,ask,ask_size\n");
    for i in 0..rows {
        let bid = 10_000 + i * 7919 % 13;
        text.push_str(&format!(
            "2026-01-05T{:02}:{:02}:{:02}.{:06}Z,{}.{:02},5,{}.{:02},7\n",
            14 + i / 360_000,
            i / 6_000 % 60,
            i / 100 % 60,
            i % 100 * 10_000,
            bid / 100,
            bid % 100,
            (bid + 1) / 100,
            (bid + 1) % 100
        ));
    }
    text
}
