//! A run's journals: every sequenced input before the core processes it, every
//! output after, in three journals under one run directory.
//!
//! ```text
//! RUN_DIR/inputs/   kind 1–4: the input record (market data 64 B, execution report
//!                   128 B, timer 64 B, command 64 B), seq and ts from its header;
//!                   the first record is kind 100: the effective config
//!                   (its canonical text, which loads as YAML).
//! RUN_DIR/orders/   kind 19: Order (64 B) followed by its FIX message;
//!                   kind 20: RiskReject (64 B). TSC stamps are zeroed.
//! RUN_DIR/diary/    kind 21: DiaryRecord (128 B); kind 22: TheoryPacket (128 B).
//! ```
//! Output journals therefore depend only on the inputs, the config and the seeds:
//! two runs of the same journal produce byte-identical output journals.

use super::kinds::{input_size, KIND_CONFIG};
use crate::records::{DiaryRecord, InputSlot, Kind, Order, RiskReject, TheoryPacket};
use crate::runtime::link::RunObserver;
use foxtrot_shm::{JournalConfig, JournalWriter, ShmError};
use std::path::{Path, PathBuf};

/// Keeps the first error of a journal that must not stop the run.
fn keep(slot: &mut Option<ShmError>, r: Result<(), ShmError>) {
    if let (Err(e), None) = (r, &slot) {
        *slot = Some(e);
    }
}

/// The input journal of a run (written by ingest).
pub struct InputJournal {
    inputs: JournalWriter,
    error: Option<ShmError>,
}

/// The output journals of a run, orders and diary (written by the last stage).
pub struct OutputJournals {
    orders: JournalWriter,
    diary: JournalWriter,
    error: Option<ShmError>,
}

impl InputJournal {
    /// The first journal error, if any happened.
    pub fn error(&self) -> Option<&ShmError> {
        self.error.as_ref()
    }
    /// Flushes the journal to disk.
    pub fn sync(&mut self) -> Result<(), ShmError> {
        self.inputs.sync()
    }
}

impl OutputJournals {
    /// The first journal error, if any happened.
    pub fn error(&self) -> Option<&ShmError> {
        self.error.as_ref()
    }
    /// Flushes both journals to disk.
    pub fn sync(&mut self) -> Result<(), ShmError> {
        self.orders.sync()?;
        self.diary.sync()
    }
}

/// The three journals of a run.
pub struct RunJournals {
    input: InputJournal,
    output: OutputJournals,
    dir: PathBuf,
}

impl RunJournals {
    /// Creates (or continues) the journals under `dir` and writes `config_yaml` as
    /// the first input record of a new run.
    pub fn create(dir: &Path, cfg: JournalConfig, config_yaml: &str) -> Result<Self, ShmError> {
        let mut inputs = JournalWriter::open(&dir.join("inputs"), cfg)?;
        if inputs.last_seq() == 0 {
            inputs.append(KIND_CONFIG, 0, 0, 0, config_yaml.as_bytes())?;
        }
        Ok(RunJournals {
            input: InputJournal { inputs, error: None },
            output: OutputJournals {
                orders: JournalWriter::open(&dir.join("orders"), cfg)?,
                diary: JournalWriter::open(&dir.join("diary"), cfg)?,
                error: None,
            },
            dir: dir.to_path_buf(),
        })
    }

    /// Waits until each journal's helper has its next segments ready (see
    /// [`JournalWriter::warm_up`]): for a live run, before the first input.
    pub fn warm_up(&mut self) {
        self.input.inputs.warm_up();
        self.output.orders.warm_up();
        self.output.diary.warm_up();
    }

    /// Reassembles the journals of `dir` from their two halves.
    pub fn from_parts(dir: &Path, input: InputJournal, output: OutputJournals) -> Self {
        RunJournals {
            input,
            output,
            dir: dir.to_path_buf(),
        }
    }

    /// Splits into the input half (for ingest's thread) and the output half (for
    /// the last stage's thread).
    pub fn into_parts(self) -> (InputJournal, OutputJournals) {
        (self.input, self.output)
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The first journal error, if any happened (the run keeps going; the caller
    /// reports it at the end).
    pub fn error(&self) -> Option<&ShmError> {
        self.input.error().or(self.output.error())
    }

    /// Flushes all three journals to disk.
    pub fn sync(&mut self) -> Result<(), ShmError> {
        self.input.sync()?;
        self.output.sync()
    }
}

impl RunObserver for InputJournal {
    #[inline]
    fn on_input(&mut self, slot: &InputSlot) {
        let h = slot.header();
        let n = input_size(h.kind).unwrap_or(crate::records::SLOT_SIZE);
        let r = self
            .inputs
            .append(h.kind as u16, 0, h.seq, h.ts_ns, &slot.as_bytes()[..n]);
        keep(&mut self.error, r);
    }
}

impl RunObserver for OutputJournals {
    #[inline]
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        let mut buf = [0u8; ORDER_RECORD_MAX];
        let rec = order_record(order, wire, &mut buf);
        let r = self
            .orders
            .append(Kind::Order as u16, 0, order.header.seq, order.header.ts_ns, rec);
        keep(&mut self.error, r);
    }

    #[inline]
    fn on_reject(&mut self, reject: &RiskReject) {
        let mut x = *reject;
        x.header.tsc = 0;
        let r = self.orders.append(
            Kind::Reject as u16,
            0,
            x.header.seq,
            x.header.ts_ns,
            bytemuck::bytes_of(&x),
        );
        keep(&mut self.error, r);
    }

    #[inline]
    fn on_diary(&mut self, rec: &DiaryRecord) {
        let r = self.diary.append(
            Kind::Diary as u16,
            0,
            rec.header.seq,
            rec.header.ts_ns,
            bytemuck::bytes_of(rec),
        );
        keep(&mut self.error, r);
    }

    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        let r = self.diary.append(
            Kind::Theory as u16,
            0,
            p.header.seq,
            p.header.ts_ns,
            bytemuck::bytes_of(p),
        );
        keep(&mut self.error, r);
    }
}

impl RunObserver for RunJournals {
    #[inline]
    fn on_input(&mut self, slot: &InputSlot) {
        self.input.on_input(slot)
    }
    #[inline]
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        self.output.on_order(order, wire)
    }
    #[inline]
    fn on_reject(&mut self, reject: &RiskReject) {
        self.output.on_reject(reject)
    }
    #[inline]
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.output.on_diary(rec)
    }
    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.output.on_theory(p)
    }
}

/// Largest orders-journal payload: the 64-byte Order record and up to 448 bytes of FIX.
pub const ORDER_RECORD_MAX: usize = 512;

/// The orders-journal payload of an order: its record (TSC zeroed) followed by its
/// FIX message, written into `buf`; returns the used part.
#[inline]
pub fn order_record<'a>(order: &Order, wire: &[u8], buf: &'a mut [u8; ORDER_RECORD_MAX]) -> &'a [u8] {
    let mut o = *order;
    o.header.tsc = 0;
    let n = 64 + wire.len().min(ORDER_RECORD_MAX - 64);
    buf[..64].copy_from_slice(bytemuck::bytes_of(&o));
    buf[64..n].copy_from_slice(&wire[..n - 64]);
    &buf[..n]
}

/// Decodes an input journal record into a slot; `None` if its kind or size is wrong.
pub fn slot_from_record(kind: u16, payload: &[u8]) -> Option<InputSlot> {
    let n = input_size(u8::try_from(kind).ok()?)?;
    if payload.len() != n {
        return None;
    }
    let mut s = InputSlot::default();
    bytemuck::bytes_of_mut(&mut s)[..n].copy_from_slice(payload);
    (s.kind_byte() as u16 == kind).then_some(s)
}
