//! A deterministic crowd: seeded order flow that, run through the matching
//! engine, makes realistic market data.
//!
//! Per instrument, a hidden *fair value* follows a random walk (in ticks) whose
//! volatility switches between a calm and a volatile regime. Crowd actions arrive
//! as a Poisson process (exponential inter-arrival times), faster during bursts,
//! with an occasional silent gap of 0.2–2 s. Each action is one of:
//! - a limit order near fair value (a geometric number of ticks away, so the book
//!   thins out with depth; one that lands across the touch trades at once),
//! - a market order whose side leans toward fair value (it is what drags the mid
//!   after the fair value),
//! - a cancel of a random resting crowd order (more likely the more rest).
//!
//! Everything is a function of the seed and the configuration: the same seed gives
//! the same actions, and — through the deterministic matching engine — the same
//! market data.

use crate::matching::MatchingEngine;
use foxtrot_engine::config::GenConfig;
use foxtrot_engine::records::{flags, InstrumentSpec, Side};
use foxtrot_engine::rng::SeededRng;

/// One crowd action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CrowdAction {
    /// A limit order.
    Limit {
        /// Instrument id.
        instrument: u32,
        /// Side.
        side: Side,
        /// Price in price units.
        px: i64,
        /// Quantity in quantity units.
        qty: i64,
    },
    /// A market order.
    Market {
        /// Instrument id.
        instrument: u32,
        /// Side.
        side: Side,
        /// Quantity in quantity units.
        qty: i64,
    },
    /// A cancel of a resting crowd order.
    Cancel {
        /// Instrument id.
        instrument: u32,
        /// Venue order id.
        order_id: u64,
    },
}

/// A timed crowd action with the flags its market data should carry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimedAction {
    /// Control time of the action.
    pub ts_ns: u64,
    /// The action.
    pub action: CrowdAction,
    /// `flags::AFTER_GAP` when a gap preceded it.
    pub flags: u8,
}

struct CrowdInstrument {
    halted_until: u64,
    tick: i64,
    lot: i64,
    /// Fair value in ticks.
    fair: f64,
    volatile: bool,
    /// Venue ids of crowd orders believed to rest (some may have been filled).
    live: Vec<u64>,
}

/// The crowd generator.
pub struct CrowdGen {
    rng: SeededRng,
    cfg: GenConfig,
    inst: Vec<CrowdInstrument>,
    next_ts: u64,
    next_flags: u8,
    burst_left: u32,
    live_cap: usize,
}

/// Most resting crowd orders tracked per instrument, as a multiple of the target.
const LIVE_CAP_FACTOR: usize = 8;

impl CrowdGen {
    /// A generator for `instruments` with the given configuration.
    pub fn new(cfg: &GenConfig, instruments: &[InstrumentSpec]) -> Self {
        let live_cap = cfg.target_depth_orders as usize * LIVE_CAP_FACTOR;
        CrowdGen {
            rng: SeededRng::new(cfg.seed),
            cfg: cfg.clone(),
            inst: instruments
                .iter()
                .map(|s| CrowdInstrument {
                    halted_until: 0,
                    tick: s.tick,
                    lot: s.lot,
                    fair: (s.ref_price / s.tick) as f64,
                    volatile: false,
                    live: Vec::with_capacity(live_cap),
                })
                .collect(),
            next_ts: cfg.start_ns,
            next_flags: 0,
            burst_left: 0,
            live_cap,
        }
    }

    /// Time of the next action.
    pub fn peek_ts(&self) -> u64 {
        self.next_ts
    }

    /// Records that the crowd order `id` now rests (call after a limit action).
    pub fn on_rested(&mut self, instrument: u32, id: u64) {
        if let Some(ci) = self.inst.get_mut(instrument as usize) {
            if ci.live.len() < self.live_cap {
                ci.live.push(id);
            }
        }
    }

    /// Produces the next action, given the venue's current state.
    pub fn next(&mut self, venue: &MatchingEngine) -> TimedAction {
        let ts = self.next_ts;
        let flags = self.next_flags;
        self.advance_clock();
        let n = self.inst.len() as u64;
        let i = self.rng.below(n) as usize;
        let instrument = i as u32;
        let cfg = &self.cfg;
        let rng = &mut self.rng;
        let ci = &mut self.inst[i];
        let adv = &cfg.adversarial;
        if adv.enabled && rng.chance(adv.halt_prob) {
            ci.halted_until = ts + adv.halt_ns;
        }
        if ts < ci.halted_until {
            // Halted: the crowd is silent on this instrument (a no-op action).
            return TimedAction {
                ts_ns: ts,
                action: CrowdAction::Cancel {
                    instrument,
                    order_id: 0,
                },
                flags,
            };
        }
        if rng.chance(cfg.regime_switch_prob) {
            ci.volatile = !ci.volatile;
        }
        let sigma = cfg.sigma_ticks[ci.volatile as usize];
        ci.fair = (ci.fair + cfg.drift_ticks + sigma * rng.normal()).max(2.0);

        let bid = venue.best(instrument, Side::Buy).map(|(p, _)| p / ci.tick);
        let ask = venue.best(instrument, Side::Sell).map(|(p, _)| p / ci.tick);
        let mid = match (bid, ask) {
            (Some(b), Some(a)) => Some((a + b) as f64 * 0.5),
            _ => None,
        };
        let target = cfg.target_depth_orders as f64;
        let w_add = 1.0;
        let w_cancel = ci.live.len() as f64 / target;
        let w_market = if mid.is_some() {
            cfg.market_order_frac * 2.0
        } else {
            0.0
        };
        let u = rng.uniform() * (w_add + w_cancel + w_market);
        let qty = {
            let lots = (cfg.mean_order_lots * (0.6 * rng.normal()).exp() / 1.197)
                .round()
                .max(1.0);
            lots as i64 * ci.lot
        };
        let action = if u < w_market {
            // Lean toward fair value: the further the mid is from it, the likelier.
            let gap = ci.fair - mid.expect("market orders only with a two-sided book");
            let p_buy = 1.0 / (1.0 + (-gap / 1.5).exp());
            let side = if rng.chance(p_buy) { Side::Buy } else { Side::Sell };
            CrowdAction::Market { instrument, side, qty }
        } else if u < w_market + w_cancel && !ci.live.is_empty() {
            // Pick a random believed-live order; drop the ones already gone.
            let mut order_id = 0;
            for _ in 0..4 {
                if ci.live.is_empty() {
                    break;
                }
                let k = rng.below(ci.live.len() as u64) as usize;
                let id = ci.live.swap_remove(k);
                if venue.is_live(id) {
                    order_id = id;
                    break;
                }
            }
            CrowdAction::Cancel { instrument, order_id }
        } else {
            let side = if rng.chance(0.5) { Side::Buy } else { Side::Sell };
            let off = 1 + rng.geometric(0.3) as i64;
            let centre = ci.fair.round() as i64;
            let t = match side {
                Side::Buy => centre - off,
                Side::Sell => centre + off,
            };
            CrowdAction::Limit {
                instrument,
                side,
                px: t.max(1) * ci.tick,
                qty,
            }
        };
        TimedAction {
            ts_ns: ts,
            action,
            flags,
        }
    }

    fn advance_clock(&mut self) {
        let cfg = &self.cfg;
        let rate = cfg.rate_per_sec * self.inst.len() as f64;
        let mut mean_gap_ns = 1e9 / rate;
        if self.burst_left > 0 {
            self.burst_left -= 1;
            mean_gap_ns /= 20.0;
        } else if self.rng.chance(cfg.burst_prob) {
            self.burst_left = 200;
        }
        let mut dt = self.rng.exponential(mean_gap_ns).max(1.0) as u64;
        self.next_flags = 0;
        if self.rng.chance(cfg.gap_prob) {
            dt += (0.2e9 + self.rng.uniform() * 1.8e9) as u64;
            self.next_flags = flags::AFTER_GAP;
        }
        self.next_ts += dt;
    }
}
