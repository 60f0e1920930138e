//! Where the simulated venue's derivatives instruments meet its order book: settings, the
//! margin refusal of new orders, the margin account's part in every fill, and the funding
//! and liquidation a market event can bring ([`super::derivatives`]).

use pulse_feeds::event::EventMeta;
use pulse_feeds::num::{InstrumentId, Px, Qty, Side};

use super::derivatives::{Derivatives, DerivativesSim, SimMargin};
use super::SimVenue;
use crate::order::{ClientOrderId, ExecKind, ExecReport, Order};

impl SimVenue {
    /// `instrument` trades as a perpetual with isolated margin ([`super::derivatives`]).
    /// Refused for an instrument the venue does not have, a leverage its first tier does not
    /// allow, or a funding interval of zero.
    pub fn with_derivatives(
        mut self,
        instrument: InstrumentId,
        settings: DerivativesSim,
    ) -> Result<SimVenue, String> {
        let slot = self
            .derivatives
            .get_mut(instrument.0 as usize)
            .ok_or_else(|| format!("no instrument {} on the simulated venue", instrument.0))?;
        *slot = Some(Derivatives::new(settings)?);
        Ok(self)
    }

    /// The margin account of a derivatives instrument.
    pub fn margin(&self, instrument: InstrumentId) -> Option<SimMargin> {
        self.derivatives
            .get(instrument.0 as usize)?
            .as_ref()
            .map(Derivatives::margin)
    }

    /// Whether a derivatives instrument's margin refuses `order` (see
    /// [`super::derivatives`]).
    pub(super) fn margin_refuses(&self, order: &Order) -> bool {
        let i = order.instrument.0 as usize;
        match (self.derivatives.get(i), self.positions.get(i)) {
            (Some(Some(d)), Some(&pos)) => {
                d.refuses(pos, order.side.sign() * order.qty.0, order.px)
            }
            _ => false,
        }
    }

    /// A market event of instrument `i` (with its new mark, for a live book): funding due
    /// since the last one, then liquidation if the mark has reached the liquidation price.
    /// At most two reports, plus one expiry per resting order of the instrument.
    pub(super) fn on_derivatives(
        &mut self,
        i: usize,
        meta: EventMeta,
        mark: Option<Px>,
        emit: &mut impl FnMut(ExecReport),
    ) {
        let (Some(Some(d)), Some(pos)) = (self.derivatives.get_mut(i), self.positions.get_mut(i))
        else {
            return;
        };
        let report = |side, kind| ExecReport {
            meta,
            client_id: ClientOrderId(0),
            instrument: meta.instrument,
            side,
            kind,
            leaves: Qty(0),
            ts: meta.recv_ts,
        };
        let held = if *pos >= 0 { Side::Buy } else { Side::Sell };
        if let Some(amount) = d.on_time(*pos, meta.recv_ts, mark) {
            self.counters.fundings += 1;
            emit(report(held, ExecKind::Funding { amount }));
        }
        if mark.is_none() {
            return;
        }
        let Some(l) = d.liquidate(*pos) else {
            return;
        };
        *pos = 0;
        self.counters.liquidations += 1;
        // The venue cancels the position's orders before it liquidates.
        for slot in self.resting.iter_mut() {
            let Some(r) = slot.filter(|r| r.order.instrument == meta.instrument) else {
                continue;
            };
            *slot = None;
            self.counters.expired += 1;
            emit(ExecReport {
                client_id: r.order.client_id,
                ..report(r.order.side, ExecKind::Expired)
            });
        }
        emit(report(
            l.side,
            ExecKind::Liquidation {
                px: l.px,
                qty: l.qty,
                fee: l.fee,
            },
        ));
    }
}

/// A fill's effect on the venue's side of the account: the position, and the margin account of
/// a derivatives instrument.
pub(super) fn book_fill(
    positions: &mut [i64],
    derivatives: &mut [Option<Derivatives>],
    instrument: InstrumentId,
    side: Side,
    fill: &ExecKind,
) {
    let ExecKind::Fill { px, qty, fee, .. } = *fill else {
        return;
    };
    let i = instrument.0 as usize;
    let Some(p) = positions.get_mut(i) else {
        return;
    };
    if let Some(Some(d)) = derivatives.get_mut(i) {
        d.on_fill(*p, side, px, qty.0, fee);
    }
    *p += side.sign() * qty.0;
}
