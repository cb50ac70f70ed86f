//! foxtrot-net: the network plumbing under the FIX and feed transports.
//!
//! - [`sockopt`]: socket options beyond what `std` and `mio` expose
//!   (`SO_BUSY_POLL`, buffer sizes), set and read back.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

pub mod sockopt;

pub use sockopt::set_int_option;
