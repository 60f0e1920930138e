//! The REST client against hostile servers on loopback: a huge response delivered in tiny
//! pieces is framed in work linear in its length (counted in bytes examined, not timed), a head
//! that never ends is refused once it passes the head limit, and a server that trickles bytes
//! forever is cut off at the request's deadline with an error saying so.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pulse_feeds::rest::{get, read_response, Conn, RestError, MAX_HEAD_BYTES};
use pulse_feeds::ws::endpoint::Endpoint;

/// Serves one connection: reads the request, then writes `response` in `piece`-byte writes,
/// flushed one by one.
fn serve_in_pieces(response: Vec<u8>, piece: usize) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut req = [0u8; 1024];
        let _ = s.read(&mut req);
        for part in response.chunks(piece) {
            if s.write_all(part).is_err() {
                return;
            }
        }
    });
    (port, server)
}

/// Connects to the server and reads its response directly, to see the framing's work.
fn read_from(port: u16, raw: &mut Vec<u8>) -> Result<u64, RestError> {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut conn = Conn::Plain(sock);
    let deadline = Instant::now() + Duration::from_secs(120);
    read_response(&mut conn, deadline, raw).map(|scan| scan.scanned())
}

#[test]
fn a_huge_body_in_tiny_pieces_is_framed_in_linear_work() {
    let body: Vec<u8> = (0..4 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
    for framed in [true, false] {
        let head = if framed {
            head.clone()
        } else {
            "HTTP/1.1 200 OK\r\n\r\n".to_owned()
        };
        let mut response = head.clone().into_bytes();
        response.extend_from_slice(&body);
        let (port, server) = serve_in_pieces(response.clone(), 97);
        let mut raw = Vec::new();
        let scanned = read_from(port, &mut raw).unwrap();
        server.join().unwrap();
        assert_eq!(raw, response, "framed by length: {framed}");
        // The head is searched for and parsed once; the body is never rescanned.
        assert!(
            scanned <= 4 * head.len() as u64 + 97,
            "{scanned} bytes examined for a {}-byte response",
            raw.len()
        );
    }
}

#[test]
fn a_head_that_never_ends_is_refused_after_the_limit_in_linear_work() {
    // Lines end in a bare LF, so the CRLF CRLF that ends a head never comes.
    let mut response = b"HTTP/1.1 200 OK\n\n".to_vec();
    response.extend(std::iter::repeat_n(b'x', 8 << 20));
    let (port, server) = serve_in_pieces(response, 61);
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut conn = Conn::Plain(sock);
    let mut raw = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    assert_eq!(
        read_response(&mut conn, deadline, &mut raw).map(|s| s.scanned()),
        Err(RestError::Protocol)
    );
    assert!(raw.len() > MAX_HEAD_BYTES && raw.len() <= MAX_HEAD_BYTES + (16 << 10));
    drop(conn);
    let _ = server.join();
}

#[test]
fn a_server_that_trickles_forever_hits_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut req = [0u8; 1024];
        let _ = s.read(&mut req);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
        // One byte every 20 ms: every read succeeds well within any per-read timeout. The
        // server gives up after a minute so that a client without a deadline fails, not hangs.
        let until = Instant::now() + Duration::from_secs(60);
        while !stop2.load(Ordering::Relaxed) && Instant::now() < until {
            if s.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let mut body = Vec::new();
    let result = get(
        &endpoint,
        None,
        b"/slow",
        Duration::from_millis(500),
        &mut body,
    );
    stop.store(true, Ordering::Relaxed);
    assert_eq!(result, Err(RestError::Deadline));
    server.join().unwrap();
}
