//! `venue.fill_model`: how the backtest venue (`foxtrot replay` of data users
//! bring, filled against its touch) places resting orders in the queue and
//! when orders and data reach it. The default is the touch venue: an order is
//! matched when it is decided, a resting order fills when the far touch
//! reaches its price or a print passes it, reports come `ack_latency_ns` later.
//! `docs/backtest-models.md` states each model's assumptions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The backtest venue's queue and latency models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FillModelConfig {
    /// Where a resting order stands in its price level's queue.
    #[serde(default, skip_serializing_if = "QueueModel::is_touch")]
    pub queue: QueueModel,
    /// `prob`: the exponent n of f(x) = xⁿ in the probability that a
    /// decrease of the level comes from behind the order, f(back) / (f(back) +
    /// f(front)).
    #[serde(default = "power", skip_serializing_if = "is_power")]
    #[schemars(range(min = 0.01, max = 100.0))]
    pub queue_power: f64,
    /// When orders and market data reach the venue.
    #[serde(default, skip_serializing_if = "LatencyModel::is_ack")]
    pub latency: LatencyModel,
    /// `interpolated`: a CSV of recorded latencies, `ts_ns,entry_ns,response_ns`
    /// per row in time order (a header line is allowed), relative to this
    /// file: each row an order sent at ts_ns that reached the venue entry_ns
    /// later, whose response came response_ns after that. An order sent at t
    /// takes the entry latency interpolated linearly between the rows around
    /// t by their send times, and the response latency interpolated between
    /// the rows around the time the venue acts by their times at the venue
    /// (ts_ns + entry_ns, which must increase too); the first or last row's
    /// outside them. Latencies are at most 60 s, as the constant ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_file: Option<String>,
    /// `interpolated`: the recorded latencies themselves, `[ts_ns, entry_ns,
    /// response_ns]` rows in time order — given here, or read from
    /// `latency_file` when the configuration is loaded (so a run journals them
    /// with its configuration and replays without the file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency_table: Vec<[u64; 3]>,
    /// `interpolated`: a CSV of recorded feed latencies, `ts_ns,md_ns` per row
    /// in time order (a header line is allowed), relative to this file; market
    /// data the venue publishes at t reaches the engine md_ns later,
    /// interpolated linearly between the rows around t (the first or last
    /// row's outside them), and never before data published earlier (a feed
    /// delivers in order); at most 60 s. Without it, `venue.md_latency_ns` for
    /// every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_latency_file: Option<String>,
    /// `interpolated`: the recorded feed latencies themselves, `[ts_ns, md_ns]`
    /// rows in time order — given here, or read from `feed_latency_file` when
    /// the configuration is loaded (journalled with the run's configuration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feed_latency_table: Vec<[u64; 2]>,
}

/// Queue-position models of a resting order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueModel {
    /// No queue: a resting order fills, in full, when the far touch reaches its
    /// price, or when a print passes it (a trade or an execution beyond its
    /// price on its side — as in every model).
    #[default]
    Touch,
    /// L2: the quantity ahead is the level's when the order joins; it shrinks
    /// by the trades at the order's price, and never exceeds the level's
    /// quantity (cancellations are assumed to come from behind).
    RiskAverse,
    /// L2: as `risk_averse`, and a decrease of the level not explained by
    /// trades comes from ahead of the order with probability 1 − f(back) /
    /// (f(back) + f(front)), f(x) = x^`queue_power`.
    Prob,
    /// L3 (order-level data: ITCH, DBN MBO): exactly the orders resting at the
    /// price when the order joins are ahead of it; it fills when an order
    /// behind it executes (price-time priority) or the far touch reaches it.
    Fifo,
}

impl QueueModel {
    fn is_touch(&self) -> bool {
        *self == QueueModel::Touch
    }
}

/// Latency models of the backtest venue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyModel {
    /// An order is matched against the touch it was decided on; its reports
    /// arrive `ack_latency_ns` later.
    #[default]
    Ack,
    /// Constant: market data reaches the engine `md_latency_ns` after the venue
    /// saw it, an order reaches the venue `entry_latency_ns` after it was sent
    /// (and is matched against the book the venue has then), and reports reach
    /// the engine `ack_latency_ns` after the venue acted.
    Constant,
    /// As `constant`, with each order's entry latency interpolated from
    /// `latency_file` at its send time and its response latency at the time
    /// the venue acted (as hftbacktest's `IntpOrderLatency`), and (with
    /// `feed_latency_file`) each market-data event's latency from that file at
    /// its publication time.
    Interpolated,
}

impl LatencyModel {
    fn is_ack(&self) -> bool {
        *self == LatencyModel::Ack
    }
}

fn power() -> f64 {
    2.0
}

fn is_power(v: &f64) -> bool {
    *v == power()
}

impl Default for FillModelConfig {
    fn default() -> Self {
        FillModelConfig::default_model()
    }
}

impl FillModelConfig {
    /// Whether it is the default (the touch venue as it always was).
    pub fn is_default(&self) -> bool {
        *self == FillModelConfig::default_model()
    }

    /// The default model.
    pub fn default_model() -> Self {
        FillModelConfig {
            queue: QueueModel::Touch,
            queue_power: power(),
            latency: LatencyModel::Ack,
            latency_file: None,
            latency_table: Vec::new(),
            feed_latency_file: None,
            feed_latency_table: Vec::new(),
        }
    }
}

/// Reads recorded latencies: one `ts_ns,entry_ns,response_ns` row per line, in
/// strictly increasing time order; blank lines, `#` comments and a header line
/// (the first line, if it is not numbers) are skipped. An error names the line.
pub fn parse_latency_csv(text: &str) -> Result<Vec<[u64; 3]>, String> {
    parse_rows(text, "ts_ns,entry_ns,response_ns")
}

/// Reads recorded feed latencies: one `ts_ns,md_ns` row per line, as
/// [`parse_latency_csv`] reads its rows.
pub fn parse_feed_latency_csv(text: &str) -> Result<Vec<[u64; 2]>, String> {
    parse_rows(text, "ts_ns,md_ns")
}

/// Rows of `N` numbers, the first strictly increasing; `shape` names the
/// columns in errors.
fn parse_rows<const N: usize>(text: &str, shape: &str) -> Result<Vec<[u64; N]>, String> {
    let mut rows: Vec<[u64; N]> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let nums: Option<Vec<u64>> = l.split(',').map(|x| x.trim().parse().ok()).collect();
        match nums.and_then(|v| <[u64; N]>::try_from(v).ok()) {
            Some(v) => {
                if rows.last().is_some_and(|r| r[0] >= v[0]) {
                    return Err(format!("line {}: ts_ns {} is not after the row before", i + 1, v[0]));
                }
                rows.push(v);
            }
            None if i == 0 => {} // a header
            None => return Err(format!("line {}: {l:?} is not {shape}", i + 1)),
        }
    }
    if rows.is_empty() {
        return Err("no rows".into());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_latencies_read_with_a_header_and_errors_name_the_line() {
        let rows = parse_latency_csv("ts_ns,entry_ns,response_ns\n1000,100,50\n\n# a gap\n3000, 300 ,150\n").unwrap();
        assert_eq!(rows, vec![[1000, 100, 50], [3000, 300, 150]]);
        let e = parse_latency_csv("1000,100,50\n900,1,1\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("not after"), "{e}");
        let e = parse_latency_csv("1000,100,50\n2000,x,1\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(parse_latency_csv("ts,entry,response\n").is_err(), "no rows");
        assert_eq!(
            parse_feed_latency_csv("ts_ns,md_ns\n1000,40\n2000,60\n").unwrap(),
            vec![[1000, 40], [2000, 60]]
        );
        let e = parse_feed_latency_csv("1000,40\n2000,60,1\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("ts_ns,md_ns"), "{e}");
    }

    #[test]
    fn a_latency_file_is_read_into_the_configuration_and_journalled_with_it() {
        let d = std::env::temp_dir().join(format!("foxtrot-fill-model-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("lat.csv"), "1000,100,50\n3000,300,150\n").unwrap();
        std::fs::write(d.join("feed.csv"), "ts_ns,md_ns\n1000,40\n").unwrap();
        let text = crate::config::BACKTEST_YAML.replace(
            "venue:\n",
            "venue:\n  fill_model: {latency: interpolated, latency_file: lat.csv, feed_latency_file: feed.csv}\n",
        );
        // The weights file is found beside the configuration, as is the latency file.
        std::fs::write(d.join("belief_weights.yaml"), crate::config::DEFAULT_WEIGHTS_YAML).unwrap();
        let cfg = crate::config::Config::from_yaml(&text, &d.join("c.yaml")).unwrap();
        assert_eq!(
            cfg.venue.fill_model.latency_table,
            vec![[1000, 100, 50], [3000, 300, 150]]
        );
        assert_eq!(cfg.venue.fill_model.feed_latency_table, vec![[1000, 40]]);
        // Refused, naming the table and the row: orders that reached the venue
        // out of order (responses are interpolated by the times the venue
        // acted, ts + entry), and latencies beyond the constant ones' 60 s.
        for (lat, feed, want) in [
            (
                "1000,100,50\n3000,300,150\n3100,150,150\n",
                "1000,40\n",
                ["latency_table", "row 3", "3250"],
            ),
            (
                "1000,100,50\n3000,300,18446744073709551615\n",
                "1000,40\n",
                ["latency_table", "row 2", "above 60 s"],
            ),
            (
                "1000,100,50\n",
                "1000,60000000001\n",
                ["feed_latency_table", "row 1", "above 60 s"],
            ),
        ] {
            std::fs::write(d.join("lat.csv"), lat).unwrap();
            std::fs::write(d.join("feed.csv"), feed).unwrap();
            let e = crate::config::Config::from_yaml(&text, &d.join("c.yaml"))
                .unwrap_err()
                .to_string();
            assert!(want.iter().all(|w| e.contains(w)), "{want:?}: {e}");
        }
        assert!(
            cfg.canonical_text().contains("latency_table") && cfg.canonical_text().contains("feed_latency_table"),
            "journalled with the run"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
