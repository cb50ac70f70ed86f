"""Resting limit orders run through hftbacktest's exchange, a peer's queue models.

    python3 hftbacktest_queue.py EVENTS.csv ORDERS.csv --queue risk_averse|prob|fifo

EVENTS.csv rows (no header), for the L2 models `ts_ns,kind,side,px,qty`:
kind `Q` sets a side's top of book (side `B` bid, `S` ask; one level a side,
the old level deleted when the price moved), kind `T` is a trade (side = the
aggressor's). For `fifo` (L3, order by order) `ts_ns,kind,side,px,qty,id`, as
ITCH tells them: `A` adds order `id` of `qty`, `X` cancels `qty` of it (it
keeps its place), `D` deletes it, `E` executes `qty` of it (side = the
resting order's). Prices are in ticks (tick size 1), quantities in lots (lot
size 1). ORDERS.csv rows `ts_ns,id,side,px,qty`: a GTC limit order submitted
at ts_ns (never cancelled; none crosses the touch when it arrives).

The orders go to hftbacktest 2.4.4's NoPartialFillExchange with the
RiskAdverseQueueModel or the ProbQueueModel with PowerProbQueueFunc(2), or
its L3NoPartialFillExchange with the L3FIFOQueueModel; order latency 1 ns
each way (data events are milliseconds apart: an order meets the book of its
submission time), no feed latency. An execution reaches hftbacktest's L3
exchange as its fill event followed by the order's new size (a modify) or,
when nothing is left, its cancel — the form its L3 data takes. The strategy loop submits
each order at its time and, after each feed or order response, reads every
order's leaves quantity: a decrease is a fill, stamped with the exchange
time hftbacktest gives it.

Prints one JSON line: {"fills": [[id, exch_ts, price, qty], ...]} in the
order seen.
"""

import argparse
import json
import sys

import numpy as np
from numba import njit

from hftbacktest import (
    BacktestAsset,
    HashMapMarketDepthBacktest,
    ADD_ORDER_EVENT,
    BUY_EVENT,
    CANCEL_ORDER_EVENT,
    FILL_EVENT,
    MODIFY_ORDER_EVENT,
    SELL_EVENT,
    DEPTH_EVENT,
    TRADE_EVENT,
    EXCH_EVENT,
    LOCAL_EVENT,
    GTC,
    LIMIT,
    event_dtype,
)


def read_events(path):
    seen = EXCH_EVENT | LOCAL_EVENT
    rows = []
    top = {"B": None, "S": None}
    with open(path) as f:
        for line in f:
            ts, kind, side, px, qty = line.strip().split(",")
            ts, px, qty = int(ts), float(px), float(qty)
            flag = BUY_EVENT if side == "B" else SELL_EVENT
            if kind == "Q":
                if top[side] is not None and top[side] != px:
                    rows.append((seen | DEPTH_EVENT | flag, ts, ts, top[side], 0.0, 0, 0, 0.0))
                rows.append((seen | DEPTH_EVENT | flag, ts, ts, px, qty, 0, 0, 0.0))
                top[side] = px
            elif kind == "T":
                rows.append((seen | TRADE_EVENT | flag, ts, ts, px, qty, 0, 0, 0.0))
            else:
                sys.exit(f"{path}: unknown kind {kind!r}")
    # The data of the last time is the end of the data, not a feed: a later
    # event that changes nothing (the last ask set again) lets every order
    # see the last one.
    last = rows[-1]
    rows.append((seen | DEPTH_EVENT | SELL_EVENT, last[1] + 1_000_000, last[2] + 1_000_000, top["S"], 0.0, 0, 0, 0.0))
    rows.append((seen | DEPTH_EVENT | SELL_EVENT, last[1] + 1_000_001, last[2] + 1_000_001, top["S"], 1.0, 0, 0, 0.0))
    return np.array(rows, dtype=event_dtype)


def read_l3_events(path):
    seen = EXCH_EVENT | LOCAL_EVENT
    rows = []
    left = {}
    with open(path) as f:
        for line in f:
            ts, kind, side, px, qty, oid = line.strip().split(",")
            ts, px, qty, oid = int(ts), float(px), float(qty), int(oid)
            flag = BUY_EVENT if side == "B" else SELL_EVENT
            if kind == "A":
                rows.append((seen | ADD_ORDER_EVENT | flag, ts, ts, px, qty, oid, 0, 0.0))
                left[oid] = qty
                continue
            if kind == "E":
                rows.append((seen | FILL_EVENT | flag, ts, ts, px, qty, oid, 0, 0.0))
            elif kind not in "XD":
                sys.exit(f"{path}: unknown kind {kind!r}")
            left[oid] = 0.0 if kind == "D" else left[oid] - qty
            if left[oid] > 0:
                rows.append((seen | MODIFY_ORDER_EVENT | flag, ts, ts, px, left[oid], oid, 0, 0.0))
            else:
                rows.append((seen | CANCEL_ORDER_EVENT | flag, ts, ts, px, 0.0, oid, 0, 0.0))
                del left[oid]
    # As for the L2 data: a last event that changes nothing, after the end.
    last = rows[-1]
    end = 1 << 40
    for k in range(2):
        flag = ADD_ORDER_EVENT if k == 0 else CANCEL_ORDER_EVENT
        rows.append((seen | flag | SELL_EVENT, last[1] + 1_000_000 + k, last[2] + 1_000_000 + k, 1e9, 1.0, end, 0, 0.0))
    return np.array(rows, dtype=event_dtype)


def read_orders(path):
    ts, ids, side, px, qty = [], [], [], [], []
    with open(path) as f:
        for line in f:
            t, i, s, p, q = line.strip().split(",")
            ts.append(int(t))
            ids.append(int(i))
            side.append(1 if s == "B" else -1)
            px.append(float(p))
            qty.append(float(q))
    return (np.array(ts, dtype=np.int64), np.array(ids, dtype=np.uint64), np.array(side, dtype=np.int64),
            np.array(px), np.array(qty))


@njit
def drive(hbt, o_ts, o_id, o_side, o_px, o_qty, out):
    n = len(o_ts)
    leaves = o_qty.copy()
    k = 0
    m = 0
    # Before the first event the backtest's clock reads i64::MAX: start it.
    if hbt.wait_next_feed(True, 3_600_000_000_000) == 1:
        return 0
    while True:
        now = hbt.current_timestamp
        if k < n and now >= o_ts[k]:
            if o_side[k] == 1:
                hbt.submit_buy_order(0, o_id[k], o_px[k], o_qty[k], GTC, LIMIT, False)
            else:
                hbt.submit_sell_order(0, o_id[k], o_px[k], o_qty[k], GTC, LIMIT, False)
            k += 1
            continue
        timeout = o_ts[k] - now if k < n else 3_600_000_000_000
        r = hbt.wait_next_feed(True, timeout)
        if r == 1:
            break
        orders = hbt.orders(0)
        for j in range(k):
            o = orders.get(o_id[j])
            if o is None:
                continue
            if o.leaves_qty < leaves[j]:
                out[m, 0] = o_id[j]
                out[m, 1] = o.exch_timestamp
                out[m, 2] = o.exec_price_tick
                out[m, 3] = round(leaves[j] - o.leaves_qty)
                m += 1
                leaves[j] = o.leaves_qty
    return m


def main():
    p = argparse.ArgumentParser()
    p.add_argument("events")
    p.add_argument("orders")
    p.add_argument("--queue", choices=["risk_averse", "prob", "fifo"], required=True)
    a = p.parse_args()
    data = read_l3_events(a.events) if a.queue == "fifo" else read_events(a.events)
    o_ts, o_id, o_side, o_px, o_qty = read_orders(a.orders)
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(1, 1)
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(1.0)
        .lot_size(1.0)
    )
    if a.queue == "risk_averse":
        asset = asset.risk_adverse_queue_model()
    elif a.queue == "fifo":
        asset = asset.l3_fifo_queue_model()
    else:
        asset = asset.power_prob_queue_model(2.0)
    hbt = HashMapMarketDepthBacktest([asset])
    out = np.zeros((int(o_qty.sum()) + 1, 4), dtype=np.int64)
    m = drive(hbt, o_ts, o_id, o_side, o_px, o_qty, out)
    hbt.close()
    print(json.dumps({"fills": out[:m].tolist()}))


if __name__ == "__main__":
    main()
