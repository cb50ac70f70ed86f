//! The FIX encoder against an independent decoder: every field we encode is read
//! back by a naive tag=value splitter written here, and BodyLength and CheckSum are
//! recomputed from the bytes by their definitions in the FIX specification.

use foxtrot_engine::format::fix::encoder::clordid_text;
use foxtrot_engine::format::fix::FixEncoder;
use foxtrot_engine::records::{Header, InstrumentSpec, Kind, OrdType, Order, OrderAction, Side};
use proptest::prelude::*;

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
            symbol: "BTC-USD".into(),
            price_decimals: 2,
            tick: 1,
            qty_decimals: 3,
            lot: 1,
            ref_price: 6_000_000,
        },
    ]
}

/// Splits a message into (tag, value) pairs; panics on anything malformed.
fn fields(msg: &[u8]) -> Vec<(u32, String)> {
    assert_eq!(*msg.last().unwrap(), 0x01, "message ends with SOH");
    msg[..msg.len() - 1]
        .split(|&b| b == 0x01)
        .map(|f| {
            let s = std::str::from_utf8(f).unwrap();
            let (t, v) = s.split_once('=').unwrap();
            (t.parse().unwrap(), v.to_string())
        })
        .collect()
}

fn get(f: &[(u32, String)], tag: u32) -> Option<&str> {
    f.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_str())
}

/// BodyLength: bytes after the SOH that ends tag 9 up to and including the SOH
/// before "10=". CheckSum: sum of every byte before "10=", modulo 256.
fn check_framing(msg: &[u8]) {
    let s = msg;
    let nine = s.windows(3).position(|w| w == b"\x019=").unwrap() + 1;
    let body_start = nine + s[nine..].iter().position(|&b| b == 0x01).unwrap() + 1;
    let ten = s.windows(4).rposition(|w| w == b"\x0110=").unwrap() + 1;
    let declared: usize = std::str::from_utf8(&s[nine + 2..body_start - 1])
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(declared, ten - body_start, "BodyLength");
    let sum: u32 = s[..ten].iter().map(|&b| b as u32).sum();
    let declared_ck = std::str::from_utf8(&s[ten + 3..ten + 6]).unwrap();
    assert_eq!(declared_ck, format!("{:03}", sum % 256), "CheckSum");
    assert_eq!(s.len(), ten + 7, "nothing after the checksum field");
}

#[allow(clippy::too_many_arguments)]
fn order(
    action: OrderAction,
    ord_type: OrdType,
    instrument: u32,
    side: Side,
    cl: u64,
    orig: u64,
    px: i64,
    qty: i64,
    ts: u64,
) -> Order {
    Order {
        header: Header {
            kind: Kind::Order as u8,
            sub: action as u8,
            side: side as u8,
            flags: ord_type as u8,
            instrument,
            ts_ns: ts,
            ..Header::default()
        },
        cl_ord_id: cl,
        orig_cl_ord_id: orig,
        px,
        qty,
    }
}

#[test]
fn new_order_single_reads_back() {
    let mut e = FixEncoder::new("FIX.4.4", "FOXTROT", "VENUE", &specs());
    // 2026-01-05 14:30:07.042 UTC
    let ts = 1_767_623_407_042_123_456;
    let o = order(
        OrderAction::New,
        OrdType::Limit,
        0,
        Side::Sell,
        1234,
        0,
        1_002_500,
        300,
        ts,
    );
    let msg = e.encode(&o).unwrap().to_vec();
    check_framing(&msg);
    let f = fields(&msg);
    assert_eq!(f[0], (8, "FIX.4.4".into()));
    assert_eq!(f[1].0, 9);
    assert_eq!(f[2], (35, "D".into()));
    assert_eq!(get(&f, 34).unwrap().parse::<u64>().unwrap(), 1);
    assert_eq!(get(&f, 49), Some("FOXTROT"));
    assert_eq!(get(&f, 56), Some("VENUE"));
    assert_eq!(get(&f, 52), Some("20260105-14:30:07.042"));
    assert_eq!(get(&f, 60), Some("20260105-14:30:07.042"));
    assert_eq!(get(&f, 11).unwrap().parse::<u64>().unwrap(), 1234);
    assert_eq!(get(&f, 54), Some("2"));
    assert_eq!(get(&f, 55), Some("FOXA"));
    assert_eq!(get(&f, 40), Some("2"));
    assert_eq!(get(&f, 44).unwrap().parse::<f64>().unwrap(), 100.25);
    assert_eq!(get(&f, 38).unwrap().parse::<f64>().unwrap(), 300.0);
    assert_eq!(get(&f, 41), None);
    // The next message carries the next MsgSeqNum.
    let msg2 = e.encode(&o).unwrap().to_vec();
    assert_eq!(get(&fields(&msg2), 34).unwrap().parse::<u64>().unwrap(), 2);
}

#[test]
fn cancel_replace_and_market_shapes() {
    let mut e = FixEncoder::new("FIX.4.2", "A", "B", &specs());
    let ts = 1_767_623_400_000_000_000;
    let f = fields(
        e.encode(&order(
            OrderAction::Cancel,
            OrdType::Limit,
            1,
            Side::Buy,
            20,
            10,
            0,
            1500,
            ts,
        ))
        .unwrap(),
    );
    assert_eq!(f[0], (8, "FIX.4.2".into()));
    assert_eq!(get(&f, 35), Some("F"));
    assert_eq!(get(&f, 41).unwrap().parse::<u64>().unwrap(), 10);
    assert_eq!(get(&f, 38).unwrap().parse::<f64>().unwrap(), 1.5); // qty_decimals 3
    assert_eq!(get(&f, 44), None);
    let msg = e
        .encode(&order(
            OrderAction::Replace,
            OrdType::Limit,
            1,
            Side::Buy,
            21,
            20,
            6_000_001,
            2000,
            ts,
        ))
        .unwrap()
        .to_vec();
    check_framing(&msg);
    let f = fields(&msg);
    assert_eq!(get(&f, 35), Some("G"));
    assert_eq!(get(&f, 44).unwrap().parse::<f64>().unwrap(), 60000.01);
    assert_eq!(get(&f, 55), Some("BTC-USD"));
    let msg = e
        .encode(&order(
            OrderAction::New,
            OrdType::Market,
            1,
            Side::Buy,
            22,
            0,
            0,
            1000,
            ts,
        ))
        .unwrap()
        .to_vec();
    check_framing(&msg);
    let f = fields(&msg);
    assert_eq!(get(&f, 40), Some("1"));
    assert_eq!(get(&f, 44), None);
}

#[test]
fn unencodable_orders_are_errors_and_consume_no_seq() {
    let mut e = FixEncoder::new("FIX.4.4", "A", "B", &specs());
    let ts = 1_767_623_400_000_000_000;
    assert!(e
        .encode(&order(OrderAction::New, OrdType::Limit, 9, Side::Buy, 1, 0, 100, 1, ts))
        .is_err());
    assert!(e
        .encode(&order(
            OrderAction::New,
            OrdType::Limit,
            0,
            Side::Buy,
            1,
            0,
            -100,
            1,
            ts
        ))
        .is_err());
    assert!(e
        .encode(&order(
            OrderAction::New,
            OrdType::Limit,
            0,
            Side::Buy,
            1,
            0,
            i64::MAX,
            1,
            ts
        ))
        .is_err());
    let mut bad = order(OrderAction::New, OrdType::Limit, 0, Side::Buy, 1, 0, 100, 1, ts);
    bad.header.side = 9;
    assert!(e.encode(&bad).is_err());
    assert_eq!(e.next_seq(), 1);
}

proptest! {
    #[test]
    fn any_valid_order_round_trips(
        instrument in 0u32..2,
        side in prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        action in prop_oneof![Just(OrderAction::New), Just(OrderAction::Cancel), Just(OrderAction::Replace)],
        market in any::<bool>(),
        cl in any::<u64>(),
        orig in any::<u64>(),
        px in 1i64..99_999_999_999,
        qty in 1i64..999_999_999,
        ts in 0u64..4_102_444_800_000_000_000, // before 2100-01-01
    ) {
        let ord_type = if market && action == OrderAction::New { OrdType::Market } else { OrdType::Limit };
        let mut e = FixEncoder::new("FIX.4.4", "S", "T", &specs());
        let o = order(action, ord_type, instrument, side, cl, orig, px, qty, ts);
        let msg = e.encode(&o).unwrap().to_vec();
        check_framing(&msg);
        let f = fields(&msg);
        let spec = &specs()[instrument as usize];
        prop_assert_eq!(get(&f, 11).unwrap().parse::<u64>().unwrap(), cl);
        prop_assert_eq!(get(&f, 54).unwrap(), if side == Side::Buy { "1" } else { "2" });
        let q: f64 = get(&f, 38).unwrap().parse().unwrap();
        prop_assert!((q - qty as f64 / 10f64.powi(spec.qty_decimals as i32)).abs() < 1e-6);
        if action != OrderAction::New {
            prop_assert_eq!(get(&f, 41).unwrap().parse::<u64>().unwrap(), orig);
        }
        if ord_type == OrdType::Limit && action != OrderAction::Cancel {
            let p = get(&f, 44).unwrap();
            let (int, frac) = p.split_once('.').unwrap_or((p, ""));
            let scaled: i64 = format!("{int}{frac}").parse().unwrap();
            prop_assert_eq!(scaled, px);
            prop_assert_eq!(frac.len(), spec.price_decimals as usize);
        }
        // SendingTime is the order's control time, to the millisecond.
        let st = get(&f, 52).unwrap();
        let secs = (ts / 1_000_000_000) as i64;
        let date = time_of(secs);
        prop_assert_eq!(&st[..17], date.as_str());
        prop_assert_eq!(st[18..].parse::<u64>().unwrap(), ts / 1_000_000 % 1000);
    }
}

proptest! {
    /// The rules the decide stage checks before committing an order accept exactly
    /// what the encoder encodes, over any codes, instruments, prices and sizes.
    #[test]
    fn encode_rules_agree_with_the_encoder(
        instrument in 0u32..3,
        sub in 0u8..5,
        side in 0u8..4,
        ord_type in 0u8..4,
        px in prop_oneof![any::<i64>(), -10i64..10, 99_999_999_000i64..100_000_001_000],
        qty in prop_oneof![any::<i64>(), -10i64..10, 999_999_999_000i64..1_000_000_001_000],
    ) {
        let mut e = FixEncoder::new("FIX.4.4", "S", "T", &specs());
        let rules = e.rules();
        let mut o = order(OrderAction::New, OrdType::Limit, instrument, Side::Buy, 7, 0, px, qty, 0);
        o.header.sub = sub;
        o.header.side = side;
        o.header.flags = ord_type;
        let seq = e.next_seq();
        let encoded = e.encode(&o).is_ok();
        prop_assert_eq!(rules.check(&o).is_ok(), encoded);
        prop_assert_eq!(e.next_seq(), seq + encoded as u64);
    }
}

/// Independent date formatting: count days year by year.
fn time_of(secs: i64) -> String {
    let mut days = secs / 86_400;
    let sod = secs % 86_400;
    let mut y = 1970;
    loop {
        let len = if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
            366
        } else {
            365
        };
        if days < len {
            break;
        }
        days -= len;
        y += 1;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let months = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut m = 0;
    while days >= months[m] {
        days -= months[m];
        m += 1;
    }
    format!(
        "{y:04}{:02}{:02}-{:02}:{:02}:{:02}",
        m + 1,
        days + 1,
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// What names an order later (a status request) writes its ClOrdID as the
/// order carried it: `clordid_text` is field 11 of the encoded order, byte for
/// byte, as the independent splitter reads it.
#[test]
fn clordid_text_is_the_order_s_field() {
    let mut enc = FixEncoder::new("FIX.4.4", "FOXTROT", "VENUE", &specs());
    for cl in [16, 334_096, 7 << 48 | 12_345, u64::MAX] {
        let o = Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: OrderAction::New as u8,
                side: Side::Buy as u8,
                flags: OrdType::Limit as u8,
                ..Header::default()
            },
            cl_ord_id: cl,
            px: 1_000_000,
            qty: 10,
            ..Order::default()
        };
        let f = fields(enc.encode(&o).unwrap());
        let text = String::from_utf8(clordid_text(cl).to_vec()).unwrap();
        assert_eq!(f.iter().find(|(t, _)| *t == 11).map(|(_, v)| v), Some(&text), "{cl}");
    }
}
