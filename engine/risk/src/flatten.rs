//! Closing a position in slices: the pure planner behind every order the engine makes itself
//! (exits and flatten), and what a flatten reports per instrument.
//!
//! A slice is one marketable limit order against the position: the opposite side, as much
//! as one order may carry (at most `max_order_qty`, at most `max_order_notional` at its
//! price, floored to the lot, never more than the position), priced at the edge of the
//! price collar around the mid so that it takes liquidity without leaving the collar: a buy
//! at `mid * (1 + collar)` rounded down to the tick, a sell at `mid * (1 - collar)` rounded
//! up. The risk stage sends one slice at a time per instrument and plans the next from what
//! is left once the previous one ends, filled or not; a series of filled slices ends flat,
//! or with a remainder smaller than one lot ([`Unclosable::BelowLot`]).

use pulse_core::event::BookState;
use pulse_core::instrument::Instrument;
use pulse_core::intent::RejectReason;
use pulse_core::num::{InstrumentId, Nanos, Px, Qty, Side};

use crate::checks::Reference;
use crate::limits::InstrumentLimits;

/// What a slice may be: the instrument's order limits, lot, tick and collar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceLimits {
    pub collar_bps: u32,
    pub max_order_qty: Qty,
    /// At the instrument's notional scale.
    pub max_order_notional: i128,
    pub lot: Qty,
    pub tick: Px,
}

impl SliceLimits {
    pub fn of(instrument: &Instrument, limits: &InstrumentLimits) -> SliceLimits {
        SliceLimits {
            collar_bps: limits.price_collar_bps,
            max_order_qty: limits.max_order_qty,
            max_order_notional: limits.max_order_notional,
            lot: instrument.lot,
            tick: instrument.tick,
        }
    }
}

/// One order against a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    pub side: Side,
    pub qty: Qty,
    pub px: Px,
}

/// Why a position cannot be closed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unclosable {
    /// No mid price at all yet.
    NoReference,
    /// The book is stale or crossed.
    BookNotLive,
    /// The mid is older than the instrument's `max_ref_age`.
    ReferenceStale,
    /// The order limits (quantity, or notional at the slice's price) allow less than a lot.
    LotTooLarge,
    /// What is left is smaller than one lot: no order can carry it.
    BelowLot,
    /// No price on the tick grid lies inside the collar on the marketable side.
    CollarTooTight,
    /// The slice was planned but the checks refused it (the kill switch, the throttle...).
    Rejected(RejectReason),
}

impl Unclosable {
    pub fn name(self) -> &'static str {
        match self {
            Unclosable::NoReference => "no_reference",
            Unclosable::BookNotLive => "book_not_live",
            Unclosable::ReferenceStale => "reference_stale",
            Unclosable::LotTooLarge => "lot_too_large",
            Unclosable::BelowLot => "below_lot",
            Unclosable::CollarTooTight => "collar_too_tight",
            Unclosable::Rejected(reason) => reason.name(),
        }
    }
}

/// The next step closing a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Flat,
    Slice(Slice),
    Unclosable(Unclosable),
}

/// The mid a slice may be priced from at market time `now`: a live book's, no older than
/// `max_ref_age`.
pub fn fresh_mid(
    reference: Option<Reference>,
    now: Nanos,
    max_ref_age: Nanos,
) -> Result<Px, Unclosable> {
    let r = reference.ok_or(Unclosable::NoReference)?;
    if r.state != BookState::Live {
        return Err(Unclosable::BookNotLive);
    }
    let mid = r.mid.filter(|m| m.0 > 0).ok_or(Unclosable::NoReference)?;
    if now.saturating_sub(r.ts) > max_ref_age {
        return Err(Unclosable::ReferenceStale);
    }
    Ok(mid)
}

/// The next slice closing `position` at `mid` (see the module doc).
pub fn plan_slice(position: Qty, mid: Px, l: &SliceLimits) -> Plan {
    let (lot, tick) = (i128::from(l.lot.0.max(1)), i128::from(l.tick.0.max(1)));
    let (m, collar) = (i128::from(mid.0), i128::from(l.collar_bps));
    if position.0 == 0 {
        return Plan::Flat;
    }
    if m <= 0 {
        return Plan::Unclosable(Unclosable::NoReference);
    }
    let side = if position.0 > 0 {
        Side::Sell
    } else {
        Side::Buy
    };
    let px = match side {
        Side::Buy => {
            let edge = m * (10_000 + collar) / 10_000;
            edge - edge.rem_euclid(tick)
        }
        Side::Sell => {
            let edge = (m * (10_000 - collar) + 9_999).div_euclid(10_000);
            edge + (tick - edge.rem_euclid(tick)) % tick
        }
    };
    if px <= 0 || (px - m).abs() * 10_000 > collar * m {
        return Plan::Unclosable(Unclosable::CollarTooTight);
    }
    let left = i128::from(position.0).abs();
    let by_notional = l.max_order_notional.max(0) / px;
    let most = left.min(i128::from(l.max_order_qty.0)).min(by_notional);
    let qty = most - most.rem_euclid(lot);
    if qty < lot {
        let reason = if left < lot {
            Unclosable::BelowLot
        } else {
            Unclosable::LotTooLarge
        };
        return Plan::Unclosable(reason);
    }
    // Both fit an i64: qty <= |position|, px <= mid * (1 + collar) rounded down.
    Plan::Slice(Slice {
        side,
        qty: Qty(qty as i64),
        px: Px(px as i64),
    })
}

/// How a flatten of one instrument stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlattenOutcome {
    /// No flatten asked for since the start.
    #[default]
    Idle,
    /// Cancelling the instrument's working orders, or slices going out.
    InProgress,
    /// The position is flat.
    Closed,
    /// Not closed, for this reason (tried again on every mid, and after a rejection no more
    /// often than the exits' retry interval).
    Unclosable(Unclosable),
}

/// One instrument's flatten, as [`crate::stage::RiskStage::flatten_status`] shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlattenState {
    pub instrument: InstrumentId,
    pub outcome: FlattenOutcome,
}

#[cfg(test)]
mod tests;
