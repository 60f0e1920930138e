//! The Tardis adapter: decodes the messages [`TardisInput`](crate::tardis::TardisInput) makes
//! of Tardis CSV rows (capture source `tardis`) into the normalized events every venue's
//! adapter stages, for instruments of any venue.
//!
//! Book sync, by Tardis's rules: a book is live from its first snapshot (a run of
//! `is_snapshot=true` rows, which clears the book first; a `book_snapshot_*` row, which is a
//! whole top-of-book); updates before it are dropped (counted). Tardis data carries no update
//! ids, so each commit is numbered by the adapter, 1 up per instrument. A book message that
//! cannot be decoded (an inexact price, a bad side) is refused and, since the book would miss
//! it, stales the book (a counted gap) until the next snapshot; so does the book stage's
//! resync request for a crossed book. Quotes become venue tickers of update id 0, counted and
//! never compared (they name no book state). Trades of an `unknown` taker side are counted and
//! skipped: a trade event names its aggressor.
//!
//! The adapter owns an instrument's book once a Tardis row of it has been read, so that beside
//! a venue's own adapter over the same instruments (the capture feed holds both) it takes the
//! resync requests and reports the sync counters only of the books Tardis data feeds.

use crate::capture::SourceKind;
use crate::decode_error::DecodeError;
use crate::event::{
    EventMeta, Level, LevelBatch, LevelUpdate, MdEvent, ResyncRequest, StaleReason, TickerEvent,
    TradeEvent,
};
use crate::instrument::{Instrument, InstrumentRegistry};
use crate::levels::stage_levels;
use crate::num::{parse_decimal, InstrumentId, Px, Qty, Side};
use crate::outbox::Outbox;
use crate::sync_counters::SyncCounters;
use crate::tardis::{
    venues_of, TardisKind, MAX_MESSAGE_ROWS, MAX_TRADES_PER_MESSAGE, ROW_SEPARATOR, SOURCE,
};
use crate::venue::{FrameVerdict, MarketAdapter};

#[derive(Clone, Debug, Default)]
struct TardisBook {
    /// A Tardis row of this instrument has been read: the book is this adapter's.
    seen: bool,
    /// Live: built from a snapshot and not stale since.
    synced: bool,
    /// The last book message was a run of snapshot rows: the next snapshot row continues it.
    in_snapshot: bool,
    /// Commits staged so far: the update id of the last.
    commits: u64,
    /// The commit of the last snapshot: a resync request older than it is out of date.
    snapshot_commit: u64,
    counters: SyncCounters,
}

pub struct TardisAdapter {
    registry: InstrumentRegistry,
    books: Vec<TardisBook>,
    levels: Vec<LevelUpdate>,
    /// Trades of an `unknown` taker side, skipped.
    pub unknown_side: u64,
    /// Quotes with an empty side, skipped.
    pub empty_quotes: u64,
}

/// A row's eight columns.
fn columns8(row: &[u8]) -> Result<[&[u8]; 8], DecodeError> {
    let mut out: [&[u8]; 8] = [&[]; 8];
    let mut fields = row.split(|&b| b == b',');
    for slot in &mut out {
        *slot = fields.next().ok_or(DecodeError::MissingField("columns"))?;
    }
    match fields.next() {
        Some(_) => Err(DecodeError::WrongType("columns")),
        None => Ok(out),
    }
}

fn price(text: &[u8], inst: &Instrument) -> Result<Px, DecodeError> {
    parse_decimal(text, inst.price_scale)
        .map(Px)
        .map_err(|e| DecodeError::Decimal("price", e))
}

fn amount(text: &[u8], inst: &Instrument) -> Result<Qty, DecodeError> {
    parse_decimal(text, inst.qty_scale)
        .map(Qty)
        .map_err(|e| DecodeError::Decimal("amount", e))
}

impl TardisAdapter {
    pub fn new(registry: InstrumentRegistry) -> TardisAdapter {
        TardisAdapter {
            books: vec![TardisBook::default(); registry.len()],
            registry,
            levels: Vec::with_capacity(MAX_MESSAGE_ROWS),
            unknown_side: 0,
            empty_quotes: 0,
        }
    }

    /// The instrument a message's first row names.
    fn instrument(&self, row: &[u8]) -> Result<InstrumentId, DecodeError> {
        let mut fields = row.split(|&b| b == b',');
        let (Some(exchange), Some(symbol)) = (fields.next(), fields.next()) else {
            return Err(DecodeError::MissingField("symbol"));
        };
        venues_of(exchange)
            .iter()
            .find_map(|&venue| self.registry.find(venue, symbol))
            .ok_or(DecodeError::UnknownSymbol)
    }

    /// Decodes one message and stages its events; `meta.instrument` is filled in here.
    pub fn on_message(
        &mut self,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<(), DecodeError> {
        let mut parts = payload.splitn(2, |&b| b == ROW_SEPARATOR);
        let kind = parts
            .next()
            .and_then(TardisKind::from_name)
            .ok_or(DecodeError::UnknownEvent)?;
        let rows = parts.next().ok_or(DecodeError::MissingField("rows"))?;
        let first = rows
            .split(|&b| b == ROW_SEPARATOR)
            .next()
            .unwrap_or_default();
        let instrument = self.instrument(first)?;
        // The exchange and symbol every row of the message must repeat.
        let prefix_len = first
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b',')
            .nth(1)
            .map_or(first.len(), |(i, _)| i + 1);
        let prefix = &first[..prefix_len];
        let n = instrument.0 as usize;
        let Some(inst) = self.registry.get(instrument) else {
            return Err(DecodeError::UnknownSymbol);
        };
        let meta = EventMeta { instrument, ..meta };
        let book = &mut self.books[n];
        book.seen = true;
        book.counters.messages += 1;
        let rows = rows.split(|&b| b == ROW_SEPARATOR);
        match kind {
            TardisKind::IncrementalBookL2 => {
                let decoded = decode_l2(rows, prefix, inst, &mut self.levels);
                let snapshot = match decoded {
                    Ok(snapshot) => snapshot,
                    Err(e) => {
                        if book.synced
                            && out.push(MdEvent::BookStale {
                                meta,
                                reason: StaleReason::Gap,
                            })
                        {
                            book.synced = false;
                            book.in_snapshot = false;
                            book.counters.gaps += 1;
                        }
                        return Err(e);
                    }
                };
                apply_l2(book, snapshot, &self.levels, meta, out)
            }
            TardisKind::BookSnapshot(depth) => {
                self.levels.clear();
                for row in rows {
                    check_prefix(row, prefix)?;
                    decode_snapshot_row(row, depth, inst, &mut self.levels)?;
                }
                stage_book(book, true, &self.levels, meta, out)?;
                book.in_snapshot = false;
                Ok(())
            }
            TardisKind::Trades => {
                for row in rows {
                    check_prefix(row, prefix)?;
                    let c = columns8(row)?;
                    let aggressor = match c[5] {
                        b"buy" => Side::Buy,
                        b"sell" => Side::Sell,
                        b"unknown" => {
                            self.unknown_side += 1;
                            continue;
                        }
                        _ => return Err(DecodeError::WrongType("side")),
                    };
                    let trade_id = std::str::from_utf8(c[4])
                        .ok()
                        .and_then(crate::bybit::codec::trade_id)
                        .unwrap_or(0);
                    let trade = TradeEvent {
                        meta,
                        trade_id,
                        px: price(c[6], inst)?,
                        qty: amount(c[7], inst)?,
                        aggressor,
                    };
                    if !out.push(MdEvent::Trade(trade)) {
                        return Err(DecodeError::TooManyLevels);
                    }
                }
                Ok(())
            }
            TardisKind::Quotes => {
                for row in rows {
                    check_prefix(row, prefix)?;
                    let c = columns8(row)?;
                    if c[4..8].iter().any(|f| f.is_empty()) {
                        self.empty_quotes += 1;
                        continue;
                    }
                    // Tardis quotes name no book update: update id 0 is never a commit's, so
                    // the book stage counts them without checking them.
                    let ticker = TickerEvent {
                        meta,
                        update_id: 0,
                        ask: Level {
                            qty: amount(c[4], inst)?,
                            px: price(c[5], inst)?,
                        },
                        bid: Level {
                            px: price(c[6], inst)?,
                            qty: amount(c[7], inst)?,
                        },
                    };
                    let _ = out.push(MdEvent::Ticker(ticker));
                }
                Ok(())
            }
        }
    }
}

fn check_prefix(row: &[u8], prefix: &[u8]) -> Result<(), DecodeError> {
    if row.starts_with(prefix) {
        Ok(())
    } else {
        Err(DecodeError::WrongType("symbol"))
    }
}

/// Decodes an `incremental_book_L2` message's rows into `levels`; whether they are snapshot
/// rows (every row of a message must say the same).
fn decode_l2<'a>(
    rows: impl Iterator<Item = &'a [u8]>,
    prefix: &[u8],
    inst: &Instrument,
    levels: &mut Vec<LevelUpdate>,
) -> Result<bool, DecodeError> {
    levels.clear();
    let mut snapshot = None;
    for row in rows {
        check_prefix(row, prefix)?;
        let c = columns8(row)?;
        let this = match c[4] {
            b"true" => true,
            b"false" => false,
            _ => return Err(DecodeError::WrongType("is_snapshot")),
        };
        if *snapshot.get_or_insert(this) != this {
            return Err(DecodeError::WrongType("is_snapshot"));
        }
        let side = match c[5] {
            b"bid" => Side::Buy,
            b"ask" => Side::Sell,
            _ => return Err(DecodeError::WrongType("side")),
        };
        if levels.len() == MAX_MESSAGE_ROWS {
            return Err(DecodeError::TooManyLevels);
        }
        levels.push(LevelUpdate {
            side,
            px: price(c[6], inst)?,
            qty: amount(c[7], inst)?,
        });
    }
    Ok(snapshot.unwrap_or(false))
}

/// Decodes one `book_snapshot_{depth}` row's levels into `levels` (empty columns: the book is
/// shallower there).
fn decode_snapshot_row(
    row: &[u8],
    depth: u8,
    inst: &Instrument,
    levels: &mut Vec<LevelUpdate>,
) -> Result<(), DecodeError> {
    let mut fields = row.split(|&b| b == b',').skip(4);
    for _ in 0..depth {
        for side in [Side::Sell, Side::Buy] {
            let (Some(px), Some(qty)) = (fields.next(), fields.next()) else {
                return Err(DecodeError::MissingField("columns"));
            };
            if px.is_empty() || qty.is_empty() {
                continue;
            }
            if levels.len() == MAX_MESSAGE_ROWS {
                return Err(DecodeError::TooManyLevels);
            }
            let (px, qty) = (price(px, inst)?, amount(qty, inst)?);
            levels.push(LevelUpdate { side, px, qty });
        }
    }
    match fields.next() {
        Some(_) => Err(DecodeError::WrongType("columns")),
        None => Ok(()),
    }
}

/// Applies a decoded `incremental_book_L2` message to `book`'s sync and stages it.
fn apply_l2(
    book: &mut TardisBook,
    snapshot: bool,
    levels: &[LevelUpdate],
    meta: EventMeta,
    out: &mut Outbox,
) -> Result<(), DecodeError> {
    if snapshot {
        let reset = !book.in_snapshot;
        book.in_snapshot = true;
        return stage_book(book, reset, levels, meta, out);
    }
    book.in_snapshot = false;
    book.counters.diffs += 1;
    if !book.synced {
        book.counters.dropped += 1;
        return Ok(());
    }
    stage_book(book, false, levels, meta, out)?;
    book.counters.applied += 1;
    Ok(())
}

/// Stages `levels` and a commit, after a reset when `reset` (a new snapshot).
fn stage_book(
    book: &mut TardisBook,
    reset: bool,
    levels: &[LevelUpdate],
    meta: EventMeta,
    out: &mut Outbox,
) -> Result<(), DecodeError> {
    if out.remaining() < LevelBatch::events_for(levels.len()) + 2 {
        return Err(DecodeError::TooManyLevels);
    }
    if reset {
        let _ = out.push(MdEvent::BookReset { meta });
        book.counters.snapshots += 1;
        if book.commits > 0 && !book.synced {
            book.counters.resyncs += 1;
        }
        book.synced = true;
        book.snapshot_commit = book.commits + 1;
    }
    let _ = stage_levels(meta.instrument, levels, out);
    book.commits += 1;
    book.counters.last_update_id = book.commits;
    let _ = out.push(MdEvent::BookCommit {
        meta,
        update_id: book.commits,
    });
    Ok(())
}

impl MarketAdapter for TardisAdapter {
    fn source(&self) -> &'static str {
        SOURCE
    }

    fn owns(&self, instrument: InstrumentId) -> bool {
        self.books
            .get(instrument.0 as usize)
            .is_some_and(|b| b.seen)
    }

    fn outbox_capacity(&self) -> usize {
        (LevelBatch::events_for(MAX_MESSAGE_ROWS) + 2).max(MAX_TRADES_PER_MESSAGE)
    }

    fn on_frame(
        &mut self,
        kind: SourceKind<'_>,
        payload: &[u8],
        meta: EventMeta,
        out: &mut Outbox,
    ) -> Result<FrameVerdict, DecodeError> {
        match kind {
            SourceKind::Ws => self.on_message(payload, meta, out)?,
            SourceKind::Send => {}
            SourceKind::Rest { .. } => return Err(DecodeError::UnknownEvent),
        }
        Ok(FrameVerdict::Ok)
    }

    fn on_resync_request(
        &mut self,
        request: ResyncRequest,
        meta: EventMeta,
        out: &mut Outbox,
    ) -> bool {
        let Some(book) = self.books.get_mut(request.instrument.0 as usize) else {
            return false;
        };
        let acted = book.seen
            && book.synced
            && request.update_id >= book.snapshot_commit
            && out.push(MdEvent::BookStale {
                meta,
                reason: StaleReason::Crossed,
            });
        if acted {
            book.synced = false;
            book.in_snapshot = false;
        }
        book.counters.count_request(acted)
    }

    fn force_resync(&mut self, meta: EventMeta, reason: StaleReason, out: &mut Outbox) -> bool {
        let Some(book) = self.books.get_mut(meta.instrument.0 as usize) else {
            return false;
        };
        if !(book.seen && book.synced && out.push(MdEvent::BookStale { meta, reason })) {
            return false;
        }
        book.synced = false;
        book.in_snapshot = false;
        true
    }

    fn instruments(&self) -> usize {
        self.books.len()
    }

    fn stream_path(&self) -> String {
        String::new()
    }

    fn sync_counters(&self, instrument: InstrumentId) -> Option<&SyncCounters> {
        let book = self.books.get(instrument.0 as usize)?;
        book.seen.then_some(&book.counters)
    }

    fn control_frames(&self) -> u64 {
        0
    }
}
