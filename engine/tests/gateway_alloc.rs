//! Steady state of the order gateway: the Binance gateway stage (request formatting and
//! signing, the WebSocket API session, responses and execution reports read in place) against
//! `pulse venue`'s order API over loopback. After a warm-up, a counting global allocator
//! measures allocations per order, from the request to its fill report.
//!
//! Its own test binary with one test, so nothing else allocates meanwhile (the venue's threads
//! do allocate, so only this thread's allocations are counted).

use std::path::Path;
use std::time::{Duration, Instant};

use pulse_engine::config::{BinanceGatewayConfig, KeySource, SigningKey};
use pulse_feeds::clock::Clock;
use pulse_feeds::event::EventMeta;
use pulse_feeds::latency;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::stage::Stage;
use pulse_gateways::binance::gateway::GatewayRings;
use pulse_gateways::order::{ClientOrderId, ExecKind, Order, Request, TimeInForce};
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use pulse_testex::{OrderApiConfig, Venue as LocalVenue, VenueConfig};

mod counting;
mod support;

#[test]
fn gateway_allocations_per_order_after_warm_up() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let dir = std::env::temp_dir().join(format!("pulse-gateway-alloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let write_key = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        std::fs::set_permissions(&path, perms).unwrap();
        path
    };
    let mut vc = VenueConfig::new(capture);
    vc.ping_interval = Duration::ZERO;
    vc.orders = Some(OrderApiConfig {
        instruments: support::btcusdt(),
        api_key: "alloc-key".into(),
        secret: std::sync::Arc::new(Secret::new("alloc-secret".into())),
        fees: Fees::default(),
    });
    let venue = LocalVenue::start(vc).expect("venue starts");
    let cfg = BinanceGatewayConfig {
        ws_api_url: format!("ws://{}/ws-api/v3", venue.addr()),
        rest_url: None,
        ca_file: None,
        api_key: KeySource::File(write_key("key", "alloc-key")),
        signing: SigningKey::Hmac(KeySource::File(write_key("secret", "alloc-secret"))),
        recv_window_ms: 5_000,
        response_timeout: Nanos::from_millis(5_000),
        limits: Default::default(),
    };
    let (mut orders, requests) = rtrb::RingBuffer::new(64);
    let (reports_tx, mut reports) = rtrb::RingBuffer::new(1024);
    let (probe, _collector) = latency::channel(quanta::Clock::new(), latency::SAMPLE_RING);
    let rings = GatewayRings {
        requests,
        reports: reports_tx,
    };
    let (mut gateway, _account) =
        pulse_engine::live_gateway::build(&cfg, &support::btcusdt(), rings, probe, None).unwrap();
    let wall = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !gateway.is_ready() {
        gateway.do_work(wall.now());
        assert!(Instant::now() < deadline, "the gateway never became ready");
    }
    // One IOC buy of one lot at a price far above the book: it fills at the touch.
    let mut next_id = 1u64;
    let mut one_order = |gateway: &mut pulse_gateways::binance::gateway::BinanceGatewayStage| {
        let order = Order {
            meta: EventMeta::default(),
            client_id: ClientOrderId(next_id),
            instrument: InstrumentId(0),
            side: Side::Buy,
            px: Px(9_000_000),
            qty: Qty(1_000),
            tif: TimeInForce::Ioc,
        };
        next_id += 1;
        orders.push(Request::New(order)).unwrap();
        let mut filled = false;
        while !filled {
            gateway.do_work(wall.now());
            while let Ok(report) = reports.pop() {
                assert_eq!(report.client_id, order.client_id);
                assert!(
                    !matches!(
                        report.kind,
                        ExecKind::Rejected(_) | ExecKind::OutcomeUnknown
                    ),
                    "{report:?}"
                );
                filled |= matches!(report.kind, ExecKind::Fill { .. });
            }
            assert!(
                Instant::now() < deadline,
                "order {} never filled",
                order.client_id.0
            );
        }
    };
    // Binance allows 100 orders per 10 s and the gateway keeps 10% of it in reserve: the
    // whole test stays under 90.
    for _ in 0..20 {
        one_order(&mut gateway);
    }
    const MEASURED: u64 = 60;
    let ((), allocations) = counting::measure(|| {
        for _ in 0..MEASURED {
            one_order(&mut gateway);
        }
    });
    println!(
        "{allocations} allocations over {MEASURED} orders ({:.2} per order: request, response, \
         two execution reports)",
        allocations as f64 / MEASURED as f64
    );
    venue.stop();
    let _ = std::fs::remove_dir_all(&dir);
    // tungstenite takes each outgoing message as an owned buffer: one allocation per request,
    // and nothing else anywhere on the path.
    assert!(
        allocations <= MEASURED,
        "{allocations} allocations over {MEASURED} orders: more than the request's own"
    );
}
