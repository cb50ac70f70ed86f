//! The core: every stage composed, one input at a time.
//!
//! `Core::on_input` is the whole decision path for one sequenced input:
//! book (ingest) → sensory → belief → router → risk → fix-encoder → diary. It is
//! pure: no clock, no I/O, no allocation after construction; its outputs go to a
//! [`CoreSink`]. Replay, the fused runtime and the threaded runtime all drive this
//! same function.

use super::belief::BeliefStage;
use super::book::Book;
use super::diary::Diary;
use super::fix_encoder::FixEncoder;
use super::orders::{ExecOutcome, OrderTracker};
use super::risk::Risk;
use super::router::{IntentBuf, Router, POLICY_MOMENTUM};
use super::sensory::Sensory;
use crate::config::{hash_text, Config};
use crate::records::{
    Belief, CommandKind, DiaryRecord, ExecKind, FeatureVector, Header, InputSlot, InputView, Kind, OrdType, Order,
    OrderAction, OrderIntent, RejectReason, RiskReject, Verdict,
};

/// Where the core's outputs go.
pub trait CoreSink {
    /// An order passed risk and was encoded; `wire` is the complete FIX message.
    fn on_order(&mut self, order: &Order, wire: &[u8]);
    /// Risk rejected an intent.
    fn on_reject(&mut self, reject: &RiskReject);
    /// A diary record was released (with its markout).
    fn on_diary(&mut self, rec: &DiaryRecord);
}

/// ClOrdIDs are `seq × CL_PER_INPUT + k` for the k-th order an input produced.
pub const CL_PER_INPUT: u64 = 16;

/// Activity counters of the core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreCounters {
    /// Inputs processed.
    pub inputs: u64,
    /// Market-data inputs.
    pub md: u64,
    /// Execution reports.
    pub exec_reports: u64,
    /// Execution reports naming no open order of ours.
    pub unknown_exec: u64,
    /// Timers.
    pub timers: u64,
    /// Operator commands.
    pub commands: u64,
    /// Inputs with an unknown kind or instrument.
    pub bad_inputs: u64,
    /// Book data-quality issues.
    pub book_issues: u64,
    /// Orders emitted, by action: new, cancel, replace.
    pub orders: [u64; 3],
    /// Risk rejects by [`RejectReason`] code (index = code).
    pub rejects: [u64; 16],
    /// Venue rejects (new orders and cancel/replace requests).
    pub venue_rejects: u64,
    /// Decisions recorded in the diary.
    pub decisions: u64,
}

/// The composed core.
pub struct Core {
    books: Vec<Book>,
    sensory: Sensory,
    belief: BeliefStage,
    router: Router,
    risk: Risk,
    orders: OrderTracker,
    encoder: FixEncoder,
    diary: Diary,
    policy_hash: u64,
    fv: FeatureVector,
    belief_rec: Belief,
    intents: IntentBuf,
    counters: CoreCounters,
}

impl Core {
    /// Builds every stage from a validated configuration.
    pub fn new(cfg: &Config) -> Core {
        let ins = &cfg.instruments;
        let m = &cfg.strategy.momentum;
        let policy_text = format!("momentum:{}", serde_yaml_ng::to_string(m).expect("config serialises"));
        Core {
            books: ins
                .iter()
                .map(|s| Book::new(s.tick, s.ref_price, cfg.book.window_ticks))
                .collect(),
            sensory: Sensory::new(ins, m.fast, m.slow),
            belief: BeliefStage,
            router: Router::new(ins.len(), m),
            risk: Risk::new(&cfg.risk, ins),
            orders: OrderTracker::new(cfg.risk.max_open_orders as usize),
            encoder: FixEncoder::new(
                &cfg.session.begin_string,
                &cfg.session.sender_comp_id,
                &cfg.session.target_comp_id,
                ins,
            ),
            diary: Diary::new(1 << 14, cfg.diary.markout_events as u64),
            policy_hash: hash_text(&policy_text),
            fv: FeatureVector::default(),
            belief_rec: Belief::default(),
            intents: IntentBuf::default(),
            counters: CoreCounters::default(),
        }
    }

    /// Processes one sequenced input.
    #[inline]
    pub fn on_input(&mut self, slot: &InputSlot, out: &mut impl CoreSink) {
        self.counters.inputs += 1;
        self.intents.clear();
        match slot.view() {
            Some(InputView::Md(md)) => {
                self.counters.md += 1;
                let i = md.header.instrument as usize;
                let Some(book) = self.books.get_mut(i) else {
                    self.counters.bad_inputs += 1;
                    return self.release_diary(out);
                };
                if book.apply(md).is_err() {
                    self.counters.book_issues += 1;
                }
                self.risk.mark(md.header.instrument, book);
                if self.sensory.on_md(md, book, &mut self.fv) {
                    self.belief.on_features(&self.fv, &mut self.belief_rec);
                    self.router.decide(
                        &md.header,
                        self.sensory.emas(md.header.instrument),
                        self.sensory.mid_updates(md.header.instrument),
                        book,
                        self.risk.position(md.header.instrument),
                        &self.orders,
                        &mut self.intents,
                    );
                    self.act(&md.header, out);
                }
            }
            Some(InputView::Exec(er)) => {
                self.counters.exec_reports += 1;
                if self.orders.on_exec(er) == ExecOutcome::Unknown {
                    self.counters.unknown_exec += 1;
                }
                self.risk.on_exec(er);
                if matches!(er.kind(), Some(ExecKind::Rejected | ExecKind::CancelRejected)) {
                    self.counters.venue_rejects += 1;
                    self.router.on_reject(er.header.instrument, er.header.ts_ns);
                }
            }
            Some(InputView::Timer(t)) => {
                self.counters.timers += 1;
                self.risk.sample_equity();
                self.router
                    .on_timer(&t.header, &self.books, &self.orders, &mut self.intents);
                self.act(&t.header, out);
            }
            Some(InputView::Command(c)) => {
                self.counters.commands += 1;
                match CommandKind::from_u8(c.header.sub) {
                    Some(CommandKind::Kill) => self.kill(&c.header, out),
                    Some(CommandKind::Rearm) => self.risk.rearm(),
                    None => self.counters.bad_inputs += 1,
                }
            }
            None => self.counters.bad_inputs += 1,
        }
        self.release_diary(out);
    }

    fn kill(&mut self, trigger: &Header, out: &mut impl CoreSink) {
        self.risk.kill();
        // Cancel everything open, in batches the intent buffer holds. Each cancel
        // marks its order pending, so the next batch skips it.
        let mut k = 0;
        loop {
            self.intents.clear();
            for o in self.orders.iter() {
                if o.state == super::orders::OrderState::Working || o.state == super::orders::OrderState::PendingNew {
                    let it = OrderIntent {
                        header: Header {
                            kind: Kind::Intent as u8,
                            sub: OrderAction::Cancel as u8,
                            side: o.side as u8,
                            instrument: o.instrument,
                            ..*trigger
                        },
                        qty: o.qty,
                        target_cl_ord_id: o.cl_ord_id,
                        ord_type: OrdType::Limit as u8,
                        ..OrderIntent::default()
                    };
                    if !self.intents.push(it) {
                        break;
                    }
                }
            }
            if self.intents.as_slice().is_empty() || k >= CL_PER_INPUT {
                break;
            }
            let handled = self.act_from(trigger, k, out);
            if handled == 0 {
                break;
            }
            k += handled;
        }
    }

    #[inline]
    fn act(&mut self, trigger: &Header, out: &mut impl CoreSink) {
        self.act_from(trigger, 0, out);
    }

    /// Runs the buffered intents through risk and the encoder; numbering ClOrdIDs
    /// from `k0`. Returns how many intents were handled.
    fn act_from(&mut self, trigger: &Header, k0: u64, out: &mut impl CoreSink) -> u64 {
        let input_no = self.counters.inputs;
        if let Some(side) = self.intents.noop {
            let rec = self.diary_record(trigger, Verdict::NoOp, side as u8, 0, 0, 0, 0);
            self.record(rec, input_no, out);
        }
        let mut k = k0;
        for idx in 0..self.intents.as_slice().len() {
            if k >= CL_PER_INPUT {
                break;
            }
            let it = self.intents.as_slice()[idx];
            let i = it.header.instrument as usize;
            let verdict = self.risk.check(&it, self.books.get(i), &self.orders);
            match verdict {
                Ok(()) => {
                    let cl = trigger.seq * CL_PER_INPUT + k;
                    let action = it.action().expect("risk passed only known actions");
                    let order = Order {
                        header: Header {
                            kind: Kind::Order as u8,
                            sub: it.header.sub,
                            side: it.header.side,
                            flags: it.ord_type,
                            ..it.header
                        },
                        cl_ord_id: cl,
                        orig_cl_ord_id: if action == OrderAction::New {
                            0
                        } else {
                            it.target_cl_ord_id
                        },
                        px: it.px,
                        qty: it.qty,
                    };
                    match self.encoder.encode(&order) {
                        Ok(wire) => {
                            self.orders.on_sent(&order);
                            self.counters.orders[match action {
                                OrderAction::New => 0,
                                OrderAction::Cancel => 1,
                                OrderAction::Replace => 2,
                            }] += 1;
                            out.on_order(&order, wire);
                            let rec =
                                self.diary_record(&it.header, Verdict::Order, it.header.side, cl, it.px, it.qty, 0);
                            self.record(rec, input_no, out);
                        }
                        Err(_) => self.reject(&it, RejectReason::Malformed, 0, it.px, input_no, out),
                    }
                    k += 1;
                }
                Err(b) => self.reject(&it, b.reason, b.limit, b.value, input_no, out),
            }
        }
        k - k0
    }

    fn reject(
        &mut self,
        it: &OrderIntent,
        reason: RejectReason,
        limit: i64,
        value: i64,
        input_no: u64,
        out: &mut impl CoreSink,
    ) {
        self.counters.rejects[reason as usize] += 1;
        out.on_reject(&RiskReject {
            header: Header {
                kind: Kind::Reject as u8,
                ..it.header
            },
            reason: reason as u16,
            _pad: [0; 6],
            limit,
            value,
            px: it.px,
        });
        self.router.on_reject(it.header.instrument, it.header.ts_ns);
        let rec = self.diary_record(
            &it.header,
            Verdict::Reject,
            it.header.side,
            0,
            it.px,
            it.qty,
            reason as u16,
        );
        self.record(rec, input_no, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn diary_record(
        &self,
        h: &Header,
        verdict: Verdict,
        side: u8,
        cl: u64,
        px: i64,
        qty: i64,
        reason: u16,
    ) -> DiaryRecord {
        let b = &self.belief_rec;
        DiaryRecord {
            header: Header {
                kind: Kind::Diary as u8,
                sub: verdict as u8,
                side,
                flags: 0,
                tsc: 0,
                ..*h
            },
            cl_ord_id: cl,
            policy_hash: self.policy_hash,
            feature_digest: xxhash_rust::xxh3::xxh3_64(bytemuck::bytes_of(&self.fv.values)),
            markout: 0,
            markout_events: 0,
            px,
            qty,
            top_idx: [b.top_idx[0], b.top_idx[1], b.top_idx[2], b.top_idx[3]],
            top_val: [b.top_val[0], b.top_val[1], b.top_val[2], b.top_val[3]],
            policy_id: POLICY_MOMENTUM,
            topology: self.router.topology() as u8,
            regime: b.regime,
            risk_template: 0,
            reject_reason: reason,
            reserved: 0,
        }
    }

    fn record(&mut self, rec: DiaryRecord, input_no: u64, out: &mut impl CoreSink) {
        self.counters.decisions += 1;
        let books = &self.books;
        self.diary
            .record(rec, input_no, |i| mid_of(books, i), &mut |r| out.on_diary(r));
    }

    #[inline]
    fn release_diary(&mut self, out: &mut impl CoreSink) {
        let books = &self.books;
        self.diary
            .on_input(self.counters.inputs, |i| mid_of(books, i), &mut |r| out.on_diary(r));
    }

    /// Ends the session: releases every diary record still awaiting its markout.
    pub fn finish(&mut self, out: &mut impl CoreSink) {
        let books = &self.books;
        self.diary
            .flush(self.counters.inputs, |i| mid_of(books, i), &mut |r| out.on_diary(r));
    }

    /// Activity counters.
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// The risk stage (positions, PnL).
    pub fn risk(&self) -> &Risk {
        &self.risk
    }

    /// The book of `instrument`.
    pub fn book(&self, instrument: u32) -> Option<&Book> {
        self.books.get(instrument as usize)
    }

    /// Open orders.
    pub fn open_orders(&self) -> &OrderTracker {
        &self.orders
    }

    /// Hash of the running policy's canonical configuration.
    pub fn policy_hash(&self) -> u64 {
        self.policy_hash
    }
}

#[inline]
fn mid_of(books: &[Book], i: u32) -> Option<i64> {
    let b = books.get(i as usize)?;
    match (b.best_bid(), b.best_ask()) {
        (Some((bp, _)), Some((ap, _))) if bp < ap => Some((bp + ap) / 2),
        _ => None,
    }
}
