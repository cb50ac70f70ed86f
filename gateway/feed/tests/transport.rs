//! Feed transports, across the crate's boundary (with data from the venue's
//! synthetic ITCH generator).

use foxtrot_engine::records::MarketData;
use foxtrot_feed::itch::Subscription;
use foxtrot_feed::transport::{Feed, ItchFileFeed, Next};
use foxtrot_venue::gen::itch::{ItchGen, ItchGenConfig};
use std::time::{Duration, Instant};

fn drain(f: &mut dyn Feed) -> Vec<MarketData> {
    let mut v = Vec::new();
    loop {
        match f.next() {
            Next::Event(m) => v.push(m),
            Next::Quality(q) => panic!("finding {q:?}"),
            Next::Idle => f.wait(Duration::from_micros(100)),
            Next::End => return v,
        }
    }
}

/// A generated ITCH day of about `messages` messages.
fn itch_day(seed: u64, messages: u64) -> Vec<Vec<u8>> {
    ItchGen::new(ItchGenConfig {
        seed,
        messages,
        ..ItchGenConfig::default()
    })
    .collect()
}

/// Reads `feed` into `got` until it holds `want` events or `limit` has passed
/// since `t0` — with no limit, only what has already come; a finding fails
/// the test (every gap is to be recovered).
fn read_until(feed: &mut dyn Feed, got: &mut Vec<MarketData>, want: usize, t0: Instant, limit: Option<Duration>) {
    while got.len() < want {
        match feed.next() {
            Next::Event(m) => got.push(m),
            Next::Quality(q) => panic!("a finding after {} events: {q:?}", got.len()),
            Next::Idle | Next::End => match limit {
                Some(l) if t0.elapsed() < l => feed.wait(Duration::from_micros(200)),
                _ => return,
            },
        }
    }
}

/// The events of `msgs` read from a file (an ITCH file feed: no transport),
/// and the orders live after them; `name` tells the file apart.
fn clean_read(msgs: &[Vec<u8>], name: &str) -> (Vec<MarketData>, usize) {
    let p = std::env::temp_dir().join(format!("foxtrot-mold-{name}-{}.itch", std::process::id()));
    let mut bytes = Vec::new();
    for m in msgs {
        foxtrot_feed::itch::file::write_prefixed(&mut bytes, m);
    }
    std::fs::write(&p, &bytes).unwrap();
    let mut f = ItchFileFeed::open(&p, Subscription::All, 0, None, None).unwrap();
    let v = drain(&mut f);
    std::fs::remove_file(&p).ok();
    (v, f.normaliser().orders().len())
}

/// Paced at real time, a file takes at least as long as the time its events
/// span, and yields exactly what the unpaced read yields.
#[test]
fn a_paced_file_keeps_its_timestamps_apart() {
    let p = std::env::temp_dir().join(format!("foxtrot-pace-{}.itch", std::process::id()));
    let mut bytes = Vec::new();
    for m in itch_day(3, 20_000) {
        foxtrot_feed::itch::file::write_prefixed(&mut bytes, &m);
    }
    std::fs::write(&p, &bytes).unwrap();
    let sub = || Subscription::All;
    let fast = drain(&mut ItchFileFeed::open(&p, sub(), 0, None, None).unwrap());
    let t = Instant::now();
    let paced = drain(&mut ItchFileFeed::open(&p, sub(), 0, Some(1.0), None).unwrap());
    let took = t.elapsed();
    let _ = std::fs::remove_file(&p);
    assert!(fast == paced);
    let span = Duration::from_nanos(fast.last().unwrap().header.ts_ns - fast[0].header.ts_ns);
    assert!(span > Duration::from_millis(20), "span {span:?}");
    assert!(took >= span, "took {took:?} for {span:?} of market time");
}

/// MoldUDP64 over loopback through a lossy line: a relay drops one packet in
/// seven, and the last ones of the stream, on the way to the feed. The feed asks
/// the publisher's retransmission server for each gap and gets every message,
/// in order, with no gap left: the same events as a clean read of the stream.
#[test]
fn moldudp64_gaps_are_recovered_by_retransmission() {
    use foxtrot_feed::itch::publish::MoldPublisher;
    use foxtrot_feed::transport::MoldUdpFeed;
    let msgs = itch_day(9, 20_000);
    // The clean read, for comparison.
    let (clean, _) = clean_read(&msgs, "clean");
    // The retransmission server's port, then the feed that asks it.
    let rtx: std::net::SocketAddr = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let mut feed = MoldUdpFeed::bind("127.0.0.1:0".parse().unwrap(), Subscription::All, 0, 4096, Some(rtx)).unwrap();
    let feed_addr = feed.local_addr().unwrap();
    // The lossy line: publisher → relay → feed.
    let relay = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay_addr = relay.local_addr().unwrap();
    let mut publisher = MoldPublisher::new("FOXTROT01", relay_addr, Some(rtx), 1 << 20).unwrap();
    relay.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let total = msgs.len();
    let line = std::thread::spawn(move || {
        let (mut n, mut dropped) = (0u64, 0u64);
        let mut buf = [0u8; 9000];
        while let Ok(k) = relay.recv(&mut buf) {
            n += 1;
            // One in seven lost, and a heartbeat now and then passes.
            if n % 7 == 3 && k > 20 {
                dropped += 1;
                continue;
            }
            relay.send_to(&buf[..k], feed_addr).unwrap();
        }
        dropped
    });
    // The publisher on its own thread, as a venue runs it: the stream, paced,
    // then heartbeats and answers to requests until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let msgs2 = msgs.clone();
    let publisher = std::thread::spawn(move || {
        for (i, m) in msgs2.iter().enumerate() {
            publisher.push(m);
            if i % 50 == 49 {
                publisher.flush();
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            publisher.flush();
            std::thread::sleep(Duration::from_micros(200));
        }
        publisher
    });
    let mut got = Vec::new();
    let t0 = Instant::now();
    read_until(&mut feed, &mut got, clean.len(), t0, Some(Duration::from_secs(30)));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let publisher = publisher.join().unwrap();
    let dropped = line.join().unwrap();
    eprintln!(
        "dropped {dropped}, requests {} sent / {} answered, took {:?}",
        feed.requests,
        publisher.stats().requests,
        t0.elapsed()
    );
    assert!(dropped > 50, "the line dropped only {dropped} packets");
    assert!(
        feed.requests > 0 && publisher.stats().resent > 0,
        "nothing was asked for"
    );
    assert_eq!(got.len(), clean.len(), "{} of {total} messages' events", got.len());
    assert!(got == clean, "recovered events differ from a clean read");
}

/// A MoldUDP64 publisher that dies without ending its session (kill -9) and
/// comes back under a new session name, numbering from 1 again and with a new
/// book (the same order references reused): the feed keeps dropping the new
/// session while the old one might still speak, then — the old one silent
/// for [`SESSION_SILENCE`] — withdraws every order of the old book (a Cancel
/// each, in reference order, the last ending the batch), reports the change,
/// and follows the new session from its first message, the ones it dropped
/// asked for again. Under the old name the restarted publisher's messages read
/// as duplicates and the feed went blind.
#[test]
fn a_restarted_publisher_is_followed_once_the_old_session_falls_silent() {
    use foxtrot_engine::records::{flags::LAST_IN_BATCH, DqCode, MdAction};
    use foxtrot_feed::itch::publish::MoldPublisher;
    use foxtrot_feed::transport::{MoldUdpFeed, SESSION_SILENCE};
    use std::collections::BTreeMap;
    let msgs = itch_day(9, 4_000);
    let (clean, live_at_end) = clean_read(&msgs, "restart");
    assert!(live_at_end > 10, "the first session leaves orders in its book");
    // Both lives answer retransmission requests on one port, as a venue
    // restarted with the same configuration does.
    let rtx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut feed = MoldUdpFeed::bind("127.0.0.1:0".parse().unwrap(), Subscription::All, 0, 4096, Some(rtx)).unwrap();
    let to = feed.local_addr().unwrap();
    let publish = |session: &str| {
        let mut p = MoldPublisher::new(session, to, Some(rtx), 1 << 20).unwrap();
        for (i, m) in msgs.iter().enumerate() {
            p.push(m);
            if i % 50 == 49 {
                p.flush();
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        p.flush();
        p
    };
    let mut got = Vec::new();
    let mut findings = Vec::new();
    let mut read = |feed: &mut MoldUdpFeed, got: &mut Vec<MarketData>, until: &dyn Fn(&[MarketData]) -> bool| {
        let t0 = Instant::now();
        while !until(got) && t0.elapsed() < Duration::from_secs(30) {
            match feed.next() {
                Next::Event(m) => got.push(m),
                Next::Quality(q) => findings.push(q),
                Next::Idle | Next::End => feed.wait(Duration::from_millis(1)),
            }
        }
    };
    // The first life publishes its stream and dies (dropped: no end of session).
    let a = publish("SESSIONA01");
    read(&mut feed, &mut got, &|g| g.len() >= clean.len());
    assert!(got == clean, "the first session's events");
    drop(a);
    // The second life, on the same port: its stream, then heartbeats and
    // answers to requests until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let t_restart = Instant::now();
    let b = std::thread::scope(|s| {
        let b = s.spawn(|| {
            let mut b = publish("SESSIONB01");
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                b.flush();
                std::thread::sleep(Duration::from_micros(200));
            }
            b
        });
        let want = clean.len() + live_at_end + clean.len();
        read(&mut feed, &mut got, &|g| g.len() >= want);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        b.join().unwrap()
    });
    let took = t_restart.elapsed();
    assert!(took >= SESSION_SILENCE, "followed the new session after {took:?}");
    assert_eq!(feed.sequencer().stats().sessions, 1);
    assert!(
        feed.sequencer().stats().foreign > 0,
        "nothing of the new session was dropped first"
    );
    assert!(
        b.stats().resent > 0,
        "the dropped start of the new session was not asked for again"
    );
    // The withdrawals: every order the old book held, in reference order.
    let withdrawn = &got[clean.len()..clean.len() + live_at_end];
    assert!(withdrawn.iter().all(|m| m.action() == Some(MdAction::Cancel)));
    assert!(withdrawn.windows(2).all(|w| w[0].order_id < w[1].order_id));
    assert!(withdrawn[..live_at_end - 1]
        .iter()
        .all(|m| m.header.flags & LAST_IN_BATCH == 0));
    assert!(withdrawn[live_at_end - 1].header.flags & LAST_IN_BATCH != 0);
    // The old book with them is empty, level by level.
    let mut levels = BTreeMap::<(u32, u8, i64), i64>::new();
    for m in &got[..clean.len() + live_at_end] {
        let q = levels.entry((m.header.instrument, m.header.side, m.px)).or_default();
        match m.action() {
            Some(MdAction::Add) => *q += m.qty,
            Some(MdAction::Cancel | MdAction::Execute) => *q -= m.qty,
            _ => {}
        }
    }
    assert!(levels.values().all(|q| *q == 0), "a level survived the withdrawal");
    // Then the new session from its first message, as a clean read gives it.
    assert!(
        got[clean.len() + live_at_end..] == clean[..],
        "the new session's events"
    );
    assert_eq!(
        findings.iter().map(|f| (f.code, f.a, f.b)).collect::<Vec<_>>(),
        vec![(DqCode::Session as u16, live_at_end as i64, msgs.len() as i64)]
    );
}

/// A re-request server as the MoldUDP64 1.00 specification has one answer: a
/// request (session, first sequence number, count) gets *one* downstream
/// packet back — the messages asked for from the first, as many as fit the
/// packet — so a long gap takes one request per packet. Written here from the
/// specification, byte by byte, not with the crate's packet writer. Returns
/// the requests it answered when `stop` is set.
fn one_packet_per_request_server(
    socket: std::net::UdpSocket,
    session: [u8; 10],
    msgs: Vec<Vec<u8>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut answered = 0;
        let mut req = [0u8; 64];
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let Ok((n, from)) = socket.recv_from(&mut req) else {
                continue;
            };
            if n != 20 || req[..10] != session {
                continue;
            }
            socket.send_to(&one_packet_answer(&req[..20], &msgs), from).unwrap();
            answered += 1;
        }
        answered
    })
}

/// `msgs` in MoldUDP64 packets of session `session` from sequence number 1,
/// up to 1,400 bytes each.
fn mold_packets(msgs: &[Vec<u8>], session: &str) -> Vec<Vec<u8>> {
    let mut w = foxtrot_feed::itch::mold::PacketWriter::new(session, 1, 1400);
    let mut packets: Vec<Vec<u8>> = msgs.iter().filter_map(|m| w.push(m)).collect();
    packets.extend(w.flush());
    packets
}

/// The one downstream packet the specification's re-request server sends for
/// request `req` (session, first sequence number, count): the messages asked
/// for from the first, as many as fit 1,400 bytes. Sequence number s is
/// `msgs[s - 1]`.
fn one_packet_answer(req: &[u8], msgs: &[Vec<u8>]) -> Vec<u8> {
    const MTU: usize = 1400;
    let first = u64::from_be_bytes(req[10..18].try_into().unwrap());
    let want = u16::from_be_bytes([req[18], req[19]]) as u64;
    let mut p = req[..18].to_vec();
    p.extend_from_slice(&[0, 0]);
    let mut count = 0u16;
    while (count as u64) < want {
        let Some(m) = msgs.get((first - 1 + count as u64) as usize) else {
            break;
        };
        if count > 0 && p.len() + 2 + m.len() > MTU {
            break;
        }
        p.extend_from_slice(&(m.len() as u16).to_be_bytes());
        p.extend_from_slice(m);
        count += 1;
    }
    p[18..20].copy_from_slice(&count.to_be_bytes());
    p
}

/// A line that never goes quiet: each read finds a packet of the live
/// stream waiting (until the day ends), and the answer to a re-request comes
/// behind the next live packet, as on a busy feed, where the socket is never
/// empty while a gap is being recovered. The re-request server behind it
/// answers each request with one packet (`one_packet_answer`). A simulated
/// network, written from the specification, at the feed's `Datagrams` seam.
struct BusyLine {
    live: std::collections::VecDeque<Vec<u8>>,
    answers: std::collections::VecDeque<Vec<u8>>,
    msgs: Vec<Vec<u8>>,
    /// Live packets still to pass before the first answer is due.
    behind: usize,
}

impl foxtrot_net::Datagrams for BusyLine {
    fn recv_from(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, std::net::SocketAddr)> {
        let from = "127.0.0.1:1".parse().unwrap();
        let p = match self.answers.front() {
            Some(_) if self.behind == 0 || self.live.is_empty() => {
                // The next answer, if any, behind the next live packet.
                self.behind = 1;
                self.answers.pop_front()
            }
            _ => {
                self.behind = self.behind.saturating_sub(1);
                self.live.pop_front()
            }
        };
        let Some(p) = p else {
            return Err(std::io::ErrorKind::WouldBlock.into());
        };
        buf[..p.len()].copy_from_slice(&p);
        Ok((p.len(), from))
    }
    fn send_to(&mut self, buf: &[u8], _to: std::net::SocketAddr) -> std::io::Result<usize> {
        if self.answers.is_empty() {
            self.behind = 1;
        }
        self.answers.push_back(one_packet_answer(buf, &self.msgs));
        Ok(buf.len())
    }
    fn wait(&mut self, _timeout: Duration) {}
    fn fd(&self) -> std::os::fd::RawFd {
        -1
    }
    fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        Ok("127.0.0.1:2".parse().unwrap())
    }
    fn describe(&self) -> String {
        "a line that never goes quiet".into()
    }
}

/// A gap of forty packets on a line that never goes quiet, recovered from a
/// server that answers each request with one packet: the feed asks for the
/// rest as each answer arrives, whether or not the socket has emptied. When it
/// asked again only once it had read the socket dry, the first answer's
/// packet came and no second request followed while the stream flowed: the
/// reorder window (64 packets here) filled and the gap was declared lost.
#[test]
fn a_gap_is_recovered_while_the_stream_never_pauses() {
    use foxtrot_feed::transport::MoldUdpFeed;
    let msgs = itch_day(12, 12_000);
    let (clean, _) = clean_read(&msgs, "busy-line");
    let packets = mold_packets(&msgs, "FOXTROT03");
    let lost = 10..50;
    assert!(packets.len() > lost.end + 200, "{} packets", packets.len());
    let live = packets
        .iter()
        .enumerate()
        .filter(|(i, _)| !lost.contains(i))
        .map(|(_, p)| p.clone())
        .collect();
    let line = BusyLine {
        live,
        answers: Default::default(),
        msgs: msgs.clone(),
        behind: 0,
    };
    let rtx = "127.0.0.1:3".parse().unwrap();
    let mut feed = MoldUdpFeed::over(Box::new(line), Subscription::All, 0, 64, Some(rtx));
    let mut got = Vec::new();
    let t0 = Instant::now();
    read_until(&mut feed, &mut got, clean.len(), t0, Some(Duration::from_secs(5)));
    assert_eq!(got.len(), clean.len(), "{} of {} events", got.len(), clean.len());
    assert!(got == clean, "recovered events differ from a clean read");
}

/// Forty packets in a row lost (~1,000 messages), recovered from a re-request
/// server that answers each request with one packet, as the specification's
/// does: the feed asks for the rest as each answer arrives — not a repeat
/// period (250 ms) later, which made such a gap take ten seconds and, on a
/// live feed, overflow the reorder window into a loss. Every message comes, in
/// order, well within the recovery timeout.
#[test]
fn a_long_gap_is_recovered_from_a_server_that_answers_one_packet_per_request() {
    use foxtrot_feed::transport::MoldUdpFeed;
    let msgs = itch_day(11, 3_000);
    let (clean, _) = clean_read(&msgs, "one-per-request");
    let packets = mold_packets(&msgs, "FOXTROT02");
    let lost = 10..50;
    assert!(packets.len() > lost.end + 10, "{} packets", packets.len());
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtx = server.local_addr().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let session: [u8; 10] = packets[0][..10].try_into().unwrap();
    let server = one_packet_per_request_server(server, session, msgs.clone(), stop.clone());
    let mut feed = MoldUdpFeed::bind("127.0.0.1:0".parse().unwrap(), Subscription::All, 0, 4096, Some(rtx)).unwrap();
    let to = feed.local_addr().unwrap();
    let line = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let t0 = Instant::now();
    let mut got = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if !lost.contains(&i) {
            line.send_to(p, to).unwrap();
        }
        // Read what has come (a socket buffer holds only so much).
        read_until(&mut feed, &mut got, clean.len(), t0, None);
    }
    read_until(&mut feed, &mut got, clean.len(), t0, Some(Duration::from_secs(20)));
    let took = t0.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = server.join().unwrap();
    eprintln!(
        "{} packets lost, {answered} requests answered, {} sent, took {took:?}",
        lost.len(),
        feed.requests
    );
    assert_eq!(
        got.len(),
        clean.len(),
        "{} of {} events after {took:?}",
        got.len(),
        clean.len()
    );
    assert!(got == clean, "recovered events differ from a clean read");
    assert!(
        answered >= lost.len() as u64,
        "{answered} answers for {} packets",
        lost.len()
    );
    assert!(took < Duration::from_secs(1), "the gap took {took:?} to recover");
}
