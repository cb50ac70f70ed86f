//! The stats file in the Prometheus text exposition format (version 0.0.4), and
//! the small HTTP server behind `foxtrot stat --prometheus ADDR`.
//!
//! Families (all prefixed `foxtrot_`):
//!
//! | family | type | labels |
//! |---|---|---|
//! | `up`, `finished`, `stats_updated_seconds` | gauge | — |
//! | `<counter>_total` for `inputs`, `market_data`, `exec_reports`, `timers`, `heartbeats`, `conflated`, `orders`, `rejects`, `venue_sends` | counter | — |
//! | `event_time_seconds` | gauge | — |
//! | `resident_memory_bytes`, `open_fds` (the engine process's, sampled each interval) | gauge | — |
//! | `thread_messages_total`, `thread_batches_total`, `thread_full_waits_total`, `thread_idle_parks_total` | counter | `thread`, `stages` |
//! | `thread_ring_high_water`, `thread_ring_capacity` | gauge | `thread`, `stages` |
//! | `latency_seconds` | histogram (power-of-two buckets) | `stage` |
//! | `latency_quantiles_seconds` | summary (0.5, 0.9, 0.99, 0.999) | `stage` |
//!
//! `stage` is `tick_to_order` or `exit.<stage>` as in the stats file. Histogram and
//! summary `_sum` is count × mean (the stats file keeps the mean, not the sum).
//! The server reads the stats file on every scrape; it never touches the pipeline.

use foxtrot_engine::records::RejectReason;
use foxtrot_engine::runtime::live::TRADING_STATES;
use foxtrot_engine::runtime::stats::{LiveFigures, StatsReader, StatsSnapshot, SESSION_STATES};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

fn family(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP foxtrot_{name} {help}");
    let _ = writeln!(o, "# TYPE foxtrot_{name} {kind}");
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Renders a snapshot as Prometheus text.
pub fn render(s: &StatsSnapshot) -> String {
    let mut o = String::new();
    family(&mut o, "up", "gauge", "1 while the stats file can be read.");
    let _ = writeln!(o, "foxtrot_up 1");
    family(
        &mut o,
        "finished",
        "gauge",
        "1 once the run has finished, 0 while it runs.",
    );
    let _ = writeln!(o, "foxtrot_finished {}", u8::from(s.state == "finished"));
    family(
        &mut o,
        "stats_updated_seconds",
        "gauge",
        "Wall-clock time of the last snapshot (unix seconds).",
    );
    let _ = writeln!(o, "foxtrot_stats_updated_seconds {}", secs(s.updated_unix_ns));
    for (name, v) in &s.globals {
        if name == "resident_bytes" || name == "open_fds" {
            let (metric, help) = if name == "resident_bytes" {
                (
                    "resident_memory_bytes",
                    "Resident memory of the engine process (bytes).",
                )
            } else {
                ("open_fds", "Open file descriptors of the engine process.")
            };
            family(&mut o, metric, "gauge", help);
            let _ = writeln!(o, "foxtrot_{metric} {v}");
        } else if name == "event_time_ns" {
            family(
                &mut o,
                "event_time_seconds",
                "gauge",
                "Control (event) time of the newest input (unix seconds).",
            );
            let _ = writeln!(o, "foxtrot_event_time_seconds {}", secs(*v));
        } else {
            family(
                &mut o,
                &format!("{name}_total"),
                "counter",
                &format!("Pipeline counter `{name}`."),
            );
            let _ = writeln!(o, "foxtrot_{name}_total {v}");
        }
    }
    let names: Vec<&str> = s
        .threads
        .first()
        .map(|t| t.counters.iter().map(|(n, _)| n.as_str()).collect())
        .unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        let (metric, kind) = match *name {
            "ring_hwm" => ("thread_ring_high_water".to_string(), "gauge"),
            "ring_capacity" => ("thread_ring_capacity".to_string(), "gauge"),
            n => (format!("thread_{n}_total"), "counter"),
        };
        family(&mut o, &metric, kind, &format!("Per-thread `{name}`."));
        for t in &s.threads {
            if let Some((_, v)) = t.counters.get(i) {
                let _ = writeln!(
                    o,
                    "foxtrot_{metric}{{thread=\"{}\",stages=\"{}\"}} {v}",
                    escape(&t.name),
                    escape(&t.stages)
                );
            }
        }
    }
    family(
        &mut o,
        "latency_seconds",
        "histogram",
        "Latency from the ingest stamp, power-of-two buckets.",
    );
    for h in &s.hists {
        let stage = escape(&h.name);
        let mut cum = 0u64;
        for (k, n) in h.buckets.iter().enumerate() {
            cum += n;
            let le = secs(1u64 << (k + 1).min(63));
            let _ = writeln!(
                o,
                "foxtrot_latency_seconds_bucket{{stage=\"{stage}\",le=\"{le:e}\"}} {cum}"
            );
        }
        let _ = writeln!(
            o,
            "foxtrot_latency_seconds_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            o,
            "foxtrot_latency_seconds_sum{{stage=\"{stage}\"}} {}",
            secs(h.mean) * h.count as f64
        );
        let _ = writeln!(o, "foxtrot_latency_seconds_count{{stage=\"{stage}\"}} {}", h.count);
    }
    family(
        &mut o,
        "latency_quantiles_seconds",
        "summary",
        "Latency quantiles from the ingest stamp.",
    );
    for h in &s.hists {
        let stage = escape(&h.name);
        for (q, v) in [("0.5", h.p50), ("0.9", h.p90), ("0.99", h.p99), ("0.999", h.p999)] {
            let _ = writeln!(
                o,
                "foxtrot_latency_quantiles_seconds{{stage=\"{stage}\",quantile=\"{q}\"}} {}",
                secs(v)
            );
        }
        let _ = writeln!(
            o,
            "foxtrot_latency_quantiles_seconds_sum{{stage=\"{stage}\"}} {}",
            secs(h.mean) * h.count as f64
        );
        let _ = writeln!(
            o,
            "foxtrot_latency_quantiles_seconds_count{{stage=\"{stage}\"}} {}",
            h.count
        );
    }
    if let Some(l) = s.live_figures() {
        render_live(&mut o, &l);
    }
    o
}

/// A gauge family with one series per state, 1 for the state in force.
fn one_hot(o: &mut String, name: &str, help: &str, states: &[&str], now: &str) {
    family(o, name, "gauge", help);
    for st in states {
        let _ = writeln!(o, "foxtrot_{name}{{state=\"{st}\"}} {}", u8::from(now == *st));
    }
}

/// The live board: trading state, positions, PnL, risk and the FIX session.
fn render_live(o: &mut String, l: &LiveFigures) {
    let gauge = |o: &mut String, name: &str, help: &str, v: f64| {
        family(o, name, "gauge", help);
        let _ = writeln!(o, "foxtrot_{name} {v}");
    };
    one_hot(
        o,
        "trading_state",
        "1 for the trading state in force (normal, reduce_only, drawdown_halt, killed).",
        &TRADING_STATES,
        &l.trading_state,
    );
    one_hot(
        o,
        "fix_session_state",
        "1 for the FIX session's state (none, connecting, active, ended).",
        &SESSION_STATES,
        &l.session,
    );
    gauge(o, "equity", "Cash plus marked positions, currency units.", l.equity);
    gauge(
        o,
        "drawdown",
        "Drawdown from the equity peak, currency units.",
        l.drawdown,
    );
    gauge(
        o,
        "max_drawdown",
        "Largest drawdown so far, currency units.",
        l.max_drawdown,
    );
    gauge(o, "open_orders", "Open orders.", l.open_orders as f64);
    family(o, "fills_total", "counter", "Fills applied.");
    let _ = writeln!(o, "foxtrot_fills_total {}", l.fills);
    family(o, "drift_alarms_total", "counter", "Drift sentry alarms.");
    let _ = writeln!(o, "foxtrot_drift_alarms_total {}", l.drift_alarms);
    family(o, "operator_commands_total", "counter", "Operator commands applied.");
    let _ = writeln!(o, "foxtrot_operator_commands_total {}", l.commands);
    family(o, "risk_rejects_total", "counter", "Risk rejects by reason.");
    for r in RejectReason::ALL {
        let n = l.rejects.iter().find(|(k, _)| k == r.name()).map_or(0, |(_, n)| *n);
        let _ = writeln!(o, "foxtrot_risk_rejects_total{{reason=\"{}\"}} {n}", r.name());
    }
    for (name, help) in [
        ("position", "Position, quantity units."),
        ("pnl_realised", "Realised PnL, currency units."),
        ("pnl_unrealised", "Unrealised PnL at the last mark, currency units."),
        ("instrument_open_orders", "Open orders of the instrument."),
        ("halted", "1 while the operator has the instrument halted."),
    ] {
        family(o, name, "gauge", help);
        for x in &l.instruments {
            let f = &x.figures;
            let v = match name {
                "position" => f.position as f64,
                "pnl_realised" => f.realised,
                "pnl_unrealised" => f.unrealised,
                "instrument_open_orders" => f.open_orders as f64,
                _ => f64::from(u8::from(l.halted.contains(&x.symbol))),
            };
            let _ = writeln!(o, "foxtrot_{name}{{symbol=\"{}\"}} {v}", escape(&x.symbol));
        }
    }
    let [count, p50, p99, p999, max] = l.order_ack;
    family(
        o,
        "order_acks_total",
        "counter",
        "Orders acknowledged over FIX (the venue's first answer).",
    );
    let _ = writeln!(o, "foxtrot_order_acks_total {count}");
    family(
        o,
        "order_ack_seconds",
        "gauge",
        "Order to acknowledgement over FIX, from writing the order to the venue's first answer: quantiles and max.",
    );
    for (q, v) in [("p50", p50), ("p99", p99), ("p999", p999), ("max", max)] {
        let _ = writeln!(o, "foxtrot_order_ack_seconds{{stat=\"{q}\"}} {}", secs(v));
    }
}

/// Serves `GET /metrics` from `reader` on `listener` until the process ends.
/// Other paths get 404; a stats file that cannot be read gives 503 with the
/// reason. A stats file deleted and made again is followed
/// ([`StatsReader::follow`]): the exporter outlives the engines it watches.
pub fn serve(listener: TcpListener, mut reader: StatsReader) -> std::io::Result<()> {
    for conn in listener.incoming() {
        let Ok(mut stream) = conn else { continue };
        let mut line = String::new();
        let mut r = BufReader::new(&stream);
        if r.read_line(&mut line).is_err() {
            continue;
        }
        // Drain the request headers.
        let mut h = String::new();
        while r.read_line(&mut h).is_ok_and(|n| n > 2) {
            h.clear();
        }
        let path = line.split_whitespace().nth(1).unwrap_or("");
        let (status, body) = if path == "/metrics" {
            if reader.follow() {
                tracing::info!("the stats file was replaced: reading the new one");
            }
            match reader.read() {
                Ok(s) => ("200 OK", render(&s)),
                Err(e) => ("503 Service Unavailable", format!("stats file unreadable: {e}\n")),
            }
        } else {
            ("404 Not Found", "try /metrics\n".to_string())
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use foxtrot_engine::runtime::stats::{HistSnapshot, StatsSnapshot, ThreadSnapshot};

    /// The exporter outlives the engines it watches: a stats file deleted
    /// and made again by the next engine (a cleaned `/dev/shm` between two
    /// runs) is served, not the orphan's last snapshot for ever — over a
    /// real socket, as Prometheus scrapes it.
    #[test]
    fn the_exporter_follows_a_stats_file_made_again() {
        use foxtrot_engine::runtime::stats::{StatsReader, StatsWriter};
        use std::io::{Read, Write};
        let dir = std::env::temp_dir().join(format!("foxtrot-prom-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.stats");
        let run = |orders: u64| {
            let mut w = StatsWriter::create(&path).unwrap();
            w.publish(&StatsSnapshot {
                state: "running".into(),
                globals: vec![("orders".into(), orders)],
                ..Default::default()
            });
        };
        run(11);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = StatsReader::open(&path).unwrap();
        // Serves until the test process ends.
        std::thread::spawn(move || super::serve(listener, reader));
        let scrape = || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut text = String::new();
            c.read_to_string(&mut text).unwrap();
            text
        };
        assert!(scrape().contains("foxtrot_orders_total 11\n"));
        std::fs::remove_file(&path).unwrap();
        run(22);
        let t = scrape();
        assert!(t.contains("foxtrot_orders_total 22\n"), "{t}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_the_count() {
        let mut buckets = vec![0u64; 40];
        buckets[9] = 3; // [512, 1024) ns
        buckets[11] = 1; // [2048, 4096) ns
        let s = StatsSnapshot {
            state: "running".into(),
            globals: vec![("orders".into(), 7), ("event_time_ns".into(), 2_000_000_000)],
            threads: vec![ThreadSnapshot {
                name: "t0".into(),
                stages: "ingest,sensory".into(),
                counters: vec![("messages".into(), 5), ("ring_hwm".into(), 2)],
            }],
            hists: vec![HistSnapshot {
                name: "tick_to_order".into(),
                count: 4,
                mean: 1000,
                buckets,
                ..Default::default()
            }],
            ..Default::default()
        };
        let t = super::render(&s);
        assert!(t.contains("foxtrot_orders_total 7\n"));
        assert!(t.contains("foxtrot_event_time_seconds 2\n"));
        assert!(t.contains("foxtrot_thread_messages_total{thread=\"t0\",stages=\"ingest,sensory\"} 5\n"));
        assert!(t.contains("foxtrot_thread_ring_high_water{thread=\"t0\",stages=\"ingest,sensory\"} 2\n"));
        assert!(
            t.contains("foxtrot_latency_seconds_bucket{stage=\"tick_to_order\",le=\"1.024e-6\"} 3\n"),
            "{t}"
        );
        assert!(t.contains("foxtrot_latency_seconds_bucket{stage=\"tick_to_order\",le=\"2.048e-6\"} 3\n"));
        assert!(t.contains("foxtrot_latency_seconds_bucket{stage=\"tick_to_order\",le=\"4.096e-6\"} 4\n"));
        assert!(t.contains("foxtrot_latency_seconds_bucket{stage=\"tick_to_order\",le=\"+Inf\"} 4\n"));
        assert!(t.contains("foxtrot_latency_seconds_count{stage=\"tick_to_order\"} 4\n"));
    }

    #[test]
    fn the_live_board_renders_per_instrument_and_by_reason() {
        use foxtrot_engine::records::RejectReason;
        use foxtrot_engine::runtime::live::{self, word, InstrumentFigures, LiveBoard};
        let b = LiveBoard::new(vec!["FOXA".into(), "FOXB".into()]);
        b.set(word::STATE, 3);
        b.set(word::HALTED, 0b10);
        b.set(word::SESSION, 2);
        b.set(word::REJECTS + RejectReason::KillSwitch as usize, 4);
        b.set_instrument(
            0,
            &InstrumentFigures {
                position: -200,
                realised: 12.5,
                unrealised: -1.25,
                open_orders: 1,
            },
        );
        let mut w = vec![0; live::WORDS];
        b.read(&mut w);
        let s = StatsSnapshot {
            symbols: b.symbols().to_vec(),
            live: w,
            ..Default::default()
        };
        let t = super::render(&s);
        for line in [
            "foxtrot_trading_state{state=\"killed\"} 1\n",
            "foxtrot_trading_state{state=\"normal\"} 0\n",
            "foxtrot_fix_session_state{state=\"active\"} 1\n",
            "foxtrot_position{symbol=\"FOXA\"} -200\n",
            "foxtrot_pnl_realised{symbol=\"FOXA\"} 12.5\n",
            "foxtrot_pnl_unrealised{symbol=\"FOXA\"} -1.25\n",
            "foxtrot_halted{symbol=\"FOXB\"} 1\n",
            "foxtrot_halted{symbol=\"FOXA\"} 0\n",
        ] {
            assert!(t.contains(line), "{line} missing:\n{t}");
        }
        let kill = format!(
            "foxtrot_risk_rejects_total{{reason=\"{}\"}} 4\n",
            RejectReason::KillSwitch.name()
        );
        assert!(t.contains(&kill), "{t}");
    }
}
