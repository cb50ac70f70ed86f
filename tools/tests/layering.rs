//! The house rules of DESIGN §3, checked on every build: which crate may depend
//! on which (from `cargo metadata`), and which module may name which (from the
//! paths in the source). A forbidden edge fails this test with the file, line
//! and path that crossed it.
//!
//! | who | may not depend on or name |
//! |---|---|
//! | `foxtrot-shm` | any foxtrot crate |
//! | `foxtrot-engine` | any foxtrot crate but shm |
//! | production I/O: `foxtrot-net`, `foxtrot-fix`, `foxtrot-feed` | `foxtrot-venue`, `foxtrot-tools` |
//! | `foxtrot-venue` | `foxtrot-tools` |
//! | `engine/src/core` | the runtime, the configuration loader, journals, shm, any gateway or tools crate, threads, sockets, files, clocks |
//! | `engine/src/records`, `engine/src/format` | anything of the engine but records and format, shm, I/O |
//! | production I/O crates | the engine's core other than its book (and the price grid books use), and its fused/threaded runtimes |
//!
//! Dev-dependencies are exempt: a crate's tests may run it against anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Normal (non-dev) dependencies of each workspace crate on other workspace crates.
fn crate_edges() -> BTreeMap<String, Vec<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut edges = BTreeMap::new();
    for p in v["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("name").to_string();
        let deps = p["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .filter(|d| d.starts_with("foxtrot-"))
            .map(String::from)
            .collect();
        edges.insert(name, deps);
    }
    edges
}

/// Crate-level rule: `krate` may not depend on any of `forbidden` (`*` = every
/// foxtrot crate but those in `allowed`).
fn crate_violations(edges: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let io = ["foxtrot-net", "foxtrot-fix", "foxtrot-feed"];
    let mut v = Vec::new();
    for (krate, deps) in edges {
        for d in deps {
            let bad = match krate.as_str() {
                "foxtrot-shm" => true,
                "foxtrot-engine" => d != "foxtrot-shm",
                k if io.contains(&k) => d == "foxtrot-venue" || d == "foxtrot-tools",
                "foxtrot-venue" => d == "foxtrot-tools",
                _ => false,
            };
            if bad {
                v.push(format!("crate {krate} depends on {d}"));
            }
        }
    }
    v
}

/// Source lines with comments removed, numbered from 1.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| {
        let code = match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        };
        (i + 1, code)
    })
}

/// A module-level rule: what files under a folder may not name.
struct Rule {
    /// Folder (relative to the workspace root) the rule covers.
    dir: &'static str,
    /// Paths that may not appear in its code.
    forbidden: &'static [&'static str],
    /// Paths allowed although a forbidden prefix matches them.
    allowed: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        dir: "engine/src/core",
        forbidden: &[
            "crate::runtime",
            "crate::config",
            "crate::journal",
            "super::super::super",
            "foxtrot_",
            "std::fs",
            "std::net",
            "std::thread",
            "std::time",
            "std::env",
            "std::process",
            "quanta",
            "mio::",
            "libc::",
            "memmap2",
            "serde_yaml",
            "HashMap",
            "HashSet",
        ],
        allowed: &[],
    },
    Rule {
        dir: "engine/src/records",
        forbidden: &[
            "crate::core",
            "crate::runtime",
            "crate::config",
            "crate::journal",
            "crate::format",
            "foxtrot_",
            "std::fs",
            "std::net",
            "std::time",
        ],
        allowed: &[],
    },
    Rule {
        dir: "engine/src/format",
        forbidden: &[
            "crate::core",
            "crate::runtime",
            "crate::config",
            "crate::journal",
            "foxtrot_",
            "std::fs",
            "std::net",
            "std::time",
        ],
        allowed: &[],
    },
    Rule {
        dir: "gateway/net/src",
        forbidden: &["foxtrot_venue", "foxtrot_tools", "foxtrot_engine"],
        allowed: &[],
    },
    Rule {
        dir: "gateway/fix/src",
        forbidden: &[
            "foxtrot_venue",
            "foxtrot_tools",
            "foxtrot_engine::core",
            "foxtrot_engine::runtime::fused",
            "foxtrot_engine::runtime::threaded",
            "foxtrot_engine::runtime::replay",
            "foxtrot_engine::runtime::FusedRun",
            "foxtrot_engine::runtime::run_threaded",
        ],
        allowed: &[],
    },
    Rule {
        dir: "gateway/feed/src",
        forbidden: &[
            "foxtrot_venue",
            "foxtrot_tools",
            "foxtrot_engine::core",
            "foxtrot_engine::runtime::fused",
            "foxtrot_engine::runtime::threaded",
            "foxtrot_engine::runtime::replay",
            "foxtrot_engine::runtime::FusedRun",
            "foxtrot_engine::runtime::run_threaded",
        ],
        // The book data structures (a feed handler keeps books, a quality
        // check keeps the touch, the price grid checks prices against the
        // tick as the books do), not the core that decides.
        allowed: &[
            "foxtrot_engine::core::Book",
            "foxtrot_engine::core::book",
            "foxtrot_engine::core::TouchBook",
            "foxtrot_engine::core::quote_touch",
            "foxtrot_engine::core::TickGrid",
            "foxtrot_engine::core::tick_grid",
        ],
    },
    Rule {
        dir: "gateway/venue/src",
        forbidden: &["foxtrot_tools"],
        allowed: &[],
    },
];

/// The violations of `rule` in one file's `text`.
fn file_violations(rule: &Rule, file: &str, text: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut in_tests = false;
    for (n, line) in code_lines(text) {
        // Unit tests of a module (`#[cfg(test)] mod tests`) are exempt, as dev-dependencies are.
        if line.trim_start().starts_with("#[cfg(test)]") {
            in_tests = true;
        }
        if in_tests {
            continue;
        }
        for f in rule.forbidden {
            let mut from = 0;
            while let Some(at) = line[from..].find(f) {
                let at = from + at;
                from = at + f.len();
                let rest = &line[at..];
                if rule.allowed.iter().any(|a| rest.starts_with(a)) {
                    continue;
                }
                // A word boundary before the path (not `my_crate::runtime`).
                let before = line[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                v.push(format!("{file}:{n}: names `{f}`: {}", line.trim()));
            }
        }
    }
    v
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn module_violations() -> Vec<String> {
    let mut v = Vec::new();
    for rule in RULES {
        let mut files = Vec::new();
        rust_files(&root().join(rule.dir), &mut files);
        assert!(!files.is_empty(), "{}: no sources", rule.dir);
        for f in files {
            let text = std::fs::read_to_string(&f).expect("readable source");
            let rel = f.strip_prefix(root()).unwrap_or(&f).display().to_string();
            v.extend(file_violations(rule, &rel, &text));
        }
    }
    v
}

#[test]
fn crates_depend_only_along_allowed_edges() {
    let edges = crate_edges();
    for k in [
        "foxtrot-shm",
        "foxtrot-engine",
        "foxtrot-fix",
        "foxtrot-feed",
        "foxtrot-venue",
    ] {
        assert!(edges.contains_key(k), "{k} is a workspace crate");
    }
    let v = crate_violations(&edges);
    assert!(v.is_empty(), "forbidden crate edges:\n{}", v.join("\n"));
}

#[test]
fn modules_name_only_what_their_layer_may() {
    let v = module_violations();
    assert!(v.is_empty(), "forbidden imports:\n{}", v.join("\n"));
}

/// The checker itself catches what it is for (so the tests above can fail).
#[test]
fn the_checker_flags_forbidden_edges_and_passes_allowed_ones() {
    let core = &RULES[0];
    let bad = "use crate::runtime::FusedRun;\nuse super::book::Book;\nlet t = std::time::Instant::now();\n";
    let v = file_violations(core, "engine/src/core/x.rs", bad);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v[0].starts_with("engine/src/core/x.rs:1:"), "{v:?}");
    assert!(file_violations(core, "x.rs", "// crate::runtime in a comment\n").is_empty());
    assert!(file_violations(core, "x.rs", "#[cfg(test)]\nmod tests { use std::time::Instant; }\n").is_empty());
    let feed = RULES.iter().find(|r| r.dir == "gateway/feed/src").expect("feed rule");
    assert!(file_violations(feed, "f.rs", "use foxtrot_engine::core::Book;\n").is_empty());
    assert_eq!(
        file_violations(feed, "f.rs", "use foxtrot_engine::core::Core;\n").len(),
        1
    );
    assert_eq!(file_violations(feed, "f.rs", "use foxtrot_venue::SimWorld;\n").len(), 1);
    let mut edges = BTreeMap::new();
    edges.insert("foxtrot-shm".to_string(), vec!["foxtrot-engine".to_string()]);
    edges.insert("foxtrot-feed".to_string(), vec!["foxtrot-venue".to_string()]);
    edges.insert("foxtrot-engine".to_string(), vec!["foxtrot-shm".to_string()]);
    assert_eq!(crate_violations(&edges).len(), 2);
}
