//! `foxtrot stat --prometheus ADDR` over real HTTP, its output validated by
//! Prometheus's own `promtool check metrics`.

mod external;

use external::KillOnDrop;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

fn value(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {series}"))
        .parse()
        .unwrap()
}

#[test]
fn metrics_endpoint_passes_promtool() {
    let stats = std::env::temp_dir().join(format!("foxtrot-prom-{}.stats", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_foxtrot");
    let run = Command::new(bin)
        .args([
            "run",
            "--events",
            "20000",
            "--layout",
            "per_stage",
            "--wait",
            "park",
            "--stats",
        ])
        .arg(&stats)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let snap = Command::new(bin)
        .args(["stat", "--once", "--json", "--file"])
        .arg(&stats)
        .output()
        .unwrap();
    let snap: serde_json::Value = serde_json::from_slice(&snap.stdout).unwrap();

    let mut child = KillOnDrop(
        Command::new(bin)
            .args(["stat", "--prometheus", "127.0.0.1:0", "--file"])
            .arg(&stats)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.strip_suffix("/metrics\n"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    let (status, body) = get(&addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    let global = |name: &str| {
        snap["globals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g[0] == name)
            .unwrap()[1]
            .as_f64()
            .unwrap()
    };
    assert_eq!(value(&body, "foxtrot_orders_total"), global("orders"));
    assert_eq!(value(&body, "foxtrot_inputs_total"), global("inputs"));
    assert_eq!(value(&body, "foxtrot_finished"), 1.0);
    let threads = snap["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 5, "per_stage: five threads");
    assert_eq!(
        body.lines()
            .filter(|l| l.starts_with("foxtrot_thread_messages_total{"))
            .count(),
        5
    );
    for h in snap["hists"].as_array().unwrap() {
        let name = h["name"].as_str().unwrap();
        let count = value(&body, &format!("foxtrot_latency_seconds_count{{stage=\"{name}\"}}"));
        assert_eq!(count, h["count"].as_f64().unwrap(), "{name}");
        let inf = value(
            &body,
            &format!("foxtrot_latency_seconds_bucket{{stage=\"{name}\",le=\"+Inf\"}}"),
        );
        assert_eq!(inf, count);
        let p50 = value(
            &body,
            &format!("foxtrot_latency_quantiles_seconds{{stage=\"{name}\",quantile=\"0.5\"}}"),
        );
        assert!((p50 * 1e9 - h["p50"].as_f64().unwrap()).abs() < 1.0, "{name}");
    }
    // The live board: the run's positions and fills, as `stat --json` reads them.
    let live = &snap["live"];
    assert_eq!(value(&body, "foxtrot_fills_total"), live["fills"].as_f64().unwrap());
    assert_eq!(value(&body, "foxtrot_trading_state{state=\"normal\"}"), 1.0);
    for i in live["instruments"].as_array().unwrap() {
        let sym = i["symbol"].as_str().unwrap();
        let pos = value(&body, &format!("foxtrot_position{{symbol=\"{sym}\"}}"));
        assert_eq!(pos, i["position"].as_f64().unwrap(), "{sym}");
    }
    assert!(live["fills"].as_u64().unwrap() > 0, "{live}");
    let (status, _) = get(&addr, "/other");
    assert!(status.contains("404"), "{status}");

    if let Some(promtool) = external::tool("promtool") {
        let mut p = Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        p.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_file(&stats);
}
