//! The single-producer, single-consumer rings an AF_XDP socket shares with the
//! kernel: fill and TX (this process produces), RX and completion (the kernel
//! produces). Each is a power-of-two array of descriptors with a free-running
//! 32-bit producer index, a consumer index and a flags word, all in memory the
//! kernel maps into the process.
//!
//! ## The protocol (as `xsk_queue.h` documents it for the kernel's side)
//! - A producer reads the consumer index with **acquire** (the consumer is done
//!   with the slots it released), writes descriptors, then publishes them by
//!   storing the producer index with **release**.
//! - A consumer reads the producer index with **acquire** (the descriptors before
//!   it are written), reads descriptors, then hands the slots back by storing
//!   the consumer index with **release**.
//! - Each side caches the other's index and re-reads it only when the cache says
//!   the ring is full (producer) or empty (consumer): one shared-line read per
//!   batch, not per descriptor.
//!
//! The `loom` models below run both sides of this protocol (this module's
//! producer against its consumer, as user space and the kernel pair up in each
//! direction) through every interleaving of a ring smaller than the traffic.

#[cfg(loom)]
use loom::sync::atomic::{AtomicU32, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU32, Ordering};

/// `XDP_RING_NEED_WAKEUP`: the kernel asks to be woken (a `sendto`/`poll`) to
/// make progress on this ring.
pub const NEED_WAKEUP: u32 = 1;

/// Where a ring's descriptors live.
pub trait Slots<T: Copy> {
    /// Writes slot `i` (already masked).
    ///
    /// # Safety
    /// `i` is below the ring's size, and the protocol gives the slot to the
    /// caller (reserved by the producer, not yet published).
    unsafe fn write(&self, i: u32, v: T);
    /// Reads slot `i` (already masked).
    ///
    /// # Safety
    /// `i` is below the ring's size, and the protocol gives the slot to the
    /// caller (published by the producer, not yet released).
    unsafe fn read(&self, i: u32) -> T;
}

/// Descriptors in memory shared with the kernel.
pub struct MappedSlots<T> {
    base: *mut T,
}

impl<T> MappedSlots<T> {
    /// Slots at `base`.
    ///
    /// # Safety
    /// `base` points to `size` descriptors, properly aligned, that stay mapped
    /// while the ring is used.
    pub unsafe fn new(base: *mut T) -> Self {
        MappedSlots { base }
    }
}

impl<T: Copy> Slots<T> for MappedSlots<T> {
    unsafe fn write(&self, i: u32, v: T) {
        // SAFETY: the caller's contract: `i` is in the array and the slot is ours.
        unsafe { self.base.add(i as usize).write(v) }
    }
    unsafe fn read(&self, i: u32) -> T {
        // SAFETY: the caller's contract: `i` is in the array and the slot is ours.
        unsafe { self.base.add(i as usize).read() }
    }
}

/// The three shared words of a ring.
pub struct Words {
    producer: *const AtomicU32,
    consumer: *const AtomicU32,
    flags: *const AtomicU32,
}

impl Words {
    /// The words at these addresses.
    ///
    /// # Safety
    /// Each points to an aligned 32-bit word that stays valid (mapped, or
    /// alive) while the ring is used, and is accessed by others only atomically.
    pub unsafe fn new(producer: *const AtomicU32, consumer: *const AtomicU32, flags: *const AtomicU32) -> Self {
        Words {
            producer,
            consumer,
            flags,
        }
    }
    fn producer(&self) -> &AtomicU32 {
        // SAFETY: valid while the ring is used (`Words::new`'s contract).
        unsafe { &*self.producer }
    }
    fn consumer(&self) -> &AtomicU32 {
        // SAFETY: as above.
        unsafe { &*self.consumer }
    }
    fn flags(&self) -> &AtomicU32 {
        // SAFETY: as above.
        unsafe { &*self.flags }
    }
}

/// What both ends of a ring keep: the shared words, the slots, and this
/// side's cached copies of the two indexes.
struct Ring<T: Copy, S: Slots<T>> {
    words: Words,
    slots: S,
    size: u32,
    cached_prod: u32,
    cached_cons: u32,
    _t: std::marker::PhantomData<T>,
}

impl<T: Copy, S: Slots<T>> Ring<T, S> {
    /// Over `size` (a power of two) slots, from the indexes the kernel left.
    fn new(words: Words, slots: S, size: u32) -> Self {
        assert!(size.is_power_of_two());
        let cached_prod = words.producer().load(Ordering::Acquire);
        let cached_cons = words.consumer().load(Ordering::Acquire);
        Ring {
            words,
            slots,
            size,
            cached_prod,
            cached_cons,
            _t: std::marker::PhantomData,
        }
    }

    fn needs_wakeup(&self) -> bool {
        self.words.flags().load(Ordering::Relaxed) & NEED_WAKEUP != 0
    }
}

/// This side produces (fill and TX rings).
pub struct Producer<T: Copy, S: Slots<T>>(Ring<T, S>);

// SAFETY: the ring is driven by one thread at a time (it is moved, never
// shared); the memory it points to is either the kernel's mapping or kept alive
// by its owner, and the shared words are atomics.
unsafe impl<T: Copy, S: Slots<T>> Send for Producer<T, S> {}

impl<T: Copy, S: Slots<T>> Producer<T, S> {
    /// A producer over `size` (a power of two) slots; starts from the indexes
    /// the kernel left.
    pub fn new(words: Words, slots: S, size: u32) -> Self {
        Producer(Ring::new(words, slots, size))
    }

    /// Slots free for producing, re-reading the consumer only if the cache
    /// has fewer than `want`.
    pub fn free(&mut self, want: u32) -> u32 {
        let r = &mut self.0;
        let free = r.size - r.cached_prod.wrapping_sub(r.cached_cons);
        if free >= want {
            return free;
        }
        r.cached_cons = r.words.consumer().load(Ordering::Acquire);
        r.size - r.cached_prod.wrapping_sub(r.cached_cons)
    }

    /// Writes `v` into the next unpublished slot and publishes it; `false` if
    /// the ring is full.
    pub fn push(&mut self, v: T) -> bool {
        self.push_batch(std::slice::from_ref(&v)) == 1
    }

    /// Writes as many of `vs` as fit, publishes them at once, and says how many.
    pub fn push_batch(&mut self, vs: &[T]) -> usize {
        let n = (self.free(vs.len() as u32) as usize).min(vs.len());
        let r = &mut self.0;
        for (k, v) in vs[..n].iter().enumerate() {
            // SAFETY: `n` slots are free (checked above), masked into the array.
            unsafe { r.slots.write(r.cached_prod.wrapping_add(k as u32) & (r.size - 1), *v) };
        }
        if n > 0 {
            r.cached_prod = r.cached_prod.wrapping_add(n as u32);
            r.words.producer().store(r.cached_prod, Ordering::Release);
        }
        n
    }

    /// Whether the kernel asks for a wake-up to consume this ring.
    pub fn needs_wakeup(&self) -> bool {
        self.0.needs_wakeup()
    }
}

/// This side consumes (RX and completion rings).
pub struct Consumer<T: Copy, S: Slots<T>>(Ring<T, S>);

// SAFETY: as for `Producer`.
unsafe impl<T: Copy, S: Slots<T>> Send for Consumer<T, S> {}

impl<T: Copy, S: Slots<T>> Consumer<T, S> {
    /// A consumer over `size` (a power of two) slots.
    pub fn new(words: Words, slots: S, size: u32) -> Self {
        Consumer(Ring::new(words, slots, size))
    }

    /// Descriptors ready, re-reading the producer only when the cache is empty.
    pub fn ready(&mut self) -> u32 {
        let r = &mut self.0;
        let n = r.cached_prod.wrapping_sub(r.cached_cons);
        if n > 0 {
            return n;
        }
        r.cached_prod = r.words.producer().load(Ordering::Acquire);
        r.cached_prod.wrapping_sub(r.cached_cons)
    }

    /// The `k`-th ready descriptor (`k < ready()`), not yet released.
    pub fn get(&self, k: u32) -> T {
        let r = &self.0;
        debug_assert!(k < r.cached_prod.wrapping_sub(r.cached_cons));
        // SAFETY: a published, unreleased slot (the caller's `k < ready()`),
        // masked into the array.
        unsafe { r.slots.read(r.cached_cons.wrapping_add(k) & (r.size - 1)) }
    }

    /// Hands the first `n` ready slots back to the producer.
    pub fn release(&mut self, n: u32) {
        let r = &mut self.0;
        r.cached_cons = r.cached_cons.wrapping_add(n);
        r.words.consumer().store(r.cached_cons, Ordering::Release);
    }

    /// Takes the next descriptor, if one is ready.
    pub fn pop(&mut self) -> Option<T> {
        if self.ready() == 0 {
            return None;
        }
        let v = self.get(0);
        self.release(1);
        Some(v)
    }

    /// Whether the kernel asks for a wake-up to produce into this ring.
    pub fn needs_wakeup(&self) -> bool {
        self.0.needs_wakeup()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    struct Shared {
        w: [AtomicU32; 3],
        d: Vec<std::cell::Cell<u64>>,
    }
    struct CellSlots<'a>(&'a [std::cell::Cell<u64>]);
    impl Slots<u64> for CellSlots<'_> {
        unsafe fn write(&self, i: u32, v: u64) {
            self.0[i as usize].set(v)
        }
        unsafe fn read(&self, i: u32) -> u64 {
            self.0[i as usize].get()
        }
    }
    fn words(s: &Shared) -> Words {
        // SAFETY: `s` outlives the rings in each test.
        unsafe { Words::new(&s.w[0], &s.w[1], &s.w[2]) }
    }

    #[test]
    fn indexes_wrap_past_u32_max() {
        let s = Shared {
            w: [
                AtomicU32::new(u32::MAX - 2),
                AtomicU32::new(u32::MAX - 2),
                AtomicU32::new(0),
            ],
            d: (0..4).map(|_| std::cell::Cell::new(0)).collect(),
        };
        let mut p = Producer::new(words(&s), CellSlots(&s.d), 4);
        let mut c = Consumer::new(words(&s), CellSlots(&s.d), 4);
        for round in 0..10u64 {
            let base = round * 10;
            assert_eq!(p.push_batch(&[base, base + 1, base + 2]), 3);
            assert!(p.push(base + 3));
            assert!(!p.push(99), "a full ring refuses");
            assert_eq!(c.ready(), 4);
            let got: Vec<u64> = (0..4).map(|_| c.pop().unwrap()).collect();
            assert_eq!(got, [base, base + 1, base + 2, base + 3]);
            assert_eq!(c.pop(), None);
        }
        assert_eq!(s.w[0].load(Ordering::Relaxed), (u32::MAX - 2).wrapping_add(40));
    }

    #[test]
    fn the_wakeup_flag_is_read_from_the_flags_word() {
        let s = Shared {
            w: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
            d: (0..2).map(|_| std::cell::Cell::new(0)).collect(),
        };
        let p = Producer::new(words(&s), CellSlots(&s.d), 2);
        assert!(!p.needs_wakeup());
        s.w[2].store(NEED_WAKEUP, Ordering::Relaxed);
        assert!(p.needs_wakeup());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    struct Shared {
        w: [AtomicU32; 3],
        d: Vec<UnsafeCell<u64>>,
    }
    struct LoomSlots(Arc<Shared>);
    impl Slots<u64> for LoomSlots {
        unsafe fn write(&self, i: u32, v: u64) {
            // SAFETY: loom checks that no other access to this cell races it.
            self.0.d[i as usize].with_mut(|p| unsafe { *p = v })
        }
        unsafe fn read(&self, i: u32) -> u64 {
            // SAFETY: as above.
            self.0.d[i as usize].with(|p| unsafe { *p })
        }
    }
    fn words(s: &Arc<Shared>) -> Words {
        // SAFETY: the Arc held by each side's slots keeps the words alive.
        unsafe { Words::new(&s.w[0], &s.w[1], &s.w[2]) }
    }

    /// Both ends of a two-slot ring over loom's atomics and cells.
    fn ring_of_two() -> (Producer<u64, LoomSlots>, Consumer<u64, LoomSlots>) {
        let s = Arc::new(Shared {
            w: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
            d: (0..2).map(|_| UnsafeCell::new(0)).collect(),
        });
        (
            Producer::new(words(&s), LoomSlots(s.clone()), 2),
            Consumer::new(words(&s), LoomSlots(s.clone()), 2),
        )
    }

    /// Three descriptors through a ring of two: every one arrives, in order,
    /// and no slot is read while written (loom's cells would say).
    #[test]
    fn loom_descriptors_pass_in_order_through_a_small_ring() {
        loom::model(|| {
            let (mut p, mut c) = ring_of_two();
            let t = loom::thread::spawn(move || {
                let mut got = Vec::new();
                while got.len() < 3 {
                    match c.pop() {
                        Some(v) => got.push(v),
                        None => loom::thread::yield_now(),
                    }
                }
                got
            });
            let mut sent = 0u64;
            while sent < 3 {
                if p.push(100 + sent) {
                    sent += 1;
                } else {
                    loom::thread::yield_now();
                }
            }
            assert_eq!(t.join().unwrap(), vec![100, 101, 102]);
        });
    }

    /// Batches: a consumer reading several ready slots before releasing them
    /// never sees a producer's write into them.
    #[test]
    fn loom_batches_are_released_only_after_they_are_read() {
        loom::model(|| {
            let (mut p, mut c) = ring_of_two();
            let t = loom::thread::spawn(move || {
                let mut got = Vec::new();
                while got.len() < 4 {
                    let n = c.ready();
                    if n == 0 {
                        loom::thread::yield_now();
                        continue;
                    }
                    for k in 0..n {
                        got.push(c.get(k));
                    }
                    c.release(n);
                }
                got
            });
            let mut sent = 0u64;
            while sent < 4 {
                let n = p.push_batch(&[sent, sent + 1][..(4 - sent as usize).min(2)]);
                sent += n as u64;
                if n == 0 {
                    loom::thread::yield_now();
                }
            }
            assert_eq!(t.join().unwrap(), vec![0, 1, 2, 3]);
        });
    }
}
