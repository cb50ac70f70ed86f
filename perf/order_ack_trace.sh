#!/usr/bin/env bash
# Where the order -> ack time goes, for a live engine and for foxtrot-perf fix-rtt
# back to back against the same venue: the round trip split at the system calls
# that carry it (the initiator's write, the venue's read and write, the
# initiator's read), from the kernel's syscall tracepoints (perf record -a: run
# as root). The tracing itself adds ~1 µs a call; compare the two rows, not
# these figures with perf/order_ack.sh's.
#   bash perf/order_ack_trace.sh [SECONDS] [foxtrot run options]
# FOXTROT_PIN as in perf/order_ack.sh (pinned by default where there are two CPUs).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-3}"
shift || true
[ "$(id -u)" = 0 ] || { echo "run as root (perf record -a of syscall tracepoints)"; exit 1; }
cargo build --release -q -p foxtrot-tools -p foxtrot-perf
cpus="$(nproc)"
venue_on=() engine_on=()
if [ "${FOXTROT_PIN:-$([ "$cpus" -ge 2 ] && echo 1 || echo 0)}" = 1 ]; then
  venue_on=(taskset -c "$((cpus - 1))") engine_on=(taskset -c 0)
fi
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
sed -e "s#/dev/shm/foxtrot-paper.stats#$tmp/stats#" \
    -e "s#belief_weights.yaml#$PWD/configs/belief_weights.yaml#" configs/paper.yaml > "$tmp/paper.yaml"
port="$(awk '/^ *address:/ {n = split($2, a, ":"); print a[n]; exit}' "$tmp/paper.yaml")"
port="${port:-9878}"
"${venue_on[@]}" target/release/foxtrot venue --config "$tmp/paper.yaml" --session-store "$tmp/venue-store" --spin \
  >/dev/null 2>"$tmp/venue.log" &
venue=$!
sleep 0.5
# The process and socket of each end of the session: "PID FD" of the local end
# at the venue's port (the venue) or connected to it (the initiator).
ends() {
  ss -tnpH state established "( sport = :$port or dport = :$port )" |
    awk -v p=":$port" -v side="$1" '
      { local_end = ($3 ~ p"$") ? "venue" : "initiator" }
      local_end == side { match($0, /pid=[0-9]+,fd=[0-9]+/); s = substr($0, RSTART, RLENGTH);
                          gsub(/pid=|fd=/, "", s); sub(/,/, " ", s); print s; exit }'
}
trace() {  # LABEL: records SECONDS of the session's system calls, prints the split
  local label="$1" i v
  i="$(ends initiator)"; v="$(ends venue)"
  perf record -q -a -o "$tmp/perf.data" \
    -e syscalls:sys_enter_sendto -e syscalls:sys_exit_sendto \
    -e syscalls:sys_enter_recvfrom -e syscalls:sys_exit_recvfrom --filter "ret > 0" \
    -- sleep "$secs" 2>/dev/null
  perf script --ns -i "$tmp/perf.data" -F comm,pid,tid,cpu,time,event,trace 2>/dev/null > "$tmp/trace.txt"
  # shellcheck disable=SC2086
  python3 perf/order_ack_trace.py "$tmp/trace.txt" $i $v "$label"
}
"${engine_on[@]}" target/release/foxtrot run --config "$tmp/paper.yaml" --session-store "$tmp/engine-store" \
  --record "$tmp/run" "$@" >/dev/null 2>"$tmp/engine.log" &
engine=$!
sleep 1.5
trace "live engine"
kill -TERM "$engine" 2>/dev/null || { echo "the engine ended early:"; tail -5 "$tmp/engine.log"; }
wait "$engine" 2>/dev/null || true
"${engine_on[@]}" target/release/foxtrot-perf fix-rtt --config "$tmp/paper.yaml" --orders 1000000 >/dev/null 2>"$tmp/rtt.log" &
rtt=$!
sleep 1
trace "fix-rtt, back to back"
kill "$rtt" 2>/dev/null || true
kill -TERM "$venue" 2>/dev/null || true
