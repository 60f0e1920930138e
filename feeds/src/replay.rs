//! The feed stage for recorded input: reads a capture file, hands each message to its venue
//! adapter and pushes the resulting events to the book ring.
//!
//! Lines are routed by the venue in their source (`binance:ws` to the adapter whose
//! [`MarketAdapter::source`] is `binance`), resync requests by the venue of their instrument
//! (the adapter that [`MarketAdapter::owns`] it). The built-in venues come from
//! [`venues::builtin`]; [`CaptureFeed::with_adapter`] adds others.
//!
//! Replay applies backpressure rather than loss: a message's events wait in the outbox until
//! the ring has room, and no new line is read meanwhile. So a replay is an exact re-run and
//! never needs the full-ring resync a live feed does ([`MarketAdapter::force_resync`]). It does
//! take the book stage's resync requests (a crossed book) from the control ring: that book goes
//! stale and waits for the next snapshot of its instrument in the capture. Malformed lines and
//! frames are counted per kind, logged once per kind, and skipped.

use std::io;

use crate::capture::{CaptureReader, CaptureRecord, LineError, SourceKind};
use crate::clock::ReplayTime;
use crate::counters::FeedCounter;
use crate::decode_error::DecodeError;
use crate::errors::FeedError;
use crate::event::{EventMeta, MdEvent, ResyncRequest};
use crate::feed_scope::FeedScope;
use crate::input_journal::{InputJournal, JournalInput, Session};
use crate::instrument::InstrumentRegistry;
use crate::latency::{LatencyProbe, Stamp};
use crate::log::DistinctLog;
use crate::metrics::{report_journal, Metric, MetricLabel, MetricSink, Report};
use crate::num::{InstrumentId, Nanos};
use crate::outbox::Outbox;
use crate::stage::Stage;
use crate::sync_counters::SyncCounters;
use crate::tardis::{self, TardisAdapter, TardisInput};
use crate::venue::{adapter_syncs, MarketAdapter};
use crate::venues::{self, AnyAdapter};

/// Messages read per `do_work` call: one, so each message crosses every stage of a single-thread
/// layout before the next is read (batching here would add queueing to the measured latency).
const MESSAGES_PER_CALL: usize = 1;
/// Resync requests taken from the control ring per `do_work` call at most.
const REQUESTS_PER_CALL: usize = 16;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedCounters {
    pub lines: u64,
    /// Messages decoded and handed on.
    pub messages: u64,
    pub events: u64,
    /// Malformed capture lines, by [`LineError`] (FieldCount, Timestamp, Source, TooLong,
    /// and a Tardis CSV file's Row).
    pub bad_lines: [u64; 5],
    /// Frames refused by the codec, by [`DecodeError::code`].
    pub bad_frames: [u64; DecodeError::KINDS],
    /// Lines from a venue this build has no adapter for.
    pub unknown_venue: u64,
    /// Lines of a venue another feed of the process keeps (one of several sources reading
    /// one multi-venue capture): passed over, not decoded.
    pub other_feed: u64,
    /// Recorded outgoing requests, skipped.
    pub sends: u64,
    /// Resync requests received from the book stage (acted on or found out of date: see each
    /// instrument's sync counters).
    pub resync_requests: u64,
}

impl FeedCounters {
    pub fn bad_lines_total(&self) -> u64 {
        self.bad_lines.iter().sum()
    }

    pub fn bad_frames_total(&self) -> u64 {
        self.bad_frames.iter().sum()
    }
}

/// Replay pace: a message recorded `d` after the first one is read `d * 1000 / speed_milli`
/// after the first one was read, by the runner's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pace {
    speed_milli: u64,
    /// (runner time, recorded time) of the first message.
    origin: Option<(Nanos, Nanos)>,
}

enum Read {
    Message,
    NotDue,
    Ended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intake {
    Open,
    Stopped,
    /// End of file, or a read error (logged).
    Ended,
}

/// Where recorded input comes from: a capture file, a journal's input stream, or Tardis CSV
/// files (recognized by their header).
pub enum RecordedInput {
    Capture(CaptureReader),
    Journal(JournalInput),
    Tardis(TardisInput),
}

impl RecordedInput {
    /// Opens `path`: a journal directory's input stream (its last session), or a capture file.
    pub fn open(path: &std::path::Path) -> io::Result<RecordedInput> {
        RecordedInput::open_stream(path, crate::input_journal::STREAM)
    }

    /// A path that is no file but a comma-separated list of Tardis CSV files
    /// (`book.csv.gz,trades.csv.gz`) reads them together ([`TardisInput`]).
    ///
    /// [`RecordedInput::open`], reading the input stream `stream` of a journal directory (the
    /// one a source of several wrote: `input-1` for the second).
    pub fn open_stream(path: &std::path::Path, stream: &str) -> io::Result<RecordedInput> {
        if path.is_dir() {
            JournalInput::open_stream(path, stream, Session::Last)
                .map(RecordedInput::Journal)
                .map_err(io::Error::other)
        } else if tardis::input::is_tardis(path) || tardis::input::named_csv(path) {
            // A file named `.csv` whose header is not Tardis's fails here, saying so.
            TardisInput::open(path).map(RecordedInput::Tardis)
        } else {
            CaptureReader::open(path).map(RecordedInput::Capture)
        }
    }

    /// Lines read from a capture, messages from a journal.
    pub fn position(&self) -> u64 {
        match self {
            RecordedInput::Capture(r) => r.line_no(),
            RecordedInput::Journal(j) => j.records(),
            RecordedInput::Tardis(t) => t.records(),
        }
    }

    pub fn current(&self) -> &[u8] {
        match self {
            RecordedInput::Capture(r) => r.current_line(),
            RecordedInput::Journal(j) => j.current(),
            RecordedInput::Tardis(t) => t.current(),
        }
    }

    pub fn hold(&mut self) {
        match self {
            RecordedInput::Capture(r) => r.hold(),
            RecordedInput::Journal(j) => j.hold(),
            RecordedInput::Tardis(t) => t.hold(),
        }
    }

    /// As [`CaptureReader::next_record`].
    #[allow(clippy::type_complexity)]
    pub fn next_record(
        &mut self,
    ) -> Option<Result<CaptureRecord<'_>, Result<LineError, io::Error>>> {
        match self {
            RecordedInput::Capture(r) => r.next_record(),
            RecordedInput::Journal(j) => j.next_record(),
            RecordedInput::Tardis(t) => t.next_record(),
        }
    }
}

pub struct CaptureFeed {
    reader: RecordedInput,
    /// Every message read goes to the input journal first, when there is one.
    journal: Option<InputJournal>,
    /// Every venue market's adapter, built-in ones first (those called statically).
    adapters: Vec<AnyAdapter>,
    /// By adapter: its capture source, read once so that routing a line calls no adapter.
    sources: Vec<&'static [u8]>,
    /// The sources of venues whose books other feeds keep (see [`CaptureFeed::scoped`]).
    other_sources: Vec<&'static [u8]>,
    outbox: Outbox,
    ring: rtrb::Producer<MdEvent>,
    control: Option<rtrb::Consumer<ResyncRequest>>,
    replay_time: ReplayTime,
    probe: LatencyProbe,
    log: DistinctLog<FeedError>,
    intake: Intake,
    pace: Option<Pace>,
    /// The ingress stamp of the last message read.
    last_ingress: Stamp,
    /// The books this feed keeps and its metrics' labels, when it is one of several.
    scope: FeedScope,
    pub counters: FeedCounters,
    pub io_error: Option<io::Error>,
}

impl CaptureFeed {
    pub fn new(
        reader: impl Into<RecordedInput>,
        registry: InstrumentRegistry,
        ring: rtrb::Producer<MdEvent>,
        replay_time: ReplayTime,
        probe: LatencyProbe,
        log: DistinctLog<FeedError>,
    ) -> CaptureFeed {
        let mut feed = CaptureFeed {
            reader: reader.into(),
            journal: None,
            outbox: Outbox::with_capacity(0),
            adapters: Vec::new(),
            sources: Vec::new(),
            other_sources: Vec::new(),
            ring,
            control: None,
            replay_time,
            probe,
            log,
            intake: Intake::Open,
            pace: None,
            last_ingress: Stamp::default(),
            scope: FeedScope::default(),
            counters: FeedCounters::default(),
            io_error: None,
        };
        for adapter in venues::builtin(&registry) {
            feed.add_adapter(adapter);
        }
        // Any capture may hold Tardis messages (`pulse data import`); the adapter owns a book
        // only once Tardis data of it is read, so a venue's own capture is untouched.
        feed.add_adapter(AnyAdapter::Tardis(Box::new(TardisAdapter::new(registry))));
        feed
    }

    /// Paces the replay at `speed_milli` thousandths of recorded time (1000 = as recorded);
    /// the runner must then give `now` from a live clock. Unpaced replay reads as fast as the
    /// rings drain.
    pub fn paced(mut self, speed_milli: u64) -> CaptureFeed {
        self.pace = (speed_milli > 0).then_some(Pace {
            speed_milli,
            origin: None,
        });
        self
    }

    /// Journals every message read into `journal` before handing it on.
    pub fn with_journal(mut self, journal: InputJournal) -> CaptureFeed {
        self.journal = Some(journal);
        self
    }

    /// One feed of several: keeps the books `scope` serves only (routes no resync request to
    /// the others, reports none of their sync counters) and labels its metrics.
    ///
    /// A venue none of whose instruments it serves is another feed's: its adapter goes, and its
    /// lines are counted ([`FeedCounters::other_feed`]) and passed over undecoded, so that
    /// several sources can read one capture of many venues, each decoding its own.
    pub fn scoped(mut self, scope: FeedScope) -> CaptureFeed {
        self.scope = scope;
        let mut n = 0;
        while n < self.adapters.len() {
            let adapter = self.adapters[n].get();
            // The Tardis adapter owns a book only once it reads its data: kept.
            let tardis = matches!(self.adapters[n], AnyAdapter::Tardis(_));
            if tardis || self.scope.served().any(|id| adapter.owns(id)) {
                n += 1;
            } else {
                self.adapters.remove(n);
                let source = self.sources.remove(n);
                if !self.sources.contains(&source) {
                    self.other_sources.push(source);
                }
            }
        }
        self
    }

    pub fn journal(&self) -> Option<&InputJournal> {
        self.journal.as_ref()
    }

    /// The books this feed keeps and the names it reports under.
    pub fn scope(&self) -> &FeedScope {
        &self.scope
    }

    /// Takes the book stage's resync requests from `control`.
    pub fn with_control(mut self, control: rtrb::Consumer<ResyncRequest>) -> CaptureFeed {
        self.control = Some(control);
        self
    }

    /// Adds a venue market's adapter beside the built-in ones: lines of its source go to it.
    /// For the instruments it owns, the adapter added last answers resync requests and sync
    /// counters; a source already served keeps its first adapter.
    pub fn with_adapter(mut self, adapter: impl MarketAdapter + 'static) -> CaptureFeed {
        self.add_adapter(AnyAdapter::Added(Box::new(adapter)));
        self
    }

    /// [`CaptureFeed::with_adapter`] for an adapter made at run time (an added venue's).
    pub fn with_boxed_adapter(mut self, adapter: Box<dyn MarketAdapter>) -> CaptureFeed {
        self.add_adapter(AnyAdapter::Added(adapter));
        self
    }

    fn add_adapter(&mut self, adapter: AnyAdapter) {
        let capacity = adapter.get().outbox_capacity();
        if capacity > self.outbox.remaining() {
            self.outbox = Outbox::with_capacity(capacity);
        }
        self.sources.push(adapter.get().source().as_bytes());
        self.adapters.push(adapter);
    }

    /// The adapters, built-in ones first.
    pub fn adapters(&self) -> impl Iterator<Item = &dyn MarketAdapter> {
        self.adapters.iter().map(AnyAdapter::get)
    }

    /// The index of the adapter that keeps `instrument`'s book: of those that own it, the
    /// one added last (an added venue's adapter overrides a built-in one).
    fn owner(&self, instrument: InstrumentId) -> Option<usize> {
        self.scope
            .serves(instrument)
            .then(|| owner(&self.adapters, instrument))
            .flatten()
    }

    /// The sync counters of `instrument`, from the adapter that keeps its book.
    pub fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        self.adapters[self.owner(instrument)?]
            .get()
            .sync_counters(instrument)
    }

    /// Every instrument's sync counters, adapter by adapter, each in registry order.
    pub fn syncs(&self) -> impl Iterator<Item = (InstrumentId, &SyncCounters)> {
        self.adapters.iter().enumerate().flat_map(move |(n, a)| {
            adapter_syncs(a.get()).filter(move |&(id, _)| self.owner(id) == Some(n))
        })
    }

    /// Hands the book stage's resync requests to the adapters. Only with an empty outbox, so
    /// that each stale mark has its slot and follows every event staged before it.
    fn take_resync_requests(&mut self) -> usize {
        let Some(control) = self.control.as_mut() else {
            return 0;
        };
        let mut taken = 0;
        while taken < REQUESTS_PER_CALL {
            let Ok(request) = control.pop() else {
                break;
            };
            taken += 1;
            let meta = EventMeta {
                instrument: request.instrument,
                recv_ts: self.replay_time.get(),
                ingress: self.probe.stamp(),
            };
            let served = self.scope.serves(request.instrument);
            if let Some(n) = served
                .then(|| owner(&self.adapters, request.instrument))
                .flatten()
            {
                self.adapters[n]
                    .get_mut()
                    .on_resync_request(request, meta, &mut self.outbox);
            }
        }
        self.counters.resync_requests += taken as u64;
        taken
    }

    /// The ingress stamp of the last message read: when its raw bytes were in memory. A
    /// harness driving the stages itself times a frame's path from here (`pulse-bench`).
    pub fn last_ingress(&self) -> Stamp {
        self.last_ingress
    }

    /// Every kind of error the feed met: how often, first and last seen.
    pub fn errors(&self) -> &DistinctLog<FeedError> {
        &self.log
    }

    pub fn log_lost(&self) -> u64 {
        self.log.lost
    }

    /// Reads and stages one message, unless the next one is not due yet.
    fn read_one(&mut self, now: Nanos) -> Read {
        let line = self.reader.position() + 1;
        let record = match self.reader.next_record() {
            None => return Read::Ended,
            Some(Ok(record)) => record,
            Some(Err(Ok(kind))) => {
                self.counters.lines += 1;
                self.counters.bad_lines[line_error_index(kind)] += 1;
                let excerpt = self.reader.current();
                self.log.once(kind.kind(), now, "", line, excerpt);
                return Read::Message;
            }
            Some(Err(Err(e))) => {
                self.log.once(FeedError::ReadFailed, now, "", line, &[]);
                // The reason and where, for the run to report and fail on: a backtest that
                // silently ends early would look like a complete one.
                self.io_error = Some(io::Error::new(
                    e.kind(),
                    format!("{e} at line {line}; the rest of the input cannot be read"),
                ));
                return Read::Ended;
            }
        };
        // Ingress is when the raw message is in memory, as a live feed's is when the socket
        // read returns: reading and inflating the capture file is the replay's own cost, not
        // the engine's.
        let mut ingress = self.probe.stamp();
        if let Some(pace) = &mut self.pace {
            let (now0, rec0) = *pace.origin.get_or_insert((now, record.recv_ts));
            let recorded = record.recv_ts.saturating_sub(rec0).0 as u128;
            let due = now0.0 as u128 + recorded * 1000 / pace.speed_milli as u128;
            if (now.0 as u128) < due {
                self.reader.hold();
                return Read::NotDue;
            }
            // Read late: its latency counts from when it was due.
            let late = (now.0 as u128 - due).min(u64::MAX as u128) as u64;
            ingress = self.probe.stamp_back(Nanos(late));
        }
        self.counters.lines += 1;
        self.last_ingress = ingress;
        self.replay_time.advance(record.recv_ts);
        if let Some(journal) = &mut self.journal {
            journal.message(record.recv_ts, record.venue, record.kind, record.payload);
        }
        if record.kind == SourceKind::Send {
            self.counters.sends += 1;
            return Read::Message;
        }
        let Some(adapter) = self
            .sources
            .iter()
            .position(|&s| s == record.venue)
            .and_then(|n| self.adapters.get_mut(n))
        else {
            if self.other_sources.contains(&record.venue) {
                self.counters.other_feed += 1;
                return Read::Message;
            }
            self.counters.unknown_venue += 1;
            self.log
                .once(FeedError::NoAdapter, now, "", line, record.venue);
            return Read::Message;
        };
        let meta = EventMeta {
            instrument: Default::default(),
            recv_ts: record.recv_ts,
            ingress,
        };
        match adapter.on_frame(record.kind, record.payload, meta, &mut self.outbox) {
            Ok(_) => self.counters.messages += 1,
            Err(e) => e.count_and_log(
                &mut self.counters.bad_frames,
                &mut self.log,
                now,
                line,
                record.payload,
            ),
        }
        self.probe.record_since(ingress);
        Read::Message
    }
}

impl From<CaptureReader> for RecordedInput {
    fn from(reader: CaptureReader) -> RecordedInput {
        RecordedInput::Capture(reader)
    }
}

impl From<TardisInput> for RecordedInput {
    fn from(input: TardisInput) -> RecordedInput {
        RecordedInput::Tardis(input)
    }
}

impl From<JournalInput> for RecordedInput {
    fn from(input: JournalInput) -> RecordedInput {
        RecordedInput::Journal(input)
    }
}

fn owner(adapters: &[AnyAdapter], instrument: InstrumentId) -> Option<usize> {
    adapters.iter().rposition(|a| a.get().owns(instrument))
}

fn line_error_index(kind: LineError) -> usize {
    match kind {
        LineError::FieldCount => 0,
        LineError::Timestamp => 1,
        LineError::Source => 2,
        LineError::TooLong => 3,
        LineError::Row => 4,
    }
}

impl Stage for CaptureFeed {
    fn name(&self) -> &'static str {
        "feed"
    }

    fn do_work(&mut self, now: Nanos) -> usize {
        let mut pushed = self.outbox.drain_into(&mut self.ring);
        let mut work = pushed;
        if self.outbox.is_drained() {
            let requests = self.take_resync_requests();
            if requests > 0 {
                let stale_marks = self.outbox.drain_into(&mut self.ring);
                pushed += stale_marks;
                work += requests + stale_marks;
            }
        }
        self.counters.events += pushed as u64;
        for _ in 0..MESSAGES_PER_CALL {
            if !self.outbox.is_drained() || self.intake != Intake::Open {
                break;
            }
            match self.read_one(now) {
                Read::Message => {}
                Read::NotDue => break,
                Read::Ended => {
                    self.intake = Intake::Ended;
                    break;
                }
            }
            let pushed = self.outbox.drain_into(&mut self.ring);
            self.counters.events += pushed as u64;
            work += 1 + pushed;
        }
        work
    }

    fn stop_intake(&mut self) {
        if self.intake == Intake::Open {
            self.intake = Intake::Stopped;
        }
    }

    fn intake_done(&self) -> bool {
        self.intake != Intake::Open && self.outbox.is_drained()
    }

    fn report(&self, out: MetricSink<'_>) {
        let mut scoped = |m| self.scope.relabel(m).into_iter().for_each(&mut *out);
        let out: MetricSink<'_> = &mut scoped;
        let c = &self.counters;
        out(FeedCounter::Messages.count(MetricLabel::None, c.messages));
        if let Some(journal) = &self.journal {
            report_journal("input", &journal.counters, out);
        }
        let refused = c.bad_lines_total() + c.bad_frames_total() + c.unknown_venue;
        out(FeedCounter::BadFrames.count(MetricLabel::None, refused));
        // An instrument's metrics come from the adapter that keeps its book only: an added
        // venue's adapter may own an instrument a built-in one also claims.
        for (n, adapter) in self.adapters.iter().enumerate() {
            adapter.get().report(&mut |m: Metric| match m.label {
                MetricLabel::Instrument(id) if self.owner(id) != Some(n) => {}
                _ => out(m),
            });
        }
    }
}
