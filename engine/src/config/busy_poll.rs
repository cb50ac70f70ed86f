//! `busy_poll`: busy polling of a section's sockets (the FIX session's TCP
//! socket under `session`, a UDP feed's socket under `feed`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Busy polling of a socket: a receive spins in the driver's queue for up to
/// `usecs` before sleeping. Refused without `CAP_NET_ADMIN` above
/// `net.core.busy_read` (the run then stops with the reason); `foxtrot
/// host-check` shows the sysctls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusyPollConfig {
    /// Microseconds a receive may spin (`SO_BUSY_POLL`).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub usecs: u32,
    /// Prefer busy polling to interrupts for the device queue
    /// (`SO_PREFER_BUSY_POLL`, Linux ≥ 5.11).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prefer: bool,
    /// Packets per busy-poll pass (`SO_BUSY_POLL_BUDGET`, Linux ≥ 5.11; kernel
    /// default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub budget: Option<u16>,
}
