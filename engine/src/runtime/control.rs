//! Operator commands into a running pipeline: [`Controlled`] wraps any
//! [`VenueLink`] and hands out the commands an operator sent (over
//! [`CommandSender`], from another thread) as inputs before the link's next
//! one. They are sequenced and journalled like every other input, so a replay
//! applies each at the same sequence number.
//!
//! A command takes the control time of the last input the link returned (the
//! core reads no clock; control time never runs backwards).

use super::link::{Polled, VenueLink};
use crate::core::live::LiveBoard;
use crate::records::{CommandKind, InputSlot, OperatorCommand, Order};
use rtrb::{Consumer, Producer, RingBuffer};
use std::sync::Arc;

/// Commands waiting for the pipeline, at most.
const QUEUE: usize = 64;

/// The operator's end: one thread sends, the link's thread receives.
pub struct CommandSender(Producer<OperatorCommand>);

impl CommandSender {
    /// Queues `kind` (for `instrument` where it names one); `false` when the
    /// queue is full (the pipeline is not taking inputs).
    pub fn send(&mut self, kind: CommandKind, instrument: u32) -> bool {
        let mut c = OperatorCommand::new(kind, 0);
        c.header.instrument = instrument;
        self.0.push(c).is_ok()
    }
}

/// A link with an operator's commands in front of its inputs.
pub struct Controlled<L> {
    inner: L,
    rx: Consumer<OperatorCommand>,
    last_ts: u64,
}

impl<L: VenueLink> Controlled<L> {
    /// `inner` with a command channel; the sender goes to the operator's thread.
    pub fn new(inner: L) -> (Self, CommandSender) {
        let (tx, rx) = RingBuffer::new(QUEUE);
        (Controlled { inner, rx, last_ts: 0 }, CommandSender(tx))
    }

    /// The wrapped link, mutably.
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    fn command(&mut self) -> Option<InputSlot> {
        let mut c = self.rx.pop().ok()?;
        c.header.ts_ns = self.last_ts;
        Some(InputSlot::from_command(&c))
    }

    fn has_command(&self) -> bool {
        !self.rx.is_empty()
    }

    fn seen(&mut self, s: &InputSlot) {
        self.last_ts = self.last_ts.max(s.header().ts_ns);
    }
}

impl<L: VenueLink> VenueLink for Controlled<L> {
    fn poll(&mut self) -> Option<InputSlot> {
        if let Some(c) = self.command() {
            return Some(c);
        }
        let s = self.inner.poll()?;
        self.seen(&s);
        Some(s)
    }

    fn send(&mut self, order: &Order, wire: &[u8]) {
        self.inner.send(order, wire)
    }

    fn sequenced(&self) -> bool {
        self.inner.sequenced()
    }

    fn feedback_delay(&self) -> Option<u64> {
        self.inner.feedback_delay()
    }

    fn attach_board(&mut self, board: Arc<LiveBoard>) {
        self.inner.attach_board(board)
    }

    fn wait_input(&mut self, timeout: std::time::Duration) -> bool {
        // A command waiting in the channel is input too: never sleep past one.
        if self.has_command() {
            return true;
        }
        self.inner.wait_input(timeout)
    }

    fn waker(&self) -> Option<Arc<dyn Fn() + Send + Sync>> {
        self.inner.waker()
    }

    fn poll_before(&mut self, horizon: u64) -> Polled {
        if let Some(c) = self.command() {
            return Polled::Input(c);
        }
        let p = self.inner.poll_before(horizon);
        if let Polled::Input(s) = &p {
            self.seen(s);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{InputView, Kind, MarketData};

    struct Two(Vec<InputSlot>);
    impl VenueLink for Two {
        fn poll(&mut self) -> Option<InputSlot> {
            self.0.pop()
        }
        fn send(&mut self, _: &Order, _: &[u8]) {}
    }

    #[test]
    fn a_command_comes_before_the_next_input_at_the_last_control_time() {
        let md = |ts| {
            let mut m = MarketData::default();
            m.header.kind = Kind::MarketData as u8;
            m.header.ts_ns = ts;
            InputSlot::from_md(&m)
        };
        let (mut c, mut tx) = Controlled::new(Two(vec![md(20), md(10)]));
        assert_eq!(c.poll().unwrap().header().ts_ns, 10);
        assert!(tx.send(CommandKind::Halt, 2));
        let s = c.poll().unwrap();
        match s.view() {
            Some(InputView::Command(cmd)) => {
                assert_eq!(cmd.header.sub, CommandKind::Halt as u8);
                assert_eq!(cmd.header.instrument, 2);
                assert_eq!(cmd.header.ts_ns, 10);
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(c.poll().unwrap().header().ts_ns, 20);
        assert!(c.poll().is_none());
    }
}
