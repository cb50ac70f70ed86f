#!/usr/bin/env bash
# Instructions of one pass of the fused core over a default sim session's
# recorded inputs (every input, the orders encoded), counted with callgrind in
# the passes alone (recording and start-up left out).
# Usage: bash perf/core_instr.sh [EVENTS]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --profile bench -p foxtrot-benches --example core_instructions
bin=target/release/examples/core_instructions
events="${1:-200000}"
n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='core_instructions::passes_over' \
  "$bin" 1 "$events" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
echo "core: $n instructions for one pass over the session's inputs ($events market-data events)"
