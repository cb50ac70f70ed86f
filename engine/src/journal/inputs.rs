//! The sequenced inputs of a run's input journal, streamed from its mapping:
//! what replay, reports, exports and threaded replays iterate.

use super::kinds::KIND_RUN_END;
use super::open::Configured;
use super::run::slot_from_record;
use crate::config::Config;
use crate::error::Error;
use crate::records::InputSlot;
use foxtrot_shm::JournalReader;
use std::path::{Path, PathBuf};

/// The sequenced inputs of a run's input journal, as an iterator for a threaded
/// replay. It ends at the end of the journal or at the first bad record, which
/// [`JournalInputs::error`] then holds. The run's end record, when it has one,
/// ends it too ([`JournalInputs::ended`]); it must count the inputs before it
/// and be the journal's last record, or the journal is damaged
/// ([`Error::RunEnd`]).
pub struct JournalInputs {
    reader: JournalReader,
    dir: PathBuf,
    error: Option<Error>,
    read: u64,
    ended: bool,
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
                ended: false,
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

    /// Whether the iteration reached the run's end record: the run ended on
    /// its own terms with every output journalled. False for a run killed
    /// (or still being recorded) — and until the iteration gets there.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Checks the end record (seq `seq`, payload `payload`): it counts the
    /// inputs read, and nothing follows it.
    fn end(&mut self, seq: u64, payload: &[u8]) -> Result<(), Error> {
        let bad = |what: String| Error::RunEnd {
            journal: self.dir.clone(),
            seq,
            what,
        };
        let counted = <[u8; 8]>::try_from(payload)
            .map(u64::from_le_bytes)
            .map_err(|_| bad(format!("has {} bytes, not 8", payload.len())))?;
        if counted != self.read {
            return Err(bad(format!(
                "counts {counted} inputs, but {} come before it",
                self.read
            )));
        }
        if let Some(after) = self.reader.next()? {
            return Err(bad(format!(
                "is followed by a record (seq {}, kind {})",
                after.seq, after.kind
            )));
        }
        self.ended = true;
        Ok(())
    }
}

/// Whether `run_dir`'s input journal ends with the run's end record, read
/// from its last records alone (not checked against the inputs before it:
/// iterating [`JournalInputs`] does that).
pub fn has_end_record(run_dir: &Path) -> Result<bool, Error> {
    let mut r = JournalReader::open(&run_dir.join("inputs"))?;
    let Some(last) = r.last_seq()? else {
        return Ok(false);
    };
    // The end record carries its run's last input's seq.
    r.seek_seq(last)?;
    let mut ended = false;
    while let Some(x) = r.next()? {
        ended = x.kind == KIND_RUN_END;
    }
    Ok(ended)
}

impl Iterator for JournalInputs {
    type Item = InputSlot;

    fn next(&mut self) -> Option<Self::Item> {
        if self.error.is_some() {
            return None;
        }
        if self.ended {
            return None;
        }
        match self.reader.next() {
            Ok(Some(r)) if r.kind == KIND_RUN_END => {
                let (seq, payload) = (r.seq, r.payload.to_vec());
                if let Err(e) = self.end(seq, &payload) {
                    self.error = Some(e);
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
