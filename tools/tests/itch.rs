//! ITCH files through the command line: `foxtrot gen --format itch` decoded by
//! the Python `itchfeed` package and by `foxtrot itch cat --json`, compared message
//! by message and field by field; and the raw-framing fallback.

mod common;
mod external;

use common::{command, ok, tempdir, RemoveOnSuccess};

use std::path::Path;
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
#[cfg_attr(
    not(has_py_itch),
    ignore = "needs the Python package itchfeed: bash .ci/run installs it"
)]
fn itchfeed_decodes_our_generated_file_as_we_do() {
    if !external::python_module("itch.parser") {
        return;
    }
    let d = tempdir("itchfeed");
    let _cleanup = RemoveOnSuccess(d.clone());
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
    let _cleanup = RemoveOnSuccess(d.clone());
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

fn itch_msg(kind: u8, locate: u16, ts: u64, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&locate.to_be_bytes());
    m.extend_from_slice(&0u16.to_be_bytes());
    m.extend_from_slice(&ts.to_be_bytes()[2..]);
    m.extend_from_slice(body);
    m
}

fn itch_add(r: u64, side: u8, shares: u32, price: u32, ts: u64) -> Vec<u8> {
    let mut b = r.to_be_bytes().to_vec();
    b.push(side);
    b.extend_from_slice(&shares.to_be_bytes());
    b.extend_from_slice(b"ACME    ");
    b.extend_from_slice(&price.to_be_bytes());
    itch_msg(b'A', 7, ts, &b)
}

/// A file whose two-byte prefixes are all zero (a real-world variant): every
/// ITCH 5.0 type has a fixed length, so `auto` detects it and reads it as the
/// prefixed original; so does `--framing zero-prefixed`, and so does import.
#[test]
fn zero_length_prefixes_are_detected_and_read() {
    let d = tempdir("zero");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (p, z) = (d.join("p.itch"), d.join("z.itch"));
    ok(&["gen", "--format", "itch", "--events", "3000", "-o", p.to_str().unwrap()]);
    let mut bytes = std::fs::read(&p).unwrap();
    let mut at = 0usize;
    while at < bytes.len() {
        let n = u16::from_be_bytes([bytes[at], bytes[at + 1]]) as usize;
        bytes[at] = 0;
        bytes[at + 1] = 0;
        at += 2 + n;
    }
    std::fs::write(&z, &bytes).unwrap();
    let a = ok(&["itch", "cat", "--json", p.to_str().unwrap()]);
    assert_eq!(a, ok(&["itch", "cat", "--json", z.to_str().unwrap()]));
    assert_eq!(
        a,
        ok(&[
            "itch",
            "cat",
            "--json",
            "--framing",
            "zero-prefixed",
            z.to_str().unwrap()
        ])
    );
    let (mp, mz) = (d.join("mp"), d.join("mz"));
    let ip = common::ok_cmd(&mut common::import_cmd(&p, "itch", &mp));
    let iz = common::ok_cmd(&mut common::import_cmd(&z, "itch", &mz));
    let events = |s: &str| {
        s.split("imported ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .map(str::to_string)
    };
    assert_eq!(events(&ip), events(&iz), "{ip}\n{iz}");
    std::fs::remove_dir_all(&d).ok();
}

/// Sub-penny prices are valid ITCH prices: the book's tick comes from the data,
/// so they make no book issues and the touch is right; the feed's own issues
/// (an unknown order) are journalled as findings by import, as by record.
#[test]
fn sub_penny_books_are_right_and_import_journals_the_feeds_issues() {
    let d = tempdir("subpenny");
    let _cleanup = RemoveOnSuccess(d.clone());
    let f = d.join("s.itch");
    let mut bytes = Vec::new();
    for (i, m) in [
        itch_add(1, b'B', 100, 12_345, 1_000),          // 1.2345
        itch_add(2, b'B', 200, 12_341, 2_000),          // 1.2341
        itch_add(3, b'S', 300, 12_349, 3_000),          // 1.2349
        itch_add(4, b'S', 50, 12_347, 4_000),           // 1.2347
        itch_msg(b'D', 7, 5_000, &99u64.to_be_bytes()), // unknown order
    ]
    .into_iter()
    .enumerate()
    {
        let _ = i;
        foxtrot_feed::itch::file::write_prefixed(&mut bytes, &m);
    }
    std::fs::write(&f, &bytes).unwrap();
    let book = ok(&["itch", "book", f.to_str().unwrap()]);
    assert!(book.contains(", 0 book issues"), "{book}");
    assert!(
        book.contains("bid 100 @ 1.2345") && book.contains("ask 50 @ 1.2347"),
        "{book}"
    );
    let md = d.join("md");
    let out = common::ok_cmd(&mut common::import_cmd(&f, "itch", &md));
    assert!(
        out.contains("ACME: tick inferred from the data: 1 price units"),
        "{out}"
    );
    let cat = ok(&["journal", "cat", "--json", md.join("market_data").to_str().unwrap()]);
    let findings = cat
        .lines()
        .filter(|l| l.contains("\"data_quality\"") && l.contains("\"book\""))
        .count();
    assert_eq!(findings, 1, "{cat}");
    std::fs::remove_dir_all(&d).ok();
}

/// A third party's ITCH 5.0 file — RITCH's test file, as its own writer wrote
/// it (every length prefix zero; see `tests/external/ritch/README.md`) —
/// reads as RITCH's test suite holds RITCH's reader to read it (the counts
/// below are that suite's), builds the book a plain reference of our own
/// (`itch_ref_book.py`, its own decoder) builds from the same bytes, and
/// imports and backtests with the feed's issues journalled, the same twice.
#[test]
fn ritchs_test_file_reads_as_ritch_reads_it_and_builds_the_reference_book() {
    let f = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/external/ritch/ex20101224.TEST_ITCH_50.gz"
    );
    let msgs = lines(ok(&["itch", "cat", "--json", f]).as_bytes());
    let text = |m: &serde_json::Map<String, serde_json::Value>, k: &str| {
        m[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {m:?}"))
            .trim()
            .to_string()
    };
    let mut by_type = std::collections::BTreeMap::<String, u64>::new();
    let mut tally = std::collections::BTreeMap::<(String, String), u64>::new();
    let mut events = Vec::new();
    for m in &msgs {
        let t = text(m, "message_type");
        *by_type.entry(t.clone()).or_default() += 1;
        let mut count = |what: &str, v: String| *tally.entry((what.to_string(), v)).or_default() += 1;
        match t.as_str() {
            "A" | "F" => {
                count("order side", text(m, "buy_sell_indicator"));
                count("order stock", text(m, "stock"));
            }
            "P" => {
                count("trade side", text(m, "buy_sell_indicator"));
                count("trade stock", text(m, "stock"));
            }
            "S" => events.push(text(m, "event_code")),
            _ => {}
        }
    }
    // RITCH's `count_messages`, `read_orders`, `read_trades`,
    // `read_modifications` and `read_system_events` expectations.
    let want: std::collections::BTreeMap<String, u64> = [
        ("S", 6),
        ("R", 3),
        ("H", 3),
        ("A", 4997),
        ("F", 3),
        ("E", 198),
        ("X", 45),
        ("D", 1745),
        ("U", 12),
        ("P", 5000),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(by_type, want);
    assert_eq!(msgs.len(), 12_012);
    let want: std::collections::BTreeMap<(String, String), u64> = [
        ("order side", "S", 2568),
        ("order side", "B", 2432),
        ("order stock", "ALC", 950),
        ("order stock", "BOB", 2482),
        ("order stock", "CHAR", 1568),
        ("trade side", "B", 5000),
        ("trade stock", "ALC", 1885),
        ("trade stock", "BOB", 1658),
        ("trade stock", "CHAR", 1457),
    ]
    .into_iter()
    .map(|(w, v, n)| ((w.to_string(), v.to_string()), n))
    .collect();
    assert_eq!(tally, want);
    assert_eq!(events, ["O", "S", "Q", "M", "E", "C"]);

    // The book, against the reference's.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/itch_ref_book.py");
    let out = Command::new("python3").arg(script).arg(f).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let book: serde_json::Value = serde_json::from_str(&ok(&["itch", "book", f, "--json", "--depth", "4096"])).unwrap();
    assert_eq!(book["orders_live"], r["live"], "{book}");
    assert_eq!(book["unknown_order"], r["unknown"], "{book}");
    assert_eq!(book["book_issues"], 0, "{book}");
    // Every level of every book, not only the touch.
    let levels = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    for sym in ["ALC", "BOB", "CHAR"] {
        for side in ["bids", "asks"] {
            let (ours, theirs) = (&book["symbols"][sym][side], &r["symbols"][sym][side]);
            assert!(levels(theirs) > 10, "{sym} {side}: {theirs}");
            let (a, b) = (ours.as_array().unwrap(), theirs.as_array().unwrap());
            let first = (0..a.len().max(b.len())).find(|&k| a.get(k) != b.get(k));
            assert!(
                first.is_none(),
                "{sym} {side}: level {first:?} is {:?} here, {:?} in the reference ({} levels against {})",
                first.and_then(|k| a.get(k)),
                first.and_then(|k| b.get(k)),
                a.len(),
                b.len()
            );
        }
    }

    // Imported: every event the book took, the unknown orders journalled as
    // findings; backtested twice to the same orders.
    let d = tempdir("ritch");
    let _cleanup = RemoveOnSuccess(d.clone());
    let md = d.join("md");
    let said = common::ok_cmd(&mut common::import_cmd(Path::new(f), "itch", &md));
    assert!(
        said.contains(&format!("imported {} market-data events", book["events"])),
        "{said}\n{book}"
    );
    assert!(said.contains(&format!("book {}", r["unknown"])), "{said}");
    let hash = |s: &str| s.lines().find(|l| l.contains("order hash")).map(str::to_string);
    let a = ok(&["replay", md.to_str().unwrap()]);
    assert!(hash(&a).is_some(), "{a}");
    assert_eq!(hash(&a), hash(&ok(&["replay", md.to_str().unwrap()])));
    // The import widened the books' window to hold every price (ALC's span
    // 262,144 ticks of 0.0001 around its first price), so the backtest's books
    // applied every event; at the template's 4096 ticks they refuse hundreds,
    // and the replay says so.
    assert!(
        said.contains("book window: 262144 ticks, widened from the template's 4096 to hold every price of ALC"),
        "{said}"
    );
    assert!(!a.contains("book issues"), "{a}");
    let narrow = ok(&["replay", md.to_str().unwrap(), "--set", "book.window_ticks=4096"]);
    assert!(narrow.contains("  book issues   "), "{narrow}");
    let count = |extra: &[&str]| {
        let mut args = vec!["replay", md.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        let out = ok(&args);
        let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        j["book_issues"].as_u64().unwrap()
    };
    assert_eq!(count(&[]), 0);
    assert!(count(&["--set", "book.window_ticks=4096"]) > 0);
    // Under a memory limit the wide books do not fit: the template's window
    // stays, and the import says what the backtest will refuse.
    let tight = d.join("tight");
    let said =
        common::ok_cmd(common::import_cmd(Path::new(f), "itch", &tight).args(["--set", "runtime.max_memory_mb=70"]));
    assert!(
        said.contains("ALC: its prices need a book window of 262144 ticks, which 3 instruments' books cannot have"),
        "{said}"
    );
    // A symbol the file does not have is an error naming the file's symbols
    // (it imported as an instrument with no data, successfully).
    let none = d.join("none");
    let o = common::import_cmd(Path::new(f), "itch", &none)
        .args(["--symbols", "ALC,NOPE"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("--symbols NOPE: not in the file, whose 3 symbols are ALC, BOB, CHAR"),
        "{e}"
    );
    assert!(!none.exists());
    std::fs::remove_dir_all(&d).ok();
}

/// A MoldUDP64 packet as Wireshark's dissector reads it.
struct MoldPacket {
    session: String,
    seq: u64,
    count: u64,
    messages: Vec<Vec<u8>>,
    /// What Wireshark calls invalid in it (a length or a count), if anything.
    invalid: String,
}

/// The MoldUDP64 packets of `pcap` that `filter` (a display filter) keeps,
/// decoded by `tshark` as MoldUDP64 on `port`.
fn wireshark_mold(tshark: &Path, pcap: &Path, port: u16, filter: &str) -> Vec<MoldPacket> {
    let out = Command::new(tshark)
        .arg("-r")
        .arg(pcap)
        .args([
            "-d",
            &format!("udp.port=={port},moldudp64"),
            "-Y",
            filter,
            "-T",
            "fields",
        ])
        .args(["-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=|"])
        .args(["-e", "moldudp64.session", "-e", "moldudp64.sequence"])
        .args(["-e", "moldudp64.count", "-e", "moldudp64.msgdata"])
        .args(["-e", "moldudp64.msglen.invalid", "-e", "moldudp64.count.invalid"])
        .output()
        .expect("tshark");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let c: Vec<&str> = line.split('|').collect();
            assert_eq!(c.len(), 6, "{line}");
            MoldPacket {
                session: c[0].trim_end().to_string(),
                seq: c[1].parse().unwrap_or_else(|_| panic!("{line}")),
                count: c[2].parse().unwrap_or_else(|_| panic!("{line}")),
                messages: c[3].split(',').filter(|m| !m.is_empty()).map(hex).collect(),
                invalid: format!("{}{}", c[4], c[5]),
            }
        })
        .collect()
}

/// `foxtrot itch publish` is MoldUDP64 as Wireshark reads it: its stream of
/// RITCH's file, captured on loopback by `tshark` and decoded by Wireshark's
/// own MoldUDP64 dissector, has one session, sequence numbers that follow
/// each packet's count, no length or count Wireshark calls invalid, every
/// message of the file — byte for byte, in order — and an end-of-session
/// packet last; and a retransmission request sent to its server (as
/// Wireshark reads the request) is answered with the messages asked for.
#[test]
fn itch_publish_is_moldudp64_as_wireshark_reads_it() {
    let Some(tshark) = external::tool("tshark") else { return };
    let f = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/external/ritch/ex20101224.TEST_ITCH_50.gz"
    );
    let d = tempdir("wireshark");
    let _cleanup = RemoveOnSuccess(d.clone());
    let pcap = d.join("mold.pcap");
    let [port, rtx, probe] = [0; 3].map(|_| common::free_port(true));
    let filter = format!("udp port {port} or udp port {rtx} or udp port {probe}");
    // `-P`: a line per packet as it is captured, so the test knows when the
    // capture is live (datagrams to `probe` until one shows).
    let mut cap = Command::new(&tshark)
        .args(["-i", "lo", "-P", "-f", &filter, "-w"])
        .arg(&pcap)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tshark");
    let seen = {
        let out = cap.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufRead::lines(std::io::BufReader::new(out)) {
                if l.is_err() || tx.send(()).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let live = (0..200).any(|_| {
        sock.send_to(b"probe", ("127.0.0.1", probe)).unwrap();
        seen.recv_timeout(std::time::Duration::from_millis(50)).is_ok()
    });
    assert!(live, "tshark captured nothing in 10 s");
    let (to, server) = (format!("127.0.0.1:{port}"), format!("127.0.0.1:{rtx}"));
    let mut publish = command();
    publish
        .args(["itch", "publish", f, "--to", &to, "--retransmit", &server])
        .args(["--rate", "50000", "--linger", "3", "--session", "RITCH0001"]);
    let publisher = std::thread::spawn(move || publish.output().expect("foxtrot itch publish"));
    // Messages 100..=119 asked for again, as a receiver that lost them asks,
    // once the capture has seen them go (in the stream's first 100 packets).
    for k in 0..100 {
        let got = seen.recv_timeout(std::time::Duration::from_secs(10));
        assert!(got.is_ok(), "the capture saw {k} packets of the stream");
    }
    let mut ask = b"RITCH0001 ".to_vec();
    ask.extend_from_slice(&100u64.to_be_bytes());
    ask.extend_from_slice(&20u16.to_be_bytes());
    sock.send_to(&ask, ("127.0.0.1", rtx)).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut answer = [0u8; 2048];
    let (n, _) = sock.recv_from(&mut answer).expect("an answer to the request");
    assert!(n > 20, "{n} bytes");
    let out = publisher.join().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("12012 messages"), "{said}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: signals the capture this test started, by its pid.
    unsafe { libc::kill(cap.id() as i32, libc::SIGINT) };
    let st = cap.wait().unwrap();
    assert!(st.success(), "tshark: {st}");

    let gunzip = Command::new("gzip").args(["-dc", f]).output().expect("gzip");
    assert!(gunzip.status.success());
    let file = gunzip.stdout;
    // RITCH's file prefixes every message with a zero length: the bytes
    // Wireshark saw must be the file's, message by message.
    let stream = wireshark_mold(&tshark, &pcap, port, &format!("udp.dstport == {port}"));
    let (mut at, mut next_seq, mut ended) = (0usize, 1u64, false);
    let mut messages: Vec<&[u8]> = Vec::new();
    for (k, p) in stream.iter().enumerate() {
        assert!(!ended, "packet {k} after the end of session");
        assert_eq!(p.session, "RITCH0001", "packet {k}");
        assert!(
            p.invalid.is_empty(),
            "packet {k}: Wireshark calls it invalid: {}",
            p.invalid
        );
        assert_eq!(p.seq, next_seq, "packet {k}");
        if p.count == 0xFFFF {
            ended = true;
            continue;
        }
        assert_eq!(p.messages.len() as u64, p.count, "packet {k}");
        for m in &p.messages {
            assert_eq!(&file[at..at + 2], &[0, 0], "message {}: at byte {at}", messages.len());
            assert!(
                file[at + 2..].starts_with(m),
                "message {} (byte {at}) differs",
                messages.len()
            );
            messages.push(&file[at + 2..at + 2 + m.len()]);
            at += 2 + m.len();
        }
        next_seq = p.seq + p.count;
    }
    assert!(ended, "no end-of-session packet");
    assert_eq!((messages.len(), at), (12_012, file.len()));
    // The request as Wireshark reads it, and the answer.
    let asked = wireshark_mold(&tshark, &pcap, rtx, &format!("udp.dstport == {rtx}"));
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].session.as_str(), asked[0].seq, asked[0].count),
        ("RITCH0001", 100, 20)
    );
    let answered = wireshark_mold(&tshark, &pcap, rtx, &format!("udp.srcport == {rtx}"));
    assert_eq!(answered.len(), 1, "one answer");
    let a = &answered[0];
    assert!(
        a.invalid.is_empty(),
        "Wireshark calls the answer invalid: {}",
        a.invalid
    );
    assert_eq!((a.session.as_str(), a.seq), ("RITCH0001", 100));
    assert!((1..=20).contains(&a.count), "{} messages", a.count);
    for (k, m) in a.messages.iter().enumerate() {
        assert_eq!(m.as_slice(), messages[99 + k], "message {}", 100 + k);
    }
    std::fs::remove_dir_all(&d).ok();
}
