//! An evolution's directory and its steps.
//!
//! ```text
//! EVO/plan.json                 what is searched: data, sizes, seed, mode, budget
//! EVO/base.yaml                 the base configuration (canonical text)
//! EVO/state.json                the generation to score next, or done
//! EVO/gen-NNN/population.json   its genotypes (canonical text) and their origin
//! EVO/gen-NNN/shard-I-of-N.jsonl  one line per job a shard scored
//! EVO/gen-NNN/usage-I-of-N.json  the shard's CPU and wall seconds (not compared)
//! EVO/gen-NNN/table.json        fitness, novelty, eligibility and regime table per candidate
//! EVO/scores.jsonl              every score so far, by genotype hash (the cache)
//! EVO/archive.json              the novelty archive
//! EVO/evidence/…                the champion's recorded held-out replays
//! EVO/result.json               the champion, its gates and the ledger's verdict
//! ```
//!
//! [`init`] writes generation 0 (the base genotype and mutants of it);
//! [`eval`] scores one shard of the current generation; [`advance`] merges
//! the shards (every scheduled job exactly once), writes the fitness table,
//! updates the archive and breeds the next generation — or, after the last,
//! runs the gates and asks the ledger to promote the champion. Every random
//! draw comes from a generator seeded by the plan's seed and the generation,
//! and every file but `usage-*` and the ledger's wall-clock stamps is a
//! function of the plan and the data, so a run on one machine and a run
//! whose shards ran on a Slurm job array write the same bytes.

use super::data::{self, Grid, Part};
use super::genotype::StrategyGenotype;
use super::operators::{crossover, mutate};
use super::schedule::{self, cpu_seconds};
use super::score::{score, Score};
use super::select::{self, Archived, RegimeRow};
use crate::policy::{code_hash, Check, DatasetRef, DiarySlice, EntryKind, Evidence, Extra, Ledger};
use crate::sweep::Shard;
use crate::Error;
use foxtrot_engine::rng::SeededRng as Rng;
use foxtrot_engine::Config;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bad(m: impl Into<String>) -> Error {
    Error::Evolve(m.into())
}

fn read_json<T: for<'de> Deserialize<'de>>(p: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(p).map_err(|e| bad(format!("{}: {e}", p.display())))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", p.display())))
}

fn write_text(p: &Path, text: &str) -> Result<(), Error> {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| bad(format!("{}: {e}", d.display())))?;
    }
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| bad(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, p).map_err(|e| bad(format!("{}: {e}", p.display())))
}

fn write_json<T: Serialize>(p: &Path, v: &T) -> Result<(), Error> {
    write_text(
        p,
        &(serde_json::to_string_pretty(v).map_err(|e| bad(e.to_string()))? + "\n"),
    )
}

/// How the next generation is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The best candidate survives; the rest are offspring of tournaments.
    Tournament,
    /// (µ+λ): the best half survive; the other half are offspring.
    MuPlusLambda,
}

/// What an evolution searches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The regime grid's directory.
    pub data: PathBuf,
    /// The grid's `grid.json` hash (the data must not change under the run).
    pub grid_hash: String,
    /// The base configuration's hash.
    pub base_config_hash: String,
    /// Generations.
    pub generations: u32,
    /// Candidates per generation.
    pub population: usize,
    /// The seed.
    pub seed: u64,
    /// Selection mode.
    pub mode: Mode,
    /// Events each generation may replay (`None`: no limit).
    pub budget: Option<u64>,
    /// Weight of novelty against fitness in selection.
    pub novelty_weight: f64,
    /// Tournament size.
    pub tournament: usize,
    /// Out-of-sample fitness uplift over the incumbent the champion needs.
    pub min_uplift: f64,
}

/// Where a candidate came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Canonical genotype text.
    pub genotype: String,
    /// Its hash.
    pub hash: String,
    /// `base`, `elite`, or the operators applied.
    pub origin: String,
    /// Parents' genotype hashes.
    pub parents: Vec<String>,
}

/// One candidate's line of a generation's table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Genotype hash.
    pub hash: String,
    /// Its phenotype's config hash.
    pub config_hash: String,
    /// Fitness over the fitted slices (`None`: not eligible).
    pub fitness: Option<f64>,
    /// Why not eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ineligible: Option<String>,
    /// Novelty against the archive and the generation.
    pub novelty: f64,
    /// Per regime.
    pub regimes: Vec<RegimeRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StateFile {
    generation: u32,
    done: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ScoreLine {
    job: usize,
    genotype: String,
    score: Score,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CacheLine {
    genotype: String,
    score: Score,
}

/// An open evolution directory.
pub struct Evolution {
    dir: PathBuf,
    /// Its plan.
    pub plan: Plan,
    base: Config,
    grid: Grid,
}

fn gen_dir(dir: &Path, g: u32) -> PathBuf {
    dir.join(format!("gen-{g:03}"))
}

fn grid_hash(data: &Path) -> Result<String, Error> {
    let p = data.join("grid.json");
    let text = std::fs::read_to_string(&p).map_err(|e| bad(format!("{}: {e}", p.display())))?;
    Ok(format!("{:016x}", foxtrot_engine::config::canonical::hash(&text)))
}

/// Creates the evolution directory `dir` for `plan` over `base`, with
/// generation 0: the base genotype and `population − 1` mutants of it (one to
/// three mutations each).
pub fn init(dir: &Path, base: &Config, mut plan: Plan) -> Result<Evolution, Error> {
    if plan.population < 2 || plan.generations < 1 {
        return Err(bad(
            "an evolution needs a population of at least 2 and at least 1 generation",
        ));
    }
    if dir.join("plan.json").exists() {
        return Err(bad(format!("{}: already holds an evolution", dir.display())));
    }
    let grid = Grid::open(&plan.data)?;
    if grid.part(Part::Fit).count() == 0 || grid.part(Part::Oos).count() == 0 {
        return Err(bad(format!(
            "{}: the grid needs fitted and held-out slices",
            plan.data.display()
        )));
    }
    plan.grid_hash = grid_hash(&plan.data)?;
    plan.base_config_hash = base.config_hash();
    let g0 = StrategyGenotype::of(base)?;
    let mut rng = Rng::new(plan.seed);
    let mut members = vec![Member {
        genotype: g0.text(),
        hash: g0.hash(),
        origin: "base".into(),
        parents: Vec::new(),
    }];
    while members.len() < plan.population {
        let (mut g, mut ops) = (g0.clone(), Vec::new());
        for _ in 0..1 + rng.below(3) {
            let (c, op) = mutate(&g, base, &mut rng);
            g = c;
            ops.push(op.name());
        }
        members.push(Member {
            genotype: g.text(),
            hash: g.hash(),
            origin: ops.join("+"),
            parents: vec![g0.hash()],
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| bad(format!("{}: {e}", dir.display())))?;
    write_text(&dir.join("base.yaml"), &base.canonical_text())?;
    write_json(&dir.join("plan.json"), &plan)?;
    write_json(&gen_dir(dir, 0).join("population.json"), &members)?;
    write_json(&dir.join("archive.json"), &Vec::<Archived>::new())?;
    write_text(&dir.join("scores.jsonl"), "")?;
    write_json(
        &dir.join("state.json"),
        &StateFile {
            generation: 0,
            done: false,
        },
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    write_json(&dir.join("clock.json"), &json!({"started_unix_ns": now}))?;
    Evolution::open(dir)
}

impl Evolution {
    /// Opens an evolution directory, checking its data is the data it began on.
    pub fn open(dir: &Path) -> Result<Evolution, Error> {
        let plan: Plan = read_json(&dir.join("plan.json"))?;
        let text = std::fs::read_to_string(dir.join("base.yaml"))
            .map_err(|e| bad(format!("{}/base.yaml: {e}", dir.display())))?;
        let base = Config::from_yaml(&text, &dir.join("base.yaml"))?;
        let grid = Grid::open(&plan.data)?;
        if grid_hash(&plan.data)? != plan.grid_hash {
            return Err(bad(format!(
                "{}: the regime grid changed since the evolution began",
                plan.data.display()
            )));
        }
        Ok(Evolution {
            dir: dir.to_path_buf(),
            plan,
            base,
            grid,
        })
    }

    fn state(&self) -> Result<StateFile, Error> {
        read_json(&self.dir.join("state.json"))
    }

    /// The generation to score next; `None` once the evolution is done.
    pub fn generation(&self) -> Result<Option<u32>, Error> {
        let s = self.state()?;
        Ok((!s.done).then_some(s.generation))
    }

    fn population(&self, g: u32) -> Result<Vec<(StrategyGenotype, Member)>, Error> {
        let members: Vec<Member> = read_json(&gen_dir(&self.dir, g).join("population.json"))?;
        members
            .into_iter()
            .map(|m| Ok((StrategyGenotype::parse(&m.genotype)?, m)))
            .collect()
    }

    fn cache(&self) -> Result<BTreeMap<(String, String), Score>, Error> {
        let p = self.dir.join("scores.jsonl");
        let text = std::fs::read_to_string(&p).map_err(|e| bad(format!("{}: {e}", p.display())))?;
        let mut m = BTreeMap::new();
        for (n, l) in text.lines().enumerate() {
            let c: CacheLine =
                serde_json::from_str(l).map_err(|e| bad(format!("{} line {}: {e}", p.display(), n + 1)))?;
            m.insert((c.genotype, c.score.slice.clone()), c.score);
        }
        Ok(m)
    }

    fn fit_slices(&self) -> Vec<usize> {
        (0..self.grid.slices.len())
            .filter(|&i| self.grid.slices[i].part == Part::Fit)
            .collect()
    }

    /// The generation's schedule: for each candidate not fully cached, the
    /// fitted slices it still needs (a genotype that appears twice is
    /// scheduled once).
    fn schedule(&self, pop: &[(StrategyGenotype, Member)]) -> Result<schedule::Schedule, Error> {
        let cache = self.cache()?;
        let mut need = Vec::new();
        let mut seen = Vec::new();
        for (c, (_, m)) in pop.iter().enumerate() {
            if seen.contains(&&m.hash) {
                continue;
            }
            seen.push(&m.hash);
            let slices: Vec<usize> = self
                .fit_slices()
                .into_iter()
                .filter(|&s| !cache.contains_key(&(m.hash.clone(), self.grid.slices[s].id.clone())))
                .collect();
            if !slices.is_empty() {
                need.push((c, slices));
            }
        }
        Ok(schedule::plan(&self.grid, &need, self.plan.budget))
    }

    /// Scores this shard's jobs of the current generation on `threads`
    /// threads; returns how many jobs it ran.
    pub fn eval(&self, shard: Shard, threads: usize) -> Result<usize, Error> {
        let g = self
            .generation()?
            .ok_or_else(|| bad(format!("{}: the evolution is done", self.dir.display())))?;
        let pop = self.population(g)?;
        let sched = self.schedule(&pop)?;
        let configs: Vec<Config> = pop
            .iter()
            .map(|(gt, _)| gt.compile(&self.base))
            .collect::<Result<_, _>>()?;
        let (cpu0, t0) = (cpu_seconds(), std::time::Instant::now());
        let done = schedule::run_shard(&self.plan.data, &self.grid, &configs, &sched, shard, threads)?;
        let mut text = String::new();
        for (k, s) in &done {
            let line = ScoreLine {
                job: *k,
                genotype: pop[sched.jobs[*k].candidate].1.hash.clone(),
                score: s.clone(),
            };
            text.push_str(&serde_json::to_string(&line).map_err(|e| bad(e.to_string()))?);
            text.push('\n');
        }
        let gd = gen_dir(&self.dir, g);
        let name = format!("{}-of-{}", shard.index, shard.count);
        write_text(&gd.join(format!("shard-{name}.jsonl")), &text)?;
        let events: u64 = done
            .iter()
            .map(|(k, _)| self.grid.slices[sched.jobs[*k].slice].events)
            .sum();
        write_json(
            &gd.join(format!("usage-{name}.json")),
            &json!({"cpu_s": cpu_seconds() - cpu0, "wall_s": t0.elapsed().as_secs_f64(), "jobs": done.len(), "events": events}),
        )?;
        Ok(done.len())
    }

    /// Merges the current generation's shards; then breeds the next
    /// generation, or after the last one promotes the champion through
    /// `ledger`. Returns what happened, in a sentence.
    pub fn advance(&self, ledger: &mut Ledger) -> Result<String, Error> {
        let g = self
            .generation()?
            .ok_or_else(|| bad(format!("{}: the evolution is done", self.dir.display())))?;
        let gd = gen_dir(&self.dir, g);
        let pop = self.population(g)?;
        let sched = self.schedule(&pop)?;
        // The shards: one N, every index present, every job exactly once.
        let mut files: Vec<(usize, usize, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(&gd).map_err(|e| bad(format!("{}: {e}", gd.display())))? {
            let p = e.map_err(|e| bad(e.to_string()))?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if let Some(rest) = name.strip_prefix("shard-").and_then(|r| r.strip_suffix(".jsonl")) {
                let parsed = rest
                    .split_once("-of-")
                    .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)));
                let (i, n) = parsed.ok_or_else(|| bad(format!("{}: not a shard file name", p.display())))?;
                files.push((i, n, p));
            }
        }
        files.sort();
        let n = files.first().map_or(0, |f| f.1);
        if sched.jobs.is_empty() {
            files.clear();
        } else if files.is_empty() || files.iter().any(|f| f.1 != n) || files.len() != n {
            return Err(bad(format!(
                "{}: want the shard files of one split (shard-I-of-N.jsonl for every I < N); found {}",
                gd.display(),
                files.len()
            )));
        }
        let mut got: Vec<Option<Score>> = vec![None; sched.jobs.len()];
        for (i, n, p) in &files {
            let text = std::fs::read_to_string(p).map_err(|e| bad(format!("{}: {e}", p.display())))?;
            for (ln, l) in text.lines().enumerate() {
                let s: ScoreLine =
                    serde_json::from_str(l).map_err(|e| bad(format!("{} line {}: {e}", p.display(), ln + 1)))?;
                let job = sched.jobs.get(s.job).filter(|_| s.job % n == *i).ok_or_else(|| {
                    bad(format!(
                        "{} line {}: job {} is not this shard's",
                        p.display(),
                        ln + 1,
                        s.job
                    ))
                })?;
                if s.genotype != pop[job.candidate].1.hash || s.score.slice != self.grid.slices[job.slice].id {
                    return Err(bad(format!(
                        "{} line {}: not the job scheduled as {}",
                        p.display(),
                        ln + 1,
                        s.job
                    )));
                }
                if got[s.job].replace(s.score).is_some() {
                    return Err(bad(format!("{}: job {} scored twice", gd.display(), s.job)));
                }
            }
        }
        if let Some(k) = got.iter().position(Option::is_none) {
            return Err(bad(format!("{}: job {k} was not scored by any shard", gd.display())));
        }
        let mut add = String::new();
        for (k, s) in got.into_iter().enumerate() {
            let line = CacheLine {
                genotype: pop[sched.jobs[k].candidate].1.hash.clone(),
                score: s.expect("checked above"),
            };
            add.push_str(&serde_json::to_string(&line).map_err(|e| bad(e.to_string()))?);
            add.push('\n');
        }
        let cp = self.dir.join("scores.jsonl");
        let mut all = std::fs::read_to_string(&cp).map_err(|e| bad(format!("{}: {e}", cp.display())))?;
        all.push_str(&add);
        write_text(&cp, &all)?;

        // The generation's table.
        let cache = self.cache()?;
        let fit = self.fit_slices();
        let mut rows = Vec::new();
        for (gt, m) in &pop {
            let scores: Vec<&Score> = fit
                .iter()
                .filter_map(|&s| cache.get(&(m.hash.clone(), self.grid.slices[s].id.clone())))
                .collect();
            let regimes = select::regime_table(&self.grid, &scores);
            let violations: u64 = scores.iter().map(|s| s.violations).sum();
            let ineligible = if scores.len() < fit.len() {
                Some(format!("scored on {} of {} slices (budget)", scores.len(), fit.len()))
            } else if violations > 0 {
                Some(format!("{violations} invariant violations"))
            } else {
                None
            };
            rows.push(TableRow {
                hash: m.hash.clone(),
                config_hash: gt.compile(&self.base)?.config_hash(),
                fitness: ineligible.is_none().then(|| select::fitness(&scores)),
                ineligible,
                novelty: 0.0,
                regimes,
            });
        }
        let mut archive: Vec<Archived> = read_json(&self.dir.join("archive.json"))?;
        let probes: Vec<Vec<f64>> = rows.iter().map(|r| select::probe(&r.regimes)).collect();
        for i in 0..rows.len() {
            let mut others: Vec<&[f64]> = archive.iter().map(|a| a.probe.as_slice()).collect();
            others.extend(
                probes
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, p)| p.as_slice()),
            );
            rows[i].novelty = select::novelty(&probes[i], &others);
        }
        let mut novel: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].fitness.is_some() && !archive.iter().any(|a| a.signature == rows[i].hash))
            .collect();
        novel.sort_by(|&a, &b| rows[b].novelty.total_cmp(&rows[a].novelty).then(a.cmp(&b)));
        novel.dedup_by(|a, b| rows[*a].hash == rows[*b].hash);
        for &i in novel.iter().take(select::ARCHIVE_PER_GEN) {
            archive.push(Archived {
                signature: rows[i].hash.clone(),
                probe: probes[i].clone(),
                generation: g,
            });
        }
        write_json(&gd.join("table.json"), &rows)?;
        write_json(&self.dir.join("archive.json"), &archive)?;
        let best = best_index(&rows);
        ledger.record(
            EntryKind::Evaluation,
            &self.base,
            "evolve",
            &format!("generation {g}: {} candidates, {} replays", rows.len(), sched.jobs.len()),
            Extra {
                evidence: Some(Evidence {
                    datasets: fit
                        .iter()
                        .map(|&s| DatasetRef {
                            id: self.grid.slices[s].id.clone(),
                            hash: self.grid.slices[s].hash.clone(),
                        })
                        .collect(),
                    code_version: env!("CARGO_PKG_VERSION").into(),
                    code_hash: code_hash(),
                    config_hash: self.base.config_hash(),
                    diary: Vec::new(),
                }),
                detail: Some(json!({
                    "generation": g,
                    "replays": sched.jobs.len(),
                    "events": sched.cost,
                    "deferred": sched.deferred.len(),
                    "candidates": rows.iter().map(|r| json!({"genotype": r.hash, "config_hash": r.config_hash, "fitness": r.fitness, "novelty": r.novelty})).collect::<Vec<_>>(),
                })),
                ..Extra::default()
            },
        )?;

        if g + 1 < self.plan.generations {
            let next = self.breed(g, &pop, &rows)?;
            write_json(&gen_dir(&self.dir, g + 1).join("population.json"), &next)?;
            write_json(
                &self.dir.join("state.json"),
                &StateFile {
                    generation: g + 1,
                    done: false,
                },
            )?;
            return Ok(format!(
                "generation {g}: {} replays; best fitness {}",
                sched.jobs.len(),
                best.and_then(|b| rows[b].fitness)
                    .map_or("none".into(), |f| format!("{f:.2}"))
            ));
        }
        let best = best.ok_or_else(|| bad("no eligible candidate in the last generation"))?;
        let verdict = self.finish(ledger, &pop[best].0, &rows[best])?;
        write_json(
            &self.dir.join("state.json"),
            &StateFile {
                generation: g,
                done: true,
            },
        )?;
        Ok(verdict)
    }

    fn breed(&self, g: u32, pop: &[(StrategyGenotype, Member)], rows: &[TableRow]) -> Result<Vec<Member>, Error> {
        let mut rng = Rng::new(self.plan.seed ^ (u64::from(g) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let fit: Vec<Option<f64>> = rows.iter().map(|r| r.fitness).collect();
        let nov: Vec<f64> = rows.iter().map(|r| r.novelty).collect();
        let values = select::selection_values(&fit, &nov, self.plan.novelty_weight);
        let mut by_fit: Vec<usize> = (0..rows.len()).filter(|&i| fit[i].is_some()).collect();
        by_fit.sort_by(|&a, &b| {
            fit[b]
                .unwrap_or(f64::MIN)
                .total_cmp(&fit[a].unwrap_or(f64::MIN))
                .then(a.cmp(&b))
        });
        by_fit.dedup_by(|a, b| rows[*a].hash == rows[*b].hash);
        let keep = match self.plan.mode {
            Mode::Tournament => 1,
            Mode::MuPlusLambda => self.plan.population / 2,
        };
        let mut next: Vec<Member> = by_fit
            .iter()
            .take(keep)
            .map(|&i| Member {
                origin: "elite".into(),
                parents: vec![pop[i].1.hash.clone()],
                ..pop[i].1.clone()
            })
            .collect();
        // Deferred candidates (budget) get their turn before new offspring.
        for (i, r) in rows.iter().enumerate() {
            if r.ineligible.as_deref().is_some_and(|w| w.ends_with("(budget)")) && next.len() < self.plan.population {
                next.push(pop[i].1.clone());
            }
        }
        while next.len() < self.plan.population {
            let p = select::tournament(&values, self.plan.tournament, &mut rng)
                .ok_or_else(|| bad(format!("generation {g}: no eligible candidate to breed from")))?;
            let mut parents = vec![pop[p].1.hash.clone()];
            let mut ops = Vec::new();
            let mut child = pop[p].0.clone();
            if rng.chance(0.25) {
                if let Some(q) = select::tournament(&values, self.plan.tournament, &mut rng) {
                    child = crossover(&child, &pop[q].0, &self.base, &mut rng);
                    parents.push(pop[q].1.hash.clone());
                    ops.push("crossover");
                }
            }
            let (c, op) = mutate(&child, &self.base, &mut rng);
            ops.push(op.name());
            next.push(Member {
                genotype: c.text(),
                hash: c.hash(),
                origin: ops.join("+"),
                parents,
            });
        }
        Ok(next)
    }

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
        let out: Vec<Result<(Score, Option<PathBuf>), Error>> = std::thread::scope(|scope| {
            let hs: Vec<_> = oos.iter().map(|s| scope.spawn(move || run(s))).collect();
            hs.into_iter()
                .map(|h| h.join().expect("a replay thread panicked"))
                .collect()
        });
        out.into_iter().collect()
    }

    /// The gates and the ledger's verdict on `champion`.
    fn finish(&self, ledger: &mut Ledger, champion: &StrategyGenotype, row: &TableRow) -> Result<String, Error> {
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

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The base configuration.
    pub fn base(&self) -> &Config {
        &self.base
    }

    /// The regime grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
}

/// The eligible row of highest fitness (the earliest on a tie).
fn best_index(rows: &[TableRow]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in rows.iter().enumerate() {
        if let Some(f) = r.fitness {
            if best.is_none_or(|b| f > rows[b].fitness.unwrap_or(f64::MIN)) {
                best = Some(i);
            }
        }
    }
    best
}
