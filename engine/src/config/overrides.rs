//! `--set KEY=VALUE`: a config with some values replaced before it is checked, as `pulse
//! backtest` and `pulse sweep` change a declared parameter without editing the file. KEY is a
//! dotted path through tables (`strategy.cooldown_ms`, `instruments.0.risk.max_position` for
//! the first `[[instruments]]`); VALUE is TOML (`250`, `"0.6"`, `true`), and anything that does
//! not read as TOML is taken as a string, so `strategy.min_confidence=0.6` sets the decimal
//! string `"0.6"` as the config wants it. The result goes through the same strict checks as the
//! file: an unknown key or a value out of range is refused with its name.

use std::path::Path;

use super::{parse_with_venues, private_paths, Config, ConfigError, Venues};
use crate::user_strategy::UserSpec;

/// One `KEY=VALUE`.
pub fn parse_set(text: &str) -> Result<(String, toml::Value), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("{key:?} is not a dotted key"));
    }
    let value = value.trim();
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"));
    // A bare decimal such as 0.6 is a float to TOML; the config wants decimals as strings.
    let value = match parsed {
        Some(toml::Value::Float(_)) | None => toml::Value::String(value.to_string()),
        Some(v) => v,
    };
    Ok((key.to_string(), value))
}

/// Sets each value in the config text's TOML and returns the new text.
pub fn apply(text: &str, sets: &[(String, toml::Value)]) -> Result<String, ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        key: key.to_string(),
        line: None,
        message,
    };
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| err("", e.message().to_string()))?;
    for (key, value) in sets {
        let parts: Vec<&str> = key.split('.').collect();
        let (last, path) = parts
            .split_last()
            .ok_or_else(|| err(key, "empty key".into()))?;
        if last.parse::<usize>().is_ok() {
            return Err(err(key, "the last part names a key, not an index".into()));
        }
        let mut here = &mut doc;
        let mut path = path.iter().peekable();
        while let Some(part) = path.next() {
            let next = here
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            here = match next {
                toml::Value::Table(t) => t,
                toml::Value::Array(items) => {
                    let i: usize = path
                        .next()
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| err(key, format!("`{part}` is a list: give an index")))?;
                    match items.get_mut(i) {
                        Some(toml::Value::Table(t)) => t,
                        _ => return Err(err(key, format!("`{part}` has no table {i}"))),
                    }
                }
                _ => return Err(err(key, format!("`{part}` is not a table"))),
            };
        }
        here.insert(last.to_string(), value.clone());
    }
    toml::to_string(&doc).map_err(|e| err("", e.to_string()))
}

/// [`super::load_with_venues`] with `sets` applied first; relative paths still resolve against
/// the file's directory.
pub fn load(
    path: &Path,
    sets: &[(String, toml::Value)],
    user: Option<UserSpec>,
    venues: &Venues,
) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        key: String::new(),
        line: None,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    // Without a change the text is checked as written, so errors name its own lines.
    let text = if sets.is_empty() {
        text
    } else {
        apply(&text, sets)?
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let cfg = parse_with_venues(&text, base, user, venues)?;
    private_paths::check(&cfg)?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_values_in_tables_and_lists_and_keeps_decimals_strings() {
        let text = "[strategy]\ncooldown_ms = 500\n[[instruments]]\nsymbol = \"A\"\n[[instruments]]\nsymbol = \"B\"\n";
        let sets: Vec<_> = [
            "strategy.cooldown_ms=250",
            "strategy.min_confidence=0.7",
            "instruments.1.symbol=\"C\"",
        ]
        .iter()
        .map(|s| parse_set(s).unwrap())
        .collect();
        let out: toml::Table = apply(text, &sets).unwrap().parse().unwrap();
        assert_eq!(out["strategy"]["cooldown_ms"].as_integer(), Some(250));
        assert_eq!(out["strategy"]["min_confidence"].as_str(), Some("0.7"));
        assert_eq!(out["instruments"][1]["symbol"].as_str(), Some("C"));
        assert_eq!(out["instruments"][0]["symbol"].as_str(), Some("A"));
        assert!(parse_set("novalue").is_err());
        assert!(apply(text, &[parse_set("instruments.symbol=1").unwrap()]).is_err());
    }
}
