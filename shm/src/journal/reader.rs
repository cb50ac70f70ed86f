//! The journal reader: zero-copy iteration, seeking, tailing a live writer.
//!
//! Records are returned as [`RecordRef`]s borrowing the mapping: no copy, no
//! allocation per record. The reader never panics on any byte sequence: every
//! length is bounded, every record's CRC checked. Where iteration stops is
//! classified ([`super::damage`]): the clean end, a **torn tail** (what a crash
//! mid-write leaves at the end of the last segment: iteration ends there and
//! [`JournalReader::torn_tail`] says where), or **damage** — an error naming the
//! segment, the byte offset and how many valid records lie beyond it. A segment
//! file shorter than its header says is damage too, and so is a directory
//! without segments (not a journal).
//!
//! **Tailing.** A reader opened with [`JournalReader::follow`] follows a live
//! writer in another process by calling [`JournalReader::next`] again after it
//! returned `None`: it loads each record's `len` with acquire ordering, so a
//! record it sees is complete; an empty length at the end of the last segment is
//! where the writer has got to (not classified); at an end-of-segment marker it
//! moves to the next segment as soon as that file exists. [`JournalReader::open`]
//! reads to the end and classifies it — but while another process holds the
//! journal's writer lock ([`super::writer_lock`]), a record found in progress
//! at the end is the live writer's, not a crash's: the reader waits (up to
//! 100 ms) for its commit and reads on, or ends there; neither a torn tail nor
//! damage. Damage that stays is still damage.

use super::damage::{self, Stop};
use super::index;
use super::layout::{self, rec, KIND_END, RECORD_HEADER, SEGMENT_HEADER};
use super::scan::{self, Step};
use super::segment::ReadSegment;
use super::writer::list_segments;
use super::writer_lock;
use crate::ShmError;
use std::path::{Path, PathBuf};

/// How many milliseconds a reader waits, at most, for a live writer to
/// commit the record it found in progress at the end.
const LIVE_WAITS: u32 = 100;

/// A record, borrowed from the mapping.
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    /// Record kind.
    pub kind: u16,
    /// Flags.
    pub flags: u16,
    /// Sequence number.
    pub seq: u64,
    /// Timestamp.
    pub ts_ns: u64,
    /// Payload bytes.
    pub payload: &'a [u8],
    /// Segment index.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

/// Reads a journal directory in order.
pub struct JournalReader {
    dir: PathBuf,
    segments: Vec<(u64, PathBuf)>,
    cur: Option<ReadSegment>,
    cur_i: usize,
    pos: usize,
    torn: Option<(u64, u64)>,
    follow: bool,
}

impl JournalReader {
    /// Opens the finished journal in `dir` at its first record; its end is
    /// classified (see the module docs).
    pub fn open(dir: &Path) -> Result<Self, ShmError> {
        Self::open_as(dir, false)
    }

    /// Opens the journal in `dir` to follow a live writer (see the module docs).
    pub fn follow(dir: &Path) -> Result<Self, ShmError> {
        Self::open_as(dir, true)
    }

    fn open_as(dir: &Path, follow: bool) -> Result<Self, ShmError> {
        let segments = list_segments(dir)?;
        if segments.is_empty() {
            return Err(ShmError::NotAJournal(dir.to_path_buf()));
        }
        let mut r = JournalReader {
            dir: dir.to_path_buf(),
            segments,
            cur: None,
            cur_i: 0,
            pos: SEGMENT_HEADER,
            torn: None,
            follow,
        };
        r.cur = Some(ReadSegment::open(&r.segments[0].1)?);
        Ok(r)
    }

    /// Valid records in the segments after the current one.
    fn later_records(&self) -> u64 {
        self.segments[self.cur_i + 1..]
            .iter()
            .filter_map(|(_, p)| ReadSegment::open(p).ok())
            .map(|s| damage::records_from(&s.map, SEGMENT_HEADER))
            .sum()
    }

    /// Classifies the stop at `at` (its `len` word `len`): `Ok(false)` for the
    /// clean end or a torn tail (recorded), `Ok(true)` when a live writer has
    /// since committed the record there (read on), else the damage.
    fn stop(&mut self, at: usize, len: u32) -> Result<bool, ShmError> {
        let last = self.is_last_segment();
        let seg = self.cur.as_ref().expect("iterating a segment");
        if let Some(e) = seg.truncated() {
            return Err(e);
        }
        let mut verdict = damage::classify(&seg.map, at, len, last);
        if verdict != Stop::Clean && writer_lock::held_elsewhere(&self.dir).is_some() {
            // Another process is writing: read mid-record, the end is its
            // record in progress, not a crash's (and the length read may be
            // older than the records and the roll it made since). Once
            // committed, read on.
            for _ in 0..LIVE_WAITS {
                let seg = self.cur.as_ref().expect("iterating a segment");
                if let Step::Record { .. } = scan::check(&seg.map, at, seg.len_acquire(at)) {
                    return Ok(true);
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            // Uncommitted for all that time: a stalled writer's record in
            // progress is where it has got to; damage that stays is damage.
            let last = self.is_last_segment();
            let seg = self.cur.as_ref().expect("iterating a segment");
            verdict = match damage::classify(&seg.map, at, seg.len_acquire(at), last) {
                Stop::Torn => Stop::Clean,
                v => v,
            };
        }
        let seg = self.cur.as_ref().expect("iterating a segment");
        match verdict {
            Stop::Clean => Ok(false),
            Stop::Torn => {
                self.torn = Some((seg.header.index, at as u64));
                Ok(false)
            }
            Stop::Damage { what, after } => {
                let (segment, path) = (seg.header.index, seg.path.clone());
                let later = if last { 0 } else { self.later_records() };
                Err(ShmError::Corrupt {
                    segment,
                    path,
                    offset: at as u64,
                    what,
                    after: after + later,
                })
            }
        }
    }

    /// The segments, as (index, path).
    pub fn segments(&self) -> &[(u64, PathBuf)] {
        &self.segments
    }

    /// Where iteration found a torn tail, as (segment, offset), if it did.
    pub fn torn_tail(&self) -> Option<(u64, u64)> {
        self.torn
    }

    fn is_last_segment(&mut self) -> bool {
        if self.cur_i + 1 < self.segments.len() {
            return false;
        }
        self.relist();
        self.cur_i + 1 >= self.segments.len()
    }

    /// Lists the segments again (a live writer may have rolled since); on an
    /// error listing, the last list stands.
    fn relist(&mut self) {
        if let Ok(s) = list_segments(&self.dir) {
            self.segments = s;
        }
    }

    /// At an end-of-segment marker: moves to the next segment, or says this one
    /// is the last (for now).
    fn advance_segment(&mut self) -> Result<bool, ShmError> {
        // A writer numbers its segments one after another and removes none but
        // the ones after a repair's cut: a number missing in between is a
        // segment file lost (deleted, or never copied), and its records with it.
        let missing = self.segments[self.cur_i].0 + 1;
        let next = self.cur_i + 1;
        let listed = |r: &Self| r.segments.get(next).map(|s| s.0) == Some(missing);
        if !listed(self) {
            // A live writer may have rolled since we listed; and a directory
            // read need not show a file made while it ran (its helper prepares
            // segments ahead as fast as it rolls), so a successor that is there
            // by name, published, is listed for again. Only here, once per
            // segment end — not at every poll of a tail.
            self.relist();
            if !listed(self) && !super::segment::is_blank(&self.dir.join(layout::segment_name(missing))) {
                self.relist();
            }
        }
        if next >= self.segments.len() {
            return Ok(false);
        }
        if self.segments[next].0 != missing {
            return Err(ShmError::Corrupt {
                segment: missing,
                path: self.dir.join(layout::segment_name(missing)),
                offset: 0,
                what: "the segment file is missing: the records it held are lost",
                after: self.later_records(),
            });
        }
        self.cur = Some(ReadSegment::open(&self.segments[next].1)?);
        self.cur_i = next;
        self.pos = SEGMENT_HEADER;
        Ok(true)
    }

    /// At the end-of-segment marker (offset `at`) of the last segment: the
    /// writer made the next segment's file before it wrote the marker, so with
    /// no such file (not even a blank one) the segments after this one were
    /// removed — the journal was cut, and reading it as a shorter, sound one
    /// would hide the loss. A repair cuts at the marker.
    fn check_not_cut(&self, at: usize) -> Result<(), ShmError> {
        let (index, path) = &self.segments[self.cur_i];
        if self.dir.join(layout::segment_name(index + 1)).exists() {
            return Ok(());
        }
        Err(ShmError::Corrupt {
            segment: *index,
            path: path.clone(),
            offset: at as u64,
            what: "the segment ends in a roll to the next, whose file is missing: the journal was cut, and the \
                   records after this point are lost",
            after: 0,
        })
    }

    /// The next record, `Ok(None)` at the end (for now, when tailing), or the
    /// corruption that stops iteration.
    #[allow(clippy::should_implement_trait)] // records borrow the reader: not an Iterator
    pub fn next(&mut self) -> Result<Option<RecordRef<'_>>, ShmError> {
        let (at, len) = loop {
            let Some(seg) = self.cur.as_ref() else { return Ok(None) };
            if self.torn.is_some() {
                return Ok(None);
            }
            let at = self.pos;
            let len = seg.len_acquire(at);
            match scan::check(&seg.map, at, len) {
                Step::Record { len } => {
                    if layout::le_u16(&seg.map, at + rec::KIND) == KIND_END {
                        if self.advance_segment()? {
                            continue;
                        }
                        if !self.follow {
                            self.check_not_cut(at)?;
                        }
                        return Ok(None);
                    }
                    self.pos += len;
                    break (at, len);
                }
                Step::Empty => {
                    // Following a live writer, the end of the last segment is
                    // where it has got to; anywhere else the stop is classified.
                    if !(self.follow && self.is_last_segment()) && self.stop(at, 0)? {
                        continue;
                    }
                    return Ok(None);
                }
                Step::Bad(_) => {
                    if self.stop(at, len)? {
                        continue;
                    }
                    return Ok(None);
                }
            }
        };
        let seg = self.cur.as_ref().expect("a record was just read from it");
        let b = &seg.map[at..at + len];
        if at == SEGMENT_HEADER {
            check_first_seq(seg, layout::le_u64(b, rec::SEQ))?;
        }
        let payload_len = layout::le_u32(b, rec::PAYLOAD_LEN) as usize;
        Ok(Some(RecordRef {
            kind: layout::le_u16(b, rec::KIND),
            flags: layout::le_u16(b, rec::FLAGS),
            seq: layout::le_u64(b, rec::SEQ),
            ts_ns: layout::le_u64(b, rec::TS),
            payload: &b[RECORD_HEADER..RECORD_HEADER + payload_len],
            segment: seg.header.index,
            offset: at as u64,
        }))
    }

    /// The sequence number of the journal's last record (`None`: no record),
    /// reading only from the start of the segment that holds it; leaves the
    /// reader at the end.
    pub fn last_seq(&mut self) -> Result<Option<u64>, ShmError> {
        self.segments = list_segments(&self.dir)?;
        for i in (0..self.segments.len()).rev() {
            self.cur_i = i;
            self.cur = Some(ReadSegment::open(&self.segments[i].1)?);
            self.pos = SEGMENT_HEADER;
            self.torn = None;
            let mut last = None;
            while let Some(r) = self.next()? {
                last = Some(r.seq);
            }
            if last.is_some() {
                return Ok(last);
            }
        }
        Ok(None)
    }

    /// Positions the reader at the first record with seq ≥ `seq` (or at the end).
    pub fn seek_seq(&mut self, seq: u64) -> Result<(), ShmError> {
        self.seek_by(By::Seq, seq)
    }

    /// Positions the reader at the first record with ts ≥ `ts_ns` (or at the end).
    /// Assumes timestamps never decrease (control time never runs backwards).
    pub fn seek_ts(&mut self, ts_ns: u64) -> Result<(), ShmError> {
        self.seek_by(By::Ts, ts_ns)
    }

    fn seek_by(&mut self, by: By, want: u64) -> Result<(), ShmError> {
        self.segments = list_segments(&self.dir)?;
        self.torn = None;
        if self.segments.is_empty() {
            self.cur = None;
            return Ok(());
        }
        // The last segment whose first record's key is below `want` (strictly:
        // records of equal time may end the segment before), else the first.
        let mut chosen = 0;
        for (i, (_, path)) in self.segments.iter().enumerate() {
            let seg = ReadSegment::open(path)?;
            match first_key(&seg, by) {
                Some(k) if k < want => chosen = i,
                _ => break,
            }
        }
        self.cur_i = chosen;
        let path = self.segments[chosen].1.clone();
        self.cur = Some(ReadSegment::open(&path)?);
        // Jump to the last index entry before the target (strictly: records of
        // equal time may come before the entry's), then scan forward. The index
        // is a hint, so an entry is taken only if the record it points at is
        // whole and has the entry's key: an entry damaged into a smaller key (or
        // a different offset) would otherwise start the scan past the target,
        // and the records between would be skipped without a word.
        let mut entries = index::read(&path);
        entries.retain(|e| by.of_entry(e) < want && e.offset as usize >= SEGMENT_HEADER && e.offset % 8 == 0);
        entries.sort_by_key(|e| std::cmp::Reverse((by.of_entry(e), e.offset)));
        self.pos = SEGMENT_HEADER;
        if let Some(seg) = self.cur.as_ref() {
            if let Some(e) = entries
                .iter()
                .find(|e| key_at(seg, e.offset as usize, by) == Some(by.of_entry(e)))
            {
                self.pos = e.offset as usize;
            }
        }
        loop {
            let found = self.next()?.map(|r| (by.of_record(&r), r.offset));
            match found {
                Some((k, off)) if k >= want => {
                    self.pos = off as usize;
                    return Ok(());
                }
                Some(_) => {}
                None => return Ok(()),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum By {
    Seq,
    Ts,
}

impl By {
    fn of_entry(self, e: &index::Entry) -> u64 {
        match self {
            By::Seq => e.seq,
            By::Ts => e.ts,
        }
    }
    fn of_record(self, r: &RecordRef) -> u64 {
        match self {
            By::Seq => r.seq,
            By::Ts => r.ts_ns,
        }
    }
}

/// The header's `first_seq`, outside its checksum (see [`layout`]), against
/// the seq of the segment's first record, `seq`. Read from the mapping after
/// that record's `len` was loaded with acquire ordering: the writer stores it
/// before it commits the record, so a live writer's is seen whole.
fn check_first_seq(seg: &ReadSegment, seq: u64) -> Result<(), ShmError> {
    let first = layout::le_u64(&seg.map, layout::seg::FIRST_SEQ);
    if first != seq {
        return Err(super::segment::first_seq_damaged(&seg.path, first, seq));
    }
    Ok(())
}

/// The key of a segment's first record, if it has one.
fn first_key(seg: &ReadSegment, by: By) -> Option<u64> {
    key_at(seg, SEGMENT_HEADER, by)
}

/// The key of the whole record (not an end marker) at `pos`, if one is there.
fn key_at(seg: &ReadSegment, pos: usize, by: By) -> Option<u64> {
    let len = seg.len_acquire(pos);
    match scan::check(&seg.map, pos, len) {
        Step::Record { .. } if layout::le_u16(&seg.map, pos + rec::KIND) != KIND_END => Some(match by {
            By::Seq => layout::le_u64(&seg.map, pos + rec::SEQ),
            By::Ts => layout::le_u64(&seg.map, pos + rec::TS),
        }),
        _ => None,
    }
}
