//! The gateway driven without a thread: messages in by hand, reports read off the ring.

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::num::{Decimal, InstrumentId, Nanos, Px, Qty, Side};
use pulse_feeds::ws::session::WsSession;

use super::gateway::{BinanceGatewayStage, GatewayRings, GatewaySettings};
use super::limits::{Limits, RateLimiter};
use super::sign::{payload_sorted, Signer};
use super::wire::{Kind, RequestWriter};
use crate::order::{
    ClientOrderId, ExecKind, ExecReport, Liquidity, OpenOrder, Order, TimeInForce, VenueAccount,
};
use crate::secret::Secret;
use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::Venue;
use pulse_feeds::ws::endpoint::Endpoint;
use pulse_feeds::ws::session::SessionTimers;

/// A stage whose session is never polled (its port is never dialled here), tracking one
/// working buy of 0.002 BTC (client id 5), with the reports ring to read.
fn stage() -> (BinanceGatewayStage, rtrb::Consumer<ExecReport>) {
    let mut instruments = InstrumentRegistry::new();
    let btc = instruments
        .add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    instruments.set_assets(btc, "BTC", "USDT");
    let endpoint = Endpoint::parse("ws://127.0.0.1:9/ws-api/v3").unwrap();
    let addrs = endpoint.resolve().unwrap();
    let session = WsSession::new(endpoint, addrs, None, SessionTimers::default(), 1).unwrap();
    let (_orders, requests) = rtrb::RingBuffer::new(4);
    let (reports_tx, reports) = rtrb::RingBuffer::new(64);
    let mut gw = BinanceGatewayStage::new(
        session,
        instruments,
        GatewaySettings {
            api_key: Secret::new("k".into()),
            signer: Signer::hmac(Secret::new("s".into())),
            recv_window_ms: 5_000,
            response_timeout: Nanos::from_millis(1_000),
            limiter: RateLimiter::new(Limits::default()),
            rest: None,
            halt: None,
        },
        GatewayRings {
            requests,
            reports: reports_tx,
        },
        LatencyProbe::detached(quanta::Clock::new()),
    );
    let order = Order {
        meta: EventMeta::default(),
        client_id: ClientOrderId(5),
        instrument: InstrumentId(0),
        side: Side::Buy,
        px: Px(6_000_000),
        qty: Qty(200_000),
        tif: TimeInForce::Gtc,
    };
    gw.adopt(&VenueAccount {
        positions: vec![Qty(0)],
        open: vec![OpenOrder {
            order,
            leaves: order.qty,
        }],
    });
    (gw, reports)
}

fn trade(cum: &str, fee: &str, fee_asset: &str) -> String {
    format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","s":"BTCUSDT","c":"5",
        "C":"","x":"TRADE","X":"PARTIALLY_FILLED","l":"0.00100000","L":"60000.00",
        "z":"{cum}","n":"{fee}","N":"{fee_asset}","t":9,"m":true,"T":1700000000000}}}}"#
    )
}

#[test]
fn execution_reports_become_fills_once_with_fees_in_quote_or_base_asset() {
    let (mut gw, mut reports) = stage();
    // A fill with its fee in USDT: 0.06 USDT at notional scale 10.
    gw.on_message(trade("0.00100000", "0.06000000", "USDT").as_bytes());
    let r = reports.pop().unwrap();
    assert_eq!(
        r.kind,
        ExecKind::Fill {
            px: Px(6_000_000),
            qty: Qty(100_000),
            fee: 600_000_000,
            liquidity: Liquidity::Maker,
            trade_id: 9.into(),
        }
    );
    assert_eq!(
        (r.leaves, r.ts),
        (Qty(100_000), Nanos(1_700_000_000_000_000_000))
    );
    // The same report again (a duplicate on the stream): nothing new.
    gw.on_message(trade("0.00100000", "0.06000000", "USDT").as_bytes());
    assert!(reports.pop().is_err());
    // The second fill pays 0.000001 BTC: reported at the fill's price, 0.06 USDT, and the
    // holdings the balance check expects are 0.002 BTC less the fee.
    gw.on_message(trade("0.00200000", "0.00000100", "BTC").as_bytes());
    let r = reports.pop().unwrap();
    assert!(
        matches!(
            r.kind,
            ExecKind::Fill {
                fee: 600_000_000,
                ..
            }
        ),
        "{r:?}"
    );
    assert_eq!(r.leaves, Qty(0));
    assert_eq!(gw.orders.reports.positions()[0], 200_000 - 100);
    assert_eq!(gw.tracked(), 0, "filled: no longer tracked");
}

/// What the writer sends is JSON whose parameters, sorted and signed as Binance's
/// WebSocket API signs them, give the signature it carries.
#[test]
fn a_written_request_is_json_signed_over_its_sorted_parameters() {
    let signer = Signer::hmac(Secret::new("s3cret".into()));
    let mut w = RequestWriter::new();
    w.begin(Kind::Place, 42, "order.place", Some("key-1"));
    w.param("newClientOrderId", format_args!("{}", 7), true);
    w.param(
        "price",
        format_args!("{}", Decimal::new(6_168_602, 2)),
        true,
    );
    w.param("recvWindow", format_args!("{}", 5_000), false);
    w.param("symbol", format_args!("BTCUSDT"), true);
    w.param("timestamp", format_args!("{}", 1_700_000_000_000u64), false);
    w.sign(&signer);
    w.close();
    let v: serde_json::Value = serde_json::from_str(&w.out).unwrap();
    assert_eq!(v["id"], "p42");
    assert_eq!(v["method"], "order.place");
    let params = v["params"].as_object().unwrap();
    assert_eq!(params["price"], "61686.02");
    assert_eq!(params["recvWindow"], 5_000);
    let texts: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "signature")
        .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_owned)))
        .collect();
    let pairs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(pairs.len(), 6);
    assert_eq!(params["signature"], signer.sign(&payload_sorted(&pairs)));
    // A time request: no parameters, no signature.
    w.begin(Kind::Time, 43, "time", None);
    w.close();
    assert_eq!(w.out, r#"{"id":"t43","method":"time","params":{}}"#);
}

#[test]
fn malformed_and_foreign_messages_are_counted_not_reported() {
    let (mut gw, mut reports) = stage();
    gw.on_message(b"{\"subscriptionId\":0,\"event\":{\"e\":\"executionReport\"");
    gw.on_message(br#"{"id":"p1","status":200}"#);
    gw.on_message(
        trade("0.00100000", "0", "USDT")
            .replace("\"c\":\"5\"", "\"c\":\"web-123\"")
            .as_bytes(),
    );
    assert!(reports.pop().is_err());
    assert_eq!(gw.counters.malformed, 1);
    assert_eq!(gw.counters.foreign_events, 1);
    // An answer to nothing in flight (p1 was never sent) is dropped.
    assert_eq!(gw.counters.responses, 1);
}
