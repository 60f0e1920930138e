//! Builds a live feed stage from config (one arm per venue picks its adapter): resolves the hosts (DNS blocks, so here at
//! start-up, never on the hot path), sets up TLS with verification, the WebSocket session for
//! every instrument of the venue, and the REST snapshot worker where the venue's snapshots come
//! by REST (Binance; OKX, Kraken, Bybit and Coinbase send theirs on the stream). Instruments of other venues
//! are other sources' (`[[sources]]`: one live feed per venue).

use std::time::Duration;

use anyhow::{bail, Context};
use pulse_feeds::binance::{BinanceAdapter, BinanceMarket};
use pulse_feeds::bybit::session::DEFAULT_DEPTH;
use pulse_feeds::bybit::{BybitAdapter, BybitMarket};
use pulse_feeds::coinbase_at::CoinbaseAtAdapter;
use pulse_feeds::errors::FeedError;
use pulse_feeds::event::{MdEvent, ResyncRequest};
use pulse_feeds::input_journal::InputJournal;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::kraken::{KrakenAdapter, KrakenProtocol};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::live::{LiveParts, Tap};
use pulse_feeds::log::DistinctLog;
use pulse_feeds::okx::OkxAdapter;
use pulse_feeds::rest::RestWorker;
use pulse_feeds::venue::MarketAdapter;
use pulse_feeds::venues::{AnyAdapter, VenueLiveFeed};
use pulse_feeds::ws::endpoint::{tls_config, Endpoint};
use pulse_feeds::ws::session::{SessionTimers, WsSession};

use crate::config::{LiveSourceConfig, LiveSync};

/// The rings and handles a live feed is joined to.
pub struct LiveRings {
    pub md: rtrb::Producer<MdEvent>,
    pub resync: Option<rtrb::Consumer<ResyncRequest>>,
    pub tap: Option<Tap>,
    pub journal: Option<InputJournal>,
}

pub fn build_feed(
    live: &LiveSourceConfig,
    registry: &InstrumentRegistry,
    rings: LiveRings,
    probe: LatencyProbe,
    log: DistinctLog<FeedError>,
) -> anyhow::Result<VenueLiveFeed> {
    let venue_instruments = registry.iter().filter(|i| i.venue == live.venue).count();
    if venue_instruments == 0 {
        bail!(
            "no instrument of venue {} is configured for its live source",
            live.venue.name()
        );
    }
    let adapter = adapter(live, registry)?;
    let path = adapter.stream_path();
    let ws = ws_endpoint(live, &path)?;
    let rest = match &live.sync {
        LiveSync::Rest { rest_url, .. } => {
            Some(Endpoint::parse(rest_url).map_err(anyhow::Error::msg)?)
        }
        LiveSync::InBand { .. } => None,
    };
    let tls = if ws.tls || rest.as_ref().is_some_and(|r| r.tls) {
        Some(tls_config(live.ca_file.as_deref()).context("TLS configuration")?)
    } else {
        None
    };
    let addrs = ws
        .resolve()
        .with_context(|| format!("cannot resolve {}", ws.host))?;
    let timers = SessionTimers {
        connect_timeout: live.connect_timeout,
        no_data_timeout: live.no_data_timeout,
        max_age: live.max_session_age,
        backoff_min: live.reconnect_min,
        backoff_max: live.reconnect_max,
    };
    let seed = std::process::id() as u64 ^ quanta::Clock::new().raw();
    let session =
        WsSession::new(ws, addrs, tls.clone(), timers, seed).context("WebSocket session")?;
    let timeout = Duration::from_nanos(live.connect_timeout.0.max(1_000_000_000));
    let rest = match rest {
        Some(rest) => Some(RestWorker::spawn(rest, tls, timeout).context("REST worker thread")?),
        None => None,
    };
    VenueLiveFeed::new(LiveParts {
        adapter,
        session,
        rest,
        snapshot_limit: live.sync.snapshot_levels(),
        stream_timeout: live.stream_timeout,
        ring: rings.md,
        resync: rings.resync,
        probe,
        log,
        tap: rings.tap,
        journal: rings.journal,
    })
    .map_err(anyhow::Error::msg)
}

/// One arm per venue: its adapter over the registry's instruments of that venue (a new venue
/// adds its folder in pulse-feeds, its `SourceKind` in the config and an arm here). A venue
/// whose snapshot comes in-band needs nothing else: no REST worker is spawned for it.
fn adapter(live: &LiveSourceConfig, registry: &InstrumentRegistry) -> anyhow::Result<AnyAdapter> {
    let registry = registry.clone();
    Ok(match (live.venue, &live.sync) {
        (Venue::Binance | Venue::BinanceUsdm, LiveSync::Rest { depth_stream, .. }) => {
            let market = if live.venue == Venue::Binance {
                BinanceMarket::Spot
            } else {
                BinanceMarket::UsdmFutures
            };
            let adapter =
                BinanceAdapter::for_market(market, registry).with_depth_stream(depth_stream);
            AnyAdapter::Binance(Box::new(adapter))
        }
        (Venue::Okx, LiveSync::InBand { .. }) => {
            AnyAdapter::Okx(Box::new(OkxAdapter::new(registry)))
        }
        (Venue::Kraken, LiveSync::InBand { depth }) => AnyAdapter::Kraken(Box::new(
            KrakenAdapter::with_depth(KrakenProtocol::V2, registry, *depth as usize),
        )),
        (Venue::BybitSpot | Venue::BybitLinear, LiveSync::InBand { depth }) => {
            let market = if live.venue == Venue::BybitSpot {
                BybitMarket::Spot
            } else {
                BybitMarket::Linear
            };
            let depth = u16::try_from(*depth).unwrap_or(DEFAULT_DEPTH);
            AnyAdapter::Bybit(Box::new(
                BybitAdapter::new(market, registry).with_depth(depth),
            ))
        }
        (Venue::Coinbase, LiveSync::InBand { .. }) => {
            AnyAdapter::Coinbase(Box::new(CoinbaseAtAdapter::new(registry)))
        }
        // The config takes no live source of a venue without a live arm here.
        (venue, _) => bail!("no live session for {} yet", venue.name()),
    })
}

/// The stream's URL: Binance's host plus the adapter's stream path (it names the streams); an
/// in-band venue's `ws_url` as given, or the venue's path after a bare host.
fn ws_endpoint(live: &LiveSourceConfig, path: &str) -> anyhow::Result<Endpoint> {
    let parse = |url: &str| Endpoint::parse(url).map_err(anyhow::Error::msg);
    let given = parse(&live.ws_url)?;
    match live.sync {
        LiveSync::InBand { .. } if given.path != "/" => Ok(given),
        _ => parse(&format!("{}{path}", live.ws_url)),
    }
}
