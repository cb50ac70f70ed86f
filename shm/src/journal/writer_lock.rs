//! One writer per journal: an exclusive POSIX record lock (`fcntl(F_SETLK)`)
//! on the file `LOCK` in the journal's directory, taken before anything there
//! is touched and held for as long as the writer lives. The kernel releases it
//! when the process ends, however it ends, so a kill -9 leaves no stale lock
//! to clear by hand.
//!
//! A second writer process — a second `foxtrot run` on the same FIX session
//! store or run directory, a restart while the old process still lives, a
//! repair of a journal being written — would recover (cut) the live writer's
//! tail, delete the segments it prepared ahead, and interleave records with
//! it; it is refused instead, naming the holder's pid. Readers take no lock (a
//! live journal may be read).
//!
//! On a filesystem without record locks (`ENOLCK`: NFS without its lock
//! daemon; some FUSE filesystems) the writer goes on unguarded, as it did
//! before this lock existed.
//!
//! A POSIX lock, not `flock(2)`: it belongs to the process, so a child
//! forked while a writer is open (a test harness, a tool spawning workers)
//! does not hold it until it execs — with `flock` a writer reopened in that
//! window was refused by its own process's child. The kernel does not tell
//! two writers of one process apart, so the process keeps its own list of the
//! locks it holds (`HELD`) and refuses a second writer from it too, naming
//! its own pid — without opening the lock file, whose closing would drop the
//! first writer's lock.

use crate::ShmError;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

/// The lock file's name in a journal directory.
pub const LOCK_FILE: &str = "LOCK";

/// The lock files this process holds, by (device, inode). A POSIX lock is
/// dropped when *any* descriptor of its file is closed by its process, so
/// [`held_elsewhere`] must not open (and close) the file of a lock held here
/// — a reader at a torn tail asks it, and the FIX store and the ledger read
/// under their lock.
static HELD: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
    key: (u64, u64),
}

/// A whole-file write lock record, for `F_SETLK` or `F_GETLK`.
fn whole_file() -> libc::flock {
    // SAFETY: `flock` is a plain C struct; all zeros is a valid value.
    let mut l: libc::flock = unsafe { std::mem::zeroed() };
    l.l_type = libc::F_WRLCK as libc::c_short;
    l.l_whence = libc::SEEK_SET as libc::c_short;
    l
}

/// The pid of the process whose lock on `file` conflicts with a write lock
/// of this one (never this process: its own locks do not conflict).
fn holder(file: &File) -> Option<u32> {
    let mut l = whole_file();
    // SAFETY: fcntl(2) F_GETLK with a `flock` record this function owns, on
    // the descriptor of `file`, which lives across the call.
    let ok = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut l) } == 0;
    (ok && l.l_type != libc::F_UNLCK as libc::c_short).then_some(l.l_pid as u32)
}

impl WriterLock {
    /// Takes the lock of the journal directory `dir` (which must exist), or
    /// [`ShmError::InUse`] at once if another process, or another writer of
    /// this one, holds it.
    pub fn acquire(dir: &Path) -> Result<WriterLock, ShmError> {
        let path = dir.join(LOCK_FILE);
        // Held across the whole acquisition: two threads of this process
        // taking the same lock at once are one after the other here.
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        // Asked by its name's metadata, not through a descriptor: closing one
        // would release the lock this process may hold.
        if let Ok(meta) = std::fs::metadata(&path) {
            if held.contains(&(meta.dev(), meta.ino())) {
                return Err(ShmError::InUse {
                    path: dir.to_path_buf(),
                    pid: Some(std::process::id()),
                });
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(ShmError::io(&path, "open the writer's lock"))?;
        let meta = file.metadata().map_err(ShmError::io(&path, "stat the writer's lock"))?;
        let l = whole_file();
        // SAFETY: fcntl(2) F_SETLK with a `flock` record this function owns, on
        // the descriptor of `file`, which lives across the call.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &l) } != 0 {
            let e = std::io::Error::last_os_error();
            if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EAGAIN)) {
                return Err(ShmError::InUse {
                    path: dir.to_path_buf(),
                    pid: holder(&file),
                });
            }
            // A filesystem without record locks (an NFS mount without its
            // lock daemon, some FUSE ones): the journal is written unguarded,
            // as before there was a lock, rather than not at all.
            if !matches!(
                e.raw_os_error(),
                Some(libc::ENOLCK | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL)
            ) {
                return Err(ShmError::io(&path, "lock the journal for writing")(e));
            }
        }
        let key = (meta.dev(), meta.ino());
        held.push(key);
        Ok(WriterLock { _file: file, key })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = held.iter().position(|k| *k == self.key) {
            held.swap_remove(i);
        }
    }
}

/// The pid of another process holding the lock of the journal directory
/// `dir` — a live writer — if any. (No lock file, or this process's lock:
/// none.)
pub fn held_elsewhere(dir: &Path) -> Option<u32> {
    let path = dir.join(LOCK_FILE);
    let meta = std::fs::metadata(&path).ok()?;
    if HELD
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&(meta.dev(), meta.ino()))
    {
        return None;
    }
    holder(&File::open(&path).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another process holding the lock (a `flock`-free child: `python3` or
    /// `perl` are not needed, the child is this test binary) is refused with
    /// its pid; once it is gone, the lock is free.
    #[test]
    fn another_process_holding_the_lock_is_named_then_the_lock_is_free() {
        if let Ok(dir) = std::env::var("FOXTROT_LOCK_CHILD") {
            // The child: takes the lock, says so, and waits to be killed.
            let _held = WriterLock::acquire(Path::new(&dir)).unwrap();
            println!("locked");
            std::thread::sleep(std::time::Duration::from_secs(60));
            return;
        }
        let dir = std::env::temp_dir().join(format!("foxtrot-writer-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "journal::writer_lock::tests::another_process_holding_the_lock_is_named_then_the_lock_is_free",
            ])
            .args(["--nocapture", "--test-threads", "1"])
            .env("FOXTROT_LOCK_CHILD", &dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("locked") {
            line.clear();
            assert!(
                std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0,
                "the child ended"
            );
        }
        let refused = WriterLock::acquire(&dir);
        let _ = child.kill();
        let _ = child.wait();
        match refused {
            Err(ShmError::InUse { pid, .. }) => assert_eq!(pid, Some(child.id())),
            other => panic!("a second writer: {other:?}"),
        }
        // Killed: the kernel released its lock.
        assert!(WriterLock::acquire(&dir).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// This process's own lock survives asking whether another process
    /// holds it — as a reader does at a torn tail, which the FIX store and
    /// the ledger read under their lock. (A POSIX lock is dropped when any
    /// descriptor of its file is closed: the question opened one and closed it.)
    #[test]
    fn asking_about_a_lock_this_process_holds_keeps_it() {
        let dir = std::env::temp_dir().join(format!("foxtrot-writer-lock-own-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let held = WriterLock::acquire(&dir).unwrap();
        assert_eq!(held_elsewhere(&dir), None, "held here, not elsewhere");
        assert!(
            !another_process_can_lock(&dir),
            "another process took the lock this one holds"
        );
        drop(held);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Whether another process (this test binary as [`lock_probe_child`])
    /// can take the lock of `dir` now.
    fn another_process_can_lock(dir: &Path) -> bool {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "journal::writer_lock::tests::lock_probe_child", "--ignored"])
            .args(["--nocapture", "--test-threads", "1"])
            .env("FOXTROT_LOCK_PROBE", dir)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("acquired") || said.contains("refused"),
            "the probe said: {said}"
        );
        said.contains("acquired")
    }

    /// The child of [`another_process_can_lock`]: says whether it could take the lock.
    #[test]
    #[ignore = "run by the lock tests as a child process"]
    fn lock_probe_child() {
        if let Ok(dir) = std::env::var("FOXTROT_LOCK_PROBE") {
            let got = WriterLock::acquire(Path::new(&dir));
            println!("{}", if got.is_ok() { "acquired" } else { "refused" });
        }
    }

    /// A second writer in this process is refused with this process's pid,
    /// from two threads at once as well, and the refusal leaves the first
    /// writer's lock in force against other processes; once the first is
    /// dropped the lock is free again.
    #[test]
    fn a_second_writer_in_this_process_is_refused_and_the_first_keeps_its_lock() {
        let dir = std::env::temp_dir().join(format!("foxtrot-writer-lock-twice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let race: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || WriterLock::acquire(&dir))
            })
            .collect();
        let mut got: Vec<_> = race.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            got.iter().filter(|r| r.is_ok()).count(),
            1,
            "one of four threads: {got:?}"
        );
        for r in &got {
            if let Err(e) = r {
                assert!(
                    matches!(e, ShmError::InUse { pid, .. } if *pid == Some(std::process::id())),
                    "{e:?}"
                );
            }
        }
        let first = got.swap_remove(got.iter().position(|r| r.is_ok()).unwrap());
        drop(got);
        assert!(WriterLock::acquire(&dir).is_err(), "a second writer, later");
        assert!(!another_process_can_lock(&dir), "the refusals released the first lock");
        drop(first);
        assert!(WriterLock::acquire(&dir).is_ok(), "free once the first is gone");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
