//! The policy ledger: an append-only journal of the policies a desk may trade
//! — candidates, promotions (with the evidence and the gates they passed),
//! rollbacks — each entry naming who and why. Any entry's runtime
//! configuration can be rebuilt byte for byte from its hash.
//!
//! Storage: a `foxtrot_shm` journal in `LEDGER/journal` (the same segments,
//! CRCs and torn-tail recovery as a run's journals), one record per entry,
//! kind [`ENTRY_KIND`], its payload the entry as one JSON object. Entries are
//! numbered from 1 (the record's seq); nothing is ever rewritten.
//!
//! - A **candidate** carries the configuration's canonical text (what a run
//!   journals first; it loads back as YAML) and its config hash.
//! - A **promotion** names a candidate by config hash and records the gates:
//!   each evidence run (a recorded run) must have been decided by the same
//!   policy (policy hash: strategy, router and flags), must replay to its
//!   recorded orders and diary (the engine's replay verifier, as `foxtrot replay
//!   --verify`), and the same replay must show 0 invariant violations
//!   to the independent checker ([`crate::check::Checker`]). A failed gate
//!   refuses the promotion (nothing is appended).
//! - A **rollback** makes the promotion before the current one current again.
//!
//! The *current* policy is the last promotion not undone by a rollback.

use crate::check::Checker;
use crate::Error;
use foxtrot_engine::journal::JournalInputs;
use foxtrot_engine::runtime::replay::{check_journals, Verifier};
use foxtrot_engine::runtime::{FusedRun, Sequenced};
use foxtrot_engine::Config;
use foxtrot_shm::journal::writer_lock::WriterLock;
use foxtrot_shm::{JournalConfig, JournalReader, JournalWriter};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The record kind of a ledger entry.
pub const ENTRY_KIND: u16 = 1;

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A configuration proposed for trading.
    Candidate,
    /// A candidate made the current policy.
    Promotion,
    /// The current promotion undone: the one before it is current again.
    Rollback,
    /// A generation of an evolution scored: its candidates' fitness (detail).
    Evaluation,
    /// A promotion refused by its gates (checks).
    Refusal,
    /// A reflection proposal and what governance made of it (detail).
    Proposal,
    /// A person signed a proposal off (detail names it).
    SignOff,
    /// Key figures of an evolution (detail).
    Kpi,
}

/// One named check of a promotion: an out-of-sample grid, a leakage check, a
/// risk audit, a replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Its name (`oos_regime_grid`, `leakage`, `risk_audit`, `replay`, …).
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What it found, in a sentence.
    pub detail: String,
}

/// A dataset an entry's figures came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// Its id (`regime/instrument/part` for a regime grid slice).
    pub id: String,
    /// Its dataset hash.
    pub hash: String,
}

/// A stretch of a recorded run's decision diary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiarySlice {
    /// The run directory.
    pub run: String,
    /// First diary record (1-based, in diary order).
    pub first: u64,
    /// Last diary record.
    pub last: u64,
    /// Digest of the run's whole diary stream.
    pub diary_hash: String,
}

/// What an entry rests on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The datasets scored.
    pub datasets: Vec<DatasetRef>,
    /// The foxtrot version.
    pub code_version: String,
    /// Hash of the executable that computed it ([`code_hash`]).
    pub code_hash: String,
    /// The configuration's hash.
    pub config_hash: String,
    /// Diary stretches.
    pub diary: Vec<DiarySlice>,
}

/// Hash of the running executable's bytes (16 hex digits): which build
/// computed a figure. `unknown` if the file cannot be read.
pub fn code_hash() -> String {
    std::env::current_exe()
        .and_then(std::fs::read)
        .map(|b| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&b)))
        .unwrap_or_else(|_| "unknown".into())
}

/// One gate of a promotion, on one evidence run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// The evidence run directory.
    pub run: String,
    /// Its journalled configuration's hash.
    pub config_hash: String,
    /// Its inputs' record count.
    pub inputs: u64,
    /// Same policy hash as the candidate.
    pub same_policy: bool,
    /// Replays to its recorded orders and diary.
    pub replays: bool,
    /// Invariant violations the independent checker found in the replay.
    pub violations: u64,
}

impl Gate {
    /// Whether every check of the gate passed.
    pub fn passed(&self) -> bool {
        self.same_policy && self.replays && self.violations == 0
    }
}

/// One ledger entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Entry number (1, 2, …).
    pub n: u64,
    /// What it records.
    pub kind: EntryKind,
    /// The configuration it concerns (for a rollback: the one made current).
    pub config_hash: String,
    /// Its policy hash (16 hex digits).
    pub policy_hash: String,
    /// Who.
    pub by: String,
    /// Why (free text).
    pub note: String,
    /// Wall-clock time of the entry (unix ns): the ledger is bookkeeping, not a
    /// decision of the core.
    pub unix_ns: u64,
    /// The foxtrot version that wrote it.
    pub code_version: String,
    /// A candidate's canonical configuration text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// A promotion's gates, one per evidence run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<Gate>,
    /// A candidate's genotype (canonical text), when evolution made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genotype: Option<String>,
    /// A promotion's or refusal's named checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// What the entry rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Kind-specific detail: fitness tables, a proposal, KPIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// What an entry adds beyond its kind and configuration.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// See [`Entry::genotype`].
    pub genotype: Option<String>,
    /// See [`Entry::checks`].
    pub checks: Vec<Check>,
    /// See [`Entry::evidence`].
    pub evidence: Option<Evidence>,
    /// See [`Entry::detail`].
    pub detail: Option<serde_json::Value>,
}

fn bad(m: impl Into<String>) -> Error {
    Error::Policy(m.into())
}

/// A ledger directory, read whole.
pub struct Ledger {
    dir: PathBuf,
    entries: Vec<Entry>,
}

impl Ledger {
    /// Opens (creating if absent) the ledger in `dir` and reads its entries.
    pub fn open(dir: &Path) -> Result<Ledger, Error> {
        Ok(Ledger {
            dir: dir.to_path_buf(),
            entries: read_entries(&dir.join("journal"))?,
        })
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The candidate with `hash` (a config hash, or a unique prefix of one).
    pub fn candidate(&self, hash: &str) -> Result<&Entry, Error> {
        let found: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Candidate && e.config_hash.starts_with(hash))
            .collect();
        match found.as_slice() {
            [e] => Ok(e),
            [] => Err(bad(format!("no candidate with config hash {hash} in the ledger"))),
            _ => Err(bad(format!(
                "{hash} names {} candidates: give more digits",
                found.len()
            ))),
        }
    }

    /// The promotions in force, oldest first: each promotion pushes, each
    /// rollback pops.
    pub fn promoted(&self) -> Vec<&Entry> {
        let mut stack = Vec::new();
        for e in &self.entries {
            match e.kind {
                EntryKind::Promotion => stack.push(e),
                EntryKind::Rollback => {
                    stack.pop();
                }
                _ => {}
            }
        }
        stack
    }

    /// The current policy's candidate entry, if any promotion is in force.
    pub fn current(&self) -> Option<&Entry> {
        let p = self.promoted().pop()?;
        self.candidate(&p.config_hash).ok()
    }

    /// Rebuilds the runtime configuration of the candidate with `hash`: its
    /// canonical text, checked to load and to hash to `hash` again.
    pub fn rebuild(&self, hash: &str) -> Result<String, Error> {
        let e = self.candidate(hash)?;
        let text = e
            .config
            .clone()
            .ok_or_else(|| bad("candidate entry without its configuration"))?;
        let cfg = Config::from_yaml(&text, Path::new("<ledger>"))?;
        if cfg.config_hash() != e.config_hash || cfg.canonical_text() != text {
            return Err(bad(format!(
                "entry {}: its configuration no longer hashes to {} (a different build?)",
                e.n, e.config_hash
            )));
        }
        Ok(text)
    }

    /// Appends a candidate: `cfg` as its canonical text. An identical candidate
    /// already in the ledger is not added again; its entry is returned.
    pub fn add(&mut self, cfg: &Config, by: &str, note: &str) -> Result<Entry, Error> {
        self.add_with(cfg, by, note, Extra::default())
    }

    /// [`Ledger::add`] with a genotype, evidence or scores.
    pub fn add_with(&mut self, cfg: &Config, by: &str, note: &str, extra: Extra) -> Result<Entry, Error> {
        let hash = cfg.config_hash();
        if let Ok(e) = self.candidate(&hash) {
            if e.config_hash == hash {
                return Ok(e.clone());
            }
        }
        self.append(
            EntryKind::Candidate,
            cfg,
            by,
            note,
            Some(cfg.canonical_text()),
            Vec::new(),
            extra,
        )
    }

    /// Appends an entry of `kind` about `cfg` (evaluations, refusals,
    /// proposals, sign-offs, KPIs).
    pub fn record(
        &mut self,
        kind: EntryKind,
        cfg: &Config,
        by: &str,
        note: &str,
        extra: Extra,
    ) -> Result<Entry, Error> {
        self.append(kind, cfg, by, note, None, Vec::new(), extra)
    }

    /// Promotes the candidate `hash` on the evidence of `runs`, after their
    /// gates pass (see the module docs); a failed gate appends nothing.
    pub fn promote(&mut self, hash: &str, runs: &[PathBuf], by: &str, note: &str) -> Result<Entry, Error> {
        self.promote_with(hash, runs, by, note, Extra::default())
    }

    /// [`Ledger::promote`] with further named checks and evidence: every
    /// check must have passed as well as every evidence run's gate; otherwise
    /// a refusal carrying the checks is appended and the error names the
    /// first failure.
    pub fn promote_with(
        &mut self,
        hash: &str,
        runs: &[PathBuf],
        by: &str,
        note: &str,
        extra: Extra,
    ) -> Result<Entry, Error> {
        let cand = self.candidate(hash)?.clone();
        if runs.is_empty() {
            return Err(bad("a promotion needs at least one evidence run (--evidence RUN_DIR)"));
        }
        let cfg = Config::from_yaml(cand.config.as_deref().unwrap_or_default(), Path::new("<ledger>"))?;
        let gates: Vec<Gate> = runs.iter().map(|r| gate(&cfg, r)).collect::<Result<_, _>>()?;
        let refused = if let Some(g) = gates.iter().find(|g| !g.passed()) {
            Some(format!(
                "evidence {} — same policy {}, replays {}, violations {}",
                g.run, g.same_policy, g.replays, g.violations
            ))
        } else {
            extra
                .checks
                .iter()
                .find(|c| !c.passed)
                .map(|c| format!("check {}: {}", c.name, c.detail))
        };
        if let Some(why) = refused {
            if !extra.checks.is_empty() {
                self.append(EntryKind::Refusal, &cfg, by, &why, None, gates, extra)?;
            }
            return Err(bad(format!("promotion of {} refused: {why}", cand.config_hash)));
        }
        self.append(EntryKind::Promotion, &cfg, by, note, None, gates, extra)
    }

    /// Undoes the current promotion: the previous one is current again.
    pub fn rollback(&mut self, by: &str, note: &str) -> Result<Entry, Error> {
        let promoted = self.promoted();
        let [.., previous, _current] = promoted.as_slice() else {
            return Err(bad("nothing to roll back to: fewer than two promotions in force"));
        };
        let cfg = Config::from_yaml(
            self.candidate(&previous.config_hash)?
                .config
                .as_deref()
                .unwrap_or_default(),
            Path::new("<ledger>"),
        )?;
        self.append(EntryKind::Rollback, &cfg, by, note, None, Vec::new(), Extra::default())
    }

    #[allow(clippy::too_many_arguments)]
    fn append(
        &mut self,
        kind: EntryKind,
        cfg: &Config,
        by: &str,
        note: &str,
        config: Option<String>,
        gates: Vec<Gate>,
        extra: Extra,
    ) -> Result<Entry, Error> {
        // One writer at a time (another ledger command's append is short: it
        // is waited for), and what others appended since this ledger was read
        // is read first: numbered after it, and a promotion or rollback is not
        // decided on a state that has changed under it.
        let journal = self.dir.join("journal");
        std::fs::create_dir_all(&journal).map_err(|e| bad(format!("{}: {e}", journal.display())))?;
        let lock = lock_waiting(&journal)?;
        let fresh = read_entries(&journal)?;
        if fresh.len() > self.entries.len() {
            let since = &fresh[self.entries.len()..];
            let moved = since
                .iter()
                .find(|e| matches!(e.kind, EntryKind::Promotion | EntryKind::Rollback));
            if let (Some(m), EntryKind::Promotion | EntryKind::Rollback) = (moved, kind) {
                return Err(bad(format!(
                    "the ledger changed since it was read: entry {} ({:?} of {} by {}) was appended by another \
                     command; nothing appended, run this one again",
                    m.n, m.kind, m.config_hash, m.by
                )));
            }
            self.entries = fresh;
        }
        if kind == EntryKind::Candidate {
            // Another command may have added the same configuration meanwhile.
            let hash = cfg.config_hash();
            if let Some(e) = self
                .entries
                .iter()
                .find(|e| e.kind == EntryKind::Candidate && e.config_hash == hash)
            {
                return Ok(e.clone());
            }
        }
        let n = self.entries.len() as u64 + 1;
        let unix_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let e = Entry {
            n,
            kind,
            config_hash: cfg.config_hash(),
            policy_hash: format!("{:016x}", cfg.policy_hash()),
            by: by.to_string(),
            note: note.to_string(),
            unix_ns,
            code_version: env!("CARGO_PKG_VERSION").to_string(),
            config,
            gates,
            genotype: extra.genotype,
            checks: extra.checks,
            evidence: extra.evidence,
            detail: extra.detail,
        };
        let payload = serde_json::to_vec(&e).map_err(|x| bad(x.to_string()))?;
        let jc = JournalConfig {
            segment_size: 4 << 20,
            first_segment_size: 1 << 20,
            prepare_ahead: 0,
            ..JournalConfig::default()
        };
        let mut w = JournalWriter::open_locked(&journal, jc, lock)?;
        w.append(ENTRY_KIND, 0, n, unix_ns, &payload)?;
        w.sync()?;
        self.entries.push(e.clone());
        Ok(e)
    }
}

/// The entries of the ledger journal `journal` (none when it has no segment yet).
fn read_entries(journal: &Path) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    if foxtrot_shm::journal::writer::list_segments(journal).map_or(true, |s| s.is_empty()) {
        return Ok(entries);
    }
    let mut r = JournalReader::open(journal)?;
    while let Some(rec) = r.next()? {
        let e: Entry = serde_json::from_slice(rec.payload).map_err(|e| {
            bad(format!(
                "{}: entry {} is not a ledger entry ({e})",
                journal.display(),
                rec.seq
            ))
        })?;
        entries.push(e);
    }
    Ok(entries)
}

/// The ledger journal's writer lock, waited for up to 10 s (another ledger
/// command holds it for the moment of one append).
fn lock_waiting(journal: &Path) -> Result<WriterLock, Error> {
    let t0 = std::time::Instant::now();
    loop {
        match WriterLock::acquire(journal) {
            Err(foxtrot_shm::ShmError::InUse { .. }) if t0.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return Ok(r?),
        }
    }
}

/// The gate of one evidence run against the candidate `cfg`: one replay,
/// watched by the engine's own [`Verifier`] (every order and diary record
/// against the recorded ones) and by the independent [`Checker`].
fn gate(cfg: &Config, run: &Path) -> Result<Gate, Error> {
    check_journals(run)?;
    let (run_cfg, inputs) = JournalInputs::open_with_config(run)?;
    let same_policy = run_cfg.policy_hash() == cfg.policy_hash();
    let watch = (Verifier::open(run)?, Checker::new(&run_cfg));
    let mut replay = FusedRun::with_observer(&run_cfg, Sequenced(inputs), watch);
    while replay.step() && replay.observer().0.divergence().is_none() {}
    if let Some(e) = replay.venue_mut().0.take_error() {
        return Err(e.into());
    }
    let diverged = replay.observer().0.divergence().is_some();
    if !diverged {
        replay.finish();
    }
    let count = replay.summary().input_hash.1;
    let (verifier, checker) = replay.observer_mut();
    let replays = !diverged && verifier.finish().is_ok() && verifier.divergence().is_none();
    Ok(Gate {
        run: run.display().to_string(),
        config_hash: run_cfg.config_hash(),
        inputs: count,
        same_policy,
        replays,
        violations: checker.total(),
    })
}
