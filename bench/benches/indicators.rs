//! Indicators per market event: `IndicatorSet` (incremental, O(1) per update) beside a naive
//! set that recomputes every indicator from scratch over its window at every book event, the
//! way a strategy written over a rolling frame of recent prices does (issue 5).
//!
//! The events are real: the bundled BTCUSDT capture replayed once through the real feed and
//! book stages, collected before anything is timed (3,450 book tops and 9,757 trades). Per
//! event, a book top is applied and the 16-feature vector written; a trade is applied.
//!
//! - `incremental`: `IndicatorSet::on_event`, then `features` after each book.
//! - `naive`: keeps the recent mids and trades and, at each book, recomputes EMA, MACD and RSI
//!   over the last `LOOKBACK` mids (older samples weigh less than 1e-15 in them), Bollinger,
//!   realized volatility, VWAP and the trade flow over their windows, and the POC by a scan of
//!   the profile's buckets.
//!
//! Both give the same features: checked at every book, to 1e-6 relative, before timing (so
//! `cargo test --benches` checks the set against the naive one over the real capture too).
//! Criterion times a whole replay; then one pass per variant prints the per-book distribution
//! (apply + features, TSC-stamped, so each sample includes one clock read) in the harness's
//! table, with the naive set's percentiles as ratios to the incremental one's.
//!
//! ```sh
//! cargo bench -p pulse-bench --bench indicators
//! ```
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, VecDeque};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hdrhistogram::Histogram;
use market_events::{market_events, TICK};
use pulse_engine::indicators::{IndicatorConfig, IndicatorSet, FEATURES};
use pulse_feeds::book::Level;
use pulse_feeds::event::{BookState, BookTop, MarketEvent, TradeEvent};
use pulse_feeds::num::Side;
use report::Measured;

#[path = "../src/market_events.rs"]
mod market_events;
#[path = "../src/report.rs"]
#[allow(dead_code)]
mod report;

/// Mids the naive set recomputes EMA, MACD and RSI over. The slowest smoothing of the default
/// config is Wilder's `1/14`: `(13/14)^500 < 1e-15`, so truncating there changes no feature.
const LOOKBACK: usize = 512;

/// What both variants do per event.
trait Indicators {
    fn on_event(&mut self, event: &MarketEvent);
    fn features(&self, out: &mut [f64; FEATURES]);

    /// Applies `event`, and writes the features after a book.
    fn step(&mut self, event: &MarketEvent, out: &mut [f64; FEATURES]) {
        self.on_event(event);
        if let MarketEvent::Book(_) = event {
            self.features(out);
        }
    }
}

impl Indicators for IndicatorSet {
    fn on_event(&mut self, event: &MarketEvent) {
        IndicatorSet::on_event(self, event)
    }

    fn features(&self, out: &mut [f64; FEATURES]) {
        IndicatorSet::features(self, out)
    }
}

/// The same features, each recomputed from the recent history whenever they are asked for.
struct Naive {
    cfg: IndicatorConfig,
    mids: VecDeque<f64>,
    trades: VecDeque<TradeEvent>,
    /// The last live two-sided book.
    book: Option<BookTop>,
    last_return: f64,
    profile: BTreeMap<i64, i64>,
    profile_low: Option<i64>,
}

impl Naive {
    fn new(cfg: IndicatorConfig) -> Naive {
        Naive {
            cfg,
            mids: VecDeque::with_capacity(LOOKBACK + 1),
            trades: VecDeque::with_capacity(cfg.vwap_window.max(cfg.flow_window) + 1),
            book: None,
            last_return: 0.0,
            profile: BTreeMap::new(),
            profile_low: None,
        }
    }

    fn on_book(&mut self, top: &BookTop) {
        if top.state != BookState::Live || top.best_bid().is_none() || top.best_ask().is_none() {
            return;
        }
        let mid = (top.bids[0].px.0 + top.asks[0].px.0) as f64 / 2.0;
        self.last_return = self.mids.back().map_or(0.0, |&p| ((mid - p) / p).ln_1p());
        if self.mids.len() == LOOKBACK {
            self.mids.pop_front();
        }
        self.mids.push_back(mid);
        self.book = Some(*top);
    }

    fn on_trade(&mut self, trade: &TradeEvent) {
        if trade.qty.0 <= 0 {
            return;
        }
        if self.trades.len() == self.cfg.vwap_window.max(self.cfg.flow_window) {
            self.trades.pop_front();
        }
        self.trades.push_back(*trade);
        let (buckets, width) = (self.cfg.profile.buckets as i64, self.bucket_width());
        let key = trade.px.0.div_euclid(width);
        let low = match self.profile_low {
            Some(low) if key >= low && key < low + buckets => low,
            _ => key - buckets / 2,
        };
        self.profile.retain(|&k, _| k >= low && k < low + buckets);
        self.profile_low = Some(low);
        *self.profile.entry(key).or_insert(0) += trade.qty.0;
    }

    fn bucket_width(&self) -> i64 {
        TICK.0 * self.cfg.profile.bucket_ticks as i64
    }
}

impl Indicators for Naive {
    fn on_event(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Book(top) => self.on_book(top),
            MarketEvent::Trade(trade) => self.on_trade(trade),
        }
    }

    fn features(&self, out: &mut [f64; FEATURES]) {
        *out = [0.0; FEATURES];
        (out[3], out[4]) = (0.5, 0.5);
        let Some(top) = &self.book else {
            return;
        };
        let cfg = &self.cfg;
        let mids: Vec<f64> = self.mids.iter().copied().collect();
        let (t, mid) = (mids.len(), mids[mids.len() - 1]);
        let bps = |x: f64| x / mid * 1e4;
        // Books seen, as far as any readiness rule can tell: the history keeps `LOOKBACK`, more
        // than the longest warm-up.
        let seen = t;
        if seen >= cfg.ema_period {
            out[0] = bps(mid - ema(&mids, cfg.ema_period).last().unwrap());
        }
        let m = cfg.macd;
        if seen >= m.slow + m.signal - 1 {
            let (fast, slow) = (ema(&mids, m.fast), ema(&mids, m.slow));
            let line: Vec<f64> = fast.iter().zip(&slow).map(|(f, s)| f - s).collect();
            let signal = ema(&line, m.signal);
            out[1] = bps(line[t - 1]);
            out[2] = bps(line[t - 1] - signal[t - 1]);
        }
        if seen > cfg.rsi_period {
            out[3] = rsi(&mids, cfg.rsi_period) / 100.0;
        }
        let n = cfg.bollinger.n;
        if seen >= n {
            let window = &mids[t - n..];
            let mean = window.iter().sum::<f64>() / n as f64;
            let sd = (window.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            let width = 2.0 * cfg.bollinger.k * sd;
            out[4] = if width == 0.0 {
                0.5
            } else {
                (mid - (mean - width / 2.0)) / width
            };
            out[5] = width / mean * 1e4;
        }
        let trades = &self.trades;
        if cfg.vwap_window > 0 && trades.len() >= cfg.vwap_window {
            let window = trades.range(trades.len() - cfg.vwap_window..);
            let (notional, volume) = window.fold((0.0, 0.0), |(n, v), t| {
                (n + t.px.0 as f64 * t.qty.0 as f64, v + t.qty.0 as f64)
            });
            out[6] = bps(mid - notional / volume);
        }
        if let Some(low) = self.profile_low {
            let width = self.bucket_width();
            let poc =
                self.profile.range(low..).fold(
                    (low, 0),
                    |best, (&k, &v)| {
                        if v > best.1 {
                            (k, v)
                        } else {
                            best
                        }
                    },
                );
            out[7] = bps(mid - (poc.0 as f64 + 0.5) * width as f64);
        }
        let depth = |side: &[Level]| -> f64 {
            side.iter()
                .take(cfg.imbalance_levels)
                .map(|l| l.qty.0 as f64)
                .sum()
        };
        let (b, a) = (depth(top.bids()), depth(top.asks()));
        out[8] = (b - a) / (b + a);
        let (bid, ask) = (top.bids[0], top.asks[0]);
        let (bq, aq) = (bid.qty.0 as f64, ask.qty.0 as f64);
        let micro = (bid.px.0 as f64 * aq + ask.px.0 as f64 * bq) / (bq + aq);
        out[9] = bps(micro - mid);
        out[10] = bps((ask.px.0 - bid.px.0) as f64);
        if seen > cfg.vol_window {
            let window = &mids[t - cfg.vol_window - 1..];
            let variance: f64 = window
                .windows(2)
                .map(|w| ((w[1] - w[0]) / w[0]).ln_1p().powi(2))
                .sum();
            out[11] = variance.sqrt() * 1e4;
        }
        if trades.len() >= cfg.flow_window {
            let window = trades.range(trades.len() - cfg.flow_window..);
            let (buy, sell) = window.fold((0.0, 0.0), |(b, s), t| match t.aggressor {
                Side::Buy => (b + t.qty.0 as f64, s),
                Side::Sell => (b, s + t.qty.0 as f64),
            });
            out[12] = (buy - sell) / (buy + sell);
        }
        out[13] = self.last_return * 1e4;
        if let Some(trade) = trades.back() {
            out[14] = bps(trade.px.0 as f64 - mid);
        }
        let warm = seen >= m.slow + m.signal - 1
            && seen > cfg.rsi_period.max(cfg.vol_window)
            && seen >= n.max(cfg.ema_period)
            && trades.len() >= cfg.vwap_window.max(cfg.flow_window);
        out[15] = if warm { 1.0 } else { 0.0 };
    }
}

/// The EMA at every point of `xs`, seeded by its first value.
fn ema(xs: &[f64], period: usize) -> Vec<f64> {
    let alpha = 2.0 / (period as f64 + 1.0);
    let mut out = Vec::with_capacity(xs.len());
    let mut value = xs[0];
    for &x in xs {
        value += alpha * (x - value);
        out.push(value);
    }
    out
}

/// Wilder's RSI at the end of `xs`.
fn rsi(xs: &[f64], n: usize) -> f64 {
    let (mut gain, mut loss) = (0.0, 0.0);
    for (i, w) in xs.windows(2).enumerate() {
        let change = w[1] - w[0];
        let (g, l) = (change.max(0.0), (-change).max(0.0));
        if i < n {
            (gain, loss) = (gain + g / n as f64, loss + l / n as f64);
        } else {
            gain = (gain * (n as f64 - 1.0) + g) / n as f64;
            loss = (loss * (n as f64 - 1.0) + l) / n as f64;
        }
    }
    if gain + loss == 0.0 {
        50.0
    } else {
        100.0 * gain / (gain + loss)
    }
}

fn incremental(cfg: &IndicatorConfig) -> IndicatorSet {
    IndicatorSet::new(cfg, TICK).expect("valid config")
}

/// Both sets must write the same features at every book before either is timed.
fn check_agreement(events: &[MarketEvent], cfg: &IndicatorConfig) {
    let (mut set, mut naive) = (incremental(cfg), Naive::new(*cfg));
    let (mut a, mut b) = ([0.0; FEATURES], [0.0; FEATURES]);
    for (i, event) in events.iter().enumerate() {
        set.step(event, &mut a);
        naive.step(event, &mut b);
        for f in 0..FEATURES {
            let tolerance = 1e-6 * b[f].abs().max(1.0);
            assert!(
                (a[f] - b[f]).abs() <= tolerance,
                "event {i} feature {f}: {a:?} vs {b:?}"
            );
        }
    }
    assert_eq!(a[15], 1.0, "warm by the end of the capture");
}

fn bench_replay<I: Indicators>(
    c: &mut Criterion,
    name: &str,
    events: &[MarketEvent],
    setup: impl Fn() -> I,
) {
    let mut group = c.benchmark_group("indicators/replay");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            &setup,
            |indicators| {
                let mut out = [0.0; FEATURES];
                for event in events {
                    indicators.step(black_box(event), &mut out);
                    black_box(&out);
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// One replay, each book's apply + features stamped with the TSC.
fn per_book(
    name: &'static str,
    events: &[MarketEvent],
    mut indicators: impl Indicators,
) -> Measured {
    let clock = quanta::Clock::new();
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("valid bounds");
    let mut out = [0.0; FEATURES];
    for event in events {
        let start = clock.raw();
        indicators.step(event, &mut out);
        let ns = clock.delta_as_nanos(start, clock.raw()).max(1);
        if let MarketEvent::Book(_) = event {
            let _ = histogram.record(ns);
        }
    }
    black_box(&out);
    Measured {
        name,
        case: Some("per_book"),
        histogram,
        extra: Vec::new(),
    }
}

fn replay(c: &mut Criterion) {
    let events = market_events();
    let cfg = IndicatorConfig::default();
    check_agreement(&events, &cfg);
    bench_replay(c, "incremental", &events, || incremental(&cfg));
    bench_replay(c, "naive", &events, || Naive::new(cfg));
    let results = [
        per_book("pulse", &events, incremental(&cfg)),
        per_book("naive", &events, Naive::new(cfg)),
    ];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let env = report::env("single-thread", cores, &[]);
    println!("{}", report::table("indicators", &results, &env));
}

criterion_group!(benches, replay);
criterion_main!(benches);
