//! A live feed's data-quality findings, told: counted by code, and each one
//! said in one log line naming what was refused or lost and where.
//!
//! A live run passes findings over (the data that got through is traded on),
//! so they must not pass unsaid: [`FindingLog::note`] counts each one and hands
//! it to a thread of its own (the *teller*, over an SPSC ring), which logs it
//! as a `WARN` line with the feed's source and a sentence built from the
//! finding (`market data refused or lost: 38 messages lost from sequence 4001,
//! not recovered`), at most [`LINES_PER_SECOND`] lines a second — a storm of
//! malformed datagrams must not become a storm of log lines — and the ones
//! past that as one line counting them when the second is over (or at
//! [`finish`](FindingLog::finish)). The thread that reads the feed only counts
//! and pushes: no clock, no formatting, no allocation, no system call; a
//! finding that finds the ring full is counted and said in the teller's last
//! line. The counts by code go into the run's summary.
//!
//! A recorded run's teller also journals every finding it is handed, each
//! line said or not, as a `data_quality` record (kind 102, the 32-byte
//! [`DqEvent`], numbered from 1; a transport's finding, which has no event
//! time, carries the time the teller took it) in
//! `RUN_DIR/md_findings/` ([`FindingLog::journalled`]): what the live run
//! passed over stays with the run for `foxtrot report` and `journal cat`.
//! Findings the ring had no room for are counted, not journalled one by one.

use foxtrot_engine::journal::kinds::KIND_DATA_QUALITY;
use foxtrot_engine::records::{DqCode, DqEvent};
use foxtrot_shm::{JournalConfig, JournalWriter, ShmError};
use rtrb::{Consumer, Producer, PushError, RingBuffer};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Findings waiting for the teller, at most.
const RING: usize = 1024;

/// How often the teller looks for findings.
const TELLER_PERIOD: Duration = Duration::from_millis(20);

/// Lines a second before the rest of the second's findings are only counted.
pub const LINES_PER_SECOND: u32 = 20;

/// The directory, under a recorded run's, of its feed's findings.
pub const FINDINGS_DIR: &str = "md_findings";

/// Findings counted by code (index = code; 0 unused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FindingCounts(pub [u64; DqCode::ALL.len() + 1]);

impl FindingCounts {
    /// Counts `code`.
    pub fn count(&mut self, code: u16) {
        if let Some(n) = self.0.get_mut(code as usize) {
            *n += 1;
        }
    }

    /// Adds `other`'s counts (what two passes over parts of one input found).
    pub fn add(&mut self, other: &FindingCounts) {
        self.0.iter_mut().zip(other.0).for_each(|(t, n)| *t += n);
    }

    /// Findings in all.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The counts by code name, codes with none left out.
    pub fn named(&self) -> Vec<(&'static str, u64)> {
        DqCode::ALL
            .iter()
            .map(|c| (c.name(), self.0[*c as usize]))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// What a live feed's finding says, in words (the fields as the live feeds
/// fill them: see [`crate::transport`] and [`crate::udp`]).
pub fn describe(d: &DqEvent, symbols: &[String]) -> String {
    let what = match d.code() {
        Some(DqCode::Gap) => format!("{} messages lost from sequence {}, not recovered", d.b, d.a),
        Some(DqCode::OutOfOrder) => format!(
            "a datagram from sequence {} where {} was expected (the publisher restarted, or the network duplicated it): dropped",
            d.a,
            d.b
        ),
        Some(DqCode::Decode) => format!("a message or datagram that does not decode (at {}): dropped", d.a),
        Some(DqCode::Book) => format!(
            "an order-level message about order {} that is not live or does not fit (message {}): dropped or clamped",
            d.a, d.b
        ),
        Some(DqCode::Session) => format!(
            "the feed's session changed (its publisher restarted): {} orders of the old session withdrawn after {} of its messages",
            d.a,
            d.b
        ),
        Some(DqCode::Invalid) => format!(
            "an event that cannot be (price {}, size {}): dropped before the book",
            d.a, d.b
        ),
        Some(DqCode::Crossed) => format!("crossed book: bid {} above ask {}", d.a, d.b),
        Some(DqCode::Locked) => format!("locked book: bid equals ask {}", d.a),
        Some(DqCode::Stale) => format!("no event for {} ns before this one", d.a),
        Some(DqCode::PriceJump) => format!("price {} beyond the band from the last mid {}", d.b, d.a),
        None => format!("unknown finding code {} (a {}, b {})", d.code, d.a, d.b),
    };
    let name = d.code().map_or("unknown", DqCode::name);
    match symbols.get(d.instrument as usize) {
        Some(s) => format!("{name}: {what} ({s})"),
        None => format!("{name}: {what}"),
    }
}

/// The findings a recorded run's teller journalled in `run_dir`, in order,
/// each with its record's sequence number; `None` when the run journalled
/// none (no live feed, or not recorded). A record that is not a finding, or
/// damage in the journal, is an error naming where.
pub fn read_journalled(run_dir: &Path) -> Result<Option<Vec<(u64, DqEvent)>>, ShmError> {
    let dir = run_dir.join(FINDINGS_DIR);
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut r = foxtrot_shm::JournalReader::open(&dir)?;
    let mut out = Vec::new();
    loop {
        let bad = match r.next()? {
            None => break,
            Some(rec) => match bytemuck::try_pod_read_unaligned::<DqEvent>(rec.payload) {
                Ok(d) if rec.kind == KIND_DATA_QUALITY => {
                    out.push((rec.seq, d));
                    continue;
                }
                _ => (rec.segment, rec.offset),
            },
        };
        let path = r
            .segments()
            .iter()
            .find(|(i, _)| *i == bad.0)
            .map_or(dir, |(_, p)| p.clone());
        let mut after = 0;
        while let Ok(Some(_)) = r.next() {
            after += 1;
        }
        return Err(ShmError::Corrupt {
            segment: bad.0,
            path,
            offset: bad.1,
            what: "a record that is not a data-quality finding (kind 102, 32 bytes)",
            after,
        });
    }
    Ok(Some(out))
}

/// Nanoseconds since the Unix epoch, now (the teller's clock, not the feed's).
fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Counts a live feed's findings and has each told (see the module docs).
pub struct FindingLog {
    counts: FindingCounts,
    tx: Producer<Told>,
    /// Findings the ring had no room for.
    untold: u64,
    teller: Option<JoinHandle<()>>,
}

/// What the teller is handed: a finding, or the end (with the findings the
/// ring had no room for). The ring is the only thing the two threads share.
enum Told {
    Finding(DqEvent),
    End { untold: u64 },
}

impl FindingLog {
    /// A log for the feed `source` (its spec, as configured), whose instrument
    /// `i` is `symbols[i]`; its teller thread starts here.
    pub fn new(source: impl Into<String>, symbols: Vec<String>) -> Self {
        Self::with_teller(Teller::new(source.into(), symbols))
    }

    /// A log as [`new`](Self::new) whose teller also journals every finding
    /// it is handed in `run_dir`'s [`FINDINGS_DIR`] (created, or continued).
    pub fn journalled(source: impl Into<String>, symbols: Vec<String>, run_dir: &Path) -> Result<Self, ShmError> {
        let cfg = JournalConfig {
            segment_size: 16 << 20,
            first_segment_size: 64 << 10,
            prepare_ahead: 0,
            ..JournalConfig::default()
        };
        let journal = JournalWriter::open(&run_dir.join(FINDINGS_DIR), cfg)?;
        let mut teller = Teller::new(source.into(), symbols);
        teller.journal = Some(journal);
        Ok(Self::with_teller(teller))
    }

    fn with_teller(mut teller: Teller) -> Self {
        let (tx, rx) = RingBuffer::new(RING);
        let thread = std::thread::Builder::new()
            .name("md-findings".into())
            .spawn(move || teller.run(rx))
            .ok();
        FindingLog {
            counts: FindingCounts::default(),
            tx,
            untold: 0,
            teller: thread,
        }
    }

    /// Counts `d` and hands it to the teller (counted untold when its ring is
    /// full). No clock, no formatting, no allocation, no system call.
    pub fn note(&mut self, d: &DqEvent) {
        self.counts.count(d.code);
        if self.tx.push(Told::Finding(*d)).is_err() {
            self.untold += 1;
        }
    }

    /// Ends the log: the teller tells what is waiting and what went unsaid,
    /// and stops (this waits for it). The counts stay readable.
    pub fn finish(&mut self) {
        let Some(t) = self.teller.take() else { return };
        let mut end = Told::End { untold: self.untold };
        // The teller empties the ring every TELLER_PERIOD: room comes.
        while !t.is_finished() {
            match self.tx.push(end) {
                Ok(()) => break,
                Err(PushError::Full(e)) => {
                    end = e;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let _ = t.join();
    }

    /// The findings counted by code.
    pub fn counts(&self) -> &FindingCounts {
        &self.counts
    }
}

impl Drop for FindingLog {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The teller: logs findings, at most [`LINES_PER_SECOND`] lines a second.
struct Teller {
    source: String,
    symbols: Vec<String>,
    /// The current second's start, lines logged in it, findings past them.
    second: Option<Instant>,
    said: u32,
    unsaid: u64,
    /// A recorded run's findings journal; dropped at its first error (said once).
    journal: Option<JournalWriter>,
}

impl Teller {
    fn new(source: String, symbols: Vec<String>) -> Self {
        Teller {
            source,
            symbols,
            second: None,
            said: 0,
            unsaid: 0,
            journal: None,
        }
    }

    /// Journals `d`, if the run is recorded; a journal error is said once and
    /// ends the journal (it stays a prefix of the findings told).
    fn record(&mut self, d: &DqEvent) {
        let Some(j) = &mut self.journal else { return };
        let seq = j.last_seq() + 1;
        // A transport's finding (a gap, a datagram that does not decode) has
        // no event time: it is journalled with the time the teller took it,
        // in the finding itself (what every reader of the journal shows).
        let mut d = *d;
        if d.ts_ns == 0 {
            d.ts_ns = wall_ns();
        }
        if let Err(e) = j.append(KIND_DATA_QUALITY, 0, seq, d.ts_ns, bytemuck::bytes_of(&d)) {
            tracing::warn!(feed = %self.source, dir = %j.dir().display(), error = %e,
                "journalling market-data findings failed: the ones from here on are logged and counted only");
            self.journal = None;
        }
    }

    /// Tells what arrives on `rx` until its end; then what went unsaid, and
    /// the findings the ring had no room for.
    fn run(&mut self, mut rx: Consumer<Told>) {
        loop {
            while let Ok(t) = rx.pop() {
                match t {
                    Told::Finding(d) => {
                        self.record(&d);
                        self.tell_at(&d, Instant::now())
                    }
                    Told::End { untold } => return self.end(untold),
                }
            }
            std::thread::sleep(TELLER_PERIOD);
        }
    }

    fn end(&mut self, untold: u64) {
        self.flush();
        if let Some(j) = &mut self.journal {
            if let Err(e) = j.sync() {
                tracing::warn!(feed = %self.source, dir = %j.dir().display(), error = %e, "syncing the market-data findings journal failed");
            }
        }
        if untold > 0 {
            tracing::warn!(
                feed = %self.source,
                findings = untold,
                "market-data findings came faster than they could be told: counted by code in the run's summary"
            );
        }
    }

    /// Logs `d` (or counts it unsaid past the second's lines).
    fn tell_at(&mut self, d: &DqEvent, now: Instant) {
        if self
            .second
            .is_none_or(|s| now.duration_since(s) >= Duration::from_secs(1))
        {
            self.flush();
            self.second = Some(now);
            self.said = 0;
        }
        if self.said < LINES_PER_SECOND {
            self.said += 1;
            tracing::warn!(feed = %self.source, finding = %describe(d, &self.symbols), "market data refused or lost");
        } else {
            self.unsaid += 1;
        }
    }

    /// Says how many findings went unsaid, if any.
    fn flush(&mut self) {
        if self.unsaid > 0 {
            tracing::warn!(
                feed = %self.source,
                findings = self.unsaid,
                "more market-data findings in that second than are logged one by one: counted by code in the run's summary"
            );
            self.unsaid = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_says_how_many_from_where() {
        let d = DqEvent::new(DqCode::Gap, u32::MAX, 0, 4001, 38);
        assert_eq!(
            describe(&d, &[]),
            "gap: 38 messages lost from sequence 4001, not recovered"
        );
        let d = DqEvent::new(DqCode::Invalid, 1, 5, -3, 10);
        let s = ["FOXA".to_string(), "FOXB".to_string()];
        assert_eq!(
            describe(&d, &s),
            "invalid: an event that cannot be (price -3, size 10): dropped before the book (FOXB)"
        );
    }

    #[test]
    fn past_the_seconds_lines_findings_are_counted_unsaid_until_it_ends() {
        let mut t = Teller::new("mold:127.0.0.1:1".into(), vec![]);
        let t0 = Instant::now();
        let d = DqEvent::new(DqCode::Decode, u32::MAX, 0, 7, -1);
        for k in 0..LINES_PER_SECOND + 5 {
            t.tell_at(&d, t0 + Duration::from_millis(k as u64));
        }
        assert_eq!((t.said, t.unsaid), (LINES_PER_SECOND, 5));
        // The next second says the last one's unsaid and starts again.
        t.tell_at(&d, t0 + Duration::from_millis(1500));
        assert_eq!((t.said, t.unsaid), (1, 0));
    }

    /// A recorded run's findings are journalled, every one the teller is
    /// handed — the lines past the second's too — in order, and read back.
    #[test]
    fn a_recorded_runs_findings_are_journalled_in_order() {
        let dir = std::env::temp_dir().join(format!("foxtrot-findings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read_journalled(&dir).unwrap(), None, "nothing journalled yet");
        let mut log = FindingLog::journalled("mold:127.0.0.1:1", vec!["FOXA".into()], &dir).unwrap();
        let sent: Vec<DqEvent> = (0..3 * LINES_PER_SECOND as i64)
            .map(|k| {
                DqEvent::new(
                    if k % 2 == 0 { DqCode::Gap } else { DqCode::Decode },
                    0,
                    1_000 + k as u64,
                    k,
                    2,
                )
            })
            .collect();
        for d in &sent {
            log.note(d);
        }
        // A transport's finding: no event time.
        let gap = DqEvent::new(DqCode::Gap, u32::MAX, 0, 4001, 38);
        log.note(&gap);
        log.finish();
        let mut got = read_journalled(&dir).unwrap().unwrap();
        let (last_seq, last) = got.pop().unwrap();
        let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=sent.len() as u64).collect::<Vec<_>>());
        assert_eq!(got.into_iter().map(|(_, d)| d).collect::<Vec<_>>(), sent);
        // Journalled with the time the teller took it, in the finding itself.
        assert_eq!(last_seq, sent.len() as u64 + 1);
        assert!(last.ts_ns > 1_700_000_000_000_000_000, "{last:?}");
        assert_eq!((last.a, last.b, last.code), (gap.a, gap.b, gap.code));
        // A restart of the run continues the journal.
        let mut log = FindingLog::journalled("mold:127.0.0.1:1", vec![], &dir).unwrap();
        log.note(&sent[0]);
        log.finish();
        assert_eq!(read_journalled(&dir).unwrap().map(|v| v.len()), Some(sent.len() + 2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every finding is counted on the feed's thread, the ones the ring had
    /// no room for too; the teller ends with the log.
    #[test]
    fn every_finding_is_counted_whether_or_not_it_is_told() {
        let mut log = FindingLog::new("mold:127.0.0.1:1", vec![]);
        let d = DqEvent::new(DqCode::Gap, u32::MAX, 0, 7, 3);
        let n = 3 * RING as u64;
        for _ in 0..n {
            log.note(&d);
        }
        assert_eq!(log.counts().named(), vec![("gap", n)]);
        log.finish();
        assert!(log.teller.is_none());
        assert_eq!(log.counts().total(), n);
    }
}
