//! `foxtrot import`: data users bring → a market-data directory for backtests.
//!
//! `--format csv` (quotes or trades, see `foxtrot_feed::csv`),
//! `--format itch` (an ITCH 5.0 file, normalised to order-level events) or
//! `--format native` (a `.fxmd` file from `foxtrot gen`),
//! `--format dbn` (Databento MBO, MBP-1, MBP-10, BBO or trades, see
//! `foxtrot_tools::dbn_import`). The
//! directory's configuration is the backtest template (or `--config`) with its
//! instruments replaced by the imported symbols, each with its first price as
//! reference and its tick as given (`--tick`: every price must be on it, else
//! the import stops naming the row or offset) or inferred from the data (the
//! coarsest grid every price is on, at most a cent: printed). `foxtrot replay DIR` then runs the
//! backtest. The mappings are documented in `docs/market-data.md`. A failed
//! import leaves the directory as it found it: the market data it had begun to
//! write is removed (and the directory, if the import made it).

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use foxtrot_engine::core::TickGrid;
use foxtrot_engine::journal::market_data::MD_DIR;
use foxtrot_engine::records::{DqEvent, InstrumentSpec, MarketData};
use foxtrot_engine::Config;
use foxtrot_feed::capture::MdWriter;
use foxtrot_feed::csv::{CsvItem, CsvOptions, CsvReader, CsvRow, CsvShape, QuoteRow, Rounded, TsUnit};
use foxtrot_feed::findings::FindingCounts;
use foxtrot_feed::grid::PriceGrid;
use foxtrot_feed::itch::{self, Frames, Framing, ItchBook, Message, Subscription};
use std::path::{Path, PathBuf};

/// Arguments of `foxtrot import`.
#[derive(Args, Clone, Debug)]
pub struct ImportArgs {
    /// The file to import: gzip- or zstd-compressed files are inflated first,
    /// and `-` reads standard input (every format).
    file: PathBuf,
    /// Its format (`native`: a `.fxmd` file from `foxtrot gen`, instruments from its header).
    #[arg(long, value_parser = ["csv", "itch", "dbn", "native"])]
    format: String,
    /// The market-data directory to create.
    #[arg(long, short)]
    out: PathBuf,
    /// Configuration template (default: the embedded `configs/backtest.yaml`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one configuration key (repeatable) on the template (its instruments are the data's, whatever is set): `--set belief.drift.enabled=false`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// CSV: `quotes` or `trades`.
    #[arg(long, default_value = "quotes", value_parser = ["quotes", "trades"])]
    shape: String,
    /// CSV: the columns, comma-separated, by header name or 0-based index:
    /// timestamp,bid,bid_size,ask,ask_size (quotes) or timestamp,price,size and optionally side (trades).
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// CSV: the file has no header line (columns are then indices).
    #[arg(long)]
    no_header: bool,
    /// CSV: field separator: one ASCII character, or `\t` / `tab` for a tab.
    #[arg(long, default_value = ",", value_parser = delimiter)]
    delimiter: char,
    /// CSV: timestamps as `iso`, or numbers of `s`, `ms`, `us`, `ns` since the epoch (a fraction down to the nanosecond allowed).
    #[arg(long, default_value = "iso")]
    ts_unit: String,
    /// CSV: the instrument's symbol (default: the one symbol of the file's
    /// symbol column, else `CSV`); in a file of several instruments, the one
    /// to import — the rows of the others are left out.
    #[arg(long)]
    symbol: Option<String>,
    /// CSV: the column naming each row's instrument (a header name or a
    /// 0-based index; default: a column named `symbol`, if the header has one).
    #[arg(long)]
    symbol_column: Option<String>,
    /// Price decimals (CSV prices are scaled by 10^this; ITCH prices have 4).
    #[arg(long, default_value_t = 4)]
    price_decimals: u8,
    /// Quantity decimals (CSV sizes are scaled by 10^this).
    #[arg(long, default_value_t = 0)]
    qty_decimals: u8,
    /// Tick size in price units (default: inferred from the data, at most one
    /// cent at the price decimals, and printed).
    #[arg(long)]
    tick: Option<i64>,
    /// ITCH: `auto` (detected), `prefixed`, `zero-prefixed` or `raw`.
    #[arg(long, default_value = "auto", value_parser = foxtrot_feed::itch::file::FRAMING_NAMES)]
    framing: String,
    /// ITCH: keep these symbols (comma-separated); default all.
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// ITCH: the trading day (YYYY-MM-DD) its times of day are on.
    #[arg(long, default_value = "2026-01-05")]
    date: String,
    /// Continue past bad CSV rows (counted and reported) instead of stopping.
    #[arg(long)]
    skip_bad_rows: bool,
}

/// One cent at `price_decimals`.
fn cent(price_decimals: u8) -> i64 {
    10i64.pow(price_decimals.saturating_sub(2) as u32)
}

/// The tick of an instrument: `--tick`, or the grid inferred from its prices
/// (said so on stdout).
fn tick_of(a: &ImportArgs, symbol: &str, grid: &PriceGrid, price_decimals: u8) -> i64 {
    match a.tick {
        Some(t) => t.max(1),
        None => {
            let t = grid.tick(cent(price_decimals));
            println!("{symbol}: tick inferred from the data: {t} price units (give --tick to set it)");
            t
        }
    }
}

/// Widens `cfg.book.window_ticks` to what the data needs (`need`: per
/// instrument of `instruments`, the window holding its prices around its
/// reference price, as [`PriceGrid::window`] gives it) where the template's is
/// narrower: a
/// backtest's books refuse every price outside the window, and count it as a
/// book issue. Not past what the configuration allows (its memory limit):
/// then the template's window stays, and the import says what will be refused.
/// A window set with `--set book.window_ticks=…` is kept as set.
fn fit_book_window(a: &ImportArgs, cfg: &mut Config, instruments: &[InstrumentSpec], need: &[usize]) {
    let Some((symbol, &want)) = instruments
        .iter()
        .map(|i| i.symbol.as_str())
        .zip(need)
        .max_by_key(|(_, w)| **w)
    else {
        return;
    };
    let (have, want) = (cfg.book.window_ticks, want.next_power_of_two());
    if want <= have || a.set.iter().any(|s| s.trim_start().starts_with("book.window_ticks")) {
        return;
    }
    // The memory the books take, for the data's instruments.
    let mut trial = cfg.clone();
    trial.book.window_ticks = want;
    trial.instruments = instruments.to_vec();
    let (mb, limit) = (trial.memory_estimate() >> 20, cfg.runtime.max_memory_mb);
    if mb > limit {
        println!(
            "{symbol}: its prices need a book window of {want} ticks, which {} instruments' books cannot have under \
             runtime.max_memory_mb ({mb} MiB over {limit}); the backtest's books keep {have} ticks and will refuse the \
             prices outside them (book issues)",
            instruments.len()
        );
        return;
    }
    cfg.book.window_ticks = want;
    println!(
        "book window: {want} ticks, widened from the template's {have} to hold every price of {symbol} \
         (--set book.window_ticks=N chooses it)"
    );
}

fn spec(symbol: &str, a: &ImportArgs, price_decimals: u8, ref_price: i64, tick: i64) -> InstrumentSpec {
    InstrumentSpec {
        // Named to fit by `create` (`instrument_names`).
        symbol: symbol.to_string(),
        price_decimals,
        tick,
        qty_decimals: a.qty_decimals,
        lot: 1,
        ref_price: (ref_price / tick * tick).max(tick),
    }
}

fn template(a: &ImportArgs) -> Result<Config> {
    crate::setup::load_template_with_sets(a.config.as_deref(), &a.set)
}

fn create(out: &Path, cfg: &mut Config, mut instruments: Vec<InstrumentSpec>) -> Result<MdWriter> {
    ensure!(
        !out.join(MD_DIR).exists() && !out.join("inputs").exists(),
        "{} already holds data; import into a new directory",
        out.display()
    );
    let full: Vec<String> = instruments.iter().map(|i| i.symbol.clone()).collect();
    for (i, name) in instrument_names(&full)?.into_iter().enumerate() {
        instruments[i].symbol = name;
    }
    cfg.instruments = instruments;
    cfg.check(Path::new("<import>"))
        .context("the imported instruments do not fit the configuration")?;
    let w = MdWriter::create_compact(out, cfg).with_context(|| format!("creating {}", out.display()))?;
    let renamed: Vec<(usize, &String)> = full
        .iter()
        .enumerate()
        .filter(|(i, f)| cfg.instruments[*i].symbol != **f)
        .collect();
    if !renamed.is_empty() {
        let path = out.join("symbols.csv");
        let mut text = String::from("symbol,full_symbol\n");
        for (i, f) in &renamed {
            text += &format!("{},\"{}\"\n", cfg.instruments[*i].symbol, f.replace('"', "\"\""));
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        let shown: Vec<String> = renamed
            .iter()
            .take(4)
            .map(|(i, f)| format!("{f:?} → {}", cfg.instruments[*i].symbol))
            .collect();
        println!(
            "{} symbols named anew to fit foxtrot's 12 printable bytes (every one in {}): {}{}",
            renamed.len(),
            path.display(),
            shown.join(", "),
            if renamed.len() > 4 { ", …" } else { "" }
        );
    }
    Ok(w)
}

/// Names for the instruments `full` (the data's symbols) that a configuration
/// takes — 1 to 12 printable ASCII bytes other than `|`, a letter among them,
/// one per instrument — the same as the data's where it fits. Else (an OPRA
/// symbol, `AAPL  261218C00150000`; a future's option, `ESZ6 C5000`): without
/// spaces and other bytes a name may not hold, if that fits and is free, or the
/// first seven of those and `~` and four base-36 digits of a hash of the whole
/// symbol (`AAPL261~…`), the same for the same symbol in any import.
fn instrument_names(full: &[String]) -> Result<Vec<String>> {
    use foxtrot_engine::records::fixed::{symbol_byte, MAX_SYMBOL_LEN};
    let mut names: Vec<String> = Vec::with_capacity(full.len());
    for f in full {
        let mut kept: String = f.chars().filter(|c| c.is_ascii() && symbol_byte(*c as u8)).collect();
        if !kept.bytes().any(|b| b.is_ascii_alphabetic()) {
            kept.insert(0, 'X');
        }
        let name = if kept.len() <= MAX_SYMBOL_LEN && !names.contains(&kept) {
            kept
        } else {
            let mut h = xxhash_rust::xxh3::xxh3_64(f.as_bytes());
            let mut tag = String::new();
            for _ in 0..4 {
                tag.push(
                    char::from_digit((h % 36) as u32, 36)
                        .unwrap_or('0')
                        .to_ascii_uppercase(),
                );
                h /= 36;
            }
            let prefix: String = kept.chars().take(MAX_SYMBOL_LEN - 5).collect();
            format!("{prefix}~{tag}")
        };
        if let Some(j) = names.iter().position(|n| *n == name) {
            bail!(
                "symbols {:?} and {:?} would both be named {name:?} (foxtrot's names are 12 printable bytes): \
                 import them separately (--symbols)",
                full[j],
                f
            );
        }
        names.push(name);
    }
    Ok(names)
}

impl ImportArgs {
    /// The CSV instrument's symbol.
    fn symbol(&self) -> &str {
        self.symbol.as_deref().unwrap_or("CSV")
    }
}

/// Of a CSV file of several instruments (a symbol column: `--symbol-column`, or
/// a header column named `symbol`): the column and the symbol to import —
/// `--symbol`, or the file's only one — said on stdout with the rows left
/// out. `None` for a file without a symbol column. A file of several symbols
/// and no `--symbol` is refused, naming them: imported whole it would be one
/// instrument's book made of several (before: it was, without a word).
fn csv_symbol(a: &ImportArgs, bytes: &[u8]) -> Result<Option<(String, String)>> {
    let file = a.file.display();
    let col = match (&a.symbol_column, a.no_header) {
        (Some(_), true) => bail!("{file}: --symbol-column needs the file's header line (not --no-header)"),
        (Some(c), false) => c.clone(),
        (None, true) => return Ok(None),
        (None, false) => "symbol".to_string(),
    };
    const MAX_SYMBOLS: usize = 100_000;
    let Some(seen) = foxtrot_feed::csv::symbols_in(bytes, a.delimiter as u8, &col, MAX_SYMBOLS) else {
        ensure!(
            a.symbol_column.is_none(),
            "{file}: no column {col:?} (--symbol-column) in its header, or more than {MAX_SYMBOLS} symbols in it"
        );
        return Ok(None);
    };
    let rows: u64 = seen.iter().map(|(_, n)| n).sum();
    let listed = || {
        let mut v: Vec<String> = seen.iter().take(10).map(|(s, n)| format!("{s} ({n} rows)")).collect();
        if seen.len() > 10 {
            v.push(format!("… {} more", seen.len() - 10));
        }
        v.join(", ")
    };
    let keep = match &a.symbol {
        Some(s) => {
            ensure!(
                seen.iter().any(|(x, _)| x == s),
                "{file}: no row of {s} in column {col:?}; it holds {}",
                listed()
            );
            s.clone()
        }
        None if seen.len() == 1 => seen[0].0.clone(),
        None => bail!(
            "{file}: column {col:?} names {} instruments — {}; an import is one instrument: choose it with --symbol (one import per symbol)",
            seen.len(),
            listed()
        ),
    };
    let kept = seen.iter().find(|(x, _)| *x == keep).map_or(0, |(_, n)| *n);
    if kept < rows {
        println!(
            "{file}: {keep}: {kept} rows imported; {} rows of {} other symbols left out",
            rows - kept,
            seen.len() - 1
        );
    }
    Ok(Some((col, keep)))
}

fn import_csv(a: &ImportArgs) -> Result<(u64, u64)> {
    let bytes = foxtrot_feed::mapped::MappedFile::open(&a.file).with_context(|| format!("{}", a.file.display()))?;
    let keep_symbol = csv_symbol(a, &bytes)?;
    let named;
    let a = match &keep_symbol {
        Some((_, s)) => {
            named = ImportArgs {
                symbol: Some(s.clone()),
                ..a.clone()
            };
            &named
        }
        None => a,
    };
    let shape = if a.shape == "trades" {
        CsvShape::Trades
    } else {
        CsvShape::Quotes
    };
    let mut o = CsvOptions::new(shape);
    if !a.columns.is_empty() {
        o.columns = a.columns.clone();
    } else if a.no_header {
        o.columns = (0..o.columns.len()).map(|i| i.to_string()).collect();
    }
    o.header = !a.no_header;
    o.delimiter = a.delimiter as u8;
    o.ts_unit =
        TsUnit::parse(&a.ts_unit).with_context(|| format!("--ts-unit {:?}: use iso, s, ms, us or ns", a.ts_unit))?;
    o.price_decimals = a.price_decimals;
    o.qty_decimals = a.qty_decimals;
    o.keep_symbol = keep_symbol;
    let file = a.file.display();
    // Without --tick, pass 1 (on every core) finds the price grid and the
    // first good row's price (the reference) before anything is written.
    // With --tick there is no grid to find: one pass checks every price
    // against it, and the directory is created at the first good row.
    // Inferred: the reference price and the book window the prices need.
    let (first, tick) = match a.tick {
        Some(t) => (None, t.max(1)),
        None => {
            let (first, grid) = csv_prices(a, &bytes, &o)?;
            let tick = tick_of(a, a.symbol(), &grid, a.price_decimals);
            (Some((first, grid.window(tick))), tick)
        }
    };
    let mut w: Option<MdWriter> = None;
    let mut cfg = template(a)?;
    if let Some((first, need)) = first {
        let instruments = vec![spec(a.symbol(), a, a.price_decimals, first, tick)];
        fit_book_window(a, &mut cfg, &instruments, &[need]);
        w = Some(create(&a.out, &mut cfg, instruments)?);
    }
    // One thread parses batches of rows while this one journals them.
    let instrument = o.instrument;
    let again = o.clone();
    let r = CsvReader::new(&bytes, o).with_context(|| format!("{file}"))?;
    if r.sizes_absent() {
        println!(
            "{}: no size columns: each quoted side taken as {} quantity unit (imbalance and microprice read as \
             balanced; market orders fill in full at the touch whatever its size)",
            a.symbol(),
            foxtrot_feed::csv::SIZELESS_QTY
        );
    }
    let bad = match shape {
        CsvShape::Quotes => parse_and_journal::<Packed>(a, r, instrument, tick, &mut w, &mut cfg)?,
        CsvShape::Trades => parse_and_journal::<CsvRow>(a, r, instrument, tick, &mut w, &mut cfg)?,
    };
    match w {
        Some(w) => Ok((finish(w)?, bad)),
        None => {
            // The scan says what the rows were (it fails where nothing has a price).
            csv_prices(a, &bytes, &again)?;
            bail!("{file}: no row with a positive price")
        }
    }
}

/// Parses `r` on a thread of its own while this one journals its rows into
/// `w` (created at the first row with a price when there is none yet); returns
/// the bad rows skipped. Rows cross between the threads as `D` ([`Handover`]).
fn parse_and_journal<D: Handover>(
    a: &ImportArgs,
    r: CsvReader,
    instrument: u32,
    tick: i64,
    w: &mut Option<MdWriter>,
    cfg: &mut Config,
) -> Result<u64> {
    let file = a.file.display();
    let mut bad = 0u64;
    let check_tick = a.tick.is_some();
    let grid = TickGrid::new(tick);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Row<D>>>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Row<D>>>();
    let outcome: Result<Rounded> = std::thread::scope(|scope| {
        // Dropped when this closure returns, early or not, so a parser
        // waiting to hand over a batch is released before the scope joins it.
        let rx = rx;
        let parser = scope.spawn(move || {
            let mut r = r;
            loop {
                let mut batch = back_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(CSV_BATCH));
                batch.clear();
                let mut end = false;
                while batch.len() < CSV_BATCH {
                    match r.next_row() {
                        Ok(Some(row)) => {
                            if check_tick {
                                if let Some(px) = off_tick(&row, &grid) {
                                    batch.push(Row::OffTick { line: r.line(), px });
                                    end = true;
                                    break;
                                }
                            }
                            batch.push(Row::Data(D::pack(row, instrument)));
                        }
                        Ok(None) => {
                            end = true;
                            break;
                        }
                        Err(e) => batch.push(Row::Bad(Box::new(e))),
                    }
                }
                if tx.send(batch).is_err() || end {
                    return r.rounded();
                }
            }
        });
        // Rows before the first good price, when the directory waits for it.
        let mut early: Vec<CsvRow> = Vec::new();
        let mut scratch = CsvRow::Item(CsvItem::Finding(DqEvent::default()));
        for batch in rx.iter() {
            for row in &batch {
                let row = match row {
                    Row::OffTick { line, px } => bail!(
                        "{file}: line {line}: price {px} is not a multiple of --tick {tick} (omit --tick to infer the grid)"
                    ),
                    Row::Data(d) => d.row(instrument, &mut scratch),
                    Row::Bad(e) if a.skip_bad_rows => {
                        bad += 1;
                        if bad <= 5 {
                            tracing::warn!(error = %e, "{file}: skipped a bad row");
                        }
                        continue;
                    }
                    Row::Bad(e) => bail!("{file}: {e} (import stopped; --skip-bad-rows continues past bad rows)"),
                };
                let writer = match (&mut *w, row) {
                    (Some(writer), _) => writer,
                    (None, row) => {
                        let Some(px) = first_price(row) else {
                            early.push(*row);
                            continue;
                        };
                        let made = create(&a.out, cfg, vec![spec(a.symbol(), a, a.price_decimals, px, tick)])?;
                        let writer = w.insert(made);
                        for held in early.drain(..) {
                            journal(writer, &held)?;
                        }
                        writer
                    }
                };
                // A row out of time order is kept, and journalled as a finding; an
                // impossible event (a non-positive price, a negative size) or a
                // crossed quote row is journalled as a finding only.
                journal(writer, row)?;
            }
            let _ = back_tx.send(batch);
        }
        Ok(parser.join().expect("the CSV parsing thread panicked"))
    });
    let rounded = outcome?;
    if rounded.count > 0 {
        println!("{file}: {rounded}");
    }
    Ok(bad)
}

/// Whether an event carries a price: the rows the reference price, the grid
/// and the `--tick` check are taken from.
fn priced(m: &MarketData) -> bool {
    carries_price(m.px, m.qty)
}

/// [`priced`] of a side's price and size.
fn carries_price(px: i64, qty: i64) -> bool {
    px > 0 && qty != 0
}

/// The price of the first event of `row` that carries one (see [`priced`]):
/// the reference price of an import that waits for it.
fn first_price(row: &CsvRow) -> Option<i64> {
    match row {
        CsvRow::Quote(q) => q
            .sides()
            .into_iter()
            .find(|&(px, qty)| px > 0 && qty != 0)
            .map(|(px, _)| px),
        CsvRow::Item(CsvItem::Event(m)) if priced(m) => Some(m.px),
        CsvRow::Item(_) => None,
    }
}

/// The first price of `row` that carries a size and is off the `tick` grid.
#[inline]
fn off_tick(row: &CsvRow, grid: &TickGrid) -> Option<i64> {
    let off = |px: i64, qty: i64| carries_price(px, qty) && grid.index(px).is_none();
    match row {
        CsvRow::Quote(q) => q.sides().into_iter().find(|&(px, qty)| off(px, qty)).map(|(px, _)| px),
        CsvRow::Item(CsvItem::Event(m)) if off(m.px, m.qty) => Some(m.px),
        CsvRow::Item(_) => None,
    }
}

/// What the parsing thread hands over: a row (as `D`), a row's error, or the
/// row whose price is off `--tick` (where parsing stopped).
enum Row<D> {
    Data(D),
    Bad(Box<foxtrot_feed::Error>),
    OffTick { line: u64, px: i64 },
}

/// How a parsed row crosses from the parsing thread to the journalling one.
/// Every row is written on one core and read on the other, so each byte of it
/// is cache traffic both pay for: a quote CSV's rows travel [`Packed`] (48
/// bytes a `Row`, not 72: the import of a million quotes 12–14% faster), a trade
/// CSV's as they are (its import is limited by its parser, and packing its
/// rows measured no gain).
trait Handover: Send {
    /// The row as it travels.
    fn pack(row: CsvRow, instrument: u32) -> Self;
    /// The row back, exactly as it was (in `scratch` if it must be rebuilt).
    fn row<'s>(&'s self, instrument: u32, scratch: &'s mut CsvRow) -> &'s CsvRow;
}

impl Handover for CsvRow {
    #[inline]
    fn pack(row: CsvRow, _: u32) -> Self {
        row
    }
    #[inline]
    fn row<'s>(&'s self, _: u32, _: &'s mut CsvRow) -> &'s CsvRow {
        self
    }
}

/// A quote CSV's row in 48 bytes (the `Row` around it takes no more): a quote
/// row of the import's instrument as its five numbers and a tag, a finding as
/// itself; anything else (no quote CSV gives one) boxed.
enum Packed {
    /// Time, bid, bid size, ask, ask size.
    Quote([i64; 5]),
    /// A finding.
    Finding(DqEvent),
    /// Anything else.
    Other(Box<CsvRow>),
}

impl Handover for Packed {
    #[inline]
    fn pack(row: CsvRow, instrument: u32) -> Packed {
        match row {
            CsvRow::Quote(q) if q.instrument == instrument => {
                Packed::Quote([q.ts as i64, q.bid, q.bid_size, q.ask, q.ask_size])
            }
            CsvRow::Item(CsvItem::Finding(d)) => Packed::Finding(d),
            row => Packed::Other(Box::new(row)),
        }
    }

    #[inline]
    fn row<'s>(&'s self, instrument: u32, scratch: &'s mut CsvRow) -> &'s CsvRow {
        *scratch = match self {
            Packed::Quote([ts, bid, bid_size, ask, ask_size]) => CsvRow::Quote(QuoteRow {
                ts: *ts as u64,
                bid: *bid,
                bid_size: *bid_size,
                ask: *ask,
                ask_size: *ask_size,
                instrument,
            }),
            Packed::Finding(d) => CsvRow::Item(CsvItem::Finding(*d)),
            Packed::Other(row) => return row,
        };
        scratch
    }
}

const _: () = assert!(std::mem::size_of::<Packed>() == 48 && std::mem::size_of::<Row<Packed>>() == 48);

/// Journals one CSV row.
#[inline]
fn journal(w: &mut MdWriter, row: &CsvRow) -> Result<()> {
    match row {
        CsvRow::Quote(q) => {
            let [bid, ask] = q.events();
            w.append(&bid)?;
            w.append(&ask)?;
        }
        CsvRow::Item(CsvItem::Event(m)) => w.append(m)?,
        CsvRow::Item(CsvItem::Finding(d)) => w.append_quality(d)?,
    }
    Ok(())
}

fn import_itch(a: &ImportArgs) -> Result<(u64, u64)> {
    let bytes = foxtrot_feed::mapped::MappedFile::open(&a.file).with_context(|| format!("{}", a.file.display()))?;
    let file = a.file.display();
    let framing = Framing::choose(&a.framing, &bytes).unwrap_or_else(|| itch::detect(&bytes));
    let midnight = foxtrot_engine::format::calendar::parse_iso8601(format!("{}T00:00:00Z", a.date).as_bytes())
        .map_err(|e| anyhow::anyhow!("--date {:?}: {e}", a.date))?;
    let sub = || {
        if a.symbols.is_empty() {
            Subscription::All
        } else {
            Subscription::Symbols(a.symbols.clone())
        }
    };
    // Pass 1: which instruments, each one's first price and price grid.
    let mut norm = itch::Normaliser::new(sub(), 1 << 22, midnight);
    let mut first: Vec<Option<i64>> = Vec::new();
    let mut grids: Vec<PriceGrid> = Vec::new();
    // Every symbol the file names (for a --symbols it does not have).
    let mut named: std::collections::BTreeSet<[u8; 8]> = std::collections::BTreeSet::new();
    for r in Frames::new(&bytes, framing) {
        let (off, raw) = r.with_context(|| format!("{file}"))?;
        let m = itch::decode(raw).with_context(|| format!("{file}: offset {off}"))?;
        match &m {
            Message::StockDirectory(r) => named.insert(r.stock),
            Message::AddOrder(o) => named.insert(o.stock),
            Message::AddOrderMpid(o) => named.insert(o.add.stock),
            Message::Trade(t) => named.insert(t.stock),
            Message::CrossTrade(t) => named.insert(t.stock),
            _ => false,
        };
        let _ = norm.on_message(&m, &mut |md: &MarketData| {
            let i = md.header.instrument as usize;
            if first.len() <= i {
                first.resize(i + 1, None);
                grids.resize(i + 1, PriceGrid::default());
            }
            if md.px > 0 {
                first[i].get_or_insert(md.px);
                grids[i].observe(md.px);
            }
        });
    }
    let symbols = norm.symbols().to_vec();
    let named: Vec<&str> = named.iter().map(itch::msg::symbol).collect();
    let absent: Vec<&str> = a
        .symbols
        .iter()
        .map(String::as_str)
        .filter(|s| !named.contains(s))
        .collect();
    ensure!(
        absent.is_empty(),
        "{file}: --symbols {}: not in the file, whose {} symbols are {}",
        absent.join(","),
        named.len(),
        if named.len() > 20 {
            format!("{}, … ({} more)", named[..20].join(", "), named.len() - 20)
        } else {
            named.join(", ")
        }
    );
    ensure!(!symbols.is_empty(), "{file}: no messages for the symbols asked for");
    let mut instruments = Vec::with_capacity(symbols.len());
    let mut book_grids = Vec::with_capacity(symbols.len());
    for (i, s) in symbols.iter().enumerate() {
        let g = grids.get(i).copied().unwrap_or_default();
        let tick = tick_of(a, s, &g, 4);
        instruments.push(spec(s, a, 4, first.get(i).copied().flatten().unwrap_or(100), tick));
        book_grids.push((tick, g.window(tick)));
    }
    let mut cfg = template(a)?;
    let need: Vec<usize> = book_grids.iter().map(|g| g.1).collect();
    fit_book_window(a, &mut cfg, &instruments, &need);
    let mut w = create(&a.out, &mut cfg, instruments)?;
    // Pass 2: the events, each book on its instrument's grid; the feed's own
    // issues (an unknown order, an overfill) journalled as findings.
    let mut book = ItchBook::new(sub(), 1 << 22, midnight, 100, 4096).with_grids(book_grids);
    let mut issues = 0u64;
    let mut err = None;
    for (n, r) in Frames::new(&bytes, framing).enumerate() {
        let (_, raw) = r?;
        let m = itch::decode(raw)?;
        let applied = book.apply(&m, &mut |md: &MarketData, _| {
            if err.is_none() {
                err = w.append(md).err();
            }
        });
        if let Err(issue) = applied {
            issues += 1;
            w.append_quality(&issue.finding(n as i64))?;
        }
    }
    if let Some(e) = err {
        return Err(e.into());
    }
    Ok((finish(w)?, issues))
}

fn import_dbn(a: &ImportArgs) -> Result<(u64, u64)> {
    use foxtrot_feed::dbn::{DbnConverter, DbnInput};
    let mut first: Vec<Option<i64>> = Vec::new();
    let mut grids: Vec<PriceGrid> = Vec::new();
    // Opened once for both passes: a piped or gzipped input is read once.
    let input = DbnInput::open(&a.file)?;
    let mut conv = DbnConverter::new(a.price_decimals);
    conv.convert_input(&input, &mut |md: &MarketData| {
        let i = md.header.instrument as usize;
        if first.len() <= i {
            first.resize(i + 1, None);
            grids.resize(i + 1, PriceGrid::default());
        }
        if md.px > 0 {
            first[i].get_or_insert(md.px);
            grids[i].observe(md.px);
        }
    })?;
    let symbols = conv.symbols().to_vec();
    let skipped = conv.stats().skipped;
    ensure!(
        !symbols.is_empty(),
        "{}: no market-data records foxtrot trades on ({} records of other types — definitions, statistics, OHLCV, status… — skipped)",
        a.file.display(),
        skipped
    );
    let mut instruments = Vec::with_capacity(symbols.len());
    let mut need = Vec::with_capacity(symbols.len());
    for (i, s) in symbols.iter().enumerate() {
        let g = grids.get(i).copied().unwrap_or_default();
        let tick = tick_of(a, s, &g, a.price_decimals);
        need.push(g.window(tick));
        instruments.push(spec(
            s,
            a,
            a.price_decimals,
            first.get(i).copied().flatten().unwrap_or(1),
            tick,
        ));
    }
    let mut cfg = template(a)?;
    fit_book_window(a, &mut cfg, &instruments, &need);
    let mut w = create(&a.out, &mut cfg, instruments)?;
    let mut conv = DbnConverter::new(a.price_decimals);
    let mut err = None;
    conv.convert_input(&input, &mut |md: &MarketData| {
        if err.is_none() {
            err = w.append(md).err();
        }
    })?;
    if let Some(e) = err {
        return Err(e.into());
    }
    let st = *conv.stats();
    if st.skipped > 0 {
        println!(
            "{}: {} records of types foxtrot does not trade on (definitions, statistics, OHLCV, status…) skipped",
            a.file.display(),
            st.skipped
        );
    }
    tracing::info!(
        records = st.records,
        events = st.events,
        skipped = st.skipped,
        off_scale = st.off_scale,
        unknown_order = st.unknown_order,
        "DBN converted"
    );
    Ok((finish(w)?, st.off_scale + st.unknown_order))
}

/// `--delimiter`: one ASCII character, or `\t` / `tab` (a tab is awkward to
/// type in a shell).
fn delimiter(s: &str) -> Result<char, String> {
    match s {
        "\\t" | "tab" | "TAB" => Ok('\t'),
        _ => match s.chars().collect::<Vec<_>>()[..] {
            [c] if c.is_ascii() => Ok(c),
            _ => Err(format!("{s:?} is not one ASCII character (a tab: \\t or tab)")),
        },
    }
}

/// Rows per batch handed from the parsing thread to the journalling one.
const CSV_BATCH: usize = 4096;

/// Pass 1 of a CSV import without `--tick`, over every core: the first good
/// row's price and the price grid of every good row — what one reader from the
/// top would find, line numbers included in its errors.
fn csv_prices(a: &ImportArgs, bytes: &[u8], o: &CsvOptions) -> Result<(i64, PriceGrid)> {
    let file = a.file.display();
    let r = CsvReader::new(bytes, o.clone()).with_context(|| format!("{file}"))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = r.split_lines(if bytes.len() < 1 << 20 { 1 } else { threads });
    // Also counted: data rows, and findings by code (what the error says when
    // no row has a price).
    type Scan = (Option<i64>, PriceGrid, u64, FindingCounts);
    let scan = |mut r: CsvReader| -> Result<Scan> {
        let (mut first, mut grid, mut rows, mut found) = (None, PriceGrid::default(), 0u64, FindingCounts::default());
        let mut see = |m: &MarketData| {
            if priced(m) {
                first.get_or_insert(m.px);
                grid.observe(m.px);
            }
        };
        loop {
            let row = r.next_row();
            rows += u64::from(matches!(row, Ok(Some(_))));
            match row {
                Ok(Some(CsvRow::Quote(q))) => q.events().iter().for_each(&mut see),
                Ok(Some(CsvRow::Item(CsvItem::Event(m)))) => see(&m),
                Ok(Some(CsvRow::Item(CsvItem::Finding(d)))) => found.count(d.code),
                Ok(None) => return Ok((first, grid, rows, found)),
                Err(_) if a.skip_bad_rows => continue,
                Err(e) => bail!("{file}: {e}"),
            }
        }
    };
    let found: Vec<Result<Scan>> = std::thread::scope(|s| {
        let hs: Vec<_> = parts.into_iter().map(|p| s.spawn(move || scan(p))).collect();
        hs.into_iter()
            .map(|h| h.join().expect("a scanning thread panicked"))
            .collect()
    });
    let (mut first, mut grid, mut rows, mut findings) = (None, PriceGrid::default(), 0u64, FindingCounts::default());
    // In file order: the first chunk's error is the file's first error.
    for f in found {
        let (f, g, n, by_code) = f?;
        first = first.or(f);
        grid.merge(&g);
        rows += n;
        findings.add(&by_code);
    }
    let Some(first) = first else {
        if rows == 0 {
            bail!("{file}: no data rows (nothing after the header): nothing to import");
        }
        let refused: Vec<String> = findings.named().iter().map(|(name, n)| format!("{name} {n}")).collect();
        let why = if refused.is_empty() {
            String::new()
        } else {
            format!("; refused as data-quality findings: {}", refused.join(", "))
        };
        bail!("{file}: no row with a positive price in {rows} data rows{why}: nothing to import");
    };
    Ok((first, grid))
}

/// A native `.fxmd` file: its header names the instruments (their ticks and
/// reference prices as generated), its records are the events.
fn import_native(a: &ImportArgs) -> Result<(u64, u64)> {
    use foxtrot_feed::native::NativeReader;
    let file = a.file.display();
    let mut r = NativeReader::open(&a.file).with_context(|| format!("{file}"))?;
    let mut cfg = template(a)?;
    let mut w = create(&a.out, &mut cfg, r.header().instruments.clone())?;
    while let Some(m) = r.next_record().with_context(|| format!("{file}"))? {
        w.append(&m)?;
    }
    Ok((finish(w)?, 0))
}

/// Reports the data-quality findings and flushes.
fn finish(w: MdWriter) -> Result<u64> {
    let q = w.quality();
    if !q.is_empty() {
        let list: Vec<String> = q.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("data quality (journalled with the data): {}", list.join(", "));
    }
    Ok(w.finish()?)
}

/// Runs `foxtrot import`.
pub fn run(a: ImportArgs) -> Result<()> {
    let t = std::time::Instant::now();
    // `create` refuses a directory that holds market data, so market data
    // there after a failure is this import's, half-written: it goes, and so
    // does the directory if this import made it (and left nothing else in it).
    let out_existed = a.out.exists();
    let had_data = a.out.join(MD_DIR).exists();
    let imported = match a.format.as_str() {
        "csv" => import_csv(&a),
        "dbn" => import_dbn(&a),
        "native" => import_native(&a),
        _ => import_itch(&a),
    };
    let (n, bad) = imported.inspect_err(|_| {
        if !had_data {
            let _ = std::fs::remove_dir_all(a.out.join(MD_DIR));
        }
        if !out_existed {
            let _ = std::fs::remove_dir(&a.out);
        }
    })?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "imported {n} market-data events from {} into {} in {secs:.3} s ({:.2} M events/s){}",
        a.file.display(),
        a.out.display(),
        n as f64 / secs.max(1e-9) / 1e6,
        if bad > 0 {
            format!("; {bad} bad rows or data-quality events skipped")
        } else {
            String::new()
        }
    );
    println!("backtest it with: foxtrot replay {}", a.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxtrot_engine::records::{DqCode, MdAction, Side};
    use proptest::prelude::*;

    #[test]
    fn symbols_that_do_not_fit_are_named_to_fit_and_told_apart() {
        let full: Vec<String> = [
            "AAPL",
            "AAPL  261218C00150000",
            "AAPL  261218C00155000",
            "ESZ6 C5000",
            "12345",
            "BRK|B",
            "ESZ6C5000",
        ]
        .map(String::from)
        .to_vec();
        let names = instrument_names(&full).unwrap();
        assert_eq!(names[0], "AAPL");
        assert!(names[1].starts_with("AAPL261~") && names[2].starts_with("AAPL261~"));
        assert_ne!(names[1], names[2]);
        assert_eq!(&names[3..6], ["ESZ6C5000", "X12345", "BRKB"]);
        // Free no longer: the same name, with a hash.
        assert!(names[6].starts_with("ESZ6C50~"), "{names:?}");
        // Every name is one a configuration takes, and the same symbol gets
        // the same name in another import.
        assert!(names
            .iter()
            .all(|n| n.len() <= 12 && n.bytes().all(|b| b.is_ascii_graphic() && b != b'|')));
        assert_eq!(instrument_names(&full[1..2]).unwrap()[0], names[1]);
    }

    #[test]
    fn a_tab_delimiter_can_be_typed() {
        assert_eq!(delimiter("\\t"), Ok('\t'));
        assert_eq!(delimiter("tab"), Ok('\t'));
        assert_eq!(delimiter("\t"), Ok('\t'));
        assert_eq!(delimiter(";"), Ok(';'));
        assert!(delimiter(";;").is_err() && delimiter("é").is_err() && delimiter("").is_err());
    }

    /// The rows a CSV reader gives: quote rows (of three instruments),
    /// trade rows, findings.
    fn csv_row() -> impl Strategy<Value = CsvRow> {
        let quote = (any::<u64>(), any::<[i64; 4]>(), 0u32..3).prop_map(|(ts, v, instrument)| {
            CsvRow::Quote(QuoteRow {
                ts,
                bid: v[0],
                bid_size: v[1],
                ask: v[2],
                ask_size: v[3],
                instrument,
            })
        });
        let trade =
            (any::<u64>(), any::<i64>(), any::<i64>(), any::<bool>(), 0u32..3).prop_map(|(ts, px, q, buy, i)| {
                let side = Some(if buy { Side::Buy } else { Side::Sell });
                CsvRow::Item(CsvItem::Event(MarketData::new(
                    MdAction::Trade,
                    i,
                    side,
                    ts,
                    0,
                    px,
                    q,
                    1,
                )))
            });
        let finding = (any::<u64>(), any::<i64>(), any::<i64>())
            .prop_map(|(ts, a, b)| CsvRow::Item(CsvItem::Finding(DqEvent::new(DqCode::Crossed, 0, ts, a, b))));
        prop_oneof![quote, trade, finding]
    }

    /// Those, and any event at all (its words zero or not).
    fn arb_row() -> impl Strategy<Value = CsvRow> {
        let raw = proptest::array::uniform8(prop_oneof![Just(0u64), any::<u64>()])
            .prop_map(|w| CsvRow::Item(CsvItem::Event(bytemuck::cast(w))));
        prop_oneof![csv_row(), raw]
    }

    proptest! {
        /// Packed for the hand-over between the threads, any row comes back
        /// exactly as it was.
        #[test]
        fn rows_pack_and_unpack_exactly(row in arb_row(), instrument in 0u32..3) {
            let mut scratch = CsvRow::Item(CsvItem::Finding(DqEvent::default()));
            let p = Packed::pack(row, instrument);
            prop_assert_eq!(*p.row(instrument, &mut scratch), row);
        }

        /// What a quote CSV gives — quote rows of the import's instrument,
        /// findings — travels unboxed: no allocation a row.
        #[test]
        fn quote_csv_rows_travel_unboxed(row in csv_row()) {
            let quote_csv = match row {
                CsvRow::Quote(q) => q.instrument == 0,
                CsvRow::Item(CsvItem::Finding(_)) => true,
                CsvRow::Item(CsvItem::Event(_)) => false,
            };
            prop_assert_eq!(!matches!(Packed::pack(row, 0), Packed::Other(_)), quote_csv);
        }
    }
}
