//! The pre-trade check chain. Each check is O(1) integer arithmetic on state the risk stage
//! owns; the first failure is the reason. Order: cheapest and most fundamental first.

use pulse_feeds::event::{BookState, BookTop};
use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::{Nanos, Px, Qty, Side};

use crate::config::InstrumentLimits;
use crate::intent::OrderIntent;
use crate::risk::{KillSwitch, RejectReason};

/// The reference price risk keeps per instrument, from the book stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub mid: Option<Px>,
    pub ts: Nanos,
    pub state: BookState,
}

/// What the check needs to know of the account for this instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    pub position: Qty,
    pub working_buy: Qty,
    pub working_sell: Qty,
}

pub struct RiskChecks {
    instruments: InstrumentRegistry,
    limits: Vec<InstrumentLimits>,
    references: Vec<Reference>,
    kill: KillSwitch,
}

impl RiskChecks {
    pub fn new(
        instruments: InstrumentRegistry,
        limits: Vec<InstrumentLimits>,
        kill: KillSwitch,
    ) -> RiskChecks {
        let references = vec![
            Reference {
                mid: None,
                ts: Nanos::ZERO,
                state: BookState::Stale,
            };
            instruments.len()
        ];
        RiskChecks {
            instruments,
            limits,
            references,
            kill,
        }
    }

    pub fn on_book(&mut self, top: &BookTop) {
        if let Some(r) = self.references.get_mut(top.meta.instrument.0 as usize) {
            *r = Reference {
                mid: top.mid(),
                ts: top.meta.recv_ts,
                state: top.state,
            };
        }
    }

    pub fn reference(&self, index: usize) -> Option<Reference> {
        self.references.get(index).copied()
    }

    pub fn check(&self, intent: &OrderIntent, exposure: Exposure) -> Result<(), RejectReason> {
        if self.kill.is_engaged() {
            return Err(RejectReason::KillSwitch);
        }
        let i = intent.instrument.0 as usize;
        let (Some(inst), Some(limits), Some(reference)) = (
            self.instruments.get(intent.instrument),
            self.limits.get(i),
            self.references.get(i),
        ) else {
            return Err(RejectReason::UnknownInstrument);
        };
        let (px, qty) = (intent.px.0, intent.qty.0);
        if px <= 0 || qty <= 0 {
            return Err(RejectReason::NotPositive);
        }
        if qty % inst.lot.0 != 0 {
            return Err(RejectReason::LotSize);
        }
        if px % inst.tick.0 != 0 {
            return Err(RejectReason::TickSize);
        }
        if qty > limits.max_order_qty.0 {
            return Err(RejectReason::MaxOrderQty);
        }
        if inst.notional(intent.px, intent.qty) > limits.max_order_notional {
            return Err(RejectReason::MaxOrderNotional);
        }
        let max = limits.max_position.0 as i128;
        let (pos, buys, sells) = (
            exposure.position.0 as i128,
            exposure.working_buy.0 as i128,
            exposure.working_sell.0 as i128,
        );
        let within = match intent.side {
            Side::Buy => pos + buys + qty as i128 <= max,
            Side::Sell => pos - sells - (qty as i128) >= -max,
        };
        if !within {
            return Err(RejectReason::PositionLimit);
        }
        if reference.state != BookState::Live {
            return Err(RejectReason::BookNotLive);
        }
        let Some(mid) = reference.mid else {
            return Err(RejectReason::ReferenceStale);
        };
        if intent.meta.recv_ts.saturating_sub(reference.ts) > limits.max_ref_age || mid.0 <= 0 {
            return Err(RejectReason::ReferenceStale);
        }
        let distance = (px as i128 - mid.0 as i128).abs() * 10_000;
        if distance > limits.price_collar_bps as i128 * mid.0 as i128 {
            return Err(RejectReason::PriceCollar);
        }
        Ok(())
    }
}
