//! The book stage: applies venue-neutral book batches from the feeds, publishes the top of the
//! book downstream at every commit, and checks the rebuilt book against the venue's own tickers.
//!
//! A `bookTicker` with update id `u` is the venue's best bid/ask after the diff whose final id is
//! `u`. Tickers usually arrive before that diff (diffs are batched every 100 ms), so the last
//! few are kept in a small fixed table and matched at each commit.
//!
//! A commit that leaves a book crossed marks it [`BookState::Crossed`] and sends a
//! [`ResyncRequest`] for that instrument back to the feed on the control ring; the book stays
//! `Crossed` (never traded on) until the feed resets it from a new snapshot. If the control ring
//! is full, the request is retried at the next commit, and each failed try is counted.

use crate::book::{Apply, BookSpec, L2Book, Level};
use crate::counters::BookCounter;
use crate::event::{
    BookState, BookTop, EventMeta, LevelBatch, MarketEvent, MdEvent, ResyncRequest, TickerEvent,
};
use crate::instrument::InstrumentRegistry;
use crate::latency::LatencyProbe;
use crate::metrics::{MetricLabel, MetricSink, Report};
use crate::num::{InstrumentId, Nanos};
use crate::scenario::{Scenario, ScenarioState};
use crate::stage::Stage;

/// Events drained per `do_work` call at most from each feed's ring: a budget of its own, so
/// that a busy feed never starves the ones drained after it.
const EVENTS_PER_CALL: usize = 1024;
/// Tickers remembered per instrument while their diff is still on its way.
const PENDING_TICKERS: usize = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookCounters {
    pub levels: u64,
    pub commits: u64,
    pub resets: u64,
    pub stale_marks: u64,
    /// Commits that left the book crossed.
    pub crossed: u64,
    /// Resync requests sent to the feed (one per crossing, until the book is reset).
    pub resync_requests: u64,
    /// Commits at which a resync request found the control ring full (or absent): retried at
    /// the next commit.
    pub control_full: u64,
    /// Levels beyond the book's capacity (dropped far levels).
    pub truncated: u64,
    pub evicted: u64,
    /// Deletes of levels the book did not hold (normal after truncation; counted).
    pub removed_absent: u64,
    /// Levels with a negative quantity or non-positive price: ignored.
    pub invalid: u64,
    pub trades: u64,
    pub ticker_ok: u64,
    pub ticker_mismatch: u64,
    /// Tickers received (most name an update id inside a diff batch and cannot be checked).
    pub tickers: u64,
}

/// Where a crossed book's resync stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resync {
    NotNeeded,
    /// Crossed at this commit; the request is not on the control ring yet.
    Pending {
        update_id: u64,
    },
    /// The request is with the feed; the book stays crossed until its reset.
    Requested,
}

struct InstrumentBook {
    book: L2Book,
    state: BookState,
    update_id: u64,
    resync: Resync,
    /// Tickers ahead of the book, oldest first: a ring of `pending_len` from `pending_head`.
    /// Binance's `bookTicker` update ids only grow, so the oldest is always the next due and a
    /// commit looks at the front alone instead of every slot.
    pending: [Option<TickerEvent>; PENDING_TICKERS],
    pending_head: usize,
    pending_len: usize,
    counters: BookCounters,
}

pub struct BookStage {
    input: rtrb::Consumer<MdEvent>,
    /// The rings of the second and later feeds, drained after `input` in this fixed order.
    more_inputs: Vec<rtrb::Consumer<MdEvent>>,
    core: Books,
}

/// Everything but the input ring, so that events are applied where they lie in the ring,
/// borrowed from it rather than copied out one by one.
struct Books {
    outputs: Vec<rtrb::Producer<MarketEvent>>,
    /// The control ring of each feed, by feed: resync requests go to the feed of their book.
    controls: Vec<rtrb::Producer<ResyncRequest>>,
    /// By instrument: the index in `controls` of the feed that keeps its book (empty: the
    /// first feed keeps every book).
    feed_of: Vec<u8>,
    books: Vec<InstrumentBook>,
    probe: LatencyProbe,
    /// A backtest's stress scenario, applied to everything published (none live).
    scenario: Option<Box<ScenarioState>>,
}

impl BookStage {
    /// One book per instrument of `instruments`, in id order, each laid out on its
    /// instrument's tick with at most `levels_per_side` levels per side, or its venue's whole
    /// book where the venue sends that ([`Venue::whole_book_levels`](crate::instrument::Venue::whole_book_levels)).
    pub fn new(
        instruments: &InstrumentRegistry,
        levels_per_side: usize,
        input: rtrb::Consumer<MdEvent>,
        outputs: Vec<rtrb::Producer<MarketEvent>>,
        probe: LatencyProbe,
    ) -> BookStage {
        let books = instruments
            .iter()
            .map(|instrument| InstrumentBook {
                book: L2Book::new(BookSpec::new(
                    instrument.tick,
                    levels_per_side.max(instrument.venue.whole_book_levels()),
                )),
                state: BookState::Stale,
                update_id: 0,
                resync: Resync::NotNeeded,
                pending: [None; PENDING_TICKERS],
                pending_head: 0,
                pending_len: 0,
                counters: BookCounters::default(),
            })
            .collect();
        BookStage {
            input,
            more_inputs: Vec::new(),
            core: Books {
                outputs,
                controls: Vec::new(),
                feed_of: Vec::new(),
                books,
                probe,
                scenario: None,
            },
        }
    }

    /// Publishes every event through `scenario` (a backtest's stress test): the strategy, risk
    /// and the simulated venue all meet the changed market.
    pub fn with_scenario(mut self, scenario: Scenario) -> BookStage {
        if !scenario.is_identity() {
            let n = self.core.books.len();
            self.core.scenario = Some(Box::new(ScenarioState::new(scenario, n)));
        }
        self
    }

    /// Sends resync requests for crossed books to the feed on `control`. Without it a crossed
    /// book stays `Crossed` and every commit counts a failed request.
    pub fn with_control(mut self, control: rtrb::Producer<ResyncRequest>) -> BookStage {
        self.core.controls = vec![control];
        self
    }

    /// Takes the events of one more feed from `input` (drained after the rings before it, in
    /// the order they were added, each with a budget of its own per call) and sends the resync requests of its books to `control`.
    /// `feed_of` gives, by instrument, the feed that keeps its book: 0 is the first (the ring
    /// given to [`BookStage::new`] and [`BookStage::with_control`]), 1 the first added here.
    pub fn with_feed(
        mut self,
        input: rtrb::Consumer<MdEvent>,
        control: rtrb::Producer<ResyncRequest>,
        feed_of: &[u8],
    ) -> BookStage {
        self.more_inputs.push(input);
        self.core.controls.push(control);
        self.core.feed_of = feed_of.to_vec();
        self
    }

    pub fn counters(&self, instrument: usize) -> Option<&BookCounters> {
        self.core.books.get(instrument).map(|b| &b.counters)
    }

    pub fn book(&self, instrument: usize) -> Option<&L2Book> {
        self.core.books.get(instrument).map(|b| &b.book)
    }

    pub fn state(&self, instrument: usize) -> Option<BookState> {
        self.core.books.get(instrument).map(|b| b.state)
    }
}

impl Books {
    fn publish(&mut self, mut event: MarketEvent) {
        if let Some(scenario) = &mut self.scenario {
            if !scenario.apply(&mut event) {
                return;
            }
        }
        for out in &mut self.outputs {
            // Room was checked before the input event was taken.
            let _ = out.push(event);
        }
    }

    fn on_event(&mut self, event: &MdEvent) {
        match *event {
            MdEvent::Levels { .. } => {
                let Some((instrument, n, levels)) = LevelBatch::read(event) else {
                    return;
                };
                let Some(b) = self.books.get_mut(instrument.0 as usize) else {
                    return;
                };
                b.counters.levels += n as u64;
                for (side, px, qty) in levels {
                    match b.book.apply(side, px, qty) {
                        Apply::Inserted | Apply::Updated | Apply::Removed => {}
                        Apply::RemovedAbsent => b.counters.removed_absent += 1,
                        Apply::Evicted => b.counters.evicted += 1,
                        Apply::Truncated => b.counters.truncated += 1,
                        Apply::Invalid => b.counters.invalid += 1,
                    }
                }
            }
            MdEvent::BookReset { meta } => {
                if let Some(b) = self.books.get_mut(meta.instrument.0 as usize) {
                    b.book.clear();
                    b.state = BookState::Stale;
                    b.resync = Resync::NotNeeded;
                    b.counters.resets += 1;
                }
            }
            MdEvent::BookCommit { meta, update_id } => {
                let Some(b) = self.books.get_mut(meta.instrument.0 as usize) else {
                    return;
                };
                b.update_id = update_id;
                b.counters.commits += 1;
                if b.book.is_crossed() {
                    b.counters.crossed += 1;
                    if b.resync == Resync::NotNeeded {
                        b.resync = Resync::Pending { update_id };
                    }
                }
                if let Resync::Pending { update_id } = b.resync {
                    let request = ResyncRequest {
                        instrument: meta.instrument,
                        update_id,
                    };
                    let feed = self.feed_of.get(meta.instrument.0 as usize).copied();
                    let control = self.controls.get_mut(usize::from(feed.unwrap_or(0)));
                    match control.map(|c| c.push(request)) {
                        Some(Ok(())) => {
                            b.resync = Resync::Requested;
                            b.counters.resync_requests += 1;
                        }
                        _ => b.counters.control_full += 1,
                    }
                }
                b.state = if b.resync == Resync::NotNeeded {
                    BookState::Live
                } else {
                    BookState::Crossed
                };
                b.check_pending_tickers();
                let top = b.top(meta);
                self.publish(MarketEvent::Book(top));
                self.probe.record_since(meta.ingress);
            }
            MdEvent::BookStale { meta, .. } => {
                let Some(b) = self.books.get_mut(meta.instrument.0 as usize) else {
                    return;
                };
                b.state = BookState::Stale;
                b.counters.stale_marks += 1;
                self.publish(MarketEvent::Book(BookTop::empty(meta, BookState::Stale)));
            }
            MdEvent::Trade(trade) => {
                if let Some(b) = self.books.get_mut(trade.meta.instrument.0 as usize) {
                    b.counters.trades += 1;
                }
                self.publish(MarketEvent::Trade(trade));
                self.probe.record_since(trade.meta.ingress);
            }
            MdEvent::Ticker(ticker) => {
                if let Some(b) = self.books.get_mut(ticker.meta.instrument.0 as usize) {
                    b.on_ticker(ticker);
                }
            }
        }
    }
}

impl InstrumentBook {
    fn top(&self, meta: EventMeta) -> BookTop {
        let mut top = BookTop::empty(meta, self.state);
        top.update_id = self.update_id;
        top.bid_levels = self.book.top(crate::num::Side::Buy, &mut top.bids) as u8;
        top.ask_levels = self.book.top(crate::num::Side::Sell, &mut top.asks) as u8;
        top
    }

    fn on_ticker(&mut self, ticker: TickerEvent) {
        self.counters.tickers += 1;
        if ticker.update_id == self.update_id && self.state != BookState::Stale {
            self.check(ticker);
        } else if ticker.update_id > self.update_id {
            if self.pending_len == PENDING_TICKERS {
                // Full: the oldest goes, as it would have been overwritten.
                self.pending_head = (self.pending_head + 1) % PENDING_TICKERS;
                self.pending_len -= 1;
            }
            self.pending[(self.pending_head + self.pending_len) % PENDING_TICKERS] = Some(ticker);
            self.pending_len += 1;
        }
    }

    /// At a commit: checks the pending tickers of this update id, drops the older ones.
    fn check_pending_tickers(&mut self) {
        while self.pending_len > 0 {
            let Some(t) = self.pending[self.pending_head] else {
                break;
            };
            if t.update_id > self.update_id {
                break;
            }
            self.pending[self.pending_head] = None;
            self.pending_head = (self.pending_head + 1) % PENDING_TICKERS;
            self.pending_len -= 1;
            if t.update_id == self.update_id {
                self.check(t);
            }
        }
    }

    fn check(&mut self, ticker: TickerEvent) {
        let same = |book: Option<Level>, venue: Level| book == Some(venue);
        if same(self.book.best_bid(), ticker.bid) && same(self.book.best_ask(), ticker.ask) {
            self.counters.ticker_ok += 1;
        } else {
            self.counters.ticker_mismatch += 1;
        }
    }
}

/// Applies up to `max` events of `input`.
fn drain(input: &mut rtrb::Consumer<MdEvent>, core: &mut Books, max: usize) -> usize {
    // Backpressure: an event makes at most one event per output, so take no more than every
    // output has room for.
    let room = core.outputs.iter().map(|o| o.slots()).min();
    let n = input.slots().min(room.unwrap_or(usize::MAX)).min(max);
    let Ok(chunk) = input.read_chunk(n) else {
        return 0;
    };
    let (first, second) = chunk.as_slices();
    for event in first.iter().chain(second) {
        core.on_event(event);
    }
    chunk.commit_all();
    n
}

impl Stage for BookStage {
    fn name(&self) -> &'static str {
        "book"
    }

    fn do_work(&mut self, _now: Nanos) -> usize {
        let mut work = drain(&mut self.input, &mut self.core, EVENTS_PER_CALL);
        for input in &mut self.more_inputs {
            work += drain(input, &mut self.core, EVENTS_PER_CALL);
        }
        work
    }

    fn report(&self, out: MetricSink<'_>) {
        for (i, b) in self.core.books.iter().enumerate() {
            let label = MetricLabel::Instrument(InstrumentId(i as u16));
            let c = &b.counters;
            out(BookCounter::Updates.count(label, c.commits));
            out(BookCounter::Crossed.count(label, c.crossed));
            out(BookCounter::TickerChecks.count(label, c.ticker_ok + c.ticker_mismatch));
            out(BookCounter::TickerMismatches.count(label, c.ticker_mismatch));
            out(BookCounter::Stale.gauge(label, i64::from(b.state != BookState::Live)));
        }
    }
}
