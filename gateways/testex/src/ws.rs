//! One WebSocket connection: Binance's routes (`/stream?streams=a/b`, `/stream`, `/ws`,
//! `/ws/<stream>`) or an in-band venue's one path (OKX `/ws/v5/public`, Kraken `/v2`, Bybit
//! `/v5/public/spot` or `/v5/public/linear`, Coinbase `/`), the frames of the subscribed streams byte for byte,
//! control messages, pings with a payload and the pong deadline, and the faults the market hands
//! over.
//!
//! One thread per connection, blocking sockets: it waits on its queue for a few milliseconds
//! at a time, then writes, pings, and reads whatever the client sent without blocking.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use pulse_feeds::capture::query_param;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Bytes, Message, Utf8Bytes, WebSocket};

use crate::control::Subscriptions;
use crate::http::{is_retry, write_response, Conn, RequestHead, Response};
use crate::hub::{Client, Outgoing};
use crate::inband_control::InBandSubscriptions;
use crate::protocol::Protocol;
use crate::shared::Shared;
use crate::timeline::Frame;

/// Longest wait on the queue: how late a client's message (a pong, a subscribe) may be read.
const POLL: Duration = Duration::from_millis(5);
/// A blocked write gives up after this, so that deadlines are still checked.
const WRITE_SLICE: Duration = Duration::from_millis(50);
/// Items taken from the queue before one flush.
const BATCH: usize = 256;
/// Client messages are small: subscribe lists, pongs.
const MAX_CLIENT_MESSAGE: usize = 64 << 10;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The client closed, or the socket failed.
    Gone,
    /// The venue is stopping.
    Stop,
    /// The client read too slowly at a recorded pace.
    Kicked,
    /// No pong with a ping's payload in time.
    PongTimeout,
    /// The close fault.
    Cut,
}

/// Answers a request that cannot become a WebSocket with a Binance-style error, and closes.
pub(crate) fn reject(conn: &mut Conn, status: u16, msg: &str) {
    let body = format!("{{\"code\":-1000,\"msg\":\"{msg}\"}}");
    let _ = write_response(conn, &Response::json(status, body), false);
    conn.finish();
}

/// Checks the upgrade request and answers `101 Switching Protocols`; `false` if the request is
/// not a valid WebSocket handshake (answered 400) or the answer could not be written.
pub(crate) fn accept_upgrade(conn: &mut Conn, head: &RequestHead) -> bool {
    let key = head.header("sec-websocket-key");
    let (Some(key), true, "GET") = (
        key,
        head.header("sec-websocket-version") == Some("13"),
        head.method.as_str(),
    ) else {
        reject(conn, 400, "Bad WebSocket handshake.");
        return false;
    };
    let accept = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    std::io::Write::write_all(conn, accept.as_bytes())
        .and_then(|()| std::io::Write::flush(conn))
        .is_ok()
}

pub(crate) fn serve(mut conn: Conn, head: &RequestHead, leftover: Vec<u8>, shared: &Shared) {
    let Some(subs) = route(&head.target, shared.protocol) else {
        return reject(&mut conn, 404, "Unknown stream path.");
    };
    // Registered before the handshake completes: the client gets every frame from here on.
    let client = shared.hub.register();
    if !accept_upgrade(&mut conn, head) {
        return;
    }
    let _ = conn.tcp().set_write_timeout(Some(WRITE_SLICE));
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE));
    let ws = WebSocket::from_partially_read(conn, leftover, Role::Server, Some(config));
    let now = Instant::now();
    let mut session = Session {
        ws,
        client,
        shared,
        subs,
        backlogged: false,
        silent_until: None,
        next_ping: (!shared.ping_interval.is_zero()).then(|| now + shared.ping_interval),
        pings_sent: 0,
        pending_pings: VecDeque::new(),
        wrote_frame: false,
        seq: (shared.protocol == Protocol::Coinbase).then_some(0),
    };
    if session.subs.any() {
        shared.hub.mark_subscribed();
    }
    let greeting = match &session.subs {
        Control::InBand(subs) => subs.greeting(),
        Control::Binance(_) => None,
    };
    if let Some(text) = greeting {
        let text = session.numbered(text.into(), Number::Next);
        if let Err(end) = session.queue(Message::Text(text)) {
            return session.end(end);
        }
    }
    let end = loop {
        if let Err(end) = session.step() {
            break end;
        }
    };
    session.end(end);
}

/// What one connection receives and how its requests are answered.
enum Control {
    Binance(Subscriptions),
    InBand(InBandSubscriptions),
}

impl Control {
    fn wants(&self, frame: &Frame) -> bool {
        match self {
            Control::Binance(subs) => subs.wants(&frame.stream),
            Control::InBand(subs) => subs.wants(frame),
        }
    }

    fn any(&self) -> bool {
        match self {
            Control::Binance(subs) => !subs.streams.is_empty(),
            Control::InBand(subs) => subs.any(),
        }
    }

    fn handle(&mut self, request: &str, shared: &Shared) -> Vec<String> {
        match self {
            Control::Binance(subs) => vec![subs.handle(request)],
            Control::InBand(subs) => subs.handle(request, shared),
        }
    }
}

/// The subscriptions a request path opens with, `None` for a path the venue does not serve.
fn route(target: &str, protocol: Protocol) -> Option<Control> {
    let path = target.split('?').next().unwrap_or("");
    if let Some(served) = protocol.ws_path() {
        let ok = path == served || path.strip_suffix('/') == Some(served);
        return ok.then(|| Control::InBand(InBandSubscriptions::new(protocol)));
    }
    let names = |text: &str| -> Vec<String> {
        percent_decode(text)
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (streams, combined) = if path == "/stream" || path == "/stream/" {
        let streams = query_param(target.as_bytes(), b"streams")
            .map(|q| names(&String::from_utf8_lossy(q)))
            .unwrap_or_default();
        (streams, true)
    } else if path == "/ws" {
        (Vec::new(), false)
    } else {
        (names(path.strip_prefix("/ws/")?), false)
    };
    Some(Control::Binance(Subscriptions {
        streams: streams.into_iter().collect(),
        combined,
    }))
}

/// `%40` → `@`, `%2F` → `/`: what a URL library may have escaped in stream names.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Session<'a> {
    ws: WebSocket<Conn>,
    client: Client<'a>,
    shared: &'a Shared,
    subs: Control,
    /// The last flush could not write everything: do not take more frames until it does.
    backlogged: bool,
    silent_until: Option<Instant>,
    next_ping: Option<Instant>,
    pings_sent: u64,
    /// Pings not answered yet, oldest first: payload and when it went out.
    pending_pings: VecDeque<(Bytes, Instant)>,
    /// A frame was queued since the last complete flush (for wire-to-wire measurement).
    wrote_frame: bool,
    /// Coinbase: the connection's next `sequence_num`, written into every message it sends.
    seq: Option<u64>,
}

/// Which `sequence_num` a message takes on a numbered (Coinbase) connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Number {
    /// The next one, used up.
    Next,
    /// The next one, not used up: a corrupt copy of the message that takes it.
    Peek,
    /// The last one again: the message sent twice.
    Again,
}

impl Session<'_> {
    fn step(&mut self) -> Result<(), End> {
        if self.shared.stopping() {
            return Err(End::Stop);
        }
        // Acquire: pairs with the hub's Release when it cut this client.
        if self.client.kicked.load(Ordering::Acquire) {
            return Err(End::Kicked);
        }
        if let Some(until) = self.silent_until {
            let now = Instant::now();
            if now < until {
                std::thread::sleep((until - now).min(POLL));
                return Ok(());
            }
            self.silent_until = None;
        }
        if !self.backlogged {
            self.take_outgoing()?;
            if self.silent_until.is_some() {
                return Ok(());
            }
        }
        self.flush()?;
        if self.wrote_frame && !self.backlogged {
            self.wrote_frame = false;
            if let Some(wire) = &self.shared.wire {
                wire.frame_written();
            }
        }
        self.ping()?;
        self.read_incoming()
    }

    /// Waits briefly for the market, then queues a batch of frames.
    fn take_outgoing(&mut self) -> Result<(), End> {
        let wait = self.next_ping.map_or(POLL, |at| {
            at.saturating_duration_since(Instant::now()).min(POLL)
        });
        let mut item = match self.client.rx.recv_timeout(wait) {
            Ok(item) => Some(item),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Err(End::Kicked),
        };
        let mut taken = 0;
        while let Some(current) = item.take() {
            match current {
                Outgoing::Frame(frame) => self.send_frame(&frame, Number::Next)?,
                Outgoing::Again(frame) => self.send_frame(&frame, Number::Again)?,
                Outgoing::Skip(frame) => {
                    if let (true, Some(seq)) = (self.subs.wants(&frame), &mut self.seq) {
                        *seq += 1;
                    }
                }
                Outgoing::Garbage(frame) => {
                    if self.subs.wants(&frame) {
                        let text = self.numbered(self.text_of(&frame), Number::Peek);
                        self.queue(Message::Text(truncated(&text)))?;
                    }
                }
                Outgoing::Silence(length) => {
                    self.flush_within(Duration::from_secs(1));
                    self.silence(length);
                    return Ok(());
                }
                Outgoing::Close => return Err(End::Cut),
            }
            taken += 1;
            if taken < BATCH {
                item = self.client.rx.try_recv().ok();
            }
        }
        Ok(())
    }

    fn send_frame(&mut self, frame: &Frame, number: Number) -> Result<(), End> {
        if self.subs.wants(frame) {
            let text = self.numbered(self.text_of(frame), number);
            self.queue(Message::Text(text))?;
            self.wrote_frame = true;
        }
        Ok(())
    }

    /// On a numbered connection, the message with its `sequence_num` (one without any, an
    /// error, takes none); elsewhere the message as it is.
    fn numbered(&mut self, text: Utf8Bytes, number: Number) -> Utf8Bytes {
        let Some(next) = self.seq else {
            return text;
        };
        let seq = match number {
            Number::Next | Number::Peek => next,
            Number::Again => next.saturating_sub(1),
        };
        match crate::coinbase::with_sequence_num(text.as_str(), seq) {
            Some(numbered) => {
                if number == Number::Next {
                    self.seq = Some(next + 1);
                }
                Utf8Bytes::from(numbered)
            }
            None => text,
        }
    }

    fn text_of(&self, frame: &Frame) -> Utf8Bytes {
        if matches!(&self.subs, Control::Binance(subs) if !subs.combined) {
            frame.raw.clone()
        } else {
            frame.combined.clone()
        }
    }

    /// Nothing goes out for `length`, not even pings; ping deadlines pause as long.
    fn silence(&mut self, length: Duration) {
        self.silent_until = Some(Instant::now() + length);
        if let Some(at) = &mut self.next_ping {
            *at += length;
        }
        for (_, sent) in &mut self.pending_pings {
            *sent += length;
        }
    }

    fn ping(&mut self) -> Result<(), End> {
        let now = Instant::now();
        if self.next_ping.is_some_and(|at| now >= at) {
            self.pings_sent += 1;
            let payload = Bytes::from(self.pings_sent.to_string());
            self.queue(Message::Ping(payload.clone()))?;
            self.pending_pings.push_back((payload, now));
            self.next_ping = Some(now + self.shared.ping_interval);
            self.flush()?;
        }
        match self.pending_pings.front() {
            Some((_, sent)) if now.duration_since(*sent) > self.shared.pong_timeout => {
                Err(End::PongTimeout)
            }
            _ => Ok(()),
        }
    }

    /// A pong answers the ping with its payload and every older one.
    fn pong(&mut self, payload: &[u8]) {
        if let Some(i) = self.pending_pings.iter().position(|(p, _)| p == payload) {
            self.pending_pings.drain(..=i);
        }
    }

    /// Everything the client has sent so far, without blocking.
    fn read_incoming(&mut self) -> Result<(), End> {
        if self.ws.get_ref().tcp().set_nonblocking(true).is_err() {
            return Err(End::Gone);
        }
        let result = loop {
            let message = match self.ws.read() {
                Ok(message) => message,
                Err(tungstenite::Error::Io(e)) if is_retry(&e) => break Ok(()),
                Err(_) => break Err(End::Gone),
            };
            let request = match message {
                Message::Text(text) => text.as_str().to_string(),
                Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Message::Pong(payload) => {
                    self.pong(&payload);
                    continue;
                }
                // Pings are answered and a close is acknowledged by tungstenite itself.
                Message::Ping(_) | Message::Close(_) | Message::Frame(_) => continue,
            };
            let replies = self.subs.handle(&request, self.shared);
            if self.subs.any() {
                self.shared.hub.mark_subscribed();
            }
            let mut sent = Ok(());
            for reply in replies {
                let text = self.numbered(reply.into(), Number::Next);
                sent = self.queue(Message::Text(text));
                if sent.is_err() {
                    break;
                }
            }
            if let Err(end) = sent {
                break Err(end);
            }
        };
        if self.ws.get_ref().tcp().set_nonblocking(false).is_err() {
            return Err(End::Gone);
        }
        result
    }

    /// Queues a message; a write that would block stays buffered for the next flush.
    fn queue(&mut self, message: Message) -> Result<(), End> {
        match self.ws.write(message) {
            Ok(()) => Ok(()),
            Err(tungstenite::Error::Io(e)) if is_retry(&e) => {
                self.backlogged = true;
                Ok(())
            }
            Err(_) => Err(End::Gone),
        }
    }

    fn flush(&mut self) -> Result<(), End> {
        match self.ws.flush() {
            Ok(()) => {
                self.backlogged = false;
                Ok(())
            }
            Err(tungstenite::Error::Io(e)) if is_retry(&e) => {
                self.backlogged = true;
                Ok(())
            }
            Err(_) => Err(End::Gone),
        }
    }

    /// Flushes until done, the socket fails, `limit` passes or the venue stops.
    fn flush_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            match self.ws.flush() {
                Ok(()) => {
                    self.backlogged = false;
                    return true;
                }
                Err(tungstenite::Error::Io(e)) if is_retry(&e) => {
                    if Instant::now() > deadline || self.shared.stopping() {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    fn end(self, end: End) {
        let Session {
            mut ws,
            client,
            shared,
            ..
        } = self;
        // Leave the market's fan-out first: nothing below may hold up the timeline.
        drop(client);
        let close = |ws: &mut WebSocket<Conn>, code, reason: &'static str| {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = ws.close(Some(frame));
        };
        match end {
            End::Gone => {}
            End::Kicked => ws.get_ref().cut(&shared.stop),
            End::Cut => {
                let deadline = Instant::now() + Duration::from_secs(2);
                while let Err(tungstenite::Error::Io(e)) = ws.flush() {
                    if !is_retry(&e) || Instant::now() > deadline || shared.stopping() {
                        break;
                    }
                }
                ws.get_ref().cut(&shared.stop);
            }
            End::PongTimeout => {
                close(&mut ws, CloseCode::Policy, "pong timeout");
                ws.get_ref().cut(&shared.stop);
            }
            End::Stop => {
                close(&mut ws, CloseCode::Away, "venue stopping");
                ws.get_mut().finish();
            }
        }
    }
}

/// The first half of a frame's text: never valid JSON (the closing brace is gone).
fn truncated(text: &Utf8Bytes) -> Utf8Bytes {
    let s = text.as_str();
    let mut cut = s.len() / 2;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    Utf8Bytes::from(&s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams(target: &str) -> Option<(Vec<String>, bool)> {
        match route(target, Protocol::Binance)? {
            Control::Binance(s) => Some((s.streams.into_iter().collect(), s.combined)),
            Control::InBand(_) => None,
        }
    }

    #[test]
    fn binance_routes() {
        assert_eq!(
            streams("/stream?streams=btcusdt@trade/btcusdt@depth@100ms"),
            Some((
                vec!["btcusdt@depth@100ms".into(), "btcusdt@trade".into()],
                true
            ))
        );
        assert_eq!(
            streams("/stream?streams=btcusdt%40trade%2f%+1x&timeUnit=MICROSECOND"),
            Some((vec!["%+1x".into(), "btcusdt@trade".into()], true))
        );
        assert_eq!(streams("/stream"), Some((vec![], true)));
        assert_eq!(streams("/ws"), Some((vec![], false)));
        assert_eq!(
            streams("/ws/btcusdt@bookTicker"),
            Some((vec!["btcusdt@bookTicker".into()], false))
        );
        assert_eq!(streams("/"), None);
        assert_eq!(streams("/wsx"), None);
        assert_eq!(streams("/api/v3/depth"), None);
    }

    #[test]
    fn a_truncated_frame_does_not_parse() {
        let text = Utf8Bytes::from(r#"{"stream":"a@trade","data":{"p":"1.0"}}"#);
        let cut = truncated(&text);
        assert!(text.as_str().starts_with(cut.as_str()) && cut.len() < text.len());
        assert!(serde_json::from_str::<serde_json::Value>(cut.as_str()).is_err());
    }
}
