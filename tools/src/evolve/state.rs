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
//! [`eval`](Evolution::eval) scores one shard of the current generation; [`advance`](Evolution::advance) merges
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
use super::score::Score;
use super::select::{self, Archived, RegimeRow};
use crate::policy::{code_hash, DatasetRef, EntryKind, Evidence, Extra, Ledger};
use crate::sweep::Shard;
use crate::Error;
use foxtrot_engine::rng::SeededRng as Rng;
use foxtrot_engine::Config;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(super) fn bad(m: impl Into<String>) -> Error {
    Error::Evolve(m.into())
}

pub(super) fn read_json<T: for<'de> Deserialize<'de>>(p: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(p).map_err(|e| bad(format!("{}: {e}", p.display())))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", p.display())))
}

/// Writes `p` whole: `text` into a temporary file of this writer's own, then
/// renamed over `p`. Two tasks may file the same shard at once (a task that
/// helps with a shard whose own task has just started it); each renames its
/// own file, so `p` is always one writer's whole text — the same bytes either
/// way. (A temporary name shared by all writers let one rename the other's
/// file away: the second rename failed, and its task with it.)
fn write_text(p: &Path, text: &str) -> Result<(), Error> {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| bad(format!("{}: {e}", d.display())))?;
    }
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = p.with_file_name(format!(".{name}.{}.tmp", writer_tag()));
    std::fs::write(&tmp, text).map_err(|e| bad(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, p).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        bad(format!("{}: {e}", p.display()))
    })
}

/// A name no other writer uses at the same time: this process's id and a
/// random word (tasks on other machines may share the directory and the id),
/// and a count of this process's writes.
fn writer_tag() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static WRITES: AtomicU64 = AtomicU64::new(0);
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let nonce = NONCE.get_or_init(|| std::collections::hash_map::RandomState::new().build_hasher().finish());
    format!(
        "{:x}-{nonce:016x}-{}",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    )
}

pub(super) fn write_json<T: Serialize>(p: &Path, v: &T) -> Result<(), Error> {
    write_text(
        p,
        &(serde_json::to_string_pretty(v).map_err(|e| bad(e.to_string()))? + "\n"),
    )
}

/// An advisory lock on `EVO/lock` (`flock`), held until dropped: shared
/// while a shard reads the generation it scores and writes its results,
/// exclusive while `advance` moves the generation on — so a shard never
/// scores a generation half advanced, nor files results for a finished one.
pub(super) struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    pub(super) fn take(dir: &Path, exclusive: bool) -> Result<DirLock, Error> {
        use std::os::fd::AsRawFd;
        let p = dir.join("lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| bad(format!("{}: {e}", p.display())))?;
        let op = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH };
        // SAFETY: flock on a descriptor this File owns; no memory is passed.
        if unsafe { libc::flock(f.as_raw_fd(), op) } != 0 {
            return Err(bad(format!("{}: {}", p.display(), std::io::Error::last_os_error())));
        }
        Ok(DirLock { _file: f })
    }
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
pub(super) struct StateFile {
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
    pub(super) dir: PathBuf,
    /// Its plan.
    pub plan: Plan,
    pub(super) base: Config,
    pub(super) grid: Grid,
}

pub(super) fn gen_dir(dir: &Path, g: u32) -> PathBuf {
    dir.join(format!("gen-{g:03}"))
}

fn grid_hash(data: &Path) -> Result<String, Error> {
    let text = super::data::read_grid_json(data)?;
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
    data::check_instruments(&plan.data, &grid, base)?;
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

    pub(super) fn cache(&self) -> Result<BTreeMap<(String, String), Score>, Error> {
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

    pub(super) fn fit_slices(&self) -> Vec<usize> {
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
        let lock = DirLock::take(&self.dir, false)?;
        let g = self
            .generation()?
            .ok_or_else(|| bad(format!("{}: the evolution is done", self.dir.display())))?;
        let pop = self.population(g)?;
        let sched = self.schedule(&pop)?;
        drop(lock);
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
        let _lock = DirLock::take(&self.dir, false)?;
        if self.generation()? != Some(g) {
            // Another task scored this shard and the generation moved on.
            return Ok(0);
        }
        if self.shard_done(g, shard) {
            // Another task filed it meanwhile: the same bytes, already there.
            return Ok(done.len());
        }
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

    /// Whether generation `g`'s shard `shard` has filed its results.
    pub fn shard_done(&self, g: u32, shard: Shard) -> bool {
        gen_dir(&self.dir, g)
            .join(format!("shard-{}-of-{}.jsonl", shard.index, shard.count))
            .exists()
    }

    /// Merges the current generation's shards; then breeds the next
    /// generation, or after the last one promotes the champion through
    /// `ledger`. Returns what happened, in a sentence.
    pub fn advance(&self, ledger: &mut Ledger) -> Result<String, Error> {
        let _lock = DirLock::take(&self.dir, true)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Writers filing the same file at once (tasks scoring the same shard)
    /// all succeed, and the file is one writer's whole text.
    #[test]
    fn writers_of_the_same_file_at_once_all_succeed() {
        let dir = std::env::temp_dir().join(format!("foxtrot-evolve-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("gen-001").join("shard-2-of-3.jsonl");
        let text = "x".repeat(64 * 1024);
        let failures: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..200).filter(|_| write_text(&p, &text).is_err()).count()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(failures, 0);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        let left: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "temporary files left: {left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
