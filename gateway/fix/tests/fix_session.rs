//! The FIX session layer, initiator and acceptor wired back to back in memory (the
//! TCP transport is the caller's): logon, application messages, every sequence
//! rule, resend with PossDup and gap fill, garbled messages, CompIDs,
//! credentials, heartbeats and the test-request timeout, logout, and resuming a
//! session from its store.

use foxtrot_fix::decode::FixDecoder;
use foxtrot_fix::framing::split_frames;
use foxtrot_fix::session::{Inbound, MemoryStore, Role, Session, SessionSettings, Status};
use foxtrot_fix::Fields;
use proptest::prelude::*;

const S: u64 = 1_000_000_000;
const T0: u64 = 1_767_623_400 * S;

fn settings(sender: &str, target: &str) -> SessionSettings {
    SessionSettings::new("FIX.4.4", sender, target)
}

type Sess = Session<MemoryStore>;

fn pair() -> (Sess, Sess) {
    (
        Session::new(settings("FOXTROT", "VENUE"), Role::Initiator, MemoryStore::default()),
        Session::new(settings("VENUE", "FOXTROT"), Role::Acceptor, MemoryStore::default()),
    )
}

/// Delivers everything `from` has queued to `to`; returns what `to` made of each
/// message, with the message.
fn deliver_msgs(from: &mut Sess, to: &mut Sess, now: u64) -> Vec<(Inbound, Vec<u8>)> {
    let bytes = std::mem::take(from.outbox());
    let mut got = Vec::new();
    let used = split_frames(&bytes, |m| {
        got.push((to.on_message(m, now), m.to_vec()));
        while let Some(q) = to.next_queued(now) {
            got.push(q);
        }
    });
    assert_eq!(used, bytes.len());
    got
}

/// Like [`deliver_msgs`], the outcomes only.
fn deliver(from: &mut Sess, to: &mut Sess, now: u64) -> Vec<Inbound> {
    deliver_msgs(from, to, now).into_iter().map(|(r, _)| r).collect()
}

/// Both ways until quiet; returns (what a got, what b got).
fn settle(a: &mut Sess, b: &mut Sess, now: u64) -> (Vec<Inbound>, Vec<Inbound>) {
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let x = deliver(a, b, now);
        let y = deliver(b, a, now);
        if x.is_empty() && y.is_empty() {
            break;
        }
        gb.extend(x);
        ga.extend(y);
    }
    (ga, gb)
}

fn msg_types(bytes: &[u8]) -> Vec<(String, u64, bool)> {
    let mut v = Vec::new();
    split_frames(bytes, |m| {
        let mut d = FixDecoder::new();
        let m = d.decode(m).unwrap();
        v.push((
            String::from_utf8_lossy(m.msg_type()).into_owned(),
            m.u64(34).unwrap().unwrap(),
            m.get(43) == Some(b"Y"),
        ));
    });
    v
}

fn logged_on() -> (Sess, Sess) {
    let (mut i, mut a) = pair();
    i.start(T0);
    let (gi, ga) = settle(&mut i, &mut a, T0);
    assert_eq!((gi, ga), (vec![Inbound::Session], vec![Inbound::Session]));
    assert_eq!((i.status(), a.status()), (Status::Active, Status::Active));
    (i, a)
}

fn order(i: &mut Sess, n: u32, now: u64) -> u64 {
    i.send(
        "D",
        &[
            (11, &n.to_string()),
            (55, "FOXA"),
            (54, "1"),
            (38, "100"),
            (40, "1"),
            (60, "20260105-14:30:00.000"),
        ],
        now,
    )
}

#[test]
fn logon_then_application_messages_in_order() {
    let (mut i, mut a) = logged_on();
    assert_eq!((i.next_out(), i.next_in(), a.next_out(), a.next_in()), (2, 2, 2, 2));
    for n in 0..3 {
        order(&mut i, n, T0 + S);
    }
    let got = deliver_msgs(&mut i, &mut a, T0 + S);
    assert_eq!(got.len(), 3);
    assert!(got
        .iter()
        .all(|(g, m)| *g == Inbound::App && m.windows(5).any(|w| w == b"35=D\x01")));
    assert_eq!(a.next_in(), 5);
}

#[test]
fn a_gap_is_resent_with_possdup_and_session_messages_gap_filled() {
    let (mut i, mut a) = logged_on();
    order(&mut i, 1, T0 + S); // seq 2
    i.send("0", &[], T0 + 31 * S); // two session messages: seqs 3 and 4
    i.send("0", &[], T0 + 40 * S);
    order(&mut i, 2, T0 + 41 * S); // seq 5
    order(&mut i, 3, T0 + 41 * S); // seq 6
                                   // The link loses seqs 2..5; only 6 arrives.
    let bytes = std::mem::take(i.outbox());
    let mut msgs = Vec::new();
    split_frames(&bytes, |m| msgs.push(m.to_vec()));
    assert_eq!(msgs.len(), 5);
    assert_eq!(a.on_message(&msgs[4], T0 + 42 * S), Inbound::Session, "queued");
    assert_eq!(a.next_queued(T0 + 42 * S), None);
    // The acceptor asked for 2.. ; the initiator answers.
    let req = msg_types(a.outbox());
    assert_eq!(req, vec![("2".to_string(), 2, false)]);
    deliver(&mut a, &mut i, T0 + 42 * S);
    let resent_bytes = String::from_utf8_lossy(i.outbox()).into_owned();
    let resent = msg_types(i.outbox());
    assert_eq!(
        resent,
        vec![
            ("D".to_string(), 2, true),
            ("4".to_string(), 3, true), // heartbeat and test request: one gap fill
            ("D".to_string(), 5, true),
            ("D".to_string(), 6, true),
        ]
    );
    let got = deliver(&mut i, &mut a, T0 + 43 * S);
    let apps: Vec<&Inbound> = got.iter().filter(|g| **g == Inbound::App).collect();
    // 2 and 5 delivered from the resend; 6 from the queue (its PossDup copy is
    // then a duplicate, ignored).
    assert_eq!(apps.len(), 3, "{got:?}");
    assert_eq!(a.next_in(), 7);
    // The resent copies carry PossDupFlag and their original SendingTime.
    let first = resent_bytes.split("8=FIX.4.4").nth(1).unwrap();
    // Header fields after the first three go in ascending tag order.
    assert!(first.contains("\x0143=Y\x0149=FOXTROT\x01"), "{first:?}");
    assert!(
        first.contains("\x0156=VENUE\x01122=20260105-14:30:01.000\x01"),
        "{first:?}"
    );
    assert!(first.contains("\x0152=20260105-14:30:42.000\x01"));
}

#[test]
fn seq_too_low_logs_out_unless_possdup() {
    let (mut i, mut a) = logged_on();
    order(&mut i, 1, T0 + S);
    let first = i.outbox().clone();
    deliver(&mut i, &mut a, T0 + S);
    // The same bytes again: seq 2 < 3 and no PossDupFlag.
    let r = a.on_message(&first, T0 + 2 * S);
    assert!(
        matches!(&r, Inbound::Disconnect(w) if w.contains("MsgSeqNum too low, expecting 3 but received 2")),
        "{r:?}"
    );
    assert_eq!(msg_types(a.outbox())[0].0, "5");
    assert_eq!(a.status(), Status::Disconnected);
}

#[test]
fn possdup_below_expected_is_ignored_and_needs_orig_sending_time() {
    let (mut i, mut a) = logged_on();
    order(&mut i, 1, T0 + S);
    deliver(&mut i, &mut a, T0 + S);
    // A resend of seq 2, which the acceptor already has.
    let possdup = "35=D|34=2|49=FOXTROT|52=20260105-14:30:09.000|56=VENUE|43=Y|122=20260105-14:30:01.000|11=1|55=FOXA|54=1|38=100|40=1|60=20260105-14:30:00.000|";
    assert_eq!(a.on_message(&fix(possdup), T0 + 3 * S), Inbound::Session);
    assert_eq!(a.outbox().len(), 0, "ignored silently");
    let no_orig = "35=D|34=2|49=FOXTROT|52=20260105-14:30:09.000|56=VENUE|43=Y|11=1|55=FOXA|54=1|38=100|40=1|60=20260105-14:30:00.000|";
    assert_eq!(a.on_message(&fix(no_orig), T0 + 3 * S), Inbound::Session);
    let rej = String::from_utf8_lossy(a.outbox()).into_owned();
    assert!(rej.contains("35=3\x01") && rej.contains("371=122\x01"), "{rej}");
}

fn fix(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\x01");
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = m.iter().map(|&c| c as u32).sum::<u32>() % 256;
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

#[test]
fn garbled_messages_are_dropped_without_using_a_seq() {
    let (mut i, mut a) = logged_on();
    order(&mut i, 1, T0 + S);
    let mut bad = std::mem::take(i.outbox());
    let n = bad.len();
    bad[n - 3] = if bad[n - 3] == b'9' { b'0' } else { bad[n - 3] + 1 };
    assert!(matches!(a.on_message(&bad, T0 + S), Inbound::Garbled(_)));
    assert_eq!((a.next_in(), a.outbox().len()), (2, 0));
    // The next good message with seq 2 is in sequence.
    let good = fix("35=D|34=2|49=FOXTROT|52=20260105-14:30:01.000|56=VENUE|11=1|55=FOXA|54=1|38=100|40=1|60=20260105-14:30:00.000|");
    assert_eq!(a.on_message(&good, T0 + S), Inbound::App);
}

#[test]
fn a_wrong_compid_is_rejected_and_logged_out() {
    let (_, mut a) = logged_on();
    let m = fix("35=D|34=2|49=INTRUDER|52=20260105-14:30:01.000|56=VENUE|11=1|55=FOXA|54=1|38=100|40=1|60=20260105-14:30:00.000|");
    // Rejected (reason 9, no RefTagID), then a Logout the peer is to answer.
    assert_eq!(a.on_message(&m, T0 + S), Inbound::Session);
    let sent = String::from_utf8_lossy(a.outbox()).into_owned();
    assert!(
        sent.contains("35=3\x01") && sent.contains("373=9\x01") && !sent.contains("371="),
        "{sent}"
    );
    assert!(sent.contains("35=5\x01"));
    assert_eq!(a.status(), Status::LoggingOut);
}

#[test]
fn heartbeat_timeout_sends_a_test_request_then_disconnects() {
    let (mut i, mut a) = logged_on();
    // Quiet for HeartBtInt: a heartbeat goes out.
    assert_eq!(i.on_timer(T0 + 30 * S), None);
    assert_eq!(
        msg_types(i.outbox()).iter().map(|m| m.0.clone()).collect::<Vec<_>>(),
        ["0"]
    );
    deliver(&mut i, &mut a, T0 + 30 * S);
    // Nothing received for HeartBtInt + 20%: a test request.
    assert_eq!(i.on_timer(T0 + 36 * S), None);
    assert!(String::from_utf8_lossy(i.outbox()).contains("35=1\x01"));
    // Answered: the session stays up.
    deliver(&mut i, &mut a, T0 + 37 * S);
    deliver(&mut a, &mut i, T0 + 37 * S);
    assert_eq!(i.on_timer(T0 + 70 * S), None);
    assert_eq!(i.status(), Status::Active);
    // Unanswered this time: a test request 1.2 × HeartBtInt after the last
    // message received (at 37 s), the end at 2.4 ×.
    i.outbox().clear();
    assert_eq!(i.on_timer(T0 + 72 * S), None);
    assert!(!String::from_utf8_lossy(i.outbox()).contains("35=1\x01"));
    assert_eq!(i.on_timer(T0 + 73 * S), None);
    assert!(String::from_utf8_lossy(i.outbox()).contains("35=1\x01"));
    assert_eq!(i.on_timer(T0 + 108 * S), None);
    let r = i.on_timer(T0 + 110 * S);
    assert!(matches!(r, Some(Inbound::Disconnect(w)) if w.contains("heartbeat timeout")));
}

#[test]
fn credentials_are_checked_and_never_shown() {
    let mut cfg_i = settings("FOXTROT", "VENUE");
    cfg_i.username = Some("fox".into());
    cfg_i.password = Some("s3cret-pw".into());
    let mut cfg_a = settings("VENUE", "FOXTROT");
    cfg_a.username = Some("fox".into());
    cfg_a.password = Some("other".into());
    assert!(!format!("{cfg_i:?}").contains("s3cret-pw"));
    let mut i = Session::new(cfg_i, Role::Initiator, MemoryStore::default());
    let mut a = Session::new(cfg_a.clone(), Role::Acceptor, MemoryStore::default());
    i.start(T0);
    let got = deliver(&mut i, &mut a, T0);
    assert!(matches!(&got[0], Inbound::Disconnect(w) if w.contains("invalid Username/Password")));
    // The right password logs on.
    let mut cfg_i = settings("FOXTROT", "VENUE");
    cfg_i.username = Some("fox".into());
    cfg_i.password = Some("other".into());
    let mut i = Session::new(cfg_i, Role::Initiator, MemoryStore::default());
    let mut a = Session::new(cfg_a, Role::Acceptor, MemoryStore::default());
    i.start(T0);
    settle(&mut i, &mut a, T0);
    assert_eq!(a.status(), Status::Active);
}

#[test]
fn sequence_reset_modes() {
    let (_, mut a) = logged_on();
    // Reset mode ignores MsgSeqNum and moves the expected number.
    let r = fix("35=4|34=99|49=FOXTROT|52=20260105-14:30:01.000|56=VENUE|123=N|36=50|");
    assert_eq!(a.on_message(&r, T0 + S), Inbound::Session);
    assert_eq!(a.next_in(), 50);
    // A gap fill may not go backwards.
    let g = fix("35=4|34=50|49=FOXTROT|52=20260105-14:30:01.000|56=VENUE|123=Y|36=10|");
    assert_eq!(a.on_message(&g, T0 + S), Inbound::Session);
    let rej = String::from_utf8_lossy(a.outbox()).into_owned();
    assert!(
        rej.contains("35=3\x01") && rej.contains("373=5\x01") && !rej.contains("371="),
        "{rej}"
    );
}

#[test]
fn logout_is_answered_and_a_restarted_session_resumes_its_numbers() {
    let (mut i, mut a) = logged_on();
    order(&mut i, 1, T0 + S);
    order(&mut i, 2, T0 + S);
    settle(&mut i, &mut a, T0 + S);
    i.logout("end of day", T0 + 2 * S);
    let (gi, ga) = settle(&mut i, &mut a, T0 + 2 * S);
    assert!(matches!(ga.last(), Some(Inbound::Disconnect(_))));
    assert!(matches!(gi.last(), Some(Inbound::Disconnect(_))));
    // Both restart from their stores: numbers continue, nothing is re-sent.
    let (out_i, in_i) = (i.next_out(), i.next_in());
    let mut i2 = Session::new(settings("FOXTROT", "VENUE"), Role::Initiator, i.store().clone());
    let mut a2 = Session::new(settings("VENUE", "FOXTROT"), Role::Acceptor, a.store().clone());
    i2.start(T0 + 10 * S);
    let (gi, ga) = settle(&mut i2, &mut a2, T0 + 10 * S);
    assert_eq!((gi, ga), (vec![Inbound::Session], vec![Inbound::Session]));
    assert_eq!((i2.next_out(), i2.next_in()), (out_i + 1, in_i + 1));
    assert_eq!(a2.status(), Status::Active);
}

proptest::proptest! {
    /// Well-framed messages with arbitrary fields and sequence numbers, in any
    /// order: the session answers, queues, rejects or disconnects — never panics.
    #[test]
    fn arbitrary_messages_never_panic(
        msgs in proptest::collection::vec(
            (proptest::sample::select(vec!["0", "1", "2", "3", "4", "5", "A", "D", "8", "Z"]),
             0u64..12, proptest::bool::ANY, proptest::collection::vec((1u32..200, "[A-Z0-9]{0,4}"), 0..5)),
            1..30),
    ) {
        let (_, mut a) = logged_on();
        for (k, (t, seq, dup, fields)) in msgs.iter().enumerate() {
            let mut body = format!("35={t}|34={seq}|49=FOXTROT|52=20260105-14:30:01.000|56=VENUE|");
            if *dup {
                body.push_str("43=Y|");
            }
            for (tag, v) in fields {
                if !v.is_empty() && ![8, 9, 10, 35, 34, 49, 56, 52].contains(tag) {
                    body.push_str(&format!("{tag}={v}|"));
                }
            }
            let now = T0 + k as u64 * S;
            let _ = a.on_message(&fix(&body), now);
            while a.next_queued(now).is_some() {}
            let _ = a.on_timer(now);
            a.outbox().clear();
        }
    }
}

/// A session over a journal-backed store, dropped (as a process dies) and opened
/// again: same sequence numbers, and a resend request is answered from the sent
/// messages it kept.
#[test]
fn a_journal_store_survives_a_restart() {
    use foxtrot_fix::store::JournalStore;
    let dir = std::env::temp_dir().join(format!("foxtrot-fix-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut a = Session::new(settings("VENUE", "FOXTROT"), Role::Acceptor, MemoryStore::default());
    let (out, inn) = {
        let mut i = Session::new(
            settings("FOXTROT", "VENUE"),
            Role::Initiator,
            JournalStore::open(&dir).unwrap(),
        );
        i.start(T0);
        let bytes = std::mem::take(i.outbox());
        split_frames(&bytes, |m| {
            a.on_message(m, T0);
        });
        let back = std::mem::take(a.outbox());
        split_frames(&back, |m| {
            i.on_message(m, T0);
        });
        for n in 0..3 {
            i.send("D", &[(11, &n.to_string()), (55, "FOXA")], T0 + S);
        }
        assert!(i.store().error().is_none());
        (i.next_out(), i.next_in())
    };
    assert_eq!((out, inn), (5, 2));
    let mut i = Session::new(
        settings("FOXTROT", "VENUE"),
        Role::Initiator,
        JournalStore::open(&dir).unwrap(),
    );
    assert_eq!((i.next_out(), i.next_in()), (5, 2));
    // The counterparty never got 2..4: it asks, and they come back from the journal.
    // (Our Logon is seq 5; the venue's answer resumes at its seq 2.)
    i.start(T0 + 5 * S);
    i.on_message(
        &fix("35=A|34=2|49=VENUE|52=20260105-14:30:05.000|56=FOXTROT|98=0|108=30|"),
        T0 + 5 * S,
    );
    assert_eq!(i.status(), Status::Active);
    let req = fix("35=2|34=3|49=VENUE|52=20260105-14:30:05.000|56=FOXTROT|7=2|16=0|");
    i.outbox().clear();
    assert_eq!(i.on_message(&req, T0 + 5 * S), Inbound::Session);
    let resent = msg_types(i.outbox());
    // The Logon (seq 5) is not resent: a gap fill to 6 stands for it.
    assert_eq!(
        resent,
        vec![
            ("D".into(), 2, true),
            ("D".into(), 3, true),
            ("D".into(), 4, true),
            ("4".into(), 5, true)
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Reports reach the caller already read by the session's one-pass scanner
/// (`Session::report`), with the fields the full decoder reads; other
/// application messages, and reports queued behind a gap, are handed over
/// without it only where the scanner does not apply.
#[test]
fn reports_come_with_their_fields_other_messages_without() {
    let (mut i, mut a) = logged_on();
    // The venue reports; the engine (initiator) receives.
    a.send(
        "8",
        &[
            (11, "42"),
            (37, "7"),
            (17, "1"),
            (150, "0"),
            (39, "0"),
            (55, "FOXA"),
            (54, "1"),
            (14, "0"),
            (151, "100"),
            (6, "0"),
        ],
        T0 + S,
    );
    let bytes = std::mem::take(a.outbox());
    let mut seen = 0;
    split_frames(&bytes, |m| {
        assert_eq!(i.on_message(m, T0 + S), Inbound::App);
        let r = i.report(m).expect("a report is scanned");
        let mut d = FixDecoder::new();
        let full = d.decode(m).unwrap();
        for t in [11, 34, 37, 49, 52, 55, 56, 150, 151, 58, 10] {
            assert_eq!(r.get(t), full.get(t), "tag {t}");
        }
        // Only for the message just checked.
        assert!(i.report(&m[1..]).is_none());
        seen += 1;
    });
    assert_eq!(seen, 1);
    // An order (to the venue) is an application message the scanner leaves alone.
    order(&mut i, 1, T0 + S);
    let got = deliver_msgs(&mut i, &mut a, T0 + S);
    assert_eq!(got[0].0, Inbound::App);
    assert!(a.report(&got[0].1).is_none());
    // A report after a gap is queued, then handed over scanned once the gap fills.
    let mut new_ack = |cl: &str| {
        a.send(
            "8",
            &[
                (11, cl),
                (37, cl),
                (17, cl),
                (150, "0"),
                (39, "0"),
                (55, "FOXA"),
                (54, "1"),
                (14, "0"),
                (151, "1"),
                (6, "0"),
            ],
            T0 + S,
        );
        std::mem::take(a.outbox())
    };
    let lost = new_ack("43");
    let later = new_ack("44");
    split_frames(&later, |m| assert_eq!(i.on_message(m, T0 + S), Inbound::Session));
    assert!(i.next_queued(T0 + S).is_none());
    split_frames(&lost, |m| {
        assert_eq!(i.on_message(m, T0 + S), Inbound::App);
        assert_eq!(i.report(m).unwrap().get(11), Some(&b"43"[..]));
    });
    let (r, q) = i.next_queued(T0 + S).expect("the queued report");
    assert_eq!(r, Inbound::App);
    assert_eq!(i.report(&q).unwrap().get(11), Some(&b"44"[..]));
}

/// A process killed after journalling a message but before journalling the
/// sequence numbers that count it: reopened, the store goes on after that
/// message, so the next one (a Logon, not stored) cannot take its number and
/// the message is still resent when the peer asks for the gap.
#[test]
fn a_journal_store_killed_between_a_message_and_its_numbers_resumes_after_it() {
    use foxtrot_fix::session::MessageStore;
    use foxtrot_fix::store::JournalStore;
    let dir = std::env::temp_dir().join(format!("foxtrot-fix-store-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let fill = fix("35=8|34=7|49=VENUE|52=20260105-14:30:05.000|56=FOXTROT|150=F|");
    {
        let mut st = JournalStore::open(&dir).unwrap();
        st.set_seqs(7, 3);
        st.put(7, &fill);
        // Killed here: no set_seqs(8, 3).
    }
    let st = JournalStore::open(&dir).unwrap();
    assert_eq!(st.seqs(), (8, 3));
    assert_eq!(st.get(7), Some(&fill[..]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh session store directory as a process killed in its first
/// milliseconds leaves it: the directory and its lock file, nothing else.
fn store_killed_early(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("foxtrot-fix-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("LOCK"), b"").unwrap();
    dir
}

/// A store killed after its directory (and lock file) was made but before its
/// first segment was: it recorded nothing and opens as a new store, where it
/// was "not a journal (no segment files)" and the restart never started
/// (found by the kill loop: a kill in the first milliseconds of a run).
#[test]
fn a_journal_store_killed_before_its_first_segment_opens_empty() {
    use foxtrot_fix::session::MessageStore;
    use foxtrot_fix::store::JournalStore;
    let dir = store_killed_early("early");
    let fill = fix("35=8|34=1|49=VENUE|52=20260105-14:30:05.000|56=FOXTROT|150=F|");
    {
        let mut st = JournalStore::open(&dir).unwrap();
        assert_eq!(st.seqs(), (1, 1));
        assert_eq!(st.sent().count(), 0);
        st.put(1, &fill);
        st.set_seqs(2, 1);
    }
    let st = JournalStore::open(&dir).unwrap();
    assert_eq!((st.seqs(), st.get(1)), ((2, 1), Some(&fill[..])));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store killed while it made its first segment — the file there, its
/// header not yet written — opens empty, and what the next life records
/// stays recorded. (Found by the kill loop: that life wrote its whole session
/// into a file the journal had just removed as a blank, and the restart after
/// it logged on at MsgSeqNum 1, which the venue refused as too low.)
#[test]
fn a_journal_store_killed_while_making_its_first_segment_keeps_the_next_life() {
    use foxtrot_fix::session::MessageStore;
    use foxtrot_fix::store::JournalStore;
    let dir = store_killed_early("blank");
    std::fs::File::create(dir.join("00000000000000000000.seg"))
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let fill = fix("35=8|34=1|49=VENUE|52=20260105-14:30:05.000|56=FOXTROT|150=F|");
    {
        let mut st = JournalStore::open(&dir).unwrap();
        assert_eq!(st.seqs(), (1, 1));
        for seq in 1..=100 {
            st.put(seq, &fill);
            st.set_seqs(seq + 1, 1);
        }
        assert!(st.error().is_none());
    }
    let st = JournalStore::open(&dir).unwrap();
    assert_eq!((st.seqs(), st.sent().count()), ((101, 1), 100));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store whose next segment cannot be made (a full disk; here a directory
/// in its place): `keep` refuses the message that finds it so and every one
/// after, recording nothing; `put` (a cancel's path) still holds the message
/// in memory for a resend in this session. A session given a message the
/// store could not keep queues nothing and uses no sequence number.
#[test]
fn a_journal_store_that_cannot_keep_a_message_records_none_of_it() {
    use foxtrot_fix::session::MessageStore;
    use foxtrot_fix::store::JournalStore;
    let dir = std::env::temp_dir().join(format!("foxtrot-fix-store-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut st = JournalStore::open_sized(&dir, 64 << 10).unwrap();
    // Segment 1 is made ahead; segment 2 is the one a roll cannot get.
    std::fs::create_dir_all(dir.join("00000000000000000002.seg")).unwrap();
    let msg = fix(&format!("35=D|34=1|49=FOXTROT|56=VENUE|11=1|{}|", "58=x".repeat(100)));
    let mut seq = 1;
    while st.keep(seq, &msg) {
        seq += 1;
        assert!(seq < 10_000, "the store never failed");
    }
    assert!(seq > 100, "failed after {seq} messages");
    assert!(st.error().is_some());
    assert_eq!(st.get(seq), None, "a refused message is not held");
    assert!(!st.keep(seq, &msg), "a failed store keeps nothing more");
    st.put(seq, &msg);
    assert_eq!(st.get(seq), Some(&msg[..]), "put still holds it for a resend");
    drop(st);
    // The session: nothing queued, no number used.
    let _ = std::fs::remove_dir_all(&dir);
    let mut st = JournalStore::open_sized(&dir, 64 << 10).unwrap();
    std::fs::create_dir_all(dir.join("00000000000000000002.seg")).unwrap();
    while st.keep(st.seqs().0, &msg) {
        let (o, i) = st.seqs();
        st.set_seqs(o + 1, i);
    }
    let mut s = Session::new(settings("FOXTROT", "VENUE"), Role::Initiator, st);
    let before = s.next_out();
    assert!(!s.sent_app_kept(&msg, 0));
    assert_eq!(s.next_out(), before);
    assert!(s.outbox().is_empty(), "a message the store refused was queued");
    s.sent_app(&msg, 0);
    assert_eq!(s.next_out(), before + 1, "a cancel still goes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One change to an ordinary order, cancel or replace, for the fast-path test.
#[derive(Clone, Debug)]
enum Change {
    /// None: the message as a peer sends it.
    Clean,
    /// Field `i` (modulo the count) gets `value`.
    Value(usize, String),
    /// Fields `i` and `i + 1` swap places.
    Swap(usize),
    /// Field `i` is left out.
    Drop(usize),
    /// A field is added after field `i`.
    Add(usize, u32, String),
    /// MsgSeqNum this far from the expected one.
    Seq(i64),
    /// MsgSeqNum zero-padded to this many characters.
    PadSeq(usize),
    /// The field `i`'s tag gets a leading zero.
    LeadingZero(usize),
}

fn change() -> impl Strategy<Value = Change> {
    let value = || proptest::string::string_regex("[019A-Z .:-]{0,6}").unwrap();
    prop_oneof![
        6 => Just(Change::Clean),
        3 => (0usize..16, value()).prop_map(|(i, v)| Change::Value(i, v)),
        1 => (0usize..16).prop_map(Change::Swap),
        1 => (0usize..16).prop_map(Change::Drop),
        1 => (0usize..16, prop::sample::select(vec![58u32, 43, 122, 115, 9999, 1, 5001, 44, 41]), value())
            .prop_map(|(i, t, v)| Change::Add(i, t, v)),
        1 => (-2i64..=2).prop_map(Change::Seq),
        1 => (8usize..=12).prop_map(Change::PadSeq),
        1 => (0usize..16).prop_map(Change::LeadingZero),
    ]
}

/// `kind` 0: a limit order, 1: a market order, 2: a cancel, 3: a replace —
/// its fields after BodyLength, MsgSeqNum `seq`, changed by `c`; framed.
fn peer_message(kind: u8, n: u32, seq: u64, c: &Change) -> Vec<u8> {
    let t = "20260105-14:30:01.000";
    let seq_text = match c {
        Change::Seq(d) => (seq as i64 + d).to_string(),
        Change::PadSeq(w) => format!("{seq:0>w$}"),
        _ => seq.to_string(),
    };
    let mut f: Vec<(String, String)> = vec![
        ("35".into(), ["D", "D", "F", "G"][kind as usize].into()),
        ("34".into(), seq_text),
        ("49".into(), "FOXTROT".into()),
        ("52".into(), t.into()),
        ("56".into(), "VENUE".into()),
        ("11".into(), format!("C{n}")),
    ];
    if kind >= 2 {
        f.push(("41".into(), format!("C{}", n.saturating_sub(1))));
    }
    f.push(("55".into(), "FOXA".into()));
    f.push(("54".into(), "1".into()));
    f.push(("38".into(), "100".into()));
    // A cancel names the order; it has no type, price or time in force.
    if kind != 2 {
        f.push(("40".into(), if kind == 1 { "1" } else { "2" }.into()));
        if kind != 1 {
            f.push(("44".into(), "100.25".into()));
        }
        f.push(("59".into(), "0".into()));
    }
    f.push(("60".into(), t.into()));
    let n = f.len();
    // MsgType stays first (a message without it is garbled, which the frame check
    // decides before either path).
    let at = |i: usize| 1 + i % (n - 1);
    match c {
        Change::Clean | Change::Seq(_) | Change::PadSeq(_) => {}
        Change::Value(i, v) => f[at(*i)].1 = v.clone(),
        Change::Swap(i) => {
            let j = at(*i);
            if j + 1 < n {
                f.swap(j, j + 1);
            }
        }
        Change::Drop(i) => {
            f.remove(at(*i));
        }
        Change::Add(i, tag, v) => f.insert(at(*i) + 1, (tag.to_string(), v.clone())),
        Change::LeadingZero(i) => f[at(*i)].0.insert(0, '0'),
    }
    let body: String = f.iter().map(|(t, v)| format!("{t}={v}|")).collect();
    fix(&body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The acceptor's fast path (application messages read along learned
    /// layouts) answers every message exactly as the general path does:
    /// the same outcome, the same bytes sent (rejects, resend requests,
    /// logouts), the same sequence numbers and events — over ordinary orders,
    /// cancels and replaces and every kind of damage to them.
    #[test]
    fn the_acceptors_fast_path_answers_as_the_general_path(
        msgs in proptest::collection::vec((0u8..4, change()), 1..60),
    ) {
        let (_, mut fast) = logged_on();
        let (_, mut general) = logged_on();
        general.set_app_fast_path(false);
        let now = T0 + S;
        // A clean message of each kind first, so that layouts are learned.
        let clean = (0..4u8).map(|k| (k, Change::Clean));
        for (n, (kind, c)) in clean.chain(msgs).enumerate() {
            let m = peer_message(kind, n as u32, general.next_in(), &c);
            let a = fast.on_message(&m, now);
            let b = general.on_message(&m, now);
            prop_assert_eq!(&a, &b, "message {} {:?}: {}", n, c, String::from_utf8_lossy(&m));
            loop {
                let (qa, qb) = (fast.next_queued(now), general.next_queued(now));
                prop_assert_eq!(&qa, &qb);
                if qa.is_none() {
                    break;
                }
            }
            prop_assert_eq!(std::mem::take(fast.outbox()), std::mem::take(general.outbox()), "message {} {:?}", n, c);
            prop_assert_eq!((fast.next_in(), fast.next_out()), (general.next_in(), general.next_out()));
            prop_assert_eq!(fast.take_events(), general.take_events());
            prop_assert_eq!(fast.status(), general.status());
        }
        // Each of the clean four taught one.
        prop_assert!(fast.app_layouts() >= 4);
    }
}

/// What passed every check teaches the acceptor its layout (one per MsgType
/// and order of tags); what was rejected teaches nothing. (That a message
/// along a layout is answered as the general path answers it is the property
/// test's to show.)
#[test]
fn the_acceptor_learns_the_layouts_of_what_passed() {
    let (_, mut a) = logged_on();
    assert_eq!(a.app_layouts(), 0);
    for kind in 0..4u8 {
        let m = peer_message(kind, kind as u32, a.next_in(), &Change::Clean);
        assert_eq!(a.on_message(&m, T0 + S), Inbound::App);
    }
    // Two orders (limit and market), a cancel and a replace.
    assert_eq!(a.app_layouts(), 4);
    // A rejected message teaches nothing.
    let bad = peer_message(0, 9, a.next_in(), &Change::Value(7, "X".into()));
    assert_eq!(a.on_message(&bad, T0 + S), Inbound::Refused);
    let bad2 = peer_message(0, 9, a.next_in(), &Change::Add(3, 9999, "x".into()));
    assert_eq!(a.on_message(&bad2, T0 + S), Inbound::Refused);
    assert_eq!(a.app_layouts(), 4);
}

/// A report read along a learned layout meets the session rules exactly as the
/// general path applies them: MsgSeqNum read as the general path reads it (an
/// eleven-character number is not one there, so the report is too low and ends
/// the session), BeginString compared whole (not as a prefix).
#[test]
fn a_report_along_a_layout_meets_the_general_paths_rules() {
    for (begin, seq) in [("FIX.4.4", "00000000002"), ("FIX.4.4X", "2")] {
        let (mut i, _) = logged_on();
        let report = |begin: &str, seq: &str, cl: &str| {
            let body = format!(
                "35=8|34={seq}|49=VENUE|52=20260105-14:30:01.000|56=FOXTROT|11={cl}|37={cl}|17={cl}|150=0|39=0|55=FOXA|54=1|14=0|151=100|6=0|"
            )
            .replace('|', "\x01");
            let mut m = format!("8={begin}\x019={}\x01{body}", body.len()).into_bytes();
            let sum = m.iter().map(|&c| c as u32).sum::<u32>() % 256;
            m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
            m
        };
        // A clean report teaches the scanner its layout (seq 2)…
        assert_eq!(i.on_message(&report("FIX.4.4", "2", "1"), T0 + S), Inbound::App);
        assert!(i.report(&report("FIX.4.4", "2", "1")).is_some());
        // …the next, along it, differs only in the rule under test (seq 3 expected).
        let odd_seq = if seq == "2" {
            "3".to_string()
        } else {
            format!("{:0>11}", 3)
        };
        let got = i.on_message(&report(begin, &odd_seq, "2"), T0 + S);
        assert_ne!(got, Inbound::App, "BeginString {begin}, MsgSeqNum {odd_seq}");
    }
}
