//! Fixtures shared by the benches: realistic inputs recorded from a simulated
//! session, never synthetic zeros.
#![deny(missing_docs)]

use foxtrot_engine::records::{ExecKind, ExecReport, InputSlot, InputView, MarketData, Side};
use foxtrot_engine::runtime::{FusedRun, RunObserver};
use foxtrot_engine::Config;
use foxtrot_fix::app::write_exec_body_numeric;
use foxtrot_fix::session::{MemoryStore, Role, Session, SessionSettings};
use foxtrot_fix::Instruments;
use foxtrot_venue::SimWorld;

/// The default sim config with `events` market-data events.
pub fn sim_config(events: u64) -> Config {
    let mut c = Config::default_sim();
    c.gen.events = events;
    c
}

#[derive(Default)]
struct Recorder(Vec<InputSlot>);

impl RunObserver for Recorder {
    fn on_input(&mut self, slot: &InputSlot) {
        self.0.push(*slot);
    }
}

/// Every sequenced input of a fused sim run (market data, execution reports,
/// timers). Fed in order to a fresh `Core` with the same config, it reproduces the
/// run's decisions exactly — the replay property. Recorded untimed: the
/// inputs carry no TSC stamp, and recording them reads no clock (so the
/// instruction counts of `perf/core_instr.sh` are the same from run to run).
pub fn recorded_inputs(cfg: &Config) -> Vec<InputSlot> {
    let mut run = FusedRun::with_observer(cfg, SimWorld::new(cfg), Recorder::default()).untimed();
    run.run_to_end();
    run.observer().0.clone()
}

/// The market data of one instrument from a sim run, in order, starting from an
/// empty book.
pub fn md_stream(cfg: &Config, instrument: u32) -> Vec<MarketData> {
    recorded_inputs(cfg)
        .iter()
        .filter_map(|s| match s.view() {
            Some(InputView::Md(m)) if m.header.instrument == instrument => Some(*m),
            _ => None,
        })
        .collect()
}

/// A FIX 4.4 ExecutionReport as a venue sends it: a partial fill, 22 fields,
/// 238 bytes, BodyLength and CheckSum right.
pub fn fix_execution_report() -> Vec<u8> {
    let body = "35=8|34=12345|49=VENUE|52=20260105-14:30:00.123|56=FOXTROT|6=100.25|11=00000000000000000042|\
                14=300|17=E0000001|31=100.25|32=300|37=V-0000077|38=1000|39=1|40=2|44=100.2500|54=1|55=FOXA|\
                60=20260105-14:30:00.123456|150=F|151=700|"
        .replace('|', "\x01");
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = m.iter().map(|&c| c as u32).sum::<u32>() % 256;
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

/// The engine's session (initiator, FIX 4.4, FOXTROT → VENUE), logged on and
/// expecting the venue's MsgSeqNum 1 next: what [`fix_report_stream`] sends
/// is in sequence for it.
pub fn fix_engine_session() -> Session<MemoryStore> {
    let mut engine = Session::new(
        SessionSettings::new("FIX.4.4", "FOXTROT", "VENUE"),
        Role::Initiator,
        MemoryStore::default(),
    );
    let mut venue = Session::new(
        SessionSettings::new("FIX.4.4", "VENUE", "FOXTROT"),
        Role::Acceptor,
        MemoryStore::default(),
    );
    let t = 1_767_623_400_000_000_000u64;
    engine.start(t);
    let logon = std::mem::take(engine.outbox());
    foxtrot_fix::framing::split_frames(&logon, |m| {
        venue.on_message(m, t);
    });
    let answer = std::mem::take(venue.outbox());
    foxtrot_fix::framing::split_frames(&answer, |m| {
        engine.on_message(m, t);
    });
    assert!(engine.is_logged_on(), "the engine's session logs on");
    let out = engine.next_out();
    foxtrot_fix::session::MessageStore::set_seqs(engine.store_mut(), out, 1);
    engine
}

/// The default config's instruments, whose first, FOXA, is what
/// [`fix_execution_report`] is about: prices at four decimals, whole quantities.
pub fn fix_instruments() -> Instruments {
    Instruments::new(&Config::default_sim().instruments)
}

/// What a venue sends for `orders` orders of [`fix_instruments`]' FOXA, as
/// `foxtrot venue` encodes it (its session and `write_exec_body`): for each order an
/// acknowledgement, then a cancel, or up to two partial fills and a fill.
/// That is two layouts of report — with and without a fill's LastPx and
/// LastQty — in an irregular order, with prices, quantities, ids and times of
/// varying lengths.
pub fn fix_report_stream(orders: u64) -> Vec<Vec<u8>> {
    let inst = fix_instruments();
    let settings = SessionSettings::new("FIX.4.4", "VENUE", "FOXTROT");
    let mut session = Session::new(settings, Role::Acceptor, MemoryStore::default());
    let mut out = Vec::new();
    let mut exec_id = 0u64;
    let mut now = 1_767_623_400_000_000_000u64;
    let mut send = |e: &ExecReport, now: u64| {
        exec_id += 1;
        let mut body = Vec::new();
        let mt = write_exec_body_numeric(e, &inst, exec_id, false, &mut body);
        session.send_body(mt.as_bytes(), &[], &body, now);
        out.push(std::mem::take(session.outbox()));
    };
    for o in 0..orders {
        let qty = [100, 2_500, 40, 10_000, 7][o as usize % 5];
        let px = 1_000_000 + (o as i64 * 7_919) % 90_000 * 100;
        let report = |kind, cum: i64, last: i64, now: u64| {
            let mut e = ExecReport::new(kind, 0, if o % 3 == 0 { Side::Sell } else { Side::Buy }, now);
            e.cl_ord_id = 1_000 + o * 37;
            e.venue_order_id = 500_000 + o;
            e.order_qty = qty;
            e.order_px = px;
            e.cum_qty = cum;
            e.leaves_qty = if kind == ExecKind::Canceled { 0 } else { qty - cum };
            e.last_qty = last;
            e.last_px = if last > 0 { px } else { 0 };
            e.transact_ts_ns = now;
            e
        };
        now += 1_000 + o * 13;
        send(&report(ExecKind::New, 0, 0, now), now);
        if o % 4 == 3 {
            now += 20_000;
            send(&report(ExecKind::Canceled, 0, 0, now), now);
            continue;
        }
        let mut cum = 0;
        for part in 0..o % 3 + 1 {
            let last = (qty / 4).max(1).min(qty - cum - 1).max(0);
            if last == 0 || part == 2 {
                break;
            }
            cum += last;
            now += 5_000;
            send(&report(ExecKind::PartialFill, cum, last, now), now);
        }
        now += 5_000;
        send(&report(ExecKind::Fill, qty, qty - cum, now), now);
    }
    out
}

/// 1,024 NewOrderSingles (limit) over the sim's three instruments, varied so
/// that the encoder's digit writers and its time cache do real work: ClOrdIDs
/// 16 apart, both sides, prices about the reference, quantities of 100–160,
/// ~300 µs apart (a new second every ~3,300 orders).
pub fn fix_orders() -> Vec<foxtrot_engine::records::Order> {
    use foxtrot_engine::records::{Header, Kind, OrdType, Order, OrderAction, Side};
    (0..1024u64)
        .map(|i| Order {
            header: Header {
                kind: Kind::Order as u8,
                sub: OrderAction::New as u8,
                side: if i % 3 == 0 { Side::Sell } else { Side::Buy } as u8,
                flags: OrdType::Limit as u8,
                instrument: (i % 3) as u32,
                ts_ns: 1_767_623_400_000_000_000 + i * 300_123,
                ..Header::default()
            },
            cl_ord_id: 1_000_000 + i * 16,
            orig_cl_ord_id: 0,
            px: 1_000_000 + (i as i64 % 50 - 25) * 100,
            qty: 100 + (i as i64 % 7) * 10,
        })
        .collect()
}
