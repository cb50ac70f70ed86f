//! Telling a torn tail from damage, where iteration stops.
//!
//! A record is committed by one store, its `len` word, written last (release),
//! after every other byte of the record. So a crash can leave only this at the
//! end of a journal's last segment: `len == 0` at the stop, the bytes of the
//! record being written after it — at most the extent its header's
//! `payload_len` gives (or a bare header if that was not written yet) — and
//! zeros beyond. That is a **torn tail**, and costs nothing committed.
//!
//! Anything else where iteration stops is **damage**: a non-zero length whose
//! record fails its checks (the length is the commit, so its record was
//! complete: a failed check means the bytes changed since — or, after a power
//! loss without `msync`, that pages reached the disk out of order, which is
//! reported too rather than guessed at), a non-zero byte beyond a torn record's
//! extent, a valid record anywhere after the stop (scanned for at every 8-byte
//! boundary), a stop before a non-last segment's end-of-segment marker, a
//! segment file shorter than its header says. Damage is reported with the segment, the offset, and how many records
//! after the stop are still there but cannot be reached (their count is a lower
//! bound when the damage hides where they start).

use super::layout::{self, rec, ALIGN, KIND_END, RECORD_HEADER};
use super::scan::{self, Step};

/// What a stop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The end: nothing follows.
    Clean,
    /// A torn tail: a crash's partly written record, followed by zeros.
    Torn,
    /// Damage: what, and how many valid records follow the stop in this segment
    /// (the bad record itself not counted).
    Damage {
        /// What is wrong.
        what: &'static str,
        /// Valid records found after the stop.
        after: u64,
    },
}

/// Valid data records (end-of-segment markers not counted) at 8-byte boundaries
/// of `seg` from `from` on: a valid record is skipped whole, anything else
/// stepped over 8 bytes at a time.
pub fn records_from(seg: &[u8], from: usize) -> u64 {
    let mut at = from.next_multiple_of(ALIGN);
    let mut n = 0;
    while at + RECORD_HEADER <= seg.len() {
        let len = layout::le_u32(seg, at);
        if len == 0 {
            at = past_empty(seg, at);
            continue;
        }
        match scan::check(seg, at, len) {
            Step::Record { len } => {
                if layout::le_u16(seg, at + rec::KIND) != KIND_END {
                    n += 1;
                }
                at += len;
            }
            _ => at += ALIGN,
        }
    }
    n
}

/// The first 8-byte boundary from `at` (one) whose length word is not zero,
/// or past the last place a record could start: no record starts where the
/// length, its commit, is zero. The zeros after a journal's last record (most
/// of its last segment) are passed 64 bytes at a time.
fn past_empty(seg: &[u8], mut at: usize) -> usize {
    debug_assert_eq!(at % ALIGN, 0);
    while let Some(chunk) = seg.get(at..at + 64) {
        let any = chunk
            .chunks_exact(8)
            .fold(0u64, |a, w| a | u64::from_le_bytes(w.try_into().expect("8 bytes")));
        if any != 0 {
            break;
        }
        at += 64;
    }
    while at + RECORD_HEADER <= seg.len() && layout::le_u32(seg, at) == 0 {
        at += ALIGN;
    }
    at
}

/// Whether a segment holds a valid end-of-segment marker at or after `from`.
fn end_marker_from(seg: &[u8], from: usize) -> bool {
    let mut at = from.next_multiple_of(ALIGN);
    while at + RECORD_HEADER <= seg.len() {
        let len = layout::le_u32(seg, at);
        if len == 0 {
            at = past_empty(seg, at);
            continue;
        }
        match scan::check(seg, at, len) {
            Step::Record { .. } if layout::le_u16(seg, at + rec::KIND) == KIND_END => return true,
            Step::Record { len } => at += len,
            _ => at += ALIGN,
        }
    }
    false
}

/// Classifies where iteration of `seg` (a whole segment) stopped: at `at`, with
/// the `len` word found there; `last` says whether it is the journal's last
/// segment (a non-last one must end with its end-of-segment marker, so any stop
/// in it is damage).
pub fn classify(seg: &[u8], at: usize, len: u32, last: bool) -> Stop {
    let after = records_from(seg, at + ALIGN);
    let bad = matches!(scan::check(seg, at, len), Step::Bad(_));
    let what_bad = match scan::check(seg, at, len) {
        Step::Bad(w) => w,
        _ => "",
    };
    if !last {
        let what = if bad {
            what_bad
        } else if end_marker_from(seg, at) {
            "a zeroed record length hides the rest of the segment"
        } else {
            "the segment stops before its end-of-segment marker: a committed range is missing"
        };
        return Stop::Damage { what, after };
    }
    if after > 0 {
        let what = if bad {
            what_bad
        } else {
            "valid records follow an empty record length"
        };
        return Stop::Damage { what, after };
    }
    let header_len = |at: usize| {
        let pl = layout::le_u32(seg, at + rec::PAYLOAD_LEN) as usize;
        let n = layout::record_len(pl);
        (at + n <= seg.len()).then_some(n)
    };
    if !bad {
        // `len == 0`: the record being written, if any, spans its header's
        // extent (or a bare header before `payload_len` was written).
        if at + RECORD_HEADER > seg.len() || scan::zero_from(seg, at) {
            return Stop::Clean;
        }
        let extent = header_len(at).unwrap_or(RECORD_HEADER).max(RECORD_HEADER);
        return if scan::zero_from(seg, at + extent) {
            Stop::Torn
        } else {
            Stop::Damage {
                what: "non-zero bytes beyond a partly written record",
                after,
            }
        };
    }
    // A committed length whose record fails its checks.
    Stop::Damage { what: what_bad, after }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::layout::SEGMENT_HEADER;

    /// A segment image of `n` records of 24-byte payloads, as the writer lays them.
    fn image(n: usize, size: usize) -> (Vec<u8>, Vec<usize>) {
        let mut seg = vec![0u8; size];
        let mut at = SEGMENT_HEADER;
        let mut offsets = Vec::new();
        for i in 0..n {
            let payload = [i as u8 + 1; 24];
            let len = layout::record_len(payload.len());
            let b = &mut seg[at..at + len];
            b[rec::KIND..rec::KIND + 2].copy_from_slice(&1u16.to_le_bytes());
            b[rec::PAYLOAD_LEN..rec::PAYLOAD_LEN + 4].copy_from_slice(&24u32.to_le_bytes());
            b[rec::SEQ..rec::SEQ + 8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            b[RECORD_HEADER..RECORD_HEADER + 24].copy_from_slice(&payload);
            let crc = layout::record_crc(len as u32, &b[8..]);
            b[rec::CRC..rec::CRC + 4].copy_from_slice(&crc.to_le_bytes());
            b[..4].copy_from_slice(&(len as u32).to_le_bytes());
            offsets.push(at);
            at += len;
        }
        offsets.push(at);
        (seg, offsets)
    }

    #[test]
    fn a_clean_end_and_a_crash_mid_write_are_not_damage() {
        let (mut seg, off) = image(5, 4096);
        let end = off[5];
        assert_eq!(classify(&seg, end, 0, true), Stop::Clean);
        // Killed after the header and half the payload, before `len`.
        seg[end + rec::KIND] = 1;
        seg[end + rec::PAYLOAD_LEN] = 24;
        seg[end + RECORD_HEADER..end + RECORD_HEADER + 12].fill(7);
        assert_eq!(classify(&seg, end, 0, true), Stop::Torn);
        // A committed length over bytes that fail their CRC is not a crash's
        // doing: damage, even at the very end.
        let len = layout::record_len(24) as u32;
        seg[end..end + 4].copy_from_slice(&len.to_le_bytes());
        assert!(matches!(classify(&seg, end, len, true), Stop::Damage { after: 0, .. }));
    }

    #[test]
    fn a_flipped_length_with_records_after_it_is_damage_counting_them() {
        let (mut seg, off) = image(6, 4096);
        // The third record's length corrupted: three valid records follow it.
        seg[off[2]] ^= 0x10;
        let len = layout::le_u32(&seg, off[2]);
        assert_eq!(
            classify(&seg, off[2], len, true),
            Stop::Damage {
                what: "payload length disagrees with the record length",
                after: 3
            }
        );
        // The last record's length corrupted, nothing after it: still damage
        // (the length disagrees with its header), not a torn tail.
        let (mut seg, off) = image(3, 4096);
        seg[off[2] + 1] ^= 0x01;
        let len = layout::le_u32(&seg, off[2]);
        assert!(matches!(
            classify(&seg, off[2], len, true),
            Stop::Damage { after: 0, .. }
        ));
    }

    #[test]
    fn a_zeroed_length_before_valid_records_and_a_stop_in_a_middle_segment_are_damage() {
        let (mut seg, off) = image(4, 4096);
        seg[off[1]..off[1] + 4].fill(0);
        assert!(matches!(classify(&seg, off[1], 0, true), Stop::Damage { after: 2, .. }));
        let (seg, off) = image(4, 4096);
        // A middle segment that simply stops (truncated at a record boundary, say).
        assert_eq!(
            classify(&seg, off[4], 0, false),
            Stop::Damage {
                what: "the segment stops before its end-of-segment marker: a committed range is missing",
                after: 0
            }
        );
    }

    /// What the scans did before they passed zeros in bulk: every 8-byte
    /// boundary checked, and every byte of a tail compared with zero.
    fn plain_records_from(seg: &[u8], from: usize) -> (u64, bool) {
        let (mut at, mut n, mut end) = (from.next_multiple_of(ALIGN), 0, false);
        while at + RECORD_HEADER <= seg.len() {
            match scan::check(seg, at, layout::le_u32(seg, at)) {
                Step::Record { len } => {
                    if layout::le_u16(seg, at + rec::KIND) != KIND_END {
                        n += 1;
                    } else {
                        end = true;
                    }
                    at += len;
                }
                _ => at += ALIGN,
            }
        }
        (n, end)
    }

    proptest::proptest! {
        /// Records planted among zeros and stray bytes, anywhere: the bulk
        /// scans find what the 8-byte steps found, and a tail is zero exactly
        /// when every byte of it is.
        #[test]
        fn bulk_scans_find_what_the_plain_ones_found(
            records in 0usize..6,
            at in proptest::collection::vec(0usize..600, 0..6),
            strays in proptest::collection::vec((0usize..4096, 1u8..=255), 0..4),
            end_marker in proptest::prelude::any::<bool>(),
            from in 0usize..4096,
        ) {
            let (mut seg, offsets) = image(records, 4096);
            // Copies of the first record elsewhere (valid records after a stop).
            if records > 0 {
                let rec0 = seg[offsets[0]..offsets[1]].to_vec();
                for a in at {
                    let a = 1024 + a * ALIGN;
                    if a + rec0.len() <= seg.len() {
                        seg[a..a + rec0.len()].copy_from_slice(&rec0);
                    }
                }
            }
            if end_marker {
                let a = 4096 - 64;
                let len = layout::record_len(0);
                let b = &mut seg[a..a + len];
                b.fill(0);
                b[rec::KIND..rec::KIND + 2].copy_from_slice(&KIND_END.to_le_bytes());
                let crc = layout::record_crc(len as u32, &b[8..]);
                b[rec::CRC..rec::CRC + 4].copy_from_slice(&crc.to_le_bytes());
                b[..4].copy_from_slice(&(len as u32).to_le_bytes());
            }
            for (i, v) in strays {
                seg[i] = v;
            }
            let (n, end) = plain_records_from(&seg, from);
            proptest::prop_assert_eq!(records_from(&seg, from), n);
            proptest::prop_assert_eq!(end_marker_from(&seg, from), end);
            proptest::prop_assert_eq!(scan::zero_from(&seg, from), seg[from..].iter().all(|&b| b == 0));
        }
    }
}
