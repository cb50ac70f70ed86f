//! A full filesystem is an error that names the file, from the command that
//! needed the room — never a `SIGBUS` that kills the process without a word.
//!
//! Each kind of file foxtrot writes through a shared mapping is written onto
//! a real 3 MiB tmpfs, mounted for the test: an import's market-data segments
//! (their blocks reserved a step ahead of the writer), a feed handler's
//! shared-memory ring, a running engine's stats file (both reserved whole),
//! and a recorded run's journals. Before the reservations the first three
//! died of `SIGBUS` (exit 135 from a shell), saying nothing.
//!
//! Root only (CI runs as root), with `mount` and `umount`: without them the
//! test is marked ignored with the reason (`build.rs`), unless
//! `FOXTROT_REQUIRE_EXTERNAL=1`, where it runs and fails.

mod common;

use common::{command, import_cmd, ok, quote_csv, tempdir, RemoveOnSuccess};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tmpfs of `mib` MiB mounted at a directory for as long as it lives.
struct SmallFs(PathBuf);

impl SmallFs {
    fn mount(at: &Path, mib: u32) -> SmallFs {
        std::fs::create_dir_all(at).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(st.success(), "mount a {mib} MiB tmpfs at {}", at.display());
        SmallFs(at.to_path_buf())
    }

    /// Removes everything on it.
    fn clear(&self) {
        for e in std::fs::read_dir(&self.0).unwrap().flatten() {
            let p = e.path();
            let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
        }
    }

    /// Fills it to the last page with one file.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.0.join("filler")).unwrap();
        for block in [64 << 10, 4 << 10] {
            let zeros = vec![0u8; block];
            while f.write_all(&zeros).is_ok() {}
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Runs `c`, which must end within a minute with exit code 1 — not killed
/// by a signal — having said each of `what` on stderr; its stderr.
fn fails_saying(c: &mut Command, log: &Path, what: &[&str]) -> String {
    let mut child = c
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{c:?} did not end within a minute on a full filesystem");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "{c:?} ended by {status:?} (signal {:?}), not with an error:\n{err}",
        status.signal()
    );
    for w in what {
        assert!(err.contains(w), "{c:?} did not say {w:?}:\n{err}");
    }
    err
}

#[test]
#[cfg_attr(not(has_mount), ignore = "needs root with mount and umount (a small tmpfs to fill)")]
fn a_full_filesystem_is_an_error_naming_the_file_not_a_crash() {
    let d = tempdir("full");
    let _cleanup = RemoveOnSuccess(d.clone());
    let fs = SmallFs::mount(&d.join("small"), 3);
    let small = fs.0.clone();
    let full = "No space left on device";

    // An import that needs more than the filesystem holds (600k quotes:
    // ~7 MB of journal) stops with the error, and leaves no half-written
    // market data behind (as a failed import promises).
    let csv = d.join("q.csv");
    let text = quote_csv(600_000);
    std::fs::write(&csv, &text).unwrap();
    let md = small.join("md");
    let seg = format!("{}/", md.join("market_data").display());
    fails_saying(
        import_cmd(&csv, "csv", &md).args(["--tick", "1"]),
        &d.join("import.log"),
        &[full, &seg, "allocate segment"],
    );
    assert!(!md.exists(), "the failed import left {}", md.display());

    // A feed handler's ring on a full /dev/shm.
    fs.fill();
    let itch = d.join("t.itch");
    ok(&[
        "gen",
        "--format",
        "itch",
        "--events",
        "2000",
        "-o",
        itch.to_str().unwrap(),
    ]);
    let ring = small.join("ring");
    fails_saying(
        command()
            .args(["feed", "--symbols", "FOXA", "--from"])
            .arg(format!("itch:{}", itch.display()))
            .arg("--to")
            .arg(format!("shm:{}", ring.display())),
        &d.join("feed.log"),
        &[full, "allocate ring", &ring.display().to_string()],
    );

    // A running engine's stats file.
    let stats = small.join("stats");
    let sim = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/sim.yaml");
    fails_saying(
        command()
            .args(["run", "--config", sim.to_str().unwrap(), "--set"])
            .arg(format!("runtime.stats_file={}", stats.display())),
        &d.join("run.log"),
        &[full, &format!("stats file {}", stats.display())],
    );

    // A recorded run's journals (every segment reserved whole when made).
    fs.clear();
    let run = small.join("run");
    fails_saying(
        command().args(["sim", "--record", run.to_str().unwrap()]),
        &d.join("sim.log"),
        &[full, "allocate segment", &run.display().to_string()],
    );
}
