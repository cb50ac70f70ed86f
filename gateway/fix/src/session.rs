//! The FIX session layer, one state machine for both roles, with no I/O and no
//! clock: framed messages and times go in, messages to send and application
//! messages come out. The transport (TCP) and the clock belong to the caller, so
//! the same code runs in the engine (initiator), the simulated venue (acceptor)
//! and the tests.
//!
//! ## What a received message goes through
//! 1. **Frame**: the first three fields BeginString, BodyLength, MsgType;
//!    BodyLength and CheckSum right ([`crate::framing::check_frame`]), every field
//!    `tag=value|`. A frame that fails is garbled: dropped without an answer and
//!    without using a sequence number — or, before logon (or if it is a Logon),
//!    the connection is dropped.
//! 2. **Fast path** (initiator, tried first): an ExecutionReport or
//!    OrderCancelReject whose tags come in the order of one that passed every
//!    check before is read along that order ([`ReportScanner::follow`], which
//!    checks the frame as 1 does), in sequence, from the session's CompIDs, in
//!    time; it skips 3–4 — the dictionary's checks are off the fast path — and
//!    the values the engine reads are checked as they are converted
//!    ([`crate::app::exec_from_fix`]). The acceptor's fast path, tried after
//!    step 1, is the same for the application messages a peer sends (orders,
//!    cancels, replaces): one whose MsgType and tags, in order, are those of
//!    one that passed every check before is read along them
//!    ([`AppLayouts::follow`]), checking each value as step 4 would (not
//!    empty, its type's format, its enumeration); the checks of steps 3–4 that
//!    depend on tags alone passed with the layout. Anything else takes the
//!    general path.
//! 3. **Identity**: SenderCompID and TargetCompID present (else Reject, reason 1 —
//!    a BusinessMessageReject for an application message); BeginString the
//!    session's (else Logout "Incorrect BeginString").
//! 4. **Dictionary**: [`crate::validate`] — structure, MsgType, required tags,
//!    formats, enumerations, group counts. A violation is a Reject (`3`) with
//!    RefSeqNum, RefTagID, RefMsgType, SessionRejectReason (a reason FIX 4.2 does
//!    not define is left out there) and the standard text; routing fields come
//!    back reversed (OnBehalfOf ↔ DeliverTo).
//! 5. **Session rules**, by message type:
//!    - logon state: before logon only a Logon (else disconnect, no answer); a
//!      Logon when logged on only with ResetSeqNumFlag=Y (a reset: both sides
//!      restart at 1, the answer carries 141=Y);
//!    - SendingTime within `max_latency_s` of now (else Reject 10 and Logout);
//!    - CompIDs the session's (else Reject 9 and Logout); before logon both end
//!      the connection without an answer;
//!    - MsgSeqNum: the expected one is processed; a higher one is queued and a
//!      ResendRequest (`2`, from the expected number to infinity) sent once per
//!      gap; a lower one without PossDupFlag ends the session with a Logout
//!      ("MsgSeqNum too low, expecting N but received M"); with PossDupFlag it is
//!      ignored, after a Reject if OrigSendingTime is missing (reason 1) or later
//!      than SendingTime (reason 10, then Logout). Logout and ResendRequest are
//!      not held to the sequence; a Reject only to its lower bound;
//!    - Heartbeat, TestRequest (answered with its TestReqID), SequenceReset
//!      (GapFill held to the sequence; Reset not; a NewSeqNo below the expected
//!      number is a Reject, reason 5), ResendRequest (application messages resent
//!      with PossDupFlag=Y and OrigSendingTime, runs of session messages replaced
//!      by one SequenceReset-GapFill), Logout (answered, then disconnect).
//! 6. **Timers** ([`Session::on_timer`]): a Heartbeat after HeartBtInt without
//!    sending; a TestRequest (TestReqID `TEST`) after 1.2 × HeartBtInt without
//!    receiving (2.4 × for the second); disconnect after 2.4 × HeartBtInt; a
//!    Logout unanswered for `logout_timeout_s` disconnects; an initiator's Logon
//!    unanswered for `logon_timeout_s` too.
//!
//! Everything the session writes has BeginString, BodyLength and MsgType first,
//! the other header fields in ascending tag order, and SendingTime with
//! milliseconds.
//!
//! Sequence numbers and sent application messages live in a [`MessageStore`];
//! [`MemoryStore`] keeps them in memory, [`JournalStore`](super::store::JournalStore)
//! in a journal so a restarted process resumes its session.

use crate::app::parse_utc_timestamp;
use crate::app_layout::{AppLayouts, HeaderValues};
use crate::dictionary::{Dictionary, DictionaryError};
use crate::fields::Fields;
use crate::framing::check_frame;
use crate::message::{self, int, Parsed};
use crate::report::{Report, ReportScanner};
use crate::validate::{validate, Reason, Validation, Violation};
use foxtrot_engine::format::calendar::utc_timestamp;
use foxtrot_engine::format::fix::tags::{self, msg_type as mt, Tag};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Who opens the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends the first Logon (the engine).
    Initiator,
    /// Answers it (the venue).
    Acceptor,
}

/// Session parameters.
#[derive(Clone)]
pub struct SessionSettings {
    /// `FIX.4.2` or `FIX.4.4`.
    pub begin_string: String,
    /// Our CompID (tag 49 on what we send).
    pub sender: String,
    /// Theirs (tag 56 on what we send).
    pub target: String,
    /// HeartBtInt we propose, seconds.
    pub heartbeat_s: u32,
    /// Ask for both sequence numbers to restart at 1 on logon (initiator), or
    /// restart them at every logon (acceptor).
    pub reset_on_logon: bool,
    /// Username (553) to send, or to require from the peer.
    pub username: Option<String>,
    /// Password (554) to send, or to require from the peer. Never logged.
    pub password: Option<String>,
    /// The data dictionary messages are checked against.
    pub dictionary: Arc<Dictionary>,
    /// Which checks apply.
    pub validation: Validation,
    /// Check SendingTime against the clock (CheckLatency).
    pub check_latency: bool,
    /// Largest allowed difference between SendingTime and now, seconds (MaxLatency).
    pub max_latency_s: u64,
    /// How long an answer to our Logout may take, seconds.
    pub logout_timeout_s: u64,
    /// How long an answer to our Logon may take, seconds (initiator).
    pub logon_timeout_s: u64,
    /// Longest ClOrdID an acceptor's application takes, bytes.
    pub max_cl_ord_id_len: usize,
}

impl SessionSettings {
    /// Settings with the defaults counterparties' engines use (HeartBtInt 30 s,
    /// every check on, MaxLatency 120 s, Logout timeout 2 s, Logon timeout 10 s)
    /// and the built-in dictionary of `begin_string` (FIX 4.4's for any other).
    pub fn new(begin_string: &str, sender: &str, target: &str) -> Self {
        let dictionary =
            Dictionary::shared(begin_string).unwrap_or_else(|| Dictionary::shared("FIX.4.4").expect("built in"));
        SessionSettings {
            begin_string: begin_string.to_string(),
            sender: sender.to_string(),
            target: target.to_string(),
            heartbeat_s: 30,
            reset_on_logon: false,
            username: None,
            password: None,
            dictionary,
            validation: Validation::default(),
            check_latency: true,
            max_latency_s: 120,
            logout_timeout_s: 2,
            logon_timeout_s: 10,
            max_cl_ord_id_len: 64,
        }
    }

    /// The session a config's `session` section describes, seen from `role`: the
    /// initiator (the engine) uses its CompIDs as written, the acceptor (the
    /// venue) swaps them and requires the configured credentials. No reset on
    /// logon (sessions resume from their stores). Fails only on a dictionary
    /// file that cannot be read.
    pub fn from_config(s: &foxtrot_engine::config::SessionConfig, role: Role) -> Result<Self, DictionaryError> {
        let (sender, target) = match role {
            Role::Initiator => (&s.sender_comp_id, &s.target_comp_id),
            Role::Acceptor => (&s.target_comp_id, &s.sender_comp_id),
        };
        let mut set = SessionSettings::new(&s.begin_string, sender, target);
        set.heartbeat_s = s.heartbeat_s.unwrap_or(30);
        set.username = s.username.clone();
        set.password = s.password.as_ref().map(|p| p.expose().to_string());
        set.with_checks(&s.checks)
    }

    /// One of the sessions of a config's `venue.sessions`, from the venue's side.
    pub fn for_acceptor(s: &foxtrot_engine::config::AcceptorSession) -> Result<Self, DictionaryError> {
        let mut set = SessionSettings::new(&s.begin_string, &s.sender_comp_id, &s.target_comp_id);
        set.username = s.username.clone();
        set.password = s.password.as_ref().map(|p| p.expose().to_string());
        set.reset_on_logon = s.reset_on_logon;
        set.with_checks(&s.checks)
    }

    /// These settings with the checks `c` (and its dictionary file, if it names one).
    pub fn with_checks(mut self, c: &foxtrot_engine::config::SessionChecks) -> Result<Self, DictionaryError> {
        if let Some(p) = &c.dictionary {
            let d = Dictionary::load(std::path::Path::new(p))?;
            if d.begin_string != self.begin_string {
                return Err(DictionaryError {
                    origin: p.clone(),
                    line: 0,
                    message: format!("describes {}, the session is {}", d.begin_string, self.begin_string),
                });
            }
            self.dictionary = Arc::new(d);
        }
        self.validation = Validation {
            enabled: c.validate,
            fields_out_of_order: c.validate_fields_out_of_order,
            fields_have_values: c.validate_fields_have_values,
            user_defined_fields: c.validate_user_defined_fields,
            allow_unknown_msg_fields: c.allow_unknown_msg_fields,
        };
        self.check_latency = c.check_latency;
        self.max_latency_s = c.max_latency_s as u64;
        self.max_cl_ord_id_len = c.max_cl_ord_id_len as usize;
        Ok(self)
    }
}

impl std::fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSettings")
            .field("begin_string", &self.begin_string)
            .field("sender", &self.sender)
            .field("target", &self.target)
            .field("heartbeat_s", &self.heartbeat_s)
            .field("reset_on_logon", &self.reset_on_logon)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("validation", &self.validation)
            .finish()
    }
}

/// Where a session keeps its sequence numbers and what it sent.
pub trait MessageStore {
    /// Next MsgSeqNum to send, and next expected.
    fn seqs(&self) -> (u64, u64);
    /// Records both.
    fn set_seqs(&mut self, next_out: u64, next_in: u64);
    /// Records an application message sent with `seq`.
    fn put(&mut self, seq: u64, msg: &[u8]);
    /// Records it only if it is kept for good (written where a restart finds
    /// it); `false`, and nothing recorded, when it cannot be (a store whose
    /// disk is full). A store in memory keeps everything it is given.
    fn keep(&mut self, seq: u64, msg: &[u8]) -> bool {
        self.put(seq, msg);
        true
    }
    /// The application message sent with `seq`, if any.
    fn get(&self, seq: u64) -> Option<&[u8]>;
    /// Forgets everything (a sequence reset).
    fn reset(&mut self);
}

/// A [`MessageStore`] in memory. Sent messages are kept back to back in one
/// buffer with a sorted index beside it, so storing a message allocates nothing
/// until the reserved space is used up: 64 MiB and 256k messages, a day of
/// orders at a few per second. (Address space only: the kernel commits the
/// pages as they are written.)
#[derive(Clone, Debug)]
pub struct MemoryStore {
    next_out: u64,
    next_in: u64,
    bytes: Vec<u8>,
    /// (seq, start, end) in `bytes`, ascending by seq.
    index: Vec<(u64, usize, usize)>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            next_out: 1,
            next_in: 1,
            bytes: Vec::with_capacity(64 << 20),
            index: Vec::with_capacity(1 << 18),
        }
    }
}

impl MemoryStore {
    /// Every stored message, ascending by seq.
    pub fn sent(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.index.iter().map(|&(s, a, b)| (s, &self.bytes[a..b]))
    }
}

impl MessageStore for MemoryStore {
    fn seqs(&self) -> (u64, u64) {
        (self.next_out, self.next_in)
    }
    fn set_seqs(&mut self, next_out: u64, next_in: u64) {
        self.next_out = next_out;
        self.next_in = next_in;
    }
    fn put(&mut self, seq: u64, msg: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(msg);
        let entry = (seq, start, self.bytes.len());
        // Seqs only grow between resets; a rewrite of a seq replaces its entry.
        match self.index.last() {
            Some(&(last, _, _)) if last >= seq => match self.index.binary_search_by_key(&seq, |e| e.0) {
                Ok(i) => self.index[i] = entry,
                Err(i) => self.index.insert(i, entry),
            },
            _ => self.index.push(entry),
        }
    }
    fn get(&self, seq: u64) -> Option<&[u8]> {
        let i = self.index.binary_search_by_key(&seq, |e| e.0).ok()?;
        let (_, a, b) = self.index[i];
        Some(&self.bytes[a..b])
    }
    fn reset(&mut self) {
        self.next_out = 1;
        self.next_in = 1;
        self.bytes.clear();
        self.index.clear();
    }
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Connected, no Logon exchanged yet.
    AwaitingLogon,
    /// Logged on.
    Active,
    /// We sent a Logout and wait for the answer.
    LoggingOut,
    /// Over: the caller closes the connection.
    Disconnected,
}

/// What one inbound message came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// An application message, in sequence, for the caller (who has its bytes:
    /// the ones passed in, or those [`Session::next_queued`] returns with it).
    App,
    /// Handled by the session (or queued, or ignored as a duplicate).
    Session,
    /// Dropped as garbled (framing, BodyLength, CheckSum, field syntax); no
    /// answer, no sequence number used.
    Garbled(&'static str),
    /// A session-level Reject (35=3) of one of our messages, in sequence and
    /// counted: the caller may read what it names (RefSeqNum, RefMsgType) —
    /// an order the counterparty refused before its application saw it.
    SessionReject,
    /// An application message that failed the dictionary's checks: a session
    /// Reject answered it. Not to be acted on as valid; the caller may still
    /// read what it names (an execution report's ClOrdID, to ask the venue
    /// what it said).
    Refused,
    /// The session is over; close the connection. The reason, for the log.
    Disconnect(String),
}

/// BusinessRejectReason (380) values a venue answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BusinessReason {
    /// 0: Other.
    Other = 0,
    /// 1: Unknown ID.
    UnknownId = 1,
    /// 2: Unknown Security.
    UnknownSecurity = 2,
    /// 3: Unsupported Message Type.
    UnsupportedMessageType = 3,
    /// 4: Application not available.
    ApplicationNotAvailable = 4,
    /// 5: Conditionally required field missing.
    ConditionallyRequiredFieldMissing = 5,
}

impl BusinessReason {
    /// The standard text.
    pub fn text(self) -> &'static str {
        match self {
            BusinessReason::Other => "Other",
            BusinessReason::UnknownId => "Unknown ID",
            BusinessReason::UnknownSecurity => "Unknown Security",
            BusinessReason::UnsupportedMessageType => "Unsupported Message Type",
            BusinessReason::ApplicationNotAvailable => "Application not available",
            BusinessReason::ConditionallyRequiredFieldMissing => "Conditionally required field missing",
        }
    }
}

/// The header of a received message, as the rules read it.
#[derive(Clone, Debug, Default)]
struct Head {
    msg_type: Vec<u8>,
    begin: Vec<u8>,
    sender: Option<Vec<u8>>,
    target: Option<Vec<u8>>,
    seq: Option<u64>,
    seq_text: Vec<u8>,
    sending_time: Option<u64>,
    poss_dup: bool,
    orig_sending_time: Option<Option<u64>>,
    /// Routing fields to reverse on a reject: (tag, value).
    routing: Vec<(Tag, Vec<u8>)>,
}

/// The fields of a session message the rules read.
#[derive(Clone, Debug, Default)]
struct Body {
    test_req_id: Option<Vec<u8>>,
    heartbeat: Option<u64>,
    reset: bool,
    gap_fill: bool,
    new_seq: Option<u64>,
    begin_seq: Option<u64>,
    end_seq: Option<u64>,
    username: Option<Vec<u8>>,
    password: Option<Vec<u8>>,
}

/// Something the session did or decided that an operator may want to know
/// (for structured logs; never on the fast path of a report in sequence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// Both Logons exchanged (`reset`: with ResetSeqNumFlag).
    LoggedOn {
        /// Whether sequence numbers were reset.
        reset: bool,
    },
    /// A session Reject sent.
    RejectSent {
        /// RefSeqNum.
        ref_seq: u64,
        /// RefMsgType.
        ref_msg_type: String,
        /// The reason.
        reason: Reason,
        /// RefTagID.
        tag: Option<i64>,
    },
    /// A BusinessMessageReject sent.
    BusinessRejectSent {
        /// RefSeqNum.
        ref_seq: u64,
        /// RefMsgType.
        ref_msg_type: String,
        /// The reason.
        reason: BusinessReason,
    },
    /// A garbled message dropped.
    Garbled(&'static str),
    /// A gap seen: a ResendRequest sent for `from..` (the message that showed
    /// it had `received`).
    GapDetected {
        /// First number missing.
        from: u64,
        /// The number received.
        received: u64,
    },
    /// A ResendRequest answered, for `from..=to`.
    Resent {
        /// First number.
        from: u64,
        /// Last number.
        to: u64,
    },
    /// A SequenceReset moved the expected number to `new_seq`.
    SequenceReset {
        /// NewSeqNo.
        new_seq: u64,
        /// GapFill mode.
        gap_fill: bool,
    },
    /// A Logout sent.
    LogoutSent(String),
    /// A TestRequest sent (nothing received for a while).
    TestRequestSent,
    /// The session is over.
    Disconnected(String),
}

impl std::fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionEvent::LoggedOn { reset } => write!(f, "logged on{}", if *reset { " (sequence reset)" } else { "" }),
            SessionEvent::RejectSent {
                ref_seq,
                ref_msg_type,
                reason,
                tag,
            } => {
                write!(
                    f,
                    "Reject sent for {ref_msg_type:?} seq {ref_seq}: {} ({})",
                    reason.text(),
                    *reason as u8
                )?;
                match tag {
                    Some(t) => write!(f, ", tag {t}"),
                    None => Ok(()),
                }
            }
            SessionEvent::BusinessRejectSent {
                ref_seq,
                ref_msg_type,
                reason,
            } => {
                write!(
                    f,
                    "BusinessMessageReject sent for {ref_msg_type:?} seq {ref_seq}: {}",
                    reason.text()
                )
            }
            SessionEvent::Garbled(why) => write!(f, "garbled message dropped: {why}"),
            SessionEvent::GapDetected { from, received } => {
                write!(f, "gap: expected {from}, received {received}; ResendRequest sent")
            }
            SessionEvent::Resent { from, to } => write!(f, "resent {from}..={to} on request"),
            SessionEvent::SequenceReset { new_seq, gap_fill } => {
                write!(
                    f,
                    "SequenceReset{} to {new_seq}",
                    if *gap_fill { "-GapFill" } else { "" }
                )
            }
            SessionEvent::LogoutSent(t) if t.is_empty() => write!(f, "Logout sent"),
            SessionEvent::LogoutSent(t) => write!(f, "Logout sent: {t}"),
            SessionEvent::TestRequestSent => write!(f, "TestRequest sent"),
            SessionEvent::Disconnected(why) => write!(f, "disconnected: {why}"),
        }
    }
}

/// Events kept for the caller at most (beyond, they are counted, not kept).
const MAX_EVENTS: usize = 1024;

/// The session. See the module docs.
pub struct Session<S: MessageStore> {
    cfg: SessionSettings,
    role: Role,
    store: S,
    sent_logon: bool,
    received_logon: bool,
    sent_logout: bool,
    sent_reset: bool,
    received_reset: bool,
    disconnected: bool,
    test_request: u32,
    /// The range our outstanding ResendRequest asks for.
    resend_range: Option<(u64, u64)>,
    queued: BTreeMap<u64, Vec<u8>>,
    hb_ns: u64,
    last_sent: u64,
    last_recv: u64,
    scanner: ReportScanner,
    /// Whether the last message handed out as App was read by the scanner.
    scanned: bool,
    /// Space the messages sent are written in (kept: no allocation per message).
    scratch: Scratch,
    /// The acceptor's learned application-message layouts (its fast path).
    apps: AppLayouts,
    /// Whether the acceptor reads along them (off only to compare the paths).
    app_fast_path: bool,
    out: Vec<u8>,
    /// Why the session last ended, for the log.
    last_reason: Option<String>,
    events: Vec<SessionEvent>,
    events_lost: u64,
}

/// SendingTime and OrigSendingTime carry milliseconds.
const TS_DIGITS: u32 = 3;
/// The TestReqID of the session's own TestRequests.
pub const TEST_REQ_ID: &str = "TEST";

impl<S: MessageStore> Session<S> {
    /// A session in `role` over `store` (whose sequence numbers it resumes).
    pub fn new(cfg: SessionSettings, role: Role, store: S) -> Self {
        Session {
            hb_ns: cfg.heartbeat_s as u64 * 1_000_000_000,
            cfg,
            role,
            store,
            sent_logon: false,
            received_logon: false,
            sent_logout: false,
            sent_reset: false,
            received_reset: false,
            disconnected: false,
            test_request: 0,
            resend_range: None,
            queued: BTreeMap::new(),
            last_sent: 0,
            last_recv: 0,
            scanner: ReportScanner::new(),
            scanned: false,
            apps: AppLayouts::default(),
            scratch: Scratch::default(),
            app_fast_path: true,
            out: Vec::with_capacity(4096),
            last_reason: None,
            events: Vec::new(),
            events_lost: 0,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &SessionSettings {
        &self.cfg
    }

    /// Where the session is.
    pub fn status(&self) -> Status {
        if self.disconnected {
            Status::Disconnected
        } else if self.sent_logout {
            Status::LoggingOut
        } else if self.sent_logon && self.received_logon {
            Status::Active
        } else {
            Status::AwaitingLogon
        }
    }

    /// Whether both Logons were exchanged.
    pub fn is_logged_on(&self) -> bool {
        self.sent_logon && self.received_logon && !self.disconnected
    }

    /// Why the session last ended (a disconnect reason), if it did.
    pub fn last_reason(&self) -> Option<&str> {
        self.last_reason.as_deref()
    }

    /// The store (sequence numbers, sent messages).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (to rewind the expected number on a resume, say).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Next MsgSeqNum to send.
    pub fn next_out(&self) -> u64 {
        self.store.seqs().0
    }

    /// Next MsgSeqNum expected.
    pub fn next_in(&self) -> u64 {
        self.store.seqs().1
    }

    /// HeartBtInt in force, ns.
    pub fn heartbeat_ns(&self) -> u64 {
        self.hb_ns
    }

    /// Makes the session ready for a new connection: no Logon exchanged,
    /// nothing queued, no test request outstanding, the outbox emptied (what it
    /// held is in the store, to be resent on request). Sequence numbers carry on.
    pub fn reconnect(&mut self) {
        self.sent_logon = false;
        self.received_logon = false;
        self.sent_logout = false;
        self.sent_reset = false;
        self.received_reset = false;
        self.disconnected = false;
        self.test_request = 0;
        self.resend_range = None;
        self.queued.clear();
        self.out.clear();
    }

    /// Bytes to write to the connection; the caller drains them.
    pub fn outbox(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    fn event(&mut self, e: SessionEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(e);
        } else {
            self.events_lost += 1;
        }
    }

    /// The events since the last call, oldest first (see [`SessionEvent`]), and
    /// how many more there were than it keeps.
    pub fn take_events(&mut self) -> (Vec<SessionEvent>, u64) {
        (std::mem::take(&mut self.events), std::mem::take(&mut self.events_lost))
    }

    fn disconnect(&mut self, why: impl Into<String>) -> Inbound {
        let why = why.into();
        self.event(SessionEvent::Disconnected(why.clone()));
        self.disconnected = true;
        self.last_reason = Some(why.clone());
        Inbound::Disconnect(why)
    }

    fn incr_in(&mut self) {
        let (o, i) = self.store.seqs();
        self.store.set_seqs(o, i + 1);
    }

    /// Writes one message with the session's header fields and the extra
    /// `header` ones, at MsgSeqNum `seq`.
    fn build(&self, msg_type: &[u8], seq: u64, extra: &[(Tag, &[u8])], body: &[u8], now: u64) -> Vec<u8> {
        let mut m = Vec::with_capacity(288 + body.len());
        write_with_header(
            &self.cfg,
            &mut Scratch::default(),
            &mut m,
            msg_type,
            seq,
            extra,
            body,
            now,
        );
        m
    }

    /// Sends one message of `msg_type` with body `fields` (tag, value) and extra
    /// header fields `extra`, consuming a sequence number; application messages
    /// (any type not a session one) are stored for resend. Returns its seq.
    pub fn send_with(&mut self, msg_type: &[u8], extra: &[(Tag, &[u8])], fields: &[(Tag, &[u8])], now: u64) -> u64 {
        self.send_body(msg_type, extra, &message::body(fields), now)
    }

    /// Sends one message of `msg_type` with body `fields` (see [`send_with`](Self::send_with)).
    pub fn send(&mut self, msg_type: &str, fields: &[(Tag, &str)], now: u64) -> u64 {
        let f: Vec<(Tag, &[u8])> = fields.iter().map(|(t, v)| (*t, v.as_bytes())).collect();
        self.send_with(msg_type.as_bytes(), &[], &f, now)
    }

    /// Sends a message whose body (`tag=value|` fields, after MsgType) is
    /// written already — an echo, say — with extra header fields; application
    /// messages are stored for resend. Returns its seq.
    pub fn send_body(&mut self, msg_type: &[u8], extra: &[(Tag, &[u8])], body: &[u8], now: u64) -> u64 {
        let (seq, next_in) = self.store.seqs();
        // Written where it is sent from, with kept scratch space: no
        // allocation per message.
        let start = self.out.len();
        write_with_header(
            &self.cfg,
            &mut self.scratch,
            &mut self.out,
            msg_type,
            seq,
            extra,
            body,
            now,
        );
        if !mt::is_admin(msg_type) {
            self.store.put(seq, &self.out[start..]);
        }
        self.store.set_seqs(seq + 1, next_in);
        self.last_sent = now;
        seq
    }

    /// Records an application message encoded elsewhere (the engine's encoder,
    /// given [`next_out`](Self::next_out) as its MsgSeqNum) and queues it.
    pub fn sent_app(&mut self, msg: &[u8], now: u64) {
        let (seq, next_in) = self.store.seqs();
        self.store.put(seq, msg);
        self.store.set_seqs(seq + 1, next_in);
        self.out.extend_from_slice(msg);
        self.last_sent = now;
    }

    /// [`sent_app`](Self::sent_app) for a message that must not leave unless
    /// the store keeps it ([`MessageStore::keep`]): an order a restart must
    /// know of. `false` when the store could not keep it: nothing is sent and
    /// no sequence number is used.
    pub fn sent_app_kept(&mut self, msg: &[u8], now: u64) -> bool {
        let (seq, next_in) = self.store.seqs();
        if !self.store.keep(seq, msg) {
            return false;
        }
        self.store.set_seqs(seq + 1, next_in);
        self.out.extend_from_slice(msg);
        self.last_sent = now;
        true
    }

    /// Initiator: sends the Logon.
    pub fn start(&mut self, now: u64) {
        if self.cfg.reset_on_logon {
            self.store.reset();
            self.sent_reset = true;
        }
        let hb = self.cfg.heartbeat_s.to_string();
        let mut f: Vec<(Tag, &str)> = vec![(tags::ENCRYPT_METHOD, "0"), (tags::HEART_BT_INT, &hb)];
        if self.cfg.reset_on_logon {
            f.push((tags::RESET_SEQ_NUM_FLAG, "Y"));
        }
        let (u, p) = (self.cfg.username.clone(), self.cfg.password.clone());
        if let Some(u) = &u {
            f.push((tags::USERNAME, u));
        }
        if let Some(p) = &p {
            f.push((tags::PASSWORD, p));
        }
        self.send("A", &f, now);
        self.sent_logon = true;
        self.last_recv = now;
    }

    /// Starts a Logout (the caller then waits for the answer, or times out).
    pub fn logout(&mut self, text: &str, now: u64) {
        let f: Vec<(Tag, &str)> = if text.is_empty() {
            vec![]
        } else {
            vec![(tags::TEXT, text)]
        };
        self.send("5", &f, now);
        self.sent_logout = true;
        self.event(SessionEvent::LogoutSent(text.to_string()));
    }

    /// A Reject of the message `h` for `reason` (about `tag`, if given). Fails
    /// (sends nothing) before logon.
    fn reject(&mut self, h: &Head, reason: Reason, tag: Option<i64>, now: u64) -> Result<(), ()> {
        if !self.received_logon {
            return Err(());
        }
        let tag_text = tag.map(|t| t.to_string());
        let reason_code = (reason as u8).to_string();
        let mut body: Vec<(Tag, &[u8])> = Vec::with_capacity(5);
        if !h.seq_text.is_empty() {
            body.push((tags::REF_SEQ_NUM, &h.seq_text));
        }
        body.push((tags::TEXT, reason.text().as_bytes()));
        if let Some(t) = &tag_text {
            body.push((tags::REF_TAG_ID, t.as_bytes()));
        }
        if !h.msg_type.is_empty() {
            body.push((tags::REF_MSG_TYPE, &h.msg_type));
        }
        if reason.defined_in(&self.cfg.begin_string) {
            body.push((tags::SESSION_REJECT_REASON, reason_code.as_bytes()));
        }
        if h.msg_type.as_slice() != mt::LOGON
            && h.msg_type.as_slice() != mt::SEQUENCE_RESET
            && h.seq == Some(self.next_in())
        {
            self.incr_in();
        }
        let routing: Vec<(Tag, &[u8])> = h.routing.iter().map(|(t, v)| (*t, v.as_slice())).collect();
        self.send_with(mt::REJECT, &routing, &body, now);
        self.event(SessionEvent::RejectSent {
            ref_seq: h.seq.unwrap_or(0),
            ref_msg_type: String::from_utf8_lossy(&h.msg_type).into_owned(),
            reason,
            tag,
        });
        Ok(())
    }

    /// Answers the application message `raw` (just handed out as
    /// [`Inbound::App`]) with a BusinessMessageReject; `tag` is the field it is
    /// about, if any. Its sequence number was already taken.
    pub fn business_reject(&mut self, raw: &[u8], reason: BusinessReason, tag: Option<Tag>, now: u64) {
        let d = self.cfg.dictionary.clone();
        let Ok(p) = message::parse(raw, &d) else { return };
        let seq = p.header_field(tags::MSG_SEQ_NUM).unwrap_or(b"").to_vec();
        let text = match tag {
            Some(t) => format!("{} ({t})", reason.text()),
            None => reason.text().to_string(),
        };
        let code = (reason as u8).to_string();
        let body: Vec<(Tag, &[u8])> = vec![
            (tags::REF_SEQ_NUM, &seq),
            (tags::TEXT, text.as_bytes()),
            (tags::REF_MSG_TYPE, p.msg_type()),
            (tags::BUSINESS_REJECT_REASON, code.as_bytes()),
        ];
        self.send_with(mt::BUSINESS_MESSAGE_REJECT, &[], &body, now);
        self.event(SessionEvent::BusinessRejectSent {
            ref_seq: int(&seq).and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
            ref_msg_type: String::from_utf8_lossy(p.msg_type()).into_owned(),
            reason,
        });
    }

    /// Timers, on the caller's clock: heartbeats, test requests, the timeouts.
    pub fn on_timer(&mut self, now: u64) -> Option<Inbound> {
        if self.disconnected {
            return None;
        }
        let since = |t: u64| now.saturating_sub(t);
        if !self.received_logon {
            let limit = self.cfg.logon_timeout_s * 1_000_000_000;
            if self.sent_logon && since(self.last_recv) >= limit {
                return Some(self.disconnect("timed out waiting for the Logon answer"));
            }
            return None;
        }
        if self.hb_ns == 0 {
            return None;
        }
        if self.sent_logout && since(self.last_sent) >= self.cfg.logout_timeout_s * 1_000_000_000 {
            return Some(self.disconnect("timed out waiting for the Logout answer"));
        }
        let hb = self.hb_ns as f64;
        if (since(self.last_sent) as f64) < hb && (since(self.last_recv) as f64) < hb {
            return None;
        }
        if since(self.last_recv) as f64 >= 2.4 * hb {
            return Some(self.disconnect("heartbeat timeout: nothing received for 2.4 × HeartBtInt"));
        }
        if since(self.last_recv) as f64 >= 1.2 * (self.test_request as f64 + 1.0) * hb {
            self.send("1", &[(tags::TEST_REQ_ID, TEST_REQ_ID)], now);
            self.event(SessionEvent::TestRequestSent);
            self.test_request += 1;
        } else if since(self.last_sent) as f64 >= hb && self.test_request == 0 {
            self.send("0", &[], now);
        }
        None
    }

    /// Takes one framed message from the connection. Afterwards, call
    /// [`next_queued`](Self::next_queued) until it returns `None`: messages that
    /// arrived ahead of a gap are processed once it is filled.
    pub fn on_message(&mut self, raw: &[u8], now: u64) -> Inbound {
        self.scanned = false;
        if self.disconnected {
            return Inbound::Disconnect("session is over".into());
        }
        // The fast path checks the frame itself (first three fields,
        // BodyLength, CheckSum) as it reads along the layout.
        if self.role == Role::Initiator {
            if let Some(r) = self.fast_report(raw, now) {
                return r;
            }
        }
        if let Err(e) = check_frame(raw) {
            let why = match e {
                crate::framing::BadFrame::Header => "the first three fields are not BeginString, BodyLength, MsgType",
                crate::framing::BadFrame::BodyLength => "BodyLength does not end where CheckSum begins",
                crate::framing::BadFrame::CheckSum => "CheckSum is wrong",
            };
            return self.garbled(raw, why);
        }
        if self.role == Role::Acceptor && self.app_fast_path {
            if let Some(r) = self.fast_app(raw, now) {
                return r;
            }
        }
        self.process(raw, now)
    }

    /// Reads application messages along learned layouts (the default) or
    /// always by the general path (`false`): the two answer every message
    /// alike, which is what turning it off is for (tests, measurements).
    pub fn set_app_fast_path(&mut self, on: bool) {
        self.app_fast_path = on;
    }

    /// How many application-message layouts the acceptor has learned.
    pub fn app_layouts(&self) -> usize {
        self.apps.len()
    }

    /// The acceptor's fast path: an application message along a learned
    /// layout ([`AppLayouts`]), in sequence, from the session's CompIDs, in
    /// time. It skips steps 3–4 of the module docs — what they check is
    /// either the layout's (its tags passed them) or checked as the values
    /// are read — and the rules of step 5 that an ordinary message meets.
    /// Anything else takes the general path, which answers it.
    fn fast_app(&mut self, raw: &[u8], now: u64) -> Option<Inbound> {
        if self.received_reset || self.apps.is_empty() {
            return None;
        }
        let h = self.apps.follow(raw)?;
        if !self.in_sequence(&h, now) {
            return None;
        }
        self.take_in_sequence(now);
        Some(Inbound::App)
    }

    /// A garbled message: dropped; before logon (or a Logon) it ends the connection.
    fn garbled(&mut self, raw: &[u8], why: &'static str) -> Inbound {
        let is_logon = raw.windows(6).any(|w| w == b"\x0135=A\x01");
        if is_logon || !self.received_logon {
            return self.disconnect(format!("garbled message before logon: {why}"));
        }
        self.event(SessionEvent::Garbled(why));
        Inbound::Garbled(why)
    }

    /// The initiator's fast path: a report along a learned layout.
    fn fast_report(&mut self, raw: &[u8], now: u64) -> Option<Inbound> {
        // (The scanner's answer borrows it: the session's state is read first.)
        let live = self.is_logged_on() && !self.sent_logout;
        let expected = self.next_in();
        let r = self.scanner.follow(raw)?;
        let soh = crate::decode::find_soh(raw)?;
        let h = HeaderValues {
            begin: raw.get(2..soh)?,
            seq: r.get(tags::MSG_SEQ_NUM).unwrap_or_default(),
            sender: r.get(tags::SENDER_COMP_ID).unwrap_or_default(),
            target: r.get(tags::TARGET_COMP_ID).unwrap_or_default(),
            sending_time: r.get(tags::SENDING_TIME).unwrap_or_default(),
        };
        // Anything out of the ordinary takes the general path, which answers it.
        if !live || r.get(tags::POSS_DUP_FLAG).is_some() || !ordinary(&self.cfg, expected, &h, now) {
            return None;
        }
        self.take_in_sequence(now);
        self.scanned = true;
        Some(Inbound::App)
    }

    /// Whether a message with header values `h` is an ordinary application
    /// message in sequence as the general path judges one (`verify`, and the
    /// identity and BeginString checks before it): logged on and not logging
    /// out, the session's CompIDs and BeginString, MsgSeqNum — read as the
    /// general path reads it — the expected one, SendingTime in time. Both
    /// fast paths ask this, so neither can take what the general path would
    /// answer otherwise.
    fn in_sequence(&self, h: &HeaderValues, now: u64) -> bool {
        self.is_logged_on() && !self.sent_logout && ordinary(&self.cfg, self.next_in(), h, now)
    }

    /// Takes an ordinary message in sequence: what `verify` and `process` do
    /// for one (a satisfied resend range cleared, the line alive, the number
    /// counted).
    fn take_in_sequence(&mut self, now: u64) {
        let expected = self.next_in();
        if let Some((_, end)) = self.resend_range {
            if expected >= end {
                self.resend_range = None;
            }
        }
        self.last_recv = now;
        self.test_request = 0;
        self.incr_in();
    }

    /// The fields of the application message [`on_message`](Self::on_message) or
    /// [`next_queued`](Self::next_queued) just returned [`Inbound::App`] for, given
    /// its bytes `raw`, if the session read it with the one-pass report scanner
    /// (an ExecutionReport or OrderCancelReject): the caller needs no second
    /// decode. `None` for other messages; decode those with a
    /// [`FixDecoder`](crate::decode::FixDecoder).
    pub fn report<'a>(&'a self, raw: &'a [u8]) -> Option<Report<'a>> {
        if self.scanned {
            self.scanner.last(raw)
        } else {
            None
        }
    }

    /// The next queued message now in sequence, processed, with its bytes.
    pub fn next_queued(&mut self, now: u64) -> Option<(Inbound, Vec<u8>)> {
        if self.disconnected {
            return None;
        }
        loop {
            let next = self.next_in();
            // Anything queued below the expected number was filled by a gap fill.
            while let Some((&seq, _)) = self.queued.iter().next() {
                if seq >= next {
                    break;
                }
                self.queued.remove(&seq);
            }
            let (&seq, _) = self.queued.iter().next()?;
            if seq != next {
                return None;
            }
            let m = self.queued.remove(&seq)?;
            // A queued Logon or ResendRequest only takes its number.
            let t = type_of(&m);
            if t == mt::LOGON || t == mt::RESEND_REQUEST {
                self.incr_in();
                continue;
            }
            self.scanned = false;
            let r = self.process(&m, now);
            return Some((r, m));
        }
    }

    /// Steps 3–5 of the module docs for one well-framed message.
    fn process(&mut self, raw: &[u8], now: u64) -> Inbound {
        let d = self.cfg.dictionary.clone();
        let p = match message::parse(raw, &d) {
            Ok(p) => p,
            Err(_) => return self.garbled(raw, "a field is not tag=value"),
        };
        let h = head(&p);
        let msg_type = h.msg_type.clone();
        let is_app = !mt::is_admin(&msg_type);
        // SenderCompID and TargetCompID must be there before anything else.
        for t in [tags::SENDER_COMP_ID, tags::TARGET_COMP_ID] {
            if p.header_field(t).is_none() {
                if is_app {
                    self.incr_in();
                    self.business_reject(raw, BusinessReason::ConditionallyRequiredFieldMissing, Some(t), now);
                    return Inbound::Session;
                }
                if self
                    .reject(&h, Reason::RequiredTagMissing, Some(t as i64), now)
                    .is_err()
                    || msg_type == mt::LOGON
                {
                    return self.disconnect("Logon without SenderCompID or TargetCompID");
                }
                return Inbound::Session;
            }
        }
        if h.begin != self.cfg.begin_string.as_bytes() {
            if msg_type == mt::LOGOUT {
                return self.on_logout(raw, &h, now);
            }
            if !self.received_logon {
                return self.disconnect("wrong BeginString before logon");
            }
            self.logout("Incorrect BeginString", now);
            self.incr_in();
            return Inbound::Session;
        }
        if let Err(Violation { reason, tag }) = validate(&p, &d, &self.cfg.validation) {
            if msg_type == mt::LOGON && !self.received_logon {
                return self.disconnect(format!("invalid Logon: {} ({:?})", reason.text(), tag));
            }
            let _ = self.reject(&h, reason, tag, now);
            return if is_app { Inbound::Refused } else { Inbound::Session };
        }
        let b = session_body(&p);
        match msg_type.as_slice() {
            mt::LOGON => self.on_logon(raw, &h, &b, now),
            mt::HEARTBEAT => {
                if self.verify(raw, &h, true, true, now) {
                    self.incr_in();
                }
                self.after_verify()
            }
            mt::TEST_REQUEST => {
                if self.verify(raw, &h, true, true, now) {
                    let id = b.test_req_id.clone().unwrap_or_default();
                    let f: Vec<(Tag, &[u8])> = if b.test_req_id.is_some() {
                        vec![(tags::TEST_REQ_ID, &id)]
                    } else {
                        vec![]
                    };
                    self.send_with(mt::HEARTBEAT, &[], &f, now);
                    self.incr_in();
                }
                self.after_verify()
            }
            mt::SEQUENCE_RESET => self.on_sequence_reset(raw, &h, &b, now),
            mt::LOGOUT => self.on_logout(raw, &h, now),
            mt::RESEND_REQUEST => self.on_resend_request(raw, &h, &b, now),
            mt::REJECT => {
                if !self.verify(raw, &h, false, true, now) {
                    return self.after_verify();
                }
                self.incr_in();
                match self.after_verify() {
                    Inbound::Session => Inbound::SessionReject,
                    other => other,
                }
            }
            _ => {
                if !self.verify(raw, &h, true, true, now) {
                    return self.after_verify();
                }
                self.incr_in();
                // A report that passed every check teaches the scanner its layout;
                // any other application message, the acceptor's layouts.
                if self.role == Role::Initiator && matches!(msg_type.as_slice(), b"8" | b"9") {
                    self.scanned = self.scanner.scan(raw).is_some();
                } else if self.role == Role::Acceptor {
                    self.apps.learn(raw, &p, &d);
                }
                Inbound::App
            }
        }
    }

    fn after_verify(&mut self) -> Inbound {
        if self.disconnected {
            Inbound::Disconnect(self.last_reason.clone().unwrap_or_default())
        } else {
            Inbound::Session
        }
    }

    /// Whether the message may be processed now (QuickFIX's `verify`): logon
    /// state, SendingTime, CompIDs, and the sequence (too high: queued with a
    /// ResendRequest; too low: PossDup handling or Logout). Clears a satisfied
    /// resend range and marks the line alive.
    fn verify(&mut self, raw: &[u8], h: &Head, too_high: bool, too_low: bool, now: u64) -> bool {
        let logon = h.msg_type.as_slice() == mt::LOGON;
        let state_ok = (logon && self.sent_reset)
            || self.received_reset
            || (logon && !self.received_logon)
            || (!logon && self.received_logon)
            || (h.msg_type.as_slice() == mt::LOGOUT && self.sent_logon)
            || (h.msg_type.as_slice() != mt::LOGOUT && self.sent_logout)
            || h.msg_type.as_slice() == mt::SEQUENCE_RESET
            || h.msg_type.as_slice() == mt::REJECT;
        if !state_ok {
            self.disconnect(if logon {
                "Logon while already logged on".to_string()
            } else {
                format!(
                    "first message is {:?}, not a Logon",
                    String::from_utf8_lossy(&h.msg_type)
                )
            });
            return false;
        }
        let good_time = !self.cfg.check_latency
            || h.sending_time
                .is_some_and(|t| t.abs_diff(now) <= self.cfg.max_latency_s * 1_000_000_000);
        if !good_time {
            if self.reject(h, Reason::SendingTimeAccuracyProblem, None, now).is_err() {
                self.disconnect("Logon with SendingTime out of range");
                return false;
            }
            self.logout("", now);
            return false;
        }
        let ids_ok = h.sender.as_deref() == Some(self.cfg.target.as_bytes())
            && h.target.as_deref() == Some(self.cfg.sender.as_bytes());
        if !ids_ok {
            if self.reject(h, Reason::CompIdProblem, None, now).is_err() {
                self.disconnect("Logon with the wrong CompIDs");
                return false;
            }
            self.logout("", now);
            return false;
        }
        let expected = self.next_in();
        let seq = h.seq.unwrap_or(0);
        if too_high && seq > expected {
            self.target_too_high(raw, seq, now);
            return false;
        }
        if too_low && seq < expected {
            if !h.poss_dup {
                let why = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
                self.logout(&why, now);
                self.disconnect(why);
                return false;
            }
            if h.msg_type.as_slice() != mt::SEQUENCE_RESET {
                match h.orig_sending_time {
                    None => {
                        let _ = self.reject(h, Reason::RequiredTagMissing, Some(tags::ORIG_SENDING_TIME as i64), now);
                    }
                    Some(orig) if orig.zip(h.sending_time).is_some_and(|(o, s)| o > s) => {
                        let _ = self.reject(h, Reason::SendingTimeAccuracyProblem, None, now);
                        self.logout("", now);
                    }
                    _ => {}
                }
            }
            return false;
        }
        if too_high || too_low {
            if let Some((_, end)) = self.resend_range {
                if seq >= end {
                    self.resend_range = None;
                }
            }
        }
        self.last_recv = now;
        self.test_request = 0;
        true
    }

    /// A message ahead of the expected number: queued, and a ResendRequest for
    /// the gap unless one already covers it.
    fn target_too_high(&mut self, raw: &[u8], seq: u64, now: u64) {
        self.queued.entry(seq).or_insert_with(|| raw.to_vec());
        if let Some((begin, _)) = self.resend_range {
            if seq >= begin {
                return;
            }
        }
        let expected = self.next_in();
        let b = expected.to_string();
        self.send("2", &[(tags::BEGIN_SEQ_NO, &b), (tags::END_SEQ_NO, "0")], now);
        self.resend_range = Some((expected, seq - 1));
        self.event(SessionEvent::GapDetected {
            from: expected,
            received: seq,
        });
    }

    fn on_logon(&mut self, raw: &[u8], h: &Head, b: &Body, now: u64) -> Inbound {
        self.received_reset = b.reset;
        if b.reset && !self.sent_reset {
            self.store.reset();
        }
        if self.role == Role::Initiator && !self.sent_logon && !b.reset {
            return self.disconnect("Logon answer before our Logon");
        }
        if self.role == Role::Acceptor && self.cfg.reset_on_logon {
            self.store.reset();
        }
        if self.role == Role::Acceptor {
            let want_u = self.cfg.username.as_ref().map(|s| s.as_bytes().to_vec());
            let want_p = self.cfg.password.as_ref().map(|s| s.as_bytes().to_vec());
            if (want_u.is_some() && want_u != b.username) || (want_p.is_some() && want_p != b.password) {
                return self.disconnect("invalid Username/Password");
            }
        }
        if !self.verify(raw, h, false, true, now) {
            return self.after_verify();
        }
        self.received_logon = true;
        if self.role == Role::Acceptor || (self.received_reset && !self.sent_reset) {
            let hb = b.heartbeat.unwrap_or(self.cfg.heartbeat_s as u64);
            self.hb_ns = hb * 1_000_000_000;
            let hbs = hb.to_string();
            let mut f: Vec<(Tag, &str)> = vec![(tags::ENCRYPT_METHOD, "0"), (tags::HEART_BT_INT, &hbs)];
            if self.received_reset {
                f.push((tags::RESET_SEQ_NUM_FLAG, "Y"));
            }
            self.send("A", &f, now);
            self.sent_logon = true;
            self.last_recv = now;
            self.test_request = 0;
        }
        self.sent_reset = false;
        self.received_reset = false;
        self.event(SessionEvent::LoggedOn { reset: b.reset });
        let seq = h.seq.unwrap_or(0);
        if seq > self.next_in() && !b.reset {
            self.target_too_high(raw, seq, now);
        } else {
            self.incr_in();
        }
        Inbound::Session
    }

    fn on_logout(&mut self, raw: &[u8], h: &Head, now: u64) -> Inbound {
        if !self.verify(raw, h, false, false, now) {
            return self.after_verify();
        }
        let answered = self.sent_logout;
        if !answered {
            self.logout("", now);
        }
        self.incr_in();
        self.disconnect(if answered { LOGGED_OUT } else { PEER_LOGGED_OUT })
    }

    fn on_sequence_reset(&mut self, raw: &[u8], h: &Head, b: &Body, now: u64) -> Inbound {
        if !self.verify(raw, h, b.gap_fill, b.gap_fill, now) {
            return self.after_verify();
        }
        if let Some(n) = b.new_seq {
            let expected = self.next_in();
            if n != expected {
                self.event(SessionEvent::SequenceReset {
                    new_seq: n,
                    gap_fill: b.gap_fill,
                });
            }
            if n > expected {
                let (o, _) = self.store.seqs();
                self.store.set_seqs(o, n);
                if b.gap_fill {
                    self.queued.retain(|&s, _| s >= n);
                }
            } else if n < expected {
                let _ = self.reject(h, Reason::ValueIsIncorrect, None, now);
            }
        }
        Inbound::Session
    }

    fn on_resend_request(&mut self, raw: &[u8], h: &Head, b: &Body, now: u64) -> Inbound {
        if !self.verify(raw, h, false, false, now) {
            return self.after_verify();
        }
        let next_out = self.next_out();
        let begin = b.begin_seq.unwrap_or(1).max(1);
        let mut end = b.end_seq.unwrap_or(0);
        if end == 0 || end >= next_out {
            end = next_out - 1;
        }
        self.resend(begin, end, now);
        self.event(SessionEvent::Resent { from: begin, to: end });
        let seq = h.seq.unwrap_or(0);
        if seq == self.next_in() {
            self.incr_in();
        }
        Inbound::Session
    }

    /// Answers a ResendRequest for `begin..=end`: stored application messages
    /// again, each run of others as one SequenceReset-GapFill.
    fn resend(&mut self, begin: u64, end: u64, now: u64) {
        let mut gap: Option<u64> = None;
        let mut seq = begin;
        while seq <= end {
            match self.store.get(seq).map(<[u8]>::to_vec) {
                Some(orig) => {
                    if let Some(g) = gap.take() {
                        self.gap_fill(g, seq, now);
                    }
                    self.resend_one(&orig, now);
                }
                None => {
                    gap.get_or_insert(seq);
                }
            }
            seq += 1;
        }
        if let Some(g) = gap {
            self.gap_fill(g, end + 1, now);
        } else if end < begin {
            // Nothing sent in the range yet: fill to where we are.
            let next = self.next_out();
            if begin <= next {
                self.gap_fill(begin, next, now);
            }
        }
        self.last_sent = now;
    }

    fn gap_fill(&mut self, at: u64, new_seq: u64, now: u64) {
        let ts = utc_timestamp(now, TS_DIGITS);
        let n = new_seq.to_string();
        let m = self.build(
            mt::SEQUENCE_RESET,
            at,
            &[(tags::POSS_DUP_FLAG, b"Y"), (tags::ORIG_SENDING_TIME, ts.as_bytes())],
            &message::body(&[(tags::NEW_SEQ_NO, n.as_bytes()), (tags::GAP_FILL_FLAG, b"Y")]),
            now,
        );
        self.out.extend_from_slice(&m);
        self.last_sent = now;
    }

    /// Sends a stored message again with PossDupFlag=Y, OrigSendingTime (its
    /// SendingTime) and a new SendingTime; its other fields as they were.
    fn resend_one(&mut self, orig: &[u8], now: u64) {
        let d = self.cfg.dictionary.clone();
        let Ok(p) = message::parse(orig, &d) else { return };
        let seq = p.header_field(tags::MSG_SEQ_NUM).unwrap_or(b"0").to_vec();
        let sent = p.header_field(tags::SENDING_TIME).unwrap_or(b"").to_vec();
        let mut extra = p.kept_header();
        extra.push((tags::POSS_DUP_FLAG, b"Y"));
        extra.push((tags::ORIG_SENDING_TIME, &sent));
        let mut body = Vec::new();
        p.body_text(&d, &mut body);
        let seq = int(&seq).unwrap_or(0).max(0) as u64;
        let m = self.build(p.msg_type(), seq, &extra, &body, now);
        self.out.extend_from_slice(&m);
    }
}

/// The MsgType of a framed message (its third field).
fn type_of(m: &[u8]) -> &[u8] {
    crate::framing::msg_type(m).unwrap_or(b"")
}

/// The rules of [`Session::in_sequence`] that read the message: the session's
/// CompIDs and BeginString, MsgSeqNum `expected` (read with [`int`], as the
/// general path reads it), SendingTime within `max_latency_s` of `now`.
fn ordinary(cfg: &SessionSettings, expected: u64, h: &HeaderValues, now: u64) -> bool {
    h.sender == cfg.target.as_bytes()
        && h.target == cfg.sender.as_bytes()
        && h.begin == cfg.begin_string.as_bytes()
        && int(h.seq).and_then(|v| u64::try_from(v).ok()) == Some(expected)
        && (!cfg.check_latency
            || parse_utc_timestamp(h.sending_time)
                .is_some_and(|t| t.abs_diff(now) <= cfg.max_latency_s * 1_000_000_000))
}

/// What writing a message needs besides its destination: the fields after
/// BodyLength, and the text of MsgSeqNum and SendingTime.
#[derive(Default)]
struct Scratch {
    rest: Vec<u8>,
    values: Vec<u8>,
}

/// Appends one message with the session's header fields (MsgSeqNum `seq`,
/// the CompIDs, SendingTime `now`) and the `extra` ones to `out`.
#[allow(clippy::too_many_arguments)]
fn write_with_header(
    cfg: &SessionSettings,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    msg_type: &[u8],
    seq: u64,
    extra: &[(Tag, &[u8])],
    body: &[u8],
    now: u64,
) {
    let Scratch { rest, values } = scratch;
    values.clear();
    foxtrot_engine::format::decimal::push_uint(values, seq);
    let seq_len = values.len();
    foxtrot_engine::format::calendar::push_utc_timestamp(values, now, TS_DIGITS);
    let (seq, ts) = values.split_at(seq_len);
    let mut fixed: [(Tag, &[u8]); 4] = [
        (tags::MSG_SEQ_NUM, seq),
        (tags::SENDER_COMP_ID, cfg.sender.as_bytes()),
        (tags::SENDING_TIME, ts),
        (tags::TARGET_COMP_ID, cfg.target.as_bytes()),
    ];
    if extra.is_empty() {
        message::write_message_into(out, rest, &cfg.begin_string, msg_type, &mut fixed, body);
    } else {
        let mut h = fixed.to_vec();
        h.extend_from_slice(extra);
        message::write_message_into(out, rest, &cfg.begin_string, msg_type, &mut h, body);
    }
}

fn head(p: &Parsed) -> Head {
    let get = |t: Tag| p.header_field(t);
    let seq_text = get(tags::MSG_SEQ_NUM).unwrap_or(b"").to_vec();
    let mut routing = Vec::new();
    // OnBehalfOf ↔ DeliverTo, each only if it has a value.
    for (from, to) in [
        (tags::ON_BEHALF_OF_COMP_ID, tags::DELIVER_TO_COMP_ID),
        (tags::ON_BEHALF_OF_SUB_ID, tags::DELIVER_TO_SUB_ID),
        (tags::ON_BEHALF_OF_LOCATION_ID, tags::DELIVER_TO_LOCATION_ID),
        (tags::DELIVER_TO_COMP_ID, tags::ON_BEHALF_OF_COMP_ID),
        (tags::DELIVER_TO_SUB_ID, tags::ON_BEHALF_OF_SUB_ID),
        (tags::DELIVER_TO_LOCATION_ID, tags::ON_BEHALF_OF_LOCATION_ID),
    ] {
        if let Some(v) = get(from).filter(|v| !v.is_empty()) {
            routing.push((to, v.to_vec()));
        }
    }
    Head {
        msg_type: p.msg_type().to_vec(),
        begin: get(tags::BEGIN_STRING).unwrap_or(b"").to_vec(),
        sender: get(tags::SENDER_COMP_ID).map(<[u8]>::to_vec),
        target: get(tags::TARGET_COMP_ID).map(<[u8]>::to_vec),
        seq: int(&seq_text).and_then(|v| u64::try_from(v).ok()),
        seq_text,
        sending_time: get(tags::SENDING_TIME).and_then(parse_utc_timestamp),
        poss_dup: get(tags::POSS_DUP_FLAG) == Some(b"Y"),
        orig_sending_time: get(tags::ORIG_SENDING_TIME).map(parse_utc_timestamp),
        routing,
    }
}

fn session_body(p: &Parsed) -> Body {
    let get = |t: Tag| p.body_field(t);
    let num = |t: Tag| get(t).and_then(int).and_then(|v| u64::try_from(v).ok());
    Body {
        test_req_id: get(tags::TEST_REQ_ID).map(<[u8]>::to_vec),
        heartbeat: num(tags::HEART_BT_INT),
        reset: get(tags::RESET_SEQ_NUM_FLAG) == Some(b"Y"),
        gap_fill: get(tags::GAP_FILL_FLAG) == Some(b"Y"),
        new_seq: num(tags::NEW_SEQ_NO),
        begin_seq: num(tags::BEGIN_SEQ_NO),
        end_seq: num(tags::END_SEQ_NO),
        username: get(tags::USERNAME).map(<[u8]>::to_vec),
        password: get(tags::PASSWORD).map(<[u8]>::to_vec),
    }
}

/// The [`Inbound::Disconnect`] reason when the session ended by a Logout we sent first.
pub const LOGGED_OUT: &str = "logged out";
/// The same, for a Logout the peer sent first.
pub const PEER_LOGGED_OUT: &str = "peer logged out";

/// Whether a disconnect reason says the session ended by a Logout (rather than a
/// lost connection, a timeout or a sequence problem).
pub fn is_logout(why: &str) -> bool {
    why == LOGGED_OUT || why == PEER_LOGGED_OUT
}

/// Whether a MsgType is a session-level one (not stored for resend).
pub fn is_session_type(t: &[u8]) -> bool {
    mt::is_admin(t)
}
