//! `xdp-udp`: one-way latency and the maximum loss-free rate of a paced
//! MoldUDP64 stream across a veth pair between two network namespaces, received
//! through AF_XDP and through the kernel's UDP socket **in the same run**.
//!
//! One process, two threads, each moved into its namespace (`setns` is per
//! thread): the sender (namespace a, kernel UDP, `sendmmsg`) stamps each
//! datagram with `CLOCK_MONOTONIC` — one clock for both threads — and the
//! receiver (namespace b) stamps it again when its receive returns.
//!
//! - **Latency**: blocks of `--block` datagrams at `--rate` per second, the
//!   paths alternating block by block, so both see the same machine for the
//!   whole run. In a block the receiver busy-polls that path alone (the AF_XDP
//!   RX ring, or non-blocking `recvfrom` on the kernel socket).
//! - **Loss-free rate**: for each path, `--burst` datagrams at doubling rates
//!   until some are lost; the highest rate that lost none.
//!
//! On a VM the veth is the kernel's software path on both sides of the pair:
//! these figures show that the bypass works and what it saves of the receive
//! path, not what a NIC's driver-mode zero-copy gives.

use super::common::{pct, pin};
use crate::XdpUdpArgs;
use foxtrot_net::netns::VethPair;
use foxtrot_net::xdp::{AttachMode, XdpConfig, XdpUdp};
use hdrhistogram::Histogram;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const XDP_PORT: u16 = 26500;
const KERNEL_PORT: u16 = 26501;
/// MoldUDP64 header (20) + one message block: length (2), 'T' + pad, the
/// send time (8) and the datagram number (8).
const LEN: usize = 20 + 2 + 24;

fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn datagram(n: u64) -> [u8; LEN] {
    let mut p = [0u8; LEN];
    p[..10].copy_from_slice(b"FOXLAT0001");
    p[10..18].copy_from_slice(&(n + 1).to_be_bytes());
    p[18..20].copy_from_slice(&1u16.to_be_bytes());
    p[20..22].copy_from_slice(&24u16.to_be_bytes());
    p[22] = b'T';
    p[30..38].copy_from_slice(&n.to_le_bytes());
    p
}

fn stamp(p: &mut [u8; LEN]) {
    p[38..46].copy_from_slice(&now_ns().to_le_bytes());
}

/// (number, send time) of a received datagram.
fn read(p: &[u8]) -> Option<(u64, u64)> {
    (p.len() == LEN).then(|| {
        (
            u64::from_le_bytes(p[30..38].try_into().expect("8")),
            u64::from_le_bytes(p[38..46].try_into().expect("8")),
        )
    })
}

/// Sends `n` datagrams numbered from `first` to `to` at `rate` per second, in
/// batches of up to 16 (`sendmmsg`), stamping each just before its batch goes;
/// the rate achieved.
fn send(sock: &UdpSocket, to: SocketAddr, first: u64, n: u64, rate: f64) -> f64 {
    use std::os::fd::AsRawFd;
    let SocketAddr::V4(to) = to else { return 0.0 };
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: to.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*to.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let batch = if rate > 200_000.0 { 16 } else { 1 };
    let t0 = Instant::now();
    let mut k = 0u64;
    let mut bufs = vec![[0u8; LEN]; batch];
    while k < n {
        let due = Duration::from_secs_f64(k as f64 / rate);
        while t0.elapsed() < due {
            std::hint::spin_loop();
        }
        let m = (batch as u64).min(n - k) as usize;
        let mut iov: Vec<libc::iovec> = Vec::with_capacity(m);
        for (j, b) in bufs.iter_mut().enumerate().take(m) {
            *b = datagram(first + k + j as u64);
            stamp(b);
            iov.push(libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: LEN,
            });
        }
        let mut msgs: Vec<libc::mmsghdr> = iov
            .iter_mut()
            .map(|v| {
                // SAFETY: an all-zero msghdr is valid; the fields set below
                // point at buffers that outlive the call.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = (&sa as *const libc::sockaddr_in).cast_mut().cast();
                h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
                h.msg_hdr.msg_iov = v;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        let mut sent = 0;
        while sent < m {
            // SAFETY: `m - sent` message headers pointing at live buffers.
            let r = unsafe { libc::sendmmsg(sock.as_raw_fd(), msgs[sent..].as_mut_ptr(), (m - sent) as u32, 0) };
            if r > 0 {
                sent += r as usize;
            }
        }
        k += m as u64;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

/// The receiving side's two paths.
struct Rx {
    xdp: XdpUdp,
    kernel: UdpSocket,
    buf: [u8; 2048],
}

impl Rx {
    /// One datagram from `path` (0: AF_XDP, 1: kernel) if ready, with the time
    /// its receive returned.
    fn poll(&mut self, path: usize) -> Option<(u64, u64, u64)> {
        let n = if path == 0 {
            self.xdp.recv_from(&mut self.buf).ok()?.0
        } else {
            self.kernel.recv_from(&mut self.buf).ok()?.0
        };
        let at = now_ns();
        let (num, sent) = read(&self.buf[..n])?;
        Some((num, sent, at))
    }

    /// Receives on `path` until `n` datagrams numbered from `first` are in or
    /// nothing came for `quiet`; the one-way latencies go to `h`. How many came.
    fn block(&mut self, path: usize, first: u64, n: u64, quiet: Duration, h: Option<&mut Histogram<u64>>) -> u64 {
        let mut got = 0;
        let mut last = Instant::now();
        let mut lat = h;
        while got < n && last.elapsed() < quiet {
            if let Some((num, sent, at)) = self.poll(path) {
                if num >= first && num < first + n {
                    got += 1;
                    if let Some(h) = lat.as_deref_mut() {
                        let _ = h.record(at.saturating_sub(sent).max(1));
                    }
                }
                last = Instant::now();
            }
        }
        got
    }
}

/// Runs `xdp-udp`.
pub fn run(a: &XdpUdpArgs) {
    if let Err(why) = foxtrot_net::netns::available() {
        eprintln!("foxtrot-perf xdp-udp: {why}");
        std::process::exit(2);
    }
    let bed = VethPair::create("fxlat", 93).unwrap_or_else(|e| {
        eprintln!("foxtrot-perf xdp-udp: {e}");
        std::process::exit(2)
    });
    let mode = match a.mode.as_str() {
        "generic" => AttachMode::Generic,
        "native" => AttachMode::Native,
        _ => AttachMode::Auto,
    };
    let (b_ip, iface) = (bed.ip[1], bed.ifname[1].clone());
    let ready = Arc::new(AtomicU64::new(0));
    // The schedule both threads follow: (path, first number, count, rate).
    let mut plan: Vec<(usize, u64, u64, f64, bool)> = Vec::new();
    let mut next = 0u64;
    for b in 0..2 * a.blocks {
        plan.push(((b % 2) as usize, next, a.block, a.rate, true));
        next += a.block;
    }
    let mut rates = Vec::new();
    let mut r = a.start_rate;
    while r <= a.max_rate {
        rates.push(r);
        r *= 2.0;
    }
    for path in 0..2 {
        for &r in &rates {
            plan.push((path, next, a.burst, r, false));
            next += a.burst;
        }
    }
    let plan = Arc::new(plan);
    let (step_tx, step_rx) = std::sync::mpsc::channel::<u64>();
    let (p2, ready2) = (plan.clone(), ready.clone());
    let receiver = std::thread::spawn(move || {
        bed_enter(&bed_ns(1));
        pin(Some(1));
        let mut cfg = XdpConfig::new(&iface);
        cfg.mode = mode;
        let xdp = XdpUdp::open(&cfg, SocketAddrV4::new(b_ip, XDP_PORT)).expect("the AF_XDP socket");
        let kernel = UdpSocket::bind((b_ip, KERNEL_PORT)).expect("the kernel socket");
        kernel.set_nonblocking(true).unwrap();
        let _ = foxtrot_net::set_int_option(&kernel, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 32 << 20);
        let attached = xdp.attached();
        let mut rx = Rx {
            xdp,
            kernel,
            buf: [0; 2048],
        };
        let mut lat = [
            Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).unwrap(),
            Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).unwrap(),
        ];
        // Per step: whether every datagram arrived.
        let mut complete = Vec::with_capacity(p2.len());
        ready2.store(1, Ordering::Release);
        for (i, &(path, first, n, rate, timed)) in p2.iter().enumerate() {
            // Wait for the sender to start this step (it waits for us).
            step_rx.recv().unwrap();
            let got = rx.block(
                path,
                first,
                n,
                Duration::from_millis(200),
                timed.then_some(&mut lat[path]),
            );
            let _ = (rate, timed);
            complete.push(got == n);
            ready2.store(i as u64 + 2, Ordering::Release);
        }
        (lat, complete, attached, rx.xdp.stats())
    });
    // The sender: namespace a.
    let ns_a = bed_ns(0);
    let sender = std::thread::spawn({
        let plan = plan.clone();
        let ready = ready.clone();
        move || {
            bed_enter(&ns_a);
            pin(Some(0));
            let sock = UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0)).unwrap();
            let _ = foxtrot_net::set_int_option(&sock, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, 32 << 20);
            while ready.load(Ordering::Acquire) == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut achieved = Vec::with_capacity(plan.len());
            for (i, &(path, first, n, rate, _)) in plan.iter().enumerate() {
                step_tx.send(i as u64).unwrap();
                std::thread::sleep(Duration::from_millis(2));
                let port = if path == 0 { XDP_PORT } else { KERNEL_PORT };
                achieved.push(send(&sock, SocketAddr::from((b_ip, port)), first, n, rate));
                while ready.load(Ordering::Acquire) < i as u64 + 2 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            achieved
        }
    });
    let achieved = sender.join().unwrap();
    let (lat, complete, attached, stats) = receiver.join().unwrap();
    // The loss-free rate of a path: the highest rate the sender achieved in a
    // step where every datagram arrived, up to the first step that lost some;
    // `sender_bound` when no step lost any (the sender was the limit).
    let mut lossless = [0f64; 2];
    let mut sender_bound = [true; 2];
    for (i, &(path, _, _, _, timed)) in plan.iter().enumerate() {
        if timed || !sender_bound[path] {
            continue;
        }
        if complete[i] {
            lossless[path] = lossless[path].max(achieved[i]);
        } else {
            sender_bound[path] = false;
        }
    }
    drop(bed);
    let [x, k] = [pct(&lat[0]), pct(&lat[1])];
    let ratio = x[0] as f64 / k[0].max(1) as f64;
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "mode": attached.to_string(),
                "rate": a.rate, "per_path": lat[0].len(),
                "af_xdp_ns": {"p50": x[0], "p99": x[1], "p999": x[2], "max": x[3]},
                "kernel_ns": {"p50": k[0], "p99": k[1], "p999": k[2], "max": k[3]},
                "p50_ratio": ratio,
                "af_xdp_lossless_pps": lossless[0], "kernel_lossless_pps": lossless[1],
                "af_xdp_sender_bound": sender_bound[0], "kernel_sender_bound": sender_bound[1],
                "xdp_stats": format!("{stats:?}"),
            })
        );
    } else {
        println!(
            "xdp-udp: one-way, veth between namespaces, {} datagrams per path at {} /s in alternating blocks of {}; AF_XDP in {attached}",
            lat[0].len(),
            a.rate,
            a.block
        );
        println!("  path       p50 ns   p99 ns  p99.9 ns    max ns   loss-free rate");
        for (name, p, l, b) in [
            ("AF_XDP", x, lossless[0], sender_bound[0]),
            ("kernel UDP", k, lossless[1], sender_bound[1]),
        ] {
            println!(
                "  {name:<10} {:>6} {:>8} {:>9} {:>9}   {:>9.0} /s{}",
                p[0],
                p[1],
                p[2],
                p[3],
                l,
                if b { " (no loss at the sender's limit)" } else { "" }
            );
        }
        println!("  AF_XDP / kernel p50: {ratio:.2}");
    }
}

fn bed_ns(k: usize) -> String {
    format!("fxlat{}", if k == 0 { 'a' } else { 'b' })
}

fn bed_enter(ns: &str) {
    foxtrot_net::netns::enter(ns).unwrap_or_else(|e| panic!("{e}"));
}
