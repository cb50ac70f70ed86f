//! One segment file, memory-mapped.
//!
//! The writer maps its segment read-write (shared), so stores are visible to
//! readers in other processes as soon as they are made, and survive the writer
//! being killed (they are in the page cache); only `msync` makes them durable
//! against power loss. Readers map segments read-only.

use super::layout::{self, seg, SEGMENT_HEADER, SEGMENT_MAGIC, SEGMENT_VERSION, SEGMENT_VERSION_1};
use crate::ShmError;
use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Page-cache and memory options of a writer's mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapOptions {
    /// Allocate the file's blocks (`posix_fallocate`) and write-touch every page
    /// when a segment is created, so appends take no page fault and no block
    /// allocation (`MAP_POPULATE` alone maps pages read-only: the first write to each
    /// would still fault).
    pub prefault: bool,
    /// Lock the mapping in RAM (`mlock`); may need `CAP_IPC_LOCK` or a raised
    /// `RLIMIT_MEMLOCK`; failure is reported, not fatal.
    pub mlock: bool,
    /// Ask for transparent huge pages (`madvise(MADV_HUGEPAGE)`); advisory.
    pub huge_pages: bool,
}

/// The parsed segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Segment index.
    pub index: u64,
    /// Seq of the first record (0 if none yet).
    pub first_seq: u64,
    /// Creation wall time, ns.
    pub created_ns: u64,
    /// Segment size in bytes.
    pub size: u64,
    /// Seq of the last record written before this segment.
    pub base_seq: u64,
}

/// Checks and parses a segment header from the first bytes of a file: its
/// magic, version and length, its checksum (version 2), its size, and its
/// index against the file's name (when `path` names a segment).
pub fn parse_header(path: &Path, b: &[u8]) -> Result<SegmentHeader, ShmError> {
    let bad = |offset: usize, what: String| ShmError::BadHeader {
        path: path.to_path_buf(),
        offset: offset as u64,
        what,
    };
    if b.len() < SEGMENT_HEADER {
        return Err(bad(
            0,
            format!(
                "file is {} bytes, shorter than the {SEGMENT_HEADER}-byte header",
                b.len()
            ),
        ));
    }
    if &b[..8] != SEGMENT_MAGIC {
        return Err(bad(seg::MAGIC, format!("magic {:?}, expected \"FXJRNL01\"", &b[..8])));
    }
    let v = layout::le_u32(b, seg::VERSION);
    if v != SEGMENT_VERSION && v != SEGMENT_VERSION_1 {
        return Err(bad(
            seg::VERSION,
            format!("version {v}, expected {SEGMENT_VERSION} (or {SEGMENT_VERSION_1})"),
        ));
    }
    let hl = layout::le_u32(b, seg::HEADER_LEN);
    if hl as usize != SEGMENT_HEADER {
        return Err(bad(
            seg::HEADER_LEN,
            format!("header length {hl}, expected {SEGMENT_HEADER}"),
        ));
    }
    // The bytes after the checksum (version 2), after `base_seq` (version 1):
    // written as zeros, so any other value there is damage.
    let zeros_from = if v == SEGMENT_VERSION {
        seg::HEADER_CRC + 4
    } else {
        seg::HEADER_CRC
    };
    if let Some(at) = (zeros_from..SEGMENT_HEADER).find(|&i| b[i] != 0) {
        return Err(bad(
            at,
            format!("byte {at} is {:#04x} where the header has zeros", b[at]),
        ));
    }
    if v == SEGMENT_VERSION {
        let (stored, computed) = (layout::le_u32(b, seg::HEADER_CRC), layout::header_crc(b));
        if stored != computed {
            return Err(bad(
                seg::HEADER_CRC,
                format!("header CRC32C {stored:#010x}, computed {computed:#010x}: the header is damaged"),
            ));
        }
    }
    let size = layout::le_u64(b, seg::SIZE);
    if size < (SEGMENT_HEADER + 2 * layout::RECORD_HEADER) as u64 || size % 8 != 0 {
        return Err(bad(seg::SIZE, format!("segment size {size} is too small or unaligned")));
    }
    let index = layout::le_u64(b, seg::INDEX);
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(layout::parse_segment_name);
    if let Some(named) = named.filter(|&n| n != index) {
        return Err(bad(
            seg::INDEX,
            format!("segment index {index}, but the file is segment {named}"),
        ));
    }
    Ok(SegmentHeader {
        index,
        first_seq: layout::le_u64(b, seg::FIRST_SEQ),
        created_ns: layout::le_u64(b, seg::CREATED_NS),
        size,
        base_seq: layout::le_u64(b, seg::BASE_SEQ),
    })
}

/// The 64 bytes of a version-2 header holding `h`, its checksum over them
/// (the magic included: a writer stores it last).
pub(crate) fn header_image(h: &SegmentHeader) -> [u8; SEGMENT_HEADER] {
    let mut b = [0u8; SEGMENT_HEADER];
    b[..8].copy_from_slice(SEGMENT_MAGIC);
    b[seg::VERSION..seg::VERSION + 4].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
    b[seg::HEADER_LEN..seg::HEADER_LEN + 4].copy_from_slice(&(SEGMENT_HEADER as u32).to_le_bytes());
    for (at, v) in [
        (seg::INDEX, h.index),
        (seg::FIRST_SEQ, h.first_seq),
        (seg::CREATED_NS, h.created_ns),
        (seg::SIZE, h.size),
        (seg::BASE_SEQ, h.base_seq),
    ] {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    let crc = layout::header_crc(&b);
    b[seg::HEADER_CRC..seg::HEADER_CRC + 4].copy_from_slice(&crc.to_le_bytes());
    b
}

/// A file longer than its header says is damage too (segments are made at
/// their size and never grow): the header's size field, not the file, is
/// taken to be wrong.
fn check_not_longer(path: &Path, header: &SegmentHeader, len: u64) -> Result<(), ShmError> {
    if len > header.size {
        return Err(ShmError::BadHeader {
            path: path.to_path_buf(),
            offset: seg::SIZE as u64,
            what: format!("segment size {}, but the file is {len} bytes", header.size),
        });
    }
    Ok(())
}

/// The damage of a header whose `first_seq` (`first`) is not the seq of the
/// segment's first record (`seq`): the field is outside the checksum, so it
/// is checked against the record (by readers and by a writer recovering).
pub(crate) fn first_seq_damaged(path: &Path, first: u64, seq: u64) -> ShmError {
    ShmError::BadHeader {
        path: path.to_path_buf(),
        offset: seg::FIRST_SEQ as u64,
        what: format!("first_seq {first}, but the first record's seq is {seq}: the header is damaged"),
    }
}

/// A writer's mapping of one segment.
pub struct WriteSegment {
    /// The file.
    pub path: PathBuf,
    /// The mapping (the whole file).
    pub map: MmapMut,
    /// Parsed header.
    pub header: SegmentHeader,
    /// The file, kept open to reserve its blocks as the writer reaches them.
    file: File,
    /// Prepared and not yet published: the file has its name but a blank
    /// header, so [`list_segments`](super::writer::list_segments) does not
    /// list it.
    unpublished: bool,
}

impl WriteSegment {
    /// Creates segment `index` of `size` bytes in `dir` and maps it: prepared,
    /// then published. A crash before the header is written leaves a blank
    /// segment, which is not listed and which the next writer removes.
    pub fn create(dir: &Path, index: u64, size: u64, base_seq: u64, opts: MapOptions) -> Result<Self, ShmError> {
        let mut s = Self::prepare(dir, index, size, opts)?;
        s.publish(base_seq);
        Ok(s)
    }

    /// The slow half of creating segment `index`: the file is created under its
    /// final name with a blank header (no magic, no first record), sized,
    /// allocated, mapped and (with `prefault`) every page dirtied. Safe to run on
    /// another thread ahead of time: a blank segment at the end of a journal is
    /// not listed ([`list_segments`](super::writer::list_segments)), so readers
    /// do not see it until [`publish`](Self::publish) writes its header, and a
    /// writer opening the journal after a crash removes it. Refuses to replace an
    /// existing file.
    pub fn prepare(dir: &Path, index: u64, size: u64, opts: MapOptions) -> Result<Self, ShmError> {
        Self::prepare_unless(dir, index, size, opts, &|| false)
    }

    /// [`prepare`](Self::prepare), with the prefault cut short (between two
    /// 1 MiB writes) once `gone()` says nobody will use the segment: a helper
    /// whose writer has been dropped does not spend tens of milliseconds
    /// dirtying pages of a file that is about to be deleted.
    pub(crate) fn prepare_unless(
        dir: &Path,
        index: u64,
        size: u64,
        opts: MapOptions,
        gone: &dyn Fn() -> bool,
    ) -> Result<Self, ShmError> {
        let path = dir.join(layout::segment_name(index));
        // A blank file of that name (a preparation never published, kept by a
        // reopened writer after a segment that ended in its marker) is
        // prepared again in place; any other file is never overwritten.
        let file = match OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && is_blank(&path) => {
                OpenOptions::new().read(true).write(true).truncate(true).open(&path)
            }
            r => r,
        }
        .map_err(ShmError::io(&path, "create segment"))?;
        // A preparation that fails half way (a full disk) leaves no file: the
        // retry would fail on the name ("File exists"), not on the cause.
        Self::prepare_file(path.clone(), file, index, size, opts, gone).inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })
    }

    /// [`prepare_unless`](Self::prepare_unless) once its file is created.
    fn prepare_file(
        path: PathBuf,
        file: File,
        index: u64,
        size: u64,
        opts: MapOptions,
        gone: &dyn Fn() -> bool,
    ) -> Result<Self, ShmError> {
        file.set_len(size).map_err(ShmError::io(&path, "size segment"))?;
        // Blocks before any store (a full disk is then an error here, not a
        // SIGBUS at a store: `crate::reserve`): all of them when every page is
        // dirtied now, else the header's page — the writer reserves the rest a
        // step ahead of its appends (`WriteSegment::reserve`).
        let reserved = if opts.prefault { size } else { size.min(4096) };
        crate::reserve(&file, 0, reserved).map_err(ShmError::io(&path, "allocate segment"))?;
        if opts.prefault && !is_tmpfs(&file) {
            // Bring every page into the page cache with its blocks allocated, by a
            // few large writes (cheaper than letting each fault do it: 12–16 ms
            // against 17–18 ms for 64 MiB on ext4). On tmpfs `fallocate` has already
            // allocated every page, zeroed, so this would zero them twice.
            use std::os::unix::fs::FileExt;
            let zeros = vec![0u8; 1 << 20];
            let mut at = 0u64;
            while at < size && !gone() {
                let n = (size - at).min(zeros.len() as u64) as usize;
                file.write_all_at(&zeros[..n], at)
                    .map_err(ShmError::io(&path, "prefault segment"))?;
                at += n as u64;
            }
        }
        let mut s = Self::map(path, file, opts)?;
        s.header = SegmentHeader {
            index,
            first_seq: 0,
            created_ns: 0,
            size,
            base_seq: 0,
        };
        s.unpublished = true;
        Ok(s)
    }

    /// The fast half: writes the header (with `base_seq`, the last seq before this
    /// segment), its magic last with release ordering, so a reader that sees the
    /// magic sees the whole header. No system call: the file already has its name
    /// and its pages, so a roll costs the appending thread a clock read (the
    /// informational `created_ns`), a CRC32C of 48 bytes and a few stores.
    pub fn publish(&mut self, base_seq: u64) {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let (index, size) = (self.header.index, self.header.size);
        let h = header_image(&SegmentHeader {
            index,
            first_seq: 0,
            created_ns: created,
            size,
            base_seq,
        });
        // Written but for the magic, which goes last.
        self.map[8..SEGMENT_HEADER].copy_from_slice(&h[8..]);
        const _: () = assert!(seg::MAGIC == 0);
        // SAFETY: offset 0 of the page-aligned mapping is 8-aligned and in bounds
        // (the mapping is at least a header long); AtomicU64 has the layout of
        // u64; the mapping lives as long as `self`.
        let magic = unsafe { &*(self.map.as_ptr() as *const AtomicU64) };
        magic.store(u64::from_le_bytes(*SEGMENT_MAGIC), Ordering::Release);
        self.header = SegmentHeader {
            index,
            first_seq: 0,
            created_ns: created,
            size,
            base_seq,
        };
        self.unpublished = false;
    }

    /// Whether this segment was prepared and never published (its file then
    /// holds nothing and is to be removed).
    pub fn is_unpublished(&self) -> bool {
        self.unpublished
    }

    /// Opens an existing segment read-write; a file shorter than its header says
    /// is refused ([`ShmError::Truncated`]).
    pub fn open(path: &Path, opts: MapOptions) -> Result<Self, ShmError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(ShmError::io(path, "open segment"))?;
        let len = file.metadata().map_err(ShmError::io(path, "stat segment"))?.len();
        let mut head = [0u8; SEGMENT_HEADER];
        if len >= SEGMENT_HEADER as u64 {
            use std::os::unix::fs::FileExt;
            file.read_exact_at(&mut head, 0)
                .map_err(ShmError::io(path, "read segment header"))?;
        }
        let header = parse_header(path, &head[..(len as usize).min(SEGMENT_HEADER)])?;
        check_not_longer(path, &header, len)?;
        // Segments are created at full size: a shorter one lost its end, which a
        // writer must not paper over (`foxtrot journal repair` keeps what is left).
        if len < header.size {
            return Err(ShmError::Truncated {
                segment: header.index,
                path: path.to_path_buf(),
                len,
                size: header.size,
            });
        }
        if opts.prefault {
            // Every page is dirtied when it is mapped: a segment another writer
            // left sparse (an import's) gets its blocks first.
            crate::reserve(&file, 0, len).map_err(ShmError::io(path, "allocate segment"))?;
        }
        let mut s = Self::map(path.to_path_buf(), file, opts)?;
        s.header = header;
        Ok(s)
    }

    fn map(path: PathBuf, file: File, opts: MapOptions) -> Result<Self, ShmError> {
        // No `MAP_POPULATE`: it maps pages read-only (the first store still faults)
        // and, measured on ext4 with `foxtrot-perf journal-append`, made preparing a
        // 64 MiB segment 6–15× slower (90–225 ms instead of 12–16 ms) once dirty pages
        // were being written back.
        let mo = MmapOptions::new();
        // SAFETY: the file is ours (created or opened read-write by this writer); other
        // processes only read it, through their own shared mappings, and every
        // cross-process access to a record goes through the `len` commit word with
        // acquire/release ordering.
        let mut map = unsafe { mo.map_mut(&file) }.map_err(ShmError::io(&path, "mmap segment"))?;
        if opts.huge_pages {
            let _ = map.advise(memmap2::Advice::HugePage);
        }
        if opts.prefault {
            // The first store through a shared mapping takes a write-protect fault per
            // page (dirty tracking), page cache or not: take them all here, through
            // this very mapping, so the appending thread takes none. One
            // `MADV_POPULATE_WRITE` (Linux ≥ 5.14) does it without 16k separate
            // faults; older kernels get the page-by-page touch (a store of the byte
            // already there, so an opened segment's data is unchanged).
            if map.advise(memmap2::Advice::PopulateWrite).is_err() {
                for page in map.chunks_mut(4096) {
                    // SAFETY: an in-bounds byte of our live read-write mapping; a
                    // volatile read-modify-write of the same value only dirties the page.
                    unsafe {
                        let p = page.as_mut_ptr();
                        p.write_volatile(p.read_volatile());
                    }
                }
            }
        }
        if opts.mlock {
            // SAFETY: the pointer and length describe our live mapping.
            let rc = unsafe { libc::mlock(map.as_ptr().cast(), map.len()) };
            if rc != 0 {
                return Err(ShmError::io(&path, "mlock segment")(std::io::Error::last_os_error()));
            }
        }
        let header = SegmentHeader {
            index: 0,
            first_seq: 0,
            created_ns: 0,
            size: map.len() as u64,
            base_seq: 0,
        };
        Ok(WriteSegment {
            path,
            map,
            header,
            file,
            unpublished: false,
        })
    }

    /// Reserves the blocks of bytes `from..from + len` (see [`crate::reserve()`]):
    /// a full filesystem is an error here, before a store into them would
    /// have been a `SIGBUS`.
    pub fn reserve(&self, from: usize, len: usize) -> Result<(), ShmError> {
        crate::reserve(&self.file, from as u64, len as u64).map_err(ShmError::io(&self.path, "allocate segment"))
    }

    /// Records the first seq in the header (on the segment's first append).
    pub fn set_first_seq(&mut self, seq: u64) {
        self.header.first_seq = seq;
        self.map[seg::FIRST_SEQ..seg::FIRST_SEQ + 8].copy_from_slice(&seq.to_le_bytes());
    }

    /// Publishes a record's `len` at `offset` with release ordering: the commit point.
    #[inline]
    pub fn publish_len_release(&self, offset: usize, len: u32) {
        debug_assert!(offset % 8 == 0 && offset + 4 <= self.map.len());
        // SAFETY: `offset` is 8-aligned inside the page-aligned mapping, so the u32 is
        // aligned and in bounds; AtomicU32 has the layout of u32; the mapping lives as
        // long as `self`.
        let a = unsafe { &*(self.map.as_ptr().add(offset) as *const AtomicU32) };
        a.store(len, Ordering::Release);
    }
}

/// Whether the segment file at `path` is blank: prepared ahead and never
/// published — no magic and no first record (or shorter than that, a crash
/// between creating and sizing it). A file with a record but no magic is not
/// blank: it is damage, for the header check to report. A file that vanished
/// since it was listed (a writer removing the blanks of one that died) counts
/// as blank: it is no segment.
pub fn is_blank(path: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) => return e.kind() == std::io::ErrorKind::NotFound,
    };
    let mut magic = [0u8; 8];
    let mut first_len = [0u8; 4];
    let m = f.read_at(&mut magic, 0).unwrap_or(0);
    let r = f.read_at(&mut first_len, SEGMENT_HEADER as u64).unwrap_or(0);
    magic[..m] == [0u8; 8][..m] && first_len[..r] == [0u8; 4][..r]
}

/// Whether `file` lives on tmpfs (`/dev/shm`), whose `fallocate` allocates pages.
fn is_tmpfs(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: a valid descriptor and a pointer to writable storage of the right type.
    let rc = unsafe { libc::fstatfs(file.as_raw_fd(), st.as_mut_ptr()) };
    // SAFETY: zero-initialised, and filled in by the kernel when rc == 0.
    rc == 0 && unsafe { st.assume_init() }.f_type == libc::TMPFS_MAGIC
}

/// A reader's read-only mapping of one segment.
pub struct ReadSegment {
    /// The file.
    pub path: PathBuf,
    /// The mapping.
    pub map: Mmap,
    /// Parsed header.
    pub header: SegmentHeader,
    /// The file's length when mapped (shorter than `header.size`: truncated).
    pub file_len: u64,
}

impl ReadSegment {
    /// The damage of a file shorter than its header says, if it is.
    pub fn truncated(&self) -> Option<ShmError> {
        (self.file_len < self.header.size).then(|| ShmError::Truncated {
            segment: self.header.index,
            path: self.path.clone(),
            len: self.file_len,
            size: self.header.size,
        })
    }

    /// Maps a segment read-only and checks its header. The mapping covers the file
    /// as it is now (a truncated file maps short; the reader bounds every access).
    pub fn open(path: &Path) -> Result<Self, ShmError> {
        let file = File::open(path).map_err(ShmError::io(path, "open segment"))?;
        let len = file.metadata().map_err(ShmError::io(path, "stat segment"))?.len();
        if len < SEGMENT_HEADER as u64 {
            return Err(ShmError::BadHeader {
                path: path.to_path_buf(),
                offset: 0,
                what: format!("file is {len} bytes, shorter than the {SEGMENT_HEADER}-byte header"),
            });
        }
        // SAFETY: a read-only shared mapping; the writer (if live) only appends past
        // the commit word we read with acquire ordering, and never truncates.
        let map = unsafe { Mmap::map(&file) }.map_err(ShmError::io(path, "mmap segment"))?;
        let _ = map.advise(memmap2::Advice::Sequential);
        let header = parse_header(path, &map)?;
        check_not_longer(path, &header, len)?;
        Ok(ReadSegment {
            path: path.to_path_buf(),
            map,
            header,
            file_len: len,
        })
    }

    /// Loads a record's `len` at `offset` with acquire ordering (0 past the mapping).
    #[inline]
    pub fn len_acquire(&self, offset: usize) -> u32 {
        if offset % 8 != 0 || offset + 4 > self.map.len() {
            return 0;
        }
        // SAFETY: aligned and in bounds (checked above) in a live mapping; AtomicU32 has
        // the layout of u32.
        let a = unsafe { &*(self.map.as_ptr().add(offset) as *const AtomicU32) };
        a.load(Ordering::Acquire)
    }
}

/// The segment-publication protocol of [`WriteSegment::publish`], as a model:
/// the header's fields are stored, then the magic with release ordering; a
/// reader that loads the magic with acquire ordering and finds it set reads the
/// published fields, never the blank ones. (Readers in other processes read
/// the header through the page cache after listing; the order is the same.)
#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::atomic::{AtomicU64, Ordering};
    use loom::sync::Arc;

    #[test]
    fn loom_a_published_header_is_seen_whole() {
        loom::model(|| {
            // [magic, index, base_seq]
            let h: Arc<[AtomicU64; 3]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
            let w = h.clone();
            let writer = loom::thread::spawn(move || {
                w[1].store(7, Ordering::Relaxed);
                w[2].store(4_242, Ordering::Relaxed);
                w[0].store(u64::from_le_bytes(*super::SEGMENT_MAGIC), Ordering::Release);
            });
            if h[0].load(Ordering::Acquire) == u64::from_le_bytes(*super::SEGMENT_MAGIC) {
                assert_eq!(h[1].load(Ordering::Relaxed), 7);
                assert_eq!(h[2].load(Ordering::Relaxed), 4_242);
            }
            writer.join().unwrap();
        });
    }
}
