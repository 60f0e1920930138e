//! The venue's refusals and failures mapped to what risk is told.

use super::gateway::BinanceGatewayStage;
use super::wire::Kind;
use crate::order::{ExecKind, Request, TimeInForce, VenueReject};
use crate::tracker::{Inflight, OrderState};

impl BinanceGatewayStage {
    pub(super) fn on_place_error(&mut self, req: Inflight<Kind>, status: u64, code: Option<i64>) {
        let Some(slot) = self.orders.find(req.client_id) else {
            return;
        };
        let ts = self.now;
        // 5xx, -1006 (unexpected response), -1007 (timeout): the order may be working.
        if status >= 500 || matches!(code, Some(-1006 | -1007)) {
            self.doubt(slot, ts);
            return;
        }
        let Some(t) = self.orders.get(slot) else {
            return;
        };
        if t.state != OrderState::Sent {
            // The stream already settled it; an error now is about something else.
            return;
        }
        let reason = match (status, code) {
            (429 | 418, _) => VenueReject::RateLimited,
            (_, Some(-1121)) => VenueReject::UnknownInstrument,
            (_, Some(-1013 | -1100 | -1111)) => VenueReject::InvalidQuantity,
            (_, Some(-1015)) => VenueReject::TooManyOrders,
            (_, Some(-2010)) if t.order.tif == TimeInForce::PostOnly => VenueReject::WouldTake,
            _ => VenueReject::Refused,
        };
        if reason == VenueReject::RateLimited {
            self.counters.refused_rate_limited += 1;
        }
        self.orders.remove(slot);
        self.orders
            .emit(&t.order, ExecKind::Rejected(reason), 0, ts);
    }

    pub(super) fn on_cancel_error(&mut self, req: Inflight<Kind>, status: u64, code: Option<i64>) {
        let Some(slot) = self.orders.find(req.client_id) else {
            return;
        };
        let Some(t) = self.orders.get(slot) else {
            return;
        };
        if status == 429 || status == 418 {
            // Not carried out: it goes again once the venue lets us.
            return self.orders.wait(Request::Cancel(t.about()));
        }
        if status >= 500 || matches!(code, Some(-1006 | -1007)) {
            // Did it go through? Its status says; the stream may say first.
            return self.check(req.client_id);
        }
        // -2011: the venue no longer works the order (filled, cancelled, never there).
        self.orders.emit(
            &t.order,
            ExecKind::CancelRejected,
            t.order.qty.0 - t.filled,
            self.now,
        );
    }

    /// A refused or failed cancel-replace.
    pub(super) fn on_replace_error(&mut self, req: Inflight<Kind>, status: u64, code: Option<i64>) {
        let old = self.orders.by_id(req.replaced).map(|t| t.about());
        if status >= 500 || matches!(code, Some(-1006 | -1007)) {
            // Either part may have happened.
            if let Some(slot) = self.orders.find(req.client_id) {
                self.doubt(slot, self.now);
            }
            return self.check(req.replaced);
        }
        let Some(slot) = self.orders.find(req.client_id) else {
            return;
        };
        let Some(new) = self.orders.get(slot) else {
            return;
        };
        let reason = match (status, code) {
            (429 | 418, _) => VenueReject::RateLimited,
            (_, Some(-2010)) if new.order.tif == TimeInForce::PostOnly => VenueReject::WouldTake,
            _ => VenueReject::Refused,
        };
        if new.state == OrderState::Sent {
            self.orders.remove(slot);
            self.orders
                .emit(&new.order, ExecKind::Rejected(reason), 0, self.now);
        }
        let Some(old) = old else { return };
        match code {
            // The cancel failed (the order is no longer working); the new one was not tried.
            Some(-2022) => {
                if let Some(t) = self.orders.by_id(req.replaced) {
                    self.orders.emit(
                        &t.order,
                        ExecKind::CancelRejected,
                        t.order.qty.0 - t.filled,
                        self.now,
                    );
                }
            }
            // Cancelled, the new order refused: the stream reports the cancel.
            Some(-2021) => {}
            // Refused whole (a limit, a parameter): the cancel goes again on its own.
            _ => self.orders.wait(Request::Cancel(old)),
        }
    }
}
