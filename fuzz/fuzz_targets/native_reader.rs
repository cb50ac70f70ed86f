//! Any bytes through the native `.fxmd` reader: it must return records or an
//! error, never panic, and never read past the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (records, err) = foxtrot_feed::native::decode_all(data);
    if err.is_none() {
        // A clean read accounts for every byte.
        assert!(data.len() >= 64 * (1 + records.len()));
    }
});
