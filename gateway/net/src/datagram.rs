//! [`Datagrams`]: the UDP endpoint a feed receives on and a publisher sends
//! through, whether the kernel's socket ([`KernelUdp`]) or, with the `af_xdp`
//! feature, an AF_XDP socket (`xdp::XdpUdp`). What a transport
//! builds on top — sequencing, gap requests, decoding — is the same code over
//! either, so the two paths journal the same stream identically.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// A UDP endpoint. `recv_from` and `send_to` never block (`WouldBlock`);
/// `wait` parks until something may be ready.
pub trait Datagrams: Send {
    /// The next datagram's payload into `buf`, and its sender.
    fn recv_from(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)>;
    /// Sends one datagram.
    fn send_to(&mut self, buf: &[u8], to: SocketAddr) -> std::io::Result<usize>;
    /// Waits up to `timeout` for a datagram.
    fn wait(&mut self, timeout: Duration);
    /// The descriptor socket options (busy polling) apply to.
    fn fd(&self) -> RawFd;
    /// The bound address.
    fn local_addr(&self) -> std::io::Result<SocketAddr>;
    /// A line saying what the path is (for logs and summaries).
    fn describe(&self) -> String;
    /// The path's own counters, for a summary (empty where it keeps none).
    fn counters(&self) -> String {
        String::new()
    }
}

/// The kernel's UDP socket, polled through `mio`.
pub struct KernelUdp {
    sock: mio::net::UdpSocket,
    poll: mio::Poll,
    events: mio::Events,
}

impl KernelUdp {
    /// Binds `addr` (a multicast group: its port on all interfaces, and joins
    /// it), with an 8 MiB receive buffer asked for so a burst waits in the
    /// kernel while the reader is descheduled (capped at `net.core.rmem_max`).
    pub fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let bind = match addr.ip() {
            std::net::IpAddr::V4(ip) if ip.is_multicast() => SocketAddr::from(([0, 0, 0, 0], addr.port())),
            _ => addr,
        };
        let sock = std::net::UdpSocket::bind(bind)?;
        let _ = crate::sockopt::set_int_option(&sock, libc::SOL_SOCKET, libc::SO_RCVBUF, 8 << 20);
        if let std::net::IpAddr::V4(ip) = addr.ip() {
            if ip.is_multicast() {
                sock.join_multicast_v4(&ip, &std::net::Ipv4Addr::UNSPECIFIED)?;
            }
        }
        Self::from_std(sock)
    }
}

impl KernelUdp {
    /// Wraps a bound standard socket (made non-blocking), polled through `mio`.
    pub fn from_std(s: std::net::UdpSocket) -> std::io::Result<Self> {
        s.set_nonblocking(true)?;
        let mut sock = mio::net::UdpSocket::from_std(s);
        let poll = mio::Poll::new()?;
        poll.registry()
            .register(&mut sock, mio::Token(0), mio::Interest::READABLE)?;
        Ok(KernelUdp {
            sock,
            poll,
            events: mio::Events::with_capacity(4),
        })
    }
}

impl Datagrams for KernelUdp {
    fn recv_from(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        self.sock.recv_from(buf)
    }
    fn send_to(&mut self, buf: &[u8], to: SocketAddr) -> std::io::Result<usize> {
        self.sock.send_to(buf, to)
    }
    fn wait(&mut self, timeout: Duration) {
        let _ = self.poll.poll(&mut self.events, Some(timeout));
    }
    fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.sock.local_addr()
    }
    fn describe(&self) -> String {
        "kernel UDP socket".into()
    }
}

#[cfg(all(feature = "af_xdp", not(loom)))]
impl Datagrams for crate::xdp::XdpUdp {
    fn recv_from(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        crate::xdp::XdpUdp::recv_from(self, buf)
    }
    fn send_to(&mut self, buf: &[u8], to: SocketAddr) -> std::io::Result<usize> {
        crate::xdp::XdpUdp::send_to(self, buf, to)
    }
    fn wait(&mut self, timeout: Duration) {
        crate::xdp::XdpUdp::wait(self, timeout)
    }
    fn fd(&self) -> RawFd {
        self.xsk_fd()
    }
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(SocketAddr::V4(crate::xdp::XdpUdp::local_addr(self)))
    }
    fn describe(&self) -> String {
        format!("AF_XDP socket ({})", self.attached())
    }
    fn counters(&self) -> String {
        let s = self.stats();
        format!(
            "AF_XDP rx {} (refused {}, through the kernel {}), tx {} (through the kernel {}, ring full {}); \
             kernel: rx dropped {}, RX ring full {}, fill ring empty {}",
            s.rx,
            s.rx_refused,
            s.rx_kernel,
            s.tx,
            s.tx_kernel,
            s.tx_full,
            s.kernel_rx_dropped,
            s.kernel_rx_ring_full,
            s.kernel_fill_empty
        )
    }
}

/// Waits up to `timeout` for any of `fds` (at most 4) to be readable (one
/// `ppoll`); bit k of the result is set when `fds[k]` is.
pub fn wait_readable(fds: &[RawFd], timeout: Duration) -> u32 {
    let mut p = [libc::pollfd {
        fd: -1,
        events: libc::POLLIN,
        revents: 0,
    }; 4];
    let n = fds.len().min(p.len());
    for (slot, &fd) in p.iter_mut().zip(&fds[..n]) {
        slot.fd = fd;
    }
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `n` initialised pollfds and a timespec, living through the call.
    let rc = unsafe { libc::ppoll(p.as_mut_ptr(), n as libc::nfds_t, &ts, std::ptr::null()) };
    if rc <= 0 {
        return 0;
    }
    p[..n]
        .iter()
        .enumerate()
        .filter(|(_, x)| x.revents & libc::POLLIN != 0)
        .fold(0, |m, (k, _)| m | 1 << k)
}

/// A UDP endpoint bound to `addr`: the kernel's socket, or with `xdp` an AF_XDP
/// socket on the configured interface and queue (IPv4 only). A build without
/// the `af_xdp` feature refuses `xdp`, saying how to get it.
pub fn open_udp(addr: SocketAddr, xdp: Option<&crate::XdpConfig>) -> std::io::Result<Box<dyn Datagrams>> {
    let Some(cfg) = xdp else {
        return Ok(Box::new(KernelUdp::bind(addr)?));
    };
    #[cfg(all(feature = "af_xdp", not(loom)))]
    {
        let SocketAddr::V4(a) = addr else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("AF_XDP receives IPv4 only, not {addr}"),
            ));
        };
        Ok(Box::new(crate::xdp::XdpUdp::open(cfg, a)?))
    }
    #[cfg(not(all(feature = "af_xdp", not(loom))))]
    {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "AF_XDP on {} asked for, but this build has no AF_XDP: build with `--features af_xdp`",
                cfg.interface
            ),
        ))
    }
}
