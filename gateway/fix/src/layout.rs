//! Report layouts: the orders of tags a venue's reports come in, learned from
//! the reports themselves, so that reading the next one checks each field
//! against the tag expected there instead of working out which tag it is.
//!
//! A venue's encoder writes each kind of report (an acknowledgement, a fill, a
//! cancel…) with the same tags in the same order; only the values, and so the
//! positions, change. [`ReportScanner`](super::report::ReportScanner) keeps the
//! tag orders of the last [`LAYOUTS`] kinds of report its general path accepted
//! (that path checks every field's syntax and hashes each tag to its slot). For
//! the next report it follows the layout used last, field by field after
//! MsgType:
//!
//! 1. the field's first eight bytes, masked to the expected tag and its `=`,
//!    must equal them (one compare);
//! 2. the value runs from there to the next SOH, taken from a SOH bit mask, and
//!    must not be empty;
//! 3. its range goes to the slot the layout gives that field (the slot of a
//!    kept tag's first occurrence, else the junk slot), and the next field
//!    starts after the SOH.
//!
//! Nothing else about a field needs checking: the expected tag comes from a
//! field the general path checked (digits, no leading zero, `=`), a value ends
//! at the first SOH after it, and the layout's last field is CheckSum, so the
//! message must end where the layout does. A field that does not match moves to
//! another layout with the same fields before it (every such layout is tried,
//! so a report with any learned layout is found), or gives up, and the general
//! path reads the report, learning its layout if it accepts it. So a report
//! read along a layout is read exactly as the general path would read it —
//! property-tested in `report.rs` — and the layouts only make it faster.

use super::decode::{word_at, FIRST};
use super::report::{pack, Bits, END, SLOTS};

/// The most fields after MsgType (CheckSum included) a layout holds; a report
/// with more is always read by the general path.
pub const MAX_STEPS: usize = 64;

/// How many layouts are kept (the oldest learned is replaced).
pub const LAYOUTS: usize = 4;

/// One field of a layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Step {
    /// The tag's digits and `=`, as a little-endian word (zeros above).
    key: u64,
    /// The key's bytes set.
    mask: u64,
    /// The key's length: the value starts this far into the field.
    len: u8,
    /// Where the value's range goes: a kept tag's slot at its first occurrence,
    /// else 0 (never read); [`END`] for CheckSum.
    slot: u8,
}

/// One learned order of tags.
#[derive(Clone, Copy, Debug)]
struct Layout {
    steps: [Step; MAX_STEPS],
    /// How many steps there are (0: an empty entry); the last is CheckSum.
    len: usize,
    /// The slots the steps fill.
    seen: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            steps: [Step::default(); MAX_STEPS],
            len: 0,
            seen: 0,
        }
    }
}

/// The layouts a scanner has learned, and which it followed last.
#[derive(Clone, Debug, Default)]
pub struct Layouts {
    list: [Layout; LAYOUTS],
    /// How many entries of `list` hold a layout.
    count: usize,
    /// The layout followed last (tried first).
    last: usize,
    /// The entry the next layout learned replaces, once all are used.
    oldest: usize,
    /// `common[a][b]`: how many first steps layouts `a` and `b` share.
    common: [[u8; LAYOUTS]; LAYOUTS],
    /// Reports read along a layout.
    followed: u64,
}

/// The end of a report's fields, as [`Layouts::follow`] found it.
pub(super) struct Followed {
    /// Where the CheckSum field starts.
    pub(super) at: usize,
    /// Its SOH, the message's last byte if the report is whole.
    pub(super) soh: usize,
    /// The slots filled.
    pub(super) seen: u32,
    /// How many fields after MsgType there are, CheckSum included.
    pub(super) fields: usize,
}

impl Layouts {
    /// How many reports were read along a learned layout.
    pub fn followed(&self) -> u64 {
        self.followed
    }

    /// How many layouts are learned.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Reads the fields of `buf` from `at` (the field after MsgType) up to and
    /// including CheckSum along a learned layout, taking their ends from `sohs`
    /// (a bit per SOH, from `at` on) and storing each value's range in `slots`.
    /// `None` if no layout fits (a field's tag differs from every layout's with
    /// the same fields before it, a value is empty, or the message ends early).
    #[inline]
    pub(super) fn follow(
        &mut self,
        buf: &[u8],
        sohs: Bits<'_>,
        slots: &mut [u32; SLOTS],
        mut at: usize,
    ) -> Option<Followed> {
        if self.count == 0 {
            return None;
        }
        // A local copy the compiler keeps in registers (the argument's memory
        // it would update at every field).
        let mut sohs = sohs.clone();
        let mut t = self.last;
        let mut from = 0;
        // Reading eight bytes at `at` needs `at <= last_word`; only CheckSum's
        // field (seven bytes) is shorter.
        let last_word = buf.len().checked_sub(8)?;
        let mut field = at;
        'layouts: loop {
            let l = &self.list[t % LAYOUTS];
            let steps = l.steps.get(from..l.len)?;
            for (i, s) in steps.iter().enumerate() {
                let w = if at <= last_word {
                    u64::from_le_bytes(*buf[at..].first_chunk::<8>()?)
                } else {
                    word_at(buf, at)?
                };
                if w & s.mask != s.key {
                    from += i;
                    t = self.switch(t, from, w)?;
                    continue 'layouts;
                }
                let soh = sohs.next()?;
                let start = at + s.len as usize;
                if soh <= start {
                    return None;
                }
                slots[s.slot as usize % SLOTS] = pack(start, soh);
                field = at;
                at = soh + 1;
            }
            // CheckSum's field was the last.
            let seen = l.seen;
            self.last = t;
            self.followed += 1;
            return Some(Followed {
                at: field,
                soh: at - 1,
                seen,
                fields: l.len,
            });
        }
    }

    /// Another layout sharing the first `i` steps of layout `t` whose step `i`
    /// matches the field word `w`.
    #[inline(never)]
    fn switch(&self, t: usize, i: usize, w: u64) -> Option<usize> {
        (0..self.count).find(|&u| {
            let s = self.list[u].steps[i % MAX_STEPS];
            u != t && self.common[t][u] as usize >= i && self.list[u].len > i && w & s.mask == s.key
        })
    }

    /// Learns the layout of the report `buf` the general path accepted: its
    /// fields from `at` (after MsgType) up to CheckSum, delimited by `marks` (a
    /// bit at each tag's `=` and each SOH, positioned after MsgType's), with
    /// `slot_of(field start, =)` the slot the general path gave each. A layout
    /// with a tag of over seven digits, or over [`MAX_STEPS`] fields, is not
    /// kept.
    #[cold]
    pub(super) fn learn(
        &mut self,
        buf: &[u8],
        mut marks: Bits<'_>,
        mut at: usize,
        slot_of: impl Fn(usize, usize) -> u8,
    ) {
        let mut l = Layout::default();
        let mut seen = 0u32;
        loop {
            let (Some(eq), Some(soh)) = (marks.next(), marks.next()) else {
                return;
            };
            let len = eq + 1 - at;
            if len > 8 || l.len == MAX_STEPS {
                return;
            }
            let Some(w) = word_at(buf, at) else { return };
            let slot = slot_of(at, eq);
            let first = slot == END || seen & 1 << (slot as usize % SLOTS) == 0;
            seen |= 1 << (slot as usize % SLOTS);
            l.steps[l.len] = Step {
                key: w & FIRST[len],
                mask: FIRST[len],
                len: len as u8,
                slot: if first { slot } else { 0 },
            };
            l.len += 1;
            if slot == END {
                break;
            }
            at = soh + 1;
        }
        // As the general path has them: every slot stored to but CheckSum's.
        l.seen = seen & !(1 << END);
        let v = if self.count < LAYOUTS {
            self.count += 1;
            self.count - 1
        } else {
            let v = self.oldest;
            self.oldest = (v + 1) % LAYOUTS;
            v
        };
        self.list[v] = l;
        for u in 0..self.count {
            let a = &self.list[u];
            let n = a.steps[..a.len.min(l.len)]
                .iter()
                .zip(&l.steps)
                .take_while(|(x, y)| x.key == y.key)
                .count();
            self.common[u][v] = n as u8;
            self.common[v][u] = n as u8;
        }
        self.last = v;
    }
}
