//! `pulse venue --capture FILE [--protocol binance|okx|kraken|bybit-spot|bybit-linear|coinbase]
//! [--listen ADDR] [--tls --ca-out FILE]
//! [--speed N] [--fault F ...] [--ping-interval-ms N] [--pong-timeout-ms N] [--wait-for-client]`:
//! a local venue speaking Binance's spot protocol (serving a capture over `ws://` / `wss://` with
//! the REST depth endpoint on the same port), OKX's v5 public, Kraken's WebSocket v2, Bybit's
//! v5 public spot or linear or Coinbase Advanced Trade (each book's snapshot sent after its
//! subscription, from the venue's own book; Coinbase's numbered by the connection's own
//! `sequence_num`), for tests and
//! rehearsals of the live feed.
//!
//! It prints where it listens, plays the capture, then keeps serving the final book until
//! SIGINT or SIGTERM. Exit status: 0 after a signal, 1 when it cannot start.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use pulse_feeds::num::parse_decimal;
use pulse_gateways::sim::Fees;
use pulse_testex::{Fault, OrderApiConfig, OrderFault, Protocol, Venue, VenueConfig};

use crate::config::{GatewayConfig, SigningKey};

#[derive(Args, Debug)]
pub struct VenueArgs {
    /// The capture to serve (`recv_ts_ns TAB source TAB payload`, plain or gzip).
    #[arg(long)]
    pub capture: PathBuf,
    /// The venue's protocol: binance, okx (v5 public `books`), kraken (WebSocket v2 `book`),
    /// bybit-spot or bybit-linear (v5 public `orderbook`), coinbase (Advanced Trade `level2`,
    /// path `/`); the capture's lines of that venue are played.
    #[arg(long, default_value = "binance")]
    pub protocol: Protocol,
    /// Address to listen on (0 as the port picks a free one).
    #[arg(long, default_value = "127.0.0.1:9443")]
    pub listen: SocketAddr,
    /// Serve wss:// and https:// with a certificate for localhost and 127.0.0.1, signed by a
    /// CA generated at start.
    #[arg(long)]
    pub tls: bool,
    /// Write that CA's PEM here, for clients to trust.
    #[arg(long, requires = "tls")]
    pub ca_out: Option<PathBuf>,
    /// 1 plays at the recorded pace, 10 ten times faster, 0.5 half as fast; 0 as fast as
    /// the connected clients read.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: u64,
    /// A fault at a timeline frame index (repeatable): close@N, drop@N, delay@N:MS,
    /// duplicate@N, malformed@N, silence@N:MS; okx and kraken: checksum@N (a wrong checksum
    /// on book push N); okx: seq-reset@N (book update N restarts its seqId); bybit-*:
    /// restart@N (book push N goes out as a snapshot with u == 1); coinbase: drop@N is its
    /// venue fault (a gap in the connection's sequence_num), duplicate@N repeats a number.
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<Fault>,
    /// Ping every connection this often (Binance: 20 s); 0 sends no pings.
    #[arg(long, default_value_t = 20_000)]
    pub ping_interval_ms: u64,
    /// Cut a connection whose pong is this late (Binance: one minute).
    #[arg(long, default_value_t = 60_000)]
    pub pong_timeout_ms: u64,
    /// Hold the capture until the first WebSocket client has connected and subscribed.
    #[arg(long)]
    pub wait_for_client: bool,
    /// Also serve Binance's order API over the simulated venue (the WebSocket API at
    /// `/ws-api/v3` with the user data stream, and the REST order endpoints), for the
    /// instruments and the API key of this Pulse config's `binance` gateway (paper trading:
    /// `configs/paper.toml`).
    #[arg(long, value_name = "CONFIG")]
    pub orders_config: Option<PathBuf>,
    /// Taker fee charged by the order API, in basis points (held as ppm).
    #[arg(long = "taker-fee-bps", value_name = "BPS", default_value = "10", value_parser = parse_bps)]
    pub taker_fee_ppm: i64,
    /// Maker fee charged by the order API, in basis points (held as ppm).
    #[arg(long = "maker-fee-bps", value_name = "BPS", default_value = "2", value_parser = parse_bps)]
    pub maker_fee_ppm: i64,
    /// A fault on the Nth order request (repeatable): order-reject@N, order-delay@N:MS,
    /// order-drop@N, order-disconnect@N, order-429@N, order-5xx@N.
    #[arg(long = "order-fault", value_name = "FAULT", requires = "orders_config")]
    pub order_faults: Vec<OrderFault>,
}

/// Basis points with up to 2 decimals, as parts per million (a hundredth of a basis point is
/// one part per million).
fn parse_bps(text: &str) -> Result<i64, String> {
    let bps = parse_decimal(text.as_bytes(), 2).map_err(|e| format!("`{text}`: {e}"))?;
    if bps < 0 {
        return Err(format!("`{text}`: a fee cannot be negative"));
    }
    Ok(bps)
}

/// The order API's setup from a Pulse config's instruments and `binance` gateway keys.
pub fn order_api(
    path: &std::path::Path,
    taker_fee_ppm: i64,
    maker_fee_ppm: i64,
) -> anyhow::Result<OrderApiConfig> {
    let cfg = crate::config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let GatewayConfig::Binance(gateway) = &cfg.gateway else {
        anyhow::bail!(
            "{}: the order API needs a config whose [gateway] is kind = \"binance\"",
            path.display()
        );
    };
    let SigningKey::Hmac(secret) = &gateway.signing else {
        anyhow::bail!(
            "the venue verifies HMAC signatures only: give the gateway a secret_env or secret_file"
        );
    };
    let api_key = crate::live_gateway::read_secret(&gateway.api_key)?;
    let secret = crate::live_gateway::read_secret(secret)?;
    Ok(OrderApiConfig {
        instruments: cfg.instruments.clone(),
        api_key: api_key.expose().to_owned(),
        secret: Arc::new(secret),
        fees: Fees {
            taker_ppm: taker_fee_ppm,
            maker_ppm: maker_fee_ppm,
        },
    })
}

/// A speed as thousandths: `1` is 1000, `0.5` is 500, `0` is as fast as possible.
fn parse_speed(text: &str) -> Result<u64, String> {
    let milli = parse_decimal(text.as_bytes(), 3).map_err(|e| format!("`{text}`: {e}"))?;
    u64::try_from(milli).map_err(|_| format!("`{text}`: a speed cannot be negative"))
}

pub fn run(args: &VenueArgs) -> ExitCode {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            eprintln!("pulse venue: cannot install a signal handler: {e}");
            return ExitCode::FAILURE;
        }
    }
    if args.protocol != Protocol::Binance && args.orders_config.is_some() {
        eprintln!("pulse venue: the order API speaks Binance's protocol only: no --orders-config with --protocol {}", args.protocol);
        return ExitCode::FAILURE;
    }
    let orders = match &args.orders_config {
        Some(path) => match order_api(path, args.taker_fee_ppm, args.maker_fee_ppm) {
            Ok(orders) => Some(orders),
            Err(e) => {
                eprintln!("pulse venue: {e:#}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let cfg = VenueConfig {
        capture: args.capture.clone(),
        protocol: args.protocol,
        bind: args.listen,
        speed_milli: args.speed,
        tls: args.tls,
        faults: args.faults.clone(),
        ping_interval: Duration::from_millis(args.ping_interval_ms),
        pong_timeout: Duration::from_millis(args.pong_timeout_ms),
        wait_for_client: args.wait_for_client,
        orders,
        order_faults: args.order_faults.clone(),
        subscribe_delay: Duration::ZERO,
        measure_wire: None,
    };
    let venue = match Venue::start(cfg) {
        Ok(venue) => venue,
        Err(e) => {
            eprintln!("pulse venue: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(path), Some(pem)) = (&args.ca_out, venue.ca_pem()) {
        if let Err(e) = std::fs::write(path, pem) {
            eprintln!(
                "pulse venue: cannot write the CA to {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    print_banner(args, &venue);

    let mut reported_end = false;
    // Relaxed: the flag only asks this loop to stop; nothing is published through it.
    while !stop.load(Ordering::Relaxed) {
        if !reported_end && venue.finished() {
            reported_end = true;
            let stats = venue.stats();
            if let Some(e) = &stats.capture_error {
                eprintln!("pulse venue: the capture ended early: {e}");
            }
            for why in &stats.misplaced_faults {
                eprintln!("pulse venue: {why}");
            }
            for fault in args.faults.iter().filter(|f| f.at() >= stats.frames_sent) {
                eprintln!(
                    "pulse venue: {fault} was never applied: the timeline has {} frames",
                    stats.frames_sent
                );
            }
            println!(
                "pulse venue: capture played: {} frames ({} before their snapshot skipped, \
                 {} unusable lines, {} gaps in the capture, {} deltas held after them); \
                 serving the final book until SIGINT/SIGTERM",
                stats.frames_sent,
                stats.timeline.skipped_before_snapshot,
                stats.timeline.unusable_lines,
                stats.capture_gaps,
                stats.held_deltas
            );
            let _ = std::io::stdout().flush();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = venue.stats();
    venue.stop();
    println!(
        "pulse venue: stopped after {} frames, {} connections ({} cut for reading too slowly)",
        stats.frames_sent, stats.connections, stats.slow_clients_cut
    );
    ExitCode::SUCCESS
}

fn print_banner(args: &VenueArgs, venue: &Venue) {
    let addr = venue.addr();
    let (ws, http) = if args.tls {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    println!("pulse venue: listening on {addr}");
    match args.protocol.ws_path() {
        None => {
            println!("  streams  {ws}://{addr}/stream?streams=<symbol>@depth@100ms/<symbol>@trade (or /ws + SUBSCRIBE)");
            println!("  depth    {http}://{addr}/api/v3/depth?symbol=<SYMBOL>&limit=1000");
        }
        Some(path) => println!(
            "  streams  {ws}://{addr}{path} ({} subscriptions; each book's snapshot follows its subscription)",
            args.protocol
        ),
    }
    println!("  books    {}", venue.symbols().join(" "));
    if args.orders_config.is_some() {
        println!("  orders   {ws}://{addr}/ws-api/v3 (order.place/cancel/status, account.status, user data stream)");
    }
    if let Some(path) = &args.ca_out {
        println!("  CA       {}", path.display());
    }
    let pace = match args.speed {
        0 => "as fast as clients read".to_string(),
        1000 => "at the recorded pace".to_string(),
        milli => {
            let factor = pulse_feeds::num::Decimal::new(milli, 3).to_string();
            let factor = factor.trim_end_matches('0').trim_end_matches('.');
            format!("at {factor} times the recorded pace")
        }
    };
    let start = if args.wait_for_client {
        ", from the first subscription"
    } else {
        ""
    };
    println!("  playing  {pace}{start}");
    for fault in &args.faults {
        println!("  fault    {fault}");
    }
    for fault in &args.order_faults {
        println!("  fault    {fault}");
    }
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_are_exact_thousandths() {
        assert_eq!(parse_speed("1"), Ok(1000));
        assert_eq!(parse_speed("0"), Ok(0));
        assert_eq!(parse_speed("0.5"), Ok(500));
        assert_eq!(parse_speed("20"), Ok(20_000));
        assert!(parse_speed("-1").is_err());
        assert!(parse_speed("0.0001").is_err());
        assert!(parse_speed("fast").is_err());
    }
}
