//! The simulated venues: a matching engine and the world around it, and the
//! backtest venue that fills orders at the touch of imported data ([`touch`]),
//! and the venue as a process of its own behind FIX ([`server`]).

pub mod matching;
pub mod server;
pub mod sim;
pub mod touch;
