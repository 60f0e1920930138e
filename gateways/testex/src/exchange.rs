//! The venue's order side: Binance's spot order API semantics over the simulated venue.
//!
//! The market thread hands every snapshot and frame it plays to [`Exchange::on_snapshot`] and
//! [`Exchange::on_frame`]; they go through Pulse's own Binance decoder and book stage (the same
//! code as the engine's feed) into a [`SimVenue`], which matches orders against the venue's
//! true book with queue position and fees. Connections call [`Exchange::request`] with a
//! method and its parameters (the WebSocket API's names; REST maps onto them) and get the
//! result or the error Binance would give; every order change also becomes an
//! `executionReport` for the user data stream subscribers.
//!
//! Venue time is the wall clock: the book events carry the moment they were applied, and so do
//! the reports, so `transactTime` is comparable with the client's clock, as Binance's is.
//! Requests must be signed with the configured HMAC key and inside `recvWindow`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::mpsc::Sender;

use pulse_feeds::binance::BinanceAdapter;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::capture::SourceKind;
use pulse_feeds::event::{EventMeta, MarketEvent, MdEvent};
use pulse_feeds::instrument::Venue as VenueId;
use pulse_feeds::latency::{self, Stamp, SAMPLE_RING};
use pulse_feeds::num::{InstrumentId, Nanos};
use pulse_feeds::outbox::Outbox;
use pulse_feeds::stage::Stage;
use serde_json::{json, Map, Value};

use pulse_gateways::binance::sign::{payload_sorted, Signer};
use pulse_gateways::order::{CancelOrder, ClientOrderId, ExecKind, ExecReport, Order, Request};
use pulse_gateways::secret::Secret;
use pulse_gateways::sim::SimVenue;

use crate::api::{
    constant_time_eq, now_nanos, number, text, ApiError, OrderApiConfig, BAD_KEY, BAD_PARAM,
    BAD_SIGNATURE, BAD_SYMBOL, DUPLICATE_ORDER, NO_SUCH_ORDER, OUTSIDE_WINDOW, UNKNOWN_METHOD,
    UNKNOWN_ORDER,
};
use crate::book::TrueBook;
use crate::order_terms::order_terms;
use crate::views::{account_json, execution_report, order_json, Holding, VenueOrder};

/// Levels per side of the venue's matching books.
const BOOK_LEVELS: usize = 8192;
/// Binance's default and largest `recvWindow`, ms.
const DEFAULT_RECV_WINDOW: u64 = 5_000;
const MAX_RECV_WINDOW: u64 = 60_000;

pub(crate) struct Exchange {
    cfg: OrderApiConfig,
    signer: Signer,
    adapter: BinanceAdapter,
    outbox: Outbox,
    md: rtrb::Producer<MdEvent>,
    book: BookStage,
    tops: rtrb::Consumer<MarketEvent>,
    sim: SimVenue,
    orders: HashMap<u64, VenueOrder>,
    by_client: HashMap<String, u64>,
    next_order_id: u64,
    holdings: Vec<Holding>,
    subscribers: Vec<Sender<String>>,
    /// Request weight used in the current minute, and orders in the current 10 s (fixed
    /// windows of venue time, as Binance counts them): (window start, count).
    weight_used: (u64, u32),
    orders_10s: (u64, u32),
    /// Reports of the request being handled, and of market events, waiting to be applied.
    pending: Vec<ExecReport>,
}

impl Exchange {
    pub fn new(cfg: OrderApiConfig) -> Exchange {
        let (md, md_rx) = rtrb::RingBuffer::new(1 << 16);
        let (tops_tx, tops) = rtrb::RingBuffer::new(1 << 16);
        let (probe, _) = latency::channel(quanta::Clock::new(), SAMPLE_RING);
        let book = BookStage::new(&cfg.instruments, BOOK_LEVELS, md_rx, vec![tops_tx], probe);
        let n = cfg.instruments.len();
        Exchange {
            signer: Signer::hmac(Secret::new(cfg.secret.expose().to_owned())),
            adapter: BinanceAdapter::new(cfg.instruments.clone()),
            outbox: Outbox::with_capacity(BinanceAdapter::outbox_capacity()),
            md,
            book,
            tops,
            sim: SimVenue::new(n, cfg.fees),
            orders: HashMap::new(),
            by_client: HashMap::new(),
            next_order_id: 1,
            holdings: vec![Holding::default(); n],
            subscribers: Vec::new(),
            weight_used: (0, 0),
            orders_10s: (0, 0),
            pending: Vec::new(),
            cfg,
        }
    }

    fn meta(&self) -> EventMeta {
        EventMeta {
            instrument: InstrumentId(0),
            recv_ts: Nanos(now_nanos()),
            ingress: Stamp(0),
        }
    }

    /// A symbol's book became known: handed to the decoder as the REST snapshot of it.
    pub fn on_snapshot(&mut self, symbol: &str, book: &TrueBook) {
        let body = book.depth_json(usize::MAX);
        let mut path = String::from("/api/v3/depth?symbol=");
        path.push_str(symbol);
        let meta = self.meta();
        let _ = self.adapter.on_message(
            SourceKind::Rest {
                path: path.as_bytes(),
            },
            body.as_bytes(),
            meta,
            &mut self.outbox,
        );
        self.pump();
    }

    /// A played frame (`{"stream":...,"data":...}`).
    pub fn on_frame(&mut self, combined: &[u8]) {
        let meta = self.meta();
        let _ = self
            .adapter
            .on_message(SourceKind::Ws, combined, meta, &mut self.outbox);
        self.pump();
    }

    /// Moves decoded events through the book into the matching engine.
    fn pump(&mut self) {
        loop {
            let moved = self.outbox.drain_into(&mut self.md);
            let worked = self.book.do_work(Nanos(now_nanos()));
            let mut applied = 0;
            while let Ok(event) = self.tops.pop() {
                let pending = &mut self.pending;
                self.sim.on_market(&event, |r| pending.push(r));
                applied += 1;
            }
            self.apply_pending();
            if moved == 0 && worked == 0 && applied == 0 {
                break;
            }
        }
    }

    /// Counts a request of `weight` (an order when `order`); the weight used this minute and
    /// the orders of these 10 seconds, as `rateLimits` report them.
    pub fn count(&mut self, weight: u32, order: bool) -> (u32, u32) {
        let secs = now_nanos() / 1_000_000_000;
        let bump = |window: &mut (u64, u32), start: u64, by: u32| {
            if window.0 != start {
                *window = (start, 0);
            }
            window.1 = window.1.saturating_add(by);
            window.1
        };
        let used = bump(&mut self.weight_used, secs / 60, weight);
        let orders = bump(&mut self.orders_10s, secs / 10, u32::from(order));
        (used, orders)
    }

    pub fn subscribe(&mut self, tx: Sender<String>) {
        self.subscribers.push(tx);
    }

    /// Handles one WebSocket API request; the result object, or the error.
    pub fn request(
        &mut self,
        method: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        self.handle(method, params, true)
    }

    /// Handles a REST request whose signature the caller verified over the raw parameters
    /// ([`Exchange::verify_rest_signature`]): the key and the time window are still checked.
    pub fn request_verified(
        &mut self,
        method: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        self.handle(method, params, false)
    }

    /// Whether `api_key` is the key this venue accepts (checked first, as Binance does: a
    /// wrong key is -2015 whatever its signature).
    pub fn check_key(&self, api_key: Option<&str>) -> Result<(), ApiError> {
        if api_key == Some(self.cfg.api_key.as_str()) {
            Ok(())
        } else {
            Err(BAD_KEY)
        }
    }

    /// A REST signature: HMAC of the query string and body exactly as sent (`totalParams`,
    /// without the `signature` parameter itself).
    pub fn verify_rest_signature(&self, total_params: &str, signature: &str) -> bool {
        constant_time_eq(
            self.signer.sign(total_params).as_bytes(),
            signature.as_bytes(),
        )
    }

    fn handle(
        &mut self,
        method: &str,
        params: &Map<String, Value>,
        check_signature: bool,
    ) -> Result<Value, ApiError> {
        match method {
            "ping" => return Ok(json!({})),
            "time" => return Ok(json!({ "serverTime": now_nanos() / 1_000_000 })),
            _ => {}
        }
        self.authenticate(params, check_signature)?;
        match method {
            "order.place" => self.place(params),
            "order.cancel" => self.cancel(params),
            "order.cancelReplace" => self.cancel_replace(params),
            "order.status" => self.status(params),
            "openOrders.status" => Ok(self.open_orders(params)),
            "account.status" => Ok(self.account()),
            "userDataStream.subscribe.signature" => Ok(json!({ "subscriptionId": 0 })),
            _ => Err(UNKNOWN_METHOD),
        }
    }

    /// Key, signature over the sorted parameters (WebSocket API), and the time window.
    fn authenticate(
        &self,
        params: &Map<String, Value>,
        check_signature: bool,
    ) -> Result<(), ApiError> {
        if params.get("apiKey").and_then(Value::as_str) != Some(self.cfg.api_key.as_str()) {
            return Err(BAD_KEY);
        }
        if check_signature {
            let Some(signature) = params.get("signature").and_then(Value::as_str) else {
                return Err(BAD_SIGNATURE);
            };
            let texts: Vec<(&str, String)> = params
                .iter()
                .filter(|(k, _)| k.as_str() != "signature")
                .map(|(k, v)| (k.as_str(), text(v)))
                .collect();
            let pairs: Vec<(&str, &str)> = texts.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if !constant_time_eq(
                self.signer.sign(&payload_sorted(&pairs)).as_bytes(),
                signature.as_bytes(),
            ) {
                return Err(BAD_SIGNATURE);
            }
        }
        let timestamp = number(params, "timestamp").ok_or(BAD_PARAM)?;
        let window = number(params, "recvWindow").unwrap_or(DEFAULT_RECV_WINDOW);
        if window > MAX_RECV_WINDOW {
            return Err(BAD_PARAM);
        }
        let now = now_nanos() / 1_000_000;
        if timestamp > now + 1_000 || now.saturating_sub(timestamp) > window {
            return Err(OUTSIDE_WINDOW);
        }
        Ok(())
    }

    fn instrument(&self, params: &Map<String, Value>) -> Result<InstrumentId, ApiError> {
        let symbol = params
            .get("symbol")
            .and_then(Value::as_str)
            .ok_or(BAD_PARAM)?;
        self.cfg
            .instruments
            .find(VenueId::Binance, symbol.as_bytes())
            .ok_or(BAD_SYMBOL)
    }

    fn place(&mut self, params: &Map<String, Value>) -> Result<Value, ApiError> {
        let instrument = self.instrument(params)?;
        let spec = self
            .cfg
            .instruments
            .get(instrument)
            .cloned()
            .ok_or(BAD_SYMBOL)?;
        let (side, tif, px, qty) = order_terms(params, &spec)?;
        let order_id = self.next_order_id;
        let client = match params.get("newClientOrderId").and_then(Value::as_str) {
            Some(c) if !c.is_empty() && c.len() <= 36 => c.to_owned(),
            Some(_) => return Err(BAD_PARAM),
            None => {
                let mut c = String::from("venue-");
                let _ = write!(c, "{order_id}");
                c
            }
        };
        // Binance refuses a client order id that is still open.
        if let Some(existing) = self
            .by_client
            .get(&client)
            .and_then(|id| self.orders.get(id))
        {
            if matches!(existing.status, "NEW" | "PARTIALLY_FILLED") {
                return Err(DUPLICATE_ORDER);
            }
        }
        self.next_order_id += 1;
        let now = now_nanos();
        let meta = EventMeta {
            instrument,
            recv_ts: Nanos(now),
            ingress: Stamp(0),
        };
        self.orders.insert(
            order_id,
            VenueOrder {
                client: client.clone(),
                order_id,
                instrument,
                side,
                px,
                qty,
                tif,
                executed: 0,
                quote: 0,
                status: "PENDING",
                time_ms: now / 1_000_000,
                update_ms: now / 1_000_000,
            },
        );
        self.by_client.insert(client, order_id);
        let order = Order {
            meta,
            client_id: ClientOrderId(order_id),
            instrument,
            side,
            px,
            qty,
            tif,
        };
        let pending = &mut self.pending;
        self.sim.execute(&Request::New(order), |r| pending.push(r));
        let rejected = self.pending.iter().find_map(|r| match r.kind {
            ExecKind::Rejected(reason) => Some(reason),
            _ => None,
        });
        if let Some(reason) = rejected {
            self.pending.clear();
            let id = self.orders.remove(&order_id).map(|o| o.client);
            if let Some(client) = id {
                self.by_client.remove(&client);
            }
            return Err(match reason {
                pulse_gateways::order::VenueReject::WouldTake => {
                    ApiError::new(400, -2010, "Order would immediately match and take.")
                }
                pulse_gateways::order::VenueReject::TooManyOrders => {
                    ApiError::new(400, -1015, "Too many new orders.")
                }
                _ => ApiError::new(400, -2010, "Order rejected: no market for the symbol."),
            });
        }
        self.apply_pending();
        Ok(self.order_json(order_id))
    }

    fn find(&self, params: &Map<String, Value>) -> Option<u64> {
        if let Some(id) = number(params, "orderId") {
            return self.orders.contains_key(&id).then_some(id);
        }
        let client = params.get("origClientOrderId").and_then(Value::as_str)?;
        self.by_client.get(client).copied()
    }

    fn cancel(&mut self, params: &Map<String, Value>) -> Result<Value, ApiError> {
        let instrument = self.instrument(params)?;
        let Some(order_id) = self.find(params) else {
            return Err(UNKNOWN_ORDER);
        };
        let Some(o) = self.orders.get(&order_id) else {
            return Err(UNKNOWN_ORDER);
        };
        if o.instrument != instrument {
            return Err(UNKNOWN_ORDER);
        }
        let cancel = CancelOrder {
            meta: EventMeta {
                instrument,
                recv_ts: Nanos(now_nanos()),
                ingress: Stamp(0),
            },
            client_id: ClientOrderId(order_id),
            instrument,
            side: o.side,
        };
        let pending = &mut self.pending;
        self.sim
            .execute(&Request::Cancel(cancel), |r| pending.push(r));
        if self
            .pending
            .iter()
            .any(|r| r.kind == ExecKind::CancelRejected)
        {
            self.pending.clear();
            return Err(UNKNOWN_ORDER);
        }
        self.apply_pending();
        Ok(self.order_json(order_id))
    }

    /// `order.cancelReplace` in Binance's `STOP_ON_FAILURE` mode: the cancel first; only if it
    /// succeeds, the new order. Both happen under one lock: nothing trades in between.
    fn cancel_replace(&mut self, params: &Map<String, Value>) -> Result<Value, ApiError> {
        if params.get("cancelReplaceMode").and_then(Value::as_str) != Some("STOP_ON_FAILURE") {
            return Err(ApiError::new(
                400,
                -1102,
                "cancelReplaceMode must be STOP_ON_FAILURE here.",
            ));
        }
        let mut cancel = Map::new();
        cancel.insert(
            "symbol".into(),
            params.get("symbol").cloned().unwrap_or(Value::Null),
        );
        if let Some(id) = params.get("cancelOrigClientOrderId") {
            cancel.insert("origClientOrderId".into(), id.clone());
        }
        if let Some(id) = params.get("cancelOrderId") {
            cancel.insert("orderId".into(), id.clone());
        }
        let cancelled = self.cancel(&cancel).map_err(|_| {
            ApiError::new(
                400,
                -2022,
                "Order cancel-replace failed: the cancel failed, the new order was not attempted.",
            )
        })?;
        let placed = self.place(params).map_err(|e| ApiError {
            code: -2021,
            msg: "Order cancel-replace partially failed: cancelled, the new order was refused.",
            ..e
        })?;
        Ok(json!({
            "cancelResult": "SUCCESS",
            "newOrderResult": "SUCCESS",
            "cancelResponse": cancelled,
            "newOrderResponse": placed,
        }))
    }

    fn status(&mut self, params: &Map<String, Value>) -> Result<Value, ApiError> {
        let instrument = self.instrument(params)?;
        match self.find(params) {
            Some(id)
                if self
                    .orders
                    .get(&id)
                    .is_some_and(|o| o.instrument == instrument) =>
            {
                Ok(self.order_json(id))
            }
            _ => Err(NO_SUCH_ORDER),
        }
    }

    fn open_orders(&self, params: &Map<String, Value>) -> Value {
        let only = self.instrument(params).ok();
        let mut ids: Vec<u64> = self
            .orders
            .values()
            .filter(|o| matches!(o.status, "NEW" | "PARTIALLY_FILLED"))
            .filter(|o| only.is_none_or(|i| i == o.instrument))
            .map(|o| o.order_id)
            .collect();
        ids.sort_unstable();
        Value::Array(ids.into_iter().map(|id| self.order_json(id)).collect())
    }

    /// Applies the reports gathered so far to the orders and holdings, and tells subscribers.
    fn apply_pending(&mut self) {
        for report in std::mem::take(&mut self.pending) {
            let Some(o) = self.orders.get_mut(&report.client_id.0) else {
                continue;
            };
            let spec = self.cfg.instruments.get(o.instrument).cloned();
            let ms = report.ts.0 / 1_000_000;
            o.update_ms = ms;
            let mut last = None;
            let (exec_type, status) = match report.kind {
                ExecKind::Ack => ("NEW", "NEW"),
                ExecKind::Fill {
                    px,
                    qty,
                    fee,
                    liquidity,
                    trade_id,
                } => {
                    o.executed += qty.0;
                    o.quote += px.0 as i128 * qty.0 as i128;
                    if let Some(h) = self.holdings.get_mut(o.instrument.0 as usize) {
                        h.base += o.side.sign() * qty.0;
                        h.quote -= i128::from(o.side.sign()) * px.0 as i128 * qty.0 as i128 + fee;
                    }
                    // The simulated venue numbers its trades, as Binance does.
                    last = Some((px, qty, fee, liquidity, trade_id.number().unwrap_or(0)));
                    let done = o.executed >= o.qty.0;
                    ("TRADE", if done { "FILLED" } else { "PARTIALLY_FILLED" })
                }
                ExecKind::Expired => ("EXPIRED", "EXPIRED"),
                ExecKind::Cancelled => ("CANCELED", "CANCELED"),
                ExecKind::Rejected(_) => ("REJECTED", "REJECTED"),
                ExecKind::CancelRejected
                | ExecKind::OutcomeUnknown
                | ExecKind::Status(_)
                | ExecKind::Funding { .. }
                | ExecKind::Liquidation { .. } => continue,
            };
            o.status = status;
            let Some(spec) = spec else { continue };
            let event = execution_report(o, &spec, exec_type, status, last);
            let text = json!({ "subscriptionId": 0, "event": event }).to_string();
            self.subscribers.retain(|tx| tx.send(text.clone()).is_ok());
        }
    }

    /// An order as Binance's order endpoints show it.
    fn order_json(&self, order_id: u64) -> Value {
        let Some(o) = self.orders.get(&order_id) else {
            return Value::Null;
        };
        self.cfg
            .instruments
            .get(o.instrument)
            .map_or(Value::Null, |spec| order_json(o, spec))
    }

    /// Balances: each instrument's base asset holds its net position, its quote asset the cash
    /// paid and received (fees included). The simulated account may go short.
    fn account(&self) -> Value {
        account_json(&self.cfg.instruments, &self.holdings, &self.cfg.fees)
    }

    /// Net position per instrument (lots) and the orders still working, as the engine's
    /// reconciliation compares them.
    pub fn positions(&self) -> Vec<i64> {
        self.holdings.iter().map(|h| h.base).collect()
    }

    pub fn open_count(&self) -> usize {
        self.orders
            .values()
            .filter(|o| matches!(o.status, "NEW" | "PARTIALLY_FILLED"))
            .count()
    }

    /// Orders accepted so far, by client order id: how many times each id was placed.
    pub fn placed(&self) -> Vec<String> {
        let mut ids: Vec<(u64, String)> = self
            .orders
            .values()
            .map(|o| (o.order_id, o.client.clone()))
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|(_, c)| c).collect()
    }
}
