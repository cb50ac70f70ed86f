//! `foxtrot journal info|cat|verify|repair|tail DIR`: inspect a journal
//! directory (for a recorded run: `RUN/inputs`, `RUN/orders` or `RUN/diary`).
//!
//! `verify` exits non-zero on damage, naming the segment, the offset and the
//! records it costs; a torn tail (a crash's partly written last record) is not
//! damage. `repair` keeps every record before the damage after copying the
//! journal's files to a backup directory.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use foxtrot_engine::journal::fields::{self, Cell, Names};
use foxtrot_engine::journal::{kinds, Configured};
use foxtrot_engine::Config;
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
    /// Check every record and where they stop; exit non-zero on damage.
    Verify {
        /// Journal directory.
        dir: PathBuf,
    },
    /// Cut a damaged journal after its last good record, after copying its
    /// files to a backup directory.
    Repair {
        /// Journal directory.
        dir: PathBuf,
        /// Where to copy the files first (default `DIR.backup-<unix seconds>`).
        #[arg(long)]
        backup: Option<PathBuf>,
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

/// Reads a journal to its end: (records, torn tail), or the damage met after
/// how many records (`foxtrot journal verify`; a restart's check of the run it
/// resumes from).
///
/// A market-data journal whose writer promised to end it (see
/// `foxtrot_engine::journal::market_data`) is held to that end too: its
/// records all sound, but no end record after them, it is reported
/// incomplete — what an import killed half way leaves.
pub(crate) fn check(dir: &Path) -> Result<(u64, Option<(u64, u64)>)> {
    use foxtrot_engine::journal::market_data::MdEnd;
    let mut r = open(dir)?;
    let mut n = 0u64;
    // The end rule, for a journal whose first record is a configuration.
    let mut end: Option<MdEnd> = None;
    loop {
        match r.next() {
            Ok(Some(x)) => {
                if n == 0 && x.kind == kinds::KIND_CONFIG {
                    end = Some(MdEnd::new(x.flags));
                } else if end
                    .as_mut()
                    .is_some_and(|e| !e.record(x.kind, x.seq, x.ts_ns, x.payload))
                {
                    bail!(
                        "{}: seq {}: a record of kind {} the market data's end forbids: after its end record, or an end \
                         record that does not count the records before it",
                        dir.display(),
                        x.seq,
                        x.kind
                    );
                }
                n += 1;
            }
            Ok(None) => match end {
                Some(e) if e.unfinished() => bail!("{} ({n} records OK)", e.unfinished_error(dir)),
                _ => return Ok((n, r.torn_tail())),
            },
            Err(e) => bail!(
                "{e} (after {n} good records; `foxtrot journal repair {}` keeps them)",
                dir.display()
            ),
        }
    }
}

/// The configuration that names a journal's instruments and scales its prices:
/// the journal's own first record, or its run's input journal's.
fn names_config(dir: &Path) -> Option<Config> {
    let j = match Configured::open(dir) {
        Ok(j) => j,
        Err(_) => Configured::open(&dir.parent()?.join("inputs")).ok()?,
    };
    j.config().ok()
}

/// Decodes one record for display, through the journal's field descriptions:
/// one value, or for a compact market-data block one per event (a quote
/// block's row gives two; typed
/// `market_data`, with the block's `seq` and time — the journal's time, which
/// never goes back — and the event's own as `event_ts_ns`).
pub fn decode_all(r: &RecordRef, names: &Names) -> Vec<Value> {
    if r.kind != kinds::KIND_MD_BLOCK && r.kind != kinds::KIND_MD_QUOTES {
        return vec![decode(r, names)];
    }
    match fields::rows(r.kind, r.seq, r.ts_ns, r.payload, names) {
        Some(rows) => rows
            .into_iter()
            .map(|row| {
                let ts = row
                    .1
                    .iter()
                    .zip(row.0.columns)
                    .find_map(|(c, col)| match (c, col.name) {
                        (Cell::I(t), "ts_ns") => Some(*t),
                        _ => None,
                    });
                let mut v = json!({ "seq": r.seq, "ts_ns": r.ts_ns, "event_ts_ns": ts,
                    "kind": foxtrot_engine::records::Kind::MarketData as u16,
                    "segment": r.segment, "offset": r.offset, "type": "market_data" });
                put_row(v.as_object_mut().expect("object"), row);
                v
            })
            .collect(),
        None => vec![decode(r, names)],
    }
}

/// A row's columns into `m` (but its seq and time, which the record gives).
fn put_row(m: &mut serde_json::Map<String, Value>, (table, row): (&fields::Table, Vec<Cell>)) {
    for (c, cell) in table.columns.iter().zip(row) {
        if matches!(c.name, "seq" | "ts_ns") {
            continue;
        }
        let x = match cell {
            Cell::I(i) => json!(i),
            Cell::F(f) => json!(f),
            // FIX messages shown with `|` for SOH, as logs show them.
            Cell::S(s) => json!(s.replace('\u{1}', "|")),
            Cell::Null => continue,
        };
        m.insert(c.name.into(), x);
    }
}

/// Decodes one record for display, through the journal's field descriptions.
pub fn decode(r: &RecordRef, names: &Names) -> Value {
    let mut v = json!({ "seq": r.seq, "ts_ns": r.ts_ns, "kind": r.kind, "segment": r.segment, "offset": r.offset });
    let m = v.as_object_mut().expect("object");
    let kind = kinds::info(r.kind).map_or("unknown", |k| k.name);
    match fields::rows(r.kind, r.seq, r.ts_ns, r.payload, names) {
        Some(rows) => {
            m.insert("type".into(), json!(kind));
            for row in rows.into_iter().take(1) {
                put_row(m, row);
            }
        }
        None => {
            m.insert(
                "type".into(),
                json!(if kind == "unknown" { "unknown" } else { "invalid" }),
            );
            m.insert("bytes".into(), json!(r.payload.len()));
        }
    }
    v
}

/// The header of `journal cat`'s text lines.
const CAT_HEADER: &str = "       seq  time (UTC)                      type          fields";

/// One record as a text line under [`CAT_HEADER`]: seq, event time (ISO 8601;
/// `-` for 0, the configuration record), type, then its fields as `name=value`
/// (prices both as journalled integers, `px`, and scaled, `price`).
fn line(v: &Value) -> String {
    let o = v.as_object().expect("object");
    let ts = o["ts_ns"].as_u64().unwrap_or(0);
    let time = if ts == 0 {
        "-".to_string()
    } else {
        foxtrot_engine::format::calendar::iso8601(ts)
    };
    let mut s = format!(
        "{:>10}  {time:<30}  {:<12}",
        o["seq"].as_u64().unwrap_or(0),
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
                    println!(
                        "  torn tail at segment {s} offset {o} (a crash's unfinished record, cut on the next append)"
                    );
                }
                if let Some(e) = &v["error"].as_str() {
                    println!("  error: {e}");
                }
            }
            if let Some(e) = error {
                bail!("{e}");
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
            let cfg = names_config(&dir);
            let names = Names {
                instruments: cfg.as_ref().map_or(&[], |c| &c.instruments[..]),
            };
            if !json {
                println!("{CAT_HEADER}");
            }
            let mut n = 0;
            'records: while let Some(x) = r.next()? {
                for v in decode_all(&x, &names) {
                    println!("{}", if json { v.to_string() } else { line(&v) });
                    n += 1;
                    if limit.is_some_and(|l| n >= l) {
                        break 'records;
                    }
                }
            }
            Ok(())
        }
        JournalCmd::Verify { dir } => {
            let (n, torn) = check(&dir)?;
            match torn {
                Some((s, o)) => println!(
                    "{}: {n} records OK; torn tail at segment {s} offset {o} (a crash's unfinished record; nothing committed is lost)",
                    dir.display()
                ),
                None => println!("{}: {n} records OK", dir.display()),
            }
            Ok(())
        }
        JournalCmd::Repair { dir, backup } => {
            let backup = backup.unwrap_or_else(|| {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                PathBuf::from(format!("{}.backup-{secs}", dir.display()))
            });
            let r = foxtrot_shm::journal::repair::repair(&dir, &backup)?;
            // Market data its writer did not finish (after any damage is cut):
            // ended where its records stop, the files backed up first.
            let sealed = foxtrot_engine::journal::market_data::seal(&dir, || match r.backup {
                Some(_) => Ok(()),
                None => Ok(foxtrot_shm::journal::repair::back_up(&dir, &backup)?),
            })?;
            match (&r.damage, &r.backup) {
                (Some(d), Some(b)) => println!(
                    "{}: repaired: {d}; kept {} records, dropped {} (the original files are in {})",
                    dir.display(),
                    r.kept,
                    r.dropped,
                    b.display()
                ),
                _ if sealed.is_some() => {}
                _ => println!("{}: {} records OK; nothing to repair", dir.display(), r.kept),
            }
            if let Some((records, events)) = sealed {
                println!(
                    "{}: sealed: the market data now ends after its {records} records ({events} events): its writer had not \
                     finished it (killed, or failed); a capture so ended holds all it captured, an import is better run \
                     again (the original files are in {})",
                    dir.display(),
                    backup.display()
                );
            }
            Ok(())
        }
        JournalCmd::Tail { dir, json, count } => {
            if dir.join("inputs").is_dir() {
                bail!("{} is a run directory; name one of its journals", dir.display());
            }
            let mut r = JournalReader::follow(&dir)?;
            let cfg = names_config(&dir);
            let names = Names {
                instruments: cfg.as_ref().map_or(&[], |c| &c.instruments[..]),
            };
            let mut n = 0;
            loop {
                match r.next()? {
                    Some(x) => {
                        for v in decode_all(&x, &names) {
                            println!("{}", if json { v.to_string() } else { line(&v) });
                            n += 1;
                            if count.is_some_and(|c| n >= c) {
                                return Ok(());
                            }
                        }
                    }
                    None => std::thread::sleep(std::time::Duration::from_millis(1)),
                }
            }
        }
    }
}
