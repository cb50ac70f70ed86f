//! Any bytes as a compact market-data block — an event block (kind 103) and a
//! quote block (kind 104) — (and as a frame for AF_XDP): the events or quotes
//! or an error, never a panic, and a block that reads is re-encoded to the same
//! events or quotes.
#![no_main]
use foxtrot_engine::journal::md_block::{BlockDecoder, BlockEncoder};
use foxtrot_engine::journal::md_quotes::{QuoteDecoder, QuoteEncoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    events(data);
    quotes(data);
});

fn events(data: &[u8]) {
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
}

fn quotes(data: &[u8]) {
    let mut d = QuoteDecoder::default();
    if d.load(data).is_err() {
        return;
    }
    let mut qs = Vec::new();
    while let Some(r) = d.next_quote() {
        match r {
            Ok(q) => qs.push(q),
            Err(_) => return,
        }
    }
    let mut e = QuoteEncoder::default();
    for q in &qs {
        e.push(q);
    }
    let mut again = QuoteDecoder::default();
    e.take(|p| again.load(p)).expect("a block the encoder wrote reads");
    for q in &qs {
        let back = again.next_quote().expect("as many quotes").expect("well formed");
        assert_eq!(back, *q);
    }
}
