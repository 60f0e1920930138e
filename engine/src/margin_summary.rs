//! The summary's margin line: what the margin guard did and how each margined position stands.

use std::fmt::Write as _;

use pulse_feeds::instrument::InstrumentRegistry;
use pulse_feeds::num::Decimal;

/// The margin guard, for a config with margined instruments: margin calls, deleverage cuts,
/// and the funding and margin ratio at the end of each instrument with either.
pub(crate) fn render(
    s: &mut String,
    risk: &crate::risk::stage::RiskStage,
    instruments: &InstrumentRegistry,
) {
    let watch = risk.margin_watch();
    if watch.is_empty() {
        return;
    }
    let c = &risk.counters;
    let cuts = c.exits[pulse_core::intent::ExitKind::Deleverage.index()];
    let per: Vec<String> = watch
        .iter()
        .zip(risk.account().instruments())
        .zip(instruments.iter())
        .filter(|((w, a), _)| w.ratio_bps.is_some() || a.position.funding != 0)
        .map(|((w, a), inst)| {
            let ratio = w
                .ratio_bps
                .map_or("-".to_string(), |r| format!("{}.{:02}%", r / 100, r % 100));
            format!(
                "{} funding paid {}, margin ratio {ratio}",
                instruments.display_name(inst.id),
                Decimal::new(a.position.funding, inst.notional_scale())
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "margin    {} margin calls, {} deleverage cuts; {}",
        c.margin_calls,
        cuts,
        per.join("; ")
    );
}
