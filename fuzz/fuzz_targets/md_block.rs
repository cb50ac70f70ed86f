//! Any bytes as a compact market-data block (and as a frame for AF_XDP): the
//! events or an error, never a panic, and a block that reads is re-encoded to
//! the same events.
#![no_main]
use foxtrot_engine::journal::md_block::{BlockDecoder, BlockEncoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = BlockDecoder::default();
    if d.load(data).is_err() {
        return;
    }
    let mut evs = Vec::new();
    while let Some(r) = d.next_event() {
        match r {
            Ok(m) => evs.push(m),
            Err(_) => return,
        }
    }
    let mut e = BlockEncoder::default();
    for m in &evs {
        e.push(m);
    }
    let mut again = BlockDecoder::default();
    e.take(|p| again.load(p)).expect("a block the encoder wrote reads");
    for m in &evs {
        let back = again.next_event().expect("as many events").expect("well formed");
        assert_eq!(bytemuck::bytes_of(&back), bytemuck::bytes_of(m));
    }
});
