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

/// Paced at real time, a file takes at least as long as the time its events
/// span, and yields exactly what the unpaced read yields.
#[test]
fn a_paced_file_keeps_its_timestamps_apart() {
    let p = std::env::temp_dir().join(format!("foxtrot-pace-{}.itch", std::process::id()));
    let mut bytes = Vec::new();
    for m in ItchGen::new(ItchGenConfig {
        seed: 3,
        messages: 20_000,
        ..ItchGenConfig::default()
    }) {
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
    let msgs: Vec<Vec<u8>> = ItchGen::new(ItchGenConfig {
        seed: 9,
        messages: 20_000,
        ..ItchGenConfig::default()
    })
    .collect();
    // The clean read, for comparison.
    let clean = {
        let p = std::env::temp_dir().join(format!("foxtrot-mold-clean-{}.itch", std::process::id()));
        let mut bytes = Vec::new();
        for m in &msgs {
            foxtrot_feed::itch::file::write_prefixed(&mut bytes, m);
        }
        std::fs::write(&p, &bytes).unwrap();
        let v = drain(&mut ItchFileFeed::open(&p, Subscription::All, 0, None, None).unwrap());
        std::fs::remove_file(&p).ok();
        v
    };
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
    while got.len() < clean.len() && t0.elapsed() < Duration::from_secs(30) {
        match feed.next() {
            Next::Event(m) => got.push(m),
            Next::Quality(q) => panic!("a finding after {} events: {q:?}", got.len()),
            Next::Idle | Next::End => feed.wait(Duration::from_millis(1)),
        }
    }
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
