//! Feed transports behind one trait: an ITCH file (as fast as possible, or paced
//! by its timestamps), MoldUDP64 over UDP (unicast or multicast, through `mio`),
//! and the shared-memory ring a feed-handler process fills for the engine.
//!
//! Every transport yields the same things ([`Next`]): normalised market-data
//! events, data-quality findings (a MoldUDP64 gap, an undecodable message, an
//! order-level inconsistency), `Idle` when nothing is ready yet (a live transport
//! never blocks inside `next`; [`Feed::wait`] parks until something may be), and
//! `End`.
//!
//! ## The ring record
//! Between `foxtrot feed` and its consumer each record is 9 words (72 bytes):
//! word 0 is a tag — 1: a [`MarketData`] in words 1..9; 2: a [`DqEvent`] in words
//! 1..5; 3: end of feed — and the rest the record's bytes (little-endian, as in
//! memory). The ring's slots are 10 words: the commit word and these 9.

use crate::itch::mold::{MoldEvent, Sequencer, MAX_PACKET};
use crate::itch::{self, Frames, Framing, Normaliser, Subscription};
use foxtrot_engine::records::MarketData;
use foxtrot_engine::records::{DqCode, DqEvent};
use foxtrot_net::{Datagrams, KernelUdp};
use foxtrot_shm::{ShmConsumer, ShmProducer, ShmRing};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What a feed yields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// A market-data event.
    Event(MarketData),
    /// A data-quality finding.
    Quality(DqEvent),
    /// Nothing ready now; ask again (after [`Feed::wait`]).
    Idle,
    /// The feed is over.
    End,
}

/// A source of normalised market data. See the module docs.
pub trait Feed {
    /// The next item; never blocks.
    fn next(&mut self) -> Next;
    /// Waits up to `timeout` for the feed to have something (default: sleeps).
    fn wait(&mut self, timeout: Duration) {
        std::thread::sleep(timeout.min(Duration::from_micros(50)));
    }
    /// The socket the feed receives on, if it has one (for socket options
    /// such as busy polling).
    fn socket(&self) -> Option<std::os::fd::RawFd> {
        None
    }
    /// Whether a gap is being recovered (requested, not yet filled nor given
    /// up): a consumer ending its session waits for this to clear rather than
    /// declare the gap lost early.
    fn recovering(&self) -> bool {
        false
    }
    /// What a network feed receives through (the kernel's UDP socket, or
    /// AF_XDP and its mode); `None` for files and rings.
    fn receive_path(&self) -> Option<String> {
        None
    }
    /// The receive path's counters (AF_XDP's), for a summary.
    fn receive_counters(&self) -> String {
        String::new()
    }
}

impl<F: Feed + ?Sized> Feed for Box<F> {
    fn next(&mut self) -> Next {
        (**self).next()
    }
    fn wait(&mut self, timeout: Duration) {
        (**self).wait(timeout)
    }
    fn socket(&self) -> Option<std::os::fd::RawFd> {
        (**self).socket()
    }
    fn recovering(&self) -> bool {
        (**self).recovering()
    }
    fn receive_path(&self) -> Option<String> {
        (**self).receive_path()
    }
    fn receive_counters(&self) -> String {
        (**self).receive_counters()
    }
}

/// Words per ring record (tag + a `MarketData`).
pub const RING_RECORD_WORDS: usize = 9;
/// Slot size of a feed ring: the commit word and a record.
pub const RING_SLOT_WORDS: usize = RING_RECORD_WORDS + 1;
const TAG_MD: u64 = 1;
const TAG_DQ: u64 = 2;
const TAG_END: u64 = 3;

/// Normalised ITCH, queued: the shared part of the ITCH transports.
struct ItchStage {
    norm: Normaliser,
    q: VecDeque<Next>,
}

impl ItchStage {
    fn new(sub: Subscription, max_live: usize, date_ns: u64) -> Self {
        ItchStage {
            norm: Normaliser::new(sub, max_live, date_ns),
            q: VecDeque::with_capacity(64),
        }
    }

    /// Decodes and normalises one message; `at` places it in errors.
    fn message(&mut self, raw: &[u8], at: i64) {
        match itch::decode(raw) {
            Ok(m) => {
                let q = &mut self.q;
                if let Err(issue) = self.norm.on_message(&m, &mut |md| q.push_back(Next::Event(*md))) {
                    // Placed by message number, for lack of a time.
                    let n = self.norm.stats().messages as i64;
                    self.q.push_back(Next::Quality(issue.finding(n)));
                }
            }
            Err(_) => self
                .q
                .push_back(Next::Quality(DqEvent::new(DqCode::Decode, u32::MAX, 0, at, 0))),
        }
    }
}

/// An ITCH file, read into memory (framing detected), optionally paced.
pub struct ItchFileFeed {
    bytes: super::mapped::MappedFile,
    pos: usize,
    framing: Framing,
    stage: ItchStage,
    pace: Option<(f64, Instant, u64)>,
    speed: Option<f64>,
    failed: bool,
}

impl ItchFileFeed {
    /// Maps `path`. `speed`: `None` as fast as possible, `Some(x)` at x times the
    /// pace of the file's timestamps; `framing`: `None` detects it.
    pub fn open(
        path: &std::path::Path,
        sub: Subscription,
        date_ns: u64,
        speed: Option<f64>,
        framing: Option<Framing>,
    ) -> std::io::Result<Self> {
        let bytes = super::mapped::MappedFile::open(path)?;
        let framing = framing.unwrap_or_else(|| itch::detect(&bytes));
        Ok(ItchFileFeed {
            bytes,
            pos: 0,
            framing,
            stage: ItchStage::new(sub, 1 << 22, date_ns),
            pace: None,
            speed,
            failed: false,
        })
    }

    /// The normaliser (symbols, counters).
    pub fn normaliser(&self) -> &Normaliser {
        &self.stage.norm
    }
}

impl Feed for ItchFileFeed {
    fn next(&mut self) -> Next {
        loop {
            if let Some(n) = self.stage.q.front().copied() {
                if let (Next::Event(md), Some(speed)) = (n, self.speed) {
                    let (s, start, t0) = *self.pace.get_or_insert((speed, Instant::now(), md.header.ts_ns));
                    let due = Duration::from_nanos((md.header.ts_ns.saturating_sub(t0) as f64 / s) as u64);
                    if start.elapsed() < due {
                        return Next::Idle;
                    }
                }
                self.stage.q.pop_front();
                return n;
            }
            if self.failed || self.pos >= self.bytes.len() {
                return Next::End;
            }
            let mut frames = Frames::new(&self.bytes[self.pos..], self.framing);
            match frames.next() {
                Some(Ok((_, raw))) => {
                    let at = self.pos as i64;
                    let len = raw.len() + self.framing.prefix_len();
                    self.pos += len;
                    self.stage.message(raw, at);
                }
                Some(Err(e)) => {
                    // A framing error loses the thread of the file: report and stop.
                    self.failed = true;
                    let at = self.pos as i64 + e.offset() as i64;
                    self.stage
                        .q
                        .push_back(Next::Quality(DqEvent::new(DqCode::Decode, u32::MAX, 0, at, 0)));
                }
                None => self.pos = self.bytes.len(),
            }
        }
    }

    fn wait(&mut self, timeout: Duration) {
        std::thread::sleep(timeout.min(Duration::from_micros(20)));
    }
}

/// MoldUDP64 over UDP: datagrams through a [`Sequencer`] (reordering window, gap
/// reports), then ITCH decoding and normalisation.
pub struct MoldUdpFeed {
    net: Box<dyn Datagrams>,
    seq: Sequencer,
    stage: ItchStage,
    buf: Box<[u8; MAX_PACKET]>,
    ended: bool,
    /// The publisher's retransmission server, if gaps are to be recovered.
    retransmit: Option<std::net::SocketAddr>,
    /// Since when a gap is being waited for, how many requests went out, and the
    /// next sequence number then (progress restarts the wait).
    waiting: Option<(Instant, u32, u64)>,
    /// Retransmission requests sent.
    pub requests: u64,
    /// Since when packets of another session have been arriving, and the
    /// followed session's packet count then (any packet of its since means it
    /// is alive).
    other_since: Option<(Instant, u64)>,
    /// Messages delivered before the session followed now.
    messages_before: u64,
}

/// The finding of messages `first .. first + count` lost.
fn gap(first: u64, count: u64) -> Next {
    Next::Quality(DqEvent::new(DqCode::Gap, u32::MAX, 0, first as i64, count as i64))
}

/// How long a gap is waited for before it is declared lost.
const RECOVERY_TIMEOUT: Duration = Duration::from_millis(1000);
/// How often a request is repeated while waiting.
const REQUEST_EVERY: Duration = Duration::from_millis(250);
/// How long the followed session must be silent, while another one speaks,
/// before the feed moves to the other: two of a MoldUDP64 publisher's idle
/// heartbeat intervals (one second), so a live publisher is never left.
pub const SESSION_SILENCE: Duration = Duration::from_secs(2);

impl MoldUdpFeed {
    /// Listens on `addr` (for a multicast group, binds its port on all interfaces
    /// and joins it), expecting sequence number 1 first. With `retransmit` (the
    /// publisher's retransmission server), a gap is asked for again and waited
    /// for — what is still missing asked for again as each answer arrives (a
    /// server answers a request with one packet), the request repeated every
    /// 250 ms while none does — up to a second without progress before it is
    /// declared lost.
    pub fn bind(
        addr: std::net::SocketAddr,
        sub: Subscription,
        date_ns: u64,
        window: usize,
        retransmit: Option<std::net::SocketAddr>,
    ) -> std::io::Result<Self> {
        Ok(Self::over(
            Box::new(KernelUdp::bind(addr)?),
            sub,
            date_ns,
            window,
            retransmit,
        ))
    }

    /// As [`bind`](Self::bind), receiving (and asking for retransmissions)
    /// through `net`: a kernel socket, or AF_XDP.
    pub fn over(
        net: Box<dyn Datagrams>,
        sub: Subscription,
        date_ns: u64,
        window: usize,
        retransmit: Option<std::net::SocketAddr>,
    ) -> Self {
        MoldUdpFeed {
            net,
            seq: if retransmit.is_some() {
                Sequencer::new(1, window).with_recovery()
            } else {
                Sequencer::new(1, window)
            },
            stage: ItchStage::new(sub, 1 << 22, date_ns),
            buf: Box::new([0u8; MAX_PACKET]),
            ended: false,
            retransmit,
            waiting: None,
            requests: 0,
            other_since: None,
            messages_before: 0,
        }
    }

    /// A datagram of another session than the one followed (its first bytes
    /// name it): dropped, unless the followed session has said nothing for
    /// [`SESSION_SILENCE`] while the other spoke — its publisher restarted.
    /// Then what the old session still held is delivered, every order of its
    /// book withdrawn (a Cancel each, then a [`DqCode::Session`] finding), and
    /// the new session followed from its first message (asked for again where
    /// this datagram starts later). Returns whether the datagram is to be
    /// dropped. Reads the clock only for datagrams of another session.
    fn other_session(&mut self, n: usize) -> bool {
        let Some(cur) = self.seq.session() else { return false };
        if n < 10 || self.buf[..10] == cur {
            return false;
        }
        let heard = self.seq.stats().packets;
        match self.other_since {
            Some((since, h)) if h == heard => {
                if since.elapsed() < SESSION_SILENCE {
                    return true;
                }
            }
            _ => {
                self.other_since = Some((Instant::now(), heard));
                return true;
            }
        }
        let mut name = [0u8; 10];
        name.copy_from_slice(&self.buf[..10]);
        let stage = &mut self.stage;
        self.seq.follow(name, &mut |e| match e {
            MoldEvent::Message { seq, msg } => stage.message(msg, seq as i64),
            MoldEvent::Gap { first, count } => stage.q.push_back(gap(first, count)),
            MoldEvent::Missing { .. } | MoldEvent::EndOfSession => {}
        });
        let q = &mut stage.q;
        let withdrawn = stage.norm.withdraw_all(&mut |md| q.push_back(Next::Event(*md)));
        let received = self.seq.stats().messages - self.messages_before;
        self.messages_before = self.seq.stats().messages;
        stage.q.push_back(Next::Quality(DqEvent::new(
            DqCode::Session,
            u32::MAX,
            0,
            withdrawn as i64,
            received as i64,
        )));
        self.other_since = None;
        self.waiting = None;
        false
    }

    /// Asks the retransmission server for `first .. first + count`.
    fn request(&mut self, first: u64, count: u64) {
        let (Some(to), Some(session)) = (self.retransmit, self.seq.session()) else {
            return;
        };
        let mut p = [0u8; 20];
        p[..10].copy_from_slice(&session);
        p[10..18].copy_from_slice(&first.to_be_bytes());
        p[18..20].copy_from_slice(&(count.min(0xFFFE) as u16).to_be_bytes());
        let _ = self.net.send_to(&p, to);
        self.requests += 1;
    }

    /// While a gap is open: repeat the request now and then, give up after the
    /// timeout (the gap becomes a finding).
    fn recovery_tick(&mut self) {
        if !self.seq.is_waiting() {
            self.waiting = None;
            return;
        }
        let next = self.seq.next_seq();
        let (since, asks, at) = *self.waiting.get_or_insert((Instant::now(), 1, next));
        if at != next {
            // An answer came: a re-request server answers a request with one
            // packet (MoldUDP64 1.00: "a standard Downstream Packet"), so what
            // is still missing is asked for now, and waited for afresh.
            if let Some((first, count)) = self.seq.missing() {
                self.request(first, count);
            }
            self.waiting = Some((Instant::now(), 1, next));
            return;
        }
        let waited = since.elapsed();
        if waited >= RECOVERY_TIMEOUT {
            let stage = &mut self.stage;
            self.seq.give_up(&mut |e| {
                if let MoldEvent::Gap { first, count } = e {
                    stage.q.push_back(gap(first, count));
                } else if let MoldEvent::Message { seq, msg } = e {
                    stage.message(msg, seq as i64);
                }
            });
            self.waiting = None;
        } else if waited >= REQUEST_EVERY * asks {
            if let Some((first, count)) = self.seq.missing() {
                self.request(first, count);
            }
            self.waiting = Some((since, asks + 1, next));
        }
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.net.local_addr()
    }

    /// The sequencer's counters (gaps, lost, duplicates, reordered, malformed).
    pub fn sequencer(&self) -> &Sequencer {
        &self.seq
    }

    /// The normaliser (symbols, counters).
    pub fn normaliser(&self) -> &Normaliser {
        &self.stage.norm
    }
}

impl Feed for MoldUdpFeed {
    fn socket(&self) -> Option<std::os::fd::RawFd> {
        Some(self.net.fd())
    }

    fn receive_path(&self) -> Option<String> {
        Some(self.net.describe())
    }

    fn receive_counters(&self) -> String {
        self.net.counters()
    }

    fn recovering(&self) -> bool {
        self.retransmit.is_some() && self.seq.is_waiting() && !self.ended
    }

    fn next(&mut self) -> Next {
        loop {
            if let Some(n) = self.stage.q.pop_front() {
                return n;
            }
            if self.ended {
                return Next::End;
            }
            let n = match self.net.recv_from(&mut self.buf[..]) {
                Ok((n, _)) => n,
                Err(_) => {
                    if self.retransmit.is_some() {
                        self.recovery_tick();
                        if !self.stage.q.is_empty() {
                            continue;
                        }
                    }
                    return Next::Idle;
                }
            };
            if self.other_session(n) {
                // Counted by the sequencer as another session's.
                let _ = self.seq.push(&self.buf[..n], &mut |_| {});
                continue;
            }
            let (stage, ended) = (&mut self.stage, &mut self.ended);
            let mut missing = None;
            let r = self.seq.push(&self.buf[..n], &mut |e| match e {
                MoldEvent::Missing { first, count } => missing = Some((first, count)),
                MoldEvent::Message { seq, msg } => stage.message(msg, seq as i64),
                MoldEvent::Gap { first, count } => stage.q.push_back(gap(first, count)),
                MoldEvent::EndOfSession => *ended = true,
            });
            if let Some((first, count)) = missing {
                self.request(first, count);
                let next = self.seq.next_seq();
                self.waiting.get_or_insert((Instant::now(), 1, next));
            } else if self.waiting.is_some() {
                // A gap is open and the stream goes on: on a busy line the
                // socket may not empty until the reorder window has filled,
                // so an answer's follow-up request, the repeats and the
                // timeout are not left for the moment it does.
                self.recovery_tick();
            }
            if r.is_err() {
                let at = self.seq.next_seq() as i64;
                self.stage
                    .q
                    .push_back(Next::Quality(DqEvent::new(DqCode::Decode, u32::MAX, 0, at, -1)));
            }
        }
    }

    fn wait(&mut self, timeout: Duration) {
        self.net.wait(timeout)
    }
}

/// The engine's end of the feed ring.
pub struct ShmFeed {
    cons: ShmConsumer,
    ended: bool,
}

impl ShmFeed {
    /// Opens the ring a `foxtrot feed` process created at `path`.
    pub fn open(path: &std::path::Path) -> Result<Self, foxtrot_shm::ShmError> {
        let ring = ShmRing::open(path)?;
        if ring.geometry().slot_words != RING_SLOT_WORDS {
            return Err(foxtrot_shm::ShmError::Config(format!(
                "{}: slots of {} words, a feed ring has {RING_SLOT_WORDS}",
                path.display(),
                ring.geometry().slot_words
            )));
        }
        Ok(ShmFeed {
            cons: ring.consumer(),
            ended: false,
        })
    }
}

impl Feed for ShmFeed {
    #[inline]
    fn next(&mut self) -> Next {
        if self.ended {
            return Next::End;
        }
        let mut got = Next::Idle;
        self.cons.pop_batch(1, |w| {
            got = match w.first() {
                Some(&TAG_MD) if w.len() >= 9 => {
                    Next::Event(bytemuck::pod_read_unaligned(bytemuck::cast_slice(&w[1..9])))
                }
                Some(&TAG_DQ) if w.len() >= 5 => {
                    Next::Quality(bytemuck::pod_read_unaligned(bytemuck::cast_slice(&w[1..5])))
                }
                Some(&TAG_END) => Next::End,
                _ => Next::Quality(DqEvent::new(DqCode::Decode, u32::MAX, 0, -1, 0)),
            };
        });
        if got == Next::End {
            self.ended = true;
        }
        got
    }

    fn wait(&mut self, _timeout: Duration) {
        // The ring is polled, never waited on: a pause, not a syscall per record.
        std::hint::spin_loop();
        std::thread::yield_now();
    }
}

/// The feed handler's end of the ring.
pub struct ShmPublisher {
    prod: ShmProducer,
    /// Times a push found the ring full and had to wait.
    pub full_waits: u64,
}

impl ShmPublisher {
    /// Creates the ring at `path` with `capacity` records (a power of two).
    pub fn create(path: &std::path::Path, capacity: u64) -> Result<Self, foxtrot_shm::ShmError> {
        Ok(ShmPublisher {
            prod: ShmRing::create(path, capacity, RING_SLOT_WORDS)?.producer(),
            full_waits: 0,
        })
    }

    fn push(&mut self, rec: &[u64; RING_RECORD_WORDS]) {
        while !self.prod.try_push(rec) {
            // Back-pressure: the consumer is behind. Never drop: wait for a slot.
            self.full_waits += 1;
            std::thread::yield_now();
        }
    }

    /// Publishes one item (an `Idle` publishes nothing).
    pub fn publish(&mut self, n: &Next) {
        let mut rec = [0u64; RING_RECORD_WORDS];
        match n {
            Next::Event(md) => {
                rec[0] = TAG_MD;
                bytemuck::cast_slice_mut::<u64, u8>(&mut rec[1..9]).copy_from_slice(bytemuck::bytes_of(md));
            }
            Next::Quality(d) => {
                rec[0] = TAG_DQ;
                bytemuck::cast_slice_mut::<u64, u8>(&mut rec[1..5]).copy_from_slice(bytemuck::bytes_of(d));
            }
            Next::End => rec[0] = TAG_END,
            Next::Idle => return,
        }
        self.push(&rec);
    }

    /// Records published.
    pub fn position(&self) -> u64 {
        self.prod.position()
    }
}

/// A feed as an iterator of its market-data events, for a venue to read (the
/// touch venue paper-trading a live feed, say): findings are passed over —
/// each counted and logged by `log` — and an idle feed is waited on — until
/// `stop` is raised, if given.
pub struct FeedEvents<F: Feed> {
    feed: F,
    log: crate::findings::FindingLog,
    stop: Option<&'static std::sync::atomic::AtomicBool>,
}

impl<F: Feed> FeedEvents<F> {
    /// Events of `feed`, its findings told to `log`; iteration also ends when
    /// `stop` is raised while idle.
    pub fn new(
        feed: F,
        log: crate::findings::FindingLog,
        stop: Option<&'static std::sync::atomic::AtomicBool>,
    ) -> Self {
        FeedEvents { feed, log, stop }
    }

    /// Data-quality findings passed over, by code.
    pub fn findings(&self) -> &crate::findings::FindingCounts {
        self.log.counts()
    }
}

impl<F: Feed> Iterator for FeedEvents<F> {
    type Item = MarketData;

    fn next(&mut self) -> Option<MarketData> {
        loop {
            match self.feed.next() {
                Next::Event(m) => return Some(m),
                Next::Quality(d) => self.log.note(&d),
                Next::End => {
                    self.log.finish();
                    return None;
                }
                Next::Idle => {
                    if self.stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) {
                        self.log.finish();
                        return None;
                    }
                    self.feed.wait(Duration::from_millis(1));
                }
            }
        }
    }
}

/// Opens a market-data source by its spec: `mold:HOST:PORT` (ITCH over
/// MoldUDP64; with `retransmit`, gaps are recovered), `udp:HOST:PORT` (native
/// records), `shm:PATH` (a feed handler's ring) or `itch:PATH` (an ITCH file,
/// paced by `pace`). ITCH sources keep `symbols` (instrument `i` is the `i`-th)
/// and place their times of day on the day starting at `date_ns`. With `xdp`,
/// the two UDP sources receive (and ask for retransmissions) through an AF_XDP
/// socket; the other sources refuse it.
pub fn open_source(
    spec: &str,
    symbols: Vec<String>,
    date_ns: u64,
    pace: Option<f64>,
    window: usize,
    retransmit: Option<std::net::SocketAddr>,
    xdp: Option<&foxtrot_net::XdpConfig>,
) -> Result<Box<dyn Feed + Send>, String> {
    let sub = Subscription::Symbols(symbols);
    let addr = |a: &str| -> Result<std::net::SocketAddr, String> {
        use std::net::ToSocketAddrs;
        a.to_socket_addrs()
            .ok()
            .and_then(|mut x| x.next())
            .ok_or_else(|| format!("{spec:?}: {a:?} is not HOST:PORT"))
    };
    let net = |a: &str| foxtrot_net::open_udp(addr(a)?, xdp).map_err(|e| format!("{spec}: {e}"));
    let no_xdp = |kind: &str| match xdp {
        Some(x) => Err(format!(
            "{spec}: AF_XDP (on {}) receives UDP sources (mold:, udp:), not {kind}",
            x.interface
        )),
        None => Ok(()),
    };
    Ok(match spec.split_once(':') {
        Some(("mold", a)) => Box::new(MoldUdpFeed::over(net(a)?, sub, date_ns, window, retransmit)),
        Some(("udp", a)) => Box::new(crate::udp::UdpMdFeed::over(net(a)?)),
        Some(("shm", p)) => {
            no_xdp("a shared-memory ring")?;
            Box::new(ShmFeed::open(std::path::Path::new(p)).map_err(|e| format!("{spec}: {e}"))?)
        }
        Some(("itch", p)) => {
            no_xdp("a file")?;
            Box::new(
                ItchFileFeed::open(std::path::Path::new(p), sub, date_ns, pace, None)
                    .map_err(|e| format!("{spec}: {e}"))?,
            )
        }
        _ => {
            return Err(format!(
                "{spec:?}: expected mold:HOST:PORT, udp:HOST:PORT, shm:PATH or itch:PATH"
            ))
        }
    })
}
