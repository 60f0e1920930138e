//! The set as a whole: every feature against its from-scratch value over a synthetic stream,
//! with books it must ignore mixed in. (The bundled capture's real events go through the set
//! in the `indicators` bench, checked against a naive recomputation at every book.)

use pulse_core::event::Level;
use pulse_core::event::{BookState, BookTop, EventMeta, TradeEvent, TOP_DEPTH};
use pulse_core::num::{Px, Qty, Side};

use super::bollinger::tests::from_scratch as bollinger_from_scratch;
use super::ema::tests::ema_from_scratch;
use super::realized_volatility::tests::from_scratch as variance_from_scratch;
use super::rsi::tests::rsi_from_scratch;
use super::testkit::{assert_close, Rng};
use super::vwap::tests::from_scratch as vwap_from_scratch;
use super::*;

fn top(bids: &[Level], asks: &[Level], state: BookState) -> BookTop {
    let mut top = BookTop::empty(EventMeta::default(), state);
    top.bids[..bids.len()].copy_from_slice(bids);
    top.asks[..asks.len()].copy_from_slice(asks);
    (top.bid_levels, top.ask_levels) = (bids.len() as u8, asks.len() as u8);
    top
}

fn trade(px: i64, qty: i64, aggressor: Side) -> TradeEvent {
    TradeEvent {
        meta: EventMeta::default(),
        trade_id: 0,
        px: Px(px),
        qty: Qty(qty),
        aggressor,
    }
}

fn small_config() -> IndicatorConfig {
    IndicatorConfig {
        ema_period: 5,
        macd: MacdConfig {
            fast: 3,
            slow: 6,
            signal: 4,
        },
        rsi_period: 5,
        bollinger: BollingerConfig { n: 8, k: 2.0 },
        vwap_window: 10,
        profile: ProfileConfig {
            buckets: 16,
            bucket_ticks: 2,
        },
        imbalance_levels: 3,
        vol_window: 10,
        flow_window: 10,
    }
}

#[test]
fn a_fresh_set_writes_neutral_features() {
    let set = IndicatorSet::new(&IndicatorConfig::default(), Px(1)).unwrap();
    let mut out = [f64::NAN; FEATURES];
    set.features(&mut out);
    assert_eq!(out, Feature::ALL.map(Feature::neutral));
    assert!(IndicatorSet::new(&IndicatorConfig::default(), Px(0)).is_err());
}

/// Every feature at every step against its definition, computed from the whole history of
/// the stream: the mids of the live books, the last live book, the trades.
#[test]
fn every_feature_matches_its_definition_over_a_random_stream() {
    let cfg = small_config();
    let mut set = IndicatorSet::new(&cfg, Px(5)).unwrap();
    let mut rng = Rng::new(14);
    let mids = rng.walk(600_000, 30, 4_000);
    let (mut mid_history, mut trades, mut ready_at) = (Vec::<f64>::new(), Vec::new(), None);
    // The MACD line after each live book, each from scratch over the mids up to it.
    let mut macd_lines = Vec::new();
    let mut book: Option<(Vec<Level>, Vec<Level>)> = None;
    for (step, &base) in mids.iter().enumerate() {
        if rng.range(0, 2) == 0 {
            let spread = rng.range(1, 6);
            let mut side = |first: i64, dir: i64| -> Vec<Level> {
                (0..rng.range(1, TOP_DEPTH as i64))
                    .map(|i| Level {
                        px: Px(first + dir * i),
                        qty: Qty(rng.range(1, 5_000_000)),
                    })
                    .collect()
            };
            let (bids, asks) = (side(base, -1), side(base + spread, 1));
            match rng.range(0, 9) {
                0 => set.on_book(&top(&bids, &asks, BookState::Stale)),
                1 => set.on_book(&top(&bids, &asks, BookState::Crossed)),
                2 => set.on_book(&top(&bids, &[], BookState::Live)),
                _ => {
                    set.on_book(&top(&bids, &asks, BookState::Live));
                    mid_history.push((base + base + spread) as f64 / 2.0);
                    let (fast, slow) = (cfg.macd.fast, cfg.macd.slow);
                    let line =
                        ema_from_scratch(&mid_history, fast) - ema_from_scratch(&mid_history, slow);
                    macd_lines.push(line);
                    book = Some((bids, asks));
                }
            }
        } else {
            let side = if rng.range(0, 1) == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let t = trade(base + rng.range(-3, 3), rng.range(1, 1_000_000), side);
            set.on_trade(&t);
            trades.push(t);
        }
        let mut out = [0.0; FEATURES];
        set.features(&mut out);
        let Some((bids, asks)) = &book else {
            assert_eq!(out, Feature::ALL.map(Feature::neutral), "no book yet");
            continue;
        };
        let history = History {
            mids: &mid_history,
            macd_lines: &macd_lines,
            bids,
            asks,
            trades: &trades,
        };
        let expected = expected_features(&cfg, &history, &set);
        for f in Feature::ALL {
            assert_close(out[f as usize], expected[f as usize], 1.0, f.name());
        }
        if out[Feature::Ready as usize] == 1.0 && ready_at.is_none() {
            ready_at = Some(step);
        }
    }
    assert!(
        ready_at.is_some_and(|s| s < 200),
        "warm after a few dozen events: {ready_at:?}"
    );
}

/// What the stream has shown the set so far.
struct History<'a> {
    /// The mids of the live books.
    mids: &'a [f64],
    macd_lines: &'a [f64],
    /// The last live book.
    bids: &'a [Level],
    asks: &'a [Level],
    trades: &'a [TradeEvent],
}

/// The features from their definitions. The volume profile's POC is taken from the set (the
/// profile has its own from-history test); everything else is recomputed here.
fn expected_features(cfg: &IndicatorConfig, h: &History, set: &IndicatorSet) -> [f64; FEATURES] {
    let (mids, bids, asks, trades) = (h.mids, h.bids, h.asks, h.trades);
    let mut f = Feature::ALL.map(Feature::neutral);
    let mid = *mids.last().unwrap();
    let bps = |x: f64| x / mid * 10_000.0;
    let t = mids.len();
    if t >= cfg.ema_period {
        f[Feature::MidVsEmaBps as usize] = bps(mid - ema_from_scratch(mids, cfg.ema_period));
    }
    let m = cfg.macd;
    if t >= m.slow + m.signal - 1 {
        let line = h.macd_lines[t - 1];
        let signal = ema_from_scratch(h.macd_lines, m.signal);
        f[Feature::MacdBps as usize] = bps(line);
        f[Feature::MacdHistogramBps as usize] = bps(line - signal);
    }
    if t > cfg.rsi_period {
        f[Feature::Rsi as usize] = rsi_from_scratch(mids, cfg.rsi_period) / 100.0;
    }
    let n = cfg.bollinger.n;
    if t >= n {
        let doubled: Vec<i64> = mids[t - n..].iter().map(|&m| (2.0 * m) as i64).collect();
        let (_, _, pct_b, width) = bollinger_from_scratch(&doubled, cfg.bollinger.k);
        f[Feature::BollingerPercentB as usize] = pct_b;
        f[Feature::BollingerWidthBps as usize] = width * 10_000.0;
    }
    if trades.len() >= cfg.vwap_window {
        let window: Vec<(Px, Qty)> = trades[trades.len() - cfg.vwap_window..]
            .iter()
            .map(|t| (t.px, t.qty))
            .collect();
        f[Feature::MidVsVwapBps as usize] = bps(mid - vwap_from_scratch(&window));
    }
    if let Some(poc) = set.profile().poc_mid() {
        f[Feature::MidVsPocBps as usize] = bps(mid - poc);
    }
    let depth = |side: &[Level]| -> f64 {
        side.iter()
            .take(cfg.imbalance_levels)
            .map(|l| l.qty.0 as f64)
            .sum()
    };
    let (b, a) = (depth(bids), depth(asks));
    f[Feature::BookImbalance as usize] = (b - a) / (b + a);
    let (bid, ask) = (bids[0], asks[0]);
    let (spread, bq, aq) = (
        (ask.px.0 - bid.px.0) as f64,
        bid.qty.0 as f64,
        ask.qty.0 as f64,
    );
    f[Feature::MicroPriceOffsetBps as usize] = bps(spread * bq / (bq + aq) - spread / 2.0);
    f[Feature::SpreadBps as usize] = bps(spread);
    if t > cfg.vol_window {
        let variance = variance_from_scratch(&mids[t - cfg.vol_window - 1..]);
        f[Feature::RealizedVolBps as usize] = variance.sqrt() * 10_000.0;
    }
    if trades.len() >= cfg.flow_window {
        let window = &trades[trades.len() - cfg.flow_window..];
        let volume = |side| -> f64 {
            window
                .iter()
                .filter(|t| t.aggressor == side)
                .map(|t| t.qty.0 as f64)
                .sum()
        };
        let (buy, sell) = (volume(Side::Buy), volume(Side::Sell));
        f[Feature::TradeFlowImbalance as usize] = (buy - sell) / (buy + sell);
    }
    if t >= 2 {
        f[Feature::LastReturnBps as usize] = ((mid - mids[t - 2]) / mids[t - 2]).ln_1p() * 1e4;
    }
    if let Some(last) = trades.last() {
        f[Feature::LastTradeVsMidBps as usize] = bps(last.px.0 as f64 - mid);
    }
    let warm = [
        t > cfg.rsi_period,
        t >= m.slow + m.signal - 1,
        t >= n,
        t >= cfg.ema_period,
        t > cfg.vol_window,
        trades.len() >= cfg.vwap_window.max(cfg.flow_window),
    ];
    f[Feature::Ready as usize] = if warm.iter().all(|&w| w) { 1.0 } else { 0.0 };
    f
}
