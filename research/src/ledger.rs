//! The run's books: equity on the grid, round trips, and every order with its outcome and
//! slippage. Fills are applied in the order the venue reported them (venue time never goes
//! back); a fill at a grid time counts in that grid time's equity.

use std::collections::BTreeMap;

use crate::model::{Run, Side, Window};

/// One grid time of the equity curve.
#[derive(Clone, Debug, PartialEq)]
pub struct EquityRow {
    pub ts: u64,
    /// Capital + cash of every fill (fees paid) + positions valued at the mid.
    pub equity: f64,
    /// Simple return since the previous row (0 for the first).
    pub ret: f64,
    /// Equity over its running peak, minus 1 (0 at a peak, negative below it).
    pub drawdown: f64,
    /// Sum of |position| x mid over the instruments.
    pub gross_exposure: f64,
    /// Per instrument: position (base units) and mid (NaN before its first book).
    pub positions: Vec<f64>,
    pub mids: Vec<f64>,
    /// Per instrument: the cash of its fills (fees paid) plus its position at the mid.
    pub values: Vec<f64>,
}

/// A round trip: an instrument's position from flat back to flat (a fill that flips the
/// position closes one and opens the next with the rest of its quantity).
#[derive(Clone, Debug, PartialEq)]
pub struct RoundTrip {
    pub instrument: usize,
    /// `long` or `short`.
    pub direction: &'static str,
    pub open_ts: u64,
    pub close_ts: u64,
    /// The largest |position| it reached.
    pub max_qty: f64,
    pub entry_vwap: f64,
    pub exit_vwap: f64,
    /// Fees paid by its fills (their shares of a flipping fill).
    pub fees: f64,
    /// Cash in minus cash out, fees paid.
    pub pnl: f64,
    /// Origin of the order that opened it.
    pub led_by: String,
    pub fills: u64,
}

/// An order and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRow {
    pub client_id: u64,
    pub intent: u64,
    pub ts: u64,
    pub instrument: usize,
    pub side: Side,
    pub tif: String,
    pub px: f64,
    pub qty: f64,
    pub origin: String,
    pub confidence: f64,
    /// `filled`, `partially_filled`, `expired`, `cancelled`, `rejected`, `unknown` or
    /// `working` (still open at the end).
    pub outcome: &'static str,
    pub filled_qty: f64,
    pub avg_px: f64,
    pub fees: f64,
    pub maker_qty: f64,
    pub arrival_mid: f64,
    /// Implementation shortfall against the arrival mid, bps: what the fills paid over the
    /// mid (a buy above it, a sell below it) is positive. NaN when unfilled or no mid.
    pub slippage_bps: f64,
}

pub struct Ledger {
    pub equity: Vec<EquityRow>,
    pub round_trips: Vec<RoundTrip>,
    /// Open at the end, marked at the last mid (not in the trade statistics).
    pub open_trips: Vec<RoundTrip>,
    pub orders: Vec<OrderRow>,
}

struct Open {
    trip: RoundTrip,
    entry_notional: f64,
    entry_qty: f64,
    exit_notional: f64,
    exit_qty: f64,
}

impl Ledger {
    /// The ledger of the window only: the curve from the last grid time before it (its
    /// starting value) through the grid times in it, returns and drawdown taken afresh; round
    /// trips that closed in it; orders sent in it. The run itself went on from its start, so
    /// books and indicators were warm and a position held into the window is valued from it.
    pub fn window(&self, w: Window) -> Ledger {
        let start = self.equity.iter().rposition(|r| r.ts < w.from).unwrap_or(0);
        let mut equity: Vec<EquityRow> = self.equity[start..]
            .iter()
            .filter(|r| r.ts <= w.to)
            .cloned()
            .collect();
        let mut peak = f64::NEG_INFINITY;
        let mut prev: Option<f64> = None;
        for r in &mut equity {
            peak = peak.max(r.equity);
            r.drawdown = r.equity / peak - 1.0;
            r.ret = prev.map_or(0.0, |p| r.equity / p - 1.0);
            prev = Some(r.equity);
        }
        Ledger {
            equity,
            round_trips: self
                .round_trips
                .iter()
                .filter(|t| w.holds(t.close_ts))
                .cloned()
                .collect(),
            open_trips: self.open_trips.clone(),
            orders: self
                .orders
                .iter()
                .filter(|o| w.holds(o.ts))
                .cloned()
                .collect(),
        }
    }

    pub fn build(run: &Run) -> Ledger {
        let orders = orders(run);
        let origin_of: BTreeMap<u64, &str> = orders
            .iter()
            .map(|o| (o.client_id, o.origin.as_str()))
            .collect();
        let (round_trips, open_trips) = round_trips(run, &origin_of);
        Ledger {
            equity: equity(run),
            round_trips,
            open_trips,
            orders,
        }
    }
}

fn equity(run: &Run) -> Vec<EquityRow> {
    let n = run.instruments.len();
    let mut cash = 0.0;
    let mut pos = vec![0.0; n];
    let mut last_px = vec![f64::NAN; n];
    let mut mids = vec![f64::NAN; n];
    let mut fills = run.fills.iter().peekable();
    let mut fundings = run.fundings.iter().peekable();
    let mut cash_of = vec![0.0; n];
    // The curve starts at the first market event with the capital and nothing done.
    let mut rows: Vec<EquityRow> = Vec::new();
    if run.marks.first().is_some_and(|m| m.ts > run.start_ts) {
        rows.push(EquityRow {
            ts: run.start_ts,
            equity: run.capital,
            ret: 0.0,
            drawdown: 0.0,
            gross_exposure: 0.0,
            positions: vec![0.0; n],
            mids: vec![f64::NAN; n],
            values: vec![0.0; n],
        });
    }
    let mut peak = run.capital;
    let mut marks = run.marks.iter().peekable();
    while let Some(first) = marks.peek() {
        let ts = first.ts;
        while let Some(m) = marks.next_if(|m| m.ts == ts) {
            if let Some(mid) = mids.get_mut(m.instrument) {
                *mid = m.mid();
            }
        }
        while let Some(f) = fills.next_if(|f| f.ts <= ts) {
            let signed = f.side.sign() * f.qty;
            cash -= signed * f.px + f.fee;
            if let Some(c) = cash_of.get_mut(f.instrument) {
                *c -= signed * f.px + f.fee;
            }
            if let Some(p) = pos.get_mut(f.instrument) {
                *p += signed;
            }
            if let Some(px) = last_px.get_mut(f.instrument) {
                *px = f.px;
            }
        }
        while let Some(f) = fundings.next_if(|f| f.ts <= ts) {
            cash -= f.amount;
            if let Some(c) = cash_of.get_mut(f.instrument) {
                *c -= f.amount;
            }
        }
        let mut value = 0.0;
        let mut gross = 0.0;
        let mut values = cash_of.clone();
        for i in 0..n {
            if pos[i] != 0.0 {
                let px = if mids[i].is_nan() {
                    last_px[i]
                } else {
                    mids[i]
                };
                value += pos[i] * px;
                gross += (pos[i] * px).abs();
                values[i] += pos[i] * px;
            }
        }
        let equity = run.capital + cash + value;
        peak = peak.max(equity);
        let ret = rows.last().map_or(0.0, |r| equity / r.equity - 1.0);
        rows.push(EquityRow {
            ts,
            equity,
            ret,
            drawdown: equity / peak - 1.0,
            gross_exposure: gross,
            positions: pos.clone(),
            mids: mids.clone(),
            values,
        });
    }
    rows
}

fn round_trips(run: &Run, origin_of: &BTreeMap<u64, &str>) -> (Vec<RoundTrip>, Vec<RoundTrip>) {
    let n = run.instruments.len();
    let mut pos = vec![0.0f64; n];
    let mut open: Vec<Option<Open>> = (0..n).map(|_| None).collect();
    let mut done = Vec::new();
    for f in &run.fills {
        let Some(p) = pos.get_mut(f.instrument) else {
            continue;
        };
        let mut qty = f.qty;
        let sign = f.side.sign();
        while qty > 0.0 {
            let slot = &mut open[f.instrument];
            let trip = slot.get_or_insert_with(|| Open {
                trip: RoundTrip {
                    instrument: f.instrument,
                    direction: if sign > 0.0 { "long" } else { "short" },
                    open_ts: f.ts,
                    close_ts: f.ts,
                    max_qty: 0.0,
                    entry_vwap: f64::NAN,
                    exit_vwap: f64::NAN,
                    fees: 0.0,
                    pnl: 0.0,
                    led_by: origin_of
                        .get(&f.client_id)
                        .unwrap_or(&"unknown")
                        .to_string(),
                    fills: 0,
                },
                entry_notional: 0.0,
                entry_qty: 0.0,
                exit_notional: 0.0,
                exit_qty: 0.0,
            });
            let adding = *p == 0.0 || (*p > 0.0) == (sign > 0.0);
            let take = if adding { qty } else { qty.min(p.abs()) };
            let share = take / f.qty;
            let fee = f.fee * share;
            trip.trip.fees += fee;
            trip.trip.pnl -= sign * take * f.px + fee;
            trip.trip.fills += 1;
            trip.trip.close_ts = f.ts;
            if adding {
                trip.entry_notional += take * f.px;
                trip.entry_qty += take;
            } else {
                trip.exit_notional += take * f.px;
                trip.exit_qty += take;
            }
            *p += sign * take;
            // A position back within a billionth of a lot of zero is flat.
            if !adding && p.abs() <= take * 1e-12 {
                *p = 0.0;
            }
            trip.trip.max_qty = trip.trip.max_qty.max(p.abs());
            qty -= take;
            if *p == 0.0 {
                if let Some(t) = slot.take() {
                    done.push(finish(t));
                }
            }
        }
    }
    let mut still = Vec::new();
    let last_mid = last_mids(run);
    for (i, t) in open.into_iter().enumerate() {
        if let Some(t) = t {
            let mut trip = finish(t);
            // Marked at the last mid: what closing there, without fees, would realize.
            trip.pnl += pos[i] * last_mid[i];
            still.push(trip);
        }
    }
    (done, still)
}

fn finish(t: Open) -> RoundTrip {
    let mut trip = t.trip;
    trip.entry_vwap = t.entry_notional / t.entry_qty;
    if t.exit_qty > 0.0 {
        trip.exit_vwap = t.exit_notional / t.exit_qty;
    }
    trip
}

fn last_mids(run: &Run) -> Vec<f64> {
    let mut mids = vec![f64::NAN; run.instruments.len()];
    for m in &run.marks {
        if let Some(x) = mids.get_mut(m.instrument) {
            *x = m.mid();
        }
    }
    mids
}

fn orders(run: &Run) -> Vec<OrderRow> {
    let intents: BTreeMap<u64, _> = run.intents.iter().map(|i| (i.no, i)).collect();
    let intent_of: BTreeMap<u64, u64> = run
        .decisions
        .iter()
        .filter(|d| d.rejected.is_none() && d.client_id != 0)
        .map(|d| (d.client_id, d.intent))
        .collect();
    let arrival: BTreeMap<u64, f64> = run
        .arrivals
        .iter()
        .filter_map(|a| Some((a.client_id, a.mid?)))
        .collect();
    let mut fills: BTreeMap<u64, (f64, f64, f64, f64)> = BTreeMap::new();
    for f in &run.fills {
        let e = fills.entry(f.client_id).or_default();
        e.0 += f.qty;
        e.1 += f.qty * f.px;
        e.2 += f.fee;
        if f.maker {
            e.3 += f.qty;
        }
    }
    let mut last_event: BTreeMap<u64, &str> = BTreeMap::new();
    for e in &run.events {
        if e.kind != "ack" && e.kind != "status" && e.kind != "cancel_rejected" {
            last_event.insert(e.client_id, e.kind.as_str());
        }
    }
    run.orders
        .iter()
        .map(|o| {
            let intent_no = intent_of.get(&o.client_id).copied().unwrap_or(0);
            let intent = intents.get(&intent_no);
            let (filled, notional, fees, maker) =
                fills.get(&o.client_id).copied().unwrap_or_default();
            let full = filled > 0.0 && (o.qty - filled).abs() <= o.qty * 1e-12;
            let outcome = match (last_event.get(&o.client_id).copied(), filled > 0.0) {
                _ if full => "filled",
                (Some("expired" | "cancelled"), true) => "partially_filled",
                (Some("expired"), false) => "expired",
                (Some("cancelled"), false) => "cancelled",
                (Some("rejected"), _) => "rejected",
                (Some("outcome_unknown"), _) => "unknown",
                _ => "working",
            };
            let avg_px = if filled > 0.0 {
                notional / filled
            } else {
                f64::NAN
            };
            let mid = arrival.get(&o.client_id).copied().unwrap_or(f64::NAN);
            OrderRow {
                client_id: o.client_id,
                intent: intent_no,
                ts: o.ts,
                instrument: o.instrument,
                side: o.side,
                tif: o.tif.clone(),
                px: o.px,
                qty: o.qty,
                origin: intent.map_or("unknown".into(), |i| i.origin.clone()),
                confidence: intent.map_or(f64::NAN, |i| i.confidence),
                outcome,
                filled_qty: filled,
                avg_px,
                fees,
                maker_qty: maker,
                arrival_mid: mid,
                slippage_bps: o.side.sign() * (avg_px - mid) / mid * 1e4,
            }
        })
        .collect()
}
