//! One webhook POST: HTTP/1.1 over a fresh connection (`Connection: close`), TLS for
//! `https://` with the feeds' verified rustls configuration, the whole request bounded by one
//! deadline. Errors never carry the URL: its path is the secret.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_feeds::rest::{self, RestError};
use pulse_feeds::ws::endpoint::Endpoint;

/// Why a POST failed, and whether another try may succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostError {
    /// Connect refused or timed out, TLS failed, the connection broke, the deadline passed.
    Transport(RestError),
    /// The server answered with this status (not 2xx).
    Status(u16),
}

impl PostError {
    /// A connection problem, a timeout, 5xx or 429 may pass on a later try; another 4xx will
    /// not (the URL or the body is wrong).
    pub fn retryable(self) -> bool {
        match self {
            PostError::Transport(_) => true,
            PostError::Status(s) => s >= 500 || s == 429,
        }
    }
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostError::Transport(e) => write!(f, "{e:?}"),
            PostError::Status(s) => write!(f, "HTTP {s}"),
        }
    }
}

/// POSTs `body` (JSON) to `endpoint`; `Ok` with the status on a 2xx answer.
pub fn post_json(
    endpoint: &Endpoint,
    tls: Option<&Arc<rustls::ClientConfig>>,
    body: &[u8],
    timeout: Duration,
) -> Result<u16, PostError> {
    let deadline = Instant::now() + timeout;
    let mut conn = rest::connect(endpoint, tls, timeout).map_err(PostError::Transport)?;
    let mut head = Vec::with_capacity(256 + endpoint.path.len());
    head.extend_from_slice(b"POST ");
    head.extend_from_slice(endpoint.path.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    head.extend_from_slice(endpoint.host_header().as_bytes());
    head.extend_from_slice(b"\r\nUser-Agent: pulse\r\nContent-Type: application/json\r\n");
    head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    head.extend_from_slice(body);
    conn.write_all(&head)
        .and_then(|()| conn.flush())
        .map_err(|_| PostError::Transport(RestError::Io))?;
    let mut raw = Vec::with_capacity(1024);
    rest::read_response(&mut conn, deadline, &mut raw).map_err(PostError::Transport)?;
    match rest::status_and_head(&raw) {
        Some((status, _)) if (200..300).contains(&status) => Ok(status),
        Some((status, _)) => Err(PostError::Status(status)),
        None => Err(PostError::Transport(RestError::Protocol)),
    }
}
