//! `[rings]`: each ring's slots, and what all of them take together.
//!
//! Every ring is allocated whole at start-up, so a total the machine cannot give would abort
//! the process mid-start with an allocation failure. The total is checked here instead, against
//! `rings.max_memory_mb` (1 GiB unless raised) and against half of the machine's memory, so
//! that `check-config` refuses such a config by naming the rings and their total.

use std::mem::size_of;

use pulse_feeds::event::{MarketEvent, MdEvent};
use pulse_gateways::order::{ExecReport, Request};
use toml::Spanned;

use super::super::raw::{GatewayKind, RawRings};
use super::super::{ConfigError, RingConfig};
use super::Checker;
use crate::intent::{Feedback, Intent};

/// The default ring budget, in MiB: the default rings take a few MiB of it.
const DEFAULT_MAX_MEMORY_MB: i64 = 1024;

/// One ring kind: its key, its slots, how many rings of that size the pipeline builds, and
/// the bytes of one slot of each.
struct RingUse {
    name: &'static str,
    slots: usize,
    slot_bytes: &'static [usize],
}

impl RingUse {
    fn bytes(&self) -> u128 {
        self.slot_bytes
            .iter()
            .map(|&b| self.slots as u128 * b as u128)
            .sum()
    }
}

/// What the rings of `rings` take, ring kind by ring kind, as `pipeline::build` makes them:
/// book events go to the strategy and risk, and to the simulated venue when there is one;
/// reports go to risk, and risk's feedback to the strategy through a ring of the same size.
fn uses(rings: &RingConfig, sim: bool) -> [RingUse; 5] {
    let book: &'static [usize] = if sim {
        &[size_of::<MarketEvent>(); 3]
    } else {
        &[size_of::<MarketEvent>(); 2]
    };
    [
        RingUse {
            name: "market_data",
            slots: rings.market_data,
            slot_bytes: &[size_of::<MdEvent>()],
        },
        RingUse {
            name: "book_events",
            slots: rings.book_events,
            slot_bytes: book,
        },
        RingUse {
            name: "intents",
            slots: rings.intents,
            slot_bytes: &[size_of::<Intent>()],
        },
        RingUse {
            name: "orders",
            slots: rings.orders,
            slot_bytes: &[size_of::<Request>()],
        },
        RingUse {
            name: "reports",
            slots: rings.reports,
            slot_bytes: &[size_of::<ExecReport>(), size_of::<Feedback>()],
        },
    ]
}

/// The machine's memory (`MemTotal` of `/proc/meminfo`), if it can be read.
fn machine_bytes() -> Option<u128> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u128>()
        .ok()?;
    Some(kb * 1024)
}

impl Checker<'_> {
    pub(super) fn rings(
        &self,
        raw: &RawRings,
        gateway: &GatewayKind,
    ) -> Result<RingConfig, ConfigError> {
        let ring = |name: &str, value: &Option<Spanned<i64>>, default: usize| match value {
            None => Ok(default),
            Some(v)
                if (2..=1 << 24).contains(v.get_ref())
                    && (*v.get_ref() as u64).is_power_of_two() =>
            {
                Ok(*v.get_ref() as usize)
            }
            Some(v) => Err(self.err(
                format!("rings.{name}"),
                v.span(),
                "must be a power of two from 2 to 16777216",
            )),
        };
        let d = RingConfig::default();
        let rings = RingConfig {
            market_data: ring("market_data", &raw.market_data, d.market_data)?,
            book_events: ring("book_events", &raw.book_events, d.book_events)?,
            intents: ring("intents", &raw.intents, d.intents)?,
            orders: ring("orders", &raw.orders, d.orders)?,
            reports: ring("reports", &raw.reports, d.reports)?,
        };
        // The simulated venue hands out a market event only while the ring has room for the
        // fills it can give every resting order at once: a smaller ring would stall it.
        let least = pulse_gateways::sim_stage::MIN_REPORTS_RING;
        if let Some(v) = raw.reports.as_ref().filter(|_| rings.reports < least) {
            return Err(self.err(
                "rings.reports",
                v.span(),
                format!("must hold what one market event can fill on the simulated venue: at least {least}"),
            ));
        }
        self.ring_memory(raw, &rings, matches!(gateway, GatewayKind::Sim))?;
        Ok(rings)
    }

    /// Refuses rings whose total is above `rings.max_memory_mb` or half of the machine.
    fn ring_memory(
        &self,
        raw: &RawRings,
        rings: &RingConfig,
        sim: bool,
    ) -> Result<(), ConfigError> {
        let budget_mb = match &raw.max_memory_mb {
            Some(v) => self.int("rings.max_memory_mb", v, 1, i64::from(u32::MAX))?,
            None => DEFAULT_MAX_MEMORY_MB,
        };
        let uses = uses(rings, sim);
        let total: u128 = uses.iter().map(RingUse::bytes).sum();
        let budget = budget_mb as u128 * MIB;
        let half_machine = machine_bytes().map(|b| b / 2);
        let (limit, why) = match half_machine {
            Some(half) if half < budget => (half, "half of this machine's memory".to_owned()),
            _ => (budget, format!("rings.max_memory_mb = {budget_mb}")),
        };
        if total <= limit {
            return Ok(());
        }
        let parts: Vec<String> = uses
            .iter()
            .map(|u| {
                let per: usize = u.slot_bytes.iter().sum();
                let over = match u.slot_bytes.len() {
                    1 => String::new(),
                    n => format!(" over {n} rings"),
                };
                format!(
                    "rings.{} {} slots x {per} B{over} = {} MiB",
                    u.name,
                    u.slots,
                    u.bytes().div_ceil(MIB)
                )
            })
            .collect();
        // The line of the biggest ring the file sets, else of `[rings]`'s first key.
        let biggest = uses
            .iter()
            .zip([
                &raw.market_data,
                &raw.book_events,
                &raw.intents,
                &raw.orders,
                &raw.reports,
            ])
            .filter_map(|(u, v)| v.as_ref().map(|v| (u.bytes(), v.span())))
            .max_by_key(|(bytes, _)| *bytes)
            .map(|(_, span)| span);
        let message = format!(
            "the rings would take {} MiB, more than {} MiB ({why}): {}; make the largest \
             rings smaller",
            total.div_ceil(MIB),
            limit / MIB,
            parts.join(", ")
        );
        match biggest.or_else(|| raw.max_memory_mb.as_ref().map(Spanned::span)) {
            Some(span) => Err(self.err("rings", span, message)),
            None => Err(ConfigError {
                key: "rings".to_owned(),
                line: None,
                message,
            }),
        }
    }
}

const MIB: u128 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rings_fit_the_default_budget_many_times_over() {
        let d = RingConfig::default();
        let total: u128 = uses(&d, true).iter().map(RingUse::bytes).sum();
        assert!(total * 8 < DEFAULT_MAX_MEMORY_MB as u128 * MIB, "{total}");
    }
}
