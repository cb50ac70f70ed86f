#!/usr/bin/env bash
# The EMA-cross backtest of issue #20 on this machine, foxtrot beside hftbacktest
# 2.4.4 (the peer the issue measured), over the same seeded quotes, alternated so
# the machine's noise falls on both: `foxtrot-perf backtest` (its tight loops,
# the lean backtest, the full pipeline; import not timed) and
# `tools/tests/hftbacktest_ema.py` (hftbacktest's hashmap and ROI-vector depths;
# loading not timed). Each checks its answer; the two answers must agree.
#   bash perf/vs_hftbacktest.sh [QUOTES] [ROUNDS]
# Needs python3 with hftbacktest==2.4.4 (`.ci/run` installs it in target/ci-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
quotes="${1:-1000000}"
rounds="${2:-2}"
[ -x target/ci-venv/bin/python3 ] && export PATH="$PWD/target/ci-venv/bin:$PATH"
python3 -c "import hftbacktest" 2>/dev/null || { echo "python3 has no hftbacktest: pip install hftbacktest==2.4.4" >&2; exit 1; }
cargo build --release -q -p foxtrot-perf
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
  target/release/foxtrot-perf backtest --quotes "$quotes" --runs 3 --dir "$tmp" --csv "$tmp/walk.csv" --json > "$tmp/foxtrot.$r.json"
  python3 tools/tests/hftbacktest_ema.py "$tmp/walk.csv" --depth hashmap --depth roivec --runs 3 > "$tmp/hbt.$r.json"
done
python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
fox = [json.load(open(f"{tmp}/foxtrot.{r}.json")) for r in range(1, rounds + 1)]
hbt = [json.load(open(f"{tmp}/hbt.{r}.json")) for r in range(1, rounds + 1)]
n = fox[0]["quotes"]
ans = fox[0]["answer"]
for h in hbt:
    for res in h["results"]:
        same = (res["orders"] == ans["orders"] and res["position"] == ans["position"]
                and abs(res["equity"] - ans["pnl"]) < 0.005)
        if not same:
            sys.exit(f"hftbacktest ({res['depth']}) answered {res}, foxtrot's reference {ans}")
print(f"EMA-cross backtest, {n} quotes, {rounds} rounds alternated; both answer {ans['orders']} orders, "
      f"position {ans['position']}, PnL {ans['pnl']:.2f}")
rates = {}
for k in ["tight_array", "tight_journal", "tight_rows", "lean", "full"]:
    rates[f"foxtrot {k}"] = [f["quotes_per_s"][k]["median"] for f in fox if f["quotes_per_s"][k]]
for depth in ["hashmap", "roivec"]:
    rates[f"hftbacktest {depth}"] = [n / statistics.median(r["seconds"]) for h in hbt
                                     for r in h["results"] if r["depth"] == depth]
roi = statistics.median(rates["hftbacktest roivec"])
for name, rs in rates.items():
    m = statistics.median(rs)
    print(f"  {name:<24} {m / 1e6:8.2f} M quotes/s (round medians {', '.join(f'{x / 1e6:.2f}' for x in rs)})"
          f"  {m / roi:6.2f}× hftbacktest roivec")
PY
