//! Input files mapped, not read: a day of ITCH is 5–10 GB, and the decoders only
//! ever need a byte slice of it, so `foxtrot import`, `itch` and `feed` map the
//! file read-only and let the page cache stream it (constant memory whatever the
//! file's size, and each pass over it after the first is served from the cache).

use std::ops::Deref;
use std::path::Path;

/// A file's bytes: a read-only mapping, or an empty slice for an empty file
/// (which cannot be mapped).
pub struct MappedFile {
    map: Option<memmap2::Mmap>,
}

impl MappedFile {
    /// Maps `path` read-only.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        if meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a directory; a file is expected here",
            ));
        }
        if meta.len() == 0 {
            return Ok(MappedFile { map: None });
        }
        // SAFETY: a read-only private view of a file this process only reads. If
        // another process truncated the file while it is mapped, reading past the
        // new end would fault; input files are not written while imported (the
        // same contract as any reader of a file being replaced under it).
        let map = unsafe { memmap2::Mmap::map(&f)? };
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(MappedFile { map: Some(map) })
    }
}

impl Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}
