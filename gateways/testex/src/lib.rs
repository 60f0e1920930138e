//! A local market data venue speaking Binance's spot protocol, for tests and rehearsals: it
//! plays a capture over WebSocket (`ws://` or `wss://`) and serves the REST depth endpoint on
//! the same loopback port, at the recorded pace or as fast as clients read, with faults.
//!
//! With [`VenueConfig::protocol`] it speaks OKX's v5 public protocol, Kraken's WebSocket v2 or
//! Bybit's v5 public spot or linear, or Coinbase Advanced Trade instead, venues whose book
//! snapshot comes in-band: it answers their subscriptions and
//! keepalives, plays the capture's frames for what each connection subscribed, and sends a
//! book's snapshot after each (re)subscription, rendered from its own book with its own
//! checksum. The same timeline, market thread, fan-out and connection loop serve every protocol;
//! only the frames' reading ([`Protocol`]), the book rules and the control messages differ.
//!
//! Pulse's live feed connects to it exactly as to Binance; integration tests then compare the
//! book Pulse rebuilt with the venue's true book ([`Venue::book`]) after each fault.
//!
//! With an order side ([`VenueConfig::orders`]) it also speaks Binance's order API over the
//! simulated venue: the WebSocket API (`/ws-api/v3`, with the user data stream) and the REST
//! order endpoints (`/api/v3/order`, `/api/v3/order/cancelReplace`, `/api/v3/openOrders`,
//! `/api/v3/account`), with order faults ([`OrderFault`]).
//!
//! It is a test tool beside the engine, not the hot path: plain blocking threads, one market
//! thread (the timeline, the books, the faults) and one thread per connection.
//!
//! This crate is the back end of `pulse venue` and a dev-dependency of the tests that need a
//! venue. No production crate (feeds, gateways, risk, strategy) depends on it, and none may:
//! it carries `rcgen` and a second implementation of the venue's side of the protocol.
//!
//! ```no_run
//! use pulse_testex::{Fault, Venue, VenueConfig};
//!
//! let venue = Venue::start(VenueConfig {
//!     speed_milli: 0,
//!     faults: vec!["drop@120".parse::<Fault>()?],
//!     ..VenueConfig::new("data/binance_spot_btcusdt_2024-08-08.cap.gz")
//! })?;
//! println!("ws://{}/stream?streams=btcusdt@depth@100ms", venue.addr());
//! println!("http://{}/api/v3/depth?symbol=BTCUSDT&limit=1000", venue.addr());
//! let book = venue.book("BTCUSDT", 5);
//! venue.stop();
//! # Ok::<(), anyhow::Error>(())
//! ```
#![forbid(unsafe_code)]

mod api;
mod assets;
mod book;
mod bybit;
mod coinbase;
mod control;
mod exchange;
mod fault;
mod http;
mod hub;
mod inband;
mod inband_control;
mod inband_render;
mod market;
mod order_terms;
mod protocol;
mod rest;
mod rest_orders;
mod server;
mod shared;
mod timeline;
mod tls;
mod views;
mod wire;
mod ws;
mod ws_api;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context};

pub use api::OrderApiConfig;
pub use fault::{Fault, FaultParseError, OrderFault};
pub use protocol::Protocol;
pub use timeline::TimelineStats;
pub use wire::{WireReply, WireSamples};

use exchange::Exchange;
use fault::FaultPlan;
use hub::Hub;
use market::Market;
use shared::Shared;
use timeline::{Step, Timeline};

/// How a venue runs.
#[derive(Clone, Debug)]
pub struct VenueConfig {
    /// The capture to play (`recv_ts_ns TAB source TAB payload`, plain or gzip): its lines of
    /// the protocol's venue.
    pub capture: PathBuf,
    /// Which venue's protocol it speaks (Binance by default).
    pub protocol: Protocol,
    /// Where to listen; `127.0.0.1:0` picks a free port (see [`Venue::addr`]).
    pub bind: SocketAddr,
    /// Pace in thousandths: 1000 plays at the recorded pace, 10000 ten times faster, 0 as fast
    /// as the connected clients read (the market waits for the slowest).
    pub speed_milli: u64,
    /// `wss://` and `https://` with a CA generated at start ([`Venue::ca_pem`]).
    pub tls: bool,
    pub faults: Vec<Fault>,
    /// Ping every connection this often (Binance: 20 s); zero sends no pings.
    pub ping_interval: Duration,
    /// Cut a connection whose pong with the ping's payload is this late (Binance: 1 minute).
    pub pong_timeout: Duration,
    /// Hold the timeline until a WebSocket client has connected and subscribed.
    pub wait_for_client: bool,
    /// Serve Binance's order API over the simulated venue: the WebSocket API (`/ws-api/v3`)
    /// and the REST order endpoints.
    pub orders: Option<OrderApiConfig>,
    /// Faults on order requests (only with `orders`).
    pub order_faults: Vec<OrderFault>,
    /// Hold the answer to every user data stream subscription this long: a venue slow to
    /// log an order session in (only with `orders`).
    pub subscribe_delay: Duration,
    /// Measure wire-to-wire: replies (orders, echo pings) arriving within this window after the
    /// last frame written are recorded against it ([`Venue::wire_samples`]).
    pub measure_wire: Option<Duration>,
}

impl VenueConfig {
    /// Binance's defaults on a free loopback port, at the recorded pace, no TLS, no faults.
    pub fn new(capture: impl Into<PathBuf>) -> VenueConfig {
        VenueConfig {
            capture: capture.into(),
            protocol: Protocol::Binance,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            speed_milli: 1000,
            tls: false,
            faults: Vec::new(),
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(60),
            wait_for_client: false,
            orders: None,
            order_faults: Vec::new(),
            subscribe_delay: Duration::ZERO,
            measure_wire: None,
        }
    }
}

/// A symbol's book as the venue holds it, best levels first, in the capture's own strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueBook {
    /// Binance: the final update id (`u`) of the last diff applied, or the snapshot's. An
    /// in-band venue: the venue's number of its last push (OKX's `seqId`).
    pub last_update_id: u64,
    pub bids: Vec<(String, String)>,
    pub asks: Vec<(String, String)>,
}

/// What the venue has done so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueStats {
    /// Timeline frames played (dropped ones included): the index of the next frame.
    pub frames_sent: u64,
    pub timeline: TimelineStats,
    /// Diffs in the capture whose `U` skipped ids (applied anyway); Bybit: deltas whose `u`
    /// skipped ids; Coinbase: skips in the recording's `sequence_num`.
    pub capture_gaps: u64,
    /// Bybit: deltas of a book from a recording's gap up to its next captured snapshot, neither
    /// applied nor sent (they do not follow the book the venue holds); Coinbase: every book's
    /// updates from a gap in the recording's `sequence_num` to that book's next snapshot.
    pub held_deltas: u64,
    /// WebSocket connections open now.
    pub clients: usize,
    /// WebSocket connections accepted since start.
    pub connections: u64,
    /// Connections cut for reading too slowly at a recorded pace.
    pub slow_clients_cut: u64,
    /// Why the capture stopped early, if reading it failed.
    pub capture_error: Option<String>,
    /// Venue faults (`checksum`, `seq-reset`, `restart`) whose frame was not a book push, each
    /// with why: not applied.
    pub misplaced_faults: Vec<String>,
}

/// A running venue. Dropping it stops it, as [`Venue::stop`] does.
pub struct Venue {
    shared: Arc<Shared>,
    addr: SocketAddr,
    ca_pem: Option<String>,
    threads: Vec<JoinHandle<()>>,
}

impl Venue {
    /// Opens the capture, learns the books of its first snapshots, binds, and starts the
    /// market and acceptor threads. Fails if the capture cannot be read, holds no snapshot
    /// followed by frames, or the address cannot be bound.
    pub fn start(cfg: VenueConfig) -> anyhow::Result<Venue> {
        check_faults(cfg.protocol, &cfg.faults)?;
        let topics = if cfg.protocol.is_bybit() {
            bybit::capture_topics(&cfg.capture, cfg.protocol)?
        } else {
            Default::default()
        };
        let mut timeline = Timeline::open(&cfg.capture, cfg.protocol)?;
        let mut books = HashMap::new();
        let mut instruments = None;
        let mut exchange = cfg.orders.clone().map(Exchange::new);
        let first = loop {
            match timeline.next_step()? {
                Some(Step::Snapshot { symbol, book, .. }) => {
                    if let (Some(ex), false) = (&mut exchange, books.contains_key(&symbol)) {
                        ex.on_snapshot(&symbol, &book);
                    }
                    books.entry(symbol).or_insert(book);
                }
                Some(Step::Instruments { text, pairs }) => {
                    instruments = Some((text, pairs.into_iter().collect()));
                }
                Some(frame) => break frame,
                None if cfg.protocol == Protocol::Binance => bail!(
                    "{}: no WebSocket frame follows a REST depth snapshot \
                     (binance:rest:/api/v3/depth?symbol=...): nothing to serve",
                    cfg.capture.display()
                ),
                None => bail!(
                    "{}: no {p}:ws frame follows a book snapshot of {p}: nothing to serve",
                    cfg.capture.display(),
                    p = cfg.protocol
                ),
            }
        };
        let tls = if cfg.tls {
            Some(tls::generate()?)
        } else {
            None
        };
        let listener = TcpListener::bind(cfg.bind)
            .with_context(|| format!("cannot listen on {}", cfg.bind))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            books: Mutex::new(books),
            hub: Hub::new(cfg.speed_milli == 0),
            frames_played: AtomicU64::new(0),
            finished: AtomicBool::new(false),
            capture_gaps: AtomicU64::new(0),
            held_pushes: AtomicU64::new(0),
            timeline_stats: Mutex::new(timeline.stats),
            capture_error: Mutex::new(None),
            ping_interval: cfg.ping_interval,
            pong_timeout: cfg.pong_timeout,
            tls: tls.as_ref().map(|t| Arc::clone(&t.config)),
            exchange: exchange.map(Mutex::new),
            order_requests: AtomicU64::new(0),
            order_faults: cfg.order_faults.iter().map(|f| (f.at(), *f)).collect(),
            subscribe_delay: cfg.subscribe_delay,
            wire: cfg.measure_wire.map(wire::WireClock::new),
            protocol: cfg.protocol,
            instruments: Mutex::new(instruments),
            topics,
            misplaced_faults: Mutex::new(Vec::new()),
        });
        let market = Market {
            timeline,
            first: Some(first),
            faults: FaultPlan::new(&cfg.faults),
            speed_milli: cfg.speed_milli,
            wait_for_client: cfg.wait_for_client,
        };
        let mut venue = Venue {
            shared: Arc::clone(&shared),
            addr,
            ca_pem: tls.map(|t| t.ca_pem),
            threads: Vec::new(),
        };
        let for_market = Arc::clone(&shared);
        venue.threads.push(
            std::thread::Builder::new()
                .name("venue-market".to_string())
                .spawn(move || market.run(for_market))
                .context("cannot start the market thread")?,
        );
        venue.threads.push(
            std::thread::Builder::new()
                .name("venue-accept".to_string())
                .spawn(move || server::accept_loop(listener, shared))
                .context("cannot start the acceptor thread")?,
        );
        Ok(venue)
    }

    /// The address it listens on: `ws://{addr}/stream?streams=...`, `http://{addr}/api/v3/depth`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// With TLS, the PEM of the CA that signed the server certificate (for `localhost` and
    /// `127.0.0.1`); clients trust the venue through it.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The venue's true book now: the top `depth` levels a side, `None` for a symbol whose
    /// snapshot has not been played (the REST endpoint answers "Invalid symbol." then).
    pub fn book(&self, venue_symbol: &str, depth: usize) -> Option<VenueBook> {
        let books = self.shared.books();
        let book = books.get(&venue_symbol.to_ascii_uppercase())?;
        let (bids, asks) = book.top(depth);
        let owned = |side: Vec<(&str, &str)>| {
            side.into_iter()
                .map(|(p, q)| (p.to_string(), q.to_string()))
                .collect()
        };
        Some(VenueBook {
            last_update_id: book.last_update_id(),
            bids: owned(bids),
            asks: owned(asks),
        })
    }

    /// The symbols whose book the venue knows now (their snapshot has been played), sorted.
    pub fn symbols(&self) -> Vec<String> {
        let mut symbols: Vec<String> = self.shared.books().keys().cloned().collect();
        symbols.sort();
        symbols
    }

    /// Timeline frames played so far, dropped ones included: the index of the next frame.
    pub fn frames_sent(&self) -> u64 {
        // Acquire: pairs with the market's Release after it applied the frame.
        self.shared.frames_played.load(Ordering::Acquire)
    }

    /// The timeline reached the end of the capture; the venue keeps serving its final book.
    pub fn finished(&self) -> bool {
        // Acquire: pairs with the market's Release at the end of the timeline.
        self.shared.finished.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> VenueStats {
        VenueStats {
            frames_sent: self.frames_sent(),
            timeline: *self
                .shared
                .timeline_stats
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
            // Relaxed: a statistic, read on its own.
            capture_gaps: self.shared.capture_gaps.load(Ordering::Relaxed),
            // Relaxed: a statistic, read on its own.
            held_deltas: self.shared.held_pushes.load(Ordering::Relaxed),
            clients: self.shared.hub.clients(),
            connections: self.shared.hub.connections(),
            slow_clients_cut: self.shared.hub.slow_cut(),
            capture_error: self.shared.capture_error().clone(),
            misplaced_faults: self.shared.misplaced_faults().clone(),
        }
    }

    /// The simulated account's net position per instrument (lots, in the order API's
    /// instrument order) and its open orders: what the engine must agree with after
    /// reconciliation. `None` without the order API.
    pub fn account(&self) -> Option<(Vec<i64>, usize)> {
        let mut out = None;
        self.shared
            .with_exchange(|ex| out = Some((ex.positions(), ex.open_count())));
        out
    }

    /// The wire-to-wire latencies recorded since the last call (empty unless
    /// [`VenueConfig::measure_wire`]).
    pub fn wire_samples(&self) -> WireSamples {
        self.shared
            .wire
            .as_ref()
            .map(wire::WireClock::take)
            .unwrap_or_default()
    }

    /// Client order ids of every order the venue accepted, in arrival order: a duplicate in
    /// it is an order placed twice.
    pub fn placed_orders(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.shared.with_exchange(|ex| out = ex.placed());
        out
    }

    /// Stops the timeline, closes every connection and joins every thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // Release: every thread polls with Acquire and winds down.
        self.shared.stop.store(true, Ordering::Release);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A venue fault the protocol cannot carry is refused, not ignored.
fn check_faults(protocol: Protocol, faults: &[Fault]) -> anyhow::Result<()> {
    for fault in faults {
        let fits = match fault {
            Fault::Checksum { .. } if protocol.is_bybit() => bail!(
                "{fault}: {protocol}'s book pushes carry no checksum (Bybit sends none; \
                 restart@N is its venue fault)"
            ),
            Fault::Checksum { .. } if protocol == Protocol::Coinbase => bail!(
                "{fault}: coinbase's level2 messages carry no checksum (Coinbase sends none; \
                 drop@N makes its venue fault, a gap in the connection's sequence_num)"
            ),
            Fault::Checksum { .. } => protocol != Protocol::Binance,
            Fault::SeqReset { .. } => protocol == Protocol::Okx,
            Fault::Restart { .. } => protocol.is_bybit(),
            _ => true,
        };
        if !fits {
            bail!("{fault}: {protocol}'s book pushes carry no such field");
        }
    }
    Ok(())
}

impl Drop for Venue {
    fn drop(&mut self) {
        self.shutdown();
    }
}
