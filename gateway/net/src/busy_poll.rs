//! Busy polling of a socket (`SO_BUSY_POLL`, `SO_PREFER_BUSY_POLL`,
//! `SO_BUSY_POLL_BUDGET`): a blocking or polled receive spins in the driver's
//! receive queue for up to `usecs` before sleeping, trading a core for the
//! interrupt-and-wake-up latency of each packet.
//!
//! Raising `SO_BUSY_POLL` above `net.core.busy_read`, and setting the other two,
//! needs `CAP_NET_ADMIN`; a refusal is an error naming the option and the reason,
//! never a silent no-op. Each option is read back after it is set (where the
//! kernel can: this one sets `SO_BUSY_POLL_BUDGET` but does not read it back).

use std::os::fd::{AsRawFd, RawFd};

/// `SO_PREFER_BUSY_POLL` (Linux ≥ 5.11; the asm-generic value, which x86-64 and
/// arm64 use; the `libc` crate does not export it for them).
pub const SO_PREFER_BUSY_POLL: libc::c_int = 69;
/// `SO_BUSY_POLL_BUDGET` (Linux ≥ 5.11; asm-generic value).
pub const SO_BUSY_POLL_BUDGET: libc::c_int = 70;

/// Busy polling for one socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusyPoll {
    /// Microseconds a receive may spin (`SO_BUSY_POLL`).
    pub usecs: u32,
    /// Prefer busy polling over interrupts for the device queue
    /// (`SO_PREFER_BUSY_POLL`).
    pub prefer: bool,
    /// Packets per busy-poll pass (`SO_BUSY_POLL_BUDGET`; kernel default 8).
    pub budget: Option<u16>,
}

struct Fd(RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// An integer socket option's value.
pub fn get_int_option(fd: RawFd, level: libc::c_int, name: libc::c_int) -> std::io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a descriptor the caller owns for the call, a pointer to an int and
    // its size, both living through the call.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut libc::c_int).cast(), &mut len) };
    if rc == 0 {
        Ok(v)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl BusyPoll {
    /// Sets the options on `fd` and reads each back; the first that the kernel
    /// refuses or does not keep is the error, named, with what to do about it.
    pub fn apply(&self, fd: RawFd) -> Result<(), String> {
        let mut opts = vec![("SO_BUSY_POLL", libc::SO_BUSY_POLL, self.usecs as libc::c_int)];
        if self.prefer {
            opts.push(("SO_PREFER_BUSY_POLL", SO_PREFER_BUSY_POLL, 1));
        }
        if let Some(b) = self.budget {
            opts.push(("SO_BUSY_POLL_BUDGET", SO_BUSY_POLL_BUDGET, b as libc::c_int));
        }
        for (name, opt, value) in opts {
            let hint = "(it needs CAP_NET_ADMIN above net.core.busy_read, and Linux >= 5.11 for the prefer and budget options)";
            crate::sockopt::set_int_option(&Fd(fd), libc::SOL_SOCKET, opt, value)
                .map_err(|e| format!("{name} {value}: {e} {hint}"))?;
            match get_int_option(fd, libc::SOL_SOCKET, opt) {
                Ok(got) if got != value => return Err(format!("{name} {value}: the kernel kept {got}")),
                Ok(_) => {}
                // Some kernels set SO_BUSY_POLL_BUDGET but cannot read it back.
                Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
                Err(e) => return Err(format!("{name}: reading it back: {e}")),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a real socket: as root every option is set and read back; without
    /// the capability, raising SO_BUSY_POLL is refused with the reason.
    #[test]
    fn busy_polling_is_set_and_read_back_or_refused_with_the_reason() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let bp = BusyPoll {
            usecs: 50,
            prefer: true,
            budget: Some(16),
        };
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        match bp.apply(s.as_raw_fd()) {
            Ok(()) => {
                assert!(root, "without CAP_NET_ADMIN this should have been refused");
                let fd = s.as_raw_fd();
                assert_eq!(get_int_option(fd, libc::SOL_SOCKET, libc::SO_BUSY_POLL).unwrap(), 50);
                assert_eq!(get_int_option(fd, libc::SOL_SOCKET, SO_PREFER_BUSY_POLL).unwrap(), 1);
                if let Ok(b) = get_int_option(fd, libc::SOL_SOCKET, SO_BUSY_POLL_BUDGET) {
                    assert_eq!(b, 16);
                }
            }
            Err(e) => {
                assert!(!root, "as root: {e}");
                assert!(e.starts_with("SO_BUSY_POLL 50:") && e.contains("CAP_NET_ADMIN"), "{e}");
            }
        }
    }
}
