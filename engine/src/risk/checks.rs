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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use pulse_feeds::book::Level;
    use pulse_feeds::event::EventMeta;
    use pulse_feeds::instrument::Venue;
    use pulse_feeds::num::InstrumentId;
    use pulse_gateways::order::TimeInForce;

    const BTC: InstrumentId = InstrumentId(0);

    /// BTCUSDT-like: price scale 2 (tick 0.01), qty scale 8 (lot 0.00001 = 1000).
    fn checks(kill: &KillSwitch) -> RiskChecks {
        let mut reg = InstrumentRegistry::new();
        reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
            .unwrap();
        let limits = InstrumentLimits {
            max_order_qty: Qty(200_000),
            max_order_notional: 150 * 10i128.pow(10),
            max_position: Qty(1_000_000),
            price_collar_bps: 50,
            max_ref_age: Nanos::from_millis(2_000),
        };
        let mut c = RiskChecks::new(reg, vec![limits], kill.clone());
        c.on_book(&book(6_000_000, 6_000_002, 1_000_000_000, BookState::Live));
        c
    }

    fn book(bid: i64, ask: i64, ts: u64, state: BookState) -> BookTop {
        let meta = EventMeta {
            instrument: BTC,
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        };
        let mut top = BookTop::empty(meta, state);
        top.bids[0] = Level {
            px: Px(bid),
            qty: Qty(100_000_000),
        };
        top.asks[0] = Level {
            px: Px(ask),
            qty: Qty(100_000_000),
        };
        top.bid_levels = 1;
        top.ask_levels = 1;
        top
    }

    fn intent(side: Side, px: i64, qty: i64, ts: u64) -> OrderIntent {
        OrderIntent {
            meta: EventMeta {
                instrument: BTC,
                recv_ts: Nanos(ts),
                ..EventMeta::default()
            },
            instrument: BTC,
            side,
            px: Px(px),
            qty: Qty(qty),
            tif: TimeInForce::Ioc,
            tag: 0,
        }
    }

    #[test]
    fn each_limit_rejects_with_its_own_reason() {
        let kill = KillSwitch::new(false);
        let c = checks(&kill);
        let flat = Exposure::default();
        let t = 1_500_000_000;
        let ok = intent(Side::Buy, 6_000_002, 100_000, t);
        assert_eq!(c.check(&ok, flat), Ok(()));
        let cases = [
            (
                intent(Side::Buy, 6_000_002, 0, t),
                flat,
                RejectReason::NotPositive,
            ),
            (
                intent(Side::Buy, 0, 100_000, t),
                flat,
                RejectReason::NotPositive,
            ),
            (
                intent(Side::Buy, 6_000_002, 100_500, t),
                flat,
                RejectReason::LotSize,
            ),
            (
                intent(Side::Buy, 6_000_002, 300_000, t),
                flat,
                RejectReason::MaxOrderQty,
            ),
            // 0.002 BTC at 80,000 = 160 USDT > 150 (the collar would refuse it too, later).
            (
                intent(Side::Buy, 8_000_000, 200_000, t),
                flat,
                RejectReason::MaxOrderNotional,
            ),
            (
                intent(Side::Buy, 6_000_002, 200_000, t),
                Exposure {
                    position: Qty(700_000),
                    working_buy: Qty(200_000),
                    working_sell: Qty(0),
                },
                RejectReason::PositionLimit,
            ),
            (
                intent(Side::Sell, 6_000_000, 200_000, t),
                Exposure {
                    position: Qty(-900_000),
                    working_buy: Qty(0),
                    working_sell: Qty(0),
                },
                RejectReason::PositionLimit,
            ),
            (
                intent(Side::Buy, 6_000_002, 100_000, 3_000_000_001),
                flat,
                RejectReason::ReferenceStale,
            ),
            // Mid 60000.01; 0.5% collar = 300.00005: 60300.02 is outside, 60300.01 inside.
            (
                intent(Side::Buy, 6_030_002, 100_000, t),
                flat,
                RejectReason::PriceCollar,
            ),
            (
                intent(Side::Sell, 5_969_999, 100_000, t),
                flat,
                RejectReason::PriceCollar,
            ),
        ];
        for (intent, exposure, reason) in cases {
            assert_eq!(
                c.check(&intent, exposure),
                Err(reason),
                "{intent:?} {exposure:?}"
            );
        }
        assert_eq!(
            c.check(&intent(Side::Buy, 6_030_001, 100_000, t), flat),
            Ok(())
        );
        // Working sells do not use up buying room, and the limit is inclusive.
        let room = Exposure {
            position: Qty(800_000),
            working_buy: Qty(0),
            working_sell: Qty(500_000),
        };
        assert_eq!(
            c.check(&intent(Side::Buy, 6_000_002, 200_000, t), room),
            Ok(())
        );
        let mut unknown = ok;
        unknown.instrument = InstrumentId(7);
        assert_eq!(
            c.check(&unknown, flat),
            Err(RejectReason::UnknownInstrument)
        );
        kill.engage();
        assert_eq!(c.check(&ok, flat), Err(RejectReason::KillSwitch));
    }

    #[test]
    fn a_stale_or_crossed_book_blocks_orders() {
        let kill = KillSwitch::new(false);
        let mut c = checks(&kill);
        let ok = intent(Side::Buy, 6_000_002, 100_000, 1_500_000_000);
        for state in [BookState::Stale, BookState::Crossed] {
            c.on_book(&book(6_000_000, 6_000_002, 1_000_000_000, state));
            assert_eq!(
                c.check(&ok, Exposure::default()),
                Err(RejectReason::BookNotLive)
            );
        }
        c.on_book(&book(6_000_000, 6_000_002, 1_000_000_000, BookState::Live));
        assert_eq!(c.check(&ok, Exposure::default()), Ok(()));
        let mut tick = ok;
        tick.px = Px(6_000_002);
        let mut reg = InstrumentRegistry::new();
        reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(10), Qty(1_000))
            .unwrap();
        let coarse = RiskChecks::new(reg, c.limits.clone(), kill.clone());
        assert_eq!(
            coarse.check(&tick, Exposure::default()),
            Err(RejectReason::TickSize)
        );
    }

    proptest! {
        /// Whatever the intent and exposure, an approval implies every limit holds.
        #[test]
        fn approved_intents_respect_every_limit(
            buy in any::<bool>(), px in 5_900_000i64..6_100_000, lots in -2i64..400,
            position in -1_200_000i64..1_200_000, working in 0i64..600_000, age_ms in 0u64..3_000,
        ) {
            let kill = KillSwitch::new(false);
            let c = checks(&kill);
            let side = if buy { Side::Buy } else { Side::Sell };
            let qty = lots * 1_000;
            let exposure = Exposure { position: Qty(position), working_buy: Qty(working), working_sell: Qty(working) };
            let i = intent(side, px, qty, 1_000_000_000 + age_ms * 1_000_000);
            if c.check(&i, exposure).is_ok() {
                prop_assert!(qty > 0 && qty <= 200_000);
                prop_assert!(px as i128 * qty as i128 <= 150 * 10i128.pow(10));
                // Working orders on the same side count; a trade that reduces exposure is allowed.
                match side {
                    Side::Buy => prop_assert!(position + working + qty <= 1_000_000),
                    Side::Sell => prop_assert!(position - working - qty >= -1_000_000),
                }
                prop_assert!(age_ms <= 2_000);
                prop_assert!((px as i128 - 6_000_001).abs() * 10_000 <= 50 * 6_000_001);
            }
        }
    }
}
