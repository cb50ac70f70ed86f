//! The native market-data file format (`.fxmd`): what `foxtrot gen` writes and
//! what file feeds read. Layout in `docs/formats.md`; all integers little-endian.
//!
//! ```text
//! file     = header(64) instrument(64) × n_instruments record(64) × n_records
//! header   = magic "FXMDv001" | version u32 = 1 | record_size u32 = 64 |
//!            n_instruments u32 | flags u32 | seed u64 | n_records u64 |
//!            start_ns u64 | reserved[16]
//! instrument = symbol[16] (NUL-padded ASCII) | price_decimals u8 | qty_decimals u8 |
//!            pad[6] | tick i64 | lot i64 | ref_price i64 | reserved[16]
//! record   = the 64-byte MarketData layout (seq and tsc written as 0)
//! ```
//! The reader checks everything it can — magic, version, sizes, that the file holds
//! exactly the records the header announces, and each record's kind, action, side and
//! instrument — and reports the byte offset of the first problem. It never panics.

use crate::Error;
use foxtrot_engine::records::{InstrumentSpec, Kind, MarketData, MdAction, Side};
use std::io::{Read, Seek, SeekFrom, Write};

/// File magic.
pub const MAGIC: &[u8; 8] = b"FXMDv001";
/// Format version.
pub const VERSION: u32 = 1;
/// Size of the file header, of an instrument entry and of a record.
pub const BLOCK: usize = 64;

/// The decoded file header.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeHeader {
    /// Instruments, by id.
    pub instruments: Vec<InstrumentSpec>,
    /// Generator seed (0 when not generated).
    pub seed: u64,
    /// Number of records.
    pub n_records: u64,
    /// Control time of the first record.
    pub start_ns: u64,
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4-byte slice"))
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8-byte slice"))
}

/// Encodes one record into its 64 little-endian bytes.
pub fn encode_record(m: &MarketData) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    b[8..16].copy_from_slice(&m.header.ts_ns.to_le_bytes());
    b[24] = Kind::MarketData as u8;
    b[25] = m.header.sub;
    b[26] = m.header.side;
    b[27] = m.header.flags;
    b[28..32].copy_from_slice(&m.header.instrument.to_le_bytes());
    b[32..40].copy_from_slice(&m.exch_ts_ns.to_le_bytes());
    b[40..48].copy_from_slice(&m.order_id.to_le_bytes());
    b[48..56].copy_from_slice(&m.px.to_le_bytes());
    b[56..64].copy_from_slice(&m.qty.to_le_bytes());
    b
}

/// Decodes one 64-byte record; `n_instruments` bounds the instrument id. Errors say
/// which field is wrong; the caller adds the offset.
pub fn decode_record(b: &[u8; BLOCK], n_instruments: u32) -> Result<MarketData, &'static str> {
    if b[24] != Kind::MarketData as u8 {
        return Err("kind is not market data");
    }
    let action = MdAction::from_u8(b[25]).ok_or("unknown action")?;
    let side = b[26];
    let side_ok = match action {
        MdAction::Trade => side == 0 || Side::from_u8(side).is_some(),
        _ => Side::from_u8(side).is_some(),
    };
    if !side_ok {
        return Err("bad side");
    }
    let instrument = le_u32(b, 28);
    if instrument >= n_instruments {
        return Err("instrument id out of range");
    }
    let ts = le_u64(b, 8);
    let mut m = MarketData::new(action, instrument, Side::from_u8(side), ts, le_u64(b, 40), 0, 0, b[27]);
    m.exch_ts_ns = le_u64(b, 32);
    m.px = le_u64(b, 48) as i64;
    m.qty = le_u64(b, 56) as i64;
    Ok(m)
}

fn encode_header(h: &NativeHeader) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK * (1 + h.instruments.len())];
    b[0..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b[12..16].copy_from_slice(&(BLOCK as u32).to_le_bytes());
    b[16..20].copy_from_slice(&(h.instruments.len() as u32).to_le_bytes());
    b[24..32].copy_from_slice(&h.seed.to_le_bytes());
    b[32..40].copy_from_slice(&h.n_records.to_le_bytes());
    b[40..48].copy_from_slice(&h.start_ns.to_le_bytes());
    for (i, s) in h.instruments.iter().enumerate() {
        let e = &mut b[BLOCK * (1 + i)..BLOCK * (2 + i)];
        let sym = s.symbol.as_bytes();
        e[..sym.len().min(16)].copy_from_slice(&sym[..sym.len().min(16)]);
        e[16] = s.price_decimals;
        e[17] = s.qty_decimals;
        e[24..32].copy_from_slice(&s.tick.to_le_bytes());
        e[32..40].copy_from_slice(&s.lot.to_le_bytes());
        e[40..48].copy_from_slice(&s.ref_price.to_le_bytes());
    }
    b
}

/// Writes a native file: header first (record count patched on [`NativeWriter::finish`]).
pub struct NativeWriter<W: Write + Seek> {
    w: W,
    header: NativeHeader,
}

impl<W: Write + Seek> NativeWriter<W> {
    /// Starts a file with these instruments.
    pub fn new(mut w: W, instruments: &[InstrumentSpec], seed: u64, start_ns: u64) -> std::io::Result<Self> {
        let header = NativeHeader {
            instruments: instruments.to_vec(),
            seed,
            n_records: 0,
            start_ns,
        };
        w.write_all(&encode_header(&header))?;
        Ok(NativeWriter { w, header })
    }
    /// Appends one record.
    pub fn write(&mut self, m: &MarketData) -> std::io::Result<()> {
        self.header.n_records += 1;
        self.w.write_all(&encode_record(m))
    }
    /// Patches the record count into the header and flushes. Returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.w.seek(SeekFrom::Start(32))?;
        self.w.write_all(&self.header.n_records.to_le_bytes())?;
        self.w.seek(SeekFrom::End(0))?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Parses and checks a file header from the start of a reader of `file_len` bytes.
pub fn read_header(r: &mut impl Read, file_len: u64) -> Result<NativeHeader, Error> {
    if file_len < BLOCK as u64 {
        return Err(Error::Length {
            offset: 0,
            expected: BLOCK as u64,
            found: file_len,
        });
    }
    let mut h = [0u8; BLOCK];
    r.read_exact(&mut h)?;
    if &h[0..8] != MAGIC {
        return Err(Error::BadMagic {
            found: h[0..8].try_into().expect("8 bytes"),
        });
    }
    let bad = |offset, field, value: u64, expected| Error::BadHeader {
        offset,
        field,
        value,
        expected,
    };
    let version = le_u32(&h, 8);
    if version != VERSION {
        return Err(bad(8, "version", version as u64, "1"));
    }
    let rs = le_u32(&h, 12);
    if rs != BLOCK as u32 {
        return Err(bad(12, "record_size", rs as u64, "64"));
    }
    let n_ins = le_u32(&h, 16);
    if n_ins == 0 || n_ins > 65_536 {
        return Err(bad(16, "n_instruments", n_ins as u64, "1..=65536"));
    }
    let n_records = le_u64(&h, 32);
    let data_start = (BLOCK as u64) * (1 + n_ins as u64);
    let expected = n_records
        .checked_mul(BLOCK as u64)
        .and_then(|d| d.checked_add(data_start));
    if expected != Some(file_len) {
        return Err(Error::Length {
            offset: data_start.min(file_len),
            expected: expected.unwrap_or(u64::MAX),
            found: file_len,
        });
    }
    let mut instruments = Vec::with_capacity(n_ins as usize);
    for i in 0..n_ins as u64 {
        let mut e = [0u8; BLOCK];
        r.read_exact(&mut e)?;
        let off = BLOCK as u64 * (1 + i);
        let sym_len = e[..16].iter().position(|&c| c == 0).unwrap_or(16);
        let symbol = std::str::from_utf8(&e[..sym_len])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_graphic()))
            .ok_or(bad(off, "symbol", sym_len as u64, "1..=16 printable ASCII bytes"))?
            .to_string();
        let tick = le_u64(&e, 24) as i64;
        let lot = le_u64(&e, 32) as i64;
        if tick <= 0 {
            return Err(bad(off + 24, "tick", tick as u64, "> 0"));
        }
        if lot <= 0 {
            return Err(bad(off + 32, "lot", lot as u64, "> 0"));
        }
        if e[16] > 9 || e[17] > 9 {
            return Err(bad(off + 16, "decimals", e[16].max(e[17]) as u64, "≤ 9"));
        }
        instruments.push(InstrumentSpec {
            symbol,
            price_decimals: e[16],
            tick,
            qty_decimals: e[17],
            lot,
            ref_price: le_u64(&e, 40) as i64,
        });
    }
    Ok(NativeHeader {
        instruments,
        seed: le_u64(&h, 24),
        n_records,
        start_ns: le_u64(&h, 40),
    })
}

/// Streams the records of a native file in constant memory.
pub struct NativeReader<R: Read> {
    r: R,
    header: NativeHeader,
    index: u64,
    data_offset: u64,
}

impl NativeReader<std::io::BufReader<std::fs::File>> {
    /// Opens a file and checks its header and length.
    pub fn open(path: &std::path::Path) -> Result<Self, Error> {
        let f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        Self::new(std::io::BufReader::with_capacity(1 << 16, f), len)
    }
}

impl<R: Read> NativeReader<R> {
    /// Reads and checks the header of a `file_len`-byte stream.
    pub fn new(mut r: R, file_len: u64) -> Result<Self, Error> {
        let header = read_header(&mut r, file_len)?;
        let data_offset = BLOCK as u64 * (1 + header.instruments.len() as u64);
        Ok(NativeReader {
            r,
            header,
            index: 0,
            data_offset,
        })
    }
    /// The header.
    pub fn header(&self) -> &NativeHeader {
        &self.header
    }
    /// The next record, `Ok(None)` at the end.
    pub fn next_record(&mut self) -> Result<Option<MarketData>, Error> {
        if self.index >= self.header.n_records {
            return Ok(None);
        }
        let mut b = [0u8; BLOCK];
        let offset = self.data_offset + self.index * BLOCK as u64;
        self.r.read_exact(&mut b)?;
        let m = decode_record(&b, self.header.instruments.len() as u32).map_err(|what| Error::BadRecord {
            offset,
            index: self.index,
            what,
        })?;
        self.index += 1;
        Ok(Some(m))
    }
}

/// Decodes a whole in-memory file, stopping at the first error. Used by the fuzz
/// target and tests; returns the records read before any error.
pub fn decode_all(bytes: &[u8]) -> (Vec<MarketData>, Option<Error>) {
    let mut out = Vec::new();
    let mut rd = match NativeReader::new(bytes, bytes.len() as u64) {
        Ok(r) => r,
        Err(e) => return (out, Some(e)),
    };
    loop {
        match rd.next_record() {
            Ok(Some(m)) => out.push(m),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}
