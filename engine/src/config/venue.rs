//! The `venue` section: the simulated venue's latencies, or the address of a
//! venue process.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Simulated venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Order-entry latency: an order sent at control time t reaches the matching
    /// engine at t + this.
    pub entry_latency_ns: u64,
    /// Execution reports reach the engine this long after the venue produced them.
    pub ack_latency_ns: u64,
    /// Market data reaches the engine this long after the venue published it.
    pub md_latency_ns: u64,
    /// The venue's FIX acceptor, `host:port`. When set, `foxtrot run` trades with
    /// the `foxtrot venue` process listening there, over TCP, instead of
    /// simulating the venue in-process (and the three latencies above are the
    /// network's, not simulated). `foxtrot sim` always simulates in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// UDP `host:port` where `foxtrot venue` publishes its market data and
    /// `foxtrot run` receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_data: Option<String>,
}
