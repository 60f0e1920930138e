//! The market thread: plays the timeline at the configured pace, keeps the true books, applies
//! the faults and hands frames to the connections.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::Utf8Bytes;

use crate::book::{Applied, TrueBook};
use crate::bybit;
use crate::fault::{FaultPlan, FaultsAt};
use crate::hub::Outgoing;
use crate::inband::BookPush;
use crate::inband_render::{with_sequence, with_wrong_checksum};
use crate::protocol::Protocol;
use crate::shared::Shared;
use crate::timeline::{Change, Frame, Step, Timeline};

/// Longest single sleep, so that a stop request is seen promptly.
const SLEEP_SLICE: Duration = Duration::from_millis(10);

pub(crate) struct Market {
    pub timeline: Timeline,
    /// The first frame, already read while the venue started.
    pub first: Option<Step>,
    pub faults: FaultPlan,
    pub speed_milli: u64,
    pub wait_for_client: bool,
}

impl Market {
    pub fn run(mut self, shared: Arc<Shared>) {
        if self.wait_for_client {
            while !shared.hub.has_subscriber() {
                if shared.stopping() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let mut pace = Pace {
            speed_milli: self.speed_milli,
            origin: Instant::now(),
            first_ts: None,
        };
        let mut next = self.first.take();
        while let Some(step) = next {
            if shared.stopping() {
                return;
            }
            match step {
                Step::Snapshot {
                    symbol,
                    book,
                    announce,
                } => {
                    let seq = book.last_update_id();
                    // Only a symbol's first snapshot counts: the venue keeps its own book.
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        shared.books().entry(symbol)
                    {
                        shared.with_exchange(|ex| ex.on_snapshot(slot.key(), &book));
                        slot.insert(book);
                    }
                    if let Some(mut frame) = announce {
                        if shared.protocol == Protocol::Okx {
                            let text = with_sequence(frame.raw.as_str(), seq as i64, -1);
                            frame.raw = Utf8Bytes::from(text);
                            frame.combined = frame.raw.clone();
                        }
                        shared.dispatch(Outgoing::Frame(Arc::new(frame)));
                    }
                }
                Step::Frame { frame, change } => self.play(frame, change, &mut pace, &shared),
                Step::Instruments { text, pairs } => {
                    *shared.instruments() = Some((text, pairs.into_iter().collect()));
                }
            }
            next = match self.timeline.next_step() {
                Ok(step) => step,
                Err(e) => {
                    *shared.capture_error() = Some(format!("{e:#}"));
                    None
                }
            };
            shared.publish_timeline_stats(self.timeline.stats);
            if shared.protocol == Protocol::Coinbase {
                // Relaxed: a statistic, read on its own.
                shared
                    .capture_gaps
                    .store(self.timeline.seq_gaps, Ordering::Relaxed);
            }
        }
        // Release: pairs with `Venue::finished`; everything played is in the books.
        shared.finished.store(true, Ordering::Release);
    }

    /// One frame: wait until it is due, apply its faults and its diff, hand it out.
    fn play(&self, mut frame: Frame, change: Option<Change>, pace: &mut Pace, shared: &Shared) {
        pace.wait_for(frame.recv_ts, shared);
        let faults = self.faults.at(frame.index);
        if !faults.delay.is_zero() {
            pace.pause(faults.delay, shared);
        }
        let change_kind = change.as_ref().map(|c| matches!(c, Change::Push(_)));
        let mut held = false;
        match change {
            Some(Change::Depth(diff)) => {
                let symbol = frame_symbol(&frame.stream);
                if let Some(book) = shared.books().get_mut(&symbol) {
                    if book.apply(&diff) == Applied::AfterGap {
                        // Relaxed: a statistic, read on its own.
                        shared.capture_gaps.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some(Change::Push(push)) if push.held || push.bybit.is_some_and(|b| b.held) => {
                held = true;
                // Relaxed: statistics, each read on its own.
                shared.held_pushes.fetch_add(1, Ordering::Relaxed);
                if push.bybit.is_some_and(|b| b.capture_gap) {
                    shared.capture_gaps.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Change::Push(push)) => self.apply_push(&mut frame, push, faults, shared),
            None => {}
        }
        if held || !matches!(change_kind, Some(true)) {
            let what = if held {
                "a delta held after a gap in the recording"
            } else {
                "not a book push"
            };
            for fault in faults.book_faults() {
                // Cold: a fault the run asked for where it cannot apply.
                shared.misplaced_faults().push(format!(
                    "{fault}@{}: frame {} is a `{}` frame, {what}: not applied",
                    frame.index, frame.index, frame.stream
                ));
            }
        }
        // The order side trades on every frame, sent or dropped: the market moved.
        shared.with_exchange(|ex| ex.on_frame(frame.combined.as_bytes()));
        let index = frame.index;
        let frame = Arc::new(frame);
        if !faults.drop && !held {
            if faults.malformed {
                shared.dispatch(Outgoing::Garbage(Arc::clone(&frame)));
            }
            shared.dispatch(Outgoing::Frame(Arc::clone(&frame)));
            if faults.duplicate {
                shared.dispatch(Outgoing::Again(frame));
            }
        } else if faults.drop && !held {
            shared.dispatch(Outgoing::Skip(frame));
        }
        // Release: a reader of the count sees the book with this frame applied.
        shared.frames_played.store(index + 1, Ordering::Release);
        if !faults.silence.is_zero() {
            shared.dispatch(Outgoing::Silence(faults.silence));
            pace.pause(faults.silence, shared);
        }
        if faults.close {
            shared.dispatch(Outgoing::Close);
        }
    }
}

impl Market {
    /// An in-band venue's push: applied to the venue's book by its rules (Kraken, Bybit: cut to
    /// the depth kept; OKX, Bybit: numbered by the venue's own sequence, which `seq-reset` and
    /// `restart` restart), and the frame made to say so (a wrong checksum under the `checksum`
    /// fault; under `restart`, Bybit's snapshot of the book with `u == 1`).
    fn apply_push(&self, frame: &mut Frame, push: BookPush, faults: FaultsAt, shared: &Shared) {
        let symbol = push.symbol.to_ascii_uppercase();
        let mut books = shared.books();
        let Some(book) = books.get_mut(&symbol) else {
            return;
        };
        let prev = book.last_update_id();
        let bybit = push.bybit;
        let seq = match bybit {
            _ if faults.seq_reset || faults.restart => 1,
            // Bybit: a captured restart stays one; a depth-1 "no change" repeat keeps the `u`.
            Some(b) if push.snapshot && b.u == 1 => 1,
            Some(b) if b.repeat => prev,
            _ => prev + 1,
        };
        let snapshot = push.snapshot;
        if push.snapshot {
            *book = TrueBook::from_levels(seq, push.bids, push.asks);
        } else {
            book.set_levels(seq, push.bids, push.asks);
        }
        if let Some(depth) = bybit.map(|b| b.depth).or(self.timeline.book_depth) {
            book.truncate(depth);
        }
        book.mark_frame(frame.index);
        let mut text = match bybit {
            Some(b) if faults.restart => Some(bybit::snapshot(
                &frame.stream,
                &push.symbol,
                book,
                b.depth,
                seq,
            )),
            Some(_) => Some(bybit::with_update_id(frame.raw.as_str(), seq)),
            None => None,
        };
        drop(books);
        if shared.protocol == Protocol::Okx {
            let prev = if snapshot { -1 } else { prev as i64 };
            text = Some(with_sequence(frame.raw.as_str(), seq as i64, prev));
        }
        if faults.checksum {
            let current = text.as_deref().unwrap_or(frame.raw.as_str());
            text = Some(with_wrong_checksum(current));
        }
        if let Some(text) = text {
            frame.raw = Utf8Bytes::from(text);
            frame.combined = frame.raw.clone();
        }
    }
}

/// When frames are due: their recorded spacing scaled by the speed, from when play began.
struct Pace {
    speed_milli: u64,
    origin: Instant,
    first_ts: Option<u64>,
}

impl Pace {
    fn wait_for(&mut self, recv_ts: u64, shared: &Shared) {
        if self.speed_milli == 0 {
            return;
        }
        let ts0 = *self.first_ts.get_or_insert(recv_ts);
        let offset = u128::from(recv_ts.saturating_sub(ts0)) * 1000 / u128::from(self.speed_milli);
        let offset = Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX));
        sleep_until(self.origin + offset, shared);
    }

    /// A stall: sleep, and shift every later frame by as much.
    fn pause(&mut self, length: Duration, shared: &Shared) {
        sleep_until(Instant::now() + length, shared);
        self.origin += length;
    }
}

/// The book key of a stream's symbol (`btcusdt@depth@100ms` → `BTCUSDT`).
fn frame_symbol(stream: &str) -> String {
    stream
        .split_once('@')
        .map_or(stream, |(symbol, _)| symbol)
        .to_ascii_uppercase()
}

fn sleep_until(deadline: Instant, shared: &Shared) {
    loop {
        let now = Instant::now();
        if now >= deadline || shared.stopping() {
            return;
        }
        std::thread::sleep((deadline - now).min(SLEEP_SLICE));
    }
}
