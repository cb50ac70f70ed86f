//! A framed FIX message read into header, body and trailer, with its repeating
//! groups, the way a data dictionary sees it — and written back out.
//!
//! Reading follows the message field by field:
//! - the first three fields must be BeginString (8), BodyLength (9) and MsgType
//!   (35), in that order, and every field must be `tag=value` followed by SOH
//!   (a tag may be negative or zero: that is for validation to refuse), else the
//!   message is garbled;
//! - a header field (the dictionary's, or a standard header tag) goes to the
//!   header, a trailer field to the trailer, anything else to the body; a header
//!   field after a body or trailer field, or a body field after a trailer
//!   field, makes the structure invalid and is remembered (the first such tag)
//!   for the reject;
//! - after a group's count field, entries are read while fields belong to the
//!   group: each entry starts at the delimiter, or at a group field already seen
//!   in the current entry; the first field outside the group ends it;
//! - a data field's length is the value of the field just before it.
//!
//! BodyLength and CheckSum are checked as the framing reads them
//! ([`crate::decode`]); this module reads the structure only.
//!
//! Writing ([`Parsed::body_text`], [`write_message`]) puts the header's
//! BeginString, BodyLength and MsgType first and the other header fields in
//! ascending tag order, then the body fields in ascending tag order with each
//! group's entries right after its count field (their fields in the group's
//! dictionary order), then the trailer — the order counterparties' engines write
//! and compare in.

use crate::dictionary::{Dictionary, Scope};
use foxtrot_engine::format::fix::tags;

/// One field as it arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// Its tag (possibly invalid: negative, zero, undefined).
    pub tag: i64,
    /// Its value (possibly empty).
    pub value: &'a [u8],
}

/// A field of a body or group entry, or a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A field.
    Field(Field<'a>),
    /// A group: its count field and its entries.
    Group(Field<'a>, Vec<Vec<Item<'a>>>),
}

impl<'a> Item<'a> {
    /// The field (or the group's count field).
    pub fn field(&self) -> Field<'a> {
        match self {
            Item::Field(f) | Item::Group(f, _) => *f,
        }
    }
}

/// Why a message is garbled (dropped without an answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garbled {
    /// BeginString, BodyLength and MsgType are not the first three fields.
    FirstThree,
    /// A field has no `=`, no SOH after its value, or a tag that is not a number.
    FieldSyntax,
    /// A data field's length field is missing or not a number.
    DataLength,
}

/// A message read against a dictionary.
#[derive(Clone, Debug, Default)]
pub struct Parsed<'a> {
    /// Header fields, in arrival order.
    pub header: Vec<Item<'a>>,
    /// Body fields and groups, in arrival order.
    pub body: Vec<Item<'a>>,
    /// Trailer fields, in arrival order.
    pub trailer: Vec<Item<'a>>,
    /// The first field out of the header–body–trailer order (0 if none).
    pub misplaced: i64,
    /// Whether no field was out of that order.
    pub valid_structure: bool,
}

/// Reads one field at `*pos`, whose `=` is at `eq`; `data_len` is the length a
/// data field's value has.
fn field<'a>(m: &'a [u8], pos: &mut usize, eq: usize, tag: i64, data_len: Option<usize>) -> Result<Field<'a>, Garbled> {
    let vs = eq + 1;
    let end = match data_len {
        Some(n) => {
            let e = vs.checked_add(n).ok_or(Garbled::DataLength)?;
            if m.get(e) != Some(&crate::decode::SOH) {
                return Err(Garbled::DataLength);
            }
            e
        }
        None => {
            m[vs..]
                .iter()
                .position(|&c| c == crate::decode::SOH)
                .ok_or(Garbled::FieldSyntax)?
                + vs
        }
    };
    *pos = end + 1;
    Ok(Field {
        tag,
        value: &m[vs..end],
    })
}

/// A tag: an optional `-` and decimal digits, fitting an i32 as counterparties'
/// engines read it.
fn parse_tag(b: &[u8]) -> Option<i64> {
    let (neg, d) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if d.is_empty() || d.len() > 10 {
        return None;
    }
    let mut v = 0i64;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    let v = if neg { -v } else { v };
    (i32::MIN as i64..=i32::MAX as i64).contains(&v).then_some(v)
}

/// The value of a field as an integer (what a length or count field holds).
pub fn int(v: &[u8]) -> Option<i64> {
    parse_tag(v)
}

/// Where the reader is: the message, the position, and the previous field (for
/// a data field's length).
struct Cursor<'a> {
    m: &'a [u8],
    pos: usize,
    prev: Option<Field<'a>>,
}

impl<'a> Cursor<'a> {
    fn next(&mut self, d: &Dictionary) -> Result<Field<'a>, Garbled> {
        let save = self.pos;
        // Peek the tag to know whether it is a data field.
        let eq = self.m[save..]
            .iter()
            .position(|&c| c == b'=')
            .ok_or(Garbled::FieldSyntax)?
            + save;
        let tag = parse_tag(&self.m[save..eq]).ok_or(Garbled::FieldSyntax)?;
        let data_len = if d.is_data(tag) {
            let len_tag = if tag == tags::SIGNATURE as i64 {
                tags::SIGNATURE_LENGTH as i64
            } else {
                tag - 1
            };
            match self.prev {
                Some(p) if p.tag == len_tag => Some(
                    int(p.value)
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or(Garbled::DataLength)?,
                ),
                _ => return Err(Garbled::DataLength),
            }
        } else {
            None
        };
        let f = field(self.m, &mut self.pos, eq, tag, data_len)?;
        self.prev = Some(f);
        Ok(f)
    }

    fn done(&self) -> bool {
        self.pos >= self.m.len()
    }
}

/// Reads the entries of the group `count` opens (QuickFIX's reading of groups).
fn group<'a>(c: &mut Cursor<'a>, d: &Dictionary, scope: &Scope, count: Field<'a>) -> Result<Item<'a>, Garbled> {
    let Some(g) = u32::try_from(count.tag).ok().and_then(|t| scope.group(t)) else {
        return Ok(Item::Field(count));
    };
    let mut entries: Vec<Vec<Item<'a>>> = Vec::new();
    let mut current: Option<Vec<Item<'a>>> = None;
    while !c.done() {
        let save = (c.pos, c.prev);
        let f = c.next(d)?;
        let in_group = u32::try_from(f.tag).is_ok_and(|t| g.scope.contains(t));
        let starts = f.tag == g.delim as i64
            || (in_group
                && current
                    .as_ref()
                    .is_none_or(|e| e.iter().any(|i| i.field().tag == f.tag)));
        if starts {
            if let Some(e) = current.take() {
                entries.push(e);
            }
            current = Some(Vec::new());
        } else if !in_group {
            (c.pos, c.prev) = save;
            break;
        }
        let item = group(c, d, &g.scope, f)?;
        current.get_or_insert_with(Vec::new).push(item);
    }
    if let Some(e) = current {
        entries.push(e);
    }
    Ok(Item::Group(count, entries))
}

/// Reads a framed message (its BodyLength and CheckSum already checked).
pub fn parse<'a>(m: &'a [u8], d: &Dictionary) -> Result<Parsed<'a>, Garbled> {
    #[derive(PartialEq)]
    enum Part {
        Header,
        Body,
        Trailer,
    }
    // Room for what a usual message carries (no regrowth on the way).
    let mut p = Parsed {
        header: Vec::with_capacity(12),
        body: Vec::with_capacity(24),
        trailer: Vec::with_capacity(2),
        misplaced: 0,
        valid_structure: true,
    };
    let mut c = Cursor { m, pos: 0, prev: None };
    let mut part = Part::Header;
    let mut count = 0;
    let mut msg_scope: Option<&Scope> = None;
    while !c.done() {
        let f = c.next(d)?;
        if count < 3 {
            if f.tag != [8, 9, 35][count] {
                return Err(Garbled::FirstThree);
            }
            count += 1;
        }
        let misplace = |p: &mut Parsed<'a>| {
            if p.misplaced == 0 {
                p.misplaced = f.tag;
            }
            p.valid_structure = false;
        };
        if d.is_header(f.tag) {
            if part != Part::Header {
                misplace(&mut p);
            }
            if f.tag == tags::MSG_TYPE as i64 {
                msg_scope = d.message(f.value).map(|m| &m.scope);
            }
            let item = group(&mut c, d, &d.header, f)?;
            p.header.push(item);
        } else if d.is_trailer(f.tag) {
            part = Part::Trailer;
            let item = group(&mut c, d, &d.trailer, f)?;
            p.trailer.push(item);
        } else {
            if part == Part::Trailer {
                misplace(&mut p);
            }
            part = Part::Body;
            let item = match msg_scope {
                Some(s) => group(&mut c, d, s, f)?,
                None => Item::Field(f),
            };
            p.body.push(item);
        }
    }
    Ok(p)
}

impl<'a> Parsed<'a> {
    /// The first header field with `tag`.
    pub fn header_field(&self, tag: u32) -> Option<&'a [u8]> {
        self.header
            .iter()
            .map(Item::field)
            .find(|f| f.tag == tag as i64)
            .map(|f| f.value)
    }

    /// The first body field with `tag` (groups not searched).
    pub fn body_field(&self, tag: u32) -> Option<&'a [u8]> {
        self.body
            .iter()
            .map(Item::field)
            .find(|f| f.tag == tag as i64)
            .map(|f| f.value)
    }

    /// MsgType (35).
    pub fn msg_type(&self) -> &'a [u8] {
        self.header_field(tags::MSG_TYPE).unwrap_or(b"")
    }

    /// The header fields a message keeps when it is sent again — resent, or
    /// echoed — by a session, which writes BeginString, BodyLength, MsgType,
    /// MsgSeqNum, the CompIDs and SendingTime itself (and PossDupFlag and
    /// OrigSendingTime when it resends).
    pub fn kept_header(&self) -> Vec<(u32, &'a [u8])> {
        const SESSION_WRITES: [u32; 9] = [
            tags::BEGIN_STRING,
            tags::BODY_LENGTH,
            tags::MSG_TYPE,
            tags::MSG_SEQ_NUM,
            tags::SENDER_COMP_ID,
            tags::SENDING_TIME,
            tags::TARGET_COMP_ID,
            tags::POSS_DUP_FLAG,
            tags::ORIG_SENDING_TIME,
        ];
        self.header
            .iter()
            .map(Item::field)
            .filter(|f| f.tag > 0 && !SESSION_WRITES.iter().any(|&t| t as i64 == f.tag))
            .filter_map(|f| u32::try_from(f.tag).ok().map(|t| (t, f.value)))
            .collect()
    }

    /// The message's body written back (for an echo): ascending tags, groups
    /// after their count fields in dictionary order.
    pub fn body_text(&self, d: &Dictionary, out: &mut Vec<u8>) {
        let scope = d.message(self.msg_type()).map(|m| &m.scope);
        write_items(&self.body, scope, None, out);
    }
}

/// Writes items in order: a body (ascending tags) when `order_by` is `None`, a
/// group entry (the group's field order) otherwise.
fn write_items(items: &[Item], scope: Option<&Scope>, order_by: Option<&Scope>, out: &mut Vec<u8>) {
    let mut sorted: Vec<&Item> = items.iter().collect();
    match order_by {
        None => sorted.sort_by_key(|i| i.field().tag),
        Some(s) => sorted.sort_by_key(|i| {
            (
                u32::try_from(i.field().tag).map_or(usize::MAX, |t| s.position(t)),
                i.field().tag,
            )
        }),
    }
    for i in sorted {
        put(out, i.field().tag, i.field().value);
        if let Item::Group(count, entries) = i {
            let g = scope.and_then(|s| u32::try_from(count.tag).ok().and_then(|t| s.group(t)));
            for e in entries {
                write_items(e, g.map(|g| &g.scope), g.map(|g| &g.scope), out);
            }
        }
    }
}

pub(crate) fn put(out: &mut Vec<u8>, tag: i64, value: &[u8]) {
    put_with(out, tag, |o| o.extend_from_slice(value));
}

/// Appends one field `tag=…<SOH>` whose value `value` writes.
#[inline]
pub(crate) fn put_with(out: &mut Vec<u8>, tag: i64, value: impl FnOnce(&mut Vec<u8>)) {
    foxtrot_engine::format::decimal::push_int(out, tag);
    out.push(b'=');
    value(out);
    out.push(crate::decode::SOH);
}

/// Writes a complete message: `begin_string`, the computed BodyLength,
/// `msg_type`, then `header` (other than 8, 9, 35; written in ascending tag
/// order), the `body` bytes as given (already `tag=value|` fields), and the
/// CheckSum.
pub fn write_message(begin_string: &str, msg_type: &[u8], header: &mut [(u32, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(288 + body.len());
    write_message_into(&mut m, &mut Vec::new(), begin_string, msg_type, header, body);
    m
}

/// [`write_message`] appending to `out`, with `rest` (cleared first) as the
/// space the fields after BodyLength are written in before their length is
/// known: with both kept by the caller, nothing is allocated once they have
/// grown to the longest message.
pub fn write_message_into(
    out: &mut Vec<u8>,
    rest: &mut Vec<u8>,
    begin_string: &str,
    msg_type: &[u8],
    header: &mut [(u32, &[u8])],
    body: &[u8],
) {
    // Stable, and for the few header fields an insertion sort: no allocation.
    header.sort_by_key(|(t, _)| *t);
    rest.clear();
    put(rest, tags::MSG_TYPE as i64, msg_type);
    for (t, v) in header.iter() {
        put(rest, *t as i64, v);
    }
    rest.extend_from_slice(body);
    let start = out.len();
    put(out, tags::BEGIN_STRING as i64, begin_string.as_bytes());
    out.extend_from_slice(b"9=");
    foxtrot_engine::format::decimal::push_int(out, rest.len() as i64);
    out.push(crate::decode::SOH);
    out.extend_from_slice(rest);
    let sum = out[start..].iter().fold(0u32, |a, &c| a + c as u32) % 256;
    out.extend_from_slice(&[
        b'1',
        b'0',
        b'=',
        b'0' + (sum / 100) as u8,
        b'0' + (sum / 10 % 10) as u8,
        b'0' + (sum % 10) as u8,
        crate::decode::SOH,
    ]);
}

/// Writes fields `tag=value|` in the order given.
pub fn body(fields: &[(u32, &[u8])]) -> Vec<u8> {
    let mut o = Vec::with_capacity(fields.len() * 12);
    for (t, v) in fields {
        put(&mut o, *t as i64, v);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Vec<u8> {
        s.replace('|', "\x01").into_bytes()
    }

    #[test]
    fn header_body_trailer_and_misplaced_tags() {
        let d = Dictionary::fix44();
        let raw = m("8=FIX.4.4|9=10|35=D|11=id|21=3|34=2|49=A|52=x|56=B|10=000|");
        let p = parse(&raw, &d).unwrap();
        assert!(!p.valid_structure);
        assert_eq!(p.misplaced, 34);
        assert_eq!(p.msg_type(), b"D");
        assert_eq!(p.body.len(), 2);
        assert_eq!(p.trailer.len(), 1);
        let raw = m("8=FIX.4.4|9=10|34=2|35=D|10=000|");
        assert_eq!(parse(&raw, &d).unwrap_err(), Garbled::FirstThree);
        let raw = m("8=FIX.4.4|9=10|35=0|4garbled=x|10=000|");
        assert_eq!(parse(&raw, &d).unwrap_err(), Garbled::FieldSyntax);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// A tag reads as the standard library reads the same digits, within
        /// i32, and nothing else reads at all.
        #[test]
        fn tags_read_as_the_standard_parser_reads_them(text in "-?[0-9]{0,12}|[-0-9a ]{0,6}|[0-9]{9,11}") {
            let b = text.as_bytes();
            let plain = (!b.is_empty() && b.len() <= 11 && b != b"-" && b.iter().skip(1).all(u8::is_ascii_digit)
                && (b[0] == b'-' || b[0].is_ascii_digit())
                && b.iter().filter(|c| c.is_ascii_digit()).count() <= 10)
                .then(|| text.parse::<i64>().ok())
                .flatten()
                .filter(|v| (i32::MIN as i64..=i32::MAX as i64).contains(v));
            proptest::prop_assert_eq!(parse_tag(b), plain, "{:?}", text);
        }
    }

    #[test]
    fn groups_are_read_entry_by_entry_and_end_at_a_foreign_field() {
        let d = Dictionary::fix44();
        let raw = m("8=FIX.4.4|9=10|35=D|386=3|336=PRE-OPEN|336=AFTER-HOURS|60=x|10=000|");
        let p = parse(&raw, &d).unwrap();
        let Item::Group(c, entries) = &p.body[0] else {
            panic!("{:?}", p.body)
        };
        assert_eq!((c.tag, entries.len()), (386, 2));
        assert_eq!(p.body[1].field().tag, 60);
    }

    #[test]
    fn an_echo_writes_tags_in_order() {
        let d = Dictionary::fix44();
        let raw = m("8=FIX.4.4|9=10|35=D|49=A|34=3|56=B|52=x|40=1|55=MSFT|60=t|54=1|21=3|11=id|10=000|");
        let p = parse(&raw, &d).unwrap();
        let mut b = Vec::new();
        p.body_text(&d, &mut b);
        assert_eq!(b, m("11=id|21=3|40=1|54=1|55=MSFT|60=t|"));
        let mut h = [(56, &b"B"[..]), (34, b"4"), (49, b"A"), (52, b"t")];
        let out = write_message("FIX.4.4", b"D", &mut h, &b);
        let s = String::from_utf8(out.clone()).unwrap().replace('\x01', "|");
        let body = "35=D|34=4|49=A|52=t|56=B|11=id|21=3|40=1|54=1|55=MSFT|60=t|";
        assert!(s.starts_with(&format!("8=FIX.4.4|9={}|{body}10=", body.len())), "{s}");
        assert_eq!(crate::framing::check_frame(&out), Ok(()));
    }
}
