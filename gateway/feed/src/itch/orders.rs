//! The live-order map: ITCH order reference → what the book needs to know about
//! the order (instrument, side, price, shares left).
//!
//! Open addressing with linear probing in one pre-sized power-of-two table: a
//! lookup is a few shifts and (almost always) one cache line. The table is
//! sized once, for the session's peak of live orders, and never rehashed: an
//! insert that would push the load past 7/8 is refused ([`Error::OrderMapFull`]),
//! a data-quality event rather than a pause. Deletion shifts later entries of the
//! same probe run back (no tombstones), so probe lengths stay as short after a
//! day of churn as at the open. The hash is fixed (see `home`): iteration order is
//! never observed, and nothing depends on a random seed.

use crate::Error;

/// One live order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct LiveOrder {
    /// ITCH order reference.
    pub order_ref: u64,
    /// Engine instrument index.
    pub instrument: u32,
    /// Limit price, `Price(4)`.
    pub price: u32,
    /// Shares still resting.
    pub shares: u32,
    /// `B` or `S`.
    pub side: u8,
    used: u8,
    _pad: [u8; 2],
}
const _: () = assert!(size_of::<LiveOrder>() == 24);

/// See the module docs.
pub struct OrderMap {
    slots: Vec<LiveOrder>,
    bits: u32,
    mask: usize,
    len: usize,
    limit: usize,
}

impl OrderMap {
    /// A map for up to `max_live` orders (the table gets the next power of two at
    /// or above `max_live · 8/7`).
    pub fn with_capacity(max_live: usize) -> Self {
        let cap = (max_live.clamp(8, 1 << 30) * 8 / 7 + 1).next_power_of_two();
        OrderMap {
            slots: vec![LiveOrder::default(); cap],
            bits: cap.trailing_zeros(),
            mask: cap - 1,
            len: 0,
            limit: cap / 8 * 7,
        }
    }

    /// Live orders.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no order is live.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most live orders this map accepts.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The home slot: the reference's low bits, with the higher bits folded in.
    /// Exchanges number orders upwards through the day, so consecutive live
    /// orders land in consecutive slots: the young orders most messages refer to
    /// share cache lines, where a scrambling hash would make every lookup a miss
    /// (measured with `cargo bench --bench itch`: `itch/decode_book` went from
    /// 8.0M to 18.1M messages/s). The fold
    /// keeps references that differ only above the table size apart.
    #[inline]
    fn home(&self, order_ref: u64) -> usize {
        ((order_ref ^ (order_ref >> self.bits) ^ (order_ref >> (2 * self.bits))) as usize) & self.mask
    }

    #[inline]
    fn find(&self, order_ref: u64) -> Option<usize> {
        let mut i = self.home(order_ref);
        loop {
            let s = &self.slots[i];
            if s.used == 0 {
                return None;
            }
            if s.order_ref == order_ref {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The live order `order_ref`.
    #[inline]
    pub fn get(&self, order_ref: u64) -> Option<&LiveOrder> {
        self.find(order_ref).map(|i| &self.slots[i])
    }

    /// The live order `order_ref`, mutably (to reduce its shares).
    #[inline]
    pub fn get_mut(&mut self, order_ref: u64) -> Option<&mut LiveOrder> {
        self.find(order_ref).map(|i| &mut self.slots[i])
    }

    /// Adds a live order.
    #[inline]
    pub fn insert(&mut self, order_ref: u64, instrument: u32, side: u8, price: u32, shares: u32) -> Result<(), Error> {
        if self.len >= self.limit {
            return Err(Error::OrderMapFull(self.len));
        }
        let mut i = self.home(order_ref);
        loop {
            let s = &mut self.slots[i];
            if s.used == 0 {
                *s = LiveOrder {
                    order_ref,
                    instrument,
                    price,
                    shares,
                    side,
                    used: 1,
                    _pad: [0; 2],
                };
                self.len += 1;
                return Ok(());
            }
            if s.order_ref == order_ref {
                return Err(Error::DuplicateOrder(order_ref));
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Removes and returns the live order `order_ref`.
    #[inline]
    pub fn remove(&mut self, order_ref: u64) -> Option<LiveOrder> {
        let mut hole = self.find(order_ref)?;
        let gone = self.slots[hole];
        self.len -= 1;
        // Backward-shift deletion: move each later entry of the run into the hole
        // if its home is not between the hole and its slot (cyclically).
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let s = self.slots[j];
            if s.used == 0 {
                break;
            }
            let h = self.home(s.order_ref);
            let between = if hole <= j {
                hole < h && h <= j
            } else {
                hole < h || h <= j
            };
            if !between {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = LiveOrder::default();
        Some(gone)
    }

    /// The live orders, in no meaningful order (the table's): sort them before
    /// anything depends on it.
    pub fn iter(&self) -> impl Iterator<Item = &LiveOrder> {
        self.slots.iter().filter(|s| s.used != 0)
    }

    /// Forgets every order (start of a new day); keeps the table.
    pub fn clear(&mut self) {
        self.slots.fill(LiveOrder::default());
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of inserts and removes leaves the map agreeing with a
        /// BTreeMap model, including after backward-shift deletions in long runs.
        #[test]
        fn agrees_with_a_model(ops in prop::collection::vec((any::<bool>(), 0u64..64, any::<u32>()), 1..400)) {
            let mut m = OrderMap::with_capacity(40);
            let mut model = BTreeMap::new();
            for (ins, r, v) in ops {
                // Refs that collide a lot: multiples of a power of two.
                let r = r << 20;
                if ins {
                    let got = m.insert(r, 1, b'B', v, v);
                    if model.contains_key(&r) {
                        prop_assert_eq!(got, Err(Error::DuplicateOrder(r)));
                    } else if model.len() >= m.limit() {
                        prop_assert!(matches!(got, Err(Error::OrderMapFull(_))));
                    } else {
                        prop_assert_eq!(got, Ok(()));
                        model.insert(r, v);
                    }
                } else {
                    prop_assert_eq!(m.remove(r).map(|o| o.price), model.remove(&r));
                }
                prop_assert_eq!(m.len(), model.len());
            }
            for (r, v) in &model {
                prop_assert_eq!(m.get(*r).map(|o| o.shares), Some(*v));
            }
        }
    }

    #[test]
    fn refuses_past_its_limit_and_never_grows() {
        let mut m = OrderMap::with_capacity(100);
        let cap = m.slots.len();
        let mut n = 0u64;
        while m.insert(n + 1, 0, b'S', 1, 1).is_ok() {
            n += 1;
        }
        assert_eq!(n as usize, m.limit());
        assert!(m.limit() >= 100);
        assert_eq!(m.slots.len(), cap);
        assert_eq!(m.insert(n + 1, 0, b'S', 1, 1), Err(Error::OrderMapFull(m.limit())));
        assert!(m.remove(1).is_some());
        assert!(m.insert(n + 1, 0, b'S', 1, 1).is_ok());
    }
}
