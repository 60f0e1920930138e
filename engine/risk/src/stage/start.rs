//! Where a session starts from: the venue's positions and working orders (startup
//! reconciliation) and the risk state an earlier session journaled last. Both before any
//! intent.

use pulse_core::num::InstrumentId;
use pulse_core::order::{Order, VenueAccount};

use super::RiskStage;
use crate::kill::TradingMode;
use crate::orders::{OrderState, WorkingOrder};
use crate::reconcile::Expected;
use crate::state::RiskState;

impl RiskStage {
    /// Startup reconciliation: takes the venue's positions and working orders as the account's,
    /// and journals them (the session's ACCOUNT records, then ORDER records for the orders).
    /// A position's cost basis comes from the journal when its quantity agrees with the
    /// venue's, pro rata when it does not (zero without a journal position). Before any
    /// intent: the strategies have not run yet.
    pub fn adopt(&mut self, venue: &VenueAccount, expected: Option<&Expected>) {
        for (i, &qty) in venue.positions.iter().enumerate() {
            let journal = expected.and_then(|e| e.positions.get(i)).copied();
            let cost = match journal {
                Some(p) if p.qty == qty => p.cost,
                Some(p) if p.qty.0 != 0 => p.cost * i128::from(qty.0) / i128::from(p.qty.0),
                _ => 0,
            };
            self.account.adopt(i, qty, cost);
            if let Some(journal) = &mut self.journal {
                journal.account(InstrumentId(i as u16), qty, cost);
            }
        }
        for o in &venue.open {
            let order = o.order;
            let tracked = self.orders.insert(WorkingOrder {
                client_id: order.client_id,
                instrument: order.instrument,
                side: order.side,
                px: order.px,
                qty: o.leaves,
                leaves: o.leaves,
                state: OrderState::Acked,
                cancel_pending: false,
                queried: false,
            });
            if tracked {
                self.next_client_id = self.next_client_id.max(order.client_id.0 + 1);
                if let Some(journal) = &mut self.journal {
                    // Already at the venue: journaled for the record, not sent.
                    let _ = journal.order(&Order {
                        qty: o.leaves,
                        ..order
                    });
                }
            }
            let i = order.instrument;
            self.set_working(i);
        }
    }

    /// Starts from the state an earlier session journaled last: its halt (lifted only by
    /// `pulse rearm`), its reduce-only, its high-water mark, realized PnL and market day (the
    /// breaker level follows from them). Before any intent.
    pub fn restore(&mut self, s: &RiskState) {
        self.account.restore(s.hwm, s.realized, s.day, s.day_start);
        match (s.mode, s.reason) {
            (TradingMode::Killed, Some(reason)) => self.kill.engage(reason),
            (TradingMode::Killed, None) => self.kill.engage(crate::halt::HaltReason::Operator),
            (TradingMode::ReduceOnly, _) => self.kill.reduce_only(),
            (TradingMode::Armed, _) => {}
        }
    }
}
