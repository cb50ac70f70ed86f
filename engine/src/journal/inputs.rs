//! The sequenced inputs of a run's input journal, streamed from its mapping:
//! what replay, reports, exports and threaded replays iterate.

use super::kinds::KIND_RUN_END;
use super::open::Configured;
use super::run::{slot_from_record, RunEnd};
use crate::config::Config;
use crate::error::Error;
use crate::records::InputSlot;
use foxtrot_shm::JournalReader;
use std::path::{Path, PathBuf};

/// The sequenced inputs of a run's input journal, as an iterator for a threaded
/// replay. It ends at the end of the journal or at the first bad record, which
/// [`JournalInputs::error`] then holds. The run's end record, when it has one,
/// ends it too ([`JournalInputs::end`]); it must count the inputs before it
/// and be the journal's last record, or the journal is damaged
/// ([`Error::RunEnd`]).
pub struct JournalInputs {
    reader: JournalReader,
    dir: PathBuf,
    error: Option<Error>,
    read: u64,
    end: Option<RunEnd>,
}

impl JournalInputs {
    /// Opens `run_dir`'s input journal; returns its configuration text (the first
    /// record) and the iterator over the inputs after it.
    pub fn open(run_dir: &Path) -> Result<(String, JournalInputs), Error> {
        let j = Configured::open(&run_dir.join("inputs"))?;
        Ok((
            j.text,
            JournalInputs {
                reader: j.reader,
                dir: j.dir,
                error: None,
                read: 0,
                end: None,
            },
        ))
    }

    /// Why the iteration stopped early, if it did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Opens `run_dir`'s input journal and loads its journalled configuration.
    pub fn open_with_config(run_dir: &Path) -> Result<(Config, JournalInputs), Error> {
        let (yaml, inputs) = Self::open(run_dir)?;
        let cfg = Config::from_yaml(&yaml, &inputs.dir.join("config.yaml"))?;
        Ok((cfg, inputs))
    }

    /// Takes the error that stopped the iteration early, if any.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// Inputs read so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The run's end record, once the iteration reached it (checked: it
    /// counts the inputs before it, and nothing follows it): the run ended on
    /// its own terms with every output journalled. None for a run killed (or
    /// still being recorded) — and until the iteration gets there.
    pub fn end(&self) -> Option<RunEnd> {
        self.end
    }

    /// Checks the end record (seq `seq`, `end` read from its `len`-byte
    /// payload): it counts the inputs read, and nothing follows it.
    fn check_end(&mut self, seq: u64, end: Option<RunEnd>, len: usize) -> Result<RunEnd, Error> {
        let bad = |what: String| Error::RunEnd {
            journal: self.dir.clone(),
            seq,
            what,
        };
        let end = end.ok_or_else(|| bad(format!("has {len} bytes, not {}", RunEnd::LEN)))?;
        if end.inputs != self.read {
            return Err(bad(format!(
                "counts {} inputs, but {} come before it",
                end.inputs, self.read
            )));
        }
        if let Some(after) = self.reader.next()? {
            return Err(bad(format!(
                "is followed by a record (seq {}, kind {})",
                after.seq, after.kind
            )));
        }
        Ok(end)
    }
}

/// The end record of `run_dir`'s input journal, if the journal ends with
/// one, read from its last records alone (its count of inputs is not held to
/// the inputs before it: iterating [`JournalInputs`] does that).
pub fn run_end(run_dir: &Path) -> Result<Option<RunEnd>, Error> {
    let mut r = JournalReader::open(&run_dir.join("inputs"))?;
    let Some(last) = r.last_seq()? else {
        return Ok(None);
    };
    // The end record carries its run's last input's seq.
    r.seek_seq(last)?;
    let mut end = None;
    while let Some(x) = r.next()? {
        end = (x.kind == KIND_RUN_END)
            .then(|| RunEnd::from_bytes(x.payload))
            .flatten();
    }
    Ok(end)
}

impl Iterator for JournalInputs {
    type Item = InputSlot;

    fn next(&mut self) -> Option<Self::Item> {
        if self.error.is_some() {
            return None;
        }
        if self.end.is_some() {
            return None;
        }
        match self.reader.next() {
            Ok(Some(r)) if r.kind == KIND_RUN_END => {
                let (seq, end, len) = (r.seq, RunEnd::from_bytes(r.payload), r.payload.len());
                match self.check_end(seq, end, len) {
                    Ok(end) => self.end = Some(end),
                    Err(e) => self.error = Some(e),
                }
                None
            }
            Ok(Some(r)) => match slot_from_record(r.kind, r.payload) {
                Some(s) => {
                    self.read += 1;
                    Some(s)
                }
                None => {
                    self.error = Some(Error::bad_record(&self.dir, &r));
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
