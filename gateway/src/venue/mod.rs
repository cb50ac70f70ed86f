//! The simulated venue: a matching engine and the world around it.

pub mod matching;
pub mod sim;
