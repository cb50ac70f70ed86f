//! Encode stage: turns orders into FIX messages and hands every output to the sink.

use super::Msg;
use crate::core::params::CoreParams;
use crate::core::pipeline::{CoreCounters, CoreSink};
use crate::format::fix::FixEncoder;

/// The encode stage's state: the FIX templates and the outbound MsgSeqNum.
pub struct EncodeStage {
    encoder: FixEncoder,
    counters: CoreCounters,
}

impl EncodeStage {
    /// Templates for every configured instrument and the session's identity.
    pub fn new(p: &CoreParams) -> Self {
        EncodeStage {
            encoder: FixEncoder::new(
                &p.fix.begin_string,
                &p.fix.sender_comp_id,
                &p.fix.target_comp_id,
                &p.instruments,
            ),
            counters: CoreCounters::default(),
        }
    }

    /// Handles one message: orders are encoded and sent, other outputs are passed
    /// to `out`, the rest is dropped (this is the last stage).
    #[inline]
    pub fn on(&mut self, msg: &Msg, out: &mut impl CoreSink) {
        match msg {
            Msg::Order(o) => match self.encoder.encode(o) {
                Ok(wire) => out.on_order(o, wire),
                // Decide checked the order with the same rules; this cannot happen,
                // but a bad order is counted, never sent and never a panic.
                Err(_) => self.counters.encode_failures += 1,
            },
            Msg::Reject(r) => out.on_reject(r),
            Msg::Diary(d) => out.on_diary(d),
            Msg::Theory(t) => out.on_theory(t),
            Msg::Done { seq, tsc } => out.on_input_done(*seq, *tsc),
            Msg::Input(_) | Msg::Halted(..) | Msg::Finish => {}
        }
    }

    /// This stage's share of the core counters (orders that failed to encode:
    /// always 0 unless decide's rules and the encoder disagree).
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }
}
