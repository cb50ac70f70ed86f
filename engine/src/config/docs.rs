//! `docs/config.md`, rendered from the schema.
//!
//! Every key the schema knows gets one row: its dotted path, its type, the values
//! it allows (the same bounds [`super::schema::check`] enforces), its default and
//! its doc comment. `foxtrot config docs > docs/config.md` regenerates the file; a
//! test fails when the committed file differs from what this renders.

use super::schema::{json_schema, resolve};
use serde_json::Value;
use std::fmt::Write;

const INTRO: &str = "\
# Configuration reference

<!-- Generated from the schema by `foxtrot config docs > docs/config.md`; do not edit.
     A test (`config_docs_are_current`) fails when this file is stale. -->

One YAML file configures every command that runs the pipeline (`--config FILE`;
default: the embedded `configs/sim.yaml`). Templates: `configs/sim.yaml` (the
default), `configs/paper.yaml`, `configs/live.yaml`, `configs/replay.yaml`, and
`configs/backtest.yaml` (what `foxtrot import` writes for backtests on imported data).

* `foxtrot config check FILE` validates a file; `foxtrot config schema` prints the
  JSON Schema this page is rendered from.
* Unknown keys are errors. Every error is one line naming the file, the line and
  column, and the key path, e.g.
  `config configs/x.yaml:61:3: risk.max_open_orders: 5000 is above the maximum 1024`.
* Prices and quantities are fixed-point integers in each instrument's scale.
* The effective configuration (defaults filled in, secrets as `<redacted>`) is the
  first record of every run's input journal; its hash (`config hash`) is printed
  by `foxtrot sim`, `foxtrot run`, `foxtrot replay` and `foxtrot report`.
* Secrets (`session.password`, …) may be given as `env:NAME`; they are never
  printed, logged or journalled.
";

const OUTRO: &str = "
The flags are part of the configuration, so of what a run is reproducible from;
`gateway/tests/fused_sim.rs` checks runs stay byte-identical with all of them on.

The `runtime` section does not change decisions: every layout produces the same
orders and diary (`gateway/tests/threaded.rs`).
";

/// The Markdown reference of every configuration key.
pub fn markdown() -> String {
    let root = json_schema();
    let mut out = String::from(INTRO);
    let props = root["properties"].as_object().expect("the config is an object");
    let required: Vec<&str> = root["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, sub) in props {
        let s = resolve(&root, sub);
        let _ = writeln!(
            out,
            "\n## `{name}`{}\n",
            if required.contains(&name.as_str()) {
                ""
            } else {
                " (optional)"
            }
        );
        let about = text(sub).or_else(|| text(s)).unwrap_or_default();
        if !about.is_empty() {
            let _ = writeln!(out, "{about}\n");
        }
        out.push_str("| key | type | allowed | default | meaning |\n|---|---|---|---|---|\n");
        let mut rows = Vec::new();
        rows_of(&root, sub, name, &mut rows);
        for r in rows {
            out.push_str(&r);
        }
    }
    out.push_str(OUTRO);
    out
}

/// A description on one line, safe inside a table cell.
fn text(s: &Value) -> Option<String> {
    let d = s.get("description")?.as_str()?;
    let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
    // Rustdoc links ([`Secret`]) read as plain code here.
    Some(d.replace("[`", "`").replace("`]", "`").replace('|', "\\|"))
}

/// The non-null branch of an optional (`anyOf: [T, null]`), and whether it was optional.
fn unwrap_optional<'a>(root: &'a Value, s: &'a Value) -> (&'a Value, bool) {
    if let Some(Value::Array(b)) = s.get("anyOf") {
        let non_null: Vec<&Value> = b
            .iter()
            .filter(|x| x.get("type") != Some(&Value::from("null")))
            .collect();
        if non_null.len() == 1 && b.len() == 2 {
            return (resolve(root, non_null[0]), true);
        }
    }
    if let Some(Value::Array(ts)) = s.get("type") {
        if ts.contains(&Value::from("null")) {
            return (s, true);
        }
    }
    (resolve(root, s), false)
}

fn is_object(s: &Value) -> bool {
    s.get("properties").is_some()
}

fn rows_of(root: &Value, prop: &Value, path: &str, rows: &mut Vec<String>) {
    let (s, optional) = unwrap_optional(root, resolve(root, prop));
    if is_object(s) {
        for (k, sub) in s["properties"].as_object().into_iter().flatten() {
            rows_of(root, sub, &format!("{path}.{k}"), rows);
        }
        return;
    }
    if s.get("type") == Some(&Value::from("array")) {
        if let Some(items) = s.get("items") {
            let item = resolve(root, items);
            if is_object(item) {
                for (k, sub) in item["properties"].as_object().into_iter().flatten() {
                    rows_of(root, sub, &format!("{path}[].{k}"), rows);
                }
                return;
            }
        }
    }
    let meaning = text(prop).or_else(|| text(s)).unwrap_or_default();
    let default = prop.get("default").map(|d| format!("`{d}`")).unwrap_or_default();
    let mut ty = type_of(root, s);
    if optional {
        ty.push_str(", optional");
    }
    rows.push(format!(
        "| `{path}` | {ty} | {} | {default} | {meaning} |\n",
        allowed(root, s)
    ));
}

fn type_of(root: &Value, s: &Value) -> String {
    if let Some(Value::Array(v)) = s.get("oneOf").or_else(|| s.get("anyOf")) {
        let consts: Vec<String> = v
            .iter()
            .filter_map(|b| b.get("const"))
            .map(|c| format!("`{}`", c.as_str().unwrap_or("")))
            .collect();
        if consts.len() == v.len() {
            return "enum".into();
        }
        let parts: Vec<String> = v.iter().map(|b| type_of(root, resolve(root, b))).collect();
        return parts.join(" or ");
    }
    if s.get("enum").is_some() && s.get("type").is_none() {
        return "enum".into();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => {
            let inner = s
                .get("items")
                .map(|i| type_of(root, resolve(root, i)))
                .unwrap_or_else(|| "value".into());
            format!("list of {inner}")
        }
        Some(t) => t.to_string(),
        None => match s.get("type") {
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect::<Vec<_>>()
                .join(" or "),
            _ => "value".into(),
        },
    }
}

fn allowed(root: &Value, s: &Value) -> String {
    let mut parts = Vec::new();
    let n = |k: &str| s.get(k).map(|v| v.to_string());
    match (n("minimum"), n("maximum")) {
        (Some(a), Some(b)) => parts.push(format!("{a}–{b}")),
        (Some(a), None) => parts.push(format!("≥ {a}")),
        (None, Some(b)) => parts.push(format!("≤ {b}")),
        _ => {}
    }
    if let Some(a) = n("exclusiveMinimum") {
        parts.push(format!("> {a}"));
    }
    if let Some(b) = n("exclusiveMaximum") {
        parts.push(format!("< {b}"));
    }
    match (n("minLength"), n("maxLength")) {
        (Some(a), Some(b)) => parts.push(format!("{a}–{b} characters")),
        (Some(a), None) => parts.push(format!("≥ {a} characters")),
        _ => {}
    }
    if let Some(Value::Array(e)) = s.get("enum") {
        parts.push(
            e.iter()
                .map(|v| format!("`{}`", v.as_str().map(str::to_string).unwrap_or(v.to_string())))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if let Some(Value::Array(v)) = s.get("oneOf").or_else(|| s.get("anyOf")) {
        let consts: Vec<String> = v
            .iter()
            .filter_map(|b| {
                let c = b.get("const")?.as_str()?;
                Some(match text(b) {
                    Some(d) => format!("`{c}` ({d})"),
                    None => format!("`{c}`"),
                })
            })
            .collect();
        if !consts.is_empty() {
            parts.push(consts.join("; "));
        }
    }
    if let Some(items) = s.get("items") {
        let inner = allowed(root, resolve(root, items));
        if !inner.is_empty() {
            parts.push(format!("each {inner}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn config_docs_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/config.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let rendered = super::markdown();
        assert!(
            committed == rendered,
            "docs/config.md is stale: run `cargo run -p foxtrot-tools -- config docs > docs/config.md`"
        );
    }

    #[test]
    fn every_leaf_key_of_the_default_config_has_a_row() {
        let md = super::markdown();
        for key in [
            "risk.max_open_orders",
            "instruments[].tick",
            "runtime.layout",
            "session.password",
            "gen.adversarial.halt_ns",
        ] {
            assert!(md.contains(&format!("| `{key}` |")), "no row for {key}");
        }
    }
}
