//! The plain-text rendering of a [`Report`].

use super::Report;
use std::fmt::Write;

/// Nanoseconds as a short human figure.
pub fn ns(v: u64) -> String {
    if v >= 1_000_000 {
        format!("{:.2} ms", v as f64 / 1e6)
    } else if v >= 1_000 {
        format!("{:.2} µs", v as f64 / 1e3)
    } else {
        format!("{v} ns")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{x:.2}"))
}

/// The report as aligned text lines.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "foxtrot report: {}", r.run_dir);
    if let Some(pid) = r.recording_pid {
        let _ = writeln!(
            o,
            "  (still being recorded by pid {pid}: this covers the inputs journalled when it was read)"
        );
    }
    let _ = writeln!(o, "  config hash   {}   policy hash {}", r.config_hash, r.policy_hash);
    let _ = writeln!(o, "  order hash    {}   diary hash {}", r.order_hash, r.diary_hash);
    let _ = writeln!(
        o,
        "  span          {} inputs over {:.1} s of event time; instruments {}",
        r.inputs,
        r.duration_s,
        r.instruments.join(", ")
    );
    let _ = writeln!(o, "  run end       {}", super::run_end_line(r.ended, r.recording_pid));
    let _ = writeln!(o, "  pnl           {:+.2}   max drawdown {:.2}", r.pnl, r.max_drawdown);
    if r.duration_s >= super::metrics::MIN_ANNUALISED_S {
        let _ = writeln!(
            o,
            "  sharpe        {}   sortino {}   (1 s PnL changes, annualised over 252 × 6.5 h)",
            opt(r.sharpe),
            opt(r.sortino)
        );
    } else {
        let _ = writeln!(
            o,
            "  sharpe        not shown: {:.0} s of event time is under the {:.0} s (one trading day) an annualised ratio needs",
            r.duration_s,
            super::metrics::MIN_ANNUALISED_S
        );
    }
    for x in &r.per_instrument {
        let _ = writeln!(
            o,
            "  {:<13} position {}  realised {:+.2}  unrealised {:+.2}  fees {:.2}  fills {}",
            x.symbol, x.position, x.realised, x.unrealised, x.fees, x.fills
        );
    }
    for a in &r.attribution {
        let _ = writeln!(
            o,
            "  attribution   {}/{}: {} orders, {} fills, PnL {:+.2}, mean markout {}",
            a.policy,
            a.topology,
            a.orders,
            a.fills,
            a.pnl,
            a.markout_mean.map_or_else(|| "n/a".into(), |m| format!("{m:+.4}"))
        );
    }
    let _ = writeln!(
        o,
        "  turnover      {:.2}   fills {} (qty {})",
        r.turnover, r.fills, r.filled_qty
    );
    let orders: Vec<String> = r.orders.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(o, "  orders        {}", orders.join(", "));
    let rejects = if r.rejects.is_empty() {
        "none".to_string()
    } else {
        r.rejects
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        o,
        "  rejects       risk: {rejects}; venue: {}",
        venue_rejects(r.venue_rejects, r.venue_cancel_rejects)
    );
    if let Some(f) = &r.md_findings {
        let _ = writeln!(o, "  feed          {}", md_findings_line(f));
        for line in &f.first {
            let _ = writeln!(o, "    {line}");
        }
        if f.total > f.first.len() as u64 {
            let _ = writeln!(
                o,
                "    … {} more (journal cat RUN/md_findings)",
                f.total - f.first.len() as u64
            );
        }
    }
    let _ = writeln!(o, "  regimes       {} transitions", r.transitions);
    for g in &r.regimes {
        let _ = writeln!(
            o,
            "    {:<13} {:>8} updates {:>6} episodes  dwell mean {:>8.2} s  median {:>8.2} s  {:>5.1}% of time",
            g.regime,
            g.updates,
            g.episodes,
            g.dwell_mean_s,
            g.dwell_median_s,
            g.time_share * 100.0
        );
    }
    let _ = writeln!(o, "  drift alarms  {}", r.drift_alarms.len());
    for a in r.drift_alarms.iter().take(10) {
        let _ = writeln!(
            o,
            "    t={:>9.3} s  seq {:>8}  {:<6} {:<12} statistic {:.2} > {:.2}  size factor {:.2}",
            a.t_s, a.seq, a.instrument, a.detector, a.statistic, a.threshold, a.size_factor
        );
    }
    if r.drift_alarms.len() > 10 {
        let _ = writeln!(o, "    … {} more (see --json)", r.drift_alarms.len() - 10);
    }
    match &r.latency {
        Some(l) => {
            let _ = writeln!(o, "  latency       measured by {}", l.source);
            for h in &l.hists {
                let _ = writeln!(
                    o,
                    "    {:<15} n={:<9} p50 {:>9}  p90 {:>9}  p99 {:>9}  p99.9 {:>9}  max {:>9}",
                    h.name,
                    h.count,
                    ns(h.p50),
                    ns(h.p90),
                    ns(h.p99),
                    ns(h.p999),
                    ns(h.max)
                );
            }
        }
        None => match &r.latency_damage {
            Some(d) => {
                let _ = writeln!(o, "  latency       not shown: {d}");
            }
            None => {
                let _ = writeln!(o, "  latency       not recorded (no latency.json in the run directory)");
            }
        },
    }
    o
}

/// The venue's refusals, said as what they are: cancel/replace requests that
/// came too late (the order had filled or gone: the race every live order entry
/// has) and orders refused.
pub fn venue_rejects(total: u64, too_late: u64) -> String {
    if total == 0 {
        return "none".into();
    }
    format!(
        "{total} ({too_late} cancels/replaces too late: the order had filled or gone; {} orders refused)",
        total - too_late.min(total)
    )
}

/// A live run's journalled feed findings in one line: how many, by code.
pub fn md_findings_line(f: &super::MdFindings) -> String {
    if f.total == 0 {
        return "market data: no findings journalled".into();
    }
    let by: Vec<String> = f.by_code.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("market data: {} findings passed over ({})", f.total, by.join(", "))
}
