//! The `feed` section: where `foxtrot run` takes its market data from when it is
//! a real feed — combined with any order route (the touch venue for paper
//! trading, or a FIX venue at `venue.address`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A market-data source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// `mold:HOST:PORT` (ITCH 5.0 over MoldUDP64, unicast or a multicast
    /// group), `udp:HOST:PORT` (foxtrot's native records), `shm:PATH` (the
    /// ring of a `foxtrot feed` process) or `itch:PATH` (an ITCH 5.0 file, for
    /// tests: paced by `pace`). Instrument `i` is the config's `i`-th symbol.
    pub source: String,
    /// MoldUDP64: the publisher's retransmission server (`HOST:PORT`), asked
    /// for every gap before it is declared lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retransmit: Option<String>,
    /// ITCH: the trading day (`YYYY-MM-DD`) its times of day are on (default:
    /// the day of `gen.start_ns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// ITCH file: replay at this multiple of real time (default: as fast as possible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.001, max = 1_000_000.0))]
    pub pace: Option<f64>,
    /// MoldUDP64: packets held while a gap is being recovered.
    #[serde(default = "window")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub reorder_window: u32,
    /// Busy polling of the feed's UDP socket (`mold:` and `udp:` sources; none
    /// by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_poll: Option<super::BusyPollConfig>,
    /// Receive the feed through an AF_XDP socket on this interface (`mold:`
    /// and `udp:` sources; IPv4), its retransmission requests sent the same
    /// way. `busy_poll` then applies to the AF_XDP socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdp: Option<super::XdpSection>,
}

fn window() -> u32 {
    4096
}
