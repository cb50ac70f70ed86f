//! QuickFIX-style XML dictionaries, the format brokers distribute:
//!
//! ```text
//! <fix type='FIX' major='4' minor='4'>
//!   <header> <field name='BeginString' required='Y'/> … </header>
//!   <trailer> … </trailer>
//!   <messages> <message name='NewOrderSingle' msgtype='D' msgcat='app'> … </message> </messages>
//!   <components> <component name='Instrument'> … </component> </components>
//!   <fields> <field number='21' name='HandlInst' type='CHAR'> <value enum='1' …/> </field> </fields>
//! </fix>
//! ```
//!
//! Components are flattened into the scope that uses them (see the parent
//! module for which fields end up required).

use super::{Dictionary, DictionaryError, FieldDef, FieldType, GroupDef, MessageDef, Scope, Tag};
use roxmltree::{Document, Node};
use std::collections::{BTreeMap, BTreeSet};

struct Reader<'a, 'i> {
    origin: &'a str,
    doc: &'a Document<'i>,
    by_name: BTreeMap<&'a str, Tag>,
    components: BTreeMap<&'a str, Node<'a, 'i>>,
}

fn required(n: Node) -> bool {
    matches!(n.attribute("required"), Some("Y" | "y"))
}

impl<'a, 'i> Reader<'a, 'i> {
    fn err(&self, n: Option<Node>, message: String) -> DictionaryError {
        DictionaryError {
            origin: self.origin.to_string(),
            line: n.map_or(0, |n| self.doc.text_pos_at(n.range().start).row as usize),
            message,
        }
    }

    fn tag_of(&self, n: Node<'a, 'i>) -> Result<Tag, DictionaryError> {
        let name = n
            .attribute("name")
            .ok_or_else(|| self.err(Some(n), format!("<{}> without a name", n.tag_name().name())))?;
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| self.err(Some(n), format!("field {name:?} is not defined in <fields>")))
    }

    /// Adds the fields and groups under `node` to `scope`; `scope_required`
    /// says whether the enclosing component or group is required (a field is
    /// required only if it and its enclosure are). Returns the first tag added.
    fn add_children(
        &self,
        node: Node<'a, 'i>,
        scope: &mut Scope,
        scope_required: bool,
        seen: &mut BTreeSet<&'a str>,
    ) -> Result<Option<Tag>, DictionaryError> {
        let mut first = None;
        for c in node.children().filter(Node::is_element) {
            let tag = match c.tag_name().name() {
                "field" => {
                    let t = self.tag_of(c)?;
                    scope.add(t, required(c) && scope_required);
                    Some(t)
                }
                "group" => {
                    let t = self.tag_of(c)?;
                    scope.add(t, required(c) && scope_required);
                    let mut inner = Scope::default();
                    let delim = self.add_children(c, &mut inner, required(c), seen)?;
                    if let Some(delim) = delim {
                        scope.add_group(t, GroupDef { delim, scope: inner });
                    }
                    Some(t)
                }
                "component" => {
                    let name = c
                        .attribute("name")
                        .ok_or_else(|| self.err(Some(c), "<component> without a name".into()))?;
                    let def = *self
                        .components
                        .get(name)
                        .ok_or_else(|| self.err(Some(c), format!("component {name:?} is not defined")))?;
                    if !seen.insert(name) {
                        return Err(self.err(Some(c), format!("component {name:?} contains itself")));
                    }
                    // A component inside a group never makes its fields required.
                    let req = if node.tag_name().name() == "group" {
                        false
                    } else {
                        required(c)
                    };
                    let t = self.add_children(def, scope, req, seen)?;
                    seen.remove(name);
                    t
                }
                _ => None,
            };
            if first.is_none() {
                first = tag;
            }
        }
        Ok(first)
    }
}

/// Reads an XML dictionary. See the module docs.
pub fn read(text: &str, origin: &str) -> Result<Dictionary, DictionaryError> {
    let doc = Document::parse(text).map_err(|e| DictionaryError {
        origin: origin.into(),
        line: e.pos().row as usize,
        message: format!("not well-formed XML: {e}"),
    })?;
    let root = doc.root_element();
    let mut r = Reader {
        origin,
        doc: &doc,
        by_name: BTreeMap::new(),
        components: BTreeMap::new(),
    };
    if root.tag_name().name() != "fix" {
        return Err(r.err(Some(root), "the root element is not <fix>".into()));
    }
    let ty = root.attribute("type").unwrap_or("FIX");
    let (Some(major), Some(minor)) = (root.attribute("major"), root.attribute("minor")) else {
        return Err(r.err(Some(root), "<fix> needs major and minor attributes".into()));
    };
    let section = |name: &str| root.children().find(|c| c.has_tag_name(name));
    let fields_node = section("fields").ok_or_else(|| r.err(Some(root), "no <fields> section".into()))?;
    let mut fields = BTreeMap::new();
    for f in fields_node.children().filter(|c| c.has_tag_name("field")) {
        let (Some(num), Some(name), Some(t)) = (f.attribute("number"), f.attribute("name"), f.attribute("type")) else {
            return Err(r.err(Some(f), "a <field> needs number, name and type".into()));
        };
        let tag: Tag = num
            .parse()
            .map_err(|_| r.err(Some(f), format!("field {name:?}: number {num:?} is not a tag")))?;
        let mut values: Vec<String> = f
            .children()
            .filter(|c| c.has_tag_name("value"))
            .filter_map(|v| v.attribute("enum").map(String::from))
            .collect();
        values.sort();
        values.dedup();
        r.by_name.insert(name, tag);
        fields.insert(
            tag,
            FieldDef {
                tag,
                name: name.to_string(),
                ty: FieldType::from_name(t),
                values,
            },
        );
    }
    if let Some(cs) = section("components") {
        for c in cs.children().filter(|c| c.has_tag_name("component")) {
            if let Some(name) = c.attribute("name") {
                r.components.insert(name, c);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut header = Scope::default();
    let mut trailer = Scope::default();
    if let Some(h) = section("header") {
        r.add_children(h, &mut header, true, &mut seen)?;
    }
    if let Some(t) = section("trailer") {
        r.add_children(t, &mut trailer, true, &mut seen)?;
    }
    let mut messages = BTreeMap::new();
    let ms = section("messages").ok_or_else(|| r.err(Some(root), "no <messages> section".into()))?;
    for m in ms.children().filter(|c| c.has_tag_name("message")) {
        let (Some(mt), Some(name)) = (m.attribute("msgtype"), m.attribute("name")) else {
            return Err(r.err(Some(m), "a <message> needs msgtype and name".into()));
        };
        let mut scope = Scope::default();
        r.add_children(m, &mut scope, true, &mut seen)?;
        messages.insert(
            mt.to_string(),
            MessageDef {
                msg_type: mt.to_string(),
                name: name.to_string(),
                admin: m.attribute("msgcat") == Some("admin"),
                scope,
            },
        );
    }
    let mut d = Dictionary {
        begin_string: format!("{ty}.{major}.{minor}"),
        fields,
        header,
        trailer,
        messages,
        kinds: Vec::new(),
    };
    d.reindex();
    d.check(origin)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"<fix type='FIX' major='4' minor='4'>
 <header><field name='BeginString' required='Y'/><field name='MsgType' required='Y'/></header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='Order' msgtype='D' msgcat='app'>
   <field name='ClOrdID' required='Y'/>
   <component name='Instrument' required='N'/>
   <component name='Parties' required='Y'/>
   <group name='NoTradingSessions' required='N'><field name='TradingSessionID' required='Y'/></group>
  </message>
 </messages>
 <components>
  <component name='Instrument'><field name='Symbol' required='Y'/></component>
  <component name='Parties'><field name='Account' required='Y'/></component>
 </components>
 <fields>
  <field number='8' name='BeginString' type='STRING'/>
  <field number='35' name='MsgType' type='STRING'/>
  <field number='10' name='CheckSum' type='STRING'/>
  <field number='11' name='ClOrdID' type='STRING'/>
  <field number='55' name='Symbol' type='STRING'/>
  <field number='1' name='Account' type='STRING'/>
  <field number='386' name='NoTradingSessions' type='NUMINGROUP'/>
  <field number='336' name='TradingSessionID' type='STRING'/>
 </fields>
</fix>"#;

    #[test]
    fn components_flatten_with_the_required_rules() {
        let d = read(SMALL, "small.xml").unwrap();
        let s = &d.messages["D"].scope;
        assert_eq!(s.order, [11, 55, 1, 386]);
        assert!(
            s.fields[&11] && s.fields[&1],
            "required directly and through a required component"
        );
        assert!(!s.fields[&55], "required, but in an optional component");
        let g = s.group(386).unwrap();
        assert_eq!(g.delim, 336);
        assert!(!g.scope.fields[&336], "required field of an optional group");
        assert_eq!(d.field(386).unwrap().ty, FieldType::Int);
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = SMALL.replace(
            "<field name='Symbol' required='Y'/></component>",
            "<field name='Nope'/></component>",
        );
        let e = read(&bad, "x.xml").unwrap_err();
        assert!(e.message.contains("Nope") && e.line > 0, "{e}");
        assert!(e.to_string().starts_with("data dictionary x.xml:"), "{e}");
    }
}
