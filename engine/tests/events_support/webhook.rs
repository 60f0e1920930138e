//! A loopback HTTP server that records every request it gets and answers each with the next
//! status of a script.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    /// `POST /path HTTP/1.1`
    pub line: String,
    pub head: String,
    pub body: String,
}

impl Request {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub struct Hook {
    pub addr: SocketAddr,
    pub requests: Receiver<Request>,
}

/// Serves until the test process ends: request i gets `statuses[i]` (200 once the script is
/// over); `None` in the script reads the request and never answers (a hung webhook).
pub fn serve(statuses: Vec<Option<u16>>) -> Hook {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, requests) = mpsc::channel();
    std::thread::spawn(move || {
        let mut script = statuses.into_iter();
        let mut hung = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let Some(req) = read_request(&mut conn) else {
                continue;
            };
            let _ = tx.send(req);
            match script.next().unwrap_or(Some(200)) {
                Some(status) => {
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    );
                    let _ = conn.write_all(reply.as_bytes());
                }
                None => hung.push(conn),
            }
        }
    });
    Hook { addr, requests }
}

fn read_request(conn: &mut std::net::TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while raw.len() < head_end + 4 + len {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&raw[head_end + 4..head_end + 4 + len]).into_owned();
    Some(Request {
        line: head.lines().next().unwrap_or("").to_owned(),
        head,
        body,
    })
}
