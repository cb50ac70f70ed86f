//! The `bpf(2)` system call, for the four commands the redirect needs: create
//! the `XSKMAP`, put a socket in it, load the program (with the verifier's log
//! on refusal) and attach it to an interface through a BPF link.
//!
//! A link is owned by its descriptor: when the process ends — a `kill -9`
//! included — the kernel closes it and detaches the program, so no interface is
//! left redirecting to a socket that no longer exists.

use std::os::fd::{FromRawFd, OwnedFd};

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;

/// `BPF_MAP_TYPE_XSKMAP`.
const MAP_TYPE_XSKMAP: u32 = 17;
/// `BPF_PROG_TYPE_XDP`.
const PROG_TYPE_XDP: u32 = 6;
/// The `BPF_XDP` attach type.
const ATTACH_XDP: u32 = 37;
/// `XDP_FLAGS_SKB_MODE`: generic XDP, in the kernel's receive path.
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
/// `XDP_FLAGS_DRV_MODE`: native XDP, in the driver.
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

/// The `bpf_attr` union, as bytes: each command fills its own prefix and the
/// rest stays zero, as the kernel requires.
#[repr(C, align(8))]
struct Attr([u8; 128]);

impl Attr {
    fn new() -> Self {
        Attr([0; 128])
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64(&mut self, at: usize, v: u64) -> &mut Self {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn name(&mut self, at: usize, n: &str) -> &mut Self {
        let b = n.as_bytes();
        let k = b.len().min(15);
        self.0[at..at + k].copy_from_slice(&b[..k]);
        self
    }
}

fn sys_bpf(cmd: libc::c_long, attr: &mut Attr) -> std::io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, writable 128-byte buffer for the call and its
    // size is passed with it; every pointer it carries (keys, values,
    // instructions, licence, log) was put there by this module's callers and
    // outlives the call.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.0.as_mut_ptr(), attr.0.len() as libc::c_uint) };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: a descriptor the kernel just returned to this process, owned by
    // nothing else.
    unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }
}

/// Creates an `XSKMAP` of `entries` slots (keys: receive queues; values: the
/// AF_XDP socket bound to that queue).
pub fn create_xskmap(entries: u32) -> std::io::Result<OwnedFd> {
    let mut a = Attr::new();
    a.u32(0, MAP_TYPE_XSKMAP)
        .u32(4, 4)
        .u32(8, 4)
        .u32(12, entries)
        .name(28, "foxtrot_xsks");
    sys_bpf(BPF_MAP_CREATE, &mut a).map(owned)
}

/// Sets `map[key] = value` (both 32-bit).
pub fn map_update(map: &OwnedFd, key: u32, value: u32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (k, v) = (key, value);
    let mut a = Attr::new();
    a.u32(0, map.as_raw_fd() as u32)
        .u64(8, &k as *const u32 as u64)
        .u64(16, &v as *const u32 as u64)
        .u64(24, 0);
    sys_bpf(BPF_MAP_UPDATE_ELEM, &mut a).map(|_| ())
}

/// Loads an XDP program; a refusal carries the end of the verifier's log (the
/// load is tried once without a log, and again with one only to explain a
/// refusal).
pub fn load_xdp(insns: &[u64], name: &str) -> std::io::Result<OwnedFd> {
    let license = b"Dual MIT/GPL\0";
    let mut log = vec![0u8; 1 << 16];
    let load = |log: Option<&mut Vec<u8>>| {
        let mut a = Attr::new();
        a.u32(0, PROG_TYPE_XDP)
            .u32(4, insns.len() as u32)
            .u64(8, insns.as_ptr() as u64)
            .u64(16, license.as_ptr() as u64)
            .name(48, name)
            .u32(68, ATTACH_XDP);
        if let Some(log) = log {
            a.u32(24, 1).u32(28, log.len() as u32).u64(32, log.as_mut_ptr() as u64);
        }
        sys_bpf(BPF_PROG_LOAD, &mut a).map(owned)
    };
    load(None).map_err(|e| {
        let _ = load(Some(&mut log));
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        let text = String::from_utf8_lossy(&log[..end]);
        let mut last: Vec<&str> = text.lines().rev().take(6).collect();
        last.reverse();
        std::io::Error::new(
            e.kind(),
            format!("loading the XDP program: {e}; verifier: {}", last.join(" | ")),
        )
    })
}

/// Attaches `prog` to interface `ifindex` with `flags` (a mode); detached when
/// the returned link is closed.
pub fn attach_xdp(prog: &OwnedFd, ifindex: u32, flags: u32) -> std::io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;
    let mut a = Attr::new();
    a.u32(0, prog.as_raw_fd() as u32)
        .u32(4, ifindex)
        .u32(8, ATTACH_XDP)
        .u32(12, flags);
    sys_bpf(BPF_LINK_CREATE, &mut a).map(owned)
}
