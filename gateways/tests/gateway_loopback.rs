//! The Binance order gateway stage against `pulse venue` over real loopback sockets, driven on
//! the test's thread:
//! - the REST fallback: the gateway's WebSocket API session points at a port nobody listens
//!   on, so it never becomes ready; its REST fallback points at the venue. A resting order
//!   (placed beforehand by another client, adopted as at startup reconciliation) is queried and
//!   cancelled over REST, while new orders are refused without being sent;
//! - the balance check after a reconnect: a reconnect with nothing changed behind the
//!   gateway's back passes; a trade by another client on the same account halts trading.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_feeds::clock::Clock;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue as VenueId};
use pulse_feeds::latency;
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::stage::Stage;
use pulse_feeds::ws::endpoint::Endpoint;
use pulse_feeds::ws::session::{SessionTimers, WsSession};
use pulse_gateways::binance::account::BlockingApi;
use pulse_gateways::binance::gateway::{BinanceGatewayStage, GatewayRings, GatewaySettings};
use pulse_gateways::binance::limits::{Limits, RateLimiter};
use pulse_gateways::binance::rest::RestFallback;
use pulse_gateways::binance::sign::Signer;
use pulse_gateways::order::{
    CancelOrder, ClientOrderId, ExecKind, ExecReport, Order, OrderStatus, Request, TimeInForce,
    VenueReject,
};
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::{Fees, OpenOrder, VenueAccount};
use pulse_testex::{OrderApiConfig, OrderFault, Venue, VenueConfig};
use serde_json::json;

const KEY: &str = "fallback-key";
const SECRET: &str = "fallback-secret";

fn btcusdt() -> InstrumentRegistry {
    let mut r = InstrumentRegistry::new();
    let id = r
        .add(VenueId::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    r.set_assets(id, "BTC", "USDT");
    r
}

/// Polls the gateway until `want` says a report is the one awaited; returns every report seen.
fn until(
    gateway: &mut BinanceGatewayStage,
    reports: &mut rtrb::Consumer<ExecReport>,
    want: impl Fn(&ExecReport) -> bool,
) -> Vec<ExecReport> {
    let clock = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        gateway.do_work(clock.now());
        while let Ok(r) = reports.pop() {
            let done = want(&r);
            seen.push(r);
            if done {
                return seen;
            }
        }
        assert!(Instant::now() < deadline, "no such report; saw {seen:?}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

type Rings = (
    BinanceGatewayStage,
    rtrb::Producer<Request>,
    rtrb::Consumer<ExecReport>,
);

/// A gateway stage with its session to `ws_url`, its REST fallback to `rest_url`.
fn gateway(ws_url: &str, rest_url: Option<&str>, halt: Option<Arc<AtomicBool>>) -> Rings {
    let endpoint = Endpoint::parse(ws_url).unwrap();
    let addrs = endpoint.resolve().unwrap();
    let timers = SessionTimers {
        backoff_min: Nanos::from_millis(20),
        backoff_max: Nanos::from_millis(200),
        ..SessionTimers::default()
    };
    let session = WsSession::new(endpoint, addrs, None, timers, 7).unwrap();
    let rest = rest_url.map(|url| {
        RestFallback::spawn(
            Endpoint::parse(url).unwrap(),
            None,
            &Secret::new(KEY.into()),
            Duration::from_secs(5),
        )
        .unwrap()
    });
    let (requests, requests_rx) = rtrb::RingBuffer::new(16);
    let (reports_tx, reports) = rtrb::RingBuffer::new(64);
    let (probe, _collector) = latency::channel(quanta::Clock::new(), latency::SAMPLE_RING);
    let stage = BinanceGatewayStage::new(
        session,
        btcusdt(),
        GatewaySettings {
            api_key: Secret::new(KEY.into()),
            signer: Signer::hmac(Secret::new(SECRET.into())),
            recv_window_ms: 5_000,
            response_timeout: Nanos::from_millis(1_000),
            limiter: RateLimiter::new(Limits::default()),
            rest,
            halt,
        },
        GatewayRings {
            requests: requests_rx,
            reports: reports_tx,
        },
        probe,
    );
    (stage, requests, reports)
}

fn venue(faults: Vec<OrderFault>) -> Venue {
    let capture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let mut vc = VenueConfig::new(capture);
    vc.orders = Some(OrderApiConfig {
        instruments: btcusdt(),
        api_key: KEY.into(),
        secret: Arc::new(Secret::new(SECRET.into())),
        fees: Fees::default(),
    });
    vc.order_faults = faults;
    Venue::start(vc).unwrap()
}

/// Another client of the same account, over the WebSocket API.
fn other_client_order(venue: &Venue, params: serde_json::Value) -> serde_json::Value {
    let key = Secret::new(KEY.into());
    let signer = Signer::hmac(Secret::new(SECRET.into()));
    let mut api = BlockingApi::connect(
        &format!("ws://{}/ws-api/v3", venue.addr()),
        None,
        &key,
        &signer,
        5_000,
        Duration::from_secs(10),
    )
    .unwrap();
    let placed = api.call("order.place", params, true).unwrap();
    api.close();
    placed
}

fn poll_until(gateway: &mut BinanceGatewayStage, done: impl Fn(&BinanceGatewayStage) -> bool) {
    let clock = Clock::live();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(gateway) {
        gateway.do_work(clock.now());
        assert!(
            Instant::now() < deadline,
            "timed out: {:?}",
            gateway.counters
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A GTC buy of one lot far below the book: it rests and never fills.
fn resting_buy(id: u64) -> Request {
    Request::New(Order {
        meta: EventMeta::default(),
        client_id: ClientOrderId(id),
        instrument: InstrumentId(0),
        side: Side::Buy,
        px: Px(1_000_000),
        qty: Qty(1_000),
        tif: TimeInForce::Gtc,
    })
}

#[test]
fn a_reconnect_checks_balances_and_halts_on_a_trade_behind_its_back() {
    // Order requests 0 and 2 (the gateway's) lose their connection; 1 is the other client's.
    let venue = venue(vec![
        OrderFault::Disconnect { at: 0 },
        OrderFault::Disconnect { at: 2 },
    ]);
    let halt = Arc::new(AtomicBool::new(false));
    let (mut gw, mut requests, _reports) = gateway(
        &format!("ws://{}/ws-api/v3", venue.addr()),
        None,
        Some(Arc::clone(&halt)),
    );
    poll_until(&mut gw, |g| g.is_ready());

    // A reconnect with nothing changed: the balances agree, trading goes on.
    requests.push(resting_buy(1)).unwrap();
    poll_until(&mut gw, |g| g.counters.reconnects == 1);
    poll_until(&mut gw, |g| g.is_ready());
    let settle = Instant::now() + Duration::from_millis(1_500);
    poll_until(&mut gw, |_| Instant::now() > settle);
    assert_eq!(gw.counters.balance_mismatches, 0);
    assert!(!halt.load(Ordering::Acquire));

    // Someone else buys on the account; the gateway learns of it only from the balances.
    let fill = other_client_order(
        &venue,
        json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "IOC",
               "price": "90000.00", "quantity": "0.00100000", "newClientOrderId": "manual-1"}),
    );
    assert_eq!(fill["status"], "FILLED", "{fill}");
    requests.push(resting_buy(2)).unwrap();
    poll_until(&mut gw, |g| g.counters.reconnects == 2);
    poll_until(&mut gw, |_| halt.load(Ordering::Acquire));
    assert_eq!(gw.counters.balance_mismatches, 1);
    assert_eq!(venue.account().unwrap().0, vec![100_000]);
    venue.stop();
}

#[test]
fn cancels_and_queries_go_over_rest_while_the_session_is_down() {
    let venue = venue(Vec::new());

    // Another client rests a buy far below the book.
    let placed = other_client_order(
        &venue,
        json!({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
               "price": "50000.00", "quantity": "0.00100000", "newClientOrderId": "777"}),
    );
    assert_eq!(placed["status"], "NEW", "{placed}");
    assert_eq!(venue.account().unwrap().1, 1);

    // The gateway: its session to a closed port, its REST fallback to the venue.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let (mut gateway, mut requests, mut reports) = gateway(
        &format!("ws://127.0.0.1:{dead_port}/ws-api/v3"),
        Some(&format!("http://{}", venue.addr())),
        None,
    );
    let order = Order {
        meta: EventMeta::default(),
        client_id: ClientOrderId(777),
        instrument: InstrumentId(0),
        side: Side::Buy,
        px: Px(5_000_000),
        qty: Qty(100_000),
        tif: TimeInForce::Gtc,
    };
    gateway.adopt(&VenueAccount {
        positions: vec![Qty(0)],
        open: vec![OpenOrder {
            order,
            leaves: order.qty,
        }],
    });
    let about = CancelOrder {
        meta: EventMeta::default(),
        client_id: order.client_id,
        instrument: order.instrument,
        side: order.side,
    };

    // A new order cannot go: refused, never sent.
    let mut new = order;
    new.client_id = ClientOrderId(778);
    requests.push(Request::New(new)).unwrap();
    let seen = until(&mut gateway, &mut reports, |r| r.client_id.0 == 778);
    assert_eq!(
        seen.last().unwrap().kind,
        ExecKind::Rejected(VenueReject::Unavailable)
    );

    requests.push(Request::Query(about)).unwrap();
    let seen = until(&mut gateway, &mut reports, |r| {
        matches!(r.kind, ExecKind::Status(_))
    });
    let status = seen.last().unwrap();
    assert_eq!(status.kind, ExecKind::Status(OrderStatus::Working));
    assert_eq!(status.leaves, Qty(100_000));

    requests.push(Request::Cancel(about)).unwrap();
    let seen = until(&mut gateway, &mut reports, |r| {
        r.kind == ExecKind::Cancelled
    });
    assert_eq!(seen.last().unwrap().client_id, ClientOrderId(777));
    assert_eq!(
        venue.account().unwrap().1,
        0,
        "the venue no longer works it"
    );
    assert_eq!(gateway.counters.rest_sent, 2);
    assert_eq!(gateway.counters.orders_sent, 0);
    assert!(!gateway.is_ready());
    assert_eq!(gateway.tracked(), 0);
    assert_eq!(
        venue.placed_orders(),
        ["777"],
        "nothing else reached the venue"
    );
    venue.stop();
}
