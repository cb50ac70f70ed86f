//! One field description per journal record kind: the columns a record is read
//! as, with their names, types and decoded values. `foxtrot journal cat` prints
//! them, `foxtrot export` writes them as Parquet columns, and `foxtrot report`
//! lists records through them, so a field has one name and one meaning
//! everywhere.
//!
//! Records fall into [`Table`]s (`inputs`, `fills`, `orders`, `rejects`, `diary`,
//! `drift_alarms`, `data_quality`, `config`). An execution report with a fill is
//! a row of two tables: `inputs` and `fills`. Prices are kept as their
//! fixed-point integers (`px`) and, where the instrument is known, as decimals
//! (`price`).

use super::kinds::{
    input_size, KIND_CONFIG, KIND_DATA_QUALITY, KIND_MD_BLOCK, KIND_MD_END, KIND_MD_QUOTES, KIND_RUN_END,
};
use crate::core::belief::Regime;
use crate::core::risk::{describe, Breach};
use crate::core::router::policy::policy_name;
use crate::records::{
    pow10, CommandKind, DiaryRecord, DqEvent, ExecKind, InputSlot, InputView, InstrumentSpec, Kind, MdAction, OrdType,
    Order, RejectReason, RiskReject, TheoryPacket, Verdict,
};

/// A column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// UTF-8 text.
    Text,
}

/// One column of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether a row may leave it empty.
    pub optional: bool,
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// An integer.
    I(i64),
    /// A float.
    F(f64),
    /// Text.
    S(String),
    /// Empty (optional columns only).
    Null,
}

/// A table: rows of one shape.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    /// Its name (and the Parquet file's stem).
    pub name: &'static str,
    /// Its columns, in order.
    pub columns: &'static [Column],
}

const fn req(name: &'static str, ty: Ty) -> Column {
    Column {
        name,
        ty,
        optional: false,
    }
}

const fn opt(name: &'static str, ty: Ty) -> Column {
    Column {
        name,
        ty,
        optional: true,
    }
}

use Ty::{Float as F, Int as I, Text as T};

/// Every sequenced input; kind-specific columns are empty where they do not apply.
pub const INPUTS: Table = Table {
    name: "inputs",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("kind", T),
        req("instrument", I),
        opt("symbol", T),
        opt("action", T),
        opt("side", T),
        opt("order_id", I),
        opt("px", I),
        opt("price", F),
        opt("qty", I),
        opt("cl_ord_id", I),
        opt("last_px", I),
        opt("last_qty", I),
        opt("cum_qty", I),
        opt("leaves_qty", I),
    ],
};

/// Every execution report with a fill (`last_qty > 0`).
pub const FILLS: Table = Table {
    name: "fills",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("instrument", I),
        req("symbol", T),
        req("cl_ord_id", I),
        req("side", T),
        req("exec_kind", T),
        req("last_px", I),
        req("price", F),
        req("last_qty", I),
        req("cum_qty", I),
        req("leaves_qty", I),
    ],
};

/// Every order sent, with its FIX message.
pub const ORDERS: Table = Table {
    name: "orders",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("instrument", I),
        req("symbol", T),
        req("cl_ord_id", I),
        req("orig_cl_ord_id", I),
        req("action", T),
        req("side", T),
        req("ord_type", T),
        req("px", I),
        req("price", F),
        req("qty", I),
        req("fix", T),
    ],
};

/// Every risk reject.
pub const REJECTS: Table = Table {
    name: "rejects",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("instrument", I),
        req("reason", T),
        req("limit", I),
        req("value", I),
        req("px", I),
        req("message", T),
    ],
};

/// Every decision-diary record.
pub const DIARY: Table = Table {
    name: "diary",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("instrument", I),
        req("cl_ord_id", I),
        req("verdict", T),
        opt("side", T),
        req("policy", T),
        req("topology", T),
        req("regime", T),
        req("px", I),
        req("qty", I),
        req("markout", I),
        req("markout_events", I),
        opt("reject_reason", T),
        req("policy_hash", T),
    ],
};

/// Every theory packet (drift alarm).
pub const DRIFT_ALARMS: Table = Table {
    name: "drift_alarms",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("instrument", I),
        req("detector", T),
        req("statistic", F),
        req("threshold", F),
        req("signal_mean", F),
        req("samples", I),
        req("size_factor", F),
        req("alarms", I),
    ],
};

/// Every data-quality finding of a market-data journal.
pub const DATA_QUALITY: Table = Table {
    name: "data_quality",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("instrument", I),
        req("code", T),
        req("a", I),
        req("b", I),
    ],
};

/// The end of a market-data journal: what its writer wrote before it.
pub const MD_END: Table = Table {
    name: "md_end",
    columns: &[req("seq", I), req("ts_ns", I), req("records", I), req("events", I)],
};

/// The end of a run's input journal: the records of its three journals.
pub const RUN_END: Table = Table {
    name: "run_end",
    columns: &[
        req("seq", I),
        req("ts_ns", I),
        req("inputs", I),
        req("orders", I),
        req("diary", I),
    ],
};

/// The configuration record.
pub const CONFIG: Table = Table {
    name: "config",
    columns: &[req("seq", I), req("ts_ns", I), req("bytes", I)],
};

/// What names instruments and scales their prices (the run's configuration).
#[derive(Clone, Copy, Debug, Default)]
pub struct Names<'a> {
    /// The run's instruments, by id (empty: ids stay numbers, no decimal prices).
    pub instruments: &'a [InstrumentSpec],
}

impl Names<'_> {
    fn symbol(&self, i: u32) -> Cell {
        self.instruments
            .get(i as usize)
            .map_or(Cell::Null, |s| Cell::S(s.symbol.clone()))
    }
    fn symbol_req(&self, i: u32) -> Cell {
        match self.symbol(i) {
            Cell::Null => Cell::S(format!("#{i}")),
            c => c,
        }
    }
    fn price(&self, i: u32, px: i64) -> Cell {
        self.instruments
            .get(i as usize)
            .map_or(Cell::Null, |s| Cell::F(px as f64 / pow10(s.price_decimals) as f64))
    }
    fn price_req(&self, i: u32, px: i64) -> Cell {
        match self.price(i, px) {
            Cell::Null => Cell::F(px as f64),
            c => c,
        }
    }
}

/// `buy`, `sell`, or empty for any other side code.
pub fn side_name(v: u8) -> Option<&'static str> {
    match v {
        1 => Some("buy"),
        2 => Some("sell"),
        _ => None,
    }
}

/// A topology code's name.
pub fn topology_name(v: u8) -> String {
    match v {
        1 => "passive".into(),
        2 => "aggressive".into(),
        3 => "market".into(),
        t => format!("unknown_{t}"),
    }
}

/// A regime code's name.
pub fn regime_name(v: u8) -> String {
    Regime::from_u8(v).map_or_else(|| format!("unknown_{v}"), |r| r.name().to_string())
}

/// A drift detector code's name (a theory packet's `sub`).
pub fn detector_name(v: u8) -> String {
    match v {
        1 => "page_hinkley".into(),
        2 => "cusum".into(),
        t => format!("unknown_{t}"),
    }
}

/// A risk-reject reason code's name.
pub fn reason_name(v: u16) -> String {
    RejectReason::from_u16(v).map_or_else(|| format!("unknown_{v}"), |r| r.name().to_string())
}

/// `CamelCase` Debug names as `snake_case`, or `unknown_N`.
fn code<T: std::fmt::Debug>(v: Option<T>, raw: u64) -> String {
    let Some(v) = v else {
        return format!("unknown_{raw}");
    };
    let s = format!("{v:?}");
    let mut o = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            o.push('_');
        }
        o.push(ch.to_ascii_lowercase());
    }
    o
}

fn side(v: u8) -> Cell {
    side_name(v).map_or(Cell::Null, |s| Cell::S(s.into()))
}

fn side_req(v: u8) -> Cell {
    Cell::S(side_name(v).unwrap_or("none").into())
}

fn pod<T: bytemuck::Pod>(p: &[u8]) -> Option<T> {
    (p.len() >= std::mem::size_of::<T>()).then(|| bytemuck::pod_read_unaligned(&p[..std::mem::size_of::<T>()]))
}

/// The rows a record of `kind` is read as, in its tables' column order: one
/// row, or two for an execution report with a fill (`inputs`, then `fills`).
/// `None` when the payload is not a valid record of that kind (wrong size, or
/// an input whose kind byte disagrees).
pub fn rows(
    kind: u16,
    seq: u64,
    ts_ns: u64,
    payload: &[u8],
    names: &Names,
) -> Option<Vec<(&'static Table, Vec<Cell>)>> {
    use Cell::{Null, I as Ci, S};
    let p = payload;
    let out = match kind {
        KIND_CONFIG => vec![(&CONFIG, vec![Ci(seq as i64), Ci(ts_ns as i64), Ci(p.len() as i64)])],
        1..=4 => {
            let n = input_size(kind as u8)?;
            if p.len() != n {
                return None;
            }
            let mut s = InputSlot::default();
            bytemuck::bytes_of_mut(&mut s)[..n].copy_from_slice(p);
            if s.kind_byte() as u16 != kind {
                return None;
            }
            return Some(input_rows(&s, names));
        }
        KIND_MD_BLOCK => {
            // One market-data row per event of the block.
            let mut d = super::md_block::BlockDecoder::default();
            d.load(p).ok()?;
            let mut out = Vec::with_capacity(d.remaining());
            while let Some(m) = d.next_event() {
                out.extend(input_rows(&InputSlot::from_md(&m.ok()?), names));
            }
            return Some(out);
        }
        KIND_MD_QUOTES => {
            // Two market-data rows per quote of the block: its bid side, then its ask side.
            let mut d = super::md_quotes::QuoteDecoder::default();
            d.load(p).ok()?;
            let mut out = Vec::with_capacity(2 * d.remaining());
            while let Some(q) = d.next_quote() {
                for m in q.ok()?.events() {
                    out.extend(input_rows(&InputSlot::from_md(&m), names));
                }
            }
            return Some(out);
        }
        k if k == Kind::Order as u16 => {
            let o: Order = pod(p)?;
            let h = o.header;
            let fix = String::from_utf8_lossy(&p[64..]).into_owned();
            vec![(
                &ORDERS,
                vec![
                    Ci(h.seq as i64),
                    Ci(h.ts_ns as i64),
                    Ci(h.instrument as i64),
                    names.symbol_req(h.instrument),
                    Ci(o.cl_ord_id as i64),
                    Ci(o.orig_cl_ord_id as i64),
                    S(code(o.action(), h.sub as u64)),
                    side_req(h.side),
                    S(code(OrdType::from_u8(h.flags), h.flags as u64)),
                    Ci(o.px),
                    names.price_req(h.instrument, o.px),
                    Ci(o.qty),
                    S(fix),
                ],
            )]
        }
        k if k == Kind::Reject as u16 && p.len() == 64 => {
            let x: RiskReject = pod(p)?;
            let message = RejectReason::from_u16(x.reason).map_or_else(
                || format!("unknown reason {}", x.reason),
                |reason| {
                    describe(&Breach {
                        reason,
                        limit: x.limit,
                        value: x.value,
                    })
                },
            );
            vec![(
                &REJECTS,
                vec![
                    Ci(x.header.seq as i64),
                    Ci(x.header.ts_ns as i64),
                    Ci(x.header.instrument as i64),
                    S(reason_name(x.reason)),
                    Ci(x.limit),
                    Ci(x.value),
                    Ci(x.px),
                    S(message),
                ],
            )]
        }
        k if k == Kind::Diary as u16 && p.len() == 128 => {
            let d: DiaryRecord = pod(p)?;
            let h = d.header;
            vec![(
                &DIARY,
                vec![
                    Ci(h.seq as i64),
                    Ci(h.ts_ns as i64),
                    Ci(h.instrument as i64),
                    Ci(d.cl_ord_id as i64),
                    S(code(Verdict::from_u8(h.sub), h.sub as u64)),
                    side(h.side),
                    S(policy_name(d.policy_id).to_string()),
                    S(topology_name(d.topology)),
                    S(regime_name(d.regime)),
                    Ci(d.px),
                    Ci(d.qty),
                    Ci(d.markout),
                    Ci(d.markout_events as i64),
                    RejectReason::from_u16(d.reject_reason).map_or(Null, |r| S(r.name().into())),
                    S(format!("{:016x}", d.policy_hash)),
                ],
            )]
        }
        k if k == Kind::Theory as u16 && p.len() == 128 => {
            let t: TheoryPacket = pod(p)?;
            vec![(
                &DRIFT_ALARMS,
                vec![
                    Ci(t.header.seq as i64),
                    Ci(t.header.ts_ns as i64),
                    Ci(t.header.instrument as i64),
                    S(detector_name(t.header.sub)),
                    Cell::F(t.statistic),
                    Cell::F(t.threshold),
                    Cell::F(t.signal_mean),
                    Ci(t.samples as i64),
                    Cell::F(t.size_factor as f64),
                    Ci(t.alarms as i64),
                ],
            )]
        }
        KIND_MD_END if p.len() == 16 => {
            let (records, events) = super::market_data::md_end_counts(p)?;
            vec![(
                &MD_END,
                vec![Ci(seq as i64), Ci(ts_ns as i64), Ci(records as i64), Ci(events as i64)],
            )]
        }
        KIND_RUN_END => {
            let e = super::run::RunEnd::from_bytes(p)?;
            vec![(
                &RUN_END,
                vec![
                    Ci(seq as i64),
                    Ci(ts_ns as i64),
                    Ci(e.inputs as i64),
                    Ci(e.orders as i64),
                    Ci(e.diary as i64),
                ],
            )]
        }
        KIND_DATA_QUALITY if p.len() == 32 => {
            let d: DqEvent = pod(p)?;
            vec![(
                &DATA_QUALITY,
                vec![
                    Ci(seq as i64),
                    Ci(d.ts_ns as i64),
                    Ci(if d.instrument == u32::MAX {
                        -1
                    } else {
                        d.instrument as i64
                    }),
                    S(d.code()
                        .map_or_else(|| format!("unknown_{}", d.code), |c| c.name().to_string())),
                    Ci(d.a),
                    Ci(d.b),
                ],
            )]
        }
        _ => return None,
    };
    Some(out)
}

/// The rows of one sequenced input.
pub fn input_rows(slot: &InputSlot, names: &Names) -> Vec<(&'static Table, Vec<Cell>)> {
    use Cell::{Null, I as Ci, S};
    let h = *slot.header();
    let base = |kind: &str| {
        vec![
            Ci(h.seq as i64),
            Ci(h.ts_ns as i64),
            S(kind.into()),
            Ci(h.instrument as i64),
        ]
    };
    let sym = names.symbol(h.instrument);
    let mut out = Vec::with_capacity(2);
    let row = match slot.view() {
        Some(InputView::Md(m)) => {
            let mut r = base("market_data");
            r.extend([
                sym,
                S(code(MdAction::from_u8(h.sub), h.sub as u64)),
                side(h.side),
                Ci(m.order_id as i64),
                Ci(m.px),
                names.price(h.instrument, m.px),
                Ci(m.qty),
            ]);
            r.extend([Null, Null, Null, Null, Null]);
            r
        }
        Some(InputView::Exec(e)) => {
            let kind = code(ExecKind::from_u8(h.sub), h.sub as u64);
            let mut r = base("exec_report");
            r.extend([
                sym,
                S(kind.clone()),
                side(h.side),
                Ci(e.venue_order_id as i64),
                Ci(e.order_px),
                names.price(h.instrument, e.order_px),
                Ci(e.order_qty),
                Ci(e.cl_ord_id as i64),
                Ci(e.last_px),
                Ci(e.last_qty),
                Ci(e.cum_qty),
                Ci(e.leaves_qty),
            ]);
            // A bust's last quantity is the fill it takes back, not a fill.
            if e.last_qty > 0 && ExecKind::from_u8(h.sub).is_some_and(ExecKind::is_fill) {
                out.push((&INPUTS, r));
                out.push((
                    &FILLS,
                    vec![
                        Ci(h.seq as i64),
                        Ci(h.ts_ns as i64),
                        Ci(h.instrument as i64),
                        names.symbol_req(h.instrument),
                        Ci(e.cl_ord_id as i64),
                        side_req(h.side),
                        S(kind),
                        Ci(e.last_px),
                        names.price_req(h.instrument, e.last_px),
                        Ci(e.last_qty),
                        Ci(e.cum_qty),
                        Ci(e.leaves_qty),
                    ],
                ));
                return out;
            }
            r
        }
        Some(InputView::Timer(_)) => {
            let mut r = base("timer");
            r.push(Null);
            r.push(S(if h.sub == 1 {
                "tick".into()
            } else {
                format!("unknown_{}", h.sub)
            }));
            r.extend(std::iter::repeat_n(Null, 10));
            r
        }
        Some(InputView::Command(_)) => {
            let mut r = base("command");
            r.push(Null);
            r.push(S(code(CommandKind::from_u8(h.sub), h.sub as u64)));
            r.extend(std::iter::repeat_n(Null, 10));
            r
        }
        None => {
            let mut r = base("unknown");
            r.extend(std::iter::repeat_n(Null, 12));
            r
        }
    };
    out.push((&INPUTS, row));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{ExecReport, MarketData, Side};

    #[test]
    fn every_row_has_its_tables_width_and_types() {
        let names = Names::default();
        let md = MarketData::new(MdAction::Add, 0, Some(Side::Buy), 1, 2, 100, 5, 0);
        let mut e = ExecReport::new(ExecKind::Fill, 0, Side::Sell, 3);
        e.last_qty = 3;
        for (kind, payload) in [
            (1u16, bytemuck::bytes_of(&md).to_vec()),
            (2, bytemuck::bytes_of(&e).to_vec()),
            (KIND_CONFIG, b"a: 1".to_vec()),
            (KIND_RUN_END, super::super::run::RunEnd::default().to_bytes().to_vec()),
        ] {
            let rows = rows(kind, 1, 2, &payload, &names).expect("decodes");
            for (t, r) in rows {
                assert_eq!(t.columns.len(), r.len(), "{}", t.name);
                for (c, v) in t.columns.iter().zip(&r) {
                    match (c.ty, v) {
                        (_, Cell::Null) => assert!(c.optional, "{}.{}", t.name, c.name),
                        (Ty::Int, Cell::I(_)) | (Ty::Float, Cell::F(_)) | (Ty::Text, Cell::S(_)) => {}
                        _ => panic!("{}.{}: {v:?}", t.name, c.name),
                    }
                }
            }
        }
        assert_eq!(rows(1, 1, 2, &[0u8; 10], &names), None);
    }
}
