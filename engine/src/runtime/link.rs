//! The runtime's boundary: what a run reads inputs from and sends orders to
//! ([`VenueLink`]), and what watches it ([`RunObserver`]). Gateways implement
//! the first (the simulated venue, the touch venue, the FIX link); journals,
//! reports and tests implement the second.

use crate::core::Core;
use crate::records::{DiaryRecord, InputSlot, Order, RiskReject, TheoryPacket};

/// The venue side as the runtime sees it: a source of inputs and a sink of orders.
pub trait VenueLink {
    /// The next input (market data or an execution report) in control-time order,
    /// or `None` when the source is exhausted and nothing is pending.
    fn poll(&mut self) -> Option<InputSlot>;
    /// Sends one order; `wire` is its encoded FIX message.
    fn send(&mut self, order: &Order, wire: &[u8]);
    /// Whether inputs come already sequenced (a journal: seq, time and timers
    /// stamped when it was recorded), so the runtime must feed them as they are.
    fn sequenced(&self) -> bool {
        false
    }
    /// The least control time between an order's trigger and the first moment it
    /// can change this venue's inputs, if orders can change them at all (a
    /// simulated venue: its entry latency). A threaded runtime uses it to keep
    /// several inputs in flight and still see the inputs a fused run would.
    fn feedback_delay(&self) -> Option<u64> {
        None
    }
    /// The live board of a threaded run, for figures only the link knows (the
    /// FIX session's state, order → acknowledgement latency). Called once
    /// before the run; the default ignores it.
    fn attach_board(&mut self, _board: std::sync::Arc<crate::core::live::LiveBoard>) {}
    /// Blocks up to `timeout` until input may be ready — a socket of the link
    /// readable, or its [`waker`](Self::waker) called — and says so; `false`
    /// when the link has nothing to wait on (the caller parks instead). An
    /// idle ingest thread of the `park` strategy waits here, so a venue's
    /// report wakes it at once rather than at the end of a park.
    fn wait_input(&mut self, _timeout: std::time::Duration) -> bool {
        false
    }
    /// What another thread calls to end a [`wait_input`](Self::wait_input)
    /// early (a stage that has just queued an order for the link); `None` when
    /// the link does not wait.
    fn waker(&self) -> Option<std::sync::Arc<dyn Fn() + Send + Sync>> {
        None
    }
    /// Like [`poll`](Self::poll), but does nothing that happens after control time
    /// `horizon`: orders still unknown to the venue could come before it. Only
    /// venues with a [`feedback_delay`](Self::feedback_delay) need to override it.
    fn poll_before(&mut self, horizon: u64) -> Polled {
        let _ = horizon;
        match self.poll() {
            Some(s) => Polled::Input(s),
            None => Polled::Exhausted,
        }
    }
}

/// What [`VenueLink::poll_before`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polled {
    /// The next input.
    Input(InputSlot),
    /// The next input depends on orders not yet sent; ask again after sending them.
    Blocked,
    /// Nothing more will come.
    Exhausted,
}

/// Taps on everything a run sequences and emits, for journals and tests. Every
/// method defaults to doing nothing; `()` is the observer that observes nothing.
pub trait RunObserver {
    /// A sequenced input, just before the core processes it.
    fn on_input(&mut self, _slot: &InputSlot) {}
    /// An order that left the core, with its FIX bytes.
    fn on_order(&mut self, _order: &Order, _wire: &[u8]) {}
    /// A risk reject.
    fn on_reject(&mut self, _reject: &RiskReject) {}
    /// A released diary record.
    fn on_diary(&mut self, _rec: &DiaryRecord) {}
    /// A theory packet (drift alarm), part of the diary stream.
    fn on_theory(&mut self, _packet: &TheoryPacket) {}
    /// After the core processed `slot` and everything it caused was delivered;
    /// `core` may be inspected. Fused runs only (a threaded run's stages are on
    /// other threads).
    fn after_input(&mut self, _slot: &InputSlot, _core: &Core) {}
}

impl RunObserver for () {}

/// An observer that may be absent (`None` observes nothing).
impl<T: RunObserver> RunObserver for Option<T> {
    #[inline]
    fn on_input(&mut self, s: &InputSlot) {
        if let Some(t) = self {
            t.on_input(s)
        }
    }
    #[inline]
    fn on_order(&mut self, o: &Order, wire: &[u8]) {
        if let Some(t) = self {
            t.on_order(o, wire)
        }
    }
    #[inline]
    fn on_reject(&mut self, r: &RiskReject) {
        if let Some(t) = self {
            t.on_reject(r)
        }
    }
    #[inline]
    fn on_diary(&mut self, d: &DiaryRecord) {
        if let Some(t) = self {
            t.on_diary(d)
        }
    }
    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        if let Some(t) = self {
            t.on_theory(p)
        }
    }
    #[inline]
    fn after_input(&mut self, s: &InputSlot, core: &Core) {
        if let Some(t) = self {
            t.after_input(s, core)
        }
    }
}

/// Two observers, both told everything (first `A`, then `B`).
impl<A: RunObserver, B: RunObserver> RunObserver for (A, B) {
    #[inline]
    fn on_input(&mut self, s: &InputSlot) {
        self.0.on_input(s);
        self.1.on_input(s);
    }
    #[inline]
    fn on_order(&mut self, o: &Order, wire: &[u8]) {
        self.0.on_order(o, wire);
        self.1.on_order(o, wire);
    }
    #[inline]
    fn on_reject(&mut self, r: &RiskReject) {
        self.0.on_reject(r);
        self.1.on_reject(r);
    }
    #[inline]
    fn on_diary(&mut self, d: &DiaryRecord) {
        self.0.on_diary(d);
        self.1.on_diary(d);
    }
    #[inline]
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.0.on_theory(p);
        self.1.on_theory(p);
    }
    #[inline]
    fn after_input(&mut self, s: &InputSlot, core: &Core) {
        self.0.after_input(s, core);
        self.1.after_input(s, core);
    }
}

/// Inputs already sequenced (a run's input journal): fed as they are, with
/// their recorded seq, time and timers; orders go nowhere.
pub struct Sequenced<I>(pub I);

impl<I: Iterator<Item = InputSlot>> VenueLink for Sequenced<I> {
    #[inline]
    fn poll(&mut self) -> Option<InputSlot> {
        self.0.next()
    }
    #[inline]
    fn send(&mut self, _order: &Order, _wire: &[u8]) {}
    fn sequenced(&self) -> bool {
        true
    }
}
