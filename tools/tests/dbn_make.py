"""Writes small DBN files with Databento's own `databento-dbn` package (an encoder
nobody here wrote), one per schema the import supports, and prints what each
holds as JSON, for the Rust test to compare with what `foxtrot import` made.

usage: dbn_make.py OUT_DIR"""
import datetime
import json
import os
import sys
from types import SimpleNamespace as NS

import databento_dbn as d

out = sys.argv[1]
T0 = 1_767_623_400_000_000_000  # 2026-01-05 14:30 UTC
PX = 1_000_000_000  # 1.0 in DBN's 1e-9 fixed point
day = datetime.date(2026, 1, 5)


def write(name, schema, records, symbols=(("FOXA", 7), ("FOXB", 9)), dataset="XNAS.ITCH"):
    md = d.Metadata(
        dataset=dataset,
        schema=schema,
        start=T0,
        stype_in=d.SType.RAW_SYMBOL,
        stype_out=d.SType.INSTRUMENT_ID,
        end=T0 + 10**9,
        symbols=[s for s, _ in symbols],
        partial=[],
        not_found=[],
        mappings=[
            NS(raw_symbol=s, intervals=[NS(start_date=day, end_date=day + datetime.timedelta(days=1), symbol=str(i))])
            for s, i in symbols
        ],
    )
    with open(os.path.join(out, name + ".dbn"), "wb") as f:
        f.write(md.encode())
        for r in records:
            f.write(bytes(r))


LAST = d.F_LAST
A, B = d.Side.ASK, d.Side.BID
mbo = [
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 1, ts_recv=T0 + 2, order_id=11, price=100 * PX, size=300, action=d.Action.ADD, side=B, flags=LAST),
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 3, ts_recv=T0 + 4, order_id=12, price=100 * PX + PX // 100, size=200, action=d.Action.ADD, side=A, flags=LAST),
    d.MBOMsg(publisher_id=2, instrument_id=9, ts_event=T0 + 5, ts_recv=T0 + 6, order_id=13, price=50 * PX, size=100, action=d.Action.ADD, side=B, flags=LAST),
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 7, ts_recv=T0 + 8, order_id=11, price=100 * PX, size=250, action=d.Action.MODIFY, side=B, flags=LAST),
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 9, ts_recv=T0 + 10, order_id=0, price=100 * PX + PX // 100, size=50, action=d.Action.TRADE, side=B, flags=0),
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 9, ts_recv=T0 + 10, order_id=12, price=100 * PX + PX // 100, size=50, action=d.Action.FILL, side=A, flags=LAST),
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 11, ts_recv=T0 + 12, order_id=12, price=100 * PX + PX // 100, size=150, action=d.Action.CANCEL, side=A, flags=LAST),
    d.MBOMsg(publisher_id=2, instrument_id=7, ts_event=T0 + 13, ts_recv=T0 + 14, order_id=11, price=99 * PX, size=250, action=d.Action.MODIFY, side=B, flags=LAST),
]
write("mbo", d.Schema.MBO, mbo)


def pair(b, a, bs, as_):
    return d.BidAskPair(bid_px=b, ask_px=a, bid_sz=bs, ask_sz=as_, bid_ct=1, ask_ct=1)


mbp1 = [
    d.MBP1Msg(publisher_id=2, instrument_id=7, ts_event=T0 + i, ts_recv=T0 + 10 + i, price=100 * PX + i * PX // 100, size=5, action=d.Action.TRADE if i % 3 == 0 else d.Action.ADD, side=B, depth=0, flags=LAST, sequence=i, levels=pair(100 * PX + i * PX // 100 - PX // 100, 100 * PX + i * PX // 100 + PX // 100, 10 + i, 20 + i))
    for i in range(30)
]
write("mbp1", d.Schema.MBP_1, mbp1)
mbp10 = [
    d.MBP10Msg(publisher_id=2, instrument_id=9, ts_event=T0 + i, ts_recv=T0 + 10 + i, price=50 * PX, size=1, action=d.Action.ADD, side=A, depth=0, flags=LAST, sequence=i, levels=[pair(50 * PX - (k + 1) * PX // 100, 50 * PX + (k + 1) * PX // 100, 100 + i, 200 + k) for k in range(10)])
    for i in range(20)
]
write("mbp10", d.Schema.MBP_10, mbp10)
trades = [
    d.TradeMsg(publisher_id=2, instrument_id=7 if i % 2 else 9, ts_event=T0 + i, ts_recv=T0 + 5 + i, price=(100 if i % 2 else 50) * PX + i * PX // 100, size=10 + i, action=d.Action.TRADE, side=A if i % 3 else B, depth=0, flags=LAST, sequence=i)
    for i in range(25)
]
write("trades", d.Schema.TRADES, trades)
bbo = [
    d.BBOMsg(rtype=d.RType.BBO_1S, publisher_id=2, instrument_id=7, ts_event=T0 + i * 10**9, ts_recv=T0 + i * 10**9, price=100 * PX, size=1, side=B, flags=LAST, sequence=i, levels=pair(100 * PX - PX // 100, 100 * PX + (i + 1) * PX // 100, 5, 6))
    for i in range(12)
]
write("bbo", d.Schema.BBO_1S, bbo)
# Options as OPRA names them (OSI symbols: 21 bytes, spaces inside), and an
# ask that goes undefined (the side empties).
opra = [
    d.MBP1Msg(publisher_id=30, instrument_id=21 + i % 2, ts_event=T0 + i, ts_recv=T0 + 10 + i, price=0, size=0, action=d.Action.ADD, side=B, depth=0, flags=LAST, sequence=i, levels=pair(5 * PX + i * PX // 100, d.UNDEF_PRICE if i == 3 else 5 * PX + (i + 2) * PX // 100, 7, d.UNDEF_ORDER_SIZE if i == 3 else 9))
    for i in range(6)
]
write("opra", d.Schema.MBP_1, opra, symbols=(("AAPL  261218C00150000", 21), ("AAPL  261218C00155000", 22)), dataset="OPRA.PILLAR")
print(json.dumps({"mbo": len(mbo), "mbp1": len(mbp1), "mbp10": len(mbp10), "trades": len(trades), "bbo": len(bbo), "opra": len(opra)}))
