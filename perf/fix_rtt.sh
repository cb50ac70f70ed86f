#!/usr/bin/env bash
# Loopback order -> ack round trip over FIX/TCP: foxtrot venue, then a QuickFIX
# acceptor (C++, libquickfix-dev) for comparison. Same client, same config.
#   bash perf/fix_rtt.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-10000}"
cargo build --release -q -p foxtrot-tools -p foxtrot-perf
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
target/release/foxtrot venue --config configs/paper.yaml --listen 127.0.0.1:19990 \
  --session-store "$tmp/venue-store" >/dev/null 2>"$tmp/venue.log" &
sleep 0.5
target/release/foxtrot-perf fix-rtt --connect 127.0.0.1:19990 --orders "$rounds" --label "foxtrot venue"
kill %1; wait %1 2>/dev/null || true
if pkg-config --exists quickfix; then
  g++ -std=c++14 -O2 -w -o "$tmp/quickfix_peer" tools/tests/external/quickfix_peer.cpp \
    $(pkg-config --cflags --libs quickfix) -lpthread
  "$tmp/quickfix_peer" acceptor 19991 FIX.4.4 PAPERVENUE FOXTROT_PAPER 600 >/dev/null 2>&1 &
  sleep 0.5
  target/release/foxtrot-perf fix-rtt --connect 127.0.0.1:19991 --orders "$rounds" --label "QuickFIX acceptor"
else
  echo "libquickfix-dev is not installed: no QuickFIX comparison"
fi
