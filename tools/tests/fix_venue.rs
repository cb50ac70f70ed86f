//! Two real processes over loopback: `foxtrot venue` (FIX acceptor, matching
//! engine, market data over UDP) and `foxtrot run` (the engine, FIX initiator).
//! Logon, orders, fills, cancels, rejects, logout; then each side killed with
//! SIGKILL mid-session and restarted, with nothing lost, counted twice or sent twice.

mod common;

use common::{command, free_port, ok, paper_config, tempdir, RemoveOnSuccess};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// `configs/paper.yaml` with fresh ports, a private stats file and FIX 4.2 or 4.4.
fn config(dir: &Path, begin: &str) -> PathBuf {
    paper_config(dir, begin, free_port(false), free_port(true))
}

/// Starts `foxtrot venue` with its summary going to `dir/<name>.json`.
fn venue(dir: &Path, cfg: &Path, name: &str, extra: &[&str]) -> Child {
    let out = std::fs::File::create(dir.join(format!("{name}.json"))).unwrap();
    let err = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    command()
        .current_dir(dir)
        .args(["venue", "--config", cfg.to_str().unwrap(), "--speed", "4", "--json"])
        .args(["--session-store", dir.join("venue-store").to_str().unwrap()])
        .args(extra)
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap()
}

/// Starts `foxtrot run` recording into `dir/<name>`.
fn engine(dir: &Path, cfg: &Path, name: &str, extra: &[&str]) -> Child {
    let out = std::fs::File::create(dir.join(format!("{name}.json"))).unwrap();
    let err = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    command()
        .current_dir(dir)
        .args(["run", "--config", cfg.to_str().unwrap(), "--json"])
        .args(["--session-store", dir.join("engine-store").to_str().unwrap()])
        .args(["--record", dir.join(name).to_str().unwrap()])
        .args(extra)
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap()
}

/// Waits for `c` to exit (killing it after `limit`); its JSON summary.
fn finish(dir: &Path, mut c: Child, name: &str, limit: Duration) -> Value {
    let t0 = Instant::now();
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            assert!(st.success(), "{name} failed ({st}):\n{log}");
            let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
            return serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text}\n{log}"));
        }
        if t0.elapsed() > limit {
            let _ = c.kill();
            let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            panic!("{name} did not finish within {limit:?}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The counter `name` (`orders`, `market_data`, …) of the engine writing `stats`.
fn counter(stats: &Path, name: &str) -> u64 {
    let out = command()
        .args(["stat", "--once", "--json", "--file", stats.to_str().unwrap()])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["globals"]
        .as_array()
        .and_then(|g| g.iter().find(|kv| kv[0] == name))
        .and_then(|kv| kv[1].as_u64())
        .unwrap_or(0)
}

/// Waits (up to 90 s: a loaded machine is slow, not wrong) until the engine
/// writing `stats` has counted `n` of `name`.
fn wait_for(stats: &Path, name: &str, n: u64) {
    let t0 = Instant::now();
    while counter(stats, name) < n {
        assert!(t0.elapsed() < Duration::from_secs(90), "fewer than {n} {name} in 90 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ends the venue's day: SIGTERM makes it log out, which ends the engine's run.
fn end_of_day(v: &Child) {
    // SAFETY: signalling a child process this test spawned and still owns.
    assert_eq!(unsafe { libc::kill(v.id() as libc::pid_t, libc::SIGTERM) }, 0);
}

/// Waits until `log` holds `n` lines containing `what`.
fn wait_for_log(log: &Path, what: &str, n: usize, limit: Duration) {
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(what)).count() >= n {
            return;
        }
        assert!(
            t0.elapsed() < limit,
            "{what:?} not seen {n} times in {limit:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigkill(mut c: Child) {
    c.kill().unwrap();
    c.wait().unwrap();
}

fn u(v: &Value, path: &str) -> u64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_u64()
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// Replays a recorded run and requires its outputs to match byte for byte.
fn replays_identically(run: &Path) {
    let out = ok(&["replay", run.to_str().unwrap(), "--verify"]);
    assert!(out.contains("identical"), "{out}");
}

/// Fills the engine counted must be exactly those the venue reported.
fn fills_agree(engine: &Value, venue: &Value) {
    assert_eq!(
        u(engine, "fills"),
        u(venue, "fills_in_store"),
        "engine fills vs venue fill reports\nengine: {engine}\nvenue: {venue}"
    );
    assert_eq!(
        u(engine, "filled_qty"),
        u(venue, "filled_qty_in_store"),
        "filled quantity"
    );
}

fn logon_orders_fills_logout(begin: &str) {
    let dir = tempdir(&format!("plain-{begin}"));
    let _cleanup = RemoveOnSuccess(dir.clone());
    let cfg = config(&dir, begin);
    let v = venue(&dir, &cfg, "venue", &[]);
    let e = engine(&dir, &cfg, "run", &[]);
    wait_for(&dir.join("stats"), "orders", 100);
    end_of_day(&v);
    let e = finish(&dir, e, "run", Duration::from_secs(120));
    let v = finish(&dir, v, "venue", Duration::from_secs(30));
    assert_eq!(u(&v, "logons"), 1, "{v}");
    assert_eq!(u(&e, "fix.logons"), 1, "{e}");
    assert_eq!(
        e["fix"]["last_disconnect"], "peer logged out",
        "the venue's logout ends the run"
    );
    // Every order the engine sent reached the venue, once.
    let sent = u(&e, "fix.orders_sent");
    assert!(sent > 20, "too few orders to test anything: {e}");
    let got = u(&v, "orders.new") + u(&v, "orders.cancel") + u(&v, "orders.replace");
    assert_eq!(sent, got, "orders sent vs received\n{e}\n{v}");
    assert!(u(&v, "orders.new") > 0 && u(&v, "orders.cancel") + u(&v, "orders.replace") > 0);
    assert_eq!(u(&v, "duplicate_cl_ord_ids"), 0);
    assert!(u(&e, "fills") > 0, "{e}");
    fills_agree(&e, &v);
    // Every report the venue sent arrived, and market data flowed.
    assert_eq!(u(&e, "fix.reports"), u(&v, "reports"));
    assert!(u(&e, "fix.md") > 1000, "{e}");
    replays_identically(&dir.join("run"));
}

#[test]
fn fix44_logon_orders_fills_cancels_logout_between_two_processes() {
    logon_orders_fills_logout("FIX.4.4");
}

#[test]
fn fix42_logon_orders_fills_cancels_logout_between_two_processes() {
    logon_orders_fills_logout("FIX.4.2");
}

#[test]
fn venue_killed_and_restarted_loses_no_fill_and_counts_none_twice() {
    let dir = tempdir("venue-kill");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let cfg = config(&dir, "FIX.4.4");
    let v1 = venue(&dir, &cfg, "venue1", &[]);
    let e = engine(&dir, &cfg, "run", &[]);
    let stats = dir.join("stats");
    wait_for(&stats, "orders", 100);
    sigkill(v1);
    // The engine is left alone, retrying; the venue comes back on the same store.
    std::thread::sleep(Duration::from_millis(700));
    let v2 = venue(&dir, &cfg, "venue2", &[]);
    wait_for_log(&dir.join("venue2.log"), "event=logged on", 1, Duration::from_secs(60));
    // Trade on the second venue's market for a while (whether the strategy
    // orders there is its business), then end the day.
    let md = counter(&stats, "market_data");
    wait_for(&stats, "market_data", md + 20_000);
    end_of_day(&v2);
    let e = finish(&dir, e, "run", Duration::from_secs(120));
    let v2 = finish(&dir, v2, "venue2", Duration::from_secs(30));
    assert!(u(&e, "fix.logons") >= 2, "{e}");
    assert!(u(&e, "fix.reconnects") >= 1, "{e}");
    // Sequence numbers resumed: the second venue opened its store with the first
    // one's numbers, not at 1 (a reset would also have refused the engine's Logon).
    let log = std::fs::read_to_string(dir.join("venue2.log")).unwrap();
    let line = log.lines().find(|l| l.contains("session ready")).unwrap();
    let seqs = line.split("seqs=(").nth(1).and_then(|r| r.split(')').next()).unwrap();
    let (out, inn) = seqs.split_once(", ").unwrap();
    let (out, inn): (u64, u64) = (out.parse().unwrap(), inn.parse().unwrap());
    assert!(
        out > 100 && inn > 50,
        "second venue started at seqs ({out}, {inn}): {line}"
    );
    assert!(
        u(&v2, "next_out") > out && u(&v2, "restart_cancels") + u(&v2, "reports") > 0,
        "{v2}"
    );
    assert_eq!(u(&v2, "duplicate_cl_ord_ids"), 0, "{v2}");
    // Fills over both venue lives, from the venue's store, against the engine's count.
    fills_agree(&e, &v2);
    replays_identically(&dir.join("run"));
    assert!(!log.contains("ERROR"), "{log}");
}

#[test]
fn engine_killed_and_restarted_sends_no_order_twice() {
    let dir = tempdir("engine-kill");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let cfg = config(&dir, "FIX.4.4");
    let v = venue(&dir, &cfg, "venue", &[]);
    let e1 = engine(&dir, &cfg, "run1", &[]);
    wait_for(&dir.join("stats"), "orders", 100);
    sigkill(e1);
    std::thread::sleep(Duration::from_millis(300));
    let run1 = dir.join("run1");
    // Another stats file (the runtime section may change across a restart).
    let stats2 = dir.join("stats2");
    let e2 = engine(
        &dir,
        &cfg,
        "run2",
        &["--resume", run1.to_str().unwrap(), "--stats", stats2.to_str().unwrap()],
    );
    // Let the restarted engine log on and trade a while, then end the day: the
    // venue's logout ends the engine's run.
    wait_for_log(&dir.join("venue.log"), "event=logged on", 2, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(2000));
    end_of_day(&v);
    let e2 = finish(&dir, e2, "run2", Duration::from_secs(120));
    let v = finish(&dir, v, "venue", Duration::from_secs(60));
    // The restart rebuilt the state from the first run's journal…
    assert!(u(&e2, "fix.replayed") > 100, "{e2}");
    // …found orders it had already sent, and sent none of them again.
    assert!(u(&e2, "fix.resent_suppressed") > 0, "{e2}");
    assert_eq!(u(&v, "duplicate_cl_ord_ids"), 0, "{v}");
    assert_eq!(u(&v, "possdup_ignored"), 0, "{v}");
    // Every fill the venue reported is counted once in the restarted engine.
    fills_agree(&e2, &v);
    // The second run's journal holds both lives, and replays to the same bytes.
    replays_identically(&dir.join("run2"));
    // A restart with another strategy is refused before it connects.
    let other = dir.join("other.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("qty: 100 ", "qty: 90 ");
    std::fs::write(&other, text).unwrap();
    let out = command()
        .args([
            "run",
            "--config",
            other.to_str().unwrap(),
            "--resume",
            run1.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("a restart needs the same config"),
        "{err}"
    );
}

#[test]
fn a_venue_with_until_done_ends_its_day_by_itself() {
    let dir = tempdir("until-done");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let cfg = config(&dir, "FIX.4.4");
    let v = venue(
        &dir,
        &cfg,
        "venue",
        &["--events", "3000", "--until-done", "--grace", "0.2"],
    );
    let v = finish(&dir, v, "venue", Duration::from_secs(60));
    assert_eq!(u(&v, "logons"), 0, "{v}");
    assert!(u(&v, "md_sent") >= 3000, "the crowd made its events: {v}");
}

/// The production topology on one host: the venue takes orders over FIX and
/// publishes ITCH 5.0 over MoldUDP64; the engine trades it. The feed crosses a
/// lossy line (a relay dropping one packet in twenty), and the engine recovers
/// every gap from the venue's retransmission server: no gap finding, the book
/// has no issue, the run replays identically.
#[test]
fn itch_over_moldudp64_with_losses_recovered_and_fix_orders_on_one_host() {
    let dir = tempdir("mold");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (md, rtx, relay_port) = (free_port(true), free_port(true), free_port(true));
    let cfg = paper_config(&dir, "FIX.4.4", free_port(false), md);
    // The venue publishes to the relay; the engine listens where the relay sends.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let venue_cfg = dir.join("venue.yaml");
    let md_line = format!("market_data: 127.0.0.1:{md}");
    assert!(text.contains(&md_line), "{text}");
    let extra = format!("  market_data_format: moldudp64\n  retransmit: 127.0.0.1:{rtx}\n");
    let with = |t: &str, port: u16| t.replace(&md_line, &format!("market_data: 127.0.0.1:{port}\n{extra}"));
    std::fs::write(&venue_cfg, with(&text, relay_port)).unwrap();
    std::fs::write(&cfg, with(&text, md)).unwrap();
    let relay = std::net::UdpSocket::bind(("127.0.0.1", relay_port)).unwrap();
    relay.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let line = std::thread::spawn(move || {
        let (mut n, mut dropped) = (0u64, 0u64);
        let mut buf = [0u8; 9000];
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok(k) = relay.recv(&mut buf) else { continue };
            n += 1;
            if n % 20 == 7 && k > 20 {
                dropped += 1;
                continue;
            }
            let _ = relay.send_to(&buf[..k], ("127.0.0.1", md));
        }
        dropped
    });
    let v = venue(&dir, &venue_cfg, "venue", &[]);
    let e = engine(&dir, &cfg, "run", &[]);
    wait_for(&dir.join("stats"), "orders", 100);
    end_of_day(&v);
    let e = finish(&dir, e, "run", Duration::from_secs(120));
    let v = finish(&dir, v, "venue", Duration::from_secs(30));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let dropped = line.join().unwrap();
    assert!(dropped > 20, "the line dropped only {dropped} packets");
    assert_eq!(u(&e, "fix.md_findings"), 0, "a gap was not recovered: {e}");
    assert_eq!(u(&e, "events.book_issues"), 0, "{e}");
    assert!(u(&e, "fix.md") > 10_000, "{e}");
    assert_eq!(u(&v, "duplicate_cl_ord_ids"), 0, "{v}");
    fills_agree(&e, &v);
    replays_identically(&dir.join("run"));
}
