//! Repairing a damaged journal: keep every record before the damage, drop the
//! rest, after a backup of every file touched.
//!
//! The journal is read as any reader reads it; where it stops with damage
//! ([`super::damage`]), the damaged segment is restored to its full size, zeroed
//! from the damage on (its index removed: it may point past the cut), and every
//! later segment is removed. A torn tail is cut the same way. A segment whose
//! header is damaged (its checksum, or a field against the file: see
//! [`super::layout`]) has it rebuilt from what the file shows — its index from
//! its name, its size from its length, `first_seq` from its first record,
//! `base_seq` from the records before it — so records behind a damaged header
//! are kept, not dropped. Before any change, every segment and index file of
//! the journal is copied into the backup directory, so nothing is lost that was
//! there.

use super::layout::{self, seg, SEGMENT_HEADER};
use super::reader::JournalReader;
use super::writer::list_segments;
use crate::ShmError;
use std::path::{Path, PathBuf};

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Records kept.
    pub kept: u64,
    /// The damage (or torn tail) repaired, as the reader reported it; `None`
    /// when the journal was sound and nothing was changed.
    pub damage: Option<String>,
    /// Valid records beyond the damage that are dropped (they stay in the backup).
    pub dropped: u64,
    /// Where the original files were copied.
    pub backup: Option<PathBuf>,
}

/// Repairs the journal in `dir`, copying its files into `backup` first (a new
/// directory). A sound journal is left alone and nothing is copied.
pub fn repair(dir: &Path, backup: &Path) -> Result<Repair, ShmError> {
    if list_segments(dir)?.is_empty() {
        return Err(ShmError::NotAJournal(dir.to_path_buf()));
    }
    // Not under a live writer, whose tail it would cut.
    let _lock = super::writer_lock::WriterLock::acquire(dir)?;
    let mut backed_up = false;
    // Headers rebuilt: the segment and what was wrong with it.
    let mut rebuilt: Vec<(PathBuf, String)> = Vec::new();
    // Each pass either reads to its stop or rebuilds one damaged header (a
    // segment's at most once: a header rebuilt that still reads as damaged
    // is an error). The last record read before a damaged header is where
    // the numbering stood before its segment.
    let (kept, stop) = loop {
        let mut last_seq = None;
        match scan_to_stop(dir, &mut last_seq) {
            Err(ShmError::BadHeader { path, what, .. }) if path.parent() == Some(dir) => {
                if rebuilt.iter().any(|(p, _)| *p == path) {
                    return Err(ShmError::BadHeader { path, offset: 0, what });
                }
                if !backed_up {
                    back_up(dir, backup)?;
                    backed_up = true;
                }
                rebuild_header(&path, last_seq)?;
                rebuilt.push((path, what));
            }
            r => break r?,
        }
    };
    let rebuilt = (!rebuilt.is_empty()).then(|| {
        let each: Vec<String> = rebuilt
            .iter()
            .map(|(p, what)| format!("{} ({what})", p.file_name().unwrap_or_default().to_string_lossy()))
            .collect();
        format!("header rebuilt: {}", each.join("; "))
    });
    let Some((segment, offset, what, after, later_counted)) = stop else {
        return Ok(Repair {
            kept,
            backup: backed_up.then(|| backup.to_path_buf()),
            damage: rebuilt,
            dropped: 0,
        });
    };
    let what = match rebuilt {
        Some(r) => format!("{r}; {what}"),
        None => what,
    };
    let segments = list_segments(dir)?;
    if !backed_up {
        back_up(dir, backup)?;
    }
    let mut dropped = after;
    for (index, path) in &segments {
        if *index < segment {
            continue;
        }
        if *index > segment {
            if !later_counted {
                if let Ok(s) = super::segment::ReadSegment::open(path) {
                    dropped += super::damage::records_from(&s.map, SEGMENT_HEADER);
                }
            }
            std::fs::remove_file(path).map_err(ShmError::io(path, "remove damaged segment"))?;
            let _ = std::fs::remove_file(path.with_extension("idx"));
            continue;
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(ShmError::io(path, "open damaged segment"))?;
        let size = {
            let mut head = [0u8; SEGMENT_HEADER];
            use std::os::unix::fs::FileExt;
            f.read_exact_at(&mut head, 0)
                .map_err(ShmError::io(path, "read header"))?;
            super::segment::parse_header(path, &head)?.size
        };
        // Zero from the cut to the end, at the segment's full size.
        f.set_len(offset).map_err(ShmError::io(path, "cut damaged segment"))?;
        f.set_len(size).map_err(ShmError::io(path, "restore segment size"))?;
        f.sync_all().map_err(ShmError::io(path, "sync repaired segment"))?;
        let _ = std::fs::remove_file(path.with_extension("idx"));
    }
    Ok(Repair {
        kept,
        damage: Some(what),
        dropped,
        backup: Some(backup.to_path_buf()),
    })
}

/// Where a read of the whole journal stops: `(segment, offset, what,
/// records after it, whether those count the later segments)`, `None` at a
/// clean end; with the records read before it.
type Stop = Option<(u64, u64, String, u64, bool)>;

/// Reads the journal in `dir` as any reader does, to its stop; `last_seq`
/// follows the records read (it is left where reading stopped, on an error too).
fn scan_to_stop(dir: &Path, last_seq: &mut Option<u64>) -> Result<(u64, Stop), ShmError> {
    let mut r = JournalReader::open(dir)?;
    let mut kept = 0u64;
    let mut last_end: Option<(u64, u64)> = None;
    let stop = loop {
        match r.next() {
            Ok(Some(rec)) => {
                kept += 1;
                *last_seq = Some(rec.seq);
                let end = rec.offset + layout::record_len(rec.payload.len()) as u64;
                last_end = Some((rec.segment, end));
            }
            // `after`: the valid records beyond the stop the reader counted —
            // for damage, in the later segments too; else none of them.
            Ok(None) => break r.torn_tail().map(|(s, o)| (s, o, "a torn tail".to_string(), 0, false)),
            Err(e) => match &e {
                ShmError::Corrupt {
                    segment, offset, after, ..
                } => break Some((*segment, *offset, e.to_string(), *after, true)),
                ShmError::Truncated { segment, .. } => {
                    // Cut after the last whole record of the truncated segment.
                    let at = match last_end {
                        Some((s, end)) if s == *segment => end,
                        _ => SEGMENT_HEADER as u64,
                    };
                    break Some((*segment, at, e.to_string(), 0, false));
                }
                _ => return Err(e),
            },
        }
    };
    Ok((kept, stop))
}

/// Copies every file of `dir` into `backup` (created).
pub fn back_up(dir: &Path, backup: &Path) -> Result<(), ShmError> {
    std::fs::create_dir_all(backup).map_err(ShmError::io(backup, "create backup directory"))?;
    for e in std::fs::read_dir(dir)
        .map_err(ShmError::io(dir, "list journal"))?
        .flatten()
    {
        let p = e.path();
        if p.is_file() {
            let to = backup.join(e.file_name());
            std::fs::copy(&p, &to).map_err(ShmError::io(&to, "back up"))?;
        }
    }
    Ok(())
}

/// Writes a new version-2 header for the segment at `path` from what the
/// journal shows: its index from its name, its size from its length (rounded
/// up to 8, the file restored to it), `first_seq` from its first record,
/// `base_seq` from `before` — the last record read before it — (else one
/// below its first, else 0), the creation time kept.
fn rebuild_header(path: &Path, before: Option<u64>) -> Result<(), ShmError> {
    use std::os::unix::fs::FileExt;
    let unusable = |what: &str| ShmError::BadHeader {
        path: path.to_path_buf(),
        offset: 0,
        what: format!("the header cannot be rebuilt: {what}"),
    };
    let index = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(layout::parse_segment_name)
        .ok_or_else(|| unusable("the file is not named as a segment"))?;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(ShmError::io(path, "open segment"))?;
    let len = f.metadata().map_err(ShmError::io(path, "stat segment"))?.len();
    let size = len.next_multiple_of(layout::ALIGN as u64);
    if size < (SEGMENT_HEADER + 2 * layout::RECORD_HEADER) as u64 {
        return Err(unusable("the file is shorter than a header and two records"));
    }
    f.set_len(size).map_err(ShmError::io(path, "restore segment size"))?;
    let mut body = vec![0u8; size as usize];
    f.read_exact_at(&mut body, 0)
        .map_err(ShmError::io(path, "read segment"))?;
    let first = match super::scan::check(&body, SEGMENT_HEADER, layout::le_u32(&body, SEGMENT_HEADER)) {
        super::scan::Step::Record { .. }
            if layout::le_u16(&body, SEGMENT_HEADER + layout::rec::KIND) != layout::KIND_END =>
        {
            Some(layout::le_u64(&body, SEGMENT_HEADER + layout::rec::SEQ))
        }
        _ => None,
    };
    let base_seq = before.or(first.map(|s| s.saturating_sub(1))).unwrap_or(0);
    let h = super::segment::header_image(&super::segment::SegmentHeader {
        index,
        first_seq: first.unwrap_or(0),
        created_ns: layout::le_u64(&body, seg::CREATED_NS),
        size,
        base_seq,
    });
    f.write_all_at(&h, 0).map_err(ShmError::io(path, "rebuild header"))?;
    f.sync_all().map_err(ShmError::io(path, "sync rebuilt header"))
}
