//! The live Binance feed stage: one combined-stream WebSocket session for every configured
//! symbol, REST snapshots from the worker thread, and the book sync rules, all polled from
//! `do_work` without blocking.
//!
//! When a symbol needs a snapshot (diffs buffered, not synced) one is requested; a snapshot
//! older than the buffered diffs is asked for again. A disconnect marks every symbol stale
//! until it has resynced. A full ring towards the book cannot wait on a live socket: the events
//! that did not fit are discarded, and their symbols marked stale and resynced.
//!
//! With a live order gateway the session does not connect before the gateway's first ready
//! ([`BinanceLiveFeed::with_start_gate`]): until then health says the feed is disconnected.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::binance::sync::report_sync;
use crate::binance::{BinanceAdapter, BinanceMarket};
use crate::capture::SourceKind;
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason};
use crate::input_journal::InputJournal;
use crate::instrument::{InstrumentRegistry, Venue};
use crate::latency::LatencyProbe;
use crate::log::DistinctLog;
use crate::metrics::{report_journal, Metric, MetricLabel, MetricSink};
use crate::num::{InstrumentId, Nanos};
use crate::outbox::Outbox;
use crate::rest::{retry_after, RestClient, RestWorker, SnapshotRequest};
use crate::stage::Stage;
use crate::ws::session::{CloseReason, SessionEvent, WsSession};

/// Recording tap: raw frames and REST bodies, copied into pooled buffers for a writer thread.
pub struct Tap {
    pub records: rtrb::Producer<TapRecord>,
    pub returns: rtrb::Consumer<Vec<u8>>,
    /// Records lost because the writer fell behind.
    pub lost: u64,
}

pub struct TapRecord {
    pub recv_ts: Nanos,
    /// `None` for a WebSocket frame, the request for a REST body.
    pub rest: Option<SnapshotRequest>,
    pub bytes: Vec<u8>,
}

impl Tap {
    fn record(&mut self, recv_ts: Nanos, rest: Option<SnapshotRequest>, bytes: &[u8]) {
        if self.records.slots() == 0 {
            self.lost += 1;
            return;
        }
        let mut buf = self.returns.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(bytes);
        if self
            .records
            .push(TapRecord {
                recv_ts,
                rest,
                bytes: buf,
            })
            .is_err()
        {
            self.lost += 1;
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveCounters {
    pub frames: u64,
    pub messages: u64,
    /// Frames refused by the codec, by [`crate::binance::codec::DecodeError::code`].
    pub bad_frames: [u64; crate::binance::codec::DecodeError::KINDS],
    pub snapshot_requests: u64,
    pub snapshot_failures: u64,
    /// Times events were discarded because the ring to the book was full.
    pub ring_full: u64,
    /// Resyncs asked for by the book stage (a crossed book).
    pub crossed_resyncs: u64,
}

#[derive(Clone, Copy, Debug)]
struct SnapshotState {
    request: SnapshotRequest,
    in_flight: bool,
    retry_at: Nanos,
    attempts: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intake {
    Open,
    Stopped,
}

pub struct BinanceLiveFeed {
    session: WsSession,
    /// Per instrument: the diff count last seen and when it last moved (per-stream watchdog).
    depth_seen: Vec<(u64, Nanos)>,
    stream_timeout: Nanos,
    core: FeedCore,
    resync: Option<rtrb::Consumer<ResyncRequest>>,
    rest: RestClient,
    worker: Option<RestWorker>,
    snapshots: Vec<SnapshotState>,
    intake: Intake,
    /// Intake waits until this is raised (the order gateway is ready), then drops it.
    start_gate: Option<Arc<AtomicBool>>,
}

/// Everything a received frame touches, apart from the session that delivers it.
struct FeedCore {
    binance: BinanceAdapter,
    outbox: Outbox,
    ring: rtrb::Producer<MdEvent>,
    probe: LatencyProbe,
    log: DistinctLog,
    tap: Option<Tap>,
    journal: Option<InputJournal>,
    venue: &'static str,
    instruments: usize,
    /// Per instrument: had events discarded by the current flush (preallocated, reused).
    affected: Vec<bool>,
    counters: LiveCounters,
}

/// The combined-stream path for every instrument of `venue`: depth diffs, bookTicker, trades.
pub fn stream_path(registry: &InstrumentRegistry, venue: Venue, depth_stream: &str) -> String {
    let streams: Vec<String> = registry
        .iter()
        .filter(|i| i.venue == venue)
        .flat_map(|i| {
            let s = i.symbol.to_ascii_lowercase();
            [
                format!("{s}@{depth_stream}"),
                format!("{s}@bookTicker"),
                format!("{s}@trade"),
            ]
        })
        .collect();
    format!("/stream?streams={}", streams.join("/"))
}

/// The REST depth path of one symbol: spot `/api/v3/depth`, USD-M `/fapi/v1/depth`.
pub fn depth_path(venue: Venue, symbol: &str, limit: u32) -> String {
    let base = match venue {
        Venue::BinanceUsdm => "/fapi/v1/depth",
        _ => "/api/v3/depth",
    };
    format!(
        "{base}?symbol={}&limit={limit}",
        symbol.to_ascii_uppercase()
    )
}

pub struct LiveParts {
    pub venue: Venue,
    pub registry: InstrumentRegistry,
    pub session: WsSession,
    pub rest: (RestWorker, RestClient),
    pub snapshot_limit: u32,
    /// A symbol whose depth stream is silent this long on an open connection reconnects it.
    pub stream_timeout: Nanos,
    pub ring: rtrb::Producer<MdEvent>,
    pub resync: Option<rtrb::Consumer<ResyncRequest>>,
    pub probe: LatencyProbe,
    pub log: DistinctLog,
    pub tap: Option<Tap>,
    /// Every frame and REST body is journaled here before it is decoded, when present.
    pub journal: Option<InputJournal>,
}

impl BinanceLiveFeed {
    pub fn new(parts: LiveParts) -> Result<BinanceLiveFeed, String> {
        let market = BinanceMarket::from_venue(parts.venue)
            .ok_or_else(|| format!("{} is not a Binance market", parts.venue.name()))?;
        let mut snapshots = Vec::with_capacity(parts.registry.len());
        for inst in parts.registry.iter() {
            let path = depth_path(parts.venue, &inst.symbol, parts.snapshot_limit);
            let request = SnapshotRequest::new(inst.id, path.as_bytes())
                .ok_or_else(|| format!("snapshot path for {} is too long", inst.symbol))?;
            snapshots.push(SnapshotState {
                request,
                in_flight: false,
                retry_at: Nanos::ZERO,
                attempts: 0,
            });
        }
        let (worker, rest) = parts.rest;
        Ok(BinanceLiveFeed {
            session: parts.session,
            depth_seen: vec![(0, Nanos::ZERO); parts.registry.len()],
            stream_timeout: parts.stream_timeout,
            core: FeedCore {
                instruments: parts.registry.len(),
                affected: vec![false; parts.registry.len()],
                binance: BinanceAdapter::for_market(market, parts.registry),
                outbox: Outbox::with_capacity(BinanceAdapter::outbox_capacity()),
                ring: parts.ring,
                probe: parts.probe,
                log: parts.log,
                tap: parts.tap,
                journal: parts.journal,
                venue: parts.venue.name(),
                counters: LiveCounters::default(),
            },
            resync: parts.resync,
            rest,
            worker: Some(worker),
            snapshots,
            intake: Intake::Open,
            start_gate: None,
        })
    }

    /// Connects nothing until `gate` is raised: with a live order gateway, market data waits
    /// for its session, so that no order is decided before one can be sent.
    pub fn with_start_gate(mut self, gate: Arc<AtomicBool>) -> BinanceLiveFeed {
        self.start_gate = Some(gate);
        self
    }

    /// Whether intake still waits for its start gate. An open gate is dropped: the steady
    /// state reads no atomic.
    fn held(&mut self) -> bool {
        let Some(gate) = &self.start_gate else {
            return false;
        };
        // Acquire: pairs with the Release of the stage raising the gate.
        if gate.load(Ordering::Acquire) {
            self.start_gate = None;
            return false;
        }
        true
    }

    pub fn journal(&self) -> Option<&InputJournal> {
        self.core.journal.as_ref()
    }

    pub fn binance(&self) -> &BinanceAdapter {
        &self.core.binance
    }

    pub fn session(&self) -> &WsSession {
        &self.session
    }

    pub fn counters(&self) -> &LiveCounters {
        &self.core.counters
    }

    pub fn tap_lost(&self) -> u64 {
        self.core.tap.as_ref().map_or(0, |t| t.lost)
    }

    fn on_snapshot_responses(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        while let Ok(response) = self.rest.responses.pop() {
            work += 1;
            let i = response.request.instrument.0 as usize;
            if let Some(s) = self.snapshots.get_mut(i) {
                s.in_flight = false;
            }
            match response.result {
                Ok(()) => {
                    if let Some(tap) = &mut self.core.tap {
                        tap.record(now, Some(response.request), &response.body);
                    }
                    let meta = EventMeta {
                        instrument: response.request.instrument,
                        recv_ts: now,
                        ingress: self.core.probe.stamp(),
                    };
                    let kind = SourceKind::Rest {
                        path: response.request.path(),
                    };
                    if let Some(journal) = &mut self.core.journal {
                        let venue = self.core.venue.as_bytes();
                        journal.message(now, venue, kind, &response.body);
                    }
                    if let Err(e) = self.core.binance.on_message(
                        kind,
                        &response.body,
                        meta,
                        &mut self.core.outbox,
                    ) {
                        self.core.counters.snapshot_failures += 1;
                        self.core.log.once(
                            40,
                            "snapshot body refused",
                            e.field(),
                            0,
                            &response.body,
                        );
                    }
                    if let Some(s) = self.snapshots.get_mut(i) {
                        // Still not synced: the snapshot was older than the buffered diffs, or did
                        // not bridge them. Ask again shortly (Binance's step 4: "go back to 3").
                        s.attempts = if self
                            .core
                            .binance
                            .needs_snapshot(response.request.instrument)
                        {
                            s.attempts + 1
                        } else {
                            0
                        };
                        s.retry_at = retry_after(now, s.attempts.saturating_sub(1));
                    }
                }
                Err(_) => {
                    self.core.counters.snapshot_failures += 1;
                    self.core.log.once(
                        41,
                        "snapshot request failed; retrying with back-off",
                        "",
                        0,
                        &[],
                    );
                    if let Some(s) = self.snapshots.get_mut(i) {
                        s.attempts += 1;
                        s.retry_at = retry_after(now, s.attempts);
                    }
                }
            }
            // Hand the buffer back for reuse; if the ring is full the worker allocates anew.
            let _ = self.rest.returns.push(response.body);
            work += self.core.flush(now);
        }
        work
    }

    /// Per-stream watchdog: the connection may be alive (tickers, trades, pings) while one
    /// symbol's depth stream has stopped; reconnecting resubscribes every stream.
    fn check_streams(&mut self, now: Nanos) -> usize {
        let Some(opened) = self.session.opened_at() else {
            return 0;
        };
        let mut silent = false;
        for (sync, seen) in self
            .core
            .binance
            .syncs()
            .iter()
            .zip(self.depth_seen.iter_mut())
        {
            let diffs = sync.counters.diffs;
            if diffs != seen.0 || seen.1 < opened {
                *seen = (diffs, now.max(opened));
            } else if now.saturating_sub(seen.1) > self.stream_timeout {
                silent = true;
            }
        }
        if !silent {
            return 0;
        }
        self.session.close(now, CloseReason::StreamWatchdog);
        self.core.stale_all(now, StaleReason::Disconnected);
        1
    }

    fn request_snapshots(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        for s in &mut self.snapshots {
            if s.in_flight
                || now < s.retry_at
                || !self.core.binance.needs_snapshot(s.request.instrument)
            {
                continue;
            }
            if self.rest.requests.push(s.request).is_ok() {
                s.in_flight = true;
                self.core.counters.snapshot_requests += 1;
                work += 1;
            }
        }
        work
    }
}

impl FeedCore {
    /// Pushes staged events; when the ring cannot take them all, discards the rest and resyncs
    /// the symbols they belonged to. Returns the events pushed.
    fn flush(&mut self, now: Nanos) -> usize {
        let pushed = self.outbox.drain_into(&mut self.ring);
        if self.outbox.is_drained() {
            return pushed;
        }
        self.counters.ring_full += 1;
        let affected = &mut self.affected;
        self.outbox.discard_pending(
            |event| matches!(event, MdEvent::BookStale { .. }),
            |event| {
                if let Some(flag) =
                    event_instrument(event).and_then(|i| affected.get_mut(i.0 as usize))
                {
                    *flag = true;
                }
            },
        );
        for i in 0..self.instruments {
            if std::mem::take(&mut self.affected[i]) {
                let meta = EventMeta {
                    instrument: InstrumentId(i as u16),
                    recv_ts: now,
                    ingress: self.probe.stamp(),
                };
                self.binance
                    .force_resync(meta, StaleReason::RingFull, &mut self.outbox);
            }
        }
        pushed + self.outbox.drain_into(&mut self.ring)
    }

    fn stale_all(&mut self, now: Nanos, reason: StaleReason) {
        for i in 0..self.instruments {
            let meta = EventMeta {
                instrument: InstrumentId(i as u16),
                recv_ts: now,
                ingress: self.probe.stamp(),
            };
            self.binance.force_resync(meta, reason, &mut self.outbox);
        }
    }

    fn on_frame(&mut self, now: Nanos, frame: &[u8]) {
        let ingress = self.probe.stamp();
        self.counters.frames += 1;
        if let Some(tap) = &mut self.tap {
            tap.record(now, None, frame);
        }
        if let Some(journal) = &mut self.journal {
            journal.message(now, self.venue.as_bytes(), SourceKind::Ws, frame);
        }
        let meta = EventMeta {
            instrument: InstrumentId::default(),
            recv_ts: now,
            ingress,
        };
        match self
            .binance
            .on_message(SourceKind::Ws, frame, meta, &mut self.outbox)
        {
            Ok(()) => self.counters.messages += 1,
            Err(e) => {
                let code = e.code();
                self.counters.bad_frames[code] += 1;
                self.log.once(
                    16 + code as u32,
                    crate::binance::codec::DecodeError::describe_code(code),
                    e.field(),
                    0,
                    frame,
                );
            }
        }
        self.probe.record_since(ingress);
    }
}

fn event_instrument(event: &MdEvent) -> Option<InstrumentId> {
    match event {
        MdEvent::Levels { instrument, .. } => Some(*instrument),
        MdEvent::BookReset { meta }
        | MdEvent::BookCommit { meta, .. }
        | MdEvent::BookStale { meta, .. } => Some(meta.instrument),
        MdEvent::Trade(t) => Some(t.meta.instrument),
        MdEvent::Ticker(t) => Some(t.meta.instrument),
    }
}

impl Stage for BinanceLiveFeed {
    fn name(&self) -> &'static str {
        "feed"
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        let mut work = self.core.flush(now);
        if let Some(resync) = &mut self.resync {
            while let Ok(request) = resync.pop() {
                self.core.counters.crossed_resyncs += 1;
                let meta = EventMeta {
                    instrument: request.instrument,
                    recv_ts: now,
                    ingress: self.core.probe.stamp(),
                };
                self.core
                    .binance
                    .on_resync_request(request, meta, &mut self.core.outbox);
                work += 1;
            }
        }
        work += self.on_snapshot_responses(now);
        if self.intake == Intake::Stopped || !self.core.outbox.is_drained() || self.held() {
            return work + self.core.flush(now);
        }
        let mut reconnected = false;
        let core = &mut self.core;
        work += self.session.poll(now, |event| match event {
            SessionEvent::Opened | SessionEvent::Closed(_) => reconnected = true,
            SessionEvent::Frame(frame) => {
                core.on_frame(now, frame);
                core.flush(now);
            }
        });
        if reconnected {
            // A new connection is a new diff sequence; a lost one leaves every book unknown.
            self.core.stale_all(now, StaleReason::Disconnected);
        }
        work += self.check_streams(now);
        work + self.request_snapshots(now) + self.core.flush(now)
    }

    fn stop_intake(&mut self) {
        if self.intake == Intake::Open {
            self.intake = Intake::Stopped;
            self.session.close(Nanos::ZERO, CloseReason::Requested);
        }
    }

    fn intake_done(&self) -> bool {
        self.intake == Intake::Stopped && self.core.outbox.is_drained()
    }

    fn on_close(&mut self) {
        // Joins the REST worker thread (it stops after its current request).
        self.worker = None;
    }

    fn report(&self, out: MetricSink<'_>) {
        let c = &self.core.counters;
        let k = &self.session.counters;
        out(Metric::counter(
            "feed_messages",
            MetricLabel::None,
            c.messages,
        ));
        let refused = c.bad_frames.iter().sum();
        out(Metric::counter(
            "feed_bad_frames",
            MetricLabel::None,
            refused,
        ));
        let ring = MetricLabel::Tag("ring", "market_data");
        out(Metric::counter("ring_full", ring, c.ring_full));
        out(Metric::counter(
            "feed_snapshot_requests",
            MetricLabel::None,
            c.snapshot_requests,
        ));
        out(Metric::counter(
            "feed_snapshot_failures",
            MetricLabel::None,
            c.snapshot_failures,
        ));
        out(Metric::counter(
            "ws_connects",
            MetricLabel::None,
            k.connects,
        ));
        out(Metric::counter("ws_bytes", MetricLabel::None, k.bytes));
        let connected = i64::from(k.opened > k.closed.iter().sum::<u64>());
        out(Metric::gauge(
            "feed_connected",
            MetricLabel::None,
            connected,
        ));
        if let Some(journal) = &self.core.journal {
            report_journal("input", &journal.counters, out);
        }
        for sync in self.core.binance.syncs() {
            report_sync(sync, out);
        }
    }
}
