//! The REST side: `GET /api/v3/depth` from the true book at that instant, with Binance's error
//! bodies; `/api/v3/ping` and `/api/v3/time` for health checks; and, with an order side,
//! Binance's signed order endpoints ([`crate::rest_orders`], routed by the server) and the
//! request weight header on every response, REST and WebSocket API counting against the same minute as on Binance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use pulse_feeds::capture::{parse_u64, query_param};
use serde_json::json;

use crate::book::TrueBook;
use crate::http::{RequestHead, Response};

/// Levels a side when the request names no limit (Binance's default).
const DEFAULT_LIMIT: usize = 100;
/// Binance truncates larger limits to this.
const MAX_LIMIT: usize = 5000;

/// Binance's header with the request weight used in the current minute.
pub(crate) const USED_WEIGHT: &str = "X-MBX-USED-WEIGHT-1M";

/// What a connection does after a REST request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Answer(Response),
    /// Close without answering (an order fault).
    Cut,
}

/// The public endpoints; any other path is unknown (404), whatever the method.
pub(crate) fn respond(head: &RequestHead, books: &Mutex<HashMap<String, TrueBook>>) -> Response {
    let get = head.method == "GET";
    match head.path() {
        "/api/v3/depth" if get => depth(head.target.as_bytes(), books),
        "/api/v3/ping" if get => Response::json(200, "{}"),
        "/api/v3/time" if get => {
            let ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            Response::json(200, format!("{{\"serverTime\":{ms}}}"))
        }
        "/api/v3/depth" | "/api/v3/ping" | "/api/v3/time" => {
            error(405, -1000, "Only GET is supported on this path.")
        }
        _ => error(404, -1000, "Unknown path."),
    }
}

fn depth(target: &[u8], books: &Mutex<HashMap<String, TrueBook>>) -> Response {
    let symbol = match query_param(target, b"symbol") {
        None | Some([]) => {
            return error(
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            )
        }
        Some(symbol) => symbol,
    };
    let legal = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b"-_.".contains(b);
    if symbol.len() > 20 || !symbol.iter().all(legal) {
        return error(
            400,
            -1100,
            "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
        );
    }
    let limit = match query_param(target, b"limit") {
        None | Some([]) => DEFAULT_LIMIT,
        Some(digits) => match parse_u64(digits).filter(|_| digits.len() <= 20) {
            Some(n) => usize::try_from(n).unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT),
            None => return error(
                400,
                -1100,
                "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
            ),
        },
    };
    let symbol = String::from_utf8_lossy(symbol);
    let books = books.lock().unwrap_or_else(|e| e.into_inner());
    match books.get(symbol.as_ref()) {
        Some(book) => Response::json(200, book.depth_json(limit)),
        None => error(400, -1121, "Invalid symbol."),
    }
}

/// Request weights Binance publishes for the public endpoints: the depth's grows with `limit`.
pub(crate) fn weight(head: &RequestHead) -> u32 {
    if head.path() != "/api/v3/depth" {
        return 1;
    }
    match query_param(head.target.as_bytes(), b"limit").and_then(parse_u64) {
        None | Some(0..=100) => 5,
        Some(101..=500) => 25,
        Some(501..=1000) => 50,
        Some(_) => 250,
    }
}

/// Binance's error body: `{"code":-1121,"msg":"Invalid symbol."}`.
pub(crate) fn error(status: u16, code: i64, msg: &str) -> Response {
    Response::json(status, json!({ "code": code, "msg": msg }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_head;

    fn get(target: &str, books: &Mutex<HashMap<String, TrueBook>>) -> Response {
        let head = parse_head(format!("GET {target} HTTP/1.1\r\n\r\n").as_bytes()).unwrap();
        respond(&head, books)
    }

    #[test]
    fn depth_serves_the_book_and_binance_errors() {
        let book = TrueBook::from_snapshot(
            br#"{"lastUpdateId":7,"bids":[["2.0","1.0"],["1.0","1.0"]],"asks":[["3.0","1.0"]]}"#,
        )
        .unwrap();
        let books = Mutex::new(HashMap::from([("BTCUSDT".to_string(), book)]));
        let ok = get("/api/v3/depth?symbol=BTCUSDT&limit=1", &books);
        assert_eq!(
            ok,
            Response::json(
                200,
                r#"{"lastUpdateId":7,"bids":[["2.0","1.0"]],"asks":[["3.0","1.0"]]}"#
            )
        );
        let all = get("/api/v3/depth?symbol=BTCUSDT", &books);
        assert!(all.body.contains(r#"["1.0","1.0"]"#));
        let huge = get("/api/v3/depth?symbol=BTCUSDT&limit=99999999", &books);
        assert_eq!(huge.status, 200);
        for (target, status, code) in [
            ("/api/v3/depth?symbol=ETHUSDT", 400, -1121),
            ("/api/v3/depth", 400, -1102),
            ("/api/v3/depth?symbol=btcusdt", 400, -1100),
            ("/api/v3/depth?symbol=BTCUSDT&limit=ten", 400, -1100),
            ("/api/v3/nothing", 404, -1000),
        ] {
            let r = get(target, &books);
            assert_eq!(r.status, status, "{target}");
            assert!(
                r.body.starts_with(&format!("{{\"code\":{code},\"msg\":\"")),
                "{target}: {}",
                r.body
            );
        }
        assert_eq!(
            get("/api/v3/depth?symbol=ETHUSDT", &books).body,
            r#"{"code":-1121,"msg":"Invalid symbol."}"#
        );
        assert_eq!(get("/api/v3/ping", &books), Response::json(200, "{}"));
        let post = parse_head(b"POST /api/v3/depth HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(respond(&post, &books).status, 405);
        let elsewhere = parse_head(b"POST /api/v3/order HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(respond(&elsewhere, &books).status, 404);
    }

    #[test]
    fn depth_weighs_by_limit_as_on_binance() {
        let weight_of = |target: &str| {
            weight(&parse_head(format!("GET {target} HTTP/1.1\r\n\r\n").as_bytes()).unwrap())
        };
        assert_eq!(weight_of("/api/v3/depth?symbol=BTCUSDT"), 5);
        assert_eq!(weight_of("/api/v3/depth?symbol=BTCUSDT&limit=100"), 5);
        assert_eq!(weight_of("/api/v3/depth?symbol=BTCUSDT&limit=101"), 25);
        assert_eq!(weight_of("/api/v3/depth?symbol=BTCUSDT&limit=1000"), 50);
        assert_eq!(weight_of("/api/v3/depth?symbol=BTCUSDT&limit=5000"), 250);
        assert_eq!(weight_of("/api/v3/time"), 1);
    }
}
