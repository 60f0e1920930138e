//! The venue's REST order endpoints over real loopback sockets, with the bundled capture: a bare
//! HTTP/1.1 client signs requests as Binance's REST API documents (HMAC of the query string and
//! body as sent, key in `X-MBX-APIKEY`) and checks what Binance would answer, the rate limit
//! headers, keep-alive across requests with bodies, and the order faults.

mod venue_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulse_feeds::instrument::{InstrumentRegistry, Venue as VenueId};
use pulse_feeds::num::{Px, Qty};
use pulse_gateways::binance::sign::{payload, Signer};
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use pulse_testex::{OrderApiConfig, OrderFault, Venue, VenueConfig};
use serde_json::Value;
use venue_support::{capture, READ_LIMIT};

const KEY: &str = "rest-test-key";
const SECRET: &str = "rest-test-secret";

fn venue_with(orders: bool, order_faults: Vec<OrderFault>) -> Venue {
    let mut instruments = InstrumentRegistry::new();
    instruments
        .add(VenueId::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
        .unwrap();
    let orders = orders.then(|| OrderApiConfig {
        instruments,
        api_key: KEY.to_string(),
        secret: Arc::new(Secret::new(SECRET.to_string())),
        fees: Fees {
            maker_ppm: 200,
            taker_ppm: 1_000,
        },
    });
    Venue::start(VenueConfig {
        orders,
        order_faults,
        ..VenueConfig::new(capture())
    })
    .unwrap()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The whole-number part of a price string as the venue's book holds it (`"61234.56000000"`).
fn whole(price: &str) -> u64 {
    price.split('.').next().unwrap().parse().unwrap()
}

/// The best bid and ask, whole units of USDT.
fn touch(venue: &Venue) -> (u64, u64) {
    let book = venue.book("BTCUSDT", 1).unwrap();
    (whole(&book.bids[0].0), whole(&book.asks[0].0))
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn weight(&self) -> u64 {
        self.header("X-MBX-USED-WEIGHT-1M")
            .expect("every response carries the weight")
            .parse()
            .unwrap()
    }

    fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(0)
    }
}

/// One keep-alive connection, signing with `key`'s secret.
struct Client {
    stream: TcpStream,
    signer: Signer,
}

impl Client {
    fn connect(venue: &Venue) -> Client {
        let stream = TcpStream::connect(venue.addr()).unwrap();
        stream.set_read_timeout(Some(READ_LIMIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            signer: Signer::hmac(Secret::new(SECRET.to_string())),
        }
    }

    /// One request as given; `None` when the venue closed the connection without answering.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: &str,
        key: Option<&str>,
    ) -> Option<Reply> {
        let target = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        let mut request = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n");
        if let Some(key) = key {
            request.push_str(&format!("X-MBX-APIKEY: {key}\r\n"));
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.stream.write_all(request.as_bytes()).unwrap();
        self.read_reply()
    }

    fn read_reply(&mut self) -> Option<Reply> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match self.stream.read(&mut byte) {
                Ok(0) if head.is_empty() => return None,
                Err(e) if head.is_empty() && e.kind() == ErrorKind::ConnectionReset => return None,
                Ok(1) => head.push(byte[0]),
                other => panic!("the response ended in its head: {other:?}"),
            }
        }
        let head = String::from_utf8(head).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "Content-Length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).unwrap();
        Some(Reply {
            status,
            headers,
            body: serde_json::from_slice(&body).unwrap(),
        })
    }

    /// `params` with a fresh `timestamp`, encoded as sent and signed.
    fn sign(&self, params: &[(&str, &str)]) -> String {
        let timestamp = now_ms().to_string();
        let mut all = params.to_vec();
        all.push(("timestamp", &timestamp));
        let text = payload(&all);
        let signature = self.signer.sign(&text);
        format!("{text}&signature={signature}")
    }

    /// A signed request as Binance's clients send it: parameters in the body for `POST`, in the
    /// query otherwise.
    fn signed(&mut self, method: &str, path: &str, params: &[(&str, &str)]) -> Reply {
        let signed = self.sign(params);
        let (query, body) = if method == "POST" {
            ("", signed.as_str())
        } else {
            (signed.as_str(), "")
        };
        self.send(method, path, query, body, Some(KEY))
            .expect("an answer")
    }
}

/// A limit order's parameters.
fn limit<'a>(
    side: &'a str,
    tif: &'a str,
    price: &'a str,
    client: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("symbol", "BTCUSDT"),
        ("side", side),
        ("type", "LIMIT"),
        ("timeInForce", tif),
        ("quantity", "0.00100000"),
        ("price", price),
        ("newClientOrderId", client),
    ]
}

#[test]
fn signatures_keys_and_time_windows_are_checked_as_binance_checks_them() {
    let venue = venue_with(true, Vec::new());
    let mut client = Client::connect(&venue);
    let account = "/api/v3/account";

    let ok = client.signed("GET", account, &[]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["canTrade"], true);

    let mut tampered = client.sign(&[]);
    tampered.pop();
    tampered.push('x');
    let bad = client
        .send("GET", account, &tampered, "", Some(KEY))
        .unwrap();
    assert_eq!((bad.status, bad.code()), (400, -1022), "{}", bad.body);
    let unsigned = format!("timestamp={}", now_ms());
    let bad = client
        .send("GET", account, &unsigned, "", Some(KEY))
        .unwrap();
    assert_eq!((bad.status, bad.code()), (400, -1022), "{}", bad.body);

    let signed = client.sign(&[]);
    let keyless = client.send("GET", account, &signed, "", None).unwrap();
    assert_eq!(
        (keyless.status, keyless.code()),
        (401, -2015),
        "{}",
        keyless.body
    );
    let wrong = client
        .send("GET", account, &signed, "", Some("other"))
        .unwrap();
    assert_eq!((wrong.status, wrong.code()), (401, -2015), "{}", wrong.body);
    // The key is checked first, as on Binance: a wrong key is -2015 whatever its signature.
    let wrong_unsigned = client
        .send("GET", account, &unsigned, "", Some("other"))
        .unwrap();
    assert_eq!(
        (wrong_unsigned.status, wrong_unsigned.code()),
        (401, -2015),
        "{}",
        wrong_unsigned.body
    );
    // A key sent as a parameter does not stand in for the header.
    let as_param = client.sign(&[("apiKey", KEY)]);
    let bad = client.send("GET", account, &as_param, "", None).unwrap();
    assert_eq!((bad.status, bad.code()), (401, -2015), "{}", bad.body);

    let stale = (now_ms() - 10_000).to_string();
    let text = payload(&[("timestamp", stale.as_str())]);
    let old = format!("{text}&signature={}", client.signer.sign(&text));
    let late = client.send("GET", account, &old, "", Some(KEY)).unwrap();
    assert_eq!((late.status, late.code()), (400, -1021), "{}", late.body);
    let text = payload(&[("timestamp", stale.as_str()), ("recvWindow", "60000")]);
    let wide = format!("{text}&signature={}", client.signer.sign(&text));
    let inside = client.send("GET", account, &wide, "", Some(KEY)).unwrap();
    assert_eq!(inside.status, 200, "{}", inside.body);

    // Parameters split between the query and the body, signed as the two texts concatenated;
    // a client order id with reserved characters, percent-encoded.
    let (bid, _) = touch(&venue);
    let price = format!("{}.00", bid - 1_000);
    let query = payload(&[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT")]);
    let body = payload(&[
        ("timeInForce", "GTC"),
        ("quantity", "0.00100000"),
        ("price", &price),
        ("newClientOrderId", "rest:split/1"),
        ("timestamp", &now_ms().to_string()),
    ]);
    assert!(body.contains("rest%3Asplit%2F1"), "{body}");
    let signature = client.signer.sign(&format!("{query}{body}"));
    let body = format!("{body}&signature={signature}");
    let placed = client
        .send("POST", "/api/v3/order", &query, &body, Some(KEY))
        .unwrap();
    assert_eq!(placed.status, 200, "{}", placed.body);
    assert_eq!(placed.body["status"], "NEW");
    assert_eq!(placed.body["clientOrderId"], "rest:split/1");
    assert_eq!(placed.body["price"], price.as_str());
    // Signed over the sorted parameters (the WebSocket API's way) it is refused.
    let mut sorted = limit("BUY", "GTC", &price, "rest:sorted");
    let timestamp = now_ms().to_string();
    sorted.push(("timestamp", &timestamp));
    sorted.sort();
    let text = payload(&sorted);
    let reordered = payload(&limit("BUY", "GTC", &price, "rest:sorted"))
        + "&timestamp="
        + &timestamp
        + "&signature="
        + &client.signer.sign(&text);
    let refused = client
        .send("POST", "/api/v3/order", "", &reordered, Some(KEY))
        .unwrap();
    assert_eq!(
        (refused.status, refused.code()),
        (400, -1022),
        "{}",
        refused.body
    );

    let put = client
        .send("PUT", "/api/v3/order", "", "", Some(KEY))
        .unwrap();
    assert_eq!((put.status, put.code()), (405, -1000), "{}", put.body);
    assert_eq!(venue.placed_orders(), vec!["rest:split/1".to_string()]);
}

#[test]
fn an_ioc_buy_through_the_book_fills_and_the_account_holds_it() {
    let venue = venue_with(true, Vec::new());
    let mut client = Client::connect(&venue);
    let (_, ask) = touch(&venue);
    let price = format!("{}.00", ask + 100);
    let fill = client.signed(
        "POST",
        "/api/v3/order",
        &limit("BUY", "IOC", &price, "rest-ioc-1"),
    );
    assert_eq!(fill.status, 200, "{}", fill.body);
    assert_eq!(fill.body["status"], "FILLED");
    assert_eq!(fill.body["executedQty"], "0.00100000");
    assert_eq!(fill.body["origQty"], "0.00100000");
    assert_eq!(fill.body["side"], "BUY");
    assert_eq!(fill.body["timeInForce"], "IOC");
    assert_eq!(fill.header("X-MBX-ORDER-COUNT-10S"), Some("1"));
    let order_id = fill.body["orderId"].as_u64().unwrap().to_string();

    let status = client.signed(
        "GET",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("orderId", &order_id)],
    );
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.body["status"], "FILLED");
    assert_eq!(status.body["clientOrderId"], "rest-ioc-1");
    assert_eq!(status.header("X-MBX-ORDER-COUNT-10S"), None);

    let account = client.signed("GET", "/api/v3/account", &[]);
    assert_eq!(account.status, 200, "{}", account.body);
    let balance = |asset: &str| {
        account.body["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == asset)
            .map(|b| b["free"].as_str().unwrap().to_string())
    };
    assert_eq!(balance("BTC").as_deref(), Some("0.00100000"));
    // Paid for it: no more than the limit's cost plus the taker fee, and about the ask's
    // (the market may have moved a little since it was read).
    let usdt: f64 = balance("USDT").unwrap().parse().unwrap();
    let bound = |px: u64| -(px as f64) * 0.001;
    assert!(
        bound(ask + 101) * 1.001 < usdt && usdt < bound(ask - 100),
        "{usdt}"
    );
    assert_eq!(venue.account(), Some((vec![100_000], 0)));
}

#[test]
fn a_gtc_order_below_the_book_rests_lists_and_cancels_on_one_connection() {
    let venue = venue_with(true, Vec::new());
    let mut client = Client::connect(&venue);
    let minute = now_ms() / 60_000;
    let (bid, _) = touch(&venue);
    let price = format!("{}.00", bid - 1_000);
    let placed = client.signed(
        "POST",
        "/api/v3/order",
        &limit("BUY", "GTC", &price, "rest-gtc-1"),
    );
    assert_eq!(placed.status, 200, "{}", placed.body);
    assert_eq!(placed.body["status"], "NEW");
    assert_eq!(placed.body["executedQty"], "0.00000000");
    let mut weights = vec![placed.weight()];

    let open = client.signed("GET", "/api/v3/openOrders", &[("symbol", "BTCUSDT")]);
    assert_eq!(open.status, 200, "{}", open.body);
    let listed = open.body.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", open.body);
    assert_eq!(listed[0]["clientOrderId"], "rest-gtc-1");
    assert_eq!(listed[0]["price"], price.as_str());
    weights.push(open.weight());

    // A public endpoint on the same connection counts too (depth up to 100 levels: 5).
    let depth = client
        .send("GET", "/api/v3/depth", "symbol=BTCUSDT&limit=5", "", None)
        .unwrap();
    assert_eq!(depth.status, 200);
    assert_eq!(depth.body["bids"].as_array().unwrap().len(), 5);
    weights.push(depth.weight());

    // Cancel-replace (Binance's STOP_ON_FAILURE): the order moves one dollar down, a new id.
    let lower = format!("{}.00", bid - 1_001);
    let mut replace = limit("BUY", "GTC", &lower, "rest-gtc-2");
    replace.push(("cancelReplaceMode", "STOP_ON_FAILURE"));
    replace.push(("cancelOrigClientOrderId", "rest-gtc-1"));
    let replaced = client.signed("POST", "/api/v3/order/cancelReplace", &replace);
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["cancelResponse"]["status"], "CANCELED");
    assert_eq!(replaced.body["newOrderResponse"]["status"], "NEW");
    assert_eq!(replaced.body["newOrderResponse"]["price"], lower.as_str());
    assert!(replaced.header("X-MBX-ORDER-COUNT-10S").is_some());
    weights.push(replaced.weight());

    let cancelled = client.signed(
        "DELETE",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "rest-gtc-2")],
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "CANCELED");
    weights.push(cancelled.weight());

    let again = client.signed(
        "DELETE",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "rest-gtc-2")],
    );
    assert_eq!((again.status, again.code()), (400, -2011), "{}", again.body);
    let unknown = client.signed(
        "GET",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "nobody")],
    );
    assert_eq!(
        (unknown.status, unknown.code()),
        (400, -2013),
        "{}",
        unknown.body
    );
    weights.push(unknown.weight());

    let open = client.signed("GET", "/api/v3/openOrders", &[]);
    assert_eq!(open.body, Value::Array(Vec::new()));
    weights.push(open.weight());
    assert_eq!(venue.account(), Some((vec![0], 0)));
    assert_eq!(venue.placed_orders(), vec!["rest-gtc-1", "rest-gtc-2"]);

    // Fixed one-minute windows: the counts are exact unless the minute turned meanwhile.
    if now_ms() / 60_000 == minute {
        // place 1, openOrders 6, depth 5, cancel-replace 1, cancel 1, (cancel 1), status 4,
        // openOrders 6.
        let w0 = weights[0];
        assert_eq!(
            weights,
            vec![w0, w0 + 6, w0 + 11, w0 + 12, w0 + 13, w0 + 18, w0 + 24],
            "{weights:?}"
        );
    }
}

#[test]
fn order_faults_apply_to_rest_orders() {
    let venue = venue_with(
        true,
        vec![
            OrderFault::TooManyRequests { at: 0 },
            OrderFault::Reject { at: 1 },
            OrderFault::ServerError { at: 2 },
            OrderFault::DropResponse { at: 3 },
            OrderFault::Disconnect { at: 4 },
            OrderFault::Delay { at: 5, ms: 300 },
        ],
    );
    let mut client = Client::connect(&venue);
    let (bid, _) = touch(&venue);
    let price = format!("{}.00", bid - 1_000);
    let place = |client: &mut Client, id: &str| {
        let signed = client.sign(&limit("BUY", "GTC", &price, id));
        client.send("POST", "/api/v3/order", "", &signed, Some(KEY))
    };
    let status_of = |client: &mut Client, id: &str| {
        client.signed(
            "GET",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", id)],
        )
    };

    let limited = place(&mut client, "fault-429").unwrap();
    assert_eq!(
        (limited.status, limited.code()),
        (429, -1003),
        "{}",
        limited.body
    );
    assert_eq!(limited.header("Retry-After"), Some("1"));
    assert!(limited.header("X-MBX-USED-WEIGHT-1M").is_some());
    assert_eq!(limited.header("X-MBX-ORDER-COUNT-10S"), Some("0"));
    assert_eq!(status_of(&mut client, "fault-429").code(), -2013);

    let rejected = place(&mut client, "fault-reject").unwrap();
    assert_eq!(
        (rejected.status, rejected.code()),
        (400, -2010),
        "{}",
        rejected.body
    );
    assert_eq!(status_of(&mut client, "fault-reject").code(), -2013);

    let unknown = place(&mut client, "fault-5xx").unwrap();
    assert_eq!(
        (unknown.status, unknown.code()),
        (503, -1007),
        "{}",
        unknown.body
    );
    assert!(unknown.body["msg"]
        .as_str()
        .unwrap()
        .contains("execution status unknown"));
    assert_eq!(status_of(&mut client, "fault-5xx").body["status"], "NEW");

    for id in ["fault-drop", "fault-disconnect"] {
        assert!(place(&mut client, id).is_none(), "{id} was answered");
        client = Client::connect(&venue);
        assert_eq!(status_of(&mut client, id).body["status"], "NEW", "{id}");
    }

    let started = Instant::now();
    let delayed = place(&mut client, "fault-delay").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(delayed.status, 200, "{}", delayed.body);
    assert_eq!(
        venue.placed_orders(),
        vec!["fault-5xx", "fault-drop", "fault-disconnect", "fault-delay"]
    );
}

#[test]
fn without_an_order_side_the_order_paths_are_unknown() {
    let venue = venue_with(false, Vec::new());
    let mut client = Client::connect(&venue);
    for (method, path) in [
        ("POST", "/api/v3/order"),
        ("GET", "/api/v3/order"),
        ("GET", "/api/v3/openOrders"),
        ("GET", "/api/v3/account"),
    ] {
        let signed = client.sign(&[("symbol", "BTCUSDT")]);
        let reply = client.send(method, path, &signed, "", Some(KEY)).unwrap();
        assert_eq!(
            (reply.status, reply.code()),
            (404, -1000),
            "{method} {path}"
        );
        assert_eq!(reply.header("X-MBX-USED-WEIGHT-1M"), None);
    }
    let time = client.send("GET", "/api/v3/time", "", "", None).unwrap();
    assert_eq!(time.status, 200);
    assert!(time.body["serverTime"].as_u64().unwrap() > 0);
}

#[test]
fn bodies_too_large_or_unframed_are_refused_and_the_connection_closed() {
    let venue = venue_with(true, Vec::new());
    let mut client = Client::connect(&venue);
    let huge = "a".repeat(64 * 1024 + 1);
    let refused = client
        .send("POST", "/api/v3/order", "", &huge, Some(KEY))
        .unwrap();
    assert_eq!(
        (refused.status, refused.code()),
        (400, -1000),
        "{}",
        refused.body
    );
    assert_eq!(refused.header("Connection"), Some("close"));
    assert!(client.read_reply().is_none());

    let mut client = Client::connect(&venue);
    client
        .stream
        .write_all(
            b"POST /api/v3/order HTTP/1.1\r\nHost: localhost\r\n\
              Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        )
        .unwrap();
    let refused = client.read_reply().unwrap();
    assert_eq!(
        (refused.status, refused.code()),
        (400, -1000),
        "{}",
        refused.body
    );
    assert!(refused.body["msg"]
        .as_str()
        .unwrap()
        .contains("Transfer-Encoding"));
}
