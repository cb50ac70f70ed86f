//! Socket options the standard library and `mio` do not expose, in one place.

use std::os::fd::AsRawFd;

/// Sets an integer socket option (`SO_RCVBUF`, `SO_SNDBUF`, `SO_BUSY_POLL`, …).
/// The kernel may cap or refuse the value; the error says so.
pub fn set_int_option(
    sock: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: a descriptor the caller owns for the duration of the call, a pointer
    // to an int that lives through it, and that int's size.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
