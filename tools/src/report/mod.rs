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

use crate::Error;
use foxtrot_engine::core::belief::Regime;
use foxtrot_engine::core::router::policy::policy_name;
use foxtrot_engine::core::Core;
use foxtrot_engine::journal::fields::detector_name;
use foxtrot_engine::journal::fields::topology_name;
use foxtrot_engine::journal::JournalInputs;
use foxtrot_engine::records::{
    DiaryRecord, ExecKind, ExecReport, InputSlot, InputView, Kind, Order, RejectReason, TheoryPacket, Verdict,
};
use foxtrot_engine::runtime::stats::HistSnapshot;
use foxtrot_engine::runtime::{FusedRun, RunObserver, Sequenced, StreamDigest};
use foxtrot_shm::journal::writer_lock;
use foxtrot_shm::{JournalReader, ShmError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

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
    pub detector: String,
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

/// `(t_s, position, pnl, mid)` of an instrument at a timer tick.
pub type InstrumentSample = (f64, i64, f64, Option<f64>);

/// One instrument: its figures at the end and its course over the run.
#[derive(Clone, Debug, Serialize)]
pub struct InstrumentReport {
    /// Symbol.
    pub symbol: String,
    /// Final position (quantity units).
    pub position: i64,
    /// Realised PnL (closed quantity against its average cost), currency.
    pub realised: f64,
    /// Unrealised PnL (the open position against its average cost at the last mark).
    pub unrealised: f64,
    /// Fees charged (currency; negative: rebates), by the `risk.fees` schedule.
    pub fees: f64,
    /// Fills and filled quantity.
    pub fills: u64,
    /// Filled quantity.
    pub filled_qty: i64,
    /// `(t_s, position, pnl, mid)` on every timer tick (mid `None` when one-sided).
    #[serde(skip)]
    pub samples: Vec<InstrumentSample>,
    /// `(t_s, price, buy)` of every fill.
    #[serde(skip)]
    pub fill_marks: Vec<(f64, f64, bool)>,
}

/// One order as the core sent it.
#[derive(Clone, Debug, Serialize)]
pub struct OrderRow {
    /// Seconds since the run's first input.
    pub t_s: f64,
    /// Symbol.
    pub symbol: String,
    /// ClOrdID.
    pub cl_ord_id: u64,
    /// new, cancel or replace.
    pub action: String,
    /// buy or sell.
    pub side: String,
    /// Limit price (0 for market orders and cancels).
    pub price: f64,
    /// Quantity.
    pub qty: i64,
}

/// One fill.
#[derive(Clone, Debug, Serialize)]
pub struct FillRow {
    /// Seconds since the run's first input.
    pub t_s: f64,
    /// Symbol.
    pub symbol: String,
    /// ClOrdID of the filled order.
    pub cl_ord_id: u64,
    /// buy or sell.
    pub side: String,
    /// Fill price.
    pub price: f64,
    /// Fill quantity.
    pub qty: i64,
}

/// PnL and markout of the orders of one policy and execution topology.
#[derive(Clone, Debug, Serialize)]
pub struct Attribution {
    /// Policy (strategy) name; `unattributed` for fills of orders no diary
    /// decision names (the kill switch's cancels, say).
    pub policy: String,
    /// Execution topology.
    pub topology: String,
    /// Orders decided (diary `order` verdicts).
    pub orders: u64,
    /// Fills of those orders.
    pub fills: u64,
    /// Their filled quantity.
    pub filled_qty: i64,
    /// Σ signed fill quantity × (final mid − fill price): each fill's
    /// contribution to the run's PnL marked at the end. The rows add up to the
    /// run's PnL (before fees).
    pub pnl: f64,
    /// Mean markout in price (currency per unit: mid after − decision price,
    /// signed by side) over the decisions whose markout was measured.
    pub markout_mean: Option<f64>,
    /// Decisions with a measured markout.
    pub markouts: u64,
}

/// Latency histograms the run recorded.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Latency {
    /// Which command and layout measured them.
    pub source: String,
    /// One per measured point (`tick_to_order`, `exit.<stage>`).
    pub hists: Vec<HistSnapshot>,
}

/// A live feed's data-quality findings, as the run journalled them.
#[derive(Clone, Debug, Serialize)]
pub struct MdFindings {
    /// Findings journalled.
    pub total: u64,
    /// By code name (codes with none left out).
    pub by_code: BTreeMap<&'static str, u64>,
    /// The first few, in words.
    pub first: Vec<String>,
}

/// Findings [`MdFindings::first`] says in words.
const FIRST_FINDINGS: usize = 5;

/// Summarises a run's journalled feed findings (`None`: none journalled).
fn md_findings(run_dir: &Path, symbols: &[String]) -> Result<Option<MdFindings>, Error> {
    let Some(all) = foxtrot_feed::findings::read_journalled(run_dir)? else {
        return Ok(None);
    };
    let mut by_code = BTreeMap::new();
    for (_, d) in &all {
        *by_code.entry(d.code().map_or("unknown", |c| c.name())).or_insert(0) += 1;
    }
    Ok(Some(MdFindings {
        total: all.len() as u64,
        by_code,
        first: all
            .iter()
            .take(FIRST_FINDINGS)
            .map(|(_, d)| foxtrot_feed::findings::describe(d, symbols))
            .collect(),
    }))
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
    /// The process still recording the run, when it is (the report then
    /// covers the inputs journalled when it was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_pid: Option<u32>,
    /// Digest of the diary stream.
    pub diary_hash: String,
    /// Instrument symbols, by id.
    pub instruments: Vec<String>,
    /// Inputs in the journal.
    pub inputs: u64,
    /// Whether the input journal ends with the run's end record: the run
    /// ended on its own terms. A run killed (or still recording) has none.
    pub ended: bool,
    /// Event time covered, seconds.
    pub duration_s: f64,
    /// Final PnL (currency).
    pub pnl: f64,
    /// Largest fall from a running equity peak (currency).
    pub max_drawdown: f64,
    /// Annualised Sharpe of 1-second PnL changes (see [`metrics`]); `None`
    /// when the run is shorter than [`metrics::MIN_ANNUALISED_S`] of event time
    /// (too short a sample to scale to a year).
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
    /// Orders and cancel/replace requests the venue rejected.
    pub venue_rejects: u64,
    /// Of those, cancel/replace requests that came too late.
    pub venue_cancel_rejects: u64,
    /// Regime counts and dwell times.
    pub regimes: Vec<RegimeStat>,
    /// Regime transitions.
    pub transitions: u64,
    /// Drift alarms, in order.
    pub drift_alarms: Vec<Alarm>,
    /// Latency per measured stage, if the run wrote `latency.json`.
    pub latency: Option<Latency>,
    /// Why `latency.json` is not shown: it does not parse, or its check
    /// does not match (changed after the run wrote it). The rest of the
    /// report, read from the journals, stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_damage: Option<String>,
    /// A live run's feed findings, journalled in `md_findings/` (see
    /// `foxtrot_feed::findings`); `None` when the run journalled none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md_findings: Option<MdFindings>,
    /// Per instrument.
    pub per_instrument: Vec<InstrumentReport>,
    /// PnL and markout by policy and topology.
    pub attribution: Vec<Attribution>,
    /// Orders sent, in order (all of them).
    #[serde(skip)]
    pub order_rows: Vec<OrderRow>,
    /// Fills, in order (all of them).
    #[serde(skip)]
    pub fill_rows: Vec<FillRow>,
    /// Equity `(t_s, pnl)` on every timer tick.
    #[serde(skip)]
    pub equity: Vec<(f64, f64)>,
    /// Regime timeline.
    #[serde(skip)]
    pub spans: Vec<Span>,
}

/// What the report watches as the run replays: every drift alarm, equity on
/// every timer tick, and each instrument's regime after every mid update.
struct Watch {
    n: usize,
    alarms: Vec<TheoryPacket>,
    t0: Option<u64>,
    last_ts: u64,
    equity: Vec<(f64, f64)>,
    current: Vec<(Regime, u64)>,
    spans: Vec<Span>,
    samples: Vec<Vec<InstrumentSample>>,
    orders: Vec<(u64, Order)>,
    /// Each replayed order's wire bytes, hashed (to compare with the
    /// recorded ones one by one).
    wires: Vec<u64>,
    fills: Vec<(u64, ExecReport)>,
    decided: BTreeMap<u64, (u16, u8)>,
    markouts: BTreeMap<(u16, u8), (f64, u64, u64)>,
    /// Each instrument's price unit in currency (10^-price_decimals).
    units: Vec<f64>,
}

fn secs(ts: u64, t0: u64) -> f64 {
    ts.saturating_sub(t0) as f64 / 1e9
}

impl RunObserver for Watch {
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.alarms.push(*p);
    }
    fn on_order(&mut self, o: &Order, wire: &[u8]) {
        self.orders.push((o.header.ts_ns, *o));
        self.wires.push(xxhash_rust::xxh3::xxh3_64(wire));
    }
    fn on_diary(&mut self, d: &DiaryRecord) {
        if Verdict::from_u8(d.header.sub) == Some(Verdict::Order) {
            let key = (d.policy_id, d.topology);
            self.decided.insert(d.cl_ord_id, key);
            let m = self.markouts.entry(key).or_insert((0.0, 0, 0));
            m.2 += 1;
            if d.markout_events > 0 {
                m.0 += d.markout as f64 * self.units.get(d.header.instrument as usize).copied().unwrap_or(1.0);
                m.1 += 1;
            }
        }
    }
    fn after_input(&mut self, slot: &InputSlot, core: &Core) {
        let ts = slot.header().ts_ns;
        let start = *self.t0.get_or_insert(ts);
        if self.current.is_empty() {
            self.current = vec![(Regime::Unclassified, start); self.n];
        }
        self.last_ts = self.last_ts.max(ts);
        match slot.view() {
            Some(InputView::Timer(_)) => {
                let t = secs(ts, start);
                self.equity.push((t, core.risk().equity()));
                if self.samples.is_empty() {
                    self.samples = vec![Vec::new(); self.n];
                }
                for (i, v) in self.samples.iter_mut().enumerate() {
                    let (pos, realised, unrealised) = core.risk().figures(i as u32);
                    v.push((t, pos, realised + unrealised, mid(core, i as u32)));
                }
            }
            Some(InputView::Exec(e)) if matches!(e.kind(), Some(ExecKind::Fill | ExecKind::PartialFill)) => {
                self.fills.push((ts, *e));
            }
            Some(InputView::Md(md)) => {
                let i = md.header.instrument as usize;
                if i < self.n {
                    let r = core.regime(i as u32);
                    if r != self.current[i].0 {
                        self.spans.push(Span {
                            instrument: i as u32,
                            regime: self.current[i].0.name(),
                            start_s: secs(self.current[i].1, start),
                            end_s: secs(ts, start),
                        });
                        self.current[i] = (r, ts);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Instrument `i`'s mid in price units (half-ticks kept), when two-sided.
fn mid(core: &Core, i: u32) -> Option<f64> {
    Some(core.book(i)?.top().mid2()? as f64 / 2.0)
}

/// Digest and count of the FIX messages in a run's recorded orders journal,
/// each message hashed, and the journal's records (rejects included).
fn recorded_orders(run_dir: &Path) -> Result<(StreamDigest, Vec<u64>, u64), ShmError> {
    let mut r = JournalReader::open(&run_dir.join("orders"))?;
    let (mut d, mut each, mut records) = (StreamDigest::default(), Vec::new(), 0u64);
    while let Some(rec) = r.next()? {
        records += 1;
        if rec.kind == Kind::Order as u16 {
            let wire = rec.payload.get(64..).unwrap_or(&[]);
            d.add(wire);
            each.push(xxhash_rust::xxh3::xxh3_64(wire));
        }
    }
    Ok((d, each, records))
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

/// How a recorded run ended, as its input journal says (`replay` and
/// `report` print it): `ended`, its end record; `recording`, a writer holds
/// it still.
pub fn run_end_line(ended: bool, recording: Option<u32>) -> String {
    match (ended, recording) {
        (true, _) => "ended on its own terms: its input journal ends with the run's end record".into(),
        (false, Some(pid)) => format!("none yet: still being recorded by pid {pid}"),
        (false, None) => "no end record: the engine was killed (or its journal's tail was lost), \
                          so its outputs may stop short of its inputs"
            .into(),
    }
}

/// Replays `run_dir` and measures it.
pub fn analyse(run_dir: &Path) -> Result<Report, Error> {
    // The report reads the inputs (replayed) and the orders (compared), and
    // either's damage ends it; the diary it does not read is read to its end
    // here, so its damage is named, not passed over under a report that
    // reads as sound.
    let diary_records = foxtrot_engine::runtime::replay::check_journal(&run_dir.join("diary"))?;
    let (cfg, inputs) = JournalInputs::open_with_config(run_dir)?;
    let n = cfg.instruments.len();
    let watch = Watch {
        n,
        alarms: Vec::new(),
        t0: None,
        last_ts: 0,
        equity: Vec::new(),
        current: Vec::new(),
        spans: Vec::new(),
        samples: Vec::new(),
        orders: Vec::new(),
        wires: Vec::new(),
        fills: Vec::new(),
        decided: BTreeMap::new(),
        markouts: BTreeMap::new(),
        units: cfg
            .instruments
            .iter()
            .map(|s| 10f64.powi(-(s.price_decimals as i32)))
            .collect(),
    };
    let mut run = FusedRun::with_observer(&cfg, Sequenced(inputs), watch);
    run.run_to_end();
    if let Some(e) = run.venue_mut().0.take_error() {
        return Err(e.into());
    }
    let summary = run.summary();
    let count = summary.input_hash.1;
    // The run's end record, checked against the inputs replayed.
    let end = run.venue().0.end();
    let ended = end.is_some();
    let core = run.core();
    let w = run.observer();
    let (start, last_ts) = (w.t0.unwrap_or(0), w.last_ts);
    let mut spans = w.spans.clone();
    for (i, (r, since)) in w.current.iter().enumerate() {
        spans.push(Span {
            instrument: i as u32,
            regime: r.name(),
            start_s: secs(*since, start),
            end_s: secs(last_ts, start),
        });
    }
    let mut equity = w.equity.clone();
    equity.push((secs(last_ts, start), core.risk().equity()));
    let (orders_hex, orders_n) = summary.order_hash.clone();

    let (recorded, each, order_records) = recorded_orders(run_dir)?;
    // A run still being recorded was read while it grew: its inputs and its
    // orders at different moments. Then the shorter stream must begin the
    // longer, order by order; a finished run's must be the same.
    let recording_pid = writer_lock::held_elsewhere(&run_dir.join("inputs"));
    let agree = match recording_pid {
        Some(_) => each.iter().zip(&w.wires).all(|(a, b)| a == b),
        None => recorded.hex() == orders_hex && recorded.count() == orders_n,
    };
    if !agree {
        return Err(Error::Diverged {
            dir: run_dir.to_path_buf(),
            replayed: orders_n,
            replayed_hash: orders_hex,
            recorded: recorded.count(),
            recorded_hash: recorded.hex(),
        });
    }
    // A run that ended counts its outputs: a lost tail of its diary, which
    // the report does not compare, is named, not reported on as the whole.
    if let Some(end) = end {
        end.hold_outputs(run_dir, [order_records, diary_records])?;
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
    let drift_alarms = w
        .alarms
        .iter()
        .map(|p| Alarm {
            seq: p.header.seq,
            t_s: secs(p.header.ts_ns, start),
            instrument: symbol(p.header.instrument),
            detector: detector_name(p.header.sub),
            statistic: p.statistic,
            threshold: p.threshold,
            size_factor: p.size_factor,
        })
        .collect();
    let annualised = duration_s >= metrics::MIN_ANNUALISED_S;
    let (per_instrument, attribution, order_rows, fill_rows) = trading(&cfg, core, w, start);
    let (latency, latency_damage) = match read_latency(run_dir) {
        Ok(l) => (l, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let symbols: Vec<String> = cfg.instruments.iter().map(|s| s.symbol.clone()).collect();
    let md_findings = md_findings(run_dir, &symbols)?;
    Ok(Report {
        run_dir: run_dir.display().to_string(),
        config_hash: cfg.config_hash(),
        policy_hash: format!("{:016x}", core.policy_hash()),
        order_hash: summary.order_hash.0.clone(),
        recording_pid,
        latency_damage,
        md_findings,
        diary_hash: summary.diary_hash.0.clone(),
        instruments: symbols,
        inputs: count,
        ended,
        duration_s,
        pnl: snap.equity,
        max_drawdown: max_drawdown.max(snap.max_drawdown),
        sharpe: annualised
            .then(|| metrics::sharpe(&per_second, metrics::TRADING_YEAR_S))
            .flatten(),
        sortino: annualised
            .then(|| metrics::sortino(&per_second, metrics::TRADING_YEAR_S))
            .flatten(),
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
        venue_cancel_rejects: c.venue_cancel_rejects,
        regimes,
        transitions: c.transitions,
        drift_alarms,
        latency,
        per_instrument,
        attribution,
        order_rows,
        fill_rows,
        equity,
        spans,
    })
}

/// Per instrument, attribution, orders and fills, from what the replay saw.
fn trading(
    cfg: &foxtrot_engine::Config,
    core: &Core,
    w: &Watch,
    start: u64,
) -> (Vec<InstrumentReport>, Vec<Attribution>, Vec<OrderRow>, Vec<FillRow>) {
    let spec = |i: u32| cfg.instruments.get(i as usize);
    let symbol = |i: u32| spec(i).map_or_else(|| format!("#{i}"), |s| s.symbol.clone());
    let price = |i: u32, px: i64| spec(i).map_or(px as f64, |s| px as f64 / 10f64.powi(s.price_decimals as i32));
    let qty_scale = |i: u32| spec(i).map_or(1.0, |s| 10f64.powi(s.qty_decimals as i32));
    let side = |s: u8| foxtrot_engine::journal::fields::side_name(s).unwrap_or("?").to_string();
    let mut per: Vec<InstrumentReport> = (0..cfg.instruments.len() as u32)
        .map(|i| {
            let (position, realised, unrealised) = core.risk().figures(i);
            InstrumentReport {
                symbol: symbol(i),
                position,
                realised,
                unrealised,
                fees: core.risk().fees(i),
                fills: 0,
                filled_qty: 0,
                samples: w.samples.get(i as usize).cloned().unwrap_or_default(),
                fill_marks: Vec::new(),
            }
        })
        .collect();
    // Mids are in price units: scale them as prices.
    for (i, r) in per.iter_mut().enumerate() {
        for s in &mut r.samples {
            s.3 = s.3.map(|m| m * price(i as u32, 1));
        }
    }
    let mut groups: BTreeMap<(u16, u8), Attribution> = BTreeMap::new();
    let group = |g: &mut BTreeMap<(u16, u8), Attribution>, key: (u16, u8)| {
        g.entry(key)
            .or_insert_with(|| Attribution {
                policy: match key.0 {
                    u16::MAX => "unattributed".into(),
                    0 => "no strategy".into(),
                    p => policy_name(p).to_string(),
                },
                topology: if key.1 == 0 { "-".into() } else { topology_name(key.1) },
                orders: 0,
                fills: 0,
                filled_qty: 0,
                pnl: 0.0,
                markout_mean: None,
                markouts: 0,
            })
            .clone()
    };
    for (key, (sum, n, orders)) in &w.markouts {
        let mut a = group(&mut groups, *key);
        a.orders = *orders;
        a.markouts = *n;
        a.markout_mean = (*n > 0).then(|| *sum / *n as f64);
        groups.insert(*key, a);
    }
    let mut fill_rows = Vec::with_capacity(w.fills.len());
    for (ts, e) in &w.fills {
        let i = e.header.instrument;
        let buy = e.header.side == foxtrot_engine::records::Side::Buy as u8;
        let px = price(i, e.last_px);
        let signed = if buy { e.last_qty } else { -e.last_qty } as f64 / qty_scale(i);
        let final_mid = mid(core, i).map_or(px, |m| m * price(i, 1));
        let key = w.decided.get(&e.cl_ord_id).copied().unwrap_or((u16::MAX, 0));
        let mut a = group(&mut groups, key);
        a.fills += 1;
        a.filled_qty += e.last_qty;
        a.pnl += signed * (final_mid - px);
        groups.insert(key, a);
        if let Some(r) = per.get_mut(i as usize) {
            r.fills += 1;
            r.filled_qty += e.last_qty;
            r.fill_marks.push((secs(*ts, start), px, buy));
        }
        fill_rows.push(FillRow {
            t_s: secs(*ts, start),
            symbol: symbol(i),
            cl_ord_id: e.cl_ord_id,
            side: side(e.header.side),
            price: px,
            qty: e.last_qty,
        });
    }
    let order_rows = w
        .orders
        .iter()
        .map(|(ts, o)| OrderRow {
            t_s: secs(*ts, start),
            symbol: symbol(o.header.instrument),
            cl_ord_id: o.cl_ord_id,
            action: o.action().map_or("?".into(), |a| format!("{a:?}").to_lowercase()),
            side: side(o.header.side),
            price: price(o.header.instrument, o.px),
            qty: o.qty,
        })
        .collect();
    (per, groups.into_values().collect(), order_rows, fill_rows)
}

/// The file beside a run's journals that holds its latency histograms.
pub const LATENCY_FILE: &str = "latency.json";

/// `latency.json`: the histograms and the XXH3-64 of their compact JSON, so a
/// changed figure (a digit of a p99) is refused, not reported as measured.
#[derive(Serialize, serde::Deserialize)]
struct SealedLatency {
    #[serde(flatten)]
    latency: Latency,
    check: String,
}

fn latency_check(l: &Latency) -> String {
    let text = serde_json::to_string(l).expect("histograms serialise");
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// Writes a run's latency histograms as `dir/latency.json`, sealed.
pub fn write_latency(dir: &Path, latency: Latency) -> Result<(), Error> {
    let check = latency_check(&latency);
    let path = dir.join(LATENCY_FILE);
    let text = serde_json::to_string_pretty(&SealedLatency { latency, check }).expect("histograms serialise");
    std::fs::write(&path, text).map_err(|e| Error::Write {
        path,
        message: e.to_string(),
    })
}

/// A run's `latency.json`: `None` when it wrote none; an error when the file
/// does not parse or its check does not match what it holds.
pub fn read_latency(run_dir: &Path) -> Result<Option<Latency>, Error> {
    let path = run_dir.join(LATENCY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Latency {
                path,
                message: e.to_string(),
            })
        }
    };
    let damaged = |message: String| Error::Latency {
        path: path.clone(),
        message,
    };
    let sealed: SealedLatency =
        serde_json::from_str(&text).map_err(|e| damaged(format!("damaged: not a latency file ({e})")))?;
    let want = latency_check(&sealed.latency);
    if sealed.check != want {
        return Err(damaged(format!(
            "damaged: its figures do not match their check ({} here, {want} computed): they changed after the run \
             wrote them",
            sealed.check
        )));
    }
    Ok(Some(sealed.latency))
}
