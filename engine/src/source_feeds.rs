//! One feed stage per market-data source (`[source]`, or each of `[[sources]]`), each with
//! its own market-data ring into the book stage and its own control ring back from it.

use anyhow::Context;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::errors::FeedError;
use pulse_feeds::event::{MdEvent, ResyncRequest};
use pulse_feeds::feed_scope::FeedScope;
use pulse_feeds::input_journal::InputJournal;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::replay::{CaptureFeed, RecordedInput};
use pulse_feeds::venue::MarketAdapter;

use crate::config::{Config, FeedSpec, SourceConfig, StageKind, MAX_SOURCES};
use crate::hot_stage::HotStage;
use crate::live_source::{build_feed, LiveRings};

/// The input journal stream of each source, by source: the first writes `input`, as a
/// single `[source]` does.
pub const INPUT_STREAMS: [&str; MAX_SOURCES] = [
    "input", "input-1", "input-2", "input-3", "input-4", "input-5", "input-6", "input-7",
];
/// The latency stage name of each source's feed.
pub const FEED_STAGES: [&str; MAX_SOURCES] = [
    "feed", "feed-1", "feed-2", "feed-3", "feed-4", "feed-5", "feed-6", "feed-7",
];

/// The names of `stages` (every runner's, in order) as failures and the summary report them:
/// the kind's, the feeds of several sources told apart as their latency stages are (`feed`,
/// `feed-1`, ... in source order).
pub fn stage_labels<'a>(
    stages: impl Iterator<Item = &'a HotStage> + 'a,
) -> impl Iterator<Item = &'static str> + 'a {
    let mut feeds = FEED_STAGES.iter();
    stages.map(move |s| match s.kind() {
        StageKind::Feed => feeds.next().copied().unwrap_or("feed"),
        kind => kind.name(),
    })
}

/// The rings and journal one feed is joined to.
pub struct FeedRings {
    pub md: rtrb::Producer<MdEvent>,
    pub control: rtrb::Consumer<ResyncRequest>,
    pub journal: Option<InputJournal>,
}

/// By instrument: the source (feed) that keeps its book; empty with one feed.
pub fn feed_of(cfg: &Config) -> Vec<u8> {
    let mut of = vec![0; cfg.instruments.len()];
    for (n, spec) in cfg.feeds.iter().enumerate() {
        for id in &spec.instruments {
            if let Some(o) = of.get_mut(id.0 as usize) {
                *o = n as u8;
            }
        }
    }
    of
}

/// The adapter of the added venue a capture source names (`venue = "..."`), over the
/// instruments it feeds; `None` for a source of the built-in venues.
pub fn added_adapter(
    cfg: &Config,
    spec: &FeedSpec,
) -> anyhow::Result<Option<Box<dyn MarketAdapter>>> {
    let Some(name) = spec.venue.as_deref() else {
        return Ok(None);
    };
    let factory = cfg
        .venues
        .get(name)
        .with_context(|| format!("venue {name} was not added to this program"))?;
    Ok(Some(factory(&cfg.instruments, &spec.instruments)))
}

/// The feed stage of source `n`: a capture feed or a live one, scoped to the instruments
/// the config gives it when there are several sources.
pub fn build_source_feed(
    cfg: &Config,
    n: usize,
    source: &SourceConfig,
    rings: FeedRings,
    probe: LatencyProbe,
    log: DistinctLog<FeedError>,
    replay_time: &ReplayTime,
) -> anyhow::Result<HotStage> {
    let spec = cfg.feeds.get(n);
    let scope = spec.map(|spec| {
        // Cold, once per source: a metric label lives as long as the process.
        let name: &'static str = Box::leak(spec.name.clone().into_boxed_str());
        FeedScope::new(
            name,
            INPUT_STREAMS[n],
            &spec.instruments,
            cfg.instruments.len(),
        )
    });
    Ok(match source {
        SourceConfig::Capture {
            path,
            speed_milli,
            then,
        } => {
            // A journal directory replays this source's own stream; several captures are read
            // one after the other as one.
            let input = if then.is_empty() {
                RecordedInput::open_stream(path, INPUT_STREAMS[n])
                    .with_context(|| format!("cannot open recorded input {}", path.display()))?
            } else {
                let all: Vec<&std::path::Path> = std::iter::once(path.as_path())
                    .chain(then.iter().map(|p| p.as_path()))
                    .collect();
                RecordedInput::Capture(
                    pulse_feeds::capture::CaptureReader::open_all(&all)
                        .context("cannot open the recorded inputs")?,
                )
            };
            let mut feed = CaptureFeed::new(
                input,
                cfg.instruments.clone(),
                rings.md,
                replay_time.clone(),
                probe,
                log,
            )
            .paced(*speed_milli)
            .with_control(rings.control);
            if let Some(spec) = spec {
                if let Some(adapter) = added_adapter(cfg, spec)? {
                    feed = feed.with_boxed_adapter(adapter);
                }
            }
            if let Some(scope) = scope {
                feed = feed.scoped(scope);
            }
            HotStage::Feed(match rings.journal {
                Some(journal) => feed.with_journal(journal),
                None => feed,
            })
        }
        SourceConfig::Live(live) => {
            let others = cfg.instruments.iter().any(|i| i.venue != live.venue);
            if spec.is_none() && others {
                anyhow::bail!(
                    "a live {} source needs every configured instrument on that venue \
                     (or one [[sources]] entry per venue)",
                    live.venue.name()
                );
            }
            let rings = LiveRings {
                md: rings.md,
                resync: Some(rings.control),
                tap: None,
                journal: rings.journal,
            };
            let feed = build_feed(live, &cfg.instruments, rings, probe, log)?;
            HotStage::LiveFeed(Box::new(match scope {
                Some(scope) => feed.scoped(scope),
                None => feed,
            }))
        }
    })
}
