//! `foxtrot evolve`, `foxtrot reflect` and the ledger's gates, sign-offs and
//! KPIs, run as a user runs them: real files, real processes, a real
//! single-node Slurm for the sharded evolution, promtool for the KPIs.

mod common;
mod external;

use common::{foxtrot, ok, tempdir, RemoveOnSuccess};
use serde_json::Value;
use std::path::{Path, PathBuf};

const GENERATIONS: &str = "3";
const POPULATION: &str = "6";
const SEED: &str = "3";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A regime grid of `events` crowd events per regime in `dir/grid`.
fn grid(dir: &Path, events: u32) -> PathBuf {
    let g = dir.join("grid");
    ok(&["evolve", "data", "--out", s(&g), "--events", &events.to_string()]);
    g
}

fn plan_args<'a>(grid: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "--data",
        s(grid),
        "--generations",
        GENERATIONS,
        "--population",
        POPULATION,
        "--seed",
        SEED,
        "--out",
        s(out),
    ]
}

/// `foxtrot evolve` of the test's plan on one machine into `out`, with
/// `ledger` and `extra` arguments; its output.
fn evolve(grid: &Path, out: &Path, ledger: &Path, extra: &[&str]) -> String {
    let mut a = vec!["evolve"];
    a.extend(plan_args(grid, out));
    a.extend(["--ledger", s(ledger)]);
    a.extend_from_slice(extra);
    ok(&a)
}

/// The plan run on one machine into `dir/whole` (ledger `dir/lw`), and the
/// same plan initialised in `dir/evo` for its steps to be run one by one.
fn whole_and_init(dir: &Path, grid: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let (whole, lw) = (dir.join("whole"), dir.join("lw"));
    evolve(grid, &whole, &lw, &[]);
    let (evo, ledger) = (dir.join("evo"), dir.join("ledger"));
    let mut a = vec!["evolve", "init"];
    a.extend(plan_args(grid, &evo));
    ok(&a);
    (whole, lw, evo, ledger)
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Every file an evolution writes as a function of its plan and data (not the
/// shards' usage files or the wall clock), path → bytes.
fn deterministic_files(evo: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for name in ["plan.json", "base.yaml", "state.json", "scores.jsonl", "archive.json"] {
        out.push((name.to_string(), std::fs::read(evo.join(name)).unwrap()));
    }
    for g in 0..GENERATIONS.parse::<u32>().unwrap() {
        for f in ["population.json", "table.json"] {
            let name = format!("gen-{g:03}/{f}");
            out.push((name.clone(), std::fs::read(evo.join(&name)).unwrap()));
        }
    }
    let mut r = json(&evo.join("result.json"));
    // The evidence runs' paths name the evolution's directory.
    r["checks"] = Value::Null;
    out.push(("result.json".into(), r.to_string().into_bytes()));
    out
}

fn current(ledger: &Path) -> String {
    ok(&["policy", "current", "--ledger", s(ledger)])
}

/// One machine: the champion is a new topology, promoted through every gate;
/// the ledger rebuilds its configuration byte for byte; re-scoring and
/// replaying it give the ledger's figures; a second run with another thread
/// count writes the same bytes.
#[test]
fn evolve_promotes_a_new_topology_through_the_gates_and_rebuilds_it() {
    let d = tempdir("one");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 30000);
    let (evo, ledger) = (d.join("evo"), d.join("ledger"));
    let said = evolve(&g, &evo, &ledger, &["--jobs", "2"]);
    assert!(said.contains("promoted"), "{said}");

    let r = json(&evo.join("result.json"));
    assert_eq!(r["promoted"], true, "{r:#}");
    assert_eq!(r["new_topology"], true, "the champion changes the regime table: {r:#}");
    let checks = r["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["oos_regime_grid", "leakage", "risk_audit"]);
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    assert!(checks[2]["detail"]
        .as_str()
        .unwrap()
        .starts_with("0 invariant violations"));
    // Every replay of the evolution: 0 violations.
    for l in std::fs::read_to_string(evo.join("scores.jsonl")).unwrap().lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["score"]["violations"], 0, "{l}");
    }

    // The ledger: generations scored, the champion as a candidate with its
    // genotype and evidence, its promotion with the checks, the KPIs.
    let list = ok(&["policy", "list", "--ledger", s(&ledger), "--json"]);
    let entries: Vec<Value> = list.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "evaluation",
            "evaluation",
            "evaluation",
            "candidate",
            "promotion",
            "kpi"
        ]
    );
    let promo = &entries[4];
    assert_eq!(promo["config_hash"], r["config_hash"]);
    assert_eq!(promo["genotype"], r["genotype"]);
    let ev = &promo["evidence"];
    assert_eq!(ev["config_hash"], r["config_hash"]);
    assert_eq!(ev["code_hash"].as_str().unwrap().len(), 16);
    assert_eq!(
        ev["diary"].as_array().unwrap().len(),
        12,
        "one diary stretch per held-out replay"
    );
    assert_eq!(promo["gates"].as_array().unwrap().len(), 12);

    // Rebuild: byte for byte the phenotype the genotype compiles to.
    let hash = r["config_hash"].as_str().unwrap();
    let rebuilt = d.join("rebuilt.yaml");
    ok(&["policy", "rebuild", hash, "--ledger", s(&ledger), "--out", s(&rebuilt)]);
    let gfile = d.join("champion.genotype");
    std::fs::write(&gfile, r["genotype"].as_str().unwrap()).unwrap();
    let compiled = ok(&["evolve", "compile", s(&gfile)]);
    assert_eq!(std::fs::read_to_string(&rebuilt).unwrap(), compiled);
    assert_eq!(current(&ledger), compiled);

    // Replaying it reproduces its scores: the held-out table in the ledger.
    let rescored: Value = serde_json::from_str(&ok(&["evolve", "score", s(&rebuilt), "--data", s(&g)])).unwrap();
    assert_eq!(rescored["regimes"], promo["detail"]["oos"]);
    assert_eq!(rescored["fitness"], promo["detail"]["oos_fitness"]);
    // …and each recorded held-out replay verifies against its journals.
    let run = PathBuf::from(ev["diary"][3]["run"].as_str().unwrap());
    let out = ok(&["replay", s(&run), "--verify"]);
    assert!(out.contains("identical to the recorded orders and diary"), "{out}");
    assert!(out.contains(ev["diary"][3]["diary_hash"].as_str().unwrap()), "{out}");

    // The report of the ledger: its KPIs, and a page.
    let page = d.join("ledger.html");
    let rep: Value = serde_json::from_str(&ok(&["report", s(&ledger), "--json", "--html", s(&page)])).unwrap();
    assert_eq!(rep["kpis"]["promotions"], 1);
    assert!(rep["kpis"]["candidates"].as_u64().unwrap() > 6, "{rep}");
    assert!(rep["kpis"]["time_to_candidate_seconds"].as_f64().unwrap() > 0.0);
    assert!(rep["kpis"]["replay_events"].as_u64().unwrap() > 0);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("Policy ledger") && html.contains("oos_regime_grid ✓"),
        "{html}"
    );

    // Same plan, one thread: the same bytes and the same promoted policy.
    let (evo1, ledger1) = (d.join("evo1"), d.join("ledger1"));
    evolve(&g, &evo1, &ledger1, &["--jobs", "1"]);
    assert_eq!(deterministic_files(&evo1), deterministic_files(&evo));
    assert_eq!(current(&ledger1), current(&ledger));
}

/// The steps a job array runs, by hand: init, then per generation two shards
/// and an advance — the same bytes and the same promoted policy as one
/// machine; a missing shard or a shard run twice is refused.
#[test]
fn sharded_generations_merge_to_the_one_machine_evolution() {
    let d = tempdir("shards");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 30000);
    let (whole, lw, evo, ledger) = whole_and_init(&d, &g);
    for gen in 0..GENERATIONS.parse::<u32>().unwrap() {
        ok(&["evolve", "eval", s(&evo), "--shard", "1/2", "--jobs", "1"]);
        if gen == 0 {
            // One shard is not the generation.
            let o = foxtrot(&["evolve", "advance", s(&evo), "--ledger", s(&ledger)]);
            assert!(!o.status.success());
            let e = String::from_utf8_lossy(&o.stderr);
            assert!(e.contains("shard-I-of-N") || e.contains("not scored"), "{e}");
        }
        ok(&["evolve", "eval", s(&evo), "--shard", "0/2", "--jobs", "1"]);
        ok(&["evolve", "advance", s(&evo), "--ledger", s(&ledger)]);
    }
    assert_eq!(deterministic_files(&evo), deterministic_files(&whole));
    assert_eq!(current(&ledger), current(&lw));
    let o = foxtrot(&["evolve", "eval", s(&evo)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("the evolution is done"));
}

/// The same command on a real Slurm job array: every task runs `foxtrot
/// evolve … --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT` on one
/// shared directory — three tasks on a two-CPU node, so one starts only when
/// another ends and the others score its shards meanwhile — and task 0
/// promotes the byte-identical policy the one-machine run promotes.
#[test]
#[cfg_attr(not(has_slurm), ignore = "needs slurm-wlm and munge: bash .ci/run installs it")]
fn the_same_command_on_a_slurm_job_array_promotes_the_same_policy() {
    let d = tempdir("slurm");
    let _cleanup = RemoveOnSuccess(d.clone());
    let Some(cluster) = external::SlurmCluster::start(&d.join("cluster")) else {
        return;
    };
    let g = grid(&d, 30000);
    let (whole, lw) = (d.join("whole"), d.join("lw"));
    evolve(&g, &whole, &lw, &[]);
    let (evo, ledger) = (d.join("evo"), d.join("ledger"));
    let job = d.join("evolve.sh");
    std::fs::write(
        &job,
        format!(
            "#!/bin/bash\nset -e\necho \"$SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT\" >> {d}/ran\n\
             exec {exe} evolve --data {g} --generations {GENERATIONS} --population {POPULATION} --seed {SEED} \
             --out {evo} --ledger {ledger} --jobs 1 --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n",
            d = d.display(),
            exe = env!("CARGO_BIN_EXE_foxtrot"),
            g = g.display(),
            evo = evo.display(),
            ledger = ledger.display(),
        ),
    )
    .unwrap();
    let logs = cluster.run_array(&job, 3, &d);
    // Three tasks of one array, each told its place by Slurm.
    let ran = std::fs::read_to_string(d.join("ran")).unwrap();
    let mut places: Vec<String> = ran.lines().map(|l| l.split_once(' ').unwrap().1.to_string()).collect();
    places.sort();
    assert_eq!(places, ["0 3", "1 3", "2 3"]);
    assert!(logs.contains("promoted"), "{logs}");
    assert_eq!(deterministic_files(&evo), deterministic_files(&whole));
    assert_eq!(current(&ledger), current(&lw));
    drop(cluster);
    let _ = std::fs::remove_dir_all(&d);
}

/// A sharded evolution's tasks as plain processes, all at once on one
/// directory: the same bytes and the same policy as one machine.
#[test]
fn concurrent_shard_tasks_agree_with_one_machine() {
    let d = tempdir("tasks");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 20000);
    let (whole, lw) = (d.join("whole"), d.join("lw"));
    evolve(&g, &whole, &lw, &[]);
    let (evo, ledger) = (d.join("evo"), d.join("ledger"));
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let mut a: Vec<String> = vec!["evolve".into()];
            a.extend(plan_args(&g, &evo).into_iter().map(String::from));
            a.extend(["--ledger".into(), s(&ledger).into(), "--jobs".into(), "1".into()]);
            a.extend(["--shard".into(), format!("{i}/3")]);
            common::command().args(&a).spawn().unwrap()
        })
        .collect();
    for mut t in tasks {
        assert!(t.wait().unwrap().success());
    }
    assert_eq!(deterministic_files(&evo), deterministic_files(&whole));
    assert_eq!(current(&ledger), current(&lw));
}

/// A budget defers whole candidates (the ledger says how many), keeps the
/// usage within it, and the deferred are scored in a later generation.
#[test]
fn a_budget_defers_whole_candidates() {
    let d = tempdir("budget");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 20000);
    let fit_events: u64 = json(&g.join("grid.json"))["slices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["part"] == "fit")
        .map(|s| s["events"].as_u64().unwrap())
        .sum();
    // Room for three candidates' replays per generation.
    let budget = (3 * fit_events + fit_events / 2).to_string();
    let (evo, ledger) = (d.join("evo"), d.join("ledger"));
    evolve(&g, &evo, &ledger, &["--budget", &budget]);
    let t0 = json(&evo.join("gen-000/table.json"));
    let deferred: Vec<&Value> = t0
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ineligible"].as_str().is_some_and(|w| w.ends_with("(budget)")))
        .collect();
    assert_eq!(deferred.len(), 3, "{t0:#}");
    let p1 = json(&evo.join("gen-001/population.json"));
    for r in &deferred {
        assert!(
            p1.as_array().unwrap().iter().any(|m| m["hash"] == r["hash"]),
            "a deferred candidate gets its turn"
        );
    }
    let k: Value = serde_json::from_str(&ok(&["policy", "kpi", "--ledger", s(&ledger), "--json"])).unwrap();
    let usage = k["budget_usage_ratio"].as_f64().unwrap();
    assert!(usage > 0.5 && usage <= 1.0, "{k}");
}

/// Reflection in sim: a recorded sim run with auto_feedback proposes changes
/// from its diary and drift alarms; governance applies the best accepted one
/// (promoted, its held-out replays as the gates' evidence) and records every
/// verdict; each proposal points at its diary stretch, code and config.
#[test]
fn reflection_in_sim_applies_a_proposal_through_governance() {
    let d = tempdir("reflect");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 30000);
    let run = d.join("run");
    ok(&["sim", "--record", s(&run), "--set", "flags.auto_feedback=true"]);
    let ledger = d.join("ledger");
    let said = ok(&["reflect", s(&run), "--data", s(&g), "--ledger", s(&ledger)]);
    assert!(said.contains("applied"), "{said}");
    let replay: Value = serde_json::from_str(&ok(&["replay", s(&run), "--json"])).unwrap();
    let diary_hash = replay["diary_hash"].as_str().unwrap().to_string();
    let run_cfg = replay["config_hash"].as_str().unwrap().to_string();
    let list = ok(&["policy", "list", "--ledger", s(&ledger), "--json"]);
    let entries: Vec<Value> = list.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let proposals: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "proposal").collect();
    assert!(proposals.len() >= 2, "{list}");
    let mut applied = 0;
    for e in &proposals {
        let p = &e["detail"]["proposal"];
        let ev = &p["evidence"];
        assert_eq!(ev["diary"]["run"], s(&run));
        assert_eq!(ev["diary"]["diary_hash"].as_str().unwrap(), diary_hash);
        assert!(ev["diary"]["first"].as_u64().unwrap() >= 1);
        assert!(ev["diary"]["last"].as_u64().unwrap() >= ev["diary"]["first"].as_u64().unwrap());
        assert_eq!(ev["code_hash"].as_str().unwrap().len(), 16);
        assert_eq!(ev["config_hash"].as_str().unwrap(), run_cfg);
        for k in ["confidence", "rationale", "affected_regimes", "change"] {
            assert!(!p[k].is_null(), "{k}");
        }
        let status = e["detail"]["decision"]["status"].as_str().unwrap();
        assert!(["applied", "superseded", "rejected"].contains(&status), "{status}");
        if status == "applied" {
            applied += 1;
            let promo = entries
                .iter()
                .find(|x| x["kind"] == "promotion")
                .expect("an applied proposal is promoted");
            assert_eq!(promo["by"], "governance (auto_feedback)");
            assert_eq!(promo["config_hash"], e["detail"]["decision"]["config_hash"]);
            assert!(promo["gates"].as_array().unwrap().iter().all(|g| g["violations"] == 0));
        }
    }
    assert_eq!(applied, 1, "one change at a time");

    // A run that is not the current policy proposes, but nothing is applied.
    let o = ok(&[
        "reflect",
        s(&run),
        "--data",
        s(&g),
        "--ledger",
        s(&ledger),
        "--out",
        s(&d.join("again")),
    ]);
    assert!(!o.contains(" applied "), "{o}");
    assert!(o.contains("is not the current policy"), "{o}");
}

/// Without auto_feedback (or staged), an accepted proposal waits for a
/// person: `policy sign` promotes it once; rejected and superseded ones
/// cannot be signed.
#[test]
fn a_pending_proposal_is_promoted_only_by_a_sign_off() {
    let d = tempdir("sign");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 30000);
    let run = d.join("run");
    ok(&["sim", "--record", s(&run)]);
    let ledger = d.join("ledger");
    let said = ok(&["reflect", s(&run), "--data", s(&g), "--ledger", s(&ledger)]);
    assert!(!said.contains(" applied "), "{said}");
    let id_of = |status: &str| {
        said.lines()
            .find(|l| l.contains(status) && l.contains("uplift"))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
    };
    let pending = id_of("pending_sign_off").expect("an accepted proposal waits");
    let o = foxtrot(&["policy", "current", "--ledger", s(&ledger)]);
    assert!(!o.status.success(), "nothing is promoted before the sign-off");
    if let Some(r) = id_of("rejected") {
        let o = foxtrot(&["policy", "sign", &r, "--by", "alice", "--ledger", s(&ledger)]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("rejected by governance"));
    }
    let out = ok(&[
        "policy",
        "sign",
        &pending,
        "--by",
        "alice",
        "--note",
        "checked",
        "--ledger",
        s(&ledger),
    ]);
    assert!(out.contains("signed off by alice"), "{out}");
    let o = foxtrot(&["policy", "sign", &pending, "--by", "bob", "--ledger", s(&ledger)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already signed off"));
    let list = ok(&["policy", "list", "--ledger", s(&ledger)]);
    assert!(list.contains("promotion") && list.contains("by alice"), "{list}");
    assert!(list.contains("sign-off"), "{list}");

    // KPIs: counted, rendered, and valid Prometheus text.
    let prom = d.join("kpi.prom");
    let k: Value = serde_json::from_str(&ok(&[
        "policy",
        "kpi",
        "--ledger",
        s(&ledger),
        "--json",
        "--prom",
        s(&prom),
    ]))
    .unwrap();
    assert_eq!(k["promotions"], 1);
    assert_eq!(k["sign_offs"], 1);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("foxtrot_policy_promotions_total 1"), "{text}");
    assert!(
        text.contains("foxtrot_policy_proposals_total{status=\"pending_sign_off\"} 1"),
        "{text}"
    );
    if let Some(promtool) = external::tool("promtool") {
        let out = std::process::Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::fs::File::open(&prom).unwrap())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The leakage gate fails on each kind of leak: a held-out slice among the
/// fitted ones, and data that no longer hashes to the grid's record; and a
/// configuration for instruments other than the grid's is refused.
#[test]
fn the_leakage_gate_names_each_leak() {
    use foxtrot_tools::evolve::data::{leakage, Grid};
    let d = tempdir("leak");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 9000);
    let grid = Grid::open(&g).unwrap();
    let fit: Vec<String> = grid
        .slices
        .iter()
        .filter(|s| s.id.ends_with("/fit"))
        .map(|s| s.id.clone())
        .collect();
    assert!(leakage(&g, &grid, &fit).is_ok());
    // A configuration for other instruments is refused before anything runs.
    let o = foxtrot(&[
        "evolve",
        "--set",
        "instruments.1.symbol=ZZZ",
        "--data",
        s(&g),
        "--out",
        s(&d.join("evo")),
        "--ledger",
        s(&d.join("ledger")),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("the configuration trades") && e.contains("ZZZ"),
        "{e}"
    );
    assert!(!d.join("evo").join("plan.json").exists());
    let mut with_oos = fit.clone();
    with_oos.push("calm/FOXB/oos".into());
    let e = leakage(&g, &grid, &with_oos).unwrap_err();
    assert!(e.contains("held-out slice calm/FOXB/oos"), "{e}");
    // The held-out data replaced by the fitted data: the hash check catches it.
    let (fit_dir, oos_dir) = (g.join("volatile/FOXA/fit"), g.join("volatile/FOXA/oos"));
    std::fs::remove_dir_all(&oos_dir).unwrap();
    let st = std::process::Command::new("cp")
        .args(["-r", s(&fit_dir), s(&oos_dir)])
        .status()
        .unwrap();
    assert!(st.success());
    let e = leakage(&g, &grid, &fit).unwrap_err();
    assert!(e.contains("volatile/FOXA/oos: its data hashes to"), "{e}");
}

/// (µ+λ): the best half of each generation survives into the next, so the
/// best fitness never falls from one generation to the next; every
/// generation's ledger entry names the datasets it was scored on.
#[test]
fn mu_plus_lambda_keeps_the_best_half() {
    let d = tempdir("mupluslambda");
    let _rm = RemoveOnSuccess(d.clone());
    let g = grid(&d, 20000);
    let (evo, ledger) = (d.join("evo"), d.join("ledger"));
    evolve(&g, &evo, &ledger, &["--mode", "mu-plus-lambda"]);
    let mut best = f64::MIN;
    for gen in 0..GENERATIONS.parse::<u32>().unwrap() {
        let t = json(&evo.join(format!("gen-{gen:03}/table.json")));
        let b = t
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["fitness"].as_f64())
            .fold(f64::MIN, f64::max);
        assert!(b >= best, "generation {gen}: best {b} below {best}");
        best = b;
        if gen > 0 {
            let p = json(&evo.join(format!("gen-{gen:03}/population.json")));
            let elites = p.as_array().unwrap().iter().filter(|m| m["origin"] == "elite").count();
            assert_eq!(elites, POPULATION.parse::<usize>().unwrap() / 2);
        }
    }
    let list = ok(&["policy", "list", "--ledger", s(&ledger), "--json"]);
    let grid_json = json(&g.join("grid.json"));
    for e in list.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()) {
        if e["kind"] == "evaluation" {
            let ds = e["evidence"]["datasets"].as_array().unwrap();
            assert_eq!(ds.len(), 12);
            for x in ds {
                let slice = grid_json["slices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["id"] == x["id"])
                    .unwrap();
                assert_eq!(slice["hash"], x["hash"]);
                assert_eq!(slice["part"], "fit");
            }
        }
    }
}

/// `--data` that is not a regime grid — an imported dataset, a mistyped
/// path — is one line saying what it is and what makes a grid, and nothing
/// is created.
#[test]
fn data_that_is_not_a_regime_grid_is_named_as_such() {
    let d = tempdir("evolve-not-a-grid");
    let _cleanup = RemoveOnSuccess(d.clone());
    let (csv, md) = (d.join("q.csv"), d.join("md"));
    ok(&["gen", "--format", "csv", "--events", "2000", "-o", s(&csv)]);
    ok(&["import", "--format", "csv", s(&csv), "-o", s(&md)]);
    let (out, ledger) = (d.join("evo"), d.join("ledger"));
    for (data, why) in [
        (
            md.clone(),
            "not a regime grid: no grid.json (it is a market-data directory: `foxtrot sweep --data`",
        ),
        (
            d.join("typo"),
            "typo: no such directory (a regime grid: `foxtrot evolve data --out DIR` makes one)",
        ),
    ] {
        let o = foxtrot(&["evolve", "--data", s(&data), "--out", s(&out), "--ledger", s(&ledger)]);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && e.contains(why), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(!out.exists() && !ledger.exists());
    }
}
