//! `foxtrot evolve`: strategies searched by deterministic replay over a regime
//! grid, promoted only through the policy ledger's gates.
//!
//! - [`genotype`]: what evolves, its canonical text and hash, the phenotype.
//! - [`operators`]: mutations and crossover, under constraints.
//! - [`data`]: the regime grid — generated data cut into fitted and held-out slices.
//! - [`score`]: one replay of one configuration on one slice.
//! - [`select`]: fitness tables, the novelty archive, tournaments.
//! - [`schedule`]: the budgeted, fair, sharded scheduler of replays.
//! - [`state`]: an evolution's directory, generation by generation
//!   (`init`, `eval --shard I/N`, `advance`); `promote`: the champion's
//!   gates, the ledger's verdict and the KPIs.

pub mod data;
pub mod genotype;
pub mod operators;
mod promote;
pub mod schedule;
pub mod score;
pub mod select;
pub mod state;

pub use genotype::StrategyGenotype;
