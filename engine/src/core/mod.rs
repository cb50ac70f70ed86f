//! The pure core: every stage as a state machine, and their composition.
//!
//! Nothing here reads a clock, touches a file or a socket, spawns a thread or
//! depends on hash iteration order. Replay runs exactly this code.

pub mod belief;
pub mod book;
pub mod diary;
pub mod live;
pub mod orders;
pub mod params;
pub mod pipeline;
pub mod quote_touch;
pub mod risk;
pub mod router;
pub mod sensory;
pub mod sequencer;
pub mod stage;
pub mod tick_grid;

pub use book::{Book, BookIssue};
pub use params::CoreParams;
pub use pipeline::{Core, CoreCounters, CoreSink};
pub use quote_touch::{QuoteTouch, TouchBook};
pub use router::Router;
pub use sequencer::Sequencer;
pub use tick_grid::TickGrid;
