//! `foxtrot stat --prometheus ADDR` over real HTTP, its output validated by
//! Prometheus's own `promtool check metrics`.

mod external;

use external::KillOnDrop;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// GET over HTTP/1.1, the connection closed after the answer: the status
/// line and the body (de-chunked).
fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_string();
    if !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return (status, body.to_string());
    }
    let (mut out, mut rest) = (String::new(), body);
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    (status, out)
}

/// `foxtrot stat --prometheus` on an ephemeral port serving `stats`: the
/// process, and the address it printed.
fn exporter(stats: &std::path::Path) -> (KillOnDrop, String) {
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_foxtrot"))
            .args(["stat", "--prometheus", "127.0.0.1:0", "--file"])
            .arg(stats)
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
    (child, addr)
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

    let (_child, addr) = exporter(&stats);

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

/// The alert rules under `deploy/prometheus/` load in Prometheus's own checker
/// and pass their unit tests (`promtool test rules`): each alert fires on the
/// series that should fire it and not on the near misses.
#[test]
#[cfg_attr(not(has_promtool), ignore = "needs promtool: bash .ci/run installs it")]
fn alert_rules_pass_their_promtool_unit_tests() {
    let Some(promtool) = external::tool("promtool") else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus");
    for args in [
        ["check", "rules", "foxtrot-alerts.yml"],
        ["test", "rules", "foxtrot-alerts.test.yml"],
    ] {
        let out = Command::new(&promtool).args(args).current_dir(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Percent-encodes a query parameter.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prometheus's answer to an instant query.
fn query(addr: &str, q: &str) -> serde_json::Value {
    serde_json::from_str(&get(addr, &format!("/api/v1/query?query={}", encode(q))).1).unwrap()
}

/// A real Prometheus scrapes `foxtrot stat --prometheus` of a real run with the
/// alert rules loaded: every dashboard panel's query returns data, every series
/// an alert reads exists, and every rule evaluates without error.
#[test]
#[cfg_attr(not(has_prometheus), ignore = "needs prometheus: bash .ci/run installs it")]
fn every_dashboard_query_and_alert_series_returns_data_from_a_real_prometheus() {
    let Some(prometheus) = external::tool("prometheus") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("foxtrot-prom-dash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let stats = dir.join("run.stats");
    let bin = env!("CARGO_BIN_EXE_foxtrot");
    let run = Command::new(bin)
        .args(["run", "--events", "20000", "--wait", "park", "--stats"])
        .arg(&stats)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (_exporter, target) = exporter(&stats);
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let rules = deploy.join("prometheus/foxtrot-alerts.yml").canonicalize().unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: [{rules:?}]\n\
             scrape_configs:\n  - job_name: foxtrot\n    static_configs: [{{targets: [{target:?}]}}]\n"
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let _prom = KillOnDrop(
        Command::new(prometheus)
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Up, with a few samples behind it (rates need two).
    let start = std::time::Instant::now();
    loop {
        let ready = TcpStream::connect(&addr).is_ok()
            && query(&addr, "count_over_time(foxtrot_up[1m])")["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|n| n >= 4.0);
        if ready {
            break;
        }
        assert!(start.elapsed().as_secs() < 60, "Prometheus scraped nothing in 60 s");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deploy.join("grafana/foxtrot-dashboard.json")).unwrap()).unwrap();
    let panels = dash["panels"].as_array().unwrap();
    assert!(panels.len() >= 12, "{} panels", panels.len());
    for p in panels {
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            let r = query(&addr, expr);
            assert_eq!(r["status"], "success", "panel {:?}: {expr}: {r}", p["title"]);
            assert!(
                !r["data"]["result"].as_array().unwrap().is_empty(),
                "panel {:?}: {expr} returned nothing",
                p["title"]
            );
        }
    }
    // Every series an alert reads exists; every rule evaluates cleanly.
    let text = std::fs::read_to_string(&rules).unwrap();
    let mut names: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("foxtrot_"))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() >= 8, "{names:?}");
    for n in names {
        let r = query(&addr, n);
        assert!(
            !r["data"]["result"].as_array().unwrap().is_empty(),
            "alert series {n}: no data"
        );
    }
    let rules_state: serde_json::Value = serde_json::from_str(&get(&addr, "/api/v1/rules").1).unwrap();
    let loaded: Vec<&serde_json::Value> = rules_state["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(loaded.len(), 9, "{rules_state}");
    for r in loaded {
        assert_eq!(r["health"], "ok", "{r}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
