//! The capture as the venue plays it: `binance:ws` frames and the `binance:rest:` depth
//! snapshots that tell the venue each book; for an in-band venue (OKX, Kraken, Bybit) its `:ws`
//! frames, whose first book snapshot of a symbol tells the venue that book.
//!
//! A symbol's frames stream from its first REST snapshot on: before it the venue does not know
//! that book. Depth diffs seen before the snapshot are not streamed, but those that end after
//! the snapshot's `lastUpdateId` are applied to it (Binance's bridging rule), because the
//! recorder saw them before its snapshot arrived; the streamed diffs then continue exactly
//! where the book stands. Streams without a symbol (`!ticker@arr`) start with the first
//! snapshot of any symbol. Streamed frames are numbered from 0: faults refer to these indices.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use pulse_feeds::capture::{query_param, CaptureReader, SourceKind};
use tungstenite::{Bytes, Utf8Bytes};

use crate::book::{DepthDiff, TrueBook};
use crate::inband::{self, BookPush, InBandFrame, Precision};
use crate::protocol::Protocol;

/// Where an in-band venue's sequence of a book starts (OKX's `seqId`; the bundled 2022 capture
/// predates it, so the venue numbers pushes itself): well above 1, where `seq-reset` restarts it.
const FIRST_SEQ_ID: u64 = 1_000;

/// Diffs kept per symbol while waiting for its snapshot: the last ones are the ones that matter.
const MAX_PENDING_DIFFS: usize = 10_000;

/// One streamed WebSocket frame, shared by every connection that sends it.
#[derive(Debug)]
pub(crate) struct Frame {
    /// Position in the timeline, from 0.
    pub index: u64,
    /// Receive time in the capture (ns), for pacing.
    pub recv_ts: u64,
    /// Stream name (`btcusdt@depth@100ms`), what clients subscribe to.
    pub stream: String,
    /// The frame as recorded: `{"stream":...,"data":...}`, sent on combined streams.
    pub combined: Utf8Bytes,
    /// Its `data` payload alone, byte-exact, sent on raw streams (`/ws`).
    pub raw: Utf8Bytes,
    /// An in-band book's first snapshot as captured, sent to the connections that subscribed
    /// the book before the venue knew it (one that got a snapshot rendered already skips it).
    pub announce: bool,
}

/// What the market thread does next.
#[derive(Debug)]
pub(crate) enum Step {
    /// A symbol's book becomes known (its first REST snapshot, bridged; or its first in-band
    /// snapshot).
    Snapshot {
        symbol: String,
        book: TrueBook,
        /// An in-band venue's snapshot as captured, for clients that subscribed the book before
        /// the venue knew it (it takes no timeline index: no fault applies to it).
        announce: Option<Frame>,
    },
    /// A frame to stream, with what it changes in a book if it is a book's.
    Frame {
        frame: Frame,
        change: Option<Change>,
    },
    /// Kraken's `instrument` snapshot: its text (served on subscription) and the decimals.
    Instruments {
        text: Utf8Bytes,
        pairs: Vec<(String, Precision)>,
    },
}

/// What a streamed frame changes in its book.
#[derive(Debug)]
pub(crate) enum Change {
    /// Binance's diff, by update ids.
    Depth(DepthDiff),
    /// An in-band venue's push: an update, or a later snapshot that replaces the book.
    Push(BookPush),
}

/// Lines of the capture the venue did not stream, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimelineStats {
    /// Frames of a symbol before its first snapshot.
    pub skipped_before_snapshot: u64,
    /// Lines the venue cannot serve: malformed, another venue, not a combined-stream frame.
    pub unusable_lines: u64,
    /// Depth frames streamed but not applied to the book because their levels are invalid.
    pub bad_diffs: u64,
    /// Binance: REST snapshots after a symbol's first (the venue keeps its own book). In-band
    /// venues: book snapshots after a symbol's first, streamed and replacing the venue's book.
    pub later_snapshots: u64,
}

pub(crate) struct Timeline {
    reader: CaptureReader,
    protocol: Protocol,
    /// Kraken: the depth the recorder subscribed its books at (its reply says), which the
    /// venue keeps its books at.
    pub book_depth: Option<usize>,
    started: HashSet<String>,
    /// Bybit: each book's last captured `u`, to tell the recording's own gaps, and the books
    /// whose deltas are held from a gap to their next snapshot.
    captured_u: HashMap<String, u64>,
    held: HashSet<String>,
    /// Coinbase: the recording's last `sequence_num`, the gaps in it (each holds every book's
    /// updates until that book's next snapshot) and the messages it recorded twice (not played).
    captured_seq: Option<u64>,
    pub seq_gaps: u64,
    pub seq_duplicates: u64,
    pending: HashMap<String, VecDeque<DepthDiff>>,
    next_index: u64,
    pub stats: TimelineStats,
}

impl Timeline {
    pub fn open(path: &Path, protocol: Protocol) -> anyhow::Result<Timeline> {
        let reader = CaptureReader::open(path)
            .with_context(|| format!("cannot open capture {}", path.display()))?;
        Ok(Timeline::from_reader(reader, protocol))
    }

    pub fn from_reader(reader: CaptureReader, protocol: Protocol) -> Timeline {
        Timeline {
            reader,
            protocol,
            book_depth: None,
            started: HashSet::new(),
            captured_u: HashMap::new(),
            held: HashSet::new(),
            captured_seq: None,
            seq_gaps: 0,
            seq_duplicates: 0,
            pending: HashMap::new(),
            next_index: 0,
            stats: TimelineStats::default(),
        }
    }

    /// The next step, `None` at the end of the capture. Errors are I/O errors only.
    pub fn next_step(&mut self) -> anyhow::Result<Option<Step>> {
        loop {
            let record = match self.reader.next_record() {
                None => return Ok(None),
                Some(Err(Err(e))) => {
                    return Err(e).with_context(|| {
                        format!("reading the capture at line {}", self.reader.line_no() + 1)
                    })
                }
                Some(Err(Ok(_))) => {
                    self.stats.unusable_lines += 1;
                    continue;
                }
                Some(Ok(record)) => record,
            };
            if record.venue != self.protocol.source().as_bytes() {
                self.stats.unusable_lines += 1;
                continue;
            }
            if self.protocol != Protocol::Binance {
                if record.kind == SourceKind::Ws {
                    let (ts, payload) = (record.recv_ts.0, record.payload.to_vec());
                    if let Some(step) = self.inband_frame(ts, payload) {
                        return Ok(Some(step));
                    }
                }
                continue;
            }
            let step = match record.kind {
                SourceKind::Send => continue,
                SourceKind::Rest { path } => {
                    let symbol = depth_symbol(path);
                    let payload = record.payload.to_vec();
                    symbol.and_then(|s| self.snapshot(s, &payload))
                }
                SourceKind::Ws => {
                    let (ts, payload) = (record.recv_ts.0, record.payload.to_vec());
                    self.frame(ts, payload)
                }
            };
            if let Some(step) = step {
                return Ok(Some(step));
            }
        }
    }

    fn snapshot(&mut self, symbol: String, body: &[u8]) -> Option<Step> {
        if self.started.contains(&symbol) {
            self.stats.later_snapshots += 1;
            return None;
        }
        let Ok(mut book) = TrueBook::from_snapshot(body) else {
            self.stats.unusable_lines += 1;
            return None;
        };
        for diff in self.pending.remove(&symbol).unwrap_or_default() {
            book.apply(&diff);
        }
        self.started.insert(symbol.clone());
        Some(Step::Snapshot {
            symbol,
            book,
            announce: None,
        })
    }

    fn frame(&mut self, recv_ts: u64, payload: Vec<u8>) -> Option<Step> {
        let Ok(text) = String::from_utf8(payload) else {
            self.stats.unusable_lines += 1;
            return None;
        };
        let Some((stream, data)) = split_envelope(&text) else {
            self.stats.unusable_lines += 1;
            return None;
        };
        let stream = stream.to_string();
        let diff = if stream.contains("@depth") {
            match DepthDiff::parse(&text.as_bytes()[data.clone()]) {
                Ok(diff) => diff,
                Err(_) => {
                    self.stats.bad_diffs += 1;
                    None
                }
            }
        } else {
            None
        };
        let symbol = stream_symbol(&stream);
        let started = match &symbol {
            Some(symbol) => self.started.contains(symbol),
            None => !self.started.is_empty(),
        };
        if !started {
            self.stats.skipped_before_snapshot += 1;
            if let (Some(symbol), Some(diff)) = (symbol, diff) {
                let pending = self.pending.entry(symbol).or_default();
                if pending.len() == MAX_PENDING_DIFFS {
                    pending.pop_front();
                }
                pending.push_back(diff);
            }
            return None;
        }
        let bytes = Bytes::from(text);
        let (Ok(combined), Ok(raw)) = (
            Utf8Bytes::try_from(bytes.clone()),
            Utf8Bytes::try_from(bytes.slice(data)),
        ) else {
            self.stats.unusable_lines += 1;
            return None;
        };
        let index = self.next_index;
        self.next_index += 1;
        let frame = Frame {
            index,
            recv_ts,
            stream,
            combined,
            raw,
            announce: false,
        };
        Some(Step::Frame {
            frame,
            change: diff.map(Change::Depth),
        })
    }

    /// An in-band venue's frame: a symbol's first book snapshot makes its book known; its
    /// later pushes, and other channels' of a known symbol, are streamed.
    fn inband_frame(&mut self, recv_ts: u64, payload: Vec<u8>) -> Option<Step> {
        let Ok(text) = String::from_utf8(payload) else {
            self.stats.unusable_lines += 1;
            return None;
        };
        if self.protocol == Protocol::Coinbase && !self.coinbase_sequence(&text) {
            return None;
        }
        let Ok(frame) = inband::classify(self.protocol, &text) else {
            self.stats.unusable_lines += 1;
            return None;
        };
        let (key, symbol, change) = match frame {
            InBandFrame::Control => return None,
            InBandFrame::BookDepth(depth) => {
                self.book_depth = Some(depth);
                return None;
            }
            InBandFrame::Instruments(pairs) => {
                let text = Utf8Bytes::from(text);
                return Some(Step::Instruments { text, pairs });
            }
            InBandFrame::Book(mut push) => {
                let symbol = push.symbol.to_ascii_uppercase();
                if !self.started.contains(&symbol) {
                    if !push.snapshot {
                        self.stats.skipped_before_snapshot += 1;
                        return None;
                    }
                    let key = inband::push_key(self.protocol, &push);
                    // Bybit's book starts at its captured `u`, which its snapshot says.
                    let (first_id, depth) = match push.bybit {
                        Some(b) => {
                            self.captured_u.insert(symbol.clone(), b.u);
                            (b.u, Some(b.depth))
                        }
                        None => (FIRST_SEQ_ID, self.book_depth),
                    };
                    let mut book = TrueBook::from_levels(first_id, push.bids, push.asks);
                    if let Some(depth) = depth {
                        book.truncate(depth);
                    }
                    self.started.insert(symbol.clone());
                    let text = Utf8Bytes::from(text);
                    let announce = Frame {
                        index: self.next_index,
                        recv_ts,
                        stream: key,
                        combined: text.clone(),
                        raw: text,
                        announce: true,
                    };
                    return Some(Step::Snapshot {
                        symbol,
                        book,
                        announce: Some(announce),
                    });
                }
                if push.snapshot {
                    self.stats.later_snapshots += 1;
                }
                if let Some(b) = &mut push.bybit {
                    if let Some(prev) = self.captured_u.insert(symbol.clone(), b.u) {
                        b.capture_gap = !push.snapshot && prev.checked_add(1) != Some(b.u);
                        b.repeat = push.snapshot && b.depth == 1 && prev == b.u;
                    }
                    if push.snapshot {
                        self.held.remove(&symbol);
                    } else if b.capture_gap {
                        self.held.insert(symbol.clone());
                    }
                    b.held = !push.snapshot && self.held.contains(&symbol);
                }
                if self.protocol == Protocol::Coinbase {
                    if push.snapshot {
                        self.held.remove(&symbol);
                    }
                    push.held = !push.snapshot && self.held.contains(&symbol);
                }
                let key = inband::push_key(self.protocol, &push);
                (key, Some(symbol), Some(Change::Push(push)))
            }
            InBandFrame::Stream { key, symbol } => {
                (key, symbol.map(|s| s.to_ascii_uppercase()), None)
            }
        };
        let started = match &symbol {
            Some(symbol) => self.started.contains(symbol),
            None => !self.started.is_empty(),
        };
        if !started {
            self.stats.skipped_before_snapshot += 1;
            return None;
        }
        let text = Utf8Bytes::from(text);
        let index = self.next_index;
        self.next_index += 1;
        let frame = Frame {
            index,
            recv_ts,
            stream: key,
            combined: text.clone(),
            raw: text,
            announce: false,
        };
        Some(Step::Frame { frame, change })
    }
}

impl Timeline {
    /// Coinbase: follows the recording's `sequence_num`; `false` for a message recorded twice
    /// (not played). A skipped number holds every known book's updates.
    fn coinbase_sequence(&mut self, text: &str) -> bool {
        let Some(seq) = crate::coinbase::captured_sequence(text) else {
            return true;
        };
        match self.captured_seq {
            // A new connection in the recording starts again at 0.
            Some(last) if seq != 0 && seq <= last => {
                self.seq_duplicates += 1;
                return false;
            }
            Some(last) if seq > last + 1 => {
                self.seq_gaps += 1;
                self.held.extend(self.started.iter().cloned());
            }
            _ => {}
        }
        self.captured_seq = Some(seq);
        true
    }
}

/// The symbol of a REST depth request (`/api/v3/depth?symbol=BTCUSDT&limit=1000`).
fn depth_symbol(path: &[u8]) -> Option<String> {
    let route = path.split(|&b| b == b'?').next()?;
    if route != b"/api/v3/depth" {
        return None;
    }
    let symbol = std::str::from_utf8(query_param(path, b"symbol")?).ok()?;
    (!symbol.is_empty()).then(|| symbol.to_ascii_uppercase())
}

/// Splits Binance's combined-stream envelope, exactly as Binance serializes it:
/// `{"stream":"<name>","data":<payload>}`. Returns the name and the payload's byte range.
pub(crate) fn split_envelope(frame: &str) -> Option<(&str, Range<usize>)> {
    let rest = frame.strip_prefix("{\"stream\":\"")?;
    let name_end = rest.find('"')?;
    let stream = &rest[..name_end];
    let data = rest[name_end..].strip_prefix("\",\"data\":")?;
    let start = frame.len() - data.len();
    let end = frame.len().checked_sub(1)?;
    let valid = !stream.is_empty() && !stream.contains('\\') && frame.ends_with('}');
    (valid && start < end).then_some((stream, start..end))
}

/// `btcusdt@depth@100ms` → `BTCUSDT`; `None` for streams of no single symbol (`!ticker@arr`).
pub(crate) fn stream_symbol(stream: &str) -> Option<String> {
    let (symbol, _) = stream.split_once('@')?;
    let plain = !symbol.is_empty() && symbol.bytes().all(|b| b.is_ascii_alphanumeric());
    plain.then(|| symbol.to_ascii_uppercase())
}

#[cfg(test)]
mod tests;
