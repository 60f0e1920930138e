//! The account: each instrument's position and PnL, and the portfolio's equity, high-water
//! mark, drawdown, day's PnL, gross position exposure and committed capital, all kept up to
//! date incrementally so that every check reads them in O(1).
//!
//! Money of one instrument is exact at its notional scale (price scale + quantity scale);
//! portfolio totals are in the account currency at [`ACCOUNT_SCALE`] decimals, converted
//! exactly when the notional scale is at most that (every bundled instrument), truncated
//! otherwise. Every instrument is taken to be quoted in the account currency (USDT for the
//! bundled captures); there is no FX conversion.

use pulse_core::instrument::InstrumentRegistry;
use pulse_core::num::{Nanos, Px, Qty, Side};

use crate::position::Position;

/// Decimals of every portfolio amount (capital, equity, exposure, limits).
pub const ACCOUNT_SCALE: u32 = 12;
const DAY_NS: u64 = 86_400 * 1_000_000_000;

/// Converts one instrument's notional-scale amounts to the account scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Money {
    mul: i128,
    div: i128,
}

impl Money {
    fn new(notional_scale: u32) -> Money {
        if notional_scale <= ACCOUNT_SCALE {
            Money {
                mul: 10i128.pow(ACCOUNT_SCALE - notional_scale),
                div: 1,
            }
        } else {
            Money {
                mul: 1,
                div: 10i128.pow((notional_scale - ACCOUNT_SCALE).min(38)),
            }
        }
    }

    fn to_account(self, amount: i128) -> i128 {
        let scaled = amount.saturating_mul(self.mul);
        if self.div == 1 {
            scaled
        } else {
            div(scaled, self.div)
        }
    }
}

/// `a / b` (truncated, as `/`), through 64-bit division when both fit: a 128-bit division is
/// a library call several times slower, and the checks' amounts nearly always fit.
pub fn div(a: i128, b: i128) -> i128 {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) if b != 0 && !(a == i64::MIN && b == -1) => i128::from(a / b),
        _ => a / b,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstrumentAccount {
    pub position: Position,
    /// The last mid price: the mark for unrealized PnL and the price of exposure.
    pub mark: Option<Px>,
    money: Money,
    /// This instrument's part of each total, as last added to it.
    pnl_term: i128,
    exposure_term: i128,
    working_term: i128,
    /// Working quantity on each side.
    working_buy: i64,
    working_sell: i64,
    /// The larger |position| if every working order of one side filled, at the mark.
    worst_term: i128,
    /// Realized PnL minus fees, at the account scale.
    realized_term: i128,
}

impl InstrumentAccount {
    /// Realized + unrealized - fees at the notional scale.
    pub fn pnl(&self) -> i128 {
        let p = &self.position;
        p.realized + self.mark.map_or(0, |m| p.unrealized(m)) - p.fees
    }

    pub fn unrealized(&self) -> i128 {
        self.mark.map_or(0, |m| self.position.unrealized(m))
    }
}

#[derive(Clone, Debug)]
pub struct Account {
    /// What the account holds at start, at the account scale.
    pub capital: i128,
    instruments: Vec<InstrumentAccount>,
    /// Realized PnL minus fees of earlier sessions, restored from the journal.
    carried: i128,
    /// Sum of the instruments' realized terms.
    realized: i128,
    pnl: i128,
    gross_exposure: i128,
    /// Sum over instruments of their worst-case exposure (working orders filled).
    gross_worst: i128,
    working_notional: i128,
    hwm: i128,
    /// Drawdown from `hwm` in bps, kept with every change of equity.
    drawdown_bps: i64,
    /// Market day (UTC) and the equity it began with.
    day: Option<u64>,
    day_start: i128,
}

impl Account {
    pub fn new(capital: i128, instruments: &InstrumentRegistry) -> Account {
        Account {
            capital,
            instruments: instruments
                .iter()
                .map(|i| InstrumentAccount {
                    position: Position::default(),
                    mark: None,
                    money: Money::new(i.notional_scale()),
                    pnl_term: 0,
                    exposure_term: 0,
                    working_term: 0,
                    working_buy: 0,
                    working_sell: 0,
                    worst_term: 0,
                    realized_term: 0,
                })
                .collect(),
            carried: 0,
            realized: 0,
            pnl: 0,
            gross_exposure: 0,
            gross_worst: 0,
            working_notional: 0,
            hwm: capital,
            drawdown_bps: if capital > 0 { 0 } else { 10_000 },
            day: None,
            day_start: capital,
        }
    }

    pub fn instrument(&self, i: usize) -> Option<&InstrumentAccount> {
        self.instruments.get(i)
    }

    pub fn instruments(&self) -> &[InstrumentAccount] {
        &self.instruments
    }

    /// Capital plus every instrument's PnL (fees taken off, open positions at their marks),
    /// plus what earlier sessions realized.
    pub fn equity(&self) -> i128 {
        self.capital + self.carried + self.pnl
    }

    /// Realized PnL minus fees over every session so far (open positions not counted).
    pub fn realized(&self) -> i128 {
        self.carried + self.realized
    }

    /// The UTC market day the day's PnL counts from (`None` before the first mark).
    pub fn day(&self) -> Option<u64> {
        self.day
    }

    /// The equity the market day began with.
    pub fn day_start(&self) -> i128 {
        self.day_start
    }

    /// Takes up where an earlier session left off: its high-water mark, its realized PnL, and
    /// its market day with the equity that day began with (kept only if this session's first
    /// mark falls on the same UTC day). Before any fill of this session.
    pub fn restore(&mut self, hwm: i128, realized: i128, day: Option<u64>, day_start: i128) {
        self.carried = realized - self.realized;
        self.hwm = hwm;
        self.day = day;
        self.day_start = day_start;
        self.follow_equity();
    }

    /// The highest equity seen.
    pub fn high_water_mark(&self) -> i128 {
        self.hwm
    }

    /// Drawdown from the high-water mark in basis points (10000 when nothing is left),
    /// rounded down.
    pub fn drawdown_bps(&self) -> i64 {
        self.drawdown_bps
    }

    /// Equity now minus equity at the start of the market day.
    pub fn day_pnl(&self) -> i128 {
        self.equity() - self.day_start
    }

    /// Sum over instruments of |position| at its mark.
    pub fn gross_exposure(&self) -> i128 {
        self.gross_exposure
    }

    /// Sum over instruments of the larger |position| either side's working orders would leave
    /// if they all filled, at the mark: gross exposure with working orders counted.
    pub fn gross_worst(&self) -> i128 {
        self.gross_worst
    }

    /// This instrument's part of [`Account::gross_worst`].
    pub fn worst(&self, i: usize) -> i128 {
        self.instruments.get(i).map_or(0, |a| a.worst_term)
    }

    /// Sum over working orders of leaves at their limit price.
    pub fn working_notional(&self) -> i128 {
        self.working_notional
    }

    /// `px * |qty|` of instrument `i` at the account scale.
    pub fn notional(&self, i: usize, px: Px, qty: Qty) -> i128 {
        self.notional_wide(i, px, i128::from(qty.0))
    }

    /// [`Account::notional`] of a quantity as wide as a position plus every working order;
    /// past `i64::MAX` it counts as that (the product still fits `i128`, and every limit is
    /// far below it).
    pub fn notional_wide(&self, i: usize, px: Px, qty: i128) -> i128 {
        let qty = qty.unsigned_abs().min(i64::MAX as u128) as i128;
        self.instruments
            .get(i)
            .map_or(0, |a| a.money.to_account(i128::from(px.0) * qty))
    }

    /// Takes a position as the venue reports it at start, with its cost basis (notional
    /// scale): what the account holds before any fill of this run.
    pub fn adopt(&mut self, i: usize, qty: Qty, cost: i128) {
        if let Some(a) = self.instruments.get_mut(i) {
            a.position.qty = qty;
            a.position.cost = cost;
            self.refresh(i);
        }
    }

    pub fn on_fill(&mut self, i: usize, side: Side, px: Px, qty: Qty, fee: i128) {
        if let Some(a) = self.instruments.get_mut(i) {
            a.position.apply_fill(side, px, qty, fee);
            self.refresh(i);
        }
    }

    /// Funding settled on instrument `i`'s position: `paid` at its notional scale (negative
    /// when received), realized PnL as the venue books it.
    pub fn on_funding(&mut self, i: usize, paid: i128) {
        if let Some(a) = self.instruments.get_mut(i) {
            a.position.apply_funding(paid);
            self.refresh(i);
        }
    }

    /// A new mid price for instrument `i` at market time `now`; a new market day starts its
    /// day's PnL from the equity it begins with.
    pub fn on_mark(&mut self, i: usize, mark: Px, now: Nanos) {
        let Some(a) = self.instruments.get_mut(i) else {
            return;
        };
        a.mark = Some(mark);
        self.refresh(i);
        let day = now.0 / DAY_NS;
        if self.day != Some(day) {
            self.day = Some(day);
            self.day_start = self.equity();
        }
    }

    /// Instrument `i`'s working orders now total `notional` (its notional scale), `buy` and
    /// `sell` of quantity on each side.
    pub fn set_working(&mut self, i: usize, notional: i128, buy: Qty, sell: Qty) {
        if let Some(a) = self.instruments.get_mut(i) {
            let term = a.money.to_account(notional);
            self.working_notional += term - a.working_term;
            a.working_term = term;
            a.working_buy = buy.0;
            a.working_sell = sell.0;
            self.refresh(i);
        }
    }

    fn refresh(&mut self, i: usize) {
        let Some(a) = self.instruments.get_mut(i) else {
            return;
        };
        let pnl = a.money.to_account(a.pnl());
        let realized = a.money.to_account(a.position.realized - a.position.fees);
        let exposure = a.mark.map_or(0, |m| {
            a.money
                .to_account(i128::from(a.position.qty.0).abs() * i128::from(m.0))
        });
        let pos = i128::from(a.position.qty.0);
        let worst_qty = (pos + i128::from(a.working_buy))
            .abs()
            .max((pos - i128::from(a.working_sell)).abs());
        let worst = a
            .mark
            .map_or(0, |m| a.money.to_account(worst_qty * i128::from(m.0)));
        self.pnl += pnl - a.pnl_term;
        self.realized += realized - a.realized_term;
        a.realized_term = realized;
        self.gross_exposure += exposure - a.exposure_term;
        self.gross_worst += worst - a.worst_term;
        a.pnl_term = pnl;
        a.exposure_term = exposure;
        a.worst_term = worst;
        self.follow_equity();
    }

    /// A new equity: the high-water mark and the drawdown from it follow.
    fn follow_equity(&mut self) {
        self.hwm = self.hwm.max(self.equity());
        self.drawdown_bps = if self.hwm <= 0 {
            10_000
        } else {
            div((self.hwm - self.equity()).max(0) * 10_000, self.hwm).min(10_000) as i64
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::instrument::Venue;

    /// BTCUSDT-like: notional scale 10, so account amounts are notional * 100.
    fn account(capital_usdt: i128) -> Account {
        let mut reg = InstrumentRegistry::new();
        reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
            .unwrap();
        Account::new(capital_usdt * 10i128.pow(ACCOUNT_SCALE), &reg)
    }

    const USDT: i128 = 1_000_000_000_000;

    #[test]
    fn equity_drawdown_and_the_day_follow_fills_and_marks() {
        let mut a = account(1_000);
        a.on_mark(0, Px(1_000_000), Nanos(5));
        // Buy 0.5 BTC at 10,000 with a 1 USDT fee: equity 999.
        a.on_fill(0, Side::Buy, Px(1_000_000), Qty(50_000_000), 10i128.pow(10));
        assert_eq!(a.equity(), 999 * USDT);
        assert_eq!(a.gross_exposure(), 5_000 * USDT);
        assert_eq!(a.high_water_mark(), 1_000 * USDT);
        assert_eq!(a.drawdown_bps(), 10);
        // The mark rises 1%: +50 USDT, a new high-water mark.
        a.on_mark(0, Px(1_010_000), Nanos(6));
        assert_eq!(a.equity(), 1_049 * USDT);
        assert_eq!(a.high_water_mark(), 1_049 * USDT);
        assert_eq!(a.drawdown_bps(), 0);
        assert_eq!(a.day_pnl(), 49 * USDT);
        // It falls 20%: -1,010 from the high: drawdown 96.28%.
        a.on_mark(0, Px(808_000), Nanos(7));
        assert_eq!(a.equity(), 39 * USDT);
        assert_eq!(a.drawdown_bps(), (1_010 * 10_000 / 1_049) as i64);
        // The next day starts its PnL from there.
        a.on_mark(0, Px(808_000), Nanos(DAY_NS + 1));
        assert_eq!(a.day_pnl(), 0);
        a.set_working(0, 123 * 10i128.pow(10), Qty(0), Qty(0));
        a.set_working(0, 100 * 10i128.pow(10), Qty(20_000_000), Qty(90_000_000));
        assert_eq!(a.working_notional(), 100 * USDT);
        // Long 0.5: the working buys make it 0.7, the sells -0.4; the worst is 0.7 at 8,080.
        assert_eq!(a.gross_worst(), 5_656 * USDT);
        assert_eq!(a.worst(0), a.gross_worst());
        assert_eq!(a.notional(0, Px(1_000_000), Qty(-1_000_000)), 100 * USDT);
        assert_eq!(
            a.notional_wide(0, Px(1_000_000), -(1i128 << 70)),
            a.notional(0, Px(1_000_000), Qty(i64::MAX))
        );
    }

    /// Long 0.5 BTC at 10,000 liquidated at 9,100 with 10 USDT kept by the venue: the position
    /// is gone and equity lost 0.5 * 900 + 10 = 460, plus the 2.5 of funding paid before.
    #[test]
    fn funding_and_a_liquidation_reach_equity() {
        let mut a = account(1_000);
        a.on_mark(0, Px(1_000_000), Nanos(5));
        a.on_fill(0, Side::Buy, Px(1_000_000), Qty(50_000_000), 0);
        a.on_funding(0, 25 * 10i128.pow(9));
        assert_eq!(a.equity(), 1_000 * USDT - 25 * USDT / 10);
        a.on_fill(
            0,
            Side::Sell,
            Px(910_000),
            Qty(50_000_000),
            10 * 10i128.pow(10),
        );
        a.on_mark(0, Px(900_000), Nanos(6));
        assert_eq!(a.equity(), 1_000 * USDT - 4_625 * USDT / 10);
        assert_eq!(a.realized(), a.equity() - 1_000 * USDT);
        assert_eq!(a.gross_exposure(), 0);
    }

    #[test]
    fn a_restored_account_continues_the_last_sessions_equity_and_day() {
        let mut a = account(1_000);
        // An earlier session realized -120 USDT after a high of 1,050.
        a.restore(1_050 * USDT, -120 * USDT, Some(3), 990 * USDT);
        assert_eq!(a.equity(), 880 * USDT);
        assert_eq!(a.realized(), -120 * USDT);
        assert_eq!(a.drawdown_bps(), 1_619);
        // The same UTC day: its PnL still counts from the equity it began with.
        a.on_mark(0, Px(1_000_000), Nanos(3 * DAY_NS + 5));
        assert_eq!(a.day_pnl(), -110 * USDT);
        // Fills of this session add to what was realized before.
        a.on_fill(0, Side::Buy, Px(1_000_000), Qty(10_000_000), 10i128.pow(10));
        assert_eq!(a.realized(), -121 * USDT);
        // The next day starts afresh.
        a.on_mark(0, Px(1_000_000), Nanos(4 * DAY_NS));
        assert_eq!((a.day(), a.day_pnl()), (Some(4), 0));
        assert_eq!(a.high_water_mark(), 1_050 * USDT);
        // A restart on another day does not keep the old day's start.
        let mut b = account(1_000);
        b.restore(1_050 * USDT, -120 * USDT, Some(3), 990 * USDT);
        b.on_mark(0, Px(1_000_000), Nanos(9 * DAY_NS));
        assert_eq!(b.day_pnl(), 0);
    }

    #[test]
    fn division_takes_the_short_way_with_the_same_result() {
        for (a, b) in [
            (7, 2),
            (-7, 2),
            (7, -2),
            (i128::from(i64::MIN), -1),
            (i128::from(i64::MAX) + 1, 3),
            (-(1i128 << 100), 7),
            (5, i128::from(i64::MAX) + 10),
        ] {
            assert_eq!(div(a, b), a / b, "{a} / {b}");
        }
    }

    #[test]
    fn finer_notional_scales_are_truncated_into_the_account_scale() {
        let m = Money::new(16);
        assert_eq!(m.to_account(123_456_789), 12_345);
        assert_eq!(Money::new(12).to_account(7), 7);
        assert_eq!(Money::new(0).to_account(7), 7 * USDT);
    }
}
