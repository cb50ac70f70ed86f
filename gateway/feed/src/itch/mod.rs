//! NASDAQ TotalView-ITCH 5.0: decoding, framing, and the order-level book feed.
//!
//! - [`msg`]: the messages as zero-copy big-endian views, and [`msg::decode`].
//! - [`file`](mod@file): the binary file format (2-byte length prefixes) and the
//!   inferred-length fallback for files without them.
//! - [`mold`]: MoldUDP64 packets, a packet writer, and the [`mold::Sequencer`]
//!   that reorders packets and reports gaps.
//! - [`orders`]: the pre-sized open-addressing map of live orders.
//! - [`normalise`]: ITCH messages → the engine's market-data events.
//! - [`book`]: the normaliser in front of one engine book per instrument.
//! - [`encode`]: the engine's market-data events → ITCH messages (a venue's feed).
//! - [`publish`]: ITCH over MoldUDP64 with a retransmission server.

pub mod book;
pub mod encode;
pub mod file;
pub mod mold;
pub mod msg;
pub mod normalise;
pub mod orders;
pub mod publish;

pub use book::ItchBook;
pub use file::{detect, Frames, Framing};
pub use msg::{decode, message_len, Message};
pub use normalise::{DataIssue, ItchStats, Normaliser, Subscription};
pub use orders::OrderMap;
