//! The funds settings: the account currency and how each instrument's quote converts into
//! it, the venue's balances at start, the strategies instruments belong to, and the capital
//! allocation across them (`[risk]`'s `account_currency`, `fixed_rates`, `balances`, and
//! `[portfolio.allocation]`; checked in `check/funds.rs`).

use pulse_feeds::num::InstrumentId;
use pulse_risk::allocation::AllocationConfig;
use pulse_risk::fx::FxTable;

/// Funds as the risk stage takes them ([`crate::risk::stage::Funds`]).
#[derive(Clone, Debug)]
pub struct FundsConfig {
    /// `[risk] account_currency` (default USDT): every amount, limit and PnL is in it.
    pub account_currency: String,
    /// Each instrument's conversion, resolved from the configured instruments and
    /// `[risk] fixed_rates`.
    pub fx: FxTable,
    /// Per instrument: spot (its fills move balances) or a derivative (margin, not balances),
    /// from its venue.
    pub spot: Vec<bool>,
    /// `[risk] balances`: the venue's balances at start, `(asset, amount at ACCOUNT_SCALE)`;
    /// `None` checks no balance.
    pub balances: Option<Vec<(String, i128)>>,
    /// Per instrument, the strategy (index in `[[strategies]]` order) trading it; 0 for an
    /// instrument no strategy trades (a conversion instrument), and 0 for every instrument
    /// with more strategies than an allocation takes.
    pub strategy_of: Vec<usize>,
    /// Each strategy's instrument, in `[[strategies]]` order.
    pub strategy_instruments: Vec<InstrumentId>,
    /// Each strategy's name for reports: its kind and instrument.
    pub strategy_names: Vec<String>,
    /// `[portfolio.allocation]`, when configured.
    pub allocation: Option<AllocationConfig>,
}
