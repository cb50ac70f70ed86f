//! CSV quotes and trades → the engine's market-data events.
//!
//! Two shapes, one row per line, columns found by header name (or by 0-based
//! index when the file has no header):
//!
//! | shape | columns (default names) | events per row |
//! |---|---|---|
//! | quotes | `timestamp`, `bid`, `bid_size`, `ask`, `ask_size` | two `Quote`s (bid side, then ask side, which ends the update) |
//! | trades | `timestamp`, `price`, `size`, `side` | one `Trade` (side `B`/`S`/`buy`/`sell`, else none) |
//!
//! Prices are decimals (`101.25`) scaled by 10^`price_decimals` into integer
//! price units, sizes by 10^`qty_decimals`, exactly and without floating point: a
//! value with more decimals than the scale holds, or that overflows, is an error
//! — but for a value written from a binary float, rounded ([`float_noise`],
//! counted in [`CsvReader::rounded`]). Timestamps are numbers in a stated unit
//! since the epoch (a fraction down to the nanosecond, exact), or ISO 8601
//! (`2026-01-05T14:30:00.123456789Z`, the `T` may be a space; UTC when `Z` or
//! nothing follows, else converted from a `±HH:MM`, `±HHMM` or `±HH` offset). Lines may end in CRLF, and a UTF-8 byte-order mark at the start of
//! the file (spreadsheets save one) is skipped.
//!
//! A row that cannot be — a price not above zero with a size, a negative size,
//! a crossed quote (bid above ask, both with size) — is a data-quality finding
//! ([`CsvItem::Finding`]), not data: none of its events is given. Every error names the line, the column and
//! the text it could not read. The
//! reader is a hand-written byte scanner (no allocation per row), which is what
//! makes it fast enough to import millions of rows a second.

use crate::Error;
use foxtrot_engine::records::{flags::LAST_IN_BATCH as LAST, DqCode, DqEvent, MarketData, MdAction, Side};

/// What one step of a [`CsvReader`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvItem {
    /// A market-data event.
    Event(MarketData),
    /// A row that cannot be used as it stands — a crossed quote (bid above ask,
    /// both with size) — reported as a data-quality finding; its events are
    /// not given.
    Finding(DqEvent),
}

/// What a CSV row holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvShape {
    /// Top-of-book quotes.
    Quotes,
    /// Trades (prints).
    Trades,
}

/// Timestamp encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsUnit {
    /// Seconds (a fraction down to the nanosecond allowed).
    S,
    /// Milliseconds (a fraction down to the nanosecond allowed).
    Ms,
    /// Microseconds (a fraction down to the nanosecond allowed).
    Us,
    /// Integer nanoseconds.
    Ns,
    /// ISO 8601 UTC.
    Iso,
}

impl TsUnit {
    /// Nanoseconds in one unit of an integer timestamp (1 for `Iso`, which
    /// is not an integer).
    #[inline]
    pub fn nanos(self) -> u64 {
        POW10[self.ns_decimals() as usize]
    }

    /// Decimal places down to the nanosecond: a timestamp in this unit may
    /// carry this many after its point (`1767623400.05` seconds).
    #[inline]
    pub fn ns_decimals(self) -> u8 {
        match self {
            TsUnit::S => 9,
            TsUnit::Ms => 6,
            TsUnit::Us => 3,
            TsUnit::Ns | TsUnit::Iso => 0,
        }
    }

    /// Parses `s|ms|us|ns|iso`.
    pub fn parse(s: &str) -> Option<TsUnit> {
        Some(match s {
            "s" => TsUnit::S,
            "ms" => TsUnit::Ms,
            "us" => TsUnit::Us,
            "ns" => TsUnit::Ns,
            "iso" => TsUnit::Iso,
            _ => return None,
        })
    }
}

/// How to read a file.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// Quotes or trades.
    pub shape: CsvShape,
    /// Column of each field: a header name, or a 0-based index (as digits).
    /// Order: timestamp, then bid, bid_size, ask, ask_size (quotes) or price,
    /// size, side (trades; side may be absent: empty string).
    pub columns: Vec<String>,
    /// Whether the first line is a header.
    pub header: bool,
    /// Field separator.
    pub delimiter: u8,
    /// Decimal places of a price unit.
    pub price_decimals: u8,
    /// Decimal places of a quantity unit.
    pub qty_decimals: u8,
    /// Timestamp encoding.
    pub ts_unit: TsUnit,
    /// Instrument index of every event.
    pub instrument: u32,
    /// A file of several instruments: the column that names each row's (a
    /// header name or a 0-based index) and the one to keep; rows of the
    /// others are left out and counted ([`CsvReader::others`]).
    pub keep_symbol: Option<(String, String)>,
}

impl CsvOptions {
    /// Defaults for `shape`: the default column names, a header, commas, four price
    /// decimals, whole quantities, ISO timestamps.
    pub fn new(shape: CsvShape) -> Self {
        let columns = match shape {
            CsvShape::Quotes => ["timestamp", "bid", "bid_size", "ask", "ask_size"].as_slice(),
            CsvShape::Trades => ["timestamp", "price", "size", "side"].as_slice(),
        };
        CsvOptions {
            shape,
            columns: columns.iter().map(|s| s.to_string()).collect(),
            header: true,
            delimiter: b',',
            price_decimals: 4,
            qty_decimals: 0,
            ts_unit: TsUnit::Iso,
            instrument: 0,
            keep_symbol: None,
        }
    }
}

const QUOTE_FIELDS: [&str; 5] = ["timestamp", "bid", "bid_size", "ask", "ask_size"];

/// The size of each quoted side of a file without sizes
/// ([`CsvReader::sizes_absent`]): one quantity unit — the size is unknown, so
/// both sides weigh the same (imbalance and microprice read as balanced), and
/// the touch venue fills market orders in full at the touch whatever its size.
pub const SIZELESS_QTY: i64 = 1;
const TRADE_FIELDS: [&str; 4] = ["timestamp", "price", "size", "side"];

/// Reads rows from an in-memory file; see the module docs.
pub struct CsvReader<'a> {
    buf: &'a [u8],
    pos: usize,
    line: u64,
    opts: CsvOptions,
    /// Column index of each field (`usize::MAX`: absent).
    idx: [usize; 5],
    need: usize,
    names: &'static [&'static str],
    pending: Option<MarketData>,
    /// The last ISO timestamp's first 19 bytes (to the second) and their
    /// value: rows of the same second parse only their fraction.
    iso_second: Option<([u8; 19], u64)>,
    /// Quote rows in the default column order: each is tried first in one
    /// pass ([`CsvReader::quote_fast`]).
    fast: bool,
    /// Values rounded off binary floating-point noise ([`float_noise`]).
    rounded: std::cell::RefCell<Rounded>,
    /// The symbol column and the symbol kept ([`CsvOptions::keep_symbol`]).
    symbol: Option<(usize, Vec<u8>)>,
    /// Rows of other symbols left out.
    others: u64,
}

/// Prices and sizes written from binary floating point ("1.0999599999999998",
/// as Python and pandas print 1.09996 reached by arithmetic) and rounded to
/// their scale: how many, and the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rounded {
    /// Values rounded.
    pub count: u64,
    /// The first: its line, its field and its text.
    pub first: Option<(u64, &'static str, String)>,
}

impl std::fmt::Display for Rounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} values written in binary floating point rounded to their scale",
            self.count
        )?;
        if let Some((line, field, text)) = &self.first {
            write!(f, " (the first: line {line}, {field} {text:?})")?;
        }
        Ok(())
    }
}

/// Whether a field holds no value: empty, or one of the words pandas and
/// spreadsheets write for a missing number (`NaN`, `nan`, `NA`, `<NA>`,
/// `null`, `None`).
fn missing(t: &[u8]) -> bool {
    t.is_empty() || t.eq_ignore_ascii_case(b"nan") || matches!(t, b"NA" | b"<NA>" | b"null" | b"NULL" | b"None")
}

/// What to say of a number where an ISO timestamp was expected: the
/// `--ts-unit` its digits before any point suggest (10: seconds, 13: ms, 16:
/// µs, 19: ns — epoch times since 2001), or the option's values. `None` for
/// anything but digits with at most one point.
fn epoch_hint(t: &[u8]) -> Option<&'static str> {
    let int = t.split(|&c| c == b'.').next()?;
    let points = t.iter().filter(|&&c| c == b'.').count();
    if int.is_empty() || points > 1 || !t.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    macro_rules! hint {
        ($unit:literal) => {
            concat!("a number, not an ISO 8601 timestamp: ", $unit)
        };
    }
    Some(match int.len() {
        10 => hint!("seconds since the epoch? give --ts-unit s"),
        13 => hint!("milliseconds since the epoch? give --ts-unit ms"),
        16 => hint!("microseconds since the epoch? give --ts-unit us"),
        19 => hint!("nanoseconds since the epoch? give --ts-unit ns"),
        _ => hint!("for a time since the epoch give --ts-unit s|ms|us|ns"),
    })
}

/// A timestamp of `unit`s since the epoch — whole units, and a fraction down
/// to the nanosecond — in nanoseconds, exactly (no floating point).
fn epoch_ns(t: &[u8], unit: TsUnit) -> Result<u64, &'static str> {
    let (int, frac) = match t.iter().position(|&c| c == b'.') {
        Some(p) => (&t[..p], &t[p + 1..]),
        None => (t, &b""[..]),
    };
    let whole = fixed(int, 0)?;
    let places = unit.ns_decimals() as usize;
    if frac.iter().any(|c| !c.is_ascii_digit()) {
        return Err("not a decimal number");
    }
    let digits = frac.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    if digits > places {
        return Err("finer than a nanosecond");
    }
    let part = frac[..digits].iter().fold(0u64, |v, &c| v * 10 + (c - b'0') as u64) * POW10[places - digits];
    if whole < 0 || (part > 0 && int.first() == Some(&b'-')) {
        return Err("negative timestamp");
    }
    (whole as u64)
        .checked_mul(unit.nanos())
        .and_then(|v| v.checked_add(part))
        .ok_or("timestamp too large")
}

/// The value at `decimals` places of a decimal written from a binary float:
/// at least 15 significant digits (a float printed to its full precision), more
/// decimals than the scale, and within a millionth of a scale unit of a value
/// on the scale — that value. `None` for anything else: a decimal really off
/// the scale (`1.099965` at five places, or `1.0999650000000001`) stays an
/// error.
pub fn float_noise(t: &[u8], decimals: u8) -> Option<i64> {
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let point = t.iter().position(|&c| c == b'.')?;
    let (int, frac) = (&t[..point], &t[point + 1..]);
    let d = decimals as usize;
    if frac.len() <= d || int.len() + frac.len() > 38 {
        return None;
    }
    let mut v: u128 = 0;
    let mut significant = 0;
    for &c in int.iter().chain(frac) {
        let x = c.wrapping_sub(b'0');
        if x > 9 {
            return None;
        }
        v = v * 10 + x as u128;
        significant += usize::from(v != 0);
    }
    if significant < 15 {
        return None;
    }
    let unit = 10u128.pow((frac.len() - d) as u32);
    let (q, r) = (v / unit, v % unit);
    if r.min(unit - r) > unit / 1_000_000 {
        return None;
    }
    let q = i64::try_from(q + u128::from(2 * r >= unit)).ok()?;
    Some(if neg { -q } else { q })
}

/// One quote row that can be (no finding): its time and both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteRow {
    /// Time, ns since the epoch.
    pub ts: u64,
    /// Bid price, price units.
    pub bid: i64,
    /// Bid size, quantity units.
    pub bid_size: i64,
    /// Ask price, price units.
    pub ask: i64,
    /// Ask size, quantity units.
    pub ask_size: i64,
    /// Instrument index.
    pub instrument: u32,
}

impl QuoteRow {
    /// (price, size) of the bid side, then of the ask side.
    #[inline]
    pub fn sides(&self) -> [(i64, i64); 2] {
        [(self.bid, self.bid_size), (self.ask, self.ask_size)]
    }

    /// Its two events: the bid side, then the ask side, which ends the
    /// update (the engine decides after it).
    #[inline]
    pub fn events(&self) -> [MarketData; 2] {
        let (i, ts) = (self.instrument, self.ts);
        [
            MarketData::new(MdAction::Quote, i, Some(Side::Buy), ts, 0, self.bid, self.bid_size, 0),
            MarketData::new(
                MdAction::Quote,
                i,
                Some(Side::Sell),
                ts,
                0,
                self.ask,
                self.ask_size,
                LAST,
            ),
        ]
    }
}

/// What one row gives (see [`CsvReader::next_row`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvRow {
    /// A quote row (its two events: [`QuoteRow::events`]).
    Quote(QuoteRow),
    /// A trade's event, or a finding.
    Item(CsvItem),
}

/// The eight bytes at `l[i..]` as one word with `b'0'` taken from each (a
/// digit's byte becomes its value), and the word's non-digit flags: bit 7 of
/// each byte that is not a digit, exact up to the first such byte. `None` when
/// fewer than eight bytes are left.
///
/// A byte `c` is a digit exactly when `t = c ^ b'0'` is at most 9; `t + 0x76`
/// then stays below 0x80, and any other byte sets bit 7 of `t + 0x76` or of
/// `t`. A carry out of a byte only reaches later bytes, so the first byte
/// flagged is the first that is not a digit.
#[inline(always)]
fn digit_word(l: &[u8], i: usize) -> Option<(u64, u64)> {
    let w: [u8; 8] = l.get(i..i + 8)?.try_into().ok()?;
    let t = u64::from_le_bytes(w) ^ 0x3030_3030_3030_3030;
    let flags = (t.wrapping_add(0x7676_7676_7676_7676) | t) & 0x8080_8080_8080_8080;
    Some((t, flags))
}

/// Up to eight ASCII digits at `l[i..i + 8]`, read as one word
/// ([`digit_word`], [`swar_value`]): their value and how many there are
/// (`None` when fewer than eight bytes are left).
#[inline(always)]
fn digits8(l: &[u8], i: usize) -> Option<(u64, usize)> {
    let (t, flags) = digit_word(l, i)?;
    let n = (flags.trailing_zeros() / 8) as usize;
    if n == 0 {
        return Some((0, 0));
    }
    Some((swar_value(t, n), n))
}

/// The value of the `n` (1 to 8) digits in the low bytes of `t` (each byte a
/// digit's value, the first digit lowest): moved to the top of the word behind
/// zero bytes (leading zeros), combined pairwise: 2, 4, then 8 digits at a time.
#[inline(always)]
fn swar_value(t: u64, n: usize) -> u64 {
    let v = t << (64 - 8 * n);
    let v = (v & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(2561) >> 8;
    let v = (v & 0x00ff_00ff_00ff_00ff).wrapping_mul(6_553_601) >> 16;
    (v & 0x0000_ffff_0000_ffff).wrapping_mul(42_949_672_960_001) >> 32
}

/// A number within the eight bytes at `l[i..]` — digits then a byte that is
/// neither a digit nor a point ("200000,"), or digits, a point, digits, then
/// such a byte ("1.09999,", "12.5\n") — read from that one word: the point's
/// byte, if any, squeezed out and the digits on both sides read as one run.
/// Its digits, their count after the point, and where it stops; `None` for any
/// other shape (the caller reads it its general way, which this reads exactly
/// as).
#[inline(always)]
fn number8(l: &[u8], i: usize) -> Option<(u64, usize, usize)> {
    // The flags are exact up to the first byte past the point that is not a
    // digit too, as neither a digit nor the point carries into the next byte.
    let (t, flags) = digit_word(l, i)?;
    let p = (flags.trailing_zeros() / 8) as usize;
    if p >= 8 {
        return None;
    }
    if l[i + p] != b'.' {
        // Digits only, ended within the word.
        return (p > 0).then(|| (swar_value(t, p), 0, i + p));
    }
    let after = flags & (flags - 1);
    if after == 0 {
        return None;
    }
    let q = (after.trailing_zeros() / 8) as usize;
    let below = (1u64 << (8 * p)) - 1;
    let run = (t & below) | ((t >> 8) & !below);
    let n = q - 1;
    let v = if n == 0 { 0 } else { swar_value(run, n) };
    Some((v, q - p - 1, i + q))
}

/// Digits from `l[i]` on: their value (wrapping past 19 digits: callers
/// refuse fields that long) and where they stop.
#[inline(always)]
fn digits(l: &[u8], mut i: usize) -> (u64, usize) {
    let mut v = 0u64;
    while let Some((d, n)) = digits8(l, i) {
        v = v.wrapping_mul(POW10[n]).wrapping_add(d);
        i += n;
        if n < 8 {
            return (v, i);
        }
    }
    while let Some(&c) = l.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(d as u64);
        i += 1;
    }
    (v, i)
}

/// An unsigned decimal from `l[i]` on (digits, then optionally a point and
/// digits; at most 18 bytes, so nothing overflows) at `decimals` places: its
/// value and where it stops.
#[inline(always)]
fn decimal(l: &[u8], i: usize, decimals: u8) -> Option<(i64, usize)> {
    if let Some((v, frac, end)) = number8(l, i) {
        return Some((scaled(v, frac, decimals)?, end));
    }
    let (v, j) = digits(l, i);
    let (v, end, frac) = if l.get(j) == Some(&b'.') {
        let (f, k) = digits(l, j + 1);
        let frac = k - j - 1;
        (v.wrapping_mul(POW10[frac.min(18)]).wrapping_add(f), k, frac)
    } else {
        (v, j, 0)
    };
    if end == i || end - i > 18 {
        return None;
    }
    Some((scaled(v, frac, decimals)?, end))
}

/// Splits `line` by `d` into `out` (up to its length); returns the field count.
/// Eight bytes at a time: a byte equal to `d` is a zero byte of `word ^ d…d`,
/// found exactly (no false positives) with the carry-free zero-byte test.
#[inline]
fn split<'a>(line: &'a [u8], d: u8, out: &mut [&'a [u8]; 32]) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut n = 0;
    let mut start = 0;
    let mut cut = |i: usize, n: &mut usize| {
        if *n < out.len() {
            out[*n] = &line[start..i];
        }
        *n += 1;
        start = i + 1;
    };
    let ds = u64::from_ne_bytes([d; 8]);
    let mut words = line.chunks_exact(8);
    let mut base = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().expect("eight bytes")) ^ ds;
        let mut hits = !(((x & LOW7) + LOW7) | x | LOW7);
        while hits != 0 {
            cut(base + (hits.trailing_zeros() / 8) as usize, &mut n);
            hits &= hits - 1;
        }
        base += 8;
    }
    for (j, &c) in words.remainder().iter().enumerate() {
        if c == d {
            cut(base + j, &mut n);
        }
    }
    if n < out.len() {
        out[n] = &line[start..];
    }
    n + 1
}

#[inline]
fn trim(b: &[u8]) -> &[u8] {
    // Most fields need nothing done: say so in two compares.
    let plain = |c: u8| !c.is_ascii_whitespace() && c != b'"';
    if let (Some(&f), Some(&l)) = (b.first(), b.last()) {
        if plain(f) && plain(l) {
            return b;
        }
    }
    let b = b.strip_suffix(b"\r").unwrap_or(b);
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |i| i + 1);
    let b = &b[s..e.max(s)];
    b.strip_prefix(b"\"").and_then(|x| x.strip_suffix(b"\"")).unwrap_or(b)
}

pub use foxtrot_engine::format::decimal::fixed;
use foxtrot_engine::format::decimal::{scaled, MORE_DECIMALS, POW10};

use foxtrot_engine::format::calendar::parse_iso8601;

/// The 0-based index of column `want` (a header name, any case, or an index)
/// among the (lower-cased) `header`'s, at most 31.
fn column_index(header: &[String], has_header: bool, want: &str) -> Result<usize, Error> {
    let want = want.trim().to_lowercase();
    let no = || Error::NoColumn {
        name: want.clone(),
        header: header.join(","),
    };
    let i = match want.parse::<usize>() {
        Ok(i) if !has_header || header.get(i).is_some() => i,
        _ => header.iter().position(|h| *h == want).ok_or_else(no)?,
    };
    if i >= 32 {
        return Err(no());
    }
    Ok(i)
}

/// The rows of each value of column `col` (a header name or an index) in a
/// CSV file with a header line, in the order of the values: the symbols of a
/// file of several instruments (at most `limit` of them, then `None`). `None`
/// too when there is no such column.
pub fn symbols_in(buf: &[u8], delimiter: u8, col: &str, limit: usize) -> Option<Vec<(String, u64)>> {
    let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    let mut lines = buf.split(|&b| b == b'\n');
    let mut f = [&b""[..]; 32];
    let n = split(lines.next()?, delimiter, &mut f).min(32);
    let header: Vec<String> = f[..n]
        .iter()
        .map(|x| String::from_utf8_lossy(trim(x)).to_lowercase())
        .collect();
    let i = column_index(&header, true, col).ok()?;
    let mut seen: std::collections::BTreeMap<&[u8], u64> = Default::default();
    for l in lines {
        if trim(l).is_empty() {
            continue;
        }
        let n = split(l, delimiter, &mut f);
        if n > i {
            *seen.entry(trim(f[i])).or_default() += 1;
            if seen.len() > limit {
                return None;
            }
        }
    }
    Some(
        seen.into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v))
            .collect(),
    )
}

impl<'a> CsvReader<'a> {
    /// A reader over `buf`; reads the header (when there is one) to find columns.
    /// A UTF-8 byte-order mark at its start (spreadsheets write one) is skipped.
    pub fn new(buf: &'a [u8], opts: CsvOptions) -> Result<Self, Error> {
        let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
        let names: &'static [&'static str] = match opts.shape {
            CsvShape::Quotes => &QUOTE_FIELDS,
            CsvShape::Trades => &TRADE_FIELDS,
        };
        let mut r = CsvReader {
            buf,
            pos: 0,
            line: 0,
            idx: [usize::MAX; 5],
            need: 0,
            names,
            pending: None,
            opts,
            iso_second: None,
            fast: false,
            rounded: Default::default(),
            symbol: None,
            others: 0,
        };
        let header: Vec<String> = if r.opts.header {
            let l = r.next_line().unwrap_or_default();
            let mut f = [&b""[..]; 32];
            let n = split(l, r.opts.delimiter, &mut f).min(32);
            f[..n]
                .iter()
                .map(|x| String::from_utf8_lossy(trim(x)).to_lowercase())
                .collect()
        } else {
            Vec::new()
        };
        if r.opts.shape == CsvShape::Quotes {
            let has = |n: &str| header.iter().any(|h| h == n);
            let given = r
                .opts
                .columns
                .iter()
                .map(|c| c.trim().to_lowercase())
                .collect::<Vec<_>>();
            // Quotes without sizes (FX tick files often have none): three
            // columns given (timestamp, bid, ask), or the default columns
            // over a header that has timestamp, bid and ask but no size.
            let sizeless = given.len() == 3
                || (r.opts.header
                    && given == QUOTE_FIELDS
                    && ["timestamp", "bid", "ask"].iter().all(|n| has(n))
                    && !has("bid_size")
                    && !has("ask_size"));
            if sizeless {
                r.opts.columns = vec![
                    given[0].clone(),
                    given[1].clone(),
                    String::new(),
                    given
                        .get(2)
                        .filter(|_| given.len() == 3)
                        .cloned()
                        .unwrap_or_else(|| "ask".into()),
                    String::new(),
                ];
            }
        }
        for (k, _) in names.iter().enumerate() {
            let want = r
                .opts
                .columns
                .get(k)
                .map(|s| s.trim().to_lowercase())
                .unwrap_or_default();
            if want.is_empty() {
                // Only the trade side may be absent, and a quote's two sizes together.
                let sizes = r.opts.shape == CsvShape::Quotes
                    && (k == 2 || k == 4)
                    && r.opts.columns.get(2).is_none_or(|c| c.trim().is_empty())
                    && r.opts.columns.get(4).is_none_or(|c| c.trim().is_empty());
                if (r.opts.shape == CsvShape::Trades && k == 3) || sizes {
                    continue;
                }
                return Err(Error::NoColumn {
                    name: names[k].into(),
                    header: header.join(","),
                });
            }
            let i = column_index(&header, r.opts.header, &want)?;
            r.idx[k] = i;
            r.need = r.need.max(i + 1);
        }
        if let Some((col, keep)) = r.opts.keep_symbol.clone() {
            let i = column_index(&header, r.opts.header, &col)?;
            r.symbol = Some((i, keep.into_bytes()));
            r.need = r.need.max(i + 1);
        }
        let d = r.opts.delimiter;
        r.fast = r.opts.shape == CsvShape::Quotes
            && r.symbol.is_none()
            && r.idx == [0, 1, 2, 3, 4]
            && !(d.is_ascii_alphanumeric() || b".-+:\r\n\" ".contains(&d));
        Ok(r)
    }

    /// Rows of other symbols left out so far ([`CsvOptions::keep_symbol`]).
    pub fn others(&self) -> u64 {
        self.others
    }

    /// Whether the quotes have no size columns: each side with a price is
    /// then quoted at [`SIZELESS_QTY`].
    pub fn sizes_absent(&self) -> bool {
        self.opts.shape == CsvShape::Quotes && self.idx[2] == usize::MAX
    }

    /// 1-based number of the line last read.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The prices and sizes rounded off binary floating-point noise so far.
    pub fn rounded(&self) -> Rounded {
        self.rounded.borrow().clone()
    }

    /// Field `k`'s text at `decimals` places ([`fixed`]), or rounded off
    /// binary floating-point noise ([`float_noise`], counted); else the
    /// error, naming the option that sets the scale.
    #[cold]
    fn value(&self, k: usize, t: &[u8], decimals: u8) -> Result<i64, Error> {
        fixed(t, decimals).or_else(|w| {
            if let Some(v) = float_noise(t, decimals) {
                let mut r = self.rounded.borrow_mut();
                r.count += 1;
                r.first
                    .get_or_insert_with(|| (self.line, self.names[k], String::from_utf8_lossy(t).into_owned()));
                return Ok(v);
            }
            let w = match (w, self.opts.shape, k) {
                (MORE_DECIMALS, CsvShape::Quotes, 1 | 3) | (MORE_DECIMALS, CsvShape::Trades, 1) => {
                    "more decimals than the price scale holds (--price-decimals)"
                }
                (MORE_DECIMALS, ..) => "more decimals than the size scale holds (--qty-decimals)",
                (w, ..) => w,
            };
            Err(self.err(k, w, t))
        })
    }

    /// The rest of the file as up to `parts` readers over consecutive runs of
    /// whole lines (each reads as this one would, line numbers included), for
    /// passes run on several threads.
    pub fn split_lines(&self, parts: usize) -> Vec<CsvReader<'a>> {
        let (start, end) = (self.pos.min(self.buf.len()), self.buf.len());
        let parts = parts.max(1);
        let mut out = Vec::with_capacity(parts);
        let (mut from, mut line) = (start, self.line);
        for k in 1..=parts {
            let to = if k == parts {
                end
            } else {
                let guess = start + (end - start) * k / parts;
                match memchr::memchr(b'\n', &self.buf[guess.max(from)..end]) {
                    Some(i) => guess.max(from) + i + 1,
                    None => end,
                }
            };
            out.push(CsvReader {
                buf: &self.buf[..to],
                pos: from,
                line,
                opts: self.opts.clone(),
                idx: self.idx,
                need: self.need,
                names: self.names,
                pending: None,
                iso_second: None,
                fast: self.fast,
                rounded: Default::default(),
                symbol: self.symbol.clone(),
                others: 0,
            });
            line += memchr::memchr_iter(b'\n', &self.buf[from..to]).count() as u64;
            from = to;
        }
        out
    }

    /// An ISO timestamp; a row in the same second as the last one parses
    /// only its fraction (the same rules as `parse_iso8601`).
    #[inline]
    fn iso(&mut self, t: &[u8]) -> Result<u64, &'static str> {
        if let Some((sec, base)) = &self.iso_second {
            let b = t.strip_suffix(b"Z").unwrap_or(t);
            if b.len() > 20 && b.len() <= 29 && b[19] == b'.' && b[..19] == sec[..] {
                let f = &b[20..];
                let mut v = 0u64;
                for &c in f {
                    if !c.is_ascii_digit() {
                        return parse_iso8601(t);
                    }
                    v = v * 10 + u64::from(c - b'0');
                }
                return Ok(base + v * 10u64.pow(9 - f.len() as u32));
            }
        }
        let ns = parse_iso8601(t)?;
        if t.len() >= 19 {
            if let Ok(base) = parse_iso8601(&t[..19]) {
                let mut sec = [0u8; 19];
                sec.copy_from_slice(&t[..19]);
                self.iso_second = Some((sec, base));
            }
        }
        Ok(ns)
    }

    /// A quote row in the default column order read in one pass from where
    /// the reader is: its values and the bytes it takes, its line end
    /// included. `None` for anything this pass does not read exactly as the
    /// general path does (a new second, spaces, quotes, signs, another column
    /// after the last, a blank line…): the general path then reads that row.
    #[inline(always)]
    fn quote_fast(&self) -> Option<(QuoteRow, usize)> {
        let l = self.buf.get(self.pos..)?;
        let d = self.opts.delimiter;
        let (ts, i) = match self.opts.ts_unit {
            TsUnit::Iso => {
                let (sec, base) = self.iso_second.as_ref()?;
                if l.len() < 21 || l[..19] != sec[..] || l[19] != b'.' {
                    return None;
                }
                let (f, j) = digits(l, 20);
                let n = j - 20;
                if n == 0 || n > 9 {
                    return None;
                }
                let j = if l.get(j) == Some(&b'Z') { j + 1 } else { j };
                (base + f * POW10[9 - n], j)
            }
            u => {
                let (v, j) = digits(l, 0);
                if j == 0 || j > 18 {
                    return None;
                }
                (v.checked_mul(u.nanos())?, j)
            }
        };
        let after = |i: usize| (l.get(i) == Some(&d)).then_some(i + 1);
        let (pd, qd) = (self.opts.price_decimals, self.opts.qty_decimals);
        let (bid, i) = decimal(l, after(i)?, pd)?;
        let (bid_size, i) = decimal(l, after(i)?, qd)?;
        let (ask, i) = decimal(l, after(i)?, pd)?;
        let (ask_size, i) = decimal(l, after(i)?, qd)?;
        let len = match l.get(i) {
            None => i,
            Some(b'\n') => i + 1,
            Some(b'\r') if l.get(i + 1) == Some(&b'\n') => i + 2,
            _ => return None,
        };
        let q = QuoteRow {
            ts,
            bid,
            bid_size,
            ask,
            ask_size,
            instrument: self.opts.instrument,
        };
        Some((q, len))
    }

    /// A quote row as data, or the finding that it cannot be.
    #[inline]
    fn quote_row(q: QuoteRow) -> CsvRow {
        let (inst, ts) = (q.instrument, q.ts);
        // A side with a size needs a price; no size is negative.
        for (px, sz) in q.sides() {
            if sz < 0 || (sz > 0 && px <= 0) {
                return CsvRow::Item(CsvItem::Finding(DqEvent::new(DqCode::Invalid, inst, ts, px, sz)));
            }
        }
        if q.bid_size > 0 && q.ask_size > 0 && q.bid > q.ask {
            return CsvRow::Item(CsvItem::Finding(DqEvent::new(DqCode::Crossed, inst, ts, q.bid, q.ask)));
        }
        CsvRow::Quote(q)
    }

    #[inline]
    fn next_line(&mut self) -> Option<&'a [u8]> {
        loop {
            let rest = self.buf.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            self.pos += end + 1;
            self.line += 1;
            let l = &rest[..end];
            if !trim(l).is_empty() {
                return Some(l);
            }
        }
    }

    fn err(&self, k: usize, what: &'static str, text: &[u8]) -> Error {
        Error::Field {
            line: self.line,
            column: self.idx[k] + 1,
            field: self.names[k],
            what,
            text: String::from_utf8_lossy(text).into_owned(),
        }
    }

    /// The next event, `Ok(None)` at the end; rows that are findings
    /// ([`CsvItem::Finding`]) are skipped. After an error the reader moves on to
    /// the next line, so a caller may count bad rows and continue.
    #[inline]
    pub fn next_event(&mut self) -> Result<Option<MarketData>, Error> {
        loop {
            match self.next_item()? {
                Some(CsvItem::Event(m)) => return Ok(Some(m)),
                Some(CsvItem::Finding(_)) => continue,
                None => return Ok(None),
            }
        }
    }

    /// The next event or finding, `Ok(None)` at the end; after an error the
    /// reader moves on to the next line.
    #[inline]
    pub fn next_item(&mut self) -> Result<Option<CsvItem>, Error> {
        if let Some(m) = self.pending.take() {
            return Ok(Some(CsvItem::Event(m)));
        }
        Ok(match self.row()? {
            Some(CsvRow::Quote(q)) => {
                let [bid, ask] = q.events();
                self.pending = Some(ask);
                Some(CsvItem::Event(bid))
            }
            Some(CsvRow::Item(i)) => Some(i),
            None => None,
        })
    }

    /// The next row — a quote row whole, or a trade's event or a finding —
    /// `Ok(None)` at the end; after an error the reader moves on to the next
    /// line. (An event [`next_item`](Self::next_item) holds back comes first.)
    #[inline]
    pub fn next_row(&mut self) -> Result<Option<CsvRow>, Error> {
        if let Some(m) = self.pending.take() {
            return Ok(Some(CsvRow::Item(CsvItem::Event(m))));
        }
        self.row()
    }

    #[inline]
    fn row(&mut self) -> Result<Option<CsvRow>, Error> {
        if self.fast {
            if let Some((q, len)) = self.quote_fast() {
                self.pos += len;
                self.line += 1;
                return Ok(Some(Self::quote_row(q)));
            }
        }
        let mut f = [&b""[..]; 32];
        let n = loop {
            let Some(l) = self.next_line() else {
                return Ok(None);
            };
            let n = split(l, self.opts.delimiter, &mut f);
            match &self.symbol {
                Some((i, keep)) if *i < n && trim(f[*i]) != &keep[..] => self.others += 1,
                _ => break n,
            }
        };
        if n < self.need {
            let k = (0..self.names.len())
                .find(|&k| self.idx[k] != usize::MAX && self.idx[k] >= n)
                .unwrap_or(0);
            return Err(Error::ShortLine {
                line: self.line,
                found: n,
                column: self.idx[k] + 1,
                field: self.names[k],
            });
        }
        let t = trim(f[self.idx[0]]);
        let ts = match self.opts.ts_unit {
            TsUnit::Iso => match self.iso(t) {
                Ok(v) => v,
                Err(w) => return Err(self.err(0, epoch_hint(t).unwrap_or(w), t)),
            },
            u => epoch_ns(t, u).map_err(|w| self.err(0, w, t))?,
        };
        let get = |k: usize| trim(f[self.idx[k]]);
        let (pd, qd, inst) = (self.opts.price_decimals, self.opts.qty_decimals, self.opts.instrument);
        let px = |k: usize| self.value(k, get(k), pd);
        let qty = |k: usize| self.value(k, get(k), qd);
        match self.opts.shape {
            CsvShape::Quotes => {
                let (b, bs, a, as_) = if self.idx[2] == usize::MAX {
                    // No sizes: a side with a price is quoted at one unit, a
                    // side with none has no quote.
                    let side = |k: usize| -> Result<(i64, i64), Error> {
                        Ok(if missing(get(k)) {
                            (0, 0)
                        } else {
                            (px(k)?, SIZELESS_QTY)
                        })
                    };
                    let ((b, bs), (a, as_)) = (side(1)?, side(3)?);
                    (b, bs, a, as_)
                } else {
                    // All four read (the usual case) without building an
                    // error; else the first that did not, with its error.
                    match (
                        fixed(get(1), pd),
                        fixed(get(2), qd),
                        fixed(get(3), pd),
                        fixed(get(4), qd),
                    ) {
                        (Ok(b), Ok(bs), Ok(a), Ok(as_)) => (b, bs, a, as_),
                        _ => {
                            // A side with no price and no size (or size 0) has no
                            // quote: pandas writes a NaN as nothing, or `NaN`.
                            let side = |kp: usize, kq: usize| -> Result<(i64, i64), Error> {
                                let none = missing(get(kp)) && (missing(get(kq)) || fixed(get(kq), qd) == Ok(0));
                                Ok(if none { (0, 0) } else { (px(kp)?, qty(kq)?) })
                            };
                            let ((b, bs), (a, as_)) = (side(1, 2)?, side(3, 4)?);
                            (b, bs, a, as_)
                        }
                    }
                };
                Ok(Some(Self::quote_row(QuoteRow {
                    ts,
                    bid: b,
                    bid_size: bs,
                    ask: a,
                    ask_size: as_,
                    instrument: inst,
                })))
            }
            CsvShape::Trades => {
                let (p, q) = (px(1)?, qty(2)?);
                if p <= 0 || q <= 0 {
                    return Ok(Some(CsvRow::Item(CsvItem::Finding(DqEvent::new(
                        DqCode::Invalid,
                        inst,
                        ts,
                        p,
                        q,
                    )))));
                }
                let side = if self.idx[3] == usize::MAX {
                    None
                } else {
                    match get(3) {
                        b"B" | b"b" | b"buy" | b"BUY" | b"Buy" => Some(Side::Buy),
                        b"S" | b"s" | b"sell" | b"SELL" | b"Sell" => Some(Side::Sell),
                        _ => None,
                    }
                };
                Ok(Some(CsvRow::Item(CsvItem::Event(MarketData::new(
                    MdAction::Trade,
                    inst,
                    side,
                    ts,
                    0,
                    p,
                    q,
                    LAST,
                )))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time digit reader reads what a byte loop reads: the
        /// same value and the same stop, at any offset, whatever follows.
        #[test]
        fn digits_read_as_a_byte_loop(
            text in prop::collection::vec(prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>()], 0..40),
            at in 0usize..40,
        ) {
            let at = at.min(text.len());
            let (mut v, mut i) = (0u64, at);
            while let Some(&c) = text.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                v = v.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                i += 1;
            }
            prop_assert_eq!(digits(&text, at), (v, i));
        }

        /// A decimal reads as its definition read a byte at a time — digits,
        /// a point, digits, at most 18 bytes — whether it is read from one
        /// word (`number8`: within eight bytes) or in runs of digits.
        #[test]
        fn decimals_read_as_a_byte_loop(
            text in prop::collection::vec(prop_oneof![6 => b'0'..=b'9', 2 => Just(b'.'), 1 => Just(b','), 1 => any::<u8>()], 0..30),
            at in 0usize..30,
            decimals in 0u8..9,
        ) {
            let at = at.min(text.len());
            let run = |mut j: usize| {
                let mut v = 0u64;
                while let Some(&c) = text.get(j) {
                    if !c.is_ascii_digit() {
                        break;
                    }
                    v = v.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                    j += 1;
                }
                (v, j)
            };
            let (v, j) = run(at);
            let (v, end, frac) = if text.get(j) == Some(&b'.') {
                let (f, k) = run(j + 1);
                let frac = k - j - 1;
                (v.wrapping_mul(10u64.pow(frac.min(18) as u32)).wrapping_add(f), k, frac)
            } else {
                (v, j, 0)
            };
            let want = if end == at || end - at > 18 {
                None
            } else {
                scaled(v, frac, decimals).map(|v| (v, end))
            };
            prop_assert_eq!(decimal(&text, at, decimals), want);
        }
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(fixed(b"101.25", 4), Ok(1_012_500));
        assert_eq!(fixed(b"101", 4), Ok(1_010_000));
        assert_eq!(fixed(b"0.0001", 4), Ok(1));
        assert_eq!(fixed(b"1.23450", 4), Ok(12_345));
        assert_eq!(fixed(b"-3.5", 1), Ok(-35));
        assert!(fixed(b"1.23456", 4).is_err());
        assert!(fixed(b"1e5", 4).is_err());
        assert!(fixed(b"", 4).is_err());
        assert!(fixed(b"99999999999999999999", 0).is_err());
    }

    /// A file that starts with a UTF-8 byte-order mark (as spreadsheets save
    /// CSV) reads as the same file without it, with a header or without.
    #[test]
    fn a_byte_order_mark_is_skipped() {
        let events = |text: &[u8], header: bool| {
            let mut o = CsvOptions::new(CsvShape::Quotes);
            o.header = header;
            if !header {
                o.columns = ["0", "1", "2", "3", "4"].map(String::from).to_vec();
            }
            o.ts_unit = TsUnit::Us;
            o.price_decimals = 2;
            let mut r = CsvReader::new(text, o).unwrap();
            std::iter::from_fn(|| r.next_event().unwrap()).collect::<Vec<_>>()
        };
        let rows = b"1000,10.01,5,10.02,7\n2000,10.02,1,10.03,2\n";
        let with_header = [&b"timestamp,bid,bid_size,ask,ask_size\n"[..], rows].concat();
        for (text, header) in [(with_header, true), (rows.to_vec(), false)] {
            let plain = events(&text, header);
            assert_eq!(plain.len(), 4);
            assert_eq!(events(&[&b"\xef\xbb\xbf"[..], &text].concat(), header), plain);
        }
    }

    #[test]
    fn a_side_with_no_price_and_no_size_has_no_quote() {
        let csv = b"timestamp,bid,bid_size,ask,ask_size\n\
            1000,10.01,5,10.02,7\n\
            2000,,,10.03,2\n\
            3000,10.01,5,NaN,0\n\
            4000,nan,NaN,<NA>,\n\
            5000,,5,10.02,7\n";
        let mut o = CsvOptions::new(CsvShape::Quotes);
        o.ts_unit = TsUnit::Us;
        o.price_decimals = 2;
        let mut r = CsvReader::new(csv, o).unwrap();
        let sides: Vec<(i64, i64)> = (0..8)
            .map(|_| r.next_event().unwrap().unwrap())
            .map(|m| (m.px, m.qty))
            .collect();
        assert_eq!(
            sides,
            [
                (1001, 5),
                (1002, 7),
                (0, 0),
                (1003, 2),
                (1001, 5),
                (0, 0),
                (0, 0),
                (0, 0)
            ]
        );
        // A size with no price is not a missing side: an error.
        let e = r.next_event().unwrap_err().to_string();
        assert_eq!(e, "line 6, column 2 (bid): empty number: \"\"");
    }

    #[test]
    fn epoch_timestamps_take_a_fraction_down_to_the_nanosecond() {
        let read = |text: &str, unit: TsUnit| {
            let mut o = CsvOptions::new(CsvShape::Quotes);
            o.ts_unit = unit;
            o.price_decimals = 2;
            let csv = format!("timestamp,bid,bid_size,ask,ask_size\n{text},10.01,5,10.02,7\n");
            let mut r = CsvReader::new(csv.as_bytes(), o).unwrap();
            r.next_event()
                .map(|m| m.unwrap().header.ts_ns)
                .map_err(|e| e.to_string())
        };
        // What Python's time.time() and pandas' Timestamp.timestamp() print.
        assert_eq!(read("1767623400.05", TsUnit::S), Ok(1_767_623_400_050_000_000));
        assert_eq!(read("1767623400.123456789", TsUnit::S), Ok(1_767_623_400_123_456_789));
        assert_eq!(read("1767623400", TsUnit::S), Ok(1_767_623_400_000_000_000));
        assert_eq!(read("1767623400123.5", TsUnit::Ms), Ok(1_767_623_400_123_500_000));
        assert_eq!(read("1767623400123456.789", TsUnit::Us), Ok(1_767_623_400_123_456_789));
        let finer = read("1767623400.0000000001", TsUnit::S).unwrap_err();
        assert!(finer.contains("(timestamp): finer than a nanosecond"), "{finer}");
        assert!(read("1.5", TsUnit::Ns).unwrap_err().contains("finer than a nanosecond"));
        assert!(read("99999999999.5", TsUnit::S)
            .unwrap_err()
            .contains("timestamp too large"));
    }

    #[test]
    fn float_noise_is_rounded_and_counted_a_value_off_the_scale_is_not() {
        // 1.09996 and friends as Python prints them after arithmetic.
        assert_eq!(float_noise(b"1.0999599999999998", 5), Some(109_996));
        assert_eq!(float_noise(b"1.1000100000000001", 5), Some(110_001));
        assert_eq!(float_noise(b"0.30000000000000004", 2), Some(30));
        assert_eq!(float_noise(b"-2.0999999999999996", 1), Some(-21));
        assert_eq!(float_noise(b"1000000.0000000001", 0), Some(1_000_000));
        // Off the scale by more than noise, too few digits to be a float's,
        // on the scale already, or not a number: not this function's.
        assert_eq!(float_noise(b"1.0999650000000001", 5), None);
        assert_eq!(float_noise(b"1.099965", 5), None);
        assert_eq!(float_noise(b"1.09996000001", 5), None);
        assert_eq!(float_noise(b"1.09996", 5), None);
        assert_eq!(float_noise(b"1.0999599999999998x", 5), None);
        assert_eq!(float_noise(b"99999999999999999999.00000000000000000001", 2), None);

        let csv = b"timestamp,bid,bid_size,ask,ask_size\n\
            1000,1.09999,1000000.0,1.10001,2000000.0\n\
            2000,1.0999599999999998,1000000.0,1.0999799999999997,2000000.0\n\
            3000,1.099965,1,1.1,1\n";
        let mut o = CsvOptions::new(CsvShape::Quotes);
        o.ts_unit = TsUnit::Us;
        o.price_decimals = 5;
        let mut r = CsvReader::new(csv, o).unwrap();
        let px: Vec<i64> = (0..4).map(|_| r.next_event().unwrap().unwrap().px).collect();
        assert_eq!(px, [109_999, 110_001, 109_996, 109_998]);
        let rounded = r.rounded();
        assert_eq!(rounded.count, 2);
        assert_eq!(rounded.first, Some((3, "bid", "1.0999599999999998".into())));
        let e = r.next_event().unwrap_err().to_string();
        assert_eq!(
            e,
            "line 4, column 2 (bid): more decimals than the price scale holds (--price-decimals): \"1.099965\""
        );
    }

    /// A number where an ISO timestamp was expected is named as one, with
    /// the `--ts-unit` its length suggests; anything else keeps the ISO error.
    #[test]
    fn an_epoch_number_read_as_iso_names_the_unit_to_give() {
        let first_error = |ts: &str| {
            let text = format!("timestamp,bid,bid_size,ask,ask_size\n{ts},1.01,1,1.02,1\n");
            let mut r = CsvReader::new(text.as_bytes(), CsvOptions::new(CsvShape::Quotes)).unwrap();
            r.next_event().unwrap_err().to_string()
        };
        for (ts, unit) in [
            ("1767623400005718673", "--ts-unit ns"),
            ("1767623400005718", "--ts-unit us"),
            ("1767623400005", "--ts-unit ms"),
            ("1767623400", "--ts-unit s"),
            ("1767623400.05", "--ts-unit s"),
            ("17676234", "--ts-unit s|ms|us|ns"),
        ] {
            let e = first_error(ts);
            assert!(
                e.contains("a number, not an ISO 8601 timestamp") && e.contains(unit),
                "{ts}: {e}"
            );
        }
        for ts in ["yesterday", "1.2.3", "12a"] {
            let e = first_error(ts);
            assert!(e.contains("not an ISO 8601 timestamp (YYYY"), "{ts}: {e}");
        }
    }

    /// Quotes without sizes — a header of timestamp, bid and ask and no size,
    /// or three columns named — are quoted at [`SIZELESS_QTY`] a side; a side
    /// with no price has no quote. One size without the other is refused, not
    /// taken as size-less.
    #[test]
    fn quotes_without_sizes_weigh_one_unit_a_side() {
        let rows = |csv: &[u8], columns: Option<[&str; 3]>| {
            let mut o = CsvOptions::new(CsvShape::Quotes);
            o.ts_unit = TsUnit::Us;
            o.price_decimals = 2;
            if let Some(c) = columns {
                o.columns = c.map(String::from).to_vec();
            }
            let mut r = CsvReader::new(csv, o).unwrap();
            assert!(r.sizes_absent());
            let mut got = Vec::new();
            while let Some(m) = r.next_event().unwrap() {
                got.push((m.side(), m.px, m.qty));
            }
            got
        };
        let want = vec![
            (Some(Side::Buy), 1001, SIZELESS_QTY),
            (Some(Side::Sell), 1002, SIZELESS_QTY),
            (Some(Side::Buy), 0, 0),
            (Some(Side::Sell), 1003, SIZELESS_QTY),
        ];
        assert_eq!(rows(b"timestamp,bid,ask\n1000,10.01,10.02\n2000,,10.03\n", None), want);
        assert_eq!(
            rows(
                b"t,x,b,a\n1000,?,10.01,10.02\n2000,?,NaN,10.03\n",
                Some(["t", "b", "a"])
            ),
            want
        );
        // With sizes the file is read as ever.
        let mut o = CsvOptions::new(CsvShape::Quotes);
        o.price_decimals = 2;
        let r = CsvReader::new(&b"timestamp,bid,bid_size,ask,ask_size\n"[..], o.clone()).unwrap();
        assert!(!r.sizes_absent());
        // One size only: the missing one is named.
        let e = CsvReader::new(&b"timestamp,bid,bid_size,ask\n"[..], o)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"ask_size\" not found"), "{e}");
    }

    #[test]
    fn quotes_with_mapped_columns_and_errors_with_places() {
        let csv = b"ts,sym,b,bs,a,as\n1000,X,10.01,5,10.02,7\n\n2000,X,10.02,1,10.03,2\r\n3000,X,abc,1,1,1\n4000,X\n";
        let mut o = CsvOptions::new(CsvShape::Quotes);
        o.columns = ["ts", "b", "bs", "a", "as"].map(String::from).to_vec();
        o.ts_unit = TsUnit::Us;
        o.price_decimals = 2;
        let mut r = CsvReader::new(csv, o).unwrap();
        let e: Vec<_> = (0..4).map(|_| r.next_event().unwrap().unwrap()).collect();
        assert_eq!(
            (e[0].px, e[0].qty, e[0].side(), e[0].header.ts_ns),
            (1001, 5, Some(Side::Buy), 1_000_000)
        );
        assert_eq!((e[1].px, e[1].qty, e[1].side()), (1002, 7, Some(Side::Sell)));
        assert_eq!((e[3].px, e[3].header.ts_ns), (1003, 2_000_000));
        let err = r.next_event().unwrap_err();
        assert_eq!(err.to_string(), "line 5, column 3 (bid): not a decimal number: \"abc\"");
        let err = r.next_event().unwrap_err();
        assert_eq!(err.to_string(), "line 6: 2 fields, column 3 (bid) needed");
        assert_eq!(r.next_event(), Ok(None));
        let mut o = CsvOptions::new(CsvShape::Quotes);
        o.columns[1] = "bidpx".into();
        assert!(matches!(CsvReader::new(csv, o), Err(Error::NoColumn { .. })));
    }

    proptest! {
        /// Any bytes: errors or events, never a panic.
        #[test]
        fn never_panics(data in prop::collection::vec(any::<u8>(), 0..400)) {
            for shape in [CsvShape::Quotes, CsvShape::Trades] {
                if let Ok(mut r) = CsvReader::new(&data, CsvOptions::new(shape)) {
                    for _ in 0..100 {
                        if let Ok(None) = r.next_event() { break; }
                    }
                }
            }
        }

        /// The word-at-a-time split finds exactly the fields `[u8]::split` does
        /// (any bytes, any delimiter, lines longer and shorter than a word,
        /// more fields than the 32 kept).
        #[test]
        fn split_matches_the_plain_split(line in prop::collection::vec(prop_oneof![Just(b','), Just(b';'), any::<u8>()], 0..120), d in prop_oneof![Just(b','), Just(b';'), any::<u8>()]) {
            let want: Vec<&[u8]> = line.split(|&c| c == d).collect();
            let mut got = [&b""[..]; 32];
            let n = split(&line, d, &mut got);
            prop_assert_eq!(n, want.len());
            prop_assert_eq!(&got[..n.min(32)], &want[..n.min(32)]);
        }

        /// A printed decimal reads back exactly.
        #[test]
        fn fixed_round_trips(v in -1_000_000_000i64..1_000_000_000, d in 0u8..6) {
            let s = format!("{}{}.{:0w$}", if v < 0 { "-" } else { "" }, v.abs() / 10i64.pow(d as u32), v.abs() % 10i64.pow(d as u32), w = d as usize);
            let s = if d == 0 { format!("{v}") } else { s };
            prop_assert_eq!(fixed(s.as_bytes(), d), Ok(v));
        }
    }
    fn all(mut r: CsvReader) -> Vec<(u64, Result<CsvItem, String>)> {
        let mut out = Vec::new();
        loop {
            match r.next_item() {
                Ok(Some(x)) => out.push((r.line(), Ok(x))),
                Ok(None) => return out,
                Err(e) => out.push((r.line(), Err(e.to_string()))),
            }
        }
    }

    proptest! {
        /// Rows of the same second parse only their fraction: the same times
        /// as the full parse, whatever the fraction's length, a `Z` or not,
        /// `T` or a space, and bad digits still an error.
        #[test]
        fn cached_seconds_parse_as_the_full_parser(
            rows in proptest::collection::vec((0u64..3, 0u32..1_000_000_000, 1usize..10, any::<bool>(), any::<bool>(), 0u8..40), 1..60)
        ) {
            let stamp = |&(sec, frac, digits, z, space, junk): &(u64, u32, usize, bool, bool, u8)| {
                let f = format!("{frac:09}");
                let mut t = format!("2026-01-05{}14:30:0{sec}.{}", if space { ' ' } else { 'T' }, &f[..digits]);
                if junk == 0 {
                    t.push('x');
                }
                if z {
                    t.push('Z');
                }
                t
            };
            let mut text = String::from("timestamp,bid,bid_size,ask,ask_size\n");
            for r in &rows {
                text.push_str(&format!("{},1.0,5,1.1,5\n", stamp(r)));
            }
            let got = all(CsvReader::new(text.as_bytes(), CsvOptions::new(CsvShape::Quotes)).unwrap());
            let mut k = 0;
            for r in &rows {
                let t = stamp(r);
                match parse_iso8601(t.as_bytes()) {
                    Ok(ns) => {
                        for _ in 0..2 {
                            match &got[k].1 {
                                Ok(CsvItem::Event(m)) => prop_assert_eq!(m.header.ts_ns, ns),
                                other => prop_assert!(false, "{:?}", other),
                            }
                            k += 1;
                        }
                    }
                    Err(_) => {
                        prop_assert!(got[k].1.is_err(), "{} parsed", t);
                        k += 1;
                    }
                }
            }
            prop_assert_eq!(k, got.len());
        }
    }

    proptest! {
        /// The one-pass quote reader gives what the general path gives —
        /// items, errors and line numbers — on rows it reads and rows it hands
        /// on alike: fractions of any length, `Z` or not, CRLF, blank lines,
        /// spaces, quotes, signs, long numbers, more decimals than the scale,
        /// an extra column, integer timestamps.
        #[test]
        fn the_one_pass_quote_reader_reads_as_the_general_path(
            rows in prop::collection::vec((0u64..3, 1usize..11, 0u8..12, 0u64..2_000_000, 0u8..6, 0u64..1_000, 0u8..9), 1..50),
            iso in any::<bool>(),
            decimals in 0u8..6,
        ) {
            let mut text = String::from("timestamp,bid,bid_size,ask,ask_size\n");
            for &(sec, digits, twist, px, frac, size, more) in &rows {
                let f = format!("{:010}", px.wrapping_mul(2_654_435_761) % 10_000_000_000);
                let ts = if iso {
                    format!("2026-01-05T14:30:0{sec}.{}{}", &f[..digits.min(10)], if twist % 2 == 0 { "Z" } else { "" })
                } else {
                    format!("{}{}", 1_767_600_000 + sec, &f[..digits.min(10)])
                };
                let num = |v: u64| -> String {
                    let s = v.to_string();
                    let k = (frac as usize).min(s.len());
                    if frac == 0 { s } else { format!("{}.{}", &s[..s.len() - k], &s[s.len() - k..]) }
                };
                let (b, a) = (num(px), num(px + 7));
                let mut row = match twist {
                    3 => format!("{ts},{b}, {size},{a},{size}"),
                    4 => format!("{ts},\"{b}\",{size},{a},{size}"),
                    5 => format!("{ts},-{b},{size},{a},{size}"),
                    6 => format!("{ts},{b}123456789012345,{size},{a},{size}"),
                    7 => format!("{ts},{b},{size},{a},{size},x"),
                    8 => String::new(),
                    9 => format!("{ts},{b},{size},{a}"),
                    _ => format!("{ts},{b},{size},{a},{size}"),
                };
                row.push_str(if more % 3 == 0 { "\r\n" } else { "\n" });
                text.push_str(&row);
            }
            if rows.len() % 2 == 0 {
                text.pop();
            }
            let mut o = CsvOptions::new(CsvShape::Quotes);
            o.price_decimals = decimals;
            o.ts_unit = if iso { TsUnit::Iso } else { TsUnit::Us };
            let fast = CsvReader::new(text.as_bytes(), o.clone()).unwrap();
            prop_assert!(fast.fast);
            let mut general = CsvReader::new(text.as_bytes(), o).unwrap();
            general.fast = false;
            prop_assert_eq!(all(fast), all(general));
        }
    }

    /// Readers over runs of whole lines give what one reader gives: the same
    /// items (errors included) with the same line numbers, blank lines too.
    #[test]
    fn split_lines_reads_as_one_reader() {
        let mut text = String::from("timestamp,bid,bid_size,ask,ask_size\n");
        for i in 0..500u32 {
            match i % 97 {
                13 => text.push('\n'),
                41 => text.push_str("2026-01-05T14:30:00Z,oops,1,1.1,1\n"),
                _ => text.push_str(&format!("2026-01-05T14:30:{:02}.{i:06}Z,1.{i:04},5,2.0,7\n", i % 60)),
            }
        }
        let whole = all(CsvReader::new(text.as_bytes(), CsvOptions::new(CsvShape::Quotes)).unwrap());
        for parts in [1, 2, 3, 7, 64] {
            let r = CsvReader::new(text.as_bytes(), CsvOptions::new(CsvShape::Quotes)).unwrap();
            let pieces: Vec<_> = r.split_lines(parts).into_iter().flat_map(all).collect();
            assert_eq!(pieces, whole, "{parts} parts");
        }
    }
}
