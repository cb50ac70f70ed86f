//! Publishing ITCH over MoldUDP64, with a retransmission server: the sending
//! side of what [`MoldUdpFeed`](crate::transport::MoldUdpFeed) receives.
//!
//! Messages are packed into MoldUDP64 packets of at most `mtu` bytes
//! ([`PacketWriter`]) and sent to the feed's destination (unicast or a
//! multicast group). Every message sent is kept, up to `history` messages, so a
//! receiver that lost some can ask for them again: a **request** is a packet
//! header alone — session, the first sequence number wanted, the number of
//! messages wanted — sent to the retransmission port; the answer is one
//! ordinary packet, sent back to the requester, holding the messages asked for
//! from the first, as many as fit (MoldUDP64 1.00: "a standard Downstream
//! Packet"; the receiver asks for the rest). Messages older than
//! the history are not answered (the receiver declares them lost). When nothing
//! was sent for a second a heartbeat (count 0, the next sequence number) goes
//! out, so a receiver learns of a loss at the end of a burst.
//!
//! Nothing blocks: a full socket buffer drops the packet (counted; a receiver
//! recovers it by request). Nothing is allocated per message once the history
//! has filled: messages are kept in one byte ring, and packets are sent from
//! the packet writer's buffer.

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

/// The last `max` messages published, in one byte ring: no allocation per
/// message once the ring has grown to hold them.
struct History {
    /// The messages' bytes, oldest first.
    bytes: VecDeque<u8>,
    /// Where each message ends, counted in bytes ever kept (so an entry
    /// stays valid as older messages leave the front).
    ends: VecDeque<u64>,
    /// Bytes ever kept that have left the front.
    base: u64,
    /// The sequence number the next message takes (the first is 1).
    next: u64,
    max: usize,
}

impl History {
    fn new(max: usize) -> Self {
        History {
            bytes: VecDeque::new(),
            ends: VecDeque::with_capacity(max.min(1 << 20)),
            base: 0,
            next: 1,
            max: max.max(1),
        }
    }

    /// Keeps the next message, dropping the oldest when full.
    fn push(&mut self, msg: &[u8]) {
        if self.ends.len() == self.max {
            let end = self.ends.pop_front().expect("a full history holds messages");
            self.bytes.drain(..(end - self.base) as usize);
            self.base = end;
        }
        self.bytes.extend(msg);
        self.ends.push_back(self.base + self.bytes.len() as u64);
        self.next += 1;
    }

    /// The sequence number of the oldest message kept (none kept: `u64::MAX`).
    fn oldest(&self) -> u64 {
        if self.ends.is_empty() {
            u64::MAX
        } else {
            self.next - self.ends.len() as u64
        }
    }

    /// Copies up to `count` messages from sequence number `first` (at or after
    /// the oldest kept) into `scratch`, one at a time, for `each`, until it
    /// returns false.
    fn each_from(&self, first: u64, count: u64, scratch: &mut Vec<u8>, mut each: impl FnMut(&[u8]) -> bool) {
        let skip = (first - self.oldest()) as usize;
        let mut start = match skip {
            0 => self.base,
            k => match self.ends.get(k - 1) {
                Some(&e) => e,
                None => return,
            },
        };
        for &end in self.ends.iter().skip(skip).take(count as usize) {
            scratch.clear();
            scratch.extend(
                self.bytes
                    .range((start - self.base) as usize..(end - self.base) as usize),
            );
            if !each(scratch) {
                return;
            }
            start = end;
        }
    }
}

/// Where packets go, and what became of them.
struct Out {
    net: Box<dyn Datagrams>,
    dest: SocketAddr,
    stats: PublisherStats,
    last_sent: Instant,
}

impl Out {
    /// Sends one packet, counting it as sent or dropped.
    fn send(&mut self, p: &[u8]) {
        match self.net.send_to(p, self.dest) {
            Ok(_) => self.stats.packets += 1,
            Err(_) => self.stats.dropped += 1,
        }
        self.last_sent = Instant::now();
    }
}

/// See the module docs.
pub struct MoldPublisher {
    out: Out,
    writer: PacketWriter,
    session: [u8; 10],
    mtu: usize,
    history: History,
    /// A message copied out of the history for a retransmission.
    scratch: Vec<u8>,
    rtx: Option<UdpSocket>,
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
            out: Out {
                net,
                dest,
                stats: PublisherStats::default(),
                last_sent: Instant::now(),
            },
            writer,
            session: s,
            mtu: 1400,
            history: History::new(history),
            scratch: Vec::new(),
            rtx,
        })
    }

    /// The retransmission server's address, if it has one.
    pub fn retransmit_addr(&self) -> Option<SocketAddr> {
        self.rtx.as_ref().and_then(|s| s.local_addr().ok())
    }

    /// What it sends through.
    pub fn path(&self) -> String {
        self.out.net.describe()
    }

    /// The counters.
    pub fn stats(&self) -> &PublisherStats {
        &self.out.stats
    }

    /// Queues one message (sent when its packet is full, or at [`flush`](Self::flush)).
    pub fn push(&mut self, msg: &[u8]) {
        self.history.push(msg);
        self.out.stats.messages += 1;
        let out = &mut self.out;
        self.writer.push_to(msg, &mut |p| out.send(p));
    }

    /// Sends the packet being built; a heartbeat if nothing went out for a
    /// second; answers retransmission requests.
    pub fn flush(&mut self) {
        let out = &mut self.out;
        self.writer.flush_to(&mut |p| out.send(p));
        if self.out.last_sent.elapsed() >= Duration::from_secs(1) {
            let hb = self.writer.heartbeat();
            self.out.send(&hb);
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
            self.out.stats.requests += 1;
            let oldest = self.history.oldest();
            if first < oldest || count == 0 {
                self.out.stats.unanswerable += 1;
                continue;
            }
            // One packet (MoldUDP64 1.00: the answer is "a standard Downstream
            // Packet"): the messages asked for from `first`, as many as fit.
            // The receiver asks for the rest as it arrives; a 20-byte request
            // never brings a burst of packets down on its sender.
            let mut w = PacketWriter::new("", first, self.mtu);
            w.set_session(self.session);
            let mut sent = 0u64;
            self.history.each_from(first, count, &mut self.scratch, |m| {
                let fits = w.fits(m);
                if fits {
                    w.push_to(m, &mut |_| {});
                    sent += 1;
                }
                fits
            });
            w.flush_to(&mut |p| {
                let _ = rtx.send_to(p, from);
            });
            self.out.stats.resent += sent;
        }
        self.rtx = Some(rtx);
    }

    /// Ends the session: the last packet, then an end-of-session packet.
    pub fn end(&mut self) {
        let out = &mut self.out;
        self.writer.flush_to(&mut |p| out.send(p));
        let mut p = self.writer.heartbeat();
        p[18..20].copy_from_slice(&super::mold::END_OF_SESSION.to_be_bytes());
        self.out.send(&p);
    }
}

#[cfg(test)]
mod tests {
    use super::{History, MoldPublisher};
    use crate::itch::mold::MoldPacket as Packet;
    use proptest::prelude::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    /// A request for more messages than a packet holds is answered with one
    /// packet, from the first asked for, as full as the MTU allows (MoldUDP64
    /// 1.00); the next request, for the rest, with the next packet.
    #[test]
    fn a_request_is_answered_with_one_packet() {
        let rtx = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut p = MoldPublisher::new("FOXTROT01", sink.local_addr().unwrap(), Some(rtx), 1 << 12).unwrap();
        let msgs: Vec<Vec<u8>> = (0..500u32).map(|i| vec![b'S'; 20 + (i % 7) as usize]).collect();
        for m in &msgs {
            p.push(m);
        }
        p.flush();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut next = 3u64;
        for _ in 0..2 {
            let mut r = b"FOXTROT01 ".to_vec();
            r.extend_from_slice(&next.to_be_bytes());
            r.extend_from_slice(&400u16.to_be_bytes());
            client.send_to(&r, rtx).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            p.serve_requests();
            let mut buf = [0u8; 2048];
            let n = client.recv(&mut buf).expect("an answer");
            let pk = Packet::parse(&buf[..n]).unwrap();
            assert_eq!(pk.seq(), next);
            assert!(n <= 1400 && n + 29 > 1400, "{n} bytes: not as full as the MTU allows");
            for (seq, m) in pk.messages() {
                assert_eq!(m, &msgs[seq as usize - 1][..]);
            }
            next += pk.count() as u64;
            assert!(
                client.recv(&mut [0u8; 2048]).is_err(),
                "a second packet for one request"
            );
        }
        assert_eq!(p.stats().requests, 2);
    }

    proptest! {
        /// The byte ring answers every request as a plain list of the last
        /// `max` messages would, across evictions and the ring's wrap-around.
        #[test]
        fn history_answers_as_a_list_of_the_last_messages(
            max in 1usize..12,
            lens in prop::collection::vec(0usize..60, 1..80),
            first_back in 0u64..16,
            count in 0u64..16,
        ) {
            let mut h = History::new(max);
            let mut model: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut scratch = Vec::new();
            for (i, &len) in lens.iter().enumerate() {
                let seq = i as u64 + 1;
                let msg: Vec<u8> = (0..len).map(|k| (seq as usize * 31 + k) as u8).collect();
                h.push(&msg);
                model.push((seq, msg));
                if model.len() > max {
                    model.remove(0);
                }
                prop_assert_eq!(h.oldest(), model[0].0);
                let first = (seq + 1).saturating_sub(first_back).max(model[0].0);
                let mut got = Vec::new();
                h.each_from(first, count, &mut scratch, |m| {
                    got.push(m.to_vec());
                    true
                });
                let want: Vec<Vec<u8>> = model
                    .iter()
                    .filter(|(s, _)| *s >= first)
                    .take(count as usize)
                    .map(|(_, m)| m.clone())
                    .collect();
                prop_assert_eq!(got, want);
            }
        }
    }
}
