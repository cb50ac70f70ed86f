//! Opening a journal whose first record is the configuration it was written
//! under (kind 100): a run's input journal, a market-data journal. The one place
//! that reads that record.

use super::kinds::KIND_CONFIG;
use crate::config::Config;
use crate::error::Error;
use foxtrot_shm::JournalReader;
use std::path::{Path, PathBuf};

/// A journal positioned after its configuration record.
pub struct Configured {
    /// The journal directory.
    pub dir: PathBuf,
    /// The configuration record's text.
    pub text: String,
    /// The configuration record's flags (what the journal's writer promises
    /// about the rest, as a market-data journal's end record).
    pub flags: u16,
    /// The reader, at the first record after the configuration.
    pub reader: JournalReader,
}

impl Configured {
    /// Opens `dir` and reads its first record, which must be a configuration.
    pub fn open(dir: &Path) -> Result<Configured, Error> {
        let mut reader = match JournalReader::open(dir) {
            Ok(r) => r,
            // The directory was made but no record published (a writer killed
            // at its start leaves at most blank preparations): no configuration.
            Err(foxtrot_shm::ShmError::NotAJournal(_)) if dir.is_dir() => {
                return Err(Error::NoConfig(dir.to_path_buf()))
            }
            Err(e) => return Err(e.into()),
        };
        let (text, flags) = match reader.next()? {
            Some(r) if r.kind == KIND_CONFIG => (String::from_utf8_lossy(r.payload).into_owned(), r.flags),
            _ => return Err(Error::NoConfig(dir.to_path_buf())),
        };
        Ok(Configured {
            dir: dir.to_path_buf(),
            text,
            flags,
            reader,
        })
    }

    /// The configuration, loaded and validated (errors name `DIR/config.yaml`).
    pub fn config(&self) -> Result<Config, Error> {
        Config::from_yaml(&self.text, &self.dir.join("config.yaml"))
    }
}
