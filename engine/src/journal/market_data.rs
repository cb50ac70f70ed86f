//! The market-data directory: data users bring, imported for backtests.
//!
//! A market-data directory holds one journal, `market_data/`, whose first record
//! is the configuration (kind 100) and whose others are market-data events in
//! time order, unsequenced — one 64-byte event per record (kind 1), or written
//! compact, up to 256 to a block (kind 103, [`super::md_block`]: what `foxtrot
//! import` writes) — with the data-quality findings made while writing them
//! (kind 102, a 32-byte [`DqEvent`]) just before the event that revealed them (a
//! block is closed before a finding, so the order holds). Readers take either
//! form. It is told apart from a recorded run (which holds `inputs/`) by that
//! name.
//!
//! The journal's time never goes back (seeking by time relies on it): an event
//! out of time order, or a finding with no time of its own, is filed at the
//! latest time so far; its payload keeps its own.

use super::kinds::{KIND_CONFIG, KIND_DATA_QUALITY, KIND_MD_BLOCK};
use super::md_block::{BlockDecoder, BlockEncoder};
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
    /// Compact: events gathered into blocks (`None`: one record each).
    block: Option<Box<BlockEncoder>>,
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
            block: None,
        })
    }

    /// Writes events compact, in blocks (see the module docs): an event is in
    /// the journal once its block is written — when it is full, before a
    /// finding, and at [`sync`](Self::sync).
    pub fn compact(mut self) -> Self {
        self.block = Some(Box::default());
        self
    }

    /// Writes the block being gathered, if any.
    pub fn flush_block(&mut self) -> Result<(), Error> {
        let Some(mut b) = self.block.take() else {
            return Ok(());
        };
        let r = if b.is_empty() {
            Ok(())
        } else {
            let ts = b.last_ts();
            b.take(|p| self.record(KIND_MD_BLOCK, ts, p))
        };
        self.block = Some(b);
        r
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
    #[inline(always)]
    pub fn event(&mut self, md: &MarketData) -> Result<(), Error> {
        if let Some(b) = &mut self.block {
            b.push(md);
            if b.is_full() {
                return self.flush_block();
            }
            return Ok(());
        }
        self.record(Kind::MarketData as u16, md.header.ts_ns, bytemuck::bytes_of(md))
    }

    /// Appends one data-quality finding (after the events before it).
    pub fn finding(&mut self, d: &DqEvent) -> Result<(), Error> {
        self.flush_block()?;
        self.record(KIND_DATA_QUALITY, d.ts_ns, bytemuck::bytes_of(d))
    }

    /// Writes what is gathered and flushes the journal to disk.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.flush_block()?;
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
    block: BlockDecoder,
    /// Where the block being read is: (segment, offset, seq, length).
    block_at: (u64, u64, u64, usize),
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
                block: BlockDecoder::default(),
                block_at: (0, 0, 0, 0),
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
        loop {
            match self.block.next_event() {
                Some(Ok(m)) => return Some(m),
                Some(Err(_)) => {
                    let (segment, offset, seq, len) = self.block_at;
                    self.error = Some(Error::BadRecord {
                        journal: self.path.clone(),
                        segment,
                        offset,
                        seq,
                        kind: KIND_MD_BLOCK,
                        len,
                    });
                    return None;
                }
                None => {}
            }
            let r = match self.reader.next() {
                Ok(Some(r)) if r.kind == KIND_DATA_QUALITY => {
                    self.quality += 1;
                    continue;
                }
                Ok(Some(r)) => r,
                Ok(None) => return None,
                Err(e) => {
                    self.error = Some(e.into());
                    return None;
                }
            };
            if r.kind == KIND_MD_BLOCK {
                if self.block.load(r.payload).is_err() {
                    self.error = Some(Error::bad_record(&self.path, &r));
                    return None;
                }
                self.block_at = (r.segment, r.offset, r.seq, r.payload.len());
                continue;
            }
            return match slot_from_record(r.kind, r.payload).as_ref().and_then(|s| s.view()) {
                Some(InputView::Md(m)) => Some(*m),
                _ => {
                    self.error = Some(Error::bad_record(&self.path, &r));
                    None
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DqCode, MdAction, Side};

    /// Written compact or one record an event, a directory reads back the same
    /// events, and its findings stay where they were among them.
    #[test]
    fn compact_and_plain_journals_read_the_same() {
        let cfg = Config::default_backtest();
        let base = std::env::temp_dir().join(format!("foxtrot-md-compact-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let evs: Vec<MarketData> = (0..1000u64)
            .map(|i| {
                let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
                MarketData::new(
                    MdAction::Quote,
                    0,
                    Some(side),
                    1_000 + i * 37,
                    0,
                    1_000_000 + (i as i64 % 7) * 100,
                    5 + i as i64 % 3,
                    0,
                )
            })
            .collect();
        let mut layouts = Vec::new();
        for compact in [false, true] {
            let dir = base.join(if compact { "compact" } else { "plain" });
            let mut j = MdJournal::create(&dir, &cfg, JournalConfig::default()).unwrap();
            if compact {
                j = j.compact();
            }
            for (i, m) in evs.iter().enumerate() {
                if i % 300 == 299 {
                    j.finding(&DqEvent::new(DqCode::Crossed, 0, m.header.ts_ns, i as i64, 0))
                        .unwrap();
                }
                j.event(m).unwrap();
            }
            j.sync().unwrap();
            drop(j);
            let (_, mut src) = MdSource::open(&dir).unwrap();
            let got: Vec<MarketData> = src.by_ref().collect();
            assert!(src.error().is_none());
            assert_eq!(
                bytemuck::cast_slice::<MarketData, u8>(&got),
                bytemuck::cast_slice::<MarketData, u8>(&evs)
            );
            assert_eq!(src.quality_records(), 3);
            // Where the findings sit: before event 299, 599 and 899 in both.
            let mut r = JournalReader::open(&dir.join(MD_DIR)).unwrap();
            let mut seen = 0usize;
            let mut at = Vec::new();
            while let Some(x) = r.next().unwrap() {
                match x.kind {
                    KIND_DATA_QUALITY => at.push(seen),
                    KIND_MD_BLOCK => seen += u16::from_le_bytes([x.payload[0], x.payload[1]]) as usize,
                    k if k == Kind::MarketData as u16 => seen += 1,
                    _ => {}
                }
            }
            layouts.push(at);
        }
        assert_eq!(layouts[0], vec![299, 599, 899]);
        assert_eq!(layouts[0], layouts[1]);
        let _ = std::fs::remove_dir_all(&base);
    }
}
