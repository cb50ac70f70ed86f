//! `foxtrot venue`: the simulated venue as a process of its own — a FIX acceptor
//! for many sessions in front of the matching engine and its crowd (or an echo
//! application, for certification harnesses), publishing market data over UDP.
//!
//! ## Time
//! The venue runs on the wall clock: its control time is `gen.start_ns` plus the
//! time since it started, times `speed` — or, for a restarted venue, the last
//! TransactTime in its stores plus a millisecond, so time never runs backwards.
//! The crowd acts when its generator's time comes due; an order acts when it
//! arrives. Inside, it is the same [`SimWorld`] `foxtrot sim` runs, with its
//! three latencies set to zero (the network supplies the real ones), so the
//! book, the matching and the crowd are the simulator's.
//!
//! ## Connections and sessions
//! The venue serves the sessions it is configured with ([`VenueSettings::sessions`]),
//! each a CompID pair and BeginString with a journal of its own
//! ([`JournalStore`]: sequence numbers and every message it sent). A new
//! connection is *pending* until its first complete message arrives; that
//! message's BeginString, SenderCompID and TargetCompID choose the session, as
//! counterparties' engines do:
//! - no session matches: the connection is dropped without a reply;
//! - the session is already connected: the newcomer is dropped (the session
//!   in use is not disturbed);
//! - otherwise the session takes the connection and the message (which must be
//!   a valid Logon, or the session ends it).
//!
//! A connection that sends no complete message within `logon_timeout_s` is
//! dropped, so a silent or half-sent connection holds nothing. Every one of
//! these decisions, every session event ([`SessionEvent`]) and every end of a
//! session is logged (`tracing`) with the session's name and the reason; with a
//! message-log directory every message in and out is written to a file per
//! session ([`MessageLog`]) by a thread of its own.
//!
//! ## Applications
//! - **matching** (`orders`): orders trade in the book with the crowd; each
//!   session's ClOrdIDs are its own (any string), execution reports echo them.
//!   Reports produced while a session is away (a resting order filled by the
//!   crowd) are stored and reach it on its next logon; a **restarted venue**
//!   knows which orders it had reported open and no longer holds (its book died
//!   with the old process), and cancels them with an unsolicited
//!   ExecutionReport (ExecType 4, Text "venue restarted"); its OrderIDs carry
//!   on after the highest its store holds, so each names one order over every
//!   life of the session.
//! - **echo** (`echo`): application messages are reflected back, as
//!   certification test harnesses expect of an acceptor under test.

mod echo;
mod orders;

use self::echo::{Answer, Echo};
use self::orders::{duplicates_in_store, fills_in_store, session_of, Intake, MassIntake, Restored, SessionOrders};
use super::sim::SimWorld;
use foxtrot_engine::config::MdFormat;
use foxtrot_engine::config::{Config, VenueApplication};
use foxtrot_engine::records::{ExecKind, ExecReport, InputView, OrderAction};
use foxtrot_engine::runtime::{Polled, VenueLink};
use foxtrot_feed::itch::encode::ItchEncoder;
use foxtrot_feed::itch::publish::MoldPublisher;
use foxtrot_feed::udp::UdpMdPublisher;
use foxtrot_fix::app::Instruments;
use foxtrot_fix::decode::FixDecoder;
use foxtrot_fix::message_log::MessageLog;
use foxtrot_fix::session::{MessageStore, Role, Session, SessionEvent, SessionSettings, Status};
use foxtrot_fix::store::JournalStore;
use foxtrot_fix::transport::{flush, pump, wall_ns, Connection};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One session the venue accepts.
#[derive(Clone, Debug)]
pub struct AcceptorSettings {
    /// The session, from the venue's side.
    pub session: SessionSettings,
    /// Directory of its journal.
    pub store_dir: PathBuf,
}

/// How to run the venue.
#[derive(Clone, Debug)]
pub struct VenueSettings {
    /// Address to accept FIX connections on.
    pub listen: SocketAddr,
    /// Where to send market data (UDP), if anywhere.
    pub market_data: Option<SocketAddr>,
    /// In which format: native records, or ITCH 5.0 over MoldUDP64.
    pub md_format: MdFormat,
    /// MoldUDP64: where to answer retransmission requests.
    pub retransmit: Option<SocketAddr>,
    /// The sessions it accepts.
    pub sessions: Vec<AcceptorSettings>,
    /// What it does with application messages.
    pub application: VenueApplication,
    /// Seconds a connection may stay without a complete first message.
    pub logon_timeout_s: u64,
    /// Directory of the per-session message logs, if any.
    pub message_log: Option<PathBuf>,
    /// Control time per wall-clock time (1.0: real time).
    pub speed: f64,
    /// `SO_BUSY_POLL` for the FIX sockets, µs.
    pub busy_poll: Option<foxtrot_net::BusyPoll>,
    /// Never sleep in the poll: lowest latency, one core always busy.
    pub spin: bool,
    /// Publish the MoldUDP64 feed through AF_XDP on this interface.
    pub xdp: Option<foxtrot_net::XdpConfig>,
}

/// A [`VenueServer`] running on a thread of this process until stopped.
pub struct LocalVenue {
    /// Where it accepts FIX connections.
    pub addr: SocketAddr,
    stop: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<VenueStats>>>,
}

impl LocalVenue {
    /// The counterparty of `cfg`'s FIX session (`cfg.session` from the
    /// acceptor's side, its store in `store_dir`) on an ephemeral loopback
    /// port: no market data, the default application, real time, sleeping
    /// when idle — a venue for tests and demos in one process.
    pub fn serving(cfg: &Config, store_dir: PathBuf) -> std::io::Result<Self> {
        let session = SessionSettings::from_config(&cfg.session, Role::Acceptor).map_err(std::io::Error::other)?;
        let set = VenueSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            market_data: None,
            md_format: Default::default(),
            retransmit: None,
            sessions: vec![AcceptorSettings { session, store_dir }],
            application: Default::default(),
            logon_timeout_s: 10,
            message_log: None,
            speed: 1.0,
            busy_poll: None,
            spin: false,
            xdp: None,
        };
        Self::spawn(cfg, set)
    }

    /// Starts a venue for `cfg`'s instruments with `set` on a thread of its own.
    pub fn spawn(cfg: &Config, set: VenueSettings) -> std::io::Result<Self> {
        let mut v = VenueServer::new(cfg, set)?;
        let addr = v.local_addr()?;
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("venue".into())
            .spawn(move || v.run(&s).map(|()| v.stats()))?;
        Ok(LocalVenue {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops it (it shuts its sessions down) and returns what it did.
    pub fn stop(mut self) -> std::io::Result<VenueStats> {
        self.halt()
            .unwrap_or_else(|| Err(std::io::Error::other("the venue was stopped already")))
    }

    /// Raises the stop flag and joins the thread, once.
    fn halt(&mut self) -> Option<std::io::Result<VenueStats>> {
        self.stop.store(true, Ordering::Relaxed);
        let r = self.thread.take()?.join();
        Some(r.unwrap_or_else(|_| Err(std::io::Error::other("the venue's thread panicked"))))
    }
}

impl Drop for LocalVenue {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// What a venue did, for its summary and the tests.
#[derive(Clone, Debug, Default)]
pub struct VenueStats {
    /// Logons accepted.
    pub logons: u64,
    /// Connections dropped before a session took them: no session matched,
    /// the session was connected already, or no message came in time.
    pub refused_connections: u64,
    /// Of those, dropped for sending no complete message within the logon timeout.
    pub logon_timeouts: u64,
    /// Orders received, by action: new, cancel, replace.
    pub orders: [u64; 3],
    /// Orders answered by the venue itself (unreadable, unknown symbol…).
    pub malformed_orders: u64,
    /// Orders whose ClOrdID was seen before (rejected).
    pub duplicate_cl_ord_ids: u64,
    /// OrderStatusRequests answered (ExecType I).
    pub status_requests: u64,
    /// OrderMassCancelRequests taken (FIX 4.4; their cancels are not in `orders`).
    pub mass_cancels: u64,
    /// OrderMassCancelRequests refused (unknown symbol, request type not supported).
    pub mass_cancels_refused: u64,
    /// PossDup/PossResend resends of orders already handled (ignored).
    pub possdup_ignored: u64,
    /// Orders that arrived once the session was closing (not executed).
    pub orders_after_logout: u64,
    /// Execution reports and cancel rejects sent (first time).
    pub reports: u64,
    /// Unsolicited cancels sent after a restart.
    pub restart_cancels: u64,
    /// Application messages echoed (echo application).
    pub echoed: u64,
    /// Application messages of types the application does not support
    /// (BusinessMessageReject sent).
    pub unsupported: u64,
    /// Market-data records published.
    pub md_sent: u64,
    /// Market-data records that could not be sent.
    pub md_dropped: u64,
    /// Fill reports in the stores (this process's and its predecessors').
    pub fills_in_store: u64,
    /// Duplicate-ClOrdID rejects in the stores (every life of the venue).
    pub duplicates_in_store: u64,
    /// Net filled quantity per instrument over the stores (buys positive).
    pub net_filled_qty: Vec<i64>,
    /// Total filled quantity over the stores (absolute).
    pub filled_qty_in_store: i64,
    /// Σ LastQty × LastPx of the fills in the stores, currency units.
    pub turnover_in_store: f64,
    /// New orders and replacements refused because their session's store
    /// could no longer record (see [`store_error`](Self::store_error)).
    pub unrecorded: u64,
    /// The first session store that could no longer record, and why (a full
    /// disk): from then on that session's reports are sent but not kept, so
    /// a restarted venue could not resend them, and its new orders and
    /// replacements are refused. The venue's day then ends with a failure.
    pub store_error: Option<String>,
}

/// Where the market data goes: native records, or ITCH over MoldUDP64.
enum MdOut {
    Native(UdpMdPublisher),
    Mold(Box<(ItchEncoder, MoldPublisher)>),
}

impl MdOut {
    fn push(&mut self, m: &foxtrot_engine::records::MarketData) {
        match self {
            MdOut::Native(p) => p.push(m),
            MdOut::Mold(b) => {
                let (enc, p) = &mut **b;
                enc.encode(m, &mut |msg| p.push(msg));
            }
        }
    }

    fn flush(&mut self) {
        match self {
            MdOut::Native(p) => p.flush(),
            MdOut::Mold(b) => b.1.flush(),
        }
    }

    /// Ends the feed (MoldUDP64: its last packet and an end-of-session).
    fn end(&mut self) {
        match self {
            MdOut::Native(p) => p.flush(),
            MdOut::Mold(b) => b.1.end(),
        }
    }

    /// After the end of session: answers retransmission requests until none has
    /// come for `quiet` (at most `max`), so a receiver still recovering a gap
    /// of the last packets gets them.
    fn linger(&mut self, quiet: Duration, max: Duration) {
        let MdOut::Mold(b) = self else { return };
        let (start, mut last) = (Instant::now(), Instant::now());
        let mut seen = b.1.stats().requests;
        while last.elapsed() < quiet && start.elapsed() < max {
            b.1.serve_requests();
            if b.1.stats().requests != seen {
                seen = b.1.stats().requests;
                last = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// (sent, dropped): records, or ITCH messages.
    fn counts(&self) -> (u64, u64) {
        match self {
            MdOut::Native(p) => (p.sent, p.dropped),
            MdOut::Mold(b) => (b.1.stats().messages, b.1.stats().dropped + b.0.refused),
        }
    }
}

/// One configured session and what goes with it.
struct Slot {
    name: String,
    session: Session<JournalStore>,
    conn: Option<(Connection, SocketAddr)>,
    /// The message log, while no connection holds it.
    log: Option<MessageLog>,
    orders: SessionOrders,
    echo: Echo,
}

/// A connection no session has taken yet.
struct Pending {
    conn: Connection,
    peer: SocketAddr,
    since: Instant,
}

/// The venue process's state. See the module docs.
pub struct VenueServer {
    set: VenueSettings,
    world: SimWorld,
    inst: Instruments,
    listener: mio::net::TcpListener,
    poll: mio::Poll,
    /// Whether the last poll saw the listener readable (and at start).
    listener_ready: bool,
    /// Market data of this step, published at its end.
    md_staged: Vec<foxtrot_engine::records::MarketData>,
    events: mio::Events,
    slots: Vec<Slot>,
    pending: Vec<Pending>,
    next_token: usize,
    md: Option<MdOut>,
    next_exec_id: u64,
    dec: FixDecoder,
    inbox: Vec<u8>,
    inbox_ends: Vec<usize>,
    start_ns: u64,
    t0: Instant,
    stats: VenueStats,
}

const LISTENER: mio::Token = mio::Token(0);

impl VenueServer {
    /// A venue for `cfg` (instruments, crowd; its latencies are ignored) with
    /// `set`. Opens every session's journal (resuming it), binds the listener,
    /// and prepares cancels for orders a previous process left open.
    pub fn new(cfg: &Config, set: VenueSettings) -> std::io::Result<Self> {
        let mut c = cfg.clone();
        c.venue.entry_latency_ns = 0;
        c.venue.ack_latency_ns = 0;
        c.venue.md_latency_ns = 0;
        let inst = Instruments::new(&cfg.instruments);
        let mut last = Restored::default();
        let mut slots = Vec::with_capacity(set.sessions.len());
        for (k, a) in set.sessions.iter().enumerate() {
            let store = JournalStore::open_sized(&a.store_dir, u64::from(cfg.session.store_segment_kib) << 10)
                .map_err(std::io::Error::other)?;
            let s = &a.session;
            let name = format!("{}:{}->{}", s.begin_string, s.sender, s.target);
            let mut orders = SessionOrders::new(k, s.max_cl_ord_id_len);
            let r = orders.restore(&store, &inst);
            last.exec_id = last.exec_id.max(r.exec_id);
            last.order_id = last.order_id.max(r.order_id);
            last.transact_time = last.transact_time.max(r.transact_time);
            let log = match &set.message_log {
                Some(dir) => Some(MessageLog::open(
                    dir,
                    &format!("{}-{}-{}", s.begin_string, s.sender, s.target),
                )?),
                None => None,
            };
            slots.push(Slot {
                name,
                session: Session::new(s.clone(), Role::Acceptor, store),
                conn: None,
                log,
                orders,
                echo: Echo::default(),
            });
        }
        // A restarted venue's clock carries on after the last report it sent
        // (the crowd starts afresh from there), so time never runs backwards
        // for the engine across the restart.
        if last.transact_time >= c.gen.start_ns {
            c.gen.start_ns = last.transact_time + 1_000_000;
        }
        let mut listener = mio::net::TcpListener::bind(set.listen)?;
        let poll = mio::Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)?;
        let md = match (set.market_data, set.md_format) {
            (None, _) => None,
            (Some(dest), MdFormat::Native) => Some(MdOut::Native(UdpMdPublisher::new(dest)?)),
            (Some(dest), MdFormat::Moldudp64) => {
                let enc = ItchEncoder::new(&cfg.instruments);
                let mut p = match &set.xdp {
                    None => MoldPublisher::new(&mold_session(), dest, set.retransmit, 4 << 20)?,
                    Some(x) => {
                        let from = SocketAddr::from(([0, 0, 0, 0], 0));
                        let net = foxtrot_net::open_udp(from, Some(x))?;
                        tracing::info!(path = %net.describe(), "publishing market data");
                        MoldPublisher::with_sender(&mold_session(), net, dest, set.retransmit, 4 << 20)?
                    }
                };
                enc.open(c.gen.start_ns, &mut |m| p.push(m));
                p.flush();
                Some(MdOut::Mold(Box::new((enc, p))))
            }
        };
        // Its OrderIDs carry on after those it reported, so each names one
        // order over the session's every life (found reused across a restart:
        // a counterparty keying on OrderID took two orders for one).
        let mut world = SimWorld::new(&c);
        world.number_orders_after(last.order_id);
        let mut v = VenueServer {
            world,
            inst,
            listener,
            poll,
            listener_ready: true,
            md_staged: Vec::with_capacity(1024),
            events: mio::Events::with_capacity(64),
            slots,
            pending: Vec::new(),
            next_token: 1,
            md,
            next_exec_id: last.exec_id + 1,
            dec: FixDecoder::new(),
            inbox: Vec::with_capacity(1 << 16),
            inbox_ends: Vec::with_capacity(256),
            start_ns: c.gen.start_ns,
            t0: Instant::now(),
            stats: VenueStats::default(),
            set,
        };
        if v.set.application == VenueApplication::Matching {
            v.cancel_forgotten();
        }
        Ok(v)
    }

    /// The address the listener is bound to (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The venue's control time now.
    fn now(&self) -> u64 {
        let el = self.t0.elapsed().as_nanos() as f64 * self.set.speed;
        self.start_ns + el as u64
    }

    /// Orders the stores say are open belong to a book that no longer exists.
    fn cancel_forgotten(&mut self) {
        let now = self.now();
        for slot in &mut self.slots {
            for (cl, o) in slot.orders.open_orders() {
                let mut e = ExecReport::new(ExecKind::Canceled, o.instrument, o.side, now);
                e.cl_ord_id = cl;
                e.venue_order_id = o.venue_id;
                e.order_qty = o.qty;
                e.cum_qty = o.cum;
                e.leaves_qty = 0;
                slot.orders.report(
                    &e,
                    &self.inst,
                    &mut slot.session,
                    &mut self.next_exec_id,
                    Some(b"venue restarted"),
                    wall_ns(),
                );
                self.stats.restart_cancels += 1;
            }
            if !slot.orders.open_orders().is_empty() {
                tracing::warn!(session = %slot.name, "restart cancels left orders open");
            }
        }
    }

    /// Runs until `stop` is raised: crowd, orders, reports, market data; then
    /// [`shutdown`](Self::shutdown).
    pub fn run(&mut self, stop: &AtomicBool) -> std::io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            self.step()?;
        }
        self.shutdown();
        Ok(())
    }

    /// Whether the crowd is over and everything is delivered.
    pub fn crowd_done(&self) -> bool {
        self.world.is_idle()
    }

    /// Logs every connected session out (waiting up to a second for the
    /// answers) and flushes the market data.
    pub fn shutdown(&mut self) {
        if let Some(md) = &mut self.md {
            for m in self.md_staged.drain(..) {
                md.push(&m);
            }
            md.end();
        }
        let mut any = false;
        for slot in &mut self.slots {
            if slot.conn.is_some() && slot.session.status() == Status::Active {
                slot.session.logout("venue shutting down", wall_ns());
                any = true;
            }
        }
        let end = Instant::now() + Duration::from_secs(1);
        while any && Instant::now() < end && self.slots.iter().any(|s| s.conn.is_some()) {
            for i in 0..self.slots.len() {
                self.serve(i, self.now());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        for i in 0..self.slots.len() {
            if self.slots[i].conn.is_some() {
                self.detach(i, "venue shut down");
            }
        }
        // The feed's last packets may still be being recovered by receivers
        // (their requests repeat every 250 ms): answer until they stop.
        if let Some(md) = &mut self.md {
            md.linger(Duration::from_millis(600), Duration::from_secs(3));
        }
    }

    /// One pass: advance the world to now, serve the connections, wait briefly.
    pub fn step(&mut self) -> std::io::Result<()> {
        let now = self.now();
        self.advance(now);
        if std::mem::take(&mut self.listener_ready) {
            self.accept()?;
        }
        for i in 0..self.slots.len() {
            self.serve(i, now);
        }
        self.serve_pending();
        self.advance(self.now());
        if let Some(md) = &mut self.md {
            for m in self.md_staged.drain(..) {
                md.push(&m);
            }
            md.flush();
            (self.stats.md_sent, self.stats.md_dropped) = md.counts();
        }
        let wait = if self.set.spin {
            Duration::ZERO
        } else {
            Duration::from_micros(200)
        };
        let r = self.poll.poll(&mut self.events, Some(wait));
        // Accepting only when the listener says a connection waits saves an
        // `accept4` per step (the kernel allocates a socket even to answer
        // EAGAIN). Edge-triggered: `accept` takes every waiting connection.
        self.listener_ready = self.events.iter().any(|e| e.token() == LISTENER);
        match r {
            // A signal (the one that stops the venue, say) is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::Interrupted => Err(e),
            _ => Ok(()),
        }
    }

    /// Runs the world up to control time `now`: reports to the sessions whose
    /// orders they are about, market data staged for the end of the step (so
    /// the UDP sends of what an order caused come after its answer is written,
    /// as an exchange's order entry answers before its feed publishes; over
    /// loopback a UDP send delivers to the receiver inside the system call).
    fn advance(&mut self, now: u64) {
        while let Polled::Input(slot) = self.world.poll_before(now) {
            match slot.view() {
                Some(InputView::Md(m)) if self.md.is_some() => self.md_staged.push(*m),
                Some(InputView::Exec(e)) => {
                    let e = *e;
                    let Some(s) = session_of(e.cl_ord_id).and_then(|k| self.slots.get_mut(k)) else {
                        tracing::error!(cl_ord_id = e.cl_ord_id, "a report for no session: dropped");
                        continue;
                    };
                    s.orders
                        .report(&e, &self.inst, &mut s.session, &mut self.next_exec_id, None, wall_ns());
                    // An acknowledgement leaves at once, before the fills the
                    // same order makes are encoded (an exchange's order entry
                    // acknowledges before it reports the match); a failed write
                    // shows on the session's next read.
                    if e.kind() == Some(ExecKind::New) {
                        if let Some((conn, _)) = &mut s.conn {
                            let _ = flush(conn, &mut s.session);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn accept(&mut self) -> std::io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    let mut conn = Connection::new(stream, self.set.busy_poll)?;
                    self.poll.registry().register(
                        conn.stream(),
                        mio::Token(self.next_token),
                        mio::Interest::READABLE,
                    )?;
                    self.next_token += 1;
                    tracing::debug!(%peer, "connection accepted; waiting for its Logon");
                    self.pending.push(Pending {
                        conn,
                        peer,
                        since: Instant::now(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Pending connections: identified by their first message and handed to
    /// their session, refused, or timed out.
    fn serve_pending(&mut self) {
        let timeout = Duration::from_secs(self.set.logon_timeout_s);
        let mut i = 0;
        while i < self.pending.len() {
            let p = &mut self.pending[i];
            let open = p.conn.fill();
            let verdict = match (&open, p.conn.first_frame()) {
                (_, Some(first)) => Some(identify(&self.slots, first)),
                (Ok(true), None) if p.since.elapsed() >= timeout => {
                    self.stats.logon_timeouts += 1;
                    Some(Err(format!("no Logon within {} s", timeout.as_secs())))
                }
                (Ok(true), None) => None,
                (Ok(false), None) => Some(Err("closed before sending a message".to_string())),
                (Err(e), None) => Some(Err(format!("read: {e}"))),
            };
            match verdict {
                None => i += 1,
                Some(Ok(k)) => {
                    let p = self.pending.swap_remove(i);
                    self.attach(k, p);
                }
                Some(Err(why)) => {
                    let mut p = self.pending.swap_remove(i);
                    self.stats.refused_connections += 1;
                    tracing::warn!(peer = %p.peer, reason = %why, "connection dropped");
                    let _ = self.poll.registry().deregister(p.conn.stream());
                }
            }
        }
    }

    fn attach(&mut self, k: usize, p: Pending) {
        let s = &mut self.slots[k];
        let mut conn = p.conn;
        conn.set_log(s.log.take());
        s.session.reconnect();
        s.echo.reset();
        tracing::info!(session = %s.name, peer = %p.peer, "connection taken by its session");
        s.conn = Some((conn, p.peer));
        self.serve(k, self.now());
    }

    /// The session `k` lost its connection (or ended it): logged, and the
    /// connection closed.
    fn detach(&mut self, k: usize, why: &str) {
        let s = &mut self.slots[k];
        if let Some((mut conn, peer)) = s.conn.take() {
            let _ = self.poll.registry().deregister(conn.stream());
            s.log = conn.take_log();
            let (out, inn) = s.session.store().seqs();
            tracing::info!(session = %s.name, %peer, reason = %why, next_out = out, next_in = inn, "session ended");
        }
        s.echo.reset();
    }

    /// Reads and answers session `k`'s connection: session messages by the
    /// session, application messages by the application at control time `now`.
    fn serve(&mut self, k: usize, now: u64) {
        let wall = wall_ns();
        let app = self.set.application;
        let s = &mut self.slots[k];
        let Some((conn, _)) = &mut s.conn else { return };
        let was_on = s.session.is_logged_on();
        let (inbox, ends) = (&mut self.inbox, &mut self.inbox_ends);
        inbox.clear();
        ends.clear();
        let (echo, stats) = (&mut s.echo, &mut self.stats);
        let mut r = pump(conn, &mut s.session, wall, |m, session| match app {
            // The echo answers at once, in order with the session's answers.
            VenueApplication::Echo => match echo.on_app(m, session, wall) {
                Answer::Sent => stats.echoed += 1,
                Answer::Duplicate => stats.possdup_ignored += 1,
                Answer::Unsupported => stats.unsupported += 1,
            },
            VenueApplication::Matching => {
                inbox.extend_from_slice(m);
                ends.push(inbox.len());
            }
        });
        if !was_on && s.session.is_logged_on() {
            self.stats.logons += 1;
        }
        let inbox = std::mem::take(&mut self.inbox);
        let mut start = 0;
        for i in 0..self.inbox_ends.len() {
            let end = self.inbox_ends[i];
            self.on_order(k, &inbox[start..end], now, wall);
            start = end;
            // Each order's answers leave before the next order is matched: an
            // order early in a burst is not answered late for those after it.
            let s = &mut self.slots[k];
            if r.is_ok() && !s.session.outbox().is_empty() {
                if let Some((conn, _)) = &mut s.conn {
                    r = flush(conn, &mut s.session);
                }
            }
        }
        self.inbox = inbox;
        let s = &mut self.slots[k];
        if r.is_ok() {
            if let Some((conn, _)) = &mut s.conn {
                r = flush(conn, &mut s.session);
            }
        }
        let (events, lost) = s.session.take_events();
        for e in events {
            log_event(&s.name, &e);
        }
        if self.stats.store_error.is_none() {
            if let Some(e) = s.session.store().error() {
                tracing::error!(
                    session = %s.name,
                    error = %e,
                    "the venue's session store cannot record: this session's new orders and replacements are refused, \
                     and the reports it still sends could not be resent after a restart"
                );
                self.stats.store_error = Some(format!("session {}: {e}", s.name));
            }
        }
        if lost > 0 {
            tracing::warn!(session = %s.name, lost, "session events not logged (too many at once)");
        }
        if let Err(why) = r {
            self.detach(k, &why);
        }
    }

    /// One order message for the matching application.
    fn on_order(&mut self, k: usize, raw: &[u8], now: u64, wall: u64) {
        let s = &mut self.slots[k];
        if foxtrot_fix::framing::msg_type(raw) == Some(b"H") {
            if let Ok(m) = self.dec.decode(raw) {
                self.stats.status_requests += 1;
                s.orders
                    .status(&m, &self.inst, &mut s.session, &mut self.next_exec_id, wall);
            }
            return;
        }
        // FIX 4.2 has no mass cancel: refused as any message it does not define.
        if foxtrot_fix::framing::msg_type(raw) == Some(b"q") && s.session.settings().begin_string != "FIX.4.2" {
            self.on_mass_cancel(k, raw, now, wall);
            return;
        }
        if !matches!(foxtrot_fix::framing::msg_type(raw), Some(b"D" | b"F" | b"G")) {
            s.session.business_reject(
                raw,
                foxtrot_fix::session::BusinessReason::UnsupportedMessageType,
                None,
                wall,
            );
            self.stats.unsupported += 1;
            return;
        }
        let Ok(m) = self.dec.decode(raw) else {
            // The session checked the framing; this cannot fail.
            self.stats.malformed_orders += 1;
            return;
        };
        match s
            .orders
            .intake(raw, &m, &self.inst, &mut s.session, &mut self.next_exec_id, now, wall)
        {
            Intake::PossDup => self.stats.possdup_ignored += 1,
            Intake::Duplicate => self.stats.duplicate_cl_ord_ids += 1,
            Intake::Answered => self.stats.malformed_orders += 1,
            Intake::Unrecorded => self.stats.unrecorded += 1,
            Intake::Closing => {
                self.stats.orders[match foxtrot_fix::framing::msg_type(raw) {
                    Some(b"D") => 0,
                    Some(b"F") => 1,
                    _ => 2,
                }] += 1;
                self.stats.orders_after_logout += 1;
            }
            Intake::Order(mut o) => {
                o.header.ts_ns = now;
                let action = o.action().unwrap_or(OrderAction::New);
                self.stats.orders[match action {
                    OrderAction::New => 0,
                    OrderAction::Cancel | OrderAction::MassCancel => 1,
                    OrderAction::Replace => 2,
                }] += 1;
                self.world.send(&o, &[]);
                self.advance(now);
            }
        }
    }

    /// An OrderMassCancelRequest: the session's open orders it covers go to
    /// the book as cancels under its ClOrdID (each reported as cancelled),
    /// then the request is answered with an OrderMassCancelReport.
    fn on_mass_cancel(&mut self, k: usize, raw: &[u8], now: u64, wall: u64) {
        let s = &mut self.slots[k];
        let Ok(m) = self.dec.decode(raw) else {
            self.stats.malformed_orders += 1;
            return;
        };
        let mc = match s
            .orders
            .mass_intake(&m, &self.inst, &mut s.session, &mut self.next_exec_id, now, wall)
        {
            MassIntake::Cancel(mc) => mc,
            MassIntake::PossDup => return self.stats.possdup_ignored += 1,
            MassIntake::Duplicate => return self.stats.duplicate_cl_ord_ids += 1,
            MassIntake::Closing => return self.stats.orders_after_logout += 1,
            MassIntake::Refused => return self.stats.mass_cancels_refused += 1,
        };
        self.stats.mass_cancels += 1;
        for o in &mc.cancels {
            self.world.send(o, &[]);
        }
        self.advance(now);
        let s = &mut self.slots[k];
        s.orders
            .mass_report(&mc, &self.inst, &mut s.session, &mut self.next_exec_id, now, wall);
    }

    /// The summary: counters, plus the fills recorded in the stores.
    pub fn stats(&mut self) -> VenueStats {
        let mut s = self.stats.clone();
        s.reports = self.slots.iter().map(|x| x.orders.sent).sum();
        s.net_filled_qty = vec![0; self.inst.len()];
        s.fills_in_store = 0;
        s.duplicates_in_store = 0;
        s.filled_qty_in_store = 0;
        s.turnover_in_store = 0.0;
        for slot in &self.slots {
            let (n, q, t) = fills_in_store(slot.session.store(), &self.inst, &mut s.net_filled_qty);
            s.fills_in_store += n;
            s.filled_qty_in_store += q;
            s.turnover_in_store += t;
            s.duplicates_in_store += duplicates_in_store(slot.session.store());
        }
        s
    }

    /// Logons accepted so far (cheap, unlike [`stats`](Self::stats)).
    pub fn logons(&self) -> u64 {
        self.stats.logons
    }

    /// Whether any session is connected.
    pub fn is_connected(&self) -> bool {
        self.slots.iter().any(|s| s.conn.is_some())
    }

    /// How many sessions are logged on now.
    pub fn logged_on(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.conn.is_some() && s.session.is_logged_on())
            .count()
    }

    /// The first session's next outbound and expected sequence numbers.
    pub fn seqs(&self) -> (u64, u64) {
        self.slots.first().map_or((1, 1), |s| s.session.store().seqs())
    }

    /// Each session's name and (next outbound, expected) sequence numbers.
    pub fn session_seqs(&self) -> Vec<(String, (u64, u64))> {
        self.slots
            .iter()
            .map(|s| (s.name.clone(), s.session.store().seqs()))
            .collect()
    }
}

/// The session the first message `m` is for, by its BeginString,
/// SenderCompID and TargetCompID, if it has no connection.
/// The MoldUDP64 session name of this life of the venue: `FX` and the wall
/// clock's milliseconds in eight base-36 digits (they wrap in 2059). A
/// restarted venue publishes a new session — its sequence numbers start
/// again at 1 and its book is a new one — and a receiver tells it from the
/// old one by the name (under the old name its first messages read as
/// duplicates of those already received, and were dropped).
fn mold_session() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut digits = [b'0'; 8];
    let mut x = ms % 36u64.pow(8);
    for d in digits.iter_mut().rev() {
        *d = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(x % 36) as usize];
        x /= 36;
    }
    format!("FX{}", String::from_utf8_lossy(&digits))
}

fn identify(slots: &[Slot], m: &[u8]) -> Result<usize, String> {
    let (mut begin, mut sender, mut target) = (None, None, None);
    for f in m.split(|&c| c == foxtrot_fix::SOH).take(64) {
        match f.iter().position(|&c| c == b'=').map(|e| (&f[..e], &f[e + 1..])) {
            Some((b"8", v)) => begin = begin.or(Some(v)),
            Some((b"49", v)) => sender = sender.or(Some(v)),
            Some((b"56", v)) => target = target.or(Some(v)),
            _ => {}
        }
    }
    let text = |v: Option<&[u8]>| String::from_utf8_lossy(v.unwrap_or(b"-")).into_owned();
    let who = format!("{} {} -> {}", text(begin), text(sender), text(target));
    let k = slots
        .iter()
        .position(|s| {
            let c = s.session.settings();
            begin == Some(c.begin_string.as_bytes())
                && sender == Some(c.target.as_bytes())
                && target == Some(c.sender.as_bytes())
        })
        .ok_or_else(|| format!("no session for {who}"))?;
    if slots[k].conn.is_some() {
        return Err(format!("session {} is connected already", slots[k].name));
    }
    Ok(k)
}

/// One session event as a structured log line.
fn log_event(name: &str, e: &SessionEvent) {
    match e {
        SessionEvent::LoggedOn { .. } | SessionEvent::Resent { .. } | SessionEvent::SequenceReset { .. } => {
            tracing::info!(session = %name, event = %e)
        }
        SessionEvent::Disconnected(_) | SessionEvent::LogoutSent(_) => tracing::info!(session = %name, event = %e),
        _ => tracing::warn!(session = %name, event = %e),
    }
}
