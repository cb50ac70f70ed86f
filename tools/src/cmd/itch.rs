//! `foxtrot itch`: inspect an ITCH 5.0 file.
//!
//! - `cat FILE [--json]`: one line per message. With `--json`, an object whose keys
//!   are the specification's field names in snake case (the names the Python
//!   `itchfeed` package uses), integers as integers, alphas as strings with their
//!   padding; types the book does not use show only their common head.
//! - `publish FILE --to ADDR:PORT [--retransmit ADDR:PORT] [--rate N]`: the
//!   file as a MoldUDP64 stream, paced, with a retransmission server (through
//!   AF_XDP with `--xdp IFACE`).
//! - `book FILE`: replays the file through the normaliser and the books and
//!   prints the counters and each symbol's touch.
//!
//! The framing is detected from the first bytes unless `--framing` says.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use foxtrot_feed::itch::{self, Frames, Framing, ItchBook, Message, Subscription};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `foxtrot itch`.
#[derive(Args, Debug)]
pub struct ItchArgs {
    #[command(subcommand)]
    cmd: ItchCmd,
}

#[derive(Subcommand, Debug)]
enum ItchCmd {
    /// Print each message.
    Cat {
        /// The ITCH file (gzip- or zstd-compressed files are inflated first; `-`: standard input).
        file: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// `auto` (detected), `prefixed`, `zero-prefixed` or `raw` (no length
        /// prefixes: lengths inferred).
        #[arg(long, default_value = "auto", value_parser = foxtrot_feed::itch::file::FRAMING_NAMES)]
        framing: String,
        /// Stop after this many messages.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Publish the file's messages as a MoldUDP64 stream (a venue's feed, for
    /// tests and the AF_XDP harness), answering retransmission requests.
    Publish(PublishArgs),
    /// Build the book from the file and print counters and each symbol's touch.
    Book {
        /// The ITCH file (gzip- or zstd-compressed files are inflated first; `-`: standard input).
        file: PathBuf,
        /// `auto` (detected), `prefixed`, `zero-prefixed` or `raw`.
        #[arg(long, default_value = "auto", value_parser = foxtrot_feed::itch::file::FRAMING_NAMES)]
        framing: String,
        /// Keep only these symbols (comma-separated); default all.
        #[arg(long, value_delimiter = ',')]
        symbols: Vec<String>,
        /// Price levels shown per side: the touch (1), or more of the book.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=4096))]
        depth: u16,
        /// One JSON object: the counters, and each symbol's levels as
        /// `[price, quantity]` (prices in ITCH's units, 1e-4), best first.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `foxtrot itch publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The ITCH file (gzip- or zstd-compressed files are inflated first; `-`: standard input).
    file: PathBuf,
    /// Where to send the stream (ADDR:PORT, unicast or a multicast group).
    #[arg(long)]
    to: std::net::SocketAddr,
    /// The retransmission server's address to bind (ADDR:PORT).
    #[arg(long)]
    retransmit: Option<std::net::SocketAddr>,
    /// Messages per second (0: as fast as the socket takes them).
    #[arg(long, default_value_t = 100_000.0)]
    rate: f64,
    /// After the end of session, keep answering retransmission requests until
    /// none came for this long.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    linger: f64,
    /// The MoldUDP64 session name.
    #[arg(long, default_value = "FOXTROT01")]
    session: String,
    /// `auto` (detected), `prefixed`, `zero-prefixed` or `raw`.
    #[arg(long, default_value = "auto", value_parser = foxtrot_feed::itch::file::FRAMING_NAMES)]
    framing: String,
    /// Send through an AF_XDP socket on this interface (a build with
    /// `--features af_xdp`; root).
    #[arg(long, value_name = "IFACE")]
    xdp: Option<String>,
    /// With --xdp: where the XDP program runs (`auto`, `native`, `generic`).
    #[arg(long, default_value = "auto", requires = "xdp")]
    xdp_mode: foxtrot_net::xdp_config::AttachMode,
    /// With --xdp: the local address to send from (default: the interface's).
    #[arg(long, requires = "xdp")]
    from: Option<std::net::SocketAddr>,
}

fn publish(a: PublishArgs) -> Result<()> {
    use foxtrot_feed::itch::publish::MoldPublisher;
    let bytes = foxtrot_feed::mapped::MappedFile::open(&a.file).with_context(|| format!("{}", a.file.display()))?;
    let mut p = match &a.xdp {
        None => MoldPublisher::new(&a.session, a.to, a.retransmit, 1 << 22)?,
        Some(ifn) => {
            let mut x = foxtrot_net::XdpConfig::new(ifn);
            x.mode = a.xdp_mode;
            let from = a.from.unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
            let net = foxtrot_net::open_udp(from, Some(&x)).with_context(|| format!("AF_XDP on {ifn}"))?;
            MoldPublisher::with_sender(&a.session, net, a.to, a.retransmit, 1 << 22)?
        }
    };
    super::run::install_signals()?;
    let stop = || super::run::STOP.load(std::sync::atomic::Ordering::Relaxed);
    let t = std::time::Instant::now();
    let mut n = 0u64;
    for r in Frames::new(&bytes, framing(&bytes, &a.framing)) {
        let (off, raw) = r.with_context(|| format!("{}", a.file.display()))?;
        itch::decode(raw).with_context(|| format!("{}: offset {off}", a.file.display()))?;
        p.push(raw);
        n += 1;
        if a.rate > 0.0 {
            let due = std::time::Duration::from_secs_f64(n as f64 / a.rate);
            if t.elapsed() < due {
                p.flush();
                while t.elapsed() < due {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
            }
        }
        if stop() {
            break;
        }
    }
    p.flush();
    p.end();
    let sent = t.elapsed();
    let mut last = (std::time::Instant::now(), p.stats().requests);
    while last.0.elapsed().as_secs_f64() < a.linger && !stop() {
        p.serve_requests();
        if p.stats().requests != last.1 {
            last = (std::time::Instant::now(), p.stats().requests);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let s = p.stats();
    println!(
        "foxtrot itch publish: {} messages in {} packets to {} through the {} in {:.3} s; {} dropped by the socket; \
         {} retransmission requests, {} messages resent, {} unanswerable",
        s.messages,
        s.packets,
        a.to,
        p.path(),
        sent.as_secs_f64(),
        s.dropped,
        s.requests,
        s.resent,
        s.unanswerable
    );
    Ok(())
}

fn framing(bytes: &[u8], f: &str) -> Framing {
    Framing::choose(f, bytes).unwrap_or_else(|| itch::detect(bytes))
}

fn alpha(b: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(b).into_owned())
}

/// The message as a JSON object with the specification's field names.
pub fn to_json(m: &Message<'_>) -> Value {
    let h = m.head();
    let mut o = Map::new();
    o.insert("message_type".into(), alpha(&[h.kind]));
    o.insert("stock_locate".into(), json!(h.locate()));
    o.insert("tracking_number".into(), json!(h.tracking.get()));
    o.insert("timestamp".into(), json!(h.timestamp()));
    let mut put = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    match *m {
        Message::SystemEvent(s) => put("event_code", alpha(&[s.event])),
        Message::StockDirectory(r) => {
            put("stock", alpha(&r.stock));
            put("market_category", alpha(&[r.market_category]));
            put("financial_status_indicator", alpha(&[r.financial_status]));
            put("round_lot_size", json!(r.round_lot_size.get()));
            put("round_lots_only", alpha(&[r.round_lots_only]));
            put("issue_classification", alpha(&[r.issue_classification]));
            put("issue_sub_type", alpha(&r.issue_subtype));
            put("authenticity", alpha(&[r.authenticity]));
            put("short_sale_threshold_indicator", alpha(&[r.short_sale_threshold]));
            put("ipo_flag", alpha(&[r.ipo_flag]));
            put("luld_ref", alpha(&[r.luld_tier]));
            put("etp_flag", alpha(&[r.etp_flag]));
            put("etp_leverage_factor", json!(r.etp_leverage.get()));
            put("inverse_indicator", alpha(&[r.inverse]));
        }
        Message::TradingAction(t) => {
            put("stock", alpha(&t.stock));
            put("trading_state", alpha(&[t.state]));
            put("reserved", alpha(&[t.reserved]));
            put("reason", alpha(&t.reason));
        }
        Message::AddOrder(a) | Message::AddOrderMpid(itch::msg::AddOrderMpid { add: a, .. }) => {
            put("order_reference_number", json!(a.order_ref.get()));
            put("buy_sell_indicator", alpha(&[a.side]));
            put("shares", json!(a.shares.get()));
            put("stock", alpha(&a.stock));
            put("price", json!(a.price.get()));
            if let Message::AddOrderMpid(f) = m {
                put("attribution", alpha(&f.attribution));
            }
        }
        Message::Executed(e) => {
            put("order_reference_number", json!(e.order_ref.get()));
            put("executed_shares", json!(e.shares.get()));
            put("match_number", json!(e.match_number.get()));
        }
        Message::ExecutedWithPrice(c) => {
            put("order_reference_number", json!(c.order_ref.get()));
            put("executed_shares", json!(c.shares.get()));
            put("match_number", json!(c.match_number.get()));
            put("printable", alpha(&[c.printable]));
            put("execution_price", json!(c.price.get()));
        }
        Message::Cancel(x) => {
            put("order_reference_number", json!(x.order_ref.get()));
            put("cancelled_shares", json!(x.shares.get()));
        }
        Message::Delete(d) => put("order_reference_number", json!(d.order_ref.get())),
        Message::Replace(u) => {
            put("order_reference_number", json!(u.orig_ref.get()));
            put("new_order_reference_number", json!(u.new_ref.get()));
            put("shares", json!(u.shares.get()));
            put("price", json!(u.price.get()));
        }
        Message::Trade(p) => {
            put("order_reference_number", json!(p.order_ref.get()));
            put("buy_sell_indicator", alpha(&[p.side]));
            put("shares", json!(p.shares.get()));
            put("stock", alpha(&p.stock));
            put("price", json!(p.price.get()));
            put("match_number", json!(p.match_number.get()));
        }
        Message::CrossTrade(q) => {
            put("shares", json!(q.shares.get()));
            put("stock", alpha(&q.stock));
            put("cross_price", json!(q.price.get()));
            put("match_number", json!(q.match_number.get()));
            put("cross_type", alpha(&[q.cross_type]));
        }
        Message::Other(_) => {}
    }
    Value::Object(o)
}

/// Runs `foxtrot itch`.
pub fn run(a: ItchArgs) -> Result<()> {
    match a.cmd {
        ItchCmd::Publish(p) => publish(p),
        ItchCmd::Cat {
            file,
            json,
            framing: f,
            limit,
        } => {
            let bytes = foxtrot_feed::mapped::MappedFile::open(&file).with_context(|| format!("{}", file.display()))?;
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            for (n, r) in Frames::new(&bytes, framing(&bytes, &f)).enumerate() {
                if limit.is_some_and(|l| n as u64 >= l) {
                    break;
                }
                let (off, raw) = r.with_context(|| format!("{}", file.display()))?;
                let m = itch::decode(raw).with_context(|| format!("{}: offset {off}", file.display()))?;
                if json {
                    writeln!(out, "{}", to_json(&m))?;
                } else {
                    writeln!(out, "{off:>10}  {}", to_json(&m))?;
                }
            }
            out.flush()?;
            Ok(())
        }
        ItchCmd::Book {
            file,
            framing: f,
            symbols,
            depth,
            json,
        } => {
            let bytes = foxtrot_feed::mapped::MappedFile::open(&file).with_context(|| format!("{}", file.display()))?;
            let sub = if symbols.is_empty() {
                Subscription::All
            } else {
                Subscription::Symbols(symbols)
            };
            // A first pass finds each instrument's price grid (sub-penny prices
            // are valid ITCH prices: a one-cent book would count them as issues).
            let fr = framing(&bytes, &f);
            let mut grids: Vec<foxtrot_feed::grid::PriceGrid> = Vec::new();
            {
                let mut norm = itch::Normaliser::new(sub.clone(), 1 << 22, 0);
                for (_, raw) in Frames::new(&bytes, fr).map_while(Result::ok) {
                    let Ok(m) = itch::decode(raw) else { break };
                    let _ = norm.on_message(&m, &mut |md| {
                        let i = md.header.instrument as usize;
                        if grids.len() <= i {
                            grids.resize(i + 1, Default::default());
                        }
                        grids[i].observe(md.px);
                    });
                }
            }
            let grids = grids
                .iter()
                .map(|g| {
                    let t = g.tick(100);
                    (t, g.window(t))
                })
                .collect();
            let mut book = ItchBook::new(sub, 1 << 22, 0, 100, 4096).with_grids(grids);
            let (mut issues, mut n) = (0u64, 0u64);
            let t = std::time::Instant::now();
            for r in Frames::new(&bytes, fr) {
                let (off, raw) = match r {
                    Ok(x) => x,
                    Err(e) => bail!("{}: {e} (after {n} messages)", file.display()),
                };
                match itch::decode(raw) {
                    Ok(m) => {
                        if book.apply(&m, &mut |_, _| {}).is_err() {
                            issues += 1;
                        }
                    }
                    Err(e) => bail!("{}: offset {off}: {e}", file.display()),
                }
                n += 1;
            }
            let secs = t.elapsed().as_secs_f64();
            let st = book.normaliser().stats();
            let mut levels = vec![(0i64, 0i64); depth as usize];
            let mut side_levels = |b: &foxtrot_engine::core::Book, side| {
                let k = b.depth(side, &mut levels);
                levels[..k].to_vec()
            };
            let symbols: Vec<(&str, Levels, Levels)> = book
                .normaliser()
                .symbols()
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let b = book.book(i)?;
                    Some((
                        s.trim(),
                        side_levels(b, foxtrot_engine::records::Side::Buy),
                        side_levels(b, foxtrot_engine::records::Side::Sell),
                    ))
                })
                .collect();
            if json {
                let by_symbol: Map<String, Value> = symbols
                    .iter()
                    .map(|(s, bids, asks)| (s.to_string(), json!({"bids": bids, "asks": asks})))
                    .collect();
                println!(
                    "{}",
                    json!({
                        "messages": n, "events": st.events, "filtered": st.filtered, "data_quality": issues,
                        "unknown_order": st.unknown_order, "duplicate_order": st.duplicate_order,
                        "overfill": st.overfill, "map_full": st.map_full, "bad_side": st.bad_side,
                        "crossed_or_locked": book.crossed(), "book_issues": book.book_issues(),
                        "orders_live": book.normaliser().orders().len(), "symbols": by_symbol,
                    })
                );
                return Ok(());
            }
            println!(
                "{n} messages in {secs:.3} s ({:.1} M/s): {} events, {} filtered; data-quality: {issues} ({} unknown order, {} duplicate, {} overfill, {} map full, {} bad side), {} crossed/locked, {} book issues; {} orders live",
                n as f64 / secs / 1e6,
                st.events,
                st.filtered,
                st.unknown_order,
                st.duplicate_order,
                st.overfill,
                st.map_full,
                st.bad_side,
                book.crossed(),
                book.book_issues(),
                book.normaliser().orders().len()
            );
            let px = |l: Option<&(i64, i64)>| l.map_or("-".to_string(), |(p, q)| format!("{q} @ {}", price4(*p)));
            for (s, bids, asks) in &symbols {
                println!("  {s:<8} bid {:<22} ask {}", px(bids.first()), px(asks.first()));
                for k in 1..bids.len().max(asks.len()) {
                    println!("  {:<8}     {:<22}     {}", "", px(bids.get(k)), px(asks.get(k)));
                }
            }
            Ok(())
        }
    }
}

/// A side's price levels, best first, as (price, quantity).
type Levels = Vec<(i64, i64)>;

/// An ITCH price (four implied decimals) as its decimal text, exactly.
fn price4(p: i64) -> String {
    let sign = if p < 0 { "-" } else { "" };
    format!("{sign}{}.{:04}", p.unsigned_abs() / 10_000, p.unsigned_abs() % 10_000)
}
