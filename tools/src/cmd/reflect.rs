//! `foxtrot reflect`: proposals from a recorded run's diary and drift alarms,
//! judged by the governance rule on a regime grid's held-out slices and
//! recorded in the policy ledger (see `foxtrot_tools::reflect`).

use anyhow::{Context, Result};
use clap::Args;
use foxtrot_tools::policy::Ledger;
use foxtrot_tools::reflect::{govern, propose, Rule};
use std::path::PathBuf;

/// Arguments of `foxtrot reflect`.
#[derive(Args, Debug)]
pub struct ReflectArgs {
    /// The recorded run (`foxtrot sim --record DIR`, `foxtrot replay --out DIR`, a live run).
    run: PathBuf,
    /// The regime grid whose held-out slices judge the proposals.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The policy ledger.
    #[arg(long, value_name = "DIR", default_value = "ledger")]
    ledger: PathBuf,
    /// Held-out fitness uplift a proposal needs.
    #[arg(long, default_value_t = 0.0)]
    min_uplift: f64,
    /// Market-data events the session's replays may use.
    #[arg(long, value_name = "EVENTS", default_value_t = 10_000_000)]
    budget: u64,
    /// Accepted proposals wait for `foxtrot policy sign` even with `flags.auto_feedback`.
    #[arg(long)]
    staged: bool,
    /// Where the proposals' held-out replays are recorded (default RUN/reflect).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Only list the proposals; judge nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `foxtrot reflect`.
pub fn run(a: ReflectArgs) -> Result<()> {
    let (cfg, proposals) = propose(&a.run).with_context(|| format!("reading {}", a.run.display()))?;
    println!(
        "{}: {} proposals (config {}, auto_feedback {})",
        a.run.display(),
        proposals.len(),
        cfg.config_hash(),
        if cfg.flags.auto_feedback { "on" } else { "off" }
    );
    for p in &proposals {
        println!(
            "  {}  {:<13} {}  confidence {:.2}  diary {}..={}  — {}",
            p.id,
            p.change.operator,
            p.change.what,
            p.confidence,
            p.evidence.diary.first,
            p.evidence.diary.last,
            p.rationale
        );
    }
    if a.dry_run || proposals.is_empty() {
        return Ok(());
    }
    let mut ledger = Ledger::open(&a.ledger).with_context(|| format!("opening the ledger {}", a.ledger.display()))?;
    let rule = Rule {
        min_uplift: a.min_uplift,
        budget: a.budget,
        staged: a.staged,
    };
    let out = a.out.clone().unwrap_or_else(|| a.run.join("reflect"));
    let ds = govern(&cfg, &proposals, &a.data, &rule, &mut ledger, &out)?;
    for (p, d) in proposals.iter().zip(&ds) {
        let why = if d.reasons.is_empty() {
            String::new()
        } else {
            format!(" — {}", d.reasons.join("; "))
        };
        println!(
            "  {}  {:<16} uplift {:>10.2}  risk hits {}{why}",
            p.id, d.status, d.uplift, d.risk_hits
        );
    }
    Ok(())
}
