//! Decoding a FIX 4.4 ExecutionReport (a partial fill, 22 fields, 238 bytes) from
//! its bytes into an engine `ExecReport`, BodyLength and CheckSum checked.
//!
//! - `execution_report`: what the receive path does — the session's one-pass
//!   report scanner, then the conversion at the instrument's decimals.
//! - `execution_report_full_decoder`: the same through the general decoder,
//!   which indexes every field of any message (the path before the scanner,
//!   and still the one for every other message type).
//! - `scan_only`, `decode_only`, `convert_only`: the parts.
//! - `frame_len`: the framing alone, as a TCP reader runs it on each read.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_gateway::fix::{exec_from_fix, frame_len, Fields, FixDecoder, Instruments, ReportScanner};

fn er() -> Vec<u8> {
    let body = "35=8|34=12345|49=VENUE|52=20260105-14:30:00.123|56=FOXTROT|6=100.25|11=00000000000000000042|\
                14=300|17=E0000001|31=100.25|32=300|37=V-0000077|38=1000|39=1|40=2|44=100.2500|54=1|55=FOXA|\
                60=20260105-14:30:00.123456|150=F|151=700|"
        .replace('|', "\x01");
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = m.iter().map(|&c| c as u32).sum::<u32>() % 256;
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

fn bench(c: &mut Criterion) {
    let msg = er();
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
    let full = exec_from_fix(&dec.decode(&msg).unwrap(), &inst, 1).unwrap();
    let scanned = exec_from_fix(&scanner.scan(&msg).unwrap(), &inst, 1).unwrap();
    assert!(full.is_some() && full == scanned);
    // Each report is observed where it lies (`black_box(&e)`), as the receive
    // path copies it into an input slot; returning it by value would add
    // criterion's own copy of it (a libc memcpy call, ~10 ns here).
    c.bench_function("fix_decode/execution_report", |b| {
        b.iter(|| {
            let r = scanner.scan(black_box(&msg)).unwrap();
            let e = exec_from_fix(&r, &inst, 1).unwrap();
            black_box(&e);
        })
    });
    c.bench_function("fix_decode/execution_report_full_decoder", |b| {
        b.iter(|| {
            let m = dec.decode(black_box(&msg)).unwrap();
            let e = exec_from_fix(&m, &inst, 1).unwrap();
            black_box(&e);
        })
    });
    c.bench_function("fix_decode/scan_only", |b| {
        b.iter(|| scanner.scan(black_box(&msg)).map(|r| r.msg_type().len()))
    });
    c.bench_function("fix_decode/decode_only", |b| {
        b.iter(|| dec.decode(black_box(&msg)).map(|m| m.msg_type().len()))
    });
    {
        let mut s2 = ReportScanner::new();
        let r = s2.scan(&msg).unwrap();
        c.bench_function("fix_decode/convert_only", |b| {
            b.iter(|| {
                let e = exec_from_fix(black_box(&r), &inst, 1).unwrap();
                black_box(&e);
            })
        });
    }
    c.bench_function("fix_decode/frame_len", |b| b.iter(|| frame_len(black_box(&msg))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
