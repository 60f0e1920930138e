//! Operational events found by diffing: the kill switch's state and the stats counters as one
//! publish saw them against the previous one. Resolution is the monitor's publish period
//! (100 ms): two changes within it are seen as their net effect (a re-arm and a new kill both
//! show, by the re-arm count; a connection that dropped and came back shows by its connect
//! counter, and is reported as a disconnect and a connect at the same time).

use std::collections::HashMap;

use crate::risk::{KillSwitch, TradingMode};
use crate::stats::snapshot::StatsSnapshot;

use super::OpsEvent;

/// The metrics watched (name as the stats file has it).
const RESYNCS: &str = "book_resyncs";
const GATEWAY_READY: &str = "gateway_ready";
const GATEWAY_RECONNECTS: &str = "gateway_reconnects";
const FEED_CONNECTED: &str = "feed_connected";
const WS_CONNECTS: &str = "ws_connects";
const RECONCILED_FILLS: &str = "gateway_reconciled_fills";
const BALANCE_MISMATCHES: &str = "gateway_balance_mismatches";
const FLATTEN_OPEN: &str = "flatten_open";
const FLATTEN_UNCLOSABLE: &str = "flatten_unclosable";
const WATCHED: [&str; 9] = [
    RESYNCS,
    GATEWAY_READY,
    GATEWAY_RECONNECTS,
    FEED_CONNECTED,
    WS_CONNECTS,
    RECONCILED_FILLS,
    BALANCE_MISMATCHES,
    FLATTEN_OPEN,
    FLATTEN_UNCLOSABLE,
];

/// How long after a flatten request nothing open means "done": the risk stage takes the
/// request on its next poll and republishes `flatten_open` within its 100 ms period, so by
/// then a flatten with something to close shows as open.
const FLATTEN_SETTLE_NS: u64 = 300_000_000;

/// What the previous publish saw.
pub struct OpsWatch {
    /// When an operator's flatten was asked for (unix ns) and not yet reported done.
    flatten_asked: Option<u64>,
    engaged: bool,
    rearms: u64,
    mode: TradingMode,
    /// By (metric, label value): the value last seen. A metric never seen counts as 0, as
    /// every stats slot starts.
    last: HashMap<(&'static str, String), i64>,
}

impl OpsWatch {
    /// Starts from the kill switch as it is (a kill at start is reported by the first diff).
    pub fn new(kill: &KillSwitch) -> OpsWatch {
        OpsWatch {
            flatten_asked: None,
            engaged: false,
            rearms: kill.rearms(),
            mode: TradingMode::Armed,
            last: HashMap::new(),
        }
    }

    /// An operator's flatten was taken at `at_ns`: its `flatten_done` follows once nothing is
    /// open ([`FLATTEN_SETTLE_NS`] later at the earliest, so that a flatten with nothing to
    /// close is reported done too).
    pub fn flatten_asked(&mut self, at_ns: u64) {
        self.flatten_asked = Some(at_ns);
    }

    /// The events between the previous call and now (`now_ns`, unix), in the order an operator
    /// reads them: re-arm before a new kill, then the counters.
    pub fn diff(&mut self, snap: &StatsSnapshot, kill: &KillSwitch, now_ns: u64) -> Vec<OpsEvent> {
        let mut out = Vec::new();
        let rearms = kill.rearms();
        if rearms > self.rearms {
            let by = kill.last_rearm();
            out.push(OpsEvent::new(now_ns, "rearm").with("uid", u64::from(by.uid)));
            self.rearms = rearms;
            self.engaged = false;
        }
        let engaged = kill.is_engaged();
        if engaged && !self.engaged {
            let reason = kill.reason().map_or("unknown", |r| r.name());
            out.push(OpsEvent::new(now_ns, "kill").with("reason", reason));
        }
        self.engaged = engaged;
        let mode = kill.mode();
        if mode == TradingMode::ReduceOnly && self.mode != TradingMode::ReduceOnly {
            out.push(OpsEvent::new(now_ns, "reduce_only"));
        }
        self.mode = mode;
        self.counters(snap, now_ns, &mut out);
        out
    }

    fn counters(&mut self, snap: &StatsSnapshot, now: u64, out: &mut Vec<OpsEvent>) {
        let mut fills = 0;
        let mut mismatches = 0;
        // The feeds' connect attempts counted and connected gauges that moved (by label), for
        // the bounces below.
        let mut connects: Vec<String> = Vec::new();
        let mut moved: Vec<String> = Vec::new();
        // The venue session, by label: whether it was up at the last publish, and the drops
        // counted since (its reconnect counter counts each drop).
        let mut sessions: Vec<(String, bool, u64)> = Vec::new();
        let mut drops: Vec<(String, u64)> = Vec::new();
        for m in &snap.metrics {
            let Some(&name) = WATCHED.iter().find(|w| **w == m.name) else {
                continue;
            };
            let label = m.label.as_ref().map_or("", |(_, v)| v.as_str());
            let before = self
                .last
                .insert((name, label.to_owned()), m.value)
                .unwrap_or(0);
            let (now_v, delta) = (m.value, m.value.saturating_sub(before));
            if delta == 0 {
                continue;
            }
            let labelled = |ev: OpsEvent, key| {
                if label.is_empty() {
                    ev
                } else {
                    ev.with(key, label)
                }
            };
            let up = delta.unsigned_abs();
            match name {
                RESYNCS if delta > 0 => out.push(
                    OpsEvent::new(now, "resync")
                        .with("instrument", label)
                        .with("count", up)
                        .with("total", now_v.max(0) as u64),
                ),
                GATEWAY_READY => sessions.push((label.to_owned(), before > 0, 0)),
                FEED_CONNECTED => {
                    moved.push(label.to_owned());
                    let kind = if now_v > 0 {
                        "feed_connected"
                    } else {
                        "feed_disconnected"
                    };
                    out.push(labelled(OpsEvent::new(now, kind), "source"));
                }
                GATEWAY_RECONNECTS if delta > 0 => drops.push((label.to_owned(), up)),
                WS_CONNECTS if delta > 0 => connects.push(label.to_owned()),
                RECONCILED_FILLS if delta > 0 => fills += up,
                BALANCE_MISMATCHES if delta > 0 => mismatches += up,
                FLATTEN_OPEN if now_v == 0 => {
                    self.flatten_asked = None;
                    out.push(labelled(OpsEvent::new(now, "flatten_done"), "instrument"))
                }
                FLATTEN_UNCLOSABLE if delta > 0 => out.push(
                    labelled(OpsEvent::new(now, "flatten_unclosable"), "instrument")
                        .with("unclosable", now_v as u64),
                ),
                _ => {}
            }
        }
        self.sessions(sessions, drops, now, out);
        // A connect counted while the gauge reads up, as it did at the last publish: the
        // connection dropped and came back within one period. Both halves are reported.
        for label in connects {
            if !self.is_up(FEED_CONNECTED, &label) || moved.contains(&label) {
                continue;
            }
            for kind in ["feed_disconnected", "feed_connected"] {
                let ev = OpsEvent::new(now, kind);
                out.push(if label.is_empty() {
                    ev
                } else {
                    ev.with("source", label.as_str())
                });
            }
        }
        let open = self.last.get(&(FLATTEN_OPEN, String::new())).copied();
        let settled = self
            .flatten_asked
            .is_some_and(|at| now.saturating_sub(at) >= FLATTEN_SETTLE_NS);
        if settled && open.unwrap_or(0) == 0 {
            self.flatten_asked = None;
            out.push(OpsEvent::new(now, "flatten_done"));
        }
        if fills > 0 || mismatches > 0 {
            out.push(
                OpsEvent::new(now, "reconciliation")
                    .with("reconciled_fills", fills)
                    .with("balance_mismatches", mismatches),
            );
        }
    }
}

impl OpsWatch {
    /// The venue session's events since the last publish, by label: from whether it was up
    /// then and is up now, and the drops counted between. Every drop is a disconnect and
    /// every connect that follows one a connect, so a session that connected, dropped and came
    /// back within one period (a loaded machine stretches the period) shows all three.
    fn sessions(
        &self,
        mut moved: Vec<(String, bool, u64)>,
        drops: Vec<(String, u64)>,
        now: u64,
        out: &mut Vec<OpsEvent>,
    ) {
        for (label, n) in drops {
            match moved.iter_mut().find(|(l, _, _)| *l == label) {
                Some(m) => m.2 = n,
                None => {
                    let up = self.is_up(GATEWAY_READY, &label);
                    moved.push((label, up, n));
                }
            }
        }
        for (label, was_up, drops) in moved {
            let is_up = self.is_up(GATEWAY_READY, &label);
            // Downs: the drops counted, at least the one the gauge shows; ups: as many as
            // bring the state from what it was to what it is.
            let downs = drops.max(u64::from(was_up && !is_up));
            let ups = (downs + u64::from(is_up)).saturating_sub(u64::from(was_up));
            let mut up = was_up;
            for _ in 0..downs + ups {
                up = !up;
                let kind = if up {
                    "gateway_connected"
                } else {
                    "gateway_disconnected"
                };
                let ev = OpsEvent::new(now, kind);
                out.push(if label.is_empty() {
                    ev
                } else {
                    ev.with("venue", label.as_str())
                });
            }
        }
    }

    fn is_up(&self, gauge: &'static str, label: &str) -> bool {
        self.last
            .get(&(gauge, label.to_owned()))
            .is_some_and(|v| *v > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::{HaltReason, Rearm};
    use crate::stats::snapshot::MetricValue;
    use crate::stats::MetricKind;

    fn metric(name: &str, label: Option<(&str, &str)>, value: i64) -> MetricValue {
        MetricValue {
            name: name.into(),
            kind: MetricKind::Counter,
            label: label.map(|(k, v)| (k.into(), v.into())),
            help: String::new(),
            value,
        }
    }

    fn snap(metrics: Vec<MetricValue>) -> StatsSnapshot {
        StatsSnapshot {
            name: "t".into(),
            pid: 1,
            start_time_ns: 0,
            heartbeat_ns: 0,
            taken_ns: 0,
            alive: true,
            health: None,
            metrics,
            latencies: Vec::new(),
        }
    }

    fn kinds(evs: &[OpsEvent]) -> Vec<&str> {
        evs.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn kill_rearm_and_counters_become_events_once() {
        let kill = KillSwitch::new(false);
        let mut w = OpsWatch::new(&kill);
        let btc = Some(("instrument", "binance:BTCUSDT"));
        assert!(w
            .diff(&snap(vec![metric(RESYNCS, btc, 0)]), &kill, 1)
            .is_empty());
        kill.engage(HaltReason::Operator);
        let s = snap(vec![
            metric(RESYNCS, btc, 2),
            metric(FEED_CONNECTED, None, 1),
            metric(RECONCILED_FILLS, None, 3),
        ]);
        let evs = w.diff(&s, &kill, 2);
        assert_eq!(
            kinds(&evs),
            ["kill", "resync", "feed_connected", "reconciliation"]
        );
        assert_eq!(evs[0].text("reason"), Some("operator"));
        // 0 -> 2 resyncs: count 2, total 2.
        assert_eq!(
            evs[1].fields[1..],
            [("count", 2u64.into()), ("total", 2u64.into())]
        );
        assert!(w.diff(&s, &kill, 3).is_empty(), "nothing changed");
        kill.rearm(Rearm {
            uid: 1000,
            at_unix_ns: 4,
        });
        kill.reduce_only();
        let s = snap(vec![metric(FEED_CONNECTED, None, 0)]);
        let evs = w.diff(&s, &kill, 4);
        assert_eq!(kinds(&evs), ["rearm", "reduce_only", "feed_disconnected"]);
        assert_eq!(evs[0].fields, [("uid", 1000u64.into())]);
        kill.engage(HaltReason::KillFile);
        let evs = w.diff(&s, &kill, 5);
        assert_eq!(kinds(&evs), ["kill"]);
        assert_eq!(evs[0].text("reason"), Some("kill_file"));
    }

    #[test]
    fn the_venue_session_and_its_checks_become_events() {
        let kill = KillSwitch::new(false);
        let mut w = OpsWatch::new(&kill);
        let s = |ready, fills, mismatches, unclosable| {
            snap(vec![
                metric(GATEWAY_READY, None, ready),
                metric(RECONCILED_FILLS, None, fills),
                metric(BALANCE_MISMATCHES, None, mismatches),
                metric(FLATTEN_UNCLOSABLE, None, unclosable),
            ])
        };
        assert_eq!(
            kinds(&w.diff(&s(1, 0, 0, 0), &kill, 1)),
            ["gateway_connected"]
        );
        // 2 fills learned from status answers and 1 mismatch: one reconciliation event (the
        // session's events of a publish follow the counters' that need no history).
        let evs = w.diff(&s(0, 2, 1, 1), &kill, 2);
        assert_eq!(
            kinds(&evs),
            [
                "flatten_unclosable",
                "gateway_disconnected",
                "reconciliation"
            ]
        );
        assert_eq!(evs[0].fields, [("unclosable", 1u64.into())]);
        assert_eq!(
            evs[2].fields,
            [
                ("reconciled_fills", 2u64.into()),
                ("balance_mismatches", 1u64.into())
            ]
        );
        // 2 -> 5 fills: 3 more.
        let evs = w.diff(&s(0, 5, 1, 1), &kill, 3);
        assert_eq!(evs[0].fields[0], ("reconciled_fills", 3u64.into()));
    }

    #[test]
    fn a_bounce_within_one_period_is_a_disconnect_and_a_connect() {
        let kill = KillSwitch::new(false);
        let mut w = OpsWatch::new(&kill);
        let s = |attempts, connected| {
            snap(vec![
                metric(WS_CONNECTS, None, attempts),
                metric(FEED_CONNECTED, None, connected),
            ])
        };
        // An attempt that has not connected yet: nothing; then the connect.
        assert!(w.diff(&s(1, 0), &kill, 1).is_empty());
        assert_eq!(kinds(&w.diff(&s(1, 1), &kill, 2)), ["feed_connected"]);
        // Dropped and back between two publishes: the attempt counter moved, the gauge not.
        assert_eq!(
            kinds(&w.diff(&s(2, 1), &kill, 3)),
            ["feed_disconnected", "feed_connected"]
        );
        // A reconnect seen in two halves is reported once, by the gauge.
        assert_eq!(kinds(&w.diff(&s(2, 0), &kill, 4)), ["feed_disconnected"]);
        assert_eq!(kinds(&w.diff(&s(3, 1), &kill, 5)), ["feed_connected"]);
    }

    #[test]
    fn a_venue_session_that_connects_drops_and_comes_back_within_one_period_shows_all_three() {
        let kill = KillSwitch::new(false);
        let mut w = OpsWatch::new(&kill);
        let s = |ready, drops| {
            snap(vec![
                metric(GATEWAY_READY, None, ready),
                metric(GATEWAY_RECONNECTS, None, drops),
            ])
        };
        // Up, dropped and up again before the first publish saw it up at all.
        assert_eq!(
            kinds(&w.diff(&s(1, 1), &kill, 1)),
            [
                "gateway_connected",
                "gateway_disconnected",
                "gateway_connected"
            ]
        );
        // Two more drops, each back, within one period.
        assert_eq!(
            kinds(&w.diff(&s(1, 3), &kill, 2)),
            [
                "gateway_disconnected",
                "gateway_connected",
                "gateway_disconnected",
                "gateway_connected"
            ]
        );
        // A drop seen down, then the session back: one event each.
        assert_eq!(kinds(&w.diff(&s(0, 4), &kill, 3)), ["gateway_disconnected"]);
        assert_eq!(kinds(&w.diff(&s(1, 4), &kill, 4)), ["gateway_connected"]);
        assert!(w.diff(&s(1, 4), &kill, 5).is_empty());
    }

    #[test]
    fn a_flatten_is_done_when_nothing_is_open() {
        let kill = KillSwitch::new(false);
        let mut w = OpsWatch::new(&kill);
        let open = |n| {
            snap(vec![
                metric(FLATTEN_OPEN, None, n),
                metric(FLATTEN_UNCLOSABLE, None, 0),
            ])
        };
        assert!(w.diff(&open(2), &kill, 1).is_empty());
        assert!(w.diff(&open(1), &kill, 2).is_empty());
        assert_eq!(kinds(&w.diff(&open(0), &kill, 3)), ["flatten_done"]);
        // Asked at 1 s with nothing to close: done once 300 ms have passed, once.
        w.flatten_asked(1_000_000_000);
        assert!(w.diff(&open(0), &kill, 1_100_000_000).is_empty());
        assert_eq!(
            kinds(&w.diff(&open(0), &kill, 1_300_000_000)),
            ["flatten_done"]
        );
        assert!(w.diff(&open(0), &kill, 1_400_000_000).is_empty());
        // Asked with something to close: done when it closes, not before.
        w.flatten_asked(2_000_000_000);
        assert!(w.diff(&open(1), &kill, 2_400_000_000).is_empty());
        assert_eq!(
            kinds(&w.diff(&open(0), &kill, 2_500_000_000)),
            ["flatten_done"]
        );
        assert!(w.diff(&open(0), &kill, 2_900_000_000).is_empty());
    }
}
