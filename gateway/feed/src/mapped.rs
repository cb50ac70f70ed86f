//! Input files mapped, not read: a day of ITCH is 5–10 GB, and the decoders only
//! ever need a byte slice of it, so `foxtrot import`, `itch` and `feed` map the
//! file read-only and let the page cache stream it (constant memory whatever the
//! file's size, and each pass over it after the first is served from the cache).
//!
//! Data is often shipped compressed (Nasdaq's ITCH days are gzip files, vendors'
//! CSVs gzip or zstd) or piped (`zcat day.csv.gz | foxtrot import -`). Those
//! cannot be mapped as they are: a file that starts with the gzip or zstd magic,
//! and any input that is not a regular file (`-` for standard input, a pipe, a
//! FIFO), is first written out — inflated when compressed — to an unlinked
//! temporary file under `TMPDIR`, which is mapped instead. Memory stays constant;
//! the disk under `TMPDIR` holds the plain bytes while the command runs, and the
//! file is gone when it ends, however it ends. A compressed stream that is
//! damaged or cut short is an error naming the input, never a shorter input.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;

/// A file's bytes: a read-only mapping, or an empty slice for an empty file
/// (which cannot be mapped).
pub struct MappedFile {
    map: Option<memmap2::Mmap>,
}

/// How an input's bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// As they are.
    Plain,
    /// gzip (RFC 1952), one member or several.
    Gzip,
    /// zstd, one frame or several.
    Zstd,
}

impl Compression {
    /// By the first bytes (fewer when the input is shorter): gzip's magic
    /// `1f 8b`, zstd's frame magic `28 b5 2f fd`, else plain.
    pub fn of(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::Plain
        }
    }
}

/// An input as opened: a regular file, with how its bytes are stored, or a
/// stream that can be read only once (`-` for standard input, a pipe, a
/// FIFO, a character device). Each reader decides what to do with each:
/// [`MappedFile`] maps a plain file and spools the rest; the DBN reader
/// streams a plain or zstd file and spools the rest.
pub enum Source {
    /// A regular file, at its start.
    File(File, Compression),
    /// Read once, as it comes.
    Stream(Box<dyn Read>),
}

impl Source {
    /// Opens `path` (`-`: standard input); a directory is an error.
    pub fn open(path: &Path) -> io::Result<Source> {
        if path == Path::new("-") {
            return Ok(Source::Stream(Box::new(io::stdin().lock())));
        }
        let f = File::open(path)?;
        let meta = f.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory; a file is expected here",
            ));
        }
        if !meta.is_file() {
            return Ok(Source::Stream(Box::new(f)));
        }
        let mut head = [0u8; 4];
        let n = {
            use std::os::unix::fs::FileExt;
            f.read_at(&mut head, 0)?
        };
        Ok(Source::File(f, Compression::of(&head[..n])))
    }
}

impl MappedFile {
    /// Maps `path` read-only; `-` is standard input. A compressed file or a
    /// stream is inflated or copied to an unlinked temporary file first (see
    /// the module docs).
    pub fn open(path: &Path) -> io::Result<Self> {
        match Source::open(path)? {
            Source::File(f, Compression::Plain) => Self::map(&f),
            Source::File(f, _) => Self::spool(f),
            Source::Stream(s) => Self::spool(s),
        }
    }

    /// A read-only private view of `f`.
    fn map(f: &File) -> io::Result<Self> {
        if f.metadata()?.len() == 0 {
            return Ok(MappedFile { map: None });
        }
        // SAFETY: a read-only private view of a file this process only reads. If
        // another process truncated the file while it is mapped, reading past the
        // new end would fault; input files are not written while imported (the
        // same contract as any reader of a file being replaced under it). A
        // spooled input's file is unlinked and only this process holds it.
        let map = unsafe { memmap2::Mmap::map(f)? };
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(MappedFile { map: Some(map) })
    }

    /// Writes `input`'s bytes — inflated, if its first bytes are gzip's or
    /// zstd's magic — to an unlinked temporary file, and maps that: a stream
    /// (a pipe, standard input) read once and then as a file.
    pub fn spool(input: impl Read) -> io::Result<Self> {
        let mut input = io::BufReader::with_capacity(1 << 20, input);
        let head = {
            use std::io::BufRead;
            input.fill_buf()?.to_vec()
        };
        let mut out = io::BufWriter::with_capacity(1 << 20, unlinked_temp()?);
        let copied = match Compression::of(&head) {
            Compression::Plain => io::copy(&mut input, &mut out),
            // Every member of a file of several (`cat a.gz b.gz`, pigz), as gzip -d.
            Compression::Gzip => io::copy(&mut flate2::read::MultiGzDecoder::new(input), &mut out),
            Compression::Zstd => io::copy(&mut zstd::stream::read::Decoder::with_buffer(input)?, &mut out),
        };
        copied.map_err(|e| match Compression::of(&head) {
            Compression::Plain => e,
            c => io::Error::new(
                e.kind(),
                format!(
                    "{}: the compressed data is damaged or cut short ({e})",
                    if c == Compression::Gzip { "gzip" } else { "zstd" }
                ),
            ),
        })?;
        let f = out.into_inner().map_err(|e| e.into_error())?;
        Self::map(&f)
    }
}

/// A new file under `TMPDIR` with no name (`tempfile`: `O_TMPFILE` where the
/// filesystem has it, else created and unlinked at once), its error naming
/// the directory.
fn unlinked_temp() -> io::Result<File> {
    tempfile::tempfile().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "a temporary file under {} for the plain bytes (TMPDIR chooses where): {e}",
                std::env::temp_dir().display()
            ),
        )
    })
}

impl Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read(path: &Path) -> Vec<u8> {
        MappedFile::open(path).unwrap().to_vec()
    }

    #[test]
    fn compressed_files_read_as_their_plain_bytes_and_damage_is_an_error() {
        let dir = std::env::temp_dir().join(format!("foxtrot-mapped-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let plain: Vec<u8> = (0..300_000u32)
            .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
            .collect();
        std::fs::write(dir.join("p"), &plain).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain[..500_000]).unwrap();
        let mut gz = gz.finish().unwrap();
        // A second member, as `cat a.gz b.gz` makes.
        let mut second = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        second.write_all(&plain[500_000..]).unwrap();
        gz.extend(second.finish().unwrap());
        std::fs::write(dir.join("p.gz"), &gz).unwrap();
        // With its checksum, as the zstd tool writes it by default.
        let mut z = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        z.include_checksum(true).unwrap();
        z.write_all(&plain).unwrap();
        let zst = z.finish().unwrap();
        std::fs::write(dir.join("p.zst"), &zst).unwrap();
        assert_eq!(read(&dir.join("p")), plain);
        assert_eq!(read(&dir.join("p.gz")), plain);
        assert_eq!(read(&dir.join("p.zst")), plain);
        // Cut short, or a byte changed: an error, not fewer bytes.
        for (name, bytes) in [("gz", &gz), ("zst", &zst)] {
            let cut = dir.join(format!("cut.{name}"));
            std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
            let e = MappedFile::open(&cut).err().expect("a cut stream is refused");
            assert!(e.to_string().contains("damaged or cut short"), "{name}: {e}");
            let mut flipped = bytes.clone();
            let k = flipped.len() / 2;
            flipped[k] ^= 0x40;
            let bad = dir.join(format!("bad.{name}"));
            std::fs::write(&bad, &flipped).unwrap();
            assert!(MappedFile::open(&bad).is_err(), "{name}: a damaged stream is refused");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
