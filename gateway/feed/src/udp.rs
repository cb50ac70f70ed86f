//! Native market data over UDP: how `foxtrot venue` publishes its book events and
//! how the engine's FIX venue link receives them.
//!
//! ## Datagram
//! ```text
//! header = magic "FXMU" | count u16 | reserved u16 | first_seq u64      (16 bytes)
//! body   = count × the 64-byte MarketData layout (seq and tsc written as 0)
//! ```
//! All integers little-endian; `first_seq` numbers the first record, the next
//! datagram starts where this one ends, so a receiver sees every lost record as a
//! gap. At most [`MAX_BATCH`] records per datagram (1,296 bytes, under any MTU).
//!
//! Like a venue's multicast feed, publishing never waits for a receiver: a send
//! that fails (nobody listening, buffer full) is counted and the data is gone. The
//! receiver reports gaps and malformed datagrams as data-quality findings and
//! passes every well-formed record on.

use super::transport::{Feed, Next};
use foxtrot_engine::records::{DqCode, DqEvent};
use foxtrot_engine::records::{Kind, MarketData};
use foxtrot_net::{Datagrams, KernelUdp};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

/// Datagram magic.
pub const MAGIC: &[u8; 4] = b"FXMU";
/// Header size.
pub const HEADER: usize = 16;
/// Records per datagram at most.
pub const MAX_BATCH: usize = 20;
const REC: usize = core::mem::size_of::<MarketData>();
const _: () = assert!(REC == 64);
/// Largest datagram.
pub const MAX_DATAGRAM: usize = HEADER + MAX_BATCH * REC;

/// The venue's end: batches records into datagrams and sends them.
pub struct UdpMdPublisher {
    sock: std::net::UdpSocket,
    dest: SocketAddr,
    buf: Vec<u8>,
    count: usize,
    next_seq: u64,
    /// Records in datagrams the kernel took.
    pub sent: u64,
    /// Records in datagrams that could not be sent.
    pub dropped: u64,
}

impl UdpMdPublisher {
    /// A publisher sending to `dest` from an ephemeral port, numbering from 1.
    pub fn new(dest: SocketAddr) -> std::io::Result<Self> {
        let bind: SocketAddr = if dest.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = std::net::UdpSocket::bind(bind)?;
        sock.set_nonblocking(true)?;
        let _ = foxtrot_net::sockopt::set_int_option(&sock, libc::SOL_SOCKET, libc::SO_SNDBUF, 4 << 20);
        Ok(UdpMdPublisher {
            sock,
            dest,
            buf: Vec::with_capacity(MAX_DATAGRAM),
            count: 0,
            next_seq: 1,
            sent: 0,
            dropped: 0,
        })
    }

    /// Adds one record, sending the datagram when it is full.
    pub fn push(&mut self, md: &MarketData) {
        if self.count == 0 {
            self.buf.clear();
            self.buf.extend_from_slice(MAGIC);
            self.buf.extend_from_slice(&[0u8; 4]);
            self.buf.extend_from_slice(&self.next_seq.to_le_bytes());
        }
        let mut m = *md;
        m.header.seq = 0;
        m.header.tsc = 0;
        self.buf.extend_from_slice(bytemuck::bytes_of(&m));
        self.count += 1;
        if self.count == MAX_BATCH {
            self.flush();
        }
    }

    /// Sends what is batched.
    pub fn flush(&mut self) {
        if self.count == 0 {
            return;
        }
        self.buf[4..6].copy_from_slice(&(self.count as u16).to_le_bytes());
        match self.sock.send_to(&self.buf, self.dest) {
            Ok(_) => self.sent += self.count as u64,
            Err(_) => self.dropped += self.count as u64,
        }
        self.next_seq += self.count as u64;
        self.count = 0;
    }
}

/// The engine's end: a [`Feed`] of the records of a [`UdpMdPublisher`].
pub struct UdpMdFeed {
    net: Box<dyn Datagrams>,
    buf: Box<[u8; 2048]>,
    q: VecDeque<Next>,
    /// Next record number expected (0: take the first datagram's).
    expected: u64,
    /// Records lost (gaps), as reported.
    pub lost: u64,
    /// Malformed datagrams.
    pub malformed: u64,
}

impl UdpMdFeed {
    /// Listens on `addr` with a kernel socket.
    pub fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self::over(Box::new(KernelUdp::bind(addr)?)))
    }

    /// Receives through `net` (a kernel socket, or AF_XDP).
    pub fn over(net: Box<dyn Datagrams>) -> Self {
        UdpMdFeed {
            net,
            buf: Box::new([0u8; 2048]),
            q: VecDeque::with_capacity(2 * MAX_BATCH),
            expected: 0,
            lost: 0,
            malformed: 0,
        }
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.net.local_addr()
    }

    fn datagram(&mut self, n: usize) {
        let d = &self.buf[..n];
        let count = if n >= HEADER && &d[..4] == MAGIC {
            u16::from_le_bytes([d[4], d[5]]) as usize
        } else {
            usize::MAX
        };
        if count == 0 || count > MAX_BATCH || n != HEADER + count * REC {
            self.malformed += 1;
            let q = DqEvent::new(DqCode::Decode, u32::MAX, 0, n as i64, -1);
            self.q.push_back(Next::Quality(q));
            return;
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&d[8..16]);
        let first = u64::from_le_bytes(s);
        if self.expected != 0 && first != self.expected {
            if first > self.expected {
                let lost = first - self.expected;
                self.lost += lost;
                let q = DqEvent::new(DqCode::Gap, u32::MAX, 0, self.expected as i64, lost as i64);
                self.q.push_back(Next::Quality(q));
            } else {
                // Older than what was already seen: the publisher restarted (its
                // numbering starts again) or the network duplicated it.
                let q = DqEvent::new(DqCode::OutOfOrder, u32::MAX, 0, first as i64, self.expected as i64);
                self.q.push_back(Next::Quality(q));
            }
        }
        self.expected = first + count as u64;
        for r in d[HEADER..].chunks_exact(REC) {
            let md: MarketData = bytemuck::pod_read_unaligned(r);
            if md.header.kind == Kind::MarketData as u8 {
                self.q.push_back(Next::Event(md));
            } else {
                let q = DqEvent::new(DqCode::Decode, md.header.instrument, md.header.ts_ns, -1, -1);
                self.q.push_back(Next::Quality(q));
            }
        }
    }
}

impl Feed for UdpMdFeed {
    fn socket(&self) -> Option<std::os::fd::RawFd> {
        Some(self.net.fd())
    }

    fn receive_path(&self) -> Option<String> {
        Some(self.net.describe())
    }

    fn receive_counters(&self) -> String {
        self.net.counters()
    }

    fn next(&mut self) -> Next {
        loop {
            if let Some(n) = self.q.pop_front() {
                return n;
            }
            match self.net.recv_from(&mut self.buf[..]) {
                Ok((n, _)) => self.datagram(n),
                Err(_) => return Next::Idle,
            }
        }
    }

    fn wait(&mut self, timeout: Duration) {
        self.net.wait(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_engine::records::{flags, MdAction, Side};

    fn md(i: u64) -> MarketData {
        MarketData::new(
            MdAction::Add,
            0,
            Some(Side::Buy),
            1_000 + i,
            i,
            100 * i as i64,
            10,
            flags::LAST_IN_BATCH,
        )
    }

    fn drain(feed: &mut UdpMdFeed, want: usize) -> Vec<Next> {
        let mut got = Vec::new();
        let t0 = std::time::Instant::now();
        while got.len() < want && t0.elapsed() < Duration::from_secs(5) {
            match feed.next() {
                Next::Idle => feed.wait(Duration::from_millis(5)),
                n => got.push(n),
            }
        }
        got
    }

    #[test]
    fn records_arrive_in_order_over_loopback_and_a_lost_datagram_is_one_gap() {
        let mut feed = UdpMdFeed::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let mut publ = UdpMdPublisher::new(feed.local_addr().unwrap()).unwrap();
        for i in 0..45 {
            publ.push(&md(i));
        }
        publ.flush();
        let got = drain(&mut feed, 45);
        let evs: Vec<MarketData> = got
            .iter()
            .filter_map(|n| match n {
                Next::Event(m) => Some(*m),
                _ => None,
            })
            .collect();
        assert_eq!(evs.len(), 45, "{got:?}");
        for (i, m) in evs.iter().enumerate() {
            assert_eq!(*m, md(i as u64));
        }
        // Skip a datagram's worth of numbers, as a lost datagram would.
        publ.next_seq += 7;
        publ.push(&md(99));
        publ.flush();
        let got = drain(&mut feed, 2);
        assert!(
            matches!(got[0], Next::Quality(q) if q.code == DqCode::Gap as u16 && q.a == 46 && q.b == 7),
            "{got:?}"
        );
        assert_eq!(got[1], Next::Event(md(99)));
        assert_eq!(feed.lost, 7);
    }

    #[test]
    fn malformed_datagrams_are_findings_not_panics() {
        let mut feed = UdpMdFeed::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = feed.local_addr().unwrap();
        let mut wrong_count = Vec::from(&MAGIC[..]);
        wrong_count.extend_from_slice(&[3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        wrong_count.extend_from_slice(&[0u8; 64]);
        for d in [&b"hello"[..], &wrong_count[..], &[0u8; 80][..]] {
            s.send_to(d, to).unwrap();
        }
        let got = drain(&mut feed, 3);
        assert_eq!(got.len(), 3);
        assert!(got
            .iter()
            .all(|n| matches!(n, Next::Quality(q) if q.code == DqCode::Decode as u16)));
        assert_eq!(feed.malformed, 3);
    }
}
