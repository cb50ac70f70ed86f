//! `foxtrot journal info|cat|verify|tail DIR`: inspect a journal directory
//! (for a recorded run: `RUN/inputs`, `RUN/orders` or `RUN/diary`).

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use foxtrot_engine::core::risk::{describe, Breach};
use foxtrot_engine::records::{
    CommandKind, DiaryRecord, ExecKind, InputView, RejectReason, RiskReject, TheoryPacket, Verdict,
};
use foxtrot_engine::runtime::journal::{slot_from_record, KIND_CONFIG};
use foxtrot_shm::{JournalReader, RecordRef};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Arguments of `foxtrot journal`.
#[derive(Args, Debug)]
pub struct JournalArgs {
    #[command(subcommand)]
    cmd: JournalCmd,
}

#[derive(Subcommand, Debug)]
enum JournalCmd {
    /// Segments, record counts, first and last seq and time, torn tail.
    Info {
        /// Journal directory.
        dir: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Print records, decoded.
    Cat {
        /// Journal directory.
        dir: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Start at the first record with seq ≥ this.
        #[arg(long)]
        from_seq: Option<u64>,
        /// Print at most this many records.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Check every record; exit non-zero at corruption.
    Verify {
        /// Journal directory.
        dir: PathBuf,
    },
    /// Follow a live journal, printing records as they are appended.
    Tail {
        /// Journal directory.
        dir: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Stop after this many records.
        #[arg(long)]
        count: Option<u64>,
    },
}

fn open(dir: &Path) -> Result<JournalReader> {
    if dir.join("inputs").is_dir() {
        bail!(
            "{} is a run directory; name one of its journals: {0}/inputs, {0}/orders or {0}/diary",
            dir.display()
        );
    }
    Ok(JournalReader::open(dir)?)
}

/// Decodes one record for display.
pub fn decode(r: &RecordRef) -> Value {
    let mut v = json!({ "seq": r.seq, "ts_ns": r.ts_ns, "kind": r.kind, "segment": r.segment, "offset": r.offset });
    let m = v.as_object_mut().expect("object");
    let p = r.payload;
    match r.kind {
        KIND_CONFIG => {
            m.insert("type".into(), json!("config"));
            m.insert("bytes".into(), json!(p.len()));
        }
        1..=4 => match slot_from_record(r.kind, p).as_ref().and_then(|s| s.view()) {
            Some(InputView::Md(md)) => {
                m.insert("type".into(), json!("market_data"));
                m.insert(
                    "action".into(),
                    json!(md.action().map_or("?".into(), |a| format!("{a:?}"))),
                );
                m.insert("side".into(), json!(md.header.side));
                m.insert("instrument".into(), json!(md.header.instrument));
                m.insert("px".into(), json!(md.px));
                m.insert("qty".into(), json!(md.qty));
                m.insert("order_id".into(), json!(md.order_id));
                m.insert("flags".into(), json!(md.header.flags));
            }
            Some(InputView::Exec(e)) => {
                m.insert("type".into(), json!("exec_report"));
                m.insert(
                    "exec".into(),
                    json!(ExecKind::from_u8(e.header.sub).map_or("?".into(), |k| format!("{k:?}"))),
                );
                m.insert("cl_ord_id".into(), json!(e.cl_ord_id));
                m.insert("last_px".into(), json!(e.last_px));
                m.insert("last_qty".into(), json!(e.last_qty));
                m.insert("cum_qty".into(), json!(e.cum_qty));
                m.insert("leaves_qty".into(), json!(e.leaves_qty));
            }
            Some(InputView::Timer(t)) => {
                m.insert("type".into(), json!("timer"));
                m.insert("count".into(), json!(t.count));
            }
            Some(InputView::Command(c)) => {
                m.insert("type".into(), json!("command"));
                m.insert(
                    "command".into(),
                    json!(CommandKind::from_u8(c.header.sub).map_or("?".into(), |k| format!("{k:?}"))),
                );
            }
            None => {
                m.insert("type".into(), json!("invalid input"));
            }
        },
        19 if p.len() >= 64 => {
            m.insert("type".into(), json!("order"));
            m.insert(
                "fix".into(),
                json!(String::from_utf8_lossy(&p[64..]).replace('\u{1}', "|")),
            );
        }
        20 if p.len() == 64 => {
            let x: RiskReject = bytemuck::pod_read_unaligned(p);
            m.insert("type".into(), json!("reject"));
            m.insert(
                "reason".into(),
                json!(RejectReason::from_u16(x.reason).map_or("?", |r| r.name())),
            );
            m.insert("limit".into(), json!(x.limit));
            m.insert("value".into(), json!(x.value));
            if let Some(reason) = RejectReason::from_u16(x.reason) {
                let b = Breach {
                    reason,
                    limit: x.limit,
                    value: x.value,
                };
                m.insert("message".into(), json!(describe(&b)));
            }
        }
        21 if p.len() == 128 => {
            let d: DiaryRecord = bytemuck::pod_read_unaligned(p);
            m.insert("type".into(), json!("diary"));
            m.insert(
                "verdict".into(),
                json!(Verdict::from_u8(d.header.sub).map_or("?".into(), |x| format!("{x:?}"))),
            );
            m.insert("instrument".into(), json!(d.header.instrument));
            m.insert("policy_id".into(), json!(d.policy_id));
            m.insert("regime".into(), json!(d.regime));
            m.insert("cl_ord_id".into(), json!(d.cl_ord_id));
            m.insert("px".into(), json!(d.px));
            m.insert("qty".into(), json!(d.qty));
            m.insert("markout".into(), json!(d.markout));
            m.insert("markout_events".into(), json!(d.markout_events));
            m.insert("reject_reason".into(), json!(d.reject_reason));
        }
        22 if p.len() == 128 => {
            let t: TheoryPacket = bytemuck::pod_read_unaligned(p);
            m.insert("type".into(), json!("theory"));
            m.insert("detector".into(), json!(t.header.sub));
            m.insert("statistic".into(), json!(t.statistic));
            m.insert("threshold".into(), json!(t.threshold));
            m.insert("size_factor".into(), json!(t.size_factor));
        }
        foxtrot_gateway::feed::quality::KIND_DATA_QUALITY if p.len() == 32 => {
            let d: foxtrot_gateway::feed::quality::DqEvent = bytemuck::pod_read_unaligned(p);
            m.insert("type".into(), json!("data_quality"));
            m.insert("code".into(), json!(d.code().map_or("?", |c| c.name())));
            m.insert("instrument".into(), json!(d.instrument));
            m.insert("a".into(), json!(d.a));
            m.insert("b".into(), json!(d.b));
        }
        _ => {
            m.insert("type".into(), json!("unknown"));
            m.insert("bytes".into(), json!(p.len()));
        }
    }
    v
}

fn line(v: &Value) -> String {
    let o = v.as_object().expect("object");
    let mut s = format!(
        "{:>10} {:>20} {}",
        o["seq"],
        o["ts_ns"],
        o.get("type").and_then(Value::as_str).unwrap_or("?")
    );
    for (k, x) in o {
        if !matches!(k.as_str(), "seq" | "ts_ns" | "type" | "segment" | "offset" | "kind") {
            s.push_str(&format!(" {k}={}", x.as_str().map_or(x.to_string(), str::to_string)));
        }
    }
    s
}

/// Runs `foxtrot journal`.
pub fn run(a: JournalArgs) -> Result<()> {
    match a.cmd {
        JournalCmd::Info { dir, json } => {
            let mut r = open(&dir)?;
            let segments = r.segments().len();
            let (mut n, mut first, mut last) = (0u64, None, None);
            let mut error = None;
            loop {
                match r.next() {
                    Ok(Some(x)) => {
                        n += 1;
                        first.get_or_insert((x.seq, x.ts_ns));
                        last = Some((x.seq, x.ts_ns));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            let bytes: u64 = r
                .segments()
                .iter()
                .filter_map(|(_, p)| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            let v = json!({
                "dir": dir, "segments": segments, "bytes": bytes, "records": n,
                "first": first.map(|f| json!({"seq": f.0, "ts_ns": f.1})),
                "last": last.map(|l| json!({"seq": l.0, "ts_ns": l.1})),
                "torn_tail": r.torn_tail().map(|t| json!({"segment": t.0, "offset": t.1})),
                "error": error,
            });
            if json {
                println!("{v}");
            } else {
                println!("{}: {segments} segments, {bytes} bytes, {n} records", dir.display());
                if let (Some(f), Some(l)) = (first, last) {
                    println!("  seq {}..{}, ts {}..{}", f.0, l.0, f.1, l.1);
                }
                if let Some((s, o)) = r.torn_tail() {
                    println!("  torn tail at segment {s} offset {o} (cut on the next append)");
                }
                if let Some(e) = &v["error"].as_str() {
                    println!("  error: {e}");
                }
            }
            Ok(())
        }
        JournalCmd::Cat {
            dir,
            json,
            from_seq,
            limit,
        } => {
            let mut r = open(&dir)?;
            if let Some(s) = from_seq {
                r.seek_seq(s)?;
            }
            let mut n = 0;
            while let Some(x) = r.next()? {
                let v = decode(&x);
                println!("{}", if json { v.to_string() } else { line(&v) });
                n += 1;
                if limit.is_some_and(|l| n >= l) {
                    break;
                }
            }
            Ok(())
        }
        JournalCmd::Verify { dir } => {
            let mut r = open(&dir)?;
            let mut n = 0u64;
            while r.next()?.is_some() {
                n += 1;
            }
            match r.torn_tail() {
                Some((s, o)) => println!("{}: {n} records OK; torn tail at segment {s} offset {o}", dir.display()),
                None => println!("{}: {n} records OK", dir.display()),
            }
            Ok(())
        }
        JournalCmd::Tail { dir, json, count } => {
            let mut r = open(&dir)?;
            let mut n = 0;
            loop {
                match r.next()? {
                    Some(x) => {
                        let v = decode(&x);
                        println!("{}", if json { v.to_string() } else { line(&v) });
                        n += 1;
                        if count.is_some_and(|c| n >= c) {
                            return Ok(());
                        }
                    }
                    None => std::thread::sleep(std::time::Duration::from_millis(1)),
                }
            }
        }
    }
}
