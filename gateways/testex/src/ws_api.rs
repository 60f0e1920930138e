//! Binance's WebSocket API (`/ws-api/v3`) over the venue's order side: JSON requests
//! `{"id","method","params"}` answered `{"id","status","result"|"error","rateLimits"}`, and the
//! user data stream (`userDataStream.subscribe.signature`) as `{"subscriptionId","event"}`
//! messages on the same connection, as Binance sends them. Order faults apply to
//! `order.place` requests, counted over the whole venue.
//!
//! One blocking thread per connection: it reads with a 1 ms timeout, so user data events wait
//! at most about that long behind a quiet client.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

use crate::api::{now_nanos, weight, ApiError};
use crate::fault::OrderFault;
use crate::http::{is_retry, Conn, RequestHead};
use crate::shared::Shared;
use crate::wire::WireReply;
use crate::ws;

const READ_POLL: Duration = Duration::from_millis(1);
const WRITE_SLICE: Duration = Duration::from_millis(50);
/// Requests are small; anything larger is refused by tungstenite and ends the session.
const MAX_CLIENT_MESSAGE: usize = 64 << 10;

pub(crate) fn serve(mut conn: Conn, head: &RequestHead, leftover: Vec<u8>, shared: &Shared) {
    if shared.exchange.is_none() {
        return ws::reject(&mut conn, 404, "This venue serves no order API.");
    }
    if !ws::accept_upgrade(&mut conn, head) {
        return;
    }
    let tcp = conn.tcp();
    if tcp
        .set_read_timeout(Some(READ_POLL))
        .and_then(|()| tcp.set_write_timeout(Some(WRITE_SLICE)))
        .is_err()
    {
        return;
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE));
    let mut session = ApiSession {
        ws: WebSocket::from_partially_read(conn, leftover, Role::Server, Some(config)),
        shared,
        events: mpsc::channel(),
        next_ping: (!shared.ping_interval.is_zero()).then(|| Instant::now() + shared.ping_interval),
    };
    let end = session.run();
    let mut ws = session.ws;
    match end {
        End::Gone => {}
        End::Cut => ws.get_ref().cut(&shared.stop),
        End::Stop => {
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "venue stopping".into(),
            }));
            ws.get_mut().finish();
        }
    }
}

enum End {
    Gone,
    Cut,
    Stop,
}

struct ApiSession<'a> {
    ws: WebSocket<Conn>,
    shared: &'a Shared,
    /// This connection's user data stream, once subscribed.
    events: (mpsc::Sender<String>, mpsc::Receiver<String>),
    next_ping: Option<Instant>,
}

impl ApiSession<'_> {
    fn run(&mut self) -> End {
        loop {
            if self.shared.stopping() {
                return End::Stop;
            }
            while let Ok(event) = self.events.1.try_recv() {
                if self.write(Message::text(event)).is_err() {
                    return End::Gone;
                }
            }
            if let Some(at) = self.next_ping {
                if Instant::now() >= at {
                    let _ = self.write(Message::Ping(Bytes::from_static(b"venue")));
                    self.next_ping = Some(at + self.shared.ping_interval);
                }
            }
            match self.ws.flush() {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if is_retry(&e) => {}
                Err(_) => return End::Gone,
            }
            let text = match self.ws.read() {
                Ok(Message::Text(text)) => text.as_str().to_owned(),
                Ok(Message::Binary(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if is_retry(&e) => continue,
                Err(_) => return End::Gone,
            };
            match self.handle(&text) {
                Reply::Send(reply) => {
                    if self.write(Message::text(reply)).is_err() {
                        return End::Gone;
                    }
                }
                Reply::Nothing => {}
                Reply::Cut => return End::Cut,
            }
        }
    }

    fn write(&mut self, message: Message) -> Result<(), ()> {
        match self.ws.write(message) {
            Ok(()) => Ok(()),
            Err(tungstenite::Error::Io(e)) if is_retry(&e) => Ok(()),
            Err(_) => Err(()),
        }
    }

    fn handle(&mut self, text: &str) -> Reply {
        let read_at = self.shared.wire.as_ref().map(|w| w.stamp());
        let Ok(Value::Object(request)) = serde_json::from_str::<Value>(text) else {
            return Reply::Send(error_reply(
                &Value::Null,
                &ApiError {
                    status: 400,
                    code: -1000,
                    msg: "Malformed request: not a JSON object.",
                },
                None,
            ));
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let method = request.get("method").and_then(Value::as_str).unwrap_or("");
        if let (Some(wire), Some(at)) = (&self.shared.wire, read_at) {
            match method {
                "order.place" | "order.cancelReplace" => wire.reply(WireReply::Order, at),
                "ping" => wire.reply(WireReply::Echo, at),
                _ => {}
            }
        }
        let empty = Map::new();
        let params = request
            .get("params")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let Some(exchange) = &self.shared.exchange else {
            return Reply::Nothing;
        };
        if method == "userDataStream.subscribe.signature" {
            std::thread::sleep(self.shared.subscribe_delay);
        }
        let places = matches!(method, "order.place" | "order.cancelReplace");
        let fault = self.shared.order_fault(places);
        if let Some(error) = fault.and_then(|f| f.before()) {
            let retry = (error.status == 429).then(|| now_nanos() / 1_000_000 + 1_000);
            return Reply::Send(error_reply(&id, &error, retry));
        }
        let mut ex = exchange.lock().unwrap_or_else(|e| e.into_inner());
        let limits = ex.count(weight(method), places);
        let outcome = ex.request(method, params);
        if method == "userDataStream.subscribe.signature" && outcome.is_ok() {
            ex.subscribe(self.events.0.clone());
        }
        drop(ex);
        match fault {
            Some(OrderFault::DropResponse { .. }) => return Reply::Nothing,
            Some(OrderFault::Disconnect { .. }) => return Reply::Cut,
            _ => {}
        }
        if let Some(error) = fault.and_then(|f| f.error_after()) {
            return Reply::Send(error_reply(&id, &error, None));
        }
        let rate_limits = json!([
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": 6000, "count": limits.0},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": 100, "count": limits.1},
        ]);
        Reply::Send(match outcome {
            Ok(result) => json!({
                "id": id, "status": 200, "result": result, "rateLimits": rate_limits,
            })
            .to_string(),
            Err(error) => error_reply(&id, &error, None),
        })
    }
}

enum Reply {
    Send(String),
    Nothing,
    Cut,
}

fn error_reply(id: &Value, error: &ApiError, retry_after_ms: Option<u64>) -> String {
    let mut body = json!({ "code": error.code, "msg": error.msg });
    if let (Some(retry), Some(map)) = (retry_after_ms, body.as_object_mut()) {
        map.insert(
            "data".into(),
            json!({ "serverTime": now_nanos() / 1_000_000, "retryAfter": retry }),
        );
    }
    json!({ "id": id, "status": error.status, "error": body }).to_string()
}
