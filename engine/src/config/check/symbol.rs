//! An instrument's symbol: it labels the stats file's per-instrument metrics
//! (`instrument=SYMBOL` in a fixed field), is sent to venues inside request paths and stream
//! names, and is matched by outside signal files. So it is short, plain ASCII, and holds nothing
//! a URL or a terminal would read as syntax: letters, digits, `-`, `_`, `.` and `/` (Kraken
//! writes its pairs `ETH/USD`; `/` is plain data in a URL's query, where Binance's symbols go).

use toml::Spanned;

use super::super::raw::RawInstrument;
use super::super::ConfigError;
use super::Checker;
use crate::stats::layout::METRIC_LABEL_LENGTH;

/// Longest symbol accepted. Binance's are at most 20 characters.
pub(super) const MAX_SYMBOL_BYTES: usize = 32;
/// Longest asset name accepted (Binance's are at most a dozen characters).
const MAX_ASSET_BYTES: usize = 16;

// The per-instrument label must fit its stats field whatever symbol passes this check.
const _: () = assert!("instrument=".len() + MAX_SYMBOL_BYTES <= METRIC_LABEL_LENGTH);
/// The longest instrument name the stats label holds: `venue:SYMBOL` with several venues
/// (checked where the instruments are).
pub(super) const MAX_LABEL_VALUE: usize = METRIC_LABEL_LENGTH - "instrument=".len();

impl Checker<'_> {
    pub(super) fn symbol(&self, key: &str, value: &Spanned<String>) -> Result<(), ConfigError> {
        let symbol = value.get_ref();
        if symbol.is_empty() {
            return Err(self.err(key, value.span(), "must not be empty"));
        }
        let plain = symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        if symbol.len() > MAX_SYMBOL_BYTES || !plain {
            return Err(self.err(
                key,
                value.span(),
                format!(
                    "must be 1 to {MAX_SYMBOL_BYTES} characters of A-Z, a-z, 0-9, `-`, `_`, `.` or `/` \
                     (it is {} bytes)",
                    symbol.len()
                ),
            ));
        }
        Ok(())
    }

    /// An instrument's `base` and `quote` assets: both or neither, each an asset name as
    /// venues write it (A-Z, 0-9). Required when a live gateway trades the instrument: a
    /// symbol does not say where its base ends, so they are never guessed from it.
    pub(super) fn assets<'r>(
        &self,
        key: &str,
        inst: &'r RawInstrument,
        live_gateway: bool,
    ) -> Result<Option<(&'r str, &'r str)>, ConfigError> {
        let (base, quote) =
            match (&inst.base, &inst.quote) {
                (Some(base), Some(quote)) => (base, quote),
                (None, None) if !live_gateway => return Ok(None),
                (None, _) => return Err(self.err(
                    format!("{key}.base"),
                    inst.symbol.span(),
                    "required with a live gateway (and with `quote`): the asset bought and sold, \
                     as the venue's balances name it (`BTC` of `BTCUSDT`)",
                )),
                (Some(base), None) => {
                    return Err(self.err(
                        format!("{key}.quote"),
                        base.span(),
                        "required with a live gateway (and with `base`): the asset prices are in, \
                     as the venue's balances name it (`USDT` of `BTCUSDT`)",
                    ))
                }
            };
        for (name, value) in [("base", base), ("quote", quote)] {
            let text = value.get_ref();
            let plain = (1..=MAX_ASSET_BYTES).contains(&text.len())
                && text
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !plain {
                return Err(self.err(
                    format!("{key}.{name}"),
                    value.span(),
                    format!("must be 1 to {MAX_ASSET_BYTES} characters of A-Z or 0-9"),
                ));
            }
        }
        Ok(Some((base.get_ref(), quote.get_ref())))
    }
}
