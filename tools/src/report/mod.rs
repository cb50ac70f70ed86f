//! `foxtrot report RUN_DIR`: what a recorded run did, from its journals.
//!
//! The report replays the run's input journal through a fresh core under the
//! journalled configuration — the same bytes in give the same decisions out — and
//! watches it as it goes: equity on every timer tick, each instrument's regime
//! after every mid update, every drift alarm. Before anything is reported the
//! replayed order stream is compared with the recorded one; a run that does not
//! reproduce (a different build or a damaged journal) is refused rather than
//! described wrongly. Latency is a wall-clock observation, not part of the
//! journals: it comes from the `latency.json` the run wrote beside them.
//!
//! - [`metrics`]: Sharpe, Sortino, drawdown, resampling — pure functions.
//! - [`html`]: the self-contained HTML page with its plots.
//! - [`text`]: the plain-text rendering.

pub mod html;
pub mod metrics;
pub mod text;

use foxtrot_engine::core::belief::Regime;
use foxtrot_engine::core::{Core, CoreSink};
use foxtrot_engine::records::{DiaryRecord, InputView, Kind, Order, RejectReason, RiskReject, TheoryPacket};
use foxtrot_engine::runtime::replay::ReplayError;
use foxtrot_engine::runtime::stats::HistSnapshot;
use foxtrot_engine::runtime::{JournalInputs, StreamDigest};
use foxtrot_shm::{JournalReader, ShmError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input journal or its configuration could not be read.
    #[error("{0}")]
    Replay(#[from] ReplayError),
    /// The recorded orders could not be read.
    #[error("{0}")]
    Journal(#[from] ShmError),
    /// Replaying the inputs did not give the recorded orders.
    #[error("{dir}: the inputs replay to {replayed} orders (hash {replayed_hash}) but {recorded} were recorded (hash {recorded_hash}); the run was made by a different build or its journals are damaged")]
    Diverged {
        /// The run directory.
        dir: PathBuf,
        /// Orders the replay produced.
        replayed: u64,
        /// Their digest.
        replayed_hash: String,
        /// Orders in the orders journal.
        recorded: u64,
        /// Their digest.
        recorded_hash: String,
    },
    /// `latency.json` exists but does not parse.
    #[error("{path}: {message}")]
    Latency {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Time spent in one regime, over all instruments.
#[derive(Clone, Debug, Serialize)]
pub struct RegimeStat {
    /// Regime name.
    pub regime: &'static str,
    /// Mid updates classified in it.
    pub updates: u64,
    /// Episodes (entries into it).
    pub episodes: u64,
    /// Mean episode length, seconds of event time.
    pub dwell_mean_s: f64,
    /// Median episode length, seconds of event time.
    pub dwell_median_s: f64,
    /// Share of instrument-time spent in it.
    pub time_share: f64,
}

/// One drift alarm (a theory packet).
#[derive(Clone, Debug, Serialize)]
pub struct Alarm {
    /// Seq of the input that raised it.
    pub seq: u64,
    /// Seconds since the run's first input.
    pub t_s: f64,
    /// Instrument symbol.
    pub instrument: String,
    /// `page_hinkley` or `cusum`.
    pub detector: &'static str,
    /// The statistic when it fired.
    pub statistic: f64,
    /// Its threshold.
    pub threshold: f64,
    /// Order-size factor after the alarm.
    pub size_factor: f32,
}

/// A stretch of one instrument in one regime, for the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Span {
    /// Instrument index.
    pub instrument: u32,
    /// Regime.
    pub regime: &'static str,
    /// Start, seconds since the run's first input.
    pub start_s: f64,
    /// End, seconds since the run's first input.
    pub end_s: f64,
}

/// Latency histograms the run recorded.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Latency {
    /// Which command and layout measured them.
    pub source: String,
    /// One per measured point (`tick_to_order`, `exit.<stage>`).
    pub hists: Vec<HistSnapshot>,
}

/// Everything `foxtrot report` shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The run directory.
    pub run_dir: String,
    /// Hash of the journalled effective configuration.
    pub config_hash: String,
    /// Hash of the policy's configuration.
    pub policy_hash: String,
    /// Digest of the order stream (identical to the recorded one).
    pub order_hash: String,
    /// Digest of the diary stream.
    pub diary_hash: String,
    /// Instrument symbols, by id.
    pub instruments: Vec<String>,
    /// Inputs in the journal.
    pub inputs: u64,
    /// Event time covered, seconds.
    pub duration_s: f64,
    /// Final PnL (currency).
    pub pnl: f64,
    /// Largest fall from a running equity peak (currency).
    pub max_drawdown: f64,
    /// Annualised Sharpe of 1-second PnL changes (see [`metrics`]).
    pub sharpe: Option<f64>,
    /// Annualised Sortino of 1-second PnL changes.
    pub sortino: Option<f64>,
    /// Traded notional (currency).
    pub turnover: f64,
    /// Fills.
    pub fills: u64,
    /// Filled quantity.
    pub filled_qty: i64,
    /// Orders sent: new, cancel, replace.
    pub orders: BTreeMap<&'static str, u64>,
    /// Risk rejects by reason (non-zero only).
    pub rejects: BTreeMap<&'static str, u64>,
    /// Orders the venue rejected.
    pub venue_rejects: u64,
    /// Regime counts and dwell times.
    pub regimes: Vec<RegimeStat>,
    /// Regime transitions.
    pub transitions: u64,
    /// Drift alarms, in order.
    pub drift_alarms: Vec<Alarm>,
    /// Latency per measured stage, if the run wrote `latency.json`.
    pub latency: Option<Latency>,
    /// Equity `(t_s, pnl)` on every timer tick.
    #[serde(skip)]
    pub equity: Vec<(f64, f64)>,
    /// Regime timeline.
    #[serde(skip)]
    pub spans: Vec<Span>,
}

struct Watch {
    orders: StreamDigest,
    diary: StreamDigest,
    alarms: Vec<TheoryPacket>,
}

impl CoreSink for Watch {
    fn on_order(&mut self, _order: &Order, wire: &[u8]) {
        self.orders.add(wire);
    }
    fn on_reject(&mut self, _reject: &RiskReject) {}
    fn on_diary(&mut self, rec: &DiaryRecord) {
        self.diary.add(bytemuck::bytes_of(rec));
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.diary.add(bytemuck::bytes_of(p));
        self.alarms.push(*p);
    }
}

/// Digest and count of the FIX messages in a run's recorded orders journal.
fn recorded_orders(run_dir: &Path) -> Result<StreamDigest, ShmError> {
    let mut r = JournalReader::open(&run_dir.join("orders"))?;
    let mut d = StreamDigest::default();
    while let Some(rec) = r.next()? {
        if rec.kind == Kind::Order as u16 {
            d.add(rec.payload.get(64..).unwrap_or(&[]));
        }
    }
    Ok(d)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Replays `run_dir` and measures it.
pub fn analyse(run_dir: &Path) -> Result<Report, ReportError> {
    let (cfg, mut inputs) = JournalInputs::open_with_config(run_dir)?;
    let n = cfg.instruments.len();
    let mut core = Core::new(&cfg);
    let mut watch = Watch {
        orders: StreamDigest::default(),
        diary: StreamDigest::default(),
        alarms: Vec::new(),
    };
    let mut t0: Option<u64> = None;
    let mut last_ts = 0u64;
    let secs = |ts: u64, t0: u64| ts.saturating_sub(t0) as f64 / 1e9;
    let mut equity = Vec::new();
    let mut current: Vec<(Regime, u64)> = Vec::new();
    let mut spans = Vec::new();
    let mut count = 0u64;
    for slot in inputs.by_ref() {
        let ts = slot.header().ts_ns;
        let start = *t0.get_or_insert(ts);
        if current.is_empty() {
            current = vec![(Regime::Unclassified, start); n];
        }
        last_ts = last_ts.max(ts);
        core.on_input(&slot, &mut watch);
        count += 1;
        match slot.view() {
            Some(InputView::Timer(_)) => equity.push((secs(ts, start), core.risk().equity())),
            Some(InputView::Md(md)) => {
                let i = md.header.instrument as usize;
                if i < n {
                    let r = core.regime(i as u32);
                    if r != current[i].0 {
                        spans.push(Span {
                            instrument: i as u32,
                            regime: current[i].0.name(),
                            start_s: secs(current[i].1, start),
                            end_s: secs(ts, start),
                        });
                        current[i] = (r, ts);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(e) = inputs.take_error() {
        return Err(e.into());
    }
    core.finish(&mut watch);
    let start = t0.unwrap_or(0);
    for (i, (r, since)) in current.iter().enumerate() {
        spans.push(Span {
            instrument: i as u32,
            regime: r.name(),
            start_s: secs(*since, start),
            end_s: secs(last_ts, start),
        });
    }
    equity.push((secs(last_ts, start), core.risk().equity()));

    let recorded = recorded_orders(run_dir)?;
    if recorded.hex() != watch.orders.hex() || recorded.count() != watch.orders.count() {
        return Err(ReportError::Diverged {
            dir: run_dir.to_path_buf(),
            replayed: watch.orders.count(),
            replayed_hash: watch.orders.hex(),
            recorded: recorded.count(),
            recorded_hash: recorded.hex(),
        });
    }

    let c = core.counters();
    let snap = core.risk().snapshot();
    let duration_s = secs(last_ts, start);
    let per_second = metrics::changes(&metrics::resample(&equity, 1.0));
    let values: Vec<f64> = equity.iter().map(|e| e.1).collect();
    let (_, max_drawdown) = metrics::drawdowns(&values);
    let total_time = (duration_s * n as f64).max(f64::MIN_POSITIVE);
    let regimes = Regime::ALL
        .iter()
        .map(|r| {
            let mut dwell: Vec<f64> = spans
                .iter()
                .filter(|s| s.regime == r.name() && s.end_s > s.start_s)
                .map(|s| s.end_s - s.start_s)
                .collect();
            let total: f64 = dwell.iter().sum();
            let episodes = dwell.len() as u64;
            RegimeStat {
                regime: r.name(),
                updates: c.regime_updates[*r as usize],
                episodes,
                dwell_mean_s: if episodes > 0 { total / episodes as f64 } else { 0.0 },
                dwell_median_s: median(&mut dwell),
                time_share: total / total_time,
            }
        })
        .filter(|s| s.episodes > 0)
        .collect();
    let symbol = |i: u32| {
        cfg.instruments
            .get(i as usize)
            .map_or_else(|| format!("#{i}"), |s| s.symbol.clone())
    };
    let drift_alarms = watch
        .alarms
        .iter()
        .map(|p| Alarm {
            seq: p.header.seq,
            t_s: secs(p.header.ts_ns, start),
            instrument: symbol(p.header.instrument),
            detector: match p.header.sub {
                1 => "page_hinkley",
                2 => "cusum",
                _ => "unknown",
            },
            statistic: p.statistic,
            threshold: p.threshold,
            size_factor: p.size_factor,
        })
        .collect();
    let latency_path = run_dir.join(LATENCY_FILE);
    let latency = match std::fs::read_to_string(&latency_path) {
        Ok(t) => Some(serde_json::from_str::<Latency>(&t).map_err(|e| ReportError::Latency {
            path: latency_path.clone(),
            message: e.to_string(),
        })?),
        Err(_) => None,
    };
    Ok(Report {
        run_dir: run_dir.display().to_string(),
        config_hash: cfg.config_hash(),
        policy_hash: format!("{:016x}", core.policy_hash()),
        order_hash: watch.orders.hex(),
        diary_hash: watch.diary.hex(),
        instruments: cfg.instruments.iter().map(|s| s.symbol.clone()).collect(),
        inputs: count,
        duration_s,
        pnl: snap.equity,
        max_drawdown: max_drawdown.max(snap.max_drawdown),
        sharpe: metrics::sharpe(&per_second, metrics::TRADING_YEAR_S),
        sortino: metrics::sortino(&per_second, metrics::TRADING_YEAR_S),
        turnover: snap.turnover,
        fills: snap.fills,
        filled_qty: snap.filled_qty,
        orders: [("new", c.orders[0]), ("cancel", c.orders[1]), ("replace", c.orders[2])]
            .into_iter()
            .collect(),
        rejects: RejectReason::ALL
            .iter()
            .map(|r| (r.name(), c.rejects[*r as usize]))
            .filter(|(_, v)| *v > 0)
            .collect(),
        venue_rejects: c.venue_rejects,
        regimes,
        transitions: c.transitions,
        drift_alarms,
        latency,
        equity,
        spans,
    })
}

/// The file beside a run's journals that holds its latency histograms.
pub const LATENCY_FILE: &str = "latency.json";
