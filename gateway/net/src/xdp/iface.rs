//! What the transmit path needs to know of an interface and its neighbours:
//! index, Ethernet address, IPv4 address, and the neighbour table (read from
//! `/proc/thread-self/net/arp`, the routing table from `…/net/route`: the
//! calling thread's network namespace, which `/proc/net` — the process's — need
//! not be). Read at start and when a destination is new — never per packet.

use std::net::Ipv4Addr;

/// The index of interface `name`.
pub fn index(name: &str) -> std::io::Result<u32> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "interface name with a NUL"))?;
    // SAFETY: a NUL-terminated string living through the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no interface {name:?} (in this network namespace)"),
        ));
    }
    Ok(i)
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut m = [0u8; 6];
    let mut parts = s.trim().split(':');
    for b in &mut m {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

/// The Ethernet address of interface `name` (`SIOCGIFHWADDR`: asked of the
/// calling thread's network namespace, which `/sys` need not show).
pub fn mac(name: &str) -> std::io::Result<[u8; 6]> {
    if name.len() >= libc::IFNAMSIZ {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("interface name {name:?} too long"),
        ));
    }
    // SAFETY: a plain socket(2) call; closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: an all-zero ifreq is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: an ifreq with a NUL-terminated name, living through the call.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCGIFHWADDR, &mut req) };
    let err = std::io::Error::last_os_error();
    // SAFETY: the descriptor opened above, closed once.
    unsafe { libc::close(fd) };
    if rc != 0 {
        return Err(std::io::Error::new(
            err.kind(),
            format!("the Ethernet address of {name}: {err}"),
        ));
    }
    // SAFETY: SIOCGIFHWADDR filled the hardware-address member of the union.
    let sa = unsafe { req.ifr_ifru.ifru_hwaddr };
    let mut m = [0u8; 6];
    for (d, s) in m.iter_mut().zip(sa.sa_data.iter()) {
        *d = *s as u8;
    }
    Ok(m)
}

/// The first IPv4 address of interface `name`.
pub fn ipv4(name: &str) -> std::io::Result<Ipv4Addr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a list this function frees below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut found = None;
    let mut p = list;
    while !p.is_null() {
        // SAFETY: an element of the list getifaddrs returned, not yet freed.
        let a = unsafe { &*p };
        // SAFETY: ifa_name is a NUL-terminated string of the list.
        let n = unsafe { std::ffi::CStr::from_ptr(a.ifa_name) };
        if !a.ifa_addr.is_null() && n.to_bytes() == name.as_bytes() {
            // SAFETY: a non-null address of the list; its family says its type.
            let fam = unsafe { (*a.ifa_addr).sa_family } as libc::c_int;
            if fam == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*(a.ifa_addr as *const libc::sockaddr_in) };
                found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
                break;
            }
        }
        p = a.ifa_next;
    }
    // SAFETY: the list getifaddrs returned, freed once.
    unsafe { libc::freeifaddrs(list) };
    found.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("interface {name:?} has no IPv4 address"),
        )
    })
}

/// The complete neighbour entry of `ip` on `dev` in an `/proc/net/arp` text.
pub fn arp_lookup(table: &str, ip: Ipv4Addr, dev: &str) -> Option<[u8; 6]> {
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (addr, flags, hw, d) = (f.first()?, f.get(2)?, f.get(3)?, f.get(5)?);
        let complete = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()? & 0x2 != 0;
        (complete && *d == dev && addr.parse::<Ipv4Addr>().ok()? == ip)
            .then(|| parse_mac(hw))
            .flatten()
    })
}

/// The gateway `/proc/net/route` gives for `ip` out of `dev` (longest prefix),
/// or `None` if it is on the link.
pub fn gateway(table: &str, ip: Ipv4Addr, dev: &str) -> Option<Ipv4Addr> {
    let ip = u32::from(ip);
    let mut best: Option<(u32, u32)> = None; // (mask, gateway)
    for l in table.lines().skip(1) {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 8 || f[0] != dev {
            continue;
        }
        // The table's words are the kernel's (network-order) values printed as
        // native integers.
        let word = |s: &str| {
            u32::from_str_radix(s, 16)
                .ok()
                .map(|v| u32::from_be_bytes(v.to_ne_bytes()))
        };
        let (Some(dst), Some(gw), Some(mask)) = (word(f[1]), word(f[2]), word(f[7])) else {
            continue;
        };
        if ip & mask == dst && best.is_none_or(|(m, _)| mask > m) {
            best = Some((mask, gw));
        }
    }
    best.and_then(|(_, gw)| (gw != 0).then(|| Ipv4Addr::from(gw)))
}

/// The Ethernet address to send to `ip` through `dev`: the neighbour's, or the
/// gateway's where the route says; `None` if the table has no complete entry.
pub fn next_hop_mac(ip: Ipv4Addr, dev: &str) -> Option<[u8; 6]> {
    if ip.is_multicast() {
        return Some(super::frame::multicast_mac(ip));
    }
    if ip.is_broadcast() {
        return Some([0xff; 6]);
    }
    let route = std::fs::read_to_string("/proc/thread-self/net/route").unwrap_or_default();
    let hop = gateway(&route, ip, dev).unwrap_or(ip);
    arp_lookup(&std::fs::read_to_string("/proc/thread-self/net/arp").ok()?, hop, dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbour_and_route_tables_read_as_the_kernel_prints_them() {
        let arp = "IP address       HW type     Flags       HW address            Mask     Device\n\
                   10.77.0.1        0x1         0x6         02:aa:bb:cc:dd:01     *        fxa0\n\
                   10.77.0.3        0x1         0x0         00:00:00:00:00:00     *        fxa0\n\
                   10.0.2.2         0x1         0x2         52:55:0a:00:02:02     *        eth0\n";
        assert_eq!(
            arp_lookup(arp, Ipv4Addr::new(10, 77, 0, 1), "fxa0"),
            Some([2, 0xaa, 0xbb, 0xcc, 0xdd, 1])
        );
        assert_eq!(arp_lookup(arp, Ipv4Addr::new(10, 77, 0, 3), "fxa0"), None, "incomplete");
        assert_eq!(
            arp_lookup(arp, Ipv4Addr::new(10, 0, 2, 2), "fxa0"),
            None,
            "other device"
        );
        let route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                     eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                     eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(gateway(route, Ipv4Addr::new(10, 0, 2, 9), "eth0"), None, "on the link");
        assert_eq!(
            gateway(route, Ipv4Addr::new(8, 8, 8, 8), "eth0"),
            Some(Ipv4Addr::new(10, 0, 2, 2))
        );
        assert_eq!(parse_mac("02:00:00:00:00:0a\n"), Some([2, 0, 0, 0, 0, 10]));
        assert_eq!(parse_mac("02:00:00:00:00"), None);
    }
}
