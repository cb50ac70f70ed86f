//! The FIX decoder: every order shape the engine's encoder writes decodes back to
//! the same order (property test); execution reports of FIX 4.2 and 4.4 decode into
//! engine records; every kind of malformed message is refused with its tag and
//! offset; stream framing handles partial reads; no bytes make it panic.

use foxtrot_engine::format::fix::FixEncoder;
use foxtrot_engine::records::{
    ExecKind, Header, InstrumentSpec, Kind, MassCancelScope, OrdType, Order, OrderAction, Side,
};
use foxtrot_fix::app::parse_utc_timestamp;
use foxtrot_fix::{exec_from_fix, frame_len, order_from_fix, Fields, FixDecoder, FixError, Instruments};
use proptest::prelude::*;

/// Whether `wire` is a message `dict` defines (parsed and validated as a
/// counterparty checking against it would); the message and the problem if not.
fn conforms(wire: &[u8], dict: &foxtrot_fix::dictionary::Dictionary) -> Result<(), String> {
    let shown = || String::from_utf8_lossy(wire).replace('\x01', "|");
    let parsed = foxtrot_fix::message::parse(wire, dict).map_err(|e| format!("{e:?}: {}", shown()))?;
    foxtrot_fix::validate::validate(&parsed, dict, &foxtrot_fix::validate::Validation::default())
        .map_err(|e| format!("{e:?}: {}", shown()))
}

fn specs() -> Vec<InstrumentSpec> {
    vec![
        InstrumentSpec {
            symbol: "FOXA".into(),
            price_decimals: 4,
            tick: 100,
            qty_decimals: 0,
            lot: 1,
            ref_price: 1_000_000,
        },
        InstrumentSpec {
            symbol: "FOXB.X".into(),
            price_decimals: 2,
            tick: 1,
            qty_decimals: 3,
            lot: 1,
            ref_price: 25_000,
        },
    ]
}

/// A message with a correct BodyLength and CheckSum around `body` (`|` for SOH).
fn fix(begin: &str, body: &str) -> Vec<u8> {
    let body = body.replace('|', "\x01");
    let mut m = format!("8={begin}\x019={}\x01{body}", body.len()).into_bytes();
    let sum = m.iter().map(|&c| c as u32).sum::<u32>() % 256;
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

proptest! {
    /// decode(encode(order)) == order, for every shape the engine sends: limit and
    /// market NewOrderSingle, cancel, replace; both instruments' decimals.
    #[test]
    fn orders_round_trip(
        shape in 0u8..4, inst in 0u32..2, buy in any::<bool>(), cl in any::<u64>(), orig in any::<u64>(),
        qty in 1i64..999_999_999, px in 1i64..9_999_999_999, ts in 0u64..4_000_000_000_000_000_000,
        seq in 1u64..9_999_999_999,
    ) {
        let (action, ord_type) = match shape {
            0 => (OrderAction::New, OrdType::Limit),
            1 => (OrderAction::New, OrdType::Market),
            2 => (OrderAction::Cancel, OrdType::Limit),
            _ => (OrderAction::Replace, OrdType::Limit),
        };
        let side = if buy { Side::Buy } else { Side::Sell };
        let priced = action != OrderAction::Cancel && ord_type == OrdType::Limit;
        let order = Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: action as u8,
                side: side as u8,
                flags: ord_type as u8,
                instrument: inst,
                ts_ns: ts,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: if action == OrderAction::New { 0 } else { orig },
            px: if priced { px } else { 0 },
            qty,
        };
        let mut enc = FixEncoder::new("FIX.4.4", "FOXTROT", "VENUE", &specs());
        enc.set_next_seq(seq);
        let wire = enc.encode(&order).unwrap().to_vec();
        prop_assert_eq!(frame_len(&wire), Ok(Some(wire.len())));
        let mut dec = FixDecoder::new();
        let m = dec.decode(&wire).unwrap();
        prop_assert_eq!(m.u64(34).unwrap(), Some(seq));
        prop_assert_eq!(m.get(49), Some(&b"FOXTROT"[..]));
        let back = order_from_fix(&m, &Instruments::new(&specs()), ts, &mut foxtrot_fix::app::NumericIds).unwrap();
        prop_assert_eq!(back, order);
    }

    /// A mass cancel encodes as the OrderMassCancelRequest FIX 4.4's
    /// dictionary defines: its ClOrdID, MassCancelRequestType 1 with the
    /// instrument's Symbol or 7 with none, TransactTime; no side, quantity or
    /// price, whatever the record's other fields hold. Framed (BodyLength,
    /// CheckSum) like every template.
    #[test]
    fn mass_cancels_encode_as_the_dictionary_says(
        all in any::<bool>(), inst in 0u32..2, cl in any::<u64>(), junk in any::<i64>(),
        ts in 0u64..4_000_000_000_000_000_000, seq in 1u64..9_999_999_999,
    ) {
        let scope = if all { MassCancelScope::All } else { MassCancelScope::Instrument };
        let order = Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: OrderAction::MassCancel as u8,
                flags: scope as u8,
                instrument: inst,
                ts_ns: ts,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: 0,
            px: junk,
            qty: junk,
        };
        let mut enc = FixEncoder::new("FIX.4.4", "FOXTROT", "VENUE", &specs());
        enc.set_next_seq(seq);
        let wire = enc.encode(&order).unwrap().to_vec();
        prop_assert_eq!(frame_len(&wire), Ok(Some(wire.len())));
        let dict = foxtrot_fix::session::SessionSettings::new("FIX.4.4", "FOXTROT", "VENUE").dictionary;
        prop_assert_eq!(conforms(&wire, &dict), Ok(()));
        let mut dec = FixDecoder::new();
        let m = dec.decode(&wire).unwrap();
        prop_assert_eq!(m.get(35), Some(&b"q"[..]));
        prop_assert_eq!(m.u64(34).unwrap(), Some(seq));
        prop_assert_eq!(m.u64(11).unwrap(), Some(cl));
        prop_assert_eq!(m.get(530), Some(if all { &b"7"[..] } else { &b"1"[..] }));
        let sym = specs()[inst as usize].symbol.clone();
        prop_assert_eq!(m.get(55), (!all).then_some(sym.as_bytes()));
        prop_assert!(m.get(60).is_some());
        for tag in [38, 44, 54, 41] {
            prop_assert_eq!(m.get(tag), None);
        }
    }

    /// Any bytes: framing and decoding return a value or an error, never panic,
    /// and an error's offset lies inside the input.
    #[test]
    fn any_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = frame_len(&data);
        let mut dec = FixDecoder::new();
        match dec.decode(&data) {
            Ok(m) => { let _ = exec_from_fix(&m, &Instruments::new(&specs()), 0); }
            Err(e) => { let _ = e.to_string(); }
        }
    }

    /// A valid message with one byte changed is refused (the CheckSum sees it),
    /// unless the change is to a byte the decoder does not read as a character.
    #[test]
    fn a_flipped_byte_is_refused(i in 0usize..200, x in 1u8..=255) {
        let mut m = fix("FIX.4.4", "35=0|34=7|49=A|56=B|52=20260105-14:30:00.000|112=PING|");
        let i = i % m.len();
        m[i] ^= x;
        let mut dec = FixDecoder::new();
        prop_assert!(dec.decode(&m).is_err());
    }
}

#[test]
fn execution_reports_of_4_2_and_4_4_decode_into_engine_records() {
    let inst = Instruments::new(&specs());
    let mut dec = FixDecoder::new();
    // FIX 4.4: a partial fill (ExecType F, OrdStatus 1).
    let er = fix(
        "FIX.4.4",
        "35=8|34=12|49=VENUE|52=20260105-14:30:00.123|56=FOXTROT|6=100.25|11=00000000000000000042|\
         14=300|17=E1|31=100.25|32=300|37=V-77|38=1000|39=1|40=2|44=100.2500|54=1|55=FOXA|\
         60=20260105-14:30:00.123456|150=F|151=700|",
    );
    let m = dec.decode(&er).unwrap();
    let e = exec_from_fix(&m, &inst, 99).unwrap().unwrap();
    assert_eq!(e.kind(), Some(ExecKind::PartialFill));
    assert_eq!(
        (e.cl_ord_id, e.header.instrument, e.side(), e.header.ts_ns),
        (42, 0, Some(Side::Buy), 99)
    );
    assert_eq!(
        (e.order_qty, e.order_px, e.last_qty, e.last_px, e.cum_qty, e.leaves_qty),
        (1000, 1_002_500, 300, 1_002_500, 300, 700)
    );
    assert_eq!(e.transact_ts_ns, 1_767_623_400_123_456_000);
    assert_ne!(e.venue_order_id, 0);
    // FIX 4.2: a full fill is ExecType 2, LastShares is tag 32 too; other decimals.
    let er = fix(
        "FIX.4.2",
        "35=8|34=13|49=VENUE|52=20260105-14:30:01|56=FOXTROT|11=43|14=1.5|17=E2|20=0|31=250.07|32=1.5|37=777|\
         38=1.5|39=2|54=2|55=FOXB.X|150=2|151=0|",
    );
    let m = dec.decode(&er).unwrap();
    let e = exec_from_fix(&m, &inst, 5).unwrap().unwrap();
    assert_eq!(
        (
            e.kind(),
            e.header.instrument,
            e.side(),
            e.last_px,
            e.last_qty,
            e.venue_order_id
        ),
        (Some(ExecKind::Fill), 1, Some(Side::Sell), 25_007, 1_500, 777)
    );
    // A rejection with its reason, a cancel reject, and an informational report.
    let rej = fix(
        "FIX.4.4",
        "35=8|34=14|49=V|52=20260105-14:30:01|56=F|11=44|14=0|37=NONE|39=8|54=1|55=FOXA|103=6|150=8|151=0|",
    );
    let e = exec_from_fix(&dec.decode(&rej).unwrap(), &inst, 0).unwrap().unwrap();
    assert_eq!((e.kind(), e.reason), (Some(ExecKind::Rejected), 4));
    let ocr = fix(
        "FIX.4.4",
        "35=9|34=15|49=V|52=20260105-14:30:01|56=F|11=45|37=NONE|39=8|41=44|102=1|434=1|",
    );
    let e = exec_from_fix(&dec.decode(&ocr).unwrap(), &inst, 0).unwrap().unwrap();
    assert_eq!(
        (e.kind(), e.cl_ord_id, e.orig_cl_ord_id),
        (Some(ExecKind::CancelRejected), 45, 44)
    );
    // CxlRejReason 0 (too late) and 1 (unknown order) say the order is gone;
    // any other, or none, leaves it working.
    use foxtrot_engine::records::VenueReject;
    for (reason, gone) in [
        ("102=0|", true),
        ("102=1|", true),
        ("102=3|", false),
        ("102=99|", false),
        ("", false),
    ] {
        let ocr = fix(
            "FIX.4.4",
            &format!("35=9|34=15|49=V|52=20260105-14:30:01|56=F|11=45|37=NONE|39=8|41=44|{reason}434=1|"),
        );
        let e = exec_from_fix(&dec.decode(&ocr).unwrap(), &inst, 0).unwrap().unwrap();
        let want = if gone {
            VenueReject::UnknownOrder
        } else {
            VenueReject::None
        };
        assert_eq!(e.reason, want as u8, "{reason}");
    }
    let status = fix(
        "FIX.4.4",
        "35=8|34=16|49=V|52=20260105-14:30:01|56=F|11=44|14=0|37=1|39=0|54=1|55=FOXA|150=I|151=5|",
    );
    assert_eq!(exec_from_fix(&dec.decode(&status).unwrap(), &inst, 0).unwrap(), None);
    // Bad values name their tag and offset.
    let bad = fix(
        "FIX.4.4",
        "35=8|34=17|49=V|52=20260105-14:30:01|56=F|11=44|14=1.00005|37=1|39=1|54=1|55=FOXA|150=F|151=5|31=1|32=1|",
    );
    let m = dec.decode(&bad).unwrap();
    let err = exec_from_fix(&m, &inst, 0).unwrap_err();
    assert_eq!(err.tag(), Some(14));
    let off = String::from_utf8_lossy(&bad).find("14=1.00005").unwrap() + 3;
    assert!(err.to_string().starts_with(&format!("offset {off}: tag 14")), "{err}");
    let unknown = fix(
        "FIX.4.4",
        "35=8|34=18|49=V|52=20260105-14:30:01|56=F|11=1|14=0|37=1|54=1|55=NOPE|150=0|151=1|",
    );
    assert_eq!(
        exec_from_fix(&dec.decode(&unknown).unwrap(), &inst, 0)
            .unwrap_err()
            .tag(),
        Some(55)
    );
}

/// Every ExecType FIX 4.2 and 4.4 define is read: as a record the core takes
/// (new, fills, cancelled or expired, replaced, rejected, restated), or as a
/// report that changes nothing the core keeps (pending new, cancel or
/// replace, stopped, suspended, calculated, done for day, order status,
/// trade correct or cancel) — never as a report that does not decode. A
/// broker's Pending New (150=A) before each order's New counted as a bad
/// report and sent an OrderStatusRequest about every order.
#[test]
fn every_exec_type_the_versions_define_is_read() {
    let inst = Instruments::new(&specs());
    let mut dec = FixDecoder::new();
    // Done for day (3) ends the order as cancelled and expired (C) do; a
    // trade cancel (H) is the core's bust.
    let takes = |t: &str| matches!(t, "0" | "1" | "2" | "3" | "4" | "5" | "8" | "C" | "D" | "F" | "H");
    for t in "0 1 2 3 4 5 6 7 8 9 A B C D E F G H I".split(' ') {
        let er = fix(
            "FIX.4.4",
            &format!(
                "35=8|34=19|49=V|52=20260105-14:30:01|56=F|6=0|11=44|14=0|17=E9|31=100.25|32=1|37=1|\
                 38=10|39=0|40=2|44=100.25|54=1|55=FOXA|150={t}|151=10|"
            ),
        );
        let got = exec_from_fix(&dec.decode(&er).unwrap(), &inst, 0);
        match got {
            Ok(Some(_)) => assert!(takes(t), "ExecType {t} became a record"),
            Ok(None) => assert!(!takes(t), "ExecType {t} was passed over"),
            Err(e) => panic!("ExecType {t}: {e}"),
        }
    }
    let undefined = fix(
        "FIX.4.4",
        "35=8|34=20|49=V|52=20260105-14:30:01|56=F|11=44|14=0|37=1|39=0|54=1|55=FOXA|150=Z|151=5|",
    );
    assert_eq!(
        exec_from_fix(&dec.decode(&undefined).unwrap(), &inst, 0)
            .unwrap_err()
            .tag(),
        Some(150)
    );
}

/// A restatement (ExecType D, the venue's own change to an order) is the
/// order as it now stands — its OrderQty, Price, CumQty and LeavesQty — or,
/// when its OrdStatus says the order is over, that end: cancelled (4, and
/// expired C, done for day 3) or rejected (8). Both versions, read alike by
/// the full decoder and the receive path's scanner.
#[test]
fn a_restatement_is_the_order_as_it_now_stands() {
    use foxtrot_fix::report::ReportScanner;
    let inst = Instruments::new(&specs());
    let mut dec = FixDecoder::new();
    let mut scan = ReportScanner::new();
    for begin in ["FIX.4.2", "FIX.4.4"] {
        let trans = if begin == "FIX.4.2" { "20=0|" } else { "" };
        for (status, leaves, kind) in [
            ("0", "5", ExecKind::Restated),
            ("1", "3", ExecKind::Restated),
            ("4", "0", ExecKind::Canceled),
            ("C", "0", ExecKind::Canceled),
            ("3", "0", ExecKind::Canceled),
            ("8", "0", ExecKind::Rejected),
        ] {
            let er = fix(
                begin,
                &format!(
                    "35=8|34=19|49=V|52=20260105-14:30:01|56=F|6=0|11=44|14=2|17=E9|{trans}37=1|38=7|39={status}|\
                     40=2|44=100.5|54=1|55=FOXA|150=D|151={leaves}|378=5|"
                ),
            );
            let e = exec_from_fix(&dec.decode(&er).unwrap(), &inst, 0)
                .unwrap()
                .expect("a restatement is a record");
            assert_eq!(
                (e.kind(), e.cl_ord_id, e.order_qty, e.order_px, e.cum_qty, e.leaves_qty),
                (Some(kind), 44, 7, 1_005_000, 2, leaves.parse().unwrap()),
                "{begin} OrdStatus {status}"
            );
            assert_eq!(exec_from_fix(&scan.scan(&er).unwrap(), &inst, 0).unwrap(), Some(e));
        }
    }
}

/// FIX 4.2 says what a report is for in ExecTransType (20), and ExecType then
/// gives the order's state: a status answer (3), a bust (1) or a correction
/// (2) of a fill comes as ExecType 2 with its LastShares — not a fill the
/// core may book (it would be booked twice). A bust is the core's TradeBust,
/// the fill taken back; the others are not the core's. Read alike by the full
/// decoder and the receive path's scanner, along a learned layout too (the
/// same message twice).
#[test]
fn a_fix42_status_answer_bust_or_correction_is_no_new_fill() {
    use foxtrot_fix::app::{report_purpose, ReportPurpose};
    use foxtrot_fix::report::ReportScanner;
    let inst = Instruments::new(&specs());
    let mut dec = FixDecoder::new();
    let mut scan = ReportScanner::new();
    let cases = [
        ("0", ReportPurpose::New, Some(ExecKind::Fill)),
        ("1", ReportPurpose::TradeCancel, Some(ExecKind::TradeBust)),
        ("2", ReportPurpose::TradeCorrect, None),
        ("3", ReportPurpose::Status, None),
    ];
    for (t, purpose, kind) in cases {
        let er = fix(
            "FIX.4.2",
            &format!(
                "35=8|34=19|49=V|52=20260105-14:30:01|56=F|6=100.25|11=44|14=10|17=E9|19=E8|20={t}|31=100.25|32=10|\
                 37=1|38=10|39=2|40=2|44=100.25|54=1|55=FOXA|150=2|151=0|"
            ),
        );
        let full = dec.decode(&er).unwrap();
        assert_eq!(report_purpose(&full), purpose, "ExecTransType {t}");
        let by_full = exec_from_fix(&full, &inst, 0).unwrap();
        for pass in 0..2 {
            let r = scan.scan(&er).expect("a well-formed report scans");
            assert_eq!(report_purpose(&r), purpose, "ExecTransType {t}, scan {pass}");
            assert_eq!(
                exec_from_fix(&r, &inst, 0).unwrap(),
                by_full,
                "ExecTransType {t}, scan {pass}"
            );
        }
        assert_eq!(by_full.and_then(|e| e.kind()), kind, "ExecTransType {t}: {by_full:?}");
        if let Some(e) = by_full {
            // The fill, or the fill the bust takes back: its key is the
            // fill's ExecID, or the ExecRefID the bust names.
            assert_eq!(
                (e.cl_ord_id, e.last_qty, e.last_px, e.header.side),
                (44, 10, 1_002_500, 1)
            );
            let id: &[u8] = if t == "1" { b"E8" } else { b"E9" };
            assert_eq!(e.exec_key, foxtrot_engine::records::exec_key(id), "ExecTransType {t}");
        }
        // A correction is the trade as corrected, with the key of the one it
        // corrects (ExecRefID); read alike by the scanner.
        let c = foxtrot_fix::app::trade_correction(&full, &inst, 0).unwrap();
        let by_scan = foxtrot_fix::app::trade_correction(&scan.scan(&er).unwrap(), &inst, 0).unwrap();
        assert_eq!(c, by_scan, "ExecTransType {t}");
        match c {
            Some((c, corrects)) => {
                assert_eq!(t, "2");
                assert_eq!(
                    (c.kind(), c.cl_ord_id, c.last_qty, c.last_px, c.cum_qty),
                    (Some(ExecKind::TradeCorrected), 44, 10, 1_002_500, 10)
                );
                use foxtrot_engine::records::exec_key;
                assert_eq!((c.exec_key, corrects), (exec_key(b"E9"), exec_key(b"E8")));
            }
            None => assert_ne!(t, "2"),
        }
    }
    // FIX 4.4's bust, ExecType H, alike.
    let h = fix(
        "FIX.4.4",
        "35=8|34=21|49=V|52=20260105-14:30:01|56=F|6=0|11=45|14=0|17=E10|19=E8|31=100.5|32=7|37=1|38=10|39=4|\
         54=2|55=FOXA|150=H|151=0|",
    );
    let b = exec_from_fix(&dec.decode(&h).unwrap(), &inst, 0)
        .unwrap()
        .expect("a bust");
    assert_eq!(
        (b.kind(), b.cl_ord_id, b.last_qty, b.last_px, b.header.side),
        (Some(ExecKind::TradeBust), 45, 7, 1_005_000, 2)
    );
    // FIX 4.4 says the same in ExecType.
    for (t, purpose) in [
        ("I", ReportPurpose::Status),
        ("G", ReportPurpose::TradeCorrect),
        ("H", ReportPurpose::TradeCancel),
    ] {
        let er = fix(
            "FIX.4.4",
            &format!(
                "35=8|34=19|49=V|52=20260105-14:30:01|56=F|6=0|11=44|14=0|17=E9|37=1|39=0|54=1|55=FOXA|150={t}|151=10|"
            ),
        );
        assert_eq!(report_purpose(&dec.decode(&er).unwrap()), purpose, "ExecType {t}");
    }
    // A value 4.2 does not define is refused, naming the tag.
    let bad = fix(
        "FIX.4.2",
        "35=8|34=20|49=V|52=20260105-14:30:01|56=F|6=0|11=44|14=0|17=E9|20=7|37=1|39=0|54=1|55=FOXA|150=0|151=5|",
    );
    assert_eq!(
        exec_from_fix(&dec.decode(&bad).unwrap(), &inst, 0).unwrap_err().tag(),
        Some(20)
    );
}

#[test]
fn malformed_messages_name_tag_and_offset() {
    let mut dec = FixDecoder::new();
    let good = fix("FIX.4.4", "35=0|34=1|49=A|56=B|52=20260105-14:30:00|");
    assert!(dec.decode(&good).is_ok());
    let s = String::from_utf8(good.clone()).unwrap();
    // Wrong BodyLength (one too many): 10= is not where it says.
    let body_len: usize = s.split('\x01').nth(1).unwrap()[2..].parse().unwrap();
    let mut b = s.replacen(&format!("9={body_len}"), &format!("9={}", body_len + 1), 1);
    assert_ne!(b, s);
    let sum = b.as_bytes()[..b.len() - 7].iter().map(|&c| c as u32).sum::<u32>() % 256;
    b.replace_range(b.len() - 4..b.len() - 1, &format!("{sum:03}"));
    let e = dec.decode(b.as_bytes()).unwrap_err();
    assert!(
        matches!(e, FixError::BodyLengthMismatch { declared, .. } if declared == body_len + 1),
        "{e}"
    );
    assert_eq!(e.tag(), Some(9));
    // Wrong CheckSum.
    let mut c = good.clone();
    let n = c.len();
    c[n - 2] = if c[n - 2] == b'9' { b'0' } else { c[n - 2] + 1 };
    let e = dec.decode(&c).unwrap_err();
    assert!(
        matches!(e, FixError::BadChecksum { offset, .. } if offset == n - 4),
        "{e}"
    );
    assert!(e.is_garbled());
    // MsgType not third.
    // Offset of the `k`-th field (0-based) of a message.
    let field_at = |m: &[u8], k: usize| m.iter().enumerate().filter(|(_, c)| **c == 1).nth(k - 1).unwrap().0 + 1;
    let m = fix("FIX.4.4", "34=1|35=0|");
    let e = dec.decode(&m).unwrap_err();
    assert_eq!((e.tag(), e.is_garbled()), (Some(35), false));
    assert!(
        e.to_string().starts_with(&format!("offset {}:", field_at(&m, 2))),
        "{e}"
    );
    // Garbled field: no '=', empty value, leading zero in the tag.
    for body in ["35=0|34|", "35=0|34=|", "35=0|034=1|"] {
        let m = fix("FIX.4.4", body);
        let e = dec.decode(&m).unwrap_err();
        assert_eq!(
            e,
            FixError::Garbled {
                offset: field_at(&m, 3)
            },
            "{body}"
        );
    }
    // Not FIX at all.
    assert!(matches!(
        dec.decode(b"hello"),
        Err(FixError::NoBeginString { offset: 0 })
    ));
    assert!(matches!(
        frame_len(b"GET / HTTP/1.1\r\n"),
        Err(FixError::NoBeginString { .. })
    ));
    // A CheckSum alone is no message.
    assert!(dec.decode(b"10=000\x01").is_err());
}

#[test]
fn stream_framing_handles_partial_and_back_to_back_messages() {
    let a = fix("FIX.4.4", "35=0|34=1|49=A|56=B|52=20260105-14:30:00|");
    let b = fix("FIX.4.4", "35=1|34=2|49=A|56=B|52=20260105-14:30:00|112=X|");
    let stream = [a.clone(), b.clone()].concat();
    for cut in 0..a.len() {
        assert_eq!(frame_len(&stream[..cut]), Ok(None), "cut at {cut}");
    }
    assert_eq!(frame_len(&stream), Ok(Some(a.len())));
    assert_eq!(frame_len(&stream[a.len()..]), Ok(Some(b.len())));
    // An absurd BodyLength is an error, not a wait.
    assert!(frame_len(b"8=FIX.4.4\x019=99999999\x0135=0\x01").is_err());
}

#[test]
fn utc_timestamps() {
    assert_eq!(parse_utc_timestamp(b"19700101-00:00:00"), Some(0));
    assert_eq!(parse_utc_timestamp(b"20260105-14:30:00.5"), None);
    assert_eq!(
        parse_utc_timestamp(b"20260105-14:30:00.500"),
        Some(1_767_623_400_500_000_000)
    );
    assert_eq!(
        parse_utc_timestamp(b"20260105-14:30:00.000000001"),
        Some(1_767_623_400_000_000_001)
    );
    assert_eq!(parse_utc_timestamp(b"20261305-14:30:00"), None);
    // Formatting is the inverse, at each precision it writes.
    use foxtrot_engine::format::calendar::utc_timestamp;
    let ns = 1_767_623_400_123_456_789u64;
    for (digits, unit) in [(0u32, 1_000_000_000u64), (3, 1_000_000), (6, 1_000), (9, 1)] {
        let text = utc_timestamp(ns, digits);
        assert_eq!(parse_utc_timestamp(text.as_bytes()), Some(ns / unit * unit), "{text}");
    }
    assert_eq!(utc_timestamp(ns, 3), "20260105-14:30:00.123");
}

#[test]
fn repeating_groups_keep_their_instances() {
    let m = fix(
        "FIX.4.4",
        "35=8|34=1|49=V|56=F|52=20260105-14:30:00|453=2|448=FOX|447=D|452=1|448=VEN|447=D|452=3|11=1|",
    );
    let mut dec = FixDecoder::new();
    let msg = dec.decode(&m).unwrap();
    let g = msg.group(453, &[448, 447, 452]);
    assert_eq!(g.len(), 2);
    assert_eq!(g[0], vec![(448, &b"FOX"[..]), (447, &b"D"[..]), (452, &b"1"[..])]);
    assert_eq!(g[1][0], (448, &b"VEN"[..]));
    // The first instance is what a plain lookup sees; the field after the group too.
    assert_eq!((msg.get(448), msg.get(11)), (Some(&b"FOX"[..]), Some(&b"1"[..])));
    assert!(format!("{msg:?}").contains("|453=2|"));
}

proptest! {
    /// A venue's report, encoded as FIX 4.2 or 4.4 and sent through a session,
    /// decodes back into the same engine record (every field the engine reads).
    #[test]
    fn execution_reports_round_trip(
        kind in 0u8..11, inst in 0u32..2, buy in any::<bool>(), cl in any::<u64>(), orig in 0u64..1_000,
        venue_id in any::<u64>(), qty in 1i64..1_000_000_000, px in 1i64..1_000_000_000,
        last in 1i64..1_000_000, cum in 0i64..1_000_000_000, leaves in 0i64..1_000_000_000,
        ts in 0u64..4_000_000_000_000_000_000, market in any::<bool>(), fix42 in any::<bool>(), reason in 0u8..7,
        liquidity in 0u8..3,
    ) {
        use foxtrot_engine::records::{ExecReport, VenueReject};
        use foxtrot_fix::app::write_exec_body_numeric;
        use foxtrot_fix::session::{MemoryStore, Role, Session, SessionSettings};
        let kinds = [ExecKind::New, ExecKind::PartialFill, ExecKind::Fill, ExecKind::Canceled,
                     ExecKind::Replaced, ExecKind::Rejected, ExecKind::CancelRejected, ExecKind::TradeBust,
                     ExecKind::MassCancelDone, ExecKind::MassCancelRefused, ExecKind::Restated];
        // FIX 4.2 has no mass cancel.
        let k = match kinds[kind as usize] {
            k if fix42 && k.is_mass_cancel() => ExecKind::Canceled,
            k => k,
        };
        let side = if buy { Side::Buy } else { Side::Sell };
        let mut e = ExecReport::new(k, inst, side, 777);
        e.cl_ord_id = cl;
        // A cancel reject answers a request, which names its order (41 is
        // required in both); other reports carry 41 only when they have one.
        e.orig_cl_ord_id = if k == ExecKind::CancelRejected { orig.max(1) } else { orig };
        e.venue_order_id = venue_id % 10_000_000_000_000_000_000;
        e.transact_ts_ns = ts / 1_000 * 1_000; // microseconds on the wire
        if k.is_mass_cancel() {
            // The request's scope (an instrument's orders, or all), how many
            // orders it cancelled, and a refusal's reason.
            e = ExecReport::new(k, inst, Side::Buy, 777);
            e.cl_ord_id = cl;
            e.venue_order_id = venue_id % 10_000_000_000_000_000_000;
            e.ord_type = if market { MassCancelScope::Instrument } else { MassCancelScope::All } as u8;
            e.order_qty = qty;
            if k == ExecKind::MassCancelRefused {
                let r = [VenueReject::None, VenueReject::UnknownInstrument, VenueReject::DuplicateClOrdId];
                e.reason = r[reason as usize % 3] as u8;
            }
        } else if k != ExecKind::CancelRejected {
            e.order_qty = qty;
            e.order_px = if market { 0 } else { px };
            e.cum_qty = cum;
            e.leaves_qty = leaves;
            e.ord_type = if market { OrdType::Market as u8 } else { OrdType::Limit as u8 };
            // A bust carries the trade it takes back.
            if k.is_fill() || k == ExecKind::TradeBust {
                e.last_qty = last;
                e.last_px = px;
                e.header.flags = liquidity; // 0 unsaid, 1 added, 2 removed (851)
            }
            if k == ExecKind::Rejected {
                let r = [VenueReject::None, VenueReject::UnknownInstrument, VenueReject::InvalidPriceOrQty,
                         VenueReject::UnknownOrder, VenueReject::DuplicateClOrdId, VenueReject::None, VenueReject::None];
                e.reason = r[reason as usize] as u8;
            }
        } else {
            // Refused as gone, or for a reason that leaves the order working.
            let r = [VenueReject::UnknownOrder, VenueReject::InvalidPriceOrQty, VenueReject::UnknownInstrument,
                     VenueReject::None, VenueReject::UnknownOrder, VenueReject::UnknownOrder, VenueReject::None];
            e.reason = r[reason as usize] as u8;
        }
        let inst_t = Instruments::new(&specs());
        let mut body = Vec::new();
        let t = write_exec_body_numeric(&e, &inst_t, 42, fix42, &mut body);
        let settings = SessionSettings::new(if fix42 { "FIX.4.2" } else { "FIX.4.4" }, "VENUE", "FOXTROT");
        let dict = settings.dictionary.clone();
        let mut s = Session::new(settings, Role::Acceptor, MemoryStore::default());
        s.send_body(t.as_bytes(), &[], &body, 1_767_623_400_000_000_000);
        let wire = s.outbox().clone();
        // What a counterparty validating against the version's dictionary accepts.
        prop_assert_eq!(conforms(&wire, &dict), Ok(()));
        let mut dec = FixDecoder::new();
        let m = dec.decode(&wire).unwrap();
        let mut back = exec_from_fix(&m, &inst_t, 777).unwrap().unwrap();
        if k.is_mass_cancel() {
            // An OrderMassCancelReport names an instrument only when the
            // request did; a refusal says whether the symbol was unknown.
            if e.ord_type == MassCancelScope::All as u8 {
                e.header.instrument = u32::MAX;
            }
            if e.reason != VenueReject::UnknownInstrument as u8 {
                e.reason = VenueReject::None as u8;
            }
            prop_assert_eq!(back, e);
        } else if k == ExecKind::CancelRejected {
            // The cancel reject carries the ids, and whether the order is gone
            // (CxlRejReason 1) or may still be working (any other): nothing else.
            let gone = if e.reason == VenueReject::UnknownOrder as u8 { e.reason } else { VenueReject::None as u8 };
            prop_assert_eq!((back.kind(), back.cl_ord_id, back.orig_cl_ord_id, back.venue_order_id, back.reason),
                            (Some(k), e.cl_ord_id, e.orig_cl_ord_id, e.venue_order_id, gone));
        } else {
            // ExecReport fields the wire does not carry.
            back.status = e.status;
            if fix42 {
                // LastLiquidityInd is FIX 4.3+: a 4.2 report does not say.
                e.header.flags = 0;
            }
            if fix42 && e.reason == VenueReject::InvalidPriceOrQty as u8 {
                // FIX 4.2 has no OrdRejReason for it: "broker option" (0).
                e.reason = VenueReject::None as u8;
            }
            if k.is_fill() {
                // A fill's key: its ExecID (the 42 written).
                e.exec_key = foxtrot_engine::records::exec_key(b"42");
            }
            if k == ExecKind::Restated && e.leaves_qty == 0 {
                // Restated with nothing left (OrdStatus 4): the order ended.
                e.header.sub = ExecKind::Canceled as u8;
            }
            prop_assert_eq!(back, e);
        }
    }
}
