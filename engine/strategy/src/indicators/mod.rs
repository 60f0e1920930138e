//! Incremental indicators for strategies and agents: O(1) per update and allocation-free after
//! construction, each in its own file, bundled per instrument by [`IndicatorSet`].
//!
//! # Numbers
//!
//! Inputs arrive as integer mantissas ([`Px`], [`Qty`]). What is a sum of integers stays an
//! exact integer (`i128`): the VWAP's and the flow's volumes, the profile's buckets, the book
//! imbalance, the micro-price offset, and Bollinger's `Σx` and `Σx²`. Windows then slide
//! without drift, however long the process runs. What is inherently real (the EMA and Wilder
//! recursions, log returns) is `f64`, and every value is exposed as `f64`, the type agents and
//! the policy network compute in. The rolling sum of squared log returns is the one `f64` sum
//! that values also leave, and it is compensated (Neumaier).
//!
//! `f64` here is deterministic for a given binary: IEEE-754 double, every operation correctly
//! rounded in the order written; Rust never fuses `a * b + c` or reorders float arithmetic
//! unless asked (no fast-math exists to turn on), so a replay computes the same bits as the
//! live run. `sqrt` is correctly rounded by IEEE-754 itself; `ln_1p` comes from the platform's
//! libm, so its last bit may differ between platforms, never between runs of one binary.
//! Floats never leave the strategy stage: signals cross rings as integers, as DESIGN requires.
//!
//! Prices inside are in price-mantissa units (a BTCUSDT mid of 61837.635 at scale 2 is
//! `6183763.5`); the features are scale-free.
//!
//! # Cost
//!
//! Every `update` is O(1) except two bounded cases: the book imbalance sums at most
//! `TOP_DEPTH` levels per side, and a volume profile re-centring (only when a trade lands
//! outside its range) clears and rescans at most its bucket count. Nothing allocates after
//! construction: every window is a ring allocated once.

mod bollinger;
mod book_imbalance;
mod compensated;
mod config;
mod ema;
mod feature;
mod macd;
mod micro_price;
mod realized_volatility;
mod rsi;
mod trade_flow;
mod volume_profile;
mod vwap;
mod window;

#[cfg(test)]
mod testkit;

pub use bollinger::Bollinger;
pub use book_imbalance::BookImbalance;
pub use config::{
    BollingerConfig, IndicatorConfig, MacdConfig, ProfileConfig, MAX_BUCKETS, MAX_WINDOW,
};
pub use ema::Ema;
pub use feature::{Feature, FEATURES};
pub use macd::Macd;
pub use micro_price::MicroPrice;
pub use realized_volatility::RealizedVolatility;
pub use rsi::Rsi;
pub use trade_flow::TradeFlowImbalance;
pub use volume_profile::VolumeProfile;
pub use vwap::{Vwap, VwapWindow};

use anyhow::{ensure, Context};
use pulse_core::event::{BookState, BookTop, MarketEvent, TradeEvent};
use pulse_core::num::{Px, Qty};

const BPS: f64 = 10_000.0;

/// One of each indicator for one instrument, fed from its market events, and the fixed
/// [`FEATURES`]-slot vector the policy network reads (see [`Feature`] for the table).
///
/// Book events drive the price indicators with the mid `(bid + ask) / 2` of each live,
/// two-sided book top (Bollinger with `bid + ask` itself, twice the mid, which is exact in
/// integers: its bands are in half price-mantissa units, its %B and width unit-free). A stale
/// or crossed book, or one missing a side, changes nothing: no indicator may learn from a book
/// the engine would not trade on. Trades drive VWAP, the volume profile and the trade flow.
/// The set does not check instruments: its owner routes each instrument's events to its set.
///
/// ```
/// use pulse_strategy::indicators::{Feature, IndicatorConfig, IndicatorSet, FEATURES};
/// use pulse_core::num::Px;
/// let set = IndicatorSet::new(&IndicatorConfig::default(), Px(1)).unwrap();
/// let mut features = [0.0; FEATURES];
/// set.features(&mut features);
/// assert_eq!(features[Feature::Rsi as usize], 0.5, "neutral until warmed up");
/// assert_eq!(features[Feature::Ready as usize], 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct IndicatorSet {
    ema: Ema,
    macd: Macd,
    rsi: Rsi,
    bollinger: Bollinger,
    vwap: Vwap,
    profile: VolumeProfile,
    imbalance: BookImbalance,
    micro: MicroPrice,
    volatility: RealizedVolatility,
    flow: TradeFlowImbalance,
    /// The mid of the last book taken, 0 before the first.
    mid: f64,
    spread: f64,
    last_trade: Option<Px>,
}

impl IndicatorSet {
    /// Builds every indicator, allocating all the windows it will ever use. `tick` is the
    /// instrument's price tick (mantissa units), which sizes the profile's buckets.
    pub fn new(cfg: &IndicatorConfig, tick: Px) -> anyhow::Result<IndicatorSet> {
        cfg.validate()?;
        ensure!(tick.0 > 0, "indicators: the price tick must be positive");
        let bucket_width = tick
            .0
            .checked_mul(cfg.profile.bucket_ticks as i64)
            .context("indicators: profile bucket width overflows a price")?;
        let vwap_window = match cfg.vwap_window {
            0 => VwapWindow::Session,
            n => VwapWindow::Trades(n),
        };
        Ok(IndicatorSet {
            ema: Ema::new(cfg.ema_period),
            macd: Macd::new(cfg.macd.fast, cfg.macd.slow, cfg.macd.signal),
            rsi: Rsi::new(cfg.rsi_period),
            bollinger: Bollinger::new(cfg.bollinger.n, cfg.bollinger.k),
            vwap: Vwap::new(vwap_window),
            profile: VolumeProfile::new(cfg.profile.buckets, Px(bucket_width)),
            imbalance: BookImbalance::new(cfg.imbalance_levels),
            micro: MicroPrice::default(),
            volatility: RealizedVolatility::new(cfg.vol_window),
            flow: TradeFlowImbalance::new(cfg.flow_window),
            mid: 0.0,
            spread: 0.0,
            last_trade: None,
        })
    }

    pub fn on_book(&mut self, top: &BookTop) {
        if top.state != BookState::Live {
            return;
        }
        let (Some(bid), Some(ask)) = (top.best_bid(), top.best_ask()) else {
            return;
        };
        let mid2 = bid.px.0.wrapping_add(ask.px.0);
        let mid = mid2 as f64 / 2.0;
        if mid <= 0.0 {
            return;
        }
        self.mid = mid;
        self.spread = (ask.px.0 as f64) - (bid.px.0 as f64);
        self.ema.update(mid);
        self.macd.update(mid);
        self.rsi.update(mid);
        self.bollinger.update(mid2);
        self.volatility.update(mid);
        self.imbalance.update(top.bids(), top.asks());
        self.micro.update(bid, ask);
    }

    pub fn on_trade(&mut self, trade: &TradeEvent) {
        self.vwap.update(trade.px, trade.qty);
        self.profile.update(trade.px, trade.qty);
        self.flow.update(trade.qty, trade.aggressor);
        if trade.qty > Qty(0) {
            self.last_trade = Some(trade.px);
        }
    }

    /// [`IndicatorSet::on_book`] or [`IndicatorSet::on_trade`], whichever the event is.
    pub fn on_event(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Book(top) => self.on_book(top),
            MarketEvent::Trade(trade) => self.on_trade(trade),
        }
    }

    /// Writes the feature vector, in [`Feature`] order. Scale-free; a feature whose indicator
    /// is not ready holds [`Feature::neutral`].
    pub fn features(&self, out: &mut [f64; FEATURES]) {
        use Feature as F;
        *out = Feature::ALL.map(Feature::neutral);
        let mid = self.mid;
        if mid <= 0.0 {
            return;
        }
        let bps = |x: f64| x / mid * BPS;
        let mut set = |f: Feature, ready: bool, value: f64| {
            if ready {
                out[f as usize] = value;
            }
        };
        let (ema, macd, bands, vol) = (&self.ema, &self.macd, &self.bollinger, &self.volatility);
        set(F::MidVsEmaBps, ema.is_ready(), bps(mid - ema.value()));
        set(F::MacdBps, macd.is_ready(), bps(macd.macd()));
        set(F::MacdHistogramBps, macd.is_ready(), bps(macd.histogram()));
        set(F::Rsi, self.rsi.is_ready(), self.rsi.value() / 100.0);
        set(F::BollingerPercentB, bands.is_ready(), bands.percent_b());
        set(
            F::BollingerWidthBps,
            bands.is_ready(),
            bands.bandwidth() * BPS,
        );
        set(
            F::MidVsVwapBps,
            self.vwap.is_ready(),
            bps(mid - self.vwap.value()),
        );
        let poc = self.profile.poc_mid();
        set(F::MidVsPocBps, poc.is_some(), bps(mid - poc.unwrap_or(mid)));
        let (imbalance, micro) = (&self.imbalance, &self.micro);
        set(F::BookImbalance, imbalance.is_ready(), imbalance.value());
        set(
            F::MicroPriceOffsetBps,
            micro.is_ready(),
            bps(micro.offset()),
        );
        set(F::SpreadBps, true, bps(self.spread));
        set(F::RealizedVolBps, vol.is_ready(), vol.volatility() * BPS);
        set(
            F::TradeFlowImbalance,
            self.flow.is_ready(),
            self.flow.value(),
        );
        set(F::LastReturnBps, true, vol.last_return() * BPS);
        let trade = self.last_trade.map(|px| px.0 as f64);
        set(
            F::LastTradeVsMidBps,
            trade.is_some(),
            bps(trade.unwrap_or(mid) - mid),
        );
        set(F::Ready, true, if self.is_ready() { 1.0 } else { 0.0 });
    }

    /// Every indicator is ready, and a book and a trade have been seen.
    pub fn is_ready(&self) -> bool {
        self.mid > 0.0
            && self.last_trade.is_some()
            && self.ema.is_ready()
            && self.macd.is_ready()
            && self.rsi.is_ready()
            && self.bollinger.is_ready()
            && self.vwap.is_ready()
            && self.profile.is_ready()
            && self.imbalance.is_ready()
            && self.micro.is_ready()
            && self.volatility.is_ready()
            && self.flow.is_ready()
    }

    /// The mid of the last book taken, in price-mantissa units; 0 before the first.
    pub fn mid(&self) -> f64 {
        self.mid
    }

    pub fn ema(&self) -> &Ema {
        &self.ema
    }

    pub fn macd(&self) -> &Macd {
        &self.macd
    }

    pub fn rsi(&self) -> &Rsi {
        &self.rsi
    }

    /// Over `bid + ask`: twice the mid (see the type's docs).
    pub fn bollinger(&self) -> &Bollinger {
        &self.bollinger
    }

    pub fn vwap(&self) -> &Vwap {
        &self.vwap
    }

    pub fn profile(&self) -> &VolumeProfile {
        &self.profile
    }

    pub fn imbalance(&self) -> &BookImbalance {
        &self.imbalance
    }

    pub fn micro_price(&self) -> &MicroPrice {
        &self.micro
    }

    pub fn volatility(&self) -> &RealizedVolatility {
        &self.volatility
    }

    pub fn flow(&self) -> &TradeFlowImbalance {
        &self.flow
    }
}

#[cfg(test)]
mod tests;
