//! One WebSocket session, non-blocking, polled by its feed stage: connect, TLS, handshake, read
//! frames, answer pings, and come back after any failure.
//!
//! Nothing here blocks: the TCP connect, the TLS and WebSocket handshakes and every read are
//! driven by `mio` readiness polled with a zero timeout from `do_work`. The session reconnects
//! with exponential back-off and jitter after a failure, when no data arrived for
//! `no_data_timeout` (the watchdog), and on purpose before `max_age` (venues cut connections at
//! 24 h; a planned reconnect at a time of our choosing beats an unplanned one).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use rustls::{ClientConnection, StreamOwned};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::{Message, Utf8Bytes, WebSocket};

use crate::capture::MAX_LINE_BYTES;
use crate::num::Nanos;
use crate::ws::endpoint::Endpoint;

/// Frames read per `poll` call: one, so that in a single-thread layout each frame crosses
/// every stage before the next is read (reading a batch first would queue the rest behind it).
const FRAMES_PER_POLL: usize = 1;

/// The bytes under the WebSocket: plain TCP or TLS over TCP.
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// tungstenite's read buffer (`BytesMut`) reclaims consumed space in place, without
/// allocating, as long as what is still unread is no longer than what was consumed before it.
/// Capping each socket read at [`MAX_READ`] in a [`READ_BUFFER`]-byte buffer keeps that true
/// for frames up to ~290 KB (capacity >= 2 reads + 3 frames), so steady-state reading never
/// allocates (the live counting-allocator test holds it to that). Uncapped, a read that fills
/// the buffer forces a reallocation at the next frame.
const MAX_READ: usize = 64 << 10;
const READ_BUFFER: usize = 1 << 20;

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(MAX_READ);
        match self {
            Transport::Plain(s) => s.read(&mut buf[..n]),
            Transport::Tls(s) => s.read(&mut buf[..n]),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

impl Transport {
    fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => &mut s.sock,
        }
    }
}

enum State {
    Idle {
        retry_at: Nanos,
    },
    Connecting {
        sock: TcpStream,
        since: Nanos,
    },
    Handshaking {
        mid: Box<MidHandshake<ClientHandshake<Transport>>>,
        since: Nanos,
    },
    Open {
        ws: Box<WebSocket<Transport>>,
        since: Nanos,
    },
}

/// Timers of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimers {
    /// Connect plus handshakes must finish within this.
    pub connect_timeout: Nanos,
    /// No frame at all (data, ping) for this long: reconnect.
    pub no_data_timeout: Nanos,
    /// Reconnect on purpose after this long.
    pub max_age: Nanos,
    pub backoff_min: Nanos,
    pub backoff_max: Nanos,
}

impl Default for SessionTimers {
    fn default() -> Self {
        SessionTimers {
            connect_timeout: Nanos::from_millis(10_000),
            no_data_timeout: Nanos::from_millis(15_000),
            max_age: Nanos::from_millis(23 * 3_600_000 + 30 * 60_000),
            backoff_min: Nanos::from_millis(100),
            backoff_max: Nanos::from_millis(30_000),
        }
    }
}

/// Why a session closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    ConnectFailed,
    ConnectTimeout,
    HandshakeFailed,
    /// The venue closed, or the connection broke.
    Disconnected,
    Watchdog,
    /// The connection carried data, but one subscribed stream went silent.
    StreamWatchdog,
    Planned,
    /// Asked to (shutdown).
    Requested,
}

impl CloseReason {
    pub const ALL: [CloseReason; 8] = [
        CloseReason::ConnectFailed,
        CloseReason::ConnectTimeout,
        CloseReason::HandshakeFailed,
        CloseReason::Disconnected,
        CloseReason::Watchdog,
        CloseReason::StreamWatchdog,
        CloseReason::Planned,
        CloseReason::Requested,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CloseReason::ConnectFailed => "connect_failed",
            CloseReason::ConnectTimeout => "connect_timeout",
            CloseReason::HandshakeFailed => "handshake_failed",
            CloseReason::Disconnected => "disconnected",
            CloseReason::Watchdog => "watchdog",
            CloseReason::StreamWatchdog => "stream_watchdog",
            CloseReason::Planned => "planned",
            CloseReason::Requested => "requested",
        }
    }
}

/// What a poll saw, handed to the caller one at a time.
pub enum SessionEvent<'a> {
    /// The WebSocket is open: subscribe, request snapshots.
    Opened,
    /// A text or binary frame's payload, exactly as received.
    Frame(&'a [u8]),
    /// The session closed; it will reconnect by itself after a back-off.
    Closed(CloseReason),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounters {
    pub connects: u64,
    pub opened: u64,
    pub frames: u64,
    pub bytes: u64,
    pub pings: u64,
    /// By [`CloseReason`] order.
    pub closed: [u64; 8],
}

pub struct WsSession {
    endpoint: Endpoint,
    /// The request URL, built once: a reconnect formats nothing.
    url: String,
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    tls: Option<Arc<rustls::ClientConfig>>,
    timers: SessionTimers,
    poll: Poll,
    events: Events,
    state: State,
    /// Readiness is edge-triggered: remember it until a read says WouldBlock.
    readable: bool,
    last_data: Nanos,
    backoff: Nanos,
    rng: u64,
    pub counters: SessionCounters,
}

const TOKEN: Token = Token(0);

impl WsSession {
    /// `addrs` are resolved beforehand (DNS blocks: never on the hot path). The session is idle
    /// until the first `poll`.
    pub fn new(
        endpoint: Endpoint,
        addrs: Vec<SocketAddr>,
        tls: Option<Arc<rustls::ClientConfig>>,
        timers: SessionTimers,
        seed: u64,
    ) -> io::Result<WsSession> {
        if endpoint.tls && tls.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "wss endpoint without a TLS configuration",
            ));
        }
        let url = format!(
            "{}://{}{}",
            if endpoint.tls { "wss" } else { "ws" },
            endpoint.host_header(),
            endpoint.path
        );
        Ok(WsSession {
            endpoint,
            url,
            addrs,
            next_addr: 0,
            tls,
            timers,
            poll: Poll::new()?,
            events: Events::with_capacity(8),
            state: State::Idle {
                retry_at: Nanos::ZERO,
            },
            readable: false,
            last_data: Nanos::ZERO,
            backoff: timers.backoff_min,
            rng: seed | 1,
            counters: SessionCounters::default(),
        })
    }

    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open { .. })
    }

    /// When the current connection opened, if it is open.
    pub fn opened_at(&self) -> Option<Nanos> {
        match self.state {
            State::Open { since, .. } => Some(since),
            _ => None,
        }
    }

    /// Sends a text frame (a subscription; cold: copies `text`), queued if the socket is busy.
    pub fn send_text(&mut self, text: &str) -> bool {
        self.send(Message::text(text))
    }

    /// [`WsSession::send_text`] for a frame of the whole run (a keepalive): borrowed, no copy.
    pub fn send_static(&mut self, text: &'static str) -> bool {
        self.send(Message::Text(Utf8Bytes::from_static(text)))
    }

    fn send(&mut self, message: Message) -> bool {
        match &mut self.state {
            State::Open { ws, .. } => match ws.send(message) {
                Ok(()) => true,
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => true,
                Err(_) => false,
            },
            _ => false,
        }
    }

    /// Closes the connection now (reconnects after the back-off).
    pub fn close(&mut self, now: Nanos, reason: CloseReason) {
        if !matches!(self.state, State::Idle { .. }) {
            self.drop_connection(now, reason);
        }
    }

    /// Advances the session: connects, handshakes, reads up to a bounded number of frames, and
    /// checks the timers. Returns the work done (0 = nothing happened).
    pub fn poll(&mut self, now: Nanos, mut on_event: impl FnMut(SessionEvent<'_>)) -> usize {
        if let State::Idle { retry_at } = self.state {
            if now < retry_at {
                return 0;
            }
            return self.start_connect(now, &mut on_event);
        }
        let mut work = 0;
        // While the socket is known to hold data, read on without asking the kernel again.
        let open_and_readable = self.readable && matches!(self.state, State::Open { .. });
        if !open_and_readable
            && self
                .poll
                .poll(&mut self.events, Some(Duration::ZERO))
                .is_ok()
            && !self.events.is_empty()
        {
            let mut writable = false;
            for event in self.events.iter() {
                self.readable |= event.is_readable() || event.is_read_closed() || event.is_error();
                writable |= event.is_writable() || event.is_write_closed();
            }
            work += 1;
            match std::mem::replace(&mut self.state, State::Idle { retry_at: now }) {
                State::Connecting { sock, since } => {
                    self.state = State::Connecting { sock, since };
                    if writable || self.readable {
                        self.finish_connect(now, &mut on_event);
                    }
                }
                state => self.state = state,
            }
        }
        // A handshake may wait on reading or on writing: retry it on every poll, it is short.
        if let State::Handshaking { .. } = self.state {
            work += self.continue_handshake(now, &mut on_event);
        }
        if let State::Open { .. } = self.state {
            if self.readable {
                work += self.read_frames(now, &mut on_event);
            }
        }
        work + self.check_timers(now, &mut on_event)
    }

    fn start_connect(&mut self, now: Nanos, on_event: &mut impl FnMut(SessionEvent<'_>)) -> usize {
        self.counters.connects += 1;
        let Some(addr) = self
            .addrs
            .get(self.next_addr % self.addrs.len().max(1))
            .copied()
        else {
            self.fail(now, CloseReason::ConnectFailed, on_event);
            return 1;
        };
        self.next_addr = self.next_addr.wrapping_add(1);
        match TcpStream::connect(addr) {
            Ok(mut sock) => {
                let _ = sock.set_nodelay(true);
                if self
                    .poll
                    .registry()
                    .register(&mut sock, TOKEN, Interest::READABLE | Interest::WRITABLE)
                    .is_err()
                {
                    self.fail(now, CloseReason::ConnectFailed, on_event);
                    return 1;
                }
                self.readable = false;
                self.state = State::Connecting { sock, since: now };
            }
            Err(_) => self.fail(now, CloseReason::ConnectFailed, on_event),
        }
        1
    }

    fn finish_connect(&mut self, now: Nanos, on_event: &mut impl FnMut(SessionEvent<'_>)) {
        let State::Connecting { sock, since } =
            std::mem::replace(&mut self.state, State::Idle { retry_at: now })
        else {
            return;
        };
        if sock.take_error().ok().flatten().is_some() {
            return self.fail_with(sock, now, CloseReason::ConnectFailed, on_event);
        }
        match sock.peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                self.state = State::Connecting { sock, since };
                return;
            }
            Err(_) => return self.fail_with(sock, now, CloseReason::ConnectFailed, on_event),
        }
        let transport = match &self.tls {
            Some(config) if self.endpoint.tls => {
                let name = match self.endpoint.server_name() {
                    Ok(name) => name,
                    Err(_) => {
                        return self.fail_with(sock, now, CloseReason::HandshakeFailed, on_event)
                    }
                };
                match ClientConnection::new(Arc::clone(config), name) {
                    Ok(conn) => Transport::Tls(Box::new(StreamOwned::new(conn, sock))),
                    Err(_) => {
                        return self.fail_with(sock, now, CloseReason::HandshakeFailed, on_event)
                    }
                }
            }
            _ => Transport::Plain(sock),
        };
        self.readable = true;
        // A message may be as long as a capture line (a whole Coinbase book is ~5 MB), so that
        // whatever a session takes can be recorded and replayed.
        let config = tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(MAX_LINE_BYTES))
            .max_frame_size(Some(MAX_LINE_BYTES));
        match tungstenite::client::client_with_config(self.url.as_str(), transport, Some(config)) {
            Ok((ws, _)) => self.open(Box::new(ws), now, on_event),
            Err(HandshakeError::Interrupted(mid)) => {
                self.state = State::Handshaking {
                    mid: Box::new(mid),
                    since,
                };
            }
            Err(HandshakeError::Failure(_)) => {
                self.fail(now, CloseReason::HandshakeFailed, on_event)
            }
        }
    }

    fn continue_handshake(
        &mut self,
        now: Nanos,
        on_event: &mut impl FnMut(SessionEvent<'_>),
    ) -> usize {
        let State::Handshaking { mid, since } =
            std::mem::replace(&mut self.state, State::Idle { retry_at: now })
        else {
            return 0;
        };
        match mid.handshake() {
            Ok((ws, _)) => self.open(Box::new(ws), now, on_event),
            Err(HandshakeError::Interrupted(mid)) => {
                self.readable = false;
                self.state = State::Handshaking {
                    mid: Box::new(mid),
                    since,
                };
            }
            Err(HandshakeError::Failure(_)) => {
                self.fail(now, CloseReason::HandshakeFailed, on_event)
            }
        }
        1
    }

    fn open(
        &mut self,
        ws: Box<WebSocket<Transport>>,
        now: Nanos,
        on_event: &mut impl FnMut(SessionEvent<'_>),
    ) {
        self.counters.opened += 1;
        self.last_data = now;
        self.readable = true;
        self.state = State::Open { ws, since: now };
        on_event(SessionEvent::Opened);
    }

    fn read_frames(&mut self, now: Nanos, on_event: &mut impl FnMut(SessionEvent<'_>)) -> usize {
        let mut frames = 0;
        let mut failure = None;
        if let State::Open { ws, .. } = &mut self.state {
            while frames < FRAMES_PER_POLL {
                match ws.read() {
                    Ok(Message::Text(text)) => {
                        self.counters.frames += 1;
                        self.counters.bytes += text.len() as u64;
                        on_event(SessionEvent::Frame(text.as_bytes()));
                    }
                    Ok(Message::Binary(bytes)) => {
                        self.counters.frames += 1;
                        self.counters.bytes += bytes.len() as u64;
                        on_event(SessionEvent::Frame(&bytes));
                    }
                    // tungstenite queues the pong with the same payload; the flush below sends it.
                    Ok(Message::Ping(_)) => self.counters.pings += 1,
                    Ok(Message::Pong(_) | Message::Frame(_)) => {}
                    Ok(Message::Close(_)) => {
                        failure = Some(CloseReason::Disconnected);
                        break;
                    }
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.readable = false;
                        break;
                    }
                    Err(_) => {
                        failure = Some(CloseReason::Disconnected);
                        break;
                    }
                }
                self.last_data = now;
                frames += 1;
            }
            if failure.is_none() {
                match ws.flush() {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => failure = Some(CloseReason::Disconnected),
                }
            }
        }
        if frames > 0 {
            // A connection that delivers data has proven itself: the next failure starts over.
            self.backoff = self.timers.backoff_min;
        }
        if let Some(reason) = failure {
            self.fail(now, reason, on_event);
        }
        frames.max(1)
    }

    fn check_timers(&mut self, now: Nanos, on_event: &mut impl FnMut(SessionEvent<'_>)) -> usize {
        let reason = match &self.state {
            State::Connecting { since, .. } | State::Handshaking { since, .. }
                if now.saturating_sub(*since) > self.timers.connect_timeout =>
            {
                CloseReason::ConnectTimeout
            }
            State::Open { .. }
                if now.saturating_sub(self.last_data) > self.timers.no_data_timeout =>
            {
                CloseReason::Watchdog
            }
            State::Open { since, .. } if now.saturating_sub(*since) > self.timers.max_age => {
                CloseReason::Planned
            }
            _ => return 0,
        };
        if reason == CloseReason::Planned {
            // Planned: reconnect at once, no back-off.
            self.drop_connection(now, reason);
            self.state = State::Idle { retry_at: now };
            on_event(SessionEvent::Closed(reason));
        } else {
            self.fail(now, reason, on_event);
        }
        1
    }

    fn fail_with(
        &mut self,
        mut sock: TcpStream,
        now: Nanos,
        reason: CloseReason,
        on_event: &mut impl FnMut(SessionEvent<'_>),
    ) {
        let _ = self.poll.registry().deregister(&mut sock);
        self.fail(now, reason, on_event);
    }

    fn fail(
        &mut self,
        now: Nanos,
        reason: CloseReason,
        on_event: &mut impl FnMut(SessionEvent<'_>),
    ) {
        self.drop_connection(now, reason);
        on_event(SessionEvent::Closed(reason));
    }

    /// Tears the connection down and schedules the next attempt after the back-off with jitter.
    fn drop_connection(&mut self, now: Nanos, reason: CloseReason) {
        match std::mem::replace(&mut self.state, State::Idle { retry_at: now }) {
            State::Connecting { mut sock, .. } => {
                let _ = self.poll.registry().deregister(&mut sock);
            }
            State::Handshaking { mut mid, .. } => {
                let _ = self
                    .poll
                    .registry()
                    .deregister(mid.get_mut().get_mut().tcp());
            }
            State::Open { mut ws, .. } => {
                let _ = self.poll.registry().deregister(ws.get_mut().tcp());
            }
            State::Idle { .. } => {}
        }
        if let Some(i) = CloseReason::ALL.iter().position(|r| *r == reason) {
            self.counters.closed[i] += 1;
        }
        self.readable = false;
        let delay = self.jittered(self.backoff);
        self.backoff = Nanos(
            self.backoff
                .0
                .saturating_mul(2)
                .min(self.timers.backoff_max.0),
        );
        self.state = State::Idle {
            retry_at: Nanos(now.0.saturating_add(delay.0)),
        };
    }

    /// Uniform in [d/2, d): spreads reconnects of many clients (xorshift64; no crypto needed).
    fn jittered(&mut self, d: Nanos) -> Nanos {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = d.0 / 2;
        Nanos(half + if half > 0 { self.rng % half } else { 0 })
    }
}
