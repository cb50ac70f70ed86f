//! Decoding a FIX 4.4 ExecutionReport (a partial fill, 22 fields, 238 bytes) from
//! its bytes into an engine `ExecReport`, BodyLength and CheckSum checked.
//!
//! - `execution_report`: what the receive path does — the session's one-pass
//!   report scanner, then the conversion at the instrument's decimals.
//! - `execution_report_stream`: the same over the reports `foxtrot venue` sends
//!   for 64 orders (acknowledgements, fills, cancels: two layouts of fields,
//!   values of varying lengths), one per iteration.
//! - `execution_report_full_decoder`: the same through the general decoder,
//!   which indexes every field of any message (the path before the scanner,
//!   and still the one for every other message type).
//! - `scan_only`, `decode_only`, `convert_only`: the parts.
//! - `frame_len`: the framing alone, as a TCP reader runs it on each read.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_benches::{fix_execution_report, fix_instruments, fix_report_stream};
use foxtrot_fix::{exec_from_fix, frame_len, Fields, FixDecoder, ReportScanner};

fn bench(c: &mut Criterion) {
    let msg = fix_execution_report();
    let inst = fix_instruments();
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
    // What the venue sends for 64 orders, one report per iteration in order:
    // the scanner switches between the two layouts it learned, and no report
    // is the one before it again.
    let stream = fix_report_stream(64);
    let mut next = 0;
    c.bench_function("fix_decode/execution_report_stream", |b| {
        b.iter(|| {
            let m = &stream[next];
            next = if next + 1 == stream.len() { 0 } else { next + 1 };
            let r = scanner.scan(black_box(m)).unwrap();
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
