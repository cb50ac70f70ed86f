//! Application-message layouts: the acceptor's fast path for what a trading
//! peer sends most (orders, cancels, replaces), read along the order of tags of
//! a message of the same type that passed every check before.
//!
//! The general path reads a message into header, body and trailer against the
//! data dictionary ([`crate::message::parse`]) and checks it
//! ([`crate::validate`]). For a message without repeating groups or data fields
//! most of those checks depend on its tags alone, in their order — where each
//! field sits (header, body, trailer), the required tags, a tag twice, a tag
//! undefined or not of this message type — or on its MsgType. A message whose
//! MsgType and tags, in order, are those of one that passed them passes them
//! too. What depends on the values is checked here, field by field, as
//! [`crate::validate`] checks it: a value is not empty, is well formed for its
//! type ([`well_formed`]) and, for an enumerated field, one of the field's
//! values ([`enum_ok`]).
//!
//! [`AppLayouts::follow`] answers with the header values the session rules
//! read (BeginString, MsgSeqNum, the CompIDs, SendingTime) only if every field
//! is as expected; anything else — another order of tags, an empty or bad
//! value, a message longer than its layout — is `None`, and the general path
//! reads the message and answers it as it always does. So the layouts never
//! change what a message gets, only how fast an ordinary one gets it (held to
//! the general path by a property test in `tests/fix_session.rs`).
//!
//! Not learned (always read by the general path): messages with a repeating
//! group (entries depend on count values) or a data field (its length is
//! another field's value), with an empty value, with PossDupFlag or
//! OrigSendingTime (the resend rules read them), or with routing fields
//! (OnBehalfOf…/DeliverTo…, echoed on rejects).

use crate::decode::find_soh;
use crate::dictionary::{Dictionary, FieldType};
use crate::message::{Item, Parsed};
use crate::validate::{enum_ok, well_formed};
use foxtrot_engine::format::fix::tags;

/// How many layouts are kept (the oldest learned is replaced).
pub const LAYOUTS: usize = 8;
/// The most fields a learned layout has.
pub const MAX_FIELDS: usize = 64;
/// The longest tag a layout holds (digits).
const TAG_DIGITS: usize = 10;

/// Tags whose messages are never learned: the resend rules' and routing.
const NOT_LEARNED: [u32; 8] = [
    tags::POSS_DUP_FLAG,
    tags::ORIG_SENDING_TIME,
    tags::ON_BEHALF_OF_COMP_ID,
    tags::ON_BEHALF_OF_SUB_ID,
    tags::ON_BEHALF_OF_LOCATION_ID,
    tags::DELIVER_TO_COMP_ID,
    tags::DELIVER_TO_SUB_ID,
    tags::DELIVER_TO_LOCATION_ID,
];

/// How a field's value is checked.
#[derive(Clone, Debug)]
enum Check {
    /// Not in the dictionary (let through by the settings): not empty only.
    Any,
    /// Well formed for its type.
    Type(FieldType),
    /// Well formed and one of these values (sorted, as the dictionary keeps them).
    Enum(FieldType, Box<[String]>),
}

/// One field of a layout.
#[derive(Clone, Debug)]
struct Step {
    /// The tag's digits and `=`.
    key: [u8; TAG_DIGITS + 1],
    /// How many bytes of `key` are used.
    len: u8,
    tag: u32,
    check: Check,
}

/// One learned MsgType and order of tags.
#[derive(Clone, Debug)]
struct Layout {
    msg_type: Vec<u8>,
    steps: Vec<Step>,
}

/// The header values the session rules read of an ordinary message (from a
/// message that followed a layout, or from a report the scanner read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderValues<'a> {
    /// BeginString (8).
    pub begin: &'a [u8],
    /// MsgSeqNum (34), as written.
    pub seq: &'a [u8],
    /// SenderCompID (49).
    pub sender: &'a [u8],
    /// TargetCompID (56).
    pub target: &'a [u8],
    /// SendingTime (52).
    pub sending_time: &'a [u8],
}

/// The learned layouts of one session. See the module docs.
#[derive(Clone, Debug, Default)]
pub struct AppLayouts {
    layouts: Vec<Layout>,
    /// The entry the next layout learned replaces once all are taken.
    next: usize,
}

impl AppLayouts {
    /// Learns the layout of `raw`, read by the general path as `p`, which
    /// passed every check against `d` (the session's caller says so by calling).
    /// A message the module docs exclude, or a layout already known, changes
    /// nothing.
    pub fn learn(&mut self, raw: &[u8], p: &Parsed, d: &Dictionary) {
        let grouped = |items: &[Item]| items.iter().any(|i| matches!(i, Item::Group(..)));
        if grouped(&p.header) || grouped(&p.body) || grouped(&p.trailer) {
            return;
        }
        let Some(layout) = layout_of(raw, d) else { return };
        if self
            .layouts
            .iter()
            .any(|l| l.msg_type == layout.msg_type && same_tags(l, &layout))
        {
            return;
        }
        if self.layouts.len() < LAYOUTS {
            self.layouts.push(layout);
        } else {
            self.layouts[self.next] = layout;
            self.next = (self.next + 1) % LAYOUTS;
        }
    }

    /// How many layouts are known.
    pub fn len(&self) -> usize {
        self.layouts.len()
    }

    /// Whether none is known yet.
    pub fn is_empty(&self) -> bool {
        self.layouts.is_empty()
    }

    /// Reads the well-framed message `raw` along a learned layout of its
    /// MsgType: its header values if every tag is the one expected and every
    /// value passes its check, else `None`.
    #[inline]
    pub fn follow<'a>(&self, raw: &'a [u8]) -> Option<HeaderValues<'a>> {
        let msg_type = crate::framing::msg_type(raw)?;
        self.layouts
            .iter()
            .filter(|l| l.msg_type == msg_type)
            .find_map(|l| along(l, raw))
    }
}

/// The same tags as written (a tag with a leading zero is another layout).
fn same_tags(a: &Layout, b: &Layout) -> bool {
    a.steps.len() == b.steps.len() && a.steps.iter().zip(&b.steps).all(|(x, y)| x.key == y.key)
}

/// The layout of `raw`, or `None` if it is not one to learn.
fn layout_of(raw: &[u8], d: &Dictionary) -> Option<Layout> {
    let mut steps = Vec::new();
    let mut at = 0;
    let (mut msg_type, mut header) = (None, 0u8);
    while at < raw.len() {
        let eq = at + raw[at..].iter().position(|&c| c == b'=')?;
        let end = eq + 1 + find_soh(&raw[eq + 1..])?;
        let digits = &raw[at..eq];
        let value = &raw[eq + 1..end];
        let tag = crate::message::int(digits).and_then(|t| u32::try_from(t).ok())?;
        if digits.len() > TAG_DIGITS
            || steps.len() >= MAX_FIELDS
            || value.is_empty()
            || d.is_data(tag as i64)
            || NOT_LEARNED.contains(&tag)
        {
            return None;
        }
        header |= match tag {
            tags::BEGIN_STRING => 1,
            tags::MSG_SEQ_NUM => 2,
            tags::SENDER_COMP_ID => 4,
            tags::TARGET_COMP_ID => 8,
            tags::SENDING_TIME => 16,
            _ => 0,
        };
        if tag == tags::MSG_TYPE {
            msg_type = Some(value.to_vec());
        }
        let check = match d.field_info(tag as i64) {
            None => Check::Any,
            Some((ty, false)) => Check::Type(ty),
            Some((ty, true)) => Check::Enum(ty, d.field(tag).map_or(Box::default(), |f| f.values.clone().into())),
        };
        let mut key = [0u8; TAG_DIGITS + 1];
        key[..digits.len()].copy_from_slice(digits);
        key[digits.len()] = b'=';
        steps.push(Step {
            key,
            len: digits.len() as u8 + 1,
            tag,
            check,
        });
        at = end + 1;
    }
    // The session rules need all five header values.
    (header == 31).then_some(Layout {
        msg_type: msg_type?,
        steps,
    })
}

/// `raw` read along `l`.
#[inline]
fn along<'a>(l: &Layout, raw: &'a [u8]) -> Option<HeaderValues<'a>> {
    let mut f = HeaderValues::default();
    let mut at = 0;
    for s in &l.steps {
        let len = s.len as usize;
        if raw.get(at..at + len)? != &s.key[..len] {
            return None;
        }
        let start = at + len;
        let end = start + find_soh(raw.get(start..)?)?;
        let v = &raw[start..end];
        let ok = !v.is_empty()
            && match &s.check {
                Check::Any => true,
                Check::Type(ty) => well_formed(*ty, v),
                Check::Enum(ty, values) => well_formed(*ty, v) && enum_ok(*ty, values, v),
            };
        if !ok {
            return None;
        }
        match s.tag {
            tags::BEGIN_STRING => f.begin = v,
            tags::MSG_SEQ_NUM => f.seq = v,
            tags::SENDER_COMP_ID => f.sender = v,
            tags::TARGET_COMP_ID => f.target = v,
            tags::SENDING_TIME => f.sending_time = v,
            _ => {}
        }
        at = end + 1;
    }
    (at == raw.len()).then_some(f)
}
