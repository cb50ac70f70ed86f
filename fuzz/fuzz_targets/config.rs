//! Any text through the config loader: a config or an error naming where, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = foxtrot_engine::Config::from_yaml(text, std::path::Path::new("fuzz.yaml"));
    }
});
