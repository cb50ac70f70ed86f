//! Blocks (or tmpfs pages) reserved for a file before it is written through a
//! shared mapping.
//!
//! A store through a mapping into a page the filesystem cannot back — a full
//! disk, a full `/dev/shm` — is not an error a program can see: the kernel
//! sends `SIGBUS`, and the process dies without a word (a 1M-quote import
//! into a 3 MiB tmpfs: "Bus error", exit 135, before this). So every writable
//! file mapping foxtrot makes has its blocks reserved with `posix_fallocate`
//! before any store reaches them, and a full filesystem is an `ENOSPC` error
//! naming the file, from the call that needed the room.

use std::fs::File;
use std::os::fd::AsRawFd;

/// Reserves bytes `offset..offset + len` of `file` (the file grows if they
/// lie past its end), so stores through a mapping of them cannot fault for
/// want of space. Reserving what is reserved already costs a system call and
/// nothing more. A filesystem that can neither allocate nor let glibc write
/// the blocks in (`EOPNOTSUPP`) is not refused: its stores fault as they
/// would have.
pub fn reserve(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    loop {
        // SAFETY: a plain posix_fallocate(3) on a descriptor `file` keeps open;
        // no memory is passed.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), offset as libc::off_t, len as libc::off_t) };
        match rc {
            0 => return Ok(()),
            libc::EINTR => continue,
            libc::EOPNOTSUPP => return Ok(()),
            e => return Err(std::io::Error::from_raw_os_error(e)),
        }
    }
}
