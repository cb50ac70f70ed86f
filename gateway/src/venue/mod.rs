//! The simulated venues: a matching engine and the world around it, and the
//! backtest venue that fills orders at the touch of imported data ([`touch`]).

pub mod matching;
pub mod sim;
pub mod touch;
