//! ITCH 5.0: the decoder against `itchy` (a decoder nobody here wrote), the book
//! on hand-built sequences and on a generated day, and MoldUDP64 sequencing with
//! loss, duplication and reordering.

use foxtrot_engine::records::{MdAction, Side};
use foxtrot_feed::itch::mold::{MoldEvent, PacketWriter, Sequencer};
use foxtrot_feed::itch::{decode, file, DataIssue, Frames, Framing, ItchBook, Message, Subscription};
use foxtrot_venue::gen::itch::{ItchGen, ItchGenConfig};

fn day(messages: u64, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for m in ItchGen::new(ItchGenConfig {
        seed,
        messages,
        ..ItchGenConfig::default()
    }) {
        file::write_prefixed(&mut out, &m);
    }
    out
}

/// Every message of a generated day, decoded by us and by `itchy`, agrees field by
/// field; the day contains every type the book uses.
#[test]
fn decodes_like_itchy_field_by_field() {
    use itchy::Body;
    let bytes = day(60_000, 3);
    let theirs: Vec<itchy::Message> = itchy::MessageStream::from_reader(&bytes[..])
        .map(|m| m.expect("itchy decodes the generated day"))
        .collect();
    let ours: Vec<(u64, &[u8])> = Frames::new(&bytes, Framing::LengthPrefixed)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ours.len(), theirs.len());
    let mut seen = std::collections::BTreeSet::new();
    for ((off, raw), t) in ours.iter().zip(&theirs) {
        let m = decode(raw).unwrap();
        let h = m.head();
        seen.insert(h.kind);
        let at = format!("offset {off}, type {}", h.kind as char);
        assert_eq!(
            (h.kind, h.locate(), h.tracking.get(), h.timestamp()),
            (t.tag, t.stock_locate, t.tracking_number, t.timestamp),
            "{at}"
        );
        let side = |b: u8, s: &itchy::Side| assert_eq!(b == b'B', matches!(s, itchy::Side::Buy), "{at}");
        match (m, &t.body) {
            (Message::AddOrder(a), Body::AddOrder(b)) => {
                assert_eq!(
                    (a.order_ref.get(), a.shares.get(), &a.stock[..], a.price.get()),
                    (b.reference, b.shares, b.stock.as_bytes(), b.price.raw()),
                    "{at}"
                );
                side(a.side, &b.side);
                assert!(b.mpid.is_none(), "{at}");
            }
            (Message::AddOrderMpid(f), Body::AddOrder(b)) => {
                let a = &f.add;
                assert_eq!(
                    (a.order_ref.get(), a.shares.get(), &a.stock[..], a.price.get()),
                    (b.reference, b.shares, b.stock.as_bytes(), b.price.raw()),
                    "{at}"
                );
                side(a.side, &b.side);
                assert_eq!(b.mpid.as_ref().map(|s| s.as_bytes()), Some(&f.attribution[..]), "{at}");
            }
            (
                Message::Executed(e),
                Body::OrderExecuted {
                    reference,
                    executed,
                    match_number,
                },
            ) => assert_eq!(
                (e.order_ref.get(), e.shares.get(), e.match_number.get()),
                (*reference, *executed, *match_number),
                "{at}"
            ),
            (
                Message::ExecutedWithPrice(c),
                Body::OrderExecutedWithPrice {
                    reference,
                    executed,
                    match_number,
                    printable,
                    price,
                },
            ) => assert_eq!(
                (
                    c.order_ref.get(),
                    c.shares.get(),
                    c.match_number.get(),
                    c.printable == b'Y',
                    c.price.get()
                ),
                (*reference, *executed, *match_number, *printable, price.raw()),
                "{at}"
            ),
            (Message::Cancel(x), Body::OrderCancelled { reference, cancelled }) => {
                assert_eq!((x.order_ref.get(), x.shares.get()), (*reference, *cancelled), "{at}")
            }
            (Message::Delete(d), Body::DeleteOrder { reference }) => assert_eq!(d.order_ref.get(), *reference, "{at}"),
            (Message::Replace(u), Body::ReplaceOrder(r)) => assert_eq!(
                (u.orig_ref.get(), u.new_ref.get(), u.shares.get(), u.price.get()),
                (r.old_reference, r.new_reference, r.shares, r.price.raw()),
                "{at}"
            ),
            (Message::Trade(p), Body::NonCrossTrade(n)) => {
                assert_eq!(
                    (
                        p.order_ref.get(),
                        p.shares.get(),
                        &p.stock[..],
                        p.price.get(),
                        p.match_number.get()
                    ),
                    (n.reference, n.shares, n.stock.as_bytes(), n.price.raw(), n.match_number),
                    "{at}"
                );
                side(p.side, &n.side);
            }
            (Message::CrossTrade(q), Body::CrossTrade(c)) => assert_eq!(
                (q.shares.get(), &q.stock[..], q.price.get(), q.match_number.get()),
                (c.shares, c.stock.as_bytes(), c.cross_price.raw(), c.match_number),
                "{at}"
            ),
            (Message::StockDirectory(r), Body::StockDirectory(d)) => assert_eq!(
                (&r.stock[..], r.round_lot_size.get(), r.etp_leverage.get()),
                (d.stock.as_bytes(), d.round_lot_size, d.etp_leverage_factor),
                "{at}"
            ),
            (Message::SystemEvent(_), Body::SystemEvent { .. }) => {}
            (Message::Other(_), Body::RegShoRestriction { .. } | Body::RetailPriceImprovementIndicator(_)) => {}
            (m, b) => panic!("{at}: we decoded {m:?}, itchy {b:?}"),
        }
    }
    for k in b"SRAFEXDUCPQYN" {
        assert!(seen.contains(k), "the generated day has no {:?} message", *k as char);
    }
}

/// A generated day, replayed through the book: no data-quality issue, never a
/// crossed touch, the live-order count equals the generator's, and a second
/// replay gives an identical snapshot.
#[test]
fn a_generated_day_builds_a_clean_book_twice_identically() {
    let bytes = day(200_000, 11);
    let run = || {
        let mut b = ItchBook::new(Subscription::All, 100_000, 0, 100, 4096);
        let mut events = 0u64;
        for r in Frames::new(&bytes, Framing::LengthPrefixed) {
            let (off, raw) = r.unwrap();
            let m = decode(raw).unwrap();
            b.apply(&m, &mut |_, _| events += 1)
                .unwrap_or_else(|e| panic!("offset {off}: {e:?}"));
        }
        (b.snapshot(20), events, b)
    };
    let (s1, e1, b1) = run();
    let (s2, e2, _) = run();
    assert_eq!(s1, s2);
    assert_eq!(e1, e2);
    assert_eq!(b1.crossed(), 0);
    assert_eq!(b1.book_issues(), 0);
    assert_eq!(b1.normaliser().symbols(), ["FOXA", "FOXB", "FOXC", "FOXD"]);
    let g = {
        let mut g = ItchGen::new(ItchGenConfig {
            seed: 11,
            messages: 200_000,
            ..ItchGenConfig::default()
        });
        while g.next_message().is_some() {}
        g
    };
    assert_eq!(b1.normaliser().orders().len(), g.live_orders());
    assert!(s1.iter().all(|(b, a)| !b.is_empty() && !a.is_empty()));
    // The book's total resting quantity equals the order map's, level by level.
    for (i, (bids, asks)) in s1.iter().enumerate() {
        let book = b1.book(i).unwrap();
        assert_eq!(book.best_bid(), bids.first().copied());
        assert_eq!(book.best_ask(), asks.first().copied());
    }
}

fn msg(kind: u8, locate: u16, ts: u64, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&locate.to_be_bytes());
    m.extend_from_slice(&0u16.to_be_bytes());
    m.extend_from_slice(&ts.to_be_bytes()[2..]);
    m.extend_from_slice(body);
    m
}

fn add(r: u64, side: u8, shares: u32, stock: &[u8; 8], price: u32) -> Vec<u8> {
    add_at(7, r, side, shares, stock, price)
}

fn add_at(locate: u16, r: u64, side: u8, shares: u32, stock: &[u8; 8], price: u32) -> Vec<u8> {
    let mut b = r.to_be_bytes().to_vec();
    b.push(side);
    b.extend_from_slice(&shares.to_be_bytes());
    b.extend_from_slice(stock);
    b.extend_from_slice(&price.to_be_bytes());
    msg(b'A', locate, 1_000, &b)
}

/// Hand-built sequences: each ITCH action moves the book exactly as it should,
/// and bad references are data-quality events that leave the book alone.
#[test]
fn hand_built_sequences_move_the_book_exactly() {
    let s = b"ACME    ";
    let mut b = ItchBook::new(Subscription::Symbols(vec!["ACME".into()]), 64, 5_000_000_000, 100, 1024);
    let mut evs = Vec::new();
    let mut feed = |b: &mut ItchBook, m: Vec<u8>| {
        let r = b.apply(&decode(&m).unwrap(), &mut |md, _| {
            evs.push((md.action().unwrap(), md.side(), md.px, md.qty, md.header.ts_ns))
        });
        r
    };
    feed(&mut b, add(1, b'B', 300, s, 99_0000)).unwrap();
    feed(&mut b, add(2, b'B', 200, s, 99_0000)).unwrap();
    feed(&mut b, add(3, b'S', 100, s, 99_0500)).unwrap();
    let book = |b: &ItchBook| (b.book(0).unwrap().best_bid(), b.book(0).unwrap().best_ask());
    assert_eq!(book(&b), (Some((99_0000, 500)), Some((99_0500, 100))));
    // Executed 120 of order 1; cancel 80 of order 2; replace 3 by 4 at a better ask.
    let mut e = 1u64.to_be_bytes().to_vec();
    e.extend_from_slice(&120u32.to_be_bytes());
    e.extend_from_slice(&9u64.to_be_bytes());
    feed(&mut b, msg(b'E', 7, 2_000, &e)).unwrap();
    let mut x = 2u64.to_be_bytes().to_vec();
    x.extend_from_slice(&80u32.to_be_bytes());
    feed(&mut b, msg(b'X', 7, 3_000, &x)).unwrap();
    assert_eq!(book(&b).0, Some((99_0000, 300)));
    let mut u = 3u64.to_be_bytes().to_vec();
    u.extend_from_slice(&4u64.to_be_bytes());
    u.extend_from_slice(&150u32.to_be_bytes());
    u.extend_from_slice(&99_0300u32.to_be_bytes());
    feed(&mut b, msg(b'U', 7, 4_000, &u)).unwrap();
    assert_eq!(book(&b).1, Some((99_0300, 150)));
    // Delete order 1 (180 left).
    feed(&mut b, msg(b'D', 7, 5_000, &1u64.to_be_bytes())).unwrap();
    assert_eq!(book(&b).0, Some((99_0000, 120)));
    // Unknown reference, over-execution, duplicate add.
    assert_eq!(
        feed(&mut b, msg(b'D', 7, 6_000, &77u64.to_be_bytes())),
        Err(DataIssue::UnknownOrder(77))
    );
    let mut over = 2u64.to_be_bytes().to_vec();
    over.extend_from_slice(&1_000u32.to_be_bytes());
    over.extend_from_slice(&10u64.to_be_bytes());
    assert_eq!(feed(&mut b, msg(b'E', 7, 7_000, &over)), Err(DataIssue::Overfill(2)));
    assert_eq!(book(&b).0, None, "the over-execution took what was there");
    assert_eq!(feed(&mut b, add(4, b'S', 1, s, 1)), Err(DataIssue::DuplicateOrder(4)));
    // Another symbol (its own locate) is filtered, not an issue.
    assert_eq!(feed(&mut b, add_at(8, 50, b'B', 100, b"OTHER   ", 5_0000)), Ok(()));
    assert_eq!(b.normaliser().stats().filtered, 1);
    let st = b.normaliser().stats();
    assert_eq!((st.unknown_order, st.overfill, st.duplicate_order), (1, 1, 1));
    use MdAction::*;
    let t0 = 5_000_000_000;
    assert_eq!(
        evs,
        vec![
            (Add, Some(Side::Buy), 99_0000, 300, t0 + 1_000),
            (Add, Some(Side::Buy), 99_0000, 200, t0 + 1_000),
            (Add, Some(Side::Sell), 99_0500, 100, t0 + 1_000),
            (Execute, Some(Side::Buy), 99_0000, 120, t0 + 2_000),
            (Cancel, Some(Side::Buy), 99_0000, 80, t0 + 3_000),
            (Cancel, Some(Side::Sell), 99_0500, 100, t0 + 4_000),
            (Add, Some(Side::Sell), 99_0300, 150, t0 + 4_000),
            (Cancel, Some(Side::Buy), 99_0000, 180, t0 + 5_000),
            (Execute, Some(Side::Buy), 99_0000, 120, t0 + 7_000),
        ]
    );
}

/// MoldUDP64 over a lossy, duplicating, reordering link: every message that got
/// through is delivered once, in order; every lost one is inside exactly one
/// reported gap; a late packet within the window fills its gap.
#[test]
fn mold_sequencer_orders_dedups_and_reports_gaps() {
    let msgs: Vec<Vec<u8>> = ItchGen::new(ItchGenConfig {
        seed: 5,
        messages: 3_000,
        ..ItchGenConfig::default()
    })
    .collect();
    let mut w = PacketWriter::new("FOXTROT1", 1, 400);
    let mut packets: Vec<Vec<u8>> = msgs.iter().filter_map(|m| w.push(m)).collect();
    packets.extend(w.flush());
    let n = packets.len();
    assert!(n > 100);
    // The link: packet 10 dropped for good; 20 and 21 swapped; 30 sent twice;
    // 40 arrives 3 packets late (inside the window of 4); 60..63 lost.
    let mut link: Vec<usize> = (0..n).filter(|&i| i != 10 && !(60..63).contains(&i)).collect();
    let p20 = link.iter().position(|&i| i == 20).unwrap();
    link.swap(p20, p20 + 1);
    let p30 = link.iter().position(|&i| i == 30).unwrap();
    link.insert(p30 + 1, 30);
    let p40 = link.iter().position(|&i| i == 40).unwrap();
    let late = link.remove(p40);
    link.insert(p40 + 3, late);
    let mut seq = Sequencer::new(1, 4);
    let (mut got, mut gaps) = (Vec::new(), Vec::new());
    for &i in &link {
        seq.push(&packets[i], &mut |e| match e {
            MoldEvent::Message { seq, msg } => got.push((seq, msg.to_vec())),
            MoldEvent::Gap { first, count } => gaps.push((first, count)),
            MoldEvent::Missing { .. } | MoldEvent::EndOfSession => {}
        })
        .unwrap();
    }
    // What was lost: the messages of packets 10 and 60..63.
    let first_seq = |i: usize| u64::from_be_bytes(packets[i][10..18].try_into().unwrap());
    let lost = [
        (first_seq(10), first_seq(11) - first_seq(10)),
        (first_seq(60), first_seq(63) - first_seq(60)),
    ];
    assert_eq!(gaps, lost);
    let expect: Vec<(u64, Vec<u8>)> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (i as u64 + 1, m.clone()))
        .filter(|(s, _)| !lost.iter().any(|(f, c)| *s >= *f && *s < f + c))
        .collect();
    assert_eq!(got.len(), expect.len());
    assert!(
        got == expect,
        "delivered messages differ from the sent ones minus the lost"
    );
    let st = seq.stats();
    assert_eq!(st.gaps, 2);
    assert_eq!(st.lost, lost[0].1 + lost[1].1);
    assert!(st.duplicates > 0 && st.reordered > 0);
    // A malformed datagram is refused and counted, and the sequencer goes on.
    assert!(seq.push(&packets[0][..25], &mut |_| {}).is_err());
    assert_eq!(seq.stats().malformed, 1);
}

/// A sequencer event as a short name.
fn name(e: MoldEvent<'_>) -> String {
    match e {
        MoldEvent::Message { seq, .. } => format!("m{seq}"),
        MoldEvent::Missing { first, count } => format!("missing {first}+{count}"),
        MoldEvent::Gap { first, count } => format!("gap {first}+{count}"),
        MoldEvent::EndOfSession => "end".into(),
    }
}

/// An end of session that arrives behind a gap (the day's last packets lost)
/// asks for the gap and waits: the retransmitted messages come, then the end.
/// Given up instead, the gap is declared, then the end.
#[test]
fn an_end_of_session_behind_a_gap_waits_for_its_recovery() {
    let mut w = PacketWriter::new("FOXTROT1", 1, 60);
    let msgs: Vec<Vec<u8>> = (0..12u8).map(|i| vec![b'S', i, i, i, i, i, i, i, i, i, i]).collect();
    let mut packets: Vec<Vec<u8>> = msgs.iter().filter_map(|m| w.push(m)).collect();
    packets.extend(w.flush());
    assert!(packets.len() >= 3, "{}", packets.len());
    let mut end = w.heartbeat();
    end[18..20].copy_from_slice(&foxtrot_feed::itch::mold::END_OF_SESSION.to_be_bytes());
    let last = packets.len() - 1;
    for give_up in [false, true] {
        let mut seq = Sequencer::new(1, 4).with_recovery();
        let mut log: Vec<String> = Vec::new();
        for p in &packets[..last] {
            seq.push(p, &mut |e| log.push(name(e))).unwrap();
        }
        // The last data packet is lost; the end of session arrives.
        seq.push(&end, &mut |e| log.push(name(e))).unwrap();
        assert!(seq.is_waiting(), "the gap before the end is being recovered");
        assert!(!log.iter().any(|l| l == "end" || l.starts_with("gap")), "{log:?}");
        assert!(log.last().unwrap().starts_with("missing"), "{log:?}");
        if give_up {
            seq.give_up(&mut |e| log.push(name(e)));
            let tail: Vec<&String> = log.iter().rev().take(2).collect();
            assert!(tail[0] == "end" && tail[1].starts_with("gap"), "{log:?}");
        } else {
            seq.push(&packets[last], &mut |e| log.push(name(e))).unwrap();
            assert_eq!(log.last().map(String::as_str), Some("end"), "{log:?}");
            assert_eq!(
                log.iter()
                    .filter(|l| l.starts_with('m') && !l.starts_with("missing"))
                    .count(),
                msgs.len(),
                "{log:?}"
            );
        }
        assert!(!seq.is_waiting());
    }
}

/// What `foxtrot venue` publishes over MoldUDP64 — its simulated book's
/// events through the ITCH encoder — reads in `itchy` (a decoder nobody here
/// wrote) as the events it published, message by message: the session's
/// opening system event and stock directory, then an `A` per add, an `E` per
/// execution, an `X` or `D` per reduction or cancel, a `P` per trade, with
/// the event's order, side, shares, symbol, price (in ITCH's four decimals)
/// and time of day. (The encoder was held only to our own decoder before.)
#[test]
fn the_venues_itch_reads_in_itchy_as_the_events_it_published() {
    use foxtrot_engine::config::Config;
    use foxtrot_engine::records::{InputView, MarketData};
    use foxtrot_engine::runtime::VenueLink;
    use foxtrot_feed::itch::encode::ItchEncoder;
    use itchy::Body;
    let mut cfg = Config::default_sim();
    cfg.gen.events = 60_000;
    let mut world = foxtrot_venue::sim::SimWorld::new(&cfg);
    let mut events: Vec<MarketData> = Vec::new();
    while let Some(slot) = world.poll() {
        if let Some(InputView::Md(m)) = slot.view() {
            events.push(*m);
        }
    }
    // The simulated crowd neither reduces an order in part nor prints a
    // trade of its own: an order that does both, at the end of the day.
    let last = *events.last().unwrap();
    let (t, px, id) = (last.header.ts_ns, last.px.max(1), 1 << 40);
    let ev = |a: MdAction, side: Side, k: u64, qty: i64| MarketData::new(a, 1, Some(side), t + k, id, px, qty, 1);
    events.extend([
        ev(MdAction::Add, Side::Sell, 1, 300),
        ev(MdAction::Cancel, Side::Sell, 2, 100),
        ev(MdAction::Modify, Side::Sell, 3, -50),
        MarketData::new(MdAction::Trade, 1, Some(Side::Buy), t + 4, 0, px, 20, 1),
        ev(MdAction::Cancel, Side::Sell, 5, 150),
    ]);
    let mut enc = ItchEncoder::new(&cfg.instruments);
    let mut bytes = Vec::new();
    enc.open(events[0].header.ts_ns, &mut |m| file::write_prefixed(&mut bytes, m));
    let opening = itchy::MessageStream::from_reader(&bytes[..]).count();
    // Each published message beside the event it came from.
    let mut published: Vec<MarketData> = Vec::new();
    for e in &events {
        enc.encode(e, &mut |m| {
            file::write_prefixed(&mut bytes, m);
            published.push(*e);
        });
    }
    let theirs: Vec<itchy::Message> = itchy::MessageStream::from_reader(&bytes[..])
        .map(|m| m.expect("itchy decodes what the venue publishes"))
        .collect();
    assert_eq!(theirs.len(), opening + published.len());
    for (k, t) in theirs[..opening].iter().enumerate() {
        match &t.body {
            Body::SystemEvent { .. } => {}
            Body::StockDirectory(d) => {
                let want = &cfg.instruments[t.stock_locate as usize - 1].symbol;
                assert_eq!(d.stock.trim_end(), want, "directory entry {k}");
            }
            b => panic!("opening message {k}: {b:?}"),
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (k, (t, e)) in theirs[opening..].iter().zip(&published).enumerate() {
        let at = format!("message {k}, from {e:?}");
        let i = e.header.instrument as usize;
        let spec = &cfg.instruments[i];
        // ITCH prices have four decimals.
        let price = |px: i64| px * 10i64.pow(4 - spec.price_decimals as u32);
        assert_eq!(t.stock_locate as usize, i + 1, "{at}");
        assert_eq!(t.timestamp, e.header.ts_ns % 86_400_000_000_000, "{at}");
        let buy = |s: &itchy::Side| matches!(s, itchy::Side::Buy);
        let shares = e.qty.unsigned_abs() as u32;
        match (&t.body, e.action()) {
            (Body::AddOrder(a), Some(MdAction::Add)) => {
                assert_eq!(
                    (
                        a.reference,
                        a.shares,
                        a.stock.trim_end(),
                        a.price.raw() as i64,
                        buy(&a.side)
                    ),
                    (
                        e.order_id,
                        shares,
                        spec.symbol.as_str(),
                        price(e.px),
                        e.side() == Some(Side::Buy)
                    ),
                    "{at}"
                );
                seen.insert('A');
            }
            (
                Body::OrderExecuted {
                    reference, executed, ..
                },
                Some(MdAction::Execute),
            ) => {
                assert_eq!((*reference, *executed), (e.order_id, shares), "{at}");
                seen.insert('E');
            }
            (Body::OrderCancelled { reference, cancelled }, Some(MdAction::Cancel | MdAction::Modify)) => {
                assert_eq!((*reference, *cancelled), (e.order_id, shares), "{at}");
                seen.insert('X');
            }
            (Body::DeleteOrder { reference }, Some(MdAction::Cancel | MdAction::Modify)) => {
                assert_eq!(*reference, e.order_id, "{at}");
                seen.insert('D');
            }
            (Body::NonCrossTrade(n), Some(MdAction::Trade)) => {
                assert_eq!(
                    (n.shares, n.stock.trim_end(), n.price.raw() as i64),
                    (shares, spec.symbol.as_str(), price(e.px)),
                    "{at}"
                );
                seen.insert('P');
            }
            (b, a) => panic!("{at}: itchy read {b:?} for a {a:?}"),
        }
    }
    for k in ['A', 'E', 'X', 'D', 'P'] {
        assert!(seen.contains(&k), "the venue's day published no {k} message ({seen:?})");
    }
}
