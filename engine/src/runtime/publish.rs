//! Stage metrics into the stats file: registration once at start-up, then each runner copies
//! its stages' counters into the slots it alone writes.

use std::time::{Duration, Instant};

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::metrics::{Metric, MetricKind, MetricLabel};
use pulse_feeds::stage::Stage;

use crate::pipeline::HotStage;
use crate::runtime::failure::guarded;
use crate::stats::layout::MetricDesc;
use crate::stats::MetricSlot;

/// How often a runner copies its stages' counters into the stats file.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(1);
/// Passes between two looks at the clock (a look costs a vDSO call); a power of two.
const CHECK_EVERY_PASSES: u64 = 64;

/// Describes what `stages` report, in report order, with how many metrics each reports.
pub fn describe(
    stages: &[HotStage],
    instruments: &InstrumentRegistry,
) -> (Vec<MetricDesc>, Vec<usize>) {
    let mut descs = Vec::new();
    let mut counts = Vec::with_capacity(stages.len());
    for stage in stages {
        let before = descs.len();
        stage.report(&mut |m: Metric| descs.push(desc(&m, instruments)));
        counts.push(descs.len() - before);
    }
    (descs, counts)
}

fn desc(m: &Metric, instruments: &InstrumentRegistry) -> MetricDesc {
    let help = help(m.name);
    let d = match m.kind {
        MetricKind::Counter => MetricDesc::counter(m.name, help),
        MetricKind::Gauge => MetricDesc::gauge(m.name, help),
    };
    match m.label {
        MetricLabel::None => d,
        MetricLabel::Instrument(id) => {
            let symbol = instruments
                .get(id)
                .map_or_else(|| id.0.to_string(), |i| i.symbol.clone());
            d.with_label("instrument", symbol)
        }
        MetricLabel::Tag(key, value) => d.with_label(key, value),
    }
}

/// A runner's slots and its publishing clock.
pub struct Publisher {
    slots: Vec<MetricSlot>,
    /// Metrics per stage, so a stage's slots are found even after another's report failed.
    counts: Vec<usize>,
    passes: u64,
    last: Instant,
}

impl Publisher {
    pub fn new(slots: Vec<MetricSlot>, counts: Vec<usize>) -> Publisher {
        Publisher {
            slots,
            counts,
            passes: 0,
            last: Instant::now(),
        }
    }

    /// Called once per pass; publishes when [`PUBLISH_EVERY`] has passed.
    #[inline]
    pub fn after_pass(&mut self, stages: &[HotStage], failed: impl FnMut(usize)) {
        self.passes += 1;
        if self.passes & (CHECK_EVERY_PASSES - 1) != 0 || self.last.elapsed() < PUBLISH_EVERY {
            return;
        }
        self.last = Instant::now();
        self.publish(stages, failed);
    }

    /// Copies every stage's metrics into their slots, by position; a stage whose `report`
    /// fails is passed to `failed` (by index) and its remaining slots keep their last values.
    /// Allocates nothing.
    pub fn publish(&self, stages: &[HotStage], mut failed: impl FnMut(usize)) {
        let mut base = 0;
        for (s, stage) in stages.iter().enumerate() {
            let mut i = base;
            if guarded(|| {
                stage.report(&mut |m: Metric| {
                    if let Some(slot) = self.slots.get(i) {
                        slot.set(m.value);
                    }
                    i += 1;
                })
            })
            .is_none()
            {
                failed(s);
            }
            base += self.counts.get(s).copied().unwrap_or(0);
        }
    }
}

/// `# HELP` text of the metrics stages report; the stats file holds 88 bytes of it.
fn help(name: &str) -> &'static str {
    match name {
        "feed_messages" => "Messages decoded and handed to the book",
        "feed_bad_frames" => "Input refused: malformed lines or frames, unknown venues",
        "feed_snapshot_requests" => "REST depth snapshots requested",
        "feed_snapshot_failures" => "REST depth snapshot requests that failed",
        "feed_connected" => "1 while the market data WebSocket is open",
        "ws_connects" => "WebSocket connection attempts",
        "ws_bytes" => "Bytes received on the market data WebSocket",
        "ring_full" => "Events that found a ring full (market data resynced, intents refused)",
        "book_diffs_applied" => "Depth diffs applied to the book",
        "book_diffs_dropped" => "Depth diffs dropped as covered by the snapshot",
        "book_gaps" => "Gaps in the depth diff sequence",
        "book_resyncs" => "Book resyncs from a new snapshot",
        "book_snapshots" => "Depth snapshots applied",
        "book_updates" => "Book commits published downstream",
        "book_crossed" => "Commits that left the book crossed",
        "book_ticker_checks" => "Books checked against the venue's own best bid and ask",
        "book_ticker_mismatches" => "Books that disagreed with the venue's best bid and ask",
        "stale" => "1 while the instrument's book is not live (stale or crossed)",
        "strategy_signals" => "Signals the strategy produced",
        "strategy_intents" => "Order intents sent to risk",
        "agent_signals" => "Signals each trading agent gave the ensemble",
        "risk_intents" => "Intents checked by pre-trade risk",
        "risk_accepted" => "Intents approved and sent as orders",
        "risk_rejected" => "Intents refused, by reason",
        "orders_sent" => "Orders sent to the gateway",
        "orders_acked" => "Orders acknowledged by the venue",
        "orders_illegal_transitions" => "Venue reports refused as illegal order state changes",
        "open_orders" => "Orders working at the venue",
        "fills" => "Fills received",
        "position_micro" => "Position in millionths of the base asset",
        "realized_pnl_micro" => "Realized PnL in millionths of the quote asset",
        "unrealized_pnl_micro" => "Unrealized PnL at the mid, in millionths of the quote asset",
        "fees_micro" => "Fees paid in millionths of the quote asset",
        "venue_orders" => "Orders the simulated venue received",
        "venue_fills" => "Fills the simulated venue made",
        "venue_expired" => "IOC remainders the simulated venue expired",
        "venue_rejects" => "Orders the simulated venue rejected",
        "journal_records" => "Records appended to the journal, by stream",
        "journal_bytes" => "Payload bytes appended to the journal, by stream",
        "journal_refused" => "Records the journal refused, by stream",
        _ => "",
    }
}
