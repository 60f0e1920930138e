//! The terms of a new order as Binance's order endpoints take them: side, type and time in
//! force, price and quantity at the instrument's scales, checked against its tick and lot, with
//! Binance's error for each refusal.

use pulse_feeds::instrument::Instrument;
use pulse_feeds::num::{parse_decimal, Px, Qty, Side};
use pulse_gateways::order::TimeInForce;
use serde_json::{Map, Value};

use crate::api::{text, ApiError};

/// Side, time in force, price (0 for a market order) and quantity of the order `params` ask for.
pub(crate) fn order_terms(
    params: &Map<String, Value>,
    spec: &Instrument,
) -> Result<(Side, TimeInForce, Px, Qty), ApiError> {
    let side = match params.get("side").and_then(Value::as_str) {
        Some("BUY") => Side::Buy,
        Some("SELL") => Side::Sell,
        _ => return Err(ApiError::new(400, -1102, "Invalid side.")),
    };
    let tif =
        match (
            params.get("type").and_then(Value::as_str),
            params.get("timeInForce").and_then(Value::as_str),
        ) {
            (Some("LIMIT"), Some("GTC")) => TimeInForce::Gtc,
            (Some("LIMIT"), Some("IOC")) => TimeInForce::Ioc,
            (Some("LIMIT"), Some("FOK")) => TimeInForce::Fok,
            (Some("LIMIT_MAKER"), None) => TimeInForce::PostOnly,
            (Some("MARKET"), None) => TimeInForce::Market,
            _ => return Err(ApiError::new(
                400,
                -1116,
                "Invalid orderType or timeInForce (LIMIT with GTC/IOC/FOK, LIMIT_MAKER or MARKET).",
            )),
        };
    let decimal = |name: &str, scale: u32| {
        params
            .get(name)
            .map(text)
            .and_then(|t| parse_decimal(t.as_bytes(), scale).ok())
            .filter(|&v| v > 0)
            .ok_or(ApiError::new(
                400,
                -1100,
                "Illegal characters or value in a decimal parameter.",
            ))
    };
    // A market order has no price (Binance refuses one): it takes the book at any price.
    let px = if tif == TimeInForce::Market {
        if params.contains_key("price") {
            return Err(ApiError::new(
                400,
                -1106,
                "Parameter 'price' sent when not required.",
            ));
        }
        Px(0)
    } else {
        Px(decimal("price", spec.price_scale)?)
    };
    let qty = Qty(decimal("quantity", spec.qty_scale)?);
    if px.0 % spec.tick.0.max(1) != 0 {
        return Err(ApiError::new(400, -1013, "Filter failure: PRICE_FILTER"));
    }
    if qty.0 % spec.lot.0.max(1) != 0 {
        return Err(ApiError::new(400, -1013, "Filter failure: LOT_SIZE"));
    }
    Ok((side, tif, px, qty))
}
