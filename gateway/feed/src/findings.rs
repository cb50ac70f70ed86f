//! A live feed's data-quality findings, told: counted by code, and each one
//! said in one log line naming what was refused or lost and where.
//!
//! A live run passes findings over (the data that got through is traded on),
//! so they must not pass unsaid: [`FindingLog::note`] logs each one as a
//! `WARN` line with the feed's source and a sentence built from the finding
//! (`market data refused or lost: 38 messages lost from sequence 4001, not
//! recovered`), at most [`LINES_PER_SECOND`] lines a second — a storm of
//! malformed datagrams must not become a storm of log lines — and the ones
//! past that as one line counting them when the second is over (or at
//! [`finish`](FindingLog::finish)). The counts by code go into the run's
//! summary. Findings are rare and never on the path of an event that got
//! through: the line's formatting allocates, the counting does not.

use foxtrot_engine::records::{DqCode, DqEvent};
use std::time::{Duration, Instant};

/// Lines a second before the rest of the second's findings are only counted.
pub const LINES_PER_SECOND: u32 = 20;

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

/// Counts a live feed's findings and logs each (see the module docs).
pub struct FindingLog {
    source: String,
    symbols: Vec<String>,
    counts: FindingCounts,
    /// The current second's start, lines logged in it, findings past them.
    second: Option<Instant>,
    said: u32,
    unsaid: u64,
}

impl FindingLog {
    /// A log for the feed `source` (its spec, as configured), whose instrument
    /// `i` is `symbols[i]`.
    pub fn new(source: impl Into<String>, symbols: Vec<String>) -> Self {
        FindingLog {
            source: source.into(),
            symbols,
            counts: FindingCounts::default(),
            second: None,
            said: 0,
            unsaid: 0,
        }
    }

    /// Counts `d` and logs it (or counts it unsaid past the second's lines).
    pub fn note(&mut self, d: &DqEvent) {
        self.note_at(d, Instant::now());
    }

    fn note_at(&mut self, d: &DqEvent, now: Instant) {
        self.counts.count(d.code);
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

    /// Ends the log: says what went unsaid. The counts stay readable.
    pub fn finish(&mut self) {
        self.flush();
    }

    /// The findings counted by code.
    pub fn counts(&self) -> &FindingCounts {
        &self.counts
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
        let mut log = FindingLog::new("mold:127.0.0.1:1", vec![]);
        let t = Instant::now();
        let d = DqEvent::new(DqCode::Decode, u32::MAX, 0, 7, -1);
        for k in 0..LINES_PER_SECOND + 5 {
            log.note_at(&d, t + Duration::from_millis(k as u64));
        }
        assert_eq!((log.said, log.unsaid), (LINES_PER_SECOND, 5));
        // The next second says the last one's unsaid and starts again.
        log.note_at(&d, t + Duration::from_millis(1500));
        assert_eq!((log.said, log.unsaid), (1, 0));
        assert_eq!(log.counts().named(), vec![("decode", LINES_PER_SECOND as u64 + 6)]);
        assert_eq!(log.counts().total(), LINES_PER_SECOND as u64 + 6);
    }
}
