//! Decoding a FIX 4.4 ExecutionReport (a partial fill, 22 fields, 238 bytes) from
//! its bytes into an engine `ExecReport`: BodyLength and CheckSum checked, every
//! field indexed, the fields the engine uses parsed at the instrument's decimals.
//! Also the framing alone, as a TCP reader runs it on each read.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use foxtrot_engine::records::InstrumentSpec;
use foxtrot_gateway::fix::{exec_from_fix, frame_len, FixDecoder, Instruments};

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
    assert!(exec_from_fix(&dec.decode(&msg).unwrap(), &inst, 0).unwrap().is_some());
    c.bench_function("fix_decode/execution_report", |b| {
        b.iter(|| {
            let m = dec.decode(black_box(&msg)).unwrap();
            exec_from_fix(&m, &inst, 1).unwrap()
        })
    });
    c.bench_function("fix_decode/decode_only", |b| {
        b.iter(|| dec.decode(black_box(&msg)).map(|m| m.msg_type().len()))
    });
    {
        let mut d2 = FixDecoder::new();
        let m = d2.decode(&msg).unwrap();
        c.bench_function("fix_decode/convert_only", |b| {
            b.iter(|| exec_from_fix(black_box(&m), &inst, 1).unwrap())
        });
    }
    c.bench_function("fix_decode/frame_len", |b| b.iter(|| frame_len(black_box(&msg))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
