//! Publishing ITCH over MoldUDP64, with a retransmission server: the sending
//! side of what [`MoldUdpFeed`](crate::transport::MoldUdpFeed) receives.
//!
//! Messages are packed into MoldUDP64 packets of at most `mtu` bytes
//! ([`PacketWriter`]) and sent to the feed's destination (unicast or a
//! multicast group). Every message sent is kept, up to `history` messages, so a
//! receiver that lost some can ask for them again: a **request** is a packet
//! header alone — session, the first sequence number wanted, the number of
//! messages wanted — sent to the retransmission port; the answer is the same
//! messages in ordinary packets, sent back to the requester. Messages older than
//! the history are not answered (the receiver declares them lost). When nothing
//! was sent for a second a heartbeat (count 0, the next sequence number) goes
//! out, so a receiver learns of a loss at the end of a burst.
//!
//! Nothing blocks: a full socket buffer drops the packet (counted; a receiver
//! recovers it by request).

use super::mold::{PacketWriter, HEADER_LEN};
use foxtrot_net::{Datagrams, KernelUdp};
use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Counters of a publisher.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublisherStats {
    /// Messages published.
    pub messages: u64,
    /// Packets sent (first time).
    pub packets: u64,
    /// Packets the socket refused (buffer full).
    pub dropped: u64,
    /// Retransmission requests answered.
    pub requests: u64,
    /// Messages sent again on request.
    pub resent: u64,
    /// Requests for messages no longer (or never) held.
    pub unanswerable: u64,
}

/// See the module docs.
pub struct MoldPublisher {
    net: Box<dyn Datagrams>,
    dest: SocketAddr,
    writer: PacketWriter,
    session: [u8; 10],
    mtu: usize,
    /// (seq, message) of the last `history` messages.
    history: VecDeque<(u64, Vec<u8>)>,
    max_history: usize,
    rtx: Option<UdpSocket>,
    last_sent: Instant,
    next_seq: u64,
    stats: PublisherStats,
}

impl MoldPublisher {
    /// A publisher of `session` to `dest`, answering retransmission requests on
    /// `retransmit` if given, keeping `history` messages.
    pub fn new(
        session: &str,
        dest: SocketAddr,
        retransmit: Option<SocketAddr>,
        history: usize,
    ) -> std::io::Result<Self> {
        let bind: SocketAddr = if dest.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = UdpSocket::bind(bind)?;
        let _ = foxtrot_net::sockopt::set_int_option(&sock, libc::SOL_SOCKET, libc::SO_SNDBUF, 4 << 20);
        Self::with_sender(session, Box::new(KernelUdp::from_std(sock)?), dest, retransmit, history)
    }

    /// As [`new`](Self::new), publishing through `net` (a kernel socket, or
    /// AF_XDP's transmit ring); the retransmission server stays a kernel socket.
    pub fn with_sender(
        session: &str,
        net: Box<dyn Datagrams>,
        dest: SocketAddr,
        retransmit: Option<SocketAddr>,
        history: usize,
    ) -> std::io::Result<Self> {
        let rtx = match retransmit {
            Some(a) => {
                let s = UdpSocket::bind(a)?;
                s.set_nonblocking(true)?;
                Some(s)
            }
            None => None,
        };
        let writer = PacketWriter::new(session, 1, 1400);
        let mut s = [b' '; 10];
        for (d, c) in s.iter_mut().zip(session.bytes()) {
            *d = c;
        }
        Ok(MoldPublisher {
            net,
            dest,
            writer,
            session: s,
            mtu: 1400,
            history: VecDeque::with_capacity(history.min(1 << 20)),
            max_history: history.max(1),
            rtx,
            last_sent: Instant::now(),
            next_seq: 1,
            stats: PublisherStats::default(),
        })
    }

    /// The retransmission server's address, if it has one.
    pub fn retransmit_addr(&self) -> Option<SocketAddr> {
        self.rtx.as_ref().and_then(|s| s.local_addr().ok())
    }

    /// What it sends through.
    pub fn path(&self) -> String {
        self.net.describe()
    }

    /// The counters.
    pub fn stats(&self) -> &PublisherStats {
        &self.stats
    }

    fn send(&mut self, p: &[u8]) {
        match self.net.send_to(p, self.dest) {
            Ok(_) => self.stats.packets += 1,
            Err(_) => self.stats.dropped += 1,
        }
        self.last_sent = Instant::now();
    }

    /// Queues one message (sent when its packet is full, or at [`flush`](Self::flush)).
    pub fn push(&mut self, msg: &[u8]) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.history.len() == self.max_history {
            self.history.pop_front();
        }
        self.history.push_back((seq, msg.to_vec()));
        self.stats.messages += 1;
        if let Some(p) = self.writer.push(msg) {
            self.send(&p);
        }
    }

    /// Sends the packet being built; a heartbeat if nothing went out for a
    /// second; answers retransmission requests.
    pub fn flush(&mut self) {
        if let Some(p) = self.writer.flush() {
            self.send(&p);
        } else if self.last_sent.elapsed() >= Duration::from_secs(1) {
            let hb = self.writer.heartbeat();
            self.send(&hb);
        }
        self.serve_requests();
    }

    /// Answers the retransmission requests waiting on the server's socket.
    pub fn serve_requests(&mut self) {
        let Some(rtx) = self.rtx.take() else { return };
        let mut buf = [0u8; 64];
        while let Ok((n, from)) = rtx.recv_from(&mut buf) {
            if n < HEADER_LEN || buf[..10] != self.session {
                continue;
            }
            let first = u64::from_be_bytes(buf[10..18].try_into().expect("8 bytes"));
            let count = u16::from_be_bytes([buf[18], buf[19]]) as u64;
            self.stats.requests += 1;
            let oldest = self.history.front().map_or(u64::MAX, |(s, _)| *s);
            if first < oldest || count == 0 {
                self.stats.unanswerable += 1;
                continue;
            }
            let start = (first - oldest) as usize;
            let mut w = PacketWriter::new("", first, self.mtu);
            w.set_session(self.session);
            let mut sent = 0u64;
            for (_, m) in self.history.iter().skip(start).take(count as usize) {
                if let Some(p) = w.push(m) {
                    let _ = rtx.send_to(&p, from);
                }
                sent += 1;
            }
            if let Some(p) = w.flush() {
                let _ = rtx.send_to(&p, from);
            }
            self.stats.resent += sent;
        }
        self.rtx = Some(rtx);
    }

    /// Ends the session: the last packet, then an end-of-session packet.
    pub fn end(&mut self) {
        if let Some(p) = self.writer.flush() {
            self.send(&p);
        }
        let mut p = self.writer.heartbeat();
        p[18..20].copy_from_slice(&super::mold::END_OF_SESSION.to_be_bytes());
        self.send(&p);
    }
}
