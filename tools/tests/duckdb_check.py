"""Reads a `foxtrot export --parquet` directory with DuckDB (a Parquet reader
nobody here wrote) and prints what the Rust test compares with the journals."""
import json
import sys

import duckdb

d = sys.argv[1]
con = duckdb.connect()
q = lambda sql: con.execute(sql.replace("@", d + "/")).fetchall()
out = {
    "counts": {t: q(f"select count(*) from '@{t}.parquet'")[0][0]
               for t in ["inputs", "orders", "rejects", "fills", "diary", "drift_alarms"]},
    "inputs_by_kind": dict(q("select kind, count(*) from '@inputs.parquet' group by kind")),
    "inputs_seq": q("select min(seq), max(seq), count(distinct seq) from '@inputs.parquet'")[0],
    "md_qty_sum": q("select sum(qty) from '@inputs.parquet' where kind = 'market_data'")[0][0],
    "orders": q("select seq, cl_ord_id, orig_cl_ord_id, action, side, px, qty, instrument, fix "
                "from '@orders.parquet' order by cl_ord_id"),
    "filled_qty": q("select coalesce(sum(last_qty), 0) from '@fills.parquet'")[0][0],
    "fills_vs_inputs": q("select count(*) from '@fills.parquet' f join '@inputs.parquet' i "
                         "on f.seq = i.seq and i.kind = 'exec_report' and i.last_qty = f.last_qty")[0][0],
    "diary_verdicts": dict(q("select verdict, count(*) from '@diary.parquet' group by verdict")),
    "alarm_detectors": sorted(r[0] for r in q("select distinct detector from '@drift_alarms.parquet'")),
}
print(json.dumps(out))
