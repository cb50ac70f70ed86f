//! foxtrot-fix: FIX 4.2 and 4.4 over TCP, for both roles.
//!
//! - [`clordid`]: counterparties' ClOrdIDs (any string) ↔ internal order ids,
//!   without allocating per order.
//! - [`decode`]: framing a TCP byte stream into messages and indexing a message's
//!   fields in place, checking BodyLength and CheckSum; errors name tag and offset.
//! - [`dictionary`]: data dictionaries (QuickFIX XML or foxtrot's compact form;
//!   FIX 4.2 and 4.4 built in).
//! - [`fields`]: reading a decoded message's fields by tag, whichever decoder
//!   read it.
//! - [`framing`]: a TCP byte stream cut into messages, resynchronising after
//!   garbage; the BodyLength and CheckSum checks.
//! - [`message`]: a message read into header, body (with repeating groups) and
//!   trailer against a dictionary, and written back in order.
//! - [`message_log`]: every message sent and received, logged to a file by a
//!   thread of its own (the audit trail), never waited for.
//! - [`validate`]: a message checked against its dictionary, with the standard
//!   SessionRejectReasons.
//! - [`report`]: the receive path's one-pass decoder for execution reports and
//!   cancel rejects, the messages a venue sends most.
//! - [`layout`]: the orders of tags a venue's reports come in, learned by
//!   [`report`]'s scanner so that it reads the next report along them.
//! - [`app_layout`]: the acceptor's fast path: orders read along the order of
//!   tags of one that passed every check, with only the value checks left.
//! - [`app`]: application messages ↔ engine records (orders decoded as a venue
//!   reads them; execution reports and cancel rejects as the engine ingests them).
//! - [`session`]: the session layer, one I/O-free state machine for both roles.
//! - [`store`]: sequence numbers and sent messages kept in a journal, so a
//!   restarted process resumes its session.
//! - [`transport`]: non-blocking TCP through `mio` (partial reads and writes, a
//!   bounded send buffer, reconnect backoff) and the link of a connection to a
//!   session.
//! - [`ack_clock`]: order → acknowledgement latency, for the live board.
//! - [`reconcile`]: after a restart, OrderStatusRequests for orders in doubt.
//! - [`fill_gaps`]: fills whose reports never reached the core, recovered from
//!   the venue's CumQty and AvgPx (and its answer about an order gone).
//! - [`fill_ledger`]: the trades given to the core by their venue key, so a
//!   trade correction is booked as the bust of the trade it names and the
//!   corrected one.
//! - [`link`]: the engine's [`VenueLink`](foxtrot_engine::runtime::VenueLink)
//!   over all of the above, with restart reconciliation.
//!
//! Tag numbers and the order templates are the engine's
//! (`foxtrot_engine::format::fix`): the core's encode stage writes orders with
//! them, and so does [`link`] when it re-stamps them with the session's numbers.
//! The acceptor side of a venue is `foxtrot-venue`'s `server`.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod ack_clock;
pub mod app;
pub mod app_layout;
pub mod clordid;
pub mod decode;
pub mod dictionary;
pub mod fields;
pub mod fill_gaps;
pub mod fill_ledger;
pub mod framing;
pub mod layout;
pub mod link;
pub mod message;
pub mod message_log;
pub mod reconcile;
pub mod report;
pub mod session;
pub mod store;
pub mod transport;
pub mod validate;

pub use app::{exec_from_fix, order_from_fix, Instruments};
pub use decode::{frame_len, FixDecoder, FixError, FixMessage, SOH};
pub use fields::Fields;
pub use report::{Report, ReportScanner};
