//! ITCH files through the command line: `foxtrot gen --format itch` decoded by
//! the Python `itchfeed` package and by `foxtrot itch cat --json`, compared message
//! by message and field by field; and the raw-framing fallback.

mod common;
mod external;

use common::{command, ok, tempdir};

use std::process::Command;

fn lines(out: &[u8]) -> Vec<serde_json::Map<String, serde_json::Value>> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| match serde_json::from_str(l).unwrap() {
            serde_json::Value::Object(o) => o,
            v => panic!("not an object: {v}"),
        })
        .collect()
}

#[test]
fn itchfeed_decodes_our_generated_file_as_we_do() {
    if !external::python_module("itch.parser") {
        return;
    }
    let d = tempdir("itchfeed");
    let f = d.join("day.itch");
    let fs = f.to_str().unwrap();
    ok(&["gen", "--format", "itch", "--events", "30000", "--seed", "9", "-o", fs]);
    let ours = lines(ok(&["itch", "cat", "--json", fs]).as_bytes());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/itchfeed_dump.py");
    let out = Command::new("python3").arg(script).arg(&f).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = lines(&out.stdout);
    assert_eq!(ours.len(), theirs.len(), "message counts");
    assert!(ours.len() > 30_000);
    let mut compared = 0usize;
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        // Every field we decode must be there, equal; itchfeed decodes a few types
        // (Y, N) further than we need to, so its extra fields are not compared.
        for (k, v) in o {
            assert_eq!(
                Some(v),
                t.get(k),
                "message {i} ({}), field {k}: ours {o:?}, itchfeed {t:?}",
                o["message_type"]
            );
            compared += 1;
        }
        let kind = o["message_type"].as_str().unwrap();
        if "SRHAFEXDUCPQ".contains(kind) {
            assert_eq!(
                o.len(),
                t.len(),
                "message {i} ({kind}): we decode every field itchfeed does"
            );
        }
    }
    assert!(compared > 200_000, "compared {compared} fields");
}

#[test]
fn raw_files_read_by_inference_and_wrong_framing_is_named() {
    let d = tempdir("raw");
    let (p, r) = (d.join("p.itch"), d.join("r.itch"));
    let (ps, rs) = (p.to_str().unwrap(), r.to_str().unwrap());
    ok(&["gen", "--format", "itch", "--events", "3000", "-o", ps]);
    ok(&[
        "gen",
        "--format",
        "itch",
        "--events",
        "3000",
        "--framing",
        "raw",
        "-o",
        rs,
    ]);
    let a = ok(&["itch", "cat", "--json", ps]);
    // Detected, and forced.
    assert_eq!(a, ok(&["itch", "cat", "--json", rs]));
    assert_eq!(a, ok(&["itch", "cat", "--json", "--framing", "raw", rs]));
    // A raw file read as prefixed fails at offset 0 and says what to do.
    let out = command()
        .args(["itch", "cat", "--framing", "prefixed", rs])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("offset 0: length prefix") && err.contains("--framing raw"),
        "{err}"
    );
    // A corrupted prefix in the middle: offset, type and both lengths.
    let mut bytes = std::fs::read(&p).unwrap();
    let mut at = 0usize;
    for _ in 0..100 {
        at += 2 + u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
    }
    let kind = bytes[at + 2] as char;
    let len = bytes[at + 1];
    bytes[at + 1] += 1;
    std::fs::write(&p, &bytes).unwrap();
    let out = command().args(["itch", "cat", ps]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "offset {at}: length prefix {} but message type {kind:?} is {len} bytes",
        len + 1
    );
    assert!(!out.status.success() && err.contains(&want), "{err}\nwanted: {want}");
}
