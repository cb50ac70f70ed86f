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
