//! The checks serde cannot do: ranges, scales and cross references.

use std::ops::Range;
use std::path::{Path, PathBuf};

use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{parse_decimal, DecimalError, Nanos, Px, Qty};
use pulse_feeds::venues::Venues;
use toml::Spanned;

use super::error::line_of;
use super::raw::{DecimalText, GatewayKind, RawConfig, RawInstrument, RawStrategy};
use super::{
    Config, ConfigError, EngineConfig, GatewayConfig, InstrumentLimits, RiskConfig, SourceConfig,
    StrategyConfig,
};
use crate::user_strategy::UserSpec;

mod book_risk;
mod events;
mod exits;
mod funding;
mod funds;
mod margin;
mod ops;
mod portfolio;
mod rings;
mod runtime;
mod source;
mod sources;
mod strategy;
mod symbol;

use symbol::MAX_LABEL_VALUE;

pub(super) fn config(
    text: &str,
    base_dir: &Path,
    raw: RawConfig,
    user: Option<UserSpec>,
    venues: &Venues,
) -> Result<Config, ConfigError> {
    Checker {
        text,
        base_dir,
        user,
        venues,
    }
    .config(raw)
}

/// Each error carries the key and the line of the offending value.
struct Checker<'a> {
    text: &'a str,
    base_dir: &'a Path,
    /// The strategy `kind = "user"` names, if the command line has one.
    user: Option<UserSpec>,
    /// The venues the program added beyond the built-in ones.
    venues: &'a Venues,
}

impl Checker<'_> {
    fn err(
        &self,
        key: impl Into<String>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            key: key.into(),
            line: Some(line_of(self.text, span.start)),
            message: message.into(),
        }
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let name = &raw.engine.name;
        let name_ok = (1..=32).contains(&name.get_ref().len())
            && name
                .get_ref()
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
        if !name_ok {
            return Err(self.err(
                "engine.name",
                name.span(),
                "must be 1 to 32 characters of a-z, 0-9, `_` or `-`",
            ));
        }
        let (first, more) = self.source_tables(&raw.source, &raw.sources)?;
        let source = self.source(first, "source")?;
        let runtime = self.runtime(raw.runtime)?;
        let rings = self.rings(&raw.rings, raw.gateway.kind.get_ref())?;
        let live_gateway = matches!(raw.gateway.kind.get_ref(), GatewayKind::Binance);
        let (instruments, limits) = self.instruments(&raw.instruments, live_gateway)?;
        let margins = self.margins(&raw.instruments, &instruments)?;
        let tables = (first, more, raw.sources.is_some());
        let (more_sources, feeds) = self.sources(tables, &source, &instruments)?;
        // A snapshot is applied as one batch of events; a feed whose ring cannot hold one would
        // discard every snapshot and never sync.
        let levels = std::iter::once(&source)
            .chain(&more_sources)
            .filter_map(|s| match s {
                SourceConfig::Live(live) => Some(live.sync.snapshot_levels()),
                SourceConfig::Capture { .. } => None,
            })
            .max();
        if let Some(levels) = levels {
            let needed = 2 * levels as usize + 16;
            if rings.market_data < needed {
                let span = raw
                    .rings
                    .market_data
                    .as_ref()
                    .map_or(first.kind.span(), Spanned::span);
                return Err(self.err(
                    "rings.market_data",
                    span,
                    format!(
                        "must hold a whole snapshot of {levels} levels a side: at least {needed}"
                    ),
                ));
            }
        }
        let kill_switch_file = match &raw.risk.kill_switch_file {
            Some(file) => Some(self.path("risk.kill_switch_file", file)?),
            None => None,
        };
        let raw_strategies: Vec<&RawStrategy> = raw
            .strategy
            .iter()
            .chain(raw.strategies.iter().flat_map(|s| s.get_ref()))
            .collect();
        let (kill_mode, exits, exit_settings) =
            self.exits(&raw.risk, &raw_strategies, &instruments)?;
        let risk = RiskConfig {
            kill_switch_file,
            start_killed: raw.risk.start_killed,
            portfolio: self.portfolio(&raw.risk)?,
            kill_mode,
            exits,
            exit_settings,
        };
        let (strategy, more_strategies) =
            self.strategies(&raw.strategy, &raw.strategies, &instruments)?;
        let gateway = self.gateway(&raw.gateway)?;
        let journal = self.journal(raw.journal.as_ref())?;
        if journal.is_none() && matches!(gateway, GatewayConfig::Binance(_)) {
            // Without a journal a restart has nothing to reconcile the venue's account against.
            return Err(self.err(
                "journal",
                raw.gateway.kind.span(),
                "required when the gateway is not the simulated venue: add [journal] dir = \"...\" \
                 so that a restart can reconcile against what this session did",
            ));
        }
        let metrics = self.metrics(&raw.metrics)?;
        let events = self.events(raw.events.as_ref())?;
        let notify = self.notify(raw.notify.as_ref())?;
        let scenario = match &raw.scenario {
            Some(sc) => Some(self.scenario(sc, &gateway, raw.gateway.kind.span())?),
            None => None,
        };
        // A table with only `[portfolio.allocation]` runs no portfolio stage.
        let portfolio = match &raw.portfolio {
            Some(p) if p.has_model() || p.allocation.is_none() => {
                Some(self.book_risk(p, &instruments)?)
            }
            _ => None,
        };
        let strategies: Vec<&StrategyConfig> =
            std::iter::once(&strategy).chain(&more_strategies).collect();
        let funds = self.funds(
            (&raw.risk, raw.portfolio.as_ref(), &raw.instruments),
            &instruments,
            &strategies,
        )?;
        Ok(Config {
            funds,
            journal,
            metrics,
            events,
            notify,
            scenario,
            portfolio,
            margins,
            engine: EngineConfig {
                name: name.get_ref().clone(),
                run_dir: match &raw.engine.run_dir {
                    Some(dir) => self.path("engine.run_dir", dir)?,
                    None => crate::run_dir::default_dir(),
                },
            },
            source,
            more_sources,
            feeds,
            venues: self.venues.clone(),
            runtime,
            rings,
            instruments,
            limits,
            risk,
            strategy,
            more_strategies,
            gateway,
        })
    }

    pub(super) fn path(&self, key: &str, value: &Spanned<String>) -> Result<PathBuf, ConfigError> {
        if value.get_ref().is_empty() {
            return Err(self.err(key, value.span(), "must not be empty"));
        }
        Ok(self.base_dir.join(value.get_ref()))
    }

    /// [`Checker::path`] for recorded input, which may also be a comma-separated list of
    /// Tardis CSV files (`"book.csv.gz,trades.csv.gz"`): each relative to the config's folder.
    pub(super) fn input_path(
        &self,
        key: &str,
        value: &Spanned<String>,
    ) -> Result<PathBuf, ConfigError> {
        let text = value.get_ref();
        if !text.contains(',') || self.base_dir.join(text).exists() {
            return self.path(key, value);
        }
        let parts: Vec<String> = text
            .split(',')
            .map(|p| self.base_dir.join(p).display().to_string())
            .collect();
        if text.split(',').any(str::is_empty) {
            return Err(self.err(key, value.span(), "a list of files with an empty name"));
        }
        Ok(PathBuf::from(parts.join(",")))
    }

    fn instruments(
        &self,
        raw: &Spanned<Vec<RawInstrument>>,
        live_gateway: bool,
    ) -> Result<(InstrumentRegistry, Vec<InstrumentLimits>), ConfigError> {
        if raw.get_ref().is_empty() {
            return Err(self.err(
                "instruments",
                raw.span(),
                "at least one instrument is required",
            ));
        }
        let mut registry = InstrumentRegistry::new();
        let mut limits = Vec::new();
        for (i, inst) in raw.get_ref().iter().enumerate() {
            let key = format!("instruments[{i}]");
            let venue_name = inst.venue.get_ref();
            let venue = Venue::from_name(venue_name).ok_or_else(|| {
                self.err(
                    format!("{key}.venue"),
                    inst.venue.span(),
                    format!("unknown venue `{venue_name}`"),
                )
            })?;
            let symbol = inst.symbol.get_ref();
            self.symbol(&format!("{key}.symbol"), &inst.symbol)?;
            // Scales are set apart from tick and lot: Binance's BTCUSDT book carries quantities
            // with 8 decimals although orders must be whole lots of 0.00001.
            let max_scale = i64::from(pulse_feeds::num::MAX_SCALE);
            let price_scale = self.int(
                &format!("{key}.price_scale"),
                &inst.price_scale,
                0,
                max_scale,
            )? as u32;
            let qty_scale =
                self.int(&format!("{key}.qty_scale"), &inst.qty_scale, 0, max_scale)? as u32;
            let tick = self.positive(
                &format!("{key}.tick_size"),
                &inst.tick_size,
                price_scale,
                "the price scale",
            )?;
            let lot = self.positive(
                &format!("{key}.lot_size"),
                &inst.lot_size,
                qty_scale,
                "the quantity scale",
            )?;
            let r = &inst.risk;
            let notional_scale = price_scale + qty_scale;
            let lot_text = "the quantity scale";
            limits.push(InstrumentLimits {
                max_order_qty: Qty(self.positive(
                    &format!("{key}.risk.max_order_qty"),
                    &r.max_order_qty,
                    qty_scale,
                    lot_text,
                )?),
                max_order_notional: self.positive(
                    &format!("{key}.risk.max_order_notional"),
                    &r.max_order_notional,
                    notional_scale,
                    "the notional scale",
                )? as i128,
                max_position: Qty(self.positive(
                    &format!("{key}.risk.max_position"),
                    &r.max_position,
                    qty_scale,
                    lot_text,
                )?),
                price_collar_bps: self.int(
                    &format!("{key}.risk.price_collar_bps"),
                    &r.price_collar_bps,
                    1,
                    u32::MAX.into(),
                )? as u32,
                max_ref_age: Nanos::from_millis(self.int(
                    &format!("{key}.risk.max_ref_age_ms"),
                    &r.max_ref_age_ms,
                    1,
                    i64::MAX,
                )? as u64),
            });
            let assets = self.assets(&key, inst, live_gateway)?;
            let id = registry
                .add(venue, symbol, price_scale, qty_scale, Px(tick), Qty(lot))
                .map_err(|first| {
                    let message = format!(
                        "{}:{symbol} is already configured as instruments[{}]",
                        venue.name(),
                        first.0
                    );
                    self.err(format!("{key}.symbol"), inst.symbol.span(), message)
                })?;
            if let Some((base, quote)) = assets {
                registry.set_assets(id, base, quote);
            }
        }
        // Instruments of several venues are named `venue:SYMBOL` in the stats file's label
        // field: each must fit it.
        for (i, inst) in raw.get_ref().iter().enumerate() {
            let name = registry.display_name(pulse_feeds::num::InstrumentId(i as u16));
            if name.len() > MAX_LABEL_VALUE {
                let message = format!(
                    "with instruments of several venues each is named venue:SYMBOL, at most \
                     {MAX_LABEL_VALUE} bytes (`{name}` is {})",
                    name.len()
                );
                return Err(self.err(
                    format!("instruments[{i}].symbol"),
                    inst.symbol.span(),
                    message,
                ));
            }
        }
        Ok((registry, limits))
    }

    /// A decimal at `scale`, exactly, and greater than zero. `finer` names what the scale comes
    /// from, for the operator.
    pub(super) fn positive(
        &self,
        key: &str,
        value: &Spanned<DecimalText>,
        scale: u32,
        finer: &str,
    ) -> Result<i64, ConfigError> {
        let text = &value.get_ref().0;
        let mantissa = parse_decimal(text.as_bytes(), scale).map_err(|e| {
            let message = match e {
                DecimalError::Syntax => format!("`{text}` is not a decimal number"),
                DecimalError::TooPrecise => {
                    format!("`{text}` is finer than {finer} ({scale} decimal places)")
                }
                DecimalError::Overflow => format!("`{text}` is out of range"),
                DecimalError::BadScale => {
                    format!("needs {scale} decimal places, more than the 18 supported")
                }
            };
            self.err(key, value.span(), message)
        })?;
        if mantissa <= 0 {
            return Err(self.err(key, value.span(), "must be greater than zero"));
        }
        Ok(mantissa)
    }

    /// A fee in basis points with at most 2 decimals, as ppm (1 bps = 100 ppm): the value parsed
    /// at scale 2 is the ppm figure.
    fn fee(&self, key: &str, value: &Spanned<DecimalText>) -> Result<i64, ConfigError> {
        self.non_negative(key, value, 2, "a fee in basis points")
    }

    /// A decimal `>= 0` with at most `scale` decimals, as a mantissa at that scale.
    pub(super) fn non_negative(
        &self,
        key: &str,
        value: &Spanned<DecimalText>,
        scale: u32,
        what: &str,
    ) -> Result<i64, ConfigError> {
        let text = &value.get_ref().0;
        let mantissa = parse_decimal(text.as_bytes(), scale).map_err(|e| {
            let message = match e {
                DecimalError::TooPrecise => {
                    format!("`{text}` has more than {scale} decimal places")
                }
                _ => format!("`{text}` is not {what}"),
            };
            self.err(key, value.span(), message)
        })?;
        if mantissa < 0 {
            return Err(self.err(key, value.span(), "must not be negative"));
        }
        Ok(mantissa)
    }

    /// An integer in `min..=max`; the common lower bounds get the operator's wording.
    pub(super) fn int(
        &self,
        key: &str,
        value: &Spanned<i64>,
        min: i64,
        max: i64,
    ) -> Result<i64, ConfigError> {
        let v = *value.get_ref();
        if (min..=max).contains(&v) {
            return Ok(v);
        }
        let message = if v < min && min == 1 {
            "must be greater than zero".to_owned()
        } else if v < min && min == 0 {
            "must not be negative".to_owned()
        } else {
            format!("must be from {min} to {max}")
        };
        Err(self.err(key, value.span(), message))
    }
}
