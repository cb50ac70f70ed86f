//! MoldUDP64: how NASDAQ carries ITCH over UDP.
//!
//! ```text
//! packet  = session(10, ASCII) seq(8, u64 BE) count(2, u16 BE) block × count
//! block   = length(2, u16 BE) message(length)
//! ```
//! `seq` is the sequence number of the packet's first message; the next packet's
//! is `seq + count`. A count of 0 is a heartbeat (its `seq` is the next expected),
//! 0xFFFF the end of the session.
//!
//! [`MoldPacket::parse`] checks a datagram completely before any message is used:
//! the header, each block's length against the bytes left, and that nothing
//! trails the last block. [`Sequencer`] turns a stream of packets that may arrive
//! out of order, twice, or not at all into messages in sequence order: a packet
//! from the future is held (up to `window` packets) in case the missing one is
//! only late; when the window is full, or a heartbeat proves the gap, the missing
//! range is declared lost and reported, once, as a [`MoldEvent::Gap`].
//! Duplicates (anything below the next expected number) are counted and dropped.
//!
//! **Recovery** ([`Sequencer::with_recovery`]): a gap is first reported as
//! [`MoldEvent::Missing`] — once per range — so the receiver can ask the
//! publisher's retransmission server for it; a heartbeat beyond the expected
//! number then holds the gap open instead of declaring it lost, the held packets
//! wait, and retransmitted packets fill it in order. Only when the window fills,
//! or the receiver gives up ([`Sequencer::give_up`]), is the rest lost. An end
//! of session behind a gap is held the same way: the gap is asked for, and
//! [`MoldEvent::EndOfSession`] comes after it is filled (or given up), so the
//! last packets of a day are not lost to the end's arrival.
//!
//! **Sessions**: the first packet names the session followed; packets of any
//! other are counted ([`SequencerStats::foreign`]) and dropped, so a stray
//! publisher on the same group changes nothing. A publisher that restarts
//! starts a new session (another name, sequence numbers from 1): the receiver
//! that judges the old one over — silent while the new one speaks — moves to
//! it with [`Sequencer::follow`].

use crate::Error;
use zerocopy::byteorder::big_endian::{U16, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// Bytes in a packet header.
pub const HEADER_LEN: usize = 20;
/// Message count of an end-of-session packet.
pub const END_OF_SESSION: u16 = 0xFFFF;
/// Largest datagram the sequencer keeps (a jumbo frame's payload).
pub const MAX_PACKET: usize = 9000;

/// The packet header.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Header {
    /// Session name, space-padded ASCII.
    pub session: [u8; 10],
    /// Sequence number of the first message.
    pub seq: U64,
    /// Messages in the packet (0 heartbeat, 0xFFFF end of session).
    pub count: U16,
}
const _: () = assert!(size_of::<Header>() == HEADER_LEN);

/// A checked MoldUDP64 packet.
#[derive(Clone, Copy, Debug)]
pub struct MoldPacket<'a> {
    /// The header.
    pub header: &'a Header,
    body: &'a [u8],
}

impl<'a> MoldPacket<'a> {
    /// Checks `b` (header, every block, nothing trailing).
    pub fn parse(b: &'a [u8]) -> Result<Self, Error> {
        let Ok((header, body)) = Header::ref_from_prefix(b) else {
            return Err(Error::ShortPacket { found: b.len() });
        };
        let count = header.count.get();
        let blocks = if count == END_OF_SESSION { 0 } else { count };
        let mut at = 0usize;
        for index in 0..blocks {
            let left = body.len() - at;
            let needed = match body.get(at..at + 2) {
                Some(l) => 2 + u16::from_be_bytes([l[0], l[1]]) as usize,
                None => 2,
            };
            if needed > left {
                return Err(Error::PacketBlock {
                    offset: HEADER_LEN + at,
                    index,
                    count,
                    needed,
                    left,
                });
            }
            at += needed;
        }
        if at != body.len() {
            return Err(Error::PacketTrailing {
                offset: HEADER_LEN + at,
                extra: body.len() - at,
                count,
            });
        }
        Ok(MoldPacket { header, body })
    }

    /// Sequence number of the first message.
    pub fn seq(&self) -> u64 {
        self.header.seq.get()
    }

    /// Messages carried (0 for heartbeats and end of session).
    pub fn count(&self) -> u16 {
        match self.header.count.get() {
            END_OF_SESSION => 0,
            n => n,
        }
    }

    /// Whether this packet ends the session.
    pub fn is_end_of_session(&self) -> bool {
        self.header.count.get() == END_OF_SESSION
    }

    /// `(seq, message)` of each message, in order.
    pub fn messages(&self) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        let (body, seq) = (self.body, self.seq());
        let mut at = 0usize;
        (0..self.count() as u64).map_while(move |i| {
            let l = body.get(at..at + 2)?;
            let n = u16::from_be_bytes([l[0], l[1]]) as usize;
            let m = body.get(at + 2..at + 2 + n)?;
            at += 2 + n;
            // A sequence number that would overflow ends the packet here.
            Some((seq.checked_add(i)?, m))
        })
    }
}

/// Builds MoldUDP64 packets of at most `mtu` bytes from a stream of messages.
pub struct PacketWriter {
    session: [u8; 10],
    next_seq: u64,
    mtu: usize,
    buf: Vec<u8>,
    count: u16,
}

impl PacketWriter {
    /// A writer for `session` (space-padded to 10 bytes) starting at `first_seq`.
    pub fn new(session: &str, first_seq: u64, mtu: usize) -> Self {
        let mut s = [b' '; 10];
        for (d, c) in s.iter_mut().zip(session.bytes()) {
            *d = c;
        }
        let mut w = PacketWriter {
            session: s,
            next_seq: first_seq,
            mtu: mtu.clamp(HEADER_LEN + 64, MAX_PACKET),
            buf: Vec::with_capacity(mtu),
            count: 0,
        };
        w.start();
        w
    }

    fn start(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&self.session);
        self.buf.extend_from_slice(&self.next_seq.to_be_bytes());
        self.buf.extend_from_slice(&0u16.to_be_bytes());
        self.count = 0;
    }

    /// Whether `msg` goes into the packet being built ([`push_to`](Self::push_to)
    /// would not hand it on first): it is empty, or has room for it.
    pub fn fits(&self, msg: &[u8]) -> bool {
        self.count == 0 || (self.buf.len() + 2 + msg.len() <= self.mtu && self.count < END_OF_SESSION - 1)
    }

    /// Adds a message; hands `out` the finished packet first if it would not
    /// fit. Allocates nothing once the packet buffer has grown to the MTU.
    pub fn push_to(&mut self, msg: &[u8], out: &mut impl FnMut(&[u8])) {
        if !self.fits(msg) {
            self.flush_to(out);
        }
        self.buf.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(msg);
        self.count += 1;
    }

    /// Hands `out` the packet being built, if it holds any message.
    pub fn flush_to(&mut self, out: &mut impl FnMut(&[u8])) {
        if self.count == 0 {
            return;
        }
        self.buf[18..20].copy_from_slice(&self.count.to_be_bytes());
        out(&self.buf);
        self.next_seq += self.count as u64;
        self.start();
    }

    /// [`push_to`](Self::push_to), returning the finished packet as its own buffer.
    pub fn push(&mut self, msg: &[u8]) -> Option<Vec<u8>> {
        let mut done = None;
        self.push_to(msg, &mut |p| done = Some(p.to_vec()));
        done
    }

    /// [`flush_to`](Self::flush_to), returning the packet as its own buffer.
    pub fn flush(&mut self) -> Option<Vec<u8>> {
        let mut done = None;
        self.flush_to(&mut |p| done = Some(p.to_vec()));
        done
    }

    /// Uses `session` (already padded) instead of the name given to [`new`](Self::new).
    pub fn set_session(&mut self, session: [u8; 10]) {
        self.session = session;
        self.start();
    }

    /// A heartbeat carrying the next sequence number.
    pub fn heartbeat(&self) -> Vec<u8> {
        let mut p = self.session.to_vec();
        p.extend_from_slice(&self.next_seq.to_be_bytes());
        p.extend_from_slice(&0u16.to_be_bytes());
        p
    }

    /// The next sequence number to be used.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

/// What the sequencer hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum MoldEvent<'a> {
    /// The next message, in sequence order.
    Message {
        /// Its sequence number.
        seq: u64,
        /// Its bytes.
        msg: &'a [u8],
    },
    /// Messages `first .. first + count` are missing (recovery only): ask for them.
    Missing {
        /// First missing sequence number.
        first: u64,
        /// How many.
        count: u64,
    },
    /// Messages `first .. first + count` are lost.
    Gap {
        /// First missing sequence number.
        first: u64,
        /// How many.
        count: u64,
    },
    /// The session ended.
    EndOfSession,
}

/// Counters kept by a [`Sequencer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequencerStats {
    /// Packets accepted.
    pub packets: u64,
    /// Messages delivered.
    pub messages: u64,
    /// Gaps declared.
    pub gaps: u64,
    /// Messages declared lost.
    pub lost: u64,
    /// Messages received again (already delivered or declared lost).
    pub duplicates: u64,
    /// Packets that arrived ahead of a missing one and were held.
    pub reordered: u64,
    /// Datagrams refused as malformed.
    pub malformed: u64,
    /// Packets of another session, ignored.
    pub foreign: u64,
    /// Sessions followed after the first ([`Sequencer::follow`]).
    pub sessions: u64,
}

/// Orders packets by sequence number; see the module docs.
pub struct Sequencer {
    next: u64,
    session: Option<[u8; 10]>,
    /// Held packets: (first seq, length, bytes); `window` fixed slots.
    held: Vec<(u64, usize, Box<[u8; MAX_PACKET]>)>,
    /// Slots not holding a packet (a stack).
    free: Vec<usize>,
    /// The held packets by first sequence number (then slot): the lowest is
    /// found in O(1) and taken in O(log window), not by scanning the window on
    /// every packet while a gap is open.
    order: std::collections::BinaryHeap<std::cmp::Reverse<(u64, usize)>>,
    stats: SequencerStats,
    recover: bool,
    /// Recovery: everything below this was asked for.
    asked: u64,
    /// Recovery: a heartbeat proved messages below this were sent.
    proven: u64,
    /// Recovery: an end of session arrived behind a gap at this sequence number;
    /// [`MoldEvent::EndOfSession`] is delivered once the gap is filled or given up.
    end_at: Option<u64>,
}

impl Sequencer {
    /// A sequencer expecting `first_seq` (1 for a new session) that holds at most
    /// `window` early packets. Allocates its slots here, never later.
    pub fn new(first_seq: u64, window: usize) -> Self {
        let window = window.max(1);
        Sequencer {
            next: first_seq,
            session: None,
            held: (0..window).map(|_| (0, 0, Box::new([0u8; MAX_PACKET]))).collect(),
            free: (0..window).rev().collect(),
            order: std::collections::BinaryHeap::with_capacity(window),
            stats: SequencerStats::default(),
            recover: false,
            asked: 0,
            proven: 0,
            end_at: None,
        }
    }

    /// The same, reporting gaps as [`MoldEvent::Missing`] first and holding them
    /// open for retransmission (see the module docs).
    pub fn with_recovery(mut self) -> Self {
        self.recover = true;
        self
    }

    /// The session's name, once a packet has told it.
    pub fn session(&self) -> Option<[u8; 10]> {
        self.session
    }

    /// Leaves the session followed for `session`, from its sequence number 1:
    /// what the old one still holds is delivered first, in order, each gap
    /// before a held packet declared lost (nothing more of the old session will
    /// come), and its pending end of session dropped. For a receiver whose
    /// publisher restarted under a new session name; deciding that the old
    /// one is over is the caller's (see the module docs).
    pub fn follow(&mut self, session: [u8; 10], out: &mut impl FnMut(MoldEvent<'_>)) {
        while let Some((_, s)) = self.lowest_held() {
            self.drain_until(s, out);
        }
        self.session = Some(session);
        self.next = 1;
        self.asked = 0;
        self.proven = 0;
        self.end_at = None;
        self.stats.sessions += 1;
    }

    /// Whether messages are known to be missing and not yet declared lost.
    pub fn is_waiting(&self) -> bool {
        self.next < self.proven || self.lowest_held().is_some()
    }

    /// The missing range still open: (first, count).
    pub fn missing(&self) -> Option<(u64, u64)> {
        let upto = self.proven.max(self.lowest_held().map_or(0, |(_, s)| s));
        (upto > self.next).then(|| (self.next, upto - self.next))
    }

    /// Declares what is still missing lost (recovery gave up), delivering what
    /// was held behind it.
    pub fn give_up(&mut self, out: &mut impl FnMut(MoldEvent<'_>)) {
        if let Some((first, count)) = self.missing() {
            self.drain_until(first + count, out);
        }
        self.proven = 0;
        if let Some(end) = self.end_at {
            if self.next < end {
                self.drain_until(end, out);
            }
        }
        self.end_if_done(out);
    }

    /// Recovery: reports `first ..` up to `upto` as missing unless it was asked for.
    fn ask(&mut self, upto: u64, out: &mut impl FnMut(MoldEvent<'_>)) {
        let from = self.next.max(self.asked);
        if self.recover && upto > from {
            out(MoldEvent::Missing {
                first: from,
                count: upto - from,
            });
            self.asked = upto;
        }
    }

    /// The counters.
    pub fn stats(&self) -> &SequencerStats {
        &self.stats
    }

    /// The next sequence number expected.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Takes one datagram and calls `out` for whatever is now deliverable.
    /// Returns the parse error of a malformed datagram (which is dropped).
    pub fn push(&mut self, datagram: &[u8], out: &mut impl FnMut(MoldEvent<'_>)) -> Result<(), Error> {
        let r = self.push_packet(datagram, out);
        self.end_if_done(out);
        r
    }

    /// Delivers a pending end of session once nothing before it is missing.
    fn end_if_done(&mut self, out: &mut impl FnMut(MoldEvent<'_>)) {
        if let Some(end) = self.end_at {
            if self.next >= end && self.lowest_held().is_none() {
                self.end_at = None;
                out(MoldEvent::EndOfSession);
            }
        }
    }

    fn push_packet(&mut self, datagram: &[u8], out: &mut impl FnMut(MoldEvent<'_>)) -> Result<(), Error> {
        let p = match MoldPacket::parse(datagram) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        match self.session {
            None => self.session = Some(p.header.session),
            Some(s) if s != p.header.session => {
                self.stats.foreign += 1;
                return Ok(());
            }
            Some(_) => {}
        }
        self.stats.packets += 1;
        let (seq, count) = (p.seq(), p.count() as u64);
        if count == 0 {
            // A heartbeat or end of session says everything below `seq` was sent.
            if seq > self.next {
                if self.recover {
                    // Behind a heartbeat or the end of session, messages are
                    // missing: ask for them; an end waits for them.
                    self.ask(seq, out);
                    self.proven = self.proven.max(seq);
                    if p.is_end_of_session() {
                        self.end_at = Some(seq);
                        return Ok(());
                    }
                } else {
                    self.drain_until(seq, out);
                }
            }
            if p.is_end_of_session() {
                out(MoldEvent::EndOfSession);
            }
            return Ok(());
        }
        if seq > self.next {
            self.ask(seq, out);
            // This packet's own messages are here: a later packet widening the
            // gap asks only for what lies beyond them.
            self.asked = self.asked.max(seq + count);
            if datagram.len() <= MAX_PACKET {
                if let Some(i) = self.free.pop() {
                    self.order.push(std::cmp::Reverse((seq, i)));
                    let slot = &mut self.held[i];
                    slot.0 = seq;
                    slot.1 = datagram.len();
                    slot.2[..datagram.len()].copy_from_slice(datagram);
                    self.stats.reordered += 1;
                    if self.free.is_empty() {
                        // The window is full: whatever is still missing is lost.
                        let first = self.lowest_held().map_or(seq, |(_, s)| s);
                        self.drain_until(first, out);
                    }
                    return Ok(());
                }
            }
            // Too big to hold, or nowhere to hold it: the gap is declared now.
            self.drain_until(seq, out);
        }
        deliver(&mut self.next, &mut self.stats, &p, out);
        self.release(out);
        Ok(())
    }

    fn lowest_held(&self) -> Option<(usize, u64)> {
        self.order.peek().map(|&std::cmp::Reverse((s, i))| (i, s))
    }

    /// Declares everything below `upto` that is not held lost, delivering held
    /// packets in order on the way.
    fn drain_until(&mut self, upto: u64, out: &mut impl FnMut(MoldEvent<'_>)) {
        loop {
            self.release(out);
            let next_held = self.lowest_held().map(|(_, s)| s);
            let stop = match next_held {
                Some(s) if s <= upto => s,
                _ => upto,
            };
            if stop > self.next {
                let count = stop - self.next;
                self.stats.gaps += 1;
                self.stats.lost += count;
                out(MoldEvent::Gap {
                    first: self.next,
                    count,
                });
                self.next = stop;
            }
            match next_held {
                Some(s) if s <= upto => continue,
                _ => {
                    self.release(out);
                    return;
                }
            }
        }
    }

    /// Delivers held packets that have become next in line.
    fn release(&mut self, out: &mut impl FnMut(MoldEvent<'_>)) {
        while let Some((i, s)) = self.lowest_held() {
            if s > self.next {
                return;
            }
            self.order.pop();
            self.free.push(i);
            let (bytes, len) = (&self.held[i].2, self.held[i].1);
            if let Ok(p) = MoldPacket::parse(&bytes[..len]) {
                deliver(&mut self.next, &mut self.stats, &p, out);
            }
        }
    }
}

fn deliver(next: &mut u64, stats: &mut SequencerStats, p: &MoldPacket<'_>, out: &mut impl FnMut(MoldEvent<'_>)) {
    for (seq, msg) in p.messages() {
        if seq < *next {
            stats.duplicates += 1;
            continue;
        }
        stats.messages += 1;
        *next = seq.saturating_add(1);
        out(MoldEvent::Message { seq, msg });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(session: &[u8; 10], seq: u64, msgs: &[u8]) -> Vec<u8> {
        let mut p = session.to_vec();
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&(msgs.len() as u16).to_be_bytes());
        for m in msgs {
            p.extend_from_slice(&[0, 1, *m]);
        }
        p
    }

    /// Following a new session delivers what the old one held (the gap before
    /// it declared lost), then takes the new one from 1; the old one's packets
    /// are then another session's.
    #[test]
    fn following_a_new_session_delivers_the_old_ones_held_packets_first() {
        let (old, new) = (b"OLDSESSION", b"NEWSESSION");
        let mut s = Sequencer::new(1, 8);
        let mut got = Vec::new();
        let mut note = |e: MoldEvent<'_>| {
            got.push(match e {
                MoldEvent::Message { seq, msg } => format!("{seq}:{}", msg[0] as char),
                MoldEvent::Gap { first, count } => format!("gap {first}+{count}"),
                MoldEvent::Missing { first, count } => format!("missing {first}+{count}"),
                MoldEvent::EndOfSession => "end".into(),
            })
        };
        s.push(&packet(old, 1, b"a"), &mut note).unwrap();
        s.push(&packet(old, 3, b"c"), &mut note).unwrap();
        s.push(&packet(new, 1, b"x"), &mut note).unwrap();
        s.follow(*new, &mut note);
        s.push(&packet(new, 1, b"x"), &mut note).unwrap();
        s.push(&packet(old, 4, b"d"), &mut note).unwrap();
        s.push(&packet(new, 2, b"y"), &mut note).unwrap();
        assert_eq!(got, ["1:a", "gap 2+1", "3:c", "1:x", "2:y"]);
        assert_eq!((s.session(), s.next_seq()), (Some(*new), 3));
        assert_eq!((s.stats().foreign, s.stats().sessions, s.stats().lost), (2, 1, 1));
    }

    /// Found by the fuzzer: a packet whose sequence numbers run past u64::MAX
    /// ends there, and the sequencer survives it.
    #[test]
    fn sequence_numbers_at_the_top_of_the_range() {
        let p = packet(b"SESSION   ", u64::MAX, b"SS");
        let pk = MoldPacket::parse(&p).unwrap();
        assert_eq!(pk.messages().map(|(s, _)| s).collect::<Vec<_>>(), vec![u64::MAX]);
        let mut s = Sequencer::new(u64::MAX, 2);
        let mut n = 0;
        s.push(&p, &mut |_| n += 1).unwrap();
        assert_eq!((n, s.next_seq()), (1, u64::MAX));
    }
}
