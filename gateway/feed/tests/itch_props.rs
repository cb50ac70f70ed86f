//! Properties of the ITCH and MoldUDP64 codecs: fields written are the fields
//! read; framing and packetising round-trip; and no input, however broken, makes
//! any of it panic.

use foxtrot_feed::itch::mold::{MoldPacket, PacketWriter, Sequencer};
use foxtrot_feed::itch::{decode, file, Frames, Framing, ItchBook, Message, Subscription};
use proptest::prelude::*;

#[allow(clippy::too_many_arguments)]
fn add(
    kind: u8,
    locate: u16,
    tracking: u16,
    ts: u64,
    r: u64,
    side: u8,
    shares: u32,
    stock: [u8; 8],
    price: u32,
) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&locate.to_be_bytes());
    m.extend_from_slice(&tracking.to_be_bytes());
    m.extend_from_slice(&ts.to_be_bytes()[2..]);
    m.extend_from_slice(&r.to_be_bytes());
    m.push(side);
    m.extend_from_slice(&shares.to_be_bytes());
    m.extend_from_slice(&stock);
    m.extend_from_slice(&price.to_be_bytes());
    if kind == b'F' {
        m.extend_from_slice(b"MPID");
    }
    m
}

proptest! {
    #[test]
    fn add_order_fields_round_trip(
        mpid in any::<bool>(), locate in any::<u16>(), tracking in any::<u16>(),
        ts in 0u64..(1 << 48), r in any::<u64>(), buy in any::<bool>(), shares in any::<u32>(),
        stock in prop::array::uniform8(b'A'..=b'Z'), price in any::<u32>(),
    ) {
        let side = if buy { b'B' } else { b'S' };
        let kind = if mpid { b'F' } else { b'A' };
        let raw = add(kind, locate, tracking, ts, r, side, shares, stock, price);
        let m = decode(&raw).unwrap();
        let a = match m {
            Message::AddOrder(a) => a,
            Message::AddOrderMpid(f) => { prop_assert_eq!(&f.attribution, b"MPID"); &f.add }
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!(
            (a.head.locate(), a.head.tracking.get(), a.head.timestamp(), a.order_ref.get(), a.side, a.shares.get(), a.stock, a.price.get()),
            (locate, tracking, ts, r, side, shares, stock, price)
        );
    }

    /// Messages framed in a file, or packed into MoldUDP64 packets, come back the
    /// same, in order, with consecutive sequence numbers.
    #[test]
    fn framing_and_packets_round_trip(
        msgs in prop::collection::vec((any::<u64>(), any::<u32>()), 1..200),
        mtu in 64usize..1500,
    ) {
        let msgs: Vec<Vec<u8>> = msgs.iter().map(|(r, s)| add(b'A', 1, 0, 5, *r, b'B', *s, *b"X       ", 100)).collect();
        let mut f = Vec::new();
        for m in &msgs { file::write_prefixed(&mut f, m); }
        let back: Vec<&[u8]> = Frames::new(&f, Framing::LengthPrefixed).map(|r| r.unwrap().1).collect();
        prop_assert_eq!(back, msgs.iter().map(|m| &m[..]).collect::<Vec<_>>());
        let mut w = PacketWriter::new("S", 7, mtu);
        let mut packets: Vec<Vec<u8>> = msgs.iter().filter_map(|m| w.push(m)).collect();
        packets.extend(w.flush());
        let mut seq = 7u64;
        let mut got = Vec::new();
        for p in &packets {
            prop_assert!(p.len() <= mtu.max(20 + 64) || MoldPacket::parse(p).unwrap().count() == 1);
            for (s, m) in MoldPacket::parse(p).unwrap().messages() {
                prop_assert_eq!(s, seq);
                seq += 1;
                got.push(m.to_vec());
            }
        }
        prop_assert_eq!(got, msgs);
    }

    /// Any bytes: framing in both modes, decoding, normalising and the books, and
    /// the Mold parser and sequencer, return values or errors — never panic.
    #[test]
    fn any_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        for framing in [Framing::LengthPrefixed, Framing::Inferred] {
            let mut book = ItchBook::new(Subscription::All, 64, 0, 100, 64);
            for (_, raw) in Frames::new(&data, framing).flatten() {
                if let Ok(m) = decode(raw) {
                    let _ = book.apply(&m, &mut |_, _| {});
                }
            }
        }
        let _ = MoldPacket::parse(&data).map(|p| p.messages().count());
        let mut s = Sequencer::new(1, 2);
        for d in data.chunks(60) {
            let _ = s.push(d, &mut |_| {});
        }
    }
}
