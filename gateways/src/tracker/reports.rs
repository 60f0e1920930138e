//! Execution reports out to risk, and the net position they add up to.

use pulse_feeds::num::{Nanos, Qty};

use crate::order::{ExecKind, ExecReport, Order};

/// The reports ring and, per instrument, the net position reported so far (lots): the
/// adopted account plus every fill since.
pub struct Reports {
    out: rtrb::Producer<ExecReport>,
    positions: Vec<i64>,
}

impl Reports {
    pub fn new(out: rtrb::Producer<ExecReport>, instruments: usize) -> Reports {
        Reports {
            out,
            positions: vec![0; instruments],
        }
    }

    /// Free slots in the ring: a protocol takes a message or request only when the reports
    /// it may cause fit.
    pub fn room(&self) -> usize {
        self.out.slots()
    }

    pub fn emit(&mut self, order: &Order, kind: ExecKind, leaves: i64, ts: Nanos) {
        if let ExecKind::Fill { qty, .. } = kind {
            if let Some(p) = self.positions.get_mut(order.instrument.0 as usize) {
                *p += order.side.sign() * qty.0;
            }
        }
        let report = ExecReport {
            meta: order.meta,
            client_id: order.client_id,
            instrument: order.instrument,
            side: order.side,
            kind,
            leaves: Qty(leaves.max(0)),
            ts,
        };
        // Room was checked before the message or request that led here was taken.
        let _ = self.out.push(report);
    }

    /// The net position reported for each instrument, by index.
    pub fn positions(&self) -> &[i64] {
        &self.positions
    }

    pub fn position_mut(&mut self, instrument: usize) -> Option<&mut i64> {
        self.positions.get_mut(instrument)
    }
}
