//! AF_XDP: UDP datagrams received and sent through rings shared with the
//! kernel, past its network stack (the `af_xdp` feature).
//!
//! - [`program`]: the XDP program (eBPF written here, no toolchain) that
//!   redirects the bound UDP port to the socket and passes the rest on.
//! - [`bpf`]: the `bpf(2)` calls: the socket map, loading, attaching by link.
//! - [`ring`]: the producer/consumer rings shared with the kernel (loom-tested).
//! - [`umem`]: the frame area and its descriptors.
//! - [`frame`]: Ethernet/IPv4/UDP frames, read and written.
//! - [`iface`]: interface index, addresses and neighbours.
//! - [`XdpUdp`]: the endpoint the feed and the publisher use.
//!
//! Needs `CAP_NET_ADMIN` and `CAP_NET_RAW` (root in the tests' network
//! namespaces) and a kernel with `CONFIG_XDP_SOCKETS` (Linux ≥ 5.9 for the
//! BPF link that detaches the program when the process dies).

pub mod bpf;
pub mod frame;
pub mod iface;
pub mod program;
pub mod ring;
#[cfg(not(loom))]
mod socket;
pub mod umem;

pub use crate::xdp_config::{AttachMode, XdpConfig, ZeroCopy};
#[cfg(not(loom))]
pub use socket::{Attached, XdpStats, XdpUdp};
