//! The `venue` section: the simulated venue's latencies, or the address of a
//! venue process; and what `foxtrot venue` serves — its application and its
//! FIX sessions.

use super::session::SessionChecks;
use super::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Simulated venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Order-entry latency: an order sent at control time t reaches the matching
    /// engine at t + this.
    #[schemars(range(min = 0, max = 60_000_000_000_i64))]
    pub entry_latency_ns: u64,
    /// Execution reports reach the engine this long after the venue produced them.
    #[schemars(range(min = 0, max = 60_000_000_000_i64))]
    pub ack_latency_ns: u64,
    /// Market data reaches the engine this long after the venue published it.
    #[schemars(range(min = 0, max = 60_000_000_000_i64))]
    pub md_latency_ns: u64,
    /// The venue's FIX acceptor, `host:port`. When set, `foxtrot run` trades with
    /// the `foxtrot venue` process listening there, over TCP, instead of
    /// simulating the venue in-process (and the three latencies above are the
    /// network's, not simulated). `foxtrot sim` always simulates in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Whether the counterparty takes an OrderMassCancelRequest (FIX 4.4,
    /// 35=q). Then a kill cancels every order of the session in one message
    /// (MassCancelRequestType 7) and a halt its instrument's (1, with the
    /// Symbol); the orders it covers are pending cancel until their own
    /// reports come, and if the venue refuses the request (35=r with
    /// MassCancelResponse 0) they are cancelled one by one. Off (the
    /// default): one OrderCancelRequest per order. FIX 4.2 has no mass cancel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mass_cancel: bool,
    /// UDP `host:port` where `foxtrot venue` publishes its market data and
    /// `foxtrot run` receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_data: Option<String>,
    /// How `venue.market_data` is published: `native` (foxtrot's own records)
    /// or `moldudp64` (ITCH 5.0 over MoldUDP64, as exchanges publish, with a
    /// retransmission server at `venue.retransmit`).
    #[serde(default, skip_serializing_if = "MdFormat::is_native")]
    pub market_data_format: MdFormat,
    /// UDP `host:port` of the venue's MoldUDP64 retransmission server: the venue
    /// answers gap requests there, and the engine asks there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retransmit: Option<String>,
    /// What `foxtrot venue` does with application messages: `matching` (orders
    /// trade in the simulated book with the crowd) or `echo` (every application
    /// message is reflected back, as certification test harnesses expect of an
    /// acceptor under test; orders never trade).
    #[serde(default, skip_serializing_if = "VenueApplication::is_matching")]
    pub application: VenueApplication,
    /// Seconds a connection may stay open without a valid Logon before
    /// `foxtrot venue` drops it.
    #[serde(default = "logon_timeout", skip_serializing_if = "is_logon_timeout")]
    #[schemars(range(min = 1, max = 3600))]
    pub logon_timeout_s: u32,
    /// The FIX sessions `foxtrot venue` accepts, each from the venue's side.
    /// Empty: the one session of the `session` section, seen from the venue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<AcceptorSession>,
    /// Directory for `foxtrot venue`'s log of every FIX message sent and
    /// received, one file per session (`<SenderCompID>-<TargetCompID>.messages.log`),
    /// written by a thread of its own; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_log: Option<String>,
    /// The backtest venue's queue-position and latency models (`foxtrot
    /// replay` of imported or recorded data); the touch venue as it always was
    /// by default.
    #[serde(default, skip_serializing_if = "super::FillModelConfig::is_default")]
    pub fill_model: super::FillModelConfig,
}

/// A market-data wire format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MdFormat {
    /// foxtrot's native 64-byte records in datagrams.
    #[default]
    Native,
    /// ITCH 5.0 over MoldUDP64.
    Moldudp64,
}

impl MdFormat {
    fn is_native(&self) -> bool {
        *self == MdFormat::Native
    }
}

/// An application for `foxtrot venue`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VenueApplication {
    /// Orders trade in the simulated book.
    #[default]
    Matching,
    /// Application messages are reflected back.
    Echo,
}

impl VenueApplication {
    fn is_matching(&self) -> bool {
        *self == VenueApplication::Matching
    }
}

fn logon_timeout() -> u32 {
    10
}
fn is_logon_timeout(v: &u32) -> bool {
    *v == logon_timeout()
}

/// One session `foxtrot venue` accepts, from the venue's side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptorSession {
    /// BeginString (tag 8): `FIX.4.4` or `FIX.4.2`.
    #[schemars(extend("enum" = ["FIX.4.4", "FIX.4.2"]))]
    pub begin_string: String,
    /// The venue's CompID (SenderCompID of what it sends).
    #[schemars(length(min = 1, max = 32))]
    pub sender_comp_id: String,
    /// The counterparty's CompID.
    #[schemars(length(min = 1, max = 32))]
    pub target_comp_id: String,
    /// Username the counterparty's Logon must carry, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password the counterparty's Logon must carry, if any (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// ResetOnLogon: every Logon starts both sequences at 1 (what test harnesses
    /// that open each case with MsgSeqNum 1 need).
    #[serde(default)]
    pub reset_on_logon: bool,
    /// Directory of the session's journal (sequence numbers, sent messages);
    /// default `fix-store/<SenderCompID>-<TargetCompID>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// What the session checks in the messages it receives.
    #[serde(default, skip_serializing_if = "SessionChecks::is_default")]
    pub checks: SessionChecks,
}
