//! `foxtrot policy`: the ledger of policies a desk may trade — add a
//! candidate, promote it on the evidence of recorded runs, roll back, write the
//! current or any entry's configuration (see `foxtrot_tools::policy`).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use foxtrot_tools::policy::{Entry, EntryKind, Ledger};
use std::path::PathBuf;

/// Arguments of `foxtrot policy`.
#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// The ledger directory.
    #[arg(long, value_name = "DIR", global = true, default_value = "ledger")]
    ledger: PathBuf,
    #[command(subcommand)]
    cmd: PolicyCmd,
}

#[derive(Subcommand, Debug)]
enum PolicyCmd {
    /// Add a configuration as a candidate; prints its ledger entry (number,
    /// kind, config hash — what `promote` and `rebuild` take — and policy hash).
    Add {
        /// The configuration file.
        config: PathBuf,
        /// Who adds it.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Promote a candidate after its gates pass on each evidence run.
    Promote {
        /// Its config hash (or a unique prefix).
        hash: String,
        /// A recorded run decided by this policy (repeatable).
        #[arg(long, value_name = "RUN_DIR", required = true)]
        evidence: Vec<PathBuf>,
        /// Who signs it off.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Undo the current promotion: the previous promoted policy is current again.
    Rollback {
        /// Who.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Write the current policy's configuration (to stdout, or --out).
    Current {
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Write the byte-identical configuration of a ledger entry.
    Rebuild {
        /// Its config hash (or a unique prefix).
        hash: String,
        /// The file to write (default stdout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Sign off a reflection proposal that governance accepted but left pending
    /// (auto_feedback off) or staged: it is promoted after its gates pass again.
    Sign {
        /// The proposal's id (or a unique prefix).
        id: String,
        /// Who signs it off.
        #[arg(long)]
        by: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Key figures: time to candidate, promotion rate, budget usage, rollback
    /// latency, proposals by verdict.
    Kpi {
        /// As one JSON object.
        #[arg(long)]
        json: bool,
        /// Also write them in the Prometheus text format to this file (for a
        /// node exporter's textfile collector).
        #[arg(long, value_name = "FILE")]
        prom: Option<PathBuf>,
    },
    /// Every entry, oldest first.
    List {
        /// One JSON object per line (without the configurations' text).
        #[arg(long)]
        json: bool,
    },
}

fn write(text: &str, out: Option<&PathBuf>) -> Result<()> {
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn line(e: &Entry) -> String {
    let kind = match e.kind {
        EntryKind::Candidate => "candidate",
        EntryKind::Promotion => "promotion",
        EntryKind::Rollback => "rollback",
        EntryKind::Evaluation => "evaluation",
        EntryKind::Refusal => "refusal",
        EntryKind::Proposal => "proposal",
        EntryKind::SignOff => "sign-off",
        EntryKind::Kpi => "kpi",
    };
    let gates = if e.gates.is_empty() {
        String::new()
    } else {
        format!(
            "  gates: {}",
            e.gates
                .iter()
                .map(|g| format!("{} ({} inputs, {} violations)", g.run, g.inputs, g.violations))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "{:>4}  {:<9}  {}  policy {}  by {}  {}{gates}",
        e.n, kind, e.config_hash, e.policy_hash, e.by, e.note
    )
}

/// Runs `foxtrot policy`.
pub fn run(a: PolicyArgs) -> Result<()> {
    let mut ledger = Ledger::open(&a.ledger).with_context(|| format!("opening the ledger {}", a.ledger.display()))?;
    let reads_only = matches!(
        a.cmd,
        PolicyCmd::List { .. } | PolicyCmd::Kpi { .. } | PolicyCmd::Current { .. } | PolicyCmd::Rebuild { .. }
    );
    if reads_only && !a.ledger.exists() {
        // A mistyped --ledger would otherwise read as an empty ledger.
        anyhow::bail!(
            "{}: no such directory, so no ledger (`foxtrot policy add` starts one; --ledger names another)",
            a.ledger.display()
        );
    }
    match a.cmd {
        PolicyCmd::Add { config, by, note } => {
            let cfg = foxtrot_engine::Config::load(&config)?;
            let e = ledger.add(&cfg, &by, &note)?;
            println!("{}", line(&e));
        }
        PolicyCmd::Promote {
            hash,
            evidence,
            by,
            note,
        } => {
            let e = ledger.promote(&hash, &evidence, &by, &note)?;
            println!("{}", line(&e));
        }
        PolicyCmd::Rollback { by, reason } => {
            let e = ledger.rollback(&by, &reason)?;
            println!("{}", line(&e));
        }
        PolicyCmd::Current { out } => {
            let e = ledger
                .current()
                .with_context(|| format!("{}: no promoted policy", a.ledger.display()))?;
            let text = ledger.rebuild(&e.config_hash)?;
            write(&text, out.as_ref())?;
            if out.is_some() {
                println!("current policy: config hash {} (entry {})", e.config_hash, e.n);
            }
        }
        PolicyCmd::Sign { id, by, note } => {
            println!("{}", foxtrot_tools::reflect::sign(&mut ledger, &id, &by, &note)?);
        }
        PolicyCmd::Kpi { json, prom } => {
            let k = foxtrot_tools::kpi::kpis(&ledger);
            if let Some(p) = &prom {
                std::fs::write(p, foxtrot_tools::kpi::render(&k))
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            if json {
                println!("{}", serde_json::to_string(&k)?);
            } else {
                print!("{}", foxtrot_tools::kpi::table(&k));
            }
        }
        PolicyCmd::Rebuild { hash, out } => write(&ledger.rebuild(&hash)?, out.as_ref())?,
        PolicyCmd::List { json } => {
            for e in ledger.entries() {
                if json {
                    let mut v = serde_json::to_value(e)?;
                    if let Some(o) = v.as_object_mut() {
                        o.remove("config");
                    }
                    println!("{v}");
                } else {
                    println!("{}", line(e));
                }
            }
        }
    }
    Ok(())
}
