//! foxtrot-fix: FIX 4.2 and 4.4 over TCP, for both roles.
//!
//! - [`decode`]: framing a TCP byte stream into messages and indexing a message's
//!   fields in place, checking BodyLength and CheckSum; errors name tag and offset.
//! - [`fields`]: reading a decoded message's fields by tag, whichever decoder
//!   read it.
//! - [`report`]: the receive path's one-pass decoder for execution reports and
//!   cancel rejects, the messages a venue sends most.
//! - [`layout`]: the orders of tags a venue's reports come in, learned by
//!   [`report`]'s scanner so that it reads the next report along them.
//! - [`app`]: application messages ↔ engine records (orders decoded as a venue
//!   reads them; execution reports and cancel rejects as the engine ingests them).
//! - [`session`]: the session layer, one I/O-free state machine for both roles.
//! - [`store`]: sequence numbers and sent messages kept in a journal, so a
//!   restarted process resumes its session.
//! - [`transport`]: non-blocking TCP through `mio` (partial reads and writes, a
//!   bounded send buffer, reconnect backoff) and the link of a connection to a
//!   session.
//! - [`link`]: the engine's [`VenueLink`](foxtrot_engine::runtime::VenueLink)
//!   over all of the above, with restart reconciliation.
//!
//! Tag numbers and the order templates are the engine's
//! (`foxtrot_engine::format::fix`): the core's encode stage writes orders with
//! them, and so does [`link`] when it re-stamps them with the session's numbers.
//! The acceptor side of a venue is `foxtrot-venue`'s `server`.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod app;
pub mod decode;
pub mod fields;
pub mod layout;
pub mod link;
pub mod report;
pub mod session;
pub mod store;
pub mod transport;

pub use app::{exec_from_fix, order_from_fix, Instruments};
pub use decode::{frame_len, FixDecoder, FixError, FixMessage, SOH};
pub use fields::Fields;
pub use report::{Report, ReportScanner};
