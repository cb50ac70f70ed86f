//! `foxtrot sweep`: a grid over an imported dataset, sharded and merged, against
//! `foxtrot replay --set` run for the same combinations one at a time.

mod common;
mod external;

use common::{foxtrot, ok, tempdir, RemoveOnSuccess};

fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A copy of sweep directory `from` at `to` (replacing what is there).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for (name, bytes) in files(from) {
        std::fs::write(to.join(&name), bytes).unwrap();
    }
}

/// `n` generated market-data events as a CSV of FOXA quotes, imported into
/// `dir/md`.
fn imported_quotes(dir: &std::path::Path, n: u32) -> std::path::PathBuf {
    let (csv, md) = (dir.join("q.csv"), dir.join("md"));
    let n = n.to_string();
    ok(&["gen", "--format", "csv", "--events", &n, "-o", csv.to_str().unwrap()]);
    let (c, m) = (csv.to_str().unwrap(), md.to_str().unwrap());
    ok(&["import", "--format", "csv", c, "-o", m, "--symbol", "FOXA"]);
    md
}

#[test]
fn a_sharded_sweep_merges_to_the_unsharded_one_and_agrees_with_replay() {
    let d = tempdir("sweep");
    let _cleanup = RemoveOnSuccess(d.clone());
    let md = imported_quotes(&d, 40000);
    let grid = [
        "--grid",
        "strategy.momentum.fast=5,10,20",
        "--grid",
        "strategy.momentum.slow=50,100",
    ];
    let sweep = |out: &std::path::Path, extra: &[&str]| {
        let mut a = vec!["sweep", "--data", md.to_str().unwrap(), "--out", out.to_str().unwrap()];
        a.extend_from_slice(&grid);
        a.extend_from_slice(extra);
        ok(&a)
    };
    let whole = d.join("whole");
    let said = sweep(&whole, &["--jobs", "2"]);
    let (s0, s1) = (d.join("s0"), d.join("s1"));
    sweep(&s0, &["--shard", "0/2", "--jobs", "1"]);
    sweep(&s1, &["--shard", "1/2", "--jobs", "1"]);
    let merged = d.join("merged");
    ok(&[
        "sweep",
        "merge",
        s1.to_str().unwrap(),
        s0.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    // Byte for byte: manifest, JSON lines, table, heat map and Parquet.
    let names: Vec<String> = files(&whole).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        [
            "results.html",
            "results.jsonl",
            "results.parquet",
            "results.tsv",
            "sweep.json"
        ]
    );
    assert_eq!(files(&whole), files(&merged));

    let rows: Vec<serde_json::Value> = std::fs::read_to_string(whole.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 6);
    let hashes: std::collections::BTreeSet<_> = rows.iter().map(|r| r["order_hash"].to_string()).collect();
    assert!(hashes.len() > 1, "the parameters change the orders: {rows:?}");
    // Each combination is what `foxtrot replay --set` says for it.
    for r in [&rows[0], &rows[5]] {
        let fast = format!(
            "strategy.momentum.fast={}",
            r["strategy.momentum.fast"].as_str().unwrap()
        );
        let slow = format!(
            "strategy.momentum.slow={}",
            r["strategy.momentum.slow"].as_str().unwrap()
        );
        let out = ok(&["replay", md.to_str().unwrap(), "--set", &fast, "--set", &slow, "--json"]);
        let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert_eq!(j["order_hash"], r["order_hash"], "{fast} {slow}");
        assert_eq!(j["orders"], r["orders"], "{fast} {slow}");
        assert_eq!(j["equity"].as_f64(), r["pnl"].as_f64(), "{fast} {slow}");
        assert_eq!(j["drift"]["orders_sized_down"], r["orders_sized_down"], "{fast} {slow}");
    }
    // The template's drift sentry scaled some combinations' orders: the
    // sweep says so (and only then).
    let scaled = rows
        .iter()
        .filter(|r| r["orders_sized_down"].as_u64().unwrap() > 0)
        .count();
    assert_eq!(said.contains("drift sentry:"), scaled > 0, "{scaled} scaled:\n{said}");

    // `foxtrot report` reads a sweep's directory: every combination, and the
    // heat map with the table on its page.
    let page = d.join("sweep-report.html");
    let text = ok(&["report", whole.to_str().unwrap(), "--html", page.to_str().unwrap()]);
    assert_eq!(text.lines().count(), 7, "a header and six combinations:\n{text}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("PnL by strategy.momentum.fast") && html.contains("Every combination"));
    assert!(html.contains("6 combinations"), "{html}");

    // What merge refuses: a shard twice, a shard missing, another sweep's shard.
    let refuse = |args: &[&str], why: &str| {
        let o = foxtrot(args);
        assert!(!o.status.success(), "{args:?} merged");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(why), "{args:?}: {e}");
    };
    let bad = d.join("bad");
    let (p0, p1, pb) = (s0.to_str().unwrap(), s1.to_str().unwrap(), bad.to_str().unwrap());
    refuse(&["sweep", "merge", p0, p0, "--out", pb], "given twice");
    refuse(&["sweep", "merge", p0, "--out", pb], "shard 1/2 is missing");
    let other = d.join("other");
    ok(&[
        "sweep",
        "--data",
        md.to_str().unwrap(),
        "--out",
        other.to_str().unwrap(),
        "--grid",
        "strategy.momentum.fast=5,10,20",
        "--grid",
        "strategy.momentum.slow=50,200",
        "--shard",
        "1/2",
    ]);
    refuse(
        &["sweep", "merge", p0, other.to_str().unwrap(), "--out", pb],
        "not a shard of the same sweep",
    );
    // A shard whose results were damaged after it ran (one digit of a PnL,
    // one combination's number): merge and report refuse it, naming the
    // file, rather than join a wrong figure into the sweep.
    let text = std::fs::read_to_string(s0.join("results.jsonl")).unwrap();
    let first = text.lines().next().unwrap();
    let pnl = first
        .split("\"pnl\":")
        .nth(1)
        .unwrap()
        .split([',', '}'])
        .next()
        .unwrap();
    let digit = pnl.rfind(|c: char| c.is_ascii_digit()).unwrap();
    let mut changed = pnl.as_bytes().to_vec();
    changed[digit] = b'0' + (changed[digit] - b'0' + 1) % 10;
    let changed = String::from_utf8(changed).unwrap();
    for damaged in [
        text.replacen(&format!("\"pnl\":{pnl}"), &format!("\"pnl\":{changed}"), 1),
        text.replacen("\"combo\":0", "\"combo\":4", 1),
    ] {
        assert_ne!(damaged, text);
        let s0d = d.join("s0-damaged");
        copy_dir(&s0, &s0d);
        std::fs::write(s0d.join("results.jsonl"), &damaged).unwrap();
        let pd = s0d.to_str().unwrap();
        refuse(&["sweep", "merge", pd, p1, "--out", pb], "results.jsonl: damaged");
        refuse(&["report", pd], "results.jsonl: damaged");
        assert!(!bad.exists(), "a refused merge writes nothing");
    }
    // A row whose combination number and parameters disagree is refused
    // even under a seal that matches (forged here: the digest recomputed).
    let swapped = text.replacen("\"combo\":0", "\"combo\":2", 1);
    let s0f = d.join("s0-forged");
    copy_dir(&s0, &s0f);
    let manifest = std::fs::read_to_string(s0.join("sweep.json")).unwrap();
    let digest = |t: &str| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(t.as_bytes()));
    assert!(
        manifest.contains(&digest(&text)),
        "sweep.json seals results.jsonl: {manifest}"
    );
    std::fs::write(
        s0f.join("sweep.json"),
        manifest.replace(&digest(&text), &digest(&swapped)),
    )
    .unwrap();
    std::fs::write(s0f.join("results.jsonl"), &swapped).unwrap();
    let pf = s0f.to_str().unwrap();
    refuse(
        &["sweep", "merge", pf, p1, "--out", pb],
        "line 1: damaged — combination 2",
    );
    // A value the configuration refuses fails the sweep before it runs, naming the key.
    let o = foxtrot(&[
        "sweep",
        "--data",
        md.to_str().unwrap(),
        "--out",
        pb,
        "--grid",
        "strategy.momentum.fast=5,-3",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("strategy.momentum.fast"));
}

/// A grid with a combination the configuration refuses as a whole (fast 50
/// with slow 10, where 50 runs with slow 100 and 10 with fast 5): the others
/// run, it is listed with the reason, and shards agree on it; a value refused
/// everywhere, a value given twice, and an output directory in use are
/// refused before anything runs.
#[test]
fn combinations_the_configuration_refuses_are_listed_and_the_rest_run() {
    let d = tempdir("sweep-refused");
    let _cleanup = RemoveOnSuccess(d.clone());
    let md = imported_quotes(&d, 4000);
    let m = md.to_str().unwrap();
    let grid = [
        "--grid",
        "strategy.momentum.fast=5,50",
        "--grid",
        "strategy.momentum.slow=10,100",
    ];
    let sweep = |out: &std::path::Path, extra: &[&str]| {
        let mut a = vec!["sweep", "--data", m, "--out", out.to_str().unwrap()];
        a.extend_from_slice(&grid);
        a.extend_from_slice(extra);
        foxtrot(&a)
    };
    let whole = d.join("whole");
    let o = sweep(&whole, &[]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{said}{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        said.contains(
            "combination 2 (strategy.momentum.fast=50, strategy.momentum.slow=10) not run: the configuration refuses \
             it: strategy.momentum.slow: need fast (50) < slow (10)"
        ),
        "{said}"
    );
    assert!(said.contains("3 of 4 combinations"), "{said}");
    let combos: Vec<u64> = std::fs::read_to_string(whole.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["combo"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(combos, [0, 1, 3]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(manifest["not_run"][0]["combo"], 2, "{manifest}");
    let html = std::fs::read_to_string(whole.join("results.html")).unwrap();
    assert_eq!(
        html.matches("title=\"not run: strategy.momentum.slow").count(),
        1,
        "{html}"
    );
    // Shards list the same refusal and merge to the whole sweep; the shard
    // that holds combination 2 runs only combination 0.
    let (s0, s1, merged) = (d.join("s0"), d.join("s1"), d.join("merged"));
    assert!(sweep(&s0, &["--shard", "0/2"]).status.success());
    assert!(sweep(&s1, &["--shard", "1/2"]).status.success());
    assert_eq!(
        std::fs::read_to_string(s0.join("results.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    let (p0, p1, pm) = (s0.to_str().unwrap(), s1.to_str().unwrap(), merged.to_str().unwrap());
    ok(&["sweep", "merge", p0, p1, "--out", pm]);
    assert_eq!(files(&whole), files(&merged));
    let report = ok(&["report", merged.to_str().unwrap()]);
    assert!(report.contains("combination 2 ("), "{report}");

    let refused = |args: &[&str], why: &str| {
        let o = foxtrot(args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && e.contains(why), "{args:?}: {e}");
    };
    // Results are never written over: not a sweep's, nor a merge's.
    let before = files(&whole);
    let o = sweep(&whole, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds a sweep's results already"));
    refused(
        &["sweep", "merge", p0, p1, "--out", pm],
        "holds a sweep's results already",
    );
    assert_eq!(files(&whole), before);
    // Fast 60 is refused with every slow: a mistake, failing the sweep at once
    // (naming the first combination, with its file and `--set`s).
    let none = d.join("none");
    let refused_grid = |grids: &[&str], why: &str| {
        let mut a = vec!["sweep", "--data", m, "--out", none.to_str().unwrap()];
        for g in grids {
            a.extend(["--grid", g]);
        }
        refused(&a, why)
    };
    refused_grid(
        &["strategy.momentum.fast=5,60", "strategy.momentum.slow=10,50"],
        "--grid strategy.momentum.fast=60 is refused in every combination it is part of: config ",
    );
    refused_grid(
        &["strategy.momentum.fast=5,10,5"],
        "the value \"5\" is given twice (values 1 and 3)",
    );
    assert!(!none.exists(), "a refused sweep makes nothing");
}

/// The sweep as a real Slurm job array: one task per shard, each running
/// `foxtrot sweep --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`, then
/// `foxtrot sweep merge` — equal, byte for byte, to the unsharded sweep run here.
#[test]
#[cfg_attr(not(has_slurm), ignore = "needs slurm-wlm and munge: bash .ci/run installs it")]
fn a_slurm_job_array_runs_the_shards_and_merges_to_the_whole_sweep() {
    let d = tempdir("slurm");
    let _cleanup = RemoveOnSuccess(d.clone());
    let cluster_dir = d.join("cluster");
    let Some(cluster) = external::SlurmCluster::start(&cluster_dir) else {
        return;
    };

    let md = imported_quotes(&d, 30000);
    let grid = "--grid strategy.momentum.fast=5,10,20 --grid strategy.momentum.slow=50,100";
    let whole = d.join("whole");
    let mut args = vec![
        "sweep",
        "--data",
        md.to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
    ];
    args.extend(grid.split(' '));
    ok(&args);

    let shards = d.join("shards");
    let job = d.join("job.sh");
    std::fs::write(
        &job,
        format!(
            "#!/bin/bash\nset -e\necho \"$SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT\" > {shards}/ran-$SLURM_ARRAY_TASK_ID\n\
             exec {exe} sweep --data {md} {grid} --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --jobs 1 --out {shards}/$SLURM_ARRAY_TASK_ID\n",
            shards = shards.display(),
            exe = env!("CARGO_BIN_EXE_foxtrot"),
            md = md.display(),
        ),
    )
    .unwrap();
    std::fs::create_dir_all(&shards).unwrap();
    cluster.run_array(&job, 3, &shards);
    // Three tasks of one array job, each told its place by Slurm.
    let ran: Vec<String> = (0..3)
        .map(|i| std::fs::read_to_string(shards.join(format!("ran-{i}"))).unwrap())
        .collect();
    let job_id = ran[0].split(' ').next().unwrap().to_string();
    for (i, r) in ran.iter().enumerate() {
        assert_eq!(r.trim(), format!("{job_id} {i} 3"));
    }
    let merged = d.join("merged");
    let parts: Vec<String> = (0..3)
        .map(|i| shards.join(i.to_string()).to_string_lossy().into_owned())
        .collect();
    let mut m = vec!["sweep", "merge"];
    m.extend(parts.iter().map(String::as_str));
    m.extend(["--out", merged.to_str().unwrap()]);
    ok(&m);
    assert_eq!(files(&whole), files(&merged));
}
