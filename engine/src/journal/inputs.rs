//! The sequenced inputs of a run's input journal, streamed from its mapping:
//! what replay, reports, exports and threaded replays iterate.

use super::open::Configured;
use super::run::slot_from_record;
use crate::config::Config;
use crate::error::Error;
use crate::records::InputSlot;
use foxtrot_shm::JournalReader;
use std::path::{Path, PathBuf};

/// The sequenced inputs of a run's input journal, as an iterator for a threaded
/// replay. It ends at the end of the journal or at the first bad record, which
/// [`JournalInputs::error`] then holds.
pub struct JournalInputs {
    reader: JournalReader,
    dir: PathBuf,
    error: Option<Error>,
    read: u64,
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
}

impl Iterator for JournalInputs {
    type Item = InputSlot;

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
