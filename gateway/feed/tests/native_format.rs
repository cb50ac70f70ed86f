//! The native `.fxmd` format: round trips, and every kind of damage reported with
//! its offset, never a panic.

use foxtrot_engine::records::{flags, InstrumentSpec, MarketData, MdAction, Side};
use foxtrot_feed::native::{decode_all, decode_record, encode_record, NativeWriter, BLOCK};
use foxtrot_feed::Error;
use proptest::prelude::*;
use std::io::Cursor;

fn specs() -> Vec<InstrumentSpec> {
    vec![
        InstrumentSpec {
            symbol: "AAA".into(),
            price_decimals: 4,
            tick: 100,
            qty_decimals: 0,
            lot: 1,
            ref_price: 1_000_000,
        },
        InstrumentSpec {
            symbol: "BBB".into(),
            price_decimals: 2,
            tick: 5,
            qty_decimals: 2,
            lot: 10,
            ref_price: 5_000,
        },
    ]
}

fn sample() -> Vec<MarketData> {
    vec![
        MarketData::new(MdAction::Add, 0, Some(Side::Buy), 100, 7, 999_900, 50, 0),
        MarketData::new(
            MdAction::Execute,
            1,
            Some(Side::Sell),
            200,
            8,
            5_005,
            20,
            flags::LAST_IN_BATCH,
        ),
        MarketData::new(MdAction::Trade, 1, None, 300, 0, 5_010, 3, flags::AFTER_GAP),
    ]
}

fn file(recs: &[MarketData]) -> Vec<u8> {
    let mut w = NativeWriter::new(Cursor::new(Vec::new()), &specs(), 99, 100).unwrap();
    for r in recs {
        w.write(r).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn round_trip() {
    let bytes = file(&sample());
    assert_eq!(bytes.len(), BLOCK * (1 + 2 + 3));
    let (recs, err) = decode_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(recs, sample());
}

#[test]
fn the_layout_is_little_endian_at_documented_offsets() {
    let m = MarketData::new(MdAction::Cancel, 1, Some(Side::Sell), 0x0102, 0x0A0B, 0x1122, -5, 0);
    let b = encode_record(&m);
    assert_eq!(&b[8..10], &[0x02, 0x01]);
    assert_eq!((b[24], b[25], b[26]), (1, MdAction::Cancel as u8, Side::Sell as u8));
    assert_eq!(&b[28..32], &[1, 0, 0, 0]);
    assert_eq!(&b[40..42], &[0x0B, 0x0A]);
    assert_eq!(&b[48..50], &[0x22, 0x11]);
    assert_eq!(&b[56..64], &(-5i64).to_le_bytes());
}

#[test]
fn damage_is_reported_with_its_offset() {
    let good = file(&sample());
    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(matches!(decode_all(&bad).1, Some(Error::BadMagic { .. })));
    let mut bad = good.clone();
    bad[8] = 2;
    assert!(matches!(
        decode_all(&bad).1,
        Some(Error::BadHeader {
            offset: 8,
            field: "version",
            ..
        })
    ));
    // Truncated mid-record: the header's count no longer matches the length.
    let bad = &good[..good.len() - 10];
    let e = decode_all(bad).1.unwrap();
    assert!(
        matches!(e, Error::Length { expected, found, .. } if expected == good.len() as u64 && found == bad.len() as u64),
        "{e}"
    );
    // A bad action in record 1: reported at its offset, record 0 still delivered.
    let mut bad = good.clone();
    let rec1 = BLOCK * 3 + BLOCK;
    bad[rec1 + 25] = 77;
    let (recs, e) = decode_all(&bad);
    assert_eq!(recs.len(), 1);
    let e = e.unwrap();
    assert!(
        matches!(e, Error::BadRecord { offset, index: 1, .. } if offset == rec1 as u64),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("offset {rec1} (record 1): unknown action")),
        "{e}"
    );
    // Instrument id out of range.
    let mut bad = good.clone();
    bad[BLOCK * 3 + 28] = 9;
    assert!(matches!(
        decode_all(&bad).1,
        Some(Error::BadRecord {
            index: 0,
            what: "instrument id out of range",
            ..
        })
    ));
    // Empty and tiny inputs.
    assert!(decode_all(&[]).1.is_some());
    assert!(decode_all(b"FXMDv001").1.is_some());
}

proptest! {
    #[test]
    fn record_round_trip(
        action in 1u8..=6, side in 1u8..=2, flags in any::<u8>(), instrument in 0u32..2,
        ts in any::<u64>(), exch in any::<u64>(), id in any::<u64>(), px in any::<i64>(), qty in any::<i64>(),
    ) {
        let mut m = MarketData::new(MdAction::from_u8(action).unwrap(), instrument, Side::from_u8(side), ts, id, px, qty, flags);
        m.exch_ts_ns = exch;
        prop_assert_eq!(decode_record(&encode_record(&m), 2).unwrap(), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_all(&bytes);
    }

    #[test]
    fn any_byte_flip_in_a_valid_file_is_caught_or_harmless(pos in 0usize..(BLOCK * 6), bit in 0u8..8) {
        let mut b = file(&sample());
        b[pos] ^= 1 << bit;
        let (recs, err) = decode_all(&b);
        if err.is_none() {
            // Flips in payload fields (times, ids, prices) decode to different values,
            // never to a different number of records.
            prop_assert_eq!(recs.len(), 3);
        }
    }
}
