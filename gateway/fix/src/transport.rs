//! Non-blocking TCP for FIX sessions, through `mio`.
//!
//! A [`Connection`] owns one socket (with `TCP_NODELAY`, and `SO_BUSY_POLL` when
//! asked and permitted), a receive buffer that reassembles messages from partial
//! reads, and a send buffer that absorbs partial writes: [`Connection::flush`]
//! writes what the kernel takes now and keeps the rest for the next writable
//! event, so a slow peer fills our buffer (up to a cap, past which the connection
//! is dropped) and never blocks the thread that drives it.
//!
//! [`Backoff`] is the initiator's reconnect schedule on the caller's clock:
//! 100 ms doubling to 5 s, reset by a successful logon.
//!
//! [`Link`] joins a connection and a [`Session`]: bytes in, messages through the
//! session, its outbox out; application messages are handed to the caller.

use super::framing::split_frames_counting;
use super::message_log::{Direction, MessageLog};
use super::session::{Inbound, MessageStore, Session};
use mio::net::TcpStream;
use std::io::{ErrorKind, Read, Write};

/// Send-buffer bytes beyond which the peer is too slow and the connection is
/// dropped (a session resend recovers what it did not take).
pub const MAX_PENDING: usize = 16 << 20;

/// One non-blocking FIX connection.
pub struct Connection {
    stream: TcpStream,
    rx: Vec<u8>,
    rx_len: usize,
    tx: Vec<u8>,
    tx_at: usize,
    log: Option<MessageLog>,
    /// Bytes read that were no message (skipped by the framing).
    skipped: u64,
}

impl Connection {
    /// Wraps a connected (or connecting) stream: `TCP_NODELAY` on, and busy
    /// polling as configured — an error naming the option if the kernel
    /// refuses it (raising it needs `CAP_NET_ADMIN`), never silently ignored.
    pub fn new(stream: TcpStream, busy_poll: Option<foxtrot_net::BusyPoll>) -> std::io::Result<Self> {
        stream.set_nodelay(true)?;
        if let Some(bp) = busy_poll {
            use std::os::fd::AsRawFd;
            bp.apply(stream.as_raw_fd())
                .map_err(|e| std::io::Error::other(format!("busy polling: {e}")))?;
        }
        Ok(Connection {
            stream,
            rx: vec![0; 64 << 10],
            rx_len: 0,
            tx: Vec::with_capacity(64 << 10),
            tx_at: 0,
            log: None,
            skipped: 0,
        })
    }

    /// Logs every message read and queued from now on to `log` (see
    /// [`MessageLog`]); returns the log it had.
    pub fn set_log(&mut self, log: Option<MessageLog>) -> Option<MessageLog> {
        std::mem::replace(&mut self.log, log)
    }

    /// Takes the message log back (to keep it across connections).
    pub fn take_log(&mut self) -> Option<MessageLog> {
        self.log.take()
    }

    /// The stream, to register with a `mio::Poll`.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Reads what is available, calling `f` with each complete message
    /// (frames already buffered first); a partial message stays buffered.
    /// `Ok(false)` when the peer closed the connection.
    pub fn read(&mut self, mut f: impl FnMut(&[u8])) -> std::io::Result<bool> {
        self.split(&mut f);
        loop {
            match self.read_some()? {
                Some(0) => return Ok(false),
                Some(_) => self.split(&mut f),
                None => return Ok(true),
            }
        }
    }

    /// Reads what is available into the buffer without handing anything out
    /// (to look at the first message with [`first_frame`](Self::first_frame)
    /// before a session takes the connection). `Ok(false)` when the peer closed it.
    pub fn fill(&mut self) -> std::io::Result<bool> {
        loop {
            match self.read_some()? {
                Some(0) => return Ok(false),
                Some(_) => {}
                None => return Ok(true),
            }
        }
    }

    /// The first complete message in the buffer (garbage before it skipped),
    /// left there for [`read`](Self::read).
    pub fn first_frame(&self) -> Option<&[u8]> {
        let buf = &self.rx[..self.rx_len];
        let mut at = 0;
        loop {
            match super::framing::next_frame(&buf[at..]) {
                super::framing::Frame::Message(n) => return Some(&buf[at..at + n]),
                super::framing::Frame::Skip(n) => at += n,
                super::framing::Frame::Incomplete => return None,
            }
        }
    }

    /// One `read` into the buffer: `Some(n)` bytes (0: closed), `None` when
    /// nothing is available.
    fn read_some(&mut self) -> std::io::Result<Option<usize>> {
        if self.rx_len == self.rx.len() {
            if self.rx.len() >= super::decode::MAX_BODY * 2 {
                return Err(std::io::Error::new(
                    ErrorKind::InvalidData,
                    "no FIX message fits the buffer",
                ));
            }
            self.rx.resize(self.rx.len() * 2, 0);
        }
        loop {
            match self.stream.read(&mut self.rx[self.rx_len..]) {
                Ok(n) => {
                    self.rx_len += n;
                    return Ok(Some(n));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands the buffered complete messages to `f` (logging each) and keeps
    /// the rest.
    fn split(&mut self, f: &mut impl FnMut(&[u8])) {
        if self.rx_len == 0 {
            return;
        }
        let log = &mut self.log;
        let (used, skipped) = split_frames_counting(&self.rx[..self.rx_len], |m| {
            if let Some(l) = log {
                l.record(Direction::In, wall_ns(), m);
            }
            f(m)
        });
        self.skipped += skipped as u64;
        self.rx.copy_within(used..self.rx_len, 0);
        self.rx_len -= used;
    }

    /// Bytes read so far that were no FIX message (skipped by the framing:
    /// garbage between messages, a BodyLength beyond the largest frame).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Queues bytes to send (then call [`flush`](Self::flush)).
    pub fn queue(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.tx.len() - self.tx_at + bytes.len() > MAX_PENDING {
            return Err(std::io::Error::new(
                ErrorKind::WouldBlock,
                "peer too slow: send buffer full",
            ));
        }
        if let (Some(l), false) = (&mut self.log, bytes.is_empty()) {
            l.record(Direction::Out, wall_ns(), bytes);
        }
        self.tx.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes as much of the queue as the kernel takes now. `Ok(true)` when
    /// everything went.
    pub fn flush(&mut self) -> std::io::Result<bool> {
        while self.tx_at < self.tx.len() {
            match self.stream.write(&self.tx[self.tx_at..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.tx_at += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if self.tx_at == self.tx.len() {
            self.tx.clear();
            self.tx_at = 0;
            return Ok(true);
        }
        // Keep the buffer from growing without bound at the front.
        if self.tx_at > (1 << 20) {
            self.tx.drain(..self.tx_at);
            self.tx_at = 0;
        }
        Ok(false)
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.tx.len() - self.tx_at
    }
}

/// The wall clock, ns since the epoch: SendingTime and session timers are the
/// gateway's business, never the core's (which reads no clock).
pub fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The initiator's reconnect schedule: 100 ms doubling to 5 s.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    next_at: u64,
    delay: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next_at: 0,
            delay: 100_000_000,
        }
    }
}

impl Backoff {
    /// Whether a connection attempt is due at `now`.
    pub fn due(&self, now: u64) -> bool {
        now >= self.next_at
    }

    /// An attempt failed (or a connection dropped) at `now`: the next waits longer.
    pub fn failed(&mut self, now: u64) {
        self.next_at = now + self.delay;
        self.delay = (self.delay * 2).min(5_000_000_000);
    }

    /// A logon succeeded: the next failure starts from the shortest delay again.
    pub fn succeeded(&mut self) {
        *self = Backoff::default();
    }

    /// The delay the next failure will impose, ns.
    pub fn delay(&self) -> u64 {
        self.delay
    }
}

/// A connection driven by a session.
pub struct Link<S: MessageStore> {
    /// The connection.
    pub conn: Connection,
    /// The session.
    pub session: Session<S>,
}

impl<S: MessageStore> Link<S> {
    /// Joins them.
    pub fn new(conn: Connection, session: Session<S>) -> Self {
        Link { conn, session }
    }

    /// Reads what arrived and runs it through the session; see [`pump`].
    pub fn poll(&mut self, now: u64, app: impl FnMut(&[u8], &mut Session<S>)) -> Result<(), String> {
        pump(&mut self.conn, &mut self.session, now, app)
    }

    /// Moves the session's outbox to the connection; see [`flush`].
    pub fn flush_outbox(&mut self) -> Result<(), String> {
        flush(&mut self.conn, &mut self.session)
    }
}

/// Reads what arrived on `conn` and runs it through `session`, calling `app`
/// with each application message in sequence, as it comes (its bytes, and the
/// session: to answer it, or to read the fields the report scanner found, see
/// [`Session::report`]); runs the session's timers; then
/// sends what the session queued. `Err` with the reason when the connection or
/// the session is over. (Free-standing, so a caller that keeps its session
/// across connections — a venue, the engine's link — needs no [`Link`].)
pub fn pump<S: MessageStore>(
    conn: &mut Connection,
    session: &mut Session<S>,
    now: u64,
    mut app: impl FnMut(&[u8], &mut Session<S>),
) -> Result<(), String> {
    pump_all(conn, session, now, |bytes, session, kind| {
        if *kind == Inbound::App {
            app(bytes, session)
        }
    })
}

/// [`pump`], also passing `app` the application messages the session refused
/// ([`Inbound::Refused`]: a session Reject answered them) and the session
/// Rejects the counterparty sent ([`Inbound::SessionReject`]), each with what
/// it is.
pub fn pump_all<S: MessageStore>(
    conn: &mut Connection,
    session: &mut Session<S>,
    now: u64,
    mut app: impl FnMut(&[u8], &mut Session<S>, &Inbound),
) -> Result<(), String> {
    let mut over: Option<String> = None;
    let open = conn
        .read(|m| {
            if over.is_some() {
                return;
            }
            let mut handle = |r: Inbound, bytes: &[u8], session: &mut Session<S>| match r {
                Inbound::App | Inbound::Refused | Inbound::SessionReject => app(bytes, session, &r),
                Inbound::Disconnect(why) => over = Some(why),
                Inbound::Session | Inbound::Garbled(_) => {}
            };
            let r = session.on_message(m, now);
            handle(r, m, session);
            while let Some((q, bytes)) = session.next_queued(now) {
                handle(q, &bytes, session);
            }
        })
        .map_err(|e| format!("read: {e}"))?;
    if let Some(Inbound::Disconnect(why)) = session.on_timer(now) {
        over.get_or_insert(why);
    }
    flush(conn, session)?;
    if let Some(why) = over {
        return Err(why);
    }
    if !open {
        return Err("peer closed the connection".into());
    }
    Ok(())
}

/// Moves the session's outbox to the connection (its buffer is kept, so this
/// allocates nothing) and writes what the kernel takes now.
pub fn flush<S: MessageStore>(conn: &mut Connection, session: &mut Session<S>) -> Result<(), String> {
    let out = session.outbox();
    conn.queue(out).map_err(|e| e.to_string())?;
    out.clear();
    conn.flush().map_err(|e| format!("write: {e}"))?;
    Ok(())
}
