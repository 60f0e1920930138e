//! The live feed stage, generic over its venue's [`MarketAdapter`] (statically dispatched): one
//! WebSocket session for every instrument of the adapter, REST snapshots from the worker thread
//! where the venue's procedure takes them, and the adapter's book sync rules, all polled from
//! `do_work` without blocking. On each connect the adapter's subscription frames are sent, and
//! its keepalive frame periodically while the connection is open.
//!
//! When a symbol needs a snapshot by REST (the adapter says so) one is requested; one that did
//! not sync the book is asked for again with back-off. A disconnect marks every symbol stale
//! until it has resynced. A full ring towards the book cannot wait on a live socket: the events
//! that did not fit are discarded, and their symbols marked stale and resynced.
//!
//! With a live order gateway the session does not connect before the gateway's first ready
//! ([`LiveFeed::set_start_gate`]): until then health says the feed is disconnected.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::capture::SourceKind;
use crate::counters::FeedCounter;
use crate::decode_error::DecodeError;
use crate::errors::FeedError;
use crate::event::{EventMeta, MdEvent, ResyncRequest, StaleReason};
use crate::feed_scope::FeedScope;
use crate::input_journal::InputJournal;
use crate::latency::LatencyProbe;
use crate::log::DistinctLog;
use crate::metrics::{report_journal, MetricLabel, MetricSink, Report};
use crate::num::{InstrumentId, Nanos};
use crate::outbox::Outbox;
use crate::rest::{retry_after, RestClient, RestWorker, SnapshotRequest};
use crate::stage::Stage;
use crate::sync_counters::SyncCounters;
pub use crate::tap::{Tap, TapKind, TapRecord};
use crate::venue::{adapter_syncs, FrameVerdict, Keepalive, MarketAdapter};
use crate::ws::session::{CloseReason, SessionEvent, WsSession};
use pulse_core::counters::CoreCounter;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveCounters {
    pub frames: u64,
    pub messages: u64,
    /// Frames refused by the codec, by [`DecodeError::code`].
    pub bad_frames: [u64; DecodeError::KINDS],
    pub snapshot_requests: u64,
    pub snapshot_failures: u64,
    /// Times events were discarded because the ring to the book was full.
    pub ring_full: u64,
    /// Resyncs asked for by the book stage (a crossed book).
    pub crossed_resyncs: u64,
    /// Keepalive frames sent.
    pub keepalives: u64,
    /// Books resubscribed alone, after they went stale on their own account (a failed
    /// checksum, a gap, a crossed book, a full ring) at a venue whose snapshot follows a
    /// subscription.
    pub resubscriptions: u64,
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

pub struct LiveFeed<A: MarketAdapter> {
    session: WsSession,
    /// Per instrument: the diff count last seen and when it last moved (per-stream watchdog).
    depth_seen: Vec<(u64, Nanos)>,
    stream_timeout: Nanos,
    core: FeedCore<A>,
    resync: Option<rtrb::Consumer<ResyncRequest>>,
    /// With its worker, where the venue's snapshots come by REST.
    rest: Option<RestClient>,
    worker: Option<RestWorker>,
    snapshots: Vec<SnapshotState>,
    intake: Intake,
    /// Intake waits until this is raised (the order gateway is ready), then drops it.
    start_gate: Option<Arc<AtomicBool>>,
    /// Sent on each connect, in order.
    subscriptions: Vec<String>,
    /// The adapter's keepalive, and when it was last sent.
    keepalive: Option<(Keepalive, Nanos)>,
    /// Its metrics' labels when it is one of several feeds (its adapter keeps its venue's
    /// books only, so the scope serves every instrument).
    scope: FeedScope,
}

/// Everything a received frame touches, apart from the session that delivers it.
struct FeedCore<A: MarketAdapter> {
    adapter: A,
    outbox: Outbox,
    ring: rtrb::Producer<MdEvent>,
    probe: LatencyProbe,
    log: DistinctLog<FeedError>,
    tap: Option<Tap>,
    journal: Option<InputJournal>,
    venue: &'static str,
    instruments: usize,
    /// Per instrument: had events discarded by the current flush (preallocated, reused).
    affected: Vec<bool>,
    /// The adapter asked for a reconnect (its connection sequence broke).
    reconnect: bool,
    /// The adapter has frames to send: a book to resubscribe alone.
    sends: bool,
    counters: LiveCounters,
}

pub struct LiveParts<A: MarketAdapter> {
    /// The venue market this feed speaks, with its instruments.
    pub adapter: A,
    pub session: WsSession,
    /// The REST snapshot worker, for a venue whose snapshots come by REST; `None` where they
    /// come in-band (OKX, Kraken: after each subscription), so no idle thread is spawned.
    pub rest: Option<(RestWorker, RestClient)>,
    pub snapshot_limit: u32,
    /// A symbol whose depth stream is silent this long on an open connection reconnects it.
    pub stream_timeout: Nanos,
    pub ring: rtrb::Producer<MdEvent>,
    pub resync: Option<rtrb::Consumer<ResyncRequest>>,
    pub probe: LatencyProbe,
    pub log: DistinctLog<FeedError>,
    pub tap: Option<Tap>,
    /// Every frame and REST body is journaled here before it is decoded, when present.
    pub journal: Option<InputJournal>,
}

impl<A: MarketAdapter> LiveFeed<A> {
    pub fn new(parts: LiveParts<A>) -> Result<LiveFeed<A>, String> {
        let adapter = parts.adapter;
        let instruments = adapter.instruments();
        let mut snapshots = Vec::with_capacity(instruments);
        for i in 0..instruments {
            let id = InstrumentId(i as u16);
            let Some(path) = adapter.snapshot_path(id, parts.snapshot_limit) else {
                continue;
            };
            let request = SnapshotRequest::new(id, path.as_bytes())
                .ok_or_else(|| format!("snapshot path {path} is too long"))?;
            snapshots.push(SnapshotState {
                request,
                in_flight: false,
                retry_at: Nanos::ZERO,
                attempts: 0,
            });
        }
        if !snapshots.is_empty() && parts.rest.is_none() {
            return Err(format!(
                "{} takes book snapshots by REST: the feed needs a REST worker",
                adapter.source()
            ));
        }
        let (worker, rest) = parts.rest.unzip();
        let subscriptions = adapter.subscriptions();
        let keepalive = adapter.keepalive().map(|k| (k, Nanos::ZERO));
        Ok(LiveFeed {
            session: parts.session,
            depth_seen: vec![(0, Nanos::ZERO); instruments],
            stream_timeout: parts.stream_timeout,
            core: FeedCore {
                instruments,
                affected: vec![false; instruments],
                outbox: Outbox::with_capacity(adapter.outbox_capacity()),
                venue: adapter.source(),
                ring: parts.ring,
                probe: parts.probe,
                log: parts.log,
                tap: parts.tap,
                journal: parts.journal,
                counters: LiveCounters::default(),
                reconnect: false,
                sends: false,
                adapter,
            },
            resync: parts.resync,
            rest,
            worker,
            snapshots,
            intake: Intake::Open,
            start_gate: None,
            subscriptions,
            keepalive,
            scope: FeedScope::default(),
        })
    }

    /// One feed of several: labels its metrics as `scope` says.
    pub fn scoped(mut self, scope: FeedScope) -> LiveFeed<A> {
        self.scope = scope;
        self
    }

    /// Connects nothing until `gate` is raised: with a live order gateway, market data waits
    /// for its session, so that no order is decided before one can be sent.
    pub fn set_start_gate(&mut self, gate: Arc<AtomicBool>) {
        self.start_gate = Some(gate);
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

    /// The books this feed keeps and the names it reports under.
    pub fn scope(&self) -> &FeedScope {
        &self.scope
    }

    /// The venue adapter, with its books' sync state.
    pub fn adapter(&self) -> &A {
        &self.core.adapter
    }

    /// Every instrument of this feed with its sync counters, in registry order.
    pub fn syncs(&self) -> impl Iterator<Item = (InstrumentId, &SyncCounters)> {
        adapter_syncs(&self.core.adapter)
    }

    pub fn session(&self) -> &WsSession {
        &self.session
    }

    /// Every kind of error the feed met: how often, first and last seen.
    pub fn errors(&self) -> &DistinctLog<FeedError> {
        &self.core.log
    }

    pub fn counters(&self) -> &LiveCounters {
        &self.core.counters
    }

    pub fn tap_lost(&self) -> u64 {
        self.core.tap.as_ref().map_or(0, |t| t.lost)
    }

    fn on_snapshot_responses(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        let Some(rest) = &mut self.rest else {
            return 0;
        };
        while let Ok(response) = rest.responses.pop() {
            work += 1;
            let i = response.request.instrument.0 as usize;
            if let Some(s) = self.snapshots.get_mut(i) {
                s.in_flight = false;
            }
            match response.result {
                Ok(()) => {
                    if let Some(tap) = &mut self.core.tap {
                        tap.record(now, TapKind::Rest(response.request), &response.body);
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
                    if let Err(e) = self.core.adapter.on_frame(
                        kind,
                        &response.body,
                        meta,
                        &mut self.core.outbox,
                    ) {
                        self.core.counters.snapshot_failures += 1;
                        self.core.log.once(
                            FeedError::SnapshotRefused,
                            now,
                            e.field(),
                            0,
                            &response.body,
                        );
                    }
                    if let Some(s) = self.snapshots.get_mut(i) {
                        // Still not synced: the snapshot was older than the buffered diffs, or did
                        // not bridge them. Ask again shortly (the venue's procedure: Binance's
                        // step 4, "go back to 3").
                        s.attempts = if self
                            .core
                            .adapter
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
                    self.core
                        .log
                        .once(FeedError::SnapshotFailed, now, "", 0, &[]);
                    if let Some(s) = self.snapshots.get_mut(i) {
                        s.attempts += 1;
                        s.retry_at = retry_after(now, s.attempts);
                    }
                }
            }
            // Hand the buffer back for reuse; if the ring is full the worker allocates anew.
            let _ = rest.returns.push(response.body);
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
        for (i, seen) in self.depth_seen.iter_mut().enumerate() {
            let Some(sync) = self.core.adapter.sync_counters(InstrumentId(i as u16)) else {
                continue;
            };
            let diffs = sync.diffs;
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

    /// Sends the adapter's subscription frames on a new connection.
    fn subscribe(&mut self, now: Nanos) -> usize {
        for text in &self.subscriptions {
            if !self.session.send_text(text) {
                self.session.close(now, CloseReason::Disconnected);
                return 0;
            }
            if let Some(tap) = &mut self.core.tap {
                tap.record(now, TapKind::Send, text.as_bytes());
            }
        }
        if let Some((_, sent)) = &mut self.keepalive {
            *sent = now;
        }
        self.subscriptions.len()
    }

    /// Sends the adapter's keepalive frame when it is due on an open connection.
    fn send_keepalive(&mut self, now: Nanos) -> usize {
        let Some((keepalive, sent)) = &mut self.keepalive else {
            return 0;
        };
        if !self.session.is_open() || now.saturating_sub(*sent) < keepalive.every {
            return 0;
        }
        *sent = now;
        let frame = keepalive.frame;
        let sent = self.session.send_static(frame);
        if let (true, Some(tap)) = (sent, &mut self.core.tap) {
            tap.record(now, TapKind::Send, frame.as_bytes());
        }
        self.core.counters.keepalives += u64::from(sent);
        usize::from(sent)
    }

    fn request_snapshots(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        let Some(rest) = &mut self.rest else {
            return 0;
        };
        for s in &mut self.snapshots {
            if s.in_flight
                || now < s.retry_at
                || !self.core.adapter.needs_snapshot(s.request.instrument)
            {
                continue;
            }
            if rest.requests.push(s.request).is_ok() {
                s.in_flight = true;
                self.core.counters.snapshot_requests += 1;
                work += 1;
            }
        }
        work
    }
}

impl<A: MarketAdapter> FeedCore<A> {
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
                // The book's snapshot again: a resubscription where the venue sends it so.
                self.sends |=
                    self.adapter
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
            self.adapter.force_resync(meta, reason, &mut self.outbox);
        }
    }

    fn on_frame(&mut self, now: Nanos, frame: &[u8]) {
        let ingress = self.probe.stamp();
        self.counters.frames += 1;
        if let Some(tap) = &mut self.tap {
            tap.record(now, TapKind::Ws, frame);
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
            .adapter
            .on_frame(SourceKind::Ws, frame, meta, &mut self.outbox)
        {
            Ok(verdict) => {
                self.counters.messages += 1;
                match verdict {
                    FrameVerdict::Ok => {}
                    FrameVerdict::Reconnect => self.reconnect = true,
                    FrameVerdict::Resubscribe => self.sends = true,
                }
            }
            Err(e) => e.count_and_log(&mut self.counters.bad_frames, &mut self.log, now, 0, frame),
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

impl<A: MarketAdapter> Stage for LiveFeed<A> {
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
                self.core.sends |=
                    self.core
                        .adapter
                        .on_resync_request(request, meta, &mut self.core.outbox);
                work += 1;
            }
        }
        work += self.on_snapshot_responses(now);
        if self.intake == Intake::Stopped || !self.core.outbox.is_drained() || self.held() {
            return work + self.core.flush(now);
        }
        let mut reconnected = false;
        let mut opened = false;
        let core = &mut self.core;
        work += self.session.poll(now, |event| match event {
            SessionEvent::Opened => {
                reconnected = true;
                opened = true;
            }
            SessionEvent::Closed(_) => reconnected = true,
            SessionEvent::Frame(frame) => {
                core.on_frame(now, frame);
                core.flush(now);
            }
        });
        if opened {
            work += self.subscribe(now);
        }
        if std::mem::take(&mut self.core.reconnect) {
            // The connection's own sequence broke: the adapter marked its books stale.
            self.session.close(now, CloseReason::Disconnected);
        }
        work += self.send_keepalive(now);
        if self.session.is_open() && std::mem::take(&mut self.core.sends) {
            let session = &mut self.session;
            let tap = &mut self.core.tap;
            let sent = self.core.adapter.take_sends(&mut |text| {
                let sent = session.send_text(text);
                if let (true, Some(tap)) = (sent, tap.as_mut()) {
                    tap.record(now, TapKind::Send, text.as_bytes());
                }
                sent
            });
            self.core.counters.resubscriptions += sent as u64;
            work += sent;
        }
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
        let mut scoped = |m| self.scope.relabel(m).into_iter().for_each(&mut *out);
        let out: MetricSink<'_> = &mut scoped;
        let c = &self.core.counters;
        let k = &self.session.counters;
        out(FeedCounter::Messages.count(MetricLabel::None, c.messages));
        let refused = c.bad_frames.iter().sum();
        out(FeedCounter::BadFrames.count(MetricLabel::None, refused));
        let ring = MetricLabel::Tag("ring", "market_data");
        out(CoreCounter::RingFull.count(ring, c.ring_full));
        out(FeedCounter::SnapshotRequests.count(MetricLabel::None, c.snapshot_requests));
        out(FeedCounter::SnapshotFailures.count(MetricLabel::None, c.snapshot_failures));
        out(FeedCounter::WsConnects.count(MetricLabel::None, k.connects));
        out(FeedCounter::WsBytes.count(MetricLabel::None, k.bytes));
        let connected = i64::from(k.opened > k.closed.iter().sum::<u64>());
        out(FeedCounter::Connected.gauge(MetricLabel::None, connected));
        if let Some(journal) = &self.core.journal {
            report_journal("input", &journal.counters, out);
        }
        self.core.adapter.report(out);
    }
}
