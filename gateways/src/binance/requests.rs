//! Requests out: each written, signed and sent over the session, then kept in flight.

use super::gateway::BinanceGatewayStage;
use super::wire::Kind;
use crate::order::{CancelOrder, Order, TimeInForce};
use crate::tracker::{Inflight, OrderState};
use pulse_feeds::num::{Decimal, Side};

impl BinanceGatewayStage {
    /// The next request's sequence number: its `id` is `{tag}{seq}`.
    pub(super) fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Starts a signed request with its API key; the other parameters follow with
    /// [`RequestWriter::param`], in name order.
    pub(super) fn begin_signed(&mut self, kind: Kind, method: &str) -> u64 {
        let seq = self.take_seq();
        self.writer
            .begin(kind, seq, method, Some(self.settings.api_key.expose()));
        seq
    }

    /// Signs the request, sends it and keeps it in flight; `replaced` is a cancel-replace's
    /// cancelled order (0 otherwise).
    pub(super) fn finish_signed(
        &mut self,
        kind: Kind,
        client_id: u64,
        replaced: u64,
        seq: u64,
    ) -> bool {
        self.writer.sign(&self.settings.signer);
        self.finish(kind, client_id, replaced, seq)
    }

    pub(super) fn finish(&mut self, kind: Kind, client_id: u64, replaced: u64, seq: u64) -> bool {
        self.writer.close();
        if !self.session.send_text(&self.writer.out) {
            return false;
        }
        self.counters.requests += 1;
        self.inflight.push(Inflight {
            kind,
            client_id,
            replaced,
            rest: false,
            seq,
            sent: self.now,
        });
        true
    }

    pub(super) fn signed_common(&mut self) -> (u64, u64) {
        (
            self.clock.timestamp_ms(self.now),
            self.settings.recv_window_ms,
        )
    }

    pub(super) fn send_time(&mut self) -> bool {
        let seq = self.take_seq();
        self.writer.begin(Kind::Time, seq, "time", None);
        self.finish(Kind::Time, 0, 0, seq)
    }

    pub(super) fn send_subscribe(&mut self) -> bool {
        let (timestamp, _) = self.signed_common();
        let seq = self.begin_signed(Kind::Subscribe, "userDataStream.subscribe.signature");
        self.writer
            .param("timestamp", format_args!("{timestamp}"), false);
        self.finish_signed(Kind::Subscribe, 0, 0, seq)
    }

    /// `account.status`, to compare balances with the positions reported.
    pub(super) fn send_account(&mut self) -> bool {
        let (timestamp, window) = self.signed_common();
        let seq = self.begin_signed(Kind::Account, "account.status");
        self.writer
            .param("recvWindow", format_args!("{window}"), false);
        self.writer
            .param("timestamp", format_args!("{timestamp}"), false);
        self.finish_signed(Kind::Account, 0, 0, seq)
    }

    /// `order.place`, or with `replacing` `order.cancelReplace` (`STOP_ON_FAILURE`) of that
    /// working order by this one.
    pub(super) fn send_order(&mut self, order: &Order, replacing: Option<&CancelOrder>) -> bool {
        let (timestamp, window) = self.signed_common();
        let (kind, method) = match replacing {
            Some(_) => (Kind::Replace, "order.cancelReplace"),
            None => (Kind::Place, "order.place"),
        };
        let seq = self.take_seq();
        let Some(spec) = self.instruments.get(order.instrument) else {
            return false;
        };
        let w = &mut self.writer;
        w.begin(kind, seq, method, Some(self.settings.api_key.expose()));
        let replaced = replacing.map_or(0, |c| c.client_id.0);
        if replacing.is_some() {
            w.param("cancelOrigClientOrderId", format_args!("{replaced}"), true);
            w.param("cancelReplaceMode", format_args!("STOP_ON_FAILURE"), true);
        }
        let cid = order.client_id.0;
        w.param("newClientOrderId", format_args!("{cid}"), true);
        w.param("newOrderRespType", format_args!("ACK"), true);
        if order.tif != TimeInForce::Market {
            let px = Decimal::new(order.px.0, spec.price_scale);
            w.param("price", format_args!("{px}"), true);
        }
        let qty = Decimal::new(order.qty.0, spec.qty_scale);
        w.param("quantity", format_args!("{qty}"), true);
        w.param("recvWindow", format_args!("{window}"), false);
        let side = if order.side == Side::Buy {
            "BUY"
        } else {
            "SELL"
        };
        w.param("side", format_args!("{side}"), true);
        w.param("symbol", format_args!("{}", spec.symbol), true);
        let tif = match order.tif {
            TimeInForce::Gtc => Some("GTC"),
            TimeInForce::Ioc => Some("IOC"),
            TimeInForce::Fok => Some("FOK"),
            TimeInForce::PostOnly | TimeInForce::Market => None,
        };
        if let Some(tif) = tif {
            w.param("timeInForce", format_args!("{tif}"), true);
        }
        w.param("timestamp", format_args!("{timestamp}"), false);
        let order_type = match order.tif {
            TimeInForce::PostOnly => "LIMIT_MAKER",
            TimeInForce::Market => "MARKET",
            _ => "LIMIT",
        };
        w.param("type", format_args!("{order_type}"), true);
        self.finish_signed(kind, cid, replaced, seq)
    }

    /// `order.cancel` or `order.status` of one order, by its client order id.
    pub(super) fn send_about(&mut self, kind: Kind, c: &CancelOrder) -> bool {
        let (timestamp, window) = self.signed_common();
        let method = if kind == Kind::Cancel {
            "order.cancel"
        } else {
            "order.status"
        };
        let seq = self.take_seq();
        let Some(spec) = self.instruments.get(c.instrument) else {
            return false;
        };
        let w = &mut self.writer;
        w.begin(kind, seq, method, Some(self.settings.api_key.expose()));
        let cid = c.client_id.0;
        w.param("origClientOrderId", format_args!("{cid}"), true);
        w.param("recvWindow", format_args!("{window}"), false);
        w.param("symbol", format_args!("{}", spec.symbol), true);
        w.param("timestamp", format_args!("{timestamp}"), false);
        self.finish_signed(kind, cid, 0, seq)
    }

    /// The gateway's own status request for a tracked order (not risk's query).
    pub(super) fn check(&mut self, client_id: u64) {
        let Some(t) = self.orders.by_id(client_id) else {
            return;
        };
        if self.send_about(Kind::Check, &t.about()) {
            self.counters.status_sent += 1;
        }
    }

    /// Asks the status of every tracked order (after a (re)connect).
    pub(super) fn check_all(&mut self) {
        for slot in self.orders.all_slots() {
            let Some(t) = self.orders.get(slot) else {
                continue;
            };
            if t.state == OrderState::InDoubt {
                // Risk queries those itself.
                continue;
            }
            let about = t.about();
            if self.send_about(Kind::Check, &about) {
                self.counters.status_sent += 1;
            }
        }
    }
}
