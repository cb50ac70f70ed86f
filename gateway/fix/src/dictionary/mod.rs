//! FIX data dictionaries: which tags exist, their types and enumerated values,
//! and what each message may and must carry — header, body with its repeating
//! groups, trailer.
//!
//! Two formats read into the same [`Dictionary`]:
//! - the XML format brokers and exchanges distribute (QuickFIX's `<fix>`
//!   documents: fields, header, trailer, messages, components), read by
//!   [`Dictionary::from_xml`];
//! - foxtrot's compact text format ([`compact`]), one line per field and per
//!   message with components flattened, which the built-in FIX 4.2 and FIX 4.4
//!   dictionaries ([`Dictionary::fix42`], [`Dictionary::fix44`]) are shipped in.
//!   `foxtrot fix dict FILE.xml` converts the first into the second.
//!
//! Components are flattened when a dictionary is read: a message's scope holds
//! every field it may carry directly, the count tag of each group it may carry,
//! and whether each is required. A field of an optional component is never
//! required (even if the component marks it so); a group's fields are required
//! only in a required group; a sub-component or nested group keeps its own flag.

pub mod compact;
pub mod xml;

use std::collections::{BTreeMap, BTreeSet};

/// A FIX tag number as the dictionary knows it.
pub type Tag = u32;

/// How a field's value is written, as far as validation cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldType {
    /// Any text (STRING, CURRENCY, EXCHANGE, COUNTRY, LOCALMKTDATE, MONTHYEAR,
    /// DAYOFMONTH, DATA, and any type foxtrot does not check).
    Text,
    /// Exactly one character.
    Char,
    /// A signed integer (INT, LENGTH, NUMINGROUP, TAGNUM).
    Int,
    /// An unsigned integer (SEQNUM).
    SeqNum,
    /// A decimal without exponent or `+` (PRICE, QTY, AMT, FLOAT, PRICEOFFSET,
    /// PERCENTAGE).
    Decimal,
    /// `Y` or `N`.
    Boolean,
    /// `YYYYMMDD-HH:MM:SS[.f…]`.
    UtcTimestamp,
    /// `HH:MM:SS[.f…]`.
    UtcTimeOnly,
    /// `YYYYMMDD`.
    UtcDate,
    /// Bytes whose length the preceding LENGTH field gives (they may hold SOH).
    Data,
    /// Several values separated by spaces, each checked against the enumeration.
    MultipleValue,
}

impl FieldType {
    /// The type of a dictionary type name (`PRICE`, `UTCTIMESTAMP`, …).
    pub fn from_name(name: &str) -> FieldType {
        match name {
            "CHAR" => FieldType::Char,
            "INT" | "LENGTH" | "NUMINGROUP" | "TAGNUM" => FieldType::Int,
            "SEQNUM" => FieldType::SeqNum,
            "PRICE" | "QTY" | "AMT" | "FLOAT" | "PRICEOFFSET" | "PERCENTAGE" => FieldType::Decimal,
            "BOOLEAN" => FieldType::Boolean,
            "UTCTIMESTAMP" => FieldType::UtcTimestamp,
            "UTCTIMEONLY" => FieldType::UtcTimeOnly,
            "UTCDATE" | "UTCDATEONLY" => FieldType::UtcDate,
            "DATA" | "XMLDATA" => FieldType::Data,
            "MULTIPLEVALUESTRING" | "MULTIPLESTRINGVALUE" | "MULTIPLECHARVALUE" => FieldType::MultipleValue,
            _ => FieldType::Text,
        }
    }

    /// The name the compact format writes.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "STRING",
            FieldType::Char => "CHAR",
            FieldType::Int => "INT",
            FieldType::SeqNum => "SEQNUM",
            FieldType::Decimal => "DECIMAL",
            FieldType::Boolean => "BOOLEAN",
            FieldType::UtcTimestamp => "UTCTIMESTAMP",
            FieldType::UtcTimeOnly => "UTCTIMEONLY",
            FieldType::UtcDate => "UTCDATE",
            FieldType::Data => "DATA",
            FieldType::MultipleValue => "MULTIPLEVALUE",
        }
    }

    /// The type the compact format's name stands for.
    pub fn from_compact(name: &str) -> Option<FieldType> {
        Some(match name {
            "STRING" => FieldType::Text,
            "CHAR" => FieldType::Char,
            "INT" => FieldType::Int,
            "SEQNUM" => FieldType::SeqNum,
            "DECIMAL" => FieldType::Decimal,
            "BOOLEAN" => FieldType::Boolean,
            "UTCTIMESTAMP" => FieldType::UtcTimestamp,
            "UTCTIMEONLY" => FieldType::UtcTimeOnly,
            "UTCDATE" => FieldType::UtcDate,
            "DATA" => FieldType::Data,
            "MULTIPLEVALUE" => FieldType::MultipleValue,
            _ => return None,
        })
    }
}

/// One defined field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// Its tag.
    pub tag: Tag,
    /// Its name in the specification.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Its enumerated values, sorted (empty: any value of its type).
    pub values: Vec<String>,
}

/// What a header, a trailer, a message body or a group entry may carry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Every field (and group count tag) it may carry, in definition order.
    pub order: Vec<Tag>,
    /// The same, with whether each is required.
    pub fields: BTreeMap<Tag, bool>,
    /// Its repeating groups, by count tag.
    pub groups: BTreeMap<Tag, GroupDef>,
}

impl Scope {
    /// Adds a field (or a group's count tag); a second mention keeps the first
    /// place and becomes required if either is.
    pub fn add(&mut self, tag: Tag, required: bool) {
        match self.fields.get_mut(&tag) {
            Some(r) => *r |= required,
            None => {
                self.fields.insert(tag, required);
                self.order.push(tag);
            }
        }
    }

    /// Whether it may carry `tag`.
    #[inline]
    pub fn contains(&self, tag: Tag) -> bool {
        self.fields.contains_key(&tag)
    }

    /// Its required tags, ascending.
    pub fn required(&self) -> impl Iterator<Item = Tag> + '_ {
        self.fields.iter().filter(|(_, r)| **r).map(|(t, _)| *t)
    }

    /// The group whose count tag is `tag`, if it is one.
    #[inline]
    pub fn group(&self, tag: Tag) -> Option<&GroupDef> {
        self.groups.get(&tag)
    }

    /// `tag`'s place in the definition order (for writing a group entry in it).
    pub fn position(&self, tag: Tag) -> usize {
        self.order.iter().position(|t| *t == tag).unwrap_or(usize::MAX)
    }
}

/// A repeating group: its delimiter (the first field of every entry) and the
/// scope of one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDef {
    /// The field every entry starts with.
    pub delim: Tag,
    /// What one entry may carry.
    pub scope: Scope,
}

/// One message type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageDef {
    /// MsgType (35).
    pub msg_type: String,
    /// Its name.
    pub name: String,
    /// Whether it is a session-level (administrative) message.
    pub admin: bool,
    /// Its body.
    pub scope: Scope,
}

/// A whole data dictionary. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dictionary {
    /// The BeginString it describes (`FIX.4.2`, `FIX.4.4`).
    pub begin_string: String,
    /// Every defined field, by tag.
    pub fields: BTreeMap<Tag, FieldDef>,
    /// The standard header.
    pub header: Scope,
    /// The standard trailer.
    pub trailer: Scope,
    /// Every message type, by MsgType.
    pub messages: BTreeMap<String, MessageDef>,
}

/// Why a dictionary could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data dictionary {origin}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
pub struct DictionaryError {
    /// The file (or `<FIX.4.4 built in>`).
    pub origin: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The built-in FIX 4.2 dictionary, in the compact format.
pub const FIX42_TEXT: &str = include_str!("../../dict/FIX42.txt");
/// The built-in FIX 4.4 dictionary, in the compact format.
pub const FIX44_TEXT: &str = include_str!("../../dict/FIX44.txt");

impl Dictionary {
    /// The built-in FIX 4.2 dictionary.
    pub fn fix42() -> Dictionary {
        compact::read(FIX42_TEXT, "<FIX.4.2 built in>").expect("the built-in FIX 4.2 dictionary reads (tested)")
    }

    /// The built-in FIX 4.4 dictionary.
    pub fn fix44() -> Dictionary {
        compact::read(FIX44_TEXT, "<FIX.4.4 built in>").expect("the built-in FIX 4.4 dictionary reads (tested)")
    }

    /// The built-in dictionary of `begin_string`, read once per process and
    /// shared, if foxtrot has one.
    pub fn shared(begin_string: &str) -> Option<std::sync::Arc<Dictionary>> {
        use std::sync::{Arc, OnceLock};
        static FIX42: OnceLock<Arc<Dictionary>> = OnceLock::new();
        static FIX44: OnceLock<Arc<Dictionary>> = OnceLock::new();
        match begin_string {
            "FIX.4.2" => Some(FIX42.get_or_init(|| Arc::new(Self::fix42())).clone()),
            "FIX.4.4" => Some(FIX44.get_or_init(|| Arc::new(Self::fix44())).clone()),
            _ => None,
        }
    }

    /// The built-in dictionary of `begin_string`, if foxtrot has one.
    pub fn builtin(begin_string: &str) -> Option<Dictionary> {
        match begin_string {
            "FIX.4.2" => Some(Self::fix42()),
            "FIX.4.4" => Some(Self::fix44()),
            _ => None,
        }
    }

    /// Reads a dictionary file: QuickFIX XML (a `<fix` document) or the compact
    /// format, whichever it is.
    pub fn load(path: &std::path::Path) -> Result<Dictionary, DictionaryError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DictionaryError {
            origin: origin.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        if text.trim_start().starts_with('<') {
            Self::from_xml(&text, &origin)
        } else {
            compact::read(&text, &origin)
        }
    }

    /// Reads a QuickFIX-style XML dictionary.
    pub fn from_xml(text: &str, origin: &str) -> Result<Dictionary, DictionaryError> {
        xml::read(text, origin)
    }

    /// The field `tag`, if it is defined.
    #[inline]
    pub fn field(&self, tag: Tag) -> Option<&FieldDef> {
        self.fields.get(&tag)
    }

    /// The message type `msg_type`, if it is defined.
    #[inline]
    pub fn message(&self, msg_type: &[u8]) -> Option<&MessageDef> {
        std::str::from_utf8(msg_type).ok().and_then(|t| self.messages.get(t))
    }

    /// Whether `tag` belongs in the header (the dictionary's, or one of the
    /// standard header tags every FIX version shares).
    #[inline]
    pub fn is_header(&self, tag: i64) -> bool {
        STANDARD_HEADER.contains(&tag) || u32::try_from(tag).is_ok_and(|t| self.header.contains(t))
    }

    /// Whether `tag` belongs in the trailer.
    #[inline]
    pub fn is_trailer(&self, tag: i64) -> bool {
        matches!(tag, 93 | 89 | 10) || u32::try_from(tag).is_ok_and(|t| self.trailer.contains(t))
    }

    /// Whether `tag` is a data field (its value's length is the previous field's).
    #[inline]
    pub fn is_data(&self, tag: i64) -> bool {
        u32::try_from(tag)
            .ok()
            .and_then(|t| self.field(t))
            .is_some_and(|f| f.ty == FieldType::Data)
    }

    /// Every tag a message, header, trailer or group refers to is defined.
    pub fn check(&self, origin: &str) -> Result<(), DictionaryError> {
        let mut undefined = BTreeSet::new();
        let mut walk = |s: &Scope| {
            walk_scope(s, &mut |t| {
                if !self.fields.contains_key(&t) {
                    undefined.insert(t);
                }
            })
        };
        walk(&self.header);
        walk(&self.trailer);
        for m in self.messages.values() {
            walk(&m.scope);
        }
        match undefined.first() {
            Some(t) => Err(DictionaryError {
                origin: origin.into(),
                line: 0,
                message: format!("tag {t} is used but not defined in <fields>"),
            }),
            None => Ok(()),
        }
    }
}

fn walk_scope(s: &Scope, f: &mut impl FnMut(Tag)) {
    for t in &s.order {
        f(*t);
    }
    for g in s.groups.values() {
        walk_scope(&g.scope, f);
    }
}

/// Header tags of every FIX version, header even without a dictionary.
const STANDARD_HEADER: [i64; 29] = [
    8, 9, 35, 49, 56, 115, 128, 90, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122, 212, 213, 347, 369, 370,
    1128, 1129, 627,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_dictionaries_read_and_hold_what_the_session_checks() {
        for (d, v) in [(Dictionary::fix42(), "FIX.4.2"), (Dictionary::fix44(), "FIX.4.4")] {
            assert_eq!(d.begin_string, v);
            d.check(v).unwrap();
            let nos = d.message(b"D").expect("NewOrderSingle");
            assert!(!nos.admin && nos.scope.fields[&11], "{v}: ClOrdID required");
            assert!(d.message(b"A").unwrap().admin);
            assert_eq!(d.field(21).unwrap().values, ["1", "2", "3"], "{v}: HandlInst");
            assert!(d.header.fields[&56] && d.header.fields[&34]);
            assert!(d.is_header(115) && !d.is_header(11) && d.is_trailer(10));
            assert_eq!(d.field(38).unwrap().ty, FieldType::Decimal);
            assert_eq!(d.field(60).unwrap().ty, FieldType::UtcTimestamp);
            assert!(d.message(b"*").is_none());
        }
        let d = Dictionary::fix44();
        // NoTradingSessions (386) is a group of NewOrderSingle led by TradingSessionID.
        let g = d.message(b"D").unwrap().scope.group(386).expect("group 386");
        assert_eq!(g.delim, 336);
        assert!(d.field(167).unwrap().values.iter().any(|v| v == "CS"));
        assert!(Dictionary::fix42()
            .field(167)
            .unwrap()
            .values
            .iter()
            .any(|v| v == "FUT"));
    }

    #[test]
    fn compact_text_round_trips() {
        for d in [Dictionary::fix42(), Dictionary::fix44()] {
            let text = compact::write(&d);
            assert_eq!(compact::read(&text, "again").unwrap(), d);
        }
    }
}
