#!/usr/bin/env python3
"""Where an order's round trip goes: order -> acknowledgement split at the four
system calls that carry it, from `perf script --ns` output of the syscall
tracepoints (sendto/recvfrom enter and exit, recvfrom exits filtered to ret > 0).

    order_ack_trace.py TRACE INITIATOR_PID INITIATOR_FD VENUE_PID VENUE_FD [LABEL]

For each order the initiator writes on its FIX socket (sendto on INITIATOR_FD):
  write     the initiator's sendto of the order, enter to exit (the kernel's
            loopback TCP path runs inside it, up to the venue's socket queue)
  to venue  from the initiator's sendto to the venue's first read returning bytes
            on VENUE_FD (the venue noticing it)
  venue     from that read to the venue's sendto of its answer on VENUE_FD
            (decode, match, encode, store)
  answer    the venue's sendto of the answer, enter to exit
  to engine from the venue's sendto to the initiator's first read returning bytes
            on INITIATOR_FD
  total     the initiator's sendto to that read: the round trip the order's
            sender sees, less its own encode before and decode after.
Prints p10/p25/p50/p75/p90 of each in microseconds.
"""
import re
import sys

LINE = re.compile(r"\s*.+?\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+syscalls:(\w+):\s*(.*)")
FD = re.compile(r"fd: (0x[0-9a-f]+)")


def load(path, ipid, ifd, vpid, vfd):
    """Events (t, who, what, duration) in time order: who is 'i' or 'v'; what is
    'send' (with its duration) or 'read'."""
    open_send, open_recv, events = {}, {}, []
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        pid, tid, t, name, rest = int(m[1]), int(m[2]), float(m[4]), m[5], m[6]
        if pid not in (ipid, vpid):
            continue
        want = ifd if pid == ipid else vfd
        who = "i" if pid == ipid else "v"
        if name == "sys_enter_sendto":
            f = FD.search(rest)
            if f and int(f[1], 16) == want:
                open_send[tid] = t
        elif name == "sys_exit_sendto" and tid in open_send:
            t0 = open_send.pop(tid)
            events.append((t0, who, "send", t - t0))
        elif name == "sys_enter_recvfrom":
            f = FD.search(rest)
            open_recv[tid] = f and int(f[1], 16) == want
        elif name == "sys_exit_recvfrom":
            if open_recv.pop(tid, False):
                events.append((t, who, "read", 0.0))
    events.sort(key=lambda e: e[0])
    return events


def rounds(events):
    """One row per order: (write, to venue, venue, answer, to engine, total), s."""
    rows, cur = [], None
    for t, who, what, dur in events:
        if who == "i" and what == "send":
            cur = {"a": t, "write": dur}
        elif cur is None:
            continue
        elif who == "v" and what == "read" and "b" not in cur:
            cur["b"] = t
        elif who == "v" and what == "send" and "b" in cur and "c" not in cur:
            cur["c"], cur["answer"] = t, dur
        elif who == "i" and what == "read" and "c" in cur:
            a, b, c = cur["a"], cur["b"], cur["c"]
            rows.append((cur["write"], b - a, c - b, cur["answer"], t - c, t - a))
            cur = None
    return rows


def main():
    path, ipid, ifd, vpid, vfd = sys.argv[1], *map(int, sys.argv[2:6])
    label = sys.argv[6] if len(sys.argv) > 6 else path
    rows = rounds(load(path, ipid, ifd, vpid, vfd))
    if not rows:
        print(f"{label}: no order and answer found in the trace")
        return 1
    names = ["write", "to venue", "venue", "answer", "to engine", "total"]
    print(f"{label}: {len(rows)} orders, µs   p10    p25    p50    p75    p90")
    for k, n in enumerate(names):
        xs = sorted(r[k] * 1e6 for r in rows)
        q = [xs[min(len(xs) - 1, int(len(xs) * p / 100))] for p in (10, 25, 50, 75, 90)]
        print(f"  {n:<10}" + "".join(f"{v:7.1f}" for v in q))
    return 0


if __name__ == "__main__":
    sys.exit(main())
