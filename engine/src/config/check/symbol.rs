//! An instrument's symbol: it labels the stats file's per-instrument metrics
//! (`instrument=SYMBOL` in a fixed field), is sent to venues inside request paths and stream
//! names, and is matched by outside signal files. So it is short, plain ASCII, and holds nothing
//! a URL or a terminal would read as syntax.

use toml::Spanned;

use super::super::ConfigError;
use super::Checker;
use crate::stats::layout::METRIC_LABEL_LENGTH;

/// Longest symbol accepted. Binance's are at most 20 characters.
pub(super) const MAX_SYMBOL_BYTES: usize = 32;

// The per-instrument label must fit its stats field whatever symbol passes this check.
const _: () = assert!("instrument=".len() + MAX_SYMBOL_BYTES <= METRIC_LABEL_LENGTH);

impl Checker<'_> {
    pub(super) fn symbol(&self, key: &str, value: &Spanned<String>) -> Result<(), ConfigError> {
        let symbol = value.get_ref();
        if symbol.is_empty() {
            return Err(self.err(key, value.span(), "must not be empty"));
        }
        let plain = symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if symbol.len() > MAX_SYMBOL_BYTES || !plain {
            return Err(self.err(
                key,
                value.span(),
                format!(
                    "must be 1 to {MAX_SYMBOL_BYTES} characters of A-Z, a-z, 0-9, `-`, `_` or `.` \
                     (it is {} bytes)",
                    symbol.len()
                ),
            ));
        }
        Ok(())
    }
}
