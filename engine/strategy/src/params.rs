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

/// One knob of a strategy: `[strategy.params] <name> = "<value>"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: &'static str,
    pub kind: ParamType,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub help: &'static str,
}

/// A parameter that cannot be taken: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub name: String,
    pub message: String,
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
    /// of the wrong type or one out of range is an error naming the parameter.
    pub fn resolve<'a>(
        decls: &'static [ParamDecl],
        given: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Params, ParamError> {
        let mut params = Params::defaults(decls);
        for (name, text) in given {
            let error = |message: String| ParamError {
                name: name.to_owned(),
                message,
            };
            let Some(i) = decls.iter().position(|d| d.name == name) else {
                let known: Vec<&str> = decls.iter().map(|d| d.name).collect();
                let message = format!("unknown key, expected one of: {}", known.join(", "));
                return Err(error(message));
            };
            let decl = &decls[i];
            let value = match decl.kind {
                ParamType::Int => text
                    .parse::<i64>()
                    .map(|v| v as f64)
                    .map_err(|_| error(format!("`{text}` is not a whole number")))?,
                ParamType::Decimal => parse_decimal(text.as_bytes(), PARAM_SCALE)
                    .map(|m| m as f64 / 10f64.powi(PARAM_SCALE as i32))
                    .map_err(|_| {
                        error(format!(
                            "`{text}` is not a decimal with at most {PARAM_SCALE} places"
                        ))
                    })?,
            };
            if !(decl.min..=decl.max).contains(&value) {
                let message = format!("must be from {} to {}", decl.min, decl.max);
                return Err(error(message));
            }
            params.values[i] = value;
        }
        Ok(params)
    }

    /// The value of `name`; a name the strategy did not declare is a bug, caught at start-up.
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = self.decls.iter().position(|d| d.name == name)?;
        Some(self.values[i])
    }

    pub fn decls(&self) -> &'static [ParamDecl] {
        self.decls
    }
}
