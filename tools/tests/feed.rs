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

/// 20,000 generated ITCH messages in MoldUDP64 packets, the session's end
/// packet, and the order a lossy link delivers them in: two packets lost for
/// good, one pair swapped, one sent twice.
struct LossyMold {
    msgs: Vec<Vec<u8>>,
    packets: Vec<Vec<u8>>,
    end: Vec<u8>,
    /// Indexes of `packets`, as delivered.
    order: Vec<usize>,
    /// Indexes of the packets lost.
    lost: [usize; 2],
}

fn lossy_mold() -> LossyMold {
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
    let n = packets.len();
    let lost = [n / 3, 2 * n / 3];
    let mut order: Vec<usize> = (0..n).filter(|i| !lost.contains(i)).collect();
    let s = order.iter().position(|&i| i == n / 2).unwrap();
    order.swap(s, s + 1);
    order.insert(10, 9);
    LossyMold {
        msgs,
        packets,
        end,
        order,
        lost,
    }
}

/// Sends `packets` in `order` to `port`, paced to stay inside the socket
/// buffer, then the session's end three times.
fn send_mold(port: u16, packets: &[Vec<u8>], order: &[usize], end: &[u8]) {
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for (k, &i) in order.iter().enumerate() {
        tx.send_to(&packets[i], ("127.0.0.1", port)).unwrap();
        if k % 4 == 0 {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    for _ in 0..3 {
        tx.send_to(end, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The sequence numbers (first, count) of the `lost` packets' messages.
fn gaps_of(packets: &[Vec<u8>], lost: &[usize]) -> Vec<(i64, i64)> {
    let first_seq = |i: usize| u64::from_be_bytes(packets[i][10..18].try_into().unwrap());
    lost.iter()
        .map(|&i| (first_seq(i) as i64, (first_seq(i + 1) - first_seq(i)) as i64))
        .collect()
}

#[test]
fn mold_udp_with_loss_duplicates_and_reordering() {
    let d = tempdir("udp");
    let _cleanup = RemoveOnSuccess(d.clone());
    let LossyMold {
        msgs,
        packets,
        end,
        order,
        lost,
    } = lossy_mold();
    let port = free_udp_port();
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
    send_mold(port, &packets, &order, &end);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Expected: the messages that got through, in sequence order, normalised.
    let gaps = gaps_of(&packets, &lost);
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

/// A paper-trading run on a live MoldUDP64 feed that loses packets for good
/// (no retransmission server) trades on what got through, and says so: each
/// gap is one log line naming the feed, where the loss starts and how much
/// was lost, and the run's summary counts the findings by code. (Before, the
/// run counted them where nobody read the count: a lossy day looked clean.)
/// The run is recorded: every finding is journalled with it, and its report
/// says them, where the gaps start first.
#[test]
fn a_paper_run_on_a_lossy_feed_says_each_gap_it_could_not_recover() {
    let d = tempdir("lossy-run");
    let _cleanup = RemoveOnSuccess(d.clone());
    let LossyMold {
        packets,
        end,
        order,
        lost,
        ..
    } = lossy_mold();
    let port = free_udp_port();
    let stats = d.join("stats");
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/backtest.yaml");
    let child = command()
        .args(["run", "--wait", "park", "--json", "--config", cfg, "--stats"])
        .arg(&stats)
        .arg("--record")
        .arg(d.join("rec"))
        .arg("--feed")
        .arg(format!("mold:127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The feed's socket is bound before the pipeline (and its stats file) starts.
    for _ in 0..500 {
        if stats.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    send_mold(port, &packets, &order, &end);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(j["events"]["market_data"].as_u64().unwrap() > 1000, "{j}");
    let gaps = gaps_of(&packets, &lost);
    assert_eq!(j["feed"]["md_findings_by_code"]["gap"], 2, "{}", j["feed"]);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("market data refused or lost"))
        .collect();
    for (first, count) in &gaps {
        let said = format!("gap: {count} messages lost from sequence {first}, not recovered");
        let n = lines.iter().filter(|l| l.contains(&said)).count();
        assert_eq!(n, 1, "{said:?} said {n} times in:\n{err}");
    }
    assert!(
        lines.iter().all(|l| l.contains(&format!("mold:127.0.0.1:{port}"))),
        "each line names the feed: {lines:?}"
    );
    // The book findings the gaps cause (orders added in the lost packets,
    // referred to later) come in a burst: past the second's lines they are
    // counted, and said in one line.
    let total = j["feed"]["md_findings"].as_u64().unwrap() as usize;
    let per_second = foxtrot_feed::findings::LINES_PER_SECOND as usize;
    assert!(
        lines.len() <= total && lines.len() >= total.min(per_second),
        "{} of {total}: {err}",
        lines.len()
    );
    if lines.len() < total {
        assert!(err.contains("more market-data findings in that second"), "{err}");
    }
    // Journalled with the run, each one, said or not; the report says them.
    let rep = command()
        .args(["report", "--json"])
        .arg(d.join("rec"))
        .output()
        .unwrap();
    assert!(rep.status.success(), "{}", String::from_utf8_lossy(&rep.stderr));
    let r: serde_json::Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_eq!(
        r["md_findings"]["total"].as_u64(),
        Some(total as u64),
        "{}",
        r["md_findings"]
    );
    assert_eq!(r["md_findings"]["by_code"], j["feed"]["md_findings_by_code"]);
    let rep = command().arg("report").arg(d.join("rec")).output().unwrap();
    let text = String::from_utf8_lossy(&rep.stdout);
    assert!(
        text.contains(&format!("market data: {total} findings passed over")),
        "{text}"
    );
    let (first, count) = gaps[0];
    assert!(
        text.contains(&format!(
            "gap: {count} messages lost from sequence {first}, not recovered"
        )),
        "{text}"
    );
    // And exported with the run's other tables.
    let ex = command()
        .args(["export", "--parquet"])
        .arg(d.join("rec"))
        .output()
        .unwrap();
    let ex_out = String::from_utf8_lossy(&ex.stdout);
    assert!(ex.status.success(), "{}", String::from_utf8_lossy(&ex.stderr));
    assert!(ex_out.contains(&format!("feed findings {total}")), "{ex_out}");
    assert!(d.join("rec/parquet/md_findings.parquet").is_file());
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

/// `record` of symbols an ITCH file never names: with one that does, the
/// recording is kept and the silent symbol named; with none, it fails and
/// keeps no directory (an empty day would backtest as clean). A live capture
/// stopped before any event is kept: `record_stops_cleanly_on_sigint`.
#[test]
fn a_symbol_the_feed_never_names_is_reported() {
    let d = tempdir("record-silent");
    let _cleanup = RemoveOnSuccess(d.clone());
    let f = d.join("day.itch");
    gen_itch(&f, 2000);
    let (some, none) = (d.join("some"), d.join("none"));
    let record = |symbols: &str, out: &Path| {
        command()
            .args(["record", "--symbols", symbols, "--from"])
            .arg(format!("itch:{}", f.display()))
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    let o = record("FOXA,NOPE", &some);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{e}");
    assert!(
        e.contains("no event recorded for these symbols") && e.contains("symbols=NOPE"),
        "{e}"
    );
    assert!(!events(&some).is_empty());
    let o = record("NOPE", &none);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("nothing recorded from itch:") && e.contains("no event for NOPE"),
        "{e}"
    );
    assert!(!none.exists(), "{e}");
}
