//! The FIX session layer, one state machine for both roles, with no I/O and no
//! clock: bytes and times go in, messages to send and application messages come
//! out. The transport (TCP) and the timers' clock belong to the caller, so the
//! same code runs in the engine (initiator), the simulated venue (acceptor) and
//! the tests.
//!
//! ## Rules implemented
//! - **Logon** (`A`): the initiator sends HeartBtInt (108), ResetSeqNumFlag (141) if
//!   configured, Username/Password (553/554) if configured; the acceptor checks
//!   CompIDs and credentials, adopts the peer's HeartBtInt, resets both sequence
//!   numbers when asked, and answers with a Logon. Before logon, anything else ends
//!   the connection.
//! - **MsgSeqNum** (34): equal to the next expected — processed; higher — a
//!   ResendRequest (`2`) for the gap, once, and the message is queued until the gap
//!   is filled; lower without PossDupFlag (43=Y) — Logout with the reason, then
//!   disconnect; lower with PossDupFlag — ignored as already seen (a PossDup without
//!   OrigSendingTime (122) is rejected).
//! - **ResendRequest** from the peer: the application messages of the range are
//!   sent again from the outbound store with PossDupFlag=Y and OrigSendingTime; the
//!   session messages in it are replaced by SequenceReset-GapFill (`4`, 123=Y).
//! - **SequenceReset**: GapFill moves the expected number forward (backwards is a
//!   Reject); Reset (123=N) sets it regardless of MsgSeqNum.
//! - **Heartbeat / TestRequest**: a Heartbeat (`0`) when nothing was sent for
//!   HeartBtInt; a TestRequest (`1`) when nothing was received for HeartBtInt plus a
//!   fifth; disconnect when the TestRequest is not answered within another
//!   HeartBtInt. A TestRequest from the peer is answered with its TestReqID.
//! - **Reject** (`3`, RefSeqNum 45, RefTagID 371, SessionRejectReason 373, Text 58):
//!   for a wrong CompID (then Logout), a missing required tag, a value of the wrong
//!   format. A garbled message (bad BeginString, BodyLength or CheckSum) is
//!   dropped without a reply and without consuming a sequence number.
//! - **Logout** (`5`): answered with a Logout, then disconnect.
//!
//! Sequence numbers and sent application messages live in a [`MessageStore`];
//! [`MemoryStore`] keeps them in memory, a journal-backed store makes a restarted
//! process resume its session.

use super::app::parse_utc_timestamp;
use super::decode::{frame_len, FixDecoder, FixError, SOH};
use super::fields::Fields;
use super::report::{Report, ReportScanner};
use foxtrot_engine::format::calendar::utc_timestamp;
use std::collections::BTreeMap;

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
    /// Ask for both sequence numbers to restart at 1 on logon.
    pub reset_on_logon: bool,
    /// Username (553) to send, or to require from the peer.
    pub username: Option<String>,
    /// Password (554) to send, or to require from the peer. Never logged.
    pub password: Option<String>,
}

impl SessionSettings {
    /// The session a config's `session` section describes, seen from `role`: the
    /// initiator (the engine) uses its CompIDs as written, the acceptor (the
    /// venue) swaps them and requires the configured credentials. HeartBtInt
    /// defaults to 30 s; no reset on logon (sessions resume from their stores).
    pub fn from_config(s: &foxtrot_engine::config::SessionConfig, role: Role) -> Self {
        let (sender, target) = match role {
            Role::Initiator => (&s.sender_comp_id, &s.target_comp_id),
            Role::Acceptor => (&s.target_comp_id, &s.sender_comp_id),
        };
        SessionSettings {
            begin_string: s.begin_string.clone(),
            sender: sender.clone(),
            target: target.clone(),
            heartbeat_s: s.heartbeat_s.unwrap_or(30),
            reset_on_logon: false,
            username: s.username.clone(),
            password: s.password.as_ref().map(|p| p.expose().to_string()),
        }
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
    /// Connected, no Logon yet.
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
    /// The message is an application message, in sequence, for the caller (who
    /// has its bytes: the ones passed in, or those [`Session::next_queued`]
    /// returns with it). Nothing is copied on this path.
    App,
    /// Handled by the session (or queued, or ignored as a duplicate).
    Session,
    /// Dropped as garbled (framing or checksum); no reply, no sequence number used.
    Garbled(FixError),
    /// The session is over; close the connection. The reason, for the log.
    Disconnect(String),
}

/// The session. See the module docs.
pub struct Session<S: MessageStore> {
    cfg: SessionSettings,
    role: Role,
    status: Status,
    store: S,
    hb_ns: u64,
    last_sent: u64,
    last_recv: u64,
    test_req: Option<(u64, u64)>,
    test_req_id: u64,
    /// Highest seq a ResendRequest we sent covers (0: none outstanding).
    resend_upto: u64,
    queued: BTreeMap<u64, Vec<u8>>,
    dec: FixDecoder,
    scanner: ReportScanner,
    /// Whether the last message checked was an application message read by
    /// the scanner (whose slots then describe it).
    scanned: bool,
    out: Vec<u8>,
}

/// SendingTime and OrigSendingTime carry milliseconds, as most counterparties expect.
const TS_DIGITS: u32 = 3;

impl<S: MessageStore> Session<S> {
    /// A session in `role` over `store` (whose sequence numbers it resumes).
    pub fn new(cfg: SessionSettings, role: Role, store: S) -> Self {
        Session {
            hb_ns: cfg.heartbeat_s.max(1) as u64 * 1_000_000_000,
            cfg,
            role,
            status: Status::AwaitingLogon,
            store,
            last_sent: 0,
            last_recv: 0,
            test_req: None,
            test_req_id: 0,
            resend_upto: 0,
            queued: BTreeMap::new(),
            dec: FixDecoder::new(),
            scanner: ReportScanner::new(),
            scanned: false,
            out: Vec::with_capacity(4096),
        }
    }

    /// Where the session is.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The store (sequence numbers, sent messages).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Next MsgSeqNum to send.
    pub fn next_out(&self) -> u64 {
        self.store.seqs().0
    }

    /// Next MsgSeqNum expected.
    pub fn next_in(&self) -> u64 {
        self.store.seqs().1
    }

    /// The store, mutably (to rewind the expected number on a resume, say).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Makes the session ready for a new connection: status back to awaiting a
    /// Logon, nothing queued, no test request outstanding, the outbox emptied
    /// (what it held is in the store, to be resent on request). Sequence numbers
    /// carry on.
    pub fn reconnect(&mut self) {
        self.status = Status::AwaitingLogon;
        self.queued.clear();
        self.resend_upto = 0;
        self.test_req = None;
        self.out.clear();
    }

    /// Bytes to write to the connection; the caller drains them.
    pub fn outbox(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Builds and queues one message of `msg_type` with `fields`, consuming a
    /// sequence number; application messages (any type not a session one) are
    /// stored for resend. Returns its seq.
    pub fn send(&mut self, msg_type: &str, fields: &[(u32, &str)], now: u64) -> u64 {
        let (seq, next_in) = self.store.seqs();
        let m = self.build(msg_type, seq, fields, now, None);
        if !is_session_type(msg_type.as_bytes()) {
            self.store.put(seq, &m);
        }
        self.store.set_seqs(seq + 1, next_in);
        self.out.extend_from_slice(&m);
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

    fn build(&self, msg_type: &str, seq: u64, fields: &[(u32, &str)], now: u64, orig: Option<&str>) -> Vec<u8> {
        let mut body = format!(
            "35={msg_type}\x0134={seq}\x0149={}\x0152={}\x0156={}\x01",
            self.cfg.sender,
            utc_timestamp(now, TS_DIGITS),
            self.cfg.target
        );
        if let Some(o) = orig {
            body.push_str(&format!("43=Y\x01122={o}\x01"));
        }
        for (t, v) in fields {
            body.push_str(&format!("{t}={v}\x01"));
        }
        let mut m = format!("8={}\x019={}\x01{body}", self.cfg.begin_string, body.len()).into_bytes();
        let sum = m.iter().fold(0u32, |a, &c| a + c as u32) % 256;
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    /// Initiator: sends the Logon.
    pub fn start(&mut self, now: u64) {
        if self.cfg.reset_on_logon {
            self.store.reset();
        }
        let hb = self.cfg.heartbeat_s.to_string();
        let mut f: Vec<(u32, &str)> = vec![(98, "0"), (108, &hb)];
        if self.cfg.reset_on_logon {
            f.push((141, "Y"));
        }
        let (u, p) = (self.cfg.username.clone(), self.cfg.password.clone());
        if let Some(u) = &u {
            f.push((553, u));
        }
        if let Some(p) = &p {
            f.push((554, p));
        }
        self.send("A", &f, now);
        self.last_recv = now;
    }

    /// Starts a Logout (the caller then waits for the answer, or times out).
    pub fn logout(&mut self, text: &str, now: u64) {
        self.send("5", &[(58, text)], now);
        self.status = Status::LoggingOut;
    }

    fn disconnect(&mut self, why: String) -> Inbound {
        self.status = Status::Disconnected;
        Inbound::Disconnect(why)
    }

    fn reject(&mut self, ref_seq: u64, tag: Option<u32>, reason: u32, text: &str, now: u64) {
        let (rs, rt, rr) = (ref_seq.to_string(), tag.map(|t| t.to_string()), reason.to_string());
        let mut f: Vec<(u32, &str)> = vec![(45, &rs)];
        if let Some(t) = &rt {
            f.push((371, t));
        }
        f.push((373, &rr));
        f.push((58, text));
        self.send("3", &f, now);
    }

    /// Timers, on the caller's clock: heartbeats, test requests, the timeout.
    pub fn on_timer(&mut self, now: u64) -> Option<Inbound> {
        if self.status != Status::Active {
            return None;
        }
        if let Some((_, sent)) = self.test_req {
            if now.saturating_sub(sent) >= self.hb_ns {
                return Some(self.disconnect("heartbeat timeout: TestRequest not answered".into()));
            }
        } else if now.saturating_sub(self.last_recv) >= self.hb_ns + self.hb_ns / 5 {
            self.test_req_id += 1;
            let id = format!("TEST{}", self.test_req_id);
            self.send("1", &[(112, &id)], now);
            self.test_req = Some((self.test_req_id, now));
        }
        if now.saturating_sub(self.last_sent) >= self.hb_ns {
            self.send("0", &[], now);
        }
        None
    }

    /// Takes one framed message from the connection. Afterwards, call
    /// [`next_queued`](Self::next_queued) until it returns `None`: messages that
    /// arrived ahead of a gap are processed once it is filled.
    pub fn on_message(&mut self, raw: &[u8], now: u64) -> Inbound {
        if self.status == Status::Disconnected {
            return Inbound::Disconnect("session is over".into());
        }
        self.check(raw, now)
    }

    /// The fields of the application message [`on_message`](Self::on_message) or
    /// [`next_queued`](Self::next_queued) just returned [`Inbound::App`] for, given
    /// its bytes `raw`, if the session read it with the one-pass report scanner
    /// (an ExecutionReport or OrderCancelReject): the caller needs no second
    /// decode. `None` for other messages; decode those with a [`FixDecoder`].
    pub fn report<'a>(&'a self, raw: &'a [u8]) -> Option<Report<'a>> {
        if self.scanned {
            self.scanner.last(raw)
        } else {
            None
        }
    }

    /// The next queued message now in sequence, processed, with its bytes.
    pub fn next_queued(&mut self, now: u64) -> Option<(Inbound, Vec<u8>)> {
        if self.status == Status::Disconnected {
            return None;
        }
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
        let r = self.check(&m, now);
        Some((r, m))
    }

    fn check(&mut self, raw: &[u8], now: u64) -> Inbound {
        self.scanned = false;
        // Reports take the one-pass scanner; anything it does not accept (other
        // messages, and malformed ones, whose errors the full decoder names)
        // the full decoder.
        let h = match self.scanner.scan(raw) {
            Some(r) => Head::read(&r, &self.cfg),
            None => match self.dec.decode(raw) {
                Ok(m) => Head::read(&m, &self.cfg),
                Err(e) if e.is_garbled() => return Inbound::Garbled(e),
                Err(e) => {
                    // Well framed but malformed: reject by seq if we can read it.
                    let seq = find_seq(raw).unwrap_or(0);
                    let (o, i) = self.store.seqs();
                    if seq == i {
                        self.store.set_seqs(o, i + 1);
                    }
                    self.reject(seq, e.tag(), 0, &e.to_string(), now);
                    return Inbound::Session;
                }
            },
        };
        let r = self.rules(h, raw, now);
        self.scanned = r == Inbound::App && self.scanner.last(raw).is_some();
        r
    }

    /// The session rules for one message that decoded.
    fn rules(&mut self, h: Head, raw: &[u8], now: u64) -> Inbound {
        self.last_recv = now;
        let Head {
            msg_type,
            mt_len,
            sender_ok,
            target_ok,
            seq,
            poss_dup,
            orig_ok,
            gap_fill,
            new_seq,
            hb,
            reset,
            user,
            pass,
            test_id,
            rb,
            re,
        } = h;
        let Some(seq) = seq else {
            return self.disconnect("message without a valid MsgSeqNum (34)".into());
        };
        let msg_type = &msg_type[..mt_len];

        // CompIDs: theirs is our target, ours is their target.
        if !sender_ok || !target_ok {
            self.reject(seq, Some(if sender_ok { 56 } else { 49 }), 9, "CompID problem", now);
            self.logout("CompID problem", now);
            return self.disconnect("wrong SenderCompID or TargetCompID".into());
        }
        if self.status == Status::AwaitingLogon {
            if msg_type != b"A" {
                return self.disconnect(format!(
                    "first message is {:?}, not a Logon",
                    String::from_utf8_lossy(msg_type)
                ));
            }
            return self.on_logon(seq, hb, reset, user, pass, now);
        }
        // SequenceReset-Reset ignores MsgSeqNum.
        if msg_type == b"4" && !gap_fill {
            let (o, i) = self.store.seqs();
            match new_seq {
                Some(n) if n >= i => self.store.set_seqs(o, n),
                _ => self.reject(seq, Some(36), 5, "NewSeqNo lower than expected", now),
            }
            return Inbound::Session;
        }
        let (o, expected) = self.store.seqs();
        if seq < expected {
            if poss_dup {
                if !orig_ok {
                    self.reject(seq, Some(122), 1, "PossDupFlag without OrigSendingTime", now);
                }
                return Inbound::Session;
            }
            let why = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            self.logout(&why, now);
            return self.disconnect(why);
        }
        if seq > expected {
            if msg_type == b"5" {
                // A Logout out of sequence still ends the session.
                self.send("5", &[], now);
                return self.disconnect(PEER_LOGGED_OUT.into());
            }
            self.queued.entry(seq).or_insert_with(|| raw.to_vec());
            if self.resend_upto < expected {
                self.send("2", &[(7, &expected.to_string()), (16, "0")], now);
                self.resend_upto = seq;
            }
            return Inbound::Session;
        }
        // In sequence.
        self.store.set_seqs(o, expected + 1);
        if self.resend_upto != 0 && expected >= self.resend_upto && self.queued.is_empty() {
            self.resend_upto = 0;
        }
        match msg_type {
            b"0" => {
                if let (Some(id), Some((pending, _))) = (&test_id, self.test_req) {
                    if id == format!("TEST{pending}").as_bytes() {
                        self.test_req = None;
                    }
                }
                // Any heartbeat proves the line is alive.
                if test_id.is_none() {
                    self.test_req = None;
                }
                Inbound::Session
            }
            b"1" => {
                let id = String::from_utf8_lossy(test_id.as_deref().unwrap_or(b"")).into_owned();
                self.send("0", &[(112, &id)], now);
                Inbound::Session
            }
            b"2" => {
                self.resend(rb.unwrap_or(1), re.unwrap_or(0), now);
                Inbound::Session
            }
            b"3" => Inbound::Session,
            b"4" => {
                let (o, i) = self.store.seqs();
                match new_seq {
                    Some(n) if n >= i => self.store.set_seqs(o, n),
                    _ => self.reject(seq, Some(36), 5, "GapFill NewSeqNo not ahead", now),
                }
                Inbound::Session
            }
            b"5" => {
                if self.status != Status::LoggingOut {
                    self.send("5", &[], now);
                }
                self.disconnect(LOGGED_OUT.into())
            }
            b"A" => {
                self.reject(seq, Some(35), 11, "Logon when already logged on", now);
                Inbound::Session
            }
            _ => Inbound::App,
        }
    }

    fn on_logon(
        &mut self,
        seq: u64,
        hb: Option<u64>,
        reset: bool,
        user: Option<Vec<u8>>,
        pass: Option<Vec<u8>>,
        now: u64,
    ) -> Inbound {
        let Some(hb) = hb else {
            self.logout("Logon without HeartBtInt (108)", now);
            return self.disconnect("Logon without HeartBtInt".into());
        };
        if self.role == Role::Acceptor {
            let want_u = self.cfg.username.as_ref().map(|s| s.as_bytes().to_vec());
            let want_p = self.cfg.password.as_ref().map(|s| s.as_bytes().to_vec());
            if (want_u.is_some() && want_u != user) || (want_p.is_some() && want_p != pass) {
                self.logout("invalid credentials", now);
                return self.disconnect("invalid Username/Password".into());
            }
            if reset {
                self.store.reset();
            }
            self.hb_ns = hb.max(1) * 1_000_000_000;
        }
        let expected = if reset { 1 } else { self.next_in() };
        if seq < expected {
            let why = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            self.logout(&why, now);
            return self.disconnect(why);
        }
        if self.role == Role::Acceptor {
            let hbs = hb.to_string();
            let mut f: Vec<(u32, &str)> = vec![(98, "0"), (108, &hbs)];
            if reset {
                f.push((141, "Y"));
            }
            self.send("A", &f, now);
        }
        self.status = Status::Active;
        let (o, _) = self.store.seqs();
        if seq > expected {
            // Logged on, but messages are missing before the Logon: ask for them
            // (the peer gap-fills its Logon too).
            self.store.set_seqs(o, expected);
            self.send("2", &[(7, &expected.to_string()), (16, "0")], now);
            self.resend_upto = seq;
        } else {
            self.store.set_seqs(o, seq + 1);
        }
        Inbound::Session
    }

    /// Answers a ResendRequest for `begin..=end` (0: up to the last sent).
    fn resend(&mut self, begin: u64, end: u64, now: u64) {
        let (next_out, _) = self.store.seqs();
        let last = if end == 0 || end >= next_out { next_out - 1 } else { end };
        let mut seq = begin.max(1);
        let mut gap_start: Option<u64> = None;
        while seq <= last {
            match self.store.get(seq).map(<[u8]>::to_vec) {
                Some(orig) => {
                    if let Some(g) = gap_start.take() {
                        self.gap_fill(g, seq, now);
                    }
                    self.resend_one(&orig, now);
                }
                None => {
                    gap_start.get_or_insert(seq);
                }
            }
            seq += 1;
        }
        if let Some(g) = gap_start {
            self.gap_fill(g, last + 1, now);
        }
        self.last_sent = now;
    }

    fn gap_fill(&mut self, at: u64, new_seq: u64, now: u64) {
        let m = self.build(
            "4",
            at,
            &[(123, "Y"), (36, &new_seq.to_string())],
            now,
            Some(&utc_timestamp(now, TS_DIGITS)),
        );
        self.out.extend_from_slice(&m);
    }

    /// Sends a stored message again with PossDupFlag=Y and OrigSendingTime.
    fn resend_one(&mut self, orig: &[u8], now: u64) {
        let mut dec = FixDecoder::new();
        let Ok(m) = dec.decode(orig) else { return };
        let seq = m.u64(34).ok().flatten().unwrap_or(0);
        let sent = String::from_utf8_lossy(m.get(52).unwrap_or(b"")).into_owned();
        let mt = String::from_utf8_lossy(m.msg_type()).into_owned();
        let skip = [8u32, 9, 35, 34, 49, 52, 56, 43, 122, 97, 10];
        let fields: Vec<(u32, String)> = m
            .fields()
            .filter(|(t, _)| !skip.contains(t))
            .map(|(t, v)| (t, String::from_utf8_lossy(v).into_owned()))
            .collect();
        let refs: Vec<(u32, &str)> = fields.iter().map(|(t, v)| (*t, v.as_str())).collect();
        let out = self.build(&mt, seq, &refs, now, Some(&sent));
        self.out.extend_from_slice(&out);
    }
}

/// What the session rules read from a message, copied out of it so the message
/// (borrowed from a decoder) is released before the rules change the session.
/// Only session messages (rare) copy any bytes, so application messages
/// allocate nothing.
struct Head {
    msg_type: [u8; 8],
    mt_len: usize,
    sender_ok: bool,
    target_ok: bool,
    seq: Option<u64>,
    poss_dup: bool,
    orig_ok: bool,
    gap_fill: bool,
    new_seq: Option<u64>,
    hb: Option<u64>,
    reset: bool,
    user: Option<Vec<u8>>,
    pass: Option<Vec<u8>>,
    test_id: Option<Vec<u8>>,
    rb: Option<u64>,
    re: Option<u64>,
}

impl Head {
    #[inline]
    fn read<'a>(m: &impl Fields<'a>, cfg: &SessionSettings) -> Head {
        let mut msg_type = [0u8; 8];
        let mt_len = m.msg_type().len().min(8);
        msg_type[..mt_len].copy_from_slice(&m.msg_type()[..mt_len]);
        let is_app = !is_session_type(m.msg_type());
        let owned = |t: u32| if is_app { None } else { m.get(t).map(<[u8]>::to_vec) };
        Head {
            msg_type,
            mt_len,
            // CompIDs: theirs is our target, ours is their target.
            sender_ok: m.get(49) == Some(cfg.target.as_bytes()),
            target_ok: m.get(56) == Some(cfg.sender.as_bytes()),
            seq: m.u64(34).ok().flatten(),
            poss_dup: m.get(43) == Some(b"Y"),
            orig_ok: m.get(122).is_some_and(|t| parse_utc_timestamp(t).is_some()),
            gap_fill: m.get(123) == Some(b"Y"),
            new_seq: m.u64(36).ok().flatten(),
            hb: m.u64(108).ok().flatten(),
            reset: m.get(141) == Some(b"Y"),
            user: owned(553),
            pass: owned(554),
            test_id: owned(112),
            rb: m.u64(7).ok().flatten(),
            re: m.u64(16).ok().flatten(),
        }
    }
}

/// The [`Inbound::Disconnect`] reason when the session ended by a Logout.
pub const LOGGED_OUT: &str = "logged out";
/// The same, for a Logout that arrived out of sequence.
pub const PEER_LOGGED_OUT: &str = "peer logged out";

/// Whether a disconnect reason says the session ended by a Logout (rather than a
/// lost connection, a timeout or a sequence problem).
pub fn is_logout(why: &str) -> bool {
    why == LOGGED_OUT || why == PEER_LOGGED_OUT
}

/// Whether a MsgType is a session-level one (not stored for resend).
pub fn is_session_type(t: &[u8]) -> bool {
    matches!(t, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
}

fn find_seq(raw: &[u8]) -> Option<u64> {
    let i = raw.windows(4).position(|w| w == b"\x0134=")?;
    let rest = &raw[i + 4..];
    let end = rest.iter().position(|&c| c == SOH)?;
    super::decode::parse_u64(&rest[..end])
}

/// Splits the complete messages off the front of `buf` (a connection's receive
/// buffer), calling `f` with each; garbage before a message is skipped to the
/// next `8=`. Returns how many bytes were consumed.
pub fn split_messages(buf: &[u8], mut f: impl FnMut(&[u8])) -> usize {
    let mut at = 0;
    while at < buf.len() {
        match frame_len(&buf[at..]) {
            Ok(Some(n)) => {
                f(&buf[at..at + n]);
                at += n;
            }
            Ok(None) => break,
            Err(_) => {
                // Resynchronise on the next BeginString.
                match buf[at + 1..].windows(2).position(|w| w == b"8=") {
                    Some(p) => at += 1 + p,
                    None => return buf.len(),
                }
            }
        }
    }
    at
}
