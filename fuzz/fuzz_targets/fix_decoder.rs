//! Any bytes as a FIX stream: framing, decoding and the application decoders
//! return values or errors naming where — never panic; frames lie inside the input.
#![no_main]
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_gateway::fix::{exec_from_fix, frame_len, order_from_fix, FixDecoder, Instruments};
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
    let mut rest = data;
    while !rest.is_empty() {
        match frame_len(rest) {
            Ok(Some(n)) => {
                assert!(n <= rest.len());
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
    if let Ok(m) = dec.decode(data) {
        let _ = exec_from_fix(&m, &inst, 0);
    }
});
