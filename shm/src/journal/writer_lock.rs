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
//! window was refused by its own process's child. The cost: two writers in
//! one process are not told apart (a program's bug, not an operator's).

use crate::ShmError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

/// The lock file's name in a journal directory.
pub const LOCK_FILE: &str = "LOCK";

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock of the journal directory `dir` (which must exist), or
    /// [`ShmError::InUse`] at once if another process holds it.
    pub fn acquire(dir: &Path) -> Result<WriterLock, ShmError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(ShmError::io(&path, "open the writer's lock"))?;
        // SAFETY: fcntl(2) with a `flock` record this function owns, on the
        // descriptor of `file`, which lives across the calls.
        let mut l: libc::flock = unsafe { std::mem::zeroed() };
        l.l_type = libc::F_WRLCK as libc::c_short;
        l.l_whence = libc::SEEK_SET as libc::c_short;
        // SAFETY: as above.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &l) } != 0 {
            let e = std::io::Error::last_os_error();
            if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EAGAIN)) {
                // SAFETY: as above; F_GETLK fills `l` with the holder's lock.
                let held = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut l) } == 0;
                let pid = (held && l.l_type != libc::F_UNLCK as libc::c_short).then_some(l.l_pid as u32);
                return Err(ShmError::InUse {
                    path: dir.to_path_buf(),
                    pid,
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
        // Held: the pid, for whoever looks at the file.
        let _ = file.set_len(0).and_then(|_| writeln!(file, "{}", std::process::id()));
        Ok(WriterLock { _file: file })
    }
}

/// The pid of another process holding the lock of the journal directory
/// `dir` — a live writer — if any. (No lock file: none.)
pub fn held_elsewhere(dir: &Path) -> Option<u32> {
    let file = File::open(dir.join(LOCK_FILE)).ok()?;
    // SAFETY: fcntl(2) F_GETLK with a `flock` record this function owns, on
    // the descriptor of `file`, which lives across the call.
    let mut l: libc::flock = unsafe { std::mem::zeroed() };
    l.l_type = libc::F_WRLCK as libc::c_short;
    l.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: as above.
    let ok = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut l) } == 0;
    (ok && l.l_type != libc::F_UNLCK as libc::c_short).then_some(l.l_pid as u32)
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
}
