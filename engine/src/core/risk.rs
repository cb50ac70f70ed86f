//! Risk: pre-trade invariants on every intent, positions and PnL from fills.
//!
//! Nothing leaves the core without passing [`Risk::check`]. Each failed check is a
//! [`RejectReason`] with the limit and the offending value, in the unit of the check
//! (quantity units, price units, or notional in price × quantity units), so a reject
//! message reads like `PRICE_BAND: px=1015000 ref=1000000 band_bps=100`.
//!
//! Cancels are always allowed for orders we have open (a kill switch must be able to
//! pull everything); new orders and replaces go through every check, in this order:
//! kill switch, drawdown brake, malformed, max quantity, reference price, price band,
//! max notional, position limit, gross exposure, open orders, throttle.
//!
//! - **Throttle**: a token bucket of `order_burst` tokens refilled at
//!   `orders_per_sec` per second of *control* time; each new order or replace takes
//!   one. Cancels are exempt, so the kill switch is never throttled.
//! - **Drawdown brake**: equity (cash + positions at their marks) is tracked against
//!   its intraday peak on every timer and fill. Past `reduce_only_drawdown` only
//!   orders that shrink |position| (and would not flip it) pass; past
//!   `halt_drawdown` nothing new passes. The brake holds for the rest of the session
//!   unless the operator re-arms (`foxtrot ctl … rearm`), which restarts the peak
//!   at the equity of that moment.
//! - **Gross exposure**: Σ |position| × mark + Σ working notional + this order, in
//!   currency, against `max_gross`, for orders that add exposure.

use super::book::Top;
use super::orders::{OrderState, OrderTracker};
use crate::core::params::RiskConfig;
use crate::records::{pow10, ExecKind, ExecReport, InstrumentSpec, OrdType, OrderAction, OrderIntent, RejectReason};

/// A failed check: the reason, the limit and the value that breached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breach {
    /// Which check failed.
    pub reason: RejectReason,
    /// The limit, in the check's unit.
    pub limit: i64,
    /// The offending value, in the same unit.
    pub value: i64,
}

impl Breach {
    fn new(reason: RejectReason, limit: i64, value: i64) -> Self {
        Breach { reason, limit, value }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct InstrumentRisk {
    tick: i64,
    lot: i64,
    /// 10^(price_decimals + qty_decimals): price × qty units per currency unit.
    notional_scale: i128,
    /// The widest instrument's `notional_scale` over this one's: its price ×
    /// qty units times this are in the common units gross exposure is summed in.
    to_common: i128,
    max_notional_raw: i128,
    position: i64,
    /// Cash in price × quantity units (sells add, buys subtract).
    cash: i128,
    /// Twice the last mark (mid, else last fill) in price units, so a mid
    /// between two ticks loses nothing; 0 = none.
    mark2: i64,
    /// Cost of the open position in price × quantity units, signed like it
    /// (for realised/unrealised PnL on the live board only; no decision reads it).
    cost: i128,
    fills: u64,
    filled_qty: i64,
    traded_notional_raw: i128,
    /// Fee rates: maker and taker as fractions of notional, and per quantity
    /// unit in currency (`risk.fees`; all 0 without a schedule).
    maker_rate: f64,
    taker_rate: f64,
    per_unit: f64,
    /// Fees charged so far, currency (negative: rebates earned).
    fees: f64,
}

/// The fee of one fill (currency): the maker rate when the venue said the
/// fill added liquidity, else the taker rate, on its notional; plus the
/// per-unit charge on its quantity.
#[inline]
fn fee(maker: f64, taker: f64, per_unit: f64, flags: u8, notional_raw: i128, scale: i128, qty: i64) -> f64 {
    let rate = if flags & crate::records::LIQUIDITY_ADDED != 0 {
        maker
    } else {
        taker
    };
    if rate == 0.0 && per_unit == 0.0 {
        return 0.0;
    }
    to_f64(notional_raw) / to_f64(scale) * rate + qty as f64 * per_unit
}

/// State of the drawdown brake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrakeMode {
    /// No brake.
    Normal,
    /// Only risk-reducing orders.
    ReduceOnly,
    /// No new orders.
    Halt,
}

/// The risk stage.
pub struct Risk {
    cfg: RiskConfig,
    inst: Vec<InstrumentRisk>,
    killed: bool,
    /// Operator reduce-only (until re-armed).
    operator_reduce_only: bool,
    /// Instruments the operator halted.
    halted: Vec<bool>,
    mode: BrakeMode,
    tokens: f64,
    tokens_ts: u64,
    peak_equity: f64,
    max_drawdown: f64,
    equity_samples: u64,
    /// Twice the widest `notional_scale`, as f64: common units per currency
    /// unit, doubled as `mark2` is.
    common2: f64,
}

/// Positions and PnL at a point in time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PnlSnapshot {
    /// Cash + marked positions, in currency units, summed over instruments.
    pub equity: f64,
    /// Largest peak-to-trough fall of sampled equity.
    pub max_drawdown: f64,
    /// Number of fills.
    pub fills: u64,
    /// Total filled quantity (absolute) in quantity units.
    pub filled_qty: i64,
    /// Total traded notional in currency units.
    pub turnover: f64,
}

impl Risk {
    /// Risk state for `instruments` under `cfg`.
    pub fn new(cfg: &RiskConfig, instruments: &[InstrumentSpec]) -> Self {
        let inst = instruments
            .iter()
            .map(|s| {
                let scale = pow10(s.price_decimals) as i128 * pow10(s.qty_decimals) as i128;
                let fee = cfg.fees.iter().find(|f| f.symbol == s.symbol);
                InstrumentRisk {
                    tick: s.tick,
                    lot: s.lot,
                    notional_scale: scale,
                    max_notional_raw: (cfg.max_notional * scale as f64) as i128,
                    maker_rate: fee.map_or(0.0, |f| f.maker_bps / 1e4),
                    taker_rate: fee.map_or(0.0, |f| f.taker_bps / 1e4),
                    per_unit: fee.map_or(0.0, |f| f.per_unit / pow10(s.qty_decimals) as f64),
                    ..InstrumentRisk::default()
                }
            })
            .collect::<Vec<InstrumentRisk>>();
        let common = inst.iter().map(|r| r.notional_scale).max().unwrap_or(1);
        let inst = inst
            .into_iter()
            .map(|r| InstrumentRisk {
                to_common: common / r.notional_scale,
                ..r
            })
            .collect();
        Risk {
            common2: to_f64(2 * common),
            cfg: cfg.clone(),
            inst,
            killed: false,
            operator_reduce_only: false,
            halted: vec![false; instruments.len()],
            mode: BrakeMode::Normal,
            tokens: cfg.order_burst as f64,
            tokens_ts: 0,
            peak_equity: 0.0,
            max_drawdown: 0.0,
            equity_samples: 0,
        }
    }

    /// Checks one intent against every invariant. `book` is the instrument's book
    /// (reference price = mid; the last mark when the book is one-sided).
    pub fn check(&self, it: &OrderIntent, book: Option<&Top>, orders: &OrderTracker) -> Result<(), Breach> {
        let malformed = Breach::new(RejectReason::Malformed, 0, 0);
        let (Some(action), Some(side), Some(r), Some(book)) = (
            it.action(),
            it.side(),
            self.inst.get(it.header.instrument as usize),
            book,
        ) else {
            return Err(malformed);
        };
        if action == OrderAction::Cancel {
            return match orders.get(it.target_cl_ord_id) {
                Some(o) if o.state == OrderState::Working || o.state == OrderState::PendingNew => Ok(()),
                _ => Err(Breach::new(RejectReason::UnknownOrder, 0, it.target_cl_ord_id as i64)),
            };
        }
        if self.killed {
            return Err(Breach::new(RejectReason::KillSwitch, 0, 1));
        }
        if self.halted.get(it.header.instrument as usize) == Some(&true) {
            return Err(Breach::new(
                RejectReason::InstrumentHalted,
                0,
                it.header.instrument as i64,
            ));
        }
        if self.mode == BrakeMode::Halt {
            return Err(Breach::new(
                RejectReason::DrawdownHalt,
                self.cfg.halt_drawdown as i64,
                self.drawdown() as i64,
            ));
        }
        let Some(ord_type) = OrdType::from_u8(it.ord_type) else {
            return Err(malformed);
        };
        if it.qty <= 0 || it.qty % r.lot != 0 {
            return Err(Breach::new(RejectReason::Malformed, r.lot, it.qty));
        }
        if ord_type == OrdType::Limit && (it.px <= 0 || it.px % r.tick != 0) {
            return Err(Breach::new(RejectReason::Malformed, r.tick, it.px));
        }
        if it.qty > self.cfg.max_order_qty {
            return Err(Breach::new(RejectReason::MaxOrderQty, self.cfg.max_order_qty, it.qty));
        }
        // In doubled price units: a mid between two ticks is exact.
        let reference2 = match book.mid2() {
            Some(m2) => m2,
            _ if r.mark2 > 0 => r.mark2,
            _ => return Err(Breach::new(RejectReason::NoReference, 0, 0)),
        };
        let px2 = if ord_type == OrdType::Limit {
            2 * it.px
        } else {
            reference2
        };
        let px = px2 / 2;
        let band = self.cfg.price_band_bps as i128;
        if (px2 as i128 - reference2 as i128).abs() * 10_000 > band * reference2 as i128 {
            return Err(Breach::new(RejectReason::PriceBand, reference2 / 2, px));
        }
        let notional2 = px2 as i128 * it.qty as i128;
        if notional2 > 2 * r.max_notional_raw {
            return Err(Breach::new(
                RejectReason::MaxNotional,
                clamp_i64(r.max_notional_raw),
                clamp_i64(notional2 / 2),
            ));
        }
        // Worst case if everything working on this side fills, plus this order.
        let mut working = orders.working_on_side(it.header.instrument, side);
        let mut opens = orders.len();
        if action == OrderAction::Replace {
            match orders.get(it.target_cl_ord_id) {
                Some(o) if o.state == OrderState::Working && o.side == side => {
                    working -= o.leaves();
                    opens -= 1;
                }
                _ => return Err(Breach::new(RejectReason::UnknownOrder, 0, it.target_cl_ord_id as i64)),
            }
        }
        let worst = r.position + side.sign() * (working + it.qty);
        let adds_exposure = worst.abs() > r.position.abs();
        if self.mode == BrakeMode::ReduceOnly && (adds_exposure || worst.signum() * r.position.signum() < 0) {
            return Err(Breach::new(RejectReason::ReduceOnly, r.position, worst));
        }
        if self.operator_reduce_only && (adds_exposure || worst.signum() * r.position.signum() < 0) {
            return Err(Breach::new(RejectReason::OperatorReduceOnly, r.position, worst));
        }
        if worst.abs() > self.cfg.position_limit && adds_exposure {
            return Err(Breach::new(RejectReason::PositionLimit, self.cfg.position_limit, worst));
        }
        if adds_exposure {
            // Summed exactly; rounded only in the conversion to currency.
            let replaced2 = match action {
                OrderAction::Replace => orders
                    .get(it.target_cl_ord_id)
                    .map_or(0, |o| self.working2(o.instrument, o.px, o.leaves())),
                _ => 0,
            };
            let gross2 = self.gross2(orders) - replaced2 + self.working2(it.header.instrument, px, it.qty);
            let gross = to_f64(gross2) / self.common2;
            if gross > self.cfg.max_gross {
                return Err(Breach::new(
                    RejectReason::GrossExposure,
                    self.cfg.max_gross as i64,
                    gross as i64,
                ));
            }
        }
        if opens >= self.cfg.max_open_orders as usize || (action == OrderAction::New && orders.is_full()) {
            return Err(Breach::new(
                RejectReason::MaxOpenOrders,
                self.cfg.max_open_orders as i64,
                opens as i64 + 1,
            ));
        }
        let tokens = self.tokens_at(it.header.ts_ns);
        if tokens < 1.0 {
            return Err(Breach::new(
                RejectReason::Throttle,
                self.cfg.order_burst as i64,
                (tokens * 1000.0) as i64,
            ));
        }
        Ok(())
    }

    /// Σ |position| × mark + Σ working notional, in currency units: the exact
    /// integer sum, then converted (exact below 2^53 common units) and
    /// scaled (one rounding) — never rounded term by term.
    pub fn gross(&self, orders: &OrderTracker) -> f64 {
        to_f64(self.gross2(orders)) / self.common2
    }

    /// Gross exposure in common units, doubled (see `common2`): exact — an
    /// integer product per position and per working order, and no division
    /// (a division per open order was most of a risk check's time).
    fn gross2(&self, orders: &OrderTracker) -> i128 {
        let held = self.inst.iter().fold(0i128, |acc, r| {
            acc.saturating_add((r.position.unsigned_abs() as i128 * r.mark2 as i128).saturating_mul(r.to_common))
        });
        orders.iter().fold(held, |acc, o| {
            acc.saturating_add(self.working2(o.instrument, o.px, o.leaves()))
        })
    }

    /// A working quantity's notional in common units, doubled (0 for an
    /// instrument out of range).
    #[inline]
    fn working2(&self, instrument: u32, px: i64, qty: i64) -> i128 {
        self.inst
            .get(instrument as usize)
            .map_or(0, |r| (2 * px as i128 * qty as i128).saturating_mul(r.to_common))
    }

    /// Tokens in the throttle's bucket at control time `ts` (refill is computed, not applied).
    fn tokens_at(&self, ts: u64) -> f64 {
        let dt = ts.saturating_sub(self.tokens_ts) as f64 * 1e-9;
        (self.tokens + dt * self.cfg.orders_per_sec).min(self.cfg.order_burst as f64)
    }

    /// An order (new or replace) left at control time `ts`: takes a throttle token.
    pub fn on_sent(&mut self, action: OrderAction, ts: u64) {
        if action == OrderAction::Cancel {
            return;
        }
        self.tokens = self.tokens_at(ts) - 1.0;
        self.tokens_ts = self.tokens_ts.max(ts);
    }

    /// Current drawdown from the equity peak, currency units.
    pub fn drawdown(&self) -> f64 {
        (self.peak_equity - self.equity()).max(0.0)
    }

    fn update_brake(&mut self) {
        self.update_brake_at(self.equity());
    }

    /// [`update_brake`](Self::update_brake) with the equity already computed.
    fn update_brake_at(&mut self, equity: f64) {
        let dd = (self.peak_equity - equity).max(0.0);
        if dd > self.cfg.halt_drawdown {
            self.mode = BrakeMode::Halt;
        } else if dd > self.cfg.reduce_only_drawdown && self.mode == BrakeMode::Normal {
            self.mode = BrakeMode::ReduceOnly;
        }
    }

    /// The drawdown brake's state.
    pub fn brake(&self) -> BrakeMode {
        self.mode
    }

    /// A risk warning on `instrument`: the brake is on, the position is above 80% of
    /// its limit, or the throttle's bucket is empty at `ts`. Exploration freezes on it.
    pub fn warning(&self, instrument: u32, ts: u64) -> bool {
        self.mode != BrakeMode::Normal
            || self.position(instrument).abs() * 5 > self.cfg.position_limit * 4
            || self.tokens_at(ts) < 1.0
    }

    /// Applies a fill to positions and cash; a bust of one takes it back.
    pub fn on_exec(&mut self, er: &ExecReport) {
        let Some(kind) = er.kind() else { return };
        let Some(side) = er.side() else { return };
        let bust = kind == ExecKind::TradeBust;
        // A correction's trade is booked as a fill; what was reported (fill
        // counts, traded totals) keeps the fill it corrects, as for a bust.
        if !kind.is_trade() || er.last_qty <= 0 {
            return;
        }
        let Some(r) = self.inst.get_mut(er.header.instrument as usize) else {
            return;
        };
        // A bust is the same trade the other way at the same price, with its
        // fee given back: position and cash (so equity) return exactly to
        // what they would have been; the realised/unrealised split follows
        // the average cost through both trades. The fill counts and traded
        // totals (what was reported) keep the busted fill.
        let sign = if bust { -side.sign() } else { side.sign() };
        r.cost = cost_after(r.cost, r.position, sign * er.last_qty, er.last_px);
        r.position += sign * er.last_qty;
        let notional = er.last_px as i128 * er.last_qty as i128;
        r.cash -= sign as i128 * notional;
        if kind.is_fill() {
            r.fills += 1;
            r.filled_qty += er.last_qty;
            r.traded_notional_raw += notional;
        }
        let f = fee(
            r.maker_rate,
            r.taker_rate,
            r.per_unit,
            er.header.flags,
            notional,
            r.notional_scale,
            er.last_qty,
        );
        r.fees += if bust { -f } else { f };
        if r.mark2 == 0 {
            r.mark2 = 2 * er.last_px;
        }
        self.update_brake();
    }

    /// Updates the mark of `instrument` from its book ([`Top::mid2`]; kept
    /// while the book has none).
    #[inline]
    pub fn mark(&mut self, instrument: u32, book: &Top) {
        if let (Some(m2), Some(r)) = (book.mid2(), self.inst.get_mut(instrument as usize)) {
            r.mark2 = m2;
        }
    }

    /// Samples equity for the drawdown (call on the housekeeping timer).
    pub fn sample_equity(&mut self) {
        let e = self.equity();
        if self.equity_samples == 0 || e > self.peak_equity {
            self.peak_equity = e;
        }
        self.equity_samples += 1;
        self.max_drawdown = self.max_drawdown.max(self.peak_equity - e);
        self.update_brake_at(e);
    }

    /// Cash plus positions marked at the last mark, less fees, in currency units.
    pub fn equity(&self) -> f64 {
        self.inst
            .iter()
            .map(|r| to_f64(2 * r.cash + r.position as i128 * r.mark2 as i128) / to_f64(2 * r.notional_scale) - r.fees)
            .sum()
    }

    /// Fees charged on instrument `i`'s fills so far (currency; negative: rebates).
    pub fn fees(&self, i: u32) -> f64 {
        self.inst.get(i as usize).map_or(0.0, |r| r.fees)
    }

    /// Position of `instrument` in quantity units.
    #[inline]
    pub fn position(&self, instrument: u32) -> i64 {
        self.inst.get(instrument as usize).map_or(0, |r| r.position)
    }

    /// How many instruments it tracks.
    pub fn instruments(&self) -> usize {
        self.inst.len()
    }

    /// Instrument `i`'s position and PnL split at the last mark: realised
    /// (closed quantity at its average cost) and unrealised (the open position
    /// against its average cost), in currency units.
    pub fn figures(&self, i: u32) -> (i64, f64, f64) {
        let Some(r) = self.inst.get(i as usize) else {
            return (0, 0.0, 0.0);
        };
        let scale = to_f64(r.notional_scale);
        let unrealised = to_f64(r.position as i128 * r.mark2 as i128 - 2 * r.cost) / (2.0 * scale);
        let realised = to_f64(r.cash + r.cost) / scale;
        (r.position, realised, unrealised)
    }

    /// Operator reduce-only: only risk-reducing orders pass until re-armed.
    pub fn set_reduce_only(&mut self) {
        self.operator_reduce_only = true;
    }

    /// Halts (`true`) or resumes instrument `i`.
    pub fn set_halted(&mut self, i: u32, halted: bool) {
        if let Some(h) = self.halted.get_mut(i as usize) {
            *h = halted;
        }
    }

    /// The trading state: 0 normal, 1 reduce-only (brake or operator), 2
    /// drawdown halt, 3 killed.
    pub fn trading_state(&self) -> u8 {
        if self.killed {
            3
        } else if self.mode == BrakeMode::Halt {
            2
        } else if self.mode == BrakeMode::ReduceOnly || self.operator_reduce_only {
            1
        } else {
            0
        }
    }

    /// Whether the operator halted instrument `i`.
    pub fn is_halted(&self, i: u32) -> bool {
        self.halted.get(i as usize) == Some(&true)
    }

    /// Engages the kill switch: every later new order or replace is rejected.
    pub fn kill(&mut self) {
        self.killed = true;
    }

    /// Re-arms: clears the kill switch, operator reduce-only and the drawdown
    /// brake, whose peak restarts at the current equity (an operator's decision
    /// to trade on after a drawdown halt; the largest drawdown is kept).
    pub fn rearm(&mut self) {
        self.killed = false;
        self.operator_reduce_only = false;
        self.mode = BrakeMode::Normal;
        if self.equity_samples > 0 {
            self.peak_equity = self.equity();
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &RiskConfig {
        &self.cfg
    }

    /// PnL and activity so far.
    pub fn snapshot(&self) -> PnlSnapshot {
        PnlSnapshot {
            equity: self.equity(),
            max_drawdown: self.max_drawdown.max(self.peak_equity - self.equity()),
            fills: self.inst.iter().map(|r| r.fills).sum(),
            filled_qty: self.inst.iter().map(|r| r.filled_qty).sum(),
            turnover: self
                .inst
                .iter()
                .map(|r| to_f64(r.traded_notional_raw) / to_f64(r.notional_scale))
                .sum(),
        }
    }
}

/// The cost of a position of `pos` with cost `cost` after a signed fill of `q` at `px`:
/// what adds is at `px`; what closes takes its share of the average cost; a
/// flip's remainder opens at `px`.
fn cost_after(cost: i128, pos: i64, q: i64, px: i64) -> i128 {
    if pos == 0 || pos.signum() == q.signum() {
        return cost + q as i128 * px as i128;
    }
    let closed = q.unsigned_abs().min(pos.unsigned_abs()) as i128;
    let kept = cost - cost * closed / pos.unsigned_abs() as i128;
    let opened = q.unsigned_abs() as i128 - closed;
    if opened > 0 {
        q.signum() as i128 * opened * px as i128
    } else {
        kept
    }
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Formats a breach as a one-line message naming the limit and the value.
pub fn describe(b: &Breach) -> String {
    match b.reason {
        RejectReason::PriceBand => format!("PRICE_BAND: px={} ref={}", b.value, b.limit),
        r => format!("{}: value={} limit={}", r.name(), b.value, b.limit),
    }
}

/// `v as f64`, exactly: through the hardware's i64 conversion when `v` fits
/// (both round the same integer to the nearest f64, ties to even), the
/// software i128 one (`__floattidf`, ~45 instructions a call under
/// callgrind) only when it does not. The software conversion is behind a
/// call the optimiser cannot see through: written inline, it was computed on
/// every call and its result thrown away when the value fit (the compiler
/// treats it as free to speculate).
#[inline]
fn to_f64(v: i128) -> f64 {
    match i64::try_from(v) {
        Ok(x) => x as f64,
        Err(_) => wide_to_f64(v),
    }
}

/// The conversion of an i128 beyond i64, kept out of line.
#[cold]
#[inline(never)]
fn wide_to_f64(v: i128) -> f64 {
    v as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::book::Book;
    use crate::records::{ExecKind, Header, Kind, MarketData, MdAction, Order, Side};
    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The fast conversion is the plain one, for any i128: small, up to
        /// 2^60, about i64's edges (where the fast path ends) and far past.
        #[test]
        fn to_f64_is_the_plain_conversion(
            v in proptest::prop_oneof![
                proptest::num::i128::ANY,
                (-4i128..4).prop_map(|d| i64::MAX as i128 + d),
                (-4i128..4).prop_map(|d| i64::MIN as i128 + d),
                proptest::num::i64::ANY.prop_map(|x| x as i128),
                (-1_000_000i128..1_000_000),
                (-(1i128 << 60)..(1i128 << 60)),
            ]
        ) {
            proptest::prop_assert_eq!(to_f64(v).to_bits(), (v as f64).to_bits());
        }
    }

    fn spec() -> InstrumentSpec {
        InstrumentSpec {
            symbol: "T".into(),
            price_decimals: 2,
            tick: 5,
            qty_decimals: 0,
            lot: 10,
            ref_price: 10_000,
        }
    }
    fn limits() -> RiskConfig {
        RiskConfig {
            fees: Vec::new(),
            template_id: 1,
            max_gross: 1e12,
            orders_per_sec: 1e6,
            order_burst: 1000,
            reduce_only_drawdown: 1e12,
            halt_drawdown: 1e12,
            max_order_qty: 100,
            max_notional: 5_000.0,
            price_band_bps: 100,
            position_limit: 150,
            max_open_orders: 2,
        }
    }
    /// [`limits`] with a fee schedule: 2 bps taking, a 1 bp rebate adding,
    /// 0.01 a unit.
    fn with_fees() -> RiskConfig {
        let mut l = limits();
        l.fees = vec![crate::core::params::FeeSchedule {
            symbol: spec().symbol,
            maker_bps: -1.0,
            taker_bps: 2.0,
            per_unit: 0.01,
        }];
        l
    }
    fn book() -> Top {
        let mut b = Book::new(5, 10_000, 256);
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Buy), 0, 1, 9_995, 50, 0))
            .unwrap();
        b.apply(&MarketData::new(
            MdAction::Add,
            0,
            Some(Side::Sell),
            0,
            2,
            10_005,
            50,
            0,
        ))
        .unwrap();
        b.top()
    }
    fn intent(action: OrderAction, side: Side, px: i64, qty: i64) -> OrderIntent {
        OrderIntent {
            header: Header {
                kind: Kind::Intent as u8,
                sub: action as u8,
                side: side as u8,
                ..Header::default()
            },
            px,
            qty,
            ord_type: OrdType::Limit as u8,
            ..OrderIntent::default()
        }
    }
    fn reason(r: &Risk, it: &OrderIntent, t: &OrderTracker) -> Option<RejectReason> {
        r.check(it, Some(&book()), t).err().map(|b| b.reason)
    }

    #[test]
    fn a_clean_order_passes() {
        let r = Risk::new(&limits(), &[spec()]);
        assert_eq!(
            reason(
                &r,
                &intent(OrderAction::New, Side::Buy, 10_005, 40),
                &OrderTracker::new(8)
            ),
            None
        );
    }

    #[test]
    fn each_check_rejects_its_breach() {
        let r = Risk::new(&limits(), &[spec()]);
        let t = OrderTracker::new(8);
        // qty 110 > 100 (price 100.05 × 110 = 11005 would also breach notional; qty is checked first)
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_005, 110), &t),
            Some(RejectReason::MaxOrderQty)
        );
        // notional 100.05 × 60 = 6003 > 5000
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_005, 60), &t),
            Some(RejectReason::MaxNotional)
        );
        // mid 100.00, band 1% → 101.05 is outside
        let b = r
            .check(&intent(OrderAction::New, Side::Buy, 10_105, 10), Some(&book()), &t)
            .unwrap_err();
        assert_eq!((b.reason, b.limit, b.value), (RejectReason::PriceBand, 10_000, 10_105));
        assert_eq!(describe(&b), "PRICE_BAND: px=10105 ref=10000");
        // off tick, off lot, zero qty
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_002, 10), &t),
            Some(RejectReason::Malformed)
        );
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 15), &t),
            Some(RejectReason::Malformed)
        );
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 0), &t),
            Some(RejectReason::Malformed)
        );
        // cancel of an order we do not have
        let mut c = intent(OrderAction::Cancel, Side::Buy, 0, 10);
        c.target_cl_ord_id = 42;
        assert_eq!(reason(&r, &c, &t), Some(RejectReason::UnknownOrder));
    }

    #[test]
    fn no_reference_without_a_book_or_mark() {
        let r = Risk::new(&limits(), &[spec()]);
        let empty = Book::new(5, 10_000, 64).top();
        let b = r.check(
            &intent(OrderAction::New, Side::Buy, 10_000, 10),
            Some(&empty),
            &OrderTracker::new(4),
        );
        assert_eq!(b.unwrap_err().reason, RejectReason::NoReference);
    }

    fn sent(t: &mut OrderTracker, cl: u64, side: Side, qty: i64) {
        let o = Order {
            header: Header {
                sub: OrderAction::New as u8,
                side: side as u8,
                flags: 2,
                ..Header::default()
            },
            cl_ord_id: cl,
            orig_cl_ord_id: 0,
            px: 10_000,
            qty,
        };
        assert!(t.on_sent(&o));
    }

    #[test]
    fn position_limit_counts_fills_and_working_orders() {
        let mut r = Risk::new(&limits(), &[spec()]);
        let mut fill = ExecReport::new(ExecKind::Fill, 0, Side::Buy, 1);
        fill.last_px = 10_000;
        fill.last_qty = 100;
        r.on_exec(&fill);
        assert_eq!(r.position(0), 100);
        let mut t = OrderTracker::new(8);
        sent(&mut t, 1, Side::Buy, 30);
        // 100 held + 30 working + 30 new = 160 > 150
        let b = r
            .check(&intent(OrderAction::New, Side::Buy, 10_000, 30), Some(&book()), &t)
            .unwrap_err();
        assert_eq!((b.reason, b.value), (RejectReason::PositionLimit, 160));
        // Selling reduces exposure: allowed.
        assert_eq!(reason(&r, &intent(OrderAction::New, Side::Sell, 10_000, 30), &t), None);
    }

    #[test]
    fn open_order_count_and_kill_switch() {
        let mut r = Risk::new(&limits(), &[spec()]);
        let mut t = OrderTracker::new(8);
        sent(&mut t, 1, Side::Buy, 10);
        sent(&mut t, 2, Side::Sell, 10);
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 10), &t),
            Some(RejectReason::MaxOpenOrders)
        );
        r.kill();
        let t2 = OrderTracker::new(8);
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 10), &t2),
            Some(RejectReason::KillSwitch)
        );
        // Cancels of open orders still pass under the kill switch.
        let mut c = intent(OrderAction::Cancel, Side::Buy, 0, 10);
        c.target_cl_ord_id = 1;
        assert_eq!(reason(&r, &c, &t), None);
        r.rearm();
        assert_eq!(reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 10), &t2), None);
    }

    /// Gross exposure is summed exactly and rounded only at the end: an order that
    /// brings it exactly to the limit passes. Summed order by order in f64,
    /// 0.1 working + 0.2 new made 0.30000000000000004 > 0.3, and refused it.
    #[test]
    fn gross_exposure_at_the_limit_exactly_passes() {
        let mut l = limits();
        l.max_gross = 0.3;
        // Quantity in 10^-4 units: 10 @ 100.00 is 0.1 in currency.
        let s = InstrumentSpec {
            qty_decimals: 4,
            ..spec()
        };
        let r = Risk::new(&l, &[s]);
        let mut t = OrderTracker::new(8);
        sent(&mut t, 1, Side::Buy, 10);
        assert_eq!(r.gross(&t), 0.1);
        assert_eq!(reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 20), &t), None);
        // One lot more is over.
        assert_eq!(
            reason(&r, &intent(OrderAction::New, Side::Buy, 10_000, 30), &t),
            Some(RejectReason::GrossExposure)
        );
    }

    #[test]
    fn gross_exposure_counts_positions_and_working_orders() {
        let mut l = limits();
        l.max_gross = 2_500.0;
        let mut r = Risk::new(&l, &[spec()]);
        let mut f = ExecReport::new(ExecKind::Fill, 0, Side::Buy, 1);
        f.last_px = 10_000;
        f.last_qty = 20; // long 20 @ 100.00 → 2 000 held at the mark
        r.on_exec(&f);
        r.mark(0, &book());
        let t = OrderTracker::new(8);
        assert!((r.gross(&t) - 2_000.0).abs() < 1e-9);
        // +10 @ 100.00 = 1 000 more → 3 000 > 2 500.
        let b = r
            .check(&intent(OrderAction::New, Side::Buy, 10_000, 10), Some(&book()), &t)
            .unwrap_err();
        assert_eq!(
            (b.reason, b.limit, b.value),
            (RejectReason::GrossExposure, 2_500, 3_000)
        );
        // Selling reduces exposure: allowed.
        assert_eq!(reason(&r, &intent(OrderAction::New, Side::Sell, 10_000, 10), &t), None);
    }

    #[test]
    fn throttle_is_a_token_bucket_on_control_time() {
        let mut l = limits();
        l.orders_per_sec = 10.0; // one token per 100 ms
        l.order_burst = 2;
        let mut r = Risk::new(&l, &[spec()]);
        let t = OrderTracker::new(8);
        let at = |ts: u64| {
            let mut i = intent(OrderAction::New, Side::Buy, 10_000, 10);
            i.header.ts_ns = ts;
            i
        };
        for ts in [0, 1] {
            assert!(r.check(&at(ts), Some(&book()), &t).is_ok());
            r.on_sent(OrderAction::New, ts);
        }
        assert_eq!(
            r.check(&at(2), Some(&book()), &t).unwrap_err().reason,
            RejectReason::Throttle
        );
        assert!(r.warning(0, 2));
        // 50 ms later: half a token. 100 ms after the last: one.
        assert_eq!(
            r.check(&at(50_000_001), Some(&book()), &t).unwrap_err().reason,
            RejectReason::Throttle
        );
        assert!(r.check(&at(100_000_001), Some(&book()), &t).is_ok());
        // Cancels never take tokens.
        r.on_sent(OrderAction::Cancel, 100_000_001);
        assert!(r.check(&at(100_000_001), Some(&book()), &t).is_ok());
    }

    #[test]
    fn drawdown_brake_reduce_only_then_halt() {
        let mut l = limits();
        l.reduce_only_drawdown = 5.0;
        l.halt_drawdown = 15.0;
        let mut r = Risk::new(&l, &[spec()]);
        buy_10_at_100(&mut r);
        r.mark(0, &book());
        r.sample_equity(); // peak 0
        let t = OrderTracker::new(8);
        let chk = |r: &Risk, b: &Top, side, qty| {
            r.check(&intent(OrderAction::New, side, 9_900, qty), Some(b), &t)
                .err()
                .map(|x| x.reason)
        };
        // Mid to 99.00: −10 → reduce-only.
        let b = book_at(9_895, 9_905);
        r.mark(0, &b);
        r.sample_equity();
        assert_eq!(r.brake(), BrakeMode::ReduceOnly);
        assert_eq!(chk(&r, &b, Side::Buy, 10), Some(RejectReason::ReduceOnly));
        assert_eq!(
            chk(&r, &b, Side::Sell, 20),
            Some(RejectReason::ReduceOnly),
            "would flip short"
        );
        assert_eq!(chk(&r, &b, Side::Sell, 10), None, "flattening is allowed");
        // Mid to 98.00: −20 → halt.
        let b = book_at(9_795, 9_805);
        r.mark(0, &b);
        r.sample_equity();
        assert_eq!(r.brake(), BrakeMode::Halt);
        assert_eq!(chk(&r, &b, Side::Sell, 10), Some(RejectReason::DrawdownHalt));
        // The operator re-arms: the brake lifts, the peak restarts at −20 (so the
        // next sample does not halt again), the largest drawdown is kept.
        r.rearm();
        assert_eq!(r.brake(), BrakeMode::Normal);
        r.sample_equity();
        assert_eq!(r.brake(), BrakeMode::Normal);
        let at_market = intent(OrderAction::New, Side::Buy, 9_800, 10);
        assert_eq!(r.check(&at_market, Some(&b), &t).err().map(|x| x.reason), None);
        assert!((r.snapshot().max_drawdown - 20.0).abs() < 1e-9);
        // A further fall of 10 from the new peak is reduce-only again.
        let b = book_at(9_695, 9_705);
        r.mark(0, &b);
        r.sample_equity();
        assert_eq!(r.brake(), BrakeMode::ReduceOnly);
    }

    /// Fees by hand: buy 10 @ 100.00 taking (2 bps + 0.01 a unit), 1,000 × 0.0002
    /// plus 10 × 0.01 = 0.30; sell 10 @ 101.00 adding (a 1 bp rebate + 0.01 a
    /// unit), −1,010 × 0.0001 plus 0.10 = −0.001. Equity: 10.00 − 0.299 = 9.701.
    #[test]
    fn fees_and_rebates_by_hand() {
        let mut r = Risk::new(&with_fees(), &[spec()]);
        let mut buy = ExecReport::new(ExecKind::Fill, 0, Side::Buy, 1);
        (buy.last_px, buy.last_qty, buy.header.flags) = (10_000, 10, crate::records::LIQUIDITY_REMOVED);
        r.on_exec(&buy);
        assert!((r.fees(0) - 0.30).abs() < 1e-12, "{}", r.fees(0));
        let mut sell = ExecReport::new(ExecKind::Fill, 0, Side::Sell, 2);
        (sell.last_px, sell.last_qty, sell.header.flags) = (10_100, 10, crate::records::LIQUIDITY_ADDED);
        r.on_exec(&sell);
        assert!((r.fees(0) - 0.299).abs() < 1e-12, "{}", r.fees(0));
        assert!((r.equity() - 9.701).abs() < 1e-9, "{}", r.equity());
        // A fill that does not say is charged the taker rate.
        let mut quiet = ExecReport::new(ExecKind::Fill, 0, Side::Buy, 3);
        (quiet.last_px, quiet.last_qty) = (10_000, 10);
        r.on_exec(&quiet);
        assert!((r.fees(0) - 0.599).abs() < 1e-12, "{}", r.fees(0));
    }

    /// A bust takes its fill back by hand: long 10 @ 100.00 (fee 0.30), then
    /// a sell of 10 @ 101.00 (rebate 0.001); the venue busts the sell. Back
    /// to long 10 from 100.00, its fee returned: position 10, fees 0.30,
    /// and at a 102.00 mark equity +20 − 0.30 — what the buy alone gives.
    /// The fill counts keep the busted fill (it was reported).
    #[test]
    fn a_bust_takes_its_fill_back_by_hand() {
        let mut alone = Risk::new(&with_fees(), &[spec()]);
        let mut r = Risk::new(&with_fees(), &[spec()]);
        let mut buy = ExecReport::new(ExecKind::Fill, 0, Side::Buy, 1);
        (buy.last_px, buy.last_qty, buy.header.flags) = (10_000, 10, crate::records::LIQUIDITY_REMOVED);
        alone.on_exec(&buy);
        r.on_exec(&buy);
        let mut sell = ExecReport::new(ExecKind::Fill, 0, Side::Sell, 2);
        (sell.last_px, sell.last_qty, sell.header.flags) = (10_100, 10, crate::records::LIQUIDITY_ADDED);
        r.on_exec(&sell);
        assert_eq!(r.position(0), 0);
        let mut bust = sell;
        bust.header.sub = ExecKind::TradeBust as u8;
        r.on_exec(&bust);
        assert_eq!(r.position(0), 10);
        assert!((r.fees(0) - 0.30).abs() < 1e-12, "{}", r.fees(0));
        for rk in [&mut r, &mut alone] {
            rk.mark(0, &book_at(10_195, 10_205));
        }
        assert!((r.equity() - (20.0 - 0.30)).abs() < 1e-9, "{}", r.equity());
        assert_eq!(r.equity().to_bits(), alone.equity().to_bits());
        // Booked as the opposite trade at the busted price: the sell's 10.00
        // realised stays realised and the position's cost is now 101.00, so
        // the split is 10 + 10 where the buy alone gives 0 + 20 — the same 20.
        let ((p, re, un), (pa, rea, una)) = (r.figures(0), alone.figures(0));
        assert_eq!((p, re, un), (10, 10.0, 10.0));
        assert_eq!((pa, rea + una), (10, re + un));
        assert_eq!(r.snapshot().fills, 2);
        // A bust that names no quantity changes nothing.
        let mut empty = bust;
        empty.last_qty = 0;
        r.on_exec(&empty);
        assert_eq!(r.position(0), 10);
    }

    #[test]
    fn pnl_and_drawdown_by_hand() {
        let mut r = Risk::new(&limits(), &[spec()]);
        buy_10_at_100(&mut r);
        r.mark(0, &book()); // mid 100.00
        r.sample_equity();
        assert_eq!(r.equity(), 0.0);
        // Mid falls to 99.00: equity −10.
        r.mark(0, &book_at(9_895, 9_905));
        r.sample_equity();
        assert!((r.equity() - -10.0).abs() < 1e-9);
        assert!((r.snapshot().max_drawdown - 10.0).abs() < 1e-9);
        assert!((r.snapshot().turnover - 1_000.0).abs() < 1e-9);
    }

    /// A fill: long 10 at 100.00.
    fn buy_10_at_100(r: &mut Risk) {
        let mut f = ExecReport::new(ExecKind::Fill, 0, Side::Buy, 1);
        f.last_px = 10_000;
        f.last_qty = 10;
        r.on_exec(&f);
    }

    /// A book with one level each side.
    fn book_at(bid: i64, ask: i64) -> Top {
        let mut b = Book::new(5, 10_000, 256);
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Buy), 0, 1, bid, 1, 0))
            .unwrap();
        b.apply(&MarketData::new(MdAction::Add, 0, Some(Side::Sell), 0, 2, ask, 1, 0))
            .unwrap();
        b.top()
    }
}
