//! The webhook notifier against a loopback HTTP server: the body a Slack-compatible receiver
//! gets, retries on 5xx, giving up on a dead port, drops when the queue is full, and a URL that
//! never shows (its path is the secret); https verified against a configured CA.

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use pulse_engine::config::{KeySource, NotifyConfig};
use pulse_engine::ops::notify::Notifier;
use pulse_engine::ops::OpsEvent;
use pulse_engine::secrets::TakenSecret;
use pulse_gateways::secret::Secret;

mod common;
mod events_support;

use common::{pulse_venue, VenueProcess};

use events_support::webhook::serve;

/// The path a Slack webhook URL keeps its credential in.
const SECRET_PATH: &str = "/services/T0000/B0000/XXXXsecretXXXX";

fn config(url: String, retries: u32, queue: usize) -> NotifyConfig {
    NotifyConfig {
        url: KeySource::Taken(TakenSecret::new(
            "PULSE_NOTIFY_URL".into(),
            Secret::new(url),
        )),
        on: vec!["degraded".into(), "kill".into()],
        timeout: Duration::from_millis(500),
        retries,
        backoff: Duration::from_millis(20),
        queue,
        ca_file: None,
    }
}

fn degraded(at: u64) -> OpsEvent {
    OpsEvent::new(at, "health")
        .with("from", "healthy")
        .with("to", "degraded")
        .with("reason", "kill_switch")
}

#[test]
fn a_health_change_posts_slack_json_with_the_event() {
    let hook = serve(vec![]);
    let url = format!("http://{}{SECRET_PATH}", hook.addr);
    let mut n = Notifier::start(&config(url, 3, 8), "demo").unwrap();
    assert_eq!(n.host(), "127.0.0.1");
    // A transition to warning is not on the default list; to degraded is.
    n.offer(
        &OpsEvent::new(1, "health")
            .with("from", "healthy")
            .with("to", "warning")
            .with("reason", "resync"),
    );
    n.offer(&degraded(1_796_614_800_000_000_000));
    n.offer(&OpsEvent::new(2, "rearm").with("uid", 1000u64));
    let report = n.finish();
    assert_eq!((report.sent, report.attempts, report.failed), (1, 1, 0));
    let req = hook.requests.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(req.line, format!("POST {SECRET_PATH} HTTP/1.1"));
    assert!(
        req.head.contains("Content-Type: application/json"),
        "{}",
        req.head
    );
    let body = req.json();
    assert_eq!(
        body["text"],
        "pulse demo: health healthy -> degraded (kill_switch)"
    );
    assert_eq!(body["pulse"]["kind"], "health");
    assert_eq!(body["pulse"]["instance"], "demo");
    assert_eq!(body["pulse"]["to"], "degraded");
    assert_eq!(body["pulse"]["ts"], "2026-12-07T03:40:00.000000000Z");
    assert!(hook.requests.try_recv().is_err(), "one POST only");
}

#[test]
fn five_hundred_twice_then_ok_is_three_requests() {
    let hook = serve(vec![Some(500), Some(503), Some(200)]);
    let url = format!("http://{}{SECRET_PATH}", hook.addr);
    let mut n = Notifier::start(&config(url, 3, 8), "demo").unwrap();
    n.offer(&OpsEvent::new(1, "kill").with("reason", "operator"));
    let report = n.finish();
    // Tries 1 and 2 answered 5xx, try 3 200: sent once, in 3 POSTs.
    assert_eq!((report.sent, report.attempts, report.failed), (1, 3, 0));
    let got: Vec<String> = hook
        .requests
        .try_iter()
        .map(|r| r.json()["text"].to_string())
        .collect();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|t| t.contains("kill switch engaged (operator)")),
        "{got:?}"
    );
}

#[test]
fn a_dead_port_is_given_up_after_the_retries() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let url = format!("http://127.0.0.1:{port}{SECRET_PATH}");
    let mut n = Notifier::start(&config(url, 2, 8), "demo").unwrap();
    n.offer(&OpsEvent::new(1, "kill").with("reason", "operator"));
    let report = n.finish();
    // 1 try + 2 retries, all refused: 3 attempts, 1 event given up.
    assert_eq!((report.sent, report.attempts, report.failed), (0, 3, 1));
}

#[test]
fn a_full_queue_drops_and_counts_without_blocking() {
    // The server reads the first POST and never answers: the notifier's thread is stuck in it
    // (until its 500 ms timeout) while the queue of 2 fills.
    let hook = serve(vec![None]);
    let url = format!("http://{}{SECRET_PATH}", hook.addr);
    let mut n = Notifier::start(&config(url, 0, 2), "demo").unwrap();
    n.offer(&OpsEvent::new(1, "kill").with("reason", "operator"));
    hook.requests.recv_timeout(Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    for i in 0..10 {
        n.offer(&OpsEvent::new(2 + i, "kill").with("reason", "operator"));
    }
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "offer never waits"
    );
    // 2 queued, 8 dropped.
    assert_eq!(n.dropped(), 8);
    let report = n.finish();
    assert_eq!(report.dropped, 8);
    // The hung one timed out (retries = 0: failed); the 2 queued were then sent.
    assert_eq!((report.sent, report.failed, report.attempts), (2, 1, 3));
}

#[test]
fn the_url_never_shows() {
    let cfg = config(format!("http://127.0.0.1:9{SECRET_PATH}"), 3, 8);
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains("PULSE_NOTIFY_URL"), "{debug}");
    let bad = config(format!("ftp://example.com{SECRET_PATH}"), 3, 8);
    let err = Notifier::start(&bad, "demo").err().unwrap();
    assert!(
        !err.contains("secret") && err.contains("<redacted>"),
        "{err}"
    );
    let bad = config(format!("http://:x{SECRET_PATH}"), 3, 8);
    let err = Notifier::start(&bad, "demo").err().unwrap();
    assert!(!err.contains("secret"), "{err}");
    let hook = serve(vec![]);
    let n = Notifier::start(
        &config(format!("http://{}{SECRET_PATH}", hook.addr), 3, 8),
        "d",
    )
    .unwrap();
    let mut summary = String::new();
    let report = pulse_engine::ops::sinks::OpsReport {
        events: 1,
        notify: Some((n.host().to_owned(), n.finish())),
        ..Default::default()
    };
    pulse_engine::ops::summary::render(&mut summary, &report);
    assert_eq!(
        summary,
        "events    1 ops event(s); webhook 127.0.0.1 (<redacted>) 0 sent in 0 POST(s)\n"
    );
}

/// A child process killed when the test ends, passed or failed.
/// `pulse venue --tls` on a free port: an https server with a CA of its own, which answers a
/// POST to a path it does not serve with 404. Returns it, its address and the CA's PEM file.
fn tls_server(dir: &std::path::Path) -> (VenueProcess, String, std::path::PathBuf) {
    let ca = dir.join("ca.pem");
    let capture = common::repo_root().join("data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let args: [&OsStr; 7] = [
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--tls".as_ref(),
        "--ca-out".as_ref(),
        ca.as_os_str(),
        "--capture".as_ref(),
        capture.as_os_str(),
    ];
    let (server, mut banner) = pulse_venue(&args, 1);
    (server, banner.remove(0), ca)
}

#[test]
fn https_is_verified_against_the_configured_ca() {
    let dir = std::env::temp_dir().join(format!("pulse-notify-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (server, addr, ca) = tls_server(&dir);
    let url = format!("https://{addr}{SECRET_PATH}");
    // Trusting its CA: the TLS session is made and the server answers 404, which is not
    // retried: 1 POST, 1 failed.
    let mut trusted = config(url.clone(), 2, 8);
    trusted.ca_file = Some(ca);
    let mut n = Notifier::start(&trusted, "demo").unwrap();
    n.offer(&OpsEvent::new(1, "kill").with("reason", "operator"));
    let report = n.finish();
    // Mozilla's roots only: the certificate does not verify, a transport error, retried:
    // 1 + 2 tries, 1 failed.
    let mut n = Notifier::start(&config(url, 2, 8), "demo").unwrap();
    n.offer(&OpsEvent::new(1, "kill").with("reason", "operator"));
    let untrusted = n.finish();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!((report.sent, report.attempts, report.failed), (0, 1, 1));
    assert_eq!(
        (untrusted.sent, untrusted.attempts, untrusted.failed),
        (0, 3, 1)
    );
}
