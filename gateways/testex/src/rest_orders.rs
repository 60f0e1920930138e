//! Binance's signed REST order endpoints over the venue's order side: `POST`, `DELETE` and
//! `GET /api/v3/order`, `POST /api/v3/order/cancelReplace`, `GET /api/v3/openOrders` and
//! `GET /api/v3/account`.
//!
//! Each maps onto the WebSocket API method of the same meaning ([`Exchange::request_verified`]),
//! so both APIs share one set of order semantics. Only the signature differs: a REST request is
//! signed over `totalParams`, the query string followed by the body exactly as sent (order and
//! percent-encoding included), where the WebSocket API signs its parameters sorted by name. So
//! the signature is checked here, over the raw text, before the decoded parameters reach the
//! exchange; the key comes from the `X-MBX-APIKEY` header rather than a parameter.
//!
//! Order faults apply to the requests that place an order (`POST /api/v3/order` and
//! `.../cancelReplace`), counted with the WebSocket API's: over HTTP, a dropped response and a
//! disconnect both close the connection unanswered.

use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::api::{weight, ApiError, BAD_SIGNATURE};
use crate::exchange::Exchange;
use crate::fault::OrderFault;
use crate::http::{RequestHead, Response};
use crate::rest::{self, Outcome, USED_WEIGHT};
use crate::shared::Shared;

/// Binance's header with the orders placed in the current 10 seconds.
const ORDER_COUNT: &str = "X-MBX-ORDER-COUNT-10S";

const ILLEGAL_CHARS: ApiError = ApiError {
    status: 400,
    code: -1100,
    msg: "Illegal characters found in a parameter.",
};
const DUPLICATE_PARAM: ApiError = ApiError {
    status: 400,
    code: -1101,
    msg: "Duplicate values for a parameter detected.",
};
const BAD_CONTENT_TYPE: ApiError = ApiError {
    status: 400,
    code: -1000,
    msg: "A request body must be application/x-www-form-urlencoded.",
};

/// Whether `path` is one of the order endpoints (served only with an order side).
pub(crate) fn serves(path: &str) -> bool {
    matches!(
        path,
        "/api/v3/order" | "/api/v3/order/cancelReplace" | "/api/v3/openOrders" | "/api/v3/account"
    )
}

/// The WebSocket API method a REST request maps onto, and Binance's request weight for it.
fn endpoint(head: &RequestHead) -> Option<(&'static str, u32)> {
    let method = match (head.method.as_str(), head.path()) {
        ("POST", "/api/v3/order") => "order.place",
        ("DELETE", "/api/v3/order") => "order.cancel",
        ("POST", "/api/v3/order/cancelReplace") => "order.cancelReplace",
        ("GET", "/api/v3/order") => "order.status",
        ("GET", "/api/v3/openOrders") => "openOrders.status",
        ("GET", "/api/v3/account") => "account.status",
        _ => return None,
    };
    Some((method, weight(method)))
}

/// One request to an order endpoint ([`serves`]), its body read whole.
pub(crate) fn serve(
    head: &RequestHead,
    body: &[u8],
    exchange: &Mutex<Exchange>,
    shared: &Shared,
) -> Outcome {
    let lock = || exchange.lock().unwrap_or_else(|e| e.into_inner());
    let Some((method, weight)) = endpoint(head) else {
        let used = lock().count(1, false).0;
        let response = rest::error(405, -1000, "Method not allowed on this path.");
        return Outcome::Answer(response.with_header(USED_WEIGHT, used));
    };
    let places = matches!(method, "order.place" | "order.cancelReplace");
    let fault = shared.order_fault(places);
    if let Some(error) = fault.and_then(|f| f.before()) {
        // Refused before the book: the weight counts, the order does not.
        let limits = lock().count(weight, false);
        let mut response = with_limits(error_response(&error), limits, places);
        if error.status == 429 {
            response = response.with_header("Retry-After", 1);
        }
        return Outcome::Answer(response);
    }
    let request = SignedParams::parse(head, body);
    let mut ex = lock();
    let limits = ex.count(weight, places);
    let outcome = request.and_then(|request| {
        ex.check_key(request.params.get("apiKey").and_then(|k| k.as_str()))?;
        if !ex.verify_rest_signature(&request.total_params, &request.signature) {
            return Err(BAD_SIGNATURE);
        }
        ex.request_verified(method, &request.params)
    });
    drop(ex);
    if matches!(
        fault,
        Some(OrderFault::DropResponse { .. } | OrderFault::Disconnect { .. })
    ) {
        return Outcome::Cut;
    }
    let response = match (fault.and_then(|f| f.error_after()), outcome) {
        (Some(error), _) => error_response(&error),
        (None, Ok(result)) => Response::json(200, result.to_string()),
        (None, Err(error)) => error_response(&error),
    };
    Outcome::Answer(with_limits(response, limits, places))
}

fn error_response(error: &ApiError) -> Response {
    rest::error(error.status, error.code, error.msg)
}

/// Binance's rate limit headers: the weight on every response, the order count on orders.
fn with_limits(response: Response, (used, orders): (u32, u32), places: bool) -> Response {
    let response = response.with_header(USED_WEIGHT, used);
    if places {
        response.with_header(ORDER_COUNT, orders)
    } else {
        response
    }
}

/// A signed REST request's parameters: decoded for the exchange, and the text they were
/// signed as.
#[derive(Debug, PartialEq)]
struct SignedParams {
    /// Every parameter but `signature`, decoded, as JSON strings, with `apiKey` from the
    /// `X-MBX-APIKEY` header.
    params: Map<String, Value>,
    /// The query string followed by the body, exactly as sent, without the `signature` pair.
    total_params: String,
    /// Empty when none was sent (which no signature matches).
    signature: String,
}

impl SignedParams {
    /// Reads the query and, except for `GET` (whose parameters Binance takes from the query
    /// alone), a form-encoded body.
    fn parse(head: &RequestHead, body: &[u8]) -> Result<SignedParams, ApiError> {
        let body = if head.method == "GET" || body.is_empty() {
            ""
        } else {
            let form = head.header("content-type").is_none_or(|t| {
                t.split(';').next().is_some_and(|t| {
                    t.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
            if !form {
                return Err(BAD_CONTENT_TYPE);
            }
            std::str::from_utf8(body).map_err(|_| ILLEGAL_CHARS)?
        };
        let mut signed = SignedParams::from_text(head.query(), body)?;
        // The key is a header on REST: a parameter of that name must not stand in for it.
        signed.params.remove("apiKey");
        if let Some(key) = head.header("x-mbx-apikey") {
            signed.params.insert("apiKey".into(), key.into());
        }
        Ok(signed)
    }

    fn from_text(query: &str, body: &str) -> Result<SignedParams, ApiError> {
        let mut params = Map::new();
        let mut total_params = String::with_capacity(query.len() + body.len());
        let mut signature = None;
        for part in [query, body] {
            let mut kept = Vec::new();
            for pair in part.split('&') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let (name, value) = (decode(name)?, decode(value)?);
                if name == "signature" {
                    if signature.replace(value).is_some() {
                        return Err(DUPLICATE_PARAM);
                    }
                    continue;
                }
                // An empty pair (`a=1&&b=2`) carries nothing but is part of the signed text.
                if !name.is_empty() && params.insert(name, Value::String(value)).is_some() {
                    return Err(DUPLICATE_PARAM);
                }
                kept.push(pair);
            }
            total_params.push_str(&kept.join("&"));
        }
        Ok(SignedParams {
            params,
            total_params,
            signature: signature.unwrap_or_default(),
        })
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; the result must
/// be UTF-8.
fn decode(text: &str) -> Result<String, ApiError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let (hex, tail) = rest.split_at_checked(2).ok_or(ILLEGAL_CHARS)?;
                // Two hex digits exactly: `from_str_radix` alone would take a sign (`%+f`).
                let byte = std::str::from_utf8(hex)
                    .ok()
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(ILLEGAL_CHARS)?;
                bytes.push(byte);
                rest = tail;
            }
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).map_err(|_| ILLEGAL_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_head;
    use pulse_gateways::binance::sign::Signer;
    use pulse_gateways::secret::Secret;

    /// The key and secret of Binance's `rest-api.md` signing examples.
    use pulse_gateways::binance::sign::binance_doc::{self, KEY as DOC_KEY, SECRET as DOC_SECRET};

    fn head(text: &str) -> RequestHead {
        parse_head(text.as_bytes()).unwrap()
    }

    #[test]
    fn total_params_are_the_query_then_the_body_as_sent_without_the_signature() {
        // Binance's example 3: parameters in both, the signature in the body.
        let post = head(&format!(
            "POST /api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC HTTP/1.1\r\n\
             X-MBX-APIKEY: {DOC_KEY}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        ));
        let body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559\
                    &signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
        let signed = SignedParams::parse(&post, body.as_bytes()).unwrap();
        assert_eq!(
            signed.total_params,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC\
             quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            signed.signature,
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
        let signer = Signer::hmac(Secret::new(DOC_SECRET.to_owned()));
        assert_eq!(signer.sign(&signed.total_params), signed.signature);
        let expected: Map<String, Value> = binance_doc::params("LTCBTC")
            .into_iter()
            .chain([("apiKey", DOC_KEY)])
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        assert_eq!(signed.params, expected);
    }

    #[test]
    fn parameters_are_decoded_but_signed_as_sent() {
        let signed = SignedParams::from_text(
            "newClientOrderId=rest%3Agtc%2F1&note=a+b&signature=ab&&timestamp=5",
            "",
        )
        .unwrap();
        assert_eq!(
            signed.total_params,
            "newClientOrderId=rest%3Agtc%2F1&note=a+b&&timestamp=5"
        );
        assert_eq!(signed.signature, "ab");
        assert_eq!(signed.params["newClientOrderId"], "rest:gtc/1");
        assert_eq!(signed.params["note"], "a b");
        assert_eq!(signed.params["timestamp"], "5");
        assert_eq!(signed.params.len(), 3);
    }

    #[test]
    fn malformed_parameters_are_refused_with_binance_codes() {
        for (query, body, code) in [
            ("symbol=BTC%2", "", -1100),
            ("symbol=BTC%zz", "", -1100),
            ("symbol=BTC%+f", "", -1100),
            ("symbol=%ff", "", -1100),
            ("symbol=A&symbol=B", "", -1101),
            ("symbol=A", "symbol=A", -1101),
            ("signature=a", "signature=b", -1101),
        ] {
            let err = SignedParams::from_text(query, body).unwrap_err();
            assert_eq!(err.code, code, "{query} / {body}");
        }
        let json_body =
            head("POST /api/v3/order HTTP/1.1\r\nContent-Type: application/json\r\n\r\n");
        assert_eq!(
            SignedParams::parse(&json_body, b"{}").unwrap_err(),
            BAD_CONTENT_TYPE
        );
    }

    #[test]
    fn the_key_comes_from_the_header_alone_and_get_bodies_are_ignored() {
        let get = head("GET /api/v3/account?apiKey=forged&timestamp=1 HTTP/1.1\r\n\r\n");
        let signed = SignedParams::parse(&get, b"timestamp=2&signature=x").unwrap();
        assert_eq!(signed.params.get("apiKey"), None);
        assert_eq!(signed.params["timestamp"], "1");
        assert_eq!(signed.total_params, "apiKey=forged&timestamp=1");
        assert_eq!(signed.signature, "");
    }

    #[test]
    fn endpoints_map_onto_the_websocket_api_with_binance_weights() {
        for (line, expected) in [
            ("POST /api/v3/order", Some(("order.place", 1))),
            ("DELETE /api/v3/order?orderId=1", Some(("order.cancel", 1))),
            (
                "POST /api/v3/order/cancelReplace",
                Some(("order.cancelReplace", 1)),
            ),
            ("GET /api/v3/order", Some(("order.status", 4))),
            ("GET /api/v3/openOrders", Some(("openOrders.status", 6))),
            ("GET /api/v3/account", Some(("account.status", 20))),
            ("PUT /api/v3/order", None),
        ] {
            assert_eq!(
                endpoint(&head(&format!("{line} HTTP/1.1\r\n\r\n"))),
                expected
            );
        }
        assert!(serves("/api/v3/openOrders") && !serves("/api/v3/depth"));
    }
}
