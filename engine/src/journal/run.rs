//! A run's journals: every sequenced input before the core processes it, every
//! output after, in three journals under one run directory.
//!
//! ```text
//! RUN_DIR/inputs/   kind 1–4: the input record (market data 64 B, execution report
//!                   128 B, timer 64 B, command 64 B), seq and ts from its header;
//!                   the first record is kind 100: the effective config
//!                   (its canonical text, which loads as YAML); the last,
//!                   kind 106 ([`RunEnd`]: the records of all three journals),
//!                   when the run ended on its own terms — its inputs ran out,
//!                   or it was stopped and drained — with every output
//!                   journalled ([`RunJournals::end`]). A run killed has none:
//!                   its outputs may stop short of its inputs.
//! RUN_DIR/orders/   kind 19: Order (64 B) followed by its FIX message;
//!                   kind 20: RiskReject (64 B). TSC stamps are zeroed.
//! RUN_DIR/diary/    kind 21: DiaryRecord (128 B); kind 22: TheoryPacket (128 B).
//! ```
//! Output journals therefore depend only on the inputs, the config and the seeds:
//! two runs of the same journal produce byte-identical output journals.

use super::kinds::{input_size, KIND_CONFIG, KIND_RUN_END};
use crate::records::{DiaryRecord, InputSlot, Kind, Order, RiskReject, TheoryPacket};
use crate::runtime::link::RunObserver;
use crate::Error;
use foxtrot_shm::{JournalConfig, JournalWriter, ShmError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Keeps the first error of a journal that must not stop the run. After it,
/// the journals it covers take no more records (see each `on_*`): a journal
/// stays a prefix of the run — never one with a hole where a full disk
/// refused some records and not the next — and no append retries a failing
/// roll (each retry of a full disk's segment costs milliseconds).
fn keep(slot: &mut Option<ShmError>, r: Result<(), ShmError>) {
    if let (Err(e), None) = (r, &slot) {
        *slot = Some(e);
    }
}

/// What a run's end record says (kind 106, `inputs u64 | orders u64 | diary
/// u64`, LE): the records its journals hold — inputs before it, and in its
/// `orders/` and `diary/` journals — when it ended on its own terms. A
/// reader checks the inputs as it reads them ([`super::JournalInputs`]) and
/// the outputs by counting them ([`hold_outputs`](Self::hold_outputs)): a
/// lost tail of any of the three, which no check of the records themselves
/// can see, is damage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunEnd {
    /// Inputs journalled.
    pub inputs: u64,
    /// Records in `orders/` (orders and risk rejects).
    pub orders: u64,
    /// Records in `diary/` (diary records and theory packets).
    pub diary: u64,
}

impl RunEnd {
    /// The payload's size.
    pub const LEN: usize = 24;

    /// The payload.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        for (k, v) in [self.inputs, self.orders, self.diary].into_iter().enumerate() {
            b[8 * k..8 * k + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Holds the output journals of the run in `run_dir`, found to hold
    /// `orders` and `diary` records (each read to its end), to the counts
    /// here: a lost tail (or added records) is the error.
    pub fn hold_outputs(&self, run_dir: &Path, [orders, diary]: [u64; 2]) -> Result<(), Error> {
        for (name, holds, counted) in [("orders", orders, self.orders), ("diary", diary, self.diary)] {
            if holds != counted {
                return Err(Error::OutputsCut {
                    journal: run_dir.join(name),
                    holds,
                    counted,
                });
            }
        }
        Ok(())
    }

    /// The end record of payload `p`, if it has the payload's size.
    pub fn from_bytes(p: &[u8]) -> Option<RunEnd> {
        let p: &[u8; Self::LEN] = p.try_into().ok()?;
        let w = |k: usize| u64::from_le_bytes(p[8 * k..8 * k + 8].try_into().expect("8 bytes"));
        Some(RunEnd {
            inputs: w(0),
            orders: w(1),
            diary: w(2),
        })
    }
}

/// The input journal of a run (written by ingest).
pub struct InputJournal {
    inputs: JournalWriter,
    error: Option<ShmError>,
    /// Inputs journalled, and the time of the last.
    count: u64,
    last_ts: u64,
    /// Set (release) at the input journal's first error, before the input it
    /// refused goes on down the pipeline: shared with the output journals.
    stopped: Arc<AtomicBool>,
}

/// The output journals of a run, orders and diary (written by the last stage).
pub struct OutputJournals {
    orders: JournalWriter,
    diary: JournalWriter,
    error: Option<ShmError>,
    /// Records journalled in `orders` and in `diary`.
    counts: [u64; 2],
    /// The input journal stopped: outputs stop too, so what was recorded is
    /// what a replay of the recorded inputs gives (up to where it ends), not
    /// outputs of inputs no journal holds.
    inputs_stopped: Arc<AtomicBool>,
}

impl InputJournal {
    /// The first journal error, if any happened.
    pub fn error(&self) -> Option<&ShmError> {
        self.error.as_ref()
    }
    /// Set (release) when the journal stops at its first error, before the
    /// input it refused goes on down the pipeline: from then on the run is
    /// not recorded.
    pub fn stop_signal(&self) -> Arc<AtomicBool> {
        self.stopped.clone()
    }
    /// Flushes the journal to disk.
    pub fn sync(&mut self) -> Result<(), ShmError> {
        self.inputs.sync()
    }

    /// Ends the journal with its end record (the inputs journalled before
    /// it) and flushes it to disk. For a run that ended on its own terms
    /// once every output it caused is journalled: see [`RunJournals::end`].
    /// Refused after a journal error (the run was not recorded whole).
    fn end(&mut self, [orders, diary]: [u64; 2]) -> Result<(), ShmError> {
        if let Some(e) = &self.error {
            return Err(ShmError::Config(format!(
                "the input journal stopped early ({e}): no end record"
            )));
        }
        // The last input's seq (the configuration's, 0, when there is none):
        // the seq a restart measures a run by stays its last input's.
        let seq = self.inputs.last_seq();
        let end = RunEnd {
            inputs: self.count,
            orders,
            diary,
        };
        self.inputs
            .append(KIND_RUN_END, 0, seq, self.last_ts, &end.to_bytes())?;
        self.inputs.sync()
    }
}

impl OutputJournals {
    /// Counts a record appended to journal `k` (0 orders, 1 diary), or keeps
    /// its error.
    #[inline]
    fn kept(&mut self, k: usize, r: Result<(), ShmError>) {
        match r {
            Ok(()) => self.counts[k] += 1,
            r => keep(&mut self.error, r),
        }
    }

    /// Whether these journals take no more records: their own error, or the
    /// input journal's.
    #[inline]
    fn stopped(&self) -> bool {
        self.error.is_some() || self.inputs_stopped.load(Ordering::Acquire)
    }

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
    /// Creates the journals of a new run under `dir` and writes `config_yaml`
    /// as its first input record.
    ///
    /// A `dir` that holds an input journal already is refused
    /// ([`Error::RunExists`]): a second run appended to the first would make
    /// one journal that replays as neither.
    pub fn create(dir: &Path, cfg: JournalConfig, config_yaml: &str) -> Result<Self, Error> {
        if dir.join("inputs").exists() {
            return Err(Error::RunExists(dir.to_path_buf()));
        }
        let mut inputs = JournalWriter::open(&dir.join("inputs"), cfg)?;
        inputs.append(KIND_CONFIG, 0, 0, 0, config_yaml.as_bytes())?;
        let stopped = Arc::new(AtomicBool::new(false));
        Ok(RunJournals {
            input: InputJournal {
                inputs,
                error: None,
                count: 0,
                last_ts: 0,
                stopped: stopped.clone(),
            },
            output: OutputJournals {
                orders: JournalWriter::open(&dir.join("orders"), cfg)?,
                diary: JournalWriter::open(&dir.join("diary"), cfg)?,
                error: None,
                counts: [0; 2],
                inputs_stopped: stopped,
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

    /// Ends a run that ended on its own terms — its inputs ran out, or it was
    /// stopped and drained, and the core's end-of-run outputs (the diary's
    /// pending records) are journalled: flushes the outputs, then writes the
    /// input journal's end record and flushes it. A replay then knows the
    /// outputs are whole, where a run killed has no end record and its
    /// outputs may stop short of its inputs. Refused after a journal error.
    pub fn end(&mut self) -> Result<(), ShmError> {
        if let Some(e) = self.output.error() {
            return Err(ShmError::Config(format!(
                "an output journal stopped early ({e}): no end record"
            )));
        }
        self.output.sync()?;
        self.input.end(self.output.counts)
    }
}

impl RunObserver for InputJournal {
    #[inline]
    fn on_input(&mut self, slot: &InputSlot) {
        if self.error.is_some() {
            return;
        }
        let h = slot.header();
        let n = input_size(h.kind).unwrap_or(crate::records::SLOT_SIZE);
        let r = self
            .inputs
            .append(h.kind as u16, 0, h.seq, h.ts_ns, &slot.as_bytes()[..n]);
        if r.is_ok() {
            self.count += 1;
            self.last_ts = h.ts_ns;
        }
        keep(&mut self.error, r);
        if self.error.is_some() {
            self.stopped.store(true, Ordering::Release);
        }
    }
}

impl RunObserver for OutputJournals {
    #[inline]
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        if self.stopped() {
            return;
        }
        let mut buf = [0u8; ORDER_RECORD_MAX];
        let rec = order_record(order, wire, &mut buf);
        let r = self
            .orders
            .append(Kind::Order as u16, 0, order.header.seq, order.header.ts_ns, rec);
        self.kept(0, r);
    }

    #[inline]
    fn on_reject(&mut self, reject: &RiskReject) {
        if self.stopped() {
            return;
        }
        let mut x = *reject;
        x.header.tsc = 0;
        let r = self.orders.append(
            Kind::Reject as u16,
            0,
            x.header.seq,
            x.header.ts_ns,
            bytemuck::bytes_of(&x),
        );
        self.kept(0, r);
    }

    #[inline]
    fn on_diary(&mut self, rec: &DiaryRecord) {
        if self.stopped() {
            return;
        }
        let r = self.diary.append(
            Kind::Diary as u16,
            0,
            rec.header.seq,
            rec.header.ts_ns,
            bytemuck::bytes_of(rec),
        );
        self.kept(1, r);
    }

    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        if self.stopped() {
            return;
        }
        let r = self.diary.append(
            Kind::Theory as u16,
            0,
            p.header.seq,
            p.header.ts_ns,
            bytemuck::bytes_of(p),
        );
        self.kept(1, r);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Header, Kind as RecKind, MarketData, MdAction, Side};
    use foxtrot_shm::MapOptions;

    /// Once the input journal cannot take a record (its next segment cannot
    /// be made: a full disk; here a directory in its way), the output
    /// journals take none either, though they could: what was recorded stays
    /// what a replay of the recorded inputs gives (a prefix), instead of
    /// orders and diary records of inputs no journal holds.
    #[test]
    fn outputs_stop_with_the_inputs() {
        let dir = std::env::temp_dir().join(format!("foxtrot-run-journals-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut j = RunJournals::create(&dir, small(), "config").unwrap();
        std::fs::create_dir_all(dir.join("inputs/00000000000000000001.seg")).unwrap();
        let order = |seq: u64| Order {
            header: Header {
                kind: RecKind::Order as u8,
                seq,
                ..Header::default()
            },
            ..Order::default()
        };
        let (mut journalled, mut seq) = (0u64, 1u64);
        while j.error().is_none() {
            let md = MarketData::new(MdAction::Quote, 0, Some(Side::Buy), seq, 0, 100, 1, 0);
            let slot = InputSlot::from_md(&md);
            j.on_input(&slot);
            if j.error().is_none() {
                journalled = seq;
            }
            j.on_order(&order(seq), b"8=FIX.4.4|");
            seq += 1;
        }
        for s in seq..seq + 50 {
            j.on_order(&order(s), b"8=FIX.4.4|");
        }
        assert!(j.end().is_err(), "a run that was not recorded whole took an end record");
        drop(j);
        let mut r = foxtrot_shm::JournalReader::open(&dir.join("orders")).unwrap();
        let mut last = 0;
        while let Some(rec) = r.next().unwrap() {
            last = rec.seq;
        }
        assert!(journalled > 100, "{journalled} inputs journalled");
        assert_eq!(last, journalled, "orders of inputs no journal holds were recorded");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn small() -> JournalConfig {
        JournalConfig {
            segment_size: 64 << 10,
            first_segment_size: 0,
            prepare_ahead: 0,
            map: MapOptions {
                prefault: false,
                ..MapOptions::default()
            },
            ..JournalConfig::default()
        }
    }

    /// A directory that holds a run takes no second one: appended, the two
    /// would make one input journal that replays as neither (its second
    /// configuration record read as an input of the first run).
    #[test]
    fn a_directory_holding_a_run_is_refused() {
        let dir = std::env::temp_dir().join(format!("foxtrot-run-twice-{}", std::process::id()));
        let mut j = with_inputs(&dir, 3);
        j.end().unwrap();
        drop(j);
        let again = RunJournals::create(&dir, small(), "a: 2");
        assert!(
            matches!(&again, Err(Error::RunExists(d)) if d == &dir),
            "{:?}",
            again.as_ref().err()
        );
        // The first run is as it was written: its 3 inputs, ended.
        let (_, mut inputs) = crate::journal::inputs::JournalInputs::open(&dir).unwrap();
        assert_eq!(inputs.by_ref().count(), 3);
        assert!(inputs.end().is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A run's journals in `dir` holding `n` market-data inputs, seq 1..=n.
    fn with_inputs(dir: &Path, n: u64) -> RunJournals {
        let _ = std::fs::remove_dir_all(dir);
        let mut j = RunJournals::create(dir, small(), "a: 1").unwrap();
        for seq in 1..=n {
            j.on_input(&input(seq));
        }
        j
    }

    fn input(seq: u64) -> InputSlot {
        let mut md = MarketData::new(MdAction::Quote, 0, Some(Side::Buy), seq, 0, 100, 1, 0);
        md.header.seq = seq;
        InputSlot::from_md(&md)
    }

    /// What reading `dir`'s inputs gives: how many, whether they ended with
    /// the end record, and the error that stopped them.
    fn read(dir: &Path) -> (u64, bool, Option<String>) {
        let (_, mut inputs) = crate::journal::JournalInputs::open(dir).unwrap();
        let n = inputs.by_ref().count() as u64;
        (n, inputs.end().is_some(), inputs.take_error().map(|e| e.to_string()))
    }

    /// A run that ended has its end record after its inputs, under its last
    /// input's seq (what a restart measures a run by); a run that did not
    /// (killed) reads the same inputs and says it did not end; an end record
    /// that miscounts, or that a record follows, is damage.
    #[test]
    fn the_end_record_closes_the_inputs_and_is_checked() {
        let base = std::env::temp_dir().join(format!("foxtrot-run-end-{}", std::process::id()));

        let ended = base.join("ended");
        let mut j = with_inputs(&ended, 10);
        for seq in [3, 7] {
            j.on_order(&Order::default(), b"8=FIX.4.4|");
            j.on_diary(&DiaryRecord {
                header: Header {
                    seq,
                    ..Header::default()
                },
                ..DiaryRecord::default()
            });
        }
        j.on_reject(&RiskReject::default());
        j.end().unwrap();
        drop(j);
        assert_eq!(read(&ended), (10, true, None));
        let last = foxtrot_shm::JournalReader::open(&ended.join("inputs"))
            .unwrap()
            .last_seq();
        assert_eq!(last.unwrap(), Some(10));
        let (_, mut inputs) = crate::journal::JournalInputs::open(&ended).unwrap();
        inputs.by_ref().for_each(drop);
        let end = RunEnd {
            inputs: 10,
            orders: 3,
            diary: 2,
        };
        assert_eq!(
            (inputs.end(), crate::journal::inputs::run_end(&ended).unwrap()),
            (Some(end), Some(end))
        );
        let holds = ["orders", "diary"].map(|j| crate::runtime::replay::check_journal(&ended.join(j)).unwrap());
        assert_eq!(holds, [3, 2]);
        end.hold_outputs(&ended, holds).unwrap();
        // Outputs that are not what the end record counts.
        for (other, journal) in [([4, 2], "orders"), ([3, 1], "diary")] {
            let e = end.hold_outputs(&ended, other).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{journal}: holds ")) && e.contains("end record counts"),
                "{e}"
            );
        }

        let killed = base.join("killed");
        drop(with_inputs(&killed, 10));
        assert_eq!(read(&killed), (10, false, None));

        let empty = base.join("empty");
        with_inputs(&empty, 0).end().unwrap();
        assert_eq!(read(&empty), (0, true, None));

        // Damage: after 10 inputs, `tail` written; what reading them says.
        let damaged = |name: &str, tail: &dyn Fn(&mut RunJournals), says: &str| {
            let dir = base.join(name);
            let mut j = with_inputs(&dir, 10);
            tail(&mut j);
            drop(j);
            let (n, end, e) = read(&dir);
            assert_eq!((n, end), (10, false), "{name}");
            assert!(e.as_deref().is_some_and(|e| e.contains(says)), "{name}: {e:?}");
        };
        let end_of = |payload: &'static [u8]| {
            move |j: &mut RunJournals| j.input.inputs.append(KIND_RUN_END, 0, 10, 10, payload).unwrap()
        };
        const NINE: [u8; 24] = {
            let mut b = [0u8; 24];
            b[0] = 9;
            b
        };
        damaged("miscounted", &end_of(&NINE), "counts 9 inputs, but 10 come before it");
        damaged("short", &end_of(&[10, 0, 0, 0, 0, 0, 0, 0]), "has 8 bytes, not 24");
        let followed = |j: &mut RunJournals| {
            j.end().unwrap();
            j.on_input(&input(11));
        };
        damaged("followed", &followed, "is followed by a record (seq 11");
        let _ = std::fs::remove_dir_all(&base);
    }
}
