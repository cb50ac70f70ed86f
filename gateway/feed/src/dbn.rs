//! Databento DBN files → the engine's market-data events (through the `dbn`
//! crate; plain or zstd-compressed, any DBN version it upgrades).
//!
//! | schema | record | events |
//! |---|---|---|
//! | MBO | `A` add | `Add` (order id, price, size, side) |
//! | | `C` cancel | `Cancel` of the size given |
//! | | `M` modify | same price: `Modify` by the size change; new price: `Cancel` + `Add` (priority lost) |
//! | | `F` fill | `Execute` of the resting order (its side) |
//! | | `T` trade | `Trade`, side = aggressor (`A` sell, `B` buy, `N` unknown) |
//! | | `R` clear | `Cancel` of every live order of the instrument |
//! | MBP-1, MBP-10 | top level | `Quote` bid, `Quote` ask (depth below the top is not imported); a trade (`T`) also gives a `Trade` |
//! | BBO (1s, 1m) | top level | `Quote` bid, `Quote` ask |
//! | trades | trade | `Trade` |
//!
//! An undefined price or size on a side empties it (a `Quote` of 0). Prices are
//! DBN's 1e-9 fixed point, converted to the instrument's price units (10^-4 by
//! default) exactly: a price with more precision is a data-quality event, counted
//! and skipped. Times: the event's control time is `ts_recv`, its exchange time
//! `ts_event`. `F_LAST` on a record marks the end of an update (the engine decides
//! only there); quotes always end theirs. Instruments are numbered by first
//! appearance and named from the metadata's symbol mappings (else `ID<n>`).

use crate::Error;
use dbn::decode::{DbnMetadata, DecodeRecordRef, DynDecoder};
use dbn::{
    BboMsg, MboMsg, Mbp10Msg, Mbp1Msg, RecordHeader, TradeMsg, VersionUpgradePolicy, UNDEF_ORDER_SIZE, UNDEF_PRICE,
};
use foxtrot_engine::records::{flags, MarketData, MdAction, Side};
use std::collections::BTreeMap;
use std::path::Path;

/// Counters of one conversion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbnStats {
    /// Records read.
    pub records: u64,
    /// Records of a schema this import does not use (definitions, status, …).
    pub skipped: u64,
    /// Events produced.
    pub events: u64,
    /// Prices not representable in the instrument's units, skipped.
    pub off_scale: u64,
    /// MBO references to orders not live, skipped.
    pub unknown_order: u64,
}

#[derive(Clone, Copy)]
struct Live {
    instrument: u32,
    side: Side,
    px: i64,
    size: i64,
}

/// Converts a DBN file's records, calling `out` with each event.
pub struct DbnConverter {
    scale: i64,
    ids: BTreeMap<u32, u32>,
    names: BTreeMap<u32, String>,
    symbols: Vec<String>,
    live: BTreeMap<u64, Live>,
    stats: DbnStats,
}

fn side(c: std::ffi::c_char) -> Option<Side> {
    match c as u8 {
        b'B' => Some(Side::Buy),
        b'A' => Some(Side::Sell),
        _ => None,
    }
}

impl DbnConverter {
    /// A converter into prices with `price_decimals` decimals (≤ 9).
    pub fn new(price_decimals: u8) -> Self {
        DbnConverter {
            scale: 10i64.pow(9 - price_decimals.min(9) as u32),
            ids: BTreeMap::new(),
            names: BTreeMap::new(),
            symbols: Vec::new(),
            live: BTreeMap::new(),
            stats: DbnStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &DbnStats {
        &self.stats
    }

    /// Symbols of instruments `0..n`.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    fn instrument(&mut self, id: u32) -> u32 {
        if let Some(&i) = self.ids.get(&id) {
            return i;
        }
        let i = self.symbols.len() as u32;
        self.ids.insert(id, i);
        self.symbols
            .push(self.names.get(&id).cloned().unwrap_or_else(|| format!("ID{id}")));
        i
    }

    fn px(&mut self, p: i64) -> Option<i64> {
        if p == UNDEF_PRICE {
            return Some(0);
        }
        if p % self.scale != 0 {
            self.stats.off_scale += 1;
            return None;
        }
        Some(p / self.scale)
    }

    #[allow(clippy::too_many_arguments)]
    fn md(
        &mut self,
        a: MdAction,
        inst: u32,
        s: Option<Side>,
        hd: &RecordHeader,
        recv: u64,
        id: u64,
        px: i64,
        qty: i64,
        last: bool,
    ) -> MarketData {
        self.stats.events += 1;
        let mut m = MarketData::new(
            a,
            inst,
            s,
            recv,
            id,
            px,
            qty,
            if last { flags::LAST_IN_BATCH } else { 0 },
        );
        m.exch_ts_ns = hd.ts_event;
        m
    }

    fn quotes(&mut self, hd: &RecordHeader, recv: u64, l: &dbn::BidAskPair, out: &mut impl FnMut(&MarketData)) {
        let inst = self.instrument(hd.instrument_id);
        let (Some(b), Some(a)) = (self.px(l.bid_px), self.px(l.ask_px)) else {
            return;
        };
        let sz = |s: u32, p: i64| if s == UNDEF_ORDER_SIZE || p == 0 { 0 } else { s as i64 };
        let (bq, aq) = (sz(l.bid_sz, b), sz(l.ask_sz, a));
        let bid = self.md(MdAction::Quote, inst, Some(Side::Buy), hd, recv, 0, b, bq, false);
        let ask = self.md(MdAction::Quote, inst, Some(Side::Sell), hd, recv, 0, a, aq, true);
        out(&bid);
        out(&ask);
    }

    /// An MBP record: its trade (action `T`), if any, then the top-level quotes.
    #[allow(clippy::too_many_arguments)]
    fn mbp(
        &mut self,
        hd: &RecordHeader,
        recv: u64,
        action: std::ffi::c_char,
        s: std::ffi::c_char,
        price: i64,
        size: u32,
        top: &dbn::BidAskPair,
        out: &mut impl FnMut(&MarketData),
    ) {
        if action as u8 == b'T' {
            if let Some(px) = self.px(price) {
                let inst = self.instrument(hd.instrument_id);
                let e = self.md(MdAction::Trade, inst, side(s), hd, recv, 0, px, size as i64, false);
                out(&e);
            }
        }
        self.quotes(hd, recv, top, out);
    }

    fn mbo(&mut self, m: &MboMsg, out: &mut impl FnMut(&MarketData)) {
        let inst = self.instrument(m.hd.instrument_id);
        let last = m.flags.is_last();
        let (hd, recv, id) = (&m.hd, m.ts_recv, m.order_id);
        let size = if m.size == UNDEF_ORDER_SIZE { 0 } else { m.size as i64 };
        match m.action as u8 {
            b'A' => {
                let (Some(s), Some(px)) = (side(m.side), self.px(m.price)) else {
                    return;
                };
                self.live.insert(
                    id,
                    Live {
                        instrument: inst,
                        side: s,
                        px,
                        size,
                    },
                );
                let e = self.md(MdAction::Add, inst, Some(s), hd, recv, id, px, size, last);
                out(&e);
            }
            b'C' | b'F' => {
                let Some(o) = self.live.get_mut(&id) else {
                    self.stats.unknown_order += 1;
                    return;
                };
                let take = size.min(o.size);
                o.size -= take;
                let o = *o;
                if o.size == 0 {
                    self.live.remove(&id);
                }
                let a = if m.action as u8 == b'C' {
                    MdAction::Cancel
                } else {
                    MdAction::Execute
                };
                let e = self.md(a, o.instrument, Some(o.side), hd, recv, id, o.px, take, last);
                out(&e);
            }
            b'M' => {
                let Some(px) = self.px(m.price) else { return };
                let Some(o) = self.live.get(&id).copied() else {
                    self.stats.unknown_order += 1;
                    return;
                };
                if px == o.px {
                    let e = self.md(
                        MdAction::Modify,
                        o.instrument,
                        Some(o.side),
                        hd,
                        recv,
                        id,
                        px,
                        size - o.size,
                        last,
                    );
                    out(&e);
                } else {
                    let c = self.md(
                        MdAction::Cancel,
                        o.instrument,
                        Some(o.side),
                        hd,
                        recv,
                        id,
                        o.px,
                        o.size,
                        false,
                    );
                    out(&c);
                    let a = self.md(MdAction::Add, o.instrument, Some(o.side), hd, recv, id, px, size, last);
                    out(&a);
                }
                self.live.insert(id, Live { px, size, ..o });
            }
            b'T' => {
                let Some(px) = self.px(m.price) else { return };
                let e = self.md(MdAction::Trade, inst, side(m.side), hd, recv, 0, px, size, last);
                out(&e);
            }
            b'R' => {
                let gone: Vec<(u64, Live)> = self
                    .live
                    .iter()
                    .filter(|(_, o)| o.instrument == inst)
                    .map(|(k, o)| (*k, *o))
                    .collect();
                let n = gone.len();
                for (k, (oid, o)) in gone.into_iter().enumerate() {
                    self.live.remove(&oid);
                    let e = self.md(
                        MdAction::Cancel,
                        inst,
                        Some(o.side),
                        hd,
                        recv,
                        oid,
                        o.px,
                        o.size,
                        last && k + 1 == n,
                    );
                    out(&e);
                }
            }
            _ => self.stats.skipped += 1,
        }
    }

    /// Reads `path` (DBN or DBN.zst), calling `out` for each event in file order.
    pub fn convert(&mut self, path: &Path, out: &mut impl FnMut(&MarketData)) -> Result<(), Error> {
        let err = |cause| Error::Dbn {
            path: path.display().to_string(),
            cause: Box::new(cause),
        };
        let mut dec = DynDecoder::from_file(path, VersionUpgradePolicy::default()).map_err(err)?;
        for m in &dec.metadata().mappings {
            for iv in &m.intervals {
                if let Ok(id) = iv.symbol.parse::<u32>() {
                    self.names.entry(id).or_insert_with(|| m.raw_symbol.clone());
                }
            }
        }
        let mut bytes = 0u64;
        while let Some(r) = dec.decode_record_ref().map_err(err)? {
            self.stats.records += 1;
            bytes += dbn::Record::record_size(&r) as u64;
            if let Some(m) = r.get::<MboMsg>() {
                self.mbo(m, out);
            } else if let Some(m) = r.get::<Mbp1Msg>() {
                self.mbp(&m.hd, m.ts_recv, m.action, m.side, m.price, m.size, &m.levels[0], out);
            } else if let Some(m) = r.get::<Mbp10Msg>() {
                self.mbp(&m.hd, m.ts_recv, m.action, m.side, m.price, m.size, &m.levels[0], out);
            } else if let Some(m) = r.get::<BboMsg>() {
                self.quotes(&m.hd, m.ts_recv, &m.levels[0], out);
            } else if let Some(m) = r.get::<TradeMsg>() {
                let Some(px) = self.px(m.price) else { continue };
                let inst = self.instrument(m.hd.instrument_id);
                let e = self.md(
                    MdAction::Trade,
                    inst,
                    side(m.side),
                    &m.hd,
                    m.ts_recv,
                    0,
                    px,
                    m.size as i64,
                    true,
                );
                out(&e);
            } else {
                self.stats.skipped += 1;
            }
        }
        // An uncompressed file is its metadata then its records, back to back:
        // bytes beyond the last whole record mean it was cut inside one.
        if let Some(meta_len) = plain_metadata_len(path) {
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let used = meta_len + bytes;
            if len > used {
                return Err(Error::DbnTruncated {
                    path: path.display().to_string(),
                    records: self.stats.records,
                    partial: len - used,
                });
            }
        }
        Ok(())
    }
}

/// The length of an uncompressed DBN file's metadata (its 8-byte prologue
/// included), or `None` for a compressed, older-version or unreadable file.
fn plain_metadata_len(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    // Only a file of the version records are decoded to (older ones are
    // upgraded in memory, so their sizes differ from the file's).
    (&head[..3] == b"DBN" && head[3] == dbn::DBN_VERSION)
        .then(|| 8 + u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64)
}
