//! The decision diary: one record per decision, released with its markout.
//!
//! A decision (an order, a reject, or a deliberate no-op) is recorded at once but
//! held in a fixed ring until `markout_events` further inputs have been processed;
//! then its markout — (mid now − decision price) × side sign, in price units — is
//! filled in and the record is released to the sink. Every record has the same
//! horizon, so the ring releases in FIFO order, which keeps the output deterministic.
//! If the ring is full the oldest record is released early, with the horizon it
//! actually had in `markout_events`; [`Diary::flush`] releases the rest at the end.

use crate::records::{DiaryRecord, Side};

#[derive(Clone, Copy, Default)]
struct Pending {
    rec: DiaryRecord,
    at_input: u64,
}

/// The diary stage.
pub struct Diary {
    ring: Box<[Pending]>,
    head: usize,
    len: usize,
    horizon: u64,
    released: u64,
}

impl Diary {
    /// A diary holding up to `capacity` records awaiting their markout `horizon`
    /// inputs after the decision.
    pub fn new(capacity: usize, horizon: u64) -> Self {
        Diary {
            ring: vec![Pending::default(); capacity.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
            horizon: horizon.max(1),
            released: 0,
        }
    }

    /// Records a decision taken after input number `input_no`.
    #[inline]
    pub fn record(
        &mut self,
        rec: DiaryRecord,
        input_no: u64,
        mid: impl Fn(u32) -> Option<i64>,
        out: &mut impl FnMut(&DiaryRecord),
    ) {
        if self.len == self.ring.len() {
            self.release_one(input_no, &mid, out);
        }
        let tail = (self.head + self.len) % self.ring.len();
        self.ring[tail] = Pending {
            rec,
            at_input: input_no,
        };
        self.len += 1;
    }

    /// Releases every record whose horizon has passed at input number `input_no`.
    #[inline]
    pub fn on_input(&mut self, input_no: u64, mid: impl Fn(u32) -> Option<i64>, out: &mut impl FnMut(&DiaryRecord)) {
        while self.len > 0 && input_no >= self.ring[self.head].at_input + self.horizon {
            self.release_one(input_no, &mid, out);
        }
    }

    /// Releases everything still held (end of session).
    pub fn flush(&mut self, input_no: u64, mid: impl Fn(u32) -> Option<i64>, out: &mut impl FnMut(&DiaryRecord)) {
        while self.len > 0 {
            self.release_one(input_no, &mid, out);
        }
    }

    fn release_one(&mut self, input_no: u64, mid: &impl Fn(u32) -> Option<i64>, out: &mut impl FnMut(&DiaryRecord)) {
        let p = &mut self.ring[self.head];
        let r = &mut p.rec;
        r.markout_events = input_no - p.at_input;
        r.markout = match (Side::from_u8(r.header.side), mid(r.header.instrument)) {
            (Some(side), Some(m)) if r.px > 0 => (m - r.px) * side.sign(),
            _ => 0,
        };
        out(r);
        self.head = (self.head + 1) % self.ring.len();
        self.len -= 1;
        self.released += 1;
    }

    /// Records released so far.
    pub fn released(&self) -> u64 {
        self.released
    }

    /// Records held awaiting their markout.
    pub fn pending(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(side: Side, px: i64, seq: u64) -> DiaryRecord {
        let mut r = DiaryRecord::default();
        r.header.side = side as u8;
        r.header.seq = seq;
        r.px = px;
        r
    }

    #[test]
    fn markout_after_horizon_in_fifo_order() {
        let mut d = Diary::new(8, 3);
        let mut out = Vec::new();
        let mid = |_| Some(105);
        d.record(rec(Side::Buy, 100, 1), 10, mid, &mut |r| out.push(*r));
        d.record(rec(Side::Sell, 100, 2), 11, mid, &mut |r| out.push(*r));
        d.on_input(12, mid, &mut |r| out.push(*r));
        assert!(out.is_empty());
        d.on_input(13, mid, &mut |r| out.push(*r));
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].header.seq, out[0].markout, out[0].markout_events), (1, 5, 3));
        d.flush(13, mid, &mut |r| out.push(*r));
        assert_eq!((out[1].header.seq, out[1].markout, out[1].markout_events), (2, -5, 2));
    }

    #[test]
    fn full_ring_releases_the_oldest_early() {
        let mut d = Diary::new(1, 100);
        let mut out = Vec::new();
        d.record(rec(Side::Buy, 10, 1), 1, |_| Some(11), &mut |r| out.push(*r));
        d.record(rec(Side::Buy, 10, 2), 4, |_| Some(12), &mut |r| out.push(*r));
        assert_eq!((out[0].header.seq, out[0].markout, out[0].markout_events), (1, 2, 3));
        assert_eq!(d.pending(), 1);
    }
}
