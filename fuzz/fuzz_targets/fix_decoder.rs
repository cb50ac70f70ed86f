//! Any bytes as a FIX stream: framing, decoding and the application decoders
//! return values or errors naming where — never panic; frames lie inside the input.
//! The receive path's report scanner accepts exactly the reports the full
//! decoder accepts, and reads the same fields and the same engine record from
//! them, whether by its general path or along a layout it learned.
#![no_main]
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_fix::report::{KEPT, MAX_SCAN};
use foxtrot_fix::{exec_from_fix, frame_len, order_from_fix, Fields, FixDecoder, Instruments, ReportScanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let inst = Instruments::new(&[InstrumentSpec {
        symbol: "FOXA".into(),
        price_decimals: 4,
        tick: 100,
        qty_decimals: 0,
        lot: 1,
        ref_price: 1_000_000,
    }]);
    let mut dec = FixDecoder::new();
    let mut scanner = ReportScanner::new();
    // Each frame is scanned twice: the second time along the layout the first
    // learned, if it was a report (and earlier frames' layouts are tried first).
    let mut check_scan = |msg: &[u8]| {
        for _ in 0..2 {
            let scanned = scanner.scan(msg);
            let mut full = FixDecoder::new();
            let decoded = full.decode(msg);
            let Some(r) = scanned else {
                if let Ok(m) = decoded {
                    let report = matches!(m.msg_type(), b"8" | b"9");
                    assert!(!report || msg.len() > MAX_SCAN, "the scanner refused a report the decoder reads");
                }
                return;
            };
            let m = decoded.expect("the scanner accepted what the decoder rejects");
            assert_eq!(r.msg_type(), m.msg_type());
            for t in KEPT.iter().copied().chain([6, 10, 17, 58]) {
                assert_eq!((r.get(t), r.offset_of(t)), (m.get(t), m.offset_of(t)), "tag {t}");
            }
            assert_eq!(exec_from_fix(&r, &inst, 0), exec_from_fix(&m, &inst, 0));
        }
    };
    let mut rest = data;
    while !rest.is_empty() {
        match frame_len(rest) {
            Ok(Some(n)) => {
                assert!(n <= rest.len());
                check_scan(&rest[..n]);
                if let Ok(m) = dec.decode(&rest[..n]) {
                    let _ = exec_from_fix(&m, &inst, 0);
                    let _ = order_from_fix(&m, &inst, 0, &mut foxtrot_fix::app::NumericIds);
                    let _ = m.group(453, &[448, 447, 452]);
                }
                rest = &rest[n..];
            }
            Ok(None) => break,
            Err(_) => rest = &rest[1..],
        }
    }
    check_scan(data);
    if let Ok(m) = dec.decode(data) {
        let _ = exec_from_fix(&m, &inst, 0);
    }
});
