//! The built-in policies: each turns features, position and parameters into a
//! *target* — a position to hold or quotes to show — and knows nothing of orders.

use crate::core::book::Top;
use crate::core::params::{MarketMakingConfig, MeanReversionConfig, MomentumConfig, PolicyName};
use crate::core::sensory::{idx, ExactFeatures};
use crate::records::{FeatureVector, Topology};

/// Policy ids (diary `policy_id`); index = id − 1 for per-policy arrays.
pub const POLICY_IDS: [PolicyName; 3] = [
    PolicyName::Momentum,
    PolicyName::MarketMaking,
    PolicyName::MeanReversion,
];

/// The diary id of a policy (0 for none).
pub const fn policy_id(p: PolicyName) -> u16 {
    match p {
        PolicyName::None => 0,
        PolicyName::Momentum => 1,
        PolicyName::MarketMaking => 2,
        PolicyName::MeanReversion => 3,
    }
}

/// Name of a policy id, for reports.
pub const fn policy_name(id: u16) -> &'static str {
    match id {
        1 => "momentum",
        2 => "market_making",
        3 => "mean_reversion",
        _ => "none",
    }
}

/// What a policy wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No opinion yet (warming up): leave things as they are.
    Hold,
    /// Hold this signed position.
    Position(i64),
    /// Show these quotes as (price, quantity); `None` means no quote on that side.
    Quotes {
        /// Bid.
        bid: Option<(i64, i64)>,
        /// Ask.
        ask: Option<(i64, i64)>,
    },
    /// Trade nothing: cancel everything working.
    Flat,
}

/// Per-instrument policy memory (hysteresis of directional targets).
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicyMemory {
    momentum: i64,
    reversion: i64,
}

/// Rounds `q` down to a multiple of `lot`, at least one lot.
fn lots(q: f64, lot: i64) -> i64 {
    ((q / lot as f64).floor() as i64).max(1) * lot
}

/// Momentum: +qty while EMA_FAST > EMA_SLOW, −qty while below, once the slow EMA has
/// seen `slow` mid updates. The comparison is the sign of `EMA_SIGNAL`, the
/// difference taken in f64 before it was stored as f32 (its sign survives the
/// conversion): comparing the two EMAs as f32 would read close crosses as equal
/// or flip them late (near 1.1 an f32 step is 0.012 of a 0.00001 tick).
pub fn momentum(c: &MomentumConfig, fv: &FeatureVector, mem: &mut PolicyMemory, size: f32, lot: i64) -> Target {
    let v = &fv.values;
    if (v[idx::MID_UPDATES] as u64) < c.slow as u64 {
        return Target::Hold;
    }
    let q = lots(c.qty as f64 * size as f64, lot);
    let cross = v[idx::EMA_SIGNAL];
    if cross > 0.0 {
        mem.momentum = q;
    } else if cross < 0.0 {
        mem.momentum = -q;
    }
    Target::Position(mem.momentum)
}

/// Mean reversion: with z = (mid − EMA_LONG)/(mid · vol), short `qty` when z > entry,
/// long when z < −entry, flat again once |z| < exit; in between, keep. Computed
/// on the exact features: the f32 ones lose the difference `mid − EMA_LONG` near
/// the thresholds.
pub fn mean_reversion(
    c: &MeanReversionConfig,
    e: &ExactFeatures,
    mem: &mut PolicyMemory,
    size: f32,
    lot: i64,
) -> Target {
    let (mid, long, vol) = (e.mid, e.ema_long, e.vol_bps * 1e-4);
    if mid <= 0.0 || long <= 0.0 || vol <= 0.0 {
        return Target::Hold;
    }
    let z = (mid - long) / (mid * vol);
    let q = lots(c.qty as f64 * size as f64, lot);
    if z > c.entry_z {
        mem.reversion = -q;
    } else if z < -c.entry_z {
        mem.reversion = q;
    } else if z.abs() < c.exit_z {
        mem.reversion = 0;
    }
    Target::Position(mem.reversion)
}

/// Market making around the microprice (`micro_px`: exact, in the instrument's
/// integer price units, so one on a tick is that tick to the bit), skewed
/// against inventory. Passive quotes sit `half_spread_ticks` from the (skewed)
/// microprice, rounded away from it to the tick; aggressive ones join the touch.
/// Quotes never cross the opposite touch, and a side that would take |inventory|
/// beyond `max_inventory` is not quoted.
#[allow(clippy::too_many_arguments)]
pub fn market_making(
    c: &MarketMakingConfig,
    topology: Topology,
    micro_px: f64,
    book: &Top,
    inventory: i64,
    size: f32,
    lot: i64,
) -> Target {
    let (Some((bb, _)), Some((ba, _))) = (book.best_bid(), book.best_ask()) else {
        return Target::Hold;
    };
    if bb >= ba {
        return Target::Hold;
    }
    let tick = book.tick();
    let q = lots(c.qty as f64 * size as f64, lot);
    let skew = -(inventory as f64) * c.skew_ticks_per_qty;
    let (mut bid, mut ask) = match topology {
        Topology::Passive => {
            let micro = micro_px / tick as f64;
            let b = (micro + skew - c.half_spread_ticks as f64).floor() as i64 * tick;
            let a = (micro + skew + c.half_spread_ticks as f64).ceil() as i64 * tick;
            (b, a)
        }
        Topology::Aggressive | Topology::Market => {
            let s = skew.round() as i64 * tick;
            (bb + s, ba + s)
        }
    };
    bid = bid.min(ba - tick).max(tick);
    ask = ask.max(bb + tick);
    Target::Quotes {
        bid: (inventory + q <= c.max_inventory).then_some((bid, q)),
        ask: (inventory - q >= -c.max_inventory).then_some((ask, q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::book::Book;
    use crate::records::{MarketData, MdAction, Side};

    fn fv(pairs: &[(usize, f32)]) -> FeatureVector {
        let mut f = FeatureVector::default();
        for &(i, v) in pairs {
            f.values[i] = v;
        }
        f
    }

    #[test]
    fn momentum_waits_then_follows_the_cross_and_scales() {
        let c = MomentumConfig {
            fast: 2,
            slow: 4,
            qty: 100,
            slip_ticks: 1,
            max_order_age_ns: 1,
        };
        let mut m = PolicyMemory::default();
        let warm = fv(&[(idx::MID_UPDATES, 3.0), (idx::EMA_SIGNAL, 1.0)]);
        assert_eq!(momentum(&c, &warm, &mut m, 1.0, 1), Target::Hold);
        let up = fv(&[(idx::MID_UPDATES, 4.0), (idx::EMA_SIGNAL, 1.0)]);
        assert_eq!(momentum(&c, &up, &mut m, 1.0, 1), Target::Position(100));
        let flat = fv(&[(idx::MID_UPDATES, 5.0), (idx::EMA_SIGNAL, 0.0)]);
        assert_eq!(
            momentum(&c, &flat, &mut m, 1.0, 1),
            Target::Position(100),
            "equal EMAs keep the target"
        );
        let down = fv(&[(idx::MID_UPDATES, 5.0), (idx::EMA_SIGNAL, -0.5)]);
        assert_eq!(
            momentum(&c, &down, &mut m, 0.5, 10),
            Target::Position(-50),
            "halved, in lots of 10"
        );
    }

    #[test]
    fn mean_reversion_enters_and_exits_with_hysteresis() {
        let c = MeanReversionConfig {
            qty: 10,
            entry_z: 2.0,
            exit_z: 0.5,
        };
        let mut m = PolicyMemory::default();
        // vol 1 bp: z = (mid − long)/(mid · 1e-4). mid 100.03, long 100 → z ≈ 3 → short.
        let f = |mid: f64| ExactFeatures {
            mid,
            ema_long: 100.0,
            vol_bps: 1.0,
            ..ExactFeatures::default()
        };
        assert_eq!(mean_reversion(&c, &f(100.03), &mut m, 1.0, 1), Target::Position(-10));
        assert_eq!(
            mean_reversion(&c, &f(100.01), &mut m, 1.0, 1),
            Target::Position(-10),
            "z≈1: keep"
        );
        assert_eq!(mean_reversion(&c, &f(100.0), &mut m, 1.0, 1), Target::Position(0));
        assert_eq!(mean_reversion(&c, &f(99.97), &mut m, 1.0, 1), Target::Position(10));
    }

    /// Near 1.1 an f32 step is 1.2e-7: a mid 0.005 of a 0.00001 tick above
    /// the long EMA reads equal to it in f32 (z = 0, no position), while its
    /// exact z is above the entry threshold (a quiet market: vol tiny). The
    /// policy decides on the exact one.
    #[test]
    fn mean_reversion_decides_on_what_f32_features_lose() {
        let c = MeanReversionConfig {
            qty: 10,
            entry_z: 2.0,
            exit_z: 0.5,
        };
        let (long, mid) = (1.1f64, 1.1f64 + 5e-8);
        assert_eq!(mid as f32, long as f32, "the difference is below an f32 step");
        // z = (mid − long) / (mid · vol) = 2.5 with vol = 5e-8 / (mid · 2.5).
        let vol_bps = (mid - long) / (mid * 2.5) * 1e4;
        let e = ExactFeatures {
            mid,
            ema_long: long,
            vol_bps,
            ..ExactFeatures::default()
        };
        let mut m = PolicyMemory::default();
        assert_eq!(mean_reversion(&c, &e, &mut m, 1.0, 1), Target::Position(-10));
        // What the f32 features would have given: mid and long equal, z 0.
        let lost = ExactFeatures {
            mid: mid as f32 as f64,
            ema_long: long as f32 as f64,
            vol_bps: vol_bps as f32 as f64,
            ..ExactFeatures::default()
        };
        let mut m = PolicyMemory::default();
        assert_eq!(mean_reversion(&c, &lost, &mut m, 1.0, 1), Target::Position(0));
    }

    fn book(bid: i64, ask: i64) -> Top {
        let mut b = Book::new(1, (bid + ask) / 2, 256);
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Buy), 0, 1, bid, 10, 0))
            .unwrap();
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Sell), 0, 2, ask, 10, 0))
            .unwrap();
        b.top()
    }

    /// A microprice on a tick is that tick: 100.02 with a 0.01 tick (price
    /// units 1,000,200 and 100) quotes one tick either side of it. Through an
    /// f32 feature scaled back to price units it read 10,001.9997 ticks and the
    /// bid floored to the tick below.
    #[test]
    fn market_making_on_a_microprice_on_the_tick_quotes_from_that_tick() {
        let c = MarketMakingConfig {
            qty: 5,
            half_spread_ticks: 1,
            skew_ticks_per_qty: 0.0,
            max_inventory: 20,
            requote_ticks: 1,
        };
        let mut b = Book::new(100, 1_000_200, 256);
        b.apply(&MarketData::new(
            MdAction::Add,
            0,
            Some(Side::Buy),
            0,
            1,
            1_000_100,
            10,
            0,
        ))
        .unwrap();
        b.apply(&MarketData::new(
            MdAction::Add,
            0,
            Some(Side::Sell),
            0,
            2,
            1_000_300,
            10,
            0,
        ))
        .unwrap();
        let want = Target::Quotes {
            bid: Some((1_000_100, 5)),
            ask: Some((1_000_300, 5)),
        };
        assert_eq!(
            market_making(&c, Topology::Passive, 1_000_200.0, &b.top(), 0, 1.0, 1),
            want
        );
        // The f32 route: the feature, then scaled back.
        let lost = (1_000_200.0f64 / 1e4) as f32 as f64 * 1e4;
        assert_ne!(
            market_making(&c, Topology::Passive, lost, &b.top(), 0, 1.0, 1),
            want,
            "the f32 route quotes elsewhere"
        );
    }

    #[test]
    fn market_making_quotes_around_the_microprice_with_skew() {
        let c = MarketMakingConfig {
            qty: 5,
            half_spread_ticks: 2,
            skew_ticks_per_qty: 0.1,
            max_inventory: 20,
            requote_ticks: 1,
        };
        // Book 100 / 110 (ticks of 1 price unit); microprice 105.
        let f = 105.0;
        let t = market_making(&c, Topology::Passive, f, &book(100, 110), 0, 1.0, 1);
        assert_eq!(
            t,
            Target::Quotes {
                bid: Some((103, 5)),
                ask: Some((107, 5))
            }
        );
        // Long 10: skew −1 tick → 102 / 106.
        let t = market_making(&c, Topology::Passive, f, &book(100, 110), 10, 1.0, 1);
        assert_eq!(
            t,
            Target::Quotes {
                bid: Some((102, 5)),
                ask: Some((106, 5))
            }
        );
        // Long 18: a bid of 5 would reach 23 > 20: no bid.
        let t = market_making(&c, Topology::Passive, f, &book(100, 110), 18, 1.0, 1);
        assert!(matches!(
            t,
            Target::Quotes {
                bid: None,
                ask: Some(_)
            }
        ));
        // Aggressive joins the touch; a wide skew never crosses the other side.
        let t = market_making(&c, Topology::Aggressive, f, &book(100, 110), -200, 1.0, 1);
        assert!(
            matches!(t, Target::Quotes { ask: None, .. }),
            "short beyond the limit: no ask"
        );
        let c2 = MarketMakingConfig {
            max_inventory: 1000,
            ..c
        };
        let t = market_making(&c2, Topology::Aggressive, f, &book(100, 110), -200, 1.0, 1);
        assert_eq!(
            t,
            Target::Quotes {
                bid: Some((109, 5)),
                ask: Some((130, 5))
            },
            "skew +20 ticks, bid capped below the ask"
        );
    }
}
