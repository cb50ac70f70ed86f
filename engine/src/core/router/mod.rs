//! Router: from belief and regime to order intents, through a policy.
//!
//! Each decision point (a mid update on one instrument) goes through three steps:
//!
//! 1. **Arbitration** picks a policy and an execution topology: by default the
//!    regime → policy table from the config; with the `linear_attention` flag, the
//!    [`attention::LinearAttention`] weights over the policies (choose or blend).
//!    A halted instrument always gets the table's `halted` entry.
//! 2. **Exploration** (flag `exploration`) may swap the policy, within its budget,
//!    unless frozen by the drift sentry or a risk warning.
//! 3. The policy produces a [`policy::Target`] and [`execution`] turns it into at most
//!    a few intents, given the position and the orders already working.
//!
//! A decision whose target changed but needed no order is reported as a no-op, so
//! the diary records deliberate inaction too.

pub mod attention;
pub mod execution;
pub mod explore;
pub mod policy;

use self::attention::{LinearAttention, N_POLICIES};
use self::execution::{directional_price, execute, Decision};
use self::explore::Exploration;
use self::policy::{policy_id, PolicyMemory, Target, POLICY_IDS};
use super::belief::{BeliefEmitter, Regime};
use super::book::Top;
use super::orders::{OrderState, OrderTracker};
use super::sensory::ExactFeatures;
use crate::core::params::{AttentionMode, CoreParams, PolicyChoice, PolicyName, StrategyConfig, TopologyName};
use crate::records::{Belief, FeatureVector, Header, Kind, OrdType, OrderAction, OrderIntent, Side, Topology};

/// Largest number of intents one input can produce (kill switch aside).
pub const MAX_INTENTS: usize = 4;

/// A small fixed buffer of intents produced by one input.
#[derive(Clone, Debug, Default)]
pub struct IntentBuf {
    items: [OrderIntent; MAX_INTENTS],
    len: usize,
    /// A target changed but no intent was needed: `Some(side of the new target)`.
    pub noop: Option<Side>,
}

impl IntentBuf {
    /// Empties the buffer.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        self.noop = None;
    }
    /// Appends an intent; returns false if full.
    #[inline]
    pub fn push(&mut self, i: OrderIntent) -> bool {
        if self.len == MAX_INTENTS {
            return false;
        }
        self.items[self.len] = i;
        self.len += 1;
        true
    }
    /// The intents.
    #[inline]
    pub fn as_slice(&self) -> &[OrderIntent] {
        &self.items[..self.len]
    }
}

/// What arbitration decided for one decision point.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Route {
    /// Policy id (0 = none).
    pub policy_id: u16,
    /// Topology code.
    pub topology: u8,
    /// True when exploration swapped the policy.
    pub explored: bool,
}

fn topology(t: TopologyName) -> Topology {
    match t {
        TopologyName::Passive => Topology::Passive,
        TopologyName::Aggressive => Topology::Aggressive,
        TopologyName::Market => Topology::Market,
    }
}

/// The default topology of each policy under attention routing.
fn default_topology(p: PolicyName) -> Topology {
    match p {
        PolicyName::Momentum => Topology::Aggressive,
        _ => Topology::Passive,
    }
}

/// Compact signature of a target, to tell a change of mind from a requote.
fn signature(t: &Target) -> i64 {
    match *t {
        Target::Hold => i64::MIN,
        Target::Flat => i64::MIN + 1,
        Target::Position(p) => p,
        Target::Quotes { bid, ask } => i64::MIN + 2 + bid.is_some() as i64 + 2 * ask.is_some() as i64,
    }
}

#[derive(Clone, Copy, Debug)]
struct InstrumentRoute {
    memory: PolicyMemory,
    cooldown_until: u64,
    last_sig: i64,
    last_policy: u16,
    topology: Topology,
    lot: i64,
}

/// Inputs of one decision.
pub struct DecideCtx<'a> {
    /// Triggering input.
    pub trigger: &'a Header,
    /// The instrument's features.
    pub fv: &'a FeatureVector,
    /// The features its policy compares, exact.
    pub exact: &'a ExactFeatures,
    /// The instrument's belief.
    pub belief: &'a Belief,
    /// The instrument's regime.
    pub regime: Regime,
    /// The instrument's book.
    pub book: &'a Top,
    /// Position.
    pub position: i64,
    /// Open orders.
    pub orders: &'a OrderTracker,
    /// Order-size factor from the drift sentry.
    pub size_factor: f32,
    /// Exploration frozen (drift alarm or risk warning).
    pub frozen: bool,
}

/// The router stage.
pub struct Router {
    table: [PolicyChoice; 5],
    cfg: StrategyConfig,
    attention: LinearAttention,
    attention_on: bool,
    mode: AttentionMode,
    exploration: Exploration,
    explore_on: bool,
    inst: Vec<InstrumentRoute>,
    dense: Vec<f32>,
    max_age_ns: u64,
    decisions_by_policy: [u64; 4],
    blend_w: [f32; N_POLICIES],
}

impl Router {
    /// Builds the router from a validated config.
    pub fn new(cfg: &CoreParams) -> Self {
        let t = &cfg.strategy.regime_table;
        let model = &cfg.belief.model;
        Router {
            table: t.by_regime(),
            cfg: cfg.strategy.clone(),
            attention: LinearAttention::new(&model.attention, &cfg.router.fast_weights, cfg.flags.fast_weights),
            attention_on: cfg.flags.linear_attention,
            mode: cfg.router.attention_mode,
            exploration: Exploration::new(&cfg.router.exploration),
            explore_on: cfg.flags.exploration,
            inst: cfg
                .instruments
                .iter()
                .map(|s| InstrumentRoute {
                    memory: PolicyMemory::default(),
                    cooldown_until: 0,
                    last_sig: i64::MIN,
                    last_policy: 0,
                    topology: Topology::Passive,
                    lot: s.lot,
                })
                .collect(),
            dense: vec![0.0; model.units.len()],
            max_age_ns: cfg.strategy.momentum.max_order_age_ns,
            decisions_by_policy: [0; 4],
            blend_w: [0.0; N_POLICIES],
        }
    }

    /// Holds new decisions on `instrument` for one order age after a reject.
    pub fn on_reject(&mut self, instrument: u32, ts: u64) {
        if let Some(s) = self.inst.get_mut(instrument as usize) {
            s.cooldown_until = ts.saturating_add(self.max_age_ns);
        }
    }

    /// Decisions taken so far, by policy id (index 0 = none).
    pub fn decisions_by_policy(&self) -> [u64; 4] {
        self.decisions_by_policy
    }

    /// The attention router (fast-weight norms for reports and tests).
    pub fn attention(&self) -> &LinearAttention {
        &self.attention
    }

    /// Arbitration: the policy and topology for this decision.
    fn arbitrate(&mut self, c: &DecideCtx) -> (PolicyName, Topology, Option<f32>) {
        let entry = self.table[c.regime as usize];
        if c.regime == Regime::Halted || !self.attention_on {
            return (entry.policy, topology(entry.topology), None);
        }
        BeliefEmitter::dense(c.belief, &mut self.dense);
        let mut w = [0.0f32; N_POLICIES];
        self.attention.weights(&self.dense, &mut w);
        let best = LinearAttention::choose(&w);
        let p = POLICY_IDS[best];
        let blend = (self.mode == AttentionMode::Blend).then_some(w[best]);
        // In blend mode the directional targets mix; keep the weights for `target`.
        if self.mode == AttentionMode::Blend {
            self.blend_w = w;
        }
        (p, default_topology(p), blend)
    }

    /// One decision on `c.trigger.instrument`.
    pub fn decide(&mut self, c: &DecideCtx, out: &mut IntentBuf) -> Route {
        let i = c.trigger.instrument as usize;
        let Some(st) = self.inst.get(i).copied() else {
            return Route::default();
        };
        if c.trigger.ts_ns < st.cooldown_until {
            return Route::default();
        }
        let (mut policy, mut topo, blend) = self.arbitrate(c);
        let mut explored = false;
        if self.explore_on && policy != PolicyName::None {
            let k = POLICY_IDS.iter().position(|p| *p == policy).unwrap_or(0);
            if let Some(j) = self.exploration.consider(k, N_POLICIES, c.frozen) {
                policy = POLICY_IDS[j];
                topo = default_topology(policy);
                explored = true;
            }
        }
        let st = &mut self.inst[i];
        let size = c.size_factor;
        let mut target = match policy {
            PolicyName::Momentum => policy::momentum(&self.cfg.momentum, c.fv, &mut st.memory, size, st.lot),
            PolicyName::MeanReversion => {
                policy::mean_reversion(&self.cfg.mean_reversion, c.exact, &mut st.memory, size, st.lot)
            }
            PolicyName::MarketMaking => {
                let scale = blend.filter(|_| !explored).unwrap_or(1.0);
                policy::market_making(
                    &self.cfg.market_making,
                    topo,
                    c.exact.micro_px,
                    c.book,
                    c.position,
                    size * scale,
                    st.lot,
                )
            }
            PolicyName::None => Target::Flat,
        };
        if let (Some(_), false, Target::Position(_)) = (blend, explored, target) {
            // Blend: mix the two directional policies' targets by their weights.
            let w = self.blend_w;
            let mut m = st.memory;
            let a = policy::momentum(&self.cfg.momentum, c.fv, &mut m, size, st.lot);
            let b = policy::mean_reversion(&self.cfg.mean_reversion, c.exact, &mut m, size, st.lot);
            st.memory = m;
            let pos = |t: Target| if let Target::Position(p) = t { p as f32 } else { 0.0 };
            let (wa, wb) = (w[0], w[2]);
            if wa + wb > 0.0 {
                let mixed = (wa * pos(a) + wb * pos(b)) / (wa + wb);
                target = Target::Position((mixed / st.lot as f32).round() as i64 * st.lot);
            }
        }
        let id = policy_id(policy);
        let sig = signature(&target);
        let changed = sig != st.last_sig || id != st.last_policy;
        st.last_sig = sig;
        st.last_policy = id;
        st.topology = topo;
        let d = Decision {
            trigger: c.trigger,
            book: c.book,
            position: c.position,
            orders: c.orders,
            policy_id: id,
            topology: topo,
            slip_ticks: self.cfg.momentum.slip_ticks,
            requote_ticks: self.cfg.market_making.requote_ticks,
        };
        let before = out.as_slice().len();
        execute(&d, target, out);
        let emitted = out.as_slice().len() > before;
        if changed && !emitted && !matches!(target, Target::Hold) {
            out.noop = Some(match target {
                Target::Position(p) if p < c.position => Side::Sell,
                _ => Side::Buy,
            });
        }
        if emitted || out.noop.is_some() {
            self.decisions_by_policy[id as usize] += 1;
        }
        Route {
            policy_id: id,
            topology: topo as u8,
            explored,
        }
    }

    /// The housekeeping timer: cancels working orders of halted instruments, and
    /// re-prices directional orders older than the maximum age to the current touch
    /// (cancels them when the instrument's topology is now `market`).
    pub fn on_timer(
        &mut self,
        trigger: &Header,
        books: &[Top],
        orders: &OrderTracker,
        halted: impl Fn(u32) -> bool,
        out: &mut IntentBuf,
    ) {
        for o in orders.iter() {
            if o.state != OrderState::Working {
                continue;
            }
            let Some(book) = books.get(o.instrument as usize) else {
                continue;
            };
            let h = Header {
                instrument: o.instrument,
                ..*trigger
            };
            let it = |action, px, qty, target| OrderIntent {
                header: Header {
                    kind: Kind::Intent as u8,
                    sub: action as u8,
                    side: o.side as u8,
                    flags: 0,
                    ..h
                },
                px,
                qty,
                target_cl_ord_id: target,
                policy_id: 0,
                topology: 0,
                ord_type: OrdType::Limit as u8,
                _pad: [0; 4],
            };
            let pushed = if halted(o.instrument) {
                out.push(it(OrderAction::Cancel, 0, o.qty, o.cl_ord_id))
            } else if trigger.ts_ns.saturating_sub(o.sent_ts) >= self.max_age_ns {
                let topo = self
                    .inst
                    .get(o.instrument as usize)
                    .map_or(Topology::Passive, |s| s.topology);
                match directional_price(topo, o.side, book, self.cfg.momentum.slip_ticks) {
                    // A resting order cannot be replaced into a market order (a
                    // replace keeps its limit price): cancel it; the policy sends a
                    // market order on its next decision if it still wants one.
                    Some(_) if topo == Topology::Market => out.push(it(OrderAction::Cancel, 0, o.qty, o.cl_ord_id)),
                    Some(px) if px != o.px && o.cum_qty < o.qty => {
                        out.push(it(OrderAction::Replace, px, o.qty, o.cl_ord_id))
                    }
                    _ => true,
                }
            } else {
                true
            };
            if !pushed {
                return;
            }
        }
    }

    /// Feeds a realised reward back to the fast weights for the decision recorded
    /// with `policy_id` and the belief `top_idx`/`top_val`.
    pub fn reinforce(&mut self, policy_id: u16, top_idx: &[u16], top_val: &[f32], reward: f32) {
        if !(1..=N_POLICIES as u16).contains(&policy_id) {
            return;
        }
        self.dense.iter_mut().for_each(|v| *v = 0.0);
        for (&i, &v) in top_idx.iter().zip(top_val) {
            if let Some(d) = self.dense.get_mut(i as usize) {
                *d = v;
            }
        }
        let dense = std::mem::take(&mut self.dense);
        self.attention.reinforce(policy_id as usize - 1, &dense, reward);
        self.dense = dense;
    }
}
