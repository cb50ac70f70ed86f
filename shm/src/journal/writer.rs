//! The journal writer: append, roll, durability, and crash recovery on open.
//!
//! **Append** writes a record's header fields, payload and CRC into the mapped
//! segment, then publishes its `len` with release ordering — one memcpy, one CRC32C
//! and one store; no syscall, no allocation. When the next record (plus room for
//! the end marker) would not fit, the writer writes an end-of-segment marker and
//! continues in the next segment, which a helper thread has already created,
//! allocated and pre-faulted (`prepare`): the roll itself is a
//! header write, an index write and a rename, and the old segment is unmapped on
//! the helper too. Without the helper, creating a pre-faulted 64 MiB segment stalled
//! the appending thread for 12–30 ms, and unmapping the old one for ~2.5 ms
//! (measured with `foxtrot-perf journal-append` on ext4).
//!
//! **Recovery.** Opening a journal that already has segments scans the last one: a
//! record whose `len` is set but whose CRC fails, with nothing but zeros after it, is
//! a torn tail (a crash or power loss mid-write): it and any stray bytes after the
//! last complete record are zeroed, and appends continue there. A bad record with
//! data after it is corruption, not a crash: opening fails and names the segment and
//! offset, rather than overwrite evidence.
//!
//! **Durability** (see [`Durability`]): the page cache already survives the process
//! (a `kill -9` loses nothing that was published); `msync` is what survives the
//! machine.

use super::damage::{self, Stop};
use super::index::{self, Entry};
use super::layout::{self, rec, KIND_END, RECORD_HEADER, SEGMENT_HEADER};
use super::prepare::Preparer;
use super::scan::{self, Step};
use super::segment::{first_seq_damaged, MapOptions, WriteSegment};
use crate::ShmError;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// When the writer asks the kernel to write dirty pages to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Never (page cache only): fastest; survives a process crash, not power loss.
    None,
    /// `msync(MS_ASYNC)` of the written range when this much time has passed since
    /// the last one (checked every 1024 appends): bounded loss window, rare syscall.
    Periodic(Duration),
    /// `msync(MS_SYNC)` of the written range every this many records: bounded loss in
    /// records, at the cost of a blocking syscall on the appending thread.
    EveryRecords(u32),
}

/// Journal parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// Segment size in bytes (a multiple of 4096, at least 64 KiB): the size of
    /// every segment, or with `first_segment_size` the largest.
    pub segment_size: u64,
    /// Size of segment 0 (a multiple of 4096, at least 64 KiB; above
    /// `segment_size` it is `segment_size`); each later segment is twice its
    /// predecessor until `segment_size`, so a short run's journal stays small and
    /// a long one reaches full-size segments after a few rolls (default 1 MiB:
    /// six rolls to 64 MiB). 0: every segment is `segment_size`. A record must
    /// fit the first segment.
    pub first_segment_size: u64,
    /// Durability mode.
    pub durability: Durability,
    /// Mapping options (prefault, mlock, huge pages).
    pub map: MapOptions,
    /// A sparse-index entry every this many records.
    pub index_every: u32,
    /// How many segments a helper thread keeps prepared ahead of the writer (0:
    /// create each one on the writer's thread when it rolls). Two absorb a slow
    /// preparation (a filesystem journal commit, say) without stalling appends; each
    /// costs `segment_size` of page cache and disk until it is used.
    pub prepare_ahead: u32,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            segment_size: 64 << 20,
            first_segment_size: 1 << 20,
            durability: Durability::None,
            map: MapOptions {
                prefault: true,
                mlock: false,
                huge_pages: false,
            },
            index_every: 1024,
            prepare_ahead: 2,
        }
    }
}

impl JournalConfig {
    /// The size of segment `index`: `first_segment_size` doubled per segment up
    /// to `segment_size`, or `segment_size` throughout.
    pub fn segment_size_of(&self, index: u64) -> u64 {
        if self.first_segment_size == 0 {
            return self.segment_size;
        }
        let doubled = self.first_segment_size.saturating_mul(1u64 << index.min(32));
        doubled.min(self.segment_size)
    }

    /// The smallest segment: every record must fit it.
    fn smallest_segment(&self) -> u64 {
        self.segment_size_of(0)
    }
}

/// Appends records to a journal directory.
pub struct JournalWriter {
    dir: PathBuf,
    cfg: JournalConfig,
    seg: WriteSegment,
    pos: usize,
    synced_to: usize,
    last_seq: u64,
    in_segment: u64,
    since_sync: u32,
    last_sync: Instant,
    index: Vec<Entry>,
    recovered_torn: Option<(u64, u64)>,
    /// The current segment ends with an end marker (a crash between the marker and
    /// the next file leaves this).
    ended: bool,
    /// Prepares the next segments and unmaps finished ones, on a helper thread.
    /// `None` only while `open` is building the writer.
    prepare: Option<Preparer>,
    /// Bytes of the current segment, from its start, reserved and (where the
    /// kernel can) faulted in for writing (see [`populate`](Self::populate));
    /// `usize::MAX` when there is nothing to do: the segments are prefaulted.
    populated: usize,
    /// Whether `MADV_POPULATE_WRITE` works here (Linux ≥ 5.14).
    can_populate: bool,
    /// This writer's hold on the directory (one writer at a time).
    _lock: super::writer_lock::WriterLock,
}

/// How far ahead of the writer a segment that was not prefaulted is faulted
/// in, in one system call: 64 pages.
const POPULATE_STEP: usize = 256 << 10;

/// The most index entries a segment can have (so its vector never grows).
fn index_capacity(cfg: &JournalConfig) -> usize {
    (cfg.segment_size as usize / (RECORD_HEADER * cfg.index_every as usize)) + 2
}

/// Lists `(index, path)` of the segments in `dir`, sorted by index — without
/// the blank ones at the end (prepared ahead by a writer and not yet begun:
/// [`is_blank`](super::segment::is_blank)), which hold nothing yet.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, ShmError> {
    Ok(list_with_blanks(dir)?.0)
}

/// `(index, path)` of segments, sorted by index.
type Segments = Vec<(u64, PathBuf)>;

/// The segments of `dir` (as [`list_segments`]) and the blank ones after them.
fn list_with_blanks(dir: &Path) -> Result<(Segments, Vec<PathBuf>), ShmError> {
    let mut v = Vec::new();
    if !dir.exists() {
        return Err(ShmError::NotAJournal(dir.to_path_buf()));
    }
    for e in std::fs::read_dir(dir).map_err(ShmError::io(dir, "list journal"))? {
        let e = e.map_err(ShmError::io(dir, "list journal"))?;
        if let Some(i) = e.file_name().to_str().and_then(layout::parse_segment_name) {
            v.push((i, e.path()));
        }
    }
    v.sort_unstable();
    let mut blanks = Vec::new();
    while let Some((_, p)) = v.last() {
        if !super::segment::is_blank(p) {
            break;
        }
        blanks.push(v.pop().expect("a last segment").1);
    }
    Ok((v, blanks))
}

impl JournalWriter {
    /// Opens (creating if needed) the journal in `dir`, recovering a torn tail;
    /// [`ShmError::InUse`] if another process writes it
    /// ([`writer_lock`](super::writer_lock)).
    pub fn open(dir: &Path, cfg: JournalConfig) -> Result<Self, ShmError> {
        Self::open_inner(dir, cfg, None)
    }

    /// [`open`](Self::open) under a lock the caller took on `dir` (to read the
    /// journal before writing it, with no other writer in between).
    pub fn open_locked(dir: &Path, cfg: JournalConfig, lock: super::writer_lock::WriterLock) -> Result<Self, ShmError> {
        Self::open_inner(dir, cfg, Some(lock))
    }

    fn open_inner(
        dir: &Path,
        cfg: JournalConfig,
        lock: Option<super::writer_lock::WriterLock>,
    ) -> Result<Self, ShmError> {
        let bad = |v: u64| v < 64 << 10 || v % 4096 != 0;
        if bad(cfg.segment_size) || (cfg.first_segment_size != 0 && bad(cfg.first_segment_size)) || cfg.index_every == 0
        {
            return Err(ShmError::Config(format!(
                "segment_size {} and first_segment_size {} (0: the same) must be multiples of 4096 of at least 65536; \
                 index_every > 0",
                cfg.segment_size, cfg.first_segment_size
            )));
        }
        std::fs::create_dir_all(dir).map_err(ShmError::io(dir, "create journal directory"))?;
        // Before anything is recovered or removed: no other writer lives.
        let lock = match lock {
            Some(l) => l,
            None => super::writer_lock::WriterLock::acquire(dir)?,
        };
        let (segs, blanks) = list_with_blanks(dir)?;
        let (seg, r) = match segs.last() {
            None => {
                let r = Recovered {
                    pos: SEGMENT_HEADER,
                    ..Recovered::default()
                };
                (WriteSegment::create(dir, 0, cfg.segment_size_of(0), 0, cfg.map)?, r)
            }
            Some((_, path)) => {
                let mut seg = WriteSegment::open(path, cfg.map)?;
                let r = recover(&mut seg)?;
                (seg, r)
            }
        };
        // Segments prepared ahead by a writer that died: never begun, removed —
        // but for the next one of a segment that ended in its marker, which
        // is prepared again in place (see `WriteSegment::prepare`): with no
        // file after the marker, a kill before the roll below made one would
        // leave the journal looking cut. Nor the one just made: a first
        // segment left blank (a writer killed before it wrote the header) is
        // prepared again in place above, and removing it would leave this
        // writer appending to an unlinked file.
        let keep = r.ended.then(|| dir.join(layout::segment_name(seg.header.index + 1)));
        for b in blanks {
            if Some(&b) != keep.as_ref() && b != seg.path {
                std::fs::remove_file(&b).map_err(ShmError::io(&b, "remove a blank segment"))?;
            }
        }
        let idx_cap = index_capacity(&cfg);
        let mut w = JournalWriter {
            dir: dir.to_path_buf(),
            cfg,
            seg,
            pos: r.pos,
            synced_to: r.pos,
            last_seq: r.last_seq,
            in_segment: r.records,
            since_sync: 0,
            last_sync: Instant::now(),
            index: Vec::with_capacity(idx_cap),
            recovered_torn: r.torn,
            ended: r.ended,
            prepare: None,
            // Nothing populated yet, unless every page is (prefaulted).
            populated: if cfg.map.prefault { usize::MAX } else { 0 },
            can_populate: true,
            _lock: lock,
        };
        // Preparations of older versions (named `.seg.tmp`): never published.
        for e in std::fs::read_dir(dir)
            .map_err(ShmError::io(dir, "list journal"))?
            .flatten()
        {
            if e.file_name().to_str().is_some_and(|n| n.ends_with(".seg.tmp")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        w.index = index::read(&w.seg.path)
            .into_iter()
            .filter(|e| (e.offset as usize) < r.pos)
            .collect();
        w.index.reserve(idx_cap);
        w.prepare = Some(Preparer::start(
            dir,
            cfg,
            w.seg.header.index + 1,
            cfg.prepare_ahead as usize,
            idx_cap,
        ));
        if w.ended {
            w.roll()?;
        }
        Ok(w)
    }

    /// Where the last recovery found and cut a torn tail: (segment, offset).
    pub fn recovered_torn_tail(&self) -> Option<(u64, u64)> {
        self.recovered_torn
    }

    /// Blocks until the helper has prepared the segments it keeps ahead, so the
    /// first rolls after start-up do not wait for it. Call before going live: a
    /// fresh filesystem has been measured taking up to 160 ms for its first 64 MiB
    /// segments, against 12–30 ms once warm.
    pub fn warm_up(&mut self) {
        if let Some(p) = &mut self.prepare {
            p.wait_ready();
        }
    }

    /// Seq of the last record appended (or recovered); 0 for an empty journal.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The journal's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The index of the segment being appended to.
    pub fn segment_index(&self) -> u64 {
        self.seg.header.index
    }

    /// Appends one record. The record is visible to readers when this returns.
    #[inline]
    pub fn append(&mut self, kind: u16, flags: u16, seq: u64, ts_ns: u64, payload: &[u8]) -> Result<(), ShmError> {
        let len = layout::record_len(payload.len());
        let room = self.cfg.smallest_segment() as usize - SEGMENT_HEADER - RECORD_HEADER;
        if len > room {
            return Err(ShmError::TooLarge {
                len,
                segment_size: self.cfg.smallest_segment(),
            });
        }
        if kind == KIND_END {
            return Err(ShmError::Config(format!(
                "record kind {KIND_END:#06x} is reserved for the end-of-segment marker"
            )));
        }
        if self.pos + len + RECORD_HEADER > self.seg.map.len() {
            self.roll()?;
        }
        if self.pos + len > self.populated {
            // Before anything is written: a full disk leaves the journal as it was.
            self.populate(self.pos + len)?;
        }
        if self.in_segment == 0 {
            self.seg.set_first_seq(seq);
        }
        self.write_at(self.pos, kind, flags, seq, ts_ns, payload, len);
        if self.in_segment % self.cfg.index_every as u64 == 0 && self.index.len() < self.index.capacity() {
            self.index.push(Entry {
                seq,
                ts: ts_ns,
                offset: self.pos as u64,
            });
        }
        self.pos += len;
        self.last_seq = seq;
        self.in_segment += 1;
        self.after_append()
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn write_at(&mut self, at: usize, kind: u16, flags: u16, seq: u64, ts: u64, payload: &[u8], len: usize) {
        let b = &mut self.seg.map[at..at + len];
        b[rec::KIND..rec::KIND + 2].copy_from_slice(&kind.to_le_bytes());
        b[rec::FLAGS..rec::FLAGS + 2].copy_from_slice(&flags.to_le_bytes());
        b[rec::PAYLOAD_LEN..rec::PAYLOAD_LEN + 4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        b[rec::SEQ..rec::SEQ + 8].copy_from_slice(&seq.to_le_bytes());
        b[rec::TS..rec::TS + 8].copy_from_slice(&ts.to_le_bytes());
        b[RECORD_HEADER..RECORD_HEADER + payload.len()].copy_from_slice(payload);
        b[RECORD_HEADER + payload.len()..].fill(0);
        let crc = layout::record_crc(len as u32, &b[8..]);
        b[rec::CRC..rec::CRC + 4].copy_from_slice(&crc.to_le_bytes());
        self.seg.publish_len_release(at, len as u32);
    }

    #[inline]
    fn after_append(&mut self) -> Result<(), ShmError> {
        match self.cfg.durability {
            Durability::None => Ok(()),
            Durability::EveryRecords(n) => {
                self.since_sync += 1;
                if self.since_sync >= n {
                    self.msync(false)?;
                }
                Ok(())
            }
            Durability::Periodic(every) => {
                self.since_sync += 1;
                // The clock is read once per 1024 appends, never per append.
                if self.since_sync % 1024 == 0 && self.last_sync.elapsed() >= every {
                    self.msync(true)?;
                }
                Ok(())
            }
        }
    }

    fn msync(&mut self, asynchronous: bool) -> Result<(), ShmError> {
        let from = self.synced_to.min(self.pos) & !4095;
        let r = if asynchronous {
            self.seg.map.flush_async_range(from, self.pos - from)
        } else {
            self.seg.map.flush_range(from, self.pos - from)
        };
        r.map_err(ShmError::io(&self.seg.path, "msync"))?;
        self.synced_to = self.pos;
        self.since_sync = 0;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Writes the end marker and continues in the next segment, which the helper
    /// prepared (named, sized, pre-faulted) ahead: publishing it is a header write
    /// into memory. The finished segment's index is written, and the segment
    /// unmapped, on the helper. No system call here unless the helper has fallen
    /// behind (the journal then grows faster than segments can be prepared).
    ///
    /// The next segment's file exists before the end marker is written, so a
    /// last segment that ends in a marker with no file after it was cut (its
    /// successors deleted), never left so by a kill: readers report it.
    fn roll(&mut self) -> Result<(), ShmError> {
        let next = self.seg.header.index + 1;
        let mut seg = match &mut self.prepare {
            Some(p) => p.take(next)?,
            None => WriteSegment::prepare(&self.dir, next, self.cfg.segment_size_of(next), self.cfg.map)?,
        };
        if !self.ended {
            let (seq, pos) = (self.last_seq, self.pos);
            self.write_at(pos, KIND_END, 0, seq, 0, &[], RECORD_HEADER);
            self.pos += RECORD_HEADER;
            // Ended: should the rest fail, a retry writes no second marker
            // past the end.
            self.ended = true;
        }
        if self.cfg.durability != Durability::None {
            self.msync(true)?;
        }
        seg.publish(self.last_seq);
        let old = std::mem::replace(&mut self.seg, seg);
        match &mut self.prepare {
            Some(p) => {
                let spare = p.spare_index(index_capacity(&self.cfg));
                let entries = std::mem::replace(&mut self.index, spare);
                p.retire(old, entries);
            }
            None => {
                index::write(&old.path, &self.index)?;
                self.index.clear();
            }
        }
        self.pos = SEGMENT_HEADER;
        self.synced_to = SEGMENT_HEADER;
        self.in_segment = 0;
        self.ended = false;
        if self.populated != usize::MAX {
            self.populated = 0;
        }
        Ok(())
    }

    /// Reserves the blocks of a segment that was not prefaulted (an import's:
    /// see `MapOptions::prefault`) up to past `need`, [`POPULATE_STEP`] at a
    /// time — a full filesystem is an error here, where a store would have
    /// been a `SIGBUS` (see [`crate::reserve()`]) — and faults their pages in
    /// with one `MADV_POPULATE_WRITE` (Linux ≥ 5.14), where the stores would
    /// otherwise take a page fault each. Where the kernel refuses to populate,
    /// the stores fault as before, and populating is not tried again.
    #[cold]
    #[inline(never)]
    fn populate(&mut self, need: usize) -> Result<(), ShmError> {
        let len = self.seg.map.len();
        let from = self.populated & !4095;
        // `need` is past `populated` and within the segment, so `from < to`.
        let to = (need.next_multiple_of(4096) + POPULATE_STEP).min(len);
        self.seg.reserve(from, to - from)?;
        if self.can_populate
            && self
                .seg
                .map
                .advise_range(memmap2::Advice::PopulateWrite, from, to - from)
                .is_err()
        {
            self.can_populate = false;
        }
        self.populated = to;
        Ok(())
    }

    /// Flushes everything written so far to disk (`msync(MS_SYNC)`) and writes the
    /// sparse index.
    pub fn sync(&mut self) -> Result<(), ShmError> {
        self.seg.map.flush().map_err(ShmError::io(&self.seg.path, "msync"))?;
        self.synced_to = self.pos;
        index::write(&self.seg.path, &self.index)
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        let _ = index::write(&self.seg.path, &self.index);
        // Joins the helper; an unused preparation is not part of the journal.
        self.prepare = None;
    }
}

#[derive(Default)]
struct Recovered {
    pos: usize,
    last_seq: u64,
    records: u64,
    torn: Option<(u64, u64)>,
    ended: bool,
}

/// Scans the last segment for its append position, last seq and record count,
/// cutting a torn tail.
fn recover(seg: &mut WriteSegment) -> Result<Recovered, ShmError> {
    // An empty segment's numbering continues from the one before it.
    let mut r = Recovered {
        pos: SEGMENT_HEADER,
        last_seq: seg.header.base_seq,
        ..Recovered::default()
    };
    let size = seg.map.len();
    while r.pos + RECORD_HEADER <= size {
        let at = r.pos;
        let len = layout::le_u32(&seg.map, at);
        match scan::check(&seg.map, at, len) {
            Step::Record { len } => {
                r.ended = layout::le_u16(&seg.map, at + rec::KIND) == KIND_END;
                if !r.ended {
                    r.last_seq = layout::le_u64(&seg.map, at + rec::SEQ);
                    if at == SEGMENT_HEADER && seg.header.first_seq != r.last_seq {
                        return Err(first_seq_damaged(&seg.path, seg.header.first_seq, r.last_seq));
                    }
                    r.records += 1;
                }
                r.pos += len;
            }
            Step::Empty | Step::Bad(_) => {
                // Where the records stop: the clean end, a torn tail (cut, so the
                // next append starts on zeros), or damage (refused).
                match damage::classify(&seg.map, at, len, true) {
                    Stop::Clean => {}
                    Stop::Torn => {
                        seg.map[at..].fill(0);
                        r.torn = Some((seg.header.index, at as u64));
                    }
                    Stop::Damage { what, after } => {
                        return Err(ShmError::Corrupt {
                            segment: seg.header.index,
                            path: seg.path.clone(),
                            offset: at as u64,
                            what,
                            after,
                        });
                    }
                }
                break;
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal whose segments are not prefaulted is faulted in ahead of its
    /// writer, a step at a time: every append finds its bytes populated, never
    /// more than a step (and a page) ahead, segment after segment.
    #[test]
    fn unprefaulted_segments_are_populated_a_step_ahead() {
        let dir = std::env::temp_dir().join(format!("foxtrot-shm-populate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = JournalConfig {
            segment_size: 1 << 20,
            first_segment_size: 0,
            map: MapOptions {
                prefault: false,
                ..MapOptions::default()
            },
            prepare_ahead: 1,
            ..JournalConfig::default()
        };
        let mut w = JournalWriter::open(&dir, cfg).unwrap();
        let payload = [7u8; 1000];
        for seq in 1..=3000u64 {
            w.append(1, 0, seq, seq, &payload).unwrap();
            assert!(
                w.populated >= w.pos,
                "seq {seq}: populated {} behind {}",
                w.populated,
                w.pos
            );
            assert!(
                w.populated <= (w.pos + POPULATE_STEP + 4096).min(w.seg.map.len()),
                "seq {seq}: populated {} too far ahead of {}",
                w.populated,
                w.pos
            );
        }
        assert!(w.segment_index() >= 2, "the records span segments");
        drop(w);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
