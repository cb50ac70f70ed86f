//! The market-data directory: data users bring, imported for backtests.
//!
//! A market-data directory holds one journal, `market_data/`, whose first record
//! is the configuration (kind 100) and whose others are 64-byte market-data
//! events (kind 1) in time order, unsequenced, with the data-quality findings made
//! while writing them (kind 102, a 32-byte [`DqEvent`]) just before the event that
//! revealed them. It is told apart from a recorded run (which holds `inputs/`) by
//! that name.
//!
//! The journal's time never goes back (seeking by time relies on it): an event
//! out of time order, or a finding with no time of its own, is filed at the
//! latest time so far; its payload keeps its own.

use super::kinds::{KIND_CONFIG, KIND_DATA_QUALITY};
use super::open::Configured;
use super::run::slot_from_record;
use crate::config::Config;
use crate::error::Error;
use crate::records::{DqEvent, InputView, Kind, MarketData};
use foxtrot_shm::{JournalConfig, JournalReader, JournalWriter, ShmError};
use std::path::{Path, PathBuf};

/// The journal's directory name inside a market-data directory.
pub const MD_DIR: &str = "market_data";

/// Whether `dir` is a market-data directory (and not a recorded run).
pub fn is_market_data(dir: &Path) -> bool {
    dir.join(MD_DIR).is_dir() && !dir.join("inputs").exists()
}

/// Writes the journal of a market-data directory.
pub struct MdJournal {
    w: JournalWriter,
    n: u64,
    last_ts: u64,
    err: Option<ShmError>,
}

impl MdJournal {
    /// Creates `dir/market_data` with `cfg` as its first record.
    pub fn create(dir: &Path, cfg: &Config, jcfg: JournalConfig) -> Result<Self, Error> {
        let mut w = JournalWriter::open(&dir.join(MD_DIR), jcfg)?;
        w.append(KIND_CONFIG, 0, 0, 0, cfg.canonical_text().as_bytes())?;
        Ok(MdJournal {
            w,
            n: 0,
            last_ts: 0,
            err: None,
        })
    }

    fn record(&mut self, kind: u16, ts: u64, bytes: &[u8]) -> Result<(), Error> {
        self.n += 1;
        self.last_ts = self.last_ts.max(ts);
        if self.err.is_none() {
            self.err = self.w.append(kind, 0, self.n, self.last_ts, bytes).err();
        }
        match self.err.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Appends one market-data event.
    #[inline]
    pub fn event(&mut self, md: &MarketData) -> Result<(), Error> {
        self.record(Kind::MarketData as u16, md.header.ts_ns, bytemuck::bytes_of(md))
    }

    /// Appends one data-quality finding.
    pub fn finding(&mut self, d: &DqEvent) -> Result<(), Error> {
        self.record(KIND_DATA_QUALITY, d.ts_ns, bytemuck::bytes_of(d))
    }

    /// Flushes the journal to disk.
    pub fn sync(&mut self) -> Result<(), Error> {
        Ok(self.w.sync()?)
    }
}

/// The events of a market-data directory, streamed from the mapping. Iteration
/// ends at the end of the journal or at the first bad record, which
/// [`MdSource::error`] then holds.
pub struct MdSource {
    reader: JournalReader,
    path: PathBuf,
    error: Option<Error>,
    quality: u64,
}

impl MdSource {
    /// Opens `dir`, returning its configuration and the events after it.
    pub fn open(dir: &Path) -> Result<(Config, MdSource), Error> {
        let j = Configured::open(&dir.join(MD_DIR))?;
        let cfg = j.config()?;
        Ok((
            cfg,
            MdSource {
                reader: j.reader,
                path: j.dir,
                error: None,
                quality: 0,
            },
        ))
    }

    /// Data-quality records passed over so far.
    pub fn quality_records(&self) -> u64 {
        self.quality
    }

    /// The error that ended iteration early, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Takes the error that ended iteration early, if any.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

impl Iterator for MdSource {
    type Item = MarketData;

    #[inline]
    fn next(&mut self) -> Option<MarketData> {
        if self.error.is_some() {
            return None;
        }
        let r = loop {
            match self.reader.next() {
                Ok(Some(r)) if r.kind == KIND_DATA_QUALITY => self.quality += 1,
                Ok(Some(r)) => break r,
                Ok(None) => return None,
                Err(e) => {
                    self.error = Some(e.into());
                    return None;
                }
            }
        };
        match slot_from_record(r.kind, r.payload).as_ref().and_then(|s| s.view()) {
            Some(InputView::Md(m)) => Some(*m),
            _ => {
                self.error = Some(Error::bad_record(&self.path, &r));
                None
            }
        }
    }
}
