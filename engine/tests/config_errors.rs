//! Bad configurations: every kind of mistake gives one line naming the file, the
//! line and the key, and nothing panics.

use foxtrot_engine::config::DEFAULT_SIM_YAML;
use foxtrot_engine::Config;
use foxtrot_engine::Error as ConfigError;
use std::path::{Path, PathBuf};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

/// Loads `text` as if it were `configs/bad.yaml` (so the weights file resolves).
fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_yaml(text, &configs().join("bad.yaml"))
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in text") + 1
}

/// Replaces the value on the line holding `key:` with `value`.
fn with_value(key: &str, value: &str) -> (String, usize) {
    let line = line_of(DEFAULT_SIM_YAML, &format!("  {key}:"));
    let text = DEFAULT_SIM_YAML
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line {
                let (k, _) = l.split_once(':').unwrap();
                format!("{k}: {value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    (text, line)
}

fn assert_one_line(e: &ConfigError, line: usize, key: &str) {
    let s = e.to_string();
    assert!(!s.contains('\n'), "not one line: {s}");
    assert!(s.contains(&format!("bad.yaml:{line}:")), "expected line {line}: {s}");
    assert!(s.contains(key), "expected key {key}: {s}");
}

#[test]
fn wrong_type_names_key_and_line() {
    let (text, line) = with_value("max_open_orders", "lots");
    assert_one_line(&load(&text).unwrap_err(), line, "risk.max_open_orders");
}

#[test]
fn unknown_key_names_key_and_line() {
    let text = DEFAULT_SIM_YAML.replace("  max_notional:", "  max_notionl:");
    let line = line_of(&text, "max_notionl");
    assert_one_line(&load(&text).unwrap_err(), line, "max_notionl");
    let text = format!("{DEFAULT_SIM_YAML}\nextra_section: 1\n");
    let line = line_of(&text, "extra_section");
    assert_one_line(&load(&text).unwrap_err(), line, "extra_section");
}

#[test]
fn out_of_range_names_key_and_line() {
    for (key, value, path) in [
        ("max_open_orders", "5000", "risk.max_open_orders"),
        ("gap_prob", "1.5", "gen.gap_prob"),
        ("sweep_decay", "1.0", "sensory.sweep_decay"),
        ("window_ticks", "8", "book.window_ticks"),
        ("ring_capacity", "3", "runtime.ring_capacity"),
        ("max_gross", ".inf", "risk.max_gross"),
        ("ph_lambda", ".nan", "belief.drift.ph_lambda"),
        ("begin_string", "FIX.5.0", "session.begin_string"),
    ] {
        let text = if key == "ring_capacity" {
            let t = format!("{DEFAULT_SIM_YAML}\nruntime:\n  ring_capacity: {value}\n");
            let e = load(&t).unwrap_err();
            assert_one_line(&e, line_of(&t, "ring_capacity"), path);
            continue;
        } else {
            with_value(key, value)
        };
        let e = load(&text.0).unwrap_err();
        assert!(matches!(e, ConfigError::ConfigInvalid { .. }), "{key}: {e}");
        assert_one_line(&e, text.1, path);
    }
}

#[test]
fn inconsistent_values_name_key_and_line() {
    let (text, line) = with_value("slow", "5");
    assert_one_line(&load(&text).unwrap_err(), line, "strategy.momentum.slow");
    let text = DEFAULT_SIM_YAML.replace("ref_price: 250000", "ref_price: 250050");
    let line = line_of(&text, "250050");
    assert_one_line(&load(&text).unwrap_err(), line, "instruments[1].ref_price");
}

#[test]
fn malformed_yaml_names_line_and_nearest_key() {
    let text = DEFAULT_SIM_YAML.replace("risk:\n", "risk:\n\t");
    let e = load(&text).unwrap_err();
    let line = line_of(&text, "\t");
    assert_one_line(&e, line, "risk");
    let text = DEFAULT_SIM_YAML.replace("  gap_prob: ", "  gap_prob: \"unterminated ");
    let e = load(&text).unwrap_err().to_string();
    assert!(!e.contains('\n') && e.contains("bad.yaml:"), "{e}");
}

#[test]
fn missing_file_names_the_file() {
    let e = Config::load(&configs().join("no-such.yaml")).unwrap_err().to_string();
    assert!(
        e.contains("no-such.yaml") && e.contains("cannot read") && !e.contains('\n'),
        "{e}"
    );
    let text = DEFAULT_SIM_YAML.replace("weights_file: belief_weights.yaml", "weights_file: nope.yaml");
    let e = load(&text).unwrap_err().to_string();
    assert!(e.contains("nope.yaml"), "{e}");
}

/// Every value of the default file replaced by each of a few bad values: the loader
/// returns (never panics), and every error is one line with a position.
#[test]
fn no_value_replacement_panics() {
    let lines: Vec<&str> = DEFAULT_SIM_YAML.lines().collect();
    let mut errors = 0;
    for (i, l) in lines.iter().enumerate() {
        let Some((k, v)) = l.split_once(": ") else { continue };
        if k.trim_start().starts_with('#') || v.trim().is_empty() {
            continue;
        }
        for bad in ["-1", "x", "[", "{a: 1}", "1e400", "99999999999999999999999", "0"] {
            let mut t: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            t[i] = format!("{k}: {bad}");
            let text = t.join("\n");
            let r = std::panic::catch_unwind(|| load(&text));
            let r = r.unwrap_or_else(|_| panic!("panicked on line {}: {}", i + 1, t[i]));
            if let Err(e) = r {
                errors += 1;
                let s = e.to_string();
                assert!(!s.contains('\n'), "{s}");
                assert!(s.contains("bad.yaml:"), "no position: {s}");
            }
        }
    }
    assert!(errors > 300, "only {errors} replacements were rejected");
}

#[test]
fn every_template_is_valid() {
    std::env::set_var("FOXTROT_FIX_PASSWORD", "not-a-real-password");
    for name in ["sim", "paper", "live", "replay", "adversarial", "backtest"] {
        let c = Config::load(&configs().join(format!("{name}.yaml"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!c.config_hash().is_empty());
    }
    // The embedded backtest template is the file.
    assert_eq!(
        Config::load(&configs().join("backtest.yaml")).unwrap(),
        Config::default_backtest()
    );
    // The replay template decides exactly as the default does.
    let mut r = Config::load(&configs().join("replay.yaml")).unwrap();
    r.runtime = Config::default_sim().runtime;
    assert_eq!(r, Config::default_sim());
    // The live template's password is read from the environment and never shown.
    let live = Config::load(&configs().join("live.yaml")).unwrap();
    assert_eq!(live.session.password.as_ref().unwrap().expose(), "not-a-real-password");
    assert!(!live.canonical_text().contains("not-a-real-password"));
    assert!(!format!("{live:?}").contains("not-a-real-password"));
}
