//! Every counter the engine links is declared once, by one crate, with help text that fits the
//! stats file: two stages may report the same counter (with different labels) only by sharing
//! its descriptor.

use std::collections::HashMap;

use pulse_core::counters::{descriptors, CoreCounter, CounterDescriptor};
use pulse_engine::stats::layout::{METRIC_HELP_LENGTH, METRIC_NAME_LENGTH};
use pulse_feeds::counters::{BookCounter, FeedCounter};
use pulse_gateways::counters::{GatewayCounter, SimCounter};
use pulse_risk::counters::RiskCounter;
use pulse_strategy::counters::StrategyCounter;

fn every_descriptor() -> Vec<(&'static str, &'static CounterDescriptor)> {
    let mut all = Vec::new();
    all.extend(descriptors::<CoreCounter>().map(|d| ("CoreCounter", d)));
    all.extend(descriptors::<FeedCounter>().map(|d| ("FeedCounter", d)));
    all.extend(descriptors::<BookCounter>().map(|d| ("BookCounter", d)));
    all.extend(descriptors::<StrategyCounter>().map(|d| ("StrategyCounter", d)));
    all.extend(descriptors::<RiskCounter>().map(|d| ("RiskCounter", d)));
    all.extend(descriptors::<SimCounter>().map(|d| ("SimCounter", d)));
    all.extend(descriptors::<GatewayCounter>().map(|d| ("GatewayCounter", d)));
    all
}

#[test]
fn every_counter_name_is_declared_once_with_help_that_fits() {
    let all = every_descriptor();
    assert!(all.len() > 60, "{} descriptors", all.len());
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (owner, d) in all {
        if let Some(first) = seen.insert(d.name, owner) {
            panic!("{} is declared by both {first} and {owner}", d.name);
        }
        let snake = d
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        assert!(
            snake && !d.name.is_empty(),
            "{owner}: {:?} is not snake_case",
            d.name
        );
        assert!(
            d.name.len() <= METRIC_NAME_LENGTH,
            "{owner}: {} is too long",
            d.name
        );
        assert!(!d.help.is_empty(), "{owner}: {} has no help text", d.name);
        assert!(d.help.is_ascii(), "{owner}: {}'s help is not ASCII", d.name);
        assert!(
            d.help.len() <= METRIC_HELP_LENGTH,
            "{owner}: {}'s help does not fit the stats file",
            d.name
        );
    }
}
