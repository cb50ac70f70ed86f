//! The configuration's one schema, and the range checks it drives.
//!
//! The schema is derived from the config structs themselves (`schemars`): their
//! doc comments become descriptions, `#[serde(deny_unknown_fields)]` becomes
//! `additionalProperties: false`, and every range is declared once, as a
//! `#[schemars(range(..))]` (or `exclusiveMinimum`, `length`, `enum`) attribute
//! beside the field. The same schema is
//!
//! * printed by `foxtrot config schema` (JSON Schema, draft 2020-12),
//! * rendered into `docs/config.md` ([`super::docs`]), and
//! * enforced by [`check`] on every load, which walks the parsed config beside the
//!   schema and reports the first value outside its bounds with its key path.
//!
//! Rules that relate two keys (`slow > fast`, `halt_drawdown ≥ reduce_only_drawdown`)
//! or need arithmetic (`ref_price` a multiple of `tick`) stay in
//! [`super::Config::validate`].

use serde_json::Value;
use std::fmt::Write as _;

/// The configuration's JSON Schema (draft 2020-12), with `$defs` for nested types.
pub fn json_schema() -> Value {
    let schema = schemars::schema_for!(super::Config);
    schema.to_value()
}

/// [`json_schema`], derived once per process: every load checks against it,
/// and deriving it costs more than the check.
pub(crate) fn cached() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(json_schema)
}

/// The first value of `value` that `schema` rejects: its dotted key path (e.g.
/// `risk.max_order_qty`, `instruments[1].tick`) and what is wrong with it.
///
/// Checks the keywords the config schema uses: `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`, `enum`,
/// `minItems`, `maxItems`, and (for numbers) finiteness; it follows `$ref`,
/// `properties`, `items`, `allOf` and the branch of `anyOf`/`oneOf` that matches
/// the value's type. Types and unknown keys are the deserialiser's job.
pub fn check(schema: &Value, value: &Value) -> Result<(), (String, String)> {
    match check_all(schema, value).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every `(key, message)` of `value` that breaks `schema`, in document order.
pub fn check_all(schema: &Value, value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(schema, schema, value, &mut String::new(), &mut out);
    out
}

/// `s` with its `$ref: "#/$defs/Name"` chain followed to the definition.
pub(crate) fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    // `$ref: "#/$defs/Name"` chains are short; follow them to the definition.
    for _ in 0..16 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix("#/$defs/").and_then(|n| root.get("$defs")?.get(n)) {
                Some(t) => s = t,
                None => return s,
            },
            None => return s,
        }
    }
    s
}

/// The names `s` gives as its `type` (one, a list, or none).
fn type_names(s: &Value) -> impl Iterator<Item = &str> + Clone {
    let (one, many) = match s.get("type") {
        Some(Value::String(t)) => (Some(t.as_str()), None),
        Some(Value::Array(ts)) => (None, Some(ts.iter().filter_map(Value::as_str))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn matches_type(root: &Value, branch: &Value, v: &Value) -> bool {
    let b = resolve(root, branch);
    let mut ts = type_names(b).peekable();
    if ts.peek().is_none() {
        return true;
    }
    let k = kind(v);
    ts.any(|t| t == k || (t == "number" && k == "integer"))
}

fn num(s: &Value, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

/// Checks `v` against `schema` at `path`, adding what fails to `out`: a value
/// that breaks a rule is reported once (its children are not examined), and
/// its siblings are still checked. `path` is one buffer for the whole walk: a
/// child's key is appended for its walk and cut off after it.
fn walk(root: &Value, schema: &Value, v: &Value, path: &mut String, out: &mut Vec<(String, String)>) {
    let s = resolve(root, schema);
    let fail = |out: &mut Vec<(String, String)>, path: &str, m: String| out.push((path.to_string(), m));
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = s.get(key) {
            if let Some(b) = branches.iter().find(|b| matches_type(root, b, v)) {
                walk(root, b, v, path, out);
            }
        }
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        for b in all {
            walk(root, b, v, path, out);
        }
    }
    let ts = type_names(s);
    // A non-finite float serialises as null: reject it where only numbers belong.
    if v.is_null() && !ts.clone().any(|t| t == "null") && ts.clone().any(|t| t == "number") {
        fail(out, path, "must be a finite number".into());
        return;
    }
    if let Some(x) = v.as_f64() {
        // Shown as written: an integer stays an integer in the message.
        if let Some(m) = num(s, "minimum") {
            if x < m {
                fail(out, path, format!("{v} is below the minimum {m}"));
                return;
            }
        }
        if let Some(m) = num(s, "maximum") {
            if x > m {
                fail(out, path, format!("{v} is above the maximum {m}"));
                return;
            }
        }
        if let Some(m) = num(s, "exclusiveMinimum") {
            if x <= m {
                fail(out, path, format!("{x} must be greater than {m}"));
                return;
            }
        }
        if let Some(m) = num(s, "exclusiveMaximum") {
            if x >= m {
                fail(out, path, format!("{x} must be less than {m}"));
                return;
            }
        }
    }
    if let Value::String(t) = v {
        let n = t.chars().count() as f64;
        if let Some(m) = num(s, "minLength") {
            if n < m {
                fail(out, path, format!("{t:?} is shorter than {m} characters"));
                return;
            }
        }
        if let Some(m) = num(s, "maxLength") {
            if n > m {
                fail(out, path, format!("{t:?} is longer than {m} characters"));
                return;
            }
        }
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            fail(out, path, format!("{v} is not one of {}", list.join(", ")));
            return;
        }
    }
    match v {
        Value::Array(items) => {
            let n = items.len() as f64;
            if let Some(m) = num(s, "minItems") {
                if n < m {
                    fail(out, path, format!("{n} items; at least {m} needed"));
                    return;
                }
            }
            if let Some(m) = num(s, "maxItems") {
                if n > m {
                    fail(out, path, format!("{n} items; at most {m} allowed"));
                    return;
                }
            }
            // `items` is one schema for every element; `prefixItems` one per position.
            let prefix = s.get("prefixItems").and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                let sub = prefix
                    .and_then(|p| p.get(i))
                    .or_else(|| s.get("items").filter(|x| x.is_object()));
                if let Some(sub) = sub {
                    let at = path.len();
                    let _ = write!(path, "[{i}]");
                    walk(root, sub, item, path, out);
                    path.truncate(at);
                }
            }
        }
        Value::Object(map) => {
            if let Some(Value::Object(props)) = s.get("properties") {
                for (k, sub) in props {
                    if let Some(x) = map.get(k) {
                        let at = path.len();
                        if at > 0 {
                            path.push('.');
                        }
                        path.push_str(k);
                        walk(root, sub, x, path, out);
                        path.truncate(at);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_carries_ranges_descriptions_and_closed_objects() {
        let s = json_schema();
        let risk = &s["$defs"]["RiskConfig"];
        assert_eq!(risk["additionalProperties"], json!(false));
        assert_eq!(risk["properties"]["max_open_orders"]["maximum"], json!(1024));
        assert!(risk["properties"]["max_order_qty"]["description"]
            .as_str()
            .unwrap()
            .contains("Largest quantity"));
        assert_eq!(
            s["$defs"]["SensoryConfig"]["properties"]["sweep_decay"]["exclusiveMaximum"],
            json!(1)
        );
    }

    #[test]
    fn check_names_the_path_of_the_first_bad_value() {
        let cfg = crate::Config::default_sim();
        let s = json_schema();
        let mut v = serde_json::to_value(&cfg).unwrap();
        assert_eq!(check(&s, &v), Ok(()));
        v["risk"]["max_open_orders"] = json!(5000);
        let (path, msg) = check(&s, &v).unwrap_err();
        assert_eq!(path, "risk.max_open_orders");
        assert!(msg.contains("maximum 1024"), "{msg}");
        let mut v = serde_json::to_value(&cfg).unwrap();
        v["instruments"][1]["tick"] = json!(0);
        assert_eq!(check(&s, &v).unwrap_err().0, "instruments[1].tick");
        let mut v = serde_json::to_value(&cfg).unwrap();
        v["gen"]["sigma_ticks"][1] = json!(-1.0);
        assert_eq!(check(&s, &v).unwrap_err().0, "gen.sigma_ticks[1]");
        let mut v = serde_json::to_value(&cfg).unwrap();
        v["sensory"]["sweep_decay"] = json!(1.0);
        assert_eq!(check(&s, &v).unwrap_err().0, "sensory.sweep_decay");
        let mut v = serde_json::to_value(&cfg).unwrap();
        v["session"]["begin_string"] = json!("FIX.5.0");
        assert_eq!(check(&s, &v).unwrap_err().0, "session.begin_string");
        let mut v = serde_json::to_value(&cfg).unwrap();
        v["risk"]["max_gross"] = Value::Null; // how NaN and infinities serialise
        assert_eq!(
            check(&s, &v).unwrap_err(),
            ("risk.max_gross".into(), "must be a finite number".into())
        );
    }
}
