//! The market-data directory: data users bring, imported for backtests.
//!
//! A market-data directory holds one journal, `market_data/`, whose first record
//! is the configuration (kind 100) and whose others are market-data events in
//! time order, unsequenced — one 64-byte event per record (kind 1), or written
//! compact (what `foxtrot import` writes): a quote's two events as one row of
//! a quote block (kind 104, [`super::md_quotes`]), any other event in an event
//! block (kind 103, [`super::md_block`]), up to 256 to a block — with the data-quality findings made while writing them
//! (kind 102, a 32-byte [`DqEvent`]) just before the event that revealed them (a
//! block is closed before a finding, so the order holds). Readers take either
//! form. It is told apart from a recorded run (which holds `inputs/`) by that
//! name.
//!
//! The journal's time never goes back (seeking by time relies on it): an event
//! out of time order, or a finding with no time of its own, is filed at the
//! latest time so far; its payload keeps its own.
//!
//! **Its end is written.** A writer that finishes ([`MdJournal::finish`]) ends
//! the journal with an `md_end` record (kind 105: the records before it and
//! the events they hold), and says it will in its configuration record's flags
//! ([`MD_FLAG_ENDS`]). A reader of such a journal that reaches its end without
//! that record — an import killed half way, a capture killed, a journal that
//! lost its last records at a record boundary, which nothing else can show —
//! stops with [`Error::Unfinished`] rather than give part of the data as the
//! whole ([`MdSource::partial`] reads it anyway, for a caller that says so);
//! an end record that does not count the records read before it, or a record
//! after it, is damage. Directories written before the flag (it is 0 there)
//! are read as they always were.

use super::delta_rows::RowEncoder;
use super::kinds::{KIND_CONFIG, KIND_DATA_QUALITY, KIND_MD_BLOCK, KIND_MD_END, KIND_MD_QUOTES};
use super::md_block::{BlockDecoder, BlockEncoder};
use super::md_quotes::{Quote, QuoteDecoder, QuoteEncoder};
use super::open::Configured;
use super::run::slot_from_record;
use crate::config::Config;
use crate::error::Error;
use crate::records::{DqEvent, InputView, Kind, MarketData};
use foxtrot_shm::{JournalConfig, JournalReader, JournalWriter, ShmError};
use std::path::{Path, PathBuf};

/// The journal's directory name inside a market-data directory.
pub const MD_DIR: &str = "market_data";

/// Configuration-record flag of a market-data journal: its writer ends it
/// with an `md_end` record when it finishes (see the module docs).
pub const MD_FLAG_ENDS: u16 = 1;

/// The `md_end` payload of `records` records holding `events` events.
fn md_end_payload(records: u64, events: u64) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&records.to_le_bytes());
    p[8..].copy_from_slice(&events.to_le_bytes());
    p
}

/// The `(records, events)` of an `md_end` payload.
pub fn md_end_counts(p: &[u8]) -> Option<(u64, u64)> {
    let p: &[u8; 16] = p.try_into().ok()?;
    let word = |i: usize| u64::from_le_bytes(p[i..i + 8].try_into().expect("8 bytes"));
    Some((word(0), word(8)))
}

/// The end rule of a market-data journal (see the module docs), applied to
/// its records one by one after the configuration: the one place it is kept,
/// for [`MdSource`], `foxtrot journal verify` and [`seal`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MdEnd {
    /// The writer promised an `md_end` record ([`MD_FLAG_ENDS`]).
    ends: bool,
    /// It has been read.
    ended: bool,
    /// Records after the configuration, the end record included.
    records: u64,
    /// Seq and time of the last record.
    last: (u64, u64),
}

impl MdEnd {
    /// The rule of a journal whose configuration record has `flags`.
    pub fn new(flags: u16) -> MdEnd {
        MdEnd {
            ends: flags & MD_FLAG_ENDS != 0,
            ..MdEnd::default()
        }
    }

    /// One record after the configuration; false when it breaks the rule:
    /// any record after the end, or an end that does not count the records
    /// before it (some were lost). A journal that promised no end has no rule.
    #[inline]
    pub fn record(&mut self, kind: u16, seq: u64, ts_ns: u64, payload: &[u8]) -> bool {
        self.records += 1;
        self.last = (seq, ts_ns);
        if !self.ends {
            return true;
        }
        if self.ended {
            return false;
        }
        if kind == KIND_MD_END {
            self.ended = true;
            return md_end_counts(payload).map(|c| c.0) == Some(self.records - 1);
        }
        true
    }

    /// The journal promised an end and none has been read.
    pub fn unfinished(&self) -> bool {
        self.ends && !self.ended
    }

    /// [`Error::Unfinished`] for `journal`, as far as it was read.
    #[cold]
    pub fn unfinished_error(&self, journal: &Path) -> Error {
        Error::Unfinished {
            journal: journal.to_path_buf(),
            records: self.records,
            live: foxtrot_shm::journal::writer_lock::held_elsewhere(journal).is_some(),
        }
    }
}

/// Ends the market-data journal `journal` (a `market_data/` directory) that its
/// writer did not finish, where its records stop: appends its `md_end` record,
/// counting them and the events they hold; `before` runs just before that
/// append (a backup). What `foxtrot journal repair` does once any damage is cut:
/// a capture killed half way holds all it captured, and sealed it serves
/// wherever finished data does (an import killed half way is better imported
/// again). `None` for any other journal, or one that promises no end or has one.
pub fn seal(journal: &Path, before: impl FnOnce() -> Result<(), Error>) -> Result<Option<(u64, u64)>, Error> {
    let Some(dir) = journal
        .parent()
        .filter(|_| journal.file_name().and_then(|n| n.to_str()) == Some(MD_DIR))
    else {
        return Ok(None);
    };
    let (_, src) = MdSource::open(dir)?;
    let mut src = src.partial();
    let events = src.by_ref().count() as u64;
    if let Some(e) = src.take_error() {
        return Err(e);
    }
    if !src.unfinished() {
        return Ok(None);
    }
    let (records, (last_seq, ts)) = (src.end.records, src.end.last);
    drop(src);
    before()?;
    let mut w = JournalWriter::open(journal, JournalConfig::default())?;
    w.append(KIND_MD_END, 0, last_seq + 1, ts, &md_end_payload(records, events))?;
    w.sync()?;
    Ok(Some((records, events)))
}

/// Whether `dir` is a market-data directory (and not a recorded run).
pub fn is_market_data(dir: &Path) -> bool {
    dir.join(MD_DIR).is_dir() && !dir.join("inputs").exists()
}

/// Writes the journal of a market-data directory.
pub struct MdJournal {
    out: Records,
    /// Compact: events gathered into blocks (`None`: one record each).
    block: Option<Box<Compact>>,
}

/// The journal's records as they are appended: numbered, their time never
/// going back, the first error kept.
struct Records {
    w: JournalWriter,
    n: u64,
    last_ts: u64,
    err: Option<ShmError>,
}

impl Records {
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

    /// Writes the block `rows` gathers as one record of `kind`, if it holds any.
    fn block<const N: usize>(&mut self, kind: u16, rows: &mut RowEncoder<N>) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let ts = rows.last_ts();
        rows.take(|p| self.record(kind, ts, p))
    }
}

/// The blocks a compact journal gathers: at most one of the two holds
/// anything at a time (each is written before the other takes an event), so
/// the events keep their order.
#[derive(Default)]
struct Compact {
    events: BlockEncoder,
    quotes: QuoteEncoder,
    /// A quote's bid side, held until the next event says whether it is one.
    bid: Option<MarketData>,
}

impl Compact {
    /// One event: the bid side of a quote is held until the next event, which
    /// makes it a quote row or sends it on alone.
    #[inline(always)]
    fn event(&mut self, out: &mut Records, md: &MarketData) -> Result<(), Error> {
        if let Some(bid) = self.bid.take() {
            if let Some(q) = Quote::of_pair(&bid, md) {
                out.block(KIND_MD_BLOCK, &mut self.events)?;
                self.quotes.push(&q);
                if self.quotes.is_full() {
                    out.block(KIND_MD_QUOTES, &mut self.quotes)?;
                }
                return Ok(());
            }
            self.push_event(out, &bid)?;
        }
        if Quote::opens(md) {
            self.bid = Some(*md);
            return Ok(());
        }
        self.push_event(out, md)
    }

    /// An event into the event block (the quote block written first).
    #[inline(always)]
    fn push_event(&mut self, out: &mut Records, md: &MarketData) -> Result<(), Error> {
        out.block(KIND_MD_QUOTES, &mut self.quotes)?;
        self.events.push(md);
        if self.events.is_full() {
            out.block(KIND_MD_BLOCK, &mut self.events)?;
        }
        Ok(())
    }

    /// Writes what is gathered: a held bid side as an event, then the block
    /// that holds anything.
    fn flush(&mut self, out: &mut Records) -> Result<(), Error> {
        if let Some(bid) = self.bid.take() {
            self.push_event(out, &bid)?;
        }
        out.block(KIND_MD_QUOTES, &mut self.quotes)?;
        out.block(KIND_MD_BLOCK, &mut self.events)
    }
}

impl MdJournal {
    /// Creates `dir/market_data` with `cfg` as its first record.
    pub fn create(dir: &Path, cfg: &Config, jcfg: JournalConfig) -> Result<Self, Error> {
        let mut w = JournalWriter::open(&dir.join(MD_DIR), jcfg)?;
        w.append(KIND_CONFIG, MD_FLAG_ENDS, 0, 0, cfg.canonical_text().as_bytes())?;
        Ok(MdJournal {
            out: Records {
                w,
                n: 0,
                last_ts: 0,
                err: None,
            },
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

    /// Writes what is gathered, if anything: a held bid side as an event, then
    /// the block that holds anything.
    pub fn flush_block(&mut self) -> Result<(), Error> {
        match &mut self.block {
            Some(b) => b.flush(&mut self.out),
            None => Ok(()),
        }
    }

    /// Appends one market-data event.
    #[inline(always)]
    pub fn event(&mut self, md: &MarketData) -> Result<(), Error> {
        match &mut self.block {
            Some(b) => b.event(&mut self.out, md),
            None => self
                .out
                .record(Kind::MarketData as u16, md.header.ts_ns, bytemuck::bytes_of(md)),
        }
    }

    /// Appends one data-quality finding (after the events before it).
    pub fn finding(&mut self, d: &DqEvent) -> Result<(), Error> {
        self.flush_block()?;
        self.out.record(KIND_DATA_QUALITY, d.ts_ns, bytemuck::bytes_of(d))
    }

    /// Writes what is gathered and flushes the journal to disk.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.flush_block()?;
        Ok(self.out.w.sync()?)
    }

    /// Ends the journal: what is gathered, then the `md_end` record — the
    /// records written before it and `events`, the events they hold — and
    /// flushes it to disk. Nothing is appended after it.
    pub fn finish(mut self, events: u64) -> Result<(), Error> {
        self.flush_block()?;
        let (end, ts) = (md_end_payload(self.out.n, events), self.out.last_ts);
        self.out.record(KIND_MD_END, ts, &end)?;
        Ok(self.out.w.sync()?)
    }
}

/// The events of a market-data directory, streamed from the mapping. Iteration
/// ends at the end of the journal or at the first bad record, which
/// [`MdSource::error`] then holds. A quote row gives its two events, one after
/// the other; [`MdSource::next_item`] gives the row itself.
pub struct MdSource {
    reader: JournalReader,
    path: PathBuf,
    error: Option<Error>,
    quality: u64,
    block: BlockDecoder,
    quotes: QuoteDecoder,
    /// The ask side of the quote whose bid side was given last.
    ask: Option<MarketData>,
    /// Where the block being read is: (segment, offset, seq, kind, length).
    block_at: (u64, u64, u64, u16, usize),
    /// Its end rule, as far as it was read.
    end: MdEnd,
    /// An end without the `md_end` record is not an error ([`MdSource::partial`]).
    partial: bool,
}

/// What a market-data directory holds next: a two-sided quote (two events,
/// [`Quote::events`]) or one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdItem {
    /// A quote row.
    Quote(Quote),
    /// Any other event.
    Event(MarketData),
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
                quotes: QuoteDecoder::default(),
                ask: None,
                block_at: (0, 0, 0, 0, 0),
                end: MdEnd::new(j.flags),
                partial: false,
            },
        ))
    }

    /// Reads a journal whose writer did not finish as far as it goes, where
    /// it would otherwise end in [`Error::Unfinished`]; [`unfinished`](Self::unfinished)
    /// then says so.
    pub fn partial(mut self) -> Self {
        self.partial = true;
        self
    }

    /// Whether iteration reached the end of a journal whose writer did not
    /// finish it (read with [`partial`](Self::partial)).
    pub fn unfinished(&self) -> bool {
        self.end.unfinished() && self.error.is_none()
    }

    /// The end of the journal's records: an error if its writer promised an
    /// end record it did not write (unless read [`partial`](Self::partial)).
    #[cold]
    fn at_end(&mut self) {
        if self.end.unfinished() && !self.partial {
            self.error = Some(self.end.unfinished_error(&self.path));
        }
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

    /// The block being read is damaged: iteration ends with its error.
    #[cold]
    fn bad_block(&mut self) {
        let (segment, offset, seq, kind, len) = self.block_at;
        self.error = Some(Error::BadRecord {
            journal: self.path.clone(),
            segment,
            offset,
            seq,
            kind,
            len,
        });
    }

    /// The next quote row or event (a quote row whose bid side [`next`]
    /// gave comes as its ask side alone).
    ///
    /// [`next`]: Iterator::next
    #[inline]
    pub fn next_item(&mut self) -> Option<MdItem> {
        if let Some(a) = self.ask.take() {
            return Some(MdItem::Event(a));
        }
        if self.error.is_some() {
            return None;
        }
        loop {
            match self.quotes.next_quote() {
                Some(Ok(q)) => return Some(MdItem::Quote(q)),
                Some(Err(_)) => {
                    self.bad_block();
                    return None;
                }
                None => {}
            }
            match self.block.next_event() {
                Some(Ok(m)) => return Some(MdItem::Event(m)),
                Some(Err(_)) => {
                    self.bad_block();
                    return None;
                }
                None => {}
            }
            let r = match self.reader.next() {
                Ok(Some(r)) => r,
                Ok(None) => {
                    self.at_end();
                    return None;
                }
                Err(e) => {
                    self.error = Some(e.into());
                    return None;
                }
            };
            if !self.end.record(r.kind, r.seq, r.ts_ns, r.payload) {
                self.error = Some(Error::bad_record(&self.path, &r));
                return None;
            }
            let loaded = match r.kind {
                KIND_DATA_QUALITY => {
                    self.quality += 1;
                    continue;
                }
                KIND_MD_QUOTES => Some(self.quotes.load(r.payload).is_ok()),
                KIND_MD_BLOCK => Some(self.block.load(r.payload).is_ok()),
                KIND_MD_END => continue,
                _ => None,
            };
            match loaded {
                Some(true) => {
                    self.block_at = (r.segment, r.offset, r.seq, r.kind, r.payload.len());
                    continue;
                }
                Some(false) => {
                    self.error = Some(Error::bad_record(&self.path, &r));
                    return None;
                }
                None => {}
            }
            return match slot_from_record(r.kind, r.payload).as_ref().and_then(|s| s.view()) {
                Some(InputView::Md(m)) => Some(MdItem::Event(*m)),
                _ => {
                    self.error = Some(Error::bad_record(&self.path, &r));
                    None
                }
            };
        }
    }
}

impl Iterator for MdSource {
    type Item = MarketData;

    #[inline]
    fn next(&mut self) -> Option<MarketData> {
        match self.next_item()? {
            MdItem::Event(m) => Some(m),
            MdItem::Quote(q) => {
                let [bid, ask] = q.events();
                self.ask = Some(ask);
                Some(bid)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DqCode, Header, MdAction, Side};
    use proptest::prelude::*;

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
            j.finish(evs.len() as u64).unwrap();
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
                    KIND_MD_QUOTES => seen += 2 * u16::from_le_bytes([x.payload[0], x.payload[1]]) as usize,
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

    /// Events as an import and a feed make them: quotes (most), quote sides
    /// that are not a quote (a lone bid, a bid with another's time, flags
    /// that differ), book events, and findings between any two.
    fn arb_stream() -> impl Strategy<Value = Vec<(bool, MarketData)>> {
        let ev = (0u8..8, 0u64..3, -2i64..3, 0i64..3, 0u32..2, any::<bool>());
        proptest::collection::vec(ev, 1..1500).prop_map(|steps| {
            let (mut ts, mut bid) = (1_000_000u64, 1_000_000i64);
            let mut out = Vec::new();
            for (what, dt, dpx, lots, inst, finding) in steps {
                ts += dt * 1000;
                bid += dpx * 100;
                let q = Quote {
                    ts_ns: ts,
                    exch_ts_ns: ts - 7,
                    instrument: inst,
                    bid,
                    bid_qty: 100 * (1 + lots),
                    ask: bid + 100,
                    ask_qty: 200,
                };
                let [b, a] = q.events();
                let evs: Vec<MarketData> = match what {
                    0..=3 => vec![b, a],
                    4 => vec![b],
                    5 => vec![
                        b,
                        MarketData {
                            header: Header {
                                ts_ns: ts + 1,
                                ..a.header
                            },
                            ..a
                        },
                    ],
                    6 => vec![a, b],
                    _ => vec![MarketData::new(MdAction::Add, inst, Some(Side::Buy), ts, 9, bid, 5, 0)],
                };
                // A finding goes before the step's last event.
                let last = evs.len() - 1;
                for (k, m) in evs.into_iter().enumerate() {
                    out.push((finding && k == last, m));
                }
            }
            out
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// Written compact — quotes as rows, every other event in event
        /// blocks — a directory reads back the events, in their order with
        /// the findings among them, exactly as written one record an event.
        #[test]
        fn quote_rows_and_event_blocks_read_back_as_written(stream in arb_stream()) {
            let cfg = Config::default_backtest();
            let base = std::env::temp_dir().join(format!(
                "foxtrot-md-quotes-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&base);
            let mut read = Vec::new();
            for compact in [false, true] {
                let dir = base.join(if compact { "compact" } else { "plain" });
                let mut j = MdJournal::create(&dir, &cfg, JournalConfig::default()).unwrap();
                if compact {
                    j = j.compact();
                }
                for (finding, m) in &stream {
                    if *finding {
                        j.finding(&DqEvent::new(DqCode::Crossed, 0, m.header.ts_ns, 0, 0)).unwrap();
                    }
                    j.event(m).unwrap();
                }
                j.finish(stream.len() as u64).unwrap();
                // Events, and the findings counted before each.
                let (_, mut src) = MdSource::open(&dir).unwrap();
                let mut got = Vec::new();
                while let Some(m) = src.next() {
                    got.push((src.quality_records(), m));
                }
                prop_assert!(src.error().is_none());
                read.push(got);
                // The rows API gives the same events.
                let (_, mut src) = MdSource::open(&dir).unwrap();
                let mut again = Vec::new();
                while let Some(item) = src.next_item() {
                    match item {
                        MdItem::Quote(q) => again.extend(q.events()),
                        MdItem::Event(m) => again.push(m),
                    }
                }
                prop_assert_eq!(again.len(), stream.len());
                prop_assert!(again.iter().zip(&stream).all(|(a, (_, b))| a == b));
            }
            let _ = std::fs::remove_dir_all(&base);
            let events: Vec<MarketData> = stream.iter().map(|(_, m)| *m).collect();
            prop_assert!(read[1].iter().map(|(_, m)| *m).eq(events.iter().copied()));
            prop_assert_eq!(&read[0], &read[1]);
        }
    }

    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    /// An import's quotes go in quote rows: a tenth of the bytes the events
    /// took one record each and under the 48 a quote issue #20 allows.
    #[test]
    fn an_imports_quotes_are_written_as_rows() {
        let cfg = Config::default_backtest();
        let dir = std::env::temp_dir().join(format!("foxtrot-md-rows-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut j = MdJournal::create(&dir, &cfg, JournalConfig::default())
            .unwrap()
            .compact();
        let n = 10_000u64;
        for i in 0..n {
            let bid = 1_000_000 + (i as i64 * 7919 % 11 - 5) * 100;
            let q = Quote {
                ts_ns: 1_000_000 + i * 1_000 + i * 7 % 500,
                exch_ts_ns: 1_000_000 + i * 1_000 + i * 7 % 500,
                instrument: 0,
                bid,
                bid_qty: 100 + (i as i64 % 3) * 100,
                ask: bid + 100 * (1 + i as i64 % 2),
                ask_qty: 300,
            };
            for m in q.events() {
                j.event(&m).unwrap();
            }
        }
        j.finish(2 * n).unwrap();
        let mut r = JournalReader::open(&dir.join(MD_DIR)).unwrap();
        let (mut rows, mut bytes) = (0usize, 0usize);
        while let Some(x) = r.next().unwrap() {
            assert_ne!(x.kind, KIND_MD_BLOCK, "a quote written as events");
            if x.kind == KIND_MD_QUOTES {
                rows += u16::from_le_bytes([x.payload[0], x.payload[1]]) as usize;
                bytes += x.payload.len() + 32;
            }
        }
        assert_eq!(rows as u64, n);
        let per_quote = bytes as f64 / n as f64;
        assert!(per_quote < 12.0, "{per_quote} bytes a quote");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Events of a walk of quotes, two a quote.
    fn walk(n: u64) -> Vec<MarketData> {
        (0..n)
            .flat_map(|i| {
                let bid = 1_000_000 + (i as i64 % 5) * 100;
                Quote {
                    ts_ns: 1_000 + i * 1_000,
                    exch_ts_ns: 1_000 + i * 1_000,
                    instrument: 0,
                    bid,
                    bid_qty: 100,
                    ask: bid + 100,
                    ask_qty: 200,
                }
                .events()
            })
            .collect()
    }

    /// Reads `dir` to its end: the events and the error it ended in.
    fn read_md(dir: &Path, partial: bool) -> (Vec<MarketData>, Option<Error>, bool) {
        let (_, src) = MdSource::open(dir).unwrap();
        let mut src = if partial { src.partial() } else { src };
        let got: Vec<MarketData> = src.by_ref().collect();
        let unfinished = src.unfinished();
        (got, src.take_error(), unfinished)
    }

    /// A journal whose writer did not finish — an import killed half way,
    /// which leaves only records that read as sound — is not read as the
    /// whole data: reading it ends in `Unfinished`, naming the records read,
    /// unless the caller reads it `partial`. Its end record lost at a record
    /// boundary reads the same way. One written before writers ended their
    /// journals (no flag) reads as it always did.
    #[test]
    fn a_journal_its_writer_did_not_finish_is_not_read_as_the_whole() {
        let cfg = Config::default_backtest();
        let base = std::env::temp_dir().join(format!("foxtrot-md-end-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let evs = walk(3_000);
        let write = |name: &str, finish: bool| {
            let dir = base.join(name);
            let mut j = MdJournal::create(&dir, &cfg, JournalConfig::default())
                .unwrap()
                .compact();
            for m in &evs {
                j.event(m).unwrap();
            }
            if finish {
                j.finish(evs.len() as u64).unwrap();
            } else {
                // What a kill leaves: every block written so far, no end.
                j.sync().unwrap();
                std::mem::forget(j);
            }
            dir
        };
        let done = write("done", true);
        let (got, err, unfinished) = read_md(&done, false);
        assert_eq!(
            (got, err.map(|e| e.to_string()), unfinished),
            (evs.clone(), None, false)
        );
        let killed = write("killed", false);
        let (got, err, _) = read_md(&killed, false);
        assert_eq!(got, evs, "every event written is read");
        match err {
            Some(Error::Unfinished { records, live, .. }) => assert_eq!((records, live), (12, false)),
            e => panic!("not unfinished: {e:?}"),
        }
        let (got, err, unfinished) = read_md(&killed, true);
        assert_eq!((got.len(), err.is_none(), unfinished), (evs.len(), true, true));
        // The finished journal with its end record cut away (zeroed, as a
        // truncation at a record boundary restored to size leaves it).
        let mut r = JournalReader::open(&done.join(MD_DIR)).unwrap();
        let mut end = None;
        while let Some(x) = r.next().unwrap() {
            if x.kind == KIND_MD_END {
                end = Some((x.segment, x.offset, x.payload.len()));
            }
        }
        drop(r);
        let (seg, off, len) = end.expect("an end record");
        let path = done.join(MD_DIR).join(foxtrot_shm::journal::layout::segment_name(seg));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[off as usize..off as usize + foxtrot_shm::journal::layout::record_len(len)].fill(0);
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(
            read_md(&done, false).1,
            Some(Error::Unfinished { records: 12, .. })
        ));
        // Written as before the flag: read whole, end or no end.
        let old = base.join("old");
        let mut w = JournalWriter::open(&old.join(MD_DIR), JournalConfig::default()).unwrap();
        w.append(KIND_CONFIG, 0, 0, 0, cfg.canonical_text().as_bytes()).unwrap();
        for (i, m) in evs.iter().enumerate() {
            w.append(
                Kind::MarketData as u16,
                0,
                i as u64 + 1,
                m.header.ts_ns,
                bytemuck::bytes_of(m),
            )
            .unwrap();
        }
        drop(w);
        let (got, err, unfinished) = read_md(&old, false);
        assert_eq!(
            (got, err.map(|e| e.to_string()), unfinished),
            (evs.clone(), None, false)
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    /// The end rule, record by record: an end that counts the records before
    /// it closes the journal, one that miscounts (records lost) or any record
    /// after it breaks it; a journal that promised no end has no rule.
    #[test]
    fn the_end_rule_counts_what_came_before_and_allows_nothing_after() {
        let end = |n: u64| md_end_payload(n, 2 * n);
        let mut e = MdEnd::new(MD_FLAG_ENDS);
        assert!(e.record(KIND_MD_QUOTES, 1, 10, &[]) && e.record(KIND_DATA_QUALITY, 2, 11, &[]));
        assert!(e.unfinished());
        assert!(e.record(KIND_MD_END, 3, 11, &end(2)) && !e.unfinished());
        assert!(!e.record(KIND_DATA_QUALITY, 4, 12, &[]), "a record after the end");
        let mut lost = MdEnd::new(MD_FLAG_ENDS);
        assert!(lost.record(KIND_MD_QUOTES, 1, 10, &[]));
        assert!(
            !lost.record(KIND_MD_END, 3, 11, &end(2)),
            "an end counting a record not read"
        );
        let mut old = MdEnd::new(0);
        assert!(old.record(KIND_MD_QUOTES, 1, 10, &[]) && !old.unfinished());
    }
}
