//! Any bytes as a journal segment file: the reader (and the writer's recovery)
//! must return records, an end, or an error naming where — never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("foxtrot-fuzz-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("00000000000000000000.seg"), data).unwrap();
    if let Ok(mut r) = foxtrot_shm::JournalReader::open(&dir) {
        let mut n = 0;
        while let Ok(Some(rec)) = r.next() {
            assert!(rec.offset as usize + 32 + rec.payload.len() <= data.len());
            n += 1;
            if n > 1_000_000 {
                break;
            }
        }
    }
    let cfg = foxtrot_shm::JournalConfig { segment_size: 1 << 16, ..Default::default() };
    let _ = foxtrot_shm::JournalWriter::open(&dir, cfg);
});
