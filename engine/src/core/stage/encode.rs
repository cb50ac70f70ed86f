//! Encode stage: turns orders into FIX messages and hands every output to the sink.

use super::Msg;
use crate::config::Config;
use crate::core::fix_encoder::FixEncoder;
use crate::core::pipeline::CoreSink;

/// The encode stage's state: the FIX templates and the outbound MsgSeqNum.
pub struct EncodeStage {
    encoder: FixEncoder,
    failures: u64,
}

impl EncodeStage {
    /// Templates for every configured instrument and the session's identity.
    pub fn new(cfg: &Config) -> Self {
        EncodeStage {
            encoder: FixEncoder::new(
                &cfg.session.begin_string,
                &cfg.session.sender_comp_id,
                &cfg.session.target_comp_id,
                &cfg.instruments,
            ),
            failures: 0,
        }
    }

    /// Handles one message: orders are encoded and sent, other outputs are passed
    /// to `out`, the rest is dropped (this is the last stage).
    #[inline]
    pub fn on(&mut self, msg: Msg, out: &mut impl CoreSink) {
        match msg {
            Msg::Order(o) => match self.encoder.encode(&o) {
                Ok(wire) => out.on_order(&o, wire),
                // Decide checked the order with the same rules; this cannot happen,
                // but a bad order is counted, never sent and never a panic.
                Err(_) => self.failures += 1,
            },
            Msg::Reject(r) => out.on_reject(&r),
            Msg::Diary(d) => out.on_diary(&d),
            Msg::Theory(t) => out.on_theory(&t),
            Msg::Done { seq, tsc, .. } => out.on_input_done(seq, tsc),
            Msg::Input(_) | Msg::Halted(..) | Msg::Finish => {}
        }
    }

    /// Orders decide passed that failed to encode (always 0 unless the rules diverge).
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// The encoder (MsgSeqNum).
    pub fn encoder(&self) -> &FixEncoder {
        &self.encoder
    }
}
