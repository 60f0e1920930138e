//! How the venue shows its orders and account: Binance's order objects, `executionReport`s and
//! account balances, built from the venue's own records.

use crate::assets::assets;
use pulse_feeds::instrument::{Instrument, InstrumentRegistry};
use pulse_feeds::num::{Decimal, InstrumentId, Px, Qty, Side};
use pulse_gateways::order::{Liquidity, TimeInForce};
use pulse_gateways::sim::Fees;
use serde_json::{json, Value};

/// A fill as the last report shows it: price, quantity, fee, liquidity, trade id.
pub(crate) type LastFill = (Px, Qty, i128, Liquidity, u64);

/// One order as the venue keeps it.
#[derive(Clone, Debug)]
pub(crate) struct VenueOrder {
    pub client: String,
    pub order_id: u64,
    pub instrument: InstrumentId,
    pub side: Side,
    pub px: Px,
    pub qty: Qty,
    pub tif: TimeInForce,
    pub executed: i64,
    /// Sum of price × quantity filled, at notional scale.
    pub quote: i128,
    pub status: &'static str,
    pub time_ms: u64,
    pub update_ms: u64,
}

/// An account's holding of one asset, at the instrument's scale.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Holding {
    pub base: i64,
    pub quote: i128,
}

/// An order as Binance's order endpoints show it.
pub(crate) fn order_json(o: &VenueOrder, spec: &Instrument) -> Value {
    json!({
        "symbol": spec.symbol,
        "orderId": o.order_id,
        "orderListId": -1,
        "clientOrderId": o.client,
        "transactTime": o.update_ms,
        "time": o.time_ms,
        "updateTime": o.update_ms,
        "price": Decimal::new(o.px.0, spec.price_scale).to_string(),
        "origQty": Decimal::new(o.qty.0, spec.qty_scale).to_string(),
        "executedQty": Decimal::new(o.executed, spec.qty_scale).to_string(),
        "cummulativeQuoteQty": Decimal::new(o.quote, spec.notional_scale()).to_string(),
        "status": o.status,
        "timeInForce": tif_name(o.tif),
        "type": order_type(o.tif),
        "side": if o.side == Side::Buy { "BUY" } else { "SELL" },
        "isWorking": matches!(o.status, "NEW" | "PARTIALLY_FILLED"),
    })
}

/// The user data stream's `executionReport` of one change to an order; `last` is the fill,
/// if the change is one.
pub(crate) fn execution_report(
    o: &VenueOrder,
    spec: &Instrument,
    exec_type: &str,
    status: &str,
    last: Option<LastFill>,
) -> Value {
    let mut event = json!({
        "e": "executionReport",
        "E": o.update_ms,
        "s": spec.symbol,
        "c": o.client,
        "S": if o.side == Side::Buy { "BUY" } else { "SELL" },
        "o": order_type(o.tif),
        "f": tif_name(o.tif),
        "q": Decimal::new(o.qty.0, spec.qty_scale).to_string(),
        "p": Decimal::new(o.px.0, spec.price_scale).to_string(),
        "C": "",
        "x": exec_type,
        "X": status,
        "r": "NONE",
        "i": o.order_id,
        "l": "0",
        "z": Decimal::new(o.executed, spec.qty_scale).to_string(),
        "L": "0",
        "n": "0",
        "N": Value::Null,
        "T": o.update_ms,
        "t": -1,
        "w": matches!(status, "NEW" | "PARTIALLY_FILLED"),
        "m": false,
        "O": o.time_ms,
        "Z": Decimal::new(o.quote, spec.notional_scale()).to_string(),
    });
    if let (Some((px, qty, fee, liquidity, trade_id)), Some(map)) = (last, event.as_object_mut()) {
        let (_, quote) = assets(spec);
        map.insert(
            "l".into(),
            Decimal::new(qty.0, spec.qty_scale).to_string().into(),
        );
        map.insert(
            "L".into(),
            Decimal::new(px.0, spec.price_scale).to_string().into(),
        );
        map.insert(
            "n".into(),
            Decimal::new(fee, spec.notional_scale()).to_string().into(),
        );
        map.insert("N".into(), quote.into());
        map.insert("t".into(), trade_id.into());
        map.insert("m".into(), (liquidity == Liquidity::Maker).into());
    }
    event
}

/// Balances: each instrument's base asset holds its net position, its quote asset the cash
/// paid and received (fees included). The simulated account may go short.
pub(crate) fn account_json(
    instruments: &InstrumentRegistry,
    holdings: &[Holding],
    fees: &Fees,
) -> Value {
    let mut balances: Vec<(String, i128, u32)> = Vec::new();
    for (i, spec) in instruments.iter().enumerate() {
        let (base, quote) = assets(spec);
        let h = holdings[i];
        add_balance(&mut balances, base, h.base.into(), spec.qty_scale);
        add_balance(&mut balances, quote, h.quote, spec.notional_scale());
    }
    let balances: Vec<Value> = balances
        .into_iter()
        .map(|(asset, amount, scale)| {
            json!({
                "asset": asset,
                "free": Decimal::new(amount, scale).to_string(),
                "locked": "0",
            })
        })
        .collect();
    json!({
        "makerCommission": fees.maker_ppm / 100,
        "takerCommission": fees.taker_ppm / 100,
        "canTrade": true,
        "accountType": "SPOT",
        "balances": balances,
    })
}

fn tif_name(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
        TimeInForce::Gtc | TimeInForce::PostOnly | TimeInForce::Market => "GTC",
    }
}

fn order_type(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::PostOnly => "LIMIT_MAKER",
        TimeInForce::Market => "MARKET",
        _ => "LIMIT",
    }
}

fn add_balance(balances: &mut Vec<(String, i128, u32)>, asset: &str, amount: i128, scale: u32) {
    if asset.is_empty() {
        return;
    }
    match balances.iter_mut().find(|(a, _, _)| a == asset) {
        Some((_, total, s)) => {
            // Same asset at two scales: bring both to the finer one.
            let (fine, coarse) = ((*s).max(scale), (*s).min(scale));
            let factor = 10i128.pow(fine - coarse);
            let (mine, theirs) = if *s >= scale {
                (*total, amount * factor)
            } else {
                (*total * factor, amount)
            };
            *total = mine + theirs;
            *s = fine;
        }
        None => balances.push((asset.to_owned(), amount, scale)),
    }
}
