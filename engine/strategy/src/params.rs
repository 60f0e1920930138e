//! Parameters declared once: each strategy lists its knobs (name, type, range, default, help)
//! and the config checker, the CLI and a parameter sweep all read that one list.

use pulse_core::num::parse_decimal;

/// The places a decimal parameter may have.
pub const PARAM_SCALE: u32 = 9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A whole number.
    Int,
    /// A decimal with at most [`PARAM_SCALE`] places.
    Decimal,
}

impl ParamType {
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Int => "int",
            ParamType::Decimal => "decimal",
        }
    }
}

/// One knob of a strategy: `[strategy.params] <name> = "<value>"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: &'static str,
    pub kind: ParamType,
    pub min: f64,
    pub max: f64,
    /// The value when the config does not set it (unused when `required`).
    pub default: f64,
    /// The config must set it: there is no default.
    pub required: bool,
    pub help: &'static str,
}

impl ParamDecl {
    /// A whole number in `min..=max`, `default` when not set.
    pub const fn int(
        name: &'static str,
        min: f64,
        max: f64,
        default: f64,
        help: &'static str,
    ) -> ParamDecl {
        ParamDecl {
            name,
            kind: ParamType::Int,
            min,
            max,
            default,
            required: false,
            help,
        }
    }

    /// A decimal in `min..=max`, `default` when not set.
    pub const fn decimal(
        name: &'static str,
        min: f64,
        max: f64,
        default: f64,
        help: &'static str,
    ) -> ParamDecl {
        ParamDecl {
            kind: ParamType::Decimal,
            ..ParamDecl::int(name, min, max, default, help)
        }
    }

    /// The same knob without a default: the config must set it.
    pub const fn required(self) -> ParamDecl {
        ParamDecl {
            required: true,
            default: self.min,
            ..self
        }
    }

    /// `text` as this knob's value, or why not (the message names no key).
    pub fn parse(&self, text: &str) -> Result<f64, String> {
        let value = match self.kind {
            ParamType::Int => match text.parse::<i64>() {
                Ok(v) if self.contains(v as f64) => return Ok(v as f64),
                _ => {
                    return Err(format!(
                        "must be a whole number from {} to {}",
                        self.min, self.max
                    ))
                }
            },
            ParamType::Decimal => parse_decimal(text.as_bytes(), PARAM_SCALE)
                .map(|m| m as f64 / 10f64.powi(PARAM_SCALE as i32))
                .map_err(|_| {
                    format!("`{text}` is not a decimal with at most {PARAM_SCALE} places")
                })?,
        };
        if !self.contains(value) {
            return Err(format!("must be from {} to {}", self.min, self.max));
        }
        Ok(value)
    }

    pub fn contains(&self, value: f64) -> bool {
        (self.min..=self.max).contains(&value)
    }
}

/// A table of knobs: `[strategy.<key>]`, or `[strategy]` itself when `key` is empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamTable {
    pub key: &'static str,
    pub params: &'static [ParamDecl],
}

impl ParamTable {
    /// The config key of a knob of this table: `strategy.<key>.<name>`.
    pub fn path(&self, name: &str) -> String {
        match self.key {
            "" => format!("strategy.{name}"),
            key => format!("strategy.{key}.{name}"),
        }
    }
}

/// A strategy `kind` and every knob it takes: what `pulse strategies` lists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StrategyDecl {
    pub kind: &'static str,
    pub help: &'static str,
    pub tables: &'static [ParamTable],
}

impl StrategyDecl {
    /// `kind`, its help, then one line per knob: key, type, range, default, help.
    pub fn describe(&self) -> String {
        describe(self.kind, self.help, self.tables)
    }

    /// Every table at its defaults, a required knob at the lowest value it may take.
    pub fn defaults(&self) -> StrategyParams {
        let tables = self.tables.iter();
        StrategyParams {
            tables: tables
                .map(|t| (t.key, Params::defaults(t.params)))
                .collect(),
        }
    }
}

/// What [`StrategyDecl::describe`] prints, for a kind whose tables are not `'static`.
pub fn describe(kind: &str, help: &str, tables: &[ParamTable]) -> String {
    let rows: Vec<[String; 5]> = tables
        .iter()
        .flat_map(|t| t.params.iter().map(move |d| (t, d)))
        .map(|(t, d)| {
            let default = if d.required {
                "required".to_owned()
            } else {
                d.default.to_string()
            };
            let range = format!("{} to {}", d.min, d.max);
            let kind = d.kind.name().to_owned();
            [t.path(d.name), kind, range, default, d.help.to_owned()]
        })
        .collect();
    let mut widths = [0; 4];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = format!("{kind}: {help}\n");
    for [key, kind, range, default, help] in &rows {
        let [k, t, r, d] = widths;
        out.push_str(&format!(
            "  {key:k$}  {kind:t$}  {range:r$}  {default:d$}  {help}\n"
        ));
    }
    out
}

/// Every table of a strategy, resolved: what its settings are built from.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StrategyParams {
    tables: Vec<(&'static str, Params)>,
}

impl StrategyParams {
    pub fn push(&mut self, key: &'static str, params: Params) {
        self.tables.push((key, params));
    }

    /// The table `key` (`""`: `[strategy]` itself). Cold, like [`Params::value`].
    ///
    /// # Panics
    /// If the strategy does not declare that table: a bug in the strategy.
    #[track_caller]
    pub fn table(&self, key: &str) -> &Params {
        match self.tables.iter().find(|(k, _)| *k == key) {
            Some((_, params)) => params,
            None => panic!("`{key}` is not a declared parameter table"),
        }
    }
}

/// A parameter that cannot be taken: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub name: String,
    pub message: String,
    /// The parameter is required and was not given.
    pub missing: bool,
}

/// The values of a strategy's parameters, in declaration order, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    decls: &'static [ParamDecl],
    values: Vec<f64>,
}

impl Params {
    /// Every parameter at its default.
    pub fn defaults(decls: &'static [ParamDecl]) -> Params {
        let values = decls.iter().map(|d| d.default).collect();
        Params { decls, values }
    }

    /// The defaults overridden by `given` (name, value as written); an unknown name, a value
    /// of the wrong type or one out of range, or a required one missing is an error naming
    /// the parameter.
    pub fn resolve<'a>(
        decls: &'static [ParamDecl],
        given: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Params, ParamError> {
        let mut params = Params::defaults(decls);
        let mut set = vec![false; decls.len()];
        for (name, text) in given {
            let error = |message: String| ParamError {
                name: name.to_owned(),
                message,
                missing: false,
            };
            let Some(i) = decls.iter().position(|d| d.name == name) else {
                let known: Vec<&str> = decls.iter().map(|d| d.name).collect();
                let message = format!("unknown key, expected one of: {}", known.join(", "));
                return Err(error(message));
            };
            params.values[i] = decls[i].parse(text).map_err(error)?;
            set[i] = true;
        }
        if let Some((decl, _)) = decls.iter().zip(set).find(|(d, set)| d.required && !set) {
            return Err(ParamError {
                name: decl.name.to_owned(),
                message: "is required".to_owned(),
                missing: true,
            });
        }
        Ok(params)
    }

    /// The value of `name`; a name the strategy did not declare is a bug, caught at start-up.
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = self.decls.iter().position(|d| d.name == name)?;
        Some(self.values[i])
    }

    /// The value of a declared parameter. Only for code that builds its settings from its own
    /// declaration (cold, at start-up; the declaration tests build every one of them).
    ///
    /// # Panics
    /// If `name` is not declared: a bug in the strategy, not in the config.
    #[track_caller]
    pub fn value(&self, name: &str) -> f64 {
        match self.get(name) {
            Some(v) => v,
            None => panic!("`{name}` is not a declared parameter"),
        }
    }

    /// [`Params::value`] of a whole-number parameter.
    #[track_caller]
    pub fn count(&self, name: &str) -> usize {
        self.value(name) as usize
    }

    pub fn decls(&self) -> &'static [ParamDecl] {
        self.decls
    }
}
