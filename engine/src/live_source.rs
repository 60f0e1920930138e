//! Builds a live feed stage from config (one arm per venue picks its adapter): resolves the hosts (DNS blocks, so here at
//! start-up, never on the hot path), sets up TLS with verification, the WebSocket session for
//! every instrument of the venue, and the REST snapshot worker. Instruments of other venues
//! are other sources' (`[[sources]]`: one live feed per venue).

use std::time::Duration;

use anyhow::{bail, Context};
use pulse_feeds::binance::{BinanceAdapter, BinanceMarket};
use pulse_feeds::errors::FeedError;
use pulse_feeds::event::{MdEvent, ResyncRequest};
use pulse_feeds::input_journal::InputJournal;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::live::{LiveParts, Tap};
use pulse_feeds::log::DistinctLog;
use pulse_feeds::rest::RestWorker;
use pulse_feeds::venue::MarketAdapter;
use pulse_feeds::venues::{AnyAdapter, VenueLiveFeed};
use pulse_feeds::ws::endpoint::{tls_config, Endpoint};
use pulse_feeds::ws::session::{SessionTimers, WsSession};

use crate::config::LiveSourceConfig;

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
    // One arm per venue: its adapter (a new venue adds its folder in pulse-feeds and an arm).
    let market = match live.venue {
        Venue::Binance => BinanceMarket::Spot,
        Venue::BinanceUsdm => BinanceMarket::UsdmFutures,
        // The config takes no live source of a venue without a live arm here.
        Venue::CoinbaseExchange
        | Venue::Kraken
        | Venue::KrakenV1
        | Venue::Okx
        | Venue::BybitSpot
        | Venue::BybitLinear => {
            bail!("no live session for {} yet", live.venue.name())
        }
    };
    let adapter =
        BinanceAdapter::for_market(market, registry.clone()).with_depth_stream(&live.depth_stream);
    let path = adapter.stream_path();
    let ws = Endpoint::parse(&format!("{}{path}", live.ws_url)).map_err(anyhow::Error::msg)?;
    let rest = Endpoint::parse(&live.rest_url).map_err(anyhow::Error::msg)?;
    let tls = if ws.tls || rest.tls {
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
    let rest = RestWorker::spawn(rest, tls, timeout).context("REST worker thread")?;
    VenueLiveFeed::new(LiveParts {
        adapter: AnyAdapter::Binance(Box::new(adapter)),
        session,
        rest,
        snapshot_limit: live.snapshot_limit,
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
