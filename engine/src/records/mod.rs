//! Hot-path record types: `#[repr(C)]`, `Pod`, fixed size, checked at compile time.
//!
//! These are the only shapes that cross rings and journals. Prices and quantities
//! are fixed-point `i64` in the instrument's scale ([`fixed`]); times are `u64`
//! nanoseconds of control time.

pub mod control;
pub mod diary;
pub mod exec;
pub mod fixed;
pub mod header;
pub mod market;
pub mod order;
pub mod quality;
pub mod signal;
pub mod slot;

pub use control::{kill_cause, CommandKind, OperatorCommand, Timer, TimerKind};
pub use diary::{Detector, DiaryRecord, TheoryPacket, Verdict, THEORY_FEATURES};
pub use exec::{exec_key, ExecKind, ExecReport, VenueReject, FILL_RECOVERED, LIQUIDITY_ADDED, LIQUIDITY_REMOVED};
pub use fixed::{pow10, InstrumentSpec, POW10};
pub use header::{flags, Header, Kind, Side};
pub use market::{MarketData, MdAction};
pub use order::{
    MassCancelScope, OrdType, Order, OrderAction, OrderIntent, RejectReason, RiskReject, Topology, CL_PER_INPUT,
};
pub use quality::{DqCode, DqEvent};
pub use signal::{Belief, FeatureVector, BELIEF_K_MAX, N_FEATURES};
pub use slot::{InputSlot, InputView, SLOT_SIZE};
