//! Where a key path sits in a YAML text, so that every configuration error —
//! not only the parser's own — can name a line and column.
//!
//! The text is read once as a stream of YAML events (`yaml-rust2`'s parser, which
//! reports a position for each); a stack of open mappings and sequences turns each
//! mapping key and sequence item into a dotted path (`risk.max_order_qty`,
//! `instruments[2].tick`) and remembers where it starts. A path that is not in the
//! text (a default, or a value loaded from another file) falls back to its nearest
//! ancestor that is.

use std::collections::BTreeMap;
use yaml_rust2::parser::{Event, Parser};

enum Frame {
    /// A mapping; `key` is the key whose value comes next (None: a key comes next).
    Map { path: String, key: Option<String> },
    /// A sequence and the index of its next item.
    Seq { path: String, next: usize },
}

/// Key paths of a YAML text and their 1-based (line, column).
#[derive(Debug, Default)]
pub struct Locations {
    at: BTreeMap<String, (usize, usize)>,
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Locations {
    /// Indexes `text`. Text that does not parse as YAML gives what was read before
    /// the error (the deserialiser reports the syntax error itself).
    pub fn index(text: &str) -> Locations {
        let mut at = BTreeMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        // The path a value starting now has (and records where it starts).
        fn value_path(stack: &mut [Frame]) -> Option<String> {
            match stack.last_mut() {
                None => Some(String::new()),
                Some(Frame::Map { path, key }) => key.take().map(|k| child(path, &k)),
                Some(Frame::Seq { path, next }) => {
                    *next += 1;
                    Some(format!("{path}[{}]", *next - 1))
                }
            }
        }
        while let Ok((ev, mark)) = parser.next_token() {
            let pos = (mark.line(), mark.col() + 1);
            match ev {
                Event::StreamEnd => break,
                Event::Scalar(s, ..) => {
                    let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                    if is_key {
                        if let Some(Frame::Map { path, key }) = stack.last_mut() {
                            at.entry(child(path, &s)).or_insert(pos);
                            *key = Some(s);
                        }
                    } else if let Some(p) = value_path(&mut stack) {
                        at.entry(p).or_insert(pos);
                    }
                }
                Event::Alias(_) => {
                    value_path(&mut stack);
                }
                Event::MappingStart(..) => {
                    let p = value_path(&mut stack).unwrap_or_default();
                    at.entry(p.clone()).or_insert(pos);
                    stack.push(Frame::Map { path: p, key: None });
                }
                Event::SequenceStart(..) => {
                    let p = value_path(&mut stack).unwrap_or_default();
                    at.entry(p.clone()).or_insert(pos);
                    stack.push(Frame::Seq { path: p, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        Locations { at }
    }

    /// The key path that starts last before (line, column), for errors that name
    /// only a position.
    pub fn last_key_before(&self, line: usize, column: usize) -> Option<&str> {
        self.at
            .iter()
            .filter(|(k, p)| !k.is_empty() && **p < (line, column))
            .max_by_key(|(_, p)| **p)
            .map(|(k, _)| k.as_str())
    }

    /// Where `path` (or its nearest ancestor present in the text) starts.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(pos) = self.at.get(p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a:\n  b: 1\n  c:\n    - x: 2\n      y: 3\n    - x: 4\nd: [5, 6]\n";

    #[test]
    fn keys_items_and_flow_sequences_have_positions() {
        let l = Locations::index(TEXT);
        assert_eq!(l.find("a.b"), Some((2, 3)));
        assert_eq!(l.find("a.c[0].y"), Some((5, 7)));
        assert_eq!(l.find("a.c[1].x"), Some((6, 7)));
        assert_eq!(l.find("d[1]"), Some((7, 8)));
    }

    #[test]
    fn a_missing_key_falls_back_to_its_parent() {
        let l = Locations::index(TEXT);
        assert_eq!(l.find("a.c[1].zzz").map(|p| p.0), Some(6));
        assert_eq!(l.find("nothing.here"), None);
    }

    #[test]
    fn broken_yaml_keeps_what_was_read() {
        let l = Locations::index("a: 1\nb: [\n");
        assert_eq!(l.find("a"), Some((1, 1)));
    }
}
