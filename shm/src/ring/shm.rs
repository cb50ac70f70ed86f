//! The ring in a shared-memory file: one process produces, another consumes, with
//! no syscall per record on either side (the file is mapped once, then it is all
//! loads and stores).

use super::core::{self, AtomicU64, Geometry, ProducerState};
use super::layout::{self, CONSUMER_POS, MAGIC, VERSION};
use crate::ShmError;
use memmap2::{MmapMut, MmapOptions};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// A mapped ring file.
pub struct ShmRing {
    map: MmapMut,
    geometry: Geometry,
    path: PathBuf,
}

impl ShmRing {
    /// Creates (or replaces) a ring file of `capacity` slots (a power of two) of
    /// `slot_words` words each (commit word included). Put it on a tmpfs
    /// (`/dev/shm`) for no disk write-back at all.
    pub fn create(path: &Path, capacity: u64, slot_words: usize) -> Result<Self, ShmError> {
        if !capacity.is_power_of_two() || !(2..=4096).contains(&slot_words) {
            return Err(ShmError::Config(format!(
                "ring capacity {capacity} must be a power of two; slot_words {slot_words} in 2..=4096"
            )));
        }
        let bytes = layout::total_words(capacity, slot_words) * 8;
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(ShmError::io(path, "create ring"))?;
        f.set_len(bytes as u64).map_err(ShmError::io(path, "size ring"))?;
        // Its pages before any store (a full /dev/shm is then this error, not a
        // SIGBUS at the first write: `crate::reserve`).
        crate::reserve(&f, 0, bytes as u64).map_err(ShmError::io(path, "allocate ring"))?;
        // SAFETY: a shared mapping of a file we just created; every cross-process
        // access goes through the atomic protocol in `ring::core`.
        let mut map = unsafe { MmapOptions::new().populate().map_mut(&f) }.map_err(ShmError::io(path, "mmap ring"))?;
        map[..8].copy_from_slice(MAGIC);
        map[8..12].copy_from_slice(&VERSION.to_le_bytes());
        map[12..16].copy_from_slice(&(slot_words as u32).to_le_bytes());
        map[16..24].copy_from_slice(&capacity.to_le_bytes());
        Ok(ShmRing {
            map,
            geometry: Geometry { capacity, slot_words },
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing ring file and checks its header.
    pub fn open(path: &Path) -> Result<Self, ShmError> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(ShmError::io(path, "open ring"))?;
        // SAFETY: as in `create`; the header is checked before any slot is touched.
        let map = unsafe { MmapOptions::new().populate().map_mut(&f) }.map_err(ShmError::io(path, "mmap ring"))?;
        let bad = |offset: u64, what: String| ShmError::BadHeader {
            path: path.to_path_buf(),
            offset,
            what,
        };
        if map.len() < layout::SLOTS * 8 || &map[..8] != MAGIC {
            return Err(bad(0, "not a foxtrot ring (magic \"FXRING01\")".into()));
        }
        let v = u32::from_le_bytes(map[8..12].try_into().expect("4 bytes"));
        if v != VERSION {
            return Err(bad(8, format!("version {v}, expected {VERSION}")));
        }
        let slot_words = u32::from_le_bytes(map[12..16].try_into().expect("4 bytes")) as usize;
        let capacity = u64::from_le_bytes(map[16..24].try_into().expect("8 bytes"));
        if !capacity.is_power_of_two() || slot_words < 2 || map.len() != layout::total_words(capacity, slot_words) * 8 {
            return Err(bad(
                12,
                format!(
                    "capacity {capacity} × {slot_words} words does not match a {}-byte file",
                    map.len()
                ),
            ));
        }
        Ok(ShmRing {
            map,
            geometry: Geometry { capacity, slot_words },
            path: path.to_path_buf(),
        })
    }

    /// Geometry.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[inline]
    fn words(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is page-aligned, a whole number of 8-byte words long
        // (checked at open/create), lives as long as `self`, and AtomicU64 has the
        // size and alignment of u64; all shared access is atomic.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().cast::<AtomicU64>(), self.map.len() / 8) }
    }

    /// Becomes the producer, resuming after the last committed record (the
    /// published position is only where the search starts; see the layout).
    pub fn producer(self) -> ShmProducer {
        let w = self.words();
        let st = ProducerState {
            pos: core::resume_position(w, self.geometry()),
            cached_consumer: w[CONSUMER_POS].load(core::Ordering::Acquire),
        };
        ShmProducer { ring: self, st }
    }

    /// Becomes the consumer, resuming at the published consumer position.
    pub fn consumer(self) -> ShmConsumer {
        let pos = self.words()[CONSUMER_POS].load(core::Ordering::Acquire);
        ShmConsumer { ring: self, pos }
    }
}

/// The producing end.
pub struct ShmProducer {
    ring: ShmRing,
    st: ProducerState,
}

impl ShmProducer {
    /// Writes one record of `payload_words` words; false when the ring is full.
    #[inline]
    pub fn try_push(&mut self, payload: &[u64]) -> bool {
        core::try_push(self.ring.words(), self.ring.geometry, &mut self.st, payload)
    }

    /// Records pushed since the ring was created.
    pub fn position(&self) -> u64 {
        self.st.pos
    }

    /// The ring's geometry.
    pub fn geometry(&self) -> Geometry {
        self.ring.geometry
    }
}

/// The consuming end.
pub struct ShmConsumer {
    ring: ShmRing,
    pos: u64,
}

impl ShmConsumer {
    /// Reads every committed record (up to `max`), each as its payload words, then
    /// releases their slots at once. Returns how many were read.
    #[inline]
    pub fn pop_batch(&mut self, max: usize, mut f: impl FnMut(&[u64])) -> usize {
        let g = self.ring.geometry;
        let mut buf = [0u64; 64];
        let n = g.payload_words().min(64);
        core::pop_batch(self.ring.words(), g, &mut self.pos, max, |p| {
            for (b, w) in buf[..n].iter_mut().zip(p) {
                *b = w.load(core::Ordering::Relaxed);
            }
            f(&buf[..n]);
        })
    }

    /// Records consumed since the ring was created.
    pub fn position(&self) -> u64 {
        self.pos
    }
}
