//! Text and wire formats the core shares with the gateways: pure functions and
//! pre-built templates, no I/O, no clock.
//!
//! - [`decimal`]: exact decimal text ↔ fixed-point integers (CSV, FIX, reports).
//! - [`calendar`]: UTC civil dates and timestamps (FIX UTCTimestamp, ISO 8601).
//! - [`fix`]: FIX tag numbers, and the order templates the encode stage patches
//!   in place (NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest).

pub mod calendar;
pub mod decimal;
pub mod fix;
