//! Governed reflection: proposals read from a recorded run's decision diary
//! and drift theory packets, judged by a governance rule on held-out data,
//! recorded in the policy ledger whatever the verdict.
//!
//! **Proposal** ([`Proposal`]): a change to the run's strategy genotype (one
//! operator of `evolve::operators`, with the `--set`s it amounts to), a
//! confidence in [0, 1], a rationale, the regimes it affects and its evidence
//! — the diary stretch it rests on (record numbers, 1-based, and the diary's
//! digest), the drift theory packets (their numbers), the code hash, and the
//! run's config and policy hashes. Its id is the hash of all that.
//!
//! **Proposer** ([`propose`]): replays the run (deterministically, from its
//! input journal) and watches every diary record and theory packet:
//!
//! - a (regime, policy, topology) whose orders lost on their markouts (at
//!   least [`MIN_ORDERS`] orders with a markout, total negative) gives two
//!   proposals: work that regime's policy with the other topology, and trade
//!   nothing in that regime. Confidence: the share of its orders whose
//!   markout was negative.
//! - drift alarms give a proposal to tighten the risk template, its regimes
//!   those the alarming instruments were in. Confidence: alarms/10, at most 1.
//!
//! **Governance** ([`govern`]): each proposal's configuration and the run's
//! own are replayed on the regime grid's held-out slices. A proposal is
//! *accepted* when its held-out fitness uplift is at least the threshold and
//! above 0, its replays have 0 risk hits and 0 invariant violations, the
//! remaining budget (events) covers its replays, and the run was decided by
//! the ledger's current policy (or the ledger has none); otherwise
//! *rejected*, with every reason. One change goes forward at a time: of the
//! accepted proposals the one of highest uplift does, the others are
//! *superseded*. It is **applied** (promoted in the ledger by the rule) only
//! when the run's configuration has `flags.auto_feedback: true` and the
//! session is not staged; otherwise it waits, *pending sign-off* or *staged*,
//! until a person signs it off (`foxtrot policy sign ID`). Every proposal,
//! whatever its verdict, is a ledger entry carrying its evidence.

use crate::evolve::data::{Grid, Part};
use crate::evolve::genotype::{policy_word, topology_word, Choice, StrategyGenotype, MAX_RISK_LEVEL, REGIMES};
use crate::evolve::operators::{allowed, repair};
use crate::evolve::score::{score, Score};
use crate::evolve::select::fitness;
use crate::policy::{code_hash, Check, DiarySlice, EntryKind, Evidence, Extra, Ledger};
use crate::Error;
use foxtrot_engine::config::{PolicyName, TopologyName};
use foxtrot_engine::core::router::policy::policy_name;
use foxtrot_engine::core::Core;
use foxtrot_engine::journal::fields::topology_name;
use foxtrot_engine::journal::JournalInputs;
use foxtrot_engine::records::{DiaryRecord, InputSlot, TheoryPacket, Verdict};
use foxtrot_engine::runtime::replay::check_journals;
use foxtrot_engine::runtime::{FusedRun, RunObserver, Sequenced};
use foxtrot_engine::Config;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bad(m: impl Into<String>) -> Error {
    Error::Evolve(m.into())
}

/// Fewest marked-out orders a group needs before it can be judged.
pub const MIN_ORDERS: u64 = 10;

/// The change a proposal makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The operator (`swap_topology`, `swap_policy`, `tighten_risk`).
    pub operator: String,
    /// In words: `volatile: mean_reversion passive → mean_reversion aggressive`.
    pub what: String,
    /// The configuration keys it sets.
    pub sets: Vec<String>,
    /// Genotype before (hash).
    pub from: String,
    /// Genotype after (hash).
    pub to: String,
    /// Genotype after (canonical text).
    pub genotype: String,
}

/// Where a proposal comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalEvidence {
    /// The diary stretch it rests on.
    pub diary: DiarySlice,
    /// The drift theory packets it rests on (1-based, in packet order).
    pub theory_packets: Vec<u64>,
    /// Hash of the executable that proposed it.
    pub code_hash: String,
    /// The run's config hash.
    pub config_hash: String,
    /// The run's policy hash.
    pub policy_hash: String,
}

/// A reflection proposal (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Hash of everything below (16 hex digits).
    pub id: String,
    /// The change.
    pub change: Change,
    /// In [0, 1].
    pub confidence: f64,
    /// Why, in a sentence.
    pub rationale: String,
    /// The regimes it affects.
    pub affected_regimes: Vec<String>,
    /// Its evidence.
    pub evidence: ProposalEvidence,
}

/// What a diary stretch says about one (regime, policy, topology).
#[derive(Clone, Debug, Default)]
struct Group {
    orders: u64,
    marked: u64,
    negative: u64,
    markout: f64,
    first: u64,
    last: u64,
}

/// The replay watcher: numbers diary records and theory packets, groups
/// order decisions by (regime, policy, topology), and remembers each
/// instrument's regime.
#[derive(Default)]
struct Watch {
    units: Vec<f64>,
    diary: u64,
    packets: Vec<(u64, u32)>,
    regime: BTreeMap<u32, u8>,
    groups: BTreeMap<(u8, u16, u8), Group>,
    alarm_regimes: Vec<u8>,
}

impl RunObserver for Watch {
    fn on_diary(&mut self, d: &DiaryRecord) {
        self.diary += 1;
        match Verdict::from_u8(d.header.sub) {
            Some(Verdict::Transition) => {
                self.regime.insert(d.header.instrument, d.regime);
            }
            Some(Verdict::Order) => {
                let g = self.groups.entry((d.regime, d.policy_id, d.topology)).or_default();
                g.orders += 1;
                if g.first == 0 {
                    g.first = self.diary;
                }
                g.last = self.diary;
                if d.markout_events > 0 {
                    let unit = self.units.get(d.header.instrument as usize).copied().unwrap_or(1.0);
                    let m = d.markout as f64 * unit;
                    g.marked += 1;
                    g.markout += m;
                    g.negative += u64::from(m < 0.0);
                }
            }
            _ => {}
        }
    }
    fn on_theory(&mut self, p: &TheoryPacket) {
        self.packets.push((self.packets.len() as u64 + 1, p.header.instrument));
        let r = self.regime.get(&p.header.instrument).copied().unwrap_or(0);
        if !self.alarm_regimes.contains(&r) {
            self.alarm_regimes.push(r);
        }
    }
    fn after_input(&mut self, _slot: &InputSlot, _core: &Core) {}
}

fn policy_of_id(id: u16) -> Option<PolicyName> {
    let name = policy_name(id);
    crate::evolve::genotype::POLICIES
        .into_iter()
        .find(|p| policy_word(*p) == name)
}

fn topology_of_code(t: u8) -> Option<TopologyName> {
    let name = topology_name(t);
    crate::evolve::genotype::TOPOLOGIES
        .into_iter()
        .find(|x| topology_word(*x) == name)
}

fn regime_word(r: u8) -> &'static str {
    REGIMES.get(r as usize).copied().unwrap_or("unclassified")
}

/// What a replay of a recorded run found: the run's configuration and the
/// proposals, in a fixed order (losing groups in (regime, policy, topology)
/// order, then drift).
pub fn propose(run: &Path) -> Result<(Config, Vec<Proposal>), Error> {
    check_journals(run)?;
    let (cfg, inputs) = JournalInputs::open_with_config(run)?;
    let units = cfg
        .instruments
        .iter()
        .map(|s| 10f64.powi(-(s.price_decimals as i32)))
        .collect();
    let mut replay = FusedRun::with_observer(
        &cfg,
        Sequenced(inputs),
        Watch {
            units,
            ..Watch::default()
        },
    );
    while replay.step() {}
    if let Some(e) = replay.venue_mut().0.take_error() {
        return Err(e.into());
    }
    replay.finish();
    let summary = replay.summary();
    let w = replay.observer_mut();
    let base = StrategyGenotype::of(&cfg)?;
    let code = code_hash();
    let mut out = Vec::new();
    let evidence = |first: u64, last: u64, packets: Vec<u64>| ProposalEvidence {
        diary: DiarySlice {
            run: run.display().to_string(),
            first,
            last,
            diary_hash: summary.diary_hash.0.clone(),
        },
        theory_packets: packets,
        code_hash: code.clone(),
        config_hash: cfg.config_hash(),
        policy_hash: format!("{:016x}", cfg.policy_hash()),
    };
    for (&(r, p, t), g) in &w.groups {
        if g.marked < MIN_ORDERS || g.markout >= 0.0 || (r as usize) >= REGIMES.len() {
            continue;
        }
        let (Some(policy), Some(topology)) = (policy_of_id(p), topology_of_code(t)) else {
            continue;
        };
        let cur = Choice { policy, topology };
        let other = match topology {
            TopologyName::Passive => TopologyName::Aggressive,
            _ => TopologyName::Passive,
        };
        let regime = regime_word(r);
        let conf = g.negative as f64 / g.marked as f64;
        let why = format!(
            "{} orders of {} {} in the {regime} regime lost {:.2} on their markouts ({} of {} negative)",
            g.orders,
            policy_word(policy),
            topology_word(topology),
            -g.markout,
            g.negative,
            g.marked
        );
        for (op, next) in [
            ("swap_topology", Choice { topology: other, ..cur }),
            (
                "swap_policy",
                Choice {
                    policy: PolicyName::None,
                    topology: TopologyName::Passive,
                },
            ),
        ] {
            if !allowed(r as usize, next) || base.table[r as usize] == next {
                continue;
            }
            let mut g2 = base.clone();
            g2.table[r as usize] = next;
            repair(&mut g2, &cfg);
            out.push(make(
                &base,
                g2,
                &cfg,
                op,
                format!(
                    "{regime}: {} {} → {} {}",
                    policy_word(base.table[r as usize].policy),
                    topology_word(base.table[r as usize].topology),
                    policy_word(next.policy),
                    topology_word(next.topology)
                ),
                conf,
                why.clone(),
                vec![regime.to_string()],
                evidence(g.first, g.last, Vec::new()),
            )?);
        }
    }
    if !w.packets.is_empty() && base.risk < MAX_RISK_LEVEL {
        let mut g2 = base.clone();
        g2.risk += 1;
        repair(&mut g2, &cfg);
        let regimes: Vec<String> = w.alarm_regimes.iter().map(|r| regime_word(*r).to_string()).collect();
        out.push(make(
            &base,
            g2,
            &cfg,
            "tighten_risk",
            format!("risk template level {} → {}", base.risk, base.risk + 1),
            (w.packets.len() as f64 / 10.0).min(1.0),
            format!(
                "the drift sentry raised {} alarms: the belief's predictions no longer match the market",
                w.packets.len()
            ),
            regimes,
            evidence(1.min(w.diary), w.diary, w.packets.iter().map(|p| p.0).collect()),
        )?);
    }
    Ok((cfg, out))
}

#[allow(clippy::too_many_arguments)]
fn make(
    from: &StrategyGenotype,
    to: StrategyGenotype,
    cfg: &Config,
    op: &str,
    what: String,
    confidence: f64,
    rationale: String,
    regimes: Vec<String>,
    evidence: ProposalEvidence,
) -> Result<Proposal, Error> {
    let before = from.sets(cfg);
    let sets: Vec<String> = to.sets(cfg).into_iter().filter(|s| !before.contains(s)).collect();
    let mut p = Proposal {
        id: String::new(),
        change: Change {
            operator: op.into(),
            what,
            sets,
            from: from.hash(),
            to: to.hash(),
            genotype: to.text(),
        },
        confidence,
        rationale,
        affected_regimes: regimes,
        evidence,
    };
    let text = serde_json::to_string(&p).map_err(|e| bad(e.to_string()))?;
    p.id = format!("{:016x}", foxtrot_engine::config::canonical::hash(&text));
    Ok(p)
}

/// What governance decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `applied`, `pending_sign_off`, `staged` or `rejected`.
    pub status: String,
    /// Held-out fitness of the proposal's configuration minus the run's.
    pub uplift: f64,
    /// Risk hits plus invariant violations in the proposal's held-out replays.
    pub risk_hits: u64,
    /// Events its replays cost.
    pub cost: u64,
    /// Every reason it was rejected (empty when accepted).
    pub reasons: Vec<String>,
    /// The proposal's configuration hash.
    pub config_hash: String,
    /// Its recorded held-out replays (the evidence a promotion replays).
    pub evidence_runs: Vec<String>,
}

/// The rule's parameters.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Uplift needed (fitness units).
    pub min_uplift: f64,
    /// Events the session may spend.
    pub budget: u64,
    /// Accepted proposals wait for a sign-off even with `auto_feedback`.
    pub staged: bool,
}

/// Judges `proposals` of a run configured as `cfg` on the grid `data`,
/// recording every verdict in `ledger` (see the module docs); the held-out
/// replays of each proposal are recorded under `out/ID/`.
pub fn govern(
    cfg: &Config,
    proposals: &[Proposal],
    data: &Path,
    rule: &Rule,
    ledger: &mut Ledger,
    out: &Path,
) -> Result<Vec<Decision>, Error> {
    let grid = Grid::open(data)?;
    crate::evolve::data::check_instruments(data, &grid, cfg)?;
    let oos: Vec<_> = grid.part(Part::Oos).collect();
    let per_config: u64 = oos.iter().map(|s| s.events).sum();
    let own: Vec<Score> = oos
        .iter()
        .map(|s| score(cfg, data, s, None))
        .collect::<Result<_, _>>()?;
    let own_fit = fitness(&own.iter().collect::<Vec<_>>());
    let mut left = rule.budget.saturating_sub(per_config);
    let stale = ledger
        .current()
        .filter(|c| c.config_hash != cfg.config_hash())
        .map(|c| {
            format!(
                "the run's configuration {} is not the current policy {}",
                cfg.config_hash(),
                c.config_hash
            )
        });
    let mut judged = Vec::new();
    for p in proposals {
        let g = StrategyGenotype::parse(&p.change.genotype)?;
        let new = g.compile(cfg)?;
        let mut reasons = Vec::new();
        let (mut uplift, mut hits, mut runs) = (0.0, 0, Vec::new());
        if per_config > left {
            reasons.push(format!("no budget: its replays cost {per_config} events, {left} left"));
        } else {
            left -= per_config;
            let mut scores = Vec::new();
            for s in &oos {
                let dir = out.join(&p.id).join(s.id.replace('/', "-"));
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).map_err(|e| bad(format!("{}: {e}", dir.display())))?;
                }
                scores.push(score(&new, data, s, Some(&dir))?);
                runs.push(dir.display().to_string());
            }
            uplift = fitness(&scores.iter().collect::<Vec<_>>()) - own_fit;
            hits = scores.iter().map(|s| s.risk_hits + s.violations).sum();
            if uplift < rule.min_uplift || uplift <= 0.0 {
                reasons.push(format!(
                    "held-out uplift {uplift:.2}: needs at least {} and above 0",
                    rule.min_uplift
                ));
            }
            if hits > 0 {
                reasons.push(format!("{hits} risk hits in its held-out replays"));
            }
        }
        if let Some(s) = &stale {
            reasons.push(s.clone());
        }
        judged.push((
            new.config_hash(),
            Decision {
                status: String::new(),
                uplift,
                risk_hits: hits,
                cost: per_config,
                reasons,
                config_hash: new.config_hash(),
                evidence_runs: runs,
            },
        ));
    }
    // One change at a time: the accepted proposal of highest uplift (the
    // earliest on a tie) goes forward; other accepted ones are superseded.
    let mut best: Option<usize> = None;
    for (i, (_, d)) in judged.iter().enumerate() {
        if d.reasons.is_empty() && best.is_none_or(|b| d.uplift > judged[b].1.uplift) {
            best = Some(i);
        }
    }
    let mut decisions = Vec::new();
    for (i, (p, (_, mut d))) in proposals.iter().zip(judged).enumerate() {
        let status = if !d.reasons.is_empty() {
            "rejected"
        } else if Some(i) != best {
            "superseded"
        } else if rule.staged {
            "staged"
        } else if cfg.flags.auto_feedback {
            "applied"
        } else {
            "pending_sign_off"
        };
        d.status = status.into();
        let new = StrategyGenotype::parse(&p.change.genotype)?.compile(cfg)?;
        let evidence = Evidence {
            datasets: oos
                .iter()
                .map(|s| crate::policy::DatasetRef {
                    id: s.id.clone(),
                    hash: s.hash.clone(),
                })
                .collect(),
            code_version: env!("CARGO_PKG_VERSION").into(),
            code_hash: p.evidence.code_hash.clone(),
            config_hash: p.evidence.config_hash.clone(),
            diary: vec![p.evidence.diary.clone()],
        };
        ledger.record(
            EntryKind::Proposal,
            cfg,
            "reflection",
            &format!("{} {}: {}", p.id, status, p.change.what),
            Extra {
                genotype: Some(p.change.genotype.clone()),
                evidence: Some(evidence.clone()),
                detail: Some(json!({"proposal": p, "decision": d})),
                ..Extra::default()
            },
        )?;
        if matches!(status, "applied" | "staged" | "pending_sign_off") {
            ledger.add_with(
                &new,
                "reflection",
                &format!("proposal {}", p.id),
                Extra {
                    genotype: Some(p.change.genotype.clone()),
                    evidence: Some(evidence.clone()),
                    ..Extra::default()
                },
            )?;
        }
        if status == "applied" {
            promote(ledger, &d, p, "governance (auto_feedback)", evidence)?;
        }
        decisions.push(d);
    }
    Ok(decisions)
}

/// The checks a promotion of an accepted proposal carries.
fn checks(d: &Decision) -> Vec<Check> {
    vec![
        Check {
            name: "oos_uplift".into(),
            passed: d.reasons.is_empty(),
            detail: format!("held-out uplift {:.2}", d.uplift),
        },
        Check {
            name: "risk_hits".into(),
            passed: d.risk_hits == 0,
            detail: format!("{} risk hits in its held-out replays", d.risk_hits),
        },
    ]
}

fn promote(ledger: &mut Ledger, d: &Decision, p: &Proposal, by: &str, evidence: Evidence) -> Result<(), Error> {
    let runs: Vec<PathBuf> = d.evidence_runs.iter().map(PathBuf::from).collect();
    ledger.promote_with(
        &d.config_hash,
        &runs,
        by,
        &format!("proposal {}: {}", p.id, p.change.what),
        Extra {
            genotype: Some(p.change.genotype.clone()),
            checks: checks(d),
            evidence: Some(evidence),
            detail: Some(json!({"proposal": p.id})),
        },
    )?;
    Ok(())
}

/// A person signs off the proposal `id` (a pending or staged one): its
/// promotion is re-gated on its recorded replays and then recorded with a
/// sign-off entry naming them.
pub fn sign(ledger: &mut Ledger, id: &str, by: &str, note: &str) -> Result<String, Error> {
    let entry = ledger
        .entries()
        .iter()
        .rev()
        .find(|e| {
            e.kind == EntryKind::Proposal
                && e.detail
                    .as_ref()
                    .and_then(|d| d["proposal"]["id"].as_str())
                    .is_some_and(|x| x.starts_with(id))
        })
        .cloned()
        .ok_or_else(|| bad(format!("no proposal {id} in the ledger")))?;
    let detail = entry.detail.clone().unwrap_or_default();
    let p: Proposal = serde_json::from_value(detail["proposal"].clone()).map_err(|e| bad(e.to_string()))?;
    let d: Decision = serde_json::from_value(detail["decision"].clone()).map_err(|e| bad(e.to_string()))?;
    let signed = ledger.entries().iter().any(|e| {
        e.kind == EntryKind::SignOff && e.detail.as_ref().and_then(|x| x["proposal"].as_str()) == Some(p.id.as_str())
    });
    if signed {
        return Err(bad(format!("proposal {} is already signed off", p.id)));
    }
    match d.status.as_str() {
        "pending_sign_off" | "staged" => {}
        "applied" => return Err(bad(format!("proposal {} was applied by the governance rule", p.id))),
        "superseded" => {
            return Err(bad(format!(
                "proposal {} was superseded by a proposal of higher uplift from the same run",
                p.id
            )))
        }
        _ => {
            return Err(bad(format!(
                "proposal {} was rejected by governance: {}",
                p.id,
                d.reasons.join("; ")
            )))
        }
    }
    let cfg = Config::from_yaml(&ledger.rebuild(&d.config_hash)?, Path::new("<ledger>"))?;
    promote(ledger, &d, &p, by, entry.evidence.clone().unwrap_or_default())?;
    ledger.record(
        EntryKind::SignOff,
        &cfg,
        by,
        note,
        Extra {
            detail: Some(json!({"proposal": p.id, "config_hash": d.config_hash})),
            ..Extra::default()
        },
    )?;
    Ok(format!(
        "proposal {} signed off by {by}: {} promoted",
        p.id, d.config_hash
    ))
}
