//! `foxtrot soak`: days of event time through the full pipeline against the
//! simulated venue, as fast as the machine goes, with the adversarial generator
//! on (regime changes, halts, bad prints, bursts, garbage records), sampled every
//! simulated hour, ending in a verdict.
//!
//! Each hour's sample: market-data events, orders, the process's resident memory
//! and heap in use (glibc's `mallinfo2`), open file descriptors, the hour's own
//! tick-to-order p50/p99/p99.9 (the run's histogram minus the previous hour's),
//! invariant violations found so far by the independent checker
//! ([`crate::check::Checker`], which re-verifies every order), and drift alarms.
//!
//! **Verdict** ([`Verdict::of`]): *flat memory* — the least-squares slope of
//! resident memory over the hours after the first (warm-up) is at most
//! [`MAX_RSS_SLOPE`] bytes per hour; *stable tail* — no hour's p99 above
//! [`MAX_P99_RATIO`] times the median hour's p99; *no violations*.
//!
//! **The journal's appends** are measured too: every input is appended to a real
//! input journal (memory-mapped segments prepared by the helper, rolled as a
//! recorded run rolls them; finished segments are deleted as the soak goes, so
//! a week fits on disk), each append timed with a clock pair around it. Beside
//! it, a *control*: an empty clock pair, timed the same way every input, so
//! that a stall of the thread itself (a preempted vCPU, an interrupt) is told
//! from one of the journal. Each hour reports the slowest append, the appends
//! over [`APPEND_TARGET_NS`], and the control's slowest; the target is reported
//! against, not part of the pass/fail verdict (a 2-vCPU VM's preemptions reach
//! it whatever the code does; the control shows when).

use crate::check::Checker;
use foxtrot_engine::core::risk::BrakeMode;
use foxtrot_engine::journal::kinds::input_size;
use foxtrot_engine::records::CommandKind;
use foxtrot_engine::records::InputSlot;
use foxtrot_engine::runtime::control::Controlled;
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_shm::{JournalConfig, JournalWriter, ShmError};
use foxtrot_venue::SimWorld;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The memory slope the verdict allows: 1 MiB per simulated hour.
pub const MAX_RSS_SLOPE: f64 = 1024.0 * 1024.0;

/// How far above the median hour's p99 any hour's p99 may be.
pub const MAX_P99_RATIO: f64 = 3.0;

const HOUR_NS: u64 = 3_600_000_000_000;

/// The append time the journal aims to stay under.
pub const APPEND_TARGET_NS: u64 = 10_000;

/// The hour's journal appends.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AppendSample {
    /// Appends in the hour.
    pub appends: u64,
    /// The slowest (ns).
    pub max_ns: u64,
    /// Appends slower than [`APPEND_TARGET_NS`].
    pub over_target: u64,
    /// The slowest empty clock pair (the control, ns).
    pub control_max_ns: u64,
    /// Empty clock pairs slower than [`APPEND_TARGET_NS`].
    pub control_over_target: u64,
    /// Segment rolls in the hour.
    pub rolls: u64,
}

/// One simulated hour.
#[derive(Clone, Debug, PartialEq)]
pub struct HourSample {
    /// Hours since the start (1 for the first hour's end).
    pub hour: u64,
    /// Market-data events in the hour.
    pub events: u64,
    /// Orders in the hour.
    pub orders: u64,
    /// Resident memory at the hour's end (bytes).
    pub rss_bytes: u64,
    /// Heap in use at the hour's end (bytes).
    pub heap_bytes: u64,
    /// Open file descriptors at the hour's end.
    pub open_fds: u64,
    /// The hour's tick-to-order p50, p99, p99.9 (ns; 0 without orders).
    pub t2o_ns: [u64; 3],
    /// Invariant violations so far.
    pub violations: u64,
    /// Drift alarms so far.
    pub drift_alarms: u64,
    /// The hour ended under the drawdown brake, which the soak's operator re-armed.
    pub rearmed: bool,
    /// The hour's journal appends (zero without a journal).
    pub append: AppendSample,
    /// Wall-clock seconds since the start.
    pub wall_s: f64,
}

/// The columns of an hour's row, as [`HourSample::cells`] gives them.
pub const COLUMNS: [&str; 15] = [
    "hour",
    "events",
    "orders",
    "RSS MiB",
    "heap MiB",
    "fds",
    "p50 ns",
    "p99 ns",
    "p99.9 ns",
    "violations",
    "drift",
    "append max ns",
    "> 10 µs",
    "control max",
    "wall s",
];

impl HourSample {
    /// The hour's row, one text per [`COLUMNS`] entry.
    pub fn cells(&self) -> [String; 15] {
        let mib = |b: u64| format!("{:.1}", b as f64 / 1048576.0);
        [
            self.hour.to_string(),
            self.events.to_string(),
            self.orders.to_string(),
            mib(self.rss_bytes),
            mib(self.heap_bytes),
            self.open_fds.to_string(),
            self.t2o_ns[0].to_string(),
            self.t2o_ns[1].to_string(),
            self.t2o_ns[2].to_string(),
            self.violations.to_string(),
            self.drift_alarms.to_string(),
            self.append.max_ns.to_string(),
            self.append.over_target.to_string(),
            self.append.control_max_ns.to_string(),
            format!("{:.1}", self.wall_s),
        ]
    }
}

/// The journal's appends over the whole soak: the hours' samples merged, and
/// the slowest append of the hours that rolled a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AppendTotals {
    /// Every hour's appends together.
    pub all: AppendSample,
    /// The slowest append of the hours that rolled a segment (ns).
    pub rolling_hours_max_ns: u64,
}

impl AppendSample {
    /// Adds `o`'s counts and keeps the larger maxima.
    pub fn merge(&mut self, o: &AppendSample) {
        self.appends += o.appends;
        self.max_ns = self.max_ns.max(o.max_ns);
        self.over_target += o.over_target;
        self.control_max_ns = self.control_max_ns.max(o.control_max_ns);
        self.control_over_target += o.control_over_target;
        self.rolls += o.rolls;
    }
}

impl AppendTotals {
    /// The totals of `hours`.
    pub fn of(hours: &[HourSample]) -> AppendTotals {
        let mut t = AppendTotals::default();
        for h in hours {
            t.all.merge(&h.append);
            if h.append.rolls > 0 {
                t.rolling_hours_max_ns = t.rolling_hours_max_ns.max(h.append.max_ns);
            }
        }
        t
    }

    /// One line: the slowest append against the target, and the control.
    pub fn text(&self) -> String {
        format!(
            "{} appends, {} segment rolls: slowest {:.1} µs; {} over the {} µs target ({}); \
             the empty clock-pair control: slowest {:.1} µs, {} over {} µs",
            self.all.appends,
            self.all.rolls,
            self.all.max_ns as f64 / 1000.0,
            self.all.over_target,
            APPEND_TARGET_NS / 1000,
            if self.all.over_target == 0 {
                "target met"
            } else {
                "target NOT met"
            },
            self.all.control_max_ns as f64 / 1000.0,
            self.all.control_over_target,
            APPEND_TARGET_NS / 1000,
        )
    }
}

/// The soak's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Resident memory slope after the first hour (bytes per hour).
    pub rss_slope: f64,
    /// The median hour's p99 (ns).
    pub median_p99: u64,
    /// The worst hour's p99 (ns) and its hour.
    pub worst_p99: (u64, u64),
    /// Invariant violations.
    pub violations: u64,
    /// Each check: flat memory, stable tail, no violations.
    pub checks: [bool; 3],
}

impl Verdict {
    /// The verdict of `hours` (see the module docs).
    pub fn of(hours: &[HourSample]) -> Verdict {
        let after: Vec<&HourSample> = hours.iter().skip(1).collect();
        let rss_slope = slope(
            &after
                .iter()
                .map(|h| (h.hour as f64, h.rss_bytes as f64))
                .collect::<Vec<_>>(),
        );
        let mut p99: Vec<u64> = hours.iter().map(|h| h.t2o_ns[1]).filter(|&p| p > 0).collect();
        p99.sort_unstable();
        let median_p99 = p99.get(p99.len() / 2).copied().unwrap_or(0);
        let worst_p99 = hours.iter().map(|h| (h.t2o_ns[1], h.hour)).max().unwrap_or((0, 0));
        let violations = hours.last().map_or(0, |h| h.violations);
        Verdict {
            rss_slope,
            median_p99,
            worst_p99,
            violations,
            checks: [
                rss_slope <= MAX_RSS_SLOPE,
                worst_p99.0 as f64 <= MAX_P99_RATIO * median_p99 as f64,
                violations == 0,
            ],
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|&c| c)
    }
}

/// Least-squares slope of (x, y); 0 for fewer than two points.
fn slope(p: &[(f64, f64)]) -> f64 {
    if p.len() < 2 {
        return 0.0;
    }
    let n = p.len() as f64;
    let (mx, my) = (
        p.iter().map(|q| q.0).sum::<f64>() / n,
        p.iter().map(|q| q.1).sum::<f64>() / n,
    );
    let sxy: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    let sxx: f64 = p.iter().map(|q| (q.0 - mx) * (q.0 - mx)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

/// The soak's input journal: appends timed, finished segments deleted.
struct TimedJournal {
    writer: JournalWriter,
    dir: PathBuf,
    segment: u64,
    hour: AppendSample,
    error: Option<String>,
}

impl TimedJournal {
    fn open(dir: &Path) -> Result<TimedJournal, ShmError> {
        let _ = std::fs::remove_dir_all(dir);
        let mut writer = JournalWriter::open(dir, JournalConfig::default())?;
        writer.warm_up();
        Ok(TimedJournal {
            segment: writer.segment_index(),
            writer,
            dir: dir.to_path_buf(),
            hour: AppendSample::default(),
            error: None,
        })
    }

    #[inline]
    fn append(&mut self, s: &InputSlot) {
        let h = s.header();
        let n = input_size(h.kind).unwrap_or(foxtrot_engine::records::SLOT_SIZE);
        let t0 = Instant::now();
        let r = self.writer.append(h.kind as u16, 0, h.seq, h.ts_ns, &s.as_bytes()[..n]);
        let t1 = Instant::now();
        let t2 = Instant::now();
        let (append, control) = ((t1 - t0).as_nanos() as u64, (t2 - t1).as_nanos() as u64);
        let a = &mut self.hour;
        a.appends += 1;
        a.max_ns = a.max_ns.max(append);
        a.over_target += u64::from(append > APPEND_TARGET_NS);
        a.control_max_ns = a.control_max_ns.max(control);
        a.control_over_target += u64::from(control > APPEND_TARGET_NS);
        if let Err(e) = r {
            self.error.get_or_insert(e.to_string());
        }
        let seg = self.writer.segment_index();
        if seg != self.segment {
            self.segment = seg;
            a.rolls += 1;
            // Keep the newest two finished segments; older ones go (a week of
            // inputs would not fit on disk). Outside the timed append.
            for old in seg.saturating_sub(8)..seg.saturating_sub(2) {
                for ext in ["seg", "idx"] {
                    let _ = std::fs::remove_file(self.dir.join(format!("{old:020}.{ext}")));
                }
            }
        }
    }
}

/// The checker, the journal, and the event time of the newest input.
struct Watch {
    checker: Checker,
    journal: Option<TimedJournal>,
    last_ts: u64,
}

impl RunObserver for Watch {
    fn on_input(&mut self, s: &InputSlot) {
        self.last_ts = self.last_ts.max(s.header().ts_ns);
        if let Some(j) = &mut self.journal {
            j.append(s);
        }
        self.checker.on_input(s);
    }
    fn on_order(&mut self, o: &foxtrot_engine::records::Order, wire: &[u8]) {
        self.checker.on_order(o, wire);
    }
}

/// (resident bytes, heap in use, open descriptors) of this process.
fn process() -> (u64, u64, u64) {
    let (rss, fds) = foxtrot_engine::runtime::stats::process_sample();
    // SAFETY: mallinfo2 takes no arguments and only reads the allocator's state.
    let heap = unsafe { libc::mallinfo2() }.uordblks as u64;
    (rss, heap, fds)
}

/// Runs `hours` simulated hours of `cfg` (its generator made adversarial and
/// endless), journalling its inputs under `journal` (removed at the end) when
/// given, calling `each` with every hour's sample; the samples.
pub fn run(
    cfg: &Config,
    hours: u64,
    journal: Option<&Path>,
    mut each: impl FnMut(&HourSample),
) -> Result<Vec<HourSample>, String> {
    let mut cfg = cfg.clone();
    cfg.gen.adversarial.enabled = true;
    cfg.gen.events = u64::MAX / 4;
    let start_ns = cfg.gen.start_ns;
    let journal = match journal {
        Some(d) => Some(TimedJournal::open(d).map_err(|e| format!("journal {}: {e}", d.display()))?),
        None => None,
    };
    let watch = Watch {
        checker: Checker::new(&cfg),
        journal,
        last_ts: 0,
    };
    // The soak's operator: the drawdown brake (reduce-only or halt) is re-armed
    // at the end of the hour it engaged in (a
    // journalled command, as `foxtrot ctl … rearm` sends), so orders, and the
    // tail they measure, go on for the whole soak.
    let (world, mut operator) = Controlled::new(SimWorld::new(&cfg));
    let mut run = FusedRun::with_observer(&cfg, world, watch);
    let started = std::time::Instant::now();
    let mut prev_hist = run.latency().clone();
    let (mut prev_md, mut prev_orders) = (0u64, 0u64);
    let mut out = Vec::with_capacity(hours as usize);
    let mut hour = 1;
    while hour <= hours && run.step() {
        if run.observer().last_ts < start_ns + hour * HOUR_NS {
            continue;
        }
        let c = run.core().counters();
        let (md, orders) = (c.md, c.orders.iter().sum::<u64>());
        let mut h = run.latency().clone();
        let _ = h.subtract(&prev_hist);
        prev_hist = run.latency().clone();
        let [p50, p99, p999, _] = foxtrot_engine::runtime::latency::percentiles(&h);
        let (rss, heap, fds) = process();
        let mut s = HourSample {
            hour,
            rearmed: false,
            events: md - prev_md,
            orders: orders - prev_orders,
            rss_bytes: rss,
            heap_bytes: heap,
            open_fds: fds,
            t2o_ns: [p50, p99, p999],
            violations: run.observer().checker.total(),
            drift_alarms: c.drift_alarms,
            append: run
                .observer_mut()
                .journal
                .as_mut()
                .map_or_else(AppendSample::default, |j| std::mem::take(&mut j.hour)),
            wall_s: started.elapsed().as_secs_f64(),
        };
        (prev_md, prev_orders) = (md, orders);
        if run.core().risk().brake() != BrakeMode::Normal {
            operator.send(CommandKind::Rearm, 0);
            s.rearmed = true;
        }
        each(&s);
        out.push(s);
        hour += 1;
    }
    run.finish();
    if let Some(j) = run.observer_mut().journal.take() {
        let dir = j.dir.clone();
        let error = j.error.clone();
        drop(j);
        let _ = std::fs::remove_dir_all(&dir);
        if let Some(e) = error {
            return Err(format!("journal {}: {e}", dir.display()));
        }
    }
    Ok(out)
}

/// A self-contained HTML page: the verdict, curves of memory, heap, p99 and
/// events per hour (inline SVG), and the table of hours.
pub fn html(hours: &[HourSample], v: &Verdict) -> String {
    let mut h = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>foxtrot soak</title>\n\
         <style>body{font-family:sans-serif;margin:2em}td,th{padding:3px 8px;text-align:right}\
         .ok{color:#070}.bad{color:#b00}svg{background:#fafafa;margin:4px}</style></head><body>\n<h1>foxtrot soak</h1>\n",
    );
    let mark = |ok: bool| {
        if ok {
            "<b class=ok>pass</b>"
        } else {
            "<b class=bad>FAIL</b>"
        }
    };
    let _ = writeln!(
        h,
        "<p>{} simulated hours. Flat memory (slope after hour 1 ≤ {:.0} B/h): {:.0} B/h {}. \
         Stable tail (no hour's p99 above {MAX_P99_RATIO}× the median hour's {} ns): worst {} ns in hour {} {}. \
         Invariant violations: {} {}.</p>",
        hours.len(),
        MAX_RSS_SLOPE,
        v.rss_slope,
        mark(v.checks[0]),
        v.median_p99,
        v.worst_p99.0,
        v.worst_p99.1,
        mark(v.checks[1]),
        v.violations,
        mark(v.checks[2])
    );
    let curve = |title: &str, ys: Vec<f64>| -> String {
        let (w, ht) = (600.0, 160.0);
        let top = ys.iter().cloned().fold(0.0f64, f64::max).max(1e-9);
        let n = ys.len().max(2) as f64 - 1.0;
        let pts: Vec<String> = ys
            .iter()
            .enumerate()
            .map(|(i, y)| format!("{:.1},{:.1}", i as f64 / n * w, ht - y / top * (ht - 10.0)))
            .collect();
        format!(
            "<div><h3>{title} (max {top:.3})</h3><svg width=\"{w}\" height=\"{ht}\"><polyline fill=\"none\" stroke=\"#06c\" \
             stroke-width=\"1.5\" points=\"{}\"/></svg></div>\n",
            pts.join(" ")
        )
    };
    h.push_str(&curve(
        "resident memory (MiB)",
        hours.iter().map(|s| s.rss_bytes as f64 / 1048576.0).collect(),
    ));
    h.push_str(&curve(
        "heap in use (MiB)",
        hours.iter().map(|s| s.heap_bytes as f64 / 1048576.0).collect(),
    ));
    h.push_str(&curve(
        "tick-to-order p99 (µs)",
        hours.iter().map(|s| s.t2o_ns[1] as f64 / 1000.0).collect(),
    ));
    if hours.iter().any(|s| s.append.appends > 0) {
        let _ = writeln!(h, "<p>Journal: {}.</p>", AppendTotals::of(hours).text());
        h.push_str(&curve(
            "slowest journal append per hour (µs)",
            hours.iter().map(|s| s.append.max_ns as f64 / 1000.0).collect(),
        ));
        h.push_str(&curve(
            "slowest empty clock pair per hour (µs, the control)",
            hours.iter().map(|s| s.append.control_max_ns as f64 / 1000.0).collect(),
        ));
    }
    h.push_str(&curve(
        "market-data events per hour",
        hours.iter().map(|s| s.events as f64).collect(),
    ));
    h.push_str("<table><tr>");
    for c in COLUMNS {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr>\n");
    for s in hours {
        h.push_str("<tr>");
        for c in s.cells() {
            let _ = write!(h, "<td>{c}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(i: u64, rss: u64, p99: u64, violations: u64) -> HourSample {
        HourSample {
            hour: i,
            rearmed: false,
            events: 1,
            orders: 1,
            rss_bytes: rss,
            heap_bytes: 0,
            open_fds: 5,
            t2o_ns: [p99 / 2, p99, p99 * 2],
            violations,
            drift_alarms: 0,
            append: AppendSample::default(),
            wall_s: i as f64,
        }
    }

    #[test]
    fn the_verdict_catches_growth_a_tail_spike_and_violations() {
        // Warm-up in hour 1, flat after: passes.
        let flat: Vec<_> = (1..=10)
            .map(|i| hour(i, if i == 1 { 10 << 20 } else { 40 << 20 }, 1000, 0))
            .collect();
        assert!(Verdict::of(&flat).passed(), "{:?}", Verdict::of(&flat));
        // 2 MiB more every hour: the slope check fails, and says by how much.
        let growing: Vec<_> = (1..=10).map(|i| hour(i, (40 + 2 * i) << 20, 1000, 0)).collect();
        let v = Verdict::of(&growing);
        assert_eq!(v.checks, [false, true, true]);
        assert!((v.rss_slope - 2.0 * 1048576.0).abs() < 1.0);
        // One hour's p99 four times the median.
        let mut spike = flat.clone();
        spike[6].t2o_ns[1] = 4000;
        assert_eq!(Verdict::of(&spike).checks, [true, false, true]);
        assert_eq!(Verdict::of(&spike).worst_p99, (4000, 7));
        // A violation.
        let mut bad = flat;
        bad[9].violations = 1;
        assert_eq!(Verdict::of(&bad).checks, [true, true, false]);
    }
}
