//! foxtrot-net: the network plumbing under the FIX and feed transports.
//!
//! - [`sockopt`]: socket options beyond what `std` and `mio` expose
//!   (`SO_BUSY_POLL`, buffer sizes), set and read back.
//! - [`busy_poll`]: busy polling of a socket, as configured for a FIX session
//!   or a UDP feed.
//! - [`datagram`]: the UDP endpoint feeds and publishers use — the kernel's
//!   socket, or AF_XDP.
//! - [`xdp_config`]: an AF_XDP endpoint's configuration (in every build).
//! - [`netns`]: two network namespaces joined by a veth pair, for tests and
//!   the latency harness.
//! - `xdp` (feature `af_xdp`): AF_XDP sockets, the XDP program that feeds
//!   them, and the rings they share with the kernel.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod busy_poll;
pub mod datagram;
pub mod netns;
pub mod sockopt;
#[cfg(feature = "af_xdp")]
pub mod xdp;
pub mod xdp_config;

pub use busy_poll::BusyPoll;
pub use datagram::{open_udp, wait_readable, Datagrams, KernelUdp};
pub use xdp_config::XdpConfig;

pub use sockopt::set_int_option;
