//! The fixed feature vector [`IndicatorSet::features`](super::IndicatorSet::features) writes:
//! the input of the policy network. Its order and meaning are a contract with every weights
//! file trained on it: append new features in new slots, never reorder or redefine one.
//!
//! Every value is scale-free, so one network serves instruments at any price and scale. "bps"
//! is basis points *of the current mid*: `(x - y) / mid * 10_000`. A feature whose indicator
//! is not ready yet holds its neutral value, and slot 15 says whether they all are.
//!
//! | # | name | value | neutral |
//! |---|---|---|---|
//! | 0 | `mid_vs_ema_bps` | mid minus its EMA | 0 |
//! | 1 | `macd_bps` | MACD line of the mid | 0 |
//! | 2 | `macd_histogram_bps` | MACD minus its signal line | 0 |
//! | 3 | `rsi` | RSI / 100, 0 to 1 | 0.5 |
//! | 4 | `bollinger_percent_b` | %B of the mid: 0 at the lower band, 1 at the upper; not clamped | 0.5 |
//! | 5 | `bollinger_width_bps` | upper minus lower band | 0 |
//! | 6 | `mid_vs_vwap_bps` | mid minus trade VWAP | 0 |
//! | 7 | `mid_vs_poc_bps` | mid minus the middle of the volume profile's POC bucket | 0 |
//! | 8 | `book_imbalance` | top-N quantity imbalance, -1 (all asks) to 1 (all bids) | 0 |
//! | 9 | `micro_price_offset_bps` | micro-price minus mid | 0 |
//! | 10 | `spread_bps` | best ask minus best bid | 0 |
//! | 11 | `realized_vol_bps` | `sqrt(Σ r²)` of the mid's log returns over the window, not annualized | 0 |
//! | 12 | `trade_flow_imbalance` | taker buy minus sell volume over total, -1 to 1 | 0 |
//! | 13 | `last_return_bps` | log return of the mid since the previous book, `r * 10_000` | 0 |
//! | 14 | `last_trade_vs_mid_bps` | last trade price minus mid | 0 |
//! | 15 | `ready` | 1 when every indicator above is ready, else 0 | 0 |

/// How many features [`IndicatorSet::features`](super::IndicatorSet::features) writes.
pub const FEATURES: usize = 16;

/// A slot of the feature vector; `feature as usize` is its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    MidVsEmaBps,
    MacdBps,
    MacdHistogramBps,
    Rsi,
    BollingerPercentB,
    BollingerWidthBps,
    MidVsVwapBps,
    MidVsPocBps,
    BookImbalance,
    MicroPriceOffsetBps,
    SpreadBps,
    RealizedVolBps,
    TradeFlowImbalance,
    LastReturnBps,
    LastTradeVsMidBps,
    Ready,
}

impl Feature {
    /// Every feature, in slot order.
    pub const ALL: [Feature; FEATURES] = [
        Feature::MidVsEmaBps,
        Feature::MacdBps,
        Feature::MacdHistogramBps,
        Feature::Rsi,
        Feature::BollingerPercentB,
        Feature::BollingerWidthBps,
        Feature::MidVsVwapBps,
        Feature::MidVsPocBps,
        Feature::BookImbalance,
        Feature::MicroPriceOffsetBps,
        Feature::SpreadBps,
        Feature::RealizedVolBps,
        Feature::TradeFlowImbalance,
        Feature::LastReturnBps,
        Feature::LastTradeVsMidBps,
        Feature::Ready,
    ];

    /// The stable name, for weights files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Feature::MidVsEmaBps => "mid_vs_ema_bps",
            Feature::MacdBps => "macd_bps",
            Feature::MacdHistogramBps => "macd_histogram_bps",
            Feature::Rsi => "rsi",
            Feature::BollingerPercentB => "bollinger_percent_b",
            Feature::BollingerWidthBps => "bollinger_width_bps",
            Feature::MidVsVwapBps => "mid_vs_vwap_bps",
            Feature::MidVsPocBps => "mid_vs_poc_bps",
            Feature::BookImbalance => "book_imbalance",
            Feature::MicroPriceOffsetBps => "micro_price_offset_bps",
            Feature::SpreadBps => "spread_bps",
            Feature::RealizedVolBps => "realized_vol_bps",
            Feature::TradeFlowImbalance => "trade_flow_imbalance",
            Feature::LastReturnBps => "last_return_bps",
            Feature::LastTradeVsMidBps => "last_trade_vs_mid_bps",
            Feature::Ready => "ready",
        }
    }

    /// The value the slot holds while its indicator is not ready: what "no information" reads
    /// as on its own scale.
    pub fn neutral(self) -> f64 {
        match self {
            Feature::Rsi | Feature::BollingerPercentB => 0.5,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_in_declaration_order_with_distinct_names() {
        for (i, f) in Feature::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
        }
        let mut names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FEATURES);
    }
}
