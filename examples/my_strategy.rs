//! A user strategy in one file: micro-price momentum. When the book's micro-price (the mid
//! tilted towards the thinner side) runs ahead of its own moving average by `threshold_bps`,
//! take liquidity in that direction; sell what is held when it falls behind.
//!
//! ```text
//! cargo run --release --example my_strategy -- run --config configs/my-strategy.toml
//! ```

#![forbid(unsafe_code)]

use std::process::ExitCode;

use pulse_core::event::{BookState, MarketEvent};
use pulse_core::intent::{Feedback, Intent, Intents};
use pulse_core::metrics::{MetricLabel, MetricSink, Report};
use pulse_core::num::Side;
use pulse_strategy::counters::StrategyCounter;
use pulse_strategy::indicators::{Ema, MicroPrice};
use pulse_strategy::params::{ParamDecl, Params};
use pulse_strategy::taker::{Taker, TakerParams};
use pulse_strategy::{Strategy, StrategyContext, UserStrategy};

pulse_core::counters! {
    /// The strategy's own counters: declared here, registered by the engine like any other.
    enum MomentumCounter {
        Signals => counter("momentum_signals", "Micro-price leads past the threshold, either way"),
    }
}

struct MicroMomentum {
    taker: Taker,
    micro: MicroPrice,
    average: Ema,
    threshold_bps: f64,
    signals: u64,
    intents: u64,
}

impl Strategy for MicroMomentum {
    fn name(&self) -> &'static str {
        Self::KIND
    }

    fn on_market(&mut self, event: &MarketEvent, out: &mut Intents) {
        let MarketEvent::Book(top) = event else {
            return;
        };
        if top.meta.instrument != self.taker.instrument() || top.state != BookState::Live {
            return;
        }
        let (Some(bid), Some(ask)) = (top.bids().first(), top.asks().first()) else {
            return;
        };
        self.micro.update(*bid, *ask);
        let micro = self.micro.value();
        let average = self.average.update(micro);
        if !self.average.is_ready() || average <= 0.0 {
            return;
        }
        let lead_bps = (micro - average) / average * 10_000.0;
        let side = if lead_bps >= self.threshold_bps {
            Side::Buy
        } else if lead_bps <= -self.threshold_bps {
            Side::Sell
        } else {
            return;
        };
        self.signals += 1;
        let qty = self.taker.order_qty();
        if let Some(order) = self.taker.order(top, side, qty) {
            self.intents += 1;
            out.push(Intent::New(order));
        }
    }

    fn on_feedback(&mut self, feedback: &Feedback, _out: &mut Intents) {
        self.taker.on_feedback(feedback);
    }

    fn report(&self, out: MetricSink<'_>) {
        out(MomentumCounter::Signals.count(MetricLabel::None, self.signals));
        out(StrategyCounter::Intents.count(MetricLabel::None, self.intents));
    }
}

impl UserStrategy for MicroMomentum {
    const KIND: &'static str = "micro-momentum";
    const PARAMS: &'static [ParamDecl] = &[
        ParamDecl::int(
            "average_events",
            1.0,
            100_000.0,
            200.0,
            "book events the micro-price's moving average spans",
        ),
        ParamDecl::decimal(
            "threshold_bps",
            0.01,
            1_000.0,
            1.0,
            "how far the micro-price must lead its average, in basis points",
        ),
        ParamDecl::int(
            "slippage_ticks",
            0.0,
            1_000.0,
            2.0,
            "cross the touch by this many ticks (orders are IOC)",
        ),
    ];

    fn build(ctx: &StrategyContext, params: &Params) -> anyhow::Result<MicroMomentum> {
        let param = |name| {
            params
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("undeclared parameter {name}"))
        };
        Ok(MicroMomentum {
            taker: Taker::new(TakerParams {
                instrument: ctx.instrument,
                tick: ctx.tick,
                order_qty: ctx.order_qty,
                max_position: ctx.max_position,
                cooldown: ctx.cooldown,
                slippage_ticks: param("slippage_ticks")? as u32,
            }),
            micro: MicroPrice::default(),
            average: Ema::new(param("average_events")? as usize),
            threshold_bps: param("threshold_bps")?,
            signals: 0,
            intents: 0,
        })
    }
}

fn main() -> ExitCode {
    pulse_engine::cli::main_with::<MicroMomentum>()
}
