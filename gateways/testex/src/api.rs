//! The order API's vocabulary: Binance's errors, request weights, and reading parameters.

use std::time::{SystemTime, UNIX_EPOCH};

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::Fees;
use serde_json::{Map, Value};

/// What the order side needs to know: the instruments it trades, the key it accepts, fees.
#[derive(Clone, Debug)]
pub struct OrderApiConfig {
    pub instruments: InstrumentRegistry,
    /// The API key clients send (`apiKey` / `X-MBX-APIKEY`).
    pub api_key: String,
    /// The HMAC secret requests are signed with.
    pub secret: std::sync::Arc<Secret>,
    pub fees: Fees,
}

/// A failed request: HTTP status, Binance error code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: i64,
    pub msg: &'static str,
}

impl ApiError {
    pub(crate) const fn new(status: u16, code: i64, msg: &'static str) -> ApiError {
        ApiError { status, code, msg }
    }
}

pub(crate) const BAD_SIGNATURE: ApiError =
    ApiError::new(400, -1022, "Signature for this request is not valid.");
pub(crate) const BAD_KEY: ApiError = ApiError::new(
    401,
    -2015,
    "Invalid API-key, IP, or permissions for action.",
);
pub(crate) const OUTSIDE_WINDOW: ApiError = ApiError::new(
    400,
    -1021,
    "Timestamp for this request is outside of the recvWindow.",
);
pub(crate) const UNKNOWN_ORDER: ApiError = ApiError::new(400, -2011, "Unknown order sent.");
pub(crate) const NO_SUCH_ORDER: ApiError = ApiError::new(400, -2013, "Order does not exist.");
pub(crate) const DUPLICATE_ORDER: ApiError = ApiError::new(400, -2010, "Duplicate order sent.");
pub(crate) const BAD_SYMBOL: ApiError = ApiError::new(400, -1121, "Invalid symbol.");
pub(crate) const BAD_PARAM: ApiError = ApiError::new(
    400,
    -1102,
    "A mandatory parameter was not sent, was empty/null, or malformed.",
);
pub(crate) const UNKNOWN_METHOD: ApiError = ApiError::new(400, -1000, "Unknown method.");

pub(crate) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Binance's request weight of each method (REST endpoints weigh the same as their WebSocket
/// API methods).
pub(crate) fn weight(method: &str) -> u32 {
    match method {
        "order.status" => 4,
        "openOrders.status" => 6,
        "account.status" => 20,
        _ => 1,
    }
}

/// A parameter as the text it was signed as: strings as they are, numbers and booleans as
/// written in JSON.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn number(params: &Map<String, Value>, name: &str) -> Option<u64> {
    match params.get(name)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
