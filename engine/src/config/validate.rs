//! Validation: the schema's ranges ([`super::schema`]), then what the schema
//! cannot say — rules relating two keys, character sets, arithmetic, and the
//! shapes of the belief model.

use super::{BeliefModel, Config};
use crate::error::Error;
use std::path::Path;

/// The longest recorded latency a table may hold: the bound of the constant
/// latencies (`venue.*_latency_ns`), which also keeps time sums far from overflow.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// What is wrong with recorded latency rows `[ts_ns, latency…]`, if anything:
/// times not strictly increasing, or a latency above [`MAX_LATENCY_NS`].
fn latency_rows_problem<const N: usize>(rows: &[[u64; N]]) -> Option<String> {
    if rows.windows(2).any(|w| w[0][0] >= w[1][0]) {
        return Some("rows must be in strictly increasing ts_ns order".into());
    }
    let i = rows.iter().position(|r| r[1..].iter().any(|&l| l > MAX_LATENCY_NS))?;
    Some(format!("row {}: a latency above 60 s ({:?})", i + 1, rows[i]))
}

impl Config {
    /// Checks the whole configuration: the schema's ranges, then [`validate`](Self::validate).
    /// Run it again after changing a loaded configuration.
    pub fn check(&self, origin: &Path) -> Result<(), Error> {
        let mut all = self.check_all(origin);
        match all.len() {
            0 => Ok(()),
            1 => Err(all.remove(0)),
            _ => Err(Error::ConfigInvalidMany(all)),
        }
    }

    /// Every problem of the configuration: each key out of the schema's ranges,
    /// then (when the ranges hold, as the rules assume them) each rule broken.
    pub fn check_all(&self, origin: &Path) -> Vec<Error> {
        let value = serde_json::to_value(self).expect("config structs always serialise");
        let schema = super::schema::check_all(super::schema::cached(), &value);
        if !schema.is_empty() {
            return schema
                .into_iter()
                .map(|(key, message)| Error::invalid(origin, &key, message))
                .collect();
        }
        self.problems(origin)
    }

    /// Checks what the schema cannot say: rules relating two keys, character sets
    /// and arithmetic. Ranges are the schema's (see [`super::schema`]), checked on load.
    pub fn validate(&self, origin: &Path) -> Result<(), Error> {
        match self.problems(origin).into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem [`validate`](Self::validate) finds, in the order of the keys.
    pub fn problems(&self, origin: &Path) -> Vec<Error> {
        let bad = |key: &str, message: String| Error::invalid(origin, key, message);
        let mut out = Vec::new();
        let printable = |v: &str| v.bytes().all(crate::records::fixed::symbol_byte);
        for (i, ins) in self.instruments.iter().enumerate() {
            let k = |f: &str| format!("instruments[{i}].{f}");
            if ins.symbol.is_empty()
                || !printable(&ins.symbol)
                || ins.symbol.len() > crate::records::fixed::MAX_SYMBOL_LEN
            {
                out.push(bad(
                    &k("symbol"),
                    format!("{:?} must be 1..=12 printable ASCII bytes other than `|`", ins.symbol),
                ));
            } else if !ins.symbol.bytes().any(|b| b.is_ascii_alphabetic()) {
                out.push(bad(
                    &k("symbol"),
                    format!(
                        "{:?} has no letter: a number where a symbol belongs is almost always a mistake",
                        ins.symbol
                    ),
                ));
            }
            if let Some(j) = self.instruments[..i].iter().position(|o| o.symbol == ins.symbol) {
                out.push(bad(
                    &k("symbol"),
                    format!(
                        "{:?} is also instruments[{j}]: symbols name one instrument each",
                        ins.symbol
                    ),
                ));
            }
            if ins.tick > ins.ref_price {
                out.push(bad(
                    &k("tick"),
                    format!("{} is larger than ref_price {}", ins.tick, ins.ref_price),
                ));
            }
            if ins.tick > 0 && ins.ref_price % ins.tick != 0 {
                out.push(bad(
                    &k("ref_price"),
                    format!("{} must be a multiple of tick {}", ins.ref_price, ins.tick),
                ));
            }
        }
        for (key, v) in [
            ("session.sender_comp_id", &self.session.sender_comp_id),
            ("session.target_comp_id", &self.session.target_comp_id),
        ] {
            if !printable(v) {
                out.push(bad(key, format!("{v:?} must be printable ASCII other than `|`")));
            }
        }
        let mut pairs = std::collections::BTreeSet::new();
        for (i, s) in self.venue.sessions.iter().enumerate() {
            for (f, v) in [
                ("sender_comp_id", &s.sender_comp_id),
                ("target_comp_id", &s.target_comp_id),
            ] {
                if !printable(v) {
                    out.push(bad(
                        &format!("venue.sessions[{i}].{f}"),
                        format!("{v:?} must be printable ASCII other than `|`"),
                    ));
                }
            }
            if !pairs.insert((&s.sender_comp_id, &s.target_comp_id)) {
                out.push(bad(
                    &format!("venue.sessions[{i}]"),
                    format!(
                        "{} ↔ {} is listed twice; a CompID pair names one session",
                        s.sender_comp_id, s.target_comp_id
                    ),
                ));
            }
        }
        let fm = &self.venue.fill_model;
        if fm.latency == super::LatencyModel::Interpolated && fm.latency_table.is_empty() {
            out.push(bad(
                "venue.fill_model.latency_table",
                "the interpolated latency model needs recorded latencies (latency_file or latency_table)".into(),
            ));
        }
        let order_rows = latency_rows_problem(&fm.latency_table).or_else(|| {
            // Responses are interpolated by the time the venue acted.
            let at_venue = |r: &[u64; 3]| r[0].saturating_add(r[1]);
            let t = &fm.latency_table;
            let i = t.windows(2).position(|w| at_venue(&w[0]) >= at_venue(&w[1]))?;
            Some(format!(
                "row {} reached the venue (ts_ns + entry_ns = {}) no later than the row before it ({}): \
                 the times the venue acted must increase too",
                i + 2,
                at_venue(&t[i + 1]),
                at_venue(&t[i])
            ))
        });
        for (key, problem) in [
            ("venue.fill_model.latency_table", order_rows),
            (
                "venue.fill_model.feed_latency_table",
                latency_rows_problem(&fm.feed_latency_table),
            ),
        ] {
            if let Some(m) = problem {
                out.push(bad(key, m));
            }
        }
        if fm.latency != super::LatencyModel::Interpolated && !fm.feed_latency_table.is_empty() {
            out.push(bad(
                "venue.fill_model.feed_latency_table",
                "recorded feed latencies are read by the interpolated latency model only (latency: interpolated)"
                    .into(),
            ));
        }
        let feed_retransmit = self.feed.as_ref().and_then(|f| f.retransmit.clone());
        if let Some(f) = &self.feed {
            let known = ["mold:", "udp:", "shm:", "itch:"];
            if !known.iter().any(|k| f.source.starts_with(k)) {
                out.push(bad(
                    "feed.source",
                    format!(
                        "{:?}: expected mold:HOST:PORT, udp:HOST:PORT, shm:PATH or itch:PATH",
                        f.source
                    ),
                ));
            }
            if let Some(d) = &f.date {
                if crate::format::calendar::parse_iso8601(format!("{d}T00:00:00Z").as_bytes()).is_err() {
                    out.push(bad("feed.date", format!("{d:?} is not a date YYYY-MM-DD")));
                }
            }
            if let Some(x) = &f.xdp {
                if !(f.source.starts_with("mold:") || f.source.starts_with("udp:")) {
                    out.push(bad(
                        "feed.xdp",
                        format!("AF_XDP receives UDP feeds (mold:, udp:), not {:?}", f.source),
                    ));
                }
                if !x.frames.is_power_of_two() {
                    out.push(bad("feed.xdp.frames", format!("{} is not a power of two", x.frames)));
                }
                if x.interface.is_empty() || x.interface.len() > 15 {
                    out.push(bad(
                        "feed.xdp.interface",
                        format!("{:?}: an interface name has 1 to 15 characters", x.interface),
                    ));
                }
            }
        }
        for (key, v) in [
            ("venue.address", &self.venue.address),
            ("venue.market_data", &self.venue.market_data),
            ("venue.retransmit", &self.venue.retransmit),
            ("feed.retransmit", &feed_retransmit),
        ] {
            if let Some(a) = v {
                if a.parse::<std::net::SocketAddr>().is_err() {
                    out.push(bad(
                        key,
                        format!("{a:?} must be an IP address and port, as 127.0.0.1:9878"),
                    ));
                }
            }
        }
        let b = &self.belief;
        match &b.model {
            Some(m) => {
                if let Err(e) = model(m, origin) {
                    out.push(match e {
                        Error::ConfigInvalid { path, key, message, .. } => {
                            Error::invalid(&path, &format!("belief.model.{key}"), message)
                        }
                        e => e,
                    });
                    return out;
                }
            }
            None => {
                out.push(bad("belief.model", "no model loaded".into()));
                return out;
            }
        }
        if b.k as usize > self.model().units.len() {
            out.push(bad(
                "belief.k",
                format!("{} exceeds the model's {} units", b.k, self.model().units.len()),
            ));
        }
        let rg = &b.regime;
        if rg.vol_exit_bps > rg.vol_enter_bps {
            out.push(bad("belief.regime.vol_exit_bps", "must be ≤ vol_enter_bps".into()));
        }
        if rg.trend_exit > rg.trend_enter {
            out.push(bad("belief.regime.trend_exit", "must be ≤ trend_enter".into()));
        }
        let mr = &self.strategy.mean_reversion;
        if mr.exit_z >= mr.entry_z {
            out.push(bad(
                "strategy.mean_reversion.exit_z",
                format!("{} must be less than entry_z {}", mr.exit_z, mr.entry_z),
            ));
        }
        let m = &self.strategy.momentum;
        if m.slow <= m.fast {
            out.push(bad(
                "strategy.momentum.slow",
                format!("need fast ({}) < slow ({})", m.fast, m.slow),
            ));
        }
        for (i, f) in self.risk.fees.iter().enumerate() {
            if !self.instruments.iter().any(|s| s.symbol == f.symbol) {
                out.push(bad(
                    &format!("risk.fees[{i}].symbol"),
                    format!("{:?} is not a configured instrument", f.symbol),
                ));
            } else if self.risk.fees[..i].iter().any(|o| o.symbol == f.symbol) {
                out.push(bad(
                    &format!("risk.fees[{i}].symbol"),
                    format!("{:?} has a fee schedule already", f.symbol),
                ));
            }
        }
        if self.flags.fast_weights && !self.flags.linear_attention {
            out.push(bad(
                "flags.fast_weights",
                "needs flags.linear_attention: the fast weights adjust the attention router's query, \
                 which arbitrates only with linear_attention on; alone they would change nothing"
                    .into(),
            ));
        }
        if self.venue.mass_cancel && self.session.begin_string == "FIX.4.2" {
            out.push(bad(
                "venue.mass_cancel",
                "FIX 4.2 has no OrderMassCancelRequest (35=q, from FIX 4.3): turn it off, and a kill \
                 cancels order by order"
                    .into(),
            ));
        }
        if self.flags.exploration && self.venue.address.is_some() {
            out.push(bad(
                "flags.exploration",
                "must be off when orders go to a real counterparty (venue.address is set): \
                 exploration is for replays and the simulator, where candidates are evaluated"
                    .into(),
            ));
        }
        let r = &self.risk;
        if r.halt_drawdown < r.reduce_only_drawdown {
            out.push(bad("risk.halt_drawdown", "must be ≥ reduce_only_drawdown".into()));
        }
        let need = self.memory_estimate();
        let limit = self.runtime.max_memory_mb << 20;
        if need > limit {
            out.push(bad(
                "runtime.max_memory_mb",
                format!(
                    "this configuration needs about {} MiB (books, the simulated venue's arena and levels), over the limit of {} MiB; raise runtime.max_memory_mb if the host has it",
                    need >> 20,
                    limit >> 20
                ),
            ));
        }
        if let Err(e) = self.runtime.validate(bad) {
            out.push(e);
        }
        out
    }

    /// About how much memory running this configuration allocates, in bytes:
    /// each instrument's book (two ladders of `book.window_ticks` quantities and
    /// their occupancy bits), features and order table, and the simulated
    /// venue's order arena (`gen.target_depth_orders × 16` per instrument) and
    /// price levels, plus the fixed rings and queues.
    pub fn memory_estimate(&self) -> u64 {
        let n = self.instruments.len() as u64;
        let window = self.book.window_ticks as u64;
        let book = 2 * window * 8 + 2 * window / 8;
        let per_instrument = book + 64 * 1024;
        let venue_orders = (self.gen.target_depth_orders as u64 * 16 * n).max(4096);
        let venue = venue_orders * (std::mem::size_of::<[u64; 8]>() as u64 + 4) + n * 2 * 8192 * 32;
        let fixed = 64 << 20;
        n * per_instrument + venue + fixed
    }

    /// Checks the paths a run will write: the statistics file's directory must
    /// exist. (Not part of [`validate`](Self::validate): a configuration is
    /// loaded in places that never write its files.)
    pub fn check_paths(&self, origin: &Path) -> Result<(), Error> {
        if let Some(f) = &self.runtime.stats_file {
            let p = Path::new(f);
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !dir.is_dir() {
                return Err(Error::invalid(
                    origin,
                    "runtime.stats_file",
                    format!("{f}: the directory {} does not exist", dir.display()),
                ));
            }
        }
        Ok(())
    }
}

/// Checks shapes: 24 means and non-zero scales, 1..=64 units of 24 weights, one
/// readout weight per unit, query rows of one weight per unit, three keys of the
/// query's dimension; every number finite.
pub fn model(m: &BeliefModel, origin: &Path) -> Result<(), Error> {
    let n = crate::records::N_FEATURES;
    let bad = |key: &str, message: String| Error::invalid(origin, key, message);
    let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
    if m.mean.len() != n || !finite(&m.mean) {
        return Err(bad("mean", format!("needs {n} finite values, has {}", m.mean.len())));
    }
    if m.scale.len() != n || m.scale.iter().any(|x| !x.is_finite() || *x == 0.0) {
        return Err(bad("scale", format!("needs {n} finite non-zero values")));
    }
    let h = m.units.len();
    if !(1..=64).contains(&h) {
        return Err(bad("units", format!("{h} units; need 1..=64")));
    }
    for (i, u) in m.units.iter().enumerate() {
        if u.w.len() != n || !finite(&u.w) || !u.b.is_finite() {
            return Err(bad(
                &format!("units[{i}].w"),
                format!("needs {n} finite weights and a finite bias"),
            ));
        }
    }
    if m.readout.len() != h || !finite(&m.readout) {
        return Err(bad("readout", format!("needs {h} finite values (one per unit)")));
    }
    let a = &m.attention;
    let d = a.query.len();
    if d == 0 || d > 64 || a.query.iter().any(|r| r.len() != h || !finite(r)) {
        return Err(bad(
            "attention.query",
            format!("needs 1..=64 rows of {h} finite values"),
        ));
    }
    if a.keys.len() != 3 || a.keys.iter().any(|k| k.len() != d || !finite(k)) {
        return Err(bad(
            "attention.keys",
            format!("needs 3 keys (momentum, market_making, mean_reversion) of {d} values"),
        ));
    }
    Ok(())
}
