//! Startup reconciliation: before any strategy runs, the venue says what the account holds
//! (positions, working orders) and risk takes it as the truth; what the journal says the
//! account held when the last session stopped is compared with it, and any difference
//! (a fill the engine never saw, an order lost or left behind) halts trading: the kill switch
//! is engaged until an operator has looked and runs `pulse rearm`. The halt is journaled
//! ([`crate::state`]), so it holds across restarts too: the next session agrees with
//! the journal (this one adopted the venue's view) and still starts halted.
//!
//! The journal's view comes from its output stream alone: each session starts with the
//! positions it adopted (ACCOUNT records) and the orders the venue still held (ORDER records);
//! the session's fills move the positions, and its orders leave the open set when they end.
//! A journal without a session (or no journal) has nothing to compare: the venue's word is
//! taken as it is.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use pulse_core::instrument::InstrumentRegistry;
use pulse_core::num::{Decimal, Px, Qty, Side};
use pulse_core::order::VenueAccount;
use pulse_journal::JournalReader;

use crate::decisions::{self, i128_at, i64_at, kind, u64_at};
use crate::position::Position;

/// The account as the journal left it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// Sessions in the journal.
    pub sessions: u64,
    pub positions: Vec<Position>,
    /// Client order id -> leaves, of the orders still working at the end.
    pub open: BTreeMap<u64, i64>,
}

/// Reads the output stream of the journal at `dir`; `None` when it has no session yet.
pub fn expected_from_journal(dir: &Path, instruments: usize) -> anyhow::Result<Option<Expected>> {
    if !dir.join(decisions::STREAM).exists() {
        return Ok(None);
    }
    let mut reader = JournalReader::open(dir, decisions::STREAM)
        .with_context(|| format!("cannot read the output journal in {}", dir.display()))?;
    let mut e = Expected {
        positions: vec![Position::default(); instruments],
        ..Expected::default()
    };
    while let Some(r) = reader.next().context("the output journal is unreadable")? {
        let p = r.payload;
        let instrument = |at: usize| {
            p.get(at..at + 2).map_or(usize::MAX, |b| {
                usize::from(u16::from_le_bytes([b[0], b[1]]))
            })
        };
        match r.kind {
            kind::SESSION => {
                e.sessions += 1;
                e.open.clear();
            }
            kind::ACCOUNT if p.len() == decisions::ACCOUNT_LEN => {
                if let Some(pos) = e.positions.get_mut(instrument(0)) {
                    let cost = i128_at(p, 16);
                    *pos = Position {
                        qty: Qty(i64_at(p, 8)),
                        cost,
                        ..Position::default()
                    };
                }
            }
            kind::ORDER if p.len() == decisions::ORDER_LEN => {
                e.open.insert(u64_at(p, 0), i64_at(p, 24));
            }
            kind::REPORT
                if matches!(
                    p.len(),
                    decisions::REPORT_LEN | decisions::REPORT_TEXT_ID_LEN
                ) =>
            {
                let id = u64_at(p, 0);
                let fee = i128_at(p, 32);
                let leaves = i64_at(p, 48);
                match p[11] {
                    // A fill: the position moves; the order ends with nothing left.
                    1 => {
                        let side = if p[10] == 0 { Side::Buy } else { Side::Sell };
                        if let Some(pos) = e.positions.get_mut(instrument(8)) {
                            pos.apply_fill(side, Px(i64_at(p, 16)), Qty(i64_at(p, 24)), fee);
                        }
                        if leaves == 0 {
                            e.open.remove(&id);
                        } else if let Some(l) = e.open.get_mut(&id) {
                            *l = leaves;
                        }
                    }
                    // Expired, rejected, cancelled.
                    2..=4 => {
                        e.open.remove(&id);
                    }
                    8 => {
                        if let Some(pos) = e.positions.get_mut(instrument(8)) {
                            pos.apply_funding(fee);
                        }
                    }
                    // A liquidation: the position moves as by a fill of no order.
                    9 => {
                        let side = if p[10] == 0 { Side::Buy } else { Side::Sell };
                        if let Some(pos) = e.positions.get_mut(instrument(8)) {
                            pos.apply_fill(side, Px(i64_at(p, 16)), Qty(i64_at(p, 24)), fee);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok((e.sessions > 0).then_some(e))
}

/// One difference between the journal and the venue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    Position {
        instrument: usize,
        journal: Qty,
        venue: Qty,
    },
    /// Working when the journal ended, unknown to the venue now.
    OrderLost { client_id: u64 },
    /// Working at the venue, unknown to the journal (or with other leaves).
    OrderUnknown { client_id: u64 },
}

/// The outcome, for the operator.
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    /// Sessions the journal held before this one (0: nothing to compare with).
    pub previous_sessions: u64,
    pub mismatches: Vec<Mismatch>,
    /// Positions and orders taken from the venue.
    pub venue_positions: Vec<Qty>,
    pub venue_open: usize,
}

impl Reconciliation {
    /// Whether trading must wait for an operator.
    pub fn halts(&self) -> bool {
        !self.mismatches.is_empty()
    }

    /// One line for the summary and stderr.
    pub fn describe(&self, instruments: &InstrumentRegistry) -> String {
        let symbol = |i: usize| {
            instruments
                .iter()
                .nth(i)
                .map_or_else(|| format!("#{i}"), |inst| inst.symbol.clone())
        };
        let scale = |i: usize| instruments.iter().nth(i).map_or(0, |inst| inst.qty_scale);
        if self.halts() {
            let what: Vec<String> = self
                .mismatches
                .iter()
                .map(|m| match m {
                    Mismatch::Position {
                        instrument,
                        journal,
                        venue,
                    } => format!(
                        "{} position {} in the journal, {} at the venue",
                        symbol(*instrument),
                        Decimal::new(journal.0, scale(*instrument)),
                        Decimal::new(venue.0, scale(*instrument))
                    ),
                    Mismatch::OrderLost { client_id } => {
                        format!("order {client_id} working in the journal, not at the venue")
                    }
                    Mismatch::OrderUnknown { client_id } => {
                        format!("order {client_id} working at the venue, not in the journal")
                    }
                })
                .collect();
            return format!(
                "MISMATCH with the journal: {}; trading halted until `pulse rearm`",
                what.join("; ")
            );
        }
        let held: Vec<String> = self
            .venue_positions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.0 != 0)
            .map(|(i, q)| format!("{} {}", symbol(i), Decimal::new(q.0, scale(i))))
            .collect();
        let held = if held.is_empty() {
            "flat".to_owned()
        } else {
            held.join(", ")
        };
        let versus = if self.previous_sessions == 0 {
            "first session".to_owned()
        } else {
            format!(
                "matches the journal's last of {} session(s)",
                self.previous_sessions
            )
        };
        format!("{versus}: venue {held}, {} open order(s)", self.venue_open)
    }
}

/// Compares the journal's account with the venue's.
pub fn reconcile(expected: Option<&Expected>, venue: &VenueAccount) -> Reconciliation {
    let mut r = Reconciliation {
        previous_sessions: expected.map_or(0, |e| e.sessions),
        venue_positions: venue.positions.clone(),
        venue_open: venue.open.len(),
        mismatches: Vec::new(),
    };
    let Some(e) = expected else {
        return r;
    };
    for (i, venue_qty) in venue.positions.iter().enumerate() {
        let journal = e.positions.get(i).map_or(Qty(0), |p| p.qty);
        if journal != *venue_qty {
            r.mismatches.push(Mismatch::Position {
                instrument: i,
                journal,
                venue: *venue_qty,
            });
        }
    }
    for (&client_id, &leaves) in &e.open {
        if !venue.open.iter().any(|o| o.order.client_id.0 == client_id) {
            r.mismatches.push(Mismatch::OrderLost { client_id });
        } else if !venue
            .open
            .iter()
            .any(|o| o.order.client_id.0 == client_id && o.leaves.0 == leaves)
        {
            r.mismatches.push(Mismatch::OrderUnknown { client_id });
        }
    }
    for o in &venue.open {
        if !e.open.contains_key(&o.order.client_id.0) {
            r.mismatches.push(Mismatch::OrderUnknown {
                client_id: o.order.client_id.0,
            });
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::event::EventMeta;
    use pulse_core::num::InstrumentId;
    use pulse_core::order::OpenOrder;
    use pulse_core::order::{ClientOrderId, Order, TimeInForce};

    fn open(id: u64, leaves: i64) -> OpenOrder {
        OpenOrder {
            order: Order {
                meta: EventMeta::default(),
                client_id: ClientOrderId(id),
                instrument: InstrumentId(0),
                side: Side::Buy,
                px: Px(100),
                qty: Qty(10),
                tif: TimeInForce::Gtc,
            },
            leaves: Qty(leaves),
        }
    }

    #[test]
    fn every_difference_is_named_and_agreement_halts_nothing() {
        let mut e = Expected {
            sessions: 2,
            positions: vec![Position::default(); 2],
            open: BTreeMap::from([(7, 10), (8, 4)]),
        };
        e.positions[0].qty = Qty(5);
        let venue = VenueAccount {
            positions: vec![Qty(5), Qty(0)],
            open: vec![open(7, 10), open(8, 4)],
        };
        let agreed = reconcile(Some(&e), &venue);
        assert!(!agreed.halts(), "{:?}", agreed.mismatches);
        let venue = VenueAccount {
            positions: vec![Qty(3), Qty(0)],
            open: vec![open(8, 3), open(9, 1)],
        };
        assert_eq!(
            reconcile(Some(&e), &venue).mismatches,
            [
                Mismatch::Position {
                    instrument: 0,
                    journal: Qty(5),
                    venue: Qty(3)
                },
                Mismatch::OrderLost { client_id: 7 },
                Mismatch::OrderUnknown { client_id: 8 },
                Mismatch::OrderUnknown { client_id: 9 },
            ]
        );
        // No journal: the venue's word is taken.
        assert!(!reconcile(None, &venue).halts());
    }
}
