//! Builds the hot path from config: the rings, then one stage of each kind joined by them.
//!
//! ```text
//! feed ─md─► book ─┬─► strategy ─intents─► risk ─orders─► gateway
//!                  ├──────────────────────► risk ◄─reports─┘
//!                  └────────────────────────────────────► gateway (simulated venue only)
//!                     strategy ◄─feedback─ risk
//! feed ◄─control─ book   (resync requests for crossed books)
//! feed ◄─ready─── gateway (a live feed connects once the live order session is first ready)
//! ```
//!
//! With `[[sources]]` there is one feed per source, each with its own `md` and `control`
//! rings; the book stage drains the `md` rings in source order and sends each resync request
//! to the feed of its instrument ([`crate::source_feeds`]).

use std::path::Path;

use anyhow::Context;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::input_journal::InputJournal;
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::{self, LatencyCollector, SAMPLE_RING};
use pulse_feeds::log::{DistinctLog, LogRecord};
use pulse_feeds::num::Nanos;
use pulse_gateways::binance::gateway::GatewayRings;
use pulse_gateways::sim::tape::Tape;
use pulse_gateways::sim::VenueAccount;
use pulse_gateways::sim::{Fees, SimVenue};
use pulse_gateways::sim_stage::SimGatewayStage;
use pulse_journal::{Appender, JournalService};
use rtrb::RingBuffer;

use crate::config::{Config, GatewayConfig, SourceConfig, StrategyConfig};
use crate::decisions::OutputJournal;
pub use crate::hot_stage::HotStage;
use crate::outside::{self, OutsideScores, SignalTail};
use crate::pipeline_start::{open_stream, open_streams, restore_point};
use crate::policy::PolicyNetwork;
use crate::risk::checks::RiskChecks;
use crate::risk::reconcile::{self, Reconciliation};
use crate::risk::stage::{RiskRings, RiskStage};
use crate::risk::state::RiskState;
use crate::risk::{HaltReason, KillSwitch};
use crate::source_feeds::{build_source_feed, feed_of, FeedRings, FEED_STAGES, INPUT_STREAMS};
use crate::strategy::ensemble::EnsembleStrategy;
use crate::strategy::imbalance::ImbalanceTaker;
use crate::strategy::market_maker::MarketMaker;
use crate::strategy::set::{Member, StrategySet};
use crate::strategy::stage::StrategyStage;
use crate::strategy::BuiltinStrategy;
use crate::user_strategy::StrategyRings;

/// Levels kept per side of each book: Binance snapshots hold up to 5,000.
pub const BOOK_LEVELS_PER_SIDE: usize = 8192;
const LOG_RING: usize = 256;
/// Book → feed resync requests. One per crossing per instrument until its resync, so a few
/// dozen slots are plenty; a full ring is retried at the next commit, never lost silently.
pub const CONTROL_RING: usize = 64;

/// Everything `build` makes: the stages in pipeline order, and the handles the main thread keeps.
pub struct Pipeline {
    pub stages: Vec<HotStage>,
    pub replay_time: ReplayTime,
    pub kill: KillSwitch,
    /// What `pulse flatten` asks the risk stage through.
    pub flatten: pulse_risk::kill::FlattenSwitch,
    /// The distinct-error log of each feed, by source.
    pub logs: Vec<rtrb::Consumer<LogRecord>>,
    pub instruments: InstrumentRegistry,
    /// Each stage's latency samples, in pipeline order, named after the stage.
    pub latency: Vec<(&'static str, LatencyCollector)>,
    /// The background threads of the journal streams the stages write (none without a
    /// `[journal]`): their faults drive health, and they make the last `msync` at the end.
    pub journals: Vec<(&'static str, JournalService)>,
    /// The events stream's appender, opened with the others (none without a `[journal]`):
    /// the monitor writes it.
    pub events: Option<Appender>,
    /// The live outside-signal reader, if one runs; it stops when dropped.
    pub signal_tail: Option<SignalTail>,
    /// Startup reconciliation with the venue.
    pub reconciliation: Reconciliation,
    /// The risk state restored from the journal, if any.
    pub restored: Option<RiskState>,
}

/// The configured strategy, with its policy network loaded when it has one.
pub fn build_strategy(
    cfg: &StrategyConfig,
    instruments: &InstrumentRegistry,
    recorded: bool,
    tail: &mut Option<SignalTail>,
) -> anyhow::Result<BuiltinStrategy> {
    Ok(match cfg {
        StrategyConfig::BookImbalance(imbalance) => {
            let tick = instruments
                .get(imbalance.instrument)
                .context("strategy instrument is not configured")?
                .tick;
            BuiltinStrategy::Imbalance(ImbalanceTaker::new(imbalance.clone(), tick))
        }
        StrategyConfig::Ensemble(settings) => {
            let policy = match &settings.policy_file {
                Some(path) => Some(PolicyNetwork::load(path).with_context(|| {
                    format!("cannot load the policy network {}", path.display())
                })?),
                None => None,
            };
            let mut ensemble = EnsembleStrategy::new(&settings.strategy, policy)
                .context("cannot build the ensemble strategy")?;
            if let Some(path) = &settings.signal_file {
                ensemble =
                    ensemble.with_outside(outside_scores(path, instruments, recorded, tail)?);
            }
            BuiltinStrategy::Ensemble(Box::new(ensemble))
        }
        StrategyConfig::MarketMaker(mm) => {
            BuiltinStrategy::MarketMaker(Box::new(MarketMaker::new(*mm)))
        }
        StrategyConfig::User(user) => {
            anyhow::bail!("{} is not a built-in strategy", user.spec.kind)
        }
    })
}

/// The configured strategies: `[strategy]`'s alone, or every `[[strategies]]` in one
/// [`StrategySet`].
pub fn build_strategies(
    cfg: &Config,
    instruments: &InstrumentRegistry,
    recorded: bool,
    tail: &mut Option<SignalTail>,
) -> anyhow::Result<BuiltinStrategy> {
    if cfg.more_strategies.is_empty() {
        return build_strategy(&cfg.strategy, instruments, recorded, tail);
    }
    let mut members = Vec::new();
    for strategy in cfg.all_strategies() {
        let mut own = None;
        let built = build_strategy(strategy, instruments, recorded, &mut own)?;
        if own.is_some() {
            if tail.is_some() {
                anyhow::bail!("only one strategy may follow a signal file live");
            }
            *tail = own;
        }
        members.push(Member {
            strategy: built,
            instrument: strategy.instrument(),
        });
    }
    let set = StrategySet::new(members).map_err(anyhow::Error::msg)?;
    Ok(BuiltinStrategy::Set(Box::new(set)))
}

/// Outside scores from `path`: all of them now for recorded input, tailed live otherwise.
fn outside_scores(
    path: &Path,
    instruments: &InstrumentRegistry,
    recorded: bool,
    tail: &mut Option<SignalTail>,
) -> anyhow::Result<OutsideScores> {
    let context = || format!("cannot read the signal file {}", path.display());
    if recorded {
        let (scores, report) = outside::read_all(path, instruments).with_context(context)?;
        if let Some((line, what)) = &report.first_bad {
            eprintln!(
                "pulse: {}: {} malformed line(s) skipped, the first at line {line} ({what})",
                path.display(),
                report.bad_lines
            );
        }
        return Ok(OutsideScores::new(scores, None));
    }
    let (tx, rx) = RingBuffer::new(outside::PENDING);
    *tail =
        Some(SignalTail::spawn(path.to_path_buf(), instruments.clone(), tx).with_context(context)?);
    Ok(OutsideScores::new(Vec::new(), Some(rx)))
}

pub fn build(cfg: &Config, clock: &quanta::Clock) -> anyhow::Result<Pipeline> {
    let rings = &cfg.rings;
    let mut latency = Vec::with_capacity(5);
    let mut probe = |stage: &'static str| {
        let (probe, collector) = latency::channel(clock.clone(), SAMPLE_RING);
        latency.push((stage, collector));
        probe
    };
    let instruments = cfg.instruments.clone();
    let (book_strategy_tx, book_strategy_rx) = RingBuffer::new(rings.book_events);
    let (book_risk_tx, book_risk_rx) = RingBuffer::new(rings.book_events);
    // Only the simulated venue matches against Pulse's book; a real venue keeps its own, so a
    // live gateway gets no copy of every book event.
    let (book_gateway_tx, book_gateway_rx) = match cfg.gateway {
        GatewayConfig::Sim(_) => {
            let (tx, rx) = RingBuffer::new(rings.book_events);
            (Some(tx), Some(rx))
        }
        GatewayConfig::Binance(_) => (None, None),
    };
    let (intent_tx, intent_rx) = RingBuffer::new(rings.intents);
    let (order_tx, order_rx) = RingBuffer::new(rings.orders);
    let (report_tx, report_rx) = RingBuffer::new(rings.reports);
    let (feedback_tx, feedback_rx) = RingBuffer::new(rings.reports);

    let replay_time = ReplayTime::default();
    let mut journals = Vec::new();
    let mut signal_tail = None;
    // Sessions are ordered by sequence; their timestamp is 0 so that replays write the same
    // bytes (the wall-clock start of a run is in the events stream).
    let streams = match &cfg.journal {
        Some(j) => Some(open_streams(j, &mut journals)?),
        None => None,
    };
    let (input, output, events) = match streams {
        Some(s) => (Some(s.input), Some(s.output), Some(s.events)),
        None => (None, None, None),
    };
    let mut input_journal = match input {
        Some(appender) => Some(
            InputJournal::start(appender, Nanos(0))
                .context("cannot start a session in the input journal")?,
        ),
        None => None,
    };
    // What the account held when the journal's last session stopped: read before this run's
    // session begins, for startup reconciliation.
    let expected = match &cfg.journal {
        Some(j) => reconcile::expected_from_journal(&j.dir, instruments.len())?,
        None => None,
    };
    let restored = restore_point(cfg)?;
    let restored_allocation = crate::funds_build::restored(cfg)?;
    let output_journal = match output {
        Some(appender) => Some(
            OutputJournal::start(appender, Nanos(0))
                .context("cannot start a session in the output journal")?,
        ),
        None => None,
    };
    // One feed per source, each with its own market-data, control and error-log rings; the
    // book stage drains their rings in source order.
    let mut feeds = Vec::with_capacity(1 + cfg.more_sources.len());
    let mut book_ends = Vec::with_capacity(feeds.capacity());
    let mut logs = Vec::with_capacity(feeds.capacity());
    for (n, source) in cfg.all_sources().enumerate() {
        let (md_tx, md_rx) = RingBuffer::new(rings.market_data);
        let (control_tx, control_rx) = RingBuffer::new(CONTROL_RING);
        let (log_tx, log_rx) = RingBuffer::new(LOG_RING);
        // The first source writes the `input` stream opened above; the others their own.
        let journal = match (n, &cfg.journal) {
            (0, _) => input_journal.take(),
            (_, Some(j)) => Some(
                InputJournal::start(open_stream(j, INPUT_STREAMS[n], &mut journals)?, Nanos(0))
                    .context("cannot start a session in an input journal")?,
            ),
            (_, None) => None,
        };
        let rings = FeedRings {
            md: md_tx,
            control: control_rx,
            journal,
        };
        let log = DistinctLog::new(FEED_STAGES[n], Some(log_tx));
        feeds.push(build_source_feed(
            cfg,
            n,
            source,
            rings,
            probe(FEED_STAGES[n]),
            log,
            &replay_time,
        )?);
        book_ends.push((md_rx, control_tx));
        logs.push(log_rx);
    }
    let mut book_ends = book_ends.into_iter();
    let (md_rx, control_tx) = book_ends
        .next()
        .context("a config has at least one source")?;
    let book = BookStage::new(
        &instruments,
        BOOK_LEVELS_PER_SIDE,
        md_rx,
        [Some(book_strategy_tx), Some(book_risk_tx), book_gateway_tx]
            .into_iter()
            .flatten()
            .collect(),
        probe("book"),
    )
    .with_control(control_tx);
    let book = match &cfg.scenario {
        Some(scenario) => book.with_scenario(scenario.market.clone()),
        None => book,
    };
    let feed_of = feed_of(cfg);
    let book = book_ends.fold(book, |book, (md, control)| {
        book.with_feed(md, control, &feed_of)
    });
    let strategy = match &cfg.strategy {
        StrategyConfig::User(user) => {
            let rings = StrategyRings {
                market: book_strategy_rx,
                feedback: feedback_rx,
                intents: intent_tx,
                probe: probe("strategy"),
            };
            HotStage::UserStrategy((user.spec.build)(user, rings)?)
        }
        _ => HotStage::Strategy(StrategyStage::new(
            build_strategies(
                cfg,
                &instruments,
                cfg.all_sources()
                    .all(|s| matches!(s, SourceConfig::Capture { .. })),
                &mut signal_tail,
            )?,
            book_strategy_rx,
            feedback_rx,
            intent_tx,
            probe("strategy"),
        )),
    };
    let kill = KillSwitch::new(cfg.risk.start_killed);
    // Client order ids must not repeat across restarts: with a journal, this run's session
    // sequence numbers them (deterministic for a replay into a fresh journal); without one,
    // the wall-clock second the engine started.
    let client_epoch = match &output_journal {
        Some(journal) => journal.session(),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs()),
    };
    let risk = RiskStage::new(
        RiskChecks::new(instruments.clone(), cfg.limits.clone(), cfg.risk.portfolio),
        kill.clone(),
        &instruments,
        RiskRings {
            market: book_risk_rx,
            intents: intent_rx,
            reports: report_rx,
            orders_out: order_tx,
            feedback: feedback_tx,
        },
        probe("risk"),
        client_epoch,
    );
    let risk = crate::margin_build::attach_risk(cfg, &instruments, risk);
    let mut risk = match output_journal {
        Some(journal) => risk.with_journal(journal),
        None => risk,
    };
    if let Some(state) = &restored {
        risk.restore(state);
    }
    let risk = crate::funds_build::attach(cfg, &instruments, risk, restored_allocation)?;
    let risk = risk
        .with_exits(cfg.risk.exits.clone(), cfg.risk.exit_settings)
        .with_kill_mode(cfg.risk.kill_mode);
    let flatten = risk.flatten_switch();
    let (mut risk, portfolio) =
        crate::portfolio_build::attach(cfg.portfolio.as_ref(), instruments.len(), risk)?;
    // Before any strategy runs: the venue's account becomes risk's, and a difference from the
    // journal halts trading until an operator re-arms.
    let adopt = |account: &VenueAccount, risk: &mut RiskStage| {
        let reconciliation = reconcile::reconcile(expected.as_ref(), account);
        risk.adopt(account, expected.as_ref());
        if reconciliation.halts() {
            kill.engage(HaltReason::ReconcileMismatch);
        }
        reconciliation
    };
    let (gateway, reconciliation) = match &cfg.gateway {
        GatewayConfig::Sim(sim) => {
            let venue = SimVenue::new(
                instruments.len(),
                Fees {
                    maker_ppm: sim.maker_fee_ppm,
                    taker_ppm: sim.taker_fee_ppm,
                },
            )
            .with_lost_responses(sim.lose_response_every);
            let venue = crate::margin_build::attach_sim(cfg, &instruments, venue)?;
            let reconciliation = adopt(&venue.account(), &mut risk);
            let gateway = SimGatewayStage::new(
                venue,
                book_gateway_rx.context("the simulated venue's book ring")?,
                order_rx,
                report_tx,
                probe("gateway"),
            )
            .with_latency(sim.latency.clone());
            let gateway = match &cfg.scenario {
                Some(sc) => gateway.with_latency_spike(sc.market.at, sc.spike_for, sc.spike),
                None => gateway,
            };
            let gateway = match sim.tape {
                Some(interval) => gateway.with_tape(Tape::new(instruments.len(), interval)),
                None => gateway,
            };
            (HotStage::Gateway(gateway), reconciliation)
        }
        GatewayConfig::Binance(binance) => {
            let rings = GatewayRings {
                requests: order_rx,
                reports: report_tx,
            };
            let (mut gateway, account) = crate::live_gateway::build(
                binance,
                &instruments,
                rings,
                probe("gateway"),
                Some(kill.venue_flag()),
            )?;
            let reconciliation = adopt(&account, &mut risk);
            gateway.adopt(&account);
            // No market data before the order session is up: an order decided on it could
            // not be sent.
            for feed in &mut feeds {
                if let HotStage::LiveFeed(live) = feed {
                    live.set_start_gate(gateway.ready_signal());
                }
            }
            (HotStage::LiveGateway(Box::new(gateway)), reconciliation)
        }
    };
    Ok(Pipeline {
        stages: feeds
            .into_iter()
            .chain([HotStage::Book(book), strategy, HotStage::Risk(risk)])
            .chain(portfolio)
            .chain([gateway])
            .collect(),
        replay_time,
        kill,
        flatten,
        logs,
        instruments,
        latency,
        journals,
        events,
        signal_tail,
        reconciliation,
        restored,
    })
}
