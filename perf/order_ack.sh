#!/usr/bin/env bash
# The order -> ack latency of a live engine (foxtrot run against foxtrot venue over
# FIX on loopback, read from its live board) next to what foxtrot-perf fix-rtt
# measures against the same venue in the same session.
#   bash perf/order_ack.sh [SECONDS] [foxtrot run options, e.g. --layout fused --wait busy_spin]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
shift || true
cargo build --release -q -p foxtrot-tools -p foxtrot-perf
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
sed -e "s#/dev/shm/foxtrot-paper.stats#$tmp/stats#" \
    -e "s#belief_weights.yaml#$PWD/configs/belief_weights.yaml#" configs/paper.yaml > "$tmp/paper.yaml"
target/release/foxtrot venue --config "$tmp/paper.yaml" --session-store "$tmp/venue-store" >/dev/null 2>"$tmp/venue.log" &
sleep 0.5
target/release/foxtrot run --config "$tmp/paper.yaml" --session-store "$tmp/engine-store" \
  --record "$tmp/run" "$@" >/dev/null 2>"$tmp/engine.log" &
engine=$!
sleep "$secs"
echo "live engine (foxtrot ctl status):"
target/release/foxtrot ctl "$tmp/run" status | grep "order→ack"
kill -TERM "$engine"; wait "$engine" 2>/dev/null || true
# The engine logged out; the same session identity is free for the harness.
target/release/foxtrot-perf fix-rtt --config "$tmp/paper.yaml" --orders 5000 --label "foxtrot venue"
