//! [`XdpUdp`]: a UDP endpoint whose datagrams travel through an AF_XDP socket —
//! received from the RX ring the XDP program redirects into, sent through the
//! TX ring — with a kernel UDP socket bound beside it to the same address.
//!
//! The kernel socket reserves the port (nothing else can bind it), receives
//! what the program leaves to the kernel (IPv4 with options, fragments: read
//! when [`wait`](XdpUdp::wait) finds it readable, so no syscall on the busy
//! path), and sends to a destination whose Ethernet address is not yet in the
//! neighbour table (the kernel resolves it; later sends go through the TX ring).
//!
//! Receive copies the payload out of the frame and hands the frame straight
//! back to the fill ring; no allocation, no syscall (copy-mode drivers fill the
//! RX ring from their own receive path). Transmit writes the frame in place and
//! makes one `sendto` to wake the kernel where it asks (copy mode always does).

use super::bpf;
use super::frame::{self, Route};
use super::iface;
use super::ring::{Consumer, MappedSlots, Producer, Words};
use super::umem::{Mapping, XdpDesc};
use crate::xdp_config::{AttachMode, XdpConfig, ZeroCopy};
use std::io::{Error, ErrorKind, Result};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicU32;
use std::time::Duration;

const AF_XDP: libc::c_int = 44;
const SOL_XDP: libc::c_int = 283;
const XDP_MMAP_OFFSETS: libc::c_int = 1;
const XDP_RX_RING: libc::c_int = 2;
const XDP_TX_RING: libc::c_int = 3;
const XDP_UMEM_REG: libc::c_int = 4;
const XDP_UMEM_FILL_RING: libc::c_int = 5;
const XDP_UMEM_COMPLETION_RING: libc::c_int = 6;
const XDP_STATISTICS: libc::c_int = 7;
const XDP_OPTIONS: libc::c_int = 8;
const XDP_OPTIONS_ZEROCOPY: u32 = 1;
const XDP_COPY: u16 = 1 << 1;
const XDP_ZEROCOPY: u16 = 1 << 2;
const XDP_USE_NEED_WAKEUP: u16 = 1 << 3;
const PGOFF_RX: u64 = 0;
const PGOFF_TX: u64 = 0x8000_0000;
const PGOFF_FILL: u64 = 0x1_0000_0000;
const PGOFF_COMPLETION: u64 = 0x1_8000_0000;

/// What the kernel granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The program runs in the driver (native), not in the generic path.
    pub native: bool,
    /// The socket is in zero-copy mode.
    pub zero_copy: bool,
}

impl std::fmt::Display for Attached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} XDP, {}",
            if self.native { "native" } else { "generic" },
            if self.zero_copy { "zero-copy" } else { "copy mode" }
        )
    }
}

/// Counters of an endpoint: this side's and the kernel's (`XDP_STATISTICS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpStats {
    /// Datagrams received through the RX ring.
    pub rx: u64,
    /// Frames from the RX ring refused (malformed, bad checksum, another port).
    pub rx_refused: u64,
    /// Datagrams received through the kernel socket (left to the kernel).
    pub rx_kernel: u64,
    /// Datagrams sent through the TX ring.
    pub tx: u64,
    /// Datagrams sent through the kernel socket (no neighbour entry yet).
    pub tx_kernel: u64,
    /// Sends refused for want of a free frame or TX slot.
    pub tx_full: u64,
    /// Kernel: frames dropped for want of RX ring space or fill frames.
    pub kernel_rx_dropped: u64,
    /// Kernel: invalid RX descriptors.
    pub kernel_rx_invalid: u64,
    /// Kernel: invalid TX descriptors.
    pub kernel_tx_invalid: u64,
    /// Kernel: times the RX ring was full.
    pub kernel_rx_ring_full: u64,
    /// Kernel: times the fill ring was empty.
    pub kernel_fill_empty: u64,
}

fn setsockopt_raw(fd: RawFd, name: libc::c_int, v: *const libc::c_void, len: usize) -> Result<()> {
    // SAFETY: `v` points to `len` readable bytes the caller keeps alive through
    // the call, on a socket this process owns.
    let rc = unsafe { libc::setsockopt(fd, SOL_XDP, name, v, len as libc::socklen_t) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::last_os_error())
    }
}

fn getsockopt_raw(fd: RawFd, name: libc::c_int, v: *mut libc::c_void, len: usize) -> Result<usize> {
    let mut l = len as libc::socklen_t;
    // SAFETY: `v` points to `len` writable bytes the caller keeps alive
    // through the call; the kernel writes at most `l`.
    let rc = unsafe { libc::getsockopt(fd, SOL_XDP, name, v, &mut l) };
    if rc == 0 {
        Ok(l as usize)
    } else {
        Err(Error::last_os_error())
    }
}

fn context(e: Error, what: &str) -> Error {
    Error::new(e.kind(), format!("{what}: {e}"))
}

/// `struct xdp_ring_offset`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RingOffset {
    producer: u64,
    consumer: u64,
    desc: u64,
    flags: u64,
}

fn ring_words(m: &Mapping, o: &RingOffset) -> Words {
    let at = |off: u64| {
        // SAFETY: an offset the kernel gave for this ring, inside its mapping.
        unsafe { m.ptr().add(off as usize) as *const AtomicU32 }
    };
    // SAFETY: the kernel's aligned index and flag words, in a mapping that
    // `XdpUdp` keeps until after the rings are dropped.
    unsafe { Words::new(at(o.producer), at(o.consumer), at(o.flags)) }
}

/// The descriptor array of a ring mapping, as the ring's descriptor type.
fn ring_slots<T>(m: &Mapping, o: &RingOffset) -> MappedSlots<T> {
    // SAFETY: the kernel's offset of the descriptor array, inside the mapping
    // sized for the ring's entries of type `T` (16-byte `xdp_desc` or 8-byte
    // addresses, aligned by the kernel); `XdpUdp` keeps the mapping until
    // after its rings are dropped.
    unsafe { MappedSlots::new(m.ptr().add(o.desc as usize).cast()) }
}

/// See the module docs.
pub struct XdpUdp {
    // Field order is drop order: rings before their mappings, the program's
    // link before the socket.
    rx: Consumer<XdpDesc, MappedSlots<XdpDesc>>,
    fill: Producer<u64, MappedSlots<u64>>,
    tx: Producer<XdpDesc, MappedSlots<XdpDesc>>,
    completion: Consumer<u64, MappedSlots<u64>>,
    _link: OwnedFd,
    _prog: OwnedFd,
    _map: OwnedFd,
    _rings: [Mapping; 4],
    xsk: OwnedFd,
    umem: Mapping,
    kernel: UdpSocket,
    kernel_ready: bool,
    free: Vec<u64>,
    frame_size: u32,
    local: SocketAddrV4,
    interface: String,
    src_mac: [u8; 6],
    neighbours: Vec<(Ipv4Addr, [u8; 6])>,
    unresolved: u64,
    ip_id: u16,
    attached: Attached,
    stats: XdpStats,
}

impl XdpUdp {
    /// Opens the endpoint: binds the kernel socket to `local` (port 0: one
    /// chosen), sets up the AF_XDP socket on the configured queue, and
    /// attaches the program redirecting UDP to the bound port. `local`'s
    /// address may be unspecified or a multicast group (joined); frames are
    /// sent from the interface's IPv4 address then.
    pub fn open(cfg: &XdpConfig, local: SocketAddrV4) -> Result<Self> {
        if !cfg.frames.is_power_of_two() || cfg.frames < 16 || !matches!(cfg.frame_size, 2048 | 4096) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "xdp: {} frames of {} bytes: frames must be a power of two (>= 16), a frame 2048 or 4096 bytes",
                    cfg.frames, cfg.frame_size
                ),
            ));
        }
        let ifindex = iface::index(&cfg.interface)?;
        let kernel = if local.ip().is_multicast() {
            let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, local.port()))?;
            s.join_multicast_v4(local.ip(), &Ipv4Addr::UNSPECIFIED)?;
            s
        } else {
            UdpSocket::bind(local)?
        };
        kernel.set_nonblocking(true)?;
        let port = kernel.local_addr()?.port();
        let ip = if local.ip().is_unspecified() || local.ip().is_multicast() {
            iface::ipv4(&cfg.interface)?
        } else {
            *local.ip()
        };
        let local = SocketAddrV4::new(ip, port);

        // SAFETY: a plain socket(2) call; the descriptor is owned at once.
        let raw = unsafe { libc::socket(AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let e = Error::last_os_error();
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("AF_XDP socket: {e} (a kernel built without CONFIG_XDP_SOCKETS, or no CAP_NET_RAW)"),
            ));
        }
        // SAFETY: the descriptor socket(2) just returned, owned by nothing else.
        let xsk = unsafe { OwnedFd::from_raw_fd(raw) };
        let fd = xsk.as_raw_fd();

        let umem = Mapping::anonymous(cfg.frames as usize * cfg.frame_size as usize)
            .map_err(|e| context(e, "the UMEM mapping"))?;
        // struct xdp_umem_reg { addr, len, chunk_size, headroom, flags, tx_metadata_len }
        let mut reg = [0u8; 32];
        reg[0..8].copy_from_slice(&(umem.ptr() as u64).to_ne_bytes());
        reg[8..16].copy_from_slice(&(umem.len() as u64).to_ne_bytes());
        reg[16..20].copy_from_slice(&cfg.frame_size.to_ne_bytes()); // headroom, flags: 0
        setsockopt_raw(fd, XDP_UMEM_REG, reg.as_ptr().cast(), reg.len()).map_err(|e| {
            context(
                e,
                "registering the UMEM (XDP_UMEM_REG; it needs CAP_NET_RAW and locked memory)",
            )
        })?;
        let half = cfg.frames / 2;
        let ring = half as libc::c_int;
        for (name, opt) in [
            ("fill", XDP_UMEM_FILL_RING),
            ("completion", XDP_UMEM_COMPLETION_RING),
            ("RX", XDP_RX_RING),
            ("TX", XDP_TX_RING),
        ] {
            setsockopt_raw(fd, opt, (&ring as *const libc::c_int).cast(), 4)
                .map_err(|e| context(e, &format!("sizing the {name} ring ({ring})")))?;
        }
        let mut off = [RingOffset::default(); 4]; // rx, tx, fill, completion
        let got = getsockopt_raw(
            fd,
            XDP_MMAP_OFFSETS,
            off.as_mut_ptr().cast(),
            std::mem::size_of_val(&off),
        )?;
        if got != std::mem::size_of_val(&off) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "XDP_MMAP_OFFSETS without ring flags (Linux < 5.4): too old for need-wakeup",
            ));
        }
        let n = half as usize;
        let map = |o: &RingOffset, size: usize, pgoff: u64, name: &str| {
            Mapping::socket(fd, o.desc as usize + n * size, pgoff)
                .map_err(|e| context(e, &format!("mapping the {name} ring")))
        };
        let rings = [
            map(&off[0], 16, PGOFF_RX, "RX")?,
            map(&off[1], 16, PGOFF_TX, "TX")?,
            map(&off[2], 8, PGOFF_FILL, "fill")?,
            map(&off[3], 8, PGOFF_COMPLETION, "completion")?,
        ];
        let rx = Consumer::new(ring_words(&rings[0], &off[0]), ring_slots(&rings[0], &off[0]), half);
        let tx = Producer::new(ring_words(&rings[1], &off[1]), ring_slots(&rings[1], &off[1]), half);
        let mut fill = Producer::new(ring_words(&rings[2], &off[2]), ring_slots(&rings[2], &off[2]), half);
        let completion = Consumer::new(ring_words(&rings[3], &off[3]), ring_slots(&rings[3], &off[3]), half);

        // Receive frames: the first half, all given to the kernel now.
        let fs = cfg.frame_size as u64;
        let rx_frames: Vec<u64> = (0..half as u64).map(|i| i * fs).collect();
        if fill.push_batch(&rx_frames) != rx_frames.len() {
            return Err(Error::other("the fill ring did not take the receive frames"));
        }
        // Transmit frames: the second half, on the free list.
        let free: Vec<u64> = (half as u64..cfg.frames as u64).rev().map(|i| i * fs).collect();

        let flags = XDP_USE_NEED_WAKEUP
            | match cfg.zero_copy {
                ZeroCopy::Auto => 0,
                ZeroCopy::On => XDP_ZEROCOPY,
                ZeroCopy::Off => XDP_COPY,
            };
        // struct sockaddr_xdp { family, flags, ifindex, queue_id, shared_umem_fd }
        let mut sa = [0u8; 16];
        sa[0..2].copy_from_slice(&(AF_XDP as u16).to_ne_bytes());
        sa[2..4].copy_from_slice(&flags.to_ne_bytes());
        sa[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        sa[8..12].copy_from_slice(&cfg.queue.to_ne_bytes());
        // A queue a closed socket was bound to stays busy until the kernel's
        // deferred release of that socket's buffer pool has run (a restarted
        // process meets it): EBUSY is retried for a second.
        let bound = |sa: &[u8; 16]| {
            // SAFETY: a 16-byte sockaddr_xdp living through the call.
            if unsafe { libc::bind(fd, sa.as_ptr().cast(), 16) } == 0 {
                Ok(())
            } else {
                Err(Error::last_os_error())
            }
        };
        let t = std::time::Instant::now();
        let mut r = bound(&sa);
        while matches!(&r, Err(e) if e.raw_os_error() == Some(libc::EBUSY)) && t.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(10));
            r = bound(&sa);
        }
        if let Err(e) = r {
            return Err(context(
                e,
                &format!(
                    "binding the AF_XDP socket to {} queue {}{}",
                    cfg.interface,
                    cfg.queue,
                    if cfg.zero_copy == ZeroCopy::On {
                        " in zero-copy mode (the driver may not offer it)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let mut opts = 0u32;
        getsockopt_raw(fd, XDP_OPTIONS, (&mut opts as *mut u32).cast(), 4)?;
        let zero_copy = opts & XDP_OPTIONS_ZEROCOPY != 0;

        let map_fd = bpf::create_xskmap(cfg.queue + 1).map_err(|e| context(e, "creating the XSKMAP"))?;
        bpf::map_update(&map_fd, cfg.queue, fd as u32).map_err(|e| context(e, "putting the socket in the XSKMAP"))?;
        let prog = bpf::load_xdp(
            &super::program::redirect_udp(&[port], map_fd.as_raw_fd()),
            "foxtrot_udp",
        )?;
        let (link, native) = match cfg.mode {
            AttachMode::Native => (bpf::attach_xdp(&prog, ifindex, bpf::XDP_FLAGS_DRV_MODE), true),
            AttachMode::Generic => (bpf::attach_xdp(&prog, ifindex, bpf::XDP_FLAGS_SKB_MODE), false),
            AttachMode::Auto => match bpf::attach_xdp(&prog, ifindex, bpf::XDP_FLAGS_DRV_MODE) {
                Ok(l) => (Ok(l), true),
                Err(_) => (bpf::attach_xdp(&prog, ifindex, bpf::XDP_FLAGS_SKB_MODE), false),
            },
        };
        let link = link.map_err(|e| {
            context(
                e,
                &format!(
                    "attaching the XDP program to {} in {} mode (EBUSY: another program is attached)",
                    cfg.interface,
                    if native { "native" } else { "generic" }
                ),
            )
        })?;
        if let Some(bp) = cfg.busy_poll {
            bp.apply(fd)
                .map_err(|e| Error::other(format!("busy polling the AF_XDP socket: {e}")))?;
        }
        Ok(XdpUdp {
            rx,
            fill,
            tx,
            completion,
            _link: link,
            _prog: prog,
            _map: map_fd,
            _rings: rings,
            xsk,
            umem,
            kernel,
            kernel_ready: true,
            free,
            frame_size: cfg.frame_size,
            local,
            interface: cfg.interface.clone(),
            src_mac: iface::mac(&cfg.interface)?,
            neighbours: Vec::with_capacity(8),
            unresolved: 0,
            ip_id: 0,
            attached: Attached { native, zero_copy },
            stats: XdpStats::default(),
        })
    }

    /// What the kernel granted (native or generic, zero-copy or copy).
    pub fn attached(&self) -> Attached {
        self.attached
    }

    /// The address datagrams are received on and sent from.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// The AF_XDP socket's descriptor.
    pub fn xsk_fd(&self) -> RawFd {
        self.xsk.as_raw_fd()
    }

    /// The counters, the kernel's read now.
    pub fn stats(&self) -> XdpStats {
        let mut s = self.stats;
        let mut k = [0u64; 6];
        if getsockopt_raw(self.xsk.as_raw_fd(), XDP_STATISTICS, k.as_mut_ptr().cast(), 48).is_ok() {
            s.kernel_rx_dropped = k[0];
            s.kernel_rx_invalid = k[1];
            s.kernel_tx_invalid = k[2];
            s.kernel_rx_ring_full = k[3];
            s.kernel_fill_empty = k[4];
        }
        s
    }

    /// The next datagram for the bound port: its payload copied into `buf`
    /// (truncated to it, as a UDP socket truncates) and its sender;
    /// `WouldBlock` when none is ready.
    pub fn recv_from(&mut self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let mask = !(self.frame_size as u64 - 1);
        while let Some(d) = self.rx.pop() {
            let got = self
                .umem
                .bytes(d.addr, d.len as usize)
                .ok_or(frame::Reject::Short)
                .and_then(|f| frame::parse(f).map(|g| (f, g)));
            let out = match got {
                Ok((f, g)) if g.to.port() == self.local.port() => {
                    let n = g.len.min(buf.len());
                    buf[..n].copy_from_slice(&f[g.offset..g.offset + n]);
                    Some((n, SocketAddr::V4(g.from)))
                }
                _ => None,
            };
            // The frame goes straight back to the kernel: the fill ring has a
            // slot for every receive frame, so this push cannot fail.
            let _ = self.fill.push(d.addr & mask);
            match out {
                Some(r) => {
                    self.stats.rx += 1;
                    return Ok(r);
                }
                None => self.stats.rx_refused += 1,
            }
        }
        if self.kernel_ready {
            match self.kernel.recv_from(buf) {
                Ok(r) => {
                    self.stats.rx_kernel += 1;
                    return Ok(r);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.kernel_ready = false,
                Err(e) => return Err(e),
            }
        }
        if self.fill.needs_wakeup() {
            // A zero-copy driver asks to be kicked to take fill frames.
            // SAFETY: a zero-length, non-blocking receive on our socket.
            unsafe {
                libc::recvfrom(
                    self.xsk.as_raw_fd(),
                    std::ptr::null_mut(),
                    0,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
        }
        Err(ErrorKind::WouldBlock.into())
    }

    /// Frames the kernel has sent, back on the free list.
    fn reclaim(&mut self) {
        while let Some(a) = self.completion.pop() {
            self.free.push(a);
        }
    }

    fn next_hop(&mut self, ip: Ipv4Addr) -> Option<[u8; 6]> {
        if let Some((_, m)) = self.neighbours.iter().find(|(a, _)| *a == ip) {
            return Some(*m);
        }
        // Not known yet: look it up now and then, not on every send.
        self.unresolved += 1;
        if self.unresolved % 64 != 1 {
            return None;
        }
        let m = iface::next_hop_mac(ip, &self.interface)?;
        self.neighbours.push((ip, m));
        Some(m)
    }

    /// Sends `payload` to `to` through the TX ring (through the kernel socket
    /// while `to`'s Ethernet address is unknown); `WouldBlock` when every
    /// transmit frame is in flight.
    pub fn send_to(&mut self, payload: &[u8], to: SocketAddr) -> Result<usize> {
        let SocketAddr::V4(to) = to else {
            return Err(Error::new(ErrorKind::InvalidInput, "AF_XDP sends IPv4 only"));
        };
        self.reclaim();
        let Some(dst_mac) = self.next_hop(*to.ip()) else {
            self.stats.tx_kernel += 1;
            return self.kernel.send_to(payload, to);
        };
        let Some(addr) = self.free.pop() else {
            self.stats.tx_full += 1;
            return Err(ErrorKind::WouldBlock.into());
        };
        let route = Route {
            src_mac: self.src_mac,
            dst_mac,
            from: self.local,
            to,
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        let fs = self.frame_size as usize;
        let written = self
            .umem
            .bytes_mut(addr, fs)
            .and_then(|f| frame::write(f, &route, self.ip_id, payload));
        let Some(len) = written else {
            self.free.push(addr);
            return Err(Error::new(ErrorKind::InvalidInput, "datagram larger than a frame"));
        };
        if !self.tx.push(XdpDesc {
            addr,
            len: len as u32,
            options: 0,
        }) {
            self.free.push(addr);
            self.stats.tx_full += 1;
            return Err(ErrorKind::WouldBlock.into());
        }
        if !self.attached.zero_copy || self.tx.needs_wakeup() {
            // SAFETY: a zero-length, non-blocking send on our socket: the
            // kernel's cue to transmit what the TX ring holds.
            unsafe {
                libc::sendto(
                    self.xsk.as_raw_fd(),
                    std::ptr::null(),
                    0,
                    libc::MSG_DONTWAIT,
                    std::ptr::null(),
                    0,
                )
            };
        }
        self.stats.tx += 1;
        Ok(payload.len())
    }

    /// Waits up to `timeout` for a datagram on either socket.
    pub fn wait(&mut self, timeout: Duration) {
        if self.rx.ready() > 0 {
            return;
        }
        let ready = crate::wait_readable(&[self.xsk.as_raw_fd(), self.kernel.as_raw_fd()], timeout);
        if ready & 2 != 0 {
            self.kernel_ready = true;
        }
    }
}
