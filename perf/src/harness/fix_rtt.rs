//! The order → first answer round trip over a real FIX session on loopback.

use super::common::pct;
use foxtrot_engine::format::fix::tags;
use foxtrot_engine::records::Order;
use foxtrot_engine::Config;
use hdrhistogram::Histogram;

/// The order → first answer round trip over a real FIX session on loopback:
/// this process is the initiator (the engine's FIX encoder, our session layer,
/// busy-polling a non-blocking socket), the venue is whatever listens at
/// `--connect` — `foxtrot venue`, or the QuickFIX acceptor of the interop tests.
/// Each round sends a NewOrderSingle far below the market (it rests) and waits
/// for its first report, then cancels it and waits for that answer; the clock runs
/// from just before the order is encoded to the moment its answer is decoded.
pub fn run(opts: &crate::FixRttArgs) {
    use foxtrot_engine::format::fix::encoder::FixEncoder;
    use foxtrot_engine::records::{Header, Kind, OrdType, OrderAction, Side};
    use foxtrot_fix::decode::FixDecoder;
    use foxtrot_fix::session::{Inbound, MemoryStore, Role, Session, SessionSettings, Status};
    use foxtrot_fix::transport::{wall_ns, Connection};
    use foxtrot_fix::Fields;

    let json = opts.json;
    let rounds: usize = opts.orders;
    let warmup: usize = opts.warmup;
    let connect: std::net::SocketAddr = opts.connect;
    let cfg_path = &opts.config;
    let label = opts.label.clone().unwrap_or_else(|| opts.connect.to_string());
    let cfg = Config::load(cfg_path).expect("config");
    let s = &cfg.session;
    let mut settings = SessionSettings::from_config(s, Role::Initiator).expect("the session's dictionary");
    // Each measurement starts a fresh session: the peer keeps no state of ours.
    settings.reset_on_logon = true;
    let mut session = Session::new(settings, Role::Initiator, MemoryStore::default());
    let mut enc = FixEncoder::new(&s.begin_string, &s.sender_comp_id, &s.target_comp_id, &cfg.instruments);
    let stream = std::net::TcpStream::connect(connect).expect("connect to the venue");
    stream.set_nonblocking(true).expect("non-blocking");
    let mut conn = Connection::new(mio::net::TcpStream::from_std(stream), None).expect("connection");
    let mut dec = FixDecoder::new();
    session.start(wall_ns());
    let flush = |session: &mut Session<MemoryStore>, conn: &mut Connection| {
        let out = session.outbox();
        conn.queue(out).expect("queue");
        out.clear();
        conn.flush().expect("write");
    };
    flush(&mut session, &mut conn);
    // Reads until `want` (a ClOrdID) is answered, or until logged on if 0.
    let mut pump = |session: &mut Session<MemoryStore>, conn: &mut Connection, want: u64| -> bool {
        let mut done = false;
        let t0 = std::time::Instant::now();
        while !done {
            let open = conn
                .read(|m| {
                    if let Inbound::App = session.on_message(m, wall_ns()) {
                        // Reports come read by the session's scanner, as in the engine.
                        let cl = match session.report(m) {
                            Some(r) => r.u64(tags::CL_ORD_ID).ok().flatten(),
                            None => dec
                                .decode(m)
                                .ok()
                                .and_then(|msg| msg.u64(tags::CL_ORD_ID).ok().flatten()),
                        };
                        done |= cl == Some(want);
                    }
                })
                .expect("read");
            if want == 0 && session.status() == Status::Active {
                done = true;
            }
            if !session.outbox().is_empty() {
                flush(session, conn);
            }
            assert!(open, "the venue closed the connection");
            assert!(t0.elapsed().as_secs() < 10, "no answer for ClOrdID {want} in 10 s");
        }
        true
    };
    pump(&mut session, &mut conn, 0);
    let clock = quanta::Clock::new();
    let spec = &cfg.instruments[0];
    let px = (spec.ref_price / 2 / spec.tick) * spec.tick;
    let mut h_new = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("static bounds");
    let mut h_cancel = h_new.clone();
    let mut cl = 1_000_000_000u64 + (wall_ns() / 1_000_000_000 % 1_000_000) * 1_000_000;
    for round in 0..warmup + rounds {
        if opts.gap_us > 0 {
            // Spun, not slept: this side stays awake as a running engine does;
            // the venue idles through the gap as it does between a live run's orders.
            let until = std::time::Instant::now() + std::time::Duration::from_micros(opts.gap_us);
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        for action in [OrderAction::New, OrderAction::Cancel] {
            cl += 1;
            let o = Order {
                header: Header {
                    kind: Kind::Order as u8,
                    sub: action as u8,
                    side: Side::Buy as u8,
                    flags: OrdType::Limit as u8,
                    instrument: 0,
                    ts_ns: wall_ns(),
                    ..Header::default()
                },
                cl_ord_id: cl,
                orig_cl_ord_id: if action == OrderAction::Cancel { cl - 1 } else { 0 },
                px,
                qty: spec.lot * 100,
            };
            let t0 = clock.raw();
            enc.set_next_seq(session.next_out());
            let bytes = enc.encode(&o).expect("encodes");
            session.sent_app(bytes, o.header.ts_ns);
            flush(&mut session, &mut conn);
            pump(&mut session, &mut conn, cl);
            let ns = clock.delta_as_nanos(t0, clock.raw()).max(1);
            if round >= warmup {
                let h = if action == OrderAction::New {
                    &mut h_new
                } else {
                    &mut h_cancel
                };
                h.saturating_record(ns);
            }
        }
    }
    session.logout("done", wall_ns());
    flush(&mut session, &mut conn);
    let (n, c) = (pct(&h_new), pct(&h_cancel));
    if json {
        println!(
            "{}",
            serde_json::json!({"venue": label, "rounds": rounds,
                "new_to_ack_ns": {"p50": n[0], "p99": n[1], "p999": n[2], "max": n[3]},
                "cancel_to_ack_ns": {"p50": c[0], "p99": c[1], "p999": c[2], "max": c[3]}})
        );
    } else {
        println!("fix-rtt against {label}: {rounds} rounds after {warmup} warm-up");
        println!(
            "  order  -> first report  p50 {:>7} ns  p99 {:>7} ns  p99.9 {:>7} ns  max {:>9} ns",
            n[0], n[1], n[2], n[3]
        );
        println!(
            "  cancel -> its answer    p50 {:>7} ns  p99 {:>7} ns  p99.9 {:>7} ns  max {:>9} ns",
            c[0], c[1], c[2], c[3]
        );
    }
}
