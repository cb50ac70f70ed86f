"""A plain ITCH 5.0 order book, the reference `tools/tests/itch.rs` holds
`foxtrot itch book` to: its own decoder (the BinaryFILE framing, where a zero
length prefix means the type gives the length; big-endian fields at the
specification's offsets), orders by reference number, executions and
cancels taking shares off, deletes, and replaces that move an order to a new
reference with new shares and price. Prints one JSON object: message counts
by type, references to orders not live, orders live at the end, and each
stock's levels, best first, as [price, shares at the level]."""
import gzip
import json
import struct
import sys
from collections import Counter, defaultdict

# Message lengths by type, from the ITCH 5.0 specification.
LEN = {"S": 12, "R": 39, "H": 25, "Y": 20, "L": 26, "V": 35, "W": 12, "K": 28, "J": 35, "h": 21,
       "A": 36, "F": 40, "E": 31, "C": 36, "X": 23, "D": 19, "U": 35, "P": 44, "Q": 40, "B": 19,
       "I": 50, "N": 20}

path = sys.argv[1]
data = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
orders = {}  # reference -> [locate, side, shares, price]
stock = {}
counts, unknown = Counter(), Counter()
at = 0
while at + 2 <= len(data):
    (n,) = struct.unpack_from(">H", data, at)
    t = chr(data[at + 2])
    assert n in (0, LEN[t]), f"length {n} for a {t!r} at byte {at}"
    m = data[at + 2: at + 2 + LEN[t]]
    at += 2 + LEN[t]
    counts[t] += 1
    (loc,) = struct.unpack_from(">H", m, 1)
    if t == "R":
        stock[loc] = m[11:19].decode().strip()
    elif t in "AF":
        ref, side, shares, _, price = struct.unpack_from(">QcI8sI", m, 11)
        orders[ref] = [loc, side.decode(), shares, price]
    elif t in "ECXD":
        (ref,) = struct.unpack_from(">Q", m, 11)
        o = orders.get(ref)
        if o is None:
            unknown[t] += 1
        elif t == "D":
            del orders[ref]
        else:
            o[2] -= struct.unpack_from(">I", m, 19)[0]
            if o[2] <= 0:
                del orders[ref]
    elif t == "U":
        ref, new, shares, price = struct.unpack_from(">QQII", m, 11)
        o = orders.pop(ref, None)
        if o is None:
            unknown[t] += 1
        else:
            orders[new] = [o[0], o[1], shares, price]
assert at == len(data), f"{len(data) - at} bytes after the last message"
levels = defaultdict(Counter)  # (locate, side) -> price -> shares
for loc, side, shares, price in orders.values():
    levels[(loc, side)][price] += shares


# Every level, best first, as [price, shares].
book = {sym: {"bids": [[p, levels[(loc, "B")][p]] for p in sorted(levels[(loc, "B")], reverse=True)],
              "asks": [[p, levels[(loc, "S")][p]] for p in sorted(levels[(loc, "S")])]}
        for loc, sym in sorted(stock.items())}
print(json.dumps({"counts": counts, "unknown": sum(unknown.values()), "live": len(orders), "symbols": book}))
