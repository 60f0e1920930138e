//! Base and quote assets of a Binance spot symbol, guessed from its quote suffix.

/// Quote assets Binance spot lists, longest first so that `FDUSD` wins over `USD`.
const QUOTES: [&str; 9] = [
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR",
];

/// `BTCUSDT` → (`BTC`, `USDT`); an unknown quote leaves the symbol as the base.
pub fn split_symbol(symbol: &str) -> (&str, &str) {
    for quote in QUOTES {
        if let Some(base) = symbol.strip_suffix(quote) {
            if !base.is_empty() {
                return (base, quote);
            }
        }
    }
    (symbol, "")
}
