"""The EMA cross of issue #20 run by hftbacktest, a peer backtester, over a quote CSV.

    python3 hftbacktest_ema.py QUOTES.csv [--params FAST,SLOW]... [--qty 100000] \
        [--price-decimals 5] [--depth hashmap|roivec]... [--runs N]

The CSV is the one `foxtrot import --format csv` takes (timestamp,bid,bid_size,
ask,ask_size with ISO times). Each quote becomes hftbacktest depth events, seen by
its exchange and its local side at the quote's time: the old bid or ask level
deleted when its price moved, then both sides set. The strategy is written in
hftbacktest's own terms (numba, `wait_next_feed`, market orders, its position
and balance): EMAs of the mid in f64, the first mid starting both and then
alpha = 2/(span+1); from the slow-th quote on, the target is +qty while fast >
slow and -qty while below (unchanged when equal), reached by one market order
that the NoPartialFillExchange fills at the touch (order latency 1 ns each way,
well inside the 5 ms between quotes, so an order meets the quote it was decided
on and its fill is back before the next).

Prints one JSON line: orders (hftbacktest's trade count), final position,
equity (balance plus the position at the final mid), and the seconds each run
took in hftbacktest's loop (the data built beforehand, as loading is excluded
for every backtester compared).
"""

import argparse
import json
import sys
import time

import numpy as np
from numba import njit

from hftbacktest import (
    BacktestAsset,
    HashMapMarketDepthBacktest,
    ROIVectorMarketDepthBacktest,
    BUY_EVENT,
    SELL_EVENT,
    DEPTH_EVENT,
    EXCH_EVENT,
    LOCAL_EVENT,
    GTC,
    MARKET,
    event_dtype,
)


def read_quotes(path, decimals):
    """The CSV's rows as integer arrays (prices in units of 10^-decimals)."""
    ts, bid, bid_sz, ask, ask_sz = [], [], [], [], []
    scale = 10**decimals
    with open(path) as f:
        header = f.readline().strip().split(",")
        if header != ["timestamp", "bid", "bid_size", "ask", "ask_size"]:
            sys.exit(f"{path}: unexpected header {header}")
        for line in f:
            t, b, bs, a, as_ = line.rstrip("\n").split(",")
            ts.append(t.rstrip("Z"))
            bid.append(round(float(b) * scale))
            bid_sz.append(int(bs))
            ask.append(round(float(a) * scale))
            ask_sz.append(int(as_))
    ts_ns = np.array(ts, dtype="datetime64[ns]").astype(np.int64)
    return ts_ns, np.array(bid), np.array(bid_sz), np.array(ask), np.array(ask_sz)


def events(ts, bid, bid_sz, ask, ask_sz, tick, feed_ns):
    """hftbacktest events: per quote, deletes of the levels that moved, then
    both sides; the exchange sees each at the quote's time, the strategy
    `feed_ns` later."""
    rows = []
    prev_bid = prev_ask = None
    seen = EXCH_EVENT | LOCAL_EVENT
    for t, b, bs, a, as_ in zip(ts.tolist(), bid.tolist(), bid_sz.tolist(), ask.tolist(), ask_sz.tolist()):
        lt = t + feed_ns
        if prev_bid is not None and prev_bid != b:
            rows.append((seen | DEPTH_EVENT | BUY_EVENT, t, lt, prev_bid * tick, 0.0, 0, 0, 0.0))
        if prev_ask is not None and prev_ask != a:
            rows.append((seen | DEPTH_EVENT | SELL_EVENT, t, lt, prev_ask * tick, 0.0, 0, 0, 0.0))
        rows.append((seen | DEPTH_EVENT | BUY_EVENT, t, lt, b * tick, float(bs), 0, 0, 0.0))
        rows.append((seen | DEPTH_EVENT | SELL_EVENT, t, lt, a * tick, float(as_), 0, 0, 0.0))
        prev_bid, prev_ask = b, a
    # hftbacktest reports the data of the last time as the end of the data, not
    # as a feed: a last event that changes nothing (the ask set to what it is)
    # lets the strategy see the last quote.
    if rows:
        last = rows[-1]
        rows.append((last[0], last[1] + 1, last[2] + 1) + last[3:])
    return np.array(rows, dtype=event_dtype)


@njit
def ema_cross(hbt, fast, slow, qty, half_scale, wait):
    alpha_fast = 2.0 / (fast + 1.0)
    alpha_slow = 2.0 / (slow + 1.0)
    fast_ema = 0.0
    slow_ema = 0.0
    seen = 0
    target = 0.0
    sent = 0.0
    order_id = 0
    last_bid = 0
    last_ask = 0
    while True:
        # 2: a quote (every event of its time applied); 0: a quiet hour; 1: the end.
        r = hbt.wait_next_feed(False, 3_600_000_000_000)
        if r == 0:
            continue
        if r != 2:
            break
        depth = hbt.depth(0)
        b = depth.best_bid_tick
        a = depth.best_ask_tick
        last_bid = b
        last_ask = a
        mid = (b + a) * half_scale
        if seen == 0:
            fast_ema = mid
            slow_ema = mid
        else:
            fast_ema += alpha_fast * (mid - fast_ema)
            slow_ema += alpha_slow * (mid - slow_ema)
        seen += 1
        if seen < slow:
            continue
        if fast_ema > slow_ema:
            target = qty
        elif fast_ema < slow_ema:
            target = -qty
        position = hbt.position(0)
        if position != sent:
            # The last order's fill has not come back yet: hold.
            continue
        if target != position:
            order_id += 1
            q = target - position
            sent = target
            if q > 0:
                hbt.submit_buy_order(0, order_id, depth.best_ask, q, GTC, MARKET, wait)
            else:
                hbt.submit_sell_order(0, order_id, depth.best_bid, -q, GTC, MARKET, wait)
            hbt.clear_inactive_orders(0)
    return last_bid, last_ask


def run(data, depth, tick, lo, hi, fast, slow, qty, half_scale, latency=(1, 1)):
    """One backtest over `data`: (seconds in the strategy loop, its answer).
    `latency` is (entry, response) constant, or recorded rows for hftbacktest's
    `IntpOrderLatency`."""
    asset = BacktestAsset().data([data]).linear_asset(1.0)
    if isinstance(latency, tuple):
        asset = asset.constant_order_latency(latency[0], latency[1])
    else:
        asset = asset.intp_order_latency(latency)
    asset = (
        asset
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(tick)
        .lot_size(1.0)
    )
    if depth == "roivec":
        asset = asset.roi_lb((lo - 1000) * tick).roi_ub((hi + 1000) * tick)
        hbt = ROIVectorMarketDepthBacktest([asset])
    else:
        hbt = HashMapMarketDepthBacktest([asset])
    t = time.perf_counter()
    # With the default 1 ns each way the strategy waits for each order's
    # response (it is back long before the next quote); with a longer latency
    # it goes on seeing quotes, and holds while an order is out.
    last_bid, last_ask = ema_cross(hbt, fast, slow, qty, half_scale, isinstance(latency, tuple) and latency == (1, 1))
    took = time.perf_counter() - t
    sv = hbt.state_values(0)
    position = sv.position
    answer = {
        "orders": int(sv.num_trades),
        "position": position,
        "equity": sv.balance + position * (last_bid + last_ask) * half_scale,
    }
    hbt.close()
    return took, answer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("csv")
    p.add_argument("--params", action="append", default=[], metavar="FAST,SLOW",
                   help="EMA spans (repeatable; default 10,50)")
    p.add_argument("--qty", type=float, default=100000.0)
    p.add_argument("--price-decimals", type=int, default=5)
    p.add_argument("--depth", action="append", choices=["hashmap", "roivec"], default=[],
                   help="hftbacktest's market depth (repeatable; default hashmap)")
    p.add_argument("--runs", type=int, default=1, help="timed runs of each")
    p.add_argument("--latency", default="1,1", metavar="ENTRY_NS,RESPONSE_NS",
                   help="hftbacktest's constant order latency (default 1,1)")
    p.add_argument("--latency-file", metavar="CSV",
                   help="recorded order latencies, ts_ns,entry_ns,response_ns rows (foxtrot's latency_file),"
                        " for hftbacktest's IntpOrderLatency as req_ts = ts, exch_ts = ts + entry,"
                        " resp_ts = exch_ts + response")
    p.add_argument("--feed-ns", type=int, default=0,
                   help="feed latency: each quote reaches the strategy this long after the exchange")
    a = p.parse_args()
    params = [tuple(int(x) for x in s.split(",")) for s in a.params] or [(10, 50)]
    latency = tuple(int(x) for x in a.latency.split(","))
    if a.latency_file:
        rows = [[int(x) for x in line.split(",")] for line in open(a.latency_file)
                if line.strip() and line[0].isdigit()]
        latency = np.zeros(len(rows), dtype=[("req_ts", "i8"), ("exch_ts", "i8"), ("resp_ts", "i8"), ("_padding", "i8")])
        for k, (ts, entry, response) in enumerate(rows):
            latency[k] = (ts, ts + entry, ts + entry + response, 0)
    tick = 10.0 ** -a.price_decimals
    ts, bid, bid_sz, ask, ask_sz = read_quotes(a.csv, a.price_decimals)
    data = events(ts, bid, bid_sz, ask, ask_sz, tick, a.feed_ns)
    lo, hi = min(bid.min(), ask.min()), max(bid.max(), ask.max())
    half_scale = 0.5 / 10**a.price_decimals
    results = []
    for depth in a.depth or ["hashmap"]:
        # A run over a few quotes compiles the strategy for this depth (not timed).
        run(data[:1000], depth, tick, lo, hi, 10, 50, a.qty, half_scale, latency)
        for fast, slow in params:
            secs, answer = [], None
            for _ in range(a.runs):
                took, answer = run(data, depth, tick, lo, hi, fast, slow, a.qty, half_scale, latency)
                secs.append(took)
            results.append({"depth": depth, "fast": fast, "slow": slow, **answer, "seconds": secs})
    print(json.dumps({"quotes": len(ts), "results": results}))


if __name__ == "__main__":
    main()
