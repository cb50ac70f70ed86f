//! `foxtrot sweep`: a parameter grid over one imported dataset.
//!
//! A [`Grid`] is a list of axes, each a configuration key and its values
//! (`strategy.momentum.fast=5,10,20`). Its combinations are numbered in
//! mixed radix, the last axis varying fastest; combination `i` is the base
//! configuration with one `--set key=value` per axis. Each combination is a
//! backtest of the dataset against the touch venue ([`crate::backtest`]),
//! run on a pool of threads; results are kept by combination number, so the
//! output never depends on which thread finished first.
//!
//! **Shards.** `--shard I/N` runs the combinations `i` with `i % N == I`, so N
//! machines (a Slurm job array's tasks, a Kubernetes Indexed Job's pods)
//! split one sweep; [`merge`] joins their output directories after checking
//! that they ran the same sweep (same grid, same base configuration, same
//! dataset) and that together they cover every combination exactly once. The
//! merged directory is byte for byte what one unsharded run writes.
//!
//! **Combinations the configuration refuses.** Every combination's
//! configuration is checked before any backtest starts, on every shard alike.
//! A value refused in every combination it is part of (`fast=5,x`, or a
//! `fast` of 50 where every `slow` is smaller) is a mistake: the sweep fails
//! at once, naming it. A combination refused only as a whole — each of its
//! values valid elsewhere, as `fast=50` with `slow=10` in a grid that also
//! has `slow=100` — is not run: it is listed with the configuration's reason
//! (on stdout, in `sweep.json`'s `not_run`, as a grey cell of the heat map),
//! and the other combinations run.
//!
//! **Output** (a directory that does not exist yet, or is empty: a sweep never
//! writes over another's results): `sweep.json` (what was swept: grid, base
//! configuration hash, dataset, shard, and the rows and XXH3-64 of
//! `results.jsonl`, which [`merge`] and [`read`] check), `results.jsonl` (one
//! JSON object per combination, keys sorted), `results.tsv` (the same as a table),
//! `results.parquet` (the same columns; parameters as text, as given) and, for a
//! grid of two axes, `results.html` (the PnL as a heat map).

use crate::export::Table;
use crate::Error;
use foxtrot_engine::config::overrides::parse_with_sets;
use foxtrot_engine::journal::fields::Cell;
use foxtrot_engine::Config;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn bad(m: impl Into<String>) -> Error {
    Error::Sweep(m.into())
}

/// The axes of a sweep: (key, values), in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Each axis: a configuration key and its values (as text, as given).
    pub axes: Vec<(String, Vec<String>)>,
}

impl Grid {
    /// Parses `key=v1,v2,…` per axis. A key may appear once; every axis has at
    /// least one value, none empty, none twice.
    pub fn parse(specs: &[String]) -> Result<Grid, Error> {
        let mut axes: Vec<(String, Vec<String>)> = Vec::new();
        for s in specs {
            let (k, vs) = s
                .split_once('=')
                .ok_or_else(|| bad(format!("--grid {s:?}: want key=v1,v2,…")))?;
            let k = k.trim().to_string();
            let vals: Vec<String> = vs.split(',').map(|v| v.trim().to_string()).collect();
            if k.is_empty() || vals.iter().any(String::is_empty) {
                return Err(bad(format!("--grid {s:?}: an empty key or value")));
            }
            if axes.iter().any(|(a, _)| *a == k) {
                return Err(bad(format!("--grid {k}: the key is given twice")));
            }
            if let Some((n, v)) = vals.iter().enumerate().find(|(n, v)| vals[..*n].contains(v)) {
                return Err(bad(format!(
                    "--grid {k}: the value {v:?} is given twice (values {} and {})",
                    vals[..n].iter().position(|x| x == v).unwrap_or(0) + 1,
                    n + 1
                )));
            }
            axes.push((k, vals));
        }
        if axes.is_empty() {
            return Err(bad("no --grid axis"));
        }
        Ok(Grid { axes })
    }

    /// How many combinations there are.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Whether there are none (never, for a parsed grid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of combination `i` (one per axis), the last axis fastest.
    pub fn combo(&self, mut i: usize) -> Vec<&str> {
        let mut out = vec![""; self.axes.len()];
        for (k, (_, vals)) in self.axes.iter().enumerate().rev() {
            out[k] = &vals[i % vals.len()];
            i /= vals.len();
        }
        out
    }

    /// The `--set` overrides of combination `i`.
    pub fn sets(&self, i: usize) -> Vec<String> {
        self.axes
            .iter()
            .zip(self.combo(i))
            .map(|((k, _), v)| format!("{k}={v}"))
            .collect()
    }
}

/// One machine's part of a sweep: combinations `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This part.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(s: &str) -> Result<Shard, Error> {
        let parsed = s
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(Shard { index, count }),
            _ => Err(bad(format!("--shard {s:?}: want I/N with 0 <= I < N"))),
        }
    }

    /// Whether combination `i` is this shard's.
    pub fn has(&self, i: usize) -> bool {
        i % self.count == self.index
    }
}

/// What one combination's backtest gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The combination's number.
    pub combo: usize,
    /// Its values, one per axis.
    pub params: Vec<String>,
    /// Orders the venue received.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// Risk rejects (all reasons).
    pub risk_rejects: u64,
    /// Orders the drift sentry sized below the strategy's (see
    /// `CoreCounters::drift_sized`): non-zero, the combination traded smaller
    /// than configured.
    pub orders_sized_down: u64,
    /// Final equity (realised + unrealised PnL, currency units).
    pub pnl: f64,
    /// Largest drawdown from the equity peak.
    pub max_drawdown: f64,
    /// Sum over instruments of |final position|.
    pub gross_position: i64,
    /// Digest of the orders.
    pub order_hash: String,
    /// Hash of the combination's configuration.
    pub config_hash: String,
}

/// The numeric columns of a result row, in output order.
const METRICS: [&str; 9] = [
    "orders",
    "fills",
    "risk_rejects",
    "orders_sized_down",
    "pnl",
    "max_drawdown",
    "gross_position",
    "order_hash",
    "config_hash",
];

impl Row {
    fn json(&self, grid: &Grid) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("combo".into(), json!(self.combo));
        for ((k, _), v) in grid.axes.iter().zip(&self.params) {
            m.insert(k.clone(), json!(v));
        }
        m.insert("orders".into(), json!(self.orders));
        m.insert("fills".into(), json!(self.fills));
        m.insert("risk_rejects".into(), json!(self.risk_rejects));
        m.insert("orders_sized_down".into(), json!(self.orders_sized_down));
        m.insert("pnl".into(), json!(self.pnl));
        m.insert("max_drawdown".into(), json!(self.max_drawdown));
        m.insert("gross_position".into(), json!(self.gross_position));
        m.insert("order_hash".into(), json!(self.order_hash));
        m.insert("config_hash".into(), json!(self.config_hash));
        Value::Object(m)
    }

    fn from_json(v: &Value, grid: &Grid, path: &Path) -> Result<Row, Error> {
        let err = |what: &str| bad(format!("{}: a result without {what}", path.display()));
        let u = |k: &str| v.get(k).and_then(Value::as_u64).ok_or_else(|| err(k));
        let f = |k: &str| v.get(k).and_then(Value::as_f64).ok_or_else(|| err(k));
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| err(k))
        };
        Ok(Row {
            combo: u("combo")? as usize,
            params: grid.axes.iter().map(|(k, _)| s(k)).collect::<Result<_, _>>()?,
            orders: u("orders")?,
            fills: u("fills")?,
            risk_rejects: u("risk_rejects")?,
            orders_sized_down: u("orders_sized_down")?,
            pnl: f("pnl")?,
            max_drawdown: f("max_drawdown")?,
            gross_position: v
                .get("gross_position")
                .and_then(Value::as_i64)
                .ok_or_else(|| err("gross_position"))?,
            order_hash: s("order_hash")?,
            config_hash: s("config_hash")?,
        })
    }
}

/// What a sweep ran: written as `sweep.json`, checked by [`merge`].
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The grid.
    pub grid: Grid,
    /// Hash of the base configuration (before the grid's overrides).
    pub base_config_hash: String,
    /// The dataset's own configuration hash and its market-data record count:
    /// the same data wherever it is mounted.
    pub data: (String, u64),
    /// The part of the sweep this directory holds.
    pub shard: Shard,
    /// The combinations the configuration refuses as a whole (see the module
    /// docs), with its reason: the whole grid's, the same on every shard.
    pub not_run: Vec<(usize, String)>,
}

impl Manifest {
    fn json(&self) -> Value {
        json!({
            "grid": self.grid.axes.iter().map(|(k, v)| json!({"key": k, "values": v})).collect::<Vec<_>>(),
            "combinations": self.grid.len(),
            "base_config_hash": self.base_config_hash,
            "data": {"config_hash": self.data.0, "records": self.data.1},
            "shard": format!("{}/{}", self.shard.index, self.shard.count),
            "not_run": self.not_run.iter().map(|(c, r)| json!({"combo": c, "reason": r})).collect::<Vec<_>>(),
        })
    }

    /// Whether combination `i` is one the configuration refuses.
    pub fn refused(&self, i: usize) -> bool {
        self.not_run.iter().any(|(c, _)| *c == i)
    }

    /// One line per combination not run: its number, its values and why.
    pub fn not_run_lines(&self) -> String {
        let mut t = String::new();
        for (c, why) in &self.not_run {
            let values: Vec<String> = self
                .grid
                .axes
                .iter()
                .zip(self.grid.combo(*c))
                .map(|((k, _), v)| format!("{k}={v}"))
                .collect();
            t.push_str(&format!(
                "combination {c} ({}) not run: the configuration refuses it: {why}\n",
                values.join(", ")
            ));
        }
        t
    }

    fn read(dir: &Path) -> Result<(Manifest, Seal), Error> {
        let path = dir.join("sweep.json");
        let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let err = || bad(format!("{}: not a sweep manifest", path.display()));
        let axes = v["grid"]
            .as_array()
            .ok_or_else(err)?
            .iter()
            .map(|a| {
                let k = a["key"].as_str().ok_or_else(err)?.to_string();
                let vals = a["values"]
                    .as_array()
                    .ok_or_else(err)?
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).ok_or_else(err))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((k, vals))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let seal = Seal::read(&v, &path)?;
        let m = Manifest {
            grid: Grid { axes },
            base_config_hash: v["base_config_hash"].as_str().ok_or_else(err)?.to_string(),
            data: (
                v["data"]["config_hash"].as_str().ok_or_else(err)?.to_string(),
                v["data"]["records"].as_u64().ok_or_else(err)?,
            ),
            shard: Shard::parse(v["shard"].as_str().ok_or_else(err)?)?,
            not_run: match v.get("not_run") {
                // Written before combinations could be refused: none were.
                None => Vec::new(),
                Some(list) => list
                    .as_array()
                    .ok_or_else(err)?
                    .iter()
                    .map(|x| {
                        let c = x["combo"].as_u64().ok_or_else(err)? as usize;
                        Ok((c, x["reason"].as_str().ok_or_else(err)?.to_string()))
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            },
        };
        Ok((m, seal))
    }
}

/// What `sweep.json` says of `results.jsonl`: its rows and the XXH3-64 of
/// its bytes, so that a results file changed after the sweep wrote it (a
/// flipped digit reads as a valid, wrong figure) is refused by [`merge`] and
/// [`read`], not joined into a sweep or reported.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seal {
    rows: u64,
    xxh3: String,
}

impl Seal {
    fn of(text: &str, rows: usize) -> Seal {
        Seal {
            rows: rows as u64,
            xxh3: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes())),
        }
    }

    fn json(&self) -> Value {
        json!({"file": "results.jsonl", "rows": self.rows, "xxh3_64": self.xxh3})
    }

    fn read(v: &Value, path: &Path) -> Result<Seal, Error> {
        let r = &v["results"];
        match (r["rows"].as_u64(), r["xxh3_64"].as_str()) {
            (Some(rows), Some(x)) => Ok(Seal {
                rows,
                xxh3: x.to_string(),
            }),
            _ => Err(bad(format!(
                "{}: no digest of results.jsonl (results.rows, results.xxh3_64): written by an older foxtrot or \
                 damaged; run the sweep again",
                path.display()
            ))),
        }
    }
}

/// A sweep to run: the dataset, the base configuration's text (its own, or a
/// file's, with `--set`s applied) and where it came from (for errors).
pub struct Sweep<'a> {
    /// The imported market-data directory.
    pub data: &'a Path,
    /// The base configuration, as YAML.
    pub base_text: String,
    /// Where the base configuration came from.
    pub origin: PathBuf,
    /// The grid.
    pub grid: Grid,
    /// This machine's part.
    pub shard: Shard,
    /// Threads (at least one).
    pub jobs: usize,
}

/// Runs this shard's combinations on `jobs` threads; the rows in combination
/// order, and the manifest. Every combination's configuration is checked
/// before any backtest starts (the whole grid's, on every shard alike): a
/// value refused wherever it appears fails the sweep at once; a combination
/// refused only as a whole is left out and listed (see the module docs).
pub fn run(s: &Sweep) -> Result<(Manifest, Vec<Row>), Error> {
    let origin = &s.origin;
    let base = parse_with_sets(&s.base_text, &[], origin)?;
    let (own, _) = foxtrot_engine::journal::market_data::MdSource::open(s.data)?;
    let md = s.data.join(foxtrot_engine::journal::market_data::MD_DIR);
    let records = foxtrot_shm::JournalReader::open(&md)?.last_seq()?.unwrap_or(0);
    let checked = check_grid(s)?;
    let not_run: Vec<(usize, String)> = checked
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().err().map(|why| (i, why.clone())))
        .collect();
    let mut mine: Vec<(usize, Config)> = Vec::new();
    for (i, c) in checked.into_iter().enumerate() {
        if let (true, Ok(cfg)) = (s.shard.has(i), c) {
            mine.push((i, cfg));
        }
    }
    let rows = crate::pool::map(mine.len(), s.jobs, |k| one(s.data, &mine[k].1, mine[k].0, &s.grid))?;
    let manifest = Manifest {
        grid: s.grid.clone(),
        base_config_hash: base.config_hash(),
        data: (own.config_hash(), records),
        shard: s.shard,
        not_run,
    };
    Ok((manifest, rows))
}

/// Every combination's configuration, or the reason the configuration refuses
/// it; an error when some value of an axis is refused in every combination it
/// is part of (the first such value's first combination, with its `--set`s).
fn check_grid(s: &Sweep) -> Result<Vec<Result<Config, String>>, Error> {
    let checked: Vec<Result<Config, String>> = (0..s.grid.len())
        .map(|i| {
            let sets = s.grid.sets(i);
            foxtrot_engine::config::overrides::apply_sets(&s.base_text, &sets, &s.origin)
                .and_then(|text| Config::from_yaml(&text, &s.origin))
                .map_err(|e| refusal(&e))
        })
        .collect();
    let mut stride = s.grid.len();
    for (key, vals) in &s.grid.axes {
        // Combination `i` holds value `(i / stride) % vals.len()` of this axis.
        stride /= vals.len();
        for (v, value) in vals.iter().enumerate() {
            let mut with = (0..s.grid.len()).filter(|i| (i / stride) % vals.len() == v);
            if with.clone().all(|i| checked[i].is_err()) {
                let first = with.next().unwrap_or(0);
                // The whole error: the file and the `--set`s that made it.
                let whole = parse_with_sets(&s.base_text, &s.grid.sets(first), &s.origin)
                    .err()
                    .map_or_else(
                        || checked[first].as_ref().err().cloned().unwrap_or_default(),
                        |e| e.to_string(),
                    );
                let everywhere = if s.grid.len() / vals.len() > 1 {
                    " in every combination it is part of"
                } else {
                    ""
                };
                return Err(bad(format!("--grid {key}={value} is refused{everywhere}: {whole}")));
            }
        }
    }
    Ok(checked)
}

/// Why the configuration refuses a combination, without the file it names
/// (a shard's path to the data is its own) or the `--set`s (the combination's
/// values are listed beside it).
fn refusal(e: &foxtrot_engine::Error) -> String {
    use foxtrot_engine::Error as E;
    match e {
        E::ConfigInvalid { key, message, .. } => format!("{key}: {message}"),
        E::ConfigParse { message, .. } => message.clone(),
        E::ConfigInvalidMany(all) => all.iter().map(refusal).collect::<Vec<_>>().join("; "),
        e => e.to_string(),
    }
}

/// One combination's backtest.
fn one(data: &Path, cfg: &Config, combo: usize, grid: &Grid) -> Result<Row, Error> {
    let o = crate::backtest::run(data, Some(cfg.clone()), None, false)?;
    let s = &o.summary;
    Ok(Row {
        combo,
        params: grid.combo(combo).into_iter().map(str::to_string).collect(),
        orders: o.venue.orders,
        fills: s.pnl.fills,
        risk_rejects: s.rejects_by_reason.iter().map(|(_, n)| n).sum(),
        orders_sized_down: s.counters.drift_sized,
        pnl: s.pnl.equity,
        max_drawdown: s.pnl.max_drawdown,
        gross_position: s.positions.iter().map(|p| p.0.abs()).sum(),
        order_hash: s.order_hash.0.clone(),
        config_hash: cfg.config_hash(),
    })
}

/// Refuses `out` unless it is free for a sweep's results: absent, or an empty
/// directory. Checked before a sweep or a merge starts (and again as it
/// writes), so results are never written over, or mixed with, another's.
pub fn check_out(out: &Path) -> Result<(), Error> {
    match std::fs::read_dir(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(bad(format!("--out {}: {e}", out.display()))),
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(bad(format!(
                "--out {}: {} — a sweep writes only into a new or empty directory; choose another or remove it",
                out.display(),
                if out.join("sweep.json").exists() {
                    "it holds a sweep's results already"
                } else {
                    "the directory is not empty"
                }
            ))),
        },
    }
}

/// Writes a sweep's directory (see the module docs) into `out`, absent or
/// empty ([`check_out`]).
pub fn write(out: &Path, m: &Manifest, rows: &[Row]) -> Result<(), Error> {
    let werr = |p: &Path, e: &dyn std::fmt::Display| Error::Write {
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    check_out(out)?;
    std::fs::create_dir_all(out).map_err(|e| werr(out, &e))?;
    let put = |name: &str, text: String| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| werr(&p, &e))
    };
    let mut jl = String::new();
    for r in rows {
        jl.push_str(&r.json(&m.grid).to_string());
        jl.push('\n');
    }
    let mut manifest = m.json();
    manifest["results"] = Seal::of(&jl, rows.len()).json();
    put("sweep.json", format!("{manifest:#}\n"))?;
    put("results.jsonl", jl)?;
    put("results.tsv", table(&m.grid, rows))?;
    if let Some(h) = heat_map(m, rows) {
        put("results.html", h)?;
    }
    parquet(&out.join("results.parquet"), &m.grid, rows)
}

/// For a grid of two axes with every combination present (run, or refused by
/// the configuration): an HTML page with the PnL of each combination as a
/// heat map (rows: the first axis, columns: the second; red below zero, green
/// above, saturated at the largest |PnL|; grey where a combination was not
/// run, its reason on hover).
pub fn heat_map(m: &Manifest, rows: &[Row]) -> Option<String> {
    let grid = &m.grid;
    let [(ka, va), (kb, vb)] = grid.axes.as_slice() else {
        return None;
    };
    let mut cells: Vec<Option<&Row>> = vec![None; grid.len()];
    for r in rows {
        *cells.get_mut(r.combo)? = Some(r);
    }
    if (0..grid.len()).any(|i| cells[i].is_none() != m.refused(i)) {
        return None;
    }
    let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let top = rows.iter().map(|r| r.pnl.abs()).fold(0.0f64, f64::max).max(1e-9);
    let mut h = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>foxtrot sweep</title>\n\
         <style>body{{font-family:sans-serif}}td,th{{padding:6px 10px;text-align:right}}</style></head><body>\n\
         <h1>PnL by {} × {}</h1>\n<table>\n<tr><th>{} \\ {}</th>",
        esc(ka),
        esc(kb),
        esc(ka),
        esc(kb)
    );
    for b in vb {
        h.push_str(&format!("<th>{}</th>", esc(b)));
    }
    h.push_str("</tr>\n");
    for (i, a) in va.iter().enumerate() {
        h.push_str(&format!("<tr><th>{}</th>", esc(a)));
        for j in 0..vb.len() {
            let c = i * vb.len() + j;
            let Some(r) = cells[c] else {
                let why = m.not_run.iter().find(|(n, _)| *n == c).map_or("", |(_, w)| w.as_str());
                h.push_str(&format!(
                    "<td style=\"background:rgb(200,200,200)\" title=\"not run: {}\">—</td>",
                    esc(why).replace('"', "&quot;")
                ));
                continue;
            };
            let x = (r.pnl / top).clamp(-1.0, 1.0);
            let (red, green) = if x < 0.0 {
                (255, (255.0 * (1.0 + x)) as u8)
            } else {
                ((255.0 * (1.0 - x)) as u8, 255)
            };
            let blue = red.min(green);
            h.push_str(&format!(
                "<td style=\"background:rgb({red},{green},{blue})\" title=\"{} orders, max drawdown {:.2}\">{:.2}</td>",
                r.orders, r.max_drawdown, r.pnl
            ));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body></html>\n");
    Some(h)
}

/// The results as a tab-separated table with a header line.
pub fn table(grid: &Grid, rows: &[Row]) -> String {
    let mut t = String::from("combo");
    for (k, _) in &grid.axes {
        t.push('\t');
        t.push_str(k);
    }
    for c in METRICS {
        t.push('\t');
        t.push_str(c);
    }
    t.push('\n');
    for r in rows {
        t.push_str(&r.combo.to_string());
        for p in &r.params {
            t.push('\t');
            t.push_str(p);
        }
        t.push_str(&format!(
            "\t{}\t{}\t{}\t{}\t{:.2}\t{:.2}\t{}\t{}\t{}\n",
            r.orders,
            r.fills,
            r.risk_rejects,
            r.orders_sized_down,
            r.pnl,
            r.max_drawdown,
            r.gross_position,
            r.order_hash,
            r.config_hash
        ));
    }
    t
}

fn parquet(path: &Path, grid: &Grid, rows: &[Row]) -> Result<(), Error> {
    let mut msg = String::from("message sweep {\n  REQUIRED INT64 combo;\n");
    for (k, _) in &grid.axes {
        msg.push_str(&format!("  REQUIRED BINARY {} (UTF8);\n", k.replace('.', "_")));
    }
    for (c, ty) in METRICS.iter().zip([
        "INT64", "INT64", "INT64", "INT64", "DOUBLE", "DOUBLE", "INT64", "BINARY", "BINARY",
    ]) {
        let ann = if ty == "BINARY" { " (UTF8)" } else { "" };
        msg.push_str(&format!("  REQUIRED {ty} {c}{ann};\n"));
    }
    msg.push('}');
    let mut t = Table::create_message(path, &msg)?;
    for r in rows {
        let mut row = vec![Cell::I(r.combo as i64)];
        row.extend(r.params.iter().map(|p| Cell::S(p.clone())));
        row.extend([
            Cell::I(r.orders as i64),
            Cell::I(r.fills as i64),
            Cell::I(r.risk_rejects as i64),
            Cell::I(r.orders_sized_down as i64),
            Cell::F(r.pnl),
            Cell::F(r.max_drawdown),
            Cell::I(r.gross_position),
            Cell::S(r.order_hash.clone()),
            Cell::S(r.config_hash.clone()),
        ]);
        t.push(row)?;
    }
    t.finish()?;
    Ok(())
}

/// The rows of a sweep directory's `results.jsonl`, in file order, after
/// checking them against the manifest's seal: the same bytes as written, and
/// each row the parameters of its combination number.
fn read_rows(dir: &Path, m: &Manifest, seal: &Seal) -> Result<Vec<Row>, Error> {
    let path = dir.join("results.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let lines = text.lines().count();
    let found = Seal::of(&text, lines);
    if found != *seal {
        return Err(bad(format!(
            "{}: damaged — {lines} rows, XXH3-64 {}, where sweep.json says {} rows, {}: it changed after the sweep \
             wrote it; run this shard again",
            path.display(),
            found.xxh3,
            seal.rows,
            seal.xxh3
        )));
    }
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let v: Value =
                serde_json::from_str(line).map_err(|e| bad(format!("{} line {}: {e}", path.display(), n + 1)))?;
            let r = Row::from_json(&v, &m.grid, &path)?;
            if r.combo >= m.grid.len()
                || m.refused(r.combo)
                || r.params.iter().map(String::as_str).ne(m.grid.combo(r.combo))
            {
                return Err(bad(format!(
                    "{} line {}: damaged — combination {} is not the parameters it lists",
                    path.display(),
                    n + 1,
                    r.combo
                )));
            }
            Ok(r)
        })
        .collect()
}

/// A sweep directory (`sweep.json` and `results.jsonl`), read back.
pub fn read(dir: &Path) -> Result<(Manifest, Vec<Row>), Error> {
    let (m, seal) = Manifest::read(dir)?;
    let rows = read_rows(dir, &m, &seal)?;
    Ok((m, rows))
}

/// Joins the output directories of a sharded sweep into `out` (absent or
/// empty): they must hold the same sweep (grid, base configuration, dataset,
/// refused combinations), shards `0..N` of one `N` each once, and together
/// every combination run exactly once. Returns how many combinations ran.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize, Error> {
    check_out(out)?;
    let first = dirs.first().ok_or_else(|| bad("merge: no shard directories"))?;
    let (m0, _) = Manifest::read(first)?;
    let mut shards = vec![false; m0.shard.count];
    let mut rows: Vec<Option<Row>> = vec![None; m0.grid.len()];
    for d in dirs {
        let (m, seal) = Manifest::read(d)?;
        let same = m.grid == m0.grid
            && m.base_config_hash == m0.base_config_hash
            && m.data == m0.data
            && m.not_run == m0.not_run;
        if !same || m.shard.count != m0.shard.count {
            return Err(bad(format!(
                "merge: {} is not a shard of the same sweep as {} (grid, base configuration, data or shard count differ)",
                d.display(),
                first.display()
            )));
        }
        if std::mem::replace(&mut shards[m.shard.index], true) {
            return Err(bad(format!(
                "merge: shard {}/{} given twice",
                m.shard.index, m.shard.count
            )));
        }
        let path = d.join("results.jsonl");
        for (n, r) in read_rows(d, &m, &seal)?.into_iter().enumerate() {
            if r.combo >= rows.len() || !m.shard.has(r.combo) {
                return Err(bad(format!(
                    "{} line {}: combination {} is not shard {}/{}'s",
                    path.display(),
                    n + 1,
                    r.combo,
                    m.shard.index,
                    m.shard.count
                )));
            }
            let c = r.combo;
            if rows[c].replace(r).is_some() {
                return Err(bad(format!("{} line {}: combination {c} twice", path.display(), n + 1)));
            }
        }
    }
    if let Some(missing) = shards.iter().position(|&s| !s) {
        return Err(bad(format!("merge: shard {missing}/{} is missing", m0.shard.count)));
    }
    let rows = rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !m0.refused(*i))
        .map(|(i, r)| r.ok_or_else(|| bad(format!("merge: combination {i} has no result"))))
        .collect::<Result<Vec<_>, _>>()?;
    let m = Manifest {
        shard: Shard::ALL,
        ..m0
    };
    write(out, &m, &rows)?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_numbered_with_the_last_axis_fastest() {
        let g = Grid::parse(&["a=1,2".into(), "b=x,y,z".into()]).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g.combo(0), vec!["1", "x"]);
        assert_eq!(g.combo(1), vec!["1", "y"]);
        assert_eq!(g.combo(3), vec!["2", "x"]);
        assert_eq!(g.sets(5), vec!["a=2".to_string(), "b=z".to_string()]);
    }

    #[test]
    fn bad_grids_and_shards_are_errors() {
        assert!(Grid::parse(&[]).is_err());
        assert!(Grid::parse(&["a".into()]).is_err());
        assert!(Grid::parse(&["a=1,,2".into()]).is_err());
        assert!(Grid::parse(&["a=1".into(), "a=2".into()]).is_err());
        assert!(Grid::parse(&["a=1,2,1".into()]).is_err());
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
        for s in ["3/3", "1", "a/2", "0/0"] {
            assert!(Shard::parse(s).is_err(), "{s}");
        }
        let s = Shard::parse("1/2").unwrap();
        assert!(s.has(3) && !s.has(4));
    }
}
