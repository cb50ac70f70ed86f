#!/usr/bin/env bash
# Instructions per ExecutionReport on the receive path, by part (and per order
# on the send path's encoder: the part `encode`), counted with
# callgrind: each part runs at two iteration counts and the difference is
# divided by the extra iterations, so start-up costs cancel out.
# Usage: bash perf/fix_decode_instr.sh [parts...]   (default: receive stream scan convert full; also encode)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --profile bench -p foxtrot-benches --example fix_decode_instructions
# (The bench profile builds into target/release.)
bin=target/release/examples/fix_decode_instructions
parts=("$@"); [ ${#parts[@]} -gt 0 ] || parts=(receive stream scan convert full)
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
for p in "${parts[@]}"; do
  a=$(count "$p" 10000); b=$(count "$p" 60000)
  what=report; [ "$p" = encode ] && what=order
  echo "$p: $(( (b - a) / 50000 )) instructions per $what"
done
