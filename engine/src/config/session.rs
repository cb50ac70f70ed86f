//! The `session` section: the FIX identity and logon of the engine's session,
//! and the checks a FIX session applies to what it receives (shared with the
//! venue's sessions, [`super::venue`]).

use super::Secret;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// FIX identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// BeginString (tag 8): `FIX.4.4` or `FIX.4.2`.
    #[schemars(extend("enum" = ["FIX.4.4", "FIX.4.2"]))]
    pub begin_string: String,
    /// SenderCompID (tag 49).
    #[schemars(length(min = 1, max = 32))]
    pub sender_comp_id: String,
    /// TargetCompID (tag 56).
    #[schemars(length(min = 1, max = 32))]
    pub target_comp_id: String,
    /// Username (tag 553) sent in the FIX Logon, if the counterparty wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password (tag 554) sent in the FIX Logon: a [`Secret`], never printed,
    /// logged or journalled; `env:NAME` reads it from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// HeartBtInt (tag 108) proposed at Logon, seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub heartbeat_s: Option<u32>,
    /// What the session checks in the messages it receives.
    #[serde(default, skip_serializing_if = "SessionChecks::is_default")]
    pub checks: SessionChecks,
    /// Directory for a log of every FIX message sent and received (one file
    /// per session, `<SenderCompID>-<TargetCompID>.messages.log`), written by a
    /// thread of its own; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_log: Option<String>,
    /// Busy polling of the session's TCP socket (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_poll: Option<super::BusyPollConfig>,
    /// µs after writing an order during which a `park` run's ingest thread
    /// keeps polling (does not sleep) while an answer is outstanding: a thread
    /// woken by the answer starts tens of µs late. Costs at most this much CPU
    /// per order; 0 sleeps at once.
    #[serde(
        default = "default_answer_spin_us",
        skip_serializing_if = "is_default_answer_spin_us"
    )]
    #[schemars(range(max = 100_000))]
    pub answer_spin_us: u32,
    /// Size of each segment of the session store (the journal of the messages
    /// sent and the sequence numbers; `foxtrot venue`'s stores too), KiB. Two
    /// are on disk from the start (the one written and the next, made ahead).
    #[serde(
        default = "default_store_segment_kib",
        skip_serializing_if = "is_default_store_segment_kib"
    )]
    #[schemars(range(min = 64, max = 1_048_576))]
    pub store_segment_kib: u32,
}

/// The default session-store segment: 16 MiB, some 80,000 orders.
pub const DEFAULT_STORE_SEGMENT_KIB: u32 = 16 << 10;

fn default_store_segment_kib() -> u32 {
    DEFAULT_STORE_SEGMENT_KIB
}

fn is_default_store_segment_kib(v: &u32) -> bool {
    *v == DEFAULT_STORE_SEGMENT_KIB
}

/// The default answer spin: a little more than a venue's answer takes over
/// loopback on a busy host.
pub const DEFAULT_ANSWER_SPIN_US: u32 = 250;

fn default_answer_spin_us() -> u32 {
    DEFAULT_ANSWER_SPIN_US
}

fn is_default_answer_spin_us(v: &u32) -> bool {
    *v == DEFAULT_ANSWER_SPIN_US
}

/// What a FIX session checks in the messages it receives, after framing,
/// BodyLength and CheckSum (always checked). The names are QuickFIX's settings
/// of the same meaning, so a counterparty's certification notes carry over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionChecks {
    /// Data dictionary: a QuickFIX-style XML file (`FIX44.xml`, or the one a
    /// counterparty distributes) or foxtrot's compact form; default: the
    /// built-in dictionary of the BeginString. Relative to the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<String>,
    /// UseDataDictionary: check messages against the dictionary at all.
    #[serde(default = "yes")]
    pub validate: bool,
    /// ValidateFieldsOutOfOrder: header, body and trailer fields in their parts.
    #[serde(default = "yes")]
    pub validate_fields_out_of_order: bool,
    /// ValidateFieldsHaveValues: no empty values (`56=`).
    #[serde(default = "yes")]
    pub validate_fields_have_values: bool,
    /// ValidateUserDefinedFields: tags from 5000 up must be in the dictionary too.
    #[serde(default = "yes")]
    pub validate_user_defined_fields: bool,
    /// AllowUnknownMsgFields: tags below 5000 the dictionary does not know pass.
    #[serde(default)]
    pub allow_unknown_msg_fields: bool,
    /// CheckLatency: SendingTime within `max_latency_s` of the receiver's clock.
    #[serde(default = "yes")]
    pub check_latency: bool,
    /// MaxLatency, seconds.
    #[serde(default = "max_latency")]
    #[schemars(range(min = 1, max = 86400))]
    pub max_latency_s: u32,
    /// Longest ClOrdID (and OrigClOrdID) accepted, bytes.
    #[serde(default = "max_cl_ord_id")]
    #[schemars(range(min = 1, max = 256))]
    pub max_cl_ord_id_len: u32,
}

fn yes() -> bool {
    true
}
fn max_latency() -> u32 {
    120
}
fn max_cl_ord_id() -> u32 {
    64
}

impl Default for SessionChecks {
    fn default() -> Self {
        SessionChecks {
            dictionary: None,
            validate: true,
            validate_fields_out_of_order: true,
            validate_fields_have_values: true,
            validate_user_defined_fields: true,
            allow_unknown_msg_fields: false,
            check_latency: true,
            max_latency_s: max_latency(),
            max_cl_ord_id_len: max_cl_ord_id(),
        }
    }
}

impl SessionChecks {
    /// Whether every check is at its default (then the key is not written).
    pub fn is_default(&self) -> bool {
        *self == SessionChecks::default()
    }
}
