//! Campaigns that try to lose or hide data, each of which can fail:
//!
//! - **kill -9**: a recording `foxtrot sim` killed at 100 random moments; every
//!   journal it leaves must verify (a torn tail is no damage), hold a prefix of a
//!   clean run's records, and leave no preallocated segment file behind;
//! - **corruption**: at least 100 random byte flips and truncations per journal
//!   kind (inputs, orders, diary, market data, a FIX session store); each must
//!   make `foxtrot journal verify` exit non-zero, naming where, unless it only
//!   touched the zeroed space after the last record;
//! - **bad inputs**: configurations, CSV, ITCH, DBN and FIX data dictionaries
//!   that are wrong in one way each, each refused with one line that says what
//!   and where (`tests/bad_inputs/`).

mod common;

use common::{command, foxtrot, ok, seed, tempdir, RemoveOnSuccess};
use foxtrot_shm::JournalReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A small, fast xorshift for the campaigns' random choices (seeded: a failing
/// campaign can be rerun as it was).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Every record of a journal: (kind, seq, payload with input TSC stamps zeroed),
/// or the error that stopped the reading.
fn records(dir: &Path) -> Result<Vec<(u16, u64, Vec<u8>)>, String> {
    let mut r = JournalReader::open(dir).map_err(|e| e.to_string())?;
    let mut v = Vec::new();
    loop {
        match r.next() {
            Ok(Some(x)) => {
                let mut p = x.payload.to_vec();
                // Inputs carry the ingest's TSC stamp (bytes 16..24 of the
                // header), which differs run to run and is in no digest.
                if (1..=4).contains(&x.kind) && p.len() >= 24 {
                    p[16..24].fill(0);
                }
                v.push((x.kind, x.seq, p));
            }
            Ok(None) => return Ok(v),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The segment files of `dir` that hold data: without the blank ones a
/// writer prepares ahead (named, never published), which a kill can leave.
fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let (files, blank) = all_segment_files(dir);
    files.into_iter().filter(|p| !blank.contains(p)).collect()
}

/// (every `.seg` file, the blank ones among them).
fn all_segment_files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "seg"));
    v.sort();
    let blank = v
        .iter()
        .filter(|p| foxtrot_shm::journal::segment::is_blank(p))
        .cloned()
        .collect();
    (v, blank)
}

#[test]
fn kill_9_at_random_moments_loses_nothing_committed_and_leaves_only_unlisted_preparations() {
    let dir = tempdir("kill");
    let _cleanup = RemoveOnSuccess(dir.clone());
    // The clean run every killed one must be a prefix of.
    let clean = dir.join("clean");
    ok(&[
        "sim",
        "--no-progress",
        "--events",
        "100000",
        "--record",
        clean.to_str().unwrap(),
    ]);
    let journals = ["inputs", "orders", "diary"];
    let reference: Vec<_> = journals.iter().map(|j| records(&clean.join(j)).unwrap()).collect();
    let started = Instant::now();
    // How long a whole recording takes here, to spread the kills over it.
    let full = {
        let t = Instant::now();
        ok(&[
            "sim",
            "--no-progress",
            "--events",
            "100000",
            "--record",
            dir.join("timing").to_str().unwrap(),
        ]);
        t.elapsed()
    };
    let mut rng = Rng(seed(0x5EED_0000_0000_0001).max(1));
    let (mut torn, mut partial) = (0, 0);
    for k in 0..100 {
        let run = dir.join(format!("k{k}"));
        let mut child = command()
            .args([
                "sim",
                "--no-progress",
                "--events",
                "100000",
                "--record",
                run.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 12 / 10 + 1));
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();
        for (j, refs) in journals.iter().zip(&reference) {
            let d = run.join(j);
            if !d.exists() {
                continue; // killed before the journal was created
            }
            let tmp: Vec<_> = std::fs::read_dir(&d)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .collect();
            assert!(tmp.is_empty(), "kill {k} after {at:?}: {j} left {tmp:?}");
            // A kill may leave the segments the helper prepared ahead (at most
            // the current one's two successors, or the first one unpublished):
            // blank, after every segment with data, never listed.
            let (all, blank) = all_segment_files(&d);
            assert!(blank.len() <= 2, "kill {k}: {j} left {} blank segments", blank.len());
            assert!(
                all.ends_with(&blank),
                "kill {k}: {j}: a blank segment before data: {all:?}"
            );
            if segment_files(&d).is_empty() {
                continue; // killed between creating the directory and its first segment
            }
            let got = records(&d).unwrap_or_else(|e| panic!("kill {k} after {at:?}: {j}: {e}"));
            assert!(
                got.len() <= refs.len() && got[..] == refs[..got.len()],
                "kill {k} after {at:?}: {j} is not a prefix of the clean run ({} records)",
                got.len()
            );
            let mut r = JournalReader::open(&d).unwrap();
            while r.next().unwrap().is_some() {}
            torn += r.torn_tail().is_some() as u32;
            partial += (got.len() < refs.len()) as u32;
            let v = foxtrot(&["journal", "verify", d.to_str().unwrap()]);
            assert!(
                v.status.success(),
                "kill {k}: {j}: {}",
                String::from_utf8_lossy(&v.stderr)
            );
        }
        let _ = std::fs::remove_dir_all(&run);
    }
    // The kills landed mid-recording often enough to mean something.
    assert!(partial > 30, "only {partial} journals were cut short");
    eprintln!(
        "100 kills in {:?}: {partial} journals cut short, {torn} torn tails",
        started.elapsed()
    );
}

/// One damaged copy: a random byte flipped in the written region (its
/// segment header included), or the segment file truncated at a random point.
fn damage(seg: &Path, written_end: u64, rng: &mut Rng) -> String {
    let mut b = std::fs::read(seg).unwrap();
    if rng.below(2) == 0 {
        let at = rng.below(written_end) as usize;
        let bit = 1u8 << rng.below(8);
        b[at] ^= bit;
        std::fs::write(seg, &b).unwrap();
        format!("bit {bit:#04x} flipped at byte {at}")
    } else {
        let at = rng.below(b.len() as u64);
        b.truncate(at as usize);
        std::fs::write(seg, &b).unwrap();
        format!("truncated to {at} bytes")
    }
}

/// Where a journal's records end in its last segment.
fn written_end(dir: &Path) -> u64 {
    let mut r = JournalReader::open(dir).unwrap();
    let mut end = 64;
    let last = segment_files(dir).len() as u64 - 1;
    while let Some(x) = r.next().unwrap() {
        if x.segment == last {
            end = x.offset + foxtrot_shm::journal::layout::record_len(x.payload.len()) as u64;
        }
    }
    end
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn every_damage_to_every_journal_kind_is_reported() {
    let dir = tempdir("corrupt");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let run = dir.join("run");
    ok(&[
        "sim",
        "--no-progress",
        "--events",
        "20000",
        "--record",
        run.to_str().unwrap(),
    ]);
    // A market-data directory, from a small CSV.
    let csv = dir.join("q.csv");
    let mut text = String::from("timestamp,bid,bid_size,ask,ask_size\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "2026-01-05T14:30:{:02}.{:06}Z,{}.{:02},{},{}.{:02},{}\n",
            i / 100 % 60,
            i % 100 * 10_000,
            100 + i % 7,
            i % 100,
            100 + i % 5,
            101 + i % 7,
            i % 100,
            200 + i % 3
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let md = dir.join("md");
    common::ok_cmd(common::import_cmd(&csv, "csv", &md).args(["--symbol", "ACME", "--tick", "1"]));
    // A FIX session store, written by the session layer.
    let store = dir.join("store");
    {
        use foxtrot_fix::session::{Role, Session, SessionSettings};
        let mut s = Session::new(
            SessionSettings::new("FIX.4.4", "A", "B"),
            Role::Initiator,
            foxtrot_fix::store::JournalStore::open(&store).unwrap(),
        );
        for k in 0..500u64 {
            let id = k.to_string();
            s.send("D", &[(11, id.as_str()), (55, "ACME")], 1_767_623_400_000_000_000 + k);
            s.outbox().clear();
        }
        assert!(s.store().error().is_none());
    }
    let kinds: Vec<(&str, PathBuf)> = vec![
        ("inputs", run.join("inputs")),
        ("orders", run.join("orders")),
        ("diary", run.join("diary")),
        ("market data", md.join("market_data")),
        ("FIX store", store.clone()),
    ];
    let mut rng = Rng(seed(0xC0_2211_7E55).max(1));
    for (name, journal) in &kinds {
        let v = foxtrot(&["journal", "verify", journal.to_str().unwrap()]);
        assert!(
            v.status.success(),
            "{name} is sound before: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        let end = written_end(journal);
        let segs = segment_files(journal);
        let (mut reported, mut tail_only) = (0, 0);
        for trial in 0..100 {
            let copy = dir.join(format!("c-{}-{trial}", name.replace(' ', "_")));
            copy_dir(journal, &copy);
            let seg = copy.join(segs.last().unwrap().file_name().unwrap());
            let what = damage(&seg, end, &mut rng);
            let v = foxtrot(&["journal", "verify", copy.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&v.stderr).into_owned();
            if v.status.success() {
                // Only damage confined to the zeroed space after the records may pass.
                let b = std::fs::read(&seg).unwrap();
                let untouched_records = b.len() as u64 >= 64 && {
                    let original = std::fs::read(segs.last().unwrap()).unwrap();
                    b.len() == original.len() && b[..end as usize] == original[..end as usize]
                };
                assert!(
                    untouched_records,
                    "{name}, trial {trial}: {what} passed verify: {}",
                    String::from_utf8_lossy(&v.stdout)
                );
                tail_only += 1;
            } else {
                reported += 1;
                let line = err.lines().last().unwrap_or("");
                assert_eq!(
                    err.trim().lines().count(),
                    1,
                    "{name}, trial {trial}: not one line: {err}"
                );
                assert!(
                    line.contains("offset") || line.contains("truncated") || line.contains("header"),
                    "{name}, trial {trial}: {what}: the error does not say where: {line}"
                );
            }
            let _ = std::fs::remove_dir_all(&copy);
        }
        eprintln!("{name}: {reported} of 100 damages reported, {tail_only} confined to the zeroed tail");
        assert!(reported >= 50, "{name}: only {reported} reported");
    }
}

#[test]
fn bad_inputs_are_refused_with_one_line_saying_what_and_where() {
    let dir = tempdir("bad");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs");
    let cases = std::fs::read_to_string(corpus.join("cases.txt")).unwrap();
    let mut n = 0;
    for (i, line) in cases.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `ARGS… => EXPECTED`; `{corpus}` and `{out}` are replaced.
        let (args, expected) = line.split_once("=>").expect("ARGS => EXPECTED");
        let out = dir.join(format!("out{i}"));
        let args: Vec<String> = args
            .split_whitespace()
            .map(|a| {
                a.replace("{corpus}", corpus.to_str().unwrap())
                    .replace("{out}", out.to_str().unwrap())
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = foxtrot(&refs);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            !o.status.success(),
            "line {}: {line}: accepted\n{}",
            i + 1,
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "line {}: panicked: {err}",
            i + 1
        );
        // One line of error (`config check` adds its count of bad files).
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains("configuration files are not valid"))
            // Log lines of what went well before the error are not errors.
            .filter(|l| !l.contains(" INFO ") && !l.contains(" WARN "))
            .collect();
        assert_eq!(errors.len(), 1, "line {}: not one line: {err}", i + 1);
        let last = errors[0];
        assert!(
            last.contains(expected.trim()),
            "line {}: expected {:?} in {last:?}",
            i + 1,
            expected.trim()
        );
        assert!(
            !last.contains("Custom {") && !last.contains("kind: "),
            "line {}: Debug formatting: {last}",
            i + 1
        );
        n += 1;
    }
    assert!(n >= 15, "only {n} cases");
}
