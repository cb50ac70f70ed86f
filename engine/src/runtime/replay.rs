//! Replay: a run's input journal through the core again, in constant memory.
//!
//! The run's effective configuration is the input journal's first record (or a
//! replacement given by the caller); every following input record is fed, exactly
//! as it was sequenced, through a [`FusedRun`] over [`Sequenced`] inputs — the
//! same driver `foxtrot sim`, reports and backtests use — so the outputs are
//! digested exactly as any run's are. Optionally they are written to new output
//! journals, and optionally each one is compared with the recorded outputs,
//! stopping at the first divergence.
//!
//! The journal is streamed from its mapping; nothing grows with its length.

use super::fused::FusedRun;
use super::link::{RunObserver, Sequenced};
use crate::config::Config;
use crate::error::Error;
use crate::journal::inputs::run_end;
use crate::journal::run::{order_record, ORDER_RECORD_MAX};
use crate::journal::{JournalInputs, RunJournals};
use crate::records::{DiaryRecord, Kind, Order, RiskReject, TheoryPacket};
use foxtrot_shm::{JournalConfig, JournalReader, ShmError};
use std::path::{Path, PathBuf};

/// Where replayed outputs first differ from the recorded ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Seq of the input whose output diverged (the recorded one's, else the replayed one's).
    pub seq: u64,
    /// Which stream: `orders` or `diary`.
    pub stream: &'static str,
    /// The recorded output, described (or `end of journal`).
    pub recorded: String,
    /// The replayed output, described (or `end of replay`).
    pub replayed: String,
    /// The recorded stream ended where the replay went on: it holds fewer
    /// outputs than the inputs make (a killed run's, or a lost tail).
    pub recorded_short: bool,
}

/// What a replay did.
#[derive(Clone, Debug)]
pub struct ReplayOutcome {
    /// Inputs replayed.
    pub inputs: u64,
    /// The first divergence from the recorded outputs, when verifying.
    pub divergence: Option<Divergence>,
    /// Outputs replayed past a killed run's recorded end (`killed` only).
    pub past_end: u64,
    /// Recorded outputs past the replay's end (`live` only): of inputs
    /// journalled after the replay read them.
    pub recorded_ahead: u64,
    /// Whether the run's input journal ends with its end record: the run
    /// ended on its own terms, every output journalled. A run killed (or
    /// still being recorded) has none.
    pub ended: bool,
    /// The replay's summary: order and diary hashes, positions, PnL, rejects by reason, …
    pub summary: super::RunSummary,
    /// The configuration it replayed under.
    pub config: Config,
}

/// Replay options.
#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    /// Replace the journalled configuration with this one.
    pub config: Option<Config>,
    /// Write the outputs as journals under this run directory.
    pub out: Option<PathBuf>,
    /// Compare every output with the recorded output journals.
    pub verify: bool,
    /// The run was killed: its recorded outputs may end before the replay's
    /// (a kill cuts outputs after the inputs that decided them were journalled),
    /// but must be a prefix of them.
    pub killed: bool,
    /// The run is still being recorded: its inputs were read up to where its
    /// writer had got, and its recorded outputs, read a moment apart, may end
    /// before the replay's or go past them. Whichever is shorter must begin
    /// the other; the replay does not end the run (no end-of-run outputs).
    pub live: bool,
}

fn describe(kind: u16, seq: u64, payload: &[u8]) -> String {
    match kind {
        19 => format!(
            "order seq {seq}: {}",
            String::from_utf8_lossy(payload.get(64..).unwrap_or(&[])).replace('\u{1}', "|")
        ),
        20 => format!("reject seq {seq}"),
        21 => format!(
            "diary record seq {seq} ({} bytes, xxh3 {:016x})",
            payload.len(),
            xxhash_rust::xxh3::xxh3_64(payload)
        ),
        22 => format!("theory packet seq {seq}"),
        k => format!("record kind {k} seq {seq}"),
    }
}

/// Compares every output with the recorded output journals; remembers the first
/// divergence.
pub struct Verifier {
    /// `None`: a killed run that had not made this journal yet (nothing recorded).
    orders: Option<JournalReader>,
    diary: Option<JournalReader>,
    divergence: Option<Divergence>,
    /// `Some(n)`: a killed run, n outputs replayed past its recorded end.
    past_end: Option<u64>,
    /// A live run: recorded outputs past the replay's end are counted here,
    /// not a divergence (`None` for a finished run).
    ahead: Option<u64>,
}

impl Verifier {
    /// Reads the recorded outputs of `run_dir`.
    pub fn open(run_dir: &Path) -> Result<Self, Error> {
        Ok(Verifier {
            orders: Some(JournalReader::open(&run_dir.join("orders"))?),
            diary: Some(JournalReader::open(&run_dir.join("diary"))?),
            divergence: None,
            past_end: None,
            ahead: None,
        })
    }

    /// Reads the recorded outputs of a killed run: they may stop early, and
    /// what the replay produces past their end is counted, not a divergence.
    pub fn open_killed(run_dir: &Path) -> Result<Self, Error> {
        // Killed before it made an output journal: it recorded nothing there.
        let open = |name: &str| match JournalReader::open(&run_dir.join(name)) {
            Ok(r) => Ok(Some(r)),
            Err(ShmError::NotAJournal(_)) => Ok(None),
            Err(e) => Err(e),
        };
        Ok(Verifier {
            orders: open("orders")?,
            diary: open("diary")?,
            divergence: None,
            past_end: Some(0),
            ahead: None,
        })
    }

    /// Reads the recorded outputs of a run still being recorded: as a killed
    /// run's, and those past the replay's end are counted, not a divergence.
    pub fn open_live(run_dir: &Path) -> Result<Self, Error> {
        Ok(Verifier {
            ahead: Some(0),
            ..Self::open_killed(run_dir)?
        })
    }

    /// Recorded outputs past the replay's end (a live run).
    pub fn recorded_ahead(&self) -> u64 {
        self.ahead.unwrap_or(0)
    }

    /// Outputs replayed past a killed run's recorded end.
    pub fn past_end(&self) -> u64 {
        self.past_end.unwrap_or(0)
    }

    /// The first divergence, if there was one.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    fn compare(&mut self, stream: &'static str, kind: u16, seq: u64, bytes: &[u8]) {
        if self.divergence.is_some() {
            return;
        }
        let r = if stream == "orders" {
            &mut self.orders
        } else {
            &mut self.diary
        };
        let next = match r {
            Some(r) => r.next(),
            None => Ok(None),
        };
        self.divergence = match next {
            Ok(Some(rec)) if rec.kind == kind && rec.payload == bytes => None,
            Ok(Some(rec)) => Some(Divergence {
                seq: rec.seq.min(seq),
                stream,
                recorded: describe(rec.kind, rec.seq, rec.payload),
                replayed: describe(kind, seq, bytes),
                recorded_short: false,
            }),
            Ok(None) if self.past_end.is_some() => {
                // Read no further: a live run's journal may grow meanwhile,
                // and what it gains belongs after what was replayed here.
                *r = None;
                self.past_end = self.past_end.map(|n| n + 1);
                None
            }
            Ok(None) => Some(Divergence {
                seq,
                stream,
                recorded: "end of journal".into(),
                replayed: describe(kind, seq, bytes),
                recorded_short: true,
            }),
            Err(e) => Some(Divergence {
                seq,
                stream,
                recorded: format!("unreadable: {e}"),
                replayed: describe(kind, seq, bytes),
                recorded_short: false,
            }),
        };
    }

    /// After the replay: recorded outputs it never produced are a divergence too.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.divergence.is_some() {
            return Ok(());
        }
        for (stream, r) in [("orders", &mut self.orders), ("diary", &mut self.diary)] {
            let Some(r) = r else { continue };
            if let Some(n) = &mut self.ahead {
                while r.next()?.is_some() {
                    *n += 1;
                }
                continue;
            }
            if let Some(rec) = r.next()? {
                self.divergence = Some(Divergence {
                    seq: rec.seq,
                    stream,
                    recorded: describe(rec.kind, rec.seq, rec.payload),
                    replayed: "end of replay".into(),
                    recorded_short: false,
                });
                break;
            }
        }
        Ok(())
    }
}

impl RunObserver for Verifier {
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        let mut buf = [0u8; ORDER_RECORD_MAX];
        let rec = order_record(order, wire, &mut buf);
        self.compare("orders", Kind::Order as u16, order.header.seq, rec);
    }
    fn on_reject(&mut self, reject: &RiskReject) {
        let mut x = *reject;
        x.header.tsc = 0;
        self.compare("orders", Kind::Reject as u16, x.header.seq, bytemuck::bytes_of(&x));
    }
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.compare("diary", Kind::Diary as u16, rec.header.seq, bytemuck::bytes_of(rec));
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.compare("diary", Kind::Theory as u16, p.header.seq, bytemuck::bytes_of(p));
    }
}

/// Reads each of a run's journals (inputs, orders, diary) to its end: the first
/// damaged one is the error (a torn tail is not damage), and for a run that
/// ended (its end record, [`RunEnd`](crate::journal::run::RunEnd)) output
/// journals that do not hold the records it counts — a lost tail no check of
/// the records can see. A verification names the damage before comparing
/// outputs, so a damaged input journal is never blamed on the outputs it no
/// longer produces.
pub fn check_journals(run_dir: &Path) -> Result<(), Error> {
    check_journals_of(run_dir, false)
}

/// [`check_journals`], where a `killed` run may lack the output journals it had
/// not made yet.
fn check_journals_of(run_dir: &Path, killed: bool) -> Result<(), Error> {
    let mut holds = [0u64; 3];
    for (k, j) in ["inputs", "orders", "diary"].into_iter().enumerate() {
        let dir = run_dir.join(j);
        holds[k] = match check_journal(&dir) {
            Err(Error::Journal(ShmError::NotAJournal(_))) if killed && j != "inputs" => continue,
            // Killed between making the directory and its first segment:
            // nothing journalled, as a run killed before its configuration.
            Err(Error::Journal(ShmError::NotAJournal(_))) if killed && dir.is_dir() => {
                return Err(Error::NoConfig(dir))
            }
            r => r?,
        };
    }
    match run_end(run_dir)? {
        Some(end) => end.hold_outputs(run_dir, [holds[1], holds[2]]),
        None => Ok(()),
    }
}

/// Reads the journal in `dir` to its end and counts its records: its first
/// damage is the error (a torn tail is not damage).
pub fn check_journal(dir: &Path) -> Result<u64, Error> {
    let mut r = JournalReader::open(dir)?;
    let mut n = 0u64;
    while r.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// Replays the run in `run_dir`.
pub fn replay(run_dir: &Path, opts: &ReplayOptions) -> Result<ReplayOutcome, Error> {
    // A run that ended has whole outputs: --killed, which takes a prefix of
    // the replay's, does not apply (said first: its outputs' damage is
    // named by the verification without it). A journal that cannot be read
    // is named by the checks below.
    if opts.killed && run_end(run_dir).ok().flatten().is_some() {
        return Err(Error::RunEnded(run_dir.join("inputs")));
    }
    if opts.verify {
        check_journals_of(run_dir, opts.killed || opts.live)?;
    }
    let (journalled, inputs) = JournalInputs::open_with_config(run_dir)?;
    let end = run_end(run_dir)?;
    let cfg = opts.config.clone().unwrap_or(journalled);
    let effective = cfg.canonical_text();
    let out = match &opts.out {
        Some(d) => Some(RunJournals::create(d, JournalConfig::default(), &effective)?),
        None => None,
    };
    let verifier = if opts.verify && opts.live {
        Some(Verifier::open_live(run_dir)?)
    } else if opts.verify && opts.killed {
        Some(Verifier::open_killed(run_dir)?)
    } else if opts.verify {
        Some(Verifier::open(run_dir)?)
    } else {
        None
    };
    let mut run = FusedRun::with_observer(&cfg, Sequenced(inputs), (verifier, out));
    if opts.live {
        run.leave_open();
    }
    let mut n = 0u64;
    while run.step() {
        n += 1;
        if run.observer().0.as_ref().is_some_and(|v| v.divergence.is_some()) {
            break;
        }
    }
    if let Some(e) = run.venue_mut().0.take_error() {
        return Err(e);
    }
    let diverged = run.observer().0.as_ref().is_some_and(|v| v.divergence.is_some());
    if !diverged {
        run.finish();
    }
    let summary = run.summary();
    let (verifier, out) = run.observer_mut();
    if let Some(v) = verifier.as_mut() {
        v.finish()?;
    }
    if let Some(j) = out.as_mut() {
        if let Some(e) = j.error() {
            return Err(Error::Journal(ShmError::Config(format!("writing replay outputs: {e}"))));
        }
        if diverged || opts.live {
            // A prefix: not every input replayed, or the run goes on.
            j.sync()?;
        } else {
            j.end()?;
        }
    }
    Ok(ReplayOutcome {
        inputs: n,
        ended: end.is_some(),
        summary,
        config: cfg,
        past_end: verifier.as_ref().map_or(0, |v| v.past_end()),
        recorded_ahead: verifier.as_ref().map_or(0, |v| v.recorded_ahead()),
        divergence: verifier.as_mut().and_then(|v| v.divergence.take()),
    })
}
