//! `foxtrot export --parquet RUN_DIR`: a run's journals as Parquet files.
//!
//! One file per table of the journal's field descriptions
//! (`foxtrot_engine::journal::fields`), each a sequence of row groups of at most
//! [`ROW_GROUP`] rows, Snappy-compressed; the columns are the tables' (and are
//! documented in `docs/formats.md`):
//!
//! | file | rows |
//! |---|---|
//! | `inputs.parquet` | every sequenced input (market data, execution reports, timers, commands) |
//! | `orders.parquet` | every order sent, with its FIX message |
//! | `rejects.parquet` | every risk reject |
//! | `fills.parquet` | every execution report with a fill (`last_qty > 0`) |
//! | `diary.parquet` | every decision-diary record |
//! | `drift_alarms.parquet` | every theory packet (drift alarm) |
//! | `md_findings.parquet` | a live run's feed findings (`md_findings/`), when it journalled any |
//!
//! Prices keep their fixed-point integers (`px`) and add the decimal value
//! (`price`, `px / 10^price_decimals`) so a reader needs no config.

use crate::Error;
use foxtrot_engine::journal::fields::{self, Cell, Names, Ty};
use foxtrot_engine::journal::kinds::KIND_DATA_QUALITY;
use foxtrot_engine::journal::JournalInputs;
use foxtrot_shm::JournalReader;
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

/// The Parquet message type of a field table.
pub fn message_type(t: &fields::Table) -> String {
    let mut s = format!("message {} {{\n", t.name);
    for c in t.columns {
        let (phys, ann) = match c.ty {
            Ty::Int => ("INT64", ""),
            Ty::Float => ("DOUBLE", ""),
            Ty::Text => ("BINARY", " (UTF8)"),
        };
        let rep = if c.optional { "OPTIONAL" } else { "REQUIRED" };
        s.push_str(&format!("  {rep} {phys} {}{ann};\n", c.name));
    }
    s.push('}');
    s
}

struct Column {
    physical: Physical,
    optional: bool,
    cells: Vec<Cell>,
}

/// A Parquet file being written one row at a time.
pub struct Table {
    path: PathBuf,
    writer: Option<SerializedFileWriter<File>>,
    columns: Vec<Column>,
    rows: u64,
}

impl Table {
    /// Creates `path` with the columns of `table`.
    pub fn create(path: &Path, table: &fields::Table) -> Result<Table, Error> {
        Self::create_message(path, &message_type(table))
    }

    /// Creates `path` with the Parquet message type `message` (flat: INT64,
    /// DOUBLE and UTF8 BINARY columns).
    pub fn create_message(path: &Path, message: &str) -> Result<Table, Error> {
        let err = |e: &dyn std::fmt::Display| Error::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let ty = Arc::new(parse_message_type(message).map_err(|e| err(&e))?);
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
    pub fn push(&mut self, row: Vec<Cell>) -> Result<(), Error> {
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

    fn flush(&mut self) -> Result<(), Error> {
        if self.columns[0].cells.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |e: &dyn std::fmt::Display| Error::Write {
            path: path.clone(),
            message: e.to_string(),
        };
        let w = self.writer.as_mut().expect("open until finished");
        let mut rg = w.next_row_group().map_err(|e| err(&e))?;
        for c in &mut self.columns {
            let mut cw = rg.next_column().map_err(|e| err(&e))?.expect("one writer per column");
            let defs: Vec<i16> = c.cells.iter().map(|v| i16::from(!matches!(v, Cell::Null))).collect();
            let defs = c.optional.then_some(defs.as_slice());
            let cells = std::mem::take(&mut c.cells);
            match c.physical {
                Physical::INT64 => {
                    let v: Vec<i64> = cells
                        .iter()
                        .filter_map(|x| if let Cell::I(i) = x { Some(*i) } else { None })
                        .collect();
                    cw.typed::<Int64Type>()
                        .write_batch(&v, defs, None)
                        .map_err(|e| err(&e))?;
                }
                Physical::DOUBLE => {
                    let v: Vec<f64> = cells
                        .iter()
                        .filter_map(|x| if let Cell::F(f) = x { Some(*f) } else { None })
                        .collect();
                    cw.typed::<DoubleType>()
                        .write_batch(&v, defs, None)
                        .map_err(|e| err(&e))?;
                }
                _ => {
                    let v: Vec<ByteArray> = cells
                        .into_iter()
                        .filter_map(|x| {
                            if let Cell::S(s) = x {
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
    pub fn finish(mut self) -> Result<u64, Error> {
        self.flush()?;
        let path = self.path.clone();
        self.writer
            .take()
            .expect("open until finished")
            .close()
            .map_err(|e| Error::Write {
                path,
                message: e.to_string(),
            })?;
        Ok(self.rows)
    }
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
    /// `md_findings.parquet`, written for a run that journalled its feed's
    /// findings (a live run's; `None`: no such journal, no file).
    pub md_findings: Option<u64>,
    /// Whether the run's input journal ends with its end record (the
    /// outputs exported are then whole, held to its counts); a killed run's
    /// are what was journalled before the kill.
    pub ended: bool,
    /// The process still recording the run, when one is: the export is of
    /// what was journalled when it was read.
    pub recording_pid: Option<u32>,
}

/// Writes the Parquet files of `run_dir` into `out`.
pub fn export(run_dir: &Path, out: &Path) -> Result<ExportCounts, Error> {
    // The run first: a mistyped run directory is refused, not made (with
    // an empty `parquet` in it).
    let (cfg, mut inputs) = JournalInputs::open_with_config(run_dir)?;
    std::fs::create_dir_all(out).map_err(|e| Error::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    let names = Names {
        instruments: &cfg.instruments,
    };
    let mut counts = ExportCounts {
        // Before any journal is read: a run recording then is exported as
        // far as it had got.
        recording_pid: foxtrot_shm::journal::writer_lock::held_elsewhere(&run_dir.join("inputs")),
        ..ExportCounts::default()
    };
    let create = |t: &fields::Table| Table::create(&out.join(format!("{}.parquet", t.name)), t);

    let (mut t_in, mut t_fills) = (create(&fields::INPUTS)?, create(&fields::FILLS)?);
    for slot in inputs.by_ref() {
        for (table, row) in fields::input_rows(&slot, &names) {
            if table.name == fields::FILLS.name {
                t_fills.push(row)?;
                counts.fills += 1;
            } else {
                t_in.push(row)?;
                counts.inputs += 1;
            }
        }
    }
    if let Some(e) = inputs.take_error() {
        return Err(e.into());
    }
    t_in.finish()?;
    t_fills.finish()?;

    let (mut t_orders, mut t_rejects) = (create(&fields::ORDERS)?, create(&fields::REJECTS)?);
    let (mut t_diary, mut t_alarms) = (create(&fields::DIARY)?, create(&fields::DRIFT_ALARMS)?);
    let mut records = [0u64; 2];
    for (k, journal) in ["orders", "diary"].into_iter().enumerate() {
        let mut r = JournalReader::open(&run_dir.join(journal))?;
        while let Some(rec) = r.next()? {
            records[k] += 1;
            let rows = fields::rows(rec.kind, rec.seq, rec.ts_ns, rec.payload, &names).ok_or(Error::BadRecord {
                journal,
                seq: rec.seq,
                kind: rec.kind,
                len: rec.payload.len(),
            })?;
            for (table, row) in rows {
                let (t, n) = match table.name {
                    "orders" => (&mut t_orders, &mut counts.orders),
                    "rejects" => (&mut t_rejects, &mut counts.rejects),
                    "diary" => (&mut t_diary, &mut counts.diary),
                    "drift_alarms" => (&mut t_alarms, &mut counts.drift_alarms),
                    _ => {
                        return Err(Error::BadRecord {
                            journal,
                            seq: rec.seq,
                            kind: rec.kind,
                            len: rec.payload.len(),
                        })
                    }
                };
                t.push(row)?;
                *n += 1;
            }
        }
    }
    // A run that ended counts its outputs (its end record, checked against
    // the inputs read above): a lost tail is not exported as the whole (its
    // tables are left unfinished).
    if let Some(end) = inputs.end() {
        end.hold_outputs(run_dir, records)?;
        counts.ended = true;
    }
    for t in [t_orders, t_rejects, t_diary, t_alarms] {
        t.finish()?;
    }
    // A live run's feed findings, as the teller journalled them (checked
    // there: every record a finding).
    if let Some(all) = foxtrot_feed::findings::read_journalled(run_dir)? {
        let name = foxtrot_feed::findings::FINDINGS_DIR;
        let mut t = Table::create(&out.join(format!("{name}.parquet")), &fields::DATA_QUALITY)?;
        for (seq, d) in &all {
            let bytes = bytemuck::bytes_of(d);
            for (_, row) in fields::rows(KIND_DATA_QUALITY, *seq, d.ts_ns, bytes, &names).unwrap_or_default() {
                t.push(row)?;
            }
        }
        counts.md_findings = Some(t.finish()?);
    }
    Ok(counts)
}
