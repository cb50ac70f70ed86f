//! `foxtrot host-check`: what a colocated deployment needs of its host, and
//! what this host has — one OK or WARN line per item. It only reads `/sys` and
//! `/proc` (under `--root`, so tests can point it at a fixture tree).

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Arguments of `foxtrot host-check`.
#[derive(Args, Debug)]
pub struct HostCheckArgs {
    /// Cores the pipeline will be pinned to (default: `runtime.cores` of --config).
    #[arg(long, value_delimiter = ',')]
    cores: Vec<usize>,
    /// Config whose `runtime.cores` to check.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one configuration key (repeatable) as the run will be started
    /// with (on --config's, or the embedded default): `--set runtime.cores=[3]`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The network interface the feed arrives on (its driver's XDP support,
    /// queues and busy-poll settings are checked).
    #[arg(long, value_name = "IFACE")]
    nic: Option<String>,
    /// Root of the /sys and /proc trees to read.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// Exit non-zero if any line is a WARN.
    #[arg(long)]
    strict: bool,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `OK` or `WARN`.
    pub level: &'static str,
    /// What was checked.
    pub item: String,
    /// What was found, and what to do about it.
    pub detail: String,
}

fn read(root: &Path, p: &str) -> Option<String> {
    std::fs::read_to_string(root.join(p.trim_start_matches('/')))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Parses a CPU list like `2-3,5` into core numbers.
pub fn parse_cpu_list(s: &str) -> Vec<usize> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    v.extend(a..=b.min(a + 4096));
                }
            }
            None => v.extend(part.parse::<usize>().ok()),
        }
    }
    v
}

fn ok(item: &str, detail: String) -> Finding {
    Finding {
        level: "OK",
        item: item.into(),
        detail,
    }
}
fn warn(item: &str, detail: String) -> Finding {
    Finding {
        level: "WARN",
        item: item.into(),
        detail,
    }
}

/// Every check, for pinned `cores`, reading under `root`.
pub fn check(root: &Path, cores: &[usize]) -> Vec<Finding> {
    let mut f = Vec::new();
    let list = |s: &[usize]| s.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    if cores.is_empty() {
        f.push(warn(
            "pinned cores",
            "none given (--cores or runtime.cores): threads float and share cores".into(),
        ));
    } else {
        f.push(ok("pinned cores", list(cores)));
    }
    let isolated = read(root, "sys/devices/system/cpu/isolated").map(|s| parse_cpu_list(&s));
    match isolated {
        Some(iso) if !cores.is_empty() && cores.iter().all(|c| iso.contains(c)) => f.push(ok(
            "isolated cores",
            format!("{} (all pinned cores isolated)", list(&iso)),
        )),
        Some(iso) => f.push(warn(
            "isolated cores",
            format!(
                "isolated: [{}]; pinned cores should be isolated (isolcpus= on the kernel command line)",
                list(&iso)
            ),
        )),
        None => f.push(warn(
            "isolated cores",
            "cannot read /sys/devices/system/cpu/isolated".into(),
        )),
    }
    let nohz = read(root, "sys/devices/system/cpu/nohz_full")
        .filter(|s| s != "(null)")
        .map(|s| parse_cpu_list(&s))
        .unwrap_or_default();
    if !cores.is_empty() && cores.iter().all(|c| nohz.contains(c)) {
        f.push(ok("nohz_full", list(&nohz)));
    } else {
        f.push(warn(
            "nohz_full",
            format!(
                "tick-less cores: [{}]; pinned cores should be in nohz_full= (fewer timer interrupts)",
                list(&nohz)
            ),
        ));
    }
    for c in cores {
        match read(root, &format!("sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor")) {
            Some(g) if g == "performance" => f.push(ok(&format!("cpu{c} governor"), g)),
            Some(g) => f.push(warn(
                &format!("cpu{c} governor"),
                format!("{g}; set `performance` (frequency changes cost latency)"),
            )),
            None => f.push(warn(
                &format!("cpu{c} governor"),
                "no cpufreq interface (a VM, or a driver-managed CPU): frequency not under our control".into(),
            )),
        }
    }
    match read(root, "sys/kernel/mm/transparent_hugepage/enabled") {
        Some(t) if t.contains("[always]") => f.push(warn(
            "transparent huge pages",
            format!("{t}; use madvise or never (khugepaged and compaction stall threads)"),
        )),
        Some(t) => f.push(ok("transparent huge pages", t)),
        None => f.push(warn("transparent huge pages", "cannot read the THP setting".into())),
    }
    let meminfo = read(root, "proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        meminfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    match (field("HugePages_Total:"), field("HugePages_Free:")) {
        (Some(t), Some(fr)) if fr > 0 => f.push(ok("huge pages", format!("{fr} free of {t}"))),
        (Some(t), Some(fr)) => f.push(warn(
            "huge pages",
            format!("{fr} free of {t}; reserve some (vm.nr_hugepages) for journals and rings"),
        )),
        _ => f.push(warn("huge pages", "cannot read /proc/meminfo".into())),
    }
    let mut nodes = Vec::new();
    for c in cores {
        let dir = root.join(format!("sys/devices/system/cpu/cpu{c}"));
        let node = std::fs::read_dir(&dir).ok().and_then(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_prefix("node")?.parse::<u32>().ok())
                })
                .min()
        });
        match node {
            Some(n) => {
                nodes.push(n);
                f.push(ok(&format!("cpu{c} NUMA node"), format!("node {n}")));
            }
            None => f.push(warn(&format!("cpu{c} NUMA node"), "unknown (no nodeN link)".into())),
        }
    }
    nodes.sort();
    nodes.dedup();
    if nodes.len() > 1 {
        f.push(warn(
            "NUMA",
            format!("pinned cores span nodes {nodes:?}; keep the pipeline on one node"),
        ));
    }
    if !cores.is_empty() {
        let mut hit = Vec::new();
        if let Ok(rd) = std::fs::read_dir(root.join("proc/irq")) {
            let mut irqs: Vec<(u32, PathBuf)> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
                .collect();
            irqs.sort();
            for (irq, p) in irqs {
                if let Ok(s) = std::fs::read_to_string(p.join("smp_affinity_list")) {
                    if parse_cpu_list(s.trim()).iter().any(|c| cores.contains(c)) {
                        hit.push(irq);
                    }
                }
            }
        }
        if hit.is_empty() {
            f.push(ok("IRQ affinity", "no IRQ may run on a pinned core".into()));
        } else {
            f.push(warn(
                "IRQ affinity",
                format!(
                    "{} IRQs may run on pinned cores (e.g. {:?}); steer them away (irqbalance off, smp_affinity_list)",
                    hit.len(),
                    &hit[..hit.len().min(5)]
                ),
            ));
        }
    }
    f
}

/// Drivers known to have native (driver-mode) XDP in mainline Linux (a list,
/// not exhaustive: a driver absent from it is reported as unknown, and
/// `ip link set dev IFACE xdpdrv …` settles it).
const NATIVE_XDP: [&str; 18] = [
    "mlx5_core",
    "mlx4_en",
    "i40e",
    "ice",
    "ixgbe",
    "ixgbevf",
    "igb",
    "igc",
    "ena",
    "bnxt_en",
    "qede",
    "nfp",
    "sfc",
    "virtio_net",
    "veth",
    "tun",
    "thunderx",
    "stmmac",
];

/// Whether this kernel and process can open an AF_XDP socket (a live probe),
/// and whether this build can use one.
fn af_xdp_sockets() -> Finding {
    const AF_XDP: libc::c_int = 44;
    // SAFETY: a plain socket(2) call; the descriptor is closed at once.
    let fd = unsafe { libc::socket(AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    let err = std::io::Error::last_os_error();
    let build = if cfg!(feature = "af_xdp") {
        "this build has the af_xdp feature (feed.xdp)"
    } else {
        "this build lacks the af_xdp feature: cargo build --release --features af_xdp"
    };
    if fd >= 0 {
        // SAFETY: the descriptor just opened, closed once.
        unsafe { libc::close(fd) };
        return if cfg!(feature = "af_xdp") {
            ok("AF_XDP sockets", format!("the kernel opens them; {build}"))
        } else {
            warn("AF_XDP sockets", format!("the kernel opens them; {build}"))
        };
    }
    match err.raw_os_error() {
        Some(libc::EAFNOSUPPORT) => warn(
            "AF_XDP sockets",
            "the kernel has none (CONFIG_XDP_SOCKETS): the feed stays on kernel sockets".into(),
        ),
        Some(libc::EPERM) | Some(libc::EACCES) => warn(
            "AF_XDP sockets",
            format!("refused ({err}): the engine needs CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF; {build}"),
        ),
        _ => warn("AF_XDP sockets", format!("socket(AF_XDP): {err}")),
    }
}

/// What kernel bypass and busy polling need: the busy-poll sysctls, and for
/// the feed's interface (`nic`) its driver's XDP mode, its receive queues and
/// the NAPI settings that `SO_PREFER_BUSY_POLL` relies on.
pub fn check_bypass(root: &Path, nic: Option<&str>) -> Vec<Finding> {
    let mut f = Vec::new();
    let sysctl = |name: &str| read(root, &format!("proc/sys/net/core/{name}")).and_then(|v| v.parse::<u64>().ok());
    match (sysctl("busy_read"), sysctl("busy_poll")) {
        (Some(r), Some(p)) if r > 0 && p > 0 => f.push(ok(
            "busy-poll sysctls",
            format!("net.core.busy_read={r} net.core.busy_poll={p} µs"),
        )),
        (Some(r), Some(p)) => f.push(warn(
            "busy-poll sysctls",
            format!(
                "net.core.busy_read={r} net.core.busy_poll={p}: sockets do not busy-poll by default; set both (e.g. 50), \
                 or give the process CAP_NET_ADMIN and set session.busy_poll / feed.busy_poll per socket"
            ),
        )),
        _ => f.push(warn("busy-poll sysctls", "cannot read /proc/sys/net/core/busy_read".into())),
    }
    if root == Path::new("/") {
        f.push(af_xdp_sockets());
    }
    let Some(nic) = nic else {
        f.push(warn(
            "feed NIC",
            "none given (--nic IFACE): its XDP support and queues are not checked".into(),
        ));
        return f;
    };
    let dev = root.join(format!("sys/class/net/{nic}"));
    if !dev.exists() {
        f.push(warn("feed NIC", format!("{nic}: no such interface")));
        return f;
    }
    let driver = std::fs::read_link(dev.join("device/driver"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| {
            // Virtual devices (veth) have no device link; their kind is in uevent.
            read(root, &format!("sys/class/net/{nic}/uevent"))?
                .lines()
                .find_map(|l| l.strip_prefix("DEVTYPE=").map(str::to_string))
        });
    match driver.as_deref() {
        Some(d) if NATIVE_XDP.contains(&d) => f.push(ok(
            &format!("{nic} XDP"),
            format!("driver {d}: native (driver-mode) XDP; zero-copy AF_XDP where the driver offers it"),
        )),
        Some(d) => f.push(warn(
            &format!("{nic} XDP"),
            format!(
                "driver {d}: not among the drivers known to have native XDP; if it has none, XDP runs \
                 in generic (SKB) mode — it works, without the bypass's gain (`ip link set dev {nic} xdpdrv …` tells)"
            ),
        )),
        None => f.push(warn(&format!("{nic} XDP"), "unknown driver".into())),
    }
    let rx = std::fs::read_dir(dev.join("queues"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
                .count()
        })
        .unwrap_or(0);
    if rx > 1 {
        f.push(ok(
            &format!("{nic} queues"),
            format!(
                "{rx} receive queues: steer the feed to one (ethtool -N … action Q) and bind the AF_XDP socket there"
            ),
        ));
    } else {
        f.push(warn(
            &format!("{nic} queues"),
            format!("{rx} receive queue: the feed shares it with all other traffic"),
        ));
    }
    let defer = read(root, &format!("sys/class/net/{nic}/napi_defer_hard_irqs")).and_then(|v| v.parse::<u64>().ok());
    let gro = read(root, &format!("sys/class/net/{nic}/gro_flush_timeout")).and_then(|v| v.parse::<u64>().ok());
    match (defer, gro) {
        (Some(d), Some(g)) if d > 0 && g > 0 => f.push(ok(
            &format!("{nic} NAPI"),
            format!("napi_defer_hard_irqs={d} gro_flush_timeout={g} ns: prefer-busy-poll can hold off interrupts"),
        )),
        (Some(d), Some(g)) => f.push(warn(
            &format!("{nic} NAPI"),
            format!(
                "napi_defer_hard_irqs={d} gro_flush_timeout={g}: SO_PREFER_BUSY_POLL needs both > 0 \
                 (e.g. echo 2 > …/napi_defer_hard_irqs; echo 200000 > …/gro_flush_timeout)"
            ),
        )),
        _ => f.push(warn(&format!("{nic} NAPI"), "cannot read napi_defer_hard_irqs".into())),
    }
    f
}

/// Runs `foxtrot host-check`.
pub fn run(a: HostCheckArgs) -> Result<()> {
    let cores = if a.cores.is_empty() {
        match (&a.config, a.set.is_empty()) {
            (None, true) => Vec::new(),
            (c, _) => crate::setup::load_with_sets(c.as_deref(), &a.set)?.runtime.cores,
        }
    } else {
        a.cores.clone()
    };
    let mut findings = check(&a.root, &cores);
    findings.extend(check_bypass(&a.root, a.nic.as_deref()));
    for x in &findings {
        if a.json {
            println!("{}", serde_json::to_string(x)?);
        } else {
            println!("{:<4}  {:<24} {}", x.level, x.item, x.detail);
        }
    }
    let warns = findings.iter().filter(|x| x.level == "WARN").count();
    if !a.json {
        println!("{} OK, {} WARN", findings.len() - warns, warns);
    }
    anyhow::ensure!(!(a.strict && warns > 0), "{warns} WARN lines (--strict)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(root: &Path, p: &str, s: &str) {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, s).unwrap();
    }

    #[test]
    fn bypass_items_warn_on_an_untuned_host_and_pass_on_a_tuned_one() {
        let root = std::env::temp_dir().join(format!("foxtrot-hostcheck-bypass-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        put(&root, "proc/sys/net/core/busy_read", "0\n");
        put(&root, "proc/sys/net/core/busy_poll", "0\n");
        put(&root, "sys/class/net/eth1/queues/rx-0/x", "");
        put(&root, "sys/class/net/eth1/napi_defer_hard_irqs", "0\n");
        put(&root, "sys/class/net/eth1/gro_flush_timeout", "0\n");
        put(&root, "sys/bus/pci/drivers/r8169/x", "");
        std::fs::create_dir_all(root.join("sys/class/net/eth1/device")).unwrap();
        std::os::unix::fs::symlink(
            root.join("sys/bus/pci/drivers/r8169"),
            root.join("sys/class/net/eth1/device/driver"),
        )
        .unwrap();
        let f = check_bypass(&root, Some("eth1"));
        assert!(f.iter().all(|x| x.level == "WARN"), "{f:#?}");
        assert!(
            f.iter().any(|x| x.detail.contains("not among the drivers known")),
            "{f:#?}"
        );

        put(&root, "proc/sys/net/core/busy_read", "50\n");
        put(&root, "proc/sys/net/core/busy_poll", "50\n");
        put(&root, "sys/class/net/eth1/queues/rx-1/x", "");
        put(&root, "sys/class/net/eth1/napi_defer_hard_irqs", "2\n");
        put(&root, "sys/class/net/eth1/gro_flush_timeout", "200000\n");
        put(&root, "sys/bus/pci/drivers/ice/x", "");
        std::fs::remove_file(root.join("sys/class/net/eth1/device/driver")).unwrap();
        std::os::unix::fs::symlink(
            root.join("sys/bus/pci/drivers/ice"),
            root.join("sys/class/net/eth1/device/driver"),
        )
        .unwrap();
        let f = check_bypass(&root, Some("eth1"));
        assert!(f.iter().all(|x| x.level == "OK"), "{f:#?}");
        assert_eq!(check_bypass(&root, Some("nope"))[1].detail, "nope: no such interface");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("2-4,7"), vec![2, 3, 4, 7]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("x,1"), vec![1]);
    }

    #[test]
    fn a_tuned_host_is_all_ok_and_an_untuned_one_warns_on_each_item() {
        let root = std::env::temp_dir().join(format!("foxtrot-hostcheck-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        put(&root, "sys/devices/system/cpu/isolated", "2-3\n");
        put(&root, "sys/devices/system/cpu/nohz_full", "2-3\n");
        for c in [2, 3] {
            put(
                &root,
                &format!("sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"),
                "performance\n",
            );
            put(&root, &format!("sys/devices/system/cpu/cpu{c}/node0/x"), "");
        }
        put(
            &root,
            "sys/kernel/mm/transparent_hugepage/enabled",
            "always madvise [never]\n",
        );
        put(
            &root,
            "proc/meminfo",
            "MemTotal: 1 kB\nHugePages_Total:      64\nHugePages_Free:       60\n",
        );
        put(&root, "proc/irq/5/smp_affinity_list", "0-1\n");
        let f = check(&root, &[2, 3]);
        assert!(f.iter().all(|x| x.level == "OK"), "{f:#?}");

        put(&root, "sys/devices/system/cpu/isolated", "\n");
        put(&root, "sys/devices/system/cpu/nohz_full", "(null)\n");
        put(
            &root,
            "sys/devices/system/cpu/cpu2/cpufreq/scaling_governor",
            "powersave\n",
        );
        std::fs::remove_dir_all(root.join("sys/devices/system/cpu/cpu3/node0")).unwrap();
        put(&root, "sys/devices/system/cpu/cpu3/node1/x", "");
        put(
            &root,
            "sys/kernel/mm/transparent_hugepage/enabled",
            "[always] madvise never\n",
        );
        put(
            &root,
            "proc/meminfo",
            "HugePages_Total:       0\nHugePages_Free:        0\n",
        );
        put(&root, "proc/irq/9/smp_affinity_list", "0-3\n");
        let f = check(&root, &[2, 3]);
        let warned: Vec<&str> = f
            .iter()
            .filter(|x| x.level == "WARN")
            .map(|x| x.item.as_str())
            .collect();
        for item in [
            "isolated cores",
            "nohz_full",
            "cpu2 governor",
            "transparent huge pages",
            "huge pages",
            "NUMA",
            "IRQ affinity",
        ] {
            assert!(warned.contains(&item), "{item} warns: {warned:?}");
        }
        assert!(!warned.contains(&"cpu3 governor"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
