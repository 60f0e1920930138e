//! Stress scenarios for a backtest: the book stage's output transformed before the strategy,
//! risk and the simulated venue see it, so that all three meet the same changed market.
//!
//! - price shock: from `at` on, every price (book levels and trades) times `1 + shock`;
//! - volatility scaling: each instrument's price moves around its first mid times `k`
//!   (`px + (k - 1) (mid - mid0)`: the book keeps its shape, its path is stretched);
//! - liquidity thinning: every book quantity times `depth` (a level never below one unit);
//! - an outage: no market data at all for `outage` from `at`; the first event after it carries
//!   the book as it is then.
//!
//! Times are offsets from the first market event. Prices stay at their instrument's scale
//! (rounded to the nearest unit); the transform allocates nothing. Off unless a backtest's
//! `[scenario]` asks (a live engine never has one).

use crate::event::{BookTop, MarketEvent};
use crate::num::{Nanos, Px, Qty};

/// Parts per million.
const PPM: i128 = 1_000_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Offset from the first market event of the shock and the outage.
    pub at: Nanos,
    /// Price multiplier minus one, ppm (-50_000 = a 5% fall); 0 for none.
    pub shock_ppm: i64,
    /// Volatility multiplier, ppm (1_000_000 = unchanged).
    pub vol_ppm: i64,
    /// Depth multiplier, ppm (1_000_000 = unchanged).
    pub depth_ppm: i64,
    /// How long market data stops from `at` (zero: no outage).
    pub outage: Nanos,
}

impl Scenario {
    pub fn is_identity(&self) -> bool {
        self.shock_ppm == 0
            && self.vol_ppm == PPM as i64
            && self.depth_ppm == PPM as i64
            && self.outage == Nanos::ZERO
    }
}

/// A scenario applied to a stream of market events.
pub struct ScenarioState {
    scenario: Scenario,
    start: Option<Nanos>,
    /// By instrument: the first mid, at the instrument's price scale.
    first_mid: Vec<Option<i64>>,
    /// Events withheld by the outage.
    pub dropped: u64,
}

impl ScenarioState {
    pub fn new(scenario: Scenario, instruments: usize) -> ScenarioState {
        ScenarioState {
            scenario,
            start: None,
            first_mid: vec![None; instruments],
            dropped: 0,
        }
    }

    fn scale_px(px: Px, ppm: i128) -> Px {
        let v = i128::from(px.0) * ppm;
        let q = (v + v.signum() * PPM / 2) / PPM;
        Px(i64::try_from(q).unwrap_or(px.0))
    }

    /// Transforms `event` in place; `false` when it is withheld.
    pub fn apply(&mut self, event: &mut MarketEvent) -> bool {
        let ts = event.recv_ts();
        let start = *self.start.get_or_insert(ts);
        let since = Nanos(ts.0.saturating_sub(start.0));
        let s = &self.scenario;
        if s.outage > Nanos::ZERO && since >= s.at && since.0 < s.at.0.saturating_add(s.outage.0) {
            self.dropped += 1;
            return false;
        }
        let shocked = s.shock_ppm != 0 && since >= s.at;
        let factor = PPM + if shocked { i128::from(s.shock_ppm) } else { 0 };
        let vol = i128::from(s.vol_ppm);
        let depth = i128::from(s.depth_ppm);
        match event {
            MarketEvent::Book(top) => {
                let i = usize::from(top.meta.instrument.0);
                let shift = self.vol_shift(i, top, vol);
                for level in top.bids[..top.bid_levels as usize]
                    .iter_mut()
                    .chain(top.asks[..top.ask_levels as usize].iter_mut())
                {
                    level.px = Self::scale_px(Px(level.px.0 + shift), factor);
                    if depth != PPM {
                        let q = i128::from(level.qty.0) * depth / PPM;
                        level.qty = Qty(i64::try_from(q).unwrap_or(level.qty.0).max(1));
                    }
                }
            }
            MarketEvent::Trade(trade) => {
                let i = usize::from(trade.meta.instrument.0);
                let shift = match self.first_mid.get(i).copied().flatten() {
                    Some(m0) if vol != PPM => {
                        let d = i128::from(trade.px.0 - m0) * (vol - PPM) / PPM;
                        i64::try_from(d).unwrap_or(0)
                    }
                    _ => 0,
                };
                trade.px = Self::scale_px(Px(trade.px.0 + shift), factor);
            }
        }
        true
    }

    /// `(k - 1) (mid - mid0)` for the book's instrument (0 before its first two-sided book).
    fn vol_shift(&mut self, i: usize, top: &BookTop, vol: i128) -> i64 {
        if vol == PPM {
            return 0;
        }
        let Some(mid) = top.mid() else { return 0 };
        let Some(slot) = self.first_mid.get_mut(i) else {
            return 0;
        };
        let m0 = *slot.get_or_insert(mid.0);
        i64::try_from(i128::from(mid.0 - m0) * (vol - PPM) / PPM).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::Level;
    use crate::event::{BookState, EventMeta, TradeEvent};
    use crate::num::{InstrumentId, Side};

    const S: u64 = 1_000_000_000;

    fn book(ts: u64, bid: i64, ask: i64) -> MarketEvent {
        let meta = EventMeta {
            instrument: InstrumentId(0),
            recv_ts: Nanos(ts),
            ..EventMeta::default()
        };
        let level = |px| Level {
            px: Px(px),
            qty: Qty(10),
        };
        MarketEvent::Book(BookTop::with_touch(
            meta,
            BookState::Live,
            level(bid),
            level(ask),
        ))
    }

    fn touch(e: &MarketEvent) -> (i64, i64, i64) {
        match e {
            MarketEvent::Book(t) => (t.bids[0].px.0, t.asks[0].px.0, t.bids[0].qty.0),
            MarketEvent::Trade(t) => (t.px.0, t.px.0, t.qty.0),
        }
    }

    #[test]
    fn a_shock_moves_every_price_from_its_time_on() {
        let mut s = ScenarioState::new(
            Scenario {
                at: Nanos(60 * S),
                shock_ppm: -100_000,
                vol_ppm: 1_000_000,
                depth_ppm: 500_000,
                ..Scenario::default()
            },
            1,
        );
        let mut before = book(0, 10_000, 10_010);
        assert!(s.apply(&mut before));
        assert_eq!(touch(&before), (10_000, 10_010, 5));
        let mut after = book(60 * S, 10_000, 10_010);
        assert!(s.apply(&mut after));
        assert_eq!(touch(&after), (9_000, 9_009, 5));
        let mut trade = MarketEvent::Trade(TradeEvent {
            meta: EventMeta {
                recv_ts: Nanos(61 * S),
                ..EventMeta::default()
            },
            trade_id: 1,
            px: Px(10_005),
            qty: Qty(3),
            aggressor: Side::Buy,
        });
        assert!(s.apply(&mut trade));
        assert_eq!(touch(&trade).0, 9_005);
    }

    #[test]
    fn volatility_scales_moves_around_the_first_mid_and_an_outage_withholds() {
        let mut s = ScenarioState::new(
            Scenario {
                at: Nanos(10 * S),
                vol_ppm: 2_000_000,
                depth_ppm: 1_000_000,
                outage: Nanos(5 * S),
                ..Scenario::default()
            },
            1,
        );
        let mut e = book(0, 1_000, 1_002);
        assert!(s.apply(&mut e));
        assert_eq!(touch(&e), (1_000, 1_002, 10));
        // The mid rose by 10: twice that.
        let mut e = book(S, 1_010, 1_012);
        assert!(s.apply(&mut e));
        assert_eq!(touch(&e), (1_020, 1_022, 10));
        let mut e = book(12 * S, 1_000, 1_002);
        assert!(!s.apply(&mut e));
        let mut e = book(15 * S, 990, 992);
        assert!(s.apply(&mut e));
        assert_eq!(touch(&e), (980, 982, 10));
        assert_eq!(s.dropped, 1);
    }
}
