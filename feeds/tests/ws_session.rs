//! The live WebSocket session over real loopback sockets against a real WebSocket server
//! (tungstenite's server side in a thread): frames, pings, reconnects, watchdog, planned
//! reconnect, and TLS with certificate verification.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_feeds::clock::Clock;
use pulse_feeds::num::Nanos;
use pulse_feeds::ws::endpoint::{tls_config, Endpoint};
use pulse_feeds::ws::session::{CloseReason, SessionEvent, SessionTimers, WsSession};
use tungstenite::Message;

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Opened,
    Frame(String),
    Closed(CloseReason),
}

fn timers() -> SessionTimers {
    SessionTimers {
        connect_timeout: Nanos::from_millis(2_000),
        no_data_timeout: Nanos::from_millis(5_000),
        max_age: Nanos::from_millis(60_000),
        backoff_min: Nanos::from_millis(20),
        backoff_max: Nanos::from_millis(200),
    }
}

/// Polls the session until `done` says so or 10 s pass; returns what it saw.
fn drive(session: &mut WsSession, mut done: impl FnMut(&[Seen]) -> bool) -> Vec<Seen> {
    let clock = Clock::live();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&seen) {
        assert!(Instant::now() < deadline, "timed out; saw {seen:?}");
        session.poll(clock.now(), |e| {
            seen.push(match e {
                SessionEvent::Opened => Seen::Opened,
                SessionEvent::Frame(b) => Seen::Frame(String::from_utf8_lossy(b).into_owned()),
                SessionEvent::Closed(r) => Seen::Closed(r),
            })
        });
        std::thread::sleep(Duration::from_micros(200));
    }
    seen
}

fn session(addr: SocketAddr, timers: SessionTimers) -> WsSession {
    let endpoint = Endpoint::parse(&format!("ws://{addr}/stream?streams=btcusdt@trade")).unwrap();
    WsSession::new(endpoint, vec![addr], None, timers, 42).unwrap()
}

#[test]
// tungstenite's header callback must return its `ErrorResponse` by value.
#[allow(clippy::result_large_err)]
fn frames_pings_and_reconnect_after_the_server_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut paths = Vec::new();
        for round in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            let mut path = String::new();
            let mut ws = tungstenite::accept_hdr(
                stream,
                |req: &tungstenite::handshake::server::Request, resp| {
                    path = req.uri().to_string();
                    Ok(resp)
                },
            )
            .unwrap();
            paths.push(path);
            for i in 0..3 {
                ws.send(Message::text(format!("{{\"round\":{round},\"i\":{i}}}")))
                    .unwrap();
            }
            ws.send(Message::Ping(b"keepalive-7".to_vec().into()))
                .unwrap();
            ws.flush().unwrap();
            let pong = loop {
                match ws.read().unwrap() {
                    Message::Pong(p) => break p.to_vec(),
                    _ => continue,
                }
            };
            assert_eq!(
                pong, b"keepalive-7",
                "the pong must carry the ping's payload"
            );
            // Abrupt close: no close frame, the TCP connection just ends.
            drop(ws);
        }
        paths
    });
    let mut s = session(addr, timers());
    // Keep polling until the server has had both pongs and finished (it waits for them).
    let seen = drive(&mut s, |seen| {
        seen.iter().filter(|e| **e == Seen::Opened).count() == 2 && server.is_finished()
    });
    let frames: Vec<&Seen> = seen
        .iter()
        .filter(|e| matches!(e, Seen::Frame(_)))
        .collect();
    assert_eq!(
        frames[..3],
        [
            &Seen::Frame("{\"round\":0,\"i\":0}".into()),
            &Seen::Frame("{\"round\":0,\"i\":1}".into()),
            &Seen::Frame("{\"round\":0,\"i\":2}".into())
        ]
    );
    assert_eq!(seen[0], Seen::Opened);
    assert!(
        seen.contains(&Seen::Closed(CloseReason::Disconnected)),
        "{seen:?}"
    );
    let paths = server.join().unwrap();
    assert_eq!(
        paths,
        [
            "/stream?streams=btcusdt@trade",
            "/stream?streams=btcusdt@trade"
        ]
    );
    assert_eq!(s.counters.pings, 2);
    assert_eq!(s.counters.opened, 2);
}

#[test]
fn connection_refused_backs_off_and_retries() {
    // Bind then drop: nothing listens on this port.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut s = session(addr, timers());
    let started = Instant::now();
    let seen = drive(&mut s, |seen| seen.len() >= 4);
    assert!(
        seen.iter()
            .all(|e| *e == Seen::Closed(CloseReason::ConnectFailed)),
        "{seen:?}"
    );
    // Back-off with jitter: at least 10 + 20 + 40 ms (half of 20, 40, 80) between 4 attempts.
    assert!(
        started.elapsed() >= Duration::from_millis(70),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(s.counters.connects, 4);
}

#[test]
fn watchdog_and_planned_reconnect() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            let mut ws = tungstenite::accept(stream.unwrap()).unwrap();
            ws.send(Message::text("hello")).unwrap();
            held.push(ws); // then silence, connection kept open
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let mut t = timers();
    t.no_data_timeout = Nanos::from_millis(150);
    let mut s = session(addr, t);
    let seen = drive(&mut s, |seen| {
        seen.contains(&Seen::Closed(CloseReason::Watchdog))
    });
    assert_eq!(seen[..2], [Seen::Opened, Seen::Frame("hello".into())]);

    let mut t = timers();
    t.max_age = Nanos::from_millis(100);
    let mut s = session(addr, t);
    let seen = drive(&mut s, |seen| {
        seen.iter().filter(|e| **e == Seen::Opened).count() == 2
    });
    let planned = seen
        .iter()
        .position(|e| *e == Seen::Closed(CloseReason::Planned))
        .expect("a planned close");
    assert_eq!(
        seen[planned + 1],
        Seen::Opened,
        "a planned reconnect has no back-off: {seen:?}"
    );
}

fn tls_server(listener: TcpListener, cert_pem: String, key_pem: String, connections: usize) {
    let cert: rustls::pki_types::CertificateDer =
        rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes()).unwrap();
    let key: rustls::pki_types::PrivateKeyDer =
        rustls::pki_types::pem::PemObject::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let config = Arc::new(config);
    for stream in listener.incoming().take(connections) {
        let stream: TcpStream = stream.unwrap();
        let conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
        let tls = rustls::StreamOwned::new(conn, stream);
        if let Ok(mut ws) = tungstenite::accept(tls) {
            let _ = ws.send(Message::text("over tls"));
            let _ = ws.flush();
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[test]
fn wss_verifies_the_certificate() {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();

    let dir = std::env::temp_dir().join(format!("pulse-ws-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
    std::thread::spawn(move || tls_server(listener, cert_pem, key_pem, 2));
    let endpoint = Endpoint::parse(&format!("wss://localhost:{}/ws", addr.port())).unwrap();

    let trusted = tls_config(Some(&ca_file)).unwrap();
    let mut s = WsSession::new(endpoint.clone(), vec![addr], Some(trusted), timers(), 7).unwrap();
    let seen = drive(&mut s, |seen| seen.len() >= 2);
    assert_eq!(seen[..2], [Seen::Opened, Seen::Frame("over tls".into())]);

    let untrusted = tls_config(None).unwrap();
    let mut s = WsSession::new(endpoint, vec![addr], Some(untrusted), timers(), 7).unwrap();
    let seen = drive(&mut s, |seen| !seen.is_empty());
    assert_eq!(
        seen[0],
        Seen::Closed(CloseReason::HandshakeFailed),
        "an unknown CA must be refused"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
