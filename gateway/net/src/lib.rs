//! foxtrot-net: the network plumbing under the FIX and feed transports.
//!
//! - [`sockopt`]: socket options beyond what `std` and `mio` expose
//!   (`SO_BUSY_POLL`, buffer sizes), set and read back.
//! - [`busy_poll`]: busy polling of a socket, as configured for a FIX session
//!   or a UDP feed.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod busy_poll;
pub mod sockopt;

pub use busy_poll::BusyPoll;

pub use sockopt::set_int_option;
