//! Cancels and queries: a strategy's cancel, the kill switch's cancel of everything, and the
//! queries about orders in doubt.

use pulse_core::event::EventMeta;
use pulse_core::intent::{CancelIntent, RejectReason};
use pulse_core::order::{CancelOrder, Request};

use super::RiskStage;

impl RiskStage {
    /// A cancel passes no limit check: it only ever reduces exposure, and it goes out even with
    /// the kill switch engaged. It must name an order that is working. It counts towards the
    /// message throttle (so new orders feel it) but is never refused by it.
    pub(super) fn on_cancel(&mut self, cancel: CancelIntent) {
        self.counters.intents += 1;
        self.counters.cancels += 1;
        let intent_no = self
            .journal
            .as_mut()
            .map_or(0, |j| j.cancel_intent(&cancel));
        let verdict = match self.orders.get(cancel.client_id) {
            None => Err(RejectReason::UnknownOrder),
            Some(o) if o.instrument != cancel.instrument => Err(RejectReason::UnknownOrder),
            Some(_) if self.orders_out.slots() == 0 => Err(RejectReason::RingFull),
            Some(o) => Ok(CancelOrder {
                meta: cancel.meta,
                client_id: o.client_id,
                instrument: o.instrument,
                side: o.side,
            }),
        };
        if let Some(journal) = &mut self.journal {
            let decided = verdict.map(|c| c.client_id.0);
            journal.decision(cancel.meta.recv_ts, intent_no, decided);
        }
        match verdict {
            Ok(c) => {
                self.send_cancel(c, false);
                self.counters.approved += 1;
            }
            Err(reason) => {
                let feedback = self.rejected(cancel.instrument, cancel.tag, reason);
                let _ = self.feedback.push(feedback);
            }
        }
        self.probe.record_since(cancel.meta.ingress);
    }

    /// Journals and sends a cancel; the caller checked the ring has room.
    pub(super) fn send_cancel(&mut self, c: CancelOrder, by_kill: bool) {
        if let Some(journal) = &mut self.journal {
            journal.cancel(&c, by_kill);
        }
        self.orders.cancel_sent(c.client_id);
        self.throttle.record(c.meta.recv_ts);
        let _ = self.orders_out.push(Request::Cancel(c));
    }

    /// With the kill switch engaged, every working order without a cancel gets one (as many
    /// as the ring takes now; the rest on the next poll), except flatten slices in kill mode
    /// Flatten. Returns how many were sent.
    pub(super) fn cancel_all(&mut self) -> usize {
        let mut sent = 0;
        while self.orders_out.slots() > 0 {
            let Some(o) = self
                .orders
                .uncancelled()
                .find(|o| !self.spared_by_kill(o.client_id))
                .copied()
            else {
                break;
            };
            // The cancel is decided at the latest market time risk has seen: the kill switch
            // has no market event of its own.
            let at = self.checks.latest_ts();
            let meta = EventMeta {
                instrument: o.instrument,
                recv_ts: at,
                ..Default::default()
            };
            self.send_cancel(
                CancelOrder {
                    meta,
                    client_id: o.client_id,
                    instrument: o.instrument,
                    side: o.side,
                },
                true,
            );
            self.counters.kill_cancels += 1;
            sent += 1;
        }
        sent
    }

    /// Asks the venue about every order in doubt that has no query out yet (as many as the
    /// ring takes; the rest on the next poll). Never a resend: the order may be working.
    pub(super) fn query_doubtful(&mut self) -> usize {
        let mut sent = 0;
        while self.orders_out.slots() > 0 {
            let Some(o) = self.orders.unqueried().copied() else {
                self.doubt = false;
                break;
            };
            let query = CancelOrder {
                meta: EventMeta {
                    instrument: o.instrument,
                    recv_ts: self.checks.latest_ts(),
                    ..Default::default()
                },
                client_id: o.client_id,
                instrument: o.instrument,
                side: o.side,
            };
            if let Some(journal) = &mut self.journal {
                journal.query(&query);
            }
            self.orders.query_sent(o.client_id);
            let _ = self.orders_out.push(Request::Query(query));
            self.counters.queries += 1;
            sent += 1;
        }
        sent
    }
}
