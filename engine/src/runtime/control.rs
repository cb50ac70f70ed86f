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
use std::sync::atomic::{AtomicBool, Ordering};
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
    alarm: Option<Alarm>,
}

/// A flag that pulls the kill switch once it is raised ([`Controlled::kill_when`]).
struct Alarm {
    raised: Arc<AtomicBool>,
    cause: u64,
    said: Box<dyn FnMut() + Send>,
}

impl<L: VenueLink> Controlled<L> {
    /// `inner` with a command channel; the sender goes to the operator's thread.
    pub fn new(inner: L) -> (Self, CommandSender) {
        let (tx, rx) = RingBuffer::new(QUEUE);
        (
            Controlled {
                inner,
                rx,
                last_ts: 0,
                alarm: None,
            },
            CommandSender(tx),
        )
    }

    /// Pulls the kill switch when `raised` is set (by another part of the
    /// process: the run's journals stopping, say) — a [`CommandKind::Kill`]
    /// with `arg0 = cause` ([`kill_cause`](crate::records::kill_cause)) before
    /// the link's next input, once; `said` runs then (to log why). Costs one
    /// load per input until then.
    pub fn kill_when(&mut self, raised: Arc<AtomicBool>, cause: u64, said: impl FnMut() + Send + 'static) {
        self.alarm = Some(Alarm {
            raised,
            cause,
            said: Box::new(said),
        });
    }

    /// The wrapped link, mutably.
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    fn command(&mut self) -> Option<InputSlot> {
        if self.alarm.as_ref().is_some_and(|a| a.raised.load(Ordering::Acquire)) {
            if let Some(mut a) = self.alarm.take() {
                (a.said)();
                let mut c = OperatorCommand::new(CommandKind::Kill, self.last_ts);
                c.arg0 = a.cause;
                return Some(InputSlot::from_command(&c));
            }
        }
        let mut c = self.rx.pop().ok()?;
        c.header.ts_ns = self.last_ts;
        Some(InputSlot::from_command(&c))
    }

    fn has_command(&self) -> bool {
        !self.rx.is_empty() || self.alarm.as_ref().is_some_and(|a| a.raised.load(Ordering::Acquire))
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

    fn md(ts: u64) -> InputSlot {
        let mut m = MarketData::default();
        m.header.kind = Kind::MarketData as u8;
        m.header.ts_ns = ts;
        InputSlot::from_md(&m)
    }

    struct Two(Vec<InputSlot>);
    impl VenueLink for Two {
        fn poll(&mut self) -> Option<InputSlot> {
            self.0.pop()
        }
        fn send(&mut self, _: &Order, _: &[u8]) {}
    }

    #[test]
    fn a_command_comes_before_the_next_input_at_the_last_control_time() {
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

    #[test]
    fn a_raised_alarm_pulls_the_kill_switch_once_before_the_next_input() {
        let (mut c, _tx) = Controlled::new(Two(vec![md(30), md(20), md(10)]));
        let flag = Arc::new(AtomicBool::new(false));
        let said = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let s2 = said.clone();
        c.kill_when(flag.clone(), crate::records::kill_cause::RUN_JOURNAL, move || {
            s2.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(c.poll().unwrap().header().ts_ns, 10);
        flag.store(true, Ordering::Release);
        assert!(c.wait_input(std::time::Duration::ZERO), "a raised alarm is input");
        match c.poll().unwrap().view() {
            Some(InputView::Command(cmd)) => {
                assert_eq!(cmd.header.sub, CommandKind::Kill as u8);
                assert_eq!(cmd.arg0, crate::records::kill_cause::RUN_JOURNAL);
                assert_eq!(cmd.header.ts_ns, 10);
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(c.poll().unwrap().header().ts_ns, 20, "one kill, not one per input");
        assert_eq!(c.poll().unwrap().header().ts_ns, 30);
        assert_eq!(said.load(Ordering::Relaxed), 1);
    }
}
