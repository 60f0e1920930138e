//! The account: each instrument's position and PnL, and the portfolio's equity, high-water
//! mark, drawdown, day's PnL, gross position exposure and committed capital, all kept up to
//! date incrementally so that every check reads them in O(1).
//!
//! Money of one instrument is exact at its notional scale (price scale + quantity scale), in
//! its quote currency; portfolio totals are in the account currency at [`ACCOUNT_SCALE`]
//! decimals. An instrument quoted in the account currency converts exactly when its notional
//! scale is at most that (every bundled instrument), truncated otherwise; one quoted in another
//! currency converts at a rate ([`crate::fx`]) that follows its conversion instrument's mid:
//! each mark of a conversion instrument refreshes the instruments it converts (bounded by the
//! instrument count, none allocating). Realized PnL converts at the rate of the fill that
//! realized it; unrealized PnL, exposure and working notional at the current rate.
//!
//! The account also keeps per-strategy totals (exposure, working notional, PnL) for capital
//! allocation ([`crate::allocation`]) and, optionally, per-asset balances
//! ([`crate::balance`]), each updated in the same O(1) refresh.

use anyhow::bail;
use pulse_core::instrument::InstrumentRegistry;
use pulse_core::num::{Nanos, Px, Qty, Side};

use crate::balance::Balances;
use crate::fx::{rate_from_mid, Conversion, FxTable, Money};
use crate::position::Position;

pub use crate::money::{div, ACCOUNT_SCALE};
const DAY_NS: u64 = 86_400 * 1_000_000_000;

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
    /// Realized PnL minus fees, at the account scale (each part at the rate it was realized).
    realized_term: i128,
    /// Realized PnL minus fees at the notional scale, as last converted into `realized_term`.
    realized_seen: i128,
    /// Working notional at the notional scale, as last set.
    working_raw: i128,
    /// The strategy this instrument belongs to (0 unless [`Account::set_strategies`]).
    strategy: usize,
    price_scale: u32,
    /// Converted through an inverted pair (see [`Conversion::Via`]).
    inverted: bool,
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

/// One strategy's part of the account's totals, at the account scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrategyTotals {
    /// Sum over its instruments of |position| at the mark.
    pub exposure: i128,
    /// Sum over its instruments' working orders of leaves at the limit price.
    pub working: i128,
    /// Realized + unrealized - fees over its instruments (this session).
    pub pnl: i128,
    /// The capital allocated to it; `None` before any allocation (no limit).
    pub capital: Option<i128>,
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
    /// Per strategy, indexed as `InstrumentAccount::strategy`.
    strategies: Vec<StrategyTotals>,
    /// Whether an allocation is in force (no strategy has a capital before the first).
    allocated: bool,
    /// Per conversion instrument, the instruments whose rate its mark sets.
    dependents: Vec<Vec<usize>>,
    balances: Balances,
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
                    realized_seen: 0,
                    working_raw: 0,
                    strategy: 0,
                    price_scale: i.price_scale,
                    inverted: false,
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
            strategies: vec![StrategyTotals::default()],
            allocated: false,
            dependents: vec![Vec::new(); instruments.len()],
            balances: Balances::default(),
        }
    }

    /// Values each instrument in the account currency as `fx` says (at start, before any
    /// fill). An instrument converted through another has no value (rate 0) until that
    /// instrument's first mid; the checks refuse it new exposure meanwhile (`ConversionStale`).
    pub fn set_fx(&mut self, fx: &FxTable) -> anyhow::Result<()> {
        fx.validate()?;
        if fx.len() != self.instruments.len() {
            bail!(
                "{} conversions for {} instruments",
                fx.len(),
                self.instruments.len()
            );
        }
        self.dependents.iter_mut().for_each(Vec::clear);
        for i in 0..self.instruments.len() {
            let (rate, inverted) = match fx.get(i) {
                Conversion::Identity => (None, false),
                Conversion::Fixed(rate) => (Some(rate), false),
                Conversion::Via {
                    instrument,
                    inverted,
                } => {
                    let c = usize::from(instrument.0);
                    self.dependents[c].push(i);
                    let source = &self.instruments[c];
                    let rate = source
                        .mark
                        .and_then(|m| rate_from_mid(m, source.price_scale, inverted));
                    (Some(rate.unwrap_or(0)), inverted)
                }
            };
            let a = &mut self.instruments[i];
            a.money.set_rate(rate);
            a.inverted = inverted;
            self.refresh(i);
        }
        Ok(())
    }

    /// The account-currency value of one quote unit of instrument `i` at the account scale
    /// (`RATE_ONE` for the identity; 0 before its conversion instrument's first mid).
    pub fn rate(&self, i: usize) -> Option<i128> {
        self.instruments
            .get(i)
            .map(|a| a.money.rate().unwrap_or(crate::fx::RATE_ONE))
    }

    /// Keeps the venue's balances per asset from now on (at start, before any fill).
    pub fn set_balances(&mut self, balances: Balances) {
        self.balances = balances;
    }

    pub fn balances(&self) -> &Balances {
        &self.balances
    }

    /// Instrument `i`'s working buys now reserve `buy_notional` (notional scale) of its quote,
    /// its working sells `sell` of its base (spot instruments, with balances kept).
    pub fn reserve(&mut self, i: usize, buy_notional: i128, sell: Qty) {
        self.balances.set_reserved(i, buy_notional, sell);
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

    /// Instrument `i`'s realized PnL less fees (funding included) at the account scale.
    pub fn realized_of(&self, i: usize) -> i128 {
        self.instruments.get(i).map_or(0, |a| a.realized_term)
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
            self.balances.on_fill(i, side, px, qty, fee);
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
    /// day's PnL from the equity it begins with. The mid of a conversion instrument is the
    /// rate of the instruments it converts, which are valued again.
    pub fn on_mark(&mut self, i: usize, mark: Px, now: Nanos) {
        let Some(a) = self.instruments.get_mut(i) else {
            return;
        };
        a.mark = Some(mark);
        let scale = a.price_scale;
        for k in 0..self.dependents[i].len() {
            let d = self.dependents[i][k];
            let dep = &mut self.instruments[d];
            let rate = rate_from_mid(mark, scale, dep.inverted).unwrap_or(0);
            dep.money.set_rate(Some(rate));
            if d != i {
                self.refresh(d);
            }
        }
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
            a.working_raw = notional;
            a.working_buy = buy.0;
            a.working_sell = sell.0;
            self.refresh(i);
        }
    }

    /// Values instrument `i` again and moves every total by the change of its terms.
    fn refresh(&mut self, i: usize) {
        let Some(a) = self.instruments.get_mut(i) else {
            return;
        };
        let seen = a.position.realized - a.position.fees;
        // Flat, nothing working, nothing new realized, and its terms already say so: a mark
        // or a new rate changes nothing (most marks of most instruments, most of the time).
        let idle = a.position.qty.0 == 0
            && a.position.cost == 0
            && a.working_buy == 0
            && a.working_sell == 0
            && a.working_raw == 0
            && seen == a.realized_seen;
        if idle
            && a.pnl_term == a.realized_term
            && a.exposure_term == 0
            && a.worst_term == 0
            && a.working_term == 0
        {
            return;
        }
        let m = a.money;
        // Only a fill moves it (not a mark, nor a new rate): two conversions saved per mark.
        let realized = if seen == a.realized_seen {
            a.realized_term
        } else {
            a.realized_term + m.to_account(seen) - m.to_account(a.realized_seen)
        };
        a.realized_seen = seen;
        let pnl = realized + m.to_account(a.unrealized());
        let exposure = a.mark.map_or(0, |mark| {
            m.to_account(i128::from(a.position.qty.0).abs() * i128::from(mark.0))
        });
        let pos = i128::from(a.position.qty.0);
        let worst_qty = (pos + i128::from(a.working_buy))
            .abs()
            .max((pos - i128::from(a.working_sell)).abs());
        let worst = a
            .mark
            .map_or(0, |mark| m.to_account(worst_qty * i128::from(mark.0)));
        let working = m.to_account(a.working_raw);
        self.pnl += pnl - a.pnl_term;
        self.realized += realized - a.realized_term;
        self.gross_exposure += exposure - a.exposure_term;
        self.gross_worst += worst - a.worst_term;
        self.working_notional += working - a.working_term;
        if let Some(t) = self.strategies.get_mut(a.strategy) {
            t.pnl += pnl - a.pnl_term;
            t.exposure += exposure - a.exposure_term;
            t.working += working - a.working_term;
        }
        a.realized_term = realized;
        a.pnl_term = pnl;
        a.exposure_term = exposure;
        a.worst_term = worst;
        a.working_term = working;
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

mod strategies;

#[cfg(test)]
mod tests;
