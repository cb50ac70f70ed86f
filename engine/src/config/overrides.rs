//! `--set key=value` overrides: a dotted key (`strategy.momentum.fast`, with
//! sequence indices as numbers: `instruments.0.tick`) set to a YAML value in the
//! configuration's text before it is parsed, so an override is checked exactly
//! like the file (an unknown key or a value out of range is the same one-line
//! error, naming the key).

use crate::error::Error;
use serde_yaml_ng::{Mapping, Value};
use std::path::Path;

/// `text` with every `key=value` of `sets` applied, in order; `origin` names
/// the configuration in errors. `text` is returned untouched when `sets` is empty.
pub fn apply_sets(text: &str, sets: &[String], origin: &Path) -> Result<String, Error> {
    if sets.is_empty() {
        return Ok(text.to_string());
    }
    let bad = |key: &str, m: String| Error::invalid(origin, key, m);
    let mut root: Value = serde_yaml_ng::from_str(text).map_err(|e| bad("", format!("not YAML: {e}")))?;
    for s in sets {
        let (key, raw) = s
            .split_once('=')
            .ok_or_else(|| bad(s, "--set wants key=value".to_string()))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(bad(key, "--set: an empty key or key part".to_string()));
        }
        // A value reads as YAML (numbers, booleans, lists); else it is a string.
        let value = serde_yaml_ng::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        set(&mut root, key, value).map_err(|m| bad(key, m))?;
    }
    serde_yaml_ng::to_string(&root).map_err(|e| bad("", e.to_string()))
}

/// `text` parsed with `sets` applied. Errors name the key; with overrides they
/// carry no line (the text they would point into is not the file's).
pub fn parse_with_sets(text: &str, sets: &[String], origin: &Path) -> Result<super::Config, Error> {
    if sets.is_empty() {
        return super::Config::from_yaml(text, origin);
    }
    super::Config::from_yaml(&apply_sets(text, sets, origin)?, origin).map_err(|e| match e {
        Error::ConfigInvalid { path, key, message, .. } => Error::ConfigInvalid {
            path,
            line: 0,
            column: 0,
            key,
            message: format!("{message} (with --set {})", sets.join(" --set ")),
        },
        Error::ConfigParse { path, message, .. } => Error::ConfigParse {
            path,
            line: 0,
            column: 0,
            message: format!("{message} (with --set {})", sets.join(" --set ")),
        },
        e => e,
    })
}

fn set(root: &mut Value, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut at = root;
    for (k, part) in parts.iter().enumerate() {
        let last = k + 1 == parts.len();
        let so_far = parts[..=k].join(".");
        at = match at {
            Value::Sequence(items) => {
                let i: usize = part
                    .parse()
                    .map_err(|_| format!("`{so_far}`: a list, indexed by a number"))?;
                let n = items.len();
                items
                    .get_mut(i)
                    .ok_or_else(|| format!("`{so_far}`: index {i} past the list's {n} entries"))?
            }
            Value::Mapping(m) => {
                let name = Value::String(part.to_string());
                if !m.contains_key(&name) {
                    m.insert(
                        name.clone(),
                        if last {
                            Value::Null
                        } else {
                            Value::Mapping(Mapping::new())
                        },
                    );
                }
                m.get_mut(&name).expect("inserted above")
            }
            Value::Null if !last => {
                *at = Value::Mapping(Mapping::new());
                let Value::Mapping(m) = at else { unreachable!() };
                m.insert(Value::String(part.to_string()), Value::Mapping(Mapping::new()));
                m.get_mut(part).expect("inserted above")
            }
            _ => return Err(format!("`{}` is not a section", parts[..k].join("."))),
        };
    }
    *at = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn values_land_where_their_keys_say() {
        let text = "a:\n  b: 1\n  c: [x, y]\nl:\n  - { t: 1 }\n  - { t: 2 }\n";
        let out = apply_sets(
            text,
            &sets(&["a.b=7", "a.c=[z]", "l.1.t=0.5", "a.new=hello", "d.e=true"]),
            Path::new("f"),
        )
        .unwrap();
        let v: Value = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(v["a"]["b"], Value::from(7));
        assert_eq!(v["a"]["c"][0], Value::from("z"));
        assert_eq!(v["l"][1]["t"], Value::from(0.5));
        assert_eq!(v["l"][0]["t"], Value::from(1));
        assert_eq!(v["a"]["new"], Value::from("hello"));
        assert_eq!(v["d"]["e"], Value::from(true));
        assert_eq!(
            apply_sets(text, &[], Path::new("f")).unwrap(),
            text,
            "no sets: untouched"
        );
    }

    #[test]
    fn bad_overrides_are_one_line_errors_naming_the_key() {
        let text = "a:\n  b: 1\nl: [1, 2]\n";
        for (s, want) in [
            ("a.b", "key=value"),
            ("l.x=1", "indexed by a number"),
            ("l.5=1", "past the list"),
            ("a.b.c=1", "`a.b` is not a section"),
            ("a..b=1", "empty key"),
        ] {
            let e = apply_sets(text, &sets(&[s]), Path::new("f")).unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
            assert!(!e.contains('\n'), "{s}: {e}");
        }
    }
}

#[cfg(test)]
mod live_rules {
    use super::*;

    /// Exploration stays in replays and the simulator: a configuration that
    /// sends orders to a counterparty refuses it, naming the key.
    #[test]
    fn a_live_configuration_refuses_exploration() {
        let text = crate::config::DEFAULT_SIM_YAML;
        let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/sim.yaml");
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(parse_with_sets(text, &s(&["flags.exploration=true"]), &origin).is_ok());
        assert!(parse_with_sets(text, &s(&["venue.address=127.0.0.1:9878"]), &origin).is_ok());
        let e = parse_with_sets(
            text,
            &s(&["flags.exploration=true", "venue.address=127.0.0.1:9878"]),
            &origin,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("flags.exploration") && e.contains("venue.address"), "{e}");
    }

    /// A mass cancel is FIX 4.4's (4.3 on): a FIX 4.2 session refuses it,
    /// naming the key, and a FIX 4.4 one takes it.
    #[test]
    fn a_fix42_session_refuses_mass_cancel() {
        let text = crate::config::DEFAULT_SIM_YAML;
        let origin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/sim.yaml");
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let c = parse_with_sets(text, &s(&["venue.mass_cancel=true"]), &origin).unwrap();
        assert!(c.venue.mass_cancel && c.core_params().mass_cancel);
        let e = parse_with_sets(
            text,
            &s(&["venue.mass_cancel=true", "session.begin_string=FIX.4.2"]),
            &origin,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("venue.mass_cancel") && e.contains("FIX 4.2"), "{e}");
    }
}
