//! The echo application: what certification test harnesses expect of an
//! acceptor under test. A NewOrderSingle (`D`), SecurityDefinition (`d`) or
//! Email (`C`) comes back as it came — the same body (fields in ascending tag
//! order, a group's fields after its count in the group's order) and the same
//! extra header fields (PossResend and routing among them), under the
//! session's own header. Any other application message is answered with a
//! BusinessMessageReject, reason 3 (Unsupported Message Type). A
//! NewOrderSingle resent with PossResend=Y whose ClOrdID this session has
//! already echoed is ignored (the application-level duplicate check the
//! PossResend test cases ask for); the ClOrdIDs are forgotten when the session
//! ends.

use foxtrot_engine::format::fix::tags;
use foxtrot_fix::message;
use foxtrot_fix::session::{BusinessReason, Session};
use foxtrot_fix::store::JournalStore;
use std::collections::BTreeSet;

/// What the echo application keeps per session.
#[derive(Default)]
pub(crate) struct Echo {
    /// ClOrdIDs echoed since logon.
    seen: BTreeSet<Vec<u8>>,
}

/// What one application message came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Sent back.
    Sent,
    /// A PossResend of an order already echoed: ignored.
    Duplicate,
    /// Not a type the application supports: BusinessMessageReject sent.
    Unsupported,
}

impl Echo {
    /// The session ended: its ClOrdIDs are forgotten.
    pub(crate) fn reset(&mut self) {
        self.seen.clear();
    }

    /// Answers the application message `raw` that `session` just accepted.
    pub(crate) fn on_app(&mut self, raw: &[u8], session: &mut Session<JournalStore>, now: u64) -> Answer {
        let dict = session.settings().dictionary.clone();
        let Ok(p) = message::parse(raw, &dict) else {
            // The session parsed it already; this cannot fail. Say so anyway.
            session.business_reject(raw, BusinessReason::Other, None, now);
            return Answer::Unsupported;
        };
        match p.msg_type() {
            b"D" => {
                let cl = p.body_field(tags::CL_ORD_ID).unwrap_or(b"").to_vec();
                if p.header_field(tags::POSS_RESEND) == Some(b"Y") && self.seen.contains(&cl) {
                    return Answer::Duplicate;
                }
                self.seen.insert(cl);
            }
            b"d" | b"C" => {}
            _ => {
                session.business_reject(raw, BusinessReason::UnsupportedMessageType, None, now);
                return Answer::Unsupported;
            }
        }
        let mut body = Vec::with_capacity(raw.len());
        p.body_text(&dict, &mut body);
        session.send_body(p.msg_type(), &p.kept_header(), &body, now);
        Answer::Sent
    }
}
