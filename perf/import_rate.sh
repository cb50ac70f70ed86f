#!/usr/bin/env bash
# The import figures of issue #20: `foxtrot import --format csv` of a 1M-quote CSV
# (the seeded EUR/USD walk `foxtrot-perf backtest --csv` writes, five-decimal prices,
# `--tick 1`), median of RUNS, in rows/s — of the whole command, and as the import
# reports itself (without the process's start and exit); and 1,000 quotes' wall time
# and peak RSS. With a second foxtrot binary (a build of another commit), the two
# are alternated run by run so the machine's noise falls on both, and both
# journals must hold the same bytes past their segment headers.
#   bash perf/import_rate.sh [RUNS] [DIR] [OTHER_FOXTROT]
# DIR is where the CSV and the imports go (default /dev/shm: tmpfs; give a directory
# on disk to include its writes and final msync).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
dir="${2:-/dev/shm}"
other="${3:-}"
cargo build --release -q -p foxtrot-tools -p foxtrot-perf
tmp="$(mktemp -d "$dir/foxtrot-import-rate.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
target/release/foxtrot-perf backtest --quotes 1000000 --runs 1 --only tight-array \
  --dir "$tmp" --csv "$tmp/q1m.csv" > /dev/null
head -1001 "$tmp/q1m.csv" > "$tmp/q1k.csv"
python3 - "$tmp" "$runs" "$PWD/target/release/foxtrot" "$other" <<'PY'
import os, re, resource, shutil, statistics, subprocess, sys, time
tmp, runs, this, other = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
bins = [("this", this)] + ([("other", other)] if other else [])
rows = sum(1 for _ in open(f"{tmp}/q1m.csv")) - 1

def run(binary, csv, out):
    shutil.rmtree(out, ignore_errors=True)
    args = [binary, "import", "--format", "csv", "--tick", "1", "--price-decimals", "5",
            "--out", out, csv]
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{binary} import failed: {p.stderr.strip()}")
    # The import's own figure (reading, parsing and journalling, without the
    # process's start and exit) beside the whole command's.
    own = re.search(r" in ([0-9.]+) s ", p.stdout)
    return dt, float(own.group(1)) if own else float("nan")

def segments(out):
    d = os.path.join(out, "market_data")
    return [open(os.path.join(d, f), "rb").read()[64:] for f in sorted(os.listdir(d)) if f.endswith(".seg")]

# 1,000 quotes first, so that the peak RSS of the children waited for so far
# (ru_maxrss: the largest of them) is theirs alone.
small = [run(this, f"{tmp}/q1k.csv", f"{tmp}/imp-1k")[0] for _ in range(5)]
small_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

secs = {k: [] for k, _ in bins}
for _ in range(runs):
    for k, b in bins:
        secs[k].append(run(b, f"{tmp}/q1m.csv", f"{tmp}/imp-{k}"))
if other and segments(f"{tmp}/imp-this") != segments(f"{tmp}/imp-other"):
    sys.exit("the two binaries wrote different journals")
print(f"foxtrot import of {rows:,} quotes in {tmp} (whole command, {runs} runs"
      + (", alternated" if other else "") + "); target ≥ 10M rows/s")
for k, b in bins:
    whole = [w for w, _ in secs[k]]
    m, o = statistics.median(whole), statistics.median(x for _, x in secs[k])
    print(f"  {k:<5} {b}: median {m:.3f} s = {rows / m / 1e6:.2f}M rows/s whole command"
          f" (best {min(whole):.3f} s, worst {max(whole):.3f} s); as the import reports itself"
          f" {o:.3f} s = {rows / o / 1e6:.2f}M rows/s")
if other:
    print("  the same journal from both (segments byte-identical past their headers)")
print(f"  1,000 quotes ({this}): median {statistics.median(small) * 1e3:.1f} ms, peak RSS"
      f" {small_rss_mb:.1f} MB (targets < 20 ms, < 30 MB)")
PY
