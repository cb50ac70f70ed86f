//! `foxtrot soak`: hours of event time, sampled hourly, with the verdict and
//! the HTML page.

mod common;

use common::{ok, tempdir, RemoveOnSuccess};

#[test]
fn a_short_soak_samples_every_hour_and_passes_its_verdict() {
    let d = tempdir("soak");
    let _cleanup = RemoveOnSuccess(d.clone());
    let html = d.join("soak.html");
    let out = ok(&[
        "soak",
        "--hours",
        "3",
        "--set",
        "gen.rate_per_sec=40",
        "--json",
        "--html",
        html.to_str().unwrap(),
    ]);
    let j: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let hours = j["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 3);
    for (i, h) in hours.iter().enumerate() {
        assert_eq!(h["hour"], i as u64 + 1);
        // 40 actions a second for each of three instruments, give or take the
        // generator's bursts and halts: a simulated hour, not a wall-clock one.
        let events = h["events"].as_u64().unwrap();
        assert!((200_000..800_000).contains(&events), "hour {}: {events} events", i + 1);
        assert!(h["rss_bytes"].as_u64().unwrap() > 1 << 20);
        assert!(h["open_fds"].as_u64().unwrap() >= 3);
    }
    assert!(hours[0]["orders"].as_u64().unwrap() > 0);
    // Every input was journalled, each append timed, and so was the control;
    // the segments rolled (1 MiB first) and the journal was removed at the end.
    let journal = &j["journal"];
    let inputs: u64 = hours.iter().map(|h| h["events"].as_u64().unwrap()).sum();
    assert!(journal["appends"].as_u64().unwrap() >= inputs, "{journal}");
    assert!(journal["rolls"].as_u64().unwrap() >= 2, "{journal}");
    assert!(journal["max_ns"].as_u64().unwrap() > 0 && journal["control_max_ns"].as_u64().unwrap() > 0);
    assert!(hours.iter().all(|h| h["append_max_ns"].as_u64().unwrap() > 0));
    assert!(hours[0]["t2o_p99_ns"].as_u64().unwrap() > 0);
    assert_eq!(j["verdict"]["violations"], 0);
    assert_eq!(j["verdict"]["passed"], true, "{}", j["verdict"]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("resident memory") && page.contains("slowest journal append"),
        "the page has its curves"
    );
}
