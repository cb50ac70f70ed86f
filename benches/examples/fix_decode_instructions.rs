//! Runs one part of the ExecutionReport receive path `N` times over the bench's
//! report, for counting its instructions (which, unlike wall time, do not move
//! with the load of a shared machine):
//!
//! ```text
//! bash perf/fix_decode_instr.sh
//! ```
//!
//! runs it under callgrind at two `N`s and prints the difference per report.
//! Parts: `receive` (scan + conversion, what the engine's link does),
//! `stream` (the same over what `foxtrot venue` sends for 64 orders), `scan`,
//! `convert`, `full` (the general decoder + conversion); and `encode`, a
//! NewOrderSingle into its template (the send path's encoder).

use foxtrot_benches::{fix_execution_report, fix_instruments, fix_report_stream};
use foxtrot_fix::{exec_from_fix, FixDecoder, ReportScanner};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let part = args.next().unwrap_or_else(|| "receive".into());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let msg = fix_execution_report();
    let inst = fix_instruments();
    let mut scanner = ReportScanner::new();
    let mut dec = FixDecoder::new();
    let mut converted = 0u64;
    match part.as_str() {
        "receive" => {
            for _ in 0..n {
                let r = scanner.scan(black_box(&msg)).expect("the bench report scans");
                let e = exec_from_fix(&r, &inst, 1).expect("and converts");
                converted += black_box(&e).is_some() as u64;
            }
        }
        "stream" => {
            let stream = fix_report_stream(64);
            for i in 0..n {
                let m = &stream[i as usize % stream.len()];
                let r = scanner.scan(black_box(m)).expect("every venue report scans");
                let e = exec_from_fix(&r, &inst, 1).expect("and converts");
                converted += black_box(&e).is_some() as u64;
            }
        }
        "scan" => {
            for _ in 0..n {
                converted += black_box(scanner.scan(black_box(&msg))).is_some() as u64;
            }
        }
        "convert" => {
            let mut s2 = ReportScanner::new();
            let r = s2.scan(&msg).expect("the bench report scans");
            for _ in 0..n {
                let e = exec_from_fix(black_box(&r), &inst, 1).expect("converts");
                converted += black_box(&e).is_some() as u64;
            }
        }
        "full" => {
            for _ in 0..n {
                let m = dec.decode(black_box(&msg)).expect("the bench report decodes");
                let e = exec_from_fix(&m, &inst, 1).expect("and converts");
                converted += black_box(&e).is_some() as u64;
            }
        }
        "encode" => {
            // The other way: a NewOrderSingle into its template (what the
            // core's encode stage does for each order).
            let cfg = foxtrot_benches::sim_config(1);
            let s = &cfg.session;
            let mut enc = foxtrot_engine::format::fix::FixEncoder::new(
                &s.begin_string,
                &s.sender_comp_id,
                &s.target_comp_id,
                &cfg.instruments,
            );
            let os = foxtrot_benches::fix_orders();
            for i in 0..n {
                let wire = enc
                    .encode(black_box(&os[i as usize % os.len()]))
                    .expect("a valid order");
                converted += !black_box(wire).is_empty() as u64;
            }
        }
        other => {
            eprintln!("unknown part {other:?}: receive, stream, scan, convert, full or encode");
            std::process::exit(2);
        }
    }
    assert_eq!(converted, n, "every iteration handled the report");
    eprintln!(
        "{part}: {n} reports, {} read along one of {} learned layouts",
        scanner.layouts().followed(),
        scanner.layouts().len()
    );
}
