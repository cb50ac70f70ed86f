//! Ethernet II + IPv4 + UDP frames: read on receive, written on transmit.
//!
//! ```text
//! offset  0        6        12     14                     34        42
//!         +--------+--------+------+----------------------+---------+---------
//!         | dst MAC| src MAC| 0800 | IPv4 header (IHL 5)  | UDP hdr | payload
//!         +--------+--------+------+----------------------+---------+---------
//! IPv4 (at 14): 0 ver/IHL 0x45 | 1 TOS | 2 total length | 4 id | 6 flags+frag
//!               8 TTL | 9 protocol 17 | 10 header checksum | 12 src | 16 dst
//! UDP  (at 34): 0 src port | 2 dst port | 4 length | 6 checksum (0: none)
//! ```
//!
//! A received frame is accepted only as the kernel would accept it: an IPv4
//! header checksum that verifies, lengths that agree with the frame, no
//! fragment, and a UDP checksum that verifies when it is present (zero means
//! the sender computed none, as RFC 768 allows over IPv4). Everything is read
//! with bounds checks: no input panics.

use std::net::{Ipv4Addr, SocketAddrV4};

/// Bytes before the UDP payload.
pub const HEADERS: usize = 14 + 20 + 8;

/// Why a received frame was not a datagram for us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// Shorter than its headers or than its lengths say.
    Short,
    /// Not IPv4/UDP without options and fragments.
    NotUdp,
    /// The IPv4 header checksum does not verify.
    IpChecksum,
    /// The UDP checksum does not verify.
    UdpChecksum,
}

/// A received datagram: where it came from, where it went, and where its
/// payload lies in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// The sender.
    pub from: SocketAddrV4,
    /// The destination.
    pub to: SocketAddrV4,
    /// The payload's offset in the frame.
    pub offset: usize,
    /// The payload's length.
    pub len: usize,
}

/// The ones'-complement sum of `b` (as 16-bit big-endian words) added to `sum`.
fn sum16(mut sum: u32, b: &[u8]) -> u32 {
    let mut c = b.chunks_exact(2);
    for w in &mut c {
        sum += u16::from_be_bytes([w[0], w[1]]) as u32;
    }
    if let [last] = c.remainder() {
        sum += (*last as u32) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// The UDP checksum over the pseudo-header and `udp` (header and payload, with
/// its checksum field as it stands).
fn udp_sum(src: [u8; 4], dst: [u8; 4], udp: &[u8]) -> u16 {
    let mut s = sum16(0, &src);
    s = sum16(s, &dst);
    s += 17 + udp.len() as u32;
    fold(sum16(s, udp))
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a frame; see the module docs for what is accepted.
pub fn parse(f: &[u8]) -> Result<Datagram, Reject> {
    if f.len() < HEADERS {
        return Err(Reject::Short);
    }
    if be16(f, 12) != 0x0800 || f[14] != 0x45 || f[23] != 17 || be16(f, 20) & 0x3FFF != 0 {
        return Err(Reject::NotUdp);
    }
    let ip_len = be16(f, 16) as usize;
    if ip_len < 28 || 14 + ip_len > f.len() {
        return Err(Reject::Short);
    }
    if fold(sum16(0, &f[14..34])) != 0xFFFF {
        return Err(Reject::IpChecksum);
    }
    let udp_len = be16(f, 38) as usize;
    if udp_len < 8 || udp_len > ip_len - 20 {
        return Err(Reject::Short);
    }
    let (src, dst) = ([f[26], f[27], f[28], f[29]], [f[30], f[31], f[32], f[33]]);
    if be16(f, 40) != 0 && udp_sum(src, dst, &f[34..34 + udp_len]) != 0xFFFF {
        return Err(Reject::UdpChecksum);
    }
    Ok(Datagram {
        from: SocketAddrV4::new(Ipv4Addr::from(src), be16(f, 34)),
        to: SocketAddrV4::new(Ipv4Addr::from(dst), be16(f, 36)),
        offset: HEADERS,
        len: udp_len - 8,
    })
}

/// The link-layer and network addresses of one datagram to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// Source MAC (the interface's).
    pub src_mac: [u8; 6],
    /// Destination MAC (the neighbour's, or the multicast group's).
    pub dst_mac: [u8; 6],
    /// Source address and port.
    pub from: SocketAddrV4,
    /// Destination address and port.
    pub to: SocketAddrV4,
}

/// Writes a frame carrying `payload` into `out` (IPv4 identification `id`,
/// don't-fragment, TTL 64, both checksums computed) and returns its length, or
/// `None` if it does not fit `out` or a datagram.
pub fn write(out: &mut [u8], r: &Route, id: u16, payload: &[u8]) -> Option<usize> {
    let total = HEADERS + payload.len();
    if total > out.len() || payload.len() > 65_507 {
        return None;
    }
    let f = &mut out[..total];
    f[0..6].copy_from_slice(&r.dst_mac);
    f[6..12].copy_from_slice(&r.src_mac);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[1] = 0;
    ip[2..4].copy_from_slice(&((20 + 8 + payload.len()) as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[10..12].copy_from_slice(&[0, 0]);
    ip[12..16].copy_from_slice(&r.from.ip().octets());
    ip[16..20].copy_from_slice(&r.to.ip().octets());
    let c = !fold(sum16(0, ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let udp_len = 8 + payload.len();
    f[34..36].copy_from_slice(&r.from.port().to_be_bytes());
    f[36..38].copy_from_slice(&r.to.port().to_be_bytes());
    f[38..40].copy_from_slice(&(udp_len as u16).to_be_bytes());
    f[40..42].copy_from_slice(&[0, 0]);
    f[42..].copy_from_slice(payload);
    let mut c = !udp_sum(r.from.ip().octets(), r.to.ip().octets(), &f[34..34 + udp_len]);
    if c == 0 {
        c = 0xFFFF; // zero means "no checksum": its ones'-complement twin is sent
    }
    f[40..42].copy_from_slice(&c.to_be_bytes());
    Some(total)
}

/// The Ethernet address of an IPv4 multicast group (RFC 1112: 01:00:5e and the
/// group's low 23 bits).
pub fn multicast_mac(g: Ipv4Addr) -> [u8; 6] {
    let o = g.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn route(sp: u16, dp: u16) -> Route {
        Route {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            from: SocketAddrV4::new(Ipv4Addr::new(10, 77, 0, 1), sp),
            to: SocketAddrV4::new(Ipv4Addr::new(10, 77, 0, 2), dp),
        }
    }

    /// Test vectors published with smoltcp's wire module (an independent
    /// implementation): an IPv4 header whose checksum is 0xd56e, and a UDP
    /// datagram 192.168.1.1:48896 -> 192.168.1.2:53 carrying aa 00 00 ff whose
    /// checksum is 0x124d.
    #[test]
    fn checksums_agree_with_published_vectors() {
        let ip: [u8; 20] = [
            0x45, 0x00, 0x00, 0x1e, 0x01, 0x02, 0x62, 0x03, 0x1a, 0x01, 0xd5, 0x6e, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22,
            0x23, 0x24,
        ];
        assert_eq!(fold(sum16(0, &ip)), 0xFFFF, "the published header verifies");
        let mut zeroed = ip;
        zeroed[10..12].fill(0);
        assert_eq!(!fold(sum16(0, &zeroed)), 0xd56e);

        let r = Route {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            from: "192.168.1.1:48896".parse().unwrap(),
            to: "192.168.1.2:53".parse().unwrap(),
        };
        let mut f = [0u8; 64];
        let n = write(&mut f, &r, 0x0102, &[0xaa, 0x00, 0x00, 0xff]).unwrap();
        assert_eq!(
            &f[34..n],
            &[0xbf, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x12, 0x4d, 0xaa, 0x00, 0x00, 0xff],
            "the UDP part, checksum included, is the published datagram"
        );
        let d = parse(&f[..n]).unwrap();
        assert_eq!((d.from, d.to, d.len), (r.from, r.to, 4));
        let mut bad = f;
        bad[n - 1] ^= 1;
        assert_eq!(parse(&bad[..n]), Err(Reject::UdpChecksum));
        bad = f;
        bad[22] ^= 1;
        assert_eq!(parse(&bad[..n]), Err(Reject::IpChecksum));
        bad = f;
        bad[40..42].fill(0);
        bad[n - 1] ^= 1;
        assert!(parse(&bad[..n]).is_ok(), "a zero UDP checksum is none, as over IPv4");
    }

    proptest! {
        #[test]
        fn written_frames_read_back(payload in proptest::collection::vec(any::<u8>(), 0..1500), sp: u16, dp: u16, id: u16) {
            let mut buf = [0u8; 2048];
            let n = write(&mut buf, &route(sp, dp), id, &payload).unwrap();
            let d = parse(&buf[..n]).unwrap();
            prop_assert_eq!(d.from, route(sp, dp).from);
            prop_assert_eq!(d.to, route(sp, dp).to);
            prop_assert_eq!(&buf[d.offset..d.offset + d.len], &payload[..]);
        }

        #[test]
        fn no_input_panics(f in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&f);
        }

        #[test]
        fn a_flipped_bit_is_caught(payload in proptest::collection::vec(any::<u8>(), 1..300), bit in 0usize..8, at in 0usize..1000) {
            let mut buf = [0u8; 2048];
            let n = write(&mut buf, &route(1, 2), 7, &payload).unwrap();
            // Any single bit flipped in the IP header or the UDP part is refused
            // (a flip in the UDP checksum itself could make it zero, "none").
            let mut at = 14 + at % (n - 16);
            if at >= 40 {
                at += 2;
            }
            buf[at] ^= 1 << bit;
            prop_assert!(parse(&buf[..n]).is_err());
        }
    }

    #[test]
    fn multicast_groups_map_to_their_ethernet_addresses() {
        assert_eq!(multicast_mac(Ipv4Addr::new(239, 129, 1, 2)), [1, 0, 0x5e, 1, 1, 2]);
        assert_eq!(multicast_mac(Ipv4Addr::new(224, 0, 0, 251)), [1, 0, 0x5e, 0, 0, 0xfb]);
    }
}
