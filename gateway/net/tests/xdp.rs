//! AF_XDP against the kernel as its peer, across a veth pair between two
//! network namespaces, in generic and native XDP modes: datagrams the kernel
//! sends arrive through the RX ring, and datagrams sent through the TX ring are
//! accepted by the kernel's UDP stack (which drops bad IP or UDP checksums).
//!
//! Root only, with `ip`, `tc`, `ethtool` and `nft`: without them the test is
//! marked ignored with the reason (`build.rs`), unless
//! `FOXTROT_REQUIRE_EXTERNAL=1`, where it runs and fails.
#![cfg(feature = "af_xdp")]

use foxtrot_net::netns::{self, VethPair};
use foxtrot_net::xdp::{AttachMode, XdpConfig, XdpUdp};
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

fn bed(name: &str, subnet: u8) -> VethPair {
    netns::available().expect("the AF_XDP test bed");
    VethPair::create(name, subnet).expect("the veth pair")
}

fn payload(i: usize) -> Vec<u8> {
    (0..(i * 37) % 1400 + 1).map(|k| (k * 7 + i) as u8).collect()
}

fn exchange(bed: &VethPair, mode: AttachMode) {
    const N: usize = 500;
    let (tx_port, rx_port) = std::sync::mpsc::channel::<u16>();
    let b_ip = bed.ip[1];
    let mut cfg = XdpConfig::new(&bed.ifname[1]);
    cfg.mode = mode;
    cfg.busy_poll = Some(foxtrot_net::BusyPoll {
        usecs: 25,
        prefer: true,
        budget: Some(16),
    });
    std::thread::scope(|s| {
        let receiver = s.spawn(move || {
            bed.enter(1).unwrap();
            let mut x = XdpUdp::open(&cfg, SocketAddrV4::new(b_ip, 0)).expect("the AF_XDP socket");
            assert_eq!(x.attached().native, mode == AttachMode::Native, "{}", x.attached());
            // Busy polling, as configured, read back from the AF_XDP socket.
            let get = |opt| foxtrot_net::busy_poll::get_int_option(x.xsk_fd(), libc::SOL_SOCKET, opt).unwrap();
            assert_eq!(get(libc::SO_BUSY_POLL), 25);
            assert_eq!(get(foxtrot_net::busy_poll::SO_PREFER_BUSY_POLL), 1);
            tx_port.send(x.local_addr().port()).unwrap();
            let mut buf = [0u8; 2048];
            let (mut got, mut peer) = (0, None);
            let t = Instant::now();
            while got < N && t.elapsed() < Duration::from_secs(10) {
                match x.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        assert_eq!(&buf[..n], &payload(got)[..], "datagram {got}");
                        peer = Some(from);
                        got += 1;
                    }
                    Err(_) => x.wait(Duration::from_millis(10)),
                }
            }
            let peer = peer.expect("something arrived");
            for i in 0..N {
                while x.send_to(&payload(i), peer).is_err() {
                    std::thread::sleep(Duration::from_micros(50));
                }
                if i % 32 == 0 {
                    std::thread::sleep(Duration::from_micros(200)); // as the kernel side paces
                }
            }
            (got, x.stats())
        });
        let sender = s.spawn(move || {
            bed.enter(0).unwrap();
            let port = rx_port.recv().unwrap();
            let sock = UdpSocket::bind((bed.ip[0], 0)).unwrap();
            // Room for the replies' burst (root may exceed net.core.rmem_max).
            foxtrot_net::set_int_option(&sock, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20).unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let to = SocketAddr::from((b_ip, port));
            for i in 0..N {
                sock.send_to(&payload(i), to).unwrap();
                if i % 32 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            let mut buf = [0u8; 2048];
            let mut back = 0;
            while back < N {
                let Ok((n, from)) = sock.recv_from(&mut buf) else { break };
                assert_eq!(from, to, "sent from the bound address");
                assert_eq!(&buf[..n], &payload(back)[..], "reply {back}");
                back += 1;
            }
            back
        });
        let back = sender.join().unwrap();
        let (got, stats) = receiver.join().unwrap();
        assert_eq!(got, N, "{mode:?}: received through AF_XDP; {stats:?}");
        assert_eq!(stats.rx as usize, N, "{stats:?}");
        assert_eq!(stats.rx_kernel, 0, "nothing left to the kernel: {stats:?}");
        assert_eq!(
            back, N,
            "{mode:?}: the kernel accepted every frame sent through the TX ring; {stats:?}"
        );
        assert_eq!(
            stats.tx as usize, N,
            "all through the TX ring (the neighbour is known): {stats:?}"
        );
    });
}

#[test]
#[cfg_attr(
    not(has_netns),
    ignore = "needs root with ip, tc, ethtool and nft (a veth pair between namespaces)"
)]
fn datagrams_cross_a_veth_both_ways_in_generic_and_native_mode() {
    let bed = bed("fxnet", 91);
    exchange(&bed, AttachMode::Generic);
    exchange(&bed, AttachMode::Native);
}
