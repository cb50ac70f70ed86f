//! Market-data sources and formats.

pub mod gen;
pub mod native;
