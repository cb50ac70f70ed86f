//! Repairing a damaged journal: keep every record before the damage, drop the
//! rest, after a backup of every file touched.
//!
//! The journal is read as any reader reads it; where it stops with damage
//! ([`super::damage`]), the damaged segment is restored to its full size, zeroed
//! from the damage on (its index removed: it may point past the cut), and every
//! later segment is removed. A torn tail is cut the same way. Before any change,
//! every segment and index file of the journal is copied into the backup
//! directory, so nothing is lost that was there.

use super::layout::SEGMENT_HEADER;
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
    let mut r = JournalReader::open(dir)?;
    // Not under a live writer, whose tail it would cut.
    let _lock = super::writer_lock::WriterLock::acquire(dir)?;
    let mut kept = 0u64;
    let mut last_end: Option<(u64, u64)> = None;
    let stop = loop {
        match r.next() {
            Ok(Some(rec)) => {
                kept += 1;
                let end = rec.offset + super::layout::record_len(rec.payload.len()) as u64;
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
    let Some((segment, offset, what, after, later_counted)) = stop else {
        return Ok(Repair {
            kept,
            damage: None,
            dropped: 0,
            backup: None,
        });
    };
    drop(r);
    let segments = list_segments(dir)?;
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
