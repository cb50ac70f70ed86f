//! Key figures of the adaptation loop, read from the policy ledger: time to
//! candidate, promotion rate, budget usage, rollback latency, proposals by
//! verdict — as a table, JSON, and the Prometheus text exposition format.
//!
//! | figure | from |
//! |---|---|
//! | `time_to_candidate_seconds` | the last evolution's KPI entry: wall time from its start to its champion |
//! | `evolve_budget_usage_ratio`, `evolve_cpu_seconds`, `evolve_replay_events` | the same entry: events replayed over the budget (0 when unlimited), CPU seconds of its shards |
//! | `candidates_total` | candidates evaluated: distinct genotypes scored by evolutions, reflection proposals judged, and candidates added by hand |
//! | `promotions_total`, `refusals_total`, `rollbacks_total` | entries by kind |
//! | `promotion_rate` | promotions ÷ candidates evaluated |
//! | `rollback_latency_seconds` | the last rollback: time since the promotion it undid |
//! | `proposals_total{status}` | proposals by governance verdict, and sign-offs |

use crate::policy::{Entry, EntryKind, Ledger};
use serde::Serialize;
use std::fmt::Write as _;

/// The figures (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Kpis {
    /// Candidates evaluated (see the module docs).
    pub candidates: u64,
    /// Promotions.
    pub promotions: u64,
    /// Promotions refused by their gates.
    pub refusals: u64,
    /// Rollbacks.
    pub rollbacks: u64,
    /// Promotions ÷ candidates.
    pub promotion_rate: f64,
    /// The last rollback's latency.
    pub rollback_latency_seconds: Option<f64>,
    /// The last evolution's time to its champion.
    pub time_to_candidate_seconds: Option<f64>,
    /// Its replayed events ÷ its budget (0: unlimited).
    pub budget_usage_ratio: Option<f64>,
    /// Its shards' CPU seconds.
    pub cpu_seconds: Option<f64>,
    /// Its replayed events.
    pub replay_events: Option<u64>,
    /// Proposals by verdict, in order of first appearance.
    pub proposals: Vec<(String, u64)>,
    /// Sign-offs.
    pub sign_offs: u64,
}

fn count(es: &[Entry], k: EntryKind) -> u64 {
    es.iter().filter(|e| e.kind == k).count() as u64
}

/// The figures of `ledger`.
pub fn kpis(ledger: &Ledger) -> Kpis {
    let es = ledger.entries();
    let mut genotypes = std::collections::BTreeSet::new();
    for e in es.iter().filter(|e| e.kind == EntryKind::Evaluation) {
        let cands = e.detail.as_ref().and_then(|d| d["candidates"].as_array());
        for c in cands.into_iter().flatten() {
            if let Some(g) = c["genotype"].as_str() {
                genotypes.insert(g.to_string());
            }
        }
    }
    let by_hand = es
        .iter()
        .filter(|e| e.kind == EntryKind::Candidate && !matches!(e.by.as_str(), "evolve" | "reflection"))
        .count();
    let mut k = Kpis {
        candidates: (genotypes.len() + by_hand) as u64 + count(es, EntryKind::Proposal),
        promotions: count(es, EntryKind::Promotion),
        refusals: count(es, EntryKind::Refusal),
        rollbacks: count(es, EntryKind::Rollback),
        sign_offs: count(es, EntryKind::SignOff),
        ..Kpis::default()
    };
    k.promotion_rate = if k.candidates > 0 {
        k.promotions as f64 / k.candidates as f64
    } else {
        0.0
    };
    // Rollback latency: replay the promotion stack.
    let mut stack: Vec<&Entry> = Vec::new();
    for e in es {
        match e.kind {
            EntryKind::Promotion => stack.push(e),
            EntryKind::Rollback => {
                if let Some(p) = stack.pop() {
                    k.rollback_latency_seconds = Some(e.unix_ns.saturating_sub(p.unix_ns) as f64 / 1e9);
                }
            }
            EntryKind::Proposal => {
                let s = e
                    .detail
                    .as_ref()
                    .and_then(|d| d["decision"]["status"].as_str())
                    .unwrap_or("unknown")
                    .to_string();
                match k.proposals.iter_mut().find(|(n, _)| *n == s) {
                    Some(x) => x.1 += 1,
                    None => k.proposals.push((s, 1)),
                }
            }
            _ => {}
        }
    }
    if let Some(d) = es
        .iter()
        .rev()
        .find(|e| e.kind == EntryKind::Kpi)
        .and_then(|e| e.detail.as_ref())
    {
        k.time_to_candidate_seconds = d["time_to_candidate_seconds"].as_f64();
        k.budget_usage_ratio = d["budget_usage_ratio"].as_f64();
        k.cpu_seconds = d["cpu_seconds"].as_f64();
        k.replay_events = d["replay_events"].as_u64();
    }
    k
}

fn family(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP foxtrot_{name} {help}");
    let _ = writeln!(o, "# TYPE foxtrot_{name} {kind}");
}

/// The figures in the Prometheus text exposition format (0.0.4).
pub fn render(k: &Kpis) -> String {
    let mut o = String::new();
    for (name, help, v) in [
        (
            "policy_candidates_total",
            "Candidates evaluated for the policy ledger.",
            k.candidates,
        ),
        (
            "policy_promotions_total",
            "Promotions in the policy ledger.",
            k.promotions,
        ),
        (
            "policy_refusals_total",
            "Promotions refused by their gates.",
            k.refusals,
        ),
        ("policy_rollbacks_total", "Rollbacks in the policy ledger.", k.rollbacks),
        (
            "policy_sign_offs_total",
            "Proposals signed off by a person.",
            k.sign_offs,
        ),
    ] {
        family(&mut o, name, "counter", help);
        let _ = writeln!(o, "foxtrot_{name} {v}");
    }
    family(&mut o, "policy_promotion_rate", "gauge", "Promotions per candidate.");
    let _ = writeln!(o, "foxtrot_policy_promotion_rate {}", k.promotion_rate);
    for (name, help, v) in [
        (
            "policy_rollback_latency_seconds",
            "Time from the last rolled-back promotion to its rollback.",
            k.rollback_latency_seconds,
        ),
        (
            "evolve_time_to_candidate_seconds",
            "Wall time of the last evolution from its start to its champion.",
            k.time_to_candidate_seconds,
        ),
        (
            "evolve_budget_usage_ratio",
            "Events the last evolution replayed over its budget (0: no budget).",
            k.budget_usage_ratio,
        ),
        (
            "evolve_cpu_seconds",
            "CPU seconds of the last evolution's replays.",
            k.cpu_seconds,
        ),
        (
            "evolve_replay_events",
            "Market-data events the last evolution replayed.",
            k.replay_events.map(|e| e as f64),
        ),
    ] {
        if let Some(v) = v {
            family(&mut o, name, "gauge", help);
            let _ = writeln!(o, "foxtrot_{name} {v}");
        }
    }
    if !k.proposals.is_empty() {
        family(
            &mut o,
            "policy_proposals_total",
            "counter",
            "Reflection proposals by governance verdict.",
        );
        for (s, n) in &k.proposals {
            let _ = writeln!(o, "foxtrot_policy_proposals_total{{status=\"{s}\"}} {n}");
        }
    }
    o
}

/// The figures as a small text table.
pub fn table(k: &Kpis) -> String {
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let props: Vec<String> = k.proposals.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let mut o = String::new();
    let _ = writeln!(o, "candidates evaluated  {}", k.candidates);
    let _ = writeln!(
        o,
        "promotions            {} (rate {:.3}), refused {}",
        k.promotions, k.promotion_rate, k.refusals
    );
    let _ = writeln!(
        o,
        "rollbacks             {} (last latency {} s)",
        k.rollbacks,
        opt(k.rollback_latency_seconds)
    );
    let _ = writeln!(o, "time to candidate     {} s", opt(k.time_to_candidate_seconds));
    let _ = writeln!(
        o,
        "budget usage          {} ({} events, {} CPU s)",
        opt(k.budget_usage_ratio),
        k.replay_events.map_or("-".into(), |e| e.to_string()),
        opt(k.cpu_seconds)
    );
    let _ = writeln!(
        o,
        "proposals             {} (signed off {})",
        if props.is_empty() { "-".into() } else { props.join(", ") },
        k.sign_offs
    );
    o
}
