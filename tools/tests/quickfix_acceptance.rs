//! QuickFIX's own session-level acceptance definitions — the `.def` files of
//! its repository (`test/definitions/server/fix42` and `fix44`, in
//! `tests/quickfix_at/` with QuickFIX's licence and field patterns) — run over
//! TCP against a `foxtrot venue` started with `configs/conformance.yaml`, by a
//! runner that reads them exactly as QuickFIX's Ruby runner does:
//!
//! - a line is `I` (send), `E` (expect), `iCONNECT` / `iDISCONNECT` (open /
//!   close a connection), `eDISCONNECT` (the venue closes within 10 s, sending
//!   nothing more), `#` a comment; `I2,` / `E2,` name connection 2 (default 1);
//! - `<TIME>` is the UTC time in seconds, `<TIME+N>` / `<TIME-N>` N seconds on;
//! - a message starting `8=` gets a BodyLength unless it has one and a
//!   CheckSum unless it has one (a given CheckSum is sent as written); any
//!   other line is sent exactly as written;
//! - an expected message must have the received message's fields, in order:
//!   each value equal, or for a field of `fields.fmt` (CheckSum, SendingTime,
//!   OrigSendingTime, TransactTime, …) matching its pattern. BodyLength is
//!   compared as a value: a message one byte longer than QuickFIX's fails.
//!
//! foxtrot's own `conformance.rs` suite was written from a reading of the same
//! test cases; this one is the cases themselves, as their authors run them.

mod common;

use common::{conformance_venue, tempdir, RemoveOnSuccess};
use regex::Regex;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn at_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quickfix_at")
}

/// `YYYYMMDD-HH:MM:SS`, UTC, `offset` seconds from now (the runner's `<TIME±N>`).
fn utc_seconds(offset: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + offset;
    let (y, m, d) = foxtrot_engine::format::calendar::civil_from_days(now.div_euclid(86_400));
    let s = now.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// Replaces `<TIME>`, `<TIME+N>` and `<TIME-N>`.
fn timeify(line: &str) -> String {
    let re = Regex::new(r"<TIME(?:([+-])(\d+))?>").unwrap();
    re.replace_all(line, |c: &regex::Captures| {
        let n: i64 = c.get(2).map_or(0, |n| n.as_str().parse().unwrap());
        utc_seconds(if c.get(1).is_some_and(|s| s.as_str() == "-") {
            -n
        } else {
            n
        })
    })
    .into_owned()
}

/// Completes a message starting `8=`: BodyLength unless it has one, CheckSum
/// unless it has one. Anything else is left as written.
fn fixify(m: &str) -> Vec<u8> {
    let Some(head_end) = m.strip_prefix("8=").and_then(|r| r.find('\x01')).map(|i| i + 3) else {
        return m.as_bytes().to_vec();
    };
    let has_length = Regex::new("\x019=.*?\x01").unwrap().is_match(m);
    let (head, mut rest) = (&m[..head_end], m[head_end..].to_string());
    // A CheckSum given: from the SOH before `10=` to the line's end.
    let checksum = Regex::new("\x0110=.*\x01$")
        .unwrap()
        .find(&rest)
        .map(|f| f.as_str().to_string());
    if let Some(c) = &checksum {
        rest.truncate(rest.len() - c.len());
    }
    let length = if has_length {
        String::new()
    } else {
        format!("9={}\x01", rest.len())
    };
    let mut out = format!("{head}{length}{rest}").into_bytes();
    match checksum {
        Some(c) => out.extend_from_slice(c.as_bytes()),
        None => {
            let sum = out.iter().fold(0u8, |a, &b| a.wrapping_add(b));
            out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        }
    }
    out
}

/// The field patterns of `fields.fmt`, by tag.
struct Patterns(Vec<(String, Regex)>);

impl Patterns {
    fn load() -> Patterns {
        let text = std::fs::read_to_string(at_dir().join("fields.fmt")).unwrap();
        Patterns(
            text.lines()
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (tag, re) = l.split_once('=').unwrap();
                    (tag.to_string(), Regex::new(re).unwrap())
                })
                .collect(),
        )
    }

    fn get(&self, tag: &str) -> Option<&Regex> {
        self.0.iter().find(|(t, _)| t == tag).map(|(_, r)| r)
    }
}

/// `s` split at `sep` with trailing empty pieces dropped (Ruby's `split`).
fn split(s: &str, sep: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(sep).collect();
    while v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// Compares as QuickFIX's `Comparator`: the same number of fields, the same
/// tags in the same order, each value equal or matching its tag's pattern.
fn compare(p: &Patterns, expected: &str, actual: &str) -> Result<(), String> {
    let (e, a) = (split(expected, '\x01'), split(actual, '\x01'));
    if e.len() != a.len() {
        return Err("number of fields do not match".into());
    }
    for (ef, af) in e.iter().zip(&a) {
        let (ef, af) = (split(ef, '='), split(af, '='));
        let (et, at) = (ef.first().copied().unwrap_or(""), af.first().copied().unwrap_or(""));
        if et != at {
            return Err(format!("expected field ({et}) but found field ({at})"));
        }
        let (ev, av) = (ef.get(1).copied(), af.get(1).copied());
        match p.get(et) {
            Some(re) if !av.is_some_and(|v| re.is_match(v)) => {
                return Err(format!("field ({et}) does not match pattern"));
            }
            Some(_) => {}
            None if ev != av => {
                return Err(format!(
                    "value in field ({et}) should be ({}) but was ({})",
                    ev.unwrap_or(""),
                    av.unwrap_or("")
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// A connection, read as QuickFIX's `FixParser` reads: up to `SOH 9=`, the
/// BodyLength, that many bytes, then the CheckSum field.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

/// How long an expected message may take (QuickFIX's runner waits for ever).
const MESSAGE_WAIT: Duration = Duration::from_secs(30);

impl Conn {
    /// Reads more bytes within `until`; false at its end or the peer's close.
    fn fill(&mut self, until: Instant) -> Result<bool, String> {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        self.s.set_read_timeout(Some(left)).unwrap();
        let mut b = [0u8; 65536];
        match self.s.read(&mut b) {
            Ok(0) => {
                self.eof = true;
                Ok(false)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&b[..n]);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                self.eof = true;
                Ok(false)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn message(&mut self) -> Result<String, String> {
        let until = Instant::now() + MESSAGE_WAIT;
        loop {
            if let Some(n) = Self::framed(&self.buf) {
                let m: Vec<u8> = self.buf.drain(..n).collect();
                return Ok(String::from_utf8_lossy(&m).into_owned());
            }
            if self.eof {
                return Err("was disconnected, expected data".into());
            }
            if !self.fill(until)? && !self.eof {
                return Err(format!("no message in {MESSAGE_WAIT:?}"));
            }
        }
    }

    /// The first message's length, as the Ruby parser frames it.
    fn framed(b: &[u8]) -> Option<usize> {
        let at = b.windows(3).position(|w| w == b"\x019=")? + 3;
        let len_end = at + b[at..].iter().position(|&c| c == 1)?;
        let len: usize = std::str::from_utf8(&b[at..len_end]).ok()?.parse().ok()?;
        let body_end = len_end + 1 + len;
        let sum_end = body_end + b.get(body_end..)?.iter().position(|&c| c == 1)? + 1;
        Some(sum_end)
    }

    /// The venue closes the connection within 10 s and sends nothing first.
    fn disconnected(&mut self) -> Result<(), String> {
        let until = Instant::now() + Duration::from_secs(10);
        while self.buf.is_empty() && !self.eof {
            if !self.fill(until)? && !self.eof {
                return Err("connection hangs after ten seconds".into());
            }
        }
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "expected disconnection, got data: {}",
                String::from_utf8_lossy(&self.buf).replace('\x01', "|")
            ))
        }
    }
}

/// Runs one definition file; the first failure, with its line.
fn run_def(path: &Path, port: u16, p: &Patterns) -> Result<(), String> {
    let text = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&text);
    let mut conns: std::collections::BTreeMap<u32, Conn> = Default::default();
    let cid_re = Regex::new(r"^[IEie]\d,").unwrap();
    for (n, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cid, rest) = if cid_re.is_match(line) {
            (u32::from(line.as_bytes()[1] - b'0'), &line[3..])
        } else {
            (1, &line[1..])
        };
        let fail = |why: String| format!("line {}: {why}\n    line: {}", n + 1, line.replace('\x01', "|"));
        let body = fixify(&timeify(rest));
        match (line.as_bytes()[0], rest) {
            (b'i', "CONNECT") => {
                let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| fail(format!("connect: {e}")))?;
                s.set_nodelay(true).unwrap();
                conns.insert(
                    cid,
                    Conn {
                        s,
                        buf: Vec::new(),
                        eof: false,
                    },
                );
            }
            (b'i', "DISCONNECT") => {
                conns.remove(&cid);
            }
            (b'e', "CONNECT") => {}
            (b'e', "DISCONNECT") => {
                let c = conns.get_mut(&cid).ok_or_else(|| fail("no such connection".into()))?;
                c.disconnected().map_err(fail)?;
            }
            (b'I', _) => {
                let c = conns
                    .get_mut(&cid)
                    .ok_or_else(|| fail("unable to send message because connection was dropped".into()))?;
                // As the Ruby runner's write: the first write after the venue
                // closed succeeds, a later one fails the definition.
                c.s.write_all(&body).map_err(|e| fail(format!("write: {e}")))?;
            }
            (b'E', _) => {
                let c = conns.get_mut(&cid).ok_or_else(|| fail("no such connection".into()))?;
                let got = c.message().map_err(fail)?;
                let want = String::from_utf8_lossy(&body).into_owned();
                compare(p, &want, &got).map_err(|why| {
                    fail(format!(
                        "{why}\n    expected: {}\n    received: {}",
                        want.replace('\x01', "|"),
                        got.replace('\x01', "|")
                    ))
                })?;
            }
            _ => return Err(fail("syntax error".into())),
        }
    }
    Ok(())
}

/// Every definition of a directory in order (as the runner's glob gives
/// them); the failures, one per file.
fn run_dir(dir: &Path, port: u16) -> (usize, Vec<String>) {
    let p = Patterns::load();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "def"))
        .collect();
    files.sort();
    let fails = files
        .iter()
        .filter_map(|f| run_def(f, port, &p).err().map(|e| format!("{}\n    {e}", f.display())))
        .collect();
    (files.len(), fails)
}

fn venue(dir: &Path) -> (std::process::Child, u16) {
    conformance_venue(dir, &[])
}

/// FIX 4.2 and 4.4 side by side (their sessions are distinct, as QuickFIX's
/// own script runs them), against one venue.
#[test]
fn quickfix_acceptance_definitions_pass_for_fix42_and_fix44() {
    let dir = tempdir("quickfix-at");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (mut child, port) = venue(&dir);
    let runs: Vec<_> = ["fix42", "fix44"]
        .into_iter()
        .map(|v| std::thread::spawn(move || run_dir(&at_dir().join(v), port)))
        .collect();
    let results: Vec<(usize, Vec<String>)> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let _ = child.kill();
    let _ = child.wait();
    let total: usize = results.iter().map(|r| r.0).sum();
    let fails: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();
    eprintln!(
        "QuickFIX acceptance: {} of {total} definitions passed",
        total - fails.len()
    );
    assert_eq!(total, 58 + 59, "the definitions of fix42 and fix44");
    assert!(
        fails.is_empty(),
        "{} of {total} definitions failed (venue log: {}):\n{}",
        fails.len(),
        dir.join("venue.log").display(),
        fails.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}

/// The runner fails what it must: a definition whose expected Logon answer
/// differs in one value, in BodyLength, or in one field's order.
#[test]
fn the_runner_fails_a_wrong_expectation() {
    let dir = tempdir("quickfix-at-self");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (mut child, port) = venue(&dir);
    let p = Patterns::load();
    let good = std::fs::read_to_string(at_dir().join("fix44/2a_MsgSeqNumCorrect.def")).unwrap();
    let logon_answer = "E8=FIX.4.4\x019=63\x0135=A\x0134=1\x0149=ISLD\x0152=00000000-00:00:00.000\x0156=TW44\x0198=0\x01108=30\x0110=0\x01";
    assert!(good.contains(logon_answer), "the definition's Logon answer");
    let bad = [
        logon_answer.replace("108=30", "108=31"),
        logon_answer.replace("9=63", "9=64"),
        logon_answer.replace("98=0\x01108=30", "108=30\x0198=0"),
    ];
    let results: Vec<Result<(), String>> = std::iter::once(good.clone())
        .chain(bad.iter().map(|b| good.replace(logon_answer, b)))
        .map(|text| {
            let f = dir.join("case.def");
            std::fs::write(&f, text).unwrap();
            run_def(&f, port, &p)
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(results[0], Ok(()), "the definition as QuickFIX wrote it");
    for (r, why) in results[1..]
        .iter()
        .zip(["should be (31) but was (30)", "field (9)", "expected field (108)"])
    {
        let e = r.as_ref().expect_err("a wrong expectation fails");
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn completes_and_compares_as_quickfix_does() {
    // A BodyLength and CheckSum are added; a given CheckSum is kept.
    let m = fixify("8=FIX.4.2\x0135=0\x0134=2\x01");
    assert_eq!(m, b"8=FIX.4.2\x019=10\x0135=0\x0134=2\x0110=164\x01");
    // With a given CheckSum the Ruby runner counts the body without the SOH
    // before `10=` (it cuts that SOH with the field): one byte short, sent so
    // (the definitions that do this test a bad CheckSum, `10=256`).
    let kept = fixify("8=FIX.4.2\x0135=0\x0110=999\x01");
    assert_eq!(kept, b"8=FIX.4.2\x019=4\x0135=0\x0110=999\x01");
    assert_eq!(fixify("35=0\x018=FIX.4.2\x01"), b"35=0\x018=FIX.4.2\x01");
    let t = timeify("52=<TIME>|122=<TIME-121>|60=<TIME+10>");
    assert!(
        Regex::new(r"^52=\d{8}-\d\d:\d\d:\d\d\|122=\d{8}-\d\d:\d\d:\d\d\|60=\d{8}-")
            .unwrap()
            .is_match(&t),
        "{t}"
    );
    let p = Patterns::load();
    assert_eq!(
        compare(
            &p,
            "35=0\x0152=x\x0110=0\x01",
            "35=0\x0152=20260101-00:00:00.123\x0110=012\x01"
        ),
        Ok(())
    );
    assert!(
        compare(&p, "35=0\x0110=0\x01", "35=0\x0110=12\x01").is_err(),
        "CheckSum has three digits"
    );
    assert!(compare(&p, "35=0\x0158=\x01", "35=0\x0158=a\x01").is_err());
}
