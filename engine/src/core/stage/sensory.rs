//! Sensory stage: applies market data to the books and computes features.
//!
//! It stamps each market-data input with the instrument's touch and features and
//! flags decision points. On a timer it halts stale instruments and sends a
//! [`Msg::Halted`] for each one that halted on it, ahead of the timer itself.

use super::{Msg, Staged, STAGED_BAD_INSTRUMENT, STAGED_DECIDE, STAGED_FV_SAME};
use crate::core::book::Book;
use crate::core::params::CoreParams;
use crate::core::pipeline::CoreCounters;
use crate::core::sensory::Sensory;
use crate::records::InputView;

/// The sensory stage's state.
pub struct SensoryStage {
    books: Vec<Book>,
    sensory: Sensory,
    was_halted: Vec<bool>,
    counters: CoreCounters,
}

impl SensoryStage {
    /// Books and feature state for every configured instrument.
    pub fn new(p: &CoreParams) -> Self {
        let ins = &p.instruments;
        let m = &p.strategy.momentum;
        SensoryStage {
            books: ins
                .iter()
                .map(|s| Book::new(s.tick, s.ref_price, p.book.window_ticks))
                .collect(),
            sensory: Sensory::new(ins, m.fast, m.slow, &p.sensory)
                .with_depth_group(depth_group_read(p))
                .with_vol_group(vol_group_read(p)),
            was_halted: vec![false; ins.len()],
            counters: CoreCounters::default(),
        }
    }

    /// Whether the sensory stage computes its depth group (see [`Sensory::with_depth_group`]).
    #[cfg(test)]
    pub fn computes_depth_group(&self) -> bool {
        self.sensory.computes_depth_group()
    }

    /// Whether the sensory stage computes its volatility group (see [`Sensory::with_vol_group`]).
    #[cfg(test)]
    pub fn computes_vol_group(&self) -> bool {
        self.sensory.computes_vol_group()
    }

    /// Handles one message; everything that is not an input passes through.
    #[inline]
    pub fn on(&mut self, msg: &mut Msg, emit: &mut impl FnMut(&mut Msg)) {
        let Msg::Input(s) = msg else {
            return emit(msg);
        };
        match s.input.view() {
            Some(InputView::Md(_)) => {
                self.on_md(s);
            }
            Some(InputView::Timer(t)) => {
                for (i, w) in self.was_halted.iter_mut().enumerate() {
                    *w = self.sensory.is_halted(i as u32);
                }
                self.sensory.on_timer(t.header.ts_ns);
                for i in 0..self.books.len() as u32 {
                    if self.sensory.is_halted(i) && !self.was_halted[i as usize] {
                        if let Some(fv) = self.sensory.features(i) {
                            emit(&mut Msg::Halted(i, *fv));
                        }
                    }
                }
            }
            _ => {}
        }
        emit(msg)
    }

    /// Applies the market data `s` carries (its input must be market data)
    /// to its instrument's book and features, and stamps on `s` what the
    /// stages after read: the touch, the features unless unchanged
    /// ([`STAGED_FV_SAME`]), a decision point ([`STAGED_DECIDE`], with the
    /// exact features) or an unknown instrument ([`STAGED_BAD_INSTRUMENT`]).
    #[inline]
    pub fn on_md(&mut self, s: &mut Staged) {
        let Some(InputView::Md(md)) = s.input.view() else {
            return;
        };
        self.counters.md += 1;
        match self.books.get_mut(md.header.instrument as usize) {
            Some(book) => {
                if book.apply(md).is_err() {
                    self.counters.book_issues += 1;
                }
                s.top = book.top();
                let i = md.header.instrument;
                let u = self.sensory.update(md, book);
                if !u.changed {
                    // The later stages' copies of the values are current.
                    s.flags |= STAGED_FV_SAME;
                } else if let Some(fv) = self.sensory.features(i) {
                    s.fv = *fv;
                }
                if u.decision {
                    s.flags |= STAGED_DECIDE;
                    // Read only at decision points (regime, policies).
                    if let Some(e) = self.sensory.exact(i) {
                        s.exact = *e;
                    }
                }
            }
            None => {
                self.counters.bad_inputs += 1;
                s.flags |= STAGED_BAD_INSTRUMENT;
            }
        }
    }

    /// The book of `instrument`.
    pub fn book(&self, instrument: u32) -> Option<&Book> {
        self.books.get(instrument as usize)
    }

    /// This stage's share of the core counters (market data, bad instruments, book issues).
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }
}

/// Whether anything in `p` reads the depth group: `sensory.all_features`, the
/// drift sentry (if its theory packets summarise a feature of the group), or a
/// belief unit with a weight on one of its features. No policy reads them.
pub fn depth_group_read(p: &CoreParams) -> bool {
    use crate::core::sensory::{DEPTH_GROUP, THEORY_SUMMARY};
    p.sensory.all_features
        || (p.belief.drift.enabled && THEORY_SUMMARY.iter().any(|f| DEPTH_GROUP.contains(f)))
        || (p.belief.enabled
            && p.belief
                .model
                .units
                .iter()
                .any(|u| DEPTH_GROUP.iter().any(|&f| u.w.get(f).is_some_and(|w| *w != 0.0))))
}

/// Whether anything in `p` reads the volatility group: `sensory.all_features`,
/// the regime classifier (volatility and trend are what it classifies on), the
/// drift sentry (its signal is the return, and its theory packets summarise
/// the group), a belief unit with a weight on one of its features, or the
/// mean-reversion policy (it scales by volatility) wherever a decision can
/// reach it: the regime table, the attention router, exploration.
pub fn vol_group_read(p: &CoreParams) -> bool {
    use crate::core::params::PolicyName;
    use crate::core::sensory::VOL_GROUP;
    let t = &p.strategy.regime_table;
    let mean_reversion = p.flags.linear_attention
        || p.flags.exploration
        || t.by_regime().iter().any(|e| e.policy == PolicyName::MeanReversion);
    p.sensory.all_features
        || p.belief.regime.enabled
        || p.belief.drift.enabled
        || mean_reversion
        || (p.belief.enabled
            && p.belief
                .model
                .units
                .iter()
                .any(|u| VOL_GROUP.iter().any(|&f| u.w.get(f).is_some_and(|w| *w != 0.0))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The depth group is computed exactly when something reads it.
    #[test]
    fn the_depth_group_is_computed_when_something_reads_it() {
        let base = Config::default_sim().core_params();
        assert!(depth_group_read(&base), "the default belief weighs IMBALANCE_N");
        let mut p = base.clone();
        p.belief.enabled = false;
        assert!(depth_group_read(&p), "the drift sentry summarises the group");
        p.belief.drift.enabled = false;
        assert!(!depth_group_read(&p), "nothing reads it");
        p.sensory.all_features = true;
        assert!(depth_group_read(&p), "asked for");
        // A belief with no weight on the group does not need it…
        let mut q = base.clone();
        q.belief.drift.enabled = false;
        for u in &mut q.belief.model.units {
            for &f in &crate::core::sensory::DEPTH_GROUP {
                u.w[f] = 0.0;
            }
        }
        assert!(!depth_group_read(&q));
        // …one weight on one of them does.
        q.belief.model.units[3].w[crate::core::sensory::DEPTH_GROUP[4]] = 0.25;
        assert!(depth_group_read(&q));
        assert!(SensoryStage::new(&q).computes_depth_group());
    }

    /// The volatility group is computed exactly when something reads it.
    #[test]
    fn the_vol_group_is_computed_when_something_reads_it() {
        use crate::core::params::PolicyName;
        use crate::core::sensory::VOL_GROUP;
        let base = Config::default_backtest().core_params();
        assert!(vol_group_read(&base), "the default regime classifier reads it");
        // Nothing reads it: no regime, drift, belief weight, mean reversion.
        let mut p = base.clone();
        p.belief.regime.enabled = false;
        p.belief.drift.enabled = false;
        for u in &mut p.belief.model.units {
            for &f in &VOL_GROUP {
                u.w[f] = 0.0;
            }
        }
        assert!(!vol_group_read(&p));
        assert!(!SensoryStage::new(&p).computes_vol_group());
        // Each reader alone turns it on.
        let readers: [fn(&mut CoreParams); 7] = [
            |q| q.sensory.all_features = true,
            |q| q.belief.regime.enabled = true,
            |q| q.belief.drift.enabled = true,
            |q| q.belief.model.units[0].w[VOL_GROUP[2]] = 0.5,
            |q| q.strategy.regime_table.volatile.policy = PolicyName::MeanReversion,
            |q| q.flags.linear_attention = true,
            |q| q.flags.exploration = true,
        ];
        for (k, read) in readers.iter().enumerate() {
            let mut q = p.clone();
            read(&mut q);
            assert!(vol_group_read(&q), "reader {k}");
        }
        // A unit's weight is read only while the belief runs.
        let mut q = p.clone();
        q.belief.model.units[0].w[VOL_GROUP[0]] = 0.5;
        q.belief.enabled = false;
        assert!(!vol_group_read(&q));
    }
}
