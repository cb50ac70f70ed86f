//! foxtrot's journal format: what a run and an import write, and how it is read
//! back. The container (segments, CRC, recovery, index) is `foxtrot_shm`'s; this
//! module says what goes in it.
//!
//! - [`kinds`]: the registry of every record kind and its payload.
//! - [`run`]: a run's three journals (`inputs/`, `orders/`, `diary/`), written
//!   as observers of the run.
//! - [`open`]: the one opener of a journal whose first record is its
//!   configuration.
//! - [`inputs`]: a run's sequenced inputs, streamed back.
//! - [`market_data`]: the market-data directory `foxtrot import` writes, its
//!   events compact in [`md_block`] blocks and its quotes in [`md_quotes`] rows,
//!   both coded by [`delta_rows`].
//! - [`fields`]: one field description per record kind, shared by `journal
//!   cat`, `export` and `report`.

pub mod delta_rows;
pub mod fields;
pub mod inputs;
pub mod kinds;
pub mod market_data;
pub mod md_block;
pub mod md_quotes;
pub mod open;
pub mod run;

pub use inputs::JournalInputs;
pub use open::Configured;
pub use run::{InputJournal, OutputJournals, RunJournals};
