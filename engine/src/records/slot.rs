//! The fixed-size slot every input crosses rings and journals in.

use super::control::{OperatorCommand, Timer};
use super::exec::ExecReport;
use super::header::{Header, Kind, KIND_OFFSET};
use super::market::MarketData;
use bytemuck::{Pod, Zeroable};

/// Size of an [`InputSlot`] in bytes.
pub const SLOT_SIZE: usize = 128;

/// One sequenced input, 128 bytes: the record's own bytes, zero-padded.
///
/// Every input record begins with a [`Header`], so the kind can be read before the
/// body is interpreted. Typed access is through [`InputSlot::view`], which checks the
/// kind and never panics on arbitrary bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct InputSlot {
    words: [u64; SLOT_SIZE / 8],
}
const _: () = assert!(core::mem::size_of::<InputSlot>() == SLOT_SIZE);

/// A typed, borrowed view of an input slot.
#[derive(Clone, Copy, Debug)]
pub enum InputView<'a> {
    /// Market data.
    Md(&'a MarketData),
    /// An execution report.
    Exec(&'a ExecReport),
    /// A timer.
    Timer(&'a Timer),
    /// An operator command.
    Command(&'a OperatorCommand),
}

impl Default for InputSlot {
    fn default() -> Self {
        InputSlot::zeroed()
    }
}

impl InputSlot {
    fn from_record<T: Pod>(rec: &T) -> Self {
        let mut slot = InputSlot::zeroed();
        let src = bytemuck::bytes_of(rec);
        bytemuck::bytes_of_mut(&mut slot)[..src.len()].copy_from_slice(src);
        slot
    }
    /// Wraps a market-data event.
    pub fn from_md(md: &MarketData) -> Self {
        Self::from_record(md)
    }
    /// Wraps an execution report.
    pub fn from_exec(er: &ExecReport) -> Self {
        Self::from_record(er)
    }
    /// Wraps a timer.
    pub fn from_timer(t: &Timer) -> Self {
        Self::from_record(t)
    }
    /// Wraps an operator command.
    pub fn from_command(c: &OperatorCommand) -> Self {
        Self::from_record(c)
    }
    /// The header shared by every input record.
    pub fn header(&self) -> &Header {
        bytemuck::from_bytes(&bytemuck::bytes_of(self)[..core::mem::size_of::<Header>()])
    }
    /// The header, mutably (ingest stamps `seq` and `tsc` through it).
    pub fn header_mut(&mut self) -> &mut Header {
        bytemuck::from_bytes_mut(&mut bytemuck::bytes_of_mut(self)[..core::mem::size_of::<Header>()])
    }
    /// The raw kind byte.
    pub fn kind_byte(&self) -> u8 {
        bytemuck::bytes_of(self)[KIND_OFFSET]
    }
    /// The typed view, or `None` if the kind is not an input kind.
    pub fn view(&self) -> Option<InputView<'_>> {
        let b = bytemuck::bytes_of(self);
        Some(match Kind::from_u8(self.kind_byte())? {
            Kind::MarketData => InputView::Md(bytemuck::from_bytes(&b[..64])),
            Kind::ExecReport => InputView::Exec(bytemuck::from_bytes(&b[..128])),
            Kind::Timer => InputView::Timer(bytemuck::from_bytes(&b[..64])),
            Kind::Command => InputView::Command(bytemuck::from_bytes(&b[..64])),
            _ => return None,
        })
    }
    /// The slot's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::bytes_of(self)
    }
    /// The slot as words (native byte order, as [`as_bytes`](Self::as_bytes)
    /// reads them).
    pub fn words(&self) -> &[u64; SLOT_SIZE / 8] {
        &self.words
    }
    /// The word of [`words`](Self::words) that holds the header's `tsc`.
    pub const TSC_WORD: usize = core::mem::offset_of!(Header, tsc) / 8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{ExecKind, MdAction, Side};

    #[test]
    fn views_round_trip_each_kind() {
        let md = MarketData::new(MdAction::Add, 3, Some(Side::Sell), 10, 77, 1000, 5, 0);
        let s = InputSlot::from_md(&md);
        match s.view() {
            Some(InputView::Md(v)) => assert_eq!(*v, md),
            other => panic!("wrong view {other:?}"),
        }
        let mut er = ExecReport::new(ExecKind::Fill, 1, Side::Buy, 99);
        er.last_qty = 7;
        let s = InputSlot::from_exec(&er);
        match s.view() {
            Some(InputView::Exec(v)) => assert_eq!(*v, er),
            other => panic!("wrong view {other:?}"),
        }
    }

    #[test]
    fn unknown_kind_has_no_view() {
        let mut s = InputSlot::zeroed();
        assert!(s.view().is_none());
        s.header_mut().kind = 200;
        assert!(s.view().is_none());
        s.header_mut().kind = Kind::Order as u8;
        assert!(s.view().is_none());
    }
}
