//! Accepting connections: one thread each. A request with `Upgrade: websocket` becomes a
//! WebSocket session; anything else is REST on the same port, with keep-alive: a body is read
//! whole by its `Content-Length`, so the next request starts right after it.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::{ServerConnection, StreamOwned};

use crate::http::{self, write_response, Conn, RequestHead, Response};
use crate::rest::{self, Outcome};
use crate::shared::Shared;
use crate::{rest_orders, ws, ws_api};

/// How often the non-blocking listener is polled.
const ACCEPT_POLL: Duration = Duration::from_millis(2);
/// Socket read timeout while waiting for a request: how soon a stop is noticed.
const READ_POLL: Duration = Duration::from_millis(50);
/// An idle keep-alive connection is closed after this.
const IDLE: Duration = Duration::from_secs(60);
/// A REST response that cannot be written in this long is abandoned.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs until the venue stops, then waits for every connection thread.
pub(crate) fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((tcp, _peer)) => {
                workers.retain(|w| !w.is_finished());
                let shared = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("venue-conn".to_string())
                    .spawn(move || serve(tcp, &shared));
                // Without a thread the connection is dropped (closed): the client retries.
                if let Ok(worker) = spawned {
                    workers.push(worker);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            // Out of descriptors or an aborted handshake: keep serving the others.
            Err(_) => std::thread::sleep(ACCEPT_POLL * 5),
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
}

fn serve(tcp: TcpStream, shared: &Shared) {
    // Accepted sockets may inherit the listener's non-blocking mode on some platforms.
    let configured = tcp
        .set_nonblocking(false)
        .and_then(|()| tcp.set_nodelay(true))
        .and_then(|()| tcp.set_read_timeout(Some(READ_POLL)))
        .and_then(|()| tcp.set_write_timeout(Some(WRITE_TIMEOUT)));
    if configured.is_err() {
        return;
    }
    let mut conn = match &shared.tls {
        Some(config) => match ServerConnection::new(Arc::clone(config)) {
            Ok(tls) => Conn::Tls(Box::new(StreamOwned::new(tls, tcp))),
            Err(_) => return,
        },
        None => Conn::Plain(tcp),
    };
    let mut buf = Vec::new();
    loop {
        let head = match http::read_head(&mut conn, &mut buf, &shared.stop, IDLE) {
            Ok(Some(head)) => head,
            Ok(None) => break,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                let body = r#"{"code":-1000,"msg":"Malformed request."}"#;
                let _ = write_response(&mut conn, &Response::json(400, body), false);
                break;
            }
            // The socket or the TLS handshake failed: nobody to answer.
            Err(_) => return,
        };
        if head.is_websocket_upgrade() {
            if head.path().starts_with("/ws-api/") {
                return ws_api::serve(conn, &head, buf, shared);
            }
            return ws::serve(conn, &head, buf, shared);
        }
        let length = match head.content_length() {
            Ok(n) if n <= http::MAX_BODY_BYTES => n,
            Ok(_) => return refuse(conn, "Request body too large: 64 KiB at most.", shared),
            Err(why) => return refuse(conn, why, shared),
        };
        let body = match http::read_body(&mut conn, &mut buf, length, &shared.stop, IDLE) {
            Ok(Some(body)) => body,
            Ok(None) => break,
            Err(_) => return,
        };
        let keep_alive = head.keep_alive();
        match serve_rest(&head, &body, shared) {
            Outcome::Answer(response) => {
                if write_response(&mut conn, &response, keep_alive).is_err() {
                    return;
                }
            }
            Outcome::Cut => return conn.cut(&shared.stop),
        }
        if !keep_alive {
            break;
        }
    }
    conn.finish();
}

/// One REST request with its body (read whole by the server).
fn serve_rest(head: &RequestHead, body: &[u8], shared: &Shared) -> Outcome {
    let Some(exchange) = &shared.exchange else {
        return Outcome::Answer(rest::respond(head, &shared.books));
    };
    if rest_orders::serves(head.path()) {
        return rest_orders::serve(head, body, exchange, shared);
    }
    let response = rest::respond(head, &shared.books);
    let mut used = 0;
    shared.with_exchange(|ex| used = ex.count(rest::weight(head), false).0);
    Outcome::Answer(response.with_header(rest::USED_WEIGHT, used))
}

/// Answers a request whose body cannot be framed (where the next request would start is
/// unknown) and closes, reading what the client still sends so that the close does not reset
/// the connection before it has read the answer.
fn refuse(mut conn: Conn, why: &str, shared: &Shared) {
    if write_response(&mut conn, &rest::error(400, -1000, why), false).is_ok() {
        conn.finish();
        conn.cut(&shared.stop);
    }
}
