//! foxtrot's FIX session-layer conformance suite: the scenarios in
//! `tests/conformance/*.case`, written from the FIX 4.2 / 4.4 session-layer
//! test cases, run over real TCP against a `foxtrot venue` process started
//! with `configs/conformance.yaml` (the echo application; ISLD accepting TW42
//! on FIX.4.2 and TW44 on FIX.4.4), once per version.
//!
//! ## Scenario files
//! A file holds cases; each starts with `case NAME` and a fresh set of
//! connections. Lines:
//! - `connect [N]` / `close [N]`: open / close connection N (default 1);
//! - `> FIELDS` (or `>N FIELDS`): send a message. FIELDS are `tag=value`
//!   separated by `|`, from MsgType on. The runner puts BeginString and
//!   BodyLength in front, SenderCompID / SendingTime / TargetCompID after
//!   MsgSeqNum (each unless the line gives it), and the CheckSum at the end
//!   (unless given: a given CheckSum stands for a wrong one, so should the
//!   SendingTime make it right — once in 256 sends — the next value is sent).
//!   `> raw FIELDS` sends exactly FIELDS (`9={len}` and `10={sum}` are computed).
//! - `< FIELDS` (or `<N FIELDS`): expect the next message to be exactly these
//!   fields, completed the same way (the venue's CompIDs swapped); `*` matches
//!   any value and `{ts}` a UTCTimestamp with milliseconds. Every message
//!   received must also have a right BodyLength and CheckSum.
//! - `< disconnect`: the venue closes the connection within 10 s, sending nothing;
//! - `< silence MS`: nothing arrives for MS milliseconds;
//! - `sleep MS`;
//! - a line starting `[4.2]` or `[4.4]` applies to that version only.
//!
//! Placeholders: `{now}`, `{now-S}`, `{now+S}` (UTC, seconds off), `{us}` (the
//! harness's CompID), `{them}` (ISLD), `{begin}`.

mod common;

use common::{conformance_venue, tempdir, RemoveOnSuccess};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SOH: u8 = 0x01;

struct Version {
    begin: &'static str,
    tag: &'static str,
    us: &'static str,
}

const VERSIONS: [Version; 2] = [
    Version {
        begin: "FIX.4.2",
        tag: "[4.2]",
        us: "TW42",
    },
    Version {
        begin: "FIX.4.4",
        tag: "[4.4]",
        us: "TW44",
    },
];

const THEM: &str = "ISLD";

fn timestamp(offset_s: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let ms = now.as_millis() as i64 + offset_s * 1000;
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{milli:03}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Replaces the placeholders of a line.
fn expand(s: &str, v: &Version) -> String {
    let mut out = s
        .replace("{us}", v.us)
        .replace("{them}", THEM)
        .replace("{begin}", v.begin);
    while let Some(i) = out.find("{now") {
        let end = i + out[i..].find('}').expect("closed placeholder");
        let off: i64 = match &out[i + 4..end] {
            "" => 0,
            o => o.parse().expect("{now±S}"),
        };
        out.replace_range(i..=end, &timestamp(off));
    }
    out
}

fn fields(s: &str) -> Vec<(String, String)> {
    s.split('|')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (t, v) = f.split_once('=').unwrap_or((f, ""));
            (t.trim().to_string(), v.to_string())
        })
        .collect()
}

/// The message's fields with the runner's completion: BeginString first, the
/// CompIDs and SendingTime after MsgSeqNum, unless given.
fn complete(mut f: Vec<(String, String)>, sender: &str, target: &str, ts: &str, begin: &str) -> Vec<(String, String)> {
    let has = |f: &[(String, String)], t: &str| f.iter().any(|(x, _)| x == t);
    let at = f
        .iter()
        .position(|(t, _)| t == "34")
        .or_else(|| f.iter().position(|(t, _)| t == "35"))
        .map_or(0, |i| i + 1);
    let mut ins = Vec::new();
    for (t, v) in [("49", sender), ("52", ts), ("56", target)] {
        if !has(&f, t) {
            ins.push((t.to_string(), v.to_string()));
        }
    }
    f.splice(at..at, ins);
    if !has(&f, "8") {
        f.insert(0, ("8".into(), begin.into()));
    }
    f
}

fn checksum(b: &[u8]) -> u32 {
    b.iter().map(|&c| c as u32).sum::<u32>() % 256
}

/// Wire bytes of fields: with `add_len`, BodyLength after BeginString; the
/// CheckSum at the end with `add_sum` (or where a `10` field is given);
/// `9={len}` and `10={sum}` are computed.
fn wire(f: &[(String, String)], add_len: bool, add_sum: bool) -> Vec<u8> {
    let mut fs: Vec<(String, String)> = f.iter().filter(|(t, _)| t != "10").cloned().collect();
    let sum = f.iter().find(|(t, _)| t == "10").map(|(_, v)| v.clone());
    if add_len {
        fs.insert(1.min(fs.len()), ("9".into(), "{len}".into()));
    }
    let text = |fs: &[(String, String)]| fs.iter().map(|(t, v)| format!("{t}={v}\x01")).collect::<String>();
    if let Some(i) = fs.iter().position(|(t, _)| t == "9") {
        let body_len = text(&fs[i + 1..]).len();
        fs[i].1 = fs[i].1.replace("{len}", &body_len.to_string());
    }
    let mut m = text(&fs).into_bytes();
    match sum {
        // A literal CheckSum is there to be wrong: never the right one by chance.
        Some(v) if v != "{sum}" && v.parse::<u32>().ok() == Some(checksum(&m)) => {
            m.extend_from_slice(format!("10={:0w$}\x01", (checksum(&m) + 1) % 256, w = v.len()).as_bytes())
        }
        Some(v) if v != "{sum}" => m.extend_from_slice(format!("10={v}\x01").as_bytes()),
        Some(_) => m.extend_from_slice(format!("10={:03}\x01", checksum(&m)).as_bytes()),
        None if add_sum => m.extend_from_slice(format!("10={:03}\x01", checksum(&m)).as_bytes()),
        None => {}
    }
    m
}

struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// The next complete message (by its CheckSum field), within `limit`.
    fn next(&mut self, limit: Duration) -> Result<Vec<u8>, String> {
        let end = Instant::now() + limit;
        loop {
            if let Some(n) = frame(&self.buf) {
                return Ok(self.buf.drain(..n).collect());
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("timed out waiting for a message".into());
            }
            self.s.set_read_timeout(Some(left)).unwrap();
            let mut b = [0u8; 65536];
            match self.s.read(&mut b) {
                Ok(0) => return Err("the venue closed the connection".into()),
                Ok(n) => self.buf.extend_from_slice(&b[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Err("connection reset".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Ok when the venue closes the connection (without sending) within `limit`.
    fn closed(&mut self, limit: Duration) -> Result<(), String> {
        match self.next(limit) {
            Err(e) if e.contains("closed") || e.contains("reset") => {
                if self.buf.is_empty() {
                    Ok(())
                } else {
                    Err(format!("closed after sending {}", show(&self.buf)))
                }
            }
            Err(e) => Err(format!("expected a disconnect: {e}")),
            Ok(m) => Err(format!("expected a disconnect, received {}", show(&m))),
        }
    }
}

/// Length of the first message in `b` (up to the SOH ending its CheckSum).
fn frame(b: &[u8]) -> Option<usize> {
    let i = b.windows(4).position(|w| w == b"\x0110=")?;
    let end = b[i + 4..].iter().position(|&c| c == SOH)?;
    Some(i + 4 + end + 1)
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace('\x01', "|")
}

/// Checks a received message against the expected fields.
fn matches(expected: &[(String, String)], got: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(got).into_owned();
    let parts: Vec<&str> = text.trim_end_matches('\x01').split('\x01').collect();
    let actual: Vec<(&str, &str)> = parts.iter().map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    // BodyLength and CheckSum right, whatever is expected.
    let body_at = text.find("\x0135=").ok_or("no MsgType")? + 1;
    let sum_at = text.rfind("\x0110=").ok_or("no CheckSum")? + 1;
    let declared: usize = actual
        .get(1)
        .filter(|(t, _)| *t == "9")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or("no BodyLength second")?;
    if declared != sum_at - body_at {
        return Err(format!("BodyLength {declared}, body is {} bytes", sum_at - body_at));
    }
    let want_sum = format!("{:03}", checksum(&got[..sum_at]));
    if actual.last().map(|(_, v)| *v) != Some(want_sum.as_str()) {
        return Err(format!("CheckSum is not {want_sum}"));
    }
    let mut exp: Vec<(String, String)> = expected.to_vec();
    if !exp.iter().any(|(t, _)| t == "9") {
        exp.insert(1, ("9".into(), "*".into()));
    }
    if !exp.iter().any(|(t, _)| t == "10") {
        exp.push(("10".into(), "*".into()));
    }
    let ts_ok = |v: &str| {
        let b = v.as_bytes();
        b.len() == 21
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[8] == b'-'
            && b[11] == b':'
            && b[14] == b':'
            && b[17] == b'.'
    };
    if exp.len() != actual.len() {
        return Err(format!("{} fields expected, {} received", exp.len(), actual.len()));
    }
    for ((t, v), (at, av)) in exp.iter().zip(&actual) {
        if t != at {
            return Err(format!("field {t} expected, {at} found"));
        }
        let ok = match v.as_str() {
            "*" => true,
            "{ts}" => ts_ok(av),
            _ => v == av,
        };
        if !ok {
            return Err(format!("field {t}: expected {v:?}, received {av:?}"));
        }
    }
    Ok(())
}

/// Runs one file for one version; the failures, as `file:line: case: why`.
fn run_file(path: &Path, v: &Version, port: u16) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();
    let mut cases = 0;
    // Cases: (name, first line, lines).
    let mut groups: Vec<(String, Vec<(usize, String)>)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(c) = line.strip_prefix("case ") {
            groups.push((c.trim().to_string(), Vec::new()));
            continue;
        }
        let line = match line.strip_prefix('[') {
            Some(_) if line.starts_with(v.tag) => line[v.tag.len()..].trim(),
            Some(_) => continue,
            None => line,
        };
        groups
            .last_mut()
            .expect("a line before the first `case`")
            .1
            .push((i + 1, line.to_string()));
    }
    for (case, lines) in groups {
        cases += 1;
        if let Err(e) = run_case(&lines, v, port) {
            failures.push(format!("{name}:{} [{}] {case}: {}", e.0, v.begin, e.1));
        }
    }
    (cases, failures)
}

/// A failure: the line, and why.
struct Failed(usize, String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

fn run_case(lines: &[(usize, String)], v: &Version, port: u16) -> Result<(), Failed> {
    let mut conns: Vec<Option<Conn>> = (0..4).map(|_| None).collect();
    for (n, line) in lines {
        let fail = |why: String| Failed(*n, why);
        let (head, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let conn_no = |h: &str, p: &str| -> usize { h[p.len()..].parse::<usize>().unwrap_or(1) };
        match head {
            "connect" => {
                let k = rest.trim().parse::<usize>().unwrap_or(1);
                let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| fail(format!("connect: {e}")))?;
                s.set_nodelay(true).unwrap();
                conns[k] = Some(Conn { s, buf: Vec::new() });
            }
            "close" => {
                let k = rest.trim().parse::<usize>().unwrap_or(1);
                conns[k] = None;
            }
            "sleep" => std::thread::sleep(Duration::from_millis(rest.trim().parse().unwrap())),
            h if h.starts_with('>') => {
                let k = conn_no(h, ">");
                let c = conns[k].as_mut().ok_or_else(|| fail("not connected".into()))?;
                let rest = expand(rest, v);
                let bytes = match rest.strip_prefix("raw ") {
                    Some(r) => {
                        let f = fields(r);
                        wire(&f, false, false)
                    }
                    None => {
                        let f = complete(fields(&rest), v.us, THEM, &timestamp(0), v.begin);
                        wire(&f, true, true)
                    }
                };
                c.s.write_all(&bytes).map_err(|e| fail(format!("send: {e}")))?;
            }
            h if h.starts_with('<') => {
                let k = conn_no(h, "<");
                let c = conns[k].as_mut().ok_or_else(|| fail("not connected".into()))?;
                let rest = rest.trim();
                if rest == "disconnect" {
                    c.closed(Duration::from_secs(10)).map_err(fail)?;
                    conns[k] = None;
                } else if let Some(ms) = rest.strip_prefix("silence ") {
                    let ms: u64 = ms.trim().parse().unwrap();
                    if let Ok(m) = c.next(Duration::from_millis(ms)) {
                        return Err(fail(format!("expected nothing, received {}", show(&m))));
                    }
                } else {
                    let want = complete(fields(&expand(rest, v)), THEM, v.us, "{ts}", v.begin);
                    let got = c.next(Duration::from_secs(10)).map_err(fail)?;
                    matches(&want, &got).map_err(|e| {
                        fail(format!(
                            "{e}\n      expected {}\n      received {}",
                            show(&wire(&want, true, false)),
                            show(&got)
                        ))
                    })?;
                }
            }
            _ => return Err(fail(format!("cannot read {line:?}"))),
        }
    }
    Ok(())
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Starts `foxtrot venue` with the conformance config on a port the kernel
/// gives it ([`venue_port`]; a port found free and probed by connecting once
/// let the probe succeed against something else, and all 118 cases failed with
/// "connection refused").
fn venue(dir: &Path) -> (std::process::Child, u16) {
    let messages = dir.join("messages");
    conformance_venue(dir, &["--message-log", messages.to_str().unwrap()])
}

#[test]
fn the_session_layer_conforms_for_fix42_and_fix44() {
    let dir = tempdir("conformance");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (mut child, port) = venue(&dir);
    // The connection the readiness probe opened is dropped by the venue when
    // its logon timeout expires; it holds no session.
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "scenario files: {files:?}");
    let (mut total, mut failures) = (0, Vec::new());
    for v in &VERSIONS {
        for f in &files {
            let (n, fails) = run_file(f, v, port);
            total += n;
            failures.extend(fails);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed (venue log: {}):\n{}",
        failures.len(),
        dir.join("venue.log").display(),
        failures.join("\n")
    );
    assert!(total >= 60, "only {total} cases ran");
}

/// The runner itself: a scenario that must fail does (so a pass means something).
/// A case's literal CheckSum is sent wrong even when the message happens to
/// sum to it (the SendingTime varies: once in 256 sends it would be right).
#[test]
fn a_literal_checksum_is_never_the_right_one() {
    let f = |v: &str| {
        vec![
            ("8".to_string(), "FIX.4.2".to_string()),
            ("35".into(), "0".into()),
            ("10".into(), v.into()),
        ]
    };
    let plain = wire(&f("{sum}"), true, true);
    let body = &plain[..plain.len() - 7];
    let right = format!("{:03}", checksum(body));
    let sent = wire(&f(&right), true, true);
    assert_eq!(&sent[..body.len()], body);
    assert_ne!(&sent[body.len()..], &plain[body.len()..], "the right CheckSum was sent");
    // Any other literal goes as written.
    let other = format!("{:03}", (checksum(body) + 7) % 256);
    assert!(wire(&f(&other), true, true).ends_with(format!("10={other}\x01").as_bytes()));
}

#[test]
fn the_runner_fails_a_wrong_expectation() {
    let dir = tempdir("conformance-self");
    let _cleanup = RemoveOnSuccess(dir.clone());
    let (mut child, port) = venue(&dir);
    let lines = vec![
        (1, "connect".to_string()),
        (2, "> 35=A|34=1|98=0|108=30".to_string()),
        // The Logon answer carries HeartBtInt 30, not 31.
        (3, "< 35=A|34=1|98=0|108=31".to_string()),
    ];
    let r = run_case(&lines, &VERSIONS[1], port);
    let _ = child.kill();
    let _ = child.wait();
    let e = r.expect_err("a wrong expectation fails");
    assert!(e.1.contains("field 108"), "{e}");
}
