//! What a run did: the summary every mode prints (`sim`, `run`, `replay`,
//! backtests), built the same way from the core whichever runtime drove it.

use crate::config::Config;
use crate::core::pipeline::{Core, CoreCounters};
use crate::core::risk::PnlSnapshot;
use crate::records::RejectReason;
use crate::runtime::StreamDigest;

/// What a run did, for the summary line and for tests.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// How policies were arbitrated (`regime_table` or `linear_attention`).
    pub policy: String,
    /// Decisions (orders, rejects, no-ops) by the policy that took them.
    pub decisions_by_policy: Vec<(&'static str, u64)>,
    /// Mid updates spent in each regime, by regime name.
    pub regime_updates: Vec<(&'static str, u64)>,
    /// Hash of the policy's canonical configuration (hex).
    pub policy_hash: String,
    /// Core activity counters.
    pub counters: CoreCounters,
    /// Risk rejects by reason name (only non-zero ones), in code order.
    pub rejects_by_reason: Vec<(&'static str, u64)>,
    /// PnL and activity.
    pub pnl: PnlSnapshot,
    /// Per instrument, in config order: final position, realised and
    /// unrealised PnL (currency units, at the last mark).
    pub positions: Vec<(i64, f64, f64)>,
    /// Per instrument, in config order: the drift sentry's order-size factor
    /// at the end (1 unless an alarm scaled the instrument's orders down).
    pub drift_size_factors: Vec<f32>,
    /// Tick-to-order latency (p50, p99, p99.9, max) in ns.
    pub tick_to_order_ns: [u64; 4],
    /// Number of orders the latency was measured on.
    pub latency_samples: u64,
    /// Digest of the FIX order stream, and how many messages it covers.
    pub order_hash: (String, u64),
    /// Digest of the diary stream, and how many records it covers.
    pub diary_hash: (String, u64),
    /// Digest of the sequenced input stream (TSC stamps excluded).
    pub input_hash: (String, u64),
    /// Inputs whose time ran backwards.
    pub out_of_order_inputs: u64,
    /// Orders still open at the end (working, or with a request pending), as
    /// the core knows them.
    pub open_orders: u64,
}

/// The name of the policy arbitration a config selects.
pub(crate) fn policy_name(cfg: &Config) -> &'static str {
    if cfg.flags.linear_attention {
        "linear_attention"
    } else {
        "regime_table"
    }
}

/// A run's summary from its core, its [orders, diary, inputs] digests, its
/// tick-to-order latency and the sequencer's out-of-order count.
pub(crate) fn summarize(
    policy: &str,
    core: &Core,
    digests: [&StreamDigest; 3],
    latency: &hdrhistogram::Histogram<u64>,
    out_of_order: u64,
) -> RunSummary {
    let c = core.counters();
    let [orders, diary, inputs] = digests;
    RunSummary {
        policy: policy.to_string(),
        policy_hash: format!("{:016x}", core.policy_hash()),
        decisions_by_policy: core
            .router()
            .decisions_by_policy()
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (crate::core::router::policy::policy_name(i as u16), *n))
            .collect(),
        regime_updates: crate::core::belief::Regime::ALL
            .iter()
            .map(|r| (r.name(), c.regime_updates[*r as usize]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        counters: c,
        rejects_by_reason: RejectReason::ALL
            .iter()
            .map(|r| (r.name(), c.rejects[*r as usize]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        pnl: core.risk().snapshot(),
        positions: (0..core.risk().instruments() as u32)
            .map(|i| core.risk().figures(i))
            .collect(),
        drift_size_factors: (0..core.risk().instruments() as u32)
            .map(|i| core.drift().size_factor(i))
            .collect(),
        tick_to_order_ns: super::latency::percentiles(latency),
        latency_samples: latency.len(),
        order_hash: (orders.hex(), orders.count()),
        diary_hash: (diary.hex(), diary.count()),
        input_hash: (inputs.hex(), inputs.count()),
        out_of_order_inputs: out_of_order,
        open_orders: core.open_orders().len() as u64,
    }
}
