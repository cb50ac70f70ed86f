//! Replay: an input journal through the core, in constant memory.
//!
//! The run's effective configuration is the input journal's first record (or a
//! replacement given by the caller); every following input record is fed, exactly
//! as it was sequenced, to a fresh [`Core`]. The outputs are digested the same way
//! `foxtrot sim` digests them, so the hashes printed by both agree for the same
//! run; optionally they are written to new output journals, and optionally each one
//! is compared with the recorded outputs, stopping at the first divergence.
//!
//! The journal is streamed from its mapping; nothing grows with its length.

use super::journal::{order_record, slot_from_record, RunJournals, KIND_CONFIG, ORDER_RECORD_MAX};
use super::{RunObserver, StreamDigest};
use crate::config::{Config, ConfigError};
use crate::core::{Core, CoreSink};
use crate::records::{DiaryRecord, Kind, Order, RiskReject, TheoryPacket};
use foxtrot_shm::{JournalConfig, JournalReader, ShmError};
use std::path::{Path, PathBuf};

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The journal could not be read.
    #[error(transparent)]
    Journal(#[from] ShmError),
    /// The first input record is not the configuration.
    #[error("{0}: the first input record is not a configuration (kind 100)")]
    NoConfig(PathBuf),
    /// The configuration did not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An input record has an unknown kind or the wrong size.
    #[error("inputs journal: segment {segment} offset {offset} (seq {seq}): input record of kind {kind} and {len} bytes is not valid")]
    BadInput {
        /// Segment.
        segment: u64,
        /// Offset.
        offset: u64,
        /// Seq.
        seq: u64,
        /// Kind.
        kind: u16,
        /// Payload length.
        len: usize,
    },
}

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
}

/// What a replay did.
#[derive(Clone, Debug, Default)]
pub struct ReplayOutcome {
    /// Inputs replayed.
    pub inputs: u64,
    /// Digest of the FIX order stream and its message count.
    pub order_hash: (String, u64),
    /// Digest of the diary stream (records and theory packets) and its count.
    pub diary_hash: (String, u64),
    /// The first divergence from the recorded outputs, when verifying.
    pub divergence: Option<Divergence>,
    /// The replayed configuration's text.
    pub config_yaml: String,
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
}

struct Verifier {
    orders: JournalReader,
    diary: JournalReader,
}

struct Sink<'a> {
    orders: StreamDigest,
    diary: StreamDigest,
    out: Option<&'a mut RunJournals>,
    verify: Option<&'a mut Verifier>,
    divergence: Option<Divergence>,
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

impl Sink<'_> {
    fn compare(&mut self, stream: &'static str, kind: u16, seq: u64, bytes: &[u8]) {
        let Some(v) = self.verify.as_deref_mut() else { return };
        if self.divergence.is_some() {
            return;
        }
        let r = if stream == "orders" {
            &mut v.orders
        } else {
            &mut v.diary
        };
        let d = match r.next() {
            Ok(Some(rec)) if rec.kind == kind && rec.payload == bytes => None,
            Ok(Some(rec)) => Some(Divergence {
                seq: rec.seq.min(seq),
                stream,
                recorded: describe(rec.kind, rec.seq, rec.payload),
                replayed: describe(kind, seq, bytes),
            }),
            Ok(None) => Some(Divergence {
                seq,
                stream,
                recorded: "end of journal".into(),
                replayed: describe(kind, seq, bytes),
            }),
            Err(e) => Some(Divergence {
                seq,
                stream,
                recorded: format!("unreadable: {e}"),
                replayed: describe(kind, seq, bytes),
            }),
        };
        self.divergence = d;
    }
}

impl CoreSink for Sink<'_> {
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        self.orders.add(wire);
        let mut buf = [0u8; ORDER_RECORD_MAX];
        let rec = order_record(order, wire, &mut buf);
        self.compare("orders", Kind::Order as u16, order.header.seq, rec);
        if let Some(j) = self.out.as_deref_mut() {
            j.on_order(order, wire);
        }
    }
    fn on_reject(&mut self, reject: &RiskReject) {
        let mut x = *reject;
        x.header.tsc = 0;
        self.compare("orders", Kind::Reject as u16, x.header.seq, bytemuck::bytes_of(&x));
        if let Some(j) = self.out.as_deref_mut() {
            j.on_reject(reject);
        }
    }
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.diary.add(bytemuck::bytes_of(rec));
        self.compare("diary", Kind::Diary as u16, rec.header.seq, bytemuck::bytes_of(rec));
        if let Some(j) = self.out.as_deref_mut() {
            j.on_diary(rec);
        }
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.diary.add(bytemuck::bytes_of(p));
        self.compare("diary", Kind::Theory as u16, p.header.seq, bytemuck::bytes_of(p));
        if let Some(j) = self.out.as_deref_mut() {
            j.on_theory(p);
        }
    }
}

/// Replays the run in `run_dir`.
pub fn replay(run_dir: &Path, opts: &ReplayOptions) -> Result<ReplayOutcome, ReplayError> {
    let inputs_dir = run_dir.join("inputs");
    let mut inputs = JournalReader::open(&inputs_dir)?;
    let config_yaml = match inputs.next()? {
        Some(r) if r.kind == KIND_CONFIG => String::from_utf8_lossy(r.payload).into_owned(),
        _ => return Err(ReplayError::NoConfig(inputs_dir)),
    };
    let cfg = match &opts.config {
        Some(c) => c.clone(),
        None => Config::from_yaml(&config_yaml, &inputs_dir.join("config.yaml"))?,
    };
    let effective = serde_yaml_ng::to_string(&cfg).expect("config serialises");
    let mut out = match &opts.out {
        Some(d) => Some(RunJournals::create(d, JournalConfig::default(), &effective)?),
        None => None,
    };
    let mut verifier = if opts.verify {
        Some(Verifier {
            orders: JournalReader::open(&run_dir.join("orders"))?,
            diary: JournalReader::open(&run_dir.join("diary"))?,
        })
    } else {
        None
    };
    let mut core = Core::new(&cfg);
    let mut sink = Sink {
        orders: StreamDigest::default(),
        diary: StreamDigest::default(),
        out: out.as_mut(),
        verify: verifier.as_mut(),
        divergence: None,
    };
    let mut n = 0u64;
    while let Some(r) = inputs.next()? {
        let Some(slot) = slot_from_record(r.kind, r.payload) else {
            return Err(ReplayError::BadInput {
                segment: r.segment,
                offset: r.offset,
                seq: r.seq,
                kind: r.kind,
                len: r.payload.len(),
            });
        };
        if let Some(j) = sink.out.as_deref_mut() {
            j.on_input(&slot);
        }
        core.on_input(&slot, &mut sink);
        n += 1;
        if sink.divergence.is_some() {
            break;
        }
    }
    if sink.divergence.is_none() {
        core.finish(&mut sink);
    }
    // Recorded outputs the replay never produced are a divergence too.
    if opts.verify && sink.divergence.is_none() {
        let v = sink.verify.as_deref_mut().expect("verifying");
        for (stream, r) in [("orders", &mut v.orders), ("diary", &mut v.diary)] {
            if let Some(rec) = r.next()? {
                sink.divergence = Some(Divergence {
                    seq: rec.seq,
                    stream,
                    recorded: describe(rec.kind, rec.seq, rec.payload),
                    replayed: "end of replay".into(),
                });
                break;
            }
        }
    }
    let outcome = ReplayOutcome {
        inputs: n,
        order_hash: (sink.orders.hex(), sink.orders.count()),
        diary_hash: (sink.diary.hex(), sink.diary.count()),
        divergence: sink.divergence.take(),
        config_yaml: effective,
    };
    if let Some(j) = out.as_mut() {
        j.sync()?;
        if let Some(e) = j.error() {
            return Err(ReplayError::Journal(ShmError::Config(format!(
                "writing replay outputs: {e}"
            ))));
        }
    }
    Ok(outcome)
}

/// The sequenced inputs of a run's input journal, as an iterator for a threaded
/// replay. It ends at the end of the journal or at the first bad record, which
/// [`JournalInputs::error`] then holds.
pub struct JournalInputs {
    reader: JournalReader,
    error: Option<ReplayError>,
    read: u64,
}

impl JournalInputs {
    /// Opens `run_dir`'s input journal; returns its configuration text (the first
    /// record) and the iterator over the inputs after it.
    pub fn open(run_dir: &Path) -> Result<(String, JournalInputs), ReplayError> {
        let dir = run_dir.join("inputs");
        let mut reader = JournalReader::open(&dir)?;
        let yaml = match reader.next()? {
            Some(r) if r.kind == KIND_CONFIG => String::from_utf8_lossy(r.payload).into_owned(),
            _ => return Err(ReplayError::NoConfig(dir)),
        };
        Ok((
            yaml,
            JournalInputs {
                reader,
                error: None,
                read: 0,
            },
        ))
    }

    /// Why the iteration stopped early, if it did.
    pub fn error(&self) -> Option<&ReplayError> {
        self.error.as_ref()
    }

    /// Opens `run_dir`'s input journal and loads its journalled configuration.
    pub fn open_with_config(run_dir: &Path) -> Result<(Config, JournalInputs), ReplayError> {
        let (yaml, inputs) = Self::open(run_dir)?;
        let cfg = Config::from_yaml(&yaml, &run_dir.join("inputs").join("config.yaml"))?;
        Ok((cfg, inputs))
    }

    /// Takes the error that stopped the iteration early, if any.
    pub fn take_error(&mut self) -> Option<ReplayError> {
        self.error.take()
    }

    /// Inputs read so far.
    pub fn read(&self) -> u64 {
        self.read
    }
}

impl Iterator for JournalInputs {
    type Item = crate::records::InputSlot;

    fn next(&mut self) -> Option<Self::Item> {
        if self.error.is_some() {
            return None;
        }
        match self.reader.next() {
            Ok(Some(r)) => match slot_from_record(r.kind, r.payload) {
                Some(s) => {
                    self.read += 1;
                    Some(s)
                }
                None => {
                    self.error = Some(ReplayError::BadInput {
                        segment: r.segment,
                        offset: r.offset,
                        seq: r.seq,
                        kind: r.kind,
                        len: r.payload.len(),
                    });
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                self.error = Some(e.into());
                None
            }
        }
    }
}
