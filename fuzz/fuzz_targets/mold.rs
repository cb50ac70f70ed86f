//! Any bytes as a stream of MoldUDP64 datagrams (split at every 0xFF byte) into
//! the sequencer: messages in order, gaps, errors — never a panic, and sequence
//! numbers only ever increase.
#![no_main]
use foxtrot_feed::itch::mold::{MoldEvent, MoldPacket, Sequencer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = MoldPacket::parse(data).map(|p| p.messages().count());
    let mut s = Sequencer::new(1, 4);
    let mut last = 0u64;
    for dgram in data.split(|b| *b == 0xFF) {
        let _ = s.push(dgram, &mut |e| {
            if let MoldEvent::Message { seq, .. } = e {
                assert!(seq > last || last == 0);
                last = seq;
            }
        });
    }
});
