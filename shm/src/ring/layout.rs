//! Layout of the shared-memory SPSC ring file. Little-endian, 8-byte words.
//!
//! ```text
//!  byte 0    header, 128 B: magic "FXRING01" | version u32 | slot_words u32 |
//!            capacity u64 (slots, a power of two) | reserved
//!  byte 128  producer position u64 — written by the producer (relaxed) after each
//!            push; advisory: for monitoring and as where a restarted producer
//!            starts looking; padded to 128 B
//!  byte 256  consumer position u64 — written by the consumer (release) after each
//!            batch; the producer reads it (acquire) to know which slots are free;
//!            padded to 128 B
//!  byte 384  slots: capacity × slot_words words; slot i = [commit u64][payload …]
//! ```
//! Positions count records since the ring was created and never wrap. The record at
//! position `p` lives in slot `p & (capacity − 1)`; its **commit word** is `p + 1`
//! once the record is written — stored last, with release ordering, by the producer.
//! The consumer waiting for position `p` spins on that one word (acquire) until it
//! reads `p + 1`: records are committed in-band, as in Aeron and Agrona, so the
//! consumer reads no shared index on the fast path. `p + 1` differs on every lap, so
//! a stale slot is never mistaken for a new one.
//!
//! Nothing synchronises on the producer position: a consumer learns that a record
//! is there only from its commit word (release/acquire, above), so the position
//! is stored relaxed — a reader that sees it may not yet see the records before
//! it, and must not rely on it. A producer that restarts (its process died)
//! resumes from it but first skips every slot whose commit word says it was
//! already written: a crash between the commit and the position store must not
//! make the next record overwrite one the consumer may already hold.
//!
//! The positions sit in their own 128-byte blocks (two cache lines) so the
//! producer's and consumer's writes never share a line, nor an adjacent-line
//! prefetch pair.

/// File magic.
pub const MAGIC: &[u8; 8] = b"FXRING01";
/// Format version.
pub const VERSION: u32 = 1;
/// Word index of the producer position.
pub const PRODUCER_POS: usize = 128 / 8;
/// Word index of the consumer position.
pub const CONSUMER_POS: usize = 256 / 8;
/// Word index of the first slot.
pub const SLOTS: usize = 384 / 8;

/// Total words of a ring with `capacity` slots of `slot_words` words.
pub const fn total_words(capacity: u64, slot_words: usize) -> usize {
    SLOTS + capacity as usize * slot_words
}
