//! Market-data sources and formats.

pub mod csv;
pub mod gen;
pub mod native;
