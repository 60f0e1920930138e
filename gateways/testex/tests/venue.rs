//! The local Binance venue over real loopback sockets, with the bundled capture: exact bytes per
//! subscribed stream, REST snapshots consistent with the frames, every fault as a client sees
//! it, ping/pong deadlines, and wss/https through the venue's own CA.

mod venue_support;

use std::collections::HashMap;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use pulse_testex::{Fault, Venue, VenueConfig};
use serde_json::Value;
use tungstenite::protocol::frame::coding::CloseCode;
use venue_support::{
    capture, eventually, http_get, http_get_over, timeline, tls_stream, Event, RefBook, TestStream,
    WsClient,
};

const ALL: &str = "/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade";

/// As fast as the client reads, starting when it subscribes: deterministic from frame 0.
fn lockstep() -> VenueConfig {
    VenueConfig {
        speed_milli: 0,
        wait_for_client: true,
        ..VenueConfig::new(capture())
    }
}

fn ids(frame: &str) -> (u64, u64) {
    let v: Value = serde_json::from_str(frame).unwrap();
    (
        v["data"]["U"].as_u64().unwrap(),
        v["data"]["u"].as_u64().unwrap(),
    )
}

#[test]
fn streams_exactly_the_recorded_bytes_of_the_subscribed_streams() {
    let t = timeline();
    let venue = Venue::start(lockstep()).unwrap();
    assert_eq!(venue.ca_pem(), None);
    let mut client = WsClient::connect(
        venue.addr(),
        "/stream?streams=btcusdt@depth@100ms/btcusdt@trade",
    );
    let expected: Vec<&str> = t
        .frames
        .iter()
        .filter(|f| f.stream != "btcusdt@bookTicker")
        .map(|f| f.text.as_str())
        .collect();
    for (i, want) in expected.iter().enumerate() {
        let got = client.text();
        assert!(
            got == *want,
            "subscribed frame {i} differs\n got: {got}\nwant: {want}"
        );
    }
    assert!(eventually(Duration::from_secs(5), || venue.finished()));
    let stats = venue.stats();
    assert_eq!(venue.frames_sent(), t.frames.len() as u64);
    assert_eq!(stats.frames_sent, 41_241);
    // The 7 frames recorded before the REST snapshot are not streamed.
    assert_eq!(stats.timeline.skipped_before_snapshot, 7);
    assert_eq!((stats.capture_gaps, stats.timeline.unusable_lines), (0, 0));
    assert_eq!(stats.clients, 1);
}

#[test]
fn raw_streams_control_messages_and_no_history() {
    let t = timeline();
    let venue = Venue::start(lockstep()).unwrap();
    let mut raw = WsClient::connect(venue.addr(), "/ws");
    // Nothing is subscribed yet, so nothing streams: the replies come first.
    raw.send("hello");
    let reply: Value = serde_json::from_str(&raw.text()).unwrap();
    assert_eq!(reply["error"]["code"], 3, "{reply}");
    assert_eq!(reply["id"], Value::Null);
    raw.send(r#"{"method":"SUBSCRIBEE","params":["btcusdt@trade"],"id":4}"#);
    let reply: Value = serde_json::from_str(&raw.text()).unwrap();
    assert_eq!(
        (reply["error"]["code"].clone(), reply["id"].clone()),
        (2.into(), 4.into())
    );
    assert_eq!(venue.frames_sent(), 0, "wait_for_client holds the timeline");

    raw.send(r#"{"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":1}"#);
    assert_eq!(raw.text(), r#"{"result":null,"id":1}"#);
    let tickers: Vec<&str> = t
        .frames
        .iter()
        .filter(|f| f.stream == "btcusdt@bookTicker")
        .map(|f| f.data.as_str())
        .collect();
    assert_eq!(raw.texts(200), tickers[..200]);
    raw.send(r#"{"method":"LIST_SUBSCRIPTIONS","id":"list"}"#);
    let mut next = 200;
    loop {
        let text = raw.text();
        if text == r#"{"result":["btcusdt@bookTicker"],"id":"list"}"# {
            break;
        }
        assert_eq!(text, tickers[next], "raw bookTicker {next}");
        next += 1;
    }

    // Lockstep waits for every client: this one leaves rather than stop reading.
    drop(raw);
    // A client connecting now gets no history: its first frame is one not yet played.
    let played = venue.frames_sent() as usize;
    let mut late = WsClient::connect(venue.addr(), "/stream?streams=btcusdt@trade");
    let first = t.index_of(&late.text()).unwrap();
    assert!(
        first >= played,
        "first frame {first}, {played} already played"
    );
    assert_eq!(t.frames[first].stream, "btcusdt@trade");
    let mut raw_trade = WsClient::connect(venue.addr(), "/ws/btcusdt@trade");
    let data = raw_trade.text();
    assert!(t
        .frames
        .iter()
        .any(|f| f.stream == "btcusdt@trade" && f.data == data));
}

#[test]
fn rest_snapshot_is_the_true_book_and_the_frames_after_it_continue_it() {
    let t = timeline();
    let venue = Venue::start(lockstep()).unwrap();
    let addr = venue.addr();
    // Before any client: the capture's snapshot, bridged by the diff that straddles it.
    let start = venue.book("BTCUSDT", 5).unwrap();
    assert_eq!(
        (start.last_update_id, start.bids.len()),
        (50_093_239_224, 5)
    );
    assert_eq!(venue.book("ETHUSDT", 5), None);

    let mut client = WsClient::connect(
        addr,
        "/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker",
    );
    let expected: Vec<&str> = t
        .frames
        .iter()
        .filter(|f| f.stream != "btcusdt@trade")
        .map(|f| f.text.as_str())
        .collect();
    // Buffer a few hundred frames, as Binance's procedure says, then fetch the snapshot.
    let mut received = client.texts(300);
    let (status, body) = http_get(addr, "/api/v3/depth?symbol=BTCUSDT&limit=5000");
    assert_eq!(status, 200, "{body}");
    let mut book = RefBook::from_snapshot(&body);
    received.extend(client.texts(expected.len() - 300));
    assert!(received == expected, "the stream differs from the capture");

    // Binance's own best bid and ask at an update id (a bookTicker's `u`) is the outside truth:
    // whenever the book stands at such an id, its touch must match. Tickers usually arrive
    // before the diff that reaches their id, so they wait for it.
    let mut tickers: HashMap<u64, [String; 4]> = HashMap::new();
    let mut ticker_checks = 0;
    for frame in &received {
        let v: Value = serde_json::from_str(frame).unwrap();
        let d = &v["data"];
        if v["stream"] == "btcusdt@depth@100ms" {
            book.apply(frame).unwrap();
        } else {
            let field = |k: &str| d[k].as_str().unwrap().to_string();
            let touch = [field("b"), field("B"), field("a"), field("A")];
            tickers.insert(d["u"].as_u64().unwrap(), touch);
        }
        if let Some([b, bq, a, aq]) = tickers.remove(&book.last_update_id) {
            let at = book.last_update_id;
            assert_eq!(book.bids()[0], (b, bq), "best bid at {at}");
            assert_eq!(book.asks()[0], (a, aq), "best ask at {at}");
            ticker_checks += 1;
        }
    }
    assert!(
        book.applied > 3000 && ticker_checks > 500,
        "{} diffs, {ticker_checks} tickers",
        book.applied
    );

    assert!(eventually(Duration::from_secs(5), || venue.finished()));
    let truth = venue.book("BTCUSDT", usize::MAX).unwrap();
    assert!(
        truth.bids.len() < 5000 && truth.asks.len() < 5000,
        "a 5000-level snapshot holds the whole book"
    );
    assert_eq!(book.last_update_id, truth.last_update_id);
    assert_eq!(book.bids(), truth.bids);
    assert_eq!(book.asks(), truth.asks);
    let (_, body) = http_get(addr, "/api/v3/depth?symbol=BTCUSDT&limit=5000");
    let end = RefBook::from_snapshot(&body);
    assert_eq!(
        (end.last_update_id, end.bids(), end.asks()),
        (truth.last_update_id, truth.bids, truth.asks)
    );
}

#[test]
fn rest_answers_like_binance_with_keep_alive() {
    let venue = Venue::start(VenueConfig {
        speed_milli: 0,
        ..VenueConfig::new(capture())
    })
    .unwrap();
    // No client and no waiting: the timeline runs to the end on its own.
    assert!(eventually(Duration::from_secs(10), || venue.finished()));
    let addr = venue.addr();
    assert_eq!(
        http_get(addr, "/api/v3/depth?symbol=ETHUSDT&limit=10"),
        (400, r#"{"code":-1121,"msg":"Invalid symbol."}"#.to_string())
    );
    let mut conn = TestStream::Plain(TcpStream::connect(addr).unwrap());
    let render = |book: pulse_testex::VenueBook| {
        let side = |levels: Vec<(String, String)>| {
            levels
                .into_iter()
                .map(|(p, q)| Value::from(vec![p, q]))
                .collect::<Vec<_>>()
        };
        serde_json::json!({"lastUpdateId": book.last_update_id, "bids": side(book.bids), "asks": side(book.asks)})
    };
    for (target, depth) in [
        ("/api/v3/depth?symbol=BTCUSDT", 100),
        ("/api/v3/depth?symbol=BTCUSDT&limit=5", 5),
        ("/api/v3/depth?limit=1000&symbol=BTCUSDT", 1000),
    ] {
        let (status, body) = http_get_over(&mut conn, target, false);
        assert_eq!(status, 200);
        let served: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            served,
            render(venue.book("BTCUSDT", depth).unwrap()),
            "{target}"
        );
        assert_eq!(served["bids"].as_array().unwrap().len(), depth);
    }
    assert_eq!(
        http_get_over(&mut conn, "/api/v3/ping", true),
        (200, "{}".to_string())
    );
}

#[test]
fn drop_duplicate_malformed_delay_and_silence_as_a_client_sees_them() {
    let t = timeline();
    let (dup_at, bad_at, delay_at, silence_at, last) = (100usize, 150, 300, 400, 450);
    let drop_at = *t.depth_indices().iter().find(|&&i| i > 160).unwrap();
    assert!(drop_at < delay_at);
    let (delay, silence) = (Duration::from_millis(300), Duration::from_millis(400));
    let venue = Venue::start(VenueConfig {
        faults: vec![
            Fault::Drop { at: drop_at as u64 },
            Fault::Duplicate { at: dup_at as u64 },
            Fault::Malformed { at: bad_at as u64 },
            Fault::Delay {
                at: delay_at as u64,
                ms: delay.as_millis() as u64,
            },
            Fault::Silence {
                at: silence_at as u64,
                ms: silence.as_millis() as u64,
            },
        ],
        ping_interval: Duration::from_millis(50),
        pong_timeout: Duration::from_secs(5),
        ..lockstep()
    })
    .unwrap();
    let addr = venue.addr();
    let mut client = WsClient::connect(addr, ALL);

    // What should arrive, frame by frame: None marks the malformed copy.
    let mut expected: Vec<(Option<usize>, &str)> = Vec::new();
    for (i, f) in t.frames.iter().enumerate().take(last + 1) {
        if i == bad_at {
            expected.push((None, &f.text));
        }
        if i != drop_at {
            expected.push((Some(i), &f.text));
        }
        if i == dup_at {
            expected.push((Some(i), &f.text));
        }
    }
    let mut arrived = vec![None; last + 2];
    let mut pings = Vec::new();
    let mut n = 0;
    while n < expected.len() {
        match client.event() {
            Event::Ping(_, at) => pings.push(at),
            Event::Text(text, at) => {
                match expected[n] {
                    (Some(i), want) => {
                        assert!(
                            text == want,
                            "message {n}: expected frame {i}\n got: {text}"
                        );
                        arrived[i] = Some(at);
                    }
                    (None, whole) => {
                        assert!(
                            text.len() < whole.len() && whole.starts_with(&text),
                            "not a truncated copy: {text}"
                        );
                        assert!(
                            serde_json::from_str::<Value>(&text).is_err(),
                            "the malformed copy parses"
                        );
                    }
                }
                n += 1;
            }
            other => panic!("connection ended: {other:?}"),
        }
    }
    let at = |i: usize| arrived[i].unwrap();

    // delay: the venue stalls before the frame, pings keep coming.
    let stall = at(delay_at) - at(delay_at - 1);
    assert!(
        stall >= delay - Duration::from_millis(50),
        "delay of {stall:?}"
    );
    let pings_in =
        |from: Instant, to: Instant| pings.iter().filter(|&&p| p > from && p < to).count();
    assert!(pings_in(at(delay_at - 1), at(delay_at)) >= 2);
    // silence: nothing at all after the frame, pings included.
    let quiet = at(silence_at + 1) - at(silence_at);
    assert!(
        quiet >= silence - Duration::from_millis(50),
        "silence of {quiet:?}"
    );
    assert_eq!(
        pings_in(
            at(silence_at) + Duration::from_millis(60),
            at(silence_at + 1)
        ),
        0
    );

    // drop: a U/u gap at exactly that frame. A client resyncs from REST and, applying the
    // rest of the stream, ends with the venue's true book.
    let depth_before = t
        .depth_indices()
        .into_iter()
        .rev()
        .find(|&i| i < drop_at)
        .unwrap();
    let depth_after = t
        .depth_indices()
        .into_iter()
        .find(|&i| i > drop_at)
        .unwrap();
    let (dropped, after) = (
        ids(&t.frames[drop_at].text),
        ids(&t.frames[depth_after].text),
    );
    assert_eq!(ids(&t.frames[depth_before].text).1 + 1, dropped.0);
    assert!(
        after.0 > ids(&t.frames[depth_before].text).1 + 1,
        "the client sees a gap"
    );
    let (_, body) = http_get(addr, "/api/v3/depth?symbol=BTCUSDT&limit=5000");
    let mut book = RefBook::from_snapshot(&body);
    assert!(
        book.last_update_id >= dropped.1,
        "the venue's book holds the dropped diff"
    );
    for f in &t.frames[last + 1..] {
        let text = client.text();
        assert!(text == f.text, "stream differs after the faults");
        if f.ids.is_some() {
            book.apply(&text).unwrap();
        }
    }
    assert!(eventually(Duration::from_secs(5), || venue.finished()));
    let truth = venue.book("BTCUSDT", usize::MAX).unwrap();
    assert_eq!(
        (book.last_update_id, book.bids(), book.asks()),
        (truth.last_update_id, truth.bids, truth.asks)
    );
}

#[test]
fn close_cuts_every_client_after_the_frame_and_a_reconnect_streams_from_now() {
    let t = timeline();
    let close_at = 800u64;
    let venue = Venue::start(VenueConfig {
        speed_milli: 20_000,
        faults: vec![Fault::Close { at: close_at }],
        ..lockstep()
    })
    .unwrap();
    let addr = venue.addr();
    let mut combined = WsClient::connect(addr, ALL);
    let mut raw = WsClient::connect(addr, "/ws");
    raw.send(r#"{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":7}"#);
    assert_eq!(raw.text(), r#"{"result":null,"id":7}"#);

    let drain = |client: &mut WsClient| {
        let mut texts = Vec::new();
        loop {
            match client.event() {
                Event::Text(text, _) => texts.push(text),
                Event::Ping(..) => {}
                Event::Closed(frame) => panic!("a close frame was sent: {frame:?}"),
                Event::Failed(_) => return texts,
            }
        }
    };
    let texts = drain(&mut combined);
    assert_eq!(
        texts.len() as u64,
        close_at + 1,
        "every frame through {close_at}, then the cut"
    );
    assert_eq!(texts.last().unwrap(), &t.frames[close_at as usize].text);
    let last_trade = t.frames[..=close_at as usize]
        .iter()
        .rev()
        .find(|f| f.stream == "btcusdt@trade")
        .unwrap();
    assert_eq!(drain(&mut raw).last().unwrap(), &last_trade.data);

    // The timeline went on; a new connection streams from the current point.
    let played = venue.frames_sent();
    assert!(played > close_at);
    let mut again = WsClient::connect(addr, ALL);
    let first = t.index_of(&again.text()).unwrap();
    assert!(
        first as u64 >= played,
        "first frame {first} after reconnecting, {played} played"
    );
    for k in 1..20 {
        assert_eq!(t.index_of(&again.text()), Some(first + k));
    }
}

#[test]
fn a_client_that_never_answers_pings_is_cut_and_one_that_answers_stays() {
    let venue = Venue::start(VenueConfig {
        ping_interval: Duration::from_millis(100),
        pong_timeout: Duration::from_millis(500),
        ..VenueConfig::new(capture())
    })
    .unwrap();
    let addr = venue.addr();
    let answering = std::thread::spawn(move || {
        let mut client = WsClient::connect(addr, "/stream?streams=btcusdt@trade");
        let (mut pings, mut texts) = (Vec::new(), 0);
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            match client.event() {
                Event::Ping(payload, _) => pings.push(payload),
                Event::Text(..) => texts += 1,
                other => panic!("the answering client was cut: {other:?}"),
            }
        }
        (pings, texts)
    });

    let (mut silent, mute) = WsClient::muted(addr, "/stream?streams=btcusdt@trade");
    mute.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut first_ping = None;
    let end = loop {
        match silent.event() {
            Event::Ping(_, at) => {
                first_ping.get_or_insert(at);
            }
            Event::Text(..) => {}
            Event::Closed(frame) => break (Instant::now(), frame),
            Event::Failed(_) => break (Instant::now(), None),
        }
    };
    let first_ping = first_ping.expect("no ping before the cut");
    let waited = end.0 - first_ping;
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_millis(2500),
        "cut {waited:?} after the first unanswered ping"
    );
    if let Some(frame) = end.1 {
        assert_eq!(frame.code, CloseCode::Policy);
    }

    let (pings, texts) = answering.join().unwrap();
    assert!(
        pings.len() >= 8 && texts > 0,
        "{} pings, {texts} frames",
        pings.len()
    );
    assert!(pings.iter().all(|p| !p.is_empty()));
    assert!(
        pings.windows(2).all(|w| w[0] != w[1]),
        "every ping has its own payload"
    );
}

#[test]
fn wss_and_https_through_the_venue_ca_and_not_through_another() {
    let t = timeline();
    let venue = Venue::start(VenueConfig {
        tls: true,
        ..lockstep()
    })
    .unwrap();
    let addr = venue.addr();
    let ca = venue.ca_pem().unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));

    // A CA of our own: the handshake fails on the certificate.
    let other = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .pem();
    let TestStream::Tls(mut untrusted) = tls_stream(addr, &other, "localhost") else {
        unreachable!()
    };
    let err = untrusted.conn.complete_io(&mut untrusted.sock).unwrap_err();
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(
        inner,
        Some(&rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer
        )),
        "{err}"
    );

    let stream = tls_stream(addr, &ca, "localhost");
    let mut client = WsClient::over(
        stream,
        &format!(
            "wss://localhost:{}/stream?streams=btcusdt@trade",
            addr.port()
        ),
    );
    let trades: Vec<&str> = t
        .frames
        .iter()
        .filter(|f| f.stream == "btcusdt@trade")
        .map(|f| f.text.as_str())
        .collect();
    assert_eq!(client.texts(50), trades[..50]);

    // https on the same port, by IP this time (the certificate names 127.0.0.1 too).
    let mut https = tls_stream(addr, &ca, "127.0.0.1");
    let (status, body) = http_get_over(&mut https, "/api/v3/depth?symbol=BTCUSDT&limit=5", true);
    assert_eq!(status, 200);
    let served: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(served["bids"].as_array().unwrap().len(), 5);
    assert!(served["lastUpdateId"].as_u64().unwrap() >= 50_093_239_224);
}

#[test]
fn a_capture_without_a_snapshot_is_refused_at_start() {
    let path = std::env::temp_dir().join(format!("pulse-venue-{}.cap", std::process::id()));
    std::fs::write(
        &path,
        "1\tbinance:ws\t{\"stream\":\"btcusdt@trade\",\"data\":{}}\n",
    )
    .unwrap();
    let err = Venue::start(VenueConfig::new(&path)).err().unwrap();
    assert!(
        format!("{err:#}").contains("no WebSocket frame follows a REST depth snapshot"),
        "{err:#}"
    );
    std::fs::remove_file(&path).unwrap();
    assert!(Venue::start(VenueConfig::new(&path)).is_err());
}
