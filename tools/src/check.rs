//! An independent invariant checker for `foxtrot sim --check`.
//!
//! It watches the same sequenced inputs and outgoing orders as the core, and
//! re-verifies every order that left risk against the configured limits, with
//! state it keeps itself and code it does not share with the engine: books as
//! sorted maps built from the raw feed (with the feed-validity rules restated
//! here), positions and open orders from the execution reports, an integer token
//! bucket, its own equity and drawdown. It also re-reads each order's FIX bytes.
//! Any disagreement is a violation, named and counted.

use foxtrot_engine::config::Config;
use foxtrot_engine::records::{
    CommandKind, ExecKind, InputSlot, InputView, InstrumentSpec, MdAction, OrdType, Order, OrderAction, Side,
};
use foxtrot_engine::runtime::RunObserver;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
struct Open {
    instrument: u32,
    side: Side,
    px: i64,
    qty: i64,
    cum: i64,
    pending_cl: u64,
    pending_qty: i64,
}

#[derive(Default, Clone)]
struct Inst {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    /// Twice the last mark (mid, else the first fill price).
    mark2: i64,
    position: i64,
    cash: i128,
    /// Fees charged (currency), from the schedule in `risk.fees`.
    fees: f64,
}

/// The checker.
pub struct Checker {
    specs: Vec<InstrumentSpec>,
    cfg: foxtrot_engine::config::RiskConfig,
    inst: Vec<Inst>,
    open: BTreeMap<u64, Open>,
    killed: bool,
    /// Operator reduce-only, and the instruments the operator halted.
    reduce_only: bool,
    halted: Vec<bool>,
    /// Throttle bucket in nano-tokens (1e9 = one order), integer arithmetic.
    tokens_n: i128,
    tokens_ts: u64,
    peak: Option<f64>,
    brake: u8,
    /// Orders checked.
    pub orders: u64,
    /// Violations by name.
    pub violations: BTreeMap<&'static str, u64>,
    /// First few violations, described.
    pub examples: Vec<String>,
}

impl Checker {
    /// A checker for `cfg`'s instruments and limits.
    pub fn new(cfg: &Config) -> Self {
        Checker {
            specs: cfg.instruments.clone(),
            cfg: cfg.risk.clone(),
            inst: vec![Inst::default(); cfg.instruments.len()],
            open: BTreeMap::new(),
            killed: false,
            reduce_only: false,
            halted: vec![false; cfg.instruments.len()],
            tokens_n: cfg.risk.order_burst as i128 * 1_000_000_000,
            tokens_ts: 0,
            peak: None,
            brake: 0,
            orders: 0,
            violations: BTreeMap::new(),
            examples: Vec::new(),
        }
    }

    /// Total violations.
    pub fn total(&self) -> u64 {
        self.violations.values().sum()
    }

    fn violation(&mut self, name: &'static str, detail: String) {
        *self.violations.entry(name).or_default() += 1;
        if self.examples.len() < 10 {
            self.examples.push(format!("{name}: {detail}"));
        }
    }

    fn scale(&self, i: usize) -> f64 {
        let s = &self.specs[i];
        10f64.powi(s.price_decimals as i32 + s.qty_decimals as i32)
    }

    /// Twice the reference price (the mid, else the last mark): exact for a
    /// mid between two ticks.
    fn reference2(&self, i: usize) -> Option<i64> {
        let b = &self.inst[i];
        match (b.bids.keys().next_back(), b.asks.keys().next()) {
            (Some(&bp), Some(&ap)) if bp <= ap => Some(bp + ap),
            _ if b.mark2 > 0 => Some(b.mark2),
            _ => None,
        }
    }

    fn equity(&self) -> f64 {
        (0..self.inst.len())
            .map(|i| {
                let b = &self.inst[i];
                (2 * b.cash + b.position as i128 * b.mark2 as i128) as f64 / (2.0 * self.scale(i)) - b.fees
            })
            .sum()
    }

    fn update_brake(&mut self) {
        if let Some(peak) = self.peak {
            let dd = peak - self.equity();
            if dd > self.cfg.halt_drawdown {
                self.brake = 2;
            } else if dd > self.cfg.reduce_only_drawdown && self.brake == 0 {
                self.brake = 1;
            }
        }
    }

    fn apply_md(&mut self, m: &foxtrot_engine::records::MarketData) {
        let i = m.header.instrument as usize;
        let Some(spec) = self.specs.get(i) else { return };
        let (Some(action), Some(side)) = (MdAction::from_u8(m.header.sub), Side::from_u8(m.header.side)) else {
            return;
        };
        if action == MdAction::Trade || m.px <= 0 || m.px % spec.tick != 0 {
            return;
        }
        let ok = match action {
            MdAction::Add | MdAction::Cancel | MdAction::Execute => m.qty > 0,
            MdAction::Modify => m.qty != 0,
            _ => m.qty >= 0,
        };
        if !ok {
            return;
        }
        let b = &mut self.inst[i];
        let book = if side == Side::Buy { &mut b.bids } else { &mut b.asks };
        match action {
            MdAction::Quote => {
                book.clear();
                if m.qty > 0 {
                    book.insert(m.px, m.qty);
                }
            }
            _ => {
                let delta = match action {
                    MdAction::Add | MdAction::Modify => m.qty,
                    _ => -m.qty,
                };
                let q = book.entry(m.px).or_insert(0);
                *q = (*q + delta).max(0);
                if *q == 0 {
                    book.remove(&m.px);
                }
            }
        }
        if let (Some(&bp), Some(&ap)) = (b.bids.keys().next_back(), b.asks.keys().next()) {
            if bp <= ap {
                b.mark2 = bp + ap;
            }
        }
    }

    fn apply_exec(&mut self, e: &foxtrot_engine::records::ExecReport) {
        let Some(kind) = ExecKind::from_u8(e.header.sub) else {
            return;
        };
        // The answer to a mass cancel names the request; its orders have
        // their own reports.
        if kind.is_mass_cancel() {
            return;
        }
        let key = self
            .open
            .iter()
            .find(|(cl, o)| {
                **cl == e.cl_ord_id
                    || (o.pending_cl != 0 && o.pending_cl == e.cl_ord_id)
                    || (e.orig_cl_ord_id != 0 && **cl == e.orig_cl_ord_id)
            })
            .map(|(cl, _)| *cl);
        // A corrected trade books as a fill (after the bust of the one it corrects).
        if kind.is_trade() && e.last_qty > 0 {
            if let (Some(side), Some(b)) = (
                Side::from_u8(e.header.side),
                self.inst.get_mut(e.header.instrument as usize),
            ) {
                // A bust takes its fill back: the opposite trade, fee returned.
                let (sign, k) = if kind == ExecKind::TradeBust {
                    (-side.sign(), -1.0)
                } else {
                    (side.sign(), 1.0)
                };
                b.position += sign * e.last_qty;
                b.cash -= sign as i128 * e.last_px as i128 * e.last_qty as i128;
                // Fees as the schedule reads: maker only when the venue said the
                // fill added liquidity; per unit of whole quantity.
                let spec = &self.specs[e.header.instrument as usize];
                if let Some(f) = self.cfg.fees.iter().find(|f| f.symbol == spec.symbol) {
                    let bps = if e.header.flags & foxtrot_engine::records::LIQUIDITY_ADDED != 0 {
                        f.maker_bps
                    } else {
                        f.taker_bps
                    };
                    let units = e.last_qty as f64 / 10f64.powi(spec.qty_decimals as i32);
                    let px = e.last_px as f64 / 10f64.powi(spec.price_decimals as i32);
                    b.fees += k * (px * units * bps / 10_000.0 + units * f.per_unit);
                }
                if b.mark2 == 0 {
                    b.mark2 = 2 * e.last_px;
                }
            }
            self.update_brake();
        }
        let Some(k) = key else { return };
        let mut o = self.open.remove(&k).expect("key from the map");
        let mut cl = k;
        match kind {
            ExecKind::New => {}
            ExecKind::PartialFill | ExecKind::Fill => o.cum = o.cum.max(e.cum_qty),
            ExecKind::Replaced => {
                cl = e.cl_ord_id;
                o.px = e.order_px;
                o.qty = e.order_qty;
                o.cum = e.cum_qty;
                o.pending_cl = 0;
                o.pending_qty = 0;
            }
            ExecKind::CancelRejected => {
                o.pending_cl = 0;
                o.pending_qty = 0;
            }
            ExecKind::Canceled | ExecKind::Rejected => {}
            ExecKind::TradeBust => o.cum = (o.cum - e.last_qty).max(0),
            ExecKind::TradeCorrected => o.cum += e.last_qty.max(0),
            ExecKind::MassCancelDone | ExecKind::MassCancelRefused => {}
            // The venue's own restatement: the order as it now stands.
            ExecKind::Restated => {
                if e.order_qty > 0 {
                    o.qty = e.order_qty;
                }
                if e.order_px > 0 {
                    o.px = e.order_px;
                }
                o.cum = o.cum.max(e.cum_qty);
            }
        }
        let done = kind.is_terminal()
            || (kind.is_fill() && e.leaves_qty == 0)
            || (kind == ExecKind::Restated && e.leaves_qty <= 0);
        if !done {
            self.open.insert(cl, o);
        }
    }

    fn working_on(&self, i: u32, side: Side, except: u64) -> i64 {
        self.open
            .iter()
            .filter(|(cl, o)| o.instrument == i && o.side == side && **cl != except)
            .map(|(_, o)| (o.qty - o.cum).max(o.pending_qty - o.cum).max(0))
            .sum()
    }

    fn gross(&self, except: u64) -> f64 {
        let held: f64 = (0..self.inst.len())
            .map(|i| (self.inst[i].position.abs() as i128 * self.inst[i].mark2 as i128) as f64 / (2.0 * self.scale(i)))
            .sum();
        let working: f64 = self
            .open
            .iter()
            .filter(|(cl, _)| **cl != except)
            .map(|(_, o)| (o.px as i128 * (o.qty - o.cum).max(0) as i128) as f64 / self.scale(o.instrument as usize))
            .sum();
        held + working
    }

    fn tokens_at(&self, ts: u64) -> i128 {
        let dt = ts.saturating_sub(self.tokens_ts) as i128;
        let refill = dt * (self.cfg.orders_per_sec * 1e6) as i128 / 1_000_000;
        (self.tokens_n + refill).min(self.cfg.order_burst as i128 * 1_000_000_000)
    }

    fn check_wire(&mut self, o: &Order, wire: &[u8]) {
        let fields: Vec<(&[u8], &[u8])> = wire
            .split(|&b| b == 1)
            .filter(|f| !f.is_empty())
            .filter_map(|f| f.iter().position(|&b| b == b'=').map(|p| (&f[..p], &f[p + 1..])))
            .collect();
        let get = |tag: &[u8]| fields.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
        let spec = &self.specs[o.header.instrument as usize];
        let num = |v: Option<&[u8]>, dec: u8| -> Option<i64> {
            let s = std::str::from_utf8(v?).ok()?;
            let (a, b) = s.split_once('.').unwrap_or((s, ""));
            if b.len() != dec as usize {
                return None;
            }
            format!("{a}{b}").parse().ok()
        };
        let side_ok = get(b"54")
            == Some(if o.header.side == 1 {
                b"1".as_slice()
            } else {
                b"2".as_slice()
            });
        let qty_ok = num(get(b"38"), spec.qty_decimals) == Some(o.qty);
        // A market order carries OrdType 1 and no price; a limit order OrdType 2 and its price.
        let px_ok = o.action() == Some(OrderAction::Cancel)
            || if o.ord_type() == Some(OrdType::Market) {
                get(b"44").is_none() && get(b"40") == Some(b"1".as_slice()) && o.px == 0
            } else {
                num(get(b"44"), spec.price_decimals) == Some(o.px)
            };
        let sym_ok = get(b"55") == Some(spec.symbol.as_bytes());
        if !(side_ok && qty_ok && px_ok && sym_ok) {
            self.violation(
                "WIRE_MISMATCH",
                format!(
                    "cl {} side {side_ok} qty {qty_ok} px {px_ok} symbol {sym_ok}",
                    o.cl_ord_id
                ),
            );
        }
    }

    fn check_order(&mut self, o: &Order, wire: &[u8]) {
        self.orders += 1;
        if o.action() == Some(OrderAction::MassCancel) {
            // No side, quantity or price: its request type, and its symbol
            // when it cancels one instrument's orders.
            let has = |f: &[u8]| wire.windows(f.len()).any(|w| w == f);
            let sym = [
                b"\x0155=",
                self.specs[o.header.instrument as usize].symbol.as_bytes(),
                b"\x01",
            ]
            .concat();
            let ok = match o.header.flags {
                1 => has(b"\x01530=1\x01") && has(&sym),
                7 => has(b"\x01530=7\x01") && !has(b"\x0155="),
                _ => false,
            };
            if !ok {
                self.violation("WIRE_MISMATCH", format!("mass cancel cl {}", o.cl_ord_id));
            }
            return;
        }
        self.check_wire(o, wire);
        let i = o.header.instrument;
        let iu = i as usize;
        let Some(action) = o.action() else {
            return self.violation("MALFORMED", format!("cl {}", o.cl_ord_id));
        };
        let Some(side) = o.side() else {
            return self.violation("MALFORMED", format!("cl {}", o.cl_ord_id));
        };
        if action == OrderAction::Cancel {
            if !self.open.contains_key(&o.orig_cl_ord_id) {
                self.violation(
                    "CANCEL_UNKNOWN",
                    format!("cl {} orig {}", o.cl_ord_id, o.orig_cl_ord_id),
                );
            } else if let Some(x) = self.open.get_mut(&o.orig_cl_ord_id) {
                x.pending_cl = o.cl_ord_id;
            }
            return;
        }
        let spec = self.specs[iu].clone();
        let c = self.cfg.clone();
        let ts = o.header.ts_ns;
        if self.killed {
            self.violation("KILL_SWITCH", format!("cl {} after kill", o.cl_ord_id));
        }
        if self.halted.get(iu) == Some(&true) {
            self.violation(
                "INSTRUMENT_HALTED",
                format!("cl {} on a halted instrument", o.cl_ord_id),
            );
        }
        if self.brake == 2 {
            self.violation("DRAWDOWN_HALT", format!("cl {}", o.cl_ord_id));
        }
        let market = o.ord_type() == Some(OrdType::Market);
        let bad_px = if market {
            o.px != 0
        } else {
            o.px <= 0 || o.px % spec.tick != 0
        };
        if o.qty <= 0 || o.qty % spec.lot != 0 || bad_px {
            self.violation("MALFORMED", format!("cl {} px {} qty {}", o.cl_ord_id, o.px, o.qty));
        }
        if o.qty > c.max_order_qty {
            self.violation(
                "MAX_ORDER_QTY",
                format!("cl {} qty {} > {}", o.cl_ord_id, o.qty, c.max_order_qty),
            );
        }
        // A market order is valued at the reference (the mid, else the last mark);
        // the price band is a rule for limit prices and does not apply to it.
        let reference2 = self.reference2(iu);
        let px = if market {
            reference2.map_or(0.0, |r2| r2 as f64 / 2.0)
        } else {
            o.px as f64
        };
        match reference2 {
            None => self.violation("NO_REFERENCE", format!("cl {}", o.cl_ord_id)),
            Some(_) if market => {}
            Some(r2) => {
                if (2 * o.px as i128 - r2 as i128).abs() * 10_000 > c.price_band_bps as i128 * r2 as i128 {
                    self.violation(
                        "PRICE_BAND",
                        format!("cl {} px {} ref {}", o.cl_ord_id, o.px, r2 as f64 / 2.0),
                    );
                }
            }
        }
        let notional = px * o.qty as f64 / self.scale(iu);
        if notional > c.max_notional * (1.0 + 1e-9) {
            self.violation(
                "MAX_NOTIONAL",
                format!("cl {} {notional} > {}", o.cl_ord_id, c.max_notional),
            );
        }
        let except = if action == OrderAction::Replace {
            o.orig_cl_ord_id
        } else {
            0
        };
        if action == OrderAction::Replace && !self.open.contains_key(&o.orig_cl_ord_id) {
            self.violation(
                "REPLACE_UNKNOWN",
                format!("cl {} orig {}", o.cl_ord_id, o.orig_cl_ord_id),
            );
        }
        let pos = self.inst[iu].position;
        let worst = pos + side.sign() * (self.working_on(i, side, except) + o.qty);
        let adds = worst.abs() > pos.abs();
        if adds && worst.abs() > c.position_limit {
            self.violation(
                "POSITION_LIMIT",
                format!("cl {} worst {worst} > {}", o.cl_ord_id, c.position_limit),
            );
        }
        if self.brake == 1 && (adds || worst.signum() * pos.signum() < 0) {
            self.violation("REDUCE_ONLY", format!("cl {} pos {pos} worst {worst}", o.cl_ord_id));
        }
        if self.reduce_only && (adds || worst.signum() * pos.signum() < 0) {
            self.violation(
                "OPERATOR_REDUCE_ONLY",
                format!("cl {} pos {pos} worst {worst}", o.cl_ord_id),
            );
        }
        if adds {
            let gross = self.gross(except) + notional;
            if gross > c.max_gross * (1.0 + 1e-9) {
                self.violation(
                    "GROSS_EXPOSURE",
                    format!("cl {} {gross:.2} > {}", o.cl_ord_id, c.max_gross),
                );
            }
        }
        let opens = self.open.len() - (action == OrderAction::Replace) as usize;
        if opens >= c.max_open_orders as usize {
            self.violation("MAX_OPEN_ORDERS", format!("cl {} opens {opens}", o.cl_ord_id));
        }
        // One part in a million of a token of slack for the engine's float bucket.
        if self.tokens_at(ts) < 1_000_000_000 - 1_000 {
            self.violation("THROTTLE", format!("cl {} tokens {}", o.cl_ord_id, self.tokens_at(ts)));
        }
        self.tokens_n = self.tokens_at(ts) - 1_000_000_000;
        self.tokens_ts = self.tokens_ts.max(ts);
        match action {
            OrderAction::New => {
                self.open.insert(
                    o.cl_ord_id,
                    Open {
                        instrument: i,
                        side,
                        px: o.px,
                        qty: o.qty,
                        cum: 0,
                        pending_cl: 0,
                        pending_qty: 0,
                    },
                );
            }
            _ => {
                if let Some(x) = self.open.get_mut(&o.orig_cl_ord_id) {
                    x.pending_cl = o.cl_ord_id;
                    x.pending_qty = o.qty;
                }
            }
        }
    }
}

impl RunObserver for Checker {
    fn on_input(&mut self, slot: &InputSlot) {
        match slot.view() {
            Some(InputView::Md(m)) => self.apply_md(m),
            Some(InputView::Exec(e)) => self.apply_exec(e),
            Some(InputView::Timer(_)) => {
                let e = self.equity();
                self.peak = Some(self.peak.map_or(e, |p| p.max(e)));
                self.update_brake();
            }
            Some(InputView::Command(c)) => match CommandKind::from_u8(c.header.sub) {
                Some(CommandKind::Kill) => self.killed = true,
                Some(CommandKind::Rearm) => {
                    // Clears the kill switch, reduce-only and the drawdown brake;
                    // the peak restarts at the equity of the moment.
                    self.killed = false;
                    self.reduce_only = false;
                    self.brake = 0;
                    if self.peak.is_some() {
                        self.peak = Some(self.equity());
                    }
                }
                Some(CommandKind::ReduceOnly) => self.reduce_only = true,
                Some(CommandKind::Halt) | Some(CommandKind::Resume) => {
                    let halt = CommandKind::from_u8(c.header.sub) == Some(CommandKind::Halt);
                    if let Some(h) = self.halted.get_mut(c.header.instrument as usize) {
                        *h = halt;
                    }
                }
                None => {}
            },
            None => {}
        }
    }
    fn on_order(&mut self, order: &Order, wire: &[u8]) {
        self.check_order(order, wire);
    }
}
