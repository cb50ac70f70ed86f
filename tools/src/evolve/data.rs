//! The regime grid: generated market data, one dataset per regime, cut into
//! per-instrument slices that are either for fitting or held out.
//!
//! [`generate`] runs the simulated crowd (`foxtrot_venue::SimWorld`) once per
//! regime of [`PRESETS`] — the base configuration's `gen` section with the
//! regime's volatility, drift and halts — and writes every instrument's
//! events into two market-data directories: the first `fit_frac` of that
//! instrument's events (**fit**: candidates are scored on these) and the rest
//! (**oos**: held out; only promotion gates read them). The split is in time,
//! so every held-out event is later than every fitted one.
//!
//! `grid.json` lists the slices with what the gates check: each slice's
//! regime, instrument, part, event count, first and last event time, and its
//! **dataset hash** — the engine's stream digest over the events as read back
//! from the directory ([`hash_dir`]), so the hash names the data wherever it
//! is mounted. Every slice's directory keeps the base configuration (all
//! instruments); a slice holds one instrument's events.

use crate::Error;
use foxtrot_engine::journal::market_data::MdSource;
use foxtrot_engine::records::InputView;
use foxtrot_engine::runtime::{StreamDigest, VenueLink};
use foxtrot_engine::Config;
use foxtrot_feed::capture::MdWriter;
use foxtrot_venue::SimWorld;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

fn bad(m: impl Into<String>) -> Error {
    Error::Evolve(m.into())
}

/// A regime of the grid: its name and how its data is generated from the base
/// `gen` section.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// Its name (a slice's regime label).
    pub name: &'static str,
    /// Fair-value move per action: the base's calm (`false`) or volatile (`true`) sigma.
    pub volatile: bool,
    /// Fair-value drift per action, ticks.
    pub drift_ticks: f64,
    /// Probability per action that an instrument halts for 3 s.
    pub halt_prob: f64,
}

/// The regimes generated, in grid order.
pub const PRESETS: [Preset; 4] = [
    Preset {
        name: "calm",
        volatile: false,
        drift_ticks: 0.0,
        halt_prob: 0.0,
    },
    Preset {
        name: "trending",
        volatile: false,
        drift_ticks: 0.01,
        halt_prob: 0.0,
    },
    Preset {
        name: "volatile",
        volatile: true,
        drift_ticks: 0.0,
        halt_prob: 0.0,
    },
    Preset {
        name: "halting",
        volatile: false,
        drift_ticks: 0.0,
        halt_prob: 0.0003,
    },
];

/// Fitting or held out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Candidates are scored on it.
    Fit,
    /// Held out for the out-of-sample gate.
    Oos,
}

/// One slice of the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    /// `regime/instrument/part`.
    pub id: String,
    /// The regime label.
    pub regime: String,
    /// The instrument's symbol.
    pub instrument: String,
    /// Fitting or held out.
    pub part: Part,
    /// Its market-data directory, relative to the grid's.
    pub dir: String,
    /// Market-data events.
    pub events: u64,
    /// Control time of its first and last event.
    pub first_ns: u64,
    /// See `first_ns`.
    pub last_ns: u64,
    /// The dataset hash ([`hash_dir`]).
    pub hash: String,
}

/// A generated regime grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// The base configuration's hash the data was generated from.
    pub base_config_hash: String,
    /// Crowd events generated per regime.
    pub events_per_regime: u64,
    /// Share of each instrument's events kept for fitting.
    pub fit_frac: f64,
    /// The slices: regime by regime, instrument by instrument, fit then oos.
    pub slices: Vec<Slice>,
}

impl Grid {
    /// Reads `dir/grid.json`.
    pub fn open(dir: &Path) -> Result<Grid, Error> {
        let p = dir.join("grid.json");
        let text = read_grid_json(dir)?;
        serde_json::from_str(&text).map_err(|e| bad(format!("{}: not a regime grid ({e})", p.display())))
    }

    /// The slices of one part.
    pub fn part(&self, part: Part) -> impl Iterator<Item = &Slice> {
        self.slices.iter().filter(move |s| s.part == part)
    }
}

/// The text of `dir/grid.json`; a directory without one is named as not a
/// regime grid, with what makes one (and what it is, if a market-data
/// directory: evolution scores on a grid's regimes, not one dataset).
pub(crate) fn read_grid_json(dir: &Path) -> Result<String, Error> {
    let p = dir.join("grid.json");
    std::fs::read_to_string(&p).map_err(|e| {
        if e.kind() != std::io::ErrorKind::NotFound {
            return bad(format!("{}: {e}", p.display()));
        }
        if !dir.exists() {
            return bad(format!(
                "{}: no such directory (a regime grid: `foxtrot evolve data --out DIR` makes one)",
                dir.display()
            ));
        }
        let what = if dir.join(foxtrot_engine::journal::market_data::MD_DIR).is_dir() {
            " (it is a market-data directory: `foxtrot sweep --data` searches parameters over one dataset)"
        } else {
            ""
        };
        bad(format!(
            "{}: not a regime grid: no grid.json{what}; `foxtrot evolve data --out DIR` makes one",
            dir.display()
        ))
    })
}

/// The engine's stream digest of a market-data directory's events as read
/// back, their count and first/last control time.
pub fn hash_dir(dir: &Path) -> Result<(String, u64, u64, u64), Error> {
    let (_, mut src) = MdSource::open(dir)?;
    let mut d = StreamDigest::default();
    let (mut first, mut last) = (0u64, 0u64);
    for m in src.by_ref() {
        if d.count() == 0 {
            first = m.header.ts_ns;
        }
        last = m.header.ts_ns;
        d.add(bytemuck::bytes_of(&m));
    }
    if let Some(e) = src.take_error() {
        return Err(e.into());
    }
    Ok((d.hex(), d.count(), first, last))
}

/// Generates the grid into `out` from `base` (see the module docs).
pub fn generate(base: &Config, out: &Path, events_per_regime: u64, fit_frac: f64) -> Result<Grid, Error> {
    if !(0.05..=0.95).contains(&fit_frac) {
        return Err(bad(format!("fit fraction {fit_frac}: want 0.05..=0.95")));
    }
    std::fs::create_dir_all(out).map_err(|e| bad(format!("{}: {e}", out.display())))?;
    let n = base.instruments.len();
    let mut slices = Vec::new();
    for (k, p) in PRESETS.iter().enumerate() {
        let mut cfg = base.clone();
        let g = &mut cfg.gen;
        g.seed = base.gen.seed.wrapping_add(1000 * (k as u64 + 1));
        g.events = events_per_regime;
        let sigma = base.gen.sigma_ticks[p.volatile as usize];
        g.sigma_ticks = [sigma, sigma];
        g.regime_switch_prob = 0.0;
        g.drift_ticks = p.drift_ticks;
        g.adversarial = Default::default();
        if p.halt_prob > 0.0 {
            g.adversarial.enabled = true;
            g.adversarial.halt_prob = p.halt_prob;
            g.adversarial.halt_ns = 3_000_000_000;
        }
        // First pass: each instrument's events, in order.
        let mut world = SimWorld::new(&cfg);
        let mut per: Vec<Vec<foxtrot_engine::records::MarketData>> = vec![Vec::new(); n];
        let mut seen = 0u64;
        while seen < events_per_regime {
            let Some(slot) = world.poll() else { break };
            if let Some(InputView::Md(m)) = slot.view() {
                seen += 1;
                if let Some(v) = per.get_mut(m.header.instrument as usize) {
                    v.push(*m);
                }
            }
        }
        for (i, events) in per.iter().enumerate() {
            // Cut between two different times: no instant is on both sides.
            let mut cut = ((events.len() as f64) * fit_frac).round() as usize;
            while cut > 0 && cut < events.len() && events[cut].header.ts_ns == events[cut - 1].header.ts_ns {
                cut += 1;
            }
            let sym = &base.instruments[i].symbol;
            for (part, evs) in [(Part::Fit, &events[..cut]), (Part::Oos, &events[cut..])] {
                let word = if part == Part::Fit { "fit" } else { "oos" };
                let rel = format!("{}/{sym}/{word}", p.name);
                let dir: PathBuf = out.join(&rel);
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).map_err(|e| bad(format!("{}: {e}", dir.display())))?;
                }
                let mut w = MdWriter::create_compact(&dir, base)?;
                for m in evs {
                    w.append(m)?;
                }
                w.finish()?;
                let (hash, count, first_ns, last_ns) = hash_dir(&dir)?;
                slices.push(Slice {
                    id: rel.clone(),
                    regime: p.name.to_string(),
                    instrument: sym.clone(),
                    part,
                    dir: rel,
                    events: count,
                    first_ns,
                    last_ns,
                    hash,
                });
            }
        }
    }
    let grid = Grid {
        base_config_hash: base.config_hash(),
        events_per_regime,
        fit_frac,
        slices,
    };
    let text = serde_json::to_string_pretty(&grid).map_err(|e| bad(e.to_string()))? + "\n";
    let p = out.join("grid.json");
    std::fs::write(&p, text).map_err(|e| bad(format!("{}: {e}", p.display())))?;
    Ok(grid)
}

/// Whether `cfg` trades the instruments the grid's data was generated for
/// (symbol, price and quantity decimals, tick, lot, in order): anything else
/// would replay one instrument's prices under another's name. An error naming
/// the first difference.
pub fn check_instruments(dir: &Path, grid: &Grid, cfg: &Config) -> Result<(), Error> {
    let Some(first) = grid.slices.first() else {
        return Err(bad(format!("{}: the grid has no slices", dir.display())));
    };
    let (own, _) = MdSource::open(&dir.join(&first.dir))?;
    let key = |s: &foxtrot_engine::records::InstrumentSpec| {
        (s.symbol.clone(), s.price_decimals, s.tick, s.qty_decimals, s.lot)
    };
    let (want, have): (Vec<_>, Vec<_>) = (
        own.instruments.iter().map(key).collect(),
        cfg.instruments.iter().map(key).collect(),
    );
    if want != have {
        let first_diff = want
            .iter()
            .zip(&have)
            .position(|(a, b)| a != b)
            .unwrap_or(want.len().min(have.len()));
        return Err(bad(format!(
            "{}: the grid's data is for instruments {:?}; the configuration trades {:?} (first difference at instrument {first_diff})",
            dir.display(),
            want.iter().map(|k| &k.0).collect::<Vec<_>>(),
            have.iter().map(|k| &k.0).collect::<Vec<_>>()
        )));
    }
    Ok(())
}

/// The leakage check of a candidate scored on `fitted` (slice ids) against the
/// grid in `dir`: `Ok(sentence)` when no fitted slice is held out, no fitted
/// and held-out slice share a dataset hash, every held-out slice of a
/// (regime, instrument) starts after its fitted slice ends, and every slice's
/// data still hashes to what the grid says; `Err(sentence)` naming the first
/// failure otherwise.
pub fn leakage(dir: &Path, grid: &Grid, fitted: &[String]) -> Result<String, String> {
    for id in fitted {
        match grid.slices.iter().find(|s| &s.id == id) {
            None => return Err(format!("scored on {id}, which the grid does not have")),
            Some(s) if s.part == Part::Oos => return Err(format!("scored on the held-out slice {id}")),
            Some(_) => {}
        }
    }
    for s in &grid.slices {
        match hash_dir(&dir.join(&s.dir)) {
            Ok((h, n, ..)) if h == s.hash && n == s.events => {}
            Ok((h, n, ..)) => {
                return Err(format!(
                    "{}: its data hashes to {h} ({n} events), the grid says {} ({})",
                    s.id, s.hash, s.events
                ))
            }
            Err(e) => return Err(format!("{}: {e}", s.id)),
        }
    }
    for o in grid.part(Part::Oos) {
        for f in grid.part(Part::Fit) {
            if f.hash == o.hash && o.events > 0 {
                return Err(format!("{} and {} hold the same data ({})", f.id, o.id, o.hash));
            }
            if f.regime == o.regime
                && f.instrument == o.instrument
                && f.events > 0
                && o.events > 0
                && o.first_ns <= f.last_ns
            {
                return Err(format!(
                    "{} starts at {} ns, not after {} ends at {} ns",
                    o.id, o.first_ns, f.id, f.last_ns
                ));
            }
        }
    }
    let n_oos = grid.part(Part::Oos).count();
    Ok(format!(
        "{} fitted slices, {n_oos} held out: none shared, each held-out slice later than its fitted one, all {} hashes verified",
        fitted.len(),
        grid.slices.len()
    ))
}
