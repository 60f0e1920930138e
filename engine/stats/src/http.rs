//! `GET /metrics` over plain HTTP/1.1, served by polling rather than by a thread of its own, so
//! the engine's metrics thread can serve scrapes between its other chores.
//!
//! Everything is non-blocking and each connection keeps its state between polls: a client that
//! connects and sends nothing, or reads its answer slowly, costs a poll a failed `read` or
//! `write`, never a wait, and is dropped after [`CONNECTION_DEADLINE`]. Requests are bounded
//! ([`MAX_REQUEST_BYTES`]); every answer closes its connection.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A scrape request is a few hundred bytes; anything beyond this is answered 400.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// How long a connection may take from accept to its answer being written.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(2);
/// Open connections at most; a new one beyond this evicts the oldest.
pub const MAX_CONNECTIONS: usize = 32;
/// Bytes read from one connection per poll, so a fast sender cannot hold a poll.
const READ_BUDGET: usize = 64 * 1024;

pub struct MetricsServer {
    listener: TcpListener,
    connections: Vec<Connection>,
    /// Reused for every rendering.
    body: String,
}

struct Connection {
    stream: TcpStream,
    deadline: Instant,
    request: Vec<u8>,
    /// More than [`MAX_REQUEST_BYTES`] arrived without the end of the headers.
    oversized: bool,
    /// The answer and how much of it is written, once there is one.
    response: Option<(Vec<u8>, usize)>,
}

/// Where a connection stands after a poll.
enum Step {
    Pending,
    Done,
}

/// What reading a request gave.
enum Request {
    /// Incomplete: wait for more.
    Pending,
    /// The client went away before finishing it: nobody to answer.
    Closed,
    Answer(Vec<u8>),
}

impl MetricsServer {
    pub fn bind(addr: SocketAddr) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(MetricsServer {
            listener,
            connections: Vec::new(),
            body: String::new(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts waiting connections and moves every open one along: reads what has arrived,
    /// answers complete requests (`render` writes the `/metrics` body into the cleared string
    /// it is given), writes what the socket takes. Returns how many requests were answered.
    ///
    /// Errors are the listener's own (out of file descriptors, say); a connection's errors
    /// just close that connection.
    pub fn poll(&mut self, mut render: impl FnMut(&mut String)) -> io::Result<usize> {
        self.accept()?;
        let now = Instant::now();
        let mut answered = 0;
        let mut i = 0;
        while i < self.connections.len() {
            let conn = &mut self.connections[i];
            let step = if now > conn.deadline {
                Step::Done
            } else if conn.response.is_some() {
                conn.write_response()
            } else {
                match conn.read_request(&mut self.body, &mut render) {
                    Request::Pending => Step::Pending,
                    Request::Closed => Step::Done,
                    Request::Answer(bytes) => {
                        answered += 1;
                        conn.response = Some((bytes, 0));
                        conn.write_response()
                    }
                }
            };
            match step {
                Step::Pending => i += 1,
                Step::Done => {
                    self.connections.swap_remove(i);
                }
            }
        }
        Ok(answered)
    }

    fn accept(&mut self) -> io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if self.connections.len() >= MAX_CONNECTIONS {
                        let oldest = (0..self.connections.len())
                            .min_by_key(|&i| self.connections[i].deadline)
                            .unwrap_or(0);
                        self.connections.swap_remove(oldest);
                    }
                    self.connections.push(Connection {
                        stream,
                        deadline: Instant::now() + CONNECTION_DEADLINE,
                        request: Vec::new(),
                        oversized: false,
                        response: None,
                    });
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // A client that gave up between connecting and our accept.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Connection {
    /// Reads what has arrived; answers once the request is complete (or hopeless).
    fn read_request(&mut self, body: &mut String, render: &mut impl FnMut(&mut String)) -> Request {
        let mut chunk = [0u8; 4096];
        let mut budget = READ_BUDGET;
        loop {
            if budget == 0 {
                return Request::Pending;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Request::Closed,
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    // Past the limit, keep reading (and dropping) so that the 400 is not lost to
                    // a reset for unread data when the connection closes.
                    if !self.oversized {
                        self.request.extend_from_slice(&chunk[..n]);
                        if let Some(end) = find(&self.request, b"\r\n\r\n") {
                            return Request::Answer(answer(&self.request[..end], body, render));
                        }
                        if self.request.len() > MAX_REQUEST_BYTES {
                            self.oversized = true;
                            self.request = Vec::new();
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !self.oversized {
                        return Request::Pending;
                    }
                    let too_large = b"request too large\n";
                    return Request::Answer(response(400, "Bad Request", "text/plain", too_large));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Request::Closed,
            }
        }
    }

    /// Writes what the socket takes of the answer; done when it is all written or the
    /// connection failed.
    fn write_response(&mut self) -> Step {
        let Some((bytes, written)) = &mut self.response else {
            return Step::Done;
        };
        while *written < bytes.len() {
            match self.stream.write(&bytes[*written..]) {
                Ok(0) => return Step::Done,
                Ok(n) => *written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Pending,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Step::Done,
            }
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        Step::Done
    }
}

/// The answer to a complete request head (without its blank line).
fn answer(head: &[u8], body: &mut String, render: &mut impl FnMut(&mut String)) -> Vec<u8> {
    let line_end = find(head, b"\r\n").unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..line_end]).unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return response(
            400,
            "Bad Request",
            "text/plain",
            b"malformed request line\n",
        );
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return response(
            400,
            "Bad Request",
            "text/plain",
            b"malformed request line\n",
        );
    }
    let path = target.split('?').next().unwrap_or(target);
    if method != "GET" || path != "/metrics" {
        return response(404, "Not Found", "text/plain", b"try GET /metrics\n");
    }
    body.clear();
    render(body);
    response(
        200,
        "OK",
        "text/plain; version=0.0.4; charset=utf-8",
        body.as_bytes(),
    )
}

fn response(code: u16, reason: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_to(head: &str) -> String {
        let mut body = String::new();
        let r = answer(head.as_bytes(), &mut body, &mut |b: &mut String| {
            b.push_str("x 1\n")
        });
        String::from_utf8(r).unwrap()
    }

    #[test]
    fn routes_by_method_and_path() {
        let ok = answer_to("GET /metrics?name=x HTTP/1.1\r\nHost: a");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Type: text/plain; version=0.0.4"));
        assert!(ok.ends_with("Content-Length: 4\r\nConnection: close\r\n\r\nx 1\n"));
        assert!(answer_to("GET / HTTP/1.1").starts_with("HTTP/1.1 404 "));
        assert!(answer_to("POST /metrics HTTP/1.1").starts_with("HTTP/1.1 404 "));
        assert!(answer_to("GET /metrics").starts_with("HTTP/1.1 400 "));
        assert!(answer_to("GET  /metrics HTTP/1.1").starts_with("HTTP/1.1 400 "));
        assert!(answer_to("\u{1}\u{2}").starts_with("HTTP/1.1 400 "));
    }
}
