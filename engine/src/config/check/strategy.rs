//! `[strategy]`: the common keys (instrument, order size, position cap, cooldown), then the
//! kind's knobs, each checked against the declaration the strategy itself makes
//! ([`StrategyDecl`]: name, type, range, default). Every knob has a default unless declared
//! required; a table names only what it changes, and a name no knob has is an error listing
//! the ones it does.

use std::ops::Range;

use pulse_feeds::instrument::{Instrument, InstrumentRegistry};
use pulse_feeds::num::{Decimal, Nanos, Qty};
use pulse_strategy::ensemble::EnsembleConfig;
use pulse_strategy::imbalance::ImbalanceConfig;
use pulse_strategy::market_maker::MarketMakerConfig;
use pulse_strategy::params::{ParamTable, Params, StrategyDecl, StrategyParams};
use pulse_strategy::StrategyContext;
use toml::Spanned;

use super::super::raw::{Knobs, RawStrategy, StrategyKind};
use super::super::{ConfigError, EnsembleSettings, StrategyConfig};
use super::Checker;
use crate::user_strategy::UserSettings;

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

/// A knob as the file gives it: its name, its value as written, and where.
type Given<'r> = (&'r str, String, Range<usize>);

/// The most `[[strategies]]` one process runs.
pub(super) const MAX_STRATEGIES: usize = 16;

impl Checker<'_> {
    /// `[strategy]` or `[[strategies]]`: the first strategy and the rest. Each instrument is
    /// traded by one strategy at most (its fills and refusals are routed by instrument), and a
    /// `kind = "user"` strategy runs alone (the stage is built around its type).
    pub(super) fn strategies(
        &self,
        one: &Option<RawStrategy>,
        many: &Option<Spanned<Vec<RawStrategy>>>,
        instruments: &InstrumentRegistry,
    ) -> Result<(StrategyConfig, Vec<StrategyConfig>), ConfigError> {
        let tables: &[RawStrategy] = match (one, many) {
            (Some(one), None) => std::slice::from_ref(one),
            (None, Some(many)) if many.get_ref().is_empty() => {
                return Err(self.err("strategies", many.span(), "needs at least one strategy"))
            }
            (None, Some(many)) if many.get_ref().len() > MAX_STRATEGIES => {
                let message = format!("at most {MAX_STRATEGIES} strategies");
                return Err(self.err("strategies", many.span(), message));
            }
            (None, Some(many)) => many.get_ref(),
            (Some(one), Some(_)) => {
                return Err(self.err(
                    "strategies",
                    one.kind.span(),
                    "give either [strategy] (one strategy) or [[strategies]] (several), not both",
                ))
            }
            (None, None) => {
                return Err(ConfigError {
                    key: "strategy".into(),
                    line: None,
                    message: "missing: add [strategy] (one strategy) or [[strategies]] (several)"
                        .into(),
                })
            }
        };
        let mut configs = Vec::with_capacity(tables.len());
        for raw in tables {
            let config = self.strategy(raw, instruments)?;
            if tables.len() > 1 && matches!(config, StrategyConfig::User(_)) {
                let message = "a user strategy runs alone: give it [strategy], not [[strategies]]";
                return Err(self.err("strategies.kind", raw.kind.span(), message));
            }
            if let Some(other) = configs
                .iter()
                .find(|c: &&StrategyConfig| c.instrument() == config.instrument())
            {
                let message = format!(
                    "`{}` is traded by the {} strategy above already: one strategy per instrument",
                    raw.instrument.get_ref(),
                    other.kind()
                );
                return Err(self.err("strategies.instrument", raw.instrument.span(), message));
            }
            configs.push(config);
        }
        let first = configs.remove(0);
        Ok((first, configs))
    }

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
        let ctx = StrategyContext {
            instrument: inst.id,
            tick: inst.tick,
            order_qty: Qty(order_qty),
            max_position,
            cooldown: Nanos::from_millis(cooldown_ms as u64),
        };
        match raw.kind.get_ref() {
            StrategyKind::MarketMaker => {
                self.refuse_keys(
                    raw,
                    &["depth_levels", "threshold_bps", "slippage_ticks", "params"],
                    MM_REFUSAL,
                )?;
                self.refuse_keys(raw, &ENSEMBLE_KEYS, MM_REFUSAL)?;
                let params = self.declared(raw, &MarketMakerConfig::DECL)?;
                let mm = MarketMakerConfig::from_params(&ctx, inst.lot, &params);
                Ok(StrategyConfig::MarketMaker(mm))
            }
            StrategyKind::User => self.user(raw, ctx),
            StrategyKind::BookImbalance => {
                self.refuse_taker_keys(raw)?;
                self.refuse_keys(raw, &ENSEMBLE_KEYS, "applies to kind = \"ensemble\" only")?;
                let params = self.declared(raw, &ImbalanceConfig::DECL)?;
                let imbalance = ImbalanceConfig::from_params(&ctx, &params);
                Ok(StrategyConfig::BookImbalance(imbalance))
            }
            StrategyKind::Ensemble => {
                self.refuse_taker_keys(raw)?;
                self.refuse_keys(
                    raw,
                    &["depth_levels", "threshold_bps"],
                    "applies to kind = \"book-imbalance\" only",
                )?;
                self.ensemble(raw, &ctx)
            }
        }
    }

    /// What a taking strategy (book-imbalance, ensemble) never takes.
    fn refuse_taker_keys(&self, raw: &RawStrategy) -> Result<(), ConfigError> {
        self.refuse_keys(raw, &["params"], "applies to kind = \"user\" only")?;
        self.refuse_keys(raw, &["quotes"], "applies to kind = \"market-maker\" only")
    }

    fn strategy_instrument<'r>(
        &self,
        raw: &RawStrategy,
        instruments: &'r InstrumentRegistry,
    ) -> Result<&'r Instrument, ConfigError> {
        let id = self.claimed(&raw.instrument, "strategy.instrument", instruments)?;
        instruments
            .get(id)
            .ok_or_else(|| self.err("strategy.instrument", raw.instrument.span(), "unknown"))
    }

    fn ensemble(
        &self,
        raw: &RawStrategy,
        ctx: &StrategyContext,
    ) -> Result<StrategyConfig, ConfigError> {
        let params = self.declared(raw, &EnsembleConfig::DECL)?;
        let strategy = EnsembleConfig::from_params(ctx, &params);
        if let Err(e) = strategy.indicators.validate() {
            let span = raw
                .indicators
                .as_ref()
                .map_or(raw.kind.span(), Spanned::span);
            return Err(self.err("strategy.indicators", span, format!("{e:#}")));
        }
        if strategy.meta.min_factor > strategy.meta.max_factor {
            let span = raw.meta.as_ref().map_or(raw.kind.span(), Spanned::span);
            return Err(self.err("strategy.meta", span, "min_factor is above max_factor"));
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
            strategy,
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
        let table = ParamTable {
            key: "params",
            params: spec.params,
        };
        let params = self.table(raw, "user", &table)?;
        Ok(StrategyConfig::User(UserSettings {
            spec,
            context,
            params,
        }))
    }

    /// Every table `decl` declares, resolved from the file.
    fn declared(
        &self,
        raw: &RawStrategy,
        decl: &StrategyDecl,
    ) -> Result<StrategyParams, ConfigError> {
        let mut params = StrategyParams::default();
        for table in decl.tables {
            params.push(table.key, self.table(raw, decl.kind, table)?);
        }
        Ok(params)
    }

    /// One declared table: its defaults, overridden by what the file gives; an error names
    /// the key (`strategy.<table>.<name>`) and the line of its value (of `kind` for a
    /// required knob the file lacks).
    fn table(
        &self,
        raw: &RawStrategy,
        kind: &str,
        table: &ParamTable,
    ) -> Result<Params, ConfigError> {
        let given = given(raw, table.key);
        let pairs = given.iter().map(|(name, text, _)| (*name, text.as_str()));
        Params::resolve(table.params, pairs).map_err(|e| {
            let key = table.path(&e.name);
            if e.missing {
                let message = format!("is required for kind = \"{kind}\"");
                return self.err(key, raw.kind.span(), message);
            }
            let span = given
                .iter()
                .find(|(name, ..)| *name == e.name)
                .map_or(raw.kind.span(), |(.., span)| span.clone());
            self.err(key, span, e.message)
        })
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
}

/// The knobs the file gives in table `key` (`""`: the numeric keys of `[strategy]` itself).
fn given<'r>(raw: &'r RawStrategy, key: &str) -> Vec<Given<'r>> {
    if key.is_empty() {
        let ints = [
            ("depth_levels", &raw.depth_levels),
            ("threshold_bps", &raw.threshold_bps),
            ("slippage_ticks", &raw.slippage_ticks),
        ];
        let ints = ints.into_iter().filter_map(|(name, v)| {
            v.as_ref()
                .map(|v| (name, v.get_ref().to_string(), v.span()))
        });
        let decimals = [("min_confidence", &raw.min_confidence)];
        let decimals = decimals
            .into_iter()
            .filter_map(|(name, v)| v.as_ref().map(|v| (name, v.get_ref().0.clone(), v.span())));
        return ints.chain(decimals).collect();
    }
    let table = knobs(raw, key).map(Spanned::get_ref).into_iter().flatten();
    table
        .map(|(name, v)| (name.as_str(), v.get_ref().0.clone(), v.span()))
        .collect()
}

/// The table of knobs `[strategy.<key>]`, if the file has it.
fn knobs<'r>(raw: &'r RawStrategy, key: &str) -> Option<&'r Spanned<Knobs>> {
    let agents = raw.agents.as_ref();
    match key {
        "indicators" => raw.indicators.as_ref(),
        "regime" => raw.regime.as_ref(),
        "meta" => raw.meta.as_ref(),
        "quotes" => raw.quotes.as_ref(),
        "params" => raw.params.as_ref(),
        "agents.conservative" => agents.and_then(|a| a.conservative.as_ref()),
        "agents.aggressive" => agents.and_then(|a| a.aggressive.as_ref()),
        "agents.balanced" => agents.and_then(|a| a.balanced.as_ref()),
        "agents.contrarian" => agents.and_then(|a| a.contrarian.as_ref()),
        _ => None,
    }
}
