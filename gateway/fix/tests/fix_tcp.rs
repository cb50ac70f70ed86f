//! FIX sessions over real loopback TCP through the `mio` transport: logon,
//! thousands of application messages through a deliberately tiny send buffer
//! (so writes are partial and the send queue does the work), in order and
//! complete, then logout; and the reconnect backoff schedule.

use foxtrot_fix::decode::FixDecoder;
use foxtrot_fix::session::{MemoryStore, Role, Session, SessionSettings, Status};
use foxtrot_fix::transport::{Backoff, Connection, Link};
use foxtrot_fix::Fields;
use std::time::{Duration, Instant};

fn settings(sender: &str, target: &str) -> SessionSettings {
    let mut s = SessionSettings::new("FIX.4.2", sender, target);
    s.reset_on_logon = true;
    s
}

fn small_send_buffer(s: &mio::net::TcpStream) {
    foxtrot_net::sockopt::set_int_option(s, libc::SOL_SOCKET, libc::SO_SNDBUF, 2048).unwrap();
}

#[test]
fn thousands_of_messages_over_loopback_with_partial_writes() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = mio::net::TcpStream::connect(addr).unwrap();
    small_send_buffer(&client);
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let server = mio::net::TcpStream::from_std(server);
    let t0 = 1_767_623_400_000_000_000u64;
    let mut i = Link::new(
        Connection::new(client, None).unwrap(),
        Session::new(settings("FOXTROT", "VENUE"), Role::Initiator, MemoryStore::default()),
    );
    let mut a = Link::new(
        Connection::new(server, None).unwrap(),
        Session::new(settings("VENUE", "FOXTROT"), Role::Acceptor, MemoryStore::default()),
    );
    let wall = Instant::now();
    let deadline = wall + Duration::from_secs(20);
    let now = |w: &Instant| t0 + w.elapsed().as_nanos() as u64;
    // Wait for the connection to complete, then log on.
    i.session.start(now(&wall));
    let mut got: Vec<u64> = Vec::new();
    let mut dec = FixDecoder::new();
    const N: u64 = 5_000;
    let mut sent = 0u64;
    let mut max_pending = 0usize;
    let mut logged_out = false;
    let (mut over_i, mut over_a) = (false, false);
    loop {
        assert!(Instant::now() < deadline, "stuck: got {} of {N}", got.len());
        let t = now(&wall);
        let _ = i.flush_outbox();
        let ri = i.poll(t, |_, _| {});
        let ra = a.poll(t, |m, _| {
            let m = dec.decode(m).unwrap();
            got.push(m.u64(11).unwrap().unwrap());
        });
        if i.session.status() == Status::Active && sent < N {
            // A burst far larger than the socket takes at once.
            for _ in 0..500.min(N - sent) {
                let id = sent.to_string();
                i.session.send(
                    "D",
                    &[
                        (11, &id),
                        (21, "1"),
                        (55, "FOXA"),
                        (54, "1"),
                        (38, "100"),
                        (40, "1"),
                        (60, "20260105-14:30:00"),
                    ],
                    t,
                );
                sent += 1;
            }
            let _ = i.flush_outbox();
            max_pending = max_pending.max(i.conn.pending());
        }
        if got.len() as u64 == N && !logged_out {
            i.session.logout("done", t);
            logged_out = true;
        }
        over_i |= ri.is_err();
        over_a |= ra.is_err();
        if logged_out && over_i && over_a {
            break;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    assert_eq!(got, (0..N).collect::<Vec<_>>(), "every message, once, in order");
    assert!(max_pending > 0, "the tiny send buffer never forced a partial write");
    assert_eq!(i.session.status(), Status::Disconnected);
    assert_eq!(a.session.next_in(), N + 3, "logon + N messages + logout");
}

#[test]
fn backoff_doubles_to_five_seconds_and_resets_on_logon() {
    let mut b = Backoff::default();
    assert!(b.due(0));
    let mut t = 0u64;
    let mut delays = Vec::new();
    for _ in 0..10 {
        b.failed(t);
        delays.push(b.delay());
        assert!(!b.due(t + 1));
        t += 10_000_000_000;
        assert!(b.due(t));
    }
    assert_eq!(delays[0], 200_000_000);
    assert_eq!(*delays.last().unwrap(), 5_000_000_000);
    b.succeeded();
    assert_eq!(b.delay(), 100_000_000);
}
