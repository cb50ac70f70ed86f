//! Interop with a FIX engine nobody here wrote: QuickFIX (C++, Debian's
//! libquickfix-dev), through the small counterparty in `external/quickfix_peer.cpp`.
//!
//! (a) Our engine (`foxtrot run`) as initiator against a QuickFIX acceptor that
//!     acknowledges, fills, cancels and replaces its orders (market data comes
//!     from a `foxtrot venue` whose FIX side is unused).
//! (b) A QuickFIX initiator against `foxtrot venue`, with QuickFIX's own
//!     alphanumeric ClOrdIDs: orders that fill, one that rests, is replaced and
//!     cancelled, two the venue rejects, one the session rejects, a cancel of
//!     no order. QuickFIX checks every report against its own data dictionary.
//!
//! (c) Our engine killed (-9) mid-session against the QuickFIX acceptor and
//!     resumed: QuickFIX resends what it never read, and answers its
//!     OrderStatusRequests for the orders in doubt as each version says.
//!
//! Both complete logon → orders → execution reports → logout, in FIX 4.2 and 4.4.
//! (a) also runs over a slow line: a relay that holds what QuickFIX sends back for
//! 300 ms, so its Logout reaches the engine after more orders have left; and 50
//! times in a row against one QuickFIX acceptor (the session resuming its
//! numbers each time), over a line slow enough that orders are decided before
//! the Logon is answered: none may be lost.

mod common;
mod external;

use common::{command, free_port, ok, open_orders, paper_config, tempdir, wait_for_log, RemoveOnSuccess};
use external::{quickfix_peer, quickfix_spec, KillOnDrop};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `foxtrot venue` for its market data only (its FIX port is a spare nobody
/// uses), killed when dropped.
fn market_data_venue(dir: &Path, cfg: &Path) -> KillOnDrop {
    KillOnDrop(
        command()
            .args(["venue", "--config", cfg.to_str().unwrap(), "--speed", "4"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", free_port(false)))
            .arg("--session-store")
            .arg(dir.join("md-store"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The QuickFIX peer as an acceptor on `port` for the paper session, with its
/// trailing arguments `rest` (seconds per logon, logons); given time to listen.
fn quickfix_acceptor(peer: &Path, port: u16, begin: &str, rest: &[&str]) -> std::process::Child {
    quickfix_acceptor_with(peer, port, begin, rest, &[])
}

/// [`quickfix_acceptor`] with environment variables `env` set.
fn quickfix_acceptor_with(
    peer: &Path,
    port: u16,
    begin: &str,
    rest: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    let port = port.to_string();
    let child = std::process::Command::new(peer)
        .args(["acceptor", &port, begin, "PAPERVENUE", "FOXTROT_PAPER"])
        .args(rest)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// Waits for a child's exit within `limit`; its stdout as JSON.
fn json_of(mut child: std::process::Child, what: &str, limit: Duration) -> Value {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish within {limit:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: {}\n{err}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}\n{err}"))
}

fn n(v: &Value, k: &str) -> u64 {
    k.split('.')
        .fold(v, |v, k| &v[k])
        .as_u64()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

/// A relay for one connection, on a port of its own, to `127.0.0.1:to`: what the
/// client sends passes at once; what comes back is held for `delay`, in order.
/// A venue at the end of a long line, whose Logout reaches us late.
fn slow_line(to: u16, delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            std::thread::spawn(move || relay(client, to, delay));
        }
    });
    port
}

/// One connection of [`slow_line`].
fn relay(client: TcpStream, to: u16, delay: Duration) {
    {
        let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
            return;
        };
        let _ = (client.set_nodelay(true), server.set_nodelay(true));
        let (mut up_from, mut up_to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut up_from, &mut up_to);
            let _ = up_to.shutdown(Shutdown::Write);
        });
        let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
        let mut down_from = server;
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = down_from.read(&mut buf).unwrap_or(0);
                if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() || n == 0 {
                    return;
                }
            }
        });
        let mut down_to = client;
        for (due, bytes) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if bytes.is_empty() || down_to.write_all(&bytes).is_err() {
                let _ = down_to.shutdown(Shutdown::Write);
                return;
            }
        }
    }
}

fn engine_against_quickfix_acceptor(begin: &str, line: Option<Duration>) {
    // QuickFIX checks every order, cancel and replace against its own data
    // dictionary: one that does not conform is refused at its session layer,
    // never counted by the peer's application.
    let (Some(peer), Some(spec)) = (quickfix_peer(), quickfix_spec()) else {
        return;
    };
    let slow = if line.is_some() { "-slow" } else { "" };
    let dir = tempdir(&format!("acceptor-{begin}{slow}"));
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (qf_port, md) = (free_port(false), free_port(true));
    // The engine connects to QuickFIX directly, or through the slow line.
    let fix = match line {
        Some(delay) => slow_line(qf_port, delay),
        None => qf_port,
    };
    let cfg = paper_config(&dir, begin, fix, md);
    // Market data only: this venue's own FIX port is a spare one nobody uses.
    let _md = market_data_venue(&dir, &cfg);
    // A restatement reaches the engine the line's delay late: a cancel
    // crossing it may come that much later than over a direct line.
    let line_ms = line.map_or(0, |d| d.as_millis()).to_string();
    let qf = quickfix_acceptor_with(
        &peer,
        qf_port,
        begin,
        &["5", "1", spec.to_str().unwrap()],
        &[("QF_PEER_LINE_MS", &line_ms)],
    );
    let run = dir.join("run");
    let engine = command()
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--json",
            "--record",
            run.to_str().unwrap(),
        ])
        .arg("--session-store")
        .arg(dir.join("engine-store"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let e = json_of(engine, "foxtrot run", Duration::from_secs(90));
    let q = json_of(qf, "QuickFIX acceptor", Duration::from_secs(30));
    assert_eq!(n(&q, "logons"), 1, "{q}");
    assert_eq!(n(&e, "fix.logons"), 1, "{e}");
    assert_eq!(
        e["fix"]["last_disconnect"], "peer logged out",
        "QuickFIX's logout ends the run: {e}"
    );
    // Every order we sent, QuickFIX parsed; every answer it sent, we parsed. It
    // answers nothing once it has decided to log out ("unanswered"), so no
    // report follows its Logout, which ends our session.
    let got = n(&q, "orders") + n(&q, "cancels") + n(&q, "replaces");
    assert!(n(&q, "orders") >= 3, "{q}");
    assert_eq!(n(&e, "fix.orders_sent"), got, "engine {e}\nQuickFIX {q}");
    // Each order's Pending New (ExecType A) is read, and changes nothing the
    // core keeps: it is neither a bad report nor a record.
    assert!(n(&q, "pending_new") >= 3, "{q}");
    assert_eq!(n(&e, "fix.bad_reports"), 0, "{e}");
    // Each order QuickFIX refused with a BusinessMessageReject is a venue
    // rejection to the core (not an order left pending new for ever).
    assert!(n(&q, "business_rejects") >= 1, "{q}");
    assert_eq!(n(&e, "fix.business_rejects"), n(&q, "business_rejects"), "{e}\n{q}");
    // And each one it refused at its session layer (a Reject naming the
    // order's MsgSeqNum).
    assert!(n(&q, "session_rejects_sent") >= 1, "{q}");
    assert_eq!(n(&e, "fix.session_rejects"), n(&q, "session_rejects_sent"), "{e}\n{q}");
    // The core's venue rejections are exactly those and QuickFIX's cancel rejects.
    assert_eq!(
        n(&e, "rejects.venue"),
        n(&q, "business_rejects") + n(&q, "session_rejects_sent") + n(&q, "cancel_rejects"),
        "{e}\n{q}"
    );
    assert_eq!(
        n(&e, "fix.reports") + n(&q, "pending_new"),
        n(&q, "sent"),
        "reports: engine {e}\nQuickFIX {q}"
    );
    // Each bust of a fill (FIX 4.4: ExecType H; FIX 4.2: ExecTransType 1 with
    // the fill's ExecType and LastShares) is taken back, not booked as a
    // second fill: the engine's positions are QuickFIX's net of its busts.
    assert!(n(&q, "busts") >= 1, "{q}");
    assert_eq!(n(&e, "fix.trade_busts"), n(&q, "busts"), "{e}\n{q}");
    // The core books a correction as a bust and the corrected trade.
    assert_eq!(
        n(&e, "anomalies.trade_busts"),
        n(&q, "busts") + n(&q, "corrections"),
        "{e}\n{q}"
    );
    // Each correction of a fill (FIX 4.4: ExecType G; FIX 4.2: ExecTransType
    // 2), to half its quantity, is booked as the bust of the fill it names
    // (ExecRefID) and the corrected trade: the positions below fail without.
    assert!(n(&q, "corrections") >= 1, "{q}");
    assert_eq!(n(&e, "fix.trade_corrections"), n(&q, "corrections"), "{e}\n{q}");
    assert_eq!(n(&e, "anomalies.trade_corrections"), n(&q, "corrections"), "{e}\n{q}");
    assert_eq!(n(&e, "fix.trade_corrections_unapplied"), 0, "{e}");
    positions_are_quickfix_net(&e, &q);
    assert!(n(&q, "fills") > 0, "{q}");
    assert_eq!(n(&e, "fills"), n(&q, "fills"), "fills: engine {e}\nQuickFIX {q}");
    assert_eq!(n(&e, "filled_qty"), n(&q, "filled_qty"));
    // Orders QuickFIX restated on its own (ExecType D): one with its quantity
    // halved — any cancel of it names the new quantity, unless it was sent
    // before the restatement could have arrived (QuickFIX counts a cancel
    // within 200 ms of the restatement as a crossing, not a stale quantity:
    // the restatement follows the ack at once, and a cancel of an order not
    // yet acknowledged may cross it; seen once in a CI run) — and one ended
    // (OrdStatus 4), which the engine closes: its open orders at the end are
    // exactly those resting at QuickFIX and those it left unanswered.
    if n(&q, "orders") >= 6 {
        assert!(n(&q, "restated") >= 1 && n(&q, "restated_ended") >= 1, "{q}");
    }
    assert_eq!(
        n(&e, "fix.restatements"),
        n(&q, "restated") + n(&q, "restated_ended"),
        "{e}\n{q}"
    );
    assert_eq!(n(&q, "cancel_qty_mismatches"), 0, "{q}");
    assert_eq!(
        n(&e, "orders.open_at_end"),
        n(&q, "resting") + n(&q, "unanswered_new"),
        "engine {e}\nQuickFIX {q}"
    );
    let out = ok(&["replay", run.to_str().unwrap(), "--verify"]);
    assert!(out.contains("identical"), "{out}");
}

fn quickfix_initiator_against_venue(begin: &str) {
    let (Some(peer), Some(spec)) = (quickfix_peer(), quickfix_spec()) else {
        return;
    };
    let dir = tempdir(&format!("initiator-{begin}"));
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (fix, md) = (free_port(false), free_port(true));
    let cfg = paper_config(&dir, begin, fix, md);
    let log = dir.join("venue.log");
    let venue = command()
        .args(["venue", "--config", cfg.to_str().unwrap(), "--speed", "4", "--json"])
        .arg("--session-store")
        .arg(dir.join("venue-store"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Let the crowd build a book to fill against: six seconds of its time from
    // the venue's start (counted from the spawn, a venue slow to start under
    // load had built so little that a crowd sell swept the bids down to the
    // order meant to rest far below them, and filled it: CI, FIX 4.2).
    wait_for_log(&log, "venue listening", 1, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1500));
    let qf = std::process::Command::new(&peer)
        .args([
            "initiator",
            "127.0.0.1",
            &fix.to_string(),
            begin,
            "FOXTROT_PAPER",
            "PAPERVENUE",
            "FOXA",
        ])
        .arg(&spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let q = json_of(qf, "QuickFIX initiator", Duration::from_secs(60));
    // SAFETY: signalling a child process this test spawned and still owns.
    assert_eq!(unsafe { libc::kill(venue.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let v = json_of(venue, "foxtrot venue", Duration::from_secs(30));
    assert_eq!(n(&q, "logons"), 1, "{q}");
    assert_eq!(n(&v, "logons"), 1, "{v}");
    // Three orders acknowledged (the off-tick one is rejected, not acknowledged).
    assert!(n(&q, "acks") >= 3, "{q}");
    // Both marketable orders filled in full against the crowd.
    assert_eq!(n(&q, "filled_qty"), 200, "{q}");
    assert_eq!(n(&q, "fills"), n(&v, "fills_in_store"), "QuickFIX {q}\nvenue {v}");
    assert_eq!(n(&q, "replaced"), 1, "the resting order, replaced: {q}");
    // FIX 4.4: two more resting orders, cancelled by one OrderMassCancelRequest
    // for the symbol — each reported cancelled, then the venue's
    // OrderMassCancelReport, which QuickFIX read against its dictionary:
    // taken for the symbol (MassCancelResponse 1), two orders affected.
    let mass = u64::from(begin == "FIX.4.4");
    assert_eq!(
        n(&q, "canceled"),
        1 + 2 * mass,
        "then cancelled under its `-R-X` id: {q}"
    );
    assert_eq!(n(&q, "mass_reports"), mass, "{q}");
    assert_eq!(q["mass_responses"], if mass == 1 { "1:2" } else { "" }, "{q}");
    assert_eq!((n(&v, "mass_cancels"), n(&v, "mass_cancels_refused")), (mass, 0), "{v}");
    assert_eq!(n(&q, "rejected"), 2, "the off-tick order and the unknown symbol: {q}");
    assert_eq!(
        n(&q, "cancel_rejects"),
        3,
        "the off-tick replace, the replace of half a lot and the cancel of no order: {q}"
    );
    // CxlRejReason, as QuickFIX read it (checked against its own dictionary):
    // the refused replace leaves the order working — Other (99), or in FIX 4.2,
    // which has no 99, broker option (2) — and the cancel of no order is
    // unknown (1). Neither is `0` (too late), which says the order is gone.
    let working = if begin == "FIX.4.2" { "2" } else { "99" };
    assert_eq!(q["cxl_rej_reasons"], format!("{working},{working},1"), "{q}");
    // OrdStatus, the order's state after the reject: still New (0) for the
    // refused replaces — the one the book refused and the one the venue's
    // reader refused before it reached the book (each said Rejected, 8, which
    // reads as a dead order) — and Rejected for the order the venue does not
    // have, as FIX 4.4 asks.
    assert_eq!(q["cxl_rej_statuses"], "0,0,8", "{q}");
    // The only session-level reject is ours, of HandlInst 4: QuickFIX, checking
    // every report against its dictionary, rejected none of them — nor the
    // answers to its OrderStatusRequests (FIX 4.2 has no ExecType I: its
    // answer is ExecTransType 3 with the order's state as ExecType).
    assert_eq!(n(&q, "session_rejects"), 1, "the invalid HandlInst: {q}");
    // The filled order is filled (2); the one never sent, unknown (8).
    let statuses = q["status_answers"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .map(|a| a.rsplit(':').next().unwrap_or(""))
        .collect::<Vec<_>>();
    assert_eq!(statuses, ["2", "8"], "status answers: {q}");
    assert_eq!(
        n(&v, "malformed_orders"),
        2,
        "the unknown symbol and the replace of half a lot: {v}"
    );
    assert_eq!(
        n(&q, "reports") + n(&q, "cancel_rejects") + n(&q, "mass_reports"),
        n(&v, "reports"),
        "QuickFIX {q}\nvenue {v}"
    );
    assert_eq!(n(&v, "orders.new"), 4 + 2 * mass, "{v}");
    assert_eq!(n(&v, "orders.replace"), 2, "{v}");
    assert_eq!(n(&v, "orders.cancel"), 2, "{v}");
    assert_eq!(n(&v, "duplicate_cl_ord_ids"), 0, "{v}");
}

/// `foxtrot run` killed (-9) mid-session against a QuickFIX acceptor and
/// resumed from its run: the second logon carries the session's numbers on,
/// QuickFIX resends what the dead engine never read, and the resumed engine
/// asks about every order it holds no final report of (OrderStatusRequest,
/// checked against QuickFIX's dictionary; answered as the version says — in
/// FIX 4.2 with ExecTransType 3 and the order's state as ExecType, which read
/// as a report would book a filled order's fill again). No order twice, every
/// question answered, the chain's fills equal to QuickFIX's, the resumed run
/// replays to its outputs.
/// The engine's final position in each instrument is QuickFIX's net of the
/// fills it reported less the ones it busted.
fn positions_are_quickfix_net(e: &Value, q: &Value) {
    let positions = e["positions"].as_object().expect("positions in the summary");
    assert!(!positions.is_empty(), "{e}");
    for (sym, p) in positions {
        let want = q["net"][sym.as_str()].as_i64().unwrap_or(0);
        assert_eq!(p["position"].as_i64(), Some(want), "{sym}: engine {e}\nQuickFIX {q}");
    }
}

/// How the QuickFIX acceptor takes an OrderStatusRequest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StatusRequests {
    Answered,
    /// QuickFIX's BusinessMessageReject (UnsupportedMessageType).
    Unsupported,
    /// QuickFIX's session Reject (a value it finds incorrect).
    Refused,
}

fn engine_killed_and_resumed_against_quickfix(begin: &str, status: StatusRequests) {
    let (Some(peer), Some(spec)) = (quickfix_peer(), quickfix_spec()) else {
        return;
    };
    let mode = match status {
        StatusRequests::Answered => "answered",
        StatusRequests::Unsupported => "unsupported",
        StatusRequests::Refused => "refused",
    };
    let dir = tempdir(&format!("restart-{begin}-{mode}"));
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (qf_port, md) = (free_port(false), free_port(true));
    let cfg = paper_config(&dir, begin, qf_port, md);
    let _md = market_data_venue(&dir, &cfg);
    let env: &[(&str, &str)] = match status {
        StatusRequests::Answered => &[],
        StatusRequests::Unsupported => &[("QF_PEER_STATUS", "unsupported")],
        StatusRequests::Refused => &[("QF_PEER_STATUS", "refused")],
    };
    let qf = quickfix_acceptor_with(&peer, qf_port, begin, &["4", "2", spec.to_str().unwrap()], env);
    let engine = |run: &str, extra: &[&str]| {
        command()
            .args(["run", "--config", cfg.to_str().unwrap(), "--json", "--record"])
            .arg(dir.join(run))
            .args(extra)
            .arg("--session-store")
            .arg(dir.join("engine-store"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join(format!("{run}.log"))).unwrap())
            .spawn()
            .unwrap()
    };
    let mut e1 = engine("run1", &[]);
    wait_for_log(&dir.join("run1.log"), "event=logged on", 1, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(2500));
    e1.kill().unwrap();
    e1.wait().unwrap();
    let run1 = dir.join("run1");
    let e2 = engine("run2", &["--resume", run1.to_str().unwrap()]);
    let e2 = json_of(e2, "the resumed foxtrot run", Duration::from_secs(90));
    let q = json_of(qf, "QuickFIX acceptor", Duration::from_secs(30));
    assert_eq!(n(&q, "logons"), 2, "{q}");
    assert_eq!(n(&q, "duplicate_cl_ord_ids"), 0, "an order sent twice: {q}");
    assert!(n(&e2, "fix.replayed") > 0, "{e2}");
    // Every order in doubt asked about, every question answered (none given
    // up on), and QuickFIX refused none of them: its only session Rejects
    // are the ones it sends orders on purpose.
    assert!(n(&e2, "fix.status_requests") > 0, "no order was in doubt: {e2}\n{q}");
    assert_eq!(n(&e2, "fix.status_requests"), n(&q, "status_requests"), "{e2}\n{q}");
    assert_eq!(n(&e2, "fix.status_answers"), n(&q, "status_answers_sent"), "{e2}\n{q}");
    assert_eq!(n(&q, "session_rejects"), 0, "QuickFIX refused a message of ours: {q}");
    let refused = match status {
        StatusRequests::Answered => {
            assert_eq!(e2["fix"]["status_gave_up"], false, "{e2}");
            0
        }
        // A counterparty that refuses the question ends the wait at its
        // first refusal, not at the 5 s deadline: the resumed engine trades
        // in the second logon (4 s long).
        _ => {
            assert_eq!(n(&q, "status_answers_sent"), 0, "{q}");
            assert_eq!(e2["fix"]["status_gave_up"], true, "{e2}");
            let second = q["per_logon"][1].as_u64().unwrap_or(0);
            assert!(
                second > 0,
                "no order in the second logon: the engine waited out its deadline\n{e2}\n{q}"
            );
            n(&e2, "fix.status_requests")
        }
    };
    // Every question was QuickFIX's to refuse (its session sent the 35=j or
    // 35=3, which are no venue rejection of an order: the count below).
    assert_eq!(n(&q, "status_refused"), refused, "{e2}\n{q}");
    // The chain's venue rejections: QuickFIX's refusals (business, session,
    // cancel), the orders the venue did not know when asked, and the orders
    // the dead engine decided but never sent (decided again by the replay,
    // too late to send).
    assert_eq!(
        n(&e2, "rejects.venue"),
        n(&q, "business_rejects")
            + n(&q, "session_rejects_sent")
            + n(&q, "cancel_rejects")
            + n(&e2, "fix.status_unknown")
            + n(&e2, "fix.never_sent"),
        "{e2}\n{q}"
    );
    assert_eq!(n(&e2, "fix.bad_reports"), 0, "{e2}");
    assert_eq!(n(&e2, "fix.rejects_sent"), 0, "{e2}");
    // The chain's fills are QuickFIX's: none lost with the dead engine, none
    // booked twice from a status answer or a resend.
    // The chain's corrections, booked in the core whichever run read them
    // (a resumed link knows the fills its predecessor booked, by their
    // journalled keys).
    assert_eq!(n(&e2, "anomalies.trade_corrections"), n(&q, "corrections"), "{e2}\n{q}");
    assert_eq!(n(&e2, "fix.trade_corrections_unapplied"), 0, "{e2}");
    assert_eq!(n(&e2, "fills"), n(&q, "fills"), "fills: engine {e2}\nQuickFIX {q}");
    assert_eq!(n(&e2, "filled_qty"), n(&q, "filled_qty"), "{e2}\n{q}");
    positions_are_quickfix_net(&e2, &q);
    let out = ok(&["replay", dir.join("run2").to_str().unwrap(), "--verify"]);
    assert!(out.contains("identical"), "{out}");
}

/// `foxtrot ctl <run> <args>`: what it printed.
fn ctl(run: &Path, args: &[&str]) -> String {
    let out = command().arg("ctl").arg(run).args(args).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `foxtrot ctl kill` of an engine trading FIX 4.4 with a QuickFIX acceptor,
/// with `venue.mass_cancel`: one OrderMassCancelRequest (530=7), which
/// QuickFIX checks against its dictionary; QuickFIX cancels every resting
/// order, each in its own report, and answers with an OrderMassCancelReport
/// — or, `refused`, refuses the request (MassCancelResponse 0), and the
/// engine cancels order by order. Either way nothing rests at QuickFIX after
/// the kill, nothing new is sent, the fills are QuickFIX's and the run
/// replays.
///
/// That the mass cancel cancelled something at QuickFIX needs an order
/// resting there when it comes, which the engine's open count cannot promise
/// (an order in flight counts open, and may fill on arrival): a run where
/// nothing rested (once in CI) is run again, up to three times in all, and
/// the test fails when none of them cancelled anything by the mass cancel.
fn engine_killed_by_ctl_against_quickfix(refused: bool) {
    for attempt in 0..3 {
        match kill_at_quickfix(refused, attempt) {
            None | Some(true) => return,
            Some(false) => eprintln!(
                "attempt {attempt}: nothing rested at QuickFIX when the mass cancel came (the open orders were in flight): again"
            ),
        }
    }
    panic!("in three runs the mass cancel never cancelled an order resting at QuickFIX");
}

/// One run of [`engine_killed_by_ctl_against_quickfix`]: `None` when QuickFIX
/// is missing; else whether the mass cancel (or the refusal) was shown at
/// work.
fn kill_at_quickfix(refused: bool, attempt: u32) -> Option<bool> {
    let (Some(peer), Some(spec)) = (quickfix_peer(), quickfix_spec()) else {
        return None;
    };
    let dir = tempdir(&format!(
        "ctl-kill-{}-{attempt}",
        if refused { "refused" } else { "taken" }
    ));
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (qf_port, md) = (free_port(false), free_port(true));
    let cfg = paper_config(&dir, "FIX.4.4", qf_port, md);
    let _md = market_data_venue(&dir, &cfg);
    let env: &[(&str, &str)] = if refused { &[("QF_PEER_MASS", "refused")] } else { &[] };
    let qf = quickfix_acceptor_with(&peer, qf_port, "FIX.4.4", &["8", "1", spec.to_str().unwrap()], env);
    let run = dir.join("run");
    let engine = command()
        .args(["run", "--config", cfg.to_str().unwrap(), "--json", "--record"])
        .arg(&run)
        .args(["--set", "venue.mass_cancel=true", "--session-store"])
        .arg(dir.join("engine-store"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("run.log")).unwrap())
        .spawn()
        .unwrap();
    wait_for_log(&dir.join("run.log"), "event=logged on", 1, Duration::from_secs(60));
    // Kill while orders rest at QuickFIX.
    let t0 = Instant::now();
    while open_orders(&ctl(&run, &["status"])).unwrap_or(0) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(6), "no order ever open");
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = ctl(&run, &["kill"]);
    assert!(text.contains("ok: kill applied"), "{text}");
    let t0 = Instant::now();
    loop {
        let text = ctl(&run, &["status"]);
        if open_orders(&text) == Some(0) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "orders still open after the kill:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let e = json_of(engine, "foxtrot run", Duration::from_secs(90));
    let q = json_of(qf, "QuickFIX acceptor", Duration::from_secs(30));
    assert_eq!(n(&q, "mass_cancels"), 1, "{q}");
    assert_eq!(q["mass_types"], "7", "every order of the session: {q}");
    assert_eq!(n(&e, "orders.mass_cancel"), 1, "{e}");
    if refused {
        assert_eq!(n(&q, "mass_refused"), 1, "{q}");
        assert_eq!(n(&e, "orders.mass_cancel_refused"), 1, "{e}");
        assert!(n(&q, "cancels") >= 1, "no order cancelled one by one: {q}");
    } else {
        assert_eq!(n(&e, "orders.mass_cancel_refused"), 0, "{e}");
    }
    let shown = refused || n(&q, "mass_canceled") >= 1;
    assert_eq!(
        n(&q, "resting"),
        0,
        "orders still resting at QuickFIX after the kill: {q}"
    );
    // QuickFIX refused none of our messages but its deliberate ones.
    assert_eq!(n(&e, "fix.session_rejects"), n(&q, "session_rejects_sent"), "{e}\n{q}");
    assert_eq!(n(&e, "fix.business_rejects"), n(&q, "business_rejects"), "{e}\n{q}");
    assert_eq!(n(&q, "session_rejects"), 0, "{q}");
    assert_eq!(n(&e, "events.unknown_exec_reports"), 0, "{e}");
    assert_eq!(n(&e, "fix.bad_reports"), 0, "{e}");
    assert_eq!(n(&e, "fix.reports") + n(&q, "pending_new"), n(&q, "sent"), "{e}\n{q}");
    assert_eq!(n(&e, "fills"), n(&q, "fills"), "fills: engine {e}\nQuickFIX {q}");
    positions_are_quickfix_net(&e, &q);
    let out = ok(&["replay", run.to_str().unwrap(), "--verify"]);
    assert!(out.contains("identical"), "{out}");
    Some(shown)
}

/// 50 runs of `foxtrot run`, one after another, against one QuickFIX acceptor
/// that logs each out after a second; the engine's session store carries its
/// numbers from run to run. The line holds QuickFIX's answers for 150 ms, so
/// every run decides orders before its Logon is answered. Every order each run
/// sent reached QuickFIX in that same logon.
fn engine_logs_on_50_times(begin: &str) {
    let Some(peer) = quickfix_peer() else { return };
    const RUNS: usize = 50;
    let dir = tempdir(&format!("logons-{begin}"));
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (qf_port, md) = (free_port(false), free_port(true));
    let fix = slow_line(qf_port, Duration::from_millis(150));
    let cfg = paper_config(&dir, begin, fix, md);
    let _md = market_data_venue(&dir, &cfg);
    let qf = quickfix_acceptor(&peer, qf_port, begin, &["1", &RUNS.to_string()]);
    let (mut sent, mut held) = (Vec::new(), 0);
    for k in 0..RUNS {
        let engine = command()
            .args(["run", "--config", cfg.to_str().unwrap(), "--json"])
            .arg("--session-store")
            .arg(dir.join("engine-store"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let e = json_of(engine, &format!("foxtrot run #{k}"), Duration::from_secs(60));
        assert_eq!(n(&e, "fix.logons"), 1, "run {k}: {e}");
        assert_eq!(n(&e, "fix.bad_reports"), 0, "run {k}: {e}");
        assert_eq!(n(&e, "fix.rejects_sent"), 0, "run {k}: {e}");
        // Every order decided was sent, or reported back as never sent (one
        // decided after QuickFIX's Logout).
        assert_eq!(
            n(&e, "orders.total"),
            n(&e, "fix.orders_sent") + n(&e, "fix.never_sent"),
            "run {k}: {e}"
        );
        sent.push(n(&e, "fix.orders_sent"));
        held += n(&e, "fix.held_for_logon");
    }
    let q = json_of(qf, "QuickFIX acceptor", Duration::from_secs(30));
    assert_eq!(n(&q, "logons"), RUNS as u64, "{q}");
    let got: Vec<u64> = q["per_logon"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(
        sent, got,
        "orders each run sent vs what QuickFIX received in that logon\n{q}"
    );
    assert!(sent.iter().all(|&s| s > 0), "a run sent nothing: {sent:?}");
    // The slow line did its job: orders were decided before Logons were answered.
    assert!(held > 0, "no order waited for a Logon: the race was not exercised");
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_engine_against_a_quickfix_acceptor() {
    engine_against_quickfix_acceptor("FIX.4.4", None);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix42_engine_against_a_quickfix_acceptor() {
    engine_against_quickfix_acceptor("FIX.4.2", None);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix42_engine_against_a_quickfix_acceptor_over_a_slow_line() {
    engine_against_quickfix_acceptor("FIX.4.2", Some(Duration::from_millis(300)));
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_quickfix_initiator_against_foxtrot_venue() {
    quickfix_initiator_against_venue("FIX.4.4");
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix42_quickfix_initiator_against_foxtrot_venue() {
    quickfix_initiator_against_venue("FIX.4.2");
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_engine_logs_on_50_times_against_a_quickfix_acceptor_and_loses_no_order() {
    engine_logs_on_50_times("FIX.4.4");
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_kill_mass_cancels_at_a_quickfix_acceptor() {
    engine_killed_by_ctl_against_quickfix(false);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_kill_cancels_order_by_order_when_quickfix_refuses_the_mass_cancel() {
    engine_killed_by_ctl_against_quickfix(true);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_engine_killed_and_resumed_against_a_quickfix_acceptor() {
    engine_killed_and_resumed_against_quickfix("FIX.4.4", StatusRequests::Answered);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix44_engine_resumed_against_a_quickfix_acceptor_without_status_requests() {
    engine_killed_and_resumed_against_quickfix("FIX.4.4", StatusRequests::Unsupported);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix42_engine_resumed_against_a_quickfix_acceptor_that_rejects_status_requests() {
    engine_killed_and_resumed_against_quickfix("FIX.4.2", StatusRequests::Refused);
}

#[test]
#[cfg_attr(
    not(has_quickfix),
    ignore = "needs QuickFIX (libquickfix-dev) and g++: bash .ci/run installs it"
)]
fn fix42_engine_killed_and_resumed_against_a_quickfix_acceptor() {
    engine_killed_and_resumed_against_quickfix("FIX.4.2", StatusRequests::Answered);
}
