//! `pulse backtest`: the configured strategies over recorded input against the simulated
//! venue, through the very same stages as `pulse run`, then the report a quant reads
//! (`pulse_research`): `report.json`, `report.html` and the tables as CSV and Parquet.
//!
//! The run journals its decisions into `DIR/journal` (so `pulse journal dump DIR/journal`
//! shows every intent, decision, order and report behind a figure) and the simulated venue
//! keeps a tape of the touch on a fixed grid of market time and each order's arrival mid. The
//! report is computed from those two alone, after the run: nothing is added to the hot path.
//! Latency is measured on the wall clock and differs run to run, so it is written apart
//! (`latency.json`, and the HTML), keeping `report.json` byte-identical for the same inputs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use pulse_core::intent::{Origin, RejectReason};
use pulse_journal::JournalReader;
use pulse_research::model::{self, Run, Side};
use pulse_research::risk_figures::RiskFigures;
use pulse_risk::decisions::{i128_at, i64_at, kind, u64_at, STREAM};
use pulse_risk::figures_record::FiguresRecord;

use crate::config::Venues;
use crate::config::{self, Config, GatewayConfig, SourceConfig};
use crate::pipeline::HotStage;
use crate::risk::account::ACCOUNT_SCALE;
use crate::runtime;
use crate::user_strategy::UserSpec;
use pulse_feeds::capture::CaptureReader;
use pulse_feeds::num::Nanos;

/// The smallest segment a journal takes (4 MiB).
const BACKTEST_SEGMENT_BYTES: u64 = 4 << 20;

#[derive(clap::Args, Debug)]
pub struct BacktestArgs {
    /// The strategy, risk and simulated venue to test (its `[source]` path is replaced by
    /// `--input`).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Captures or journal directories to replay: one per source of the config, in its order;
    /// for a config of one source, several captures (days in a row) are read in the order of
    /// their first timestamps, and Tardis.dev CSV files (book, trades, quotes) merged by theirs.
    #[arg(long, value_name = "PATH", required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Where the report goes (created; its files and `journal/` are replaced).
    #[arg(long, value_name = "DIR")]
    pub report: PathBuf,
    /// Replace a value of the config before it is checked (repeatable): a dotted key such as
    /// `strategy.cooldown_ms=250` or `instruments.0.risk.max_position=0.02` (decimals may be
    /// written bare).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = config::overrides::parse_set)]
    pub sets: Vec<(String, toml::Value)>,
    /// The report covers market time from here: unix ns, or `+DURATION` after the first
    /// market event (`+90s`, `+2m`, `+500ms`). The run still starts at the input's start, so
    /// books and indicators are warm.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<Time>,
    /// ... and up to here (included).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<Time>,
    /// The equity curve's grid, milliseconds of market time.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub interval_ms: u64,
}

/// A point of market time on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    Unix(u64),
    /// ns after the first market event.
    After(u64),
}

impl Time {
    fn at(self, start: u64) -> u64 {
        match self {
            Time::Unix(t) => t,
            Time::After(d) => start.saturating_add(d),
        }
    }
}

pub fn parse_time(text: &str) -> Result<Time, String> {
    let Some(rel) = text.strip_prefix('+') else {
        return text
            .parse()
            .map(Time::Unix)
            .map_err(|_| format!("{text:?}: unix ns, or +DURATION such as +90s"));
    };
    let split = rel.find(|c: char| !c.is_ascii_digit()).unwrap_or(rel.len());
    let (n, unit) = rel.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?}: +N then ms, s, m or h"))?;
    let scale = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(format!("{text:?}: the unit is ms, s, m or h")),
    };
    n.checked_mul(scale)
        .map(Time::After)
        .ok_or_else(|| format!("{text:?} is too far"))
}

pub fn run(args: &BacktestArgs, user: Option<UserSpec>, venues: &Venues) -> ExitCode {
    match backtest(args, user, venues) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pulse backtest: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The config as the backtest runs it: inputs in place of the sources' paths, a fresh journal
/// in the report directory, a private run directory, no Prometheus port, the venue's tape on.
pub fn prepare(
    mut cfg: Config,
    inputs: &[PathBuf],
    report: &Path,
    interval: Nanos,
) -> anyhow::Result<Config> {
    let sources = 1 + cfg.more_sources.len();
    let tardis = inputs
        .iter()
        .all(|p| pulse_feeds::tardis::input::is_tardis(p));
    if sources == 1 && inputs.len() > 1 && tardis {
        // Tardis CSV files of one source (book, trades, quotes) are merged by their timestamps.
        let joined: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        cfg.source = SourceConfig::Capture {
            path: PathBuf::from(joined.join(",")),
            speed_milli: 0,
            then: Vec::new(),
        };
    } else if sources == 1 && inputs.len() > 1 {
        // Several days of one source: read in the order of their first timestamps.
        let mut dated = Vec::new();
        for input in inputs {
            let first = CaptureReader::first_timestamp(input)
                .with_context(|| format!("cannot read {}", input.display()))?
                .with_context(|| format!("{} holds no capture line", input.display()))?;
            dated.push((first, input.clone()));
        }
        dated.sort();
        let mut paths = dated.into_iter().map(|(_, p)| p);
        cfg.source = SourceConfig::Capture {
            path: paths.next().context("no input")?,
            speed_milli: 0,
            then: paths.collect(),
        };
    } else if inputs.len() != sources {
        bail!(
            "{} input(s) for {sources} source(s): give one capture or journal per source of the config, in its order (several captures of one source are read in time order)",
            inputs.len()
        );
    } else {
        for (source, input) in std::iter::once(&mut cfg.source)
            .chain(cfg.more_sources.iter_mut())
            .zip(inputs)
        {
            *source = SourceConfig::Capture {
                path: input.clone(),
                speed_milli: 0,
                then: Vec::new(),
            };
        }
    }
    let GatewayConfig::Sim(sim) = &mut cfg.gateway else {
        bail!("a backtest runs against the simulated venue: the config's [gateway] kind must be \"sim\"");
    };
    sim.tape = Some(interval);
    let journal = report.join("journal");
    if journal.exists() {
        std::fs::remove_dir_all(&journal)
            .with_context(|| format!("cannot replace {}", journal.display()))?;
    }
    // Small segments: each stream pre-allocates whole segments ahead, and a sweep keeps many
    // runs; the sync mode does not matter for a run that can be made again from its input.
    cfg.journal = Some(config::JournalConfig {
        dir: journal,
        segment_bytes: BACKTEST_SEGMENT_BYTES,
        sync: Default::default(),
        fail_io_at: None,
    });
    cfg.engine.run_dir = report.join(".run");
    cfg.metrics.prometheus_listen = None;
    cfg.metrics.stats = false;
    Ok(cfg)
}

fn backtest(
    args: &BacktestArgs,
    user: Option<UserSpec>,
    venues: &Venues,
) -> anyhow::Result<String> {
    let cfg = config::overrides::load(&args.config, &args.sets, user, venues)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.config.display()))?;
    std::fs::create_dir_all(&args.report)
        .with_context(|| format!("cannot create {}", args.report.display()))?;
    let interval = Nanos(args.interval_ms.saturating_mul(1_000_000));
    let cfg = prepare(cfg, &args.input, &args.report, interval)?;
    let journal = cfg
        .journal
        .as_ref()
        .map(|j| j.dir.clone())
        .context("no journal")?;
    let progress = crate::backtest_progress::Progress::start(&journal, &args.input);
    let outcome = runtime::run(&cfg);
    if let Some(p) = progress {
        p.finish();
    }
    let mut outcome = outcome?;
    if let Some(e) = outcome.input_error() {
        bail!("the run ended before its input did: {e}");
    }
    let _ = std::fs::remove_dir_all(&cfg.engine.run_dir);
    let tape = outcome
        .runners
        .iter_mut()
        .flat_map(|r| r.stages.iter_mut())
        .find_map(|s| match s {
            HotStage::Gateway(g) => g.take_tape(),
            _ => None,
        })
        .context("the simulated venue kept no tape")?;
    let mut run = collect(&cfg, &args.input, &tape)?;
    let latency = latency(&outcome);
    run.latency = latency.clone();
    let window = pulse_research::model::Window {
        from: args.from.map_or(0, |t| t.at(run.start_ts)),
        to: args.to.map_or(u64::MAX, |t| t.at(run.start_ts)),
    };
    if window.from > window.to {
        bail!("--from is after --to");
    }
    let written = pulse_research::write(&args.report, &run, window)?;
    Ok(written)
}

fn latency(outcome: &runtime::RunOutcome) -> Vec<model::StageLatency> {
    outcome
        .latency
        .iter()
        .map(|(stage, c)| {
            let h = c.histogram();
            model::StageLatency {
                stage: stage.to_string(),
                count: h.len(),
                p50: h.value_at_quantile(0.5),
                p90: h.value_at_quantile(0.9),
                p99: h.value_at_quantile(0.99),
                p999: h.value_at_quantile(0.999),
                max: h.max(),
            }
        })
        .collect()
}

/// The run as plain values: the output journal's records and the venue's tape, amounts
/// converted from their mantissas at each instrument's scales.
pub fn collect(
    cfg: &Config,
    inputs: &[PathBuf],
    tape: &pulse_gateways::sim::tape::Tape,
) -> anyhow::Result<Run> {
    let instruments: Vec<_> = cfg.instruments.iter().collect();
    let px = |i: usize, m: i64| {
        instruments
            .get(i)
            .map_or(f64::NAN, |x| m as f64 / 10f64.powi(x.price_scale as i32))
    };
    let qty = |i: usize, m: i64| {
        instruments
            .get(i)
            .map_or(f64::NAN, |x| m as f64 / 10f64.powi(x.qty_scale as i32))
    };
    let money = |i: usize, m: i128| {
        instruments.get(i).map_or(f64::NAN, |x| {
            m as f64 / 10f64.powi(x.notional_scale() as i32)
        })
    };
    let side = |code: u8| if code == 0 { Side::Buy } else { Side::Sell };
    let tif = |code: u8| {
        ["ioc", "gtc", "post_only", "fok"]
            .get(code as usize)
            .copied()
            .unwrap_or("unknown")
    };
    let quotes: std::collections::BTreeSet<&str> =
        instruments.iter().map(|i| i.quote.as_str()).collect();
    let mut run = Run {
        name: cfg.engine.name.clone(),
        scenario: cfg
            .scenario
            .as_ref()
            .map_or(String::new(), |s| s.name.clone()),
        inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
        capital: cfg.risk.portfolio.capital as f64 / 10f64.powi(ACCOUNT_SCALE as i32),
        currency: match quotes.into_iter().collect::<Vec<_>>()[..] {
            [one] if !one.is_empty() => one.to_string(),
            _ => "account".to_string(),
        },
        interval_ns: tape.interval().0,
        instruments: instruments
            .iter()
            .map(|i| model::Instrument {
                name: format!("{}:{}", i.venue.name(), i.symbol),
            })
            .collect(),
        market_events: tape.events,
        start_ts: tape.first_ts().map_or(0, |t| t.0),
        end_ts: tape.last_ts().0,
        ..Run::default()
    };
    run.marks = tape
        .marks
        .iter()
        .map(|m| {
            let i = usize::from(m.instrument.0);
            model::Mark {
                ts: m.ts.0,
                instrument: i,
                bid: px(i, m.bid.0),
                ask: px(i, m.ask.0),
            }
        })
        .collect();
    run.arrivals = tape
        .arrivals
        .iter()
        .map(|a| model::Arrival {
            client_id: a.client_id,
            ts: a.ts.0,
            mid: None,
        })
        .collect();
    let mut instrument_of = std::collections::BTreeMap::new();
    let dir = cfg
        .journal
        .as_ref()
        .map(|j| j.dir.clone())
        .context("no journal")?;
    let mut reader = JournalReader::open(&dir, STREAM).context("cannot open the output journal")?;
    while let Some(r) = reader.next().context("reading the output journal")? {
        let p = r.payload;
        let inst = |at: usize| usize::from(u16::from_le_bytes([p[at], p[at + 1]]));
        match r.kind {
            kind::INTENT if p.len() >= 40 => {
                let i = inst(8);
                run.intents.push(model::Intent {
                    no: u64_at(p, 0),
                    ts: r.timestamp,
                    instrument: i,
                    side: side(p[10]),
                    px: px(i, i64_at(p, 16)),
                    qty: qty(i, i64_at(p, 24)),
                    origin: Origin::from_code(p[34])
                        .map_or("unknown", Origin::name)
                        .to_string(),
                    confidence: f64::from(u16::from_le_bytes([p[32], p[33]])) / 1e4,
                });
            }
            kind::DECISION if p.len() >= 24 => run.decisions.push(model::Decision {
                intent: u64_at(p, 0),
                ts: r.timestamp,
                rejected: (p[8] != 0).then(|| {
                    RejectReason::ALL
                        .get(p[9] as usize)
                        .map_or("unknown", |x| x.name())
                        .to_string()
                }),
                client_id: u64_at(p, 16),
            }),
            kind::ORDER if p.len() >= 32 => {
                let i = inst(8);
                instrument_of.insert(u64_at(p, 0), i);
                run.orders.push(model::Order {
                    client_id: u64_at(p, 0),
                    ts: r.timestamp,
                    instrument: i,
                    side: side(p[10]),
                    px: px(i, i64_at(p, 16)),
                    qty: qty(i, i64_at(p, 24)),
                    tif: tif(p[11]).to_string(),
                });
            }
            kind::REPORT if p.len() >= 72 => {
                let i = inst(8);
                let venue_ts = u64_at(p, 64);
                let ts = if venue_ts != 0 { venue_ts } else { r.timestamp };
                let client_id = u64_at(p, 0);
                if p[11] == 8 {
                    // Funding: the amount paid, at the notional scale, at offset 32.
                    run.fundings.push(model::Funding {
                        ts,
                        instrument: i,
                        amount: money(i, i128_at(p, 32)),
                    });
                } else if p[11] == 1 || p[11] == 9 {
                    // A fill, or the venue's liquidation: a taker fill at the liquidation
                    // price whose fee is the margin the venue kept.
                    run.fills.push(model::Fill {
                        ts,
                        client_id,
                        instrument: i,
                        side: side(p[10]),
                        px: px(i, i64_at(p, 16)),
                        qty: qty(i, i64_at(p, 24)),
                        fee: money(i, i128_at(p, 32)),
                        maker: p[11] == 1 && p[12] == 0,
                    });
                } else {
                    run.events.push(model::OrderEvent {
                        ts,
                        client_id,
                        kind: crate::journal_records::REPORT_KINDS
                            .get(p[11] as usize)
                            .copied()
                            .unwrap_or("unknown")
                            .to_string(),
                    });
                }
            }
            kind::RISK_FIGURES => {
                if let Some(f) = FiguresRecord::decode(p) {
                    let names = cfg.portfolio.as_ref().map(|c| &c.stress);
                    let worst = names
                        .and_then(|n| n.get(usize::from(f.worst_scenario)))
                        .map_or(String::new(), |s| s.name.clone());
                    let s = &f.summary;
                    run.risk_figures.push(RiskFigures {
                        ts: r.timestamp,
                        rows: f.rows,
                        ready: f.ready,
                        var95_hist: s.var95_hist,
                        var99_hist: s.var99_hist,
                        cvar95_hist: s.cvar95_hist,
                        cvar99_hist: s.cvar99_hist,
                        var95_param: s.var95_param,
                        var99_param: s.var99_param,
                        cvar95_param: s.cvar95_param,
                        cvar99_param: s.cvar99_param,
                        correlated: f.correlated,
                        equity: f.equity,
                        worst_scenario: worst,
                        worst_stress: f.worst_stress,
                    });
                }
            }
            _ => {}
        }
    }
    for (a, t) in run.arrivals.iter_mut().zip(&tape.arrivals) {
        let i = instrument_of.get(&a.client_id).copied().unwrap_or(0);
        a.mid = t.touch.map(|(b, k)| (px(i, b.0) + px(i, k.0)) / 2.0);
    }
    Ok(run)
}
