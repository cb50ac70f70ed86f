//! Databento DBN files → the engine's market-data events (through the `dbn`
//! crate; plain, zstd- or gzip-compressed, from a file or standard input, any
//! DBN version it upgrades).
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

use crate::mapped::{Compression, MappedFile, Source};
use crate::Error;
use dbn::decode::{DbnMetadata, DecodeRecordRef, DynDecoder};
use dbn::{
    BboMsg, MboMsg, Mbp10Msg, Mbp1Msg, RecordHeader, TradeMsg, VersionUpgradePolicy, UNDEF_ORDER_SIZE, UNDEF_PRICE,
};
use foxtrot_engine::records::{flags, MarketData, MdAction, Side};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

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

    /// Reads `path` (see [`DbnInput::open`]), calling `out` for each event in
    /// file order.
    pub fn convert(&mut self, path: &Path, out: &mut impl FnMut(&MarketData)) -> Result<(), Error> {
        self.convert_input(&DbnInput::open(path)?, out)
    }

    /// Reads `input` from its start, calling `out` for each event in file
    /// order; an input may be converted any number of times.
    pub fn convert_input(&mut self, input: &DbnInput, out: &mut impl FnMut(&MarketData)) -> Result<(), Error> {
        let path = input.path.as_path();
        let err = |cause| Error::Dbn {
            path: path.display().to_string(),
            cause: Box::new(cause),
        };
        let (file, head) = input.reader().map_err(err)?;
        let compressed = Compression::of(&head) == Compression::Zstd;
        let meta_len = plain_metadata_len(&head);
        let bad_length = Rc::new(Cell::new(None));
        // A bad record length is named as such, not as what `dbn` was doing
        // when its reader failed (even reading the metadata: it reads ahead).
        let err = |cause| match bad_length.get() {
            Some((record, at, len)) => Error::DbnBadLength {
                path: path.display().to_string(),
                record,
                at,
                compressed,
                len,
            },
            None => err(cause),
        };
        let mut dec = decoder(file, &head, &bad_length).map_err(err)?;
        for m in &dec.metadata().mappings {
            for iv in &m.intervals {
                if let Ok(id) = iv.symbol.parse::<u32>() {
                    if !m.raw_symbol.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                        return Err(Error::DbnBadSymbol {
                            path: path.display().to_string(),
                            id,
                            symbol: m.raw_symbol.clone(),
                        });
                    }
                    self.names.entry(id).or_insert_with(|| m.raw_symbol.clone());
                }
            }
        }
        let mut bytes = 0u64;
        while let Some(r) = dec.decode_record_ref().map_err(err)? {
            self.stats.records += 1;
            let at = meta_len.map(|m| m + bytes);
            bytes += dbn::Record::record_size(&r) as u64;
            // A record whose `rtype` names a type but whose length is shorter
            // than that type's is damage (`RecordRef::get` would panic on it).
            let short = |kind: &'static str, want: usize| Error::DbnShortRecord {
                path: path.display().to_string(),
                record: self.stats.records,
                at,
                kind,
                len: dbn::Record::record_size(&r),
                want,
            };
            macro_rules! whole {
                ($t:ty, $kind:literal) => {
                    match r.has::<$t>() {
                        false => None,
                        true => Some(
                            r.try_get::<$t>()
                                .map_err(|_| short($kind, std::mem::size_of::<$t>()))?,
                        ),
                    }
                };
            }
            if let Some(m) = whole!(MboMsg, "MBO") {
                self.mbo(m, out);
            } else if let Some(m) = whole!(Mbp1Msg, "MBP-1") {
                self.mbp(&m.hd, m.ts_recv, m.action, m.side, m.price, m.size, &m.levels[0], out);
            } else if let Some(m) = whole!(Mbp10Msg, "MBP-10") {
                self.mbp(&m.hd, m.ts_recv, m.action, m.side, m.price, m.size, &m.levels[0], out);
            } else if let Some(m) = whole!(BboMsg, "BBO") {
                self.quotes(&m.hd, m.ts_recv, &m.levels[0], out);
            } else if let Some(m) = whole!(TradeMsg, "trade") {
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
        if let Some(meta_len) = meta_len {
            let len = input.plain_len();
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

/// Where [`Framed`] notes the first bad record length it met: (record
/// number from 1, stream offset, length in bytes).
type BadLength = Rc<Cell<Option<(u64, u64, u64)>>>;

/// A DBN input, opened once for the passes that read it (an import reads
/// twice: its instruments and tick grids, then its events).
///
/// A regular file, plain or zstd (as Databento ships it), is held open and
/// streamed from its start at each pass: nothing is written anywhere.
/// Anything else ([`Source`]) — a gzip file, standard input (`-`), a pipe or
/// FIFO, which cannot be read twice — is inflated or copied once to an unlinked temporary file under
/// `TMPDIR` ([`MappedFile`]) that each pass reads; a damaged or cut
/// compressed stream is then an error naming the input.
pub struct DbnInput {
    path: PathBuf,
    bytes: DbnBytes,
}

/// Where a [`DbnInput`]'s bytes are read from at each pass.
enum DbnBytes {
    /// A regular file, plain or zstd, held open.
    File(File),
    /// The plain bytes of an input that cannot be streamed twice.
    Spooled(MappedFile),
}

impl DbnInput {
    /// Opens `path` (`-`: standard input).
    pub fn open(path: &Path) -> Result<Self, Error> {
        let err = |cause| Error::Open {
            path: path.display().to_string(),
            cause,
        };
        let bytes = match Source::open(path).map_err(err)? {
            Source::File(f, Compression::Gzip) => DbnBytes::Spooled(MappedFile::spool(f).map_err(err)?),
            Source::File(f, _) => DbnBytes::File(f),
            Source::Stream(s) => DbnBytes::Spooled(MappedFile::spool(s).map_err(err)?),
        };
        Ok(DbnInput {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// A reader of the input from its start, with its first (up to) eight
    /// bytes, which tell its form.
    fn reader(&self) -> dbn::Result<(Box<dyn Read + '_>, Vec<u8>)> {
        let mut head = [0u8; 8];
        match &self.bytes {
            DbnBytes::Spooled(bytes) => {
                let bytes: &[u8] = bytes;
                let n = bytes.len().min(8);
                head[..n].copy_from_slice(&bytes[..n]);
                Ok((Box::new(bytes), head[..n].to_vec()))
            }
            DbnBytes::File(f) => {
                use std::io::{Seek, SeekFrom};
                let io = |e| dbn::Error::io(e, format!("reading file to decode at path '{}'", self.path.display()));
                let mut file: &File = f;
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                let n = read_full(&mut file, &mut head);
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                Ok((Box::new(file), head[..n].to_vec()))
            }
        }
    }

    /// The length of the input's bytes as stored (inflated, when spooled).
    fn plain_len(&self) -> u64 {
        match &self.bytes {
            DbnBytes::Spooled(bytes) => bytes.len() as u64,
            DbnBytes::File(f) => f.metadata().map(|m| m.len()).unwrap_or(0),
        }
    }
}

/// The decoder of `stream` (whose first bytes are `head`): a DBN stream
/// (plain, or inflated from zstd) read through [`Framed`], which records its
/// first bad record length in `bad_length`; any other file as `dbn` infers it
/// (a legacy DBZ file, or one it refuses).
fn decoder<'a>(
    stream: Box<dyn Read + 'a>,
    head: &[u8],
    bad_length: &BadLength,
) -> dbn::Result<DynDecoder<'static, BufReader<Box<dyn Read + 'a>>>> {
    let stream: Box<dyn Read + 'a> = match Compression::of(head) {
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(stream).map_err(|e| dbn::Error::io(e, "creating zstd decoder"))?)
        }
        _ if head.starts_with(b"DBN") => stream,
        _ => return DynDecoder::new_inferred(stream, VersionUpgradePolicy::default()),
    };
    let framed: Box<dyn Read + 'a> = Box::new(Framed::new(stream, bad_length.clone()));
    DynDecoder::new(framed, dbn::Compression::None, VersionUpgradePolicy::default())
}

/// A DBN stream passed through with its record framing checked: each
/// record's length (its first byte, in 4-byte words) must be a whole number
/// of 8-byte words of at least a 16-byte header, as every DBN record's is.
/// `dbn` lays each record over its buffer where the one before ended, so one
/// damaged length would misalign every record after it (a debug build of
/// `dbn` asserts on that; a release build reads through misaligned
/// references). The first bad length ends the stream with an error, and is
/// noted (record number from 1, stream offset, length) for a clear message.
struct Framed<R> {
    inner: R,
    /// The 8-byte prologue (`DBN`, version, metadata length), served first.
    prologue: [u8; 8],
    served: usize,
    /// Stream offset of the next byte read from `inner`.
    pos: u64,
    /// Stream offset of the next record's header.
    next: u64,
    records: u64,
    bad: BadLength,
}

impl<R: Read> Framed<R> {
    fn new(mut inner: R, bad: BadLength) -> Self {
        let mut head = [0u8; 8];
        // A stream shorter than its prologue is served as it is, for `dbn`
        // to refuse.
        let got = read_full(&mut inner, &mut head);
        let next = if got == 8 {
            8 + u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64
        } else {
            u64::MAX
        };
        // The bytes read, at the end of the prologue, are what is served first.
        let mut prologue = [0u8; 8];
        prologue[8 - got..].copy_from_slice(&head[..got]);
        Framed {
            inner,
            prologue,
            served: 8 - got,
            pos: got as u64,
            next,
            records: 0,
            bad,
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    n
}

impl<R: Read> Read for Framed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.served < 8 {
            let k = (8 - self.served).min(buf.len());
            buf[..k].copy_from_slice(&self.prologue[self.served..self.served + k]);
            self.served += k;
            return Ok(k);
        }
        let n = self.inner.read(buf)?;
        let end = self.pos + n as u64;
        while self.next < end {
            let len = buf[(self.next - self.pos) as usize] as u64 * 4;
            self.records += 1;
            if len < 16 || len % 8 != 0 {
                self.bad.set(Some((self.records, self.next, len)));
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "a record length that is not a whole number of 8-byte words",
                ));
            }
            self.next += len;
        }
        self.pos = end;
        Ok(n)
    }
}

/// The length of an uncompressed DBN file's metadata (its 8-byte prologue
/// included) from its first bytes `head`, or `None` for a compressed,
/// older-version or shorter file.
fn plain_metadata_len(head: &[u8]) -> Option<u64> {
    // Only a file of the version records are decoded to (older ones are
    // upgraded in memory, so their sizes differ from the file's).
    match head {
        [b'D', b'B', b'N', v, a, b, c, d] if *v == dbn::DBN_VERSION => {
            Some(8 + u32::from_le_bytes([*a, *b, *c, *d]) as u64)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out at most `step` bytes a call (cycling 1..=7 when 0).
    struct Trickle<'a> {
        data: &'a [u8],
        at: usize,
        call: usize,
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.call += 1;
            let step = if self.step == 0 { 1 + self.call % 7 } else { self.step };
            let k = step.min(buf.len()).min(self.data.len() - self.at);
            buf[..k].copy_from_slice(&self.data[self.at..self.at + k]);
            self.at += k;
            Ok(k)
        }
    }

    /// A prologue with 8 bytes of metadata, then records of these lengths
    /// (in 4-byte words), each filled with its own number.
    fn stream(words: &[u8]) -> Vec<u8> {
        let mut s = b"DBN\x03".to_vec();
        s.extend_from_slice(&8u32.to_le_bytes());
        s.extend_from_slice(&[0xee; 8]);
        for (i, &w) in words.iter().enumerate() {
            let mut r = vec![i as u8; (w as usize * 4).max(1)];
            r[0] = w;
            s.extend_from_slice(&r);
        }
        s
    }

    fn read_all(data: &[u8], step: usize) -> (Vec<u8>, bool, Option<(u64, u64, u64)>) {
        let bad = Rc::new(Cell::new(None));
        let mut f = Framed::new(
            Trickle {
                data,
                at: 0,
                call: 0,
                step,
            },
            bad.clone(),
        );
        let mut out = Vec::new();
        let ok = f.read_to_end(&mut out).is_ok();
        (out, ok, bad.get())
    }

    /// Records of whole 8-byte words pass through unchanged however the
    /// stream is cut into reads; the first other length ends it, named by
    /// record number, offset and length, wherever the read boundaries fall.
    #[test]
    fn framing_passes_whole_records_and_names_the_first_bad_length() {
        let good = stream(&[12, 4, 20, 4]);
        for step in [0, 1, 3, 8, 4096] {
            let (out, ok, bad) = read_all(&good, step);
            assert!(ok && bad.is_none(), "step {step}");
            assert_eq!(out, good, "step {step}");
        }
        // Record 3 says 9 words (36 bytes): at 16 + 48 + 16.
        for step in [0, 1, 5, 4096] {
            let (_, ok, bad) = read_all(&stream(&[12, 4, 9, 4]), step);
            assert!(!ok, "step {step}");
            assert_eq!(bad, Some((3, 80, 36)), "step {step}");
        }
        // Shorter than a header, or zero.
        assert_eq!(read_all(&stream(&[12, 2]), 0).2, Some((2, 64, 8)));
        assert_eq!(read_all(&stream(&[0]), 0).2, Some((1, 16, 0)));
        // A stream shorter than its prologue is passed on as it is.
        let (out, ok, bad) = read_all(b"DBN", 1);
        assert!(ok && bad.is_none());
        assert_eq!(out, b"DBN");
    }
}
