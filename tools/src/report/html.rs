//! The report as one self-contained HTML file: tables and four plots (equity
//! curve, drawdown, regime timeline, latency histogram) drawn by `plotters` as
//! inline SVG, so the file needs nothing beside it — no scripts, fonts or images.

use super::text::ns;
use super::{metrics, Report};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::fmt::Write;

const W: u32 = 960;
const H: u32 = 300;

/// Regime colours, by name.
fn regime_colour(name: &str) -> RGBColor {
    match name {
        "calm" => RGBColor(102, 170, 102),
        "trending" => RGBColor(70, 110, 200),
        "volatile" => RGBColor(220, 120, 40),
        "halted" => RGBColor(190, 40, 40),
        _ => RGBColor(170, 170, 170),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// At most `max` points, evenly thinned (first and last kept).
fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max {
        return points.to_vec();
    }
    let step = points.len().div_ceil(max);
    let mut v: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if let Some(last) = points.last() {
        v.push(*last);
    }
    v
}

/// A range that is never empty.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    }
}

type DrawResult = Result<(), String>;

/// A drawing error as text.
fn msg(e: impl std::error::Error) -> String {
    e.to_string()
}

/// A chart over event time whose ranges cover `pts` (and 0 on the y axis
/// when `zero`: amounts, not prices).
fn time_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    pts: impl Iterator<Item = (f64, f64)> + Clone,
    zero: bool,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let x1 = pts.clone().map(|p| p.0).fold(1e-6, f64::max);
    let lo = pts.clone().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = pts.map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (y0, y1) = if zero {
        span(lo.min(0.0), hi.max(0.0))
    } else {
        span(lo, hi)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x1, y0..y1)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .x_desc("event time (s)")
        .y_desc(y_desc)
        .draw()
        .map_err(msg)?;
    Ok(chart)
}

/// `pts` as a filled area down to 0.
fn area_chart(svg: &mut String, title: &str, y_desc: &str, pts: &[(f64, f64)], colour: RGBColor) -> DrawResult {
    let root = SVGBackend::with_string(svg, (W, H)).into_drawing_area();
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = time_chart(&root, title, y_desc, pts.iter().copied(), true)?;
    chart
        .draw_series(AreaSeries::new(pts.iter().copied(), 0.0, colour.mix(0.35)).border_style(colour))
        .map_err(msg)?;
    root.present().map_err(msg)?;
    Ok(())
}

fn regime_chart(svg: &mut String, r: &Report) -> DrawResult {
    let n = r.instruments.len().max(1) as f64;
    let root = SVGBackend::with_string(svg, (W, 60 + 40 * r.instruments.len().max(1) as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(msg)?;
    let x1 = r.duration_s.max(1e-6);
    let names = r.instruments.clone();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Regime timeline (calm green, trending blue, volatile orange, halted red)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x1, 0.0..n)
        .map_err(msg)?;
    // Each instrument's name beside the middle of its row, drawn by position
    // (the axis' own labels fall on "nice" values and skipped rows).
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("event time (s)")
        .draw()
        .map_err(msg)?;
    for (i, name) in names.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, i as f64 + 0.5));
        root.draw(&Text::new(name.clone(), (x - 64, y - 7), ("sans-serif", 14)))
            .map_err(msg)?;
    }
    chart
        .draw_series(r.spans.iter().filter(|s| s.end_s > s.start_s).map(|s| {
            let y = s.instrument as f64;
            Rectangle::new(
                [(s.start_s, y + 0.1), (s.end_s, y + 0.9)],
                regime_colour(s.regime).filled(),
            )
        }))
        .map_err(msg)?;
    root.present().map_err(msg)?;
    Ok(())
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(70, 110, 200),
    RGBColor(220, 120, 40),
    RGBColor(102, 170, 102),
    RGBColor(190, 40, 40),
    RGBColor(140, 90, 180),
    RGBColor(60, 60, 60),
];

fn latency_chart(svg: &mut String, r: &Report) -> DrawResult {
    let Some(l) = &r.latency else { return Ok(()) };
    let hists: Vec<_> = l.hists.iter().filter(|h| h.count > 0).collect();
    let used = |h: &&foxtrot_engine::runtime::stats::HistSnapshot| {
        let lo = h.buckets.iter().position(|c| *c > 0).unwrap_or(0);
        let hi = h.buckets.iter().rposition(|c| *c > 0).unwrap_or(0);
        (lo, hi)
    };
    let lo = hists.iter().map(|h| used(h).0).min().unwrap_or(0);
    let hi = hists.iter().map(|h| used(h).1).max().unwrap_or(1).max(lo + 1);
    let root = SVGBackend::with_string(svg, (W, H)).into_drawing_area();
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Latency histogram (share of samples per power-of-two bucket)",
            ("sans-serif", 16),
        )
        .margin(16)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d(lo as f64..(hi + 1) as f64, 0.0..100.0)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .x_labels(hi + 1 - lo)
        .x_label_formatter(&|k| ns(1u64 << (k.floor() as u32).min(62)))
        .x_desc("latency (bucket's lower bound)")
        .y_desc("% of samples")
        .draw()
        .map_err(msg)?;
    let width = 0.8 / hists.len().max(1) as f64;
    for (j, h) in hists.iter().enumerate() {
        let c = PALETTE[j % PALETTE.len()];
        let total = h.count.max(1) as f64;
        chart
            .draw_series(h.buckets.iter().enumerate().filter(|(_, n)| **n > 0).map(|(k, n)| {
                let x = k as f64 + 0.1 + j as f64 * width;
                Rectangle::new([(x, 0.0), (x + width, *n as f64 / total * 100.0)], c.filled())
            }))
            .map_err(msg)?
            .label(h.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(msg)?;
    root.present().map_err(msg)?;
    Ok(())
}

/// A named line of `(x, y)` points and its colour.
type Series = (String, Vec<(f64, f64)>, RGBColor);

/// Equity with its running peak (grey): the gap between them is the drawdown.
fn equity_chart(svg: &mut String, pts: &[(f64, f64)]) -> DrawResult {
    let mut peak = f64::NEG_INFINITY;
    let peaks: Vec<(f64, f64)> = pts
        .iter()
        .map(|&(t, e)| {
            peak = peak.max(e);
            (t, peak)
        })
        .collect();
    multi_chart(
        svg,
        "Equity curve (PnL) and its running peak",
        "PnL",
        &[
            ("equity".to_string(), pts.to_vec(), RGBColor(70, 110, 200)),
            ("running peak".to_string(), peaks, RGBColor(150, 150, 150)),
        ],
    )
}

/// Several named lines on one chart, with a legend.
fn multi_chart(svg: &mut String, title: &str, y_desc: &str, series: &[Series]) -> DrawResult {
    let root = SVGBackend::with_string(svg, (W, H)).into_drawing_area();
    root.fill(&WHITE).map_err(msg)?;
    let mut chart = time_chart(
        &root,
        title,
        y_desc,
        series.iter().flat_map(|s| s.1.iter().copied()),
        true,
    )?;
    for (name, pts, c) in series {
        let c = *c;
        chart
            .draw_series(LineSeries::new(thin(pts, 2000), c.stroke_width(2)))
            .map_err(msg)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 2), (x + 14, y + 2)], c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(msg)?;
    root.present().map_err(msg)?;
    Ok(())
}

/// An instrument's mid over the run with its fills marked: buys as green
/// triangles pointing up, sells as red ones pointing down.
fn price_chart(svg: &mut String, r: &super::InstrumentReport) -> DrawResult {
    let mids: Vec<(f64, f64)> = r.samples.iter().filter_map(|s| s.3.map(|m| (s.0, m))).collect();
    if mids.is_empty() && r.fill_marks.is_empty() {
        return Ok(());
    }
    let title = format!(
        "{}: mid with fills (▲ buy, ▼ sell; {} fills)",
        r.symbol,
        r.fill_marks.len()
    );
    let root = SVGBackend::with_string(svg, (W, H)).into_drawing_area();
    root.fill(&WHITE).map_err(msg)?;
    let points = mids.iter().copied().chain(r.fill_marks.iter().map(|f| (f.0, f.1)));
    let mut chart = time_chart(&root, &title, "price", points, false)?;
    chart
        .draw_series(LineSeries::new(thin(&mids, 2000), RGBColor(60, 60, 60).stroke_width(1)))
        .map_err(msg)?;
    let marks: Vec<&(f64, f64, bool)> = r
        .fill_marks
        .iter()
        .step_by(r.fill_marks.len().div_ceil(1500).max(1))
        .collect();
    chart
        .draw_series(marks.iter().map(|&&(t, p, buy)| {
            let c = if buy {
                RGBColor(30, 150, 60)
            } else {
                RGBColor(200, 40, 40)
            };
            let d = if buy { -5 } else { 5 };
            EmptyElement::at((t, p)) + Polygon::new(vec![(0, d), (-4, -d), (4, -d)], c.filled())
        }))
        .map_err(msg)?;
    root.present().map_err(msg)?;
    Ok(())
}

fn row(o: &mut String, k: &str, v: &str) {
    let _ = writeln!(o, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
}

/// The report as a self-contained HTML page.
pub fn render(r: &Report) -> Result<String, String> {
    let equity = thin(&r.equity, 2000);
    let values: Vec<f64> = r.equity.iter().map(|p| p.1).collect();
    let (dd, _) = metrics::drawdowns(&values);
    let drawdown: Vec<(f64, f64)> = r.equity.iter().zip(&dd).map(|(p, d)| (p.0, -d)).collect();
    let drawdown = thin(&drawdown, 2000);
    // A peak that never rose (or rose by under 5% of the largest drawdown)
    // above the start makes the drawdown the equity curve mirrored: say so
    // instead of drawing it twice.
    let start = values.first().copied().unwrap_or(0.0);
    let top = values.iter().copied().fold(start, f64::max);
    let peak_rose = top - start > 0.05 * r.max_drawdown;
    let (mut s_eq, mut s_dd, mut s_rg, mut s_lat) = (String::new(), String::new(), String::new(), String::new());
    equity_chart(&mut s_eq, &equity)?;
    if peak_rose {
        area_chart(
            &mut s_dd,
            "Drawdown from the running peak",
            "drawdown",
            &drawdown,
            RGBColor(190, 40, 40),
        )?;
    } else {
        s_dd = format!(
            "<p>The equity rose at most {:.2} above its start, so the drawdown is the equity curve above \
             mirrored (not drawn twice): the largest is {:.2}.</p>",
            top - start,
            r.max_drawdown
        );
    }
    regime_chart(&mut s_rg, r)?;
    latency_chart(&mut s_lat, r)?;
    let series = |f: &dyn Fn(&super::InstrumentSample) -> f64| -> Vec<Series> {
        r.per_instrument
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let pts = x.samples.iter().map(|s| (s.0, f(s))).collect();
                (x.symbol.clone(), pts, PALETTE[i % PALETTE.len()])
            })
            .collect()
    };
    let (mut s_pos, mut s_ipnl) = (String::new(), String::new());
    multi_chart(
        &mut s_pos,
        "Position per instrument",
        "position",
        &series(&|s| s.1 as f64),
    )?;
    multi_chart(
        &mut s_ipnl,
        "PnL per instrument (realised + unrealised)",
        "PnL",
        &series(&|s| s.2),
    )?;
    let mut s_prices = String::new();
    for x in r.per_instrument.iter().take(8) {
        price_chart(&mut s_prices, x)?;
    }

    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>foxtrot report — {}</title>\n<style>\
body{{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}}\
table{{border-collapse:collapse;margin:8px 0 20px}}th,td{{border:1px solid #ccc;padding:4px 10px;text-align:left}}\
th{{background:#f3f3f3}}h2{{margin-top:28px}}svg{{display:block;margin:8px 0}}</style></head><body>\n",
        escape(&r.run_dir)
    );
    let _ = writeln!(o, "<h1>foxtrot report</h1>\n<table>");
    row(&mut o, "run", &r.run_dir);
    row(&mut o, "config hash", &r.config_hash);
    row(&mut o, "policy hash", &r.policy_hash);
    row(&mut o, "order hash", &r.order_hash);
    row(
        &mut o,
        "inputs",
        &format!("{} over {:.1} s of event time", r.inputs, r.duration_s),
    );
    row(&mut o, "instruments", &r.instruments.join(", "));
    row(&mut o, "PnL", &format!("{:+.2}", r.pnl));
    row(&mut o, "max drawdown", &format!("{:.2}", r.max_drawdown));
    let f = |v: Option<f64>| v.map_or_else(|| "n/a".into(), |x| format!("{x:.2}"));
    let ratios = if r.duration_s >= metrics::MIN_ANNUALISED_S {
        format!(
            "{} / {} (1 s PnL changes, annualised over a 252 × 6.5 h year)",
            f(r.sharpe),
            f(r.sortino)
        )
    } else {
        format!(
            "not shown: {:.0} s of event time is under the {:.0} s (one trading day) an annualised ratio needs",
            r.duration_s,
            metrics::MIN_ANNUALISED_S
        )
    };
    row(&mut o, "Sharpe / Sortino", &ratios);
    row(&mut o, "turnover", &format!("{:.2}", r.turnover));
    row(&mut o, "fills", &format!("{} (qty {})", r.fills, r.filled_qty));
    row(
        &mut o,
        "orders",
        &r.orders
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let rejects = r
        .rejects
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    row(
        &mut o,
        "risk rejects",
        if rejects.is_empty() { "none" } else { &rejects },
    );
    row(
        &mut o,
        "venue rejects",
        &super::text::venue_rejects(r.venue_rejects, r.venue_cancel_rejects),
    );
    if let Some(f) = &r.md_findings {
        row(&mut o, "feed", &super::text::md_findings_line(f));
    }
    let _ = writeln!(o, "</table>\n<h2>Equity</h2>\n{s_eq}\n<h2>Drawdown</h2>\n{s_dd}");
    per_instrument(&mut o, r);
    let _ = writeln!(o, "{s_ipnl}\n{s_pos}\n<h2>Prices and fills</h2>\n{s_prices}");
    attribution(&mut o, r);
    rejects_table(&mut o, r);
    let _ = writeln!(o, "<h2>Regimes</h2>\n{s_rg}");
    let _ = writeln!(
        o,
        "<table><tr><th>regime</th><th>updates</th><th>episodes</th><th>mean dwell (s)</th><th>median dwell (s)</th><th>share of time</th></tr>"
    );
    for g in &r.regimes {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.1}%</td></tr>",
            g.regime,
            g.updates,
            g.episodes,
            g.dwell_mean_s,
            g.dwell_median_s,
            g.time_share * 100.0
        );
    }
    let _ = writeln!(o, "</table><p>{} transitions</p>\n<h2>Latency</h2>", r.transitions);
    match &r.latency {
        Some(l) => {
            let _ = writeln!(o, "<p>Measured by {}.</p>\n{s_lat}", escape(&l.source));
            if l.hists.len() == 1 {
                o.push_str(
                    "<p>One row: this run kept every stage on one thread, so only tick → order was timed. \
                     Per-stage latency comes from a run with one thread per stage \
                     (<code>foxtrot run --layout per_stage --record DIR</code>).</p>\n",
                );
            }
            let _ = writeln!(o, "<table><tr><th>stage</th><th>samples</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>");
            for h in &l.hists {
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&h.name),
                    h.count,
                    ns(h.p50),
                    ns(h.p90),
                    ns(h.p99),
                    ns(h.p999),
                    ns(h.max)
                );
            }
            o.push_str("</table>\n");
        }
        None => match &r.latency_damage {
            Some(d) => {
                let _ = writeln!(o, "<p>Not shown: {}.</p>", escape(d));
            }
            None => o.push_str("<p>Not recorded (no latency.json in the run directory).</p>\n"),
        },
    }
    table(
        &mut o,
        &format!("Drift alarms ({})", r.drift_alarms.len()),
        &[
            "t (s)",
            "seq",
            "instrument",
            "detector",
            "statistic",
            "threshold",
            "size factor",
        ],
        r.drift_alarms.iter().map(|a| {
            vec![
                format!("{:.3}", a.t_s),
                a.seq.to_string(),
                a.instrument.clone(),
                a.detector.clone(),
                format!("{:.2}", a.statistic),
                format!("{:.2}", a.threshold),
                format!("{:.2}", a.size_factor),
            ]
        }),
    );
    orders_and_fills(&mut o, r);
    o.push_str("</body></html>\n");
    Ok(o)
}

fn per_instrument(o: &mut String, r: &Report) {
    table(
        o,
        "Per instrument",
        &[
            "instrument",
            "position",
            "realised",
            "unrealised",
            "fees",
            "net",
            "fills",
            "filled qty",
        ],
        r.per_instrument.iter().map(|x| {
            let net = x.realised + x.unrealised - x.fees;
            vec![
                x.symbol.clone(),
                x.position.to_string(),
                format!("{:+.2}", x.realised),
                format!("{:+.2}", x.unrealised),
                format!("{:.2}", x.fees),
                format!("{net:+.2}"),
                x.fills.to_string(),
                x.filled_qty.to_string(),
            ]
        }),
    );
    o.push_str(
        "<p>Fees: the <code>risk.fees</code> schedule — basis points of notional at the maker rate on \
         fills that added liquidity, at the taker rate otherwise, plus a charge per unit; negative is a rebate \
         (none configured: 0.00). Realised and unrealised are before fees; net is after.</p>\n",
    );
}

fn attribution(o: &mut String, r: &Report) {
    let total: f64 = r.attribution.iter().map(|a| a.pnl).sum();
    let blank = || String::new();
    let rows = r.attribution.iter().map(|a| {
        vec![
            a.policy.clone(),
            a.topology.clone(),
            a.orders.to_string(),
            a.fills.to_string(),
            a.filled_qty.to_string(),
            format!("{:+.2}", a.pnl),
            a.markout_mean.map_or_else(|| "n/a".into(), |m| format!("{m:+.4}")),
            a.markouts.to_string(),
        ]
    });
    let total_row = [
        "total".into(),
        blank(),
        blank(),
        blank(),
        blank(),
        format!("{total:+.2}"),
        blank(),
        blank(),
    ];
    table(
        o,
        "Attribution by strategy and topology",
        &[
            "strategy",
            "topology",
            "orders",
            "fills",
            "filled qty",
            "PnL",
            "mean markout",
            "markouts",
        ],
        rows.chain(std::iter::once(total_row.to_vec())),
    );
    o.push_str(
        "<p>Each fill's contribution to the PnL marked at the final mid (signed quantity × (final mid − fill \
         price)); the rows add up to the run's PnL before fees. Markout: mid after the decision − decision \
         price, signed by side, in price, from the diary.</p>\n",
    );
}

fn rejects_table(o: &mut String, r: &Report) {
    o.push_str("<h2>Rejects by reason</h2>\n<table><tr><th>by</th><th>reason</th><th>count</th></tr>\n");
    for (k, v) in &r.rejects {
        let _ = writeln!(o, "<tr><td>risk</td><td>{}</td><td>{v}</td></tr>", escape(k));
    }
    let too_late = r.venue_cancel_rejects;
    let refused = r.venue_rejects - too_late.min(r.venue_rejects);
    let _ = writeln!(
        o,
        "<tr><td>venue</td><td>cancel/replace too late (the order had filled or gone)</td><td>{too_late}</td></tr>\n\
         <tr><td>venue</td><td>order refused</td><td>{refused}</td></tr></table>"
    );
}

/// The last rows of the orders and fills (all are in `report --json` and the
/// Parquet export).
const LAST_ROWS: usize = 50;

fn orders_and_fills(o: &mut String, r: &Report) {
    let last = |n: usize| n.saturating_sub(LAST_ROWS);
    table(
        o,
        &format!("Fills ({}; the last {LAST_ROWS})", r.fill_rows.len()),
        &["t (s)", "instrument", "ClOrdID", "side", "price", "qty"],
        r.fill_rows[last(r.fill_rows.len())..].iter().map(|f| {
            let (t, c, p, q) = (format!("{:.3}", f.t_s), f.cl_ord_id, f.price, f.qty);
            vec![
                t,
                f.symbol.clone(),
                c.to_string(),
                f.side.clone(),
                p.to_string(),
                q.to_string(),
            ]
        }),
    );
    table(
        o,
        &format!("Orders ({}; the last {LAST_ROWS})", r.order_rows.len()),
        &["t (s)", "instrument", "ClOrdID", "action", "side", "price", "qty"],
        r.order_rows[last(r.order_rows.len())..].iter().map(|x| {
            let (t, c, p, q) = (format!("{:.3}", x.t_s), x.cl_ord_id, x.price, x.qty);
            let (a, sd) = (x.action.clone(), x.side.clone());
            vec![t, x.symbol.clone(), c.to_string(), a, sd, p.to_string(), q.to_string()]
        }),
    );
}

/// A titled table of text cells (escaped).
fn table(o: &mut String, title: &str, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let _ = write!(o, "<h2>{}</h2>\n<table><tr>", escape(title));
    for h in headers {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr>\n");
    for row in rows {
        o.push_str("<tr>");
        for c in row {
            let _ = write!(o, "<td>{}</td>", escape(&c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

/// A sweep's results as a page: its PnL heat map (two axes) and every
/// combination's row.
pub fn render_sweep(dir: &str, m: &crate::sweep::Manifest, rows: &[crate::sweep::Row]) -> String {
    let about = format!(
        "<p>{}: {} combinations of {} over data {} ({} records), base configuration {}.</p>\n",
        escape(dir),
        rows.len(),
        escape(
            &m.grid
                .axes
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(" × ")
        ),
        escape(&m.data.0),
        m.data.1,
        escape(&m.base_config_hash)
    );
    let table = format!(
        "<h2>Every combination</h2>\n<pre>{}{}</pre>\n",
        escape(&crate::sweep::table(&m.grid, rows)),
        escape(&m.not_run_lines())
    );
    match crate::sweep::heat_map(m, rows) {
        Some(page) => page.replacen("</body>", &format!("{about}{table}</body>"), 1),
        None => format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>foxtrot sweep</title></head>\
             <body style=\"font-family:sans-serif\">\n<h1>foxtrot sweep</h1>\n{about}{table}</body></html>\n"
        ),
    }
}

/// A policy ledger as a page: its KPIs and every entry.
pub fn render_ledger(dir: &str, k: &crate::kpi::Kpis, entries: &[crate::policy::Entry]) -> String {
    let opt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let props: Vec<String> = k.proposals.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let mut o = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>foxtrot policy ledger</title></head>\
         <body style=\"font-family:sans-serif\">\n<h1>Policy ledger</h1>\n<p>{}: {} entries.</p>\n<h2>Key figures</h2>\n<table>\n",
        escape(dir),
        entries.len()
    );
    for (name, v) in [
        ("candidates evaluated", k.candidates.to_string()),
        ("promotions", format!("{} (rate {:.3})", k.promotions, k.promotion_rate)),
        ("refused promotions", k.refusals.to_string()),
        ("rollbacks", k.rollbacks.to_string()),
        ("last rollback latency (s)", opt(k.rollback_latency_seconds)),
        ("time to candidate (s)", opt(k.time_to_candidate_seconds)),
        ("budget usage", opt(k.budget_usage_ratio)),
        ("replayed events", k.replay_events.map_or("–".into(), |e| e.to_string())),
        ("CPU seconds", opt(k.cpu_seconds)),
        (
            "proposals",
            if props.is_empty() {
                "–".into()
            } else {
                props.join(", ")
            },
        ),
        ("sign-offs", k.sign_offs.to_string()),
    ] {
        let _ = writeln!(o, "<tr><th align=\"left\">{name}</th><td>{}</td></tr>", escape(&v));
    }
    o.push_str("</table>\n<h2>Entries</h2>\n<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\">\n<tr><th>#</th><th>kind</th><th>config</th><th>by</th><th>note</th><th>checks</th></tr>\n");
    for e in entries {
        let checks: Vec<String> = e
            .checks
            .iter()
            .map(|c| format!("{} {}", c.name, if c.passed { "✓" } else { "✗" }))
            .collect();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.n,
            e.kind,
            escape(&e.config_hash),
            escape(&e.by),
            escape(&e.note),
            escape(&checks.join(", "))
        );
    }
    o.push_str("</table>\n</body></html>\n");
    o
}
