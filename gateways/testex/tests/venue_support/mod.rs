//! Test clients for the venue, written against the protocol rather than the venue's code: the
//! expected timeline read straight from the capture, a blocking tungstenite client over plain
//! TCP or rustls, a bare HTTP/1.1 client, and a tiny reference book applier (Binance's rules).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use pulse_feeds::capture::{CaptureReader, SourceKind};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

/// A test fails rather than hangs when the venue goes quiet for this long.
pub const READ_LIMIT: Duration = Duration::from_secs(10);

pub fn capture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/binance_spot_btcusdt_2024-08-08.cap.gz")
}

/// One frame of the timeline as the capture recorded it.
pub struct Recorded {
    pub stream: String,
    /// The whole recorded frame (combined streams).
    pub text: String,
    /// Its `data` payload alone, byte-exact (raw streams).
    pub data: String,
    /// `(U, u)` of a depth diff.
    pub ids: Option<(u64, u64)>,
}

pub struct Timeline {
    pub frames: Vec<Recorded>,
    index: HashMap<String, usize>,
}

impl Timeline {
    /// The index of a frame received on a combined stream.
    pub fn index_of(&self, text: &str) -> Option<usize> {
        self.index.get(text).copied()
    }

    pub fn depth_indices(&self) -> Vec<usize> {
        (0..self.frames.len())
            .filter(|&i| self.frames[i].ids.is_some())
            .collect()
    }
}

/// Every `binance:ws` frame after the capture's REST snapshot (a single-symbol capture).
pub fn timeline() -> &'static Timeline {
    static TIMELINE: OnceLock<Timeline> = OnceLock::new();
    TIMELINE.get_or_init(|| {
        let mut reader = CaptureReader::open(&capture()).unwrap();
        let mut started = false;
        let mut frames = Vec::new();
        while let Some(record) = reader.next_record() {
            let record = record.unwrap();
            match record.kind {
                SourceKind::Rest { .. } => started = true,
                SourceKind::Ws if started => {
                    let text = String::from_utf8(record.payload.to_vec()).unwrap();
                    let value: Value = serde_json::from_str(&text).unwrap();
                    let stream = value["stream"].as_str().unwrap().to_string();
                    let prefix = format!("{{\"stream\":\"{stream}\",\"data\":");
                    let data = text
                        .strip_prefix(&prefix)
                        .and_then(|rest| rest.strip_suffix('}'))
                        .unwrap()
                        .to_string();
                    let ids = (value["data"]["e"] == "depthUpdate").then(|| {
                        let id = |k: &str| value["data"][k].as_u64().unwrap();
                        (id("U"), id("u"))
                    });
                    frames.push(Recorded {
                        stream,
                        text,
                        data,
                        ids,
                    });
                }
                _ => {}
            }
        }
        let index = frames
            .iter()
            .enumerate()
            .map(|(i, f)| (f.text.clone(), i))
            .collect();
        Timeline { frames, index }
    })
}

/// Plain TCP, TLS, or plain TCP that silently swallows every write once muted (a client that
/// never answers pings).
pub enum TestStream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Muted(TcpStream, Arc<AtomicBool>),
}

impl Read for TestStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            TestStream::Plain(s) | TestStream::Muted(s, _) => s.read(buf),
            TestStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for TestStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            TestStream::Plain(s) => s.write(buf),
            TestStream::Muted(_, muted) if muted.load(Ordering::Relaxed) => Ok(buf.len()),
            TestStream::Muted(s, _) => s.write(buf),
            TestStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            TestStream::Plain(s) | TestStream::Muted(s, _) => s.flush(),
            TestStream::Tls(s) => s.flush(),
        }
    }
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(READ_LIMIT)).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

/// A rustls client trusting only `ca_pem`, handshake not yet done.
pub fn tls_stream(addr: SocketAddr, ca_pem: &str, server_name: &str) -> TestStream {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    TestStream::Tls(Box::new(StreamOwned::new(conn, tcp(addr))))
}

/// What a client saw next.
#[derive(Debug)]
pub enum Event {
    Text(String, Instant),
    Ping(Vec<u8>, Instant),
    Closed(Option<CloseFrame>),
    Failed(tungstenite::Error),
}

pub struct WsClient {
    pub ws: WebSocket<TestStream>,
}

impl WsClient {
    pub fn connect(addr: SocketAddr, path: &str) -> WsClient {
        WsClient::over(TestStream::Plain(tcp(addr)), &format!("ws://{addr}{path}"))
    }

    pub fn muted(addr: SocketAddr, path: &str) -> (WsClient, Arc<AtomicBool>) {
        let mute = Arc::new(AtomicBool::new(false));
        let stream = TestStream::Muted(tcp(addr), Arc::clone(&mute));
        (WsClient::over(stream, &format!("ws://{addr}{path}")), mute)
    }

    pub fn over(stream: TestStream, url: &str) -> WsClient {
        let (ws, response) = tungstenite::client(url, stream).unwrap();
        assert_eq!(response.status(), 101);
        WsClient { ws }
    }

    /// The next text, ping or end of the connection (pongs are tungstenite's business).
    pub fn event(&mut self) -> Event {
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => return Event::Text(t.as_str().to_string(), Instant::now()),
                Ok(Message::Ping(p)) => return Event::Ping(p.to_vec(), Instant::now()),
                Ok(Message::Close(frame)) => return Event::Closed(frame),
                Ok(_) => {}
                Err(e) => return Event::Failed(e),
            }
        }
    }

    /// The next text message; panics on anything but a text or a ping.
    pub fn text(&mut self) -> String {
        loop {
            match self.event() {
                Event::Text(t, _) => return t,
                Event::Ping(..) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    pub fn texts(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.text()).collect()
    }

    pub fn send(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).unwrap();
    }
}

/// One `GET` with `Connection: close`: status and body.
pub fn http_get(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut stream = TestStream::Plain(tcp(addr));
    http_get_over(&mut stream, target, true)
}

/// A `GET` on an open connection, reading one response by its `Content-Length`.
pub fn http_get_over(stream: &mut TestStream, target: &str, close: bool) -> (u16, String) {
    let connection = if close { "close" } else { "keep-alive" };
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: {connection}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "response ended in its head"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// A reference book: the REST snapshot, then diffs by Binance's documented rules. Prices in
/// this capture all carry 8 decimals, so the digits without the point are an exact key.
pub struct RefBook {
    pub last_update_id: u64,
    bids: BTreeMap<u128, (String, String)>,
    asks: BTreeMap<u128, (String, String)>,
    pub applied: usize,
}

fn key(price: &str) -> u128 {
    let (int, frac) = price.split_once('.').unwrap();
    assert_eq!(frac.len(), 8, "{price}");
    format!("{int}{frac}").parse().unwrap()
}

fn is_zero(qty: &str) -> bool {
    qty.bytes().all(|b| b == b'0' || b == b'.')
}

fn set(side: &mut BTreeMap<u128, (String, String)>, level: &Value) {
    let (px, qty) = (level[0].as_str().unwrap(), level[1].as_str().unwrap());
    if is_zero(qty) {
        side.remove(&key(px));
    } else {
        side.insert(key(px), (px.to_string(), qty.to_string()));
    }
}

impl RefBook {
    pub fn from_snapshot(body: &str) -> RefBook {
        let v: Value = serde_json::from_str(body).unwrap();
        let mut book = RefBook {
            last_update_id: v["lastUpdateId"].as_u64().unwrap(),
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            applied: 0,
        };
        v["bids"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|l| set(&mut book.bids, l));
        v["asks"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|l| set(&mut book.asks, l));
        book
    }

    /// Applies a combined-stream depth frame: `Ok(false)` if covered by the book already,
    /// `Err` on a gap.
    pub fn apply(&mut self, frame: &str) -> Result<bool, String> {
        let v: Value = serde_json::from_str(frame).unwrap();
        let data = &v["data"];
        let (first, last) = (data["U"].as_u64().unwrap(), data["u"].as_u64().unwrap());
        if last <= self.last_update_id {
            return Ok(false);
        }
        if first > self.last_update_id + 1 {
            return Err(format!(
                "gap: book at {}, next diff starts at {first}",
                self.last_update_id
            ));
        }
        data["b"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|l| set(&mut self.bids, l));
        data["a"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|l| set(&mut self.asks, l));
        self.last_update_id = last;
        self.applied += 1;
        Ok(true)
    }

    pub fn bids(&self) -> Vec<(String, String)> {
        self.bids.values().rev().cloned().collect()
    }

    pub fn asks(&self) -> Vec<(String, String)> {
        self.asks.values().cloned().collect()
    }
}

/// Polls `done` every few milliseconds for up to `limit`.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    done()
}
