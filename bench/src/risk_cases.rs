//! The pre-trade check chain on a realistic account, shared by `pulse-bench risk` and the
//! criterion bench `risk`: BTCUSDT with a position held and marked, working orders committed,
//! a live book reference, the default portfolio limits on 10,000 USDT, Kelly sizing on.
//!
//! With the portfolio limits on (`portfolio`), the same account also carries figures a real
//! portfolio model computed (VaR, correlated exposure, a stress scenario), with limits the
//! approving intent stays within: the chain then runs every check of today's plus the three
//! portfolio ones.
//!
//! Three intents: one that passes every check (the longest path: sizing, both exposure sums,
//! the collar and the three portfolio checks), one refused by the first check (the kill
//! switch), one refused by the last (committed capital). Each is checked to get the verdict it
//! is named for before anything is timed.

use pulse_engine::config::InstrumentLimits;
use pulse_engine::intent::{OrderIntent, Origin};
use pulse_engine::risk::account::{Account, ACCOUNT_SCALE};
use pulse_engine::risk::checks::{Context, Exposure, RiskChecks};
use pulse_engine::risk::limits::PortfolioLimits;
use pulse_engine::risk::portfolio::{
    Figures, PortfolioModel, RiskModelConfig, StressScenario, Z99,
};
use pulse_engine::risk::portfolio_stage::publication;
use pulse_engine::risk::published::{BookRiskLimits, PublishedRisk};
use pulse_engine::risk::sizing::Sizing;
use pulse_engine::risk::{RejectReason, TradingMode};
use pulse_feeds::book::Level;
use pulse_feeds::event::{BookState, BookTop, EventMeta};
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{InstrumentId, Nanos, Px, Qty, Side};
use pulse_gateways::order::TimeInForce;

pub struct RiskCases {
    pub checks: RiskChecks,
    /// The same checks with the portfolio limits on, and the figures they read.
    pub portfolio: RiskChecks,
    pub figures: PublishedRisk,
    pub account: Account,
    pub approve: OrderIntent,
    pub reject_last: OrderIntent,
}

const USDT: i128 = 10i128.pow(ACCOUNT_SCALE);
const NOW: u64 = 1_723_161_254_000_000_000;

impl RiskCases {
    pub fn new() -> RiskCases {
        let mut reg = InstrumentRegistry::new();
        reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
            .expect("one instrument");
        let limits = InstrumentLimits {
            max_order_qty: Qty(200_000),
            max_order_notional: 150 * 10i128.pow(10),
            max_position: Qty(1_000_000),
            price_collar_bps: 50,
            max_ref_age: Nanos::from_millis(2_000),
        };
        let mut portfolio = PortfolioLimits::with_capital(10_000 * USDT);
        portfolio.sizing = Sizing::Kelly {
            payoff_bps: 10_000,
            cap_bps: 2_500,
        };
        let mut checks = RiskChecks::new(reg.clone(), vec![limits.clone()], portfolio);
        let mut with_book = RiskChecks::new(reg.clone(), vec![limits], portfolio);
        with_book.book = Some(BookRiskLimits {
            max_var: Some(1_000.0),
            max_correlated_exposure: Some(0.10),
            max_stress_loss: Some(1_000.0),
        });
        let meta = EventMeta {
            instrument: InstrumentId(0),
            recv_ts: Nanos(NOW),
            ..EventMeta::default()
        };
        let top = BookTop::with_touch(
            meta,
            BookState::Live,
            Level {
                px: Px(6_168_599),
                qty: Qty(100_000_000),
            },
            Level {
                px: Px(6_168_600),
                qty: Qty(200_000),
            },
        );
        checks.on_book(&top);
        with_book.on_book(&top);
        let mut account = Account::new(10_000 * USDT, &reg);
        account.on_mark(0, Px(6_168_599), Nanos(NOW));
        account.on_fill(0, Side::Buy, Px(6_160_000), Qty(300_000), 1_000_000);
        // 9,720 USDT committed in working orders (notional scale 10): with the position at its
        // mark (185.06), a 0.001 BTC order (61.69) fits within the 10,000 of capital and a
        // 0.002 one (123.37) does not.
        account.set_working(0, 9_720 * 10i128.pow(10), Qty(200_000), Qty(0));
        let approve = OrderIntent {
            meta: EventMeta {
                recv_ts: Nanos(NOW + 1_000_000),
                ..meta
            },
            instrument: InstrumentId(0),
            side: Side::Buy,
            px: Px(6_168_600),
            qty: Qty(100_000),
            tif: TimeInForce::Ioc,
            tag: 0,
            confidence_bps: 7_000,
            vol_bps: 3,
            origin: Origin::Rule,
        };
        let mut reject_last = approve;
        reject_last.qty = Qty(200_000);
        let figures = figures(&account);
        RiskCases {
            checks,
            portfolio: with_book,
            figures,
            account,
            approve,
            reject_last,
        }
    }

    /// The context with the portfolio figures.
    pub fn context_with_figures(&self, mode: TradingMode) -> Context<'_> {
        Context {
            figures: Some(&self.figures),
            ..self.context(mode)
        }
    }

    pub fn context(&self, mode: TradingMode) -> Context<'_> {
        Context {
            exposure: Exposure {
                position: Qty(300_000),
                working_buy: Qty(200_000),
                working_sell: Qty(0),
            },
            open_orders: 3,
            account: &self.account,
            mode,
            fills: 1,
            throttled: false,
            duplicate: false,
            figures: None,
        }
    }

    /// Each intent gets the verdict it is named for.
    pub fn verify(&self) -> Result<(), String> {
        let armed = self.context(TradingMode::Armed);
        let got = [
            self.checks.check(&self.approve, &armed).map(|_| ()),
            self.checks
                .check(&self.approve, &self.context(TradingMode::Killed))
                .map(|_| ()),
            self.checks.check(&self.reject_last, &armed).map(|_| ()),
            self.portfolio
                .check(
                    &self.approve,
                    &self.context_with_figures(TradingMode::Armed),
                )
                .map(|_| ()),
        ];
        let want = [
            Ok(()),
            Err(RejectReason::KillSwitch),
            Err(RejectReason::CapitalCap),
            Ok(()),
        ];
        if !self.figures.ready {
            return Err("risk cases: the portfolio figures are not ready".into());
        }
        if got == want {
            Ok(())
        } else {
            Err(format!("risk cases: got {got:?}, want {want:?}"))
        }
    }
}

/// Figures of a real portfolio model over 100 rows of seeded returns for the account's one
/// instrument, with a BTC -10% scenario, at the account's exposure.
fn figures(account: &Account) -> PublishedRisk {
    let config = RiskModelConfig {
        window: 100,
        ..RiskModelConfig::default()
    };
    let Ok(mut model) = PortfolioModel::new(1, config) else {
        return PublishedRisk::default();
    };
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..100 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.004;
        model.sampler_mut().push_row(&[r]);
    }
    let exposure = account.gross_exposure() as f64 / USDT as f64;
    let scenarios = [StressScenario::Shock {
        name: "btc-minus-10".into(),
        shocks: vec![(0, -0.10)],
    }];
    let mut f = Figures::new(1, 1);
    let equity = account.equity() as f64 / USDT as f64;
    model.compute(&[exposure], equity, &scenarios, &mut f);
    publication(&f, &[exposure], equity, Z99)
}
