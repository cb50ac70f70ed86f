//! `foxtrot venue`: the simulated venue as a process of its own — a FIX acceptor
//! in front of the matching engine and its crowd, publishing market data over UDP.
//!
//! ## Time
//! The venue runs on the wall clock: its control time is `gen.start_ns` plus the
//! time since it started, times `speed` — or, for a restarted venue, the last
//! TransactTime in its store plus a millisecond, so time never runs backwards. The crowd acts when its generator's
//! time comes due; an order acts when it arrives. Inside, it is the same
//! [`SimWorld`] `foxtrot sim` runs, with its three latencies set to zero (the
//! network supplies the real ones), so the book, the matching and the crowd are
//! the simulator's.
//!
//! ## Sessions
//! One FIX session at a time (the engine's), acceptor side, CompIDs from the
//! config's `session` section seen from the venue (its SenderCompID is the
//! engine's TargetCompID). Its sequence numbers and every execution report it
//! sent live in a journal ([`JournalStore`]), so:
//! - an engine that reconnects resumes the session, and a gap is resent;
//! - reports produced while the engine is away (a resting order filled by the
//!   crowd) are stored and reach the engine on its next logon;
//! - a **restarted venue** knows which of the engine's orders it had reported open
//!   and no longer holds (its book died with the old process), and cancels them
//!   with an unsolicited ExecutionReport (ExecType 4, Text "venue restarted"), so
//!   the engine never waits on an order the venue forgot.
//!
//! A ClOrdID is accepted once: a second order with a ClOrdID the venue has seen
//! (in this process or in its store) is rejected (OrdRejReason 6) and counted as a
//! duplicate, unless it is a PossDup resend, which is ignored as already handled.

use super::sim::SimWorld;
use foxtrot_engine::config::Config;
use foxtrot_engine::records::{ExecKind, ExecReport, InputView, OrderAction, Side, VenueReject};
use foxtrot_engine::runtime::{Polled, VenueLink};
use foxtrot_feed::udp::UdpMdPublisher;
use foxtrot_fix::app::{exec_to_fix, order_from_fix, Instruments};
use foxtrot_fix::decode::FixDecoder;
use foxtrot_fix::fields::Fields;
use foxtrot_fix::session::{MessageStore, Role, Session, SessionSettings, Status};
use foxtrot_fix::store::JournalStore;
use foxtrot_fix::transport::{flush, pump, wall_ns, Connection};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How to run the venue.
#[derive(Clone, Debug)]
pub struct VenueSettings {
    /// Address to accept FIX connections on.
    pub listen: SocketAddr,
    /// Where to send market data (UDP), if anywhere.
    pub market_data: Option<SocketAddr>,
    /// The session, from the venue's side.
    pub session: SessionSettings,
    /// Directory of the session's journal.
    pub store_dir: PathBuf,
    /// Control time per wall-clock time (1.0: real time).
    pub speed: f64,
    /// `SO_BUSY_POLL` for the FIX socket, µs.
    pub busy_poll_us: Option<u32>,
    /// Never sleep in the poll: lowest latency, one core always busy.
    pub spin: bool,
}

/// What a venue did, for its summary and the tests.
#[derive(Clone, Debug, Default)]
pub struct VenueStats {
    /// Logons accepted.
    pub logons: u64,
    /// Orders received, by action: new, cancel, replace.
    pub orders: [u64; 3],
    /// Orders that did not decode (rejected at the session level).
    pub malformed_orders: u64,
    /// Orders whose ClOrdID was seen before (rejected).
    pub duplicate_cl_ord_ids: u64,
    /// PossDup resends of orders already handled (ignored).
    pub possdup_ignored: u64,
    /// Orders that arrived once the session was closing (not executed).
    pub orders_after_logout: u64,
    /// Execution reports and cancel rejects sent (first time).
    pub reports: u64,
    /// Unsolicited cancels sent after a restart.
    pub restart_cancels: u64,
    /// Market-data records published and dropped.
    pub md_sent: u64,
    /// Market-data records that could not be sent.
    pub md_dropped: u64,
    /// Fill reports in the store (this process's and its predecessors'): count,
    /// and signed filled quantity per instrument (buys positive).
    pub fills_in_store: u64,
    /// Net filled quantity per instrument over the store.
    pub net_filled_qty: Vec<i64>,
    /// Total filled quantity over the store (absolute).
    pub filled_qty_in_store: i64,
}

/// The venue process's state. See the module docs.
pub struct VenueServer {
    set: VenueSettings,
    world: SimWorld,
    inst: Instruments,
    fix42: bool,
    listener: mio::net::TcpListener,
    poll: mio::Poll,
    events: mio::Events,
    conn: Option<Connection>,
    session: Session<JournalStore>,
    md: Option<UdpMdPublisher>,
    /// ClOrdIDs handled, with (instrument, side, order qty, cum qty, open).
    known: BTreeMap<u64, OwnOrder>,
    next_exec_id: u64,
    dec: FixDecoder,
    inbox: Vec<u8>,
    inbox_ends: Vec<usize>,
    start_ns: u64,
    t0: Instant,
    stats: VenueStats,
}

#[derive(Clone, Copy, Debug)]
struct OwnOrder {
    instrument: u32,
    side: Side,
    qty: i64,
    cum: i64,
    open: bool,
    venue_id: u64,
}

const LISTENER: mio::Token = mio::Token(0);
const CONN: mio::Token = mio::Token(1);

impl VenueServer {
    /// A venue for `cfg` (instruments, crowd; its latencies are ignored) with `set`.
    /// Opens the session journal (resuming it), binds the listener, and prepares
    /// cancels for orders a previous process left open.
    pub fn new(cfg: &Config, set: VenueSettings) -> std::io::Result<Self> {
        let mut c = cfg.clone();
        c.venue.entry_latency_ns = 0;
        c.venue.ack_latency_ns = 0;
        c.venue.md_latency_ns = 0;
        let store = JournalStore::open(&set.store_dir).map_err(std::io::Error::other)?;
        let inst = Instruments::new(&cfg.instruments);
        let mut known = BTreeMap::new();
        let mut max_exec = 0u64;
        let mut dec = FixDecoder::new();
        let mut last_ts = 0u64;
        for (_, msg) in store.sent() {
            let Ok(m) = dec.decode(msg) else { continue };
            max_exec = max_exec.max(m.u64(17).ok().flatten().unwrap_or(0));
            if let Some(t) = m.get(60).and_then(foxtrot_fix::app::parse_utc_timestamp) {
                last_ts = last_ts.max(t);
            }
            if m.msg_type() != b"8" {
                continue;
            }
            let (Some(cl), Some((i, _, qd))) = (m.u64(11).ok().flatten(), m.get(55).and_then(|s| inst.find(s))) else {
                continue;
            };
            let side = if m.get(54) == Some(b"2") { Side::Sell } else { Side::Buy };
            let status = m.char(39).ok().flatten().unwrap_or(b'8');
            let e = OwnOrder {
                instrument: i,
                side,
                qty: m.fixed(38, qd).ok().flatten().unwrap_or(0),
                cum: m.fixed(14, qd).ok().flatten().unwrap_or(0),
                open: matches!(status, b'0' | b'1' | b'5' | b'6' | b'A' | b'E'),
                venue_id: m.u64(37).ok().flatten().unwrap_or(0),
            };
            known.insert(cl, e);
            // A replace report closes the order it replaced.
            if let Some(orig) = m.u64(41).ok().flatten() {
                if m.get(150) == Some(b"5") {
                    if let Some(o) = known.get_mut(&orig) {
                        o.open = false;
                    }
                }
            }
        }
        // A restarted venue's clock carries on after the last report it sent
        // (the crowd starts afresh from there), so time never runs backwards
        // for the engine across the restart.
        if last_ts >= c.gen.start_ns {
            c.gen.start_ns = last_ts + 1_000_000;
        }
        let listener = mio::net::TcpListener::bind(set.listen)?;
        let poll = mio::Poll::new()?;
        let mut listener = listener;
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)?;
        let md = set.market_data.map(UdpMdPublisher::new).transpose()?;
        let session = Session::new(set.session.clone(), Role::Acceptor, store);
        let mut v = VenueServer {
            fix42: set.session.begin_string == "FIX.4.2",
            world: SimWorld::new(&c),
            inst,
            listener,
            poll,
            events: mio::Events::with_capacity(16),
            conn: None,
            session,
            md,
            known,
            next_exec_id: max_exec + 1,
            dec: FixDecoder::new(),
            inbox: Vec::with_capacity(1 << 16),
            inbox_ends: Vec::with_capacity(256),
            start_ns: c.gen.start_ns,
            t0: Instant::now(),
            stats: VenueStats::default(),
            set,
        };
        v.cancel_forgotten();
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

    /// Orders the store says are open belong to a book that no longer exists.
    fn cancel_forgotten(&mut self) {
        let open: Vec<(u64, OwnOrder)> = self
            .known
            .iter()
            .filter(|(_, o)| o.open)
            .map(|(k, o)| (*k, *o))
            .collect();
        let now = self.now();
        for (cl, o) in open {
            let mut e = ExecReport::new(ExecKind::Canceled, o.instrument, o.side, now);
            e.cl_ord_id = cl;
            e.venue_order_id = o.venue_id;
            e.order_qty = o.qty;
            e.cum_qty = o.cum;
            e.leaves_qty = 0;
            self.report(&e, Some("venue restarted"));
            self.stats.restart_cancels += 1;
        }
    }

    /// Sends one report through the session: stored for resend whether or not
    /// the engine is connected. Returns its MsgType.
    fn send_report(&mut self, e: &ExecReport, text: Option<&str>) -> &'static str {
        let (mt, mut fields) = exec_to_fix(e, &self.inst, self.next_exec_id, self.fix42);
        self.next_exec_id += 1;
        if let Some(t) = text {
            fields.push((58, t.to_string()));
        }
        let refs: Vec<(u32, &str)> = fields.iter().map(|(t, v)| (*t, v.as_str())).collect();
        self.session.send(mt, &refs, wall_ns());
        self.stats.reports += 1;
        mt
    }

    /// Sends one report ([`send_report`](Self::send_report)) and tracks the
    /// order's state from it.
    fn report(&mut self, e: &ExecReport, text: Option<&str>) {
        if self.send_report(e, text) == "8" {
            let open = !matches!(
                e.kind(),
                Some(ExecKind::Fill | ExecKind::Canceled | ExecKind::Rejected | ExecKind::Replaced)
            );
            let entry = self.known.entry(e.cl_ord_id).or_insert(OwnOrder {
                instrument: e.header.instrument,
                side: e.side().unwrap_or(Side::Buy),
                qty: e.order_qty,
                cum: 0,
                open,
                venue_id: e.venue_order_id,
            });
            entry.cum = e.cum_qty;
            entry.open = open;
            entry.qty = e.order_qty;
            if e.kind() == Some(ExecKind::Replaced) {
                // The replacement lives on under the new ClOrdID.
                entry.open = e.leaves_qty > 0;
                if let Some(o) = self.known.get_mut(&e.orig_cl_ord_id) {
                    o.open = false;
                }
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

    /// Logs the session out (waiting up to a second for the engine's answer) and
    /// flushes the market data.
    pub fn shutdown(&mut self) {
        if let Some(md) = &mut self.md {
            md.flush();
        }
        if self.conn.is_none() || self.session.status() != Status::Active {
            return;
        }
        self.session.logout("venue shutting down", wall_ns());
        let end = Instant::now() + Duration::from_secs(1);
        while self.conn.is_some() && Instant::now() < end {
            self.serve(self.now());
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// One pass: advance the world to now, serve the connection, wait briefly.
    pub fn step(&mut self) -> std::io::Result<()> {
        let now = self.now();
        self.advance(now);
        self.accept()?;
        self.serve(now);
        self.advance(self.now());
        if let Some(md) = &mut self.md {
            md.flush();
            self.stats.md_sent = md.sent;
            self.stats.md_dropped = md.dropped;
        }
        let wait = if self.set.spin {
            Duration::ZERO
        } else {
            Duration::from_micros(200)
        };
        match self.poll.poll(&mut self.events, Some(wait)) {
            // A signal (the one that stops the venue, say) is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::Interrupted => Err(e),
            _ => Ok(()),
        }
    }

    /// Runs the world up to control time `now`: market data out over UDP, our
    /// reports out over FIX.
    fn advance(&mut self, now: u64) {
        while let Polled::Input(slot) = self.world.poll_before(now) {
            match slot.view() {
                Some(InputView::Md(m)) => {
                    if let Some(md) = &mut self.md {
                        md.push(m);
                    }
                }
                Some(InputView::Exec(e)) => {
                    let e = *e;
                    self.report(&e, None);
                }
                _ => {}
            }
        }
    }

    fn accept(&mut self) -> std::io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if self.conn.is_some() {
                        // One session at a time: refuse the newcomer.
                        drop(stream);
                        continue;
                    }
                    let mut c = Connection::new(stream, self.set.busy_poll_us)?;
                    self.poll
                        .registry()
                        .register(c.stream(), CONN, mio::Interest::READABLE)?;
                    self.session.reconnect();
                    self.conn = Some(c);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads and answers the connection; orders go into the world at `now`
    /// (after the session has taken the whole read, so the reports they cause
    /// follow the session's own answers).
    fn serve(&mut self, now: u64) {
        let Some(conn) = &mut self.conn else { return };
        let was_active = self.session.status() == Status::Active;
        let (inbox, ends) = (&mut self.inbox, &mut self.inbox_ends);
        inbox.clear();
        ends.clear();
        let mut r = pump(conn, &mut self.session, wall_ns(), |m, _| {
            inbox.extend_from_slice(m);
            ends.push(inbox.len());
        });
        if !was_active && self.session.status() == Status::Active {
            self.stats.logons += 1;
        }
        let inbox = std::mem::take(&mut self.inbox);
        let mut start = 0;
        for i in 0..self.inbox_ends.len() {
            let end = self.inbox_ends[i];
            self.on_app(&inbox[start..end], now);
            start = end;
        }
        self.inbox = inbox;
        if r.is_ok() {
            if let Some(conn) = &mut self.conn {
                r = flush(conn, &mut self.session);
            }
        }
        if r.is_err() {
            if let Some(mut conn) = self.conn.take() {
                let _ = self.poll.registry().deregister(conn.stream());
            }
        }
    }

    /// One application message from the engine.
    fn on_app(&mut self, raw: &[u8], now: u64) {
        let Ok(m) = self.dec.decode(raw) else { return };
        let possdup = m.get(43) == Some(b"Y");
        let mut o = match order_from_fix(&m, &self.inst, now) {
            Ok(o) => o,
            Err(e) => {
                self.stats.malformed_orders += 1;
                let seq = m.u64(34).ok().flatten().unwrap_or(0).to_string();
                let tag = e.tag().map(|t| t.to_string());
                let text = e.to_string();
                let mut f: Vec<(u32, &str)> = vec![(45, &seq)];
                if let Some(t) = &tag {
                    f.push((371, t));
                }
                f.push((373, "5"));
                f.push((58, &text));
                self.session.send("3", &f, wall_ns());
                return;
            }
        };
        o.header.ts_ns = now;
        let action = o.action().unwrap_or(OrderAction::New);
        self.stats.orders[match action {
            OrderAction::New => 0,
            OrderAction::Cancel => 1,
            OrderAction::Replace => 2,
        }] += 1;
        if self.session.status() != Status::Active {
            // The session is closing (a Logout was sent or received): nothing
            // more trades, or it would be reported to a peer no longer reading.
            self.stats.orders_after_logout += 1;
            return;
        }
        if self.known.contains_key(&o.cl_ord_id) {
            if possdup {
                self.stats.possdup_ignored += 1;
                return;
            }
            self.stats.duplicate_cl_ord_ids += 1;
            let mut e = ExecReport::new(
                ExecKind::Rejected,
                o.header.instrument,
                o.side().unwrap_or(Side::Buy),
                now,
            );
            e.cl_ord_id = o.cl_ord_id;
            e.orig_cl_ord_id = o.orig_cl_ord_id;
            e.order_qty = o.qty;
            e.order_px = o.px;
            e.reason = VenueReject::DuplicateClOrdId as u8;
            // Not tracked: the ClOrdID belongs to the original order.
            self.send_report(&e, None);
            return;
        }
        self.world.send(&o, &[]);
        self.advance(now);
    }

    /// The summary: counters, plus the fills recorded in the store.
    pub fn stats(&mut self) -> VenueStats {
        let mut s = self.stats.clone();
        s.net_filled_qty = vec![0; self.inst.len()];
        s.fills_in_store = 0;
        s.filled_qty_in_store = 0;
        {
            let mut dec = FixDecoder::new();
            for (_, msg) in self.session.store().sent() {
                let Ok(m) = dec.decode(msg) else { continue };
                let Ok(Some(x)) = foxtrot_fix::app::exec_from_fix(&m, &self.inst, 0) else {
                    continue;
                };
                if x.kind().is_some_and(ExecKind::is_fill) {
                    s.fills_in_store += 1;
                    s.filled_qty_in_store += x.last_qty;
                    let q = if x.side() == Some(Side::Sell) {
                        -x.last_qty
                    } else {
                        x.last_qty
                    };
                    if let Some(n) = s.net_filled_qty.get_mut(x.header.instrument as usize) {
                        *n += q;
                    }
                }
            }
        }
        s
    }

    /// Logons accepted so far (cheap, unlike [`stats`](Self::stats)).
    pub fn logons(&self) -> u64 {
        self.stats.logons
    }

    /// Whether an engine is connected.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The session's next outbound and expected sequence numbers.
    pub fn seqs(&self) -> (u64, u64) {
        self.session.store().seqs()
    }
}
