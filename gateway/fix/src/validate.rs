//! Checking a message against its session's data dictionary, as counterparties
//! certify it: the first problem found becomes a session Reject with the
//! standard reason, the tag and the MsgType.
//!
//! The checks, in order (the first failing one is reported):
//! 1. structure — header, then body, then trailer
//!    ([`Reason::TagSpecifiedOutOfRequiredOrder`], the first misplaced tag), if
//!    `fields_out_of_order`;
//! 2. the MsgType is defined ([`Reason::InvalidMsgType`]);
//! 3. required fields present — the header's, the trailer's, then the body's,
//!    each in ascending tag order, then those of every group entry
//!    ([`Reason::RequiredTagMissing`]);
//! 4. every field of the header, the trailer and the body, in ascending tag
//!    order: not the same tag twice ([`Reason::TagAppearsMoreThanOnce`]), a
//!    value ([`Reason::TagSpecifiedWithoutAValue`], if `fields_have_values`), the
//!    value's format ([`Reason::IncorrectDataFormatForValue`]) and enumeration
//!    ([`Reason::ValueIsIncorrect`]), a defined tag ([`Reason::InvalidTagNumber`]),
//!    a tag of this message type ([`Reason::TagNotDefinedForThisMessageType`]),
//!    and a group count equal to its entries
//!    ([`Reason::IncorrectNumInGroupCount`]). Tags from 5000 up (user-defined)
//!    are checked only with `user_defined_fields`; tags below it are not checked
//!    against the dictionary with `allow_unknown_msg_fields`.

use crate::dictionary::{Dictionary, FieldType, Scope};
use crate::message::{int, Item, Parsed};

/// SessionRejectReason (373) values, with the standard texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reason {
    /// 0.
    InvalidTagNumber = 0,
    /// 1.
    RequiredTagMissing = 1,
    /// 2.
    TagNotDefinedForThisMessageType = 2,
    /// 4.
    TagSpecifiedWithoutAValue = 4,
    /// 5.
    ValueIsIncorrect = 5,
    /// 6.
    IncorrectDataFormatForValue = 6,
    /// 9.
    CompIdProblem = 9,
    /// 10.
    SendingTimeAccuracyProblem = 10,
    /// 11.
    InvalidMsgType = 11,
    /// 13.
    TagAppearsMoreThanOnce = 13,
    /// 14.
    TagSpecifiedOutOfRequiredOrder = 14,
    /// 16.
    IncorrectNumInGroupCount = 16,
}

impl Reason {
    /// The standard text of the reason (what Text (58) carries).
    pub fn text(self) -> &'static str {
        match self {
            Reason::InvalidTagNumber => "Invalid tag number",
            Reason::RequiredTagMissing => "Required tag missing",
            Reason::TagNotDefinedForThisMessageType => "Tag not defined for this message type",
            Reason::TagSpecifiedWithoutAValue => "Tag specified without a value",
            Reason::ValueIsIncorrect => "Value is incorrect (out of range) for this tag",
            Reason::IncorrectDataFormatForValue => "Incorrect data format for value",
            Reason::CompIdProblem => "CompID problem",
            Reason::SendingTimeAccuracyProblem => "SendingTime accuracy problem",
            Reason::InvalidMsgType => "Invalid MsgType",
            Reason::TagAppearsMoreThanOnce => "Tag appears more than once",
            Reason::TagSpecifiedOutOfRequiredOrder => "Tag specified out of required order",
            Reason::IncorrectNumInGroupCount => "Incorrect NumInGroup count for repeating group",
        }
    }

    /// Whether the reason is defined in `begin_string` (FIX 4.2 defines 0–11;
    /// a Reject for a later reason carries no SessionRejectReason there).
    pub fn defined_in(self, begin_string: &str) -> bool {
        begin_string != "FIX.4.2" || (self as u8) <= Reason::InvalidMsgType as u8
    }
}

/// What validation found wrong: the reason and, if it is about one, the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The reason.
    pub reason: Reason,
    /// The tag (RefTagID, 371), if the reason is about one.
    pub tag: Option<i64>,
}

impl Violation {
    fn at(reason: Reason, tag: i64) -> Violation {
        Violation { reason, tag: Some(tag) }
    }
}

/// Which checks a session applies (QuickFIX's settings of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validation {
    /// Check messages against the dictionary at all.
    pub enabled: bool,
    /// ValidateFieldsOutOfOrder: header, body, trailer in that order.
    pub fields_out_of_order: bool,
    /// ValidateFieldsHaveValues: no empty values.
    pub fields_have_values: bool,
    /// ValidateUserDefinedFields: tags from 5000 up must be in the dictionary too.
    pub user_defined_fields: bool,
    /// AllowUnknownMsgFields: tags below 5000 not in the dictionary pass.
    pub allow_unknown_msg_fields: bool,
}

impl Default for Validation {
    fn default() -> Self {
        Validation {
            enabled: true,
            fields_out_of_order: true,
            fields_have_values: true,
            user_defined_fields: true,
            allow_unknown_msg_fields: false,
        }
    }
}

/// The first tag user-defined fields may have.
const USER_MIN: i64 = 5000;

/// Checks `p` against `d`. See the module docs for the order of the checks.
pub fn validate(p: &Parsed, d: &Dictionary, v: &Validation) -> Result<(), Violation> {
    if !v.enabled {
        return Ok(());
    }
    if v.fields_out_of_order && !p.valid_structure {
        return Err(Violation::at(Reason::TagSpecifiedOutOfRequiredOrder, p.misplaced));
    }
    let Some(msg) = d.message(p.msg_type()) else {
        return Err(Violation {
            reason: Reason::InvalidMsgType,
            tag: None,
        });
    };
    required(&p.header, &d.header)?;
    required(&p.trailer, &d.trailer)?;
    required(&p.body, &msg.scope)?;
    groups_required(&p.body, &msg.scope)?;
    iterate(&p.header, d, None, v, true)?;
    iterate(&p.trailer, d, None, v, true)?;
    iterate(&p.body, d, Some(&msg.scope), v, false)
}

fn required(items: &[Item], scope: &Scope) -> Result<(), Violation> {
    for t in scope.required() {
        if !items.iter().any(|i| i.field().tag == t as i64) {
            return Err(Violation::at(Reason::RequiredTagMissing, t as i64));
        }
    }
    Ok(())
}

fn groups_required(items: &[Item], scope: &Scope) -> Result<(), Violation> {
    let mut groups: Vec<&Item> = items.iter().filter(|i| matches!(i, Item::Group(..))).collect();
    groups.sort_by_key(|i| i.field().tag);
    for i in groups {
        let Item::Group(count, entries) = i else { continue };
        let Some(g) = u32::try_from(count.tag).ok().and_then(|t| scope.group(t)) else {
            continue;
        };
        for e in entries {
            required(e, &g.scope)?;
            groups_required(e, &g.scope)?;
        }
    }
    Ok(())
}

/// Checks every field of a header, trailer or body in ascending tag order.
/// `scope` is the message body's (for membership and group counts).
fn iterate(
    items: &[Item],
    d: &Dictionary,
    scope: Option<&Scope>,
    v: &Validation,
    non_body: bool,
) -> Result<(), Violation> {
    let mut sorted: Vec<&Item> = items.iter().collect();
    if non_body {
        // BeginString, BodyLength and MsgType first, then ascending.
        sorted.sort_by_key(|i| match i.field().tag {
            8 => (0, 0),
            9 => (0, 1),
            35 => (0, 2),
            t => (1, t),
        });
    } else {
        sorted.sort_by_key(|i| i.field().tag);
    }
    let mut last: Option<i64> = None;
    for i in sorted {
        let f = i.field();
        if last == Some(f.tag) {
            return Err(Violation::at(Reason::TagAppearsMoreThanOnce, f.tag));
        }
        if v.fields_have_values && f.value.is_empty() {
            return Err(Violation::at(Reason::TagSpecifiedWithoutAValue, f.tag));
        }
        let def = d.field_info(f.tag);
        if let Some((ty, enumerated)) = def {
            if !well_formed(ty, f.value) {
                return Err(Violation::at(Reason::IncorrectDataFormatForValue, f.tag));
            }
            if enumerated {
                let values = u32::try_from(f.tag)
                    .ok()
                    .and_then(|t| d.field(t))
                    .map_or(&[][..], |x| &x.values[..]);
                if !enum_ok(ty, values, f.value) {
                    return Err(Violation::at(Reason::ValueIsIncorrect, f.tag));
                }
            }
        }
        let check_tag = if f.tag < USER_MIN {
            !v.allow_unknown_msg_fields
        } else {
            v.user_defined_fields
        };
        if check_tag {
            if def.is_none() {
                return Err(Violation::at(Reason::InvalidTagNumber, f.tag));
            }
            if !d.is_header(f.tag) && !d.is_trailer(f.tag) {
                if let Some(s) = scope {
                    if !s.contains(f.tag as u32) {
                        return Err(Violation::at(Reason::TagNotDefinedForThisMessageType, f.tag));
                    }
                    if let Some(_g) = s.group(f.tag as u32) {
                        let entries = match i {
                            Item::Group(_, e) => e.len() as i64,
                            Item::Field(_) => 0,
                        };
                        if int(f.value) != Some(entries) {
                            return Err(Violation::at(Reason::IncorrectNumInGroupCount, f.tag));
                        }
                    }
                }
            }
        }
        last = Some(f.tag);
    }
    Ok(())
}

/// Whether `v` is one of `values` (sorted), or for a MultipleValue field, each
/// of its space-separated values is.
pub fn enum_ok(ty: FieldType, values: &[String], v: &[u8]) -> bool {
    let has = |x: &[u8]| values.binary_search_by(|e| e.as_bytes().cmp(x)).is_ok();
    if ty == FieldType::MultipleValue {
        v.split(|&c| c == b' ').all(has)
    } else {
        has(v)
    }
}

/// Whether `v` is well formed for `ty` (the syntax counterparties' engines accept).
pub fn well_formed(ty: FieldType, v: &[u8]) -> bool {
    let digits = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    match ty {
        FieldType::Text | FieldType::Data | FieldType::MultipleValue => true,
        FieldType::Char => v.len() == 1,
        FieldType::Boolean => v == b"Y" || v == b"N",
        FieldType::Int => int(v).is_some() || (matches!(v.first(), Some(b'-')) && digits(&v[1..]) && v.len() <= 20),
        FieldType::SeqNum => digits(v) && v.len() <= 20,
        FieldType::Decimal => {
            let b = v.strip_prefix(b"-").unwrap_or(v);
            let (int_part, frac) = match b.iter().position(|&c| c == b'.') {
                Some(i) => (&b[..i], Some(&b[i + 1..])),
                None => (b, None),
            };
            let ok_int = int_part.iter().all(u8::is_ascii_digit);
            let ok_frac = frac.is_none_or(|f| f.iter().all(u8::is_ascii_digit));
            let any = !int_part.is_empty() || frac.is_some_and(|f| !f.is_empty());
            ok_int && ok_frac && any
        }
        FieldType::UtcTimestamp => timestamp(v),
        FieldType::UtcTimeOnly => time_of_day(v),
        FieldType::UtcDate => v.len() == 8 && date(v),
    }
}

fn two(b: &[u8]) -> Option<u32> {
    (b.len() == 2 && b.iter().all(u8::is_ascii_digit)).then(|| (b[0] - b'0') as u32 * 10 + (b[1] - b'0') as u32)
}

fn date(b: &[u8]) -> bool {
    b.len() >= 8
        && b[..8].iter().all(u8::is_ascii_digit)
        && two(&b[4..6]).is_some_and(|m| (1..=12).contains(&m))
        && two(&b[6..8]).is_some_and(|d| (1..=31).contains(&d))
}

/// `HH:MM:SS[.f{1,9}]`.
fn time_of_day(b: &[u8]) -> bool {
    if !(8..=18).contains(&b.len()) || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let ok = two(&b[0..2]).is_some_and(|h| h <= 23)
        && two(&b[3..5]).is_some_and(|m| m <= 59)
        && two(&b[6..8]).is_some_and(|s| s <= 60);
    ok && (b.len() == 8 || (b[8] == b'.' && b[9..].iter().all(u8::is_ascii_digit)))
}

/// `YYYYMMDD-HH:MM:SS[.f{1,9}]`.
fn timestamp(b: &[u8]) -> bool {
    (17..=27).contains(&b.len()) && date(&b[..8]) && b[8] == b'-' && time_of_day(&b[9..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse;

    fn check(s: &str) -> Result<(), Violation> {
        let raw = s.replace('|', "\x01").into_bytes();
        let d = Dictionary::fix44();
        let p = parse(&raw, &d).expect("parses");
        validate(&p, &d, &Validation::default())
    }

    const H: &str = "8=FIX.4.4|9=1|35=D|34=2|49=TW|52=20260105-14:30:00|56=ISLD|";

    #[test]
    fn each_check_names_its_reason_and_tag() {
        let ok = format!("{H}11=ID|21=1|40=1|54=1|38=002000.00|55=INTC|60=20260105-14:30:00|10=000|");
        assert_eq!(check(&ok), Ok(()));
        let cases = [
            ("21=1", "21=4", Reason::ValueIsIncorrect, Some(21)),
            (
                "38=002000.00",
                "38=+200.00",
                Reason::IncorrectDataFormatForValue,
                Some(38),
            ),
            ("40=1", "40=1|40=2", Reason::TagAppearsMoreThanOnce, Some(40)),
            ("11=ID|", "", Reason::RequiredTagMissing, Some(11)),
            ("55=INTC", "55=INTC|999=HI", Reason::InvalidTagNumber, Some(999)),
            (
                "55=INTC",
                "55=INTC|112=X",
                Reason::TagNotDefinedForThisMessageType,
                Some(112),
            ),
            ("55=INTC", "55=", Reason::TagSpecifiedWithoutAValue, Some(55)),
            (
                "55=INTC",
                "55=INTC|386=3|336=A|336=B",
                Reason::IncorrectNumInGroupCount,
                Some(386),
            ),
            (
                "60=20260105-14:30:00",
                "60=20260105",
                Reason::IncorrectDataFormatForValue,
                Some(60),
            ),
        ];
        for (from, to, reason, tag) in cases {
            let bad = ok.replacen(from, to, 1);
            assert_eq!(check(&bad), Err(Violation { reason, tag }), "{bad}");
        }
        let star = format!("{}|10=000|", H.replace("35=D", "35=*").trim_end_matches('|'));
        assert_eq!(check(&star).unwrap_err().reason, Reason::InvalidMsgType);
        let out_of_order = "8=FIX.4.4|9=1|35=D|11=id|34=2|49=TW|52=20260105-14:30:00|56=ISLD|10=000|";
        assert_eq!(
            check(out_of_order),
            Err(Violation {
                reason: Reason::TagSpecifiedOutOfRequiredOrder,
                tag: Some(34)
            })
        );
    }

    #[test]
    fn formats() {
        use FieldType::*;
        for (t, v, ok) in [
            (Decimal, "1.", true),
            (Decimal, ".5", true),
            (Decimal, "-2", true),
            (Decimal, "+2", false),
            (Decimal, "1e5", false),
            (Decimal, ".", false),
            (Int, "-1", true),
            (Int, "1.0", false),
            (Char, "ab", false),
            (Boolean, "Y", true),
            (Boolean, "y", false),
            (UtcTimestamp, "20260105-14:30:00.123456789", true),
            (UtcTimestamp, "20261305-14:30:00", false),
            (UtcTimestamp, "20040415", false),
            (UtcTimeOnly, "14:30:00", true),
            (UtcDate, "20260105", true),
        ] {
            assert_eq!(well_formed(t, v.as_bytes()), ok, "{t:?} {v:?}");
        }
    }
}
