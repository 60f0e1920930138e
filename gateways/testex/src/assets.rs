//! Base and quote assets of the test venue's symbols: the instrument's configured ones, or
//! where the config names none, the test venue's own rule (a symbol ends with one of a few
//! quote assets). The rule is this venue's alone: the production gateway never guesses.

use pulse_feeds::instrument::Instrument;

/// Quote assets the test venue lists, longest first so that `FDUSD` wins over `USD`.
const QUOTES: [&str; 9] = [
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR",
];

/// `BTCUSDT` → (`BTC`, `USDT`); an unknown quote leaves the symbol as the base.
pub(crate) fn assets(spec: &Instrument) -> (&str, &str) {
    if !spec.base.is_empty() && !spec.quote.is_empty() {
        return (&spec.base, &spec.quote);
    }
    let symbol = spec.symbol.as_str();
    for quote in QUOTES {
        if let Some(base) = symbol.strip_suffix(quote) {
            if !base.is_empty() {
                return (base, quote);
            }
        }
    }
    (symbol, "")
}
