//! The user data stream: execution reports.

use pulse_feeds::num::{parse_decimal, Nanos, Px, Qty};

use super::gateway::BinanceGatewayStage;
use super::json::{self, Value};
use crate::order::{ExecKind, Liquidity, TradeId, VenueReject};
use crate::tracker::{NewFill, OrderState};

impl BinanceGatewayStage {
    /// An `executionReport`.
    pub(super) fn on_event(&mut self, e: &[u8]) {
        let mut f = EventFields::default();
        if json::fields(e, |k, v| f.take(k, v)).is_err() || f.kind != Some(b"executionReport") {
            if f.kind.is_none() {
                self.counters.malformed += 1;
            }
            return;
        }
        // A cancel's report names the cancel request in `c` and the order in `C`.
        let id = match (f.exec_type, f.orig_client) {
            (Some(b"CANCELED"), Some(orig)) if !orig.is_empty() => Some(orig),
            _ => f.client,
        };
        let Some(cid) = id.and_then(|c| Value::Atom(c).u64()) else {
            self.counters.foreign_events += 1;
            return;
        };
        let Some(slot) = self.orders.find(cid) else {
            self.counters.foreign_events += 1;
            return;
        };
        let Some(t) = self.orders.get(slot) else {
            return;
        };
        let Some(spec) = self.instruments.get(t.order.instrument) else {
            return;
        };
        let (px_scale, qty_scale) = (spec.price_scale, spec.qty_scale);
        // Binance charges a fee in the quote asset, in the base asset (a buy without BNB) or in
        // BNB. A quote fee is reported as it is; a base fee at the fill's price, and the
        // holdings the balance check expects shrink by it; a BNB fee is not in this
        // instrument's notional: reported as 0. So is a fee of an instrument whose assets the
        // config does not name.
        let is_asset = |asset: &str| !asset.is_empty() && f.fee_asset == Some(asset.as_bytes());
        let fee_in_quote = is_asset(&spec.quote);
        let fee_in_base = is_asset(&spec.base);
        let ts = Nanos(f.time_ms.unwrap_or(0).saturating_mul(1_000_000));
        let dec = |v: Option<&[u8]>, scale| v.and_then(|t| parse_decimal(t, scale).ok());
        match f.exec_type {
            Some(b"NEW") if t.state != OrderState::Working => self.orders.acked(slot, ts),
            Some(b"TRADE") => {
                if t.state == OrderState::Sent {
                    // Trading means it arrived: its ack came first on the stream, or was lost.
                    self.orders.acked(slot, ts);
                }
                let (Some(qty), Some(px), Some(cum)) = (
                    dec(f.last_qty, qty_scale),
                    dec(f.last_px, px_scale),
                    dec(f.cum_qty, qty_scale),
                ) else {
                    self.counters.malformed += 1;
                    return;
                };
                // Report only what is new: a status answer may have covered part of it, or
                // the stream brought it twice.
                let Some(NewFill {
                    order,
                    qty: new,
                    leaves,
                }) = self.orders.trade(slot, qty, px, cum)
                else {
                    return;
                };
                let base_fee = if fee_in_base {
                    dec(f.fee, qty_scale).unwrap_or(0)
                } else {
                    0
                };
                let fee = if fee_in_quote {
                    dec(f.fee, px_scale + qty_scale).map_or(0, i128::from)
                } else {
                    i128::from(base_fee) * i128::from(px)
                };
                let fill = ExecKind::Fill {
                    px: Px(px),
                    qty: Qty(new),
                    fee,
                    liquidity: if f.maker == Some(true) {
                        Liquidity::Maker
                    } else {
                        Liquidity::Taker
                    },
                    // Binance's trade ids are numbers.
                    trade_id: TradeId::from_u64(f.trade_id.unwrap_or(0)),
                };
                self.orders.emit(&order, fill, leaves, ts);
                if let Some(p) = self
                    .orders
                    .reports
                    .position_mut(order.instrument.0 as usize)
                {
                    *p -= base_fee;
                }
                self.orders.settle(slot, leaves);
            }
            Some(b"CANCELED" | b"EXPIRED" | b"TRADE_PREVENTION" | b"REJECTED") => {
                self.orders.remove(slot);
                let kind = match f.exec_type {
                    Some(b"CANCELED") => ExecKind::Cancelled,
                    Some(b"REJECTED") => ExecKind::Rejected(VenueReject::Refused),
                    _ => ExecKind::Expired,
                };
                if t.state == OrderState::Sent && kind != ExecKind::Rejected(VenueReject::Refused) {
                    self.orders
                        .emit(&t.order, ExecKind::Ack, t.order.qty.0 - t.filled, ts);
                }
                self.orders.emit(&t.order, kind, 0, ts);
            }
            _ => {}
        }
    }
}

/// The fields of an `executionReport` the gateway reads.
#[derive(Default)]
struct EventFields<'a> {
    kind: Option<&'a [u8]>,
    client: Option<&'a [u8]>,
    orig_client: Option<&'a [u8]>,
    exec_type: Option<&'a [u8]>,
    last_qty: Option<&'a [u8]>,
    last_px: Option<&'a [u8]>,
    cum_qty: Option<&'a [u8]>,
    fee: Option<&'a [u8]>,
    fee_asset: Option<&'a [u8]>,
    trade_id: Option<u64>,
    maker: Option<bool>,
    time_ms: Option<u64>,
}

impl<'a> EventFields<'a> {
    pub(super) fn take(&mut self, k: &[u8], v: Value<'a>) {
        match k {
            b"e" => self.kind = v.text(),
            b"c" => self.client = v.text(),
            b"C" => self.orig_client = v.text(),
            b"x" => self.exec_type = v.text(),
            b"l" => self.last_qty = v.text(),
            b"L" => self.last_px = v.text(),
            b"z" => self.cum_qty = v.text(),
            b"n" => self.fee = v.text(),
            b"N" => self.fee_asset = v.text(),
            b"t" => self.trade_id = v.u64(),
            b"m" => self.maker = v.bool(),
            b"T" => self.time_ms = v.u64(),
            _ => {}
        }
    }
}
