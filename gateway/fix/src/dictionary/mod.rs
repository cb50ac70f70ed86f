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
    /// Every type, in declaration order (a type's index in the per-tag table).
    const ALL: [FieldType; 11] = [
        FieldType::Text,
        FieldType::Char,
        FieldType::Int,
        FieldType::SeqNum,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::UtcTimestamp,
        FieldType::UtcTimeOnly,
        FieldType::UtcDate,
        FieldType::Data,
        FieldType::MultipleValue,
    ];

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
///
/// Built through [`add`](Self::add) and [`add_group`](Self::add_group), which
/// keep the lookups of a message's fields compact: a bit per tag below
/// [`DENSE_TAGS`] for membership and for group count tags, and the required tags
/// in one sorted list — a few cache lines per scope instead of a walk of B-tree
/// nodes spread over the heap (what an order costs a venue that has not seen
/// one for a while is mostly those misses). The maps stay for everything else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Every field (and group count tag) it may carry, in definition order.
    pub order: Vec<Tag>,
    /// The same, with whether each is required.
    pub fields: BTreeMap<Tag, bool>,
    /// Its repeating groups, by count tag.
    pub groups: BTreeMap<Tag, GroupDef>,
    /// A bit per tag below [`DENSE_TAGS`] it may carry.
    present: TagBits,
    /// A bit per group count tag below [`DENSE_TAGS`].
    group_counts: TagBits,
    /// Its required tags, ascending.
    required: Vec<Tag>,
}

/// Tags below this are looked up in flat tables (bits per scope, a 16-bit
/// entry per tag for the dictionary); above it (user-defined ranges of custom
/// dictionaries) in the maps. The tables follow the maps as
/// [`Scope::add`]/[`Scope::add_group`] and [`Dictionary::reindex`] build them:
/// code that edits the public maps directly calls `reindex` after.
pub const DENSE_TAGS: Tag = 16_384;

/// A set of tags below [`DENSE_TAGS`], a bit each, as long as its largest tag
/// needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct TagBits(Vec<u64>);

impl TagBits {
    fn insert(&mut self, tag: Tag) {
        let w = (tag / 64) as usize;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (tag % 64);
    }

    /// Whether `tag` (below [`DENSE_TAGS`]) is in the set.
    #[inline]
    fn contains(&self, tag: Tag) -> bool {
        self.0
            .get((tag / 64) as usize)
            .is_some_and(|w| w & (1 << (tag % 64)) != 0)
    }
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
                if tag < DENSE_TAGS {
                    self.present.insert(tag);
                }
            }
        }
        if required {
            if let Err(at) = self.required.binary_search(&tag) {
                self.required.insert(at, tag);
            }
        }
    }

    /// Makes `tag` (added with [`add`](Self::add)) the count tag of group `g`.
    pub fn add_group(&mut self, tag: Tag, g: GroupDef) {
        if tag < DENSE_TAGS {
            self.group_counts.insert(tag);
        }
        self.groups.insert(tag, g);
    }

    /// Whether it may carry `tag`.
    #[inline]
    pub fn contains(&self, tag: Tag) -> bool {
        if tag < DENSE_TAGS {
            self.present.contains(tag)
        } else {
            self.fields.contains_key(&tag)
        }
    }

    /// Its required tags, ascending.
    pub fn required(&self) -> impl Iterator<Item = Tag> + '_ {
        self.required.iter().copied()
    }

    /// The group whose count tag is `tag`, if it is one.
    #[inline]
    pub fn group(&self, tag: Tag) -> Option<&GroupDef> {
        if tag < DENSE_TAGS && !self.group_counts.contains(tag) {
            return None;
        }
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
    /// An entry per tag below [`DENSE_TAGS`] (up to the largest one it knows):
    /// [`KIND_FIELD`], [`KIND_HEADER`], [`KIND_TRAILER`], [`KIND_DATA`],
    /// [`KIND_ENUM`] and the type's index in the bits from [`KIND_TYPE_SHIFT`] —
    /// what reading and checking a message ask of every field, without a map
    /// lookup. Built by [`reindex`](Self::reindex) once the dictionary is read.
    kinds: Vec<u16>,
}

/// In [`Dictionary`]'s per-tag entry: the tag is a defined field.
const KIND_FIELD: u16 = 1;
/// The tag belongs in the header.
const KIND_HEADER: u16 = 2;
/// The tag belongs in the trailer.
const KIND_TRAILER: u16 = 4;
/// The tag is a data field.
const KIND_DATA: u16 = 8;
/// The field's values are enumerated.
const KIND_ENUM: u16 = 16;
/// Where the field type's index in [`FieldType::ALL`] starts.
const KIND_TYPE_SHIFT: u16 = 8;

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
        if tag < DENSE_TAGS && self.kind(tag as i64).is_some_and(|k| k & KIND_FIELD == 0) {
            return None;
        }
        self.fields.get(&tag)
    }

    /// The type of field `tag` and whether its values are enumerated, if it is
    /// defined — what checking a value needs, without the field's definition.
    #[inline]
    pub fn field_info(&self, tag: i64) -> Option<(FieldType, bool)> {
        match self.kind(tag) {
            Some(k) => (k & KIND_FIELD != 0).then(|| {
                let ty = FieldType::ALL[((k >> KIND_TYPE_SHIFT) as usize).min(FieldType::ALL.len() - 1)];
                (ty, k & KIND_ENUM != 0)
            }),
            None => u32::try_from(tag)
                .ok()
                .and_then(|t| self.fields.get(&t))
                .map(|f| (f.ty, !f.values.is_empty())),
        }
    }

    /// Rebuilds the per-tag table from the fields, the header and the trailer
    /// (the readers call it; call it again after changing them).
    pub fn reindex(&mut self) {
        let top = self
            .fields
            .keys()
            .chain(&self.header.order)
            .chain(&self.trailer.order)
            .copied()
            .chain(STANDARD_HEADER.iter().map(|&t| t as Tag))
            .filter(|&t| t < DENSE_TAGS)
            .max()
            .unwrap_or(0);
        let mut kinds = vec![0u16; top as usize + 1];
        for (t, f) in self.fields.range(..DENSE_TAGS) {
            let ty = FieldType::ALL.iter().position(|x| *x == f.ty).unwrap_or(0) as u16;
            kinds[*t as usize] |= KIND_FIELD
                | if f.ty == FieldType::Data { KIND_DATA } else { 0 }
                | if f.values.is_empty() { 0 } else { KIND_ENUM }
                | ty << KIND_TYPE_SHIFT;
        }
        for t in self
            .header
            .order
            .iter()
            .copied()
            .chain(STANDARD_HEADER.iter().map(|&t| t as Tag))
        {
            if t < DENSE_TAGS {
                kinds[t as usize] |= KIND_HEADER;
            }
        }
        for t in self.trailer.order.iter().copied().chain([93, 89, 10]) {
            if t < DENSE_TAGS {
                kinds[t as usize] |= KIND_TRAILER;
            }
        }
        self.kinds = kinds;
    }

    /// `tag`'s byte in the per-tag table: `None` when the table does not cover
    /// it (negative, from [`DENSE_TAGS`] up, or a dictionary never indexed),
    /// `Some(0)` for a tag nothing defines.
    #[inline]
    fn kind(&self, tag: i64) -> Option<u16> {
        if self.kinds.is_empty() || !(0..DENSE_TAGS as i64).contains(&tag) {
            return None;
        }
        Some(self.kinds.get(tag as usize).copied().unwrap_or(0))
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
        match self.kind(tag) {
            Some(k) => k & KIND_HEADER != 0,
            None => STANDARD_HEADER.contains(&tag) || u32::try_from(tag).is_ok_and(|t| self.header.contains(t)),
        }
    }

    /// Whether `tag` belongs in the trailer.
    #[inline]
    pub fn is_trailer(&self, tag: i64) -> bool {
        match self.kind(tag) {
            Some(k) => k & KIND_TRAILER != 0,
            None => matches!(tag, 93 | 89 | 10) || u32::try_from(tag).is_ok_and(|t| self.trailer.contains(t)),
        }
    }

    /// Whether `tag` is a data field (its value's length is the previous field's).
    #[inline]
    pub fn is_data(&self, tag: i64) -> bool {
        if let Some(k) = self.kind(tag) {
            return k & KIND_DATA != 0;
        }
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

    /// The flat tables answer as the maps they summarise do, for every tag of
    /// both built-in dictionaries, QuickFIX's own XML (when the test has it), and
    /// a custom dictionary with tags past the tables.
    #[test]
    fn flat_lookups_agree_with_the_maps() {
        let mut dicts = vec![Dictionary::fix42(), Dictionary::fix44()];
        let custom = "fix FIX.4.4\nfield 8 BeginString STRING\nfield 9 BodyLength INT\n\
            field 35 MsgType STRING\nfield 10 CheckSum STRING\nfield 95 RawDataLength INT\n\
            field 96 RawData DATA\nfield 20001 Custom INT\nfield 20002 CustomData DATA\n\
            field 20000 CustomCount INT\nheader 8! 9! 35! 20001\ntrailer 10!\n\
            message 0 Heartbeat admin 95 96 20000{ 20001! 20002 }\n";
        dicts.push(compact::read(custom, "custom").unwrap());
        if let Some(dir) = std::env::var_os("FOXTROT_QUICKFIX_SPEC") {
            for f in ["FIX42.xml", "FIX44.xml"] {
                let path = std::path::Path::new(&dir).join(f);
                dicts.push(Dictionary::load(&path).unwrap());
            }
        }
        fn scope_agrees(s: &Scope, at: &str) {
            let want: Vec<Tag> = s.fields.iter().filter(|(_, r)| **r).map(|(t, _)| *t).collect();
            assert_eq!(s.required().collect::<Vec<_>>(), want, "{at}: required");
            for t in (0..DENSE_TAGS + 6_000).chain([u32::MAX]) {
                assert_eq!(s.contains(t), s.fields.contains_key(&t), "{at}: contains {t}");
                assert_eq!(s.group(t).is_some(), s.groups.contains_key(&t), "{at}: group {t}");
            }
            for (t, g) in &s.groups {
                scope_agrees(&g.scope, &format!("{at}/{t}"));
            }
        }
        for d in &dicts {
            for t in (-3..DENSE_TAGS as i64 + 6_000).chain([i64::from(u32::MAX), i64::MIN]) {
                let def = u32::try_from(t).ok().and_then(|t| d.fields.get(&t));
                let header =
                    STANDARD_HEADER.contains(&t) || u32::try_from(t).is_ok_and(|u| d.header.fields.contains_key(&u));
                let trailer =
                    [93, 89, 10].contains(&t) || u32::try_from(t).is_ok_and(|u| d.trailer.fields.contains_key(&u));
                let at = format!("{} tag {t}", d.begin_string);
                assert_eq!(d.is_header(t), header, "{at}: header");
                assert_eq!(d.is_trailer(t), trailer, "{at}: trailer");
                assert_eq!(d.is_data(t), def.is_some_and(|f| f.ty == FieldType::Data), "{at}: data");
                if let Ok(u) = u32::try_from(t) {
                    assert_eq!(d.field(u), def, "{at}: field");
                }
                assert_eq!(d.field_info(t), def.map(|f| (f.ty, !f.values.is_empty())), "{at}: info");
            }
            scope_agrees(&d.header, "header");
            scope_agrees(&d.trailer, "trailer");
            for (mt, m) in &d.messages {
                scope_agrees(&m.scope, mt);
            }
        }
        // The custom dictionary's tags past the tables are found in the maps.
        let c = &dicts[2];
        assert!(c.is_header(20001) && c.is_data(20002) && c.is_data(96) && !c.is_data(95));
        let hb = &c.message(b"0").unwrap().scope;
        assert!(hb.contains(20000) && hb.group(20000).is_some_and(|g| g.scope.required().eq([20001])));
    }

    #[test]
    fn compact_text_round_trips() {
        for d in [Dictionary::fix42(), Dictionary::fix44()] {
            let text = compact::write(&d);
            assert_eq!(compact::read(&text, "again").unwrap(), d);
        }
    }
}
