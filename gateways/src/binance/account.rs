//! The account at start: a short blocking WebSocket API session (before the hot path runs)
//! that syncs the clock and reads `account.status` and `openOrders.status`, for startup
//! reconciliation. Positions are the base asset's balance (free plus locked) of each
//! configured instrument: on a spot account the holdings are the position.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulse_feeds::event::EventMeta;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, Px, Qty, Side};
use pulse_feeds::rest::{connect, Conn};
use pulse_feeds::ws::endpoint::Endpoint;
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

use super::sign::{payload_sorted, Signer};
use crate::order::{ClientOrderId, Order, TimeInForce};
use crate::secret::Secret;
use crate::sim::{OpenOrder, VenueAccount};

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A blocking client of the WebSocket API, for startup.
pub struct BlockingApi<'a> {
    ws: WebSocket<Conn>,
    api_key: &'a Secret,
    signer: &'a Signer,
    recv_window_ms: u64,
    /// Venue time minus ours, ms.
    offset_ms: i64,
    next_id: u64,
    deadline: Instant,
}

impl<'a> BlockingApi<'a> {
    /// Connects and syncs the clock; everything must be done within `timeout`.
    pub fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        api_key: &'a Secret,
        signer: &'a Signer,
        recv_window_ms: u64,
        timeout: Duration,
    ) -> Result<BlockingApi<'a>, String> {
        let endpoint = Endpoint::parse(url)?;
        let stream = connect(&endpoint, tls.as_ref(), timeout)
            .map_err(|e| format!("cannot connect to {}: {e:?}", endpoint.host_header()))?;
        let (ws, _) = tungstenite::client::client(url, stream)
            .map_err(|e| format!("WebSocket handshake with {url} failed: {e}"))?;
        let mut api = BlockingApi {
            ws,
            api_key,
            signer,
            recv_window_ms,
            offset_ms: 0,
            next_id: 1,
            deadline: Instant::now() + timeout,
        };
        let sent = wall_ms();
        let time = api.call("time", json!({}), false)?;
        let received = wall_ms();
        let server = time
            .get("serverTime")
            .and_then(Value::as_i64)
            .ok_or("the time answer has no serverTime")?;
        api.offset_ms = server - (sent + received) / 2;
        Ok(api)
    }

    /// One request; the `result`, or the venue's error as text (code and message: never a
    /// parameter, so never a key).
    pub fn call(&mut self, method: &str, params: Value, signed: bool) -> Result<Value, String> {
        let mut params = match params {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        if signed {
            params.insert("apiKey".into(), self.api_key.expose().into());
            params.insert("recvWindow".into(), self.recv_window_ms.into());
            params.insert("timestamp".into(), (wall_ms() + self.offset_ms).into());
            let texts: Vec<(String, String)> = params
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect();
            let pairs: Vec<(&str, &str)> = texts
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            params.insert(
                "signature".into(),
                self.signer.sign(&payload_sorted(&pairs)).into(),
            );
        }
        let id = format!("start{}", self.next_id);
        self.next_id += 1;
        let request = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(Message::text(request.to_string()))
            .map_err(|e| format!("{method}: cannot send: {e}"))?;
        loop {
            if Instant::now() > self.deadline {
                return Err(format!("{method}: no answer in time"));
            }
            let message = self
                .ws
                .read()
                .map_err(|e| format!("{method}: connection failed: {e}"))?;
            let Message::Text(text) = message else {
                continue;
            };
            let Ok(reply) = serde_json::from_str::<Value>(text.as_str()) else {
                return Err(format!("{method}: the answer is not JSON"));
            };
            if reply.get("id").and_then(Value::as_str) != Some(id.as_str()) {
                continue;
            }
            if let Some(result) = reply.get("result") {
                return Ok(result.clone());
            }
            let error = reply.get("error");
            let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
            let msg = error
                .and_then(|e| e.get("msg"))
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(format!(
                "{method}: refused with status {} code {} ({msg})",
                reply.get("status").and_then(Value::as_u64).unwrap_or(0),
                code.unwrap_or(0)
            ));
        }
    }

    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

/// The account as the venue reports it, in the registry's instruments.
pub fn fetch_account(
    api: &mut BlockingApi<'_>,
    instruments: &InstrumentRegistry,
) -> Result<VenueAccount, String> {
    let account = api.call("account.status", json!({}), true)?;
    let balances = account
        .get("balances")
        .and_then(Value::as_array)
        .ok_or("account.status: no balances")?;
    let mut positions = Vec::with_capacity(instruments.len());
    for spec in instruments.iter() {
        let base = spec.base.as_str();
        if base.is_empty() {
            return Err(format!(
                "{}: no base asset configured, so no balance to read its position from",
                spec.symbol
            ));
        }
        let mut total = 0i64;
        for b in balances {
            if b.get("asset").and_then(Value::as_str) != Some(base) {
                continue;
            }
            for field in ["free", "locked"] {
                let text = b.get(field).and_then(Value::as_str).unwrap_or("0");
                let amount = parse_decimal(text.as_bytes(), spec.qty_scale).map_err(|_| {
                    format!(
                        "account.status: the {base} balance {field} is not a decimal at scale {}",
                        spec.qty_scale
                    )
                })?;
                total += amount;
            }
        }
        positions.push(Qty(total));
    }
    let mut open = Vec::new();
    for spec in instruments.iter().filter(|i| i.venue == Venue::Binance) {
        let orders = api.call("openOrders.status", json!({ "symbol": spec.symbol }), true)?;
        for o in orders.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
            let decimal = |k: &str, scale| parse_decimal(text(k).as_bytes(), scale).ok();
            let (Some(px), Some(qty), Some(done)) = (
                decimal("price", spec.price_scale),
                decimal("origQty", spec.qty_scale),
                decimal("executedQty", spec.qty_scale),
            ) else {
                return Err(format!(
                    "openOrders.status: an order of {} has unreadable figures",
                    spec.symbol
                ));
            };
            let tif = match (text("type"), text("timeInForce")) {
                ("LIMIT_MAKER", _) => TimeInForce::PostOnly,
                (_, "IOC") => TimeInForce::Ioc,
                (_, "FOK") => TimeInForce::Fok,
                _ => TimeInForce::Gtc,
            };
            open.push(OpenOrder {
                order: Order {
                    meta: EventMeta {
                        instrument: spec.id,
                        ..EventMeta::default()
                    },
                    // An id that is not ours (another client's) is 0: never one of ours.
                    client_id: ClientOrderId(text("clientOrderId").parse().unwrap_or(0)),
                    instrument: spec.id,
                    side: if text("side") == "SELL" {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    px: Px(px),
                    qty: Qty(qty),
                    tif,
                },
                leaves: Qty(qty - done),
            });
        }
    }
    Ok(VenueAccount { positions, open })
}
