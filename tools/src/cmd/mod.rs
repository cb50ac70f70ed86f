//! One module per subcommand.

pub mod config;
pub mod ctl;
pub mod evolve;
pub mod export;
pub mod feed;
pub mod gen;
pub mod host_check;
pub mod import;
pub mod itch;
pub mod journal;
pub mod policy;
pub mod reflect;
pub mod replay;
pub mod report;
pub mod resume;
pub mod run;
pub mod sim;
pub mod soak;
pub mod stat;
pub mod sweep;
pub mod venue;
