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
//! - `session_receive`: what the engine's link does with each report of the
//!   stream: the session's receive path (the fast path along a learned layout:
//!   frame, CompIDs, BeginString, sequence, SendingTime), then the conversion.
//! - `dictionary_validation`: what full validation against the FIX 4.4
//!   dictionary (parse into header/body/trailer, every check) costs per report
//!   — the general path's price, which the fast path does not pay.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_benches::{fix_engine_session, fix_execution_report, fix_instruments, fix_report_stream};
use foxtrot_fix::dictionary::Dictionary;
use foxtrot_fix::session::{Inbound, MessageStore};
use foxtrot_fix::validate::{validate, Validation};
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

    // The session's receive path over the stream, in sequence (rewound to
    // MsgSeqNum 1 at each wrap); one pass first, as warm-up, learns the layouts.
    let mut engine = fix_engine_session();
    let t = 1_767_623_401_000_000_000u64;
    for m in &stream {
        assert_eq!(engine.on_message(m, t), Inbound::App);
    }
    let rewind = |engine: &mut foxtrot_fix::session::Session<foxtrot_fix::session::MemoryStore>| {
        let out = engine.store().seqs().0;
        engine.store_mut().set_seqs(out, 1);
    };
    rewind(&mut engine);
    let mut next = 0;
    c.bench_function("fix_decode/session_receive", |b| {
        b.iter(|| {
            if next == stream.len() {
                next = 0;
                rewind(&mut engine);
            }
            let m = &stream[next];
            next += 1;
            let r = engine.on_message(black_box(m), t);
            debug_assert_eq!(r, Inbound::App);
            let e = exec_from_fix(&engine.report(m).unwrap(), &inst, 1).unwrap();
            black_box(&e);
        })
    });
    let d = Dictionary::shared("FIX.4.4").unwrap();
    let v = Validation::default();
    c.bench_function("fix_decode/dictionary_validation", |b| {
        b.iter(|| {
            let p = foxtrot_fix::message::parse(black_box(&msg), &d).unwrap();
            black_box(validate(&p, &d, &v).is_ok());
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
