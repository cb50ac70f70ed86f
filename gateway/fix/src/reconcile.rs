//! Reconciliation after a restart: the orders a restarted engine sent before
//! it was killed and holds no final report for are in doubt. Once logged on
//! again it asks the venue about each (OrderStatusRequest, 35=H) and holds new
//! orders until every answer is in (or [`WAIT_NS`] has passed): an order the
//! venue says it does not know is closed in the core with a `Rejected` report
//! (reason `UnknownOrder`), journalled like any report; one it knows needs
//! nothing more (its reports come by the session's resend).
//!
//! Ids here are the core's ClOrdIDs (the link strips the epoch).

use foxtrot_engine::records::{ExecKind, ExecReport};
use std::collections::{BTreeMap, BTreeSet};

/// How long new orders wait for the venue's answers, at most.
pub const WAIT_NS: u64 = 5_000_000_000;

/// What reconciliation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReconcileStats {
    /// OrderStatusRequests sent.
    pub requests: u64,
    /// Answers received.
    pub answers: u64,
    /// Orders the venue did not know (closed as rejected).
    pub unknown: u64,
    /// Whether the wait ended by timeout or a venue that does not support 35=H.
    pub gave_up: bool,
}

/// Orders in doubt, and the questions in flight.
#[derive(Default)]
pub struct Reconcile {
    /// Sent before the restart, no final report seen yet: (instrument, side,
    /// the order a replace replaces or 0).
    in_doubt: BTreeMap<u64, (u32, u8, u64)>,
    asked: BTreeSet<u64>,
    deadline: u64,
    armed: bool,
    /// What it did.
    pub stats: ReconcileStats,
}

impl Reconcile {
    /// A new order or replace `cl` of `instrument` and `side` that the session
    /// store shows sent before the restart (`orig`: the order a replace
    /// replaces, else 0).
    pub fn sent_before(&mut self, cl: u64, orig: u64, instrument: u32, side: u8) {
        self.in_doubt.insert(cl, (instrument, side, orig));
    }

    /// A report (replayed or live): what it ends is no longer in doubt. Once
    /// nothing is (every run without a restart), a length check and nothing
    /// more: no allocation on the report path.
    #[inline]
    pub fn settle(&mut self, e: &ExecReport) {
        if self.in_doubt.is_empty() {
            return;
        }
        let mut close = |cl: u64| {
            self.in_doubt.remove(&cl);
        };
        match e.kind() {
            Some(ExecKind::Fill | ExecKind::Rejected | ExecKind::CancelRejected) => close(e.cl_ord_id),
            Some(ExecKind::Canceled) => {
                close(e.cl_ord_id);
                close(e.orig_cl_ord_id);
            }
            Some(ExecKind::Replaced) => close(e.orig_cl_ord_id),
            _ => {}
        }
    }

    /// Orders in doubt now.
    pub fn in_doubt(&self) -> usize {
        self.in_doubt.len()
    }

    /// The replay of a restart is over: ask about what is in doubt after the next logon.
    pub fn arm(&mut self) {
        self.armed = true;
    }

    /// After a logon at `now_ns`: the orders to ask about (once per
    /// restart): (ClOrdID, the order it replaces or 0, instrument, side).
    pub fn questions(&mut self, now_ns: u64) -> Vec<(u64, u64, u32, u8)> {
        if !self.armed {
            return Vec::new();
        }
        self.armed = false;
        self.deadline = now_ns + WAIT_NS;
        let q: Vec<(u64, u64, u32, u8)> = self.in_doubt.iter().map(|(&cl, &(i, s, o))| (cl, o, i, s)).collect();
        self.asked = q.iter().map(|x| x.0).collect();
        self.stats.requests += q.len() as u64;
        q
    }

    /// The venue's answer about `cl`: whether it knows the order. Returns the
    /// (instrument, side) of an order to close as unknown.
    pub fn answer(&mut self, cl: u64, known: bool) -> Option<(u32, u8)> {
        if !self.asked.remove(&cl) {
            return None;
        }
        self.stats.answers += 1;
        if known {
            return None;
        }
        // Still in doubt (no final report came meanwhile): the venue never had it.
        let gone = self.in_doubt.remove(&cl).map(|(i, s, _)| (i, s));
        self.stats.unknown += u64::from(gone.is_some());
        gone
    }

    /// The venue does not support OrderStatusRequest: stop waiting.
    pub fn unsupported(&mut self) {
        if !self.asked.is_empty() {
            self.asked.clear();
            self.stats.gave_up = true;
        }
    }

    /// Whether new orders wait at `now_ns` (answers outstanding, before the deadline).
    pub fn holding(&mut self, now_ns: u64) -> bool {
        if self.asked.is_empty() {
            return false;
        }
        if now_ns >= self.deadline {
            self.asked.clear();
            self.stats.gave_up = true;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_engine::records::Side;

    fn report(kind: ExecKind, cl: u64, orig: u64) -> ExecReport {
        let mut e = ExecReport::new(kind, 2, Side::Sell, 0);
        e.cl_ord_id = cl;
        e.orig_cl_ord_id = orig;
        e
    }

    #[test]
    fn only_orders_without_a_final_report_are_asked_about() {
        let mut r = Reconcile::default();
        for cl in [16, 32, 48, 64] {
            r.sent_before(cl, 0, 2, Side::Sell as u8);
        }
        r.settle(&report(ExecKind::Fill, 16, 0));
        r.settle(&report(ExecKind::Canceled, 81, 32));
        r.settle(&report(ExecKind::New, 48, 0)); // acknowledged, still open: in doubt
        assert!(r.questions(0).is_empty(), "not armed before the replay ends");
        r.arm();
        let q = r.questions(100);
        assert_eq!(q, vec![(48, 0, 2, Side::Sell as u8), (64, 0, 2, Side::Sell as u8)]);
        assert!(r.holding(200));
        assert_eq!(r.answer(48, true), None);
        assert!(r.holding(300));
        assert_eq!(r.answer(64, false), Some((2, Side::Sell as u8)), "unknown: closed");
        assert_eq!(r.answer(64, false), None, "answered once");
        assert!(!r.holding(400));
        assert_eq!(
            r.stats,
            ReconcileStats {
                requests: 2,
                answers: 2,
                unknown: 1,
                gave_up: false
            }
        );
    }

    #[test]
    fn the_wait_ends_at_the_deadline_or_on_a_venue_without_status_requests() {
        let mut r = Reconcile::default();
        r.sent_before(16, 0, 2, Side::Sell as u8);
        r.arm();
        assert_eq!(r.questions(0).len(), 1);
        assert!(r.holding(WAIT_NS - 1));
        assert!(!r.holding(WAIT_NS));
        assert!(r.stats.gave_up);
        let mut r = Reconcile::default();
        r.sent_before(16, 0, 2, Side::Sell as u8);
        r.arm();
        r.questions(0);
        r.unsupported();
        assert!(!r.holding(1));
    }
}
