//! foxtrot-shm: memory-mapped storage shared between processes.
//!
//! This crate will own the append-only, CRC-framed journal (segments, recovery,
//! sparse index) and the cross-process SPSC ring in shared memory (DESIGN §5, §7).
//! It depends on nothing else of foxtrot's, so a feed handler or an inspection
//! tool can link it alone.
//!
//! The spine lands the crate boundary only; the journal and ring arrive with
//! the shm issue, so nothing is exported yet.
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
