//! `feed.xdp`: receive the feed (and send its retransmission requests) through
//! an AF_XDP socket instead of the kernel's UDP stack. Needs a build with the
//! `af_xdp` feature (`cargo build --release --features af_xdp`), root (or
//! `CAP_NET_ADMIN` + `CAP_NET_RAW` + `CAP_BPF`), and the feed steered to
//! `queue` on a multi-queue NIC. `foxtrot host-check --nic IFACE` reports what
//! the host offers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An AF_XDP endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XdpSection {
    /// The interface the feed arrives on.
    pub interface: String,
    /// Its receive queue the socket binds (where the NIC steers the feed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue: u32,
    /// Where the XDP program runs: `auto` (native where the driver has it,
    /// else generic), `native`, or `generic` (any interface).
    #[serde(default, skip_serializing_if = "XdpMode::is_auto")]
    pub mode: XdpMode,
    /// `auto` (zero-copy where the driver offers it), `on` (or fail), `off`
    /// (copy mode).
    #[serde(default, skip_serializing_if = "XdpZeroCopy::is_auto")]
    pub zero_copy: XdpZeroCopy,
    /// Frames in the socket's memory (a power of two; half receive, half send).
    #[serde(default = "frames", skip_serializing_if = "is_frames")]
    #[schemars(range(min = 16, max = 1_048_576))]
    pub frames: u32,
}

/// Where the XDP program runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum XdpMode {
    /// Native where the driver has it, else generic.
    #[default]
    Auto,
    /// The driver's (native) XDP only.
    Native,
    /// Generic (SKB) XDP.
    Generic,
}

impl XdpMode {
    fn is_auto(&self) -> bool {
        *self == XdpMode::Auto
    }
}

/// Zero-copy or copy mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum XdpZeroCopy {
    /// Zero-copy where the driver offers it.
    #[default]
    Auto,
    /// Zero-copy or fail.
    On,
    /// Copy mode.
    Off,
}

impl XdpZeroCopy {
    fn is_auto(&self) -> bool {
        *self == XdpZeroCopy::Auto
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn frames() -> u32 {
    4096
}

fn is_frames(v: &u32) -> bool {
    *v == frames()
}
