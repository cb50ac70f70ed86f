//! RegimeFSM v1: calm / trending / volatile / halted, by rules with hysteresis.
//!
//! On every mid update of an instrument the FSM reads realised volatility
//! (`VOL_BPS`) and trend strength (`|TREND_Z|`) and picks a candidate regime:
//! volatile if vol is above its threshold, else trending if trend is, else calm.
//! Thresholds have hysteresis: the regime one is *in* is judged against its lower
//! `*_exit` threshold, any other against its higher `*_enter` threshold, so a value
//! hovering near one threshold does not flap. A regime is left only after
//! `min_dwell_updates` updates in it — except into *halted*, which is immediate
//! (stale data is not a matter of opinion), and out of *unclassified*.
//!
//! Confidence says how far inside its regime the instrument is, in [0, 1]:
//! volatile (vol − exit)/(enter − exit), trending (|trend| − exit)/(enter − exit),
//! calm min(1 − vol/vol_enter, 1 − |trend|/trend_enter), halted 1, clamped.
//!
//! With `belief.regime.enabled: false` the classifier is off: an instrument
//! stays *unclassified* (confidence 0) and the readings are not looked at,
//! but halts still apply — stale data is no more a matter of opinion then —
//! and the first mid update after one returns the instrument to
//! *unclassified*, a transition like any other.

use crate::core::params::RegimeConfig;

/// A regime code (the `regime` byte of beliefs and diary records).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Regime {
    /// Not yet classified (before the first mid update).
    Unclassified = 0,
    /// Low volatility, no trend.
    Calm = 1,
    /// A trend stronger than its threshold.
    Trending = 2,
    /// Volatility above its threshold.
    Volatile = 3,
    /// No market data for longer than the stale limit.
    Halted = 4,
}

impl Regime {
    /// Every regime, in code order.
    pub const ALL: [Regime; 5] = [
        Regime::Unclassified,
        Regime::Calm,
        Regime::Trending,
        Regime::Volatile,
        Regime::Halted,
    ];
    /// Decodes a regime byte.
    pub fn from_u8(v: u8) -> Option<Regime> {
        Self::ALL.get(v as usize).copied()
    }
    /// Lower-case name for reports.
    pub const fn name(self) -> &'static str {
        match self {
            Regime::Unclassified => "unclassified",
            Regime::Calm => "calm",
            Regime::Trending => "trending",
            Regime::Volatile => "volatile",
            Regime::Halted => "halted",
        }
    }
}

/// A regime change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// Regime left.
    pub from: Regime,
    /// Regime entered.
    pub to: Regime,
    /// Confidence in the new regime.
    pub confidence: f32,
}

#[derive(Clone, Copy, Debug)]
struct State {
    regime: Regime,
    dwell: u32,
    confidence: f32,
}

/// The FSM, one state per instrument.
pub struct RegimeFsm {
    cfg: RegimeConfig,
    st: Vec<State>,
    transitions: u64,
}

impl RegimeFsm {
    /// An FSM for `n` instruments.
    pub fn new(cfg: &RegimeConfig, n: usize) -> Self {
        RegimeFsm {
            cfg: cfg.clone(),
            st: vec![
                State {
                    regime: Regime::Unclassified,
                    dwell: 0,
                    confidence: 0.0
                };
                n
            ],
            transitions: 0,
        }
    }

    /// Current regime and confidence of `instrument`.
    pub fn current(&self, instrument: u32) -> (Regime, f32) {
        self.st
            .get(instrument as usize)
            .map_or((Regime::Unclassified, 0.0), |s| (s.regime, s.confidence))
    }

    /// Transitions so far.
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    fn confidence(&self, r: Regime, vol: f64, trend: f64) -> f32 {
        let c = &self.cfg;
        let frac = |v: f64, lo: f64, hi: f64| if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
        let v = match r {
            Regime::Unclassified => 0.0,
            Regime::Halted => 1.0,
            Regime::Volatile => frac(vol, c.vol_exit_bps, c.vol_enter_bps),
            Regime::Trending => frac(trend, c.trend_exit, c.trend_enter),
            Regime::Calm => {
                let a = if c.vol_enter_bps > 0.0 {
                    1.0 - vol / c.vol_enter_bps
                } else {
                    0.0
                };
                let b = if c.trend_enter > 0.0 {
                    1.0 - trend / c.trend_enter
                } else {
                    0.0
                };
                a.min(b)
            }
        };
        v.clamp(0.0, 1.0) as f32
    }

    fn enter(&mut self, i: usize, to: Regime, vol: f64, trend: f64) -> Option<Transition> {
        let confidence = self.confidence(to, vol, trend);
        let s = &mut self.st[i];
        let from = s.regime;
        s.regime = to;
        s.dwell = 0;
        s.confidence = confidence;
        self.transitions += 1;
        Some(Transition { from, to, confidence })
    }

    /// A mid update of `instrument` with realised volatility `vol_bps` and trend
    /// strength `trend_z`. Returns the transition if the regime changed.
    pub fn on_update(&mut self, instrument: u32, vol_bps: f64, trend_z: f64) -> Option<Transition> {
        let i = instrument as usize;
        let s = *self.st.get(i)?;
        let c = &self.cfg;
        if !c.enabled {
            return match s.regime {
                Regime::Halted => self.enter(i, Regime::Unclassified, 0.0, 0.0),
                _ => None,
            };
        }
        // Non-finite readings (bad data) count as zero: they never force a regime.
        let vol = if vol_bps.is_finite() { vol_bps } else { 0.0 };
        let trend = if trend_z.is_finite() { trend_z.abs() } else { 0.0 };
        let volatile = vol
            > if s.regime == Regime::Volatile {
                c.vol_exit_bps
            } else {
                c.vol_enter_bps
            };
        let trending = trend
            > if s.regime == Regime::Trending {
                c.trend_exit
            } else {
                c.trend_enter
            };
        let candidate = if volatile {
            Regime::Volatile
        } else if trending {
            Regime::Trending
        } else {
            Regime::Calm
        };
        let free = matches!(s.regime, Regime::Unclassified | Regime::Halted);
        if candidate != s.regime && (free || s.dwell >= c.min_dwell_updates) {
            return self.enter(i, candidate, vol, trend);
        }
        let conf = self.confidence(s.regime, vol, trend);
        let s = &mut self.st[i];
        s.dwell = s.dwell.saturating_add(1);
        s.confidence = conf;
        None
    }

    /// Marks `instrument` halted (stale data): immediate, whatever the dwell.
    pub fn halt(&mut self, instrument: u32) -> Option<Transition> {
        let i = instrument as usize;
        match self.st.get(i) {
            Some(s) if s.regime != Regime::Halted => self.enter(i, Regime::Halted, 0.0, 0.0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RegimeConfig {
        RegimeConfig {
            enabled: true,
            vol_enter_bps: 2.0,
            vol_exit_bps: 1.0,
            trend_enter: 3.0,
            trend_exit: 1.5,
            min_dwell_updates: 3,
        }
    }

    #[test]
    fn first_update_classifies_at_once() {
        let mut f = RegimeFsm::new(&cfg(), 1);
        let t = f.on_update(0, 0.5, 0.0).unwrap();
        assert_eq!((t.from, t.to), (Regime::Unclassified, Regime::Calm));
        // calm confidence = min(1 − 0.5/2, 1 − 0/3) = 0.75
        assert_eq!(t.confidence, 0.75);
    }

    #[test]
    fn hysteresis_and_dwell() {
        let mut f = RegimeFsm::new(&cfg(), 1);
        f.on_update(0, 0.5, 0.0); // calm, dwell 0
                                  // 1.5 bps is above exit but below enter: not volatile from calm.
        assert!(f.on_update(0, 1.5, 0.0).is_none());
        // 2.5 > enter, but fewer than 3 updates have been spent in calm: stay.
        assert!(f.on_update(0, 2.5, 0.0).is_none());
        assert!(f.on_update(0, 2.5, 0.0).is_none());
        assert_eq!(f.current(0).0, Regime::Calm);
        let t = f.on_update(0, 2.5, 0.0).unwrap(); // three updates in calm done
        assert_eq!(t.to, Regime::Volatile);
        assert_eq!(t.confidence, 1.0); // (2.5 − 1)/(2 − 1) clamped
                                       // Inside volatile, 1.5 is still above exit: stays volatile even after the dwell.
        for _ in 0..5 {
            assert!(f.on_update(0, 1.5, 0.0).is_none());
        }
        assert_eq!(f.current(0), (Regime::Volatile, 0.5));
        // Below exit, trend strong: trending.
        let t = f.on_update(0, 0.5, -4.0).unwrap();
        assert_eq!((t.from, t.to), (Regime::Volatile, Regime::Trending));
    }

    #[test]
    fn halt_is_immediate_and_leaving_it_is_free() {
        let mut f = RegimeFsm::new(&cfg(), 2);
        f.on_update(1, 0.5, 0.0);
        let t = f.halt(1).unwrap();
        assert_eq!((t.from, t.to, t.confidence), (Regime::Calm, Regime::Halted, 1.0));
        assert!(f.halt(1).is_none());
        assert_eq!(f.on_update(1, 0.5, 0.0).unwrap().to, Regime::Calm);
        assert_eq!(f.transitions(), 3);
        assert_eq!(f.current(0).0, Regime::Unclassified);
        assert!(f.on_update(0, f64::NAN, f64::INFINITY).unwrap().to == Regime::Calm);
    }

    #[test]
    fn switched_off_it_classifies_nothing_but_halts() {
        let off = RegimeConfig {
            enabled: false,
            ..cfg()
        };
        let mut f = RegimeFsm::new(&off, 1);
        for (vol, trend) in [(0.5, 0.0), (9.0, 0.0), (0.5, 9.0), (f64::NAN, 0.0)] {
            assert!(f.on_update(0, vol, trend).is_none());
            assert_eq!(f.current(0), (Regime::Unclassified, 0.0));
        }
        let t = f.halt(0).unwrap();
        assert_eq!((t.from, t.to), (Regime::Unclassified, Regime::Halted));
        let t = f.on_update(0, 9.0, 9.0).unwrap();
        assert_eq!(
            (t.from, t.to, t.confidence),
            (Regime::Halted, Regime::Unclassified, 0.0)
        );
        assert!(f.on_update(0, 9.0, 9.0).is_none());
        assert_eq!(f.transitions(), 2);
    }
}
