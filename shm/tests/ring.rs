//! The shared-memory ring between two real processes: a child produces 10M
//! records with checksums into a ring file; this process consumes and checks every
//! one — order, content, nothing lost, nothing duplicated.

use foxtrot_shm::ShmRing;
use std::path::PathBuf;

const N: u64 = 10_000_000;
const CHILD_ENV: &str = "FOXTROT_RING_CHILD";

fn mix(i: u64, k: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x.wrapping_mul(0x94D0_49BB_1331_11EB)
}

fn record(i: u64) -> [u64; 8] {
    let mut r = [i, mix(i, 1), mix(i, 2), mix(i, 3), mix(i, 4), mix(i, 5), mix(i, 6), 0];
    r[7] = r[..7].iter().fold(0x5555, |a, b| a ^ b.rotate_left(7));
    r
}

/// Spins briefly, then yields: never hog a core while the other side is behind.
fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

#[test]
#[ignore = "run by two_processes_pass_ten_million_records as the producer process"]
fn ring_producer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let mut p = ShmRing::open(&PathBuf::from(path)).unwrap().producer();
    for i in 0..N {
        let r = record(i);
        let mut spins = 0;
        while !p.try_push(&r) {
            backoff(&mut spins);
        }
    }
}

#[test]
fn two_processes_pass_ten_million_records() {
    let path = std::env::temp_dir().join(format!("foxtrot-ring-{}", std::process::id()));
    let ring = ShmRing::create(&path, 4096, 9).unwrap();
    let mut c = ring.consumer();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "ring_producer_child", "--ignored", "--nocapture"])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut next = 0u64;
    let mut bad = 0u64;
    let mut spins = 0;
    let started = std::time::Instant::now();
    while next < N {
        let n = c.pop_batch(1024, |p| {
            if p != record(next).as_slice() {
                bad += 1;
            }
            next += 1;
        });
        if n == 0 {
            backoff(&mut spins);
            assert!(started.elapsed().as_secs() < 240, "stalled at record {next}");
        } else {
            spins = 0;
        }
    }
    let status = child.wait().unwrap();
    std::fs::remove_file(&path).ok();
    assert!(status.success());
    assert_eq!(bad, 0, "records failed their checksum or order");
    assert_eq!(c.position(), N);
    // Nothing more arrives: no duplicates.
    assert_eq!(c.pop_batch(16, |_| {}), 0);
}

#[test]
fn bad_ring_files_are_refused() {
    let path = std::env::temp_dir().join(format!("foxtrot-ring-bad-{}", std::process::id()));
    std::fs::write(&path, b"not a ring").unwrap();
    assert!(ShmRing::open(&path).is_err());
    assert!(
        ShmRing::create(&path, 1000, 9).is_err(),
        "capacity must be a power of two"
    );
    let r = ShmRing::create(&path, 8, 3).unwrap();
    drop(r);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(100).unwrap();
    assert!(ShmRing::open(&path).is_err(), "truncated");
    std::fs::remove_file(&path).ok();
}

/// A producer that died between committing a record and publishing its
/// position leaves the position one behind. A restarted producer must resume
/// after the committed record, not overwrite it (the consumer may hold it).
#[test]
fn a_restarted_producer_skips_records_committed_after_the_published_position() {
    let path = std::env::temp_dir().join(format!("foxtrot-ring-resume-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut p = ShmRing::create(&path, 8, 2).unwrap().producer();
    for v in [11u64, 22, 33] {
        assert!(p.try_push(&[v]));
    }
    drop(p);
    // The crash: the third record is committed, its position store never happened.
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(128)).unwrap();
        f.write_all(&2u64.to_le_bytes()).unwrap();
    }
    let mut p = ShmRing::open(&path).unwrap().producer();
    assert_eq!(p.position(), 3, "resumes after the last committed record");
    assert!(p.try_push(&[44]));
    let mut c = ShmRing::open(&path).unwrap().consumer();
    let mut got = Vec::new();
    c.pop_batch(16, |w| got.push(w[0]));
    assert_eq!(got, [11, 22, 33, 44]);
    std::fs::remove_file(&path).ok();
}
