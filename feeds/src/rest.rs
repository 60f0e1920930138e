//! REST snapshot fetches, beside the hot path.
//!
//! The feed stage pushes a [`SnapshotRequest`] through an SPSC ring; a worker thread performs the
//! blocking HTTPS GET and pushes the body back in a [`SnapshotResponse`]. Body buffers circulate:
//! the feed hands each one back through a third ring once decoded, so after warm-up neither side
//! allocates (or frees) on the hot thread.
//!
//! The HTTP client is deliberately minimal: one `GET` per connection (`Connection: close`),
//! status line, headers, and a body by `Content-Length`, chunked encoding, or end of stream,
//! capped at [`MAX_BODY_BYTES`]. The whole request, connect to last byte, has one deadline: a
//! server that trickles bytes cannot hold the worker past it.

mod response;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::{ClientConnection, StreamOwned};

use crate::num::{InstrumentId, Nanos};
use crate::ws::endpoint::Endpoint;

pub use response::{read_response, ResponseScan, MAX_HEAD_BYTES};

/// Largest response accepted: a 5,000-level snapshot is about 330 KB.
pub const MAX_BODY_BYTES: usize = 16 << 20;
/// Longest request path kept in a fixed-size request.
pub const MAX_PATH_BYTES: usize = 160;

/// Feed → worker. Fixed-size and `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotRequest {
    pub instrument: InstrumentId,
    path: [u8; MAX_PATH_BYTES],
    path_len: u8,
}

impl SnapshotRequest {
    /// `None` if the path is longer than [`MAX_PATH_BYTES`].
    pub fn new(instrument: InstrumentId, path: &[u8]) -> Option<SnapshotRequest> {
        if path.len() > MAX_PATH_BYTES {
            return None;
        }
        let mut buf = [0u8; MAX_PATH_BYTES];
        buf[..path.len()].copy_from_slice(path);
        Some(SnapshotRequest {
            instrument,
            path: buf,
            path_len: path.len() as u8,
        })
    }

    pub fn path(&self) -> &[u8] {
        &self.path[..self.path_len as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestError {
    Connect,
    Tls,
    Io,
    /// Malformed status line, headers or chunking.
    Protocol,
    TooLarge,
    /// A status other than 200 (429 and 418 are Binance's rate-limit answers).
    Status(u16),
    /// The whole response did not arrive within the request's timeout.
    Deadline,
}

/// Worker → feed.
#[derive(Debug)]
pub struct SnapshotResponse {
    pub request: SnapshotRequest,
    pub result: Result<(), RestError>,
    /// The body on success; on failure an empty buffer to hand back all the same.
    pub body: Vec<u8>,
}

/// The worker thread and its stop flag.
pub struct RestWorker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// The feed's ends of the three rings.
pub struct RestClient {
    pub requests: rtrb::Producer<SnapshotRequest>,
    pub responses: rtrb::Consumer<SnapshotResponse>,
    pub returns: rtrb::Producer<Vec<u8>>,
}

impl RestWorker {
    pub fn spawn(
        endpoint: Endpoint,
        tls: Option<Arc<rustls::ClientConfig>>,
        timeout: Duration,
    ) -> io::Result<(RestWorker, RestClient)> {
        let (req_tx, mut req_rx) = rtrb::RingBuffer::<SnapshotRequest>::new(64);
        let (resp_tx, resp_rx) = rtrb::RingBuffer::<SnapshotResponse>::new(64);
        let (ret_tx, mut ret_rx) = rtrb::RingBuffer::<Vec<u8>>::new(64);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("pulse-rest".into())
            .spawn(move || {
                let mut resp_tx = resp_tx;
                // Acquire: pairs with the Release in `drop` (Relaxed would do: the join publishes).
                while !stop_flag.load(Ordering::Acquire) {
                    let Ok(request) = req_rx.pop() else {
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    };
                    let mut body = ret_rx.pop().unwrap_or_else(|_| Vec::with_capacity(1 << 16));
                    body.clear();
                    let result = get(&endpoint, tls.as_ref(), request.path(), timeout, &mut body);
                    let mut response = SnapshotResponse {
                        request,
                        result,
                        body,
                    };
                    // The feed drains responses every pass; wait rather than lose one.
                    loop {
                        match resp_tx.push(response) {
                            Ok(()) => break,
                            Err(rtrb::PushError::Full(back)) => {
                                // Acquire: as above; a full ring must not outlive `drop`.
                                if stop_flag.load(Ordering::Acquire) {
                                    return;
                                }
                                response = back;
                                std::thread::sleep(Duration::from_millis(1));
                            }
                        }
                    }
                }
            })?;
        Ok((
            RestWorker {
                stop,
                handle: Some(handle),
            },
            RestClient {
                requests: req_tx,
                responses: resp_rx,
                returns: ret_tx,
            },
        ))
    }
}

impl Drop for RestWorker {
    fn drop(&mut self) {
        // Release: the worker polls with Acquire; the join below is the real synchronization.
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A blocking connection to an endpoint: plain TCP or TLS over TCP.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// Connects to `endpoint` (TLS when it says so, with `tls`), with `timeout` on the connect
/// and on every read and write; Nagle off.
pub fn connect(
    endpoint: &Endpoint,
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<Conn, RestError> {
    let addrs = endpoint.resolve().map_err(|_| RestError::Connect)?;
    let sock = addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, timeout).ok())
        .ok_or(RestError::Connect)?;
    let _ = sock.set_read_timeout(Some(timeout));
    let _ = sock.set_write_timeout(Some(timeout));
    let _ = sock.set_nodelay(true);
    match (endpoint.tls, tls) {
        (true, Some(config)) => {
            let name = endpoint.server_name().map_err(|_| RestError::Tls)?;
            let c = ClientConnection::new(Arc::clone(config), name).map_err(|_| RestError::Tls)?;
            Ok(Conn::Tls(Box::new(StreamOwned::new(c, sock))))
        }
        (true, None) => Err(RestError::Tls),
        (false, _) => Ok(Conn::Plain(sock)),
    }
}

impl Conn {
    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.set_read_timeout(Some(timeout)),
            Conn::Tls(s) => s.sock.set_read_timeout(Some(timeout)),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// One blocking `GET`; the body is left in `body`.
pub fn get(
    endpoint: &Endpoint,
    tls: Option<&Arc<rustls::ClientConfig>>,
    path: &[u8],
    timeout: Duration,
    body: &mut Vec<u8>,
) -> Result<(), RestError> {
    let mut raw = Vec::with_capacity(1 << 16);
    request(endpoint, tls, b"GET", path, b"", timeout, &mut raw)?;
    parse_response(&raw, body)
}

/// One blocking request, `Connection: close`: `method target`, with `headers` (complete
/// `Name: value\r\n` lines) added. The whole response (head and body) is left in `raw`.
/// `timeout` bounds the whole request, from the connect to the response's last byte.
pub fn request(
    endpoint: &Endpoint,
    tls: Option<&Arc<rustls::ClientConfig>>,
    method: &[u8],
    target: &[u8],
    headers: &[u8],
    timeout: Duration,
    raw: &mut Vec<u8>,
) -> Result<(), RestError> {
    let deadline = Instant::now() + timeout;
    let mut conn = connect(endpoint, tls, timeout)?;
    let mut head = Vec::with_capacity(256 + target.len() + headers.len());
    head.extend_from_slice(method);
    head.push(b' ');
    head.extend_from_slice(target);
    head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    head.extend_from_slice(endpoint.host_header().as_bytes());
    head.extend_from_slice(b"\r\nUser-Agent: pulse\r\nAccept: application/json\r\n");
    head.extend_from_slice(headers);
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    conn.write_all(&head).map_err(|e| io_error(&e))?;
    conn.flush().map_err(|e| io_error(&e))?;
    read_response(&mut conn, deadline, raw).map(drop)
}

/// The status and the head (status line and headers) of a raw response.
pub fn status_and_head(raw: &[u8]) -> Option<(u16, &[u8])> {
    let head = &raw[..find(raw, b"\r\n\r\n")?];
    let status = head
        .split(|&b| b == b'\n')
        .next()?
        .split(|&b| b == b' ')
        .nth(1)
        .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok())?;
    Some((status, head))
}

/// The value of a header in a response head (case-insensitive name), trimmed.
pub fn header_value<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    header(head, name)
}

fn io_error(e: &io::Error) -> RestError {
    match e.kind() {
        io::ErrorKind::InvalidData => RestError::Tls,
        _ => RestError::Io,
    }
}

/// Parses a complete HTTP/1.1 response into `body` (status must be 200).
pub fn parse_response(raw: &[u8], body: &mut Vec<u8>) -> Result<(), RestError> {
    let head_end = find(raw, b"\r\n\r\n").ok_or(RestError::Protocol)?;
    let head = &raw[..head_end];
    let payload = &raw[head_end + 4..];
    let status_line = head
        .split(|&b| b == b'\n')
        .next()
        .ok_or(RestError::Protocol)?;
    let mut parts = status_line.split(|&b| b == b' ');
    let version = parts.next().ok_or(RestError::Protocol)?;
    if !version.starts_with(b"HTTP/1.") {
        return Err(RestError::Protocol);
    }
    let status: u16 = parts
        .next()
        .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok())
        .ok_or(RestError::Protocol)?;
    body.clear();
    if header(head, b"transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked")) {
        dechunk(payload, body)?;
    } else if let Some(len) = header(head, b"content-length") {
        let len: usize = std::str::from_utf8(len)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or(RestError::Protocol)?;
        if len > MAX_BODY_BYTES {
            return Err(RestError::TooLarge);
        }
        body.extend_from_slice(payload.get(..len).ok_or(RestError::Protocol)?);
    } else {
        if payload.len() > MAX_BODY_BYTES {
            return Err(RestError::TooLarge);
        }
        body.extend_from_slice(payload);
    }
    if status != 200 {
        return Err(RestError::Status(status));
    }
    Ok(())
}

fn dechunk(mut data: &[u8], body: &mut Vec<u8>) -> Result<(), RestError> {
    loop {
        let line_end = find(data, b"\r\n").ok_or(RestError::Protocol)?;
        let size_text = data[..line_end]
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default();
        let size = usize::from_str_radix(
            std::str::from_utf8(size_text)
                .map_err(|_| RestError::Protocol)?
                .trim(),
            16,
        )
        .map_err(|_| RestError::Protocol)?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(());
        }
        // Compared without adding: a hostile size near usize::MAX must not overflow.
        if size > MAX_BODY_BYTES.saturating_sub(body.len()) {
            return Err(RestError::TooLarge);
        }
        let chunk = data.get(..size).ok_or(RestError::Protocol)?;
        body.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or(RestError::Protocol)?;
    }
}

/// The value of a header (case-insensitive name), trimmed.
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        line[..colon]
            .eq_ignore_ascii_case(name)
            .then(|| line[colon + 1..].trim_ascii())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// When a snapshot attempt should be retried after a failure: the back-off doubles per attempt.
pub fn retry_after(now: Nanos, attempts: u32) -> Nanos {
    let ms = 250u64.saturating_mul(1 << attempts.min(7)).min(30_000);
    Nanos(now.0.saturating_add(ms * 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_chunked_and_errors() {
        let mut body = Vec::new();
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":\"b c\"}\r\nextra";
        assert_eq!(parse_response(raw, &mut body), Ok(()));
        assert_eq!(body, b"{\"a\":\"b c\"}\r\n");
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n5;ext=1\r\n:1}  \r\n0\r\n\r\n";
        assert_eq!(ResponseScan::default().complete(raw), Ok(true));
        assert_eq!(parse_response(raw, &mut body), Ok(()));
        assert_eq!(body, b"{\"a\":1}  ");
        let raw =
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_response(raw, &mut body), Err(RestError::Status(429)));
        assert_eq!(
            parse_response(b"garbage", &mut body),
            Err(RestError::Protocol)
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}",
                &mut body
            ),
            Err(RestError::Protocol)
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                &mut body
            ),
            Err(RestError::Protocol)
        );
        let huge = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert_eq!(
            parse_response(huge.as_bytes(), &mut body),
            Err(RestError::TooLarge)
        );
    }

    proptest::proptest! {
        /// Hostile responses: any bytes after a plausible head never panic, and an accepted body
        /// is never longer than the response.
        #[test]
        fn arbitrary_responses_never_panic(
            head in proptest::sample::select(vec![
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\n\r\n",
                "",
            ]),
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let mut raw = head.as_bytes().to_vec();
            raw.extend_from_slice(&tail);
            let mut body = Vec::new();
            if parse_response(&raw, &mut body).is_ok() {
                proptest::prop_assert!(body.len() <= raw.len());
            }
            let _ = ResponseScan::default().complete(&raw);
        }
    }

    #[test]
    fn request_paths_are_bounded() {
        let r = SnapshotRequest::new(InstrumentId(3), b"/api/v3/depth?symbol=BTCUSDT&limit=1000")
            .unwrap();
        assert_eq!(r.path(), b"/api/v3/depth?symbol=BTCUSDT&limit=1000");
        assert!(SnapshotRequest::new(InstrumentId(0), &[b'a'; MAX_PATH_BYTES + 1]).is_none());
    }

    #[test]
    fn fetches_over_real_loopback() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 1024];
            let n = s.read(&mut req).unwrap();
            let req = String::from_utf8_lossy(&req[..n]).to_string();
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"lastUpdateId\":1234}")
                .unwrap();
            req
        });
        let endpoint = Endpoint::parse(&format!("http://{addr}")).unwrap();
        let mut body = Vec::new();
        let r = get(
            &endpoint,
            None,
            b"/api/v3/depth?symbol=BTCUSDT&limit=5",
            Duration::from_secs(5),
            &mut body,
        );
        assert_eq!(r, Ok(()));
        assert_eq!(body, b"{\"lastUpdateId\":1234}");
        let req = server.join().unwrap();
        assert!(
            req.starts_with("GET /api/v3/depth?symbol=BTCUSDT&limit=5 HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(req.contains(&format!("Host: {addr}\r\n")), "{req}");
    }
}
