//! The trades a FIX link has given the core, by their venue key, so that a
//! trade correction — which names the fill it corrects by ExecRefID alone —
//! can be booked as the bust of that trade and the corrected one.
//!
//! A trade's key is [`exec_key`](foxtrot_engine::records::exec_key) of its
//! ExecID, which every fill, bust and corrected trade the link journals
//! carries ([`ExecReport::exec_key`]): a restarted link rebuilds the ledger
//! from the replay of the run's inputs, as it saw them live. It holds the
//! last [`CAPACITY`] trades (a correction of an older one is counted and
//! warned, not applied); nothing allocates once it is full.

use foxtrot_engine::records::{ExecKind, ExecReport};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Trades remembered.
pub const CAPACITY: usize = 65_536;

/// A trade as the core booked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// The order's ClOrdID (core id).
    pub cl_ord_id: u64,
    /// Instrument.
    pub instrument: u32,
    /// The order's side code.
    pub side: u8,
    /// Quantity.
    pub qty: i64,
    /// Price.
    pub px: i64,
    /// Liquidity flags (`LIQUIDITY_*`).
    pub flags: u8,
}

impl Trade {
    fn of(e: &ExecReport) -> Self {
        Trade {
            cl_ord_id: e.cl_ord_id,
            instrument: e.header.instrument,
            side: e.header.side,
            qty: e.last_qty,
            px: e.last_px,
            flags: e.header.flags,
        }
    }
}

/// Keys are already hashes: their bytes are the hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
}

type Key = [u8; 5];

/// See the module docs.
pub struct FillLedger {
    by_key: HashMap<Key, Trade, BuildHasherDefault<KeyHasher>>,
    /// Keys in the order they came, the oldest given up first.
    order: VecDeque<Key>,
    /// The key of the bust just given, which the corrected trade that
    /// follows it replaces.
    busted: Option<Key>,
}

impl Default for FillLedger {
    fn default() -> Self {
        FillLedger {
            by_key: HashMap::with_capacity_and_hasher(CAPACITY, Default::default()),
            order: VecDeque::with_capacity(CAPACITY),
            busted: None,
        }
    }
}

impl FillLedger {
    /// Report `e` (core ids) was given to the core, live or replayed. A fill
    /// is remembered under its key; a corrected trade under its own and
    /// under that of the trade the bust before it took back (a later
    /// correction may name either).
    pub fn note(&mut self, e: &ExecReport) {
        let kind = e.kind();
        let key = e.exec_key;
        let busted = self.busted.take();
        if key == [0; 5] {
            return;
        }
        match kind {
            Some(k) if k.is_fill() => self.insert(key, Trade::of(e)),
            Some(ExecKind::TradeBust) => self.busted = Some(key),
            Some(ExecKind::TradeCorrected) => {
                let t = Trade::of(e);
                if let Some(b) = busted {
                    if let Some(old) = self.by_key.get_mut(&b) {
                        *old = t;
                    }
                }
                self.insert(key, t);
            }
            _ => {}
        }
    }

    /// The trade under `key`, if remembered.
    pub fn get(&self, key: Key) -> Option<Trade> {
        self.by_key.get(&key).copied()
    }

    /// Trades remembered.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn insert(&mut self, key: Key, t: Trade) {
        if let Some(old) = self.by_key.get_mut(&key) {
            *old = t;
            return;
        }
        if self.order.len() >= CAPACITY {
            if let Some(k) = self.order.pop_front() {
                self.by_key.remove(&k);
            }
        }
        self.order.push_back(key);
        self.by_key.insert(key, t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_engine::records::{exec_key, Side};

    fn report(kind: ExecKind, cl: u64, qty: i64, px: i64, id: &[u8]) -> ExecReport {
        let mut e = ExecReport::new(kind, 2, Side::Sell, 5);
        e.cl_ord_id = cl;
        e.last_qty = qty;
        e.last_px = px;
        e.exec_key = exec_key(id);
        e
    }

    #[test]
    fn a_correction_replaces_the_trade_under_both_keys() {
        let mut l = FillLedger::default();
        l.note(&report(ExecKind::Fill, 7, 100, 50, b"E1"));
        assert_eq!(
            l.get(exec_key(b"E1")).map(|t| (t.cl_ord_id, t.qty, t.px)),
            Some((7, 100, 50))
        );
        // As the link journals a correction: the bust of E1, then the trade as corrected (E2).
        l.note(&report(ExecKind::TradeBust, 7, 100, 50, b"E1"));
        l.note(&report(ExecKind::TradeCorrected, 7, 60, 51, b"E2"));
        for id in [&b"E1"[..], b"E2"] {
            assert_eq!(l.get(exec_key(id)).map(|t| (t.qty, t.px)), Some((60, 51)));
        }
        // A report between a bust and a trade breaks the pairing.
        l.note(&report(ExecKind::TradeBust, 7, 60, 51, b"E2"));
        l.note(&report(ExecKind::New, 8, 0, 0, b"E3"));
        l.note(&report(ExecKind::TradeCorrected, 7, 10, 52, b"E4"));
        assert_eq!(l.get(exec_key(b"E2")).map(|t| t.qty), Some(60));
        assert_eq!(l.get(exec_key(b"E9")), None);
    }

    #[test]
    fn the_oldest_trade_goes_when_it_is_full_and_nothing_grows() {
        let mut l = FillLedger::default();
        let id = |n: usize| n.to_string().into_bytes();
        for n in 0..CAPACITY + 10 {
            l.note(&report(ExecKind::PartialFill, n as u64, 1, 1, &id(n)));
        }
        assert_eq!(l.len(), CAPACITY);
        assert_eq!(l.get(exec_key(&id(9))), None);
        assert_eq!(l.get(exec_key(&id(10))).map(|t| t.cl_ord_id), Some(10));
        assert!(l.order.capacity() <= 2 * CAPACITY);
    }
}
