//! Belief: what the core believes about each instrument.
//!
//! - [`emitter`]: belief = top_k(ReLU(W·x + b)) over normalised features, and a
//!   linear readout that predicts the next mid return.
//! - [`regime`]: the regime FSM (calm / trending / volatile / halted) with
//!   hysteresis, minimum dwell and a confidence.
//! - [`drift`]: the drift sentry (Page–Hinkley and CUSUM) on the belief's
//!   prediction error.

pub mod drift;
pub mod emitter;
pub mod regime;

pub use drift::{Alarm, DriftSentry};
pub use emitter::BeliefEmitter;
pub use regime::{Regime, RegimeFsm, Transition};
