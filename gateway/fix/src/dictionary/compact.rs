//! foxtrot's compact dictionary format: a dictionary in a few hundred lines,
//! components already flattened.
//!
//! ```text
//! # comment
//! fix FIX.4.4
//! field 21 HandlInst CHAR 1 2 3          tag, name, type, enumerated values (if any)
//! header 8! 9! 35! 49! 56! 115 … 52!     `!` marks a required field
//! trailer 93 89 10!
//! message D NewOrderSingle app 11! … 386{ 336 625 } …
//! ```
//!
//! A group is its count tag followed by `{` (or `!{` when required), the
//! fields of one entry (the first is the delimiter) and `}`; groups nest.
//! Types are [`FieldType::name`]s. Tokens are separated by spaces; in an
//! enumerated value a space is written `%20` and a `%` as `%25`.

use super::{Dictionary, DictionaryError, FieldDef, FieldType, GroupDef, MessageDef, Scope, Tag};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Reads the compact format.
pub fn read(text: &str, origin: &str) -> Result<Dictionary, DictionaryError> {
    let err = |line: usize, message: String| DictionaryError {
        origin: origin.to_string(),
        line,
        message,
    };
    let mut d = Dictionary {
        begin_string: String::new(),
        fields: BTreeMap::new(),
        header: Scope::default(),
        trailer: Scope::default(),
        messages: BTreeMap::new(),
        kinds: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut t = line.split_whitespace();
        match t.next() {
            Some("fix") => d.begin_string = t.next().ok_or_else(|| err(n, "`fix` without a version".into()))?.into(),
            Some("field") => {
                let (Some(tag), Some(name), Some(ty)) = (t.next(), t.next(), t.next()) else {
                    return Err(err(n, "a field needs a tag, a name and a type".into()));
                };
                let tag: Tag = tag
                    .parse()
                    .map_err(|_| err(n, format!("{tag:?} is not a tag number")))?;
                let ty = FieldType::from_compact(ty).ok_or_else(|| err(n, format!("unknown type {ty:?}")))?;
                let mut values: Vec<String> = t.map(|v| v.replace("%20", " ").replace("%25", "%")).collect();
                values.sort();
                values.dedup();
                d.fields.insert(
                    tag,
                    FieldDef {
                        tag,
                        name: name.into(),
                        ty,
                        values,
                    },
                );
            }
            Some("header") => d.header = scope(&mut t, n, &err)?,
            Some("trailer") => d.trailer = scope(&mut t, n, &err)?,
            Some("message") => {
                let (Some(mt), Some(name), Some(cat)) = (t.next(), t.next(), t.next()) else {
                    return Err(err(n, "a message needs a MsgType, a name and `admin` or `app`".into()));
                };
                let admin = match cat {
                    "admin" => true,
                    "app" => false,
                    c => return Err(err(n, format!("{c:?} is neither `admin` nor `app`"))),
                };
                let s = scope(&mut t, n, &err)?;
                d.messages.insert(
                    mt.into(),
                    MessageDef {
                        msg_type: mt.into(),
                        name: name.into(),
                        admin,
                        scope: s,
                    },
                );
            }
            Some(k) => return Err(err(n, format!("unknown line kind {k:?}"))),
            None => {}
        }
    }
    if d.begin_string.is_empty() {
        return Err(err(0, "no `fix VERSION` line".into()));
    }
    d.reindex();
    d.check(origin)?;
    Ok(d)
}

/// Reads the items of a scope up to the end of the line or a closing `}`.
fn scope<'a>(
    t: &mut impl Iterator<Item = &'a str>,
    line: usize,
    err: &impl Fn(usize, String) -> DictionaryError,
) -> Result<Scope, DictionaryError> {
    let mut s = Scope::default();
    while let Some(tok) = t.next() {
        if tok == "}" {
            return Ok(s);
        }
        let (tok, group) = match tok.strip_suffix('{') {
            Some(x) => (x, true),
            None => (tok, false),
        };
        let (tok, required) = match tok.strip_suffix('!') {
            Some(x) => (x, true),
            None => (tok, false),
        };
        let tag: Tag = tok
            .parse()
            .map_err(|_| err(line, format!("{tok:?} is not a tag number")))?;
        s.add(tag, required);
        if group {
            let inner = scope(t, line, err)?;
            let delim = *inner
                .order
                .first()
                .ok_or_else(|| err(line, format!("group {tag} has no fields")))?;
            s.add_group(tag, GroupDef { delim, scope: inner });
        }
    }
    Ok(s)
}

/// Writes the compact format (what [`read`] reads back identically).
pub fn write(d: &Dictionary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# foxtrot FIX data dictionary (compact format; see gateway/fix/src/dictionary/compact.rs)"
    );
    let _ = writeln!(o, "fix {}", d.begin_string);
    for f in d.fields.values() {
        let _ = write!(o, "field {} {} {}", f.tag, f.name, f.ty.name());
        for v in &f.values {
            let _ = write!(o, " {}", v.replace('%', "%25").replace(' ', "%20"));
        }
        o.push('\n');
    }
    let _ = writeln!(o, "header{}", items(&d.header));
    let _ = writeln!(o, "trailer{}", items(&d.trailer));
    for m in d.messages.values() {
        let _ = writeln!(
            o,
            "message {} {} {}{}",
            m.msg_type,
            m.name,
            if m.admin { "admin" } else { "app" },
            items(&m.scope)
        );
    }
    o
}

fn items(s: &Scope) -> String {
    let mut o = String::new();
    for t in &s.order {
        let _ = write!(o, " {t}{}", if s.fields[t] { "!" } else { "" });
        if let Some(g) = s.groups.get(t) {
            o.push('{');
            o.push_str(&items(&g.scope));
            o.push_str(" }");
        }
    }
    o
}
