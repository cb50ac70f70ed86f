//! Any bytes as a FIX stream: framing, decoding and the application decoders
//! return values or errors naming where — never panic; frames lie inside the input.
//! The receive path's report scanner accepts only what the full decoder accepts,
//! and reads the same fields and the same engine record from it.
#![no_main]
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_gateway::fix::report::KEPT;
use foxtrot_gateway::fix::{exec_from_fix, frame_len, order_from_fix, Fields, FixDecoder, Instruments, ReportScanner};
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
    let mut check_scan = |msg: &[u8]| {
        let Some(r) = scanner.scan(msg) else { return };
        let mut full = FixDecoder::new();
        let m = full.decode(msg).expect("the scanner accepted what the decoder rejects");
        assert_eq!(r.msg_type(), m.msg_type());
        for t in KEPT.iter().copied().chain([6, 10, 17, 58]) {
            assert_eq!((r.get(t), r.offset_of(t)), (m.get(t), m.offset_of(t)), "tag {t}");
        }
        assert_eq!(exec_from_fix(&r, &inst, 0), exec_from_fix(&m, &inst, 0));
    };
    let mut rest = data;
    while !rest.is_empty() {
        match frame_len(rest) {
            Ok(Some(n)) => {
                assert!(n <= rest.len());
                check_scan(&rest[..n]);
                if let Ok(m) = dec.decode(&rest[..n]) {
                    let _ = exec_from_fix(&m, &inst, 0);
                    let _ = order_from_fix(&m, &inst, 0);
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
