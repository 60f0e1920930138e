//! Errors that name the key and the line. Serde's errors carry only a byte span, so the key is
//! found by walking the parsed document for the narrowest key or value around that span.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Why a configuration was refused: the dotted key (`instruments[0].risk.max_position`) and the
/// 1-based line, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Empty when the error is not about one key (unreadable file, TOML syntax).
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Turns a TOML or serde error into a [`ConfigError`], finding the key from the error's span.
pub(super) fn toml_error(text: &str, err: &toml::de::Error) -> ConfigError {
    let message = err.message();
    let Some(span) = err.span() else {
        return ConfigError {
            key: String::new(),
            line: None,
            message: message.to_owned(),
        };
    };
    if let Some(field) = quoted_after(message, "missing field `") {
        // The span is the table lacking the field; the document's own span is empty, and a
        // missing top-level table has no line.
        let (table, line) = if span.is_empty() {
            (String::new(), None)
        } else {
            (key_at(text, span.start), Some(line_of(text, span.start)))
        };
        return ConfigError {
            key: join_key(&table, field),
            line,
            message: "required key is missing".to_owned(),
        };
    }
    let message = match quoted_after(message, "unknown field `") {
        Some(field) => message.replacen(&format!("unknown field `{field}`"), "unknown key", 1),
        None => message.replace("expected i64", "expected an integer"),
    };
    ConfigError {
        key: key_at(text, span.start),
        line: Some(line_of(text, span.start)),
        message,
    }
}

fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name)
}

fn join_key(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

pub(super) fn line_of(text: &str, pos: usize) -> usize {
    let end = pos.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key whose key or value span is the narrowest one containing `pos` (the deeper key
/// on a tie: an array of tables shares its span with its first element).
fn key_at(text: &str, pos: usize) -> String {
    let Ok(root) = DeTable::parse(text) else {
        return String::new();
    };
    let mut best = None;
    visit_table(root.get_ref(), "", pos, &mut best);
    best.map(|(_, key)| key).unwrap_or_default()
}

type Best = Option<(usize, String)>;

fn visit_table(table: &DeTable<'_>, path: &str, pos: usize, best: &mut Best) {
    for (key, value) in table.iter() {
        let path = join_key(path, key.get_ref());
        consider(key.span(), &path, pos, best);
        visit_value(value, path, pos, best);
    }
}

fn visit_value(value: &Spanned<DeValue<'_>>, path: String, pos: usize, best: &mut Best) {
    consider(value.span(), &path, pos, best);
    match value.get_ref() {
        DeValue::Table(table) => visit_table(table, &path, pos, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                visit_value(item, format!("{path}[{i}]"), pos, best);
            }
        }
        _ => {}
    }
}

fn consider(span: Range<usize>, path: &str, pos: usize, best: &mut Best) {
    let hit = span.contains(&pos) || (span.is_empty() && span.start == pos);
    let better = match best {
        None => true,
        Some((len, key)) => span.len() < *len || (span.len() == *len && path.len() > key.len()),
    };
    if hit && better {
        *best = Some((span.len(), path.to_owned()));
    }
}
