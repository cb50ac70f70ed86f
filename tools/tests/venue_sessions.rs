//! `foxtrot venue` with eight sessions serving eight initiators at once, over
//! real TCP: each logs on with its own CompID, sends orders under its own
//! alphanumeric ClOrdIDs, cancels them with `<id>-X` ids, gets every report
//! echoing its ids, and logs out. Meanwhile a connection that never sends a
//! Logon is dropped once the logon timeout expires, and a connection for no
//! configured session is dropped at once, neither disturbing the others.

mod common;

use common::{command, free_port, tempdir, RemoveOnSuccess};
use foxtrot_fix::framing::split_frames;
use foxtrot_fix::session::{Inbound, MemoryStore, Role, Session, SessionSettings};
use foxtrot_fix::{Fields, FixDecoder};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SESSIONS: usize = 8;
const ORDERS: usize = 25;

fn wall_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// `configs/paper.yaml` with eight acceptor sessions VENUE ↔ FIRM1..FIRM8.
fn config(dir: &Path, fix: u16) -> std::path::PathBuf {
    let p = common::paper_config(dir, "FIX.4.4", fix, free_port(true));
    let mut text = std::fs::read_to_string(&p).unwrap();
    let mut sessions = String::from("  logon_timeout_s: 1\n  sessions:\n");
    for k in 1..=SESSIONS {
        let begin = if k % 2 == 0 { "FIX.4.2" } else { "FIX.4.4" };
        sessions.push_str(&format!(
            "    - {{ begin_string: {begin}, sender_comp_id: VENUE, target_comp_id: FIRM{k}, store: {} }}\n",
            dir.join(format!("store-{k}")).display()
        ));
    }
    let at = text.find("\ngen:").unwrap();
    text.insert_str(at + 1, &sessions);
    std::fs::write(&p, text).unwrap();
    p
}

/// What one initiator saw.
#[derive(Debug, Default)]
struct Seen {
    acks: usize,
    canceled: usize,
    /// Reports whose ClOrdID was not one this initiator sent.
    foreign: usize,
}

/// One initiator: logon, ORDERS resting orders and their cancels, logout.
fn initiator(k: usize, port: u16) -> Result<Seen, String> {
    let begin = if k % 2 == 0 { "FIX.4.2" } else { "FIX.4.4" };
    let mut s = Session::new(
        SessionSettings::new(begin, &format!("FIRM{k}"), "VENUE"),
        Role::Initiator,
        MemoryStore::default(),
    );
    let mut sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    s.start(wall_ns());
    let (mut buf, mut seen, mut dec) = (Vec::new(), Seen::default(), FixDecoder::new());
    let mut sent = 0usize;
    let mut mine = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut logged_out = false;
    loop {
        if Instant::now() > deadline {
            return Err(format!("FIRM{k}: stuck: {seen:?}, sent {sent}"));
        }
        let out = std::mem::take(s.outbox());
        sock.write_all(&out).map_err(|e| e.to_string())?;
        let mut b = [0u8; 65536];
        match sock.read(&mut b) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(format!("FIRM{k}: {e}")),
        }
        let mut apps = Vec::new();
        let mut over = false;
        let used = split_frames(&buf, |m| match s.on_message(m, wall_ns()) {
            Inbound::App => apps.push(m.to_vec()),
            Inbound::Disconnect(_) => over = true,
            _ => {}
        });
        buf.drain(..used);
        for m in apps {
            let m = dec.decode(&m).map_err(|e| e.to_string())?;
            let cl = String::from_utf8_lossy(m.get(11).unwrap_or(b"")).into_owned();
            if !mine.contains(&cl) {
                seen.foreign += 1;
            }
            match m.get(150) {
                Some(b"0") => {
                    seen.acks += 1;
                    // Acknowledged: cancel it under a `-X` id.
                    let x = format!("{cl}-X");
                    mine.insert(x.clone());
                    let now = foxtrot_engine::format::calendar::utc_timestamp(wall_ns(), 3);
                    s.send(
                        "F",
                        &[(11, &x), (41, &cl), (54, "1"), (55, "FOXA"), (38, "10"), (60, &now)],
                        wall_ns(),
                    );
                }
                Some(b"4") => seen.canceled += 1,
                other => return Err(format!("FIRM{k}: unexpected report {other:?}")),
            }
        }
        if over {
            break;
        }
        if s.is_logged_on() && sent < ORDERS {
            let cl = format!("FIRM{k}-ord-{sent}");
            mine.insert(cl.clone());
            let now = foxtrot_engine::format::calendar::utc_timestamp(wall_ns(), 3);
            // Far below the market: rests until cancelled.
            s.send(
                "D",
                &[
                    (11, &cl),
                    (21, "1"),
                    (38, "10"),
                    (40, "2"),
                    (44, "1.0000"),
                    (54, "1"),
                    (55, "FOXA"),
                    (60, &now),
                ],
                wall_ns(),
            );
            sent += 1;
        }
        if seen.canceled == ORDERS && !logged_out {
            s.logout("done", wall_ns());
            logged_out = true;
        }
    }
    Ok(seen)
}

#[test]
fn eight_sessions_trade_at_once_while_a_silent_connection_times_out() {
    let dir = tempdir("sessions");
    let _cleanup = RemoveOnSuccess(dir.clone());
    // The port is the kernel's (`--listen …:0`), read from the venue's log.
    let cfg = config(&dir, 0);
    let mut venue = command()
        .args([
            "venue",
            "--config",
            cfg.to_str().unwrap(),
            "--json",
            "--log-format",
            "json",
        ])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("venue.log")).unwrap())
        .spawn()
        .unwrap();
    let port = common::venue_port(&mut venue, &dir.join("venue.log"));
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A connection for no configured session: dropped at once.
    let mut stranger = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut logon = Session::new(
        SessionSettings::new("FIX.4.4", "NOBODY", "VENUE"),
        Role::Initiator,
        MemoryStore::default(),
    );
    logon.start(wall_ns());
    stranger.write_all(logon.outbox()).unwrap();
    // The silent connection: its drop is timed while the sessions trade.
    let silent_since = Instant::now();
    let watcher = std::thread::spawn(move || {
        let mut silent = silent;
        silent.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut b = [0u8; 16];
        let r = silent.read(&mut b);
        (r.map_err(|e| e.to_string()), silent_since.elapsed())
    });
    let firms: Vec<_> = (1..=SESSIONS)
        .map(|k| std::thread::spawn(move || initiator(k, port)))
        .collect();
    let seen: Vec<Result<Seen, String>> = firms.into_iter().map(|h| h.join().unwrap()).collect();
    let (silent_read, silent_after) = watcher.join().unwrap();
    stranger.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 16];
    let stranger_read = stranger.read(&mut b);
    // SAFETY: signalling a child process this test spawned and still owns.
    assert_eq!(unsafe { libc::kill(venue.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let out = {
        let mut s = String::new();
        venue.stdout.take().unwrap().read_to_string(&mut s).unwrap();
        venue.wait().unwrap();
        s
    };
    let log = std::fs::read_to_string(dir.join("venue.log")).unwrap_or_default();
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{log}"));
    for (k, s) in seen.iter().enumerate() {
        let s = s.as_ref().unwrap_or_else(|e| panic!("{e}\n{log}"));
        assert_eq!(
            (s.acks, s.canceled, s.foreign),
            (ORDERS, ORDERS, 0),
            "FIRM{}: {s:?}",
            k + 1
        );
    }
    assert_eq!(v["logons"], SESSIONS as u64, "{v}");
    assert_eq!(v["orders"]["new"], (SESSIONS * ORDERS) as u64, "{v}");
    assert_eq!(v["orders"]["cancel"], (SESSIONS * ORDERS) as u64, "{v}");
    assert_eq!(v["duplicate_cl_ord_ids"], 0, "{v}");
    // The silent connection was closed (EOF, nothing sent) after about the
    // logon timeout of one second, and the stranger at once.
    assert_eq!(silent_read, Ok(0), "{log}");
    assert!(
        silent_after >= Duration::from_millis(900) && silent_after < Duration::from_secs(5),
        "dropped after {silent_after:?}"
    );
    assert!(matches!(stranger_read, Ok(0) | Err(_)), "{stranger_read:?}");
    assert_eq!(v["logon_timeouts"], 1, "{v}");
    assert_eq!(v["refused_connections"], 2, "{v}");
    assert!(log.contains("no session for FIX.4.4 NOBODY -> VENUE"), "{log}");
}
