//! Feed transports between real processes: `foxtrot feed` → shared-memory ring →
//! `foxtrot record`, and MoldUDP64 over loopback UDP with induced loss,
//! duplication and reordering into `foxtrot record`.

use foxtrot_engine::journal::kinds::KIND_DATA_QUALITY;
use foxtrot_engine::journal::market_data::MdSource;
use foxtrot_engine::records::MarketData;
use foxtrot_engine::records::{DqCode, DqEvent};
use foxtrot_feed::itch::mold::PacketWriter;
use foxtrot_feed::itch::{self, Normaliser, Subscription};
use foxtrot_shm::JournalReader;
use foxtrot_venue::gen::itch::{ItchGen, ItchGenConfig};
mod common;

use common::{command, ok_cmd, tempdir, RemoveOnSuccess};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

fn events(dir: &Path) -> Vec<MarketData> {
    let (_, src) = MdSource::open(dir).unwrap();
    src.collect()
}

fn findings(dir: &Path) -> Vec<DqEvent> {
    let mut r = JournalReader::open(&dir.join("market_data")).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next().unwrap() {
        if rec.kind == KIND_DATA_QUALITY {
            v.push(bytemuck::pod_read_unaligned(rec.payload));
        }
    }
    v
}

/// Starts `foxtrot feed` from the ITCH file `f` into a ring (on tmpfs when there
/// is one) and waits for the ring to exist.
fn start_feeder(
    d: &Path,
    name: &str,
    f: &Path,
    symbols: &str,
    capacity: u32,
    out: Stdio,
) -> (PathBuf, std::process::Child) {
    let shm = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        d.to_path_buf()
    };
    let ring = shm.join(format!("foxtrot-{name}-{}.ring", std::process::id()));
    let _ = std::fs::remove_file(&ring);
    let child = command()
        .args([
            "feed",
            "--symbols",
            symbols,
            "--ring-capacity",
            &capacity.to_string(),
            "--from",
        ])
        .arg(format!("itch:{}", f.display()))
        .arg("--to")
        .arg(format!("shm:{}", ring.display()))
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if ring.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (ring, child)
}

/// `foxtrot gen --format itch --events N -o F`.
fn gen_itch(f: &Path, events: u32) {
    ok_cmd(
        command()
            .args(["gen", "--format", "itch", "--events", &events.to_string(), "-o"])
            .arg(f),
    );
}

/// `foxtrot record` of the ITCH file `f`'s `symbols` into `out`.
fn record_file(f: &Path, symbols: &str, out: &Path) {
    ok_cmd(
        command()
            .args(["record", "--symbols", symbols, "--from"])
            .arg(format!("itch:{}", f.display()))
            .arg("-o")
            .arg(out),
    );
}

const DATE_NS: u64 = 1_767_571_200_000_000_000; // 2026-01-05T00:00:00Z

#[test]
fn feed_process_to_ring_to_record_process_loses_nothing() {
    let d = tempdir("shm");
    let _cleanup = RemoveOnSuccess(d.clone());
    let f = d.join("day.itch");
    gen_itch(&f, 200_000);
    let direct = d.join("direct");
    record_file(&f, "FOXA,FOXC", &direct);
    // The feed handler: a small ring, so it must wait for the consumer.
    let (ring, feeder) = start_feeder(&d, "test", &f, "FOXA,FOXC", 1024, Stdio::piped());
    let via = d.join("via-ring");
    ok_cmd(
        command()
            .args(["record", "--symbols", "FOXA,FOXC", "--from"])
            .arg(format!("shm:{}", ring.display()))
            .arg("-o")
            .arg(&via),
    );
    let out = feeder.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_file(&ring);
    let (a, b) = (events(&direct), events(&via));
    assert!(a.len() > 100_000, "{}", a.len());
    assert!(a == b, "the ring delivered {} events, the file {}", b.len(), a.len());
    assert!(String::from_utf8_lossy(&out.stdout).contains("waits on a full ring"));
}

#[test]
fn mold_udp_with_loss_duplicates_and_reordering() {
    let d = tempdir("udp");
    let _cleanup = RemoveOnSuccess(d.clone());
    let msgs: Vec<Vec<u8>> = ItchGen::new(ItchGenConfig {
        seed: 21,
        messages: 20_000,
        ..ItchGenConfig::default()
    })
    .collect();
    let mut w = PacketWriter::new("FOXTEST001", 1, 1200);
    let mut packets: Vec<Vec<u8>> = msgs.iter().filter_map(|m| w.push(m)).collect();
    packets.extend(w.flush());
    let end = {
        let mut e = w.heartbeat();
        e[18..20].copy_from_slice(&0xFFFFu16.to_be_bytes());
        e
    };
    // The link: two packets lost for good, one pair swapped, one sent twice.
    let n = packets.len();
    let lost = [n / 3, 2 * n / 3];
    let mut order: Vec<usize> = (0..n).filter(|i| !lost.contains(i)).collect();
    let s = order.iter().position(|&i| i == n / 2).unwrap();
    order.swap(s, s + 1);
    order.insert(10, 9);
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rec = d.join("rec");
    let child = command()
        .args([
            "record",
            "--symbols",
            "FOXA,FOXB,FOXC,FOXD",
            "--idle-timeout",
            "20",
            "--from",
        ])
        .arg(format!("mold:127.0.0.1:{port}"))
        .arg("-o")
        .arg(&rec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for (k, &i) in order.iter().enumerate() {
        tx.send_to(&packets[i], ("127.0.0.1", port)).unwrap();
        if k % 4 == 0 {
            std::thread::sleep(Duration::from_micros(500)); // stay inside the socket buffer
        }
    }
    for _ in 0..3 {
        tx.send_to(&end, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Expected: the messages that got through, in sequence order, normalised.
    let first_seq = |i: usize| u64::from_be_bytes(packets[i][10..18].try_into().unwrap());
    let gaps: Vec<(i64, i64)> = lost
        .iter()
        .map(|&i| (first_seq(i) as i64, (first_seq(i + 1) - first_seq(i)) as i64))
        .collect();
    let mut norm = Normaliser::new(
        Subscription::Symbols(["FOXA", "FOXB", "FOXC", "FOXD"].map(String::from).to_vec()),
        1 << 20,
        DATE_NS,
    );
    let mut want = Vec::new();
    let mut book_issues = 0;
    for (i, m) in msgs.iter().enumerate() {
        let seq = i as i64 + 1;
        if gaps.iter().any(|(f, c)| seq >= *f && seq < f + c) {
            continue;
        }
        if norm
            .on_message(&itch::decode(m).unwrap(), &mut |md| want.push(*md))
            .is_err()
        {
            book_issues += 1;
        }
    }
    let got = events(&rec);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "recorded events differ from the messages that got through");
    let f = findings(&rec);
    let got_gaps: Vec<(i64, i64)> = f
        .iter()
        .filter(|e| e.code() == Some(DqCode::Gap))
        .map(|e| (e.a, e.b))
        .collect();
    assert_eq!(got_gaps, gaps, "each lost packet is one reported, journalled gap");
    // Orders added in the lost packets are unknown when later referred to.
    assert!(book_issues > 0);
    assert_eq!(f.iter().filter(|e| e.code() == Some(DqCode::Book)).count(), book_issues);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("gap 2"), "{s}");
}

/// The engine itself on the ring: `foxtrot run --feed shm:PATH` paper-trades what a
/// `foxtrot feed` process publishes, on threads, and decides exactly as the fused
/// backtest of the same data does.
#[test]
fn the_engine_trades_the_ring_as_the_backtest_does() {
    let d = tempdir("run");
    let _cleanup = RemoveOnSuccess(d.clone());
    let f = d.join("day.itch");
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/backtest.yaml");
    gen_itch(&f, 300_000);
    let rec = d.join("rec");
    record_file(&f, "FOXA,FOXB", &rec);
    let bt: serde_json::Value = serde_json::from_str(&ok_cmd(
        command().arg("replay").arg(&rec).args(["--json", "--config", cfg]),
    ))
    .unwrap();
    assert!(bt["orders"].as_u64().unwrap() > 20, "{bt}");
    let (ring, feeder) = start_feeder(&d, "run", &f, "FOXA,FOXB", 4096, Stdio::null());
    let stats = d.join("stats");
    let run: serde_json::Value = serde_json::from_str(&ok_cmd(
        command()
            .args(["run", "--wait", "park", "--json", "--config", cfg, "--stats"])
            .arg(&stats)
            .arg("--feed")
            .arg(format!("shm:{}", ring.display())),
    ))
    .unwrap();
    let out = feeder.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_file(&ring);
    assert_eq!(run["order_hash"], bt["order_hash"], "run: {run}");
    assert_eq!(run["diary_hash"], bt["diary_hash"]);
}

/// A live capture stopped by SIGINT exits cleanly and leaves a readable directory.
#[test]
fn record_stops_cleanly_on_sigint() {
    let d = tempdir("sigint");
    let _cleanup = RemoveOnSuccess(d.clone());
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rec = d.join("rec");
    let child = command()
        .args(["record", "--symbols", "FOXA", "--from"])
        .arg(format!("mold:127.0.0.1:{port}"))
        .arg("-o")
        .arg(&rec)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signalling a child process this test spawned and still owns.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("foxtrot record: 0 events"));
    assert!(events(&rec).is_empty());
}
