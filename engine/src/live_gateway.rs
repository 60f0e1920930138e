//! Builds the Binance order gateway from config: reads the keys (environment or owner-only
//! files), reads the account at start over a short blocking session (for reconciliation), and
//! opens the non-blocking session the stage polls.
//!
//! No error here quotes a key: [`Secret`]'s messages name the variable or file only, and the
//! venue's refusals are reported by code and message.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::num::Nanos;
use pulse_feeds::ws::endpoint::{tls_config, Endpoint};
use pulse_feeds::ws::session::{SessionTimers, WsSession};
use pulse_gateways::binance::account::{fetch_account, BlockingApi};
use pulse_gateways::binance::gateway::{BinanceGatewayStage, GatewayRings, GatewaySettings};
use pulse_gateways::binance::limits::RateLimiter;
use pulse_gateways::binance::rest::RestFallback;
use pulse_gateways::binance::sign::Signer;
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::VenueAccount;

use crate::config::{BinanceGatewayConfig, Config, GatewayConfig, KeySource, SigningKey};
use crate::secrets::{self, TakenSecret};

/// How long the startup session may take, and a connect on the hot path.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

pub fn read_secret(source: &KeySource) -> anyhow::Result<Secret> {
    match source {
        KeySource::Env(name) => Secret::from_env(name),
        KeySource::File(path) => Secret::from_file(path, secrets::euid()),
        KeySource::Taken(taken) => Ok(taken.copy()),
    }
    .map_err(|e| anyhow!(e))
}

/// For `pulse run` with a real gateway, while the process still has one thread (in `main`,
/// right after the config is loaded): marks the process non-dumpable for the whole run (the
/// gateway holds its keys until the end), then reads every secret the config takes from the
/// environment, wipes the variable's value and removes it, and keeps the secret in the config
/// instead.
pub fn take_env_secrets(cfg: &mut Config) -> anyhow::Result<()> {
    let GatewayConfig::Binance(gateway) = &mut cfg.gateway else {
        return Ok(());
    };
    secrets::forbid_dumps().map_err(|e| anyhow!(e))?;
    let take = |source: &mut KeySource, what: &str| -> anyhow::Result<()> {
        if let KeySource::Env(name) = source {
            let secret = secrets::take_env(name)
                .map_err(|e| anyhow!(e))
                .with_context(|| format!("the gateway's {what}"))?;
            *source = KeySource::Taken(TakenSecret::new(name.clone(), secret));
        }
        Ok(())
    };
    take(&mut gateway.api_key, "API key")?;
    if let SigningKey::Hmac(source) = &mut gateway.signing {
        take(source, "HMAC secret")?;
    }
    Ok(())
}

/// The API key and the signer the config names.
pub fn credentials(cfg: &BinanceGatewayConfig) -> anyhow::Result<(Secret, Signer)> {
    let api_key = read_secret(&cfg.api_key).context("the gateway's API key")?;
    // The key goes into JSON and signed payloads unescaped: it must be plain.
    if !api_key
        .expose()
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        anyhow::bail!("the gateway's API key holds characters other than A-Z, a-z, 0-9, - and _");
    }
    let signer = match &cfg.signing {
        SigningKey::Hmac(source) => {
            Signer::hmac(read_secret(source).context("the gateway's HMAC secret")?)
        }
        SigningKey::Ed25519(path) => {
            let pem = Secret::from_file(path, secrets::euid()).map_err(|e| anyhow!(e))?;
            Signer::ed25519_pem(&pem).map_err(|e| anyhow!(e))?
        }
    };
    Ok((api_key, signer))
}

/// The stage, and the venue's account at start.
pub fn build(
    cfg: &BinanceGatewayConfig,
    instruments: &InstrumentRegistry,
    rings: GatewayRings,
    probe: LatencyProbe,
    halt: Option<Arc<AtomicBool>>,
) -> anyhow::Result<(BinanceGatewayStage, VenueAccount)> {
    let (api_key, signer) = credentials(cfg)?;
    let endpoint = Endpoint::parse(&cfg.ws_api_url).map_err(|e| anyhow!(e))?;
    let tls = if endpoint.tls {
        Some(tls_config(cfg.ca_file.as_deref()).context("TLS configuration")?)
    } else {
        None
    };
    let account = {
        let mut api = BlockingApi::connect(
            &cfg.ws_api_url,
            tls.clone(),
            &api_key,
            &signer,
            cfg.recv_window_ms,
            STARTUP_TIMEOUT,
        )
        .map_err(|e| anyhow!(e))
        .context("cannot reach the venue's order API at start")?;
        let account = fetch_account(&mut api, instruments)
            .map_err(|e| anyhow!(e))
            .context("cannot read the account at start")?;
        api.close();
        account
    };
    let addrs = endpoint
        .resolve()
        .with_context(|| format!("cannot resolve {}", endpoint.host))?;
    let timers = SessionTimers {
        connect_timeout: Nanos::from_millis(STARTUP_TIMEOUT.as_millis() as u64),
        // Binance pings every 20 s: three missed pings is a dead connection.
        no_data_timeout: Nanos::from_millis(65_000),
        max_age: Nanos::from_millis(23 * 3_600_000),
        backoff_min: Nanos::from_millis(50),
        backoff_max: Nanos::from_millis(5_000),
    };
    let seed = std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    let session = WsSession::new(endpoint, addrs, tls, timers, seed)
        .context("the gateway's WebSocket session")?;
    let rest = match &cfg.rest_url {
        Some(url) => {
            let base = Endpoint::parse(url).map_err(|e| anyhow!(e))?;
            let rest_tls = if base.tls {
                Some(tls_config(cfg.ca_file.as_deref()).context("TLS configuration")?)
            } else {
                None
            };
            let timeout = Duration::from_nanos(cfg.response_timeout.0);
            Some(
                RestFallback::spawn(base, rest_tls, &api_key, timeout)
                    .context("the gateway's REST fallback thread")?,
            )
        }
        None => None,
    };
    let settings = GatewaySettings {
        api_key,
        signer,
        recv_window_ms: cfg.recv_window_ms,
        response_timeout: cfg.response_timeout,
        limiter: RateLimiter::new(cfg.limits),
        rest,
        halt,
    };
    Ok((
        BinanceGatewayStage::new(session, instruments.clone(), settings, rings, probe),
        account,
    ))
}
