//! Backtests on data users bring: `foxtrot import` writes a market-data journal,
//! `foxtrot replay` runs it against the touch venue.
//!
//! A **market-data directory** holds one journal, `market_data/`, whose first
//! record is the configuration (kind 100, YAML) and whose others are 64-byte
//! market-data events (kind 1) in time order, unsequenced, with the data-quality
//! findings made while writing them (kind 102, a 32-byte `DqEvent`) just before the
//! event that revealed them. It is told apart from a
//! recorded run (which holds `inputs/`) by that name. Replaying it runs the fused
//! core against [`TouchVenue`]: the core sequences the events and its timers, the
//! venue fills orders at the data's touch, and the outputs are hashed as any run's
//! are. With `--record DIR` the backtest is recorded as a normal run, whose input
//! journal (data, execution reports, timers) then replays with `--verify`.

use foxtrot_engine::records::{InputView, Kind, MarketData};
use foxtrot_engine::runtime::journal::{slot_from_record, KIND_CONFIG};
use foxtrot_engine::runtime::{FusedRun, RunJournals, RunSummary};
use foxtrot_engine::Config;
use foxtrot_gateway::feed::quality::{DqCode, DqEvent, QualityLimits, QualityMonitor, KIND_DATA_QUALITY};
use foxtrot_gateway::venue::touch::{TouchStats, TouchVenue};
use foxtrot_shm::{JournalConfig, JournalReader, JournalWriter, ShmError};
use std::path::{Path, PathBuf};

/// The journal's directory name inside a market-data directory.
pub const MD_DIR: &str = "market_data";

/// Backtest errors.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] ShmError),
    /// The first record is not the configuration.
    #[error("{0}: the first record is not a configuration (kind 100)")]
    NoConfig(PathBuf),
    /// The configuration does not load.
    #[error(transparent)]
    Config(#[from] foxtrot_engine::config::ConfigError),
    /// A record is not a market-data event.
    #[error(
        "{path}: segment {segment} offset {offset}: record of kind {kind} and {len} bytes is not a market-data event"
    )]
    BadRecord {
        /// Journal directory.
        path: PathBuf,
        /// Segment.
        segment: u64,
        /// Offset.
        offset: u64,
        /// Kind.
        kind: u16,
        /// Payload length.
        len: usize,
    },
}

/// Whether `dir` is a market-data directory (and not a recorded run).
pub fn is_market_data(dir: &Path) -> bool {
    dir.join(MD_DIR).is_dir() && !dir.join("inputs").exists()
}

/// Writes a market-data directory, checking each event's quality on the way.
pub struct MdWriter {
    w: JournalWriter,
    n: u64,
    events: u64,
    last_ts: u64,
    quality: QualityMonitor,
    err: Option<ShmError>,
}

impl MdWriter {
    /// Creates `dir/market_data` with `cfg` as its first record.
    pub fn create(dir: &Path, cfg: &Config) -> Result<Self, BacktestError> {
        let mut w = JournalWriter::open(&dir.join(MD_DIR), JournalConfig::default())?;
        w.append(KIND_CONFIG, 0, 0, 0, cfg.canonical_text().as_bytes())?;
        let tick = cfg.instruments.iter().map(|i| i.tick).min().unwrap_or(1);
        let quality = QualityMonitor::new(QualityLimits {
            stale_ns: cfg.sensory.stale_after_ns,
            band_bps: cfg.risk.price_band_bps as i64,
            tick,
            window: cfg.book.window_ticks,
        });
        Ok(MdWriter {
            w,
            n: 0,
            events: 0,
            last_ts: 0,
            quality,
            err: None,
        })
    }

    /// Appends one record. The journal's time never goes back (seeking by time
    /// relies on it): an event out of time order, or a finding with no time of its
    /// own, is filed at the latest time so far; its payload keeps its own.
    fn record(&mut self, kind: u16, ts: u64, bytes: &[u8]) {
        self.n += 1;
        self.last_ts = self.last_ts.max(ts);
        if self.err.is_none() {
            self.err = self.w.append(kind, 0, self.n, self.last_ts, bytes).err();
        }
    }

    /// Checks one event, journals any finding, then the event.
    #[inline]
    pub fn append(&mut self, md: &MarketData) -> Result<(), BacktestError> {
        let mut found = [DqEvent::default(); 4];
        let mut k = 0;
        self.quality.check(md, &mut |d| {
            if k < found.len() {
                found[k] = d;
                k += 1;
            }
        });
        for d in &found[..k] {
            self.record(KIND_DATA_QUALITY, d.ts_ns, bytemuck::bytes_of(d));
        }
        self.record(Kind::MarketData as u16, md.header.ts_ns, bytemuck::bytes_of(md));
        self.events += 1;
        match self.err.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Journals a finding made elsewhere (a transport gap, an undecodable message).
    pub fn append_quality(&mut self, d: &DqEvent) -> Result<(), BacktestError> {
        let d = self.quality.note(*d);
        self.record(KIND_DATA_QUALITY, d.ts_ns, bytemuck::bytes_of(&d));
        match self.err.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Findings so far, by code (those with none left out).
    pub fn quality(&self) -> Vec<(&'static str, u64)> {
        DqCode::ALL
            .iter()
            .map(|c| (c.name(), self.quality.count(*c)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Events written (findings not counted).
    pub fn count(&self) -> u64 {
        self.events
    }

    /// Flushes the journal to disk; returns the events written.
    pub fn finish(mut self) -> Result<u64, BacktestError> {
        self.w.sync()?;
        Ok(self.events)
    }
}

/// The events of a market-data directory, streamed from the mapping. Iteration
/// ends at the end of the journal or at the first bad record, which
/// [`MdSource::error`] then holds.
pub struct MdSource {
    reader: JournalReader,
    path: PathBuf,
    error: Option<BacktestError>,
    quality: u64,
}

impl MdSource {
    /// Opens `dir`, returning its configuration and the events after it.
    pub fn open(dir: &Path) -> Result<(Config, MdSource), BacktestError> {
        let path = dir.join(MD_DIR);
        let mut reader = JournalReader::open(&path)?;
        let cfg = match reader.next()? {
            Some(r) if r.kind == KIND_CONFIG => {
                let text = String::from_utf8_lossy(r.payload).into_owned();
                Config::from_yaml(&text, &path.join("config.yaml"))?
            }
            _ => return Err(BacktestError::NoConfig(path)),
        };
        Ok((
            cfg,
            MdSource {
                reader,
                path,
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
    pub fn error(&self) -> Option<&BacktestError> {
        self.error.as_ref()
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
                self.error = Some(BacktestError::BadRecord {
                    path: self.path.clone(),
                    segment: r.segment,
                    offset: r.offset,
                    kind: r.kind,
                    len: r.payload.len(),
                });
                None
            }
        }
    }
}

/// What a backtest did.
pub struct BacktestOutcome {
    /// The configuration it ran under.
    pub config: Config,
    /// The run's summary (hashes, PnL, counters).
    pub summary: RunSummary,
    /// The venue's counters.
    pub venue: TouchStats,
}

/// Runs the market-data directory `dir` (under `config` if given, else its own)
/// against the touch venue; records the run under `record` if given.
pub fn run(dir: &Path, config: Option<Config>, record: Option<&Path>) -> Result<BacktestOutcome, BacktestError> {
    let (own, src) = MdSource::open(dir)?;
    let cfg = config.unwrap_or(own);
    let journals = match record {
        Some(d) => Some(RunJournals::create(d, JournalConfig::default(), &cfg.canonical_text())?),
        None => None,
    };
    let mut run = FusedRun::with_observer(&cfg, TouchVenue::new(&cfg, src), journals);
    run.run_to_end();
    run.finish();
    if let Some(e) = run.venue_mut().source_mut().error.take() {
        return Err(e);
    }
    if let Some(j) = run.observer_mut().as_mut() {
        if let Some(e) = j.error() {
            return Err(BacktestError::Journal(ShmError::Config(format!(
                "recording the backtest: {e}"
            ))));
        }
        j.sync()?;
    }
    Ok(BacktestOutcome {
        summary: run.summary(),
        venue: *run.venue().stats(),
        config: cfg,
    })
}
