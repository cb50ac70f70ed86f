//! foxtrot's canonical encoding of a configuration: the bytes every config and
//! policy hash is taken over, and the text journalled as a run's first record.
//!
//! The encoding is foxtrot's own (written here, not a serialisation library's
//! output format), so a library upgrade cannot change a hash. It is a subset of
//! YAML block style, so the journalled text loads back as a configuration:
//!
//! - a struct or map is one `key: value` line per field, in declaration order;
//!   a nested struct or map is `key:` followed by its fields indented two more
//!   spaces; an empty one is `key: {}`;
//! - a sequence is `key:` followed by one `- item` line per element at the key's
//!   own indentation; an element that is a struct puts its first field after the
//!   `- ` and the others two spaces further in; an empty sequence is `key: []`;
//! - integers in decimal; `true` / `false`; floating-point numbers in their
//!   shortest form that reads back to the same value (Ryū: `0.5`, `1.0`, `1e-7`),
//!   `.inf`, `-.inf`, `.nan`; an enum variant without data as its name
//!   (`momentum`); an absent option as `null`;
//! - a string in double quotes with JSON escapes (`"FOXA"`, `"a\"b"`);
//! - every line ends with `\n`.
//!
//! The policy hash is xxh3-64 of the canonical text of `strategy`, `router` and
//! `flags`, concatenated in that order; the config hash is xxh3-64 of the whole
//! configuration's canonical text. For configurations without strings in those
//! three sections (all of foxtrot's), the text is byte-identical to what
//! serde_yaml 0.9 wrote, so the policy hashes of journals recorded before this
//! encoding existed are unchanged (tested).

use serde::ser::{self, Serialize};
use std::fmt::Write;

/// One value of the tree a configuration serialises into.
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// The canonical text of any serialisable value (a struct serialises as a map).
pub fn encode<T: Serialize + ?Sized>(v: &T) -> String {
    let node = v.serialize(TreeSer).expect("configuration values always encode");
    let mut out = String::new();
    match node {
        Node::Map(m) if !m.is_empty() => write_map(&mut out, &m, 0),
        Node::Seq(s) if !s.is_empty() => write_seq(&mut out, &s, 0),
        other => {
            out.push_str(&inline(&other).expect("empty or scalar"));
            out.push('\n');
        }
    }
    out
}

/// xxh3-64 of a canonical text.
pub fn hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// A node written on the key's own line, if it is one.
fn inline(n: &Node) -> Option<String> {
    match n {
        Node::Scalar(s) => Some(s.clone()),
        Node::Seq(s) if s.is_empty() => Some("[]".into()),
        Node::Map(m) if m.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn write_map(out: &mut String, m: &[(String, Node)], indent: usize) {
    for (k, v) in m {
        let pad = " ".repeat(indent);
        match inline(v) {
            Some(s) => {
                let _ = writeln!(out, "{pad}{k}: {s}");
            }
            None => {
                let _ = writeln!(out, "{pad}{k}:");
                match v {
                    Node::Map(inner) => write_map(out, inner, indent + 2),
                    Node::Seq(items) => write_seq(out, items, indent),
                    Node::Scalar(_) => unreachable!("scalars are inline"),
                }
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        let pad = " ".repeat(indent);
        match inline(item) {
            Some(s) => {
                let _ = writeln!(out, "{pad}- {s}");
            }
            None => {
                // The item as if two spaces further in, its first line's
                // indentation replaced by the dash.
                let mut inner = String::new();
                match item {
                    Node::Map(m) => write_map(&mut inner, m, indent + 2),
                    Node::Seq(s) => write_seq(&mut inner, s, indent + 2),
                    Node::Scalar(_) => unreachable!("scalars are inline"),
                }
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&inner[indent + 2..]);
            }
        }
    }
}

/// A float in its shortest round-trip form (`.inf`, `-.inf`, `.nan` aside).
fn float<F: ryu::Float + Into<f64>>(v: F) -> String {
    let wide: f64 = v.into();
    if wide.is_nan() {
        ".nan".into()
    } else if wide.is_infinite() {
        if wide > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        ryu::Buffer::new().format_finite(v).to_string()
    }
}

fn quoted(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Why a value could not be encoded (never, for configuration types).
#[derive(Debug)]
pub struct EncodeError(String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

/// Serialises a value into a [`Node`] tree.
struct TreeSer;

struct SeqBuilder(Vec<Node>);
struct MapBuilder {
    entries: Vec<(String, Node)>,
    key: Option<String>,
}
struct VariantBuilder {
    name: &'static str,
    inner: MapBuilder,
    seq: Vec<Node>,
}

type R = Result<Node, EncodeError>;

impl ser::Serializer for TreeSer {
    type Ok = Node;
    type Error = EncodeError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = VariantBuilder;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Node::Scalar(if v { "true" } else { "false" }.into()))
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(v as i64)
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(v as i64)
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(v as i64)
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Node::Scalar(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(v as u64)
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(v as u64)
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(v as u64)
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(Node::Scalar(v.to_string()))
    }
    fn serialize_f32(self, v: f32) -> R {
        Ok(Node::Scalar(float(v)))
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Node::Scalar(float(v)))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Node::Scalar(quoted(&v.to_string())))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Node::Scalar(quoted(v)))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(Node::Seq(v.iter().map(|b| Node::Scalar(b.to_string())).collect()))
    }
    fn serialize_none(self) -> R {
        Ok(Node::Scalar("null".into()))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(TreeSer)
    }
    fn serialize_unit(self) -> R {
        Ok(Node::Scalar("null".into()))
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        Ok(Node::Scalar(variant.into()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(TreeSer)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        Ok(Node::Map(vec![(variant.into(), v.serialize(TreeSer)?)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, EncodeError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<VariantBuilder, EncodeError> {
        Ok(VariantBuilder {
            name: variant,
            inner: MapBuilder {
                entries: Vec::new(),
                key: None,
            },
            seq: Vec::new(),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, EncodeError> {
        Ok(MapBuilder {
            entries: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapBuilder, EncodeError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        idx: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder, EncodeError> {
        self.serialize_tuple_variant(name, idx, variant, len)
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.0.push(v.serialize(TreeSer)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Node::Seq(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), EncodeError> {
        self.key = Some(match k.serialize(TreeSer)? {
            // Keys are written bare: a quoted string key loses its quotes.
            Node::Scalar(s) => s.trim_matches('"').to_string(),
            _ => return Err(ser::Error::custom("a map key must be a scalar")),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        let k = self
            .key
            .take()
            .ok_or_else(|| ser::Error::custom("a value without a key"))?;
        self.entries.push((k, v.serialize(TreeSer)?));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Node::Map(self.entries))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), EncodeError> {
        self.entries.push((key.into(), v.serialize(TreeSer)?));
        Ok(())
    }
    fn skip_field(&mut self, _: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }
    fn end(self) -> R {
        Ok(Node::Map(self.entries))
    }
}

impl ser::SerializeTupleVariant for VariantBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        self.seq.push(v.serialize(TreeSer)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Node::Map(vec![(self.name.into(), Node::Seq(self.seq))]))
    }
}

impl ser::SerializeStructVariant for VariantBuilder {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), EncodeError> {
        self.inner.entries.push((key.into(), v.serialize(TreeSer)?));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Node::Map(vec![(self.name.into(), Node::Map(self.inner.entries))]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The policy sections of the shipped configs encode exactly as serde_yaml
    /// wrote them before, so recorded journals keep their policy hashes.
    #[test]
    fn policy_sections_match_the_text_hashed_before() {
        for text in [crate::config::DEFAULT_SIM_YAML, crate::config::BACKTEST_YAML] {
            let c = Config::from_yaml(text, std::path::Path::new(crate::config::EMBEDDED_ORIGIN)).unwrap();
            assert_eq!(encode(&c.strategy), serde_yaml_ng::to_string(&c.strategy).unwrap());
            assert_eq!(encode(&c.router), serde_yaml_ng::to_string(&c.router).unwrap());
            assert_eq!(encode(&c.flags), serde_yaml_ng::to_string(&c.flags).unwrap());
        }
    }

    /// The whole configuration's text loads back to the same configuration.
    #[test]
    fn canonical_text_loads_back() {
        let c = Config::default_sim();
        let text = encode(&c);
        let back = Config::from_yaml(&text, std::path::Path::new("canonical.yaml")).unwrap();
        assert_eq!(back, c);
        assert_eq!(encode(&back), text);
    }

    #[test]
    fn layout_of_each_shape() {
        #[derive(serde::Serialize)]
        struct Inner {
            a: u8,
            b: Vec<f64>,
        }
        #[derive(serde::Serialize)]
        struct Outer {
            name: String,
            none: Option<u8>,
            empty: Vec<u8>,
            items: Vec<Inner>,
            grid: Vec<Vec<f32>>,
        }
        let o = Outer {
            name: "x\"y".into(),
            none: None,
            empty: vec![],
            items: vec![Inner {
                a: 1,
                b: vec![0.5, 1e-7],
            }],
            grid: vec![vec![1.0, 2.5]],
        };
        assert_eq!(
            encode(&o),
            "name: \"x\\\"y\"\nnone: null\nempty: []\nitems:\n- a: 1\n  b:\n  - 0.5\n  - 1e-7\ngrid:\n- - 1.0\n  - 2.5\n"
        );
    }
}
