//! Two network namespaces joined by a veth pair: the test bed of the AF_XDP
//! tests and the latency harness (root only; `ip`, `tc`, `ethtool` and `nft`
//! from iproute2, ethtool and nftables).
//!
//! ```text
//!   namespace <name>a                 namespace <name>b
//!   +------------------+   veth     +------------------+
//!   | <name>a0         |<==========>| <name>b0         |
//!   | 10.<k>.0.1/24    |            | 10.<k>.0.2/24    |
//!   +------------------+            +------------------+
//! ```
//! Each side has the other as a permanent neighbour (AF_XDP's transmit path
//! reads the table; nothing has to ARP first) and transmit checksum offload off
//! (a veth otherwise hands over partial checksums, which only the kernel's own
//! receive path accepts). The namespaces go when the value is dropped.

use std::net::Ipv4Addr;
use std::process::Command;

/// See the module docs.
pub struct VethPair {
    /// The namespaces' names.
    pub ns: [String; 2],
    /// The interfaces' names (in `ns[0]`, `ns[1]`).
    pub ifname: [String; 2],
    /// Their addresses.
    pub ip: [Ipv4Addr; 2],
    /// Their Ethernet addresses.
    pub mac: [[u8; 6]; 2],
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn mac_str(m: &[u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

impl VethPair {
    /// Creates `<name>a` and `<name>b` (names up to 10 characters) on subnet
    /// `10.<subnet>.0.0/24`, replacing leftovers of an earlier run of the same
    /// name.
    pub fn create(name: &str, subnet: u8) -> Result<Self, String> {
        let ns = [format!("{name}a"), format!("{name}b")];
        let ifname = [format!("{name}a0"), format!("{name}b0")];
        let ip = [Ipv4Addr::new(10, subnet, 0, 1), Ipv4Addr::new(10, subnet, 0, 2)];
        let mac = [[0x02, 0xfb, subnet, 0, 0, 1], [0x02, 0xfb, subnet, 0, 0, 2]];
        for n in &ns {
            let _ = run(&["ip", "netns", "del", n]);
        }
        let pair = VethPair { ns, ifname, ip, mac };
        for n in &pair.ns {
            run(&["ip", "netns", "add", n])?;
        }
        run(&[
            "ip",
            "link",
            "add",
            &pair.ifname[0],
            "netns",
            &pair.ns[0],
            "type",
            "veth",
            "peer",
            "name",
            &pair.ifname[1],
            "netns",
            &pair.ns[1],
        ])?;
        for k in 0..2 {
            let (ns, ifn, o) = (&pair.ns[k], &pair.ifname[k], 1 - k);
            let ex = |rest: &[&str]| {
                let mut a = vec!["ip", "netns", "exec", ns.as_str()];
                a.extend_from_slice(rest);
                run(&a)
            };
            ex(&["ip", "link", "set", "lo", "up"])?;
            ex(&["ip", "link", "set", ifn, "address", &mac_str(&pair.mac[k])])?;
            ex(&["ip", "addr", "add", &format!("{}/24", pair.ip[k]), "dev", ifn])?;
            ex(&["ip", "link", "set", ifn, "up"])?;
            ex(&[
                "ip",
                "neigh",
                "replace",
                &pair.ip[o].to_string(),
                "lladdr",
                &mac_str(&pair.mac[o]),
                "dev",
                ifn,
                "nud",
                "permanent",
            ])?;
            ex(&["ethtool", "-K", ifn, "tx", "off"])?;
        }
        Ok(pair)
    }

    /// Drops `pct`% of the frames leaving side `k`'s interface, at random:
    /// `tc qdisc … netem loss`, or where the kernel has no netem (this kind of
    /// VM's kernel lacks `CONFIG_NET_SCH_NETEM`), an nftables rule on the
    /// interface's egress hook (`numgen random`), which also acts after the
    /// sender's stack, so a send never fails for it. Says which.
    pub fn loss(&self, k: usize, pct: f64) -> Result<&'static str, String> {
        let netem = run(&[
            "ip",
            "netns",
            "exec",
            &self.ns[k],
            "tc",
            "qdisc",
            "replace",
            "dev",
            &self.ifname[k],
            "root",
            "netem",
            "loss",
            &format!("{pct}%"),
        ]);
        if netem.is_ok() {
            return Ok("tc netem");
        }
        let per_mille = (pct * 10.0).round() as u32;
        let rules = format!(
            "table netdev foxtrot_loss {{\n  chain egress {{\n    type filter hook egress device \"{}\" priority 0;\n    \
             numgen random mod 1000 < {per_mille} drop\n  }}\n}}\n",
            self.ifname[k]
        );
        let file = std::env::temp_dir().join(format!("foxtrot-loss-{}-{}.nft", self.ns[k], std::process::id()));
        std::fs::write(&file, rules).map_err(|e| e.to_string())?;
        let r = run(&[
            "ip",
            "netns",
            "exec",
            &self.ns[k],
            "nft",
            "-f",
            &file.display().to_string(),
        ]);
        let _ = std::fs::remove_file(&file);
        r.map_err(|e| format!("{} (netem: {})", e, netem.unwrap_err()))?;
        Ok("nftables egress numgen")
    }

    /// Moves the calling thread into side `k`'s namespace (sockets it opens
    /// afterwards live there; other threads are not affected).
    pub fn enter(&self, k: usize) -> Result<(), String> {
        enter(&self.ns[k])
    }
}

/// Moves the calling thread into the named network namespace.
pub fn enter(ns: &str) -> Result<(), String> {
    let p = format!("/run/netns/{ns}");
    let f = std::fs::File::open(&p).map_err(|e| format!("{p}: {e}"))?;
    use std::os::fd::AsRawFd;
    // SAFETY: a descriptor of a namespace file, open through the call.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns {p}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

impl Drop for VethPair {
    fn drop(&mut self) {
        for n in &self.ns {
            let _ = run(&["ip", "netns", "del", n]);
        }
    }
}

/// Whether this process can build the test bed (root, `ip` and `ethtool`
/// present), and if not, why.
pub fn available() -> Result<(), String> {
    // SAFETY: a plain getter.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root (network namespaces need CAP_SYS_ADMIN)".into());
    }
    for tool in ["ip", "ethtool", "tc", "nft"] {
        if Command::new(tool).arg("-V").output().is_err() {
            return Err(format!("{tool} is not installed"));
        }
    }
    Ok(())
}
