//! The byte stream of one connection (plain or TLS) and the little HTTP/1.1 the venue needs:
//! request heads, bodies framed by `Content-Length`, and responses with a `Content-Length`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

/// A request head larger than this is refused.
const MAX_HEAD_BYTES: usize = 16 << 10;
/// A request body larger than this is refused: Binance's signed requests are a few hundred
/// bytes, and the venue reads a body whole before answering.
pub(crate) const MAX_BODY_BYTES: usize = 64 << 10;

/// One accepted connection, after TLS if the venue speaks it.
pub(crate) enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(tcp) => tcp,
            Conn::Tls(tls) => &tls.sock,
        }
    }

    /// Ends the connection politely: TLS `close_notify`, then FIN after what is queued.
    pub fn finish(&mut self) {
        if let Conn::Tls(tls) = self {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }

    /// Ends the connection abruptly (no close frame, no `close_notify`): FIN after what the
    /// kernel already holds, then reads and discards until the peer closes too, so that the
    /// close does not turn into a reset that could destroy data the peer has not read yet.
    pub fn cut(&self, stop: &AtomicBool) {
        let tcp = self.tcp();
        let _ = tcp.set_nonblocking(false);
        let _ = tcp.shutdown(Shutdown::Write);
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(20)));
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut scratch = [0u8; 4096];
        let mut reader = tcp;
        // Acquire: see a stop request made by another thread promptly.
        while Instant::now() < deadline && !stop.load(Ordering::Acquire) {
            match reader.read(&mut scratch) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if is_retry(&e) => {}
                Err(_) => break,
            }
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.read(buf),
            Conn::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.write(buf),
            Conn::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(tcp) => tcp.flush(),
            Conn::Tls(tls) => tls.flush(),
        }
    }
}

/// A socket timeout or a non-blocking socket with nothing to do: try again later.
pub(crate) fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// A parsed request line and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RequestHead {
    pub method: String,
    /// Path and query as sent (`/api/v3/depth?symbol=BTCUSDT`).
    pub target: String,
    /// `HTTP/1.0` closes after one response unless asked otherwise.
    pub http10: bool,
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first header of that name (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header (`Connection: keep-alive, Upgrade`) holds `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// A WebSocket opening handshake rather than a plain request (RFC 6455 4.1).
    pub fn is_websocket_upgrade(&self) -> bool {
        self.has_token("upgrade", "websocket") && self.has_token("connection", "upgrade")
    }

    pub fn keep_alive(&self) -> bool {
        if self.http10 {
            self.has_token("connection", "keep-alive")
        } else {
            !self.has_token("connection", "close")
        }
    }

    /// The path without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query as sent, without the `?` (empty without one).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The body's length by `Content-Length`, 0 without one. Refused (with the reason) when the
    /// end of the body cannot be known: a malformed or conflicting length, or a
    /// `Transfer-Encoding` (chunked bodies are not supported); the connection must close then.
    pub fn content_length(&self) -> Result<usize, &'static str> {
        if self.header("transfer-encoding").is_some() {
            return Err("Transfer-Encoding is not supported; send a Content-Length.");
        }
        let mut length = None;
        for (_, value) in self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            let n = Some(value.as_str())
                .filter(|v| !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or("Malformed Content-Length.")?;
            if length.is_some_and(|l| l != n) {
                return Err("Conflicting Content-Length headers.");
            }
            length = Some(n);
        }
        Ok(length.unwrap_or(0))
    }
}

/// Parses a request head (through its blank line).
pub(crate) fn parse_head(head: &[u8]) -> Result<RequestHead, &'static str> {
    let text = std::str::from_utf8(head).map_err(|_| "request head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().ok_or("empty request")?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed request line");
    };
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err("unsupported HTTP version"),
    };
    if method.is_empty() || !target.starts_with('/') {
        return Err("malformed request line");
    }
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or("malformed header")?;
        if name.is_empty() || name.contains(' ') {
            return Err("malformed header");
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        http10,
        headers,
    })
}

/// Reads until a full request head is in `buf`, then parses and removes it; bytes after it stay
/// in `buf`. `Ok(None)`: the peer closed, `stop` was set, or nothing came for `idle`. The socket
/// must have a read timeout so that `stop` and `idle` are noticed.
pub(crate) fn read_head(
    conn: &mut Conn,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
    idle: Duration,
) -> io::Result<Option<RequestHead>> {
    let since = Instant::now();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_head(&buf[..end + 4])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
            buf.drain(..end + 4);
            return head.map(Some);
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        if !read_more(conn, buf, stop, since, idle)? {
            return Ok(None);
        }
    }
}

/// One read into `buf`; `false` when the peer closed, `stop` was set or `idle` has passed
/// since `since` (a read timing out is not an end: the caller loops).
fn read_more(
    conn: &mut Conn,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
    since: Instant,
    idle: Duration,
) -> io::Result<bool> {
    // Acquire: see a stop request made by another thread promptly.
    if stop.load(Ordering::Acquire) || since.elapsed() > idle {
        return Ok(false);
    }
    let mut chunk = [0u8; 4096];
    match conn.read(&mut chunk) {
        Ok(0) => Ok(false),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
        Err(e) if is_retry(&e) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Reads a body of `length` bytes, taking first what `buf` already holds; bytes after it stay in
/// `buf` (a pipelined next request). `Ok(None)`: the peer closed, `stop` was set, or the body did
/// not arrive within `idle`. The socket must have a read timeout, as for [`read_head`].
pub(crate) fn read_body(
    conn: &mut Conn,
    buf: &mut Vec<u8>,
    length: usize,
    stop: &AtomicBool,
    idle: Duration,
) -> io::Result<Option<Vec<u8>>> {
    let since = Instant::now();
    while buf.len() < length {
        if !read_more(conn, buf, stop, since, idle)? {
            return Ok(None);
        }
    }
    Ok(Some(buf.drain(..length).collect()))
}

/// A response with a JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    /// Headers besides `Content-Type`, `Content-Length` and `Connection`
    /// (`X-MBX-USED-WEIGHT-1M`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Response {
        self.headers.push((name, value.to_string()));
        self
    }
}

pub(crate) fn write_response(
    conn: &mut Conn,
    response: &Response,
    keep_alive: bool,
) -> io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json;charset=UTF-8\r\n\
         Content-Length: {}\r\nConnection: {}\r\n",
        response.status,
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    for (name, value) in &response.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(response.body.as_bytes());
    conn.write_all(&bytes)?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_and_tell_upgrades_from_plain_requests() {
        let head = parse_head(
            b"GET /stream?streams=btcusdt@trade HTTP/1.1\r\nHost: localhost\r\n\
              Connection: keep-alive, Upgrade\r\nupgrade: WebSocket\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/stream");
        assert!(head.is_websocket_upgrade() && head.keep_alive());
        assert_eq!(
            head.header("sec-websocket-key"),
            Some("dGhlIHNhbXBsZSBub25jZQ==")
        );

        let plain = parse_head(b"GET /api/v3/depth?symbol=X HTTP/1.0\r\n\r\n").unwrap();
        assert!(!plain.is_websocket_upgrade() && !plain.keep_alive() && plain.http10);
        let close = parse_head(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        assert!(!close.keep_alive());
    }

    #[test]
    fn queries_and_body_lengths_are_read_from_the_head() {
        let post = parse_head(
            b"POST /api/v3/order?symbol=BTCUSDT&side=BUY HTTP/1.1\r\ncontent-length: 42\r\n\r\n",
        )
        .unwrap();
        assert_eq!(post.query(), "symbol=BTCUSDT&side=BUY");
        assert_eq!(post.content_length(), Ok(42));
        let bare = parse_head(b"GET /api/v3/time HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((bare.query(), bare.content_length()), ("", Ok(0)));
        let same = parse_head(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(same.unwrap().content_length(), Ok(3));
        for (bad, why) in [
            (
                &b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"[..],
                "Malformed",
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
                "Malformed",
            ),
            (b"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "Malformed"),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                "Malformed",
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                "Conflicting",
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Transfer-Encoding",
            ),
        ] {
            let err = parse_head(bad).unwrap().content_length().unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn malformed_heads_are_refused() {
        for bad in [
            &b"GET\r\n\r\n"[..],
            b"GET / HTTP/2\r\n\r\n",
            b"GET nopath HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"\xff / HTTP/1.1\r\n\r\n",
        ] {
            assert!(parse_head(bad).is_err(), "{bad:?}");
        }
    }
}
