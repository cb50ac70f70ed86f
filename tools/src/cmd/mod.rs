//! One module per subcommand.

pub mod gen;
pub mod journal;
pub mod replay;
pub mod sim;
pub mod run;
pub mod stat;
