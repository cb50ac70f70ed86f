//! The end of an evolution: the champion's gates — its held-out replays
//! (recorded as evidence), the leakage check, the risk audit — the ledger's
//! verdict, and the evolution's KPI entry (see `docs/adaptation.md`).

use super::data::{self, Part};
use super::genotype::StrategyGenotype;
use super::score::{score, Score};
use super::select;
use super::state::{bad, gen_dir, read_json, write_json, Evolution, TableRow};
use crate::policy::{code_hash, Check, DatasetRef, DiarySlice, EntryKind, Evidence, Extra, Ledger};
use crate::Error;
use foxtrot_engine::Config;
use serde_json::json;
use std::path::{Path, PathBuf};

impl Evolution {
    /// The held-out replays of `cfg`: scores, and with `record` each replay
    /// recorded under it (one run directory per slice).
    fn held_out(&self, cfg: &Config, record: Option<&Path>) -> Result<Vec<(Score, Option<PathBuf>)>, Error> {
        let oos: Vec<&data::Slice> = self.grid.part(Part::Oos).collect();
        let run = |s: &data::Slice| -> Result<(Score, Option<PathBuf>), Error> {
            let dir = record.map(|r| r.join(s.id.replace('/', "-")));
            if let Some(d) = &dir {
                if d.exists() {
                    std::fs::remove_dir_all(d).map_err(|e| bad(format!("{}: {e}", d.display())))?;
                }
            }
            Ok((score(cfg, &self.plan.data, s, dir.as_deref())?, dir))
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        crate::pool::map(oos.len(), threads, |k| run(oos[k]))
    }

    /// The gates and the ledger's verdict on `champion`.
    pub(super) fn finish(
        &self,
        ledger: &mut Ledger,
        champion: &StrategyGenotype,
        row: &TableRow,
    ) -> Result<String, Error> {
        let cfg = champion.compile(&self.base)?;
        let incumbent = match ledger.current() {
            Some(e) => Config::from_yaml(&ledger.rebuild(&e.config_hash)?, Path::new("<ledger>"))?,
            None => self.base.clone(),
        };
        let inc_g = StrategyGenotype::of(&incumbent).ok();
        let new_topology = inc_g.as_ref().is_none_or(|g| g.table != champion.table);
        let evidence_dir = self.dir.join("evidence");
        let champ_oos = self.held_out(&cfg, Some(&evidence_dir))?;
        let inc_oos = self.held_out(&incumbent, None)?;
        let cs: Vec<&Score> = champ_oos.iter().map(|(s, _)| s).collect();
        let is: Vec<&Score> = inc_oos.iter().map(|(s, _)| s).collect();
        let (cf, inf) = (select::fitness(&cs), select::fitness(&is));
        let uplift = cf - inf;
        let cache = self.cache()?;
        let all_violations: u64 =
            cache.values().map(|s| s.violations).sum::<u64>() + cs.iter().map(|s| s.violations).sum::<u64>();
        let fitted: Vec<String> = self
            .fit_slices()
            .into_iter()
            .map(|s| self.grid.slices[s].id.clone())
            .filter(|id| cache.contains_key(&(row.hash.clone(), id.clone())))
            .collect();
        let leak = data::leakage(&self.plan.data, &self.grid, &fitted);
        let checks = vec![
            Check {
                name: "oos_regime_grid".into(),
                passed: uplift >= self.plan.min_uplift && cs.iter().all(|s| s.violations == 0),
                detail: format!(
                    "held-out fitness {cf:.2} against the incumbent's {inf:.2}: uplift {uplift:.2} (needs ≥ {})",
                    self.plan.min_uplift
                ),
            },
            Check {
                name: "leakage".into(),
                passed: leak.is_ok(),
                detail: leak.unwrap_or_else(|e| e),
            },
            Check {
                name: "risk_audit".into(),
                passed: all_violations == 0,
                detail: format!(
                    "{all_violations} invariant violations in {} replays of the evolution and the champion's held-out replays",
                    cache.len() + cs.len()
                ),
            },
        ];
        let runs: Vec<PathBuf> = champ_oos.iter().filter_map(|(_, d)| d.clone()).collect();
        let diary: Vec<DiarySlice> = champ_oos
            .iter()
            .filter_map(|(s, d)| {
                Some(DiarySlice {
                    run: d.as_ref()?.display().to_string(),
                    first: 1.min(s.diary_records),
                    last: s.diary_records,
                    diary_hash: s.diary_hash.clone(),
                })
            })
            .collect();
        let evidence = Evidence {
            datasets: self
                .grid
                .slices
                .iter()
                .filter(|s| fitted.contains(&s.id) || s.part == Part::Oos)
                .map(|s| DatasetRef {
                    id: s.id.clone(),
                    hash: s.hash.clone(),
                })
                .collect(),
            code_version: env!("CARGO_PKG_VERSION").into(),
            code_hash: code_hash(),
            config_hash: cfg.config_hash(),
            diary,
        };
        let fit_rows = row.regimes.clone();
        let oos_rows = select::regime_table(&self.grid, &cs);
        let scores = json!({"fit": fit_rows, "oos": oos_rows, "oos_incumbent": select::regime_table(&self.grid, &is), "fitness": row.fitness, "oos_fitness": cf, "incumbent_oos_fitness": inf});
        let cand = ledger.add_with(
            &cfg,
            "evolve",
            &format!(
                "champion of {} generations, genotype {}",
                self.plan.generations, row.hash
            ),
            Extra {
                genotype: Some(champion.text()),
                evidence: Some(evidence.clone()),
                detail: Some(scores.clone()),
                ..Extra::default()
            },
        )?;
        let same = inc_g.as_ref() == Some(champion);
        let verdict = if same {
            Err("the champion is the incumbent: nothing to promote".to_string())
        } else {
            ledger
                .promote_with(
                    &cand.config_hash,
                    &runs,
                    "evolve",
                    &format!(
                        "genotype {}{}",
                        row.hash,
                        if new_topology { ", a new topology" } else { "" }
                    ),
                    Extra {
                        genotype: Some(champion.text()),
                        checks: checks.clone(),
                        evidence: Some(evidence),
                        detail: Some(scores.clone()),
                    },
                )
                .map_err(|e| e.to_string())
        };
        let promoted = verdict.is_ok();
        self.record_kpis(ledger, &cfg)?;
        write_json(
            &self.dir.join("result.json"),
            &json!({
                "champion": row.hash,
                "genotype": champion.text(),
                "config_hash": cfg.config_hash(),
                "new_topology": new_topology,
                "checks": checks,
                "scores": scores,
                "promoted": promoted,
                "verdict": verdict.as_ref().map(|_| "promoted".to_string()).unwrap_or_else(|e| e.clone()),
            }),
        )?;
        Ok(match verdict {
            Ok(_) => format!(
                "promoted {} (genotype {}{}): held-out uplift {uplift:.2}",
                cfg.config_hash(),
                row.hash,
                if new_topology { ", a new topology" } else { "" }
            ),
            Err(e) => format!("not promoted: {e}"),
        })
    }

    /// Appends the evolution's KPI entry: time to candidate (from `clock.json`
    /// to now), events replayed and CPU seconds (from the shards' usage files),
    /// budget usage.
    fn record_kpis(&self, ledger: &mut Ledger, cfg: &Config) -> Result<(), Error> {
        let started = read_json::<serde_json::Value>(&self.dir.join("clock.json"))
            .ok()
            .and_then(|v| v["started_unix_ns"].as_u64());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let (mut events, mut cpu) = (0u64, 0f64);
        for g in 0..self.plan.generations {
            let gd = gen_dir(&self.dir, g);
            let Ok(rd) = std::fs::read_dir(&gd) else { continue };
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with("usage-") {
                    if let Ok(v) = read_json::<serde_json::Value>(&e.path()) {
                        events += v["events"].as_u64().unwrap_or(0);
                        cpu += v["cpu_s"].as_f64().unwrap_or(0.0);
                    }
                }
            }
        }
        let ratio = self
            .plan
            .budget
            .map_or(0.0, |b| events as f64 / (b as f64 * f64::from(self.plan.generations)));
        ledger.record(
            EntryKind::Kpi,
            cfg,
            "evolve",
            &format!("evolution {}", self.dir.display()),
            Extra {
                detail: Some(json!({
                    "time_to_candidate_seconds": started.map(|s| now.saturating_sub(s) as f64 / 1e9),
                    "replay_events": events,
                    "cpu_seconds": cpu,
                    "budget_usage_ratio": ratio,
                    "generations": self.plan.generations,
                    "population": self.plan.population,
                })),
                ..Extra::default()
            },
        )?;
        Ok(())
    }
}
