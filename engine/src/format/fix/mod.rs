//! FIX as the core writes it: tag numbers by name, and the order templates.
//!
//! - [`tags`]: every tag number foxtrot's code uses, by its FIX name.
//! - [`encoder`]: NewOrderSingle, OrderCancelRequest and OrderCancelReplaceRequest
//!   as pre-built templates with fixed-width slots, patched in place per order
//!   (no allocation, no search). The core's encode stage and the FIX link both
//!   encode through it.
//!
//! Decoding, the session layer and transport are the `foxtrot-fix` crate's.

pub mod encoder;
pub mod tags;

pub use encoder::{checksum, EncodeRules, FixEncoder};
