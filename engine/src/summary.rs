//! The end-of-run summary: what came in, what the book did, what was decided, what filled, and
//! how long each stage took from ingress (p50/p99/p99.9/max from the stages' histograms).

use std::fmt::Write as _;

use pulse_feeds::capture::LineError;
use pulse_feeds::decode_error::DecodeError;
use pulse_feeds::errors::FeedError;
use pulse_feeds::feed_scope::FeedScope;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::log::{DistinctLog, ErrorKind};
use pulse_feeds::num::{Decimal, InstrumentId, Nanos};
use pulse_feeds::sync_counters::SyncCounters;
use pulse_feeds::ws::session::CloseReason;

use crate::config::{Config, StrategyConfig};
use crate::pipeline::HotStage;
use crate::risk::account::ACCOUNT_SCALE;
use crate::risk::RejectReason;
use crate::runtime::{RunOutcome, StopCause};
use crate::source_feeds::stage_labels;

const LINE_ERRORS: [LineError; 5] = [
    LineError::FieldCount,
    LineError::Timestamp,
    LineError::Source,
    LineError::TooLong,
    LineError::Row,
];

pub fn render(cfg: &Config, outcome: &RunOutcome) -> String {
    let mut s = String::new();
    let instruments = &cfg.instruments;
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    let cause = match outcome.cause {
        StopCause::InputEnded => "input ended",
        StopCause::Signal => "stopped by signal",
        StopCause::StageFailure => "stopped: a stage failed",
    };
    let _ = writeln!(s, "pulse {}: {cause} after {:.3} s", cfg.engine.name, secs);
    for (stage, n) in &outcome.stage_failures {
        let _ = writeln!(s, "  stage {stage} failed {n} time(s) (stage_failures)");
    }
    let mut labels = stage_labels(outcome.stages());
    for r in &outcome.runners {
        let names: Vec<&str> = labels.by_ref().take(r.stages.len()).collect();
        let pin = r
            .pinned
            .map_or("unpinned".to_string(), |c| format!("pinned to core {c}"));
        let _ = writeln!(s, "  thread {:<10} {pin}: {}", r.name, names.join(" -> "));
    }
    for stage in outcome.stages() {
        match stage {
            HotStage::Feed(feed) => {
                render_source(&mut s, feed.scope());
                let c = &feed.counters;
                let _ = writeln!(
                    s,
                    "input     {} lines, {} messages ({:.0} msg/s), {} events to the book",
                    c.lines,
                    c.messages,
                    c.messages as f64 / secs,
                    c.events
                );
                if c.other_feed > 0 {
                    let _ = writeln!(
                        s,
                        "          {} lines of venues other sources keep, passed over",
                        c.other_feed
                    );
                }
                let mut bad = Vec::new();
                for (i, kind) in LINE_ERRORS.iter().enumerate() {
                    if c.bad_lines[i] > 0 {
                        bad.push(format!("{} x {}", c.bad_lines[i], kind.describe()));
                    }
                }
                for (code, n) in c.bad_frames.iter().enumerate() {
                    if *n > 0 {
                        bad.push(format!("{n} x {}", DecodeError::describe_code(code)));
                    }
                }
                if c.unknown_venue > 0 {
                    bad.push(format!("{} x line from an unknown venue", c.unknown_venue));
                }
                let skipped = if bad.is_empty() {
                    "none".to_string()
                } else {
                    bad.join("; ")
                };
                let _ = writeln!(s, "skipped   {skipped}");
                render_errors(&mut s, feed.errors());
                render_syncs(&mut s, feed.syncs(), instruments);
            }
            HotStage::LiveFeed(feed) => {
                render_source(&mut s, feed.scope());
                let c = feed.counters();
                let k = &feed.session().counters;
                let closes: Vec<String> = CloseReason::ALL
                    .iter()
                    .zip(k.closed)
                    .filter(|(_, n)| *n > 0)
                    .map(|(r, n)| format!("{} {n}", r.name()))
                    .collect();
                let _ = writeln!(
                    s,
                    "session   {} connects, {} opened, {} pings answered, closed: {}",
                    k.connects,
                    k.opened,
                    k.pings,
                    if closes.is_empty() {
                        "never".to_string()
                    } else {
                        closes.join(", ")
                    }
                );
                let bad: u64 = c.bad_frames.iter().sum();
                let _ = writeln!(
                    s,
                    "input     {} frames, {} messages ({:.0} msg/s), {} refused; {} snapshot requests, {} failed; ring full {}, crossed resyncs {}",
                    c.frames,
                    c.messages,
                    c.messages as f64 / secs,
                    bad,
                    c.snapshot_requests,
                    c.snapshot_failures,
                    c.ring_full,
                    c.crossed_resyncs
                );
                render_errors(&mut s, feed.errors());
                render_syncs(&mut s, feed.syncs(), instruments);
            }
            HotStage::Book(book) => {
                for inst in instruments.iter() {
                    let i = inst.id.0 as usize;
                    let (Some(c), Some(b)) = (book.counters(i), book.book(i)) else {
                        continue;
                    };
                    let _ = writeln!(
                        s,
                        "book      {}: {} book updates ({} levels), {} trades, crossed {}, stale {}; venue ticker check {} ok / {} mismatch",
                        instruments.display_name(inst.id), c.commits, c.levels, c.trades, c.crossed, c.stale_marks, c.ticker_ok, c.ticker_mismatch
                    );
                    let level = |l: Option<pulse_feeds::book::Level>| {
                        l.map_or("-".to_string(), |l| {
                            format!(
                                "{} x {}",
                                Decimal::new(l.qty.0, inst.qty_scale),
                                Decimal::new(l.px.0, inst.price_scale)
                            )
                        })
                    };
                    let _ = writeln!(
                        s,
                        "          final touch: bid {}  ask {}",
                        level(b.best_bid()),
                        level(b.best_ask())
                    );
                }
            }
            HotStage::Strategy(st) => crate::strategy_summary::render_strategy(
                &mut s,
                st.strategy(),
                "",
                Some(st.intents_ring_full),
                instruments,
            ),
            HotStage::UserStrategy(_) => {
                if let StrategyConfig::User(user) = &cfg.strategy {
                    let _ = writeln!(s, "strategy  {} (user strategy)", user.spec.kind);
                }
            }
            HotStage::Risk(risk) => {
                render_risk(&mut s, risk, instruments);
                crate::portfolio_summary::render_exits(&mut s, risk, instruments);
                crate::funds_summary::render(&mut s, &cfg.funds, risk, instruments);
            }
            HotStage::Portfolio(p) => crate::portfolio_summary::render(&mut s, p),
            HotStage::Gateway(gw) => {
                let c = &gw.venue().counters;
                let _ = writeln!(
                    s,
                    "venue     simulated: {} orders, {} fills ({} maker), {} expired (IOC rest), {} rejected, {} cancelled ({} too late), {} resting at the end; position {}",
                    c.orders,
                    c.fills,
                    c.maker_fills,
                    c.expired,
                    c.rejects,
                    c.cancels,
                    c.cancel_rejects,
                    gw.venue().resting(),
                    venue_positions(&gw.venue().account().positions, instruments)
                );
                if c.fundings + c.liquidations > 0 || cfg.margins.iter().any(Option::is_some) {
                    let _ = writeln!(
                        s,
                        "          perpetuals: {} funding settlements, {} liquidations",
                        c.fundings, c.liquidations
                    );
                }
                if c.dropped_responses > 0 {
                    let _ = writeln!(
                        s,
                        "          fault drill: {} order responses lost, {} queries answered",
                        c.dropped_responses, c.queries
                    );
                }
            }
            HotStage::LiveGateway(gw) => {
                let c = &gw.counters;
                let _ = writeln!(
                    s,
                    "gateway   binance ws-api: {} orders, {} cancels, {} cancel-replaces, {} status requests sent; {} responses, {} execution reports; {} orders working at the end",
                    c.orders_sent,
                    c.cancels_sent,
                    c.replaces_sent,
                    c.status_sent,
                    c.responses,
                    c.stream_events,
                    gw.tracked()
                );
                let _ = writeln!(
                    s,
                    "          refused before sending: {} unavailable, {} rate-limited; {} outcomes unknown ({} timeouts), {} fills reconciled, {} reconnects, {} malformed",
                    c.refused_unavailable,
                    c.refused_rate_limited,
                    c.outcome_unknown,
                    c.timeouts,
                    c.reconciled_fills,
                    c.reconnects,
                    c.malformed
                );
            }
        }
    }
    let _ = writeln!(s, "reconcile {}", outcome.reconciliation);
    let _ = writeln!(
        s,
        "latency   ns from ingress to the end of each stage (hdrhistogram)"
    );
    let _ = writeln!(
        s,
        "          {:<9} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "stage", "count", "p50", "p99", "p99.9", "max"
    );
    for (stage, collector) in &outcome.latency {
        let h = collector.histogram();
        if h.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "          {:<9} {:>8} {:>9} {:>9} {:>9} {:>10}",
            stage,
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    }
    if outcome.kill_engaged {
        let _ = writeln!(s, "kill      the kill switch was engaged during the run");
    }
    render_operations(&mut s, cfg, outcome);
    s
}

/// Health, journal and stats: what operations needs to know about the run.
fn render_operations(s: &mut String, cfg: &Config, outcome: &RunOutcome) {
    crate::ops::summary::render(s, &outcome.ops);
    let moves: Vec<String> = outcome
        .transitions
        .iter()
        .map(|t| format!("{} ({})", t.to, t.reason.name()))
        .collect();
    let _ = writeln!(
        s,
        "health    {} at the end; {} transition(s){}",
        outcome.health,
        moves.len(),
        if moves.is_empty() {
            String::new()
        } else {
            format!(": {}", moves.join(" -> "))
        }
    );
    if let Some(journal) = &cfg.journal {
        let mut streams = Vec::new();
        for stage in outcome.stages() {
            let counters = match stage {
                HotStage::Feed(f) => f.journal().map(|j| (f.scope().stream(), j.counters)),
                HotStage::LiveFeed(f) => f.journal().map(|j| (f.scope().stream(), j.counters)),
                HotStage::Risk(r) => r.journal().map(|j| ("output", j.counters)),
                _ => None,
            };
            if let Some((name, c)) = counters {
                let refused = if c.refused > 0 {
                    format!(", {} REFUSED", c.refused)
                } else {
                    String::new()
                };
                streams.push(format!(
                    "{name} {} records ({} bytes{refused})",
                    c.records, c.bytes
                ));
            }
        }
        if outcome.ops.journal_refused > 0 {
            streams.push(format!(
                "events {} ops events REFUSED",
                outcome.ops.journal_refused
            ));
        }
        let synced: Vec<String> = outcome
            .journals
            .iter()
            .map(|(name, r)| match r {
                Ok(()) => format!("{name} synced"),
                Err(e) => format!("{name} FAILED: {e:#}"),
            })
            .collect();
        let _ = writeln!(
            s,
            "journal   {}: {}; {}",
            journal.dir.display(),
            streams.join(", "),
            synced.join(", ")
        );
    }
    if let Some(path) = &outcome.stats_file {
        let _ = writeln!(s, "stats     {} (removed at exit)", path.display());
    }
}

/// The feed's distinct errors, each with its count and when first and last seen (UTC
/// seconds); no line when there were none.
fn render_errors(s: &mut String, log: &DistinctLog<FeedError>) {
    let secs = |t: Nanos| t.0 as f64 / 1e9;
    let seen: Vec<String> = log
        .seen()
        .map(|(kind, k)| {
            format!(
                "{} x {} (first {:.3}, last {:.3})",
                k.count,
                kind.key(),
                secs(k.first),
                secs(k.last)
            )
        })
        .collect();
    if !seen.is_empty() {
        let _ = writeln!(s, "errors    {}", seen.join("; "));
    }
}

/// With several sources, the name of the one whose feed the next lines describe.
fn render_source(s: &mut String, scope: &FeedScope) {
    if let Some(name) = scope.name() {
        let _ = writeln!(s, "source    {name}");
    }
}

fn render_syncs<'a>(
    s: &mut String,
    syncs: impl Iterator<Item = (InstrumentId, &'a SyncCounters)>,
    instruments: &InstrumentRegistry,
) {
    for (id, k) in syncs {
        let Some(inst) = instruments.get(id) else {
            continue;
        };
        let _ = writeln!(
            s,
            "sync      {}: {} snapshot(s), {} diffs applied, {} dropped (covered by the snapshot), {} gaps, {} resyncs, last update id {}",
            instruments.display_name(inst.id), k.snapshots, k.applied, k.dropped, k.gaps, k.resyncs, k.last_update_id
        );
    }
}

fn render_risk(
    s: &mut String,
    risk: &crate::risk::stage::RiskStage,
    instruments: &InstrumentRegistry,
) {
    let c = &risk.counters;
    let rejected: u64 = c.rejected.iter().sum();
    let reasons: Vec<String> = RejectReason::ALL
        .iter()
        .filter(|r| c.rejected[r.index()] > 0)
        .map(|r| format!("{} {}", r.name(), c.rejected[r.index()]))
        .collect();
    let reasons = if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join(", "))
    };
    let _ = writeln!(
        s,
        "risk      {} intents: {} accepted, {} rejected{reasons}",
        c.intents, c.approved, rejected
    );
    let o = &risk.orders().counters;
    let _ = writeln!(
        s,
        "orders    {} sent, {} acked, {} filled, {} partially filled, {} expired, {} cancelled, {} rejected by the venue, {} illegal transitions; {} working at the end",
        o.sent, o.acked, o.filled, o.partially_filled, o.expired, o.cancelled, o.rejected_by_venue, o.illegal_transitions, risk.orders().open()
    );
    let a = risk.account();
    for (acct, inst) in a.instruments().iter().zip(instruments.iter()) {
        let p = &acct.position;
        let ns = inst.notional_scale();
        let unrealized = acct.unrealized();
        let avg = p.avg_px().map_or("-".to_string(), |px| {
            Decimal::new(px.0, inst.price_scale).to_string()
        });
        let _ = writeln!(
            s,
            "position  {}: {} fills, bought {} sold {}, position {} (avg {avg}), realized {} unrealized {} fees {} => net {}",
            instruments.display_name(inst.id),
            p.fills,
            Decimal::new(p.bought.0, inst.qty_scale),
            Decimal::new(p.sold.0, inst.qty_scale),
            Decimal::new(p.qty.0, inst.qty_scale),
            Decimal::new(p.realized, ns),
            Decimal::new(unrealized, ns),
            Decimal::new(p.fees, ns),
            Decimal::new(p.realized + unrealized - p.fees, ns),
        );
    }
    let money = |x: i128| Decimal::new(x / 10i128.pow(ACCOUNT_SCALE - 2), 2);
    let _ = writeln!(
        s,
        "account   equity {} of capital {}, high-water mark {}, drawdown {}.{:02}%, day {}, gross exposure {}; {} at the end",
        money(a.equity()),
        money(a.capital),
        money(a.high_water_mark()),
        a.drawdown_bps() / 100,
        a.drawdown_bps() % 100,
        money(a.day_pnl()),
        money(a.gross_exposure()),
        risk.mode().name(),
    );
    crate::margin_summary::render(s, risk, instruments);
    if o.outcome_unknown > 0 {
        let _ = writeln!(
            s,
            "          {} orders with an unknown outcome: {} queried ({} answered after their own reports), {} never reached the venue; none resent",
            o.outcome_unknown, c.queries, o.late_status, o.not_found
        );
    }
    if c.kill_cancels + c.resized + o.duplicate_fills > 0 {
        let _ = writeln!(
            s,
            "          {} orders cancelled by the kill switch, {} resized (sizing, drawdown), {} duplicate fills refused",
            c.kill_cancels, c.resized, o.duplicate_fills
        );
    }
}

/// Each instrument's position at the venue, by name.
fn venue_positions(
    positions: &[pulse_feeds::num::Qty],
    instruments: &InstrumentRegistry,
) -> String {
    let each: Vec<String> = instruments
        .iter()
        .zip(positions)
        .map(|(inst, q)| {
            let name = instruments.display_name(inst.id);
            format!("{name} {}", Decimal::new(q.0, inst.qty_scale))
        })
        .collect();
    each.join(", ")
}
