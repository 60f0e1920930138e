//! What `pulse replay` reports: the input's counts, each instrument's book sync and checks,
//! the final top of book; as text and as the `--report-json` file.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use pulse_feeds::book::Level;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::event::BookState;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::{Decimal, Side};
use pulse_feeds::replay::CaptureFeed;
use serde::Serialize;

/// Levels shown per side in the report.
const REPORT_DEPTH: usize = 5;
/// Stable names for [`DecodeError::code`] in the JSON report.
const DECODE_ERROR_KEYS: [&str; DecodeError::KINDS] = [
    "json",
    "not_an_object",
    "unknown_event",
    "missing_field",
    "wrong_type",
    "decimal",
    "unknown_symbol",
    "too_many_levels",
];

/// Everything `pulse replay` reports, as written to `--report-json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub input: InputReport,
    pub instruments: Vec<InstrumentReport>,
}

#[derive(Debug, Serialize)]
pub struct InputReport {
    pub lines: u64,
    /// Messages decoded and handed on.
    pub messages: u64,
    pub malformed_lines: u64,
    pub unknown_venue: u64,
    /// Frames refused by the codec (unknown event types such as `kline` among them), by kind.
    pub decode_errors: BTreeMap<&'static str, u64>,
    pub resync_requests: u64,
}

#[derive(Debug, Serialize)]
pub struct InstrumentReport {
    pub venue: &'static str,
    pub symbol: String,
    pub messages: u64,
    pub applied: u64,
    pub dropped: u64,
    pub duplicates: u64,
    pub gaps: u64,
    pub snapshots: u64,
    pub resyncs: u64,
    pub stale_snapshots: u64,
    pub crossed: u64,
    pub stale_marks: u64,
    pub trades: u64,
    pub tickers: u64,
    pub last_update_id: u64,
    /// Sequence restarts the venue announced and the book followed (OKX `seqId` below
    /// `prevSeqId`, Bybit's `u == 1` snapshot); left out when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub sequence_resets: u64,
    /// Deletes of a price the book did not hold, ignored (Coinbase Advanced Trade, whose sync
    /// knows which prices its books hold); left out when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub absent_deletes: u64,
    pub ticker_check: TickerCheck,
    /// The book's state at the end: `live`, `stale` (waiting for a snapshot) or `crossed`.
    pub book: &'static str,
    /// Fed by Tardis.dev CSV data ([`pulse_feeds::tardis`]): no update ids, so its quotes are
    /// counted and never checked, and there is no venue checksum; left out when not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tardis: bool,
    /// The venue's own checksums of the book (Kraken, OKX), where the venue sends them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumCheck>,
    pub top: Top,
}

/// Checks against the venue's word: how many agreed with the rebuilt book, how many did not.
#[derive(Debug, Serialize)]
pub struct TickerCheck {
    pub ok: u64,
    pub mismatch: u64,
}

/// Venue checksums compared with the rebuilt book: agreed, disagreed (the book went stale).
#[derive(Debug, Serialize)]
pub struct ChecksumCheck {
    pub ok: u64,
    pub mismatch: u64,
}

impl InstrumentReport {
    /// Venue checks made: tickers compared and checksums verified.
    pub fn checks(&self) -> u64 {
        let sums = self.checksum.as_ref().map_or(0, |c| c.ok + c.mismatch);
        self.ticker_check.ok + self.ticker_check.mismatch + sums
    }
}

/// The best levels per side at the end, best first, as `[price, quantity]` decimal strings.
#[derive(Debug, Serialize)]
pub struct Top {
    pub bids: Vec<[String; 2]>,
    pub asks: Vec<[String; 2]>,
}

pub(super) fn report(
    registry: &InstrumentRegistry,
    feed: &CaptureFeed,
    book: &BookStage,
) -> Report {
    let c = &feed.counters;
    let input = InputReport {
        lines: c.lines,
        messages: c.messages,
        malformed_lines: c.bad_lines_total(),
        unknown_venue: c.unknown_venue,
        decode_errors: DECODE_ERROR_KEYS
            .iter()
            .zip(c.bad_frames)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (*k, n))
            .collect(),
        resync_requests: c.resync_requests,
    };
    let instruments = registry
        .iter()
        .map(|inst| {
            let i = inst.id.0 as usize;
            let s = feed.sync_counters(inst.id).copied().unwrap_or_default();
            let b = book.counters(i).copied().unwrap_or_default();
            let side = |side: Side| -> Vec<[String; 2]> {
                let mut levels = [Level::default(); REPORT_DEPTH];
                let n = book.book(i).map_or(0, |bk| bk.top(side, &mut levels));
                levels[..n]
                    .iter()
                    .map(|l| {
                        [
                            Decimal::new(l.px.0, inst.price_scale).to_string(),
                            Decimal::new(l.qty.0, inst.qty_scale).to_string(),
                        ]
                    })
                    .collect()
            };
            // The adapter that keeps the book: the last one that owns it.
            let keeper = feed.adapters().filter(|a| a.owns(inst.id)).last();
            let tardis = keeper.is_some_and(|a| a.source() == pulse_feeds::tardis::SOURCE);
            InstrumentReport {
                tardis,
                venue: inst.venue.name(),
                symbol: inst.symbol.clone(),
                messages: s.messages,
                applied: s.applied,
                dropped: s.dropped,
                duplicates: s.duplicates,
                gaps: s.gaps,
                snapshots: s.snapshots,
                resyncs: s.resyncs,
                stale_snapshots: s.stale_snapshots,
                crossed: b.crossed,
                stale_marks: b.stale_marks,
                trades: b.trades,
                tickers: b.tickers,
                last_update_id: s.last_update_id,
                sequence_resets: s.sequence_resets,
                absent_deletes: s.absent_deletes,
                ticker_check: TickerCheck {
                    ok: b.ticker_ok,
                    mismatch: b.ticker_mismatch,
                },
                book: match book.state(i) {
                    Some(BookState::Live) => "live",
                    Some(BookState::Crossed) => "crossed",
                    Some(BookState::Stale) | None => "stale",
                },
                checksum: (inst.venue.sends_checksum() && !tardis).then_some(ChecksumCheck {
                    ok: s.checksum_ok,
                    mismatch: s.checksum_mismatch,
                }),
                top: Top {
                    bids: side(Side::Buy),
                    asks: side(Side::Sell),
                },
            }
        })
        .collect();
    Report { input, instruments }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(super) fn write_json(out: &Path, report: &Report) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(report)?;
    json.push(b'\n');
    let mut file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(&json)
        .with_context(|| format!("cannot write {}", out.display()))
}

/// The human report: input counts, then one row per instrument and its final touch.
pub fn render(path: &Path, report: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let r = &report.input;
    let _ = writeln!(
        s,
        "pulse replay {}: {} lines, {} messages",
        path.display(),
        r.lines,
        r.messages
    );
    let mut skipped: Vec<String> = DECODE_ERROR_KEYS
        .iter()
        .enumerate()
        .filter_map(|(code, key)| {
            let n = *r.decode_errors.get(key)?;
            Some(format!("{n} x {}", DecodeError::describe_code(code)))
        })
        .collect();
    if r.malformed_lines > 0 {
        skipped.push(format!("{} x malformed capture line", r.malformed_lines));
    }
    if r.unknown_venue > 0 {
        skipped.push(format!("{} x line from an unknown venue", r.unknown_venue));
    }
    let skipped = if skipped.is_empty() {
        "none".to_string()
    } else {
        skipped.join("; ")
    };
    let _ = writeln!(s, "skipped   {skipped}");
    let _ = writeln!(
        s,
        "{:<13} {:<10} {:>8} {:>8} {:>7} {:>4} {:>5} {:>7} {:>7} {:>7} {:>9} {:>8} {:>16}",
        "venue",
        "symbol",
        "messages",
        "applied",
        "dropped",
        "gaps",
        "snaps",
        "resyncs",
        "crossed",
        "tickers",
        "ticker ok",
        "mismatch",
        "last update id"
    );
    for i in &report.instruments {
        let _ = writeln!(
            s,
            "{:<13} {:<10} {:>8} {:>8} {:>7} {:>4} {:>5} {:>7} {:>7} {:>7} {:>9} {:>8} {:>16}",
            i.venue,
            i.symbol,
            i.messages,
            i.applied,
            i.dropped,
            i.gaps,
            i.snapshots,
            i.resyncs,
            i.crossed,
            i.tickers,
            i.ticker_check.ok,
            i.ticker_check.mismatch,
            i.last_update_id
        );
    }
    for i in &report.instruments {
        if let Some(c) = &i.checksum {
            let _ = writeln!(
                s,
                "checksum  {} {}: {} ok, {} mismatch",
                i.venue, i.symbol, c.ok, c.mismatch
            );
        }
    }
    for i in &report.instruments {
        let level = |l: Option<&[String; 2]>| {
            l.map_or("-".to_string(), |[px, qty]| format!("{qty} @ {px}"))
        };
        let _ = writeln!(
            s,
            "touch     {} {}: bid {}  ask {}",
            i.venue,
            i.symbol,
            level(i.top.bids.first()),
            level(i.top.asks.first())
        );
    }
    s
}
