//! `[strategy]`: the book-imbalance taker or the ensemble, and the ensemble's knob tables
//! (`[strategy.indicators]`, `[strategy.regime]`, `[strategy.meta]`,
//! `[strategy.agents.<agent>]`). Every knob has a default; a table names only what it changes,
//! and a name no knob has is an error listing the ones it does.

use std::ops::RangeInclusive;

use pulse_feeds::instrument::{Instrument, InstrumentRegistry};
use pulse_feeds::num::{parse_decimal, Decimal, Nanos, Qty};
use toml::Spanned;

use super::super::raw::{DecimalText, Knobs, RawStrategy, StrategyKind};
use super::super::{ConfigError, EnsembleSettings, ImbalanceConfig, StrategyConfig};
use super::Checker;
use crate::agents::aggregate::DEFAULT_MIN_CONFIDENCE;
use crate::agents::meta::MetaParams;
use crate::agents::regime::RegimeParams;
use crate::agents::rules::AgentParams;
use crate::indicators::IndicatorConfig;
use crate::strategy::ensemble::EnsembleConfig;
use crate::strategy::market_maker::MarketMakerConfig;
use crate::strategy::taker::TakerParams;
use crate::user_strategy::UserSettings;
use pulse_strategy::params::Params;
use pulse_strategy::StrategyContext;

/// Knob values are decimals with at most this many places, read exactly, then as `f64`.
const KNOB_SCALE: u32 = 9;

/// The keys of `[strategy]` only the ensemble takes.
const ENSEMBLE_KEYS: [&str; 7] = [
    "min_confidence",
    "policy_file",
    "signal_file",
    "indicators",
    "regime",
    "meta",
    "agents",
];
const MM_REFUSAL: &str =
    "does not apply to kind = \"market-maker\" (its knobs are in [strategy.quotes])";

/// One knob: its name, where its value goes, and the values it may take.
enum Knob<'a> {
    Real(&'static str, &'a mut f64, RangeInclusive<f64>),
    Count(&'static str, &'a mut usize, RangeInclusive<usize>),
}

impl Knob<'_> {
    fn name(&self) -> &'static str {
        match self {
            Knob::Real(n, ..) | Knob::Count(n, ..) => n,
        }
    }
}

impl Checker<'_> {
    pub(super) fn strategy(
        &self,
        raw: &RawStrategy,
        instruments: &InstrumentRegistry,
    ) -> Result<StrategyConfig, ConfigError> {
        let inst = self.strategy_instrument(raw, instruments)?;
        let order_qty = self.positive(
            "strategy.order_qty",
            &raw.order_qty,
            inst.qty_scale,
            "the lot size",
        )?;
        if order_qty % inst.lot.0 != 0 {
            let message = format!(
                "must be a whole number of lots (lot size {})",
                Decimal::new(inst.lot.0, inst.qty_scale)
            );
            return Err(self.err("strategy.order_qty", raw.order_qty.span(), message));
        }
        let max_position = Qty(self.positive(
            "strategy.max_position",
            &raw.max_position,
            inst.qty_scale,
            "the lot size",
        )?);
        let cooldown_ms = self.int("strategy.cooldown_ms", &raw.cooldown_ms, 0, i64::MAX)?;
        if let StrategyKind::MarketMaker = raw.kind.get_ref() {
            return self.market_maker(raw, inst, Qty(order_qty), max_position, cooldown_ms);
        }
        let cooldown = Nanos::from_millis(cooldown_ms as u64);
        if let StrategyKind::User = raw.kind.get_ref() {
            let context = StrategyContext {
                instrument: inst.id,
                tick: inst.tick,
                order_qty: Qty(order_qty),
                max_position,
                cooldown,
            };
            return self.user(raw, context);
        }
        self.refuse_keys(raw, &["params"], "applies to kind = \"user\" only")?;
        self.refuse_keys(raw, &["quotes"], "applies to kind = \"market-maker\" only")?;
        let slippage = raw.slippage_ticks.as_ref().ok_or_else(|| {
            self.err(
                "strategy.slippage_ticks",
                raw.kind.span(),
                "is required for a taking strategy (book-imbalance, ensemble)",
            )
        })?;
        let slippage_ticks =
            self.int("strategy.slippage_ticks", slippage, 0, u32::MAX.into())? as u32;
        let taker = TakerParams {
            instrument: inst.id,
            tick: inst.tick,
            order_qty: Qty(order_qty),
            max_position,
            cooldown,
            slippage_ticks,
        };
        match raw.kind.get_ref() {
            StrategyKind::BookImbalance => self.imbalance(raw, taker),
            // The market maker and a user strategy were built above.
            StrategyKind::Ensemble | StrategyKind::MarketMaker | StrategyKind::User => {
                self.ensemble(raw, taker)
            }
        }
    }

    fn market_maker(
        &self,
        raw: &RawStrategy,
        inst: &Instrument,
        order_qty: Qty,
        max_inventory: Qty,
        cooldown_ms: i64,
    ) -> Result<StrategyConfig, ConfigError> {
        self.refuse_keys(
            raw,
            &["depth_levels", "threshold_bps", "slippage_ticks"],
            MM_REFUSAL,
        )?;
        self.refuse_keys(raw, &ENSEMBLE_KEYS, MM_REFUSAL)?;
        let (mut half_spread, mut skew, mut refresh) = (0usize, 1usize, 1usize);
        self.knobs(
            "strategy.quotes",
            raw.quotes.as_ref(),
            &mut [
                Knob::Count("half_spread_ticks", &mut half_spread, 0..=100_000),
                Knob::Count("skew_ticks", &mut skew, 0..=100_000),
                Knob::Count("refresh_ticks", &mut refresh, 1..=100_000),
            ],
        )?;
        Ok(StrategyConfig::MarketMaker(MarketMakerConfig {
            instrument: inst.id,
            tick: inst.tick,
            lot: inst.lot,
            order_qty,
            max_inventory,
            cooldown: Nanos::from_millis(cooldown_ms as u64),
            half_spread_ticks: half_spread as u32,
            skew_ticks: skew as u32,
            refresh_ticks: refresh as u32,
        }))
    }

    fn strategy_instrument<'r>(
        &self,
        raw: &RawStrategy,
        instruments: &'r InstrumentRegistry,
    ) -> Result<&'r Instrument, ConfigError> {
        let symbol = raw.instrument.get_ref();
        let mut matches = instruments
            .iter()
            .filter(|i| i.symbol.eq_ignore_ascii_case(symbol));
        match (matches.next(), matches.next()) {
            (Some(inst), None) => Ok(inst),
            (found, _) => {
                let message = match found {
                    None => format!("`{symbol}` is not the symbol of any configured instrument"),
                    Some(_) => format!("`{symbol}` is configured on more than one venue"),
                };
                Err(self.err("strategy.instrument", raw.instrument.span(), message))
            }
        }
    }

    fn imbalance(
        &self,
        raw: &RawStrategy,
        taker: TakerParams,
    ) -> Result<StrategyConfig, ConfigError> {
        self.refuse_keys(raw, &ENSEMBLE_KEYS, "applies to kind = \"ensemble\" only")?;
        let required = |key: &str, v: &Option<Spanned<i64>>| {
            v.clone().ok_or_else(|| {
                self.err(
                    format!("strategy.{key}"),
                    raw.kind.span(),
                    "is required for kind = \"book-imbalance\"",
                )
            })
        };
        let depth = required("depth_levels", &raw.depth_levels)?;
        let threshold = required("threshold_bps", &raw.threshold_bps)?;
        Ok(StrategyConfig::BookImbalance(ImbalanceConfig {
            instrument: taker.instrument,
            depth_levels: self.int("strategy.depth_levels", &depth, 1, 10)? as usize,
            threshold_bps: self.int("strategy.threshold_bps", &threshold, 1, 10_000)? as u32,
            order_qty: taker.order_qty,
            max_position: taker.max_position,
            cooldown: taker.cooldown,
            slippage_ticks: taker.slippage_ticks,
        }))
    }

    fn ensemble(
        &self,
        raw: &RawStrategy,
        taker: TakerParams,
    ) -> Result<StrategyConfig, ConfigError> {
        self.refuse_keys(
            raw,
            &["depth_levels", "threshold_bps"],
            "applies to kind = \"book-imbalance\" only",
        )?;
        let min_confidence = match &raw.min_confidence {
            Some(v) => self.real("strategy.min_confidence", v, &(0.0..=1.0))?,
            None => DEFAULT_MIN_CONFIDENCE,
        };
        let mut indicators = IndicatorConfig::default();
        let mut regime = RegimeParams::default();
        let mut meta = MetaParams::default();
        let mut agents = AgentParams::default();
        let mut bucket_ticks = indicators.profile.bucket_ticks as usize;
        {
            let i = &mut indicators;
            let w = 1..=crate::indicators::MAX_WINDOW;
            self.knobs(
                "strategy.indicators",
                raw.indicators.as_ref(),
                &mut [
                    Knob::Count("ema_period", &mut i.ema_period, w.clone()),
                    Knob::Count("macd_fast", &mut i.macd.fast, w.clone()),
                    Knob::Count("macd_slow", &mut i.macd.slow, w.clone()),
                    Knob::Count("macd_signal", &mut i.macd.signal, w.clone()),
                    Knob::Count("rsi_period", &mut i.rsi_period, w.clone()),
                    Knob::Count("bollinger_n", &mut i.bollinger.n, w.clone()),
                    Knob::Real("bollinger_k", &mut i.bollinger.k, 0.1..=10.0),
                    Knob::Count("vwap_window", &mut i.vwap_window, 0..=*w.end()),
                    Knob::Count(
                        "profile_buckets",
                        &mut i.profile.buckets,
                        1..=crate::indicators::MAX_BUCKETS,
                    ),
                    Knob::Count(
                        "imbalance_levels",
                        &mut i.imbalance_levels,
                        1..=pulse_feeds::event::TOP_DEPTH,
                    ),
                    Knob::Count("vol_window", &mut i.vol_window, w.clone()),
                    Knob::Count("flow_window", &mut i.flow_window, w),
                    Knob::Count("profile_bucket_ticks", &mut bucket_ticks, 1..=1_000_000),
                ],
            )?;
        }
        indicators.profile.bucket_ticks = bucket_ticks as u32;
        if let Err(e) = indicators.validate() {
            let span = raw
                .indicators
                .as_ref()
                .map_or(raw.kind.span(), Spanned::span);
            return Err(self.err("strategy.indicators", span, format!("{e:#}")));
        }
        self.knobs(
            "strategy.regime",
            raw.regime.as_ref(),
            &mut [
                Knob::Real("trend_bps", &mut regime.trend_bps, 0.0..=10_000.0),
                Knob::Real("vol_factor", &mut regime.vol_factor, 0.0..=100.0),
                Knob::Real("exit_ratio", &mut regime.exit_ratio, 0.0..=1.0),
            ],
        )?;
        let mut horizon = meta.horizon as usize;
        let [bull, bear, sideways] = &mut meta.weights;
        let [b0, b1, b2, b3, b4] = bull;
        let [e0, e1, e2, e3, e4] = bear;
        let [s0, s1, s2, s3, s4] = sideways;
        let weight = 0.0..=100.0;
        self.knobs(
            "strategy.meta",
            raw.meta.as_ref(),
            &mut [
                Knob::Count("horizon", &mut horizon, 1..=1_000_000),
                Knob::Real("score_alpha", &mut meta.score_alpha, 0.0..=1.0),
                Knob::Real(
                    "score_scale_bps",
                    &mut meta.score_scale_bps,
                    0.001..=10_000.0,
                ),
                Knob::Real("min_factor", &mut meta.min_factor, 0.0..=100.0),
                Knob::Real("max_factor", &mut meta.max_factor, 0.0..=100.0),
                Knob::Real("bull_conservative", b0, weight.clone()),
                Knob::Real("bull_aggressive", b1, weight.clone()),
                Knob::Real("bull_balanced", b2, weight.clone()),
                Knob::Real("bull_contrarian", b3, weight.clone()),
                Knob::Real("bull_policy", b4, weight.clone()),
                Knob::Real("bear_conservative", e0, weight.clone()),
                Knob::Real("bear_aggressive", e1, weight.clone()),
                Knob::Real("bear_balanced", e2, weight.clone()),
                Knob::Real("bear_contrarian", e3, weight.clone()),
                Knob::Real("bear_policy", e4, weight.clone()),
                Knob::Real("sideways_conservative", s0, weight.clone()),
                Knob::Real("sideways_aggressive", s1, weight.clone()),
                Knob::Real("sideways_balanced", s2, weight.clone()),
                Knob::Real("sideways_contrarian", s3, weight.clone()),
                Knob::Real("sideways_policy", s4, weight),
            ],
        )?;
        meta.horizon = horizon as u32;
        if meta.min_factor > meta.max_factor {
            let span = raw.meta.as_ref().map_or(raw.kind.span(), Spanned::span);
            return Err(self.err("strategy.meta", span, "min_factor is above max_factor"));
        }
        if let Some(a) = &raw.agents {
            let bps = 0.0..=10_000.0;
            let c = &mut agents.conservative;
            self.knobs(
                "strategy.agents.conservative",
                a.conservative.as_ref(),
                &mut [
                    Knob::Real("min_trend_bps", &mut c.min_trend_bps, bps.clone()),
                    Knob::Real("max_vol_bps", &mut c.max_vol_bps, bps.clone()),
                    Knob::Real("rsi_low", &mut c.rsi_low, 0.0..=100.0),
                    Knob::Real("rsi_high", &mut c.rsi_high, 0.0..=100.0),
                ],
            )?;
            let g = &mut agents.aggressive;
            self.knobs(
                "strategy.agents.aggressive",
                a.aggressive.as_ref(),
                &mut [
                    Knob::Real("min_macd_bps", &mut g.min_macd_bps, bps.clone()),
                    Knob::Real("min_flow", &mut g.min_flow, 0.0..=1.0),
                ],
            )?;
            let b = &mut agents.balanced;
            self.knobs(
                "strategy.agents.balanced",
                a.balanced.as_ref(),
                &mut [
                    Knob::Real("trend_scale_bps", &mut b.trend_scale_bps, 0.001..=10_000.0),
                    Knob::Real("min_score", &mut b.min_score, 0.0..=1.0),
                ],
            )?;
            self.knobs(
                "strategy.agents.contrarian",
                a.contrarian.as_ref(),
                &mut [Knob::Real(
                    "rsi_extreme",
                    &mut agents.contrarian.rsi_extreme,
                    50.0..=100.0,
                )],
            )?;
        }
        let policy_file = match &raw.policy_file {
            Some(file) => Some(self.path("strategy.policy_file", file)?),
            None => None,
        };
        let signal_file = match &raw.signal_file {
            Some(file) => Some(self.path("strategy.signal_file", file)?),
            None => None,
        };
        Ok(StrategyConfig::Ensemble(Box::new(EnsembleSettings {
            signal_file,
            strategy: EnsembleConfig {
                taker,
                min_confidence,
                indicators,
                agents,
                regime,
                meta,
            },
            policy_file,
        })))
    }

    /// `kind = "user"`: the command line's strategy, its `[strategy.params]` checked against
    /// the parameters it declares.
    fn user(
        &self,
        raw: &RawStrategy,
        context: StrategyContext,
    ) -> Result<StrategyConfig, ConfigError> {
        let Some(spec) = self.user else {
            let message = "names no strategy: this `pulse` was built without a user strategy";
            return Err(self.err("strategy.kind", raw.kind.span(), message));
        };
        let mut builtin_keys: Vec<&str> = ENSEMBLE_KEYS.to_vec();
        builtin_keys.extend(["depth_levels", "threshold_bps", "slippage_ticks", "quotes"]);
        let refusal = "does not apply to kind = \"user\" (its knobs are in [strategy.params])";
        self.refuse_keys(raw, &builtin_keys, refusal)?;
        let given = raw.params.as_ref().map(Spanned::get_ref);
        let pairs = given.into_iter().flatten();
        let params = Params::resolve(
            spec.params,
            pairs
                .clone()
                .map(|(k, v)| (k.as_str(), v.get_ref().0.as_str())),
        )
        .map_err(|e| {
            let span = pairs
                .clone()
                .find(|(k, _)| **k == e.name)
                .map_or(raw.kind.span(), |(_, v)| v.span());
            self.err(format!("strategy.params.{}", e.name), span, e.message)
        })?;
        Ok(StrategyConfig::User(UserSettings {
            spec,
            context,
            params,
        }))
    }

    /// The first of `keys` that `raw` sets is an error with `message`.
    fn refuse_keys(
        &self,
        raw: &RawStrategy,
        keys: &[&str],
        message: &str,
    ) -> Result<(), ConfigError> {
        for key in keys {
            let at = match *key {
                "depth_levels" => raw.depth_levels.as_ref().map(Spanned::span),
                "threshold_bps" => raw.threshold_bps.as_ref().map(Spanned::span),
                "slippage_ticks" => raw.slippage_ticks.as_ref().map(Spanned::span),
                "min_confidence" => raw.min_confidence.as_ref().map(Spanned::span),
                "policy_file" => raw.policy_file.as_ref().map(Spanned::span),
                "signal_file" => raw.signal_file.as_ref().map(Spanned::span),
                "indicators" => raw.indicators.as_ref().map(Spanned::span),
                "regime" => raw.regime.as_ref().map(Spanned::span),
                "meta" => raw.meta.as_ref().map(Spanned::span),
                "agents" => raw.agents.as_ref().map(|_| raw.kind.span()),
                "quotes" => raw.quotes.as_ref().map(Spanned::span),
                "params" => raw.params.as_ref().map(Spanned::span),
                _ => None,
            };
            if let Some(at) = at {
                return Err(self.err(format!("strategy.{key}"), at, message));
            }
        }
        Ok(())
    }

    /// Applies the knobs a table names; a name no knob has is an error listing them.
    fn knobs(
        &self,
        table: &str,
        raw: Option<&Spanned<Knobs>>,
        knobs: &mut [Knob<'_>],
    ) -> Result<(), ConfigError> {
        let Some(raw) = raw else {
            return Ok(());
        };
        for (name, value) in raw.get_ref() {
            let key = format!("{table}.{name}");
            match knobs.iter_mut().find(|k| k.name() == name) {
                Some(Knob::Real(_, slot, range)) => **slot = self.real(&key, value, range)?,
                Some(Knob::Count(_, slot, range)) => **slot = self.count(&key, value, range)?,
                None => {
                    let known: Vec<&str> = knobs.iter().map(Knob::name).collect();
                    return Err(self.err(
                        key,
                        value.span(),
                        format!("unknown key, expected one of: {}", known.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    }

    fn real(
        &self,
        key: &str,
        value: &Spanned<DecimalText>,
        range: &RangeInclusive<f64>,
    ) -> Result<f64, ConfigError> {
        let text = &value.get_ref().0;
        let mantissa = parse_decimal(text.as_bytes(), KNOB_SCALE).map_err(|_| {
            self.err(
                key,
                value.span(),
                format!("`{text}` is not a decimal with at most {KNOB_SCALE} places"),
            )
        })?;
        let v = mantissa as f64 / 10f64.powi(KNOB_SCALE as i32);
        if !range.contains(&v) {
            return Err(self.err(
                key,
                value.span(),
                format!("must be from {} to {}", range.start(), range.end()),
            ));
        }
        Ok(v)
    }

    fn count(
        &self,
        key: &str,
        value: &Spanned<DecimalText>,
        range: &RangeInclusive<usize>,
    ) -> Result<usize, ConfigError> {
        let text = &value.get_ref().0;
        match text.parse::<usize>() {
            Ok(v) if range.contains(&v) => Ok(v),
            _ => Err(self.err(
                key,
                value.span(),
                format!(
                    "must be a whole number from {} to {}, written as a string",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }
}
