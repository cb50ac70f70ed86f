//! Sensory: per-instrument features from the book and the tape.
//!
//! Each instrument keeps its own feature vector; an input that concerns it updates
//! what it can and the whole vector is copied out. Slots are stable: a new feature
//! takes a new index, never an old one.
//!
//! | index | name | definition |
//! |---|---|---|
//! | 0 | `MID` | (best bid + best ask)/2, currency |
//! | 1 | `MICROPRICE` | (bid·ask_qty + ask·bid_qty)/(bid_qty + ask_qty), currency |
//! | 2 | `SPREAD_TICKS` | (ask − bid)/tick |
//! | 3 | `IMBALANCE_1` | (bid_qty − ask_qty)/(bid_qty + ask_qty) at the touch, in [−1, 1] |
//! | 4 | `EMA_FAST` | EMA of mid, span `strategy.momentum.fast` |
//! | 5 | `EMA_SLOW` | EMA of mid, span `strategy.momentum.slow` |
//! | 6 | `EMA_SIGNAL` | (fast − slow)/tick |
//! | 7 | `LAST_TRADE` | price of the last execution or print, currency |
//! | 8 | `BID_QTY` | quantity at the best bid |
//! | 9 | `ASK_QTY` | quantity at the best ask |
//! | 10 | `MID_UPDATES` | mid updates seen |
//! | 11 | `IMBALANCE_N` | as `IMBALANCE_1` over the top `sensory.depth_levels` levels |
//! | 12 | `EMA_LONG` | EMA of mid, span `sensory.long_span` |
//! | 13 | `RET_BPS` | last log return of mid × 10⁴ |
//! | 14 | `VOL_BPS` | √(EWMA of squared log returns) × 10⁴, alpha `2/(sensory.vol_span+1)` |
//! | 15 | `FLOW_IMB` | EWMA(signed executed qty)/EWMA(executed qty); + when buyers aggress |
//! | 16 | `VWAP` | session VWAP of executions and prints, currency |
//! | 17 | `VWAP_DEV_TICKS` | (mid − VWAP)/tick |
//! | 18 | `SESSION_STATE` | probe: 0 opening auction, 1 continuous, 2 halted (stale) |
//! | 19 | `SWEEP_RISK` | probe: decayed max over batches of levels hit × qty executed / (depth + qty executed) |
//! | 20 | `IMB_SURGE_Z` | probe: z-score of the change in `IMBALANCE_N` against its EWMA mean and variance |
//! | 21 | `TREND_Z` | ((EMA_FAST − EMA_LONG)/mid) / max(vol, 1e-6): trend in units of return volatility |
//! | 22 | `DEPTH_BID_N` | bid quantity in the top `depth_levels` |
//! | 23 | `DEPTH_ASK_N` | ask quantity in the top `depth_levels` |
//!
//! Executions and prints feed `LAST_TRADE`, VWAP and flow only when they are
//! plausible: a positive price within [`PRINT_BAND`] of the current mid (when there
//! is one) and a quantity below [`MAX_PRINT_QTY`]; anything else is counted as a
//! bad print and ignored, so one corrupt print cannot poison the session's VWAP.
//!
//! The mid (and everything derived from it) is updated only on inputs that end a
//! batch and when the book is two-sided and not crossed; EMAs use alpha = 2/(n+1)
//! and are seeded by their first input. The session state is *opening auction*
//! until `sensory.auction_updates` mid updates have been seen (again after each
//! halt), *continuous* after, and *halted* when the housekeeping timer finds no
//! market data on the instrument for `sensory.stale_after_ns`.

use super::book::Book;
use crate::core::params::SensoryConfig;
use crate::records::{flags, FeatureVector, Header, InstrumentSpec, Kind, MarketData, MdAction, Side, N_FEATURES};

/// Each feature slot's name, by index (the module table's second column).
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "MID",
    "MICROPRICE",
    "SPREAD_TICKS",
    "IMBALANCE_1",
    "EMA_FAST",
    "EMA_SLOW",
    "EMA_SIGNAL",
    "LAST_TRADE",
    "BID_QTY",
    "ASK_QTY",
    "MID_UPDATES",
    "IMBALANCE_N",
    "EMA_LONG",
    "RET_BPS",
    "VOL_BPS",
    "FLOW_IMB",
    "VWAP",
    "VWAP_DEV_TICKS",
    "SESSION_STATE",
    "SWEEP_RISK",
    "IMB_SURGE_Z",
    "TREND_Z",
    "DEPTH_BID_N",
    "DEPTH_ASK_N",
];

/// Feature slot indices (see the module table).
pub mod idx {
    /// Mid price.
    pub const MID: usize = 0;
    /// Microprice.
    pub const MICROPRICE: usize = 1;
    /// Spread in ticks.
    pub const SPREAD_TICKS: usize = 2;
    /// Top-of-book imbalance.
    pub const IMBALANCE_1: usize = 3;
    /// Fast EMA of mid.
    pub const EMA_FAST: usize = 4;
    /// Slow EMA of mid.
    pub const EMA_SLOW: usize = 5;
    /// (fast − slow) / tick.
    pub const EMA_SIGNAL: usize = 6;
    /// Last execution price.
    pub const LAST_TRADE: usize = 7;
    /// Best bid quantity.
    pub const BID_QTY: usize = 8;
    /// Best ask quantity.
    pub const ASK_QTY: usize = 9;
    /// Number of mid updates seen.
    pub const MID_UPDATES: usize = 10;
    /// Top-N imbalance.
    pub const IMBALANCE_N: usize = 11;
    /// Long EMA of mid.
    pub const EMA_LONG: usize = 12;
    /// Last mid log return, bps.
    pub const RET_BPS: usize = 13;
    /// Realised volatility, bps.
    pub const VOL_BPS: usize = 14;
    /// Trade-flow imbalance.
    pub const FLOW_IMB: usize = 15;
    /// Session VWAP.
    pub const VWAP: usize = 16;
    /// Mid − VWAP in ticks.
    pub const VWAP_DEV_TICKS: usize = 17;
    /// Session state probe.
    pub const SESSION_STATE: usize = 18;
    /// Sweep-risk probe.
    pub const SWEEP_RISK: usize = 19;
    /// Imbalance-surge probe.
    pub const IMB_SURGE_Z: usize = 20;
    /// Trend strength in volatility units.
    pub const TREND_Z: usize = 21;
    /// Top-N bid depth.
    pub const DEPTH_BID_N: usize = 22;
    /// Top-N ask depth.
    pub const DEPTH_ASK_N: usize = 23;
}

/// Prints further than this fraction from the mid are ignored as bad prints.
pub const PRINT_BAND: f64 = 0.10;

/// Prints of this many quantity units or more are ignored as bad prints.
pub const MAX_PRINT_QTY: i64 = 1 << 40;

/// Session-state probe values.
pub mod session {
    /// Opening auction (or re-opening after a halt): not enough continuous trading yet.
    pub const AUCTION: f32 = 0.0;
    /// Continuous trading.
    pub const CONTINUOUS: f32 = 1.0;
    /// Halted: no market data for longer than the stale limit.
    pub const HALTED: f32 = 2.0;
}

/// Features summarised (as slow means) in theory packets, in packet order.
pub const THEORY_SUMMARY: [usize; crate::records::THEORY_FEATURES] = [
    idx::RET_BPS,
    idx::VOL_BPS,
    idx::IMBALANCE_N,
    idx::FLOW_IMB,
    idx::SPREAD_TICKS,
    idx::TREND_Z,
    idx::SWEEP_RISK,
    idx::IMB_SURGE_Z,
];

/// An exponential moving average with alpha = 2/(span+1), seeded by its first input.
#[derive(Clone, Copy, Debug)]
pub struct Ema {
    alpha: f64,
    value: f64,
    n: u64,
}

impl Ema {
    /// An EMA over `span` inputs.
    pub fn new(span: u32) -> Self {
        Ema {
            alpha: 2.0 / (span as f64 + 1.0),
            value: 0.0,
            n: 0,
        }
    }
    /// Feeds one value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        self.value = if self.n == 0 {
            x
        } else {
            self.value + self.alpha * (x - self.value)
        };
        self.n += 1;
    }
    /// Current value (0 before the first input).
    pub fn value(&self) -> f64 {
        self.value
    }
    /// Inputs seen.
    pub fn count(&self) -> u64 {
        self.n
    }
}

/// The features that decisions compare against thresholds or round to a tick,
/// as sensory computed them (f64): the f32 [`FeatureVector`] keeps 24 bits of
/// each, enough for what only feeds the belief, not to decide near a threshold
/// (near 1.1 an f32 step is 0.012 of a 0.00001 tick). Same meaning and units as
/// the feature of the same name in [`idx`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExactFeatures {
    /// [`idx::MID`].
    pub mid: f64,
    /// [`idx::MICROPRICE`], in the instrument's price units (not divided by
    /// its scale: a microprice on a tick divides by the tick exactly).
    pub micro_px: f64,
    /// [`idx::EMA_LONG`].
    pub ema_long: f64,
    /// [`idx::VOL_BPS`].
    pub vol_bps: f64,
    /// [`idx::TREND_Z`].
    pub trend_z: f64,
}

/// What one market-data input did to its instrument's features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MdUpdate {
    /// The mid was updated: a decision point.
    pub decision: bool,
    /// A feature value may have changed. When false, every value is what it
    /// was after the instrument's previous input (only the header, which
    /// names the input, differs), so a copy of the values taken then is
    /// still current.
    pub changed: bool,
}

/// Per-instrument sensory state.
#[derive(Clone, Debug)]
struct InstrumentState {
    px_scale: f64,
    qty_scale: f64,
    tick_px: f64,
    fast: Ema,
    slow: Ema,
    long: Ema,
    last_mid: f64,
    var: f64,
    flow_signed: f64,
    flow_abs: f64,
    vwap_pq: f64,
    vwap_q: f64,
    last_md_ts: u64,
    updates_since_open: u64,
    halted: bool,
    batch_exec_qty: [i64; 2],
    batch_levels: [u32; 2],
    batch_last_px: [i64; 2],
    sweep: f64,
    prev_imb: f64,
    surge_mean: f64,
    surge_var: f64,
    surge_n: u64,
    fv: FeatureVector,
    exact: ExactFeatures,
}

/// The top-N depth group: the features that walk N book levels per side.
pub const DEPTH_GROUP: [usize; 5] = [
    idx::IMBALANCE_N,
    idx::DEPTH_BID_N,
    idx::DEPTH_ASK_N,
    idx::IMB_SURGE_Z,
    idx::SWEEP_RISK,
];

/// The volatility group: the features built on the mid's log return (a
/// logarithm, a square root and a division per mid update).
pub const VOL_GROUP: [usize; 3] = [idx::RET_BPS, idx::VOL_BPS, idx::TREND_Z];

/// The sensory stage.
pub struct Sensory {
    cfg: SensoryConfig,
    /// Whether the [`DEPTH_GROUP`] is computed (else it reads 0).
    depth: bool,
    /// Whether the [`VOL_GROUP`] is computed (else it reads 0, in the vector
    /// and in [`ExactFeatures`]).
    vol: bool,
    bad_prints: u64,
    vol_alpha: f64,
    flow_alpha: f64,
    surge_alpha: f64,
    state: Vec<InstrumentState>,
}

impl Sensory {
    /// Sensory state for `instruments`; the fast and slow EMA spans come from the
    /// momentum policy, the rest from `cfg`.
    pub fn new(instruments: &[InstrumentSpec], fast: u32, slow: u32, cfg: &SensoryConfig) -> Self {
        Sensory {
            depth: true,
            vol: true,
            bad_prints: 0,
            vol_alpha: 2.0 / (cfg.vol_span as f64 + 1.0),
            flow_alpha: 2.0 / (cfg.flow_span as f64 + 1.0),
            surge_alpha: 2.0 / (cfg.surge_span as f64 + 1.0),
            cfg: cfg.clone(),
            state: instruments
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut fv = FeatureVector::default();
                    fv.header.kind = Kind::Features as u8;
                    fv.header.instrument = i as u32;
                    InstrumentState {
                        px_scale: crate::records::pow10(s.price_decimals) as f64,
                        qty_scale: crate::records::pow10(s.qty_decimals) as f64,
                        tick_px: s.tick as f64,
                        fast: Ema::new(fast),
                        slow: Ema::new(slow),
                        long: Ema::new(cfg.long_span),
                        last_mid: 0.0,
                        var: 0.0,
                        flow_signed: 0.0,
                        flow_abs: 0.0,
                        vwap_pq: 0.0,
                        vwap_q: 0.0,
                        last_md_ts: 0,
                        updates_since_open: 0,
                        halted: false,
                        batch_exec_qty: [0; 2],
                        batch_levels: [0; 2],
                        batch_last_px: [0; 2],
                        sweep: 0.0,
                        prev_imb: 0.0,
                        surge_mean: 0.0,
                        surge_var: 0.0,
                        surge_n: 0,
                        fv,
                        exact: ExactFeatures::default(),
                    }
                })
                .collect(),
        }
    }

    /// Whether the [`DEPTH_GROUP`] is computed; when not, those features stay 0
    /// and every other feature is what it would have been.
    pub fn with_depth_group(mut self, on: bool) -> Self {
        self.depth = on;
        self
    }

    /// Whether the [`DEPTH_GROUP`] is computed.
    #[cfg(test)]
    pub fn computes_depth_group(&self) -> bool {
        self.depth
    }

    /// Whether the [`VOL_GROUP`] is computed; when not, those features (and
    /// their [`ExactFeatures`]) stay 0 and every other feature is what it
    /// would have been.
    pub fn with_vol_group(mut self, on: bool) -> Self {
        self.vol = on;
        self
    }

    /// Whether the [`VOL_GROUP`] is computed.
    #[cfg(test)]
    pub fn computes_vol_group(&self) -> bool {
        self.vol
    }

    /// Updates features after `md` was applied to `book` and copies the instrument's
    /// vector into `out`. Returns true when the mid was updated (a decision point).
    #[inline]
    pub fn on_md(&mut self, md: &MarketData, book: &Book, out: &mut FeatureVector) -> bool {
        let u = self.update(md, book);
        if let Some(fv) = self.features(md.header.instrument) {
            *out = *fv;
        }
        u.decision
    }

    /// Updates features after `md` was applied to `book`, without copying them
    /// out: [`features`](Self::features) then holds the instrument's vector.
    #[inline]
    pub fn update(&mut self, md: &MarketData, book: &Book) -> MdUpdate {
        let (fa, va, sa) = (self.flow_alpha, self.vol_alpha, self.surge_alpha);
        let levels = self.cfg.depth_levels as usize;
        let auction_updates = self.cfg.auction_updates as u64;
        let sweep_decay = self.cfg.sweep_decay;
        let (depth, vol_group) = (self.depth, self.vol);
        let Some(st) = self.state.get_mut(md.header.instrument as usize) else {
            return MdUpdate::default();
        };
        st.last_md_ts = md.header.ts_ns;
        if st.halted {
            st.halted = false;
            st.updates_since_open = 0;
        }
        let v = &mut st.fv.values;
        let action = md.action();
        let is_print = matches!(action, Some(MdAction::Execute | MdAction::Trade));
        // Only a print is judged (a quote or an order's update costs no division).
        let plausible = is_print
            && md.px > 0
            && md.qty > 0
            && md.qty < MAX_PRINT_QTY
            && (st.last_mid <= 0.0 || ((md.px as f64 / st.px_scale) / st.last_mid - 1.0).abs() <= PRINT_BAND);
        if is_print && !plausible {
            self.bad_prints += 1;
        }
        // Whether a value may have changed (a slot written); the values are
        // otherwise the same as after the instrument's previous input.
        let mut changed = plausible;
        if plausible {
            let px = md.px as f64 / st.px_scale;
            let q = md.qty as f64 / st.qty_scale;
            v[idx::LAST_TRADE] = px as f32;
            st.vwap_pq += px * q;
            st.vwap_q += q;
            // The aggressor is the side opposite the resting order that executed.
            let sign = match (action, md.side()) {
                (Some(MdAction::Execute), Some(Side::Buy)) => -1.0,
                (Some(MdAction::Execute), Some(Side::Sell)) => 1.0,
                (Some(MdAction::Trade), Some(s)) => s.sign() as f64,
                _ => 0.0,
            };
            st.flow_signed += fa * (sign * q - st.flow_signed);
            st.flow_abs += fa * (q - st.flow_abs);
            if let (Some(MdAction::Execute), Some(s)) = (action, md.side()) {
                let k = s.index();
                st.batch_exec_qty[k] += md.qty;
                if st.batch_last_px[k] != md.px {
                    st.batch_levels[k] += 1;
                    st.batch_last_px[k] = md.px;
                }
            }
            // VWAP and flow change only here (their slots keep the last values).
            if st.vwap_q > 0.0 {
                v[idx::VWAP] = (st.vwap_pq / st.vwap_q) as f32;
            }
            if st.flow_abs > 0.0 {
                v[idx::FLOW_IMB] = (st.flow_signed / st.flow_abs) as f32;
            }
        }
        let last = md.header.flags & flags::LAST_IN_BATCH != 0;
        let mut updated = false;
        if last {
            if depth {
                // Sweep probe: how much of the touch-side depth this batch consumed.
                let mut score: f64 = 0.0;
                for side in [Side::Buy, Side::Sell] {
                    let k = side.index();
                    let q = st.batch_exec_qty[k];
                    if q > 0 {
                        let left = book.depth_qty(side, levels) as f64;
                        score = score.max(st.batch_levels[k] as f64 * q as f64 / (left + q as f64));
                    }
                }
                st.sweep = score.max(st.sweep * sweep_decay);
                v[idx::SWEEP_RISK] = st.sweep as f32;
                changed = true;
            }
            st.batch_exec_qty = [0; 2];
            st.batch_levels = [0; 2];
            st.batch_last_px = [0; 2];
        }
        if let (true, Some((bp, bq)), Some((ap, aq))) = (last, book.best_bid(), book.best_ask()) {
            // Not crossed, as `Top::mid2` (a locked book is a price).
            if bp <= ap {
                updated = true;
                changed = true;
                let mid = (bp + ap) as f64 * 0.5 / st.px_scale;
                if vol_group && st.last_mid > 0.0 {
                    let r = (mid / st.last_mid).ln();
                    st.var += va * (r * r - st.var);
                    v[idx::RET_BPS] = (r * 1e4) as f32;
                }
                st.last_mid = mid;
                st.fast.update(mid);
                st.slow.update(mid);
                st.long.update(mid);
                st.updates_since_open += 1;
                let (bqf, aqf) = (bq as f64, aq as f64);
                // In price units first: integer products (exact in f64), one
                // rounding; a microprice on a tick is then that tick exactly.
                let micro_px = (bp as f64 * aqf + ap as f64 * bqf) / (bqf + aqf);
                let micro = micro_px / st.px_scale;
                if depth {
                    let db = book.depth_qty(Side::Buy, levels) as f64;
                    let da = book.depth_qty(Side::Sell, levels) as f64;
                    let imb_n = (db - da) / (db + da);
                    // Surge probe: z-score of the change in imbalance.
                    let d = imb_n - st.prev_imb;
                    st.prev_imb = imb_n;
                    let z = if st.surge_n > 1 {
                        (d - st.surge_mean) / (st.surge_var + 1e-12).sqrt()
                    } else {
                        0.0
                    };
                    st.surge_mean += sa * (d - st.surge_mean);
                    st.surge_var += sa * ((d - st.surge_mean) * (d - st.surge_mean) - st.surge_var);
                    st.surge_n += 1;
                    v[idx::IMBALANCE_N] = imb_n as f32;
                    v[idx::IMB_SURGE_Z] = z.clamp(-1e3, 1e3) as f32;
                    v[idx::DEPTH_BID_N] = (db / st.qty_scale) as f32;
                    v[idx::DEPTH_ASK_N] = (da / st.qty_scale) as f32;
                }
                let tick = st.tick_px / st.px_scale;
                v[idx::MID] = mid as f32;
                v[idx::MICROPRICE] = micro as f32;
                v[idx::SPREAD_TICKS] = ((ap - bp) as f64 / st.tick_px) as f32;
                v[idx::IMBALANCE_1] = ((bqf - aqf) / (bqf + aqf)) as f32;
                v[idx::BID_QTY] = (bqf / st.qty_scale) as f32;
                v[idx::ASK_QTY] = (aqf / st.qty_scale) as f32;
                v[idx::EMA_FAST] = st.fast.value() as f32;
                v[idx::EMA_SLOW] = st.slow.value() as f32;
                v[idx::EMA_LONG] = st.long.value() as f32;
                v[idx::EMA_SIGNAL] = ((st.fast.value() - st.slow.value()) / tick) as f32;
                let (vol_bps, trend_z) = if vol_group {
                    let vol = st.var.sqrt();
                    let trend_z = ((st.fast.value() - st.long.value()) / mid) / vol.max(1e-6);
                    v[idx::VOL_BPS] = (vol * 1e4) as f32;
                    v[idx::TREND_Z] = trend_z as f32;
                    (vol * 1e4, trend_z)
                } else {
                    (0.0, 0.0)
                };
                st.exact = ExactFeatures {
                    mid,
                    micro_px,
                    ema_long: st.long.value(),
                    vol_bps,
                    trend_z,
                };
                v[idx::MID_UPDATES] = st.slow.count() as f32;
                if st.vwap_q > 0.0 {
                    v[idx::VWAP_DEV_TICKS] = ((mid - st.vwap_pq / st.vwap_q) / tick) as f32;
                }
            }
        }
        let state = if st.updates_since_open >= auction_updates {
            session::CONTINUOUS
        } else {
            session::AUCTION
        };
        changed |= v[idx::SESSION_STATE] != state;
        v[idx::SESSION_STATE] = state;
        st.fv.header = Header {
            kind: Kind::Features as u8,
            ..md.header
        };
        MdUpdate {
            decision: updated,
            changed,
        }
    }

    /// The housekeeping timer: instruments without market data for longer than the
    /// stale limit enter the halted state.
    pub fn on_timer(&mut self, ts: u64) {
        let stale = self.cfg.stale_after_ns;
        for st in &mut self.state {
            if st.last_md_ts > 0 && ts.saturating_sub(st.last_md_ts) > stale && !st.halted {
                st.halted = true;
                st.fv.values[idx::SESSION_STATE] = session::HALTED;
            }
        }
    }

    /// The current feature vector of `instrument`.
    pub fn features(&self, instrument: u32) -> Option<&FeatureVector> {
        self.state.get(instrument as usize).map(|s| &s.fv)
    }

    /// The current exact (f64) decision features of `instrument`.
    #[inline]
    pub fn exact(&self, instrument: u32) -> Option<&ExactFeatures> {
        self.state.get(instrument as usize).map(|s| &s.exact)
    }

    /// True while `instrument` is halted (stale).
    pub fn is_halted(&self, instrument: u32) -> bool {
        self.state.get(instrument as usize).is_some_and(|s| s.halted)
    }
}

const _: () = assert!(idx::DEPTH_ASK_N < N_FEATURES);

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> InstrumentSpec {
        InstrumentSpec {
            symbol: "T".into(),
            price_decimals: 2,
            tick: 1,
            qty_decimals: 0,
            lot: 1,
            ref_price: 10_000,
        }
    }
    fn cfg() -> SensoryConfig {
        SensoryConfig {
            long_span: 9,
            vol_span: 3,
            flow_span: 3,
            surge_span: 3,
            depth_levels: 2,
            auction_updates: 2,
            sweep_decay: 0.5,
            stale_after_ns: 1_000,
            all_features: false,
        }
    }
    /// An event drawn from `r`: a side, a price one to six ticks off 100.00 on
    /// that side, one of `actions`, a size of 1 to 50.
    fn random_md(r: u64, ts: u64, actions: &[MdAction], last: bool) -> MarketData {
        let side = if r & 1 == 0 { Side::Buy } else { Side::Sell };
        let off = 1 + (r >> 8) as i64 % 6;
        let px = if side == Side::Buy { 10_000 - off } else { 10_000 + off };
        let action = actions[(r >> 16) as usize % actions.len()];
        md(action, side, ts, px, 1 + (r >> 24) as i64 % 50, last)
    }

    fn md(a: MdAction, side: Side, ts: u64, px: i64, qty: i64, last: bool) -> MarketData {
        MarketData::new(
            a,
            0,
            Some(side),
            ts,
            0,
            px,
            qty,
            if last { flags::LAST_IN_BATCH } else { 0 },
        )
    }

    #[test]
    fn ema_matches_hand_computation() {
        // span 3 → alpha 0.5: 10, then 10 + 0.5·(14 − 10) = 12, then 12 + 0.5·(8 − 12) = 10.
        let mut e = Ema::new(3);
        e.update(10.0);
        assert_eq!(e.value(), 10.0);
        e.update(14.0);
        assert_eq!(e.value(), 12.0);
        e.update(8.0);
        assert_eq!(e.value(), 10.0);
        assert_eq!(e.count(), 3);
    }

    #[test]
    fn book_features_by_hand() {
        let mut book = Book::new(1, 10_000, 256);
        let mut s = Sensory::new(&[spec()], 2, 4, &cfg());
        let mut fv = FeatureVector::default();
        for m in [
            md(MdAction::Add, Side::Buy, 1, 9_999, 30, false),
            md(MdAction::Add, Side::Buy, 1, 9_998, 10, false),
            md(MdAction::Add, Side::Buy, 1, 9_997, 99, false),
        ] {
            book.apply(&m).unwrap();
            assert!(!s.on_md(&m, &book, &mut fv), "one-sided book: no mid");
        }
        let ask = md(MdAction::Add, Side::Sell, 2, 10_001, 10, true);
        book.apply(&ask).unwrap();
        assert!(s.on_md(&ask, &book, &mut fv));
        let v = fv.values;
        assert_eq!(v[idx::MID], 100.00);
        assert_eq!(v[idx::SPREAD_TICKS], 2.0);
        assert_eq!(v[idx::IMBALANCE_1], 0.5); // (30 − 10)/40
        assert!((v[idx::MICROPRICE] - 100.005).abs() < 1e-4); // (99.99·10 + 100.01·30)/40
                                                              // top-2: bids 30 + 10 = 40, asks 10 → (40 − 10)/50 = 0.6
        assert!((v[idx::IMBALANCE_N] - 0.6).abs() < 1e-6);
        assert_eq!((v[idx::DEPTH_BID_N], v[idx::DEPTH_ASK_N]), (40.0, 10.0));
        assert_eq!(v[idx::SESSION_STATE], session::AUCTION, "1 of 2 opening updates");
        assert_eq!(fv.header.kind, Kind::Features as u8);
    }

    #[test]
    fn returns_vol_vwap_flow_by_hand() {
        let mut book = Book::new(1, 10_000, 256);
        let mut s = Sensory::new(&[spec()], 2, 4, &cfg());
        let mut fv = FeatureVector::default();
        let mut feed = |m: MarketData, book: &mut Book, fv: &mut FeatureVector| {
            let _ = book.apply(&m);
            s.on_md(&m, book, fv)
        };
        feed(md(MdAction::Add, Side::Buy, 1, 9_999, 10, false), &mut book, &mut fv);
        feed(md(MdAction::Add, Side::Sell, 1, 10_001, 10, true), &mut book, &mut fv); // mid 100.00
                                                                                      // A buyer takes 4 at 100.01 (resting ask executes), then the ask moves up: mid 100.01.
        feed(
            md(MdAction::Execute, Side::Sell, 2, 10_001, 4, false),
            &mut book,
            &mut fv,
        );
        feed(
            md(MdAction::Cancel, Side::Sell, 2, 10_001, 6, false),
            &mut book,
            &mut fv,
        );
        feed(md(MdAction::Add, Side::Sell, 2, 10_003, 5, true), &mut book, &mut fv);
        let v = fv.values;
        let r = (100.01f64 / 100.00).ln();
        assert!((v[idx::RET_BPS] as f64 - r * 1e4).abs() < 1e-3);
        // vol alpha 0.5: var = 0.5·r² after the first return.
        assert!((v[idx::VOL_BPS] as f64 - (0.5 * r * r).sqrt() * 1e4).abs() < 1e-3);
        assert_eq!(v[idx::VWAP], 100.01);
        assert_eq!(v[idx::LAST_TRADE], 100.01);
        assert_eq!(v[idx::FLOW_IMB], 1.0, "only buyers aggressed");
        assert_eq!(v[idx::SESSION_STATE], session::CONTINUOUS);
        // Sweep: one level hit, 4 executed; ask depth left in the top 2 = 5 → 1·4/(5+4).
        assert!((v[idx::SWEEP_RISK] - 4.0 / 9.0).abs() < 1e-6);
    }

    #[test]
    fn stale_instrument_halts_and_reopens_in_auction() {
        let mut book = Book::new(1, 10_000, 256);
        let mut s = Sensory::new(&[spec()], 2, 4, &cfg());
        let mut fv = FeatureVector::default();
        for m in [
            md(MdAction::Add, Side::Buy, 10, 9_999, 1, false),
            md(MdAction::Add, Side::Sell, 10, 10_001, 1, true),
        ] {
            book.apply(&m).unwrap();
            s.on_md(&m, &book, &mut fv);
        }
        s.on_timer(500);
        assert!(!s.is_halted(0));
        s.on_timer(1_011);
        assert!(s.is_halted(0));
        assert_eq!(s.features(0).unwrap().values[idx::SESSION_STATE], session::HALTED);
        let m = md(MdAction::Add, Side::Buy, 2_000, 9_998, 1, true);
        book.apply(&m).unwrap();
        s.on_md(&m, &book, &mut fv);
        assert!(!s.is_halted(0));
        assert_eq!(fv.values[idx::SESSION_STATE], session::AUCTION);
    }

    /// An input `update` calls unchanged leaves every value, to the bit, as
    /// the later stages last saw it (the copy taken at the last change, or
    /// the vector a halt sent) — over adds, executions, cancels, quotes and
    /// trades on both sides, halts and reopenings, with the depth and
    /// volatility groups on and off; and both kinds of input occur.
    #[test]
    fn an_unchanged_update_leaves_the_values_the_stages_hold() {
        for (depth, vol) in [(true, true), (false, true), (true, false), (false, false)] {
            let mut rng = crate::rng::SeededRng::new(11);
            let mut book = Book::new(1, 10_000, 256);
            let mut s = Sensory::new(&[spec()], 2, 4, &cfg())
                .with_depth_group(depth)
                .with_vol_group(vol);
            let mut held = [0f32; N_FEATURES];
            let (mut same, mut changed, mut halts) = (0, 0, 0);
            let mut ts = 0u64;
            for _ in 0..20_000 {
                let r = rng.next_u64();
                // Now and then a timer, after a gap longer than the stale limit
                // or not.
                ts += if r % 97 == 0 { 2_000 } else { 1 + (r >> 40) % 50 };
                if r % 97 == 0 || r % 89 == 0 {
                    let was = s.is_halted(0);
                    s.on_timer(ts);
                    if s.is_halted(0) && !was {
                        held = s.features(0).unwrap().values;
                        halts += 1;
                    }
                    continue;
                }
                let actions = [
                    MdAction::Add,
                    MdAction::Execute,
                    MdAction::Cancel,
                    MdAction::Quote,
                    MdAction::Quote,
                    MdAction::Trade,
                ];
                let m = random_md(r, ts, &actions, (r >> 32) & 3 == 0);
                let _ = book.apply(&m);
                let u = s.update(&m, &book);
                let now = s.features(0).unwrap().values;
                if u.changed {
                    held = now;
                    changed += 1;
                } else {
                    assert!(!u.decision, "a decision point always changes");
                    for f in 0..N_FEATURES {
                        assert_eq!(now[f].to_bits(), held[f].to_bits(), "feature {}", FEATURE_NAMES[f]);
                    }
                    same += 1;
                }
            }
            assert!(
                same > 1_000 && changed > 1_000 && halts > 10,
                "{same} {changed} {halts}"
            );
        }
    }

    /// Without the depth group or the volatility group, the group's features
    /// read 0 (the volatility group's exact features too) and every other
    /// feature is, to the bit, what the full computation gives — over adds,
    /// executions (the sweep probe), cancels and quotes on both sides.
    #[test]
    fn a_group_off_leaves_every_other_feature_as_it_was() {
        let mut rng = crate::rng::SeededRng::new(5);
        let mut events = Vec::new();
        for i in 0..5_000u64 {
            let r = rng.next_u64();
            let actions = [
                MdAction::Add,
                MdAction::Add,
                MdAction::Execute,
                MdAction::Cancel,
                MdAction::Quote,
            ];
            events.push(random_md(r, i * 1_000, &actions, (r >> 32) & 3 != 0));
        }
        let run = |depth: bool, vol: bool| {
            let mut book = Book::new(1, 10_000, 256);
            let mut s = Sensory::new(&[spec()], 2, 4, &cfg())
                .with_depth_group(depth)
                .with_vol_group(vol);
            let mut fv = FeatureVector::default();
            events
                .iter()
                .map(|m| {
                    let _ = book.apply(m);
                    let d = s.on_md(m, &book, &mut fv);
                    (d, fv.values, *s.exact(0).unwrap())
                })
                .collect::<Vec<_>>()
        };
        let full = run(true, true);
        for (depth, vol) in [(false, true), (true, false), (false, false)] {
            let off = |f: &usize| (!depth && DEPTH_GROUP.contains(f)) || (!vol && VOL_GROUP.contains(f));
            let mut off_seen = false;
            for ((d1, a, e1), (d2, b, e2)) in full.iter().zip(&run(depth, vol)) {
                assert_eq!(d1, d2);
                for f in 0..N_FEATURES {
                    if off(&f) {
                        assert_eq!(b[f], 0.0, "feature {}", FEATURE_NAMES[f]);
                        off_seen |= a[f] != 0.0;
                    } else {
                        assert_eq!(a[f].to_bits(), b[f].to_bits(), "feature {}", FEATURE_NAMES[f]);
                    }
                }
                let want = if vol {
                    *e1
                } else {
                    ExactFeatures {
                        vol_bps: 0.0,
                        trend_z: 0.0,
                        ..*e1
                    }
                };
                assert_eq!(*e2, want);
            }
            assert!(
                off_seen,
                "the full run computed the groups switched off ({depth}, {vol})"
            );
        }
    }
}
