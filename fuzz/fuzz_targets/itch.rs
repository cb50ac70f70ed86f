//! Any bytes as an ITCH file, in both framings, through decoder, normaliser and
//! books: frames, messages, events or errors naming an offset — never a panic, and
//! every frame inside the input.
#![no_main]
use foxtrot_feed::itch::{self, Frames, Framing, ItchBook, Subscription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::LengthPrefixed, Framing::Inferred, itch::detect(data)] {
        let mut book = ItchBook::new(Subscription::All, 1 << 10, 0, 100, 256);
        for r in Frames::new(data, framing) {
            match r {
                Ok((off, raw)) => {
                    assert!(off as usize + raw.len() <= data.len());
                    if let Ok(m) = itch::decode(raw) {
                        let _ = book.apply(&m, &mut |_, _| {});
                    }
                }
                Err(e) => assert!(e.offset() as usize <= data.len()),
            }
        }
    }
});
