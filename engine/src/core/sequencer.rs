//! The single sequencer's pure half: sequence numbers and control-time timers.
//!
//! Every input — market data, execution reports, timers, operator commands — passes
//! through [`Sequencer::stamp`] before any stage sees it, which gives it the next
//! sequence number. Time only moves when an input says so: before an input at time
//! `t` is stamped, the runtime asks [`Sequencer::due_timer`] for every timer whose
//! deadline is ≤ `t` and feeds those first, so timers interleave with data the same
//! way live and in replay. The runtime's half (reading the source, stamping the TSC,
//! journalling) lives in `runtime`.

use crate::records::{InputSlot, Timer, TimerKind};

/// Sequence and timer state.
#[derive(Clone, Debug)]
pub struct Sequencer {
    next_seq: u64,
    last_ts: u64,
    tick_ns: u64,
    /// Whether the housekeeping timer fires at all.
    timers: bool,
    next_tick: u64,
    ticks: u64,
    out_of_order: u64,
}

impl Sequencer {
    /// A sequencer whose first stamped input gets `first_seq` and whose housekeeping
    /// timer fires every `tick_ns` of control time, aligned to multiples of it.
    pub fn new(first_seq: u64, tick_ns: u64) -> Self {
        Sequencer {
            next_seq: first_seq.max(1),
            last_ts: 0,
            tick_ns: tick_ns.max(1),
            timers: true,
            next_tick: 0,
            ticks: 0,
            out_of_order: 0,
        }
    }

    /// With `on == false`, no housekeeping timer ever fires (`timers.enabled`).
    pub fn with_timers(mut self, on: bool) -> Self {
        self.timers = on;
        self
    }

    /// Stamps the next sequence number on `slot`. Control time never runs backwards:
    /// an input older than the last one is counted and its time raised to the last.
    #[inline]
    pub fn stamp(&mut self, slot: &mut InputSlot) -> u64 {
        let h = slot.header_mut();
        h.seq = self.next_seq;
        if h.ts_ns < self.last_ts {
            self.out_of_order += 1;
            h.ts_ns = self.last_ts;
        }
        self.last_ts = h.ts_ns;
        self.next_seq += 1;
        h.seq
    }

    /// The next timer due at or before `ts`, if any. Call repeatedly until `None`
    /// before stamping an input at `ts`. The first call only arms the timer.
    #[inline]
    pub fn due_timer(&mut self, ts: u64) -> Option<Timer> {
        if !self.timers {
            return None;
        }
        if self.next_tick == 0 {
            self.next_tick = (ts / self.tick_ns + 1) * self.tick_ns;
            return None;
        }
        if ts < self.next_tick {
            return None;
        }
        let deadline = self.next_tick;
        self.ticks += 1;
        // After a long gap, fire once for the latest elapsed period rather than
        // flooding: skip to the last deadline ≤ ts, then arm the next.
        let last = ts / self.tick_ns * self.tick_ns;
        let fire_at = deadline.max(last);
        self.next_tick = fire_at + self.tick_ns;
        Some(Timer::new(TimerKind::Tick, fire_at, self.tick_ns, self.ticks))
    }

    /// The sequence number the next input will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Inputs whose time ran backwards (raised to the last time).
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{MarketData, MdAction};

    #[test]
    fn timers_fire_on_deadlines_and_collapse_gaps() {
        let mut s = Sequencer::new(1, 1_000);
        assert!(s.due_timer(10_500).is_none()); // arms at 11_000
        assert!(s.due_timer(10_999).is_none());
        let t = s.due_timer(11_000).unwrap();
        assert_eq!((t.deadline_ns, t.count), (11_000, 1));
        assert!(s.due_timer(11_999).is_none());
        // A 5.5 µs gap fires once, at the last elapsed deadline.
        let t = s.due_timer(17_500).unwrap();
        assert_eq!((t.deadline_ns, t.count), (17_000, 2));
        assert!(s.due_timer(17_500).is_none());
    }

    #[test]
    fn switched_off_no_timer_ever_fires() {
        let mut s = Sequencer::new(1, 1_000).with_timers(false);
        for ts in (10_500..1_000_000).step_by(700) {
            assert!(s.due_timer(ts).is_none(), "{ts}");
        }
    }

    #[test]
    fn sequence_numbers_increase_and_time_never_runs_back() {
        let mut s = Sequencer::new(1, 1_000);
        let mut a = InputSlot::from_md(&MarketData::new(MdAction::Trade, 0, None, 500, 0, 1, 1, 0));
        let mut b = InputSlot::from_md(&MarketData::new(MdAction::Trade, 0, None, 400, 0, 1, 1, 0));
        assert_eq!(s.stamp(&mut a), 1);
        assert_eq!(s.stamp(&mut b), 2);
        assert_eq!(b.header().ts_ns, 500);
        assert_eq!(s.out_of_order(), 1);
    }
}
