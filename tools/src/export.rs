//! `foxtrot export --parquet RUN_DIR`: a run's journals as Parquet files.
//!
//! Six files, one per table, each a sequence of row groups of at most
//! [`ROW_GROUP`] rows, Snappy-compressed. The schemas are the `*_SCHEMA`
//! constants below (Parquet message types) and are documented in
//! `docs/formats.md`:
//!
//! | file | rows |
//! |---|---|
//! | `inputs.parquet` | every sequenced input (market data, execution reports, timers, commands) |
//! | `orders.parquet` | every order sent, with its FIX message |
//! | `rejects.parquet` | every risk reject |
//! | `fills.parquet` | every execution report with a fill (`last_qty > 0`) |
//! | `diary.parquet` | every decision-diary record |
//! | `drift_alarms.parquet` | every theory packet (drift alarm) |
//!
//! Prices keep their fixed-point integers (`px`) and add the decimal value
//! (`price`, `px / 10^price_decimals`) so a reader needs no config.

use foxtrot_engine::core::belief::Regime;
use foxtrot_engine::records::{DiaryRecord, InputView, Kind, Order, RejectReason, RiskReject, TheoryPacket};
use foxtrot_engine::runtime::replay::ReplayError;
use foxtrot_engine::runtime::JournalInputs;
use foxtrot_shm::{JournalReader, ShmError};
use parquet::basic::{Compression, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per row group.
pub const ROW_GROUP: usize = 131_072;

/// Schema of `inputs.parquet`. Kind-specific columns are null where they do not apply.
pub const INPUTS_SCHEMA: &str = "message inputs {
  REQUIRED INT64 seq;
  REQUIRED INT64 ts_ns;
  REQUIRED BINARY kind (UTF8);
  REQUIRED INT64 instrument;
  OPTIONAL BINARY symbol (UTF8);
  OPTIONAL BINARY action (UTF8);
  OPTIONAL BINARY side (UTF8);
  OPTIONAL INT64 order_id;
  OPTIONAL INT64 px;
  OPTIONAL DOUBLE price;
  OPTIONAL INT64 qty;
  OPTIONAL INT64 cl_ord_id;
  OPTIONAL INT64 last_px;
  OPTIONAL INT64 last_qty;
  OPTIONAL INT64 cum_qty;
  OPTIONAL INT64 leaves_qty;
}";

/// Schema of `orders.parquet`.
pub const ORDERS_SCHEMA: &str = "message orders {
  REQUIRED INT64 seq;
  REQUIRED INT64 ts_ns;
  REQUIRED INT64 instrument;
  REQUIRED BINARY symbol (UTF8);
  REQUIRED INT64 cl_ord_id;
  REQUIRED INT64 orig_cl_ord_id;
  REQUIRED BINARY action (UTF8);
  REQUIRED BINARY side (UTF8);
  REQUIRED BINARY ord_type (UTF8);
  REQUIRED INT64 px;
  REQUIRED DOUBLE price;
  REQUIRED INT64 qty;
  REQUIRED BINARY fix (UTF8);
}";

/// Schema of `rejects.parquet`.
pub const REJECTS_SCHEMA: &str = "message rejects {
  REQUIRED INT64 seq;
  REQUIRED INT64 ts_ns;
  REQUIRED INT64 instrument;
  REQUIRED BINARY reason (UTF8);
  REQUIRED INT64 limit;
  REQUIRED INT64 value;
  REQUIRED INT64 px;
}";

/// Schema of `fills.parquet`.
pub const FILLS_SCHEMA: &str = "message fills {
  REQUIRED INT64 seq;
  REQUIRED INT64 ts_ns;
  REQUIRED INT64 instrument;
  REQUIRED BINARY symbol (UTF8);
  REQUIRED INT64 cl_ord_id;
  REQUIRED BINARY side (UTF8);
  REQUIRED BINARY exec_kind (UTF8);
  REQUIRED INT64 last_px;
  REQUIRED DOUBLE price;
  REQUIRED INT64 last_qty;
  REQUIRED INT64 cum_qty;
  REQUIRED INT64 leaves_qty;
}";

/// Schema of `diary.parquet`.
pub const DIARY_SCHEMA: &str = "message diary {
  REQUIRED INT64 seq;
  REQUIRED INT64 ts_ns;
  REQUIRED INT64 instrument;
  REQUIRED INT64 cl_ord_id;
  REQUIRED BINARY verdict (UTF8);
  OPTIONAL BINARY side (UTF8);
  REQUIRED BINARY policy (UTF8);
  REQUIRED BINARY topology (UTF8);
  REQUIRED BINARY regime (UTF8);
  REQUIRED INT64 px;
  REQUIRED INT64 qty;
  REQUIRED INT64 markout;
  REQUIRED INT64 markout_events;
  OPTIONAL BINARY reject_reason (UTF8);
  REQUIRED BINARY policy_hash (UTF8);
}";

/// Schema of `drift_alarms.parquet`.
pub const ALARMS_SCHEMA: &str = "message drift_alarms {
  REQUIRED INT64 seq;
  REQUIRED INT64 ts_ns;
  REQUIRED INT64 instrument;
  REQUIRED BINARY detector (UTF8);
  REQUIRED DOUBLE statistic;
  REQUIRED DOUBLE threshold;
  REQUIRED DOUBLE signal_mean;
  REQUIRED INT64 samples;
  REQUIRED DOUBLE size_factor;
  REQUIRED INT64 alarms;
}";

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The input journal or its configuration.
    #[error("{0}")]
    Replay(#[from] ReplayError),
    /// An output journal.
    #[error("{0}")]
    Journal(#[from] ShmError),
    /// Writing Parquet.
    #[error("{path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A record in an output journal has the wrong size for its kind.
    #[error("{journal} journal: record seq {seq} of kind {kind} has {len} bytes")]
    BadRecord {
        /// Which journal.
        journal: &'static str,
        /// Its seq.
        seq: u64,
        /// Its kind.
        kind: u16,
        /// Its length.
        len: usize,
    },
}

/// One cell.
#[derive(Clone, Debug)]
pub enum V {
    /// INT64.
    I(i64),
    /// DOUBLE.
    F(f64),
    /// UTF8 string.
    S(String),
    /// Null (OPTIONAL columns only).
    Null,
}

struct Column {
    physical: Physical,
    optional: bool,
    cells: Vec<V>,
}

/// A Parquet file being written one row at a time.
pub struct Table {
    path: PathBuf,
    writer: Option<SerializedFileWriter<File>>,
    columns: Vec<Column>,
    rows: u64,
}

impl Table {
    /// Creates `path` with the message type `schema`.
    pub fn create(path: &Path, schema: &str) -> Result<Table, ExportError> {
        let err = |e: &dyn std::fmt::Display| ExportError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let ty = Arc::new(parse_message_type(schema).map_err(|e| err(&e))?);
        let columns = ty
            .get_fields()
            .iter()
            .map(|f| Column {
                physical: f.get_physical_type(),
                optional: f.get_basic_info().repetition() == Repetition::OPTIONAL,
                cells: Vec::new(),
            })
            .collect();
        let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
        let file = File::create(path).map_err(|e| err(&e))?;
        let writer = SerializedFileWriter::new(file, ty, props).map_err(|e| err(&e))?;
        Ok(Table {
            path: path.to_path_buf(),
            writer: Some(writer),
            columns,
            rows: 0,
        })
    }

    /// Appends a row: one cell per column, in schema order.
    pub fn push(&mut self, row: Vec<V>) -> Result<(), ExportError> {
        assert_eq!(row.len(), self.columns.len(), "{}: row width", self.path.display());
        for (c, v) in self.columns.iter_mut().zip(row) {
            c.cells.push(v);
        }
        self.rows += 1;
        if self.columns[0].cells.len() >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        if self.columns[0].cells.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |e: &dyn std::fmt::Display| ExportError::Write {
            path: path.clone(),
            message: e.to_string(),
        };
        let w = self.writer.as_mut().expect("open until finished");
        let mut rg = w.next_row_group().map_err(|e| err(&e))?;
        for c in &mut self.columns {
            let mut cw = rg.next_column().map_err(|e| err(&e))?.expect("one writer per column");
            let defs: Vec<i16> = c.cells.iter().map(|v| i16::from(!matches!(v, V::Null))).collect();
            let defs = c.optional.then_some(defs.as_slice());
            let cells = std::mem::take(&mut c.cells);
            match c.physical {
                Physical::INT64 => {
                    let v: Vec<i64> = cells
                        .iter()
                        .filter_map(|x| if let V::I(i) = x { Some(*i) } else { None })
                        .collect();
                    cw.typed::<Int64Type>()
                        .write_batch(&v, defs, None)
                        .map_err(|e| err(&e))?;
                }
                Physical::DOUBLE => {
                    let v: Vec<f64> = cells
                        .iter()
                        .filter_map(|x| if let V::F(f) = x { Some(*f) } else { None })
                        .collect();
                    cw.typed::<DoubleType>()
                        .write_batch(&v, defs, None)
                        .map_err(|e| err(&e))?;
                }
                _ => {
                    let v: Vec<ByteArray> = cells
                        .into_iter()
                        .filter_map(|x| {
                            if let V::S(s) = x {
                                Some(ByteArray::from(s.into_bytes()))
                            } else {
                                None
                            }
                        })
                        .collect();
                    cw.typed::<ByteArrayType>()
                        .write_batch(&v, defs, None)
                        .map_err(|e| err(&e))?;
                }
            }
            cw.close().map_err(|e| err(&e))?;
        }
        rg.close().map_err(|e| err(&e))?;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the number of rows.
    pub fn finish(mut self) -> Result<u64, ExportError> {
        self.flush()?;
        let path = self.path.clone();
        self.writer
            .take()
            .expect("open until finished")
            .close()
            .map_err(|e| ExportError::Write {
                path,
                message: e.to_string(),
            })?;
        Ok(self.rows)
    }
}

/// `CamelCase` Debug names as `snake_case`.
fn snake(d: impl std::fmt::Debug) -> String {
    let s = format!("{d:?}");
    let mut o = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            o.push('_');
        }
        o.push(ch.to_ascii_lowercase());
    }
    o
}

fn side(v: u8) -> V {
    match v {
        1 => V::S("buy".into()),
        2 => V::S("sell".into()),
        _ => V::Null,
    }
}

fn side_req(v: u8) -> V {
    match side(v) {
        V::Null => V::S("none".into()),
        s => s,
    }
}

fn code<T: std::fmt::Debug>(v: Option<T>, raw: u64) -> String {
    v.map_or_else(|| format!("unknown_{raw}"), snake)
}

/// Rows written per file.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExportCounts {
    /// `inputs.parquet`.
    pub inputs: u64,
    /// `orders.parquet`.
    pub orders: u64,
    /// `rejects.parquet`.
    pub rejects: u64,
    /// `fills.parquet`.
    pub fills: u64,
    /// `diary.parquet`.
    pub diary: u64,
    /// `drift_alarms.parquet`.
    pub drift_alarms: u64,
}

fn record<T: bytemuck::Pod>(journal: &'static str, seq: u64, kind: u16, payload: &[u8]) -> Result<T, ExportError> {
    let n = std::mem::size_of::<T>();
    payload
        .get(..n)
        .map(bytemuck::pod_read_unaligned::<T>)
        .ok_or(ExportError::BadRecord {
            journal,
            seq,
            kind,
            len: payload.len(),
        })
}

/// Writes the Parquet files of `run_dir` into `out`.
pub fn export(run_dir: &Path, out: &Path) -> Result<ExportCounts, ExportError> {
    std::fs::create_dir_all(out).map_err(|e| ExportError::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    let (cfg, mut inputs) = JournalInputs::open_with_config(run_dir)?;
    let sym = |i: u32| cfg.instruments.get(i as usize).map(|s| s.symbol.clone());
    let scale = |i: u32| {
        cfg.instruments
            .get(i as usize)
            .map_or(1.0, |s| 10f64.powi(s.price_decimals as i32))
    };
    let price = |i: u32, px: i64| px as f64 / scale(i);
    let mut counts = ExportCounts::default();

    let mut t_in = Table::create(&out.join("inputs.parquet"), INPUTS_SCHEMA)?;
    let mut t_fills = Table::create(&out.join("fills.parquet"), FILLS_SCHEMA)?;
    for slot in inputs.by_ref() {
        let h = *slot.header();
        let base = |kind: &str| {
            vec![
                V::I(h.seq as i64),
                V::I(h.ts_ns as i64),
                V::S(kind.into()),
                V::I(h.instrument as i64),
            ]
        };
        let sym_v = sym(h.instrument).map_or(V::Null, V::S);
        let row = match slot.view() {
            Some(InputView::Md(m)) => {
                let mut r = base("market_data");
                r.extend([
                    sym_v,
                    V::S(code(foxtrot_engine::records::MdAction::from_u8(h.sub), h.sub as u64)),
                    side(h.side),
                    V::I(m.order_id as i64),
                    V::I(m.px),
                    V::F(price(h.instrument, m.px)),
                    V::I(m.qty),
                ]);
                r.extend([V::Null, V::Null, V::Null, V::Null, V::Null]);
                r
            }
            Some(InputView::Exec(e)) => {
                let kind = code(foxtrot_engine::records::ExecKind::from_u8(h.sub), h.sub as u64);
                if e.last_qty > 0 {
                    t_fills.push(vec![
                        V::I(h.seq as i64),
                        V::I(h.ts_ns as i64),
                        V::I(h.instrument as i64),
                        V::S(sym(h.instrument).unwrap_or_default()),
                        V::I(e.cl_ord_id as i64),
                        side_req(h.side),
                        V::S(kind.clone()),
                        V::I(e.last_px),
                        V::F(price(h.instrument, e.last_px)),
                        V::I(e.last_qty),
                        V::I(e.cum_qty),
                        V::I(e.leaves_qty),
                    ])?;
                    counts.fills += 1;
                }
                let mut r = base("exec_report");
                r.extend([
                    sym_v,
                    V::S(kind),
                    side(h.side),
                    V::I(e.venue_order_id as i64),
                    V::I(e.order_px),
                    V::F(price(h.instrument, e.order_px)),
                    V::I(e.order_qty),
                    V::I(e.cl_ord_id as i64),
                    V::I(e.last_px),
                    V::I(e.last_qty),
                    V::I(e.cum_qty),
                    V::I(e.leaves_qty),
                ]);
                r
            }
            Some(InputView::Timer(_)) => {
                let mut r = base("timer");
                r.push(V::Null);
                r.push(V::S(if h.sub == 1 {
                    "tick".into()
                } else {
                    format!("unknown_{}", h.sub)
                }));
                r.extend(std::iter::repeat_n(V::Null, 10));
                r
            }
            Some(InputView::Command(_)) => {
                let mut r = base("command");
                r.push(V::Null);
                r.push(V::S(code(
                    foxtrot_engine::records::CommandKind::from_u8(h.sub),
                    h.sub as u64,
                )));
                r.extend(std::iter::repeat_n(V::Null, 10));
                r
            }
            None => {
                let mut r = base("unknown");
                r.extend(std::iter::repeat_n(V::Null, 12));
                r
            }
        };
        t_in.push(row)?;
        counts.inputs += 1;
    }
    if let Some(e) = inputs.take_error() {
        return Err(e.into());
    }
    t_in.finish()?;
    t_fills.finish()?;

    let mut t_orders = Table::create(&out.join("orders.parquet"), ORDERS_SCHEMA)?;
    let mut t_rejects = Table::create(&out.join("rejects.parquet"), REJECTS_SCHEMA)?;
    let mut r = JournalReader::open(&run_dir.join("orders"))?;
    while let Some(rec) = r.next()? {
        if rec.kind == Kind::Order as u16 {
            let o: Order = record("orders", rec.seq, rec.kind, rec.payload)?;
            let h = o.header;
            let fix = String::from_utf8_lossy(rec.payload.get(64..).unwrap_or(&[])).into_owned();
            t_orders.push(vec![
                V::I(h.seq as i64),
                V::I(h.ts_ns as i64),
                V::I(h.instrument as i64),
                V::S(sym(h.instrument).unwrap_or_default()),
                V::I(o.cl_ord_id as i64),
                V::I(o.orig_cl_ord_id as i64),
                V::S(code(o.action(), h.sub as u64)),
                side_req(h.side),
                V::S(code(foxtrot_engine::records::OrdType::from_u8(h.flags), h.flags as u64)),
                V::I(o.px),
                V::F(price(h.instrument, o.px)),
                V::I(o.qty),
                V::S(fix),
            ])?;
            counts.orders += 1;
        } else if rec.kind == Kind::Reject as u16 {
            let x: RiskReject = record("orders", rec.seq, rec.kind, rec.payload)?;
            t_rejects.push(vec![
                V::I(x.header.seq as i64),
                V::I(x.header.ts_ns as i64),
                V::I(x.header.instrument as i64),
                V::S(
                    RejectReason::from_u16(x.reason)
                        .map_or_else(|| format!("unknown_{}", x.reason), |r| r.name().to_string()),
                ),
                V::I(x.limit),
                V::I(x.value),
                V::I(x.px),
            ])?;
            counts.rejects += 1;
        }
    }
    t_orders.finish()?;
    t_rejects.finish()?;

    let mut t_diary = Table::create(&out.join("diary.parquet"), DIARY_SCHEMA)?;
    let mut t_alarms = Table::create(&out.join("drift_alarms.parquet"), ALARMS_SCHEMA)?;
    let mut r = JournalReader::open(&run_dir.join("diary"))?;
    while let Some(rec) = r.next()? {
        if rec.kind == Kind::Diary as u16 {
            let d: DiaryRecord = record("diary", rec.seq, rec.kind, rec.payload)?;
            let h = d.header;
            t_diary.push(vec![
                V::I(h.seq as i64),
                V::I(h.ts_ns as i64),
                V::I(h.instrument as i64),
                V::I(d.cl_ord_id as i64),
                V::S(code(foxtrot_engine::records::Verdict::from_u8(h.sub), h.sub as u64)),
                side(h.side),
                V::S(foxtrot_engine::core::router::policy::policy_name(d.policy_id).to_string()),
                V::S(match d.topology {
                    1 => "passive".into(),
                    2 => "aggressive".into(),
                    3 => "market".into(),
                    t => format!("unknown_{t}"),
                }),
                V::S(
                    Regime::ALL
                        .get(d.regime as usize)
                        .map_or_else(|| format!("unknown_{}", d.regime), |r| r.name().to_string()),
                ),
                V::I(d.px),
                V::I(d.qty),
                V::I(d.markout),
                V::I(d.markout_events as i64),
                RejectReason::from_u16(d.reject_reason).map_or(V::Null, |r| V::S(r.name().into())),
                V::S(format!("{:016x}", d.policy_hash)),
            ])?;
            counts.diary += 1;
        } else if rec.kind == Kind::Theory as u16 {
            let p: TheoryPacket = record("diary", rec.seq, rec.kind, rec.payload)?;
            t_alarms.push(vec![
                V::I(p.header.seq as i64),
                V::I(p.header.ts_ns as i64),
                V::I(p.header.instrument as i64),
                V::S(match p.header.sub {
                    1 => "page_hinkley".into(),
                    2 => "cusum".into(),
                    t => format!("unknown_{t}"),
                }),
                V::F(p.statistic),
                V::F(p.threshold),
                V::F(p.signal_mean),
                V::I(p.samples as i64),
                V::F(p.size_factor as f64),
                V::I(p.alarms as i64),
            ])?;
            counts.drift_alarms += 1;
        }
    }
    t_diary.finish()?;
    t_alarms.finish()?;
    Ok(counts)
}
