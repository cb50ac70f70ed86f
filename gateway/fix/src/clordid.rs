//! Counterparties' ClOrdIDs (any FIX string) ↔ foxtrot's internal order ids
//! (`u64`), without allocating per order.
//!
//! Every ClOrdID seen is copied once into one preallocated byte arena and given
//! the next id (`base + n`); an open-addressing table (FNV-1a hash, linear
//! probing, sized once to twice the capacity) finds an id by its text, and an id
//! finds its text by index. Lookups and inserts allocate nothing until the
//! arena or the table is full, which is an error the caller reports (a reject),
//! never a pause. Nothing iterates the table, so hashing decides no order.
//!
//! The table's pages are written when the map is made: a hash lands on an
//! untouched page of a lazily mapped allocation nearly every time, and each
//! such first touch is a page fault (two: the read maps the zero page, the
//! write copies it) — measured at ~2 per order in a running venue, tens of µs
//! on a virtual machine.

/// Why a ClOrdID could not be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClOrdIdError {
    /// Empty, longer than the configured maximum, or holding SOH.
    Invalid,
    /// The map holds its capacity of ids (or its arena of text is full).
    Full,
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct ClOrdIds {
    base: u64,
    max_len: usize,
    arena: Vec<u8>,
    /// (start, len) of each id's text in `arena`, by `id - base`.
    texts: Vec<(u32, u16)>,
    /// `1 + (id - base)` per slot (0: empty).
    table: Vec<u32>,
    capacity: usize,
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
        (h ^ c as u64).wrapping_mul(0x100_0000_01b3)
    })
}

impl ClOrdIds {
    /// A map for up to `capacity` ClOrdIDs of at most `max_len` bytes, giving
    /// ids from `base` up.
    pub fn new(base: u64, capacity: usize, max_len: usize) -> Self {
        let slots = (capacity * 2).next_power_of_two().max(16);
        // Zeroed lazily by the allocator; `black_box` keeps the compiler from
        // dropping the fill that makes every page resident now.
        let mut table = std::hint::black_box(vec![0u32; slots]);
        table.fill(0);
        ClOrdIds {
            base,
            max_len,
            arena: Vec::with_capacity(capacity * max_len.min(32)),
            texts: Vec::with_capacity(capacity),
            table,
            capacity,
        }
    }

    /// The id of `text`, if it was seen.
    pub fn get(&self, text: &[u8]) -> Option<u64> {
        let mask = self.table.len() - 1;
        let mut i = fnv(text) as usize & mask;
        loop {
            let e = self.table[i];
            if e == 0 {
                return None;
            }
            if self.text_at(e - 1) == text {
                return Some(self.base + (e - 1) as u64);
            }
            i = (i + 1) & mask;
        }
    }

    fn text_at(&self, n: u32) -> &[u8] {
        let (s, l) = self.texts[n as usize];
        &self.arena[s as usize..s as usize + l as usize]
    }

    /// The id of `text`, given a new one if it was not seen; `(id, new)`.
    pub fn intern(&mut self, text: &[u8]) -> Result<(u64, bool), ClOrdIdError> {
        if text.is_empty() || text.len() > self.max_len || text.contains(&0x01) {
            return Err(ClOrdIdError::Invalid);
        }
        let mask = self.table.len() - 1;
        let mut i = fnv(text) as usize & mask;
        loop {
            let e = self.table[i];
            if e == 0 {
                break;
            }
            if self.text_at(e - 1) == text {
                return Ok((self.base + (e - 1) as u64, false));
            }
            i = (i + 1) & mask;
        }
        if self.texts.len() >= self.capacity || self.arena.len() + text.len() > self.arena.capacity() {
            return Err(ClOrdIdError::Full);
        }
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(text);
        self.texts.push((start, text.len() as u16));
        let n = self.texts.len() as u32;
        self.table[i] = n;
        Ok((self.base + (n - 1) as u64, true))
    }

    /// The text of `id`, if this map gave it.
    pub fn text(&self, id: u64) -> Option<&[u8]> {
        let n = id.checked_sub(self.base)?;
        (n < self.texts.len() as u64).then(|| self.text_at(n as u32))
    }

    /// Whether `id` is one of this map's.
    pub fn owns(&self, id: u64) -> bool {
        self.text(id).is_some()
    }

    /// Forgets every ClOrdID (ids start from `base` again).
    pub fn clear(&mut self) {
        self.arena.clear();
        self.texts.clear();
        self.table.iter_mut().for_each(|e| *e = 0);
    }

    /// How many ClOrdIDs it holds.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_ids_map_both_ways() {
        let mut m = ClOrdIds::new(1 << 40, 4, 16);
        let (a, new) = m.intern(b"C1796222536-1").unwrap();
        assert!(new && a == 1 << 40);
        assert_eq!(m.intern(b"C1796222536-1"), Ok((a, false)));
        let (b, _) = m.intern(b"C1796222536-1-X").unwrap();
        assert_eq!(b, a + 1);
        assert_eq!(m.text(b), Some(&b"C1796222536-1-X"[..]));
        assert_eq!(m.get(b"ID"), None);
        assert_eq!(m.intern(b""), Err(ClOrdIdError::Invalid));
        assert_eq!(m.intern(&[b'x'; 17]), Err(ClOrdIdError::Invalid));
        m.intern(b"c").unwrap();
        m.intern(b"d").unwrap();
        assert_eq!(m.intern(b"e"), Err(ClOrdIdError::Full));
        assert_eq!(m.text(a - 1), None);
    }

    #[test]
    fn interning_allocates_nothing_within_capacity() {
        let mut m = ClOrdIds::new(0, 10_000, 24);
        let before = (m.arena.capacity(), m.texts.capacity(), m.table.len());
        for i in 0..10_000 {
            m.intern(format!("ORD-{i:08}").as_bytes()).unwrap();
        }
        assert_eq!((m.arena.capacity(), m.texts.capacity(), m.table.len()), before);
        assert_eq!(m.get(b"ORD-00004242"), Some(4242));
    }

    /// Minor page faults of this thread so far.
    fn minor_faults() -> i64 {
        // SAFETY: getrusage fills the struct it is given; zeroed is a valid rusage.
        unsafe {
            let mut u: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_THREAD, &mut u);
            u.ru_minflt
        }
    }

    /// Lookups and inserts scatter over the table: none may be the first touch
    /// of a page. 20,000 ids over a venue-sized map (2M slots, 8 MiB) would
    /// touch nearly all of its 2,048 pages; what faults now is the arena and
    /// the text index, written in order (~60 pages).
    #[test]
    fn lookups_and_inserts_do_not_fault_table_pages() {
        let mut m = ClOrdIds::new(0, 1 << 20, 24);
        let names: Vec<String> = (0..20_000).map(|i| format!("{i:012}")).collect();
        let before = minor_faults();
        for n in &names {
            assert_eq!(m.get(n.as_bytes()), None);
            m.intern(n.as_bytes()).unwrap();
        }
        let faults = minor_faults() - before;
        assert!(faults < 300, "{faults} page faults for 20,000 new ClOrdIDs");
    }
}
