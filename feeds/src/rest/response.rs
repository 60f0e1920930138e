//! Reading one HTTP/1.1 response off a connection, within a deadline, in work linear in its
//! length: the search for the end of the head resumes where the last read left it, the head is
//! parsed once, and the body's framing is then checked in constant time per read.

use std::io::{self, Read};
use std::time::Instant;

use super::{find, header, io_error, Conn, RestError, MAX_BODY_BYTES};

/// Longest response head (status line and headers) accepted. Binance's are under 1 KB.
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// How the end of the body is known, once the head is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Where reading a response stands.
#[derive(Debug, Default)]
pub struct ResponseScan {
    /// The search for the head's end resumes here.
    searched: usize,
    /// Where the body starts and how it ends, once the head is in.
    head: Option<(usize, Framing)>,
    scanned: u64,
}

impl ResponseScan {
    /// Bytes examined so far to frame the response: at most a few times its length.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// Whether `raw`, the response so far, is complete: its head in, and a `Content-Length`
    /// body or a chunked body's last chunk. Without either, the end of the stream ends it.
    pub fn complete(&mut self, raw: &[u8]) -> Result<bool, RestError> {
        let (body_start, framing) = match self.head {
            Some(head) => head,
            None => {
                // The terminator may straddle the previous read's end.
                let from = self.searched.saturating_sub(3);
                let found = find(&raw[from..], b"\r\n\r\n").map(|i| from + i);
                self.scanned += (found.map_or(raw.len(), |at| at + 4) - from) as u64;
                let Some(at) = found else {
                    if raw.len() > MAX_HEAD_BYTES {
                        return Err(RestError::Protocol);
                    }
                    self.searched = raw.len();
                    return Ok(false);
                };
                let head = &raw[..at];
                self.scanned += 2 * head.len() as u64;
                let framing = if header(head, b"transfer-encoding")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"))
                {
                    Framing::Chunked
                } else if let Some(len) = header(head, b"content-length") {
                    let len = std::str::from_utf8(len)
                        .ok()
                        .and_then(|s| s.trim().parse::<usize>().ok())
                        .ok_or(RestError::Protocol)?;
                    if len > MAX_BODY_BYTES {
                        return Err(RestError::TooLarge);
                    }
                    Framing::Length(len)
                } else {
                    Framing::UntilClose
                };
                self.head = Some((at + 4, framing));
                (at + 4, framing)
            }
        };
        let body = &raw[body_start..];
        Ok(match framing {
            Framing::Length(len) => body.len() >= len,
            Framing::Chunked => body.ends_with(b"0\r\n\r\n"),
            Framing::UntilClose => false,
        })
    }
}

/// Reads the response on `conn` into `raw` until it is complete or the connection closes,
/// each read waiting no longer than what is left until `deadline`.
pub fn read_response(
    conn: &mut Conn,
    deadline: Instant,
    raw: &mut Vec<u8>,
) -> Result<ResponseScan, RestError> {
    raw.clear();
    let mut scan = ResponseScan::default();
    let mut chunk = [0u8; 16 << 10];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RestError::Deadline);
        }
        conn.set_read_timeout(left).map_err(|e| io_error(&e))?;
        match conn.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if raw.len() + n > MAX_BODY_BYTES + MAX_HEAD_BYTES {
                    return Err(RestError::TooLarge);
                }
                raw.extend_from_slice(&chunk[..n]);
                if scan.complete(raw)? {
                    break;
                }
            }
            // A server that closes without TLS close_notify after a complete response is common.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && Instant::now() >= deadline =>
            {
                return Err(RestError::Deadline)
            }
            Err(e) => return Err(io_error(&e)),
        }
    }
    Ok(scan)
}
