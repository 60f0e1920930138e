//! The risk stage's end of the portfolio stage: once per sampling interval of market time it
//! sends a [`Snapshot`] of the account (every mark, every exposure, the equity), and it takes
//! the [`PublishedRisk`] figures the portfolio stage sends back, journaling each before any
//! decision reads it. Both rings are SPSC; nothing here waits for the other stage, and the
//! figures a decision reads are simply the latest to have arrived.

use pulse_core::num::Nanos;

use crate::account::Account;
use crate::decisions::OutputJournal;
use crate::figures_record::FiguresRecord;
use crate::published::{PublishedRisk, MAX_BOOK_INSTRUMENTS};

/// The account at the close of one sampling interval. Prices are mantissas as `f64` (returns
/// only need their ratios); money is in the account currency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snapshot {
    /// The end of the interval: every mark in it was seen before.
    pub at: Nanos,
    /// 0 where an instrument has no mark yet.
    pub mids: [f64; MAX_BOOK_INSTRUMENTS],
    /// Signed: position at its mark.
    pub exposures: [f64; MAX_BOOK_INSTRUMENTS],
    pub equity: f64,
}

impl Snapshot {
    /// The account as it stands, at the end of the interval ending at `at`.
    pub fn of(account: &Account, at: Nanos) -> Snapshot {
        let mut s = Snapshot {
            at,
            mids: [0.0; MAX_BOOK_INSTRUMENTS],
            exposures: [0.0; MAX_BOOK_INSTRUMENTS],
            equity: account.equity() as f64 / ACCOUNT_UNIT,
        };
        for (i, a) in account
            .instruments()
            .iter()
            .take(MAX_BOOK_INSTRUMENTS)
            .enumerate()
        {
            let Some(mark) = a.mark else {
                continue;
            };
            let qty = i128::from(a.position.qty.0);
            let sign = if qty < 0 { -1.0 } else { 1.0 };
            s.mids[i] = mark.0 as f64;
            s.exposures[i] = sign * account.notional_wide(i, mark, qty) as f64 / ACCOUNT_UNIT;
        }
        s
    }
}

const ACCOUNT_UNIT: f64 = 1e12;

/// The two rings, as the risk stage holds them.
pub struct PortfolioLink {
    snapshots: rtrb::Producer<Snapshot>,
    figures: rtrb::Consumer<PublishedRisk>,
    interval: Nanos,
    /// The sampling interval (index) of the last mark seen.
    slot: Option<u64>,
    /// A snapshot that found the ring full, sent with the next one that fits.
    pending: Option<Snapshot>,
    latest: PublishedRisk,
    /// Snapshots that never found room (the portfolio stage fell behind): counted, and the
    /// next one carries the account as it then stands.
    pub dropped: u64,
}

impl PortfolioLink {
    pub fn new(
        snapshots: rtrb::Producer<Snapshot>,
        figures: rtrb::Consumer<PublishedRisk>,
        interval: Nanos,
    ) -> PortfolioLink {
        PortfolioLink {
            snapshots,
            figures,
            interval: Nanos(interval.0.max(1)),
            slot: None,
            pending: None,
            latest: PublishedRisk::default(),
            dropped: 0,
        }
    }

    /// Before a mark at `at` is applied: when it opens a new interval, the account as it
    /// stood at the end of the last one goes to the portfolio stage.
    pub fn before_mark(&mut self, account: &Account, at: Nanos) {
        let slot = at.0 / self.interval.0;
        match self.slot {
            Some(last) if slot > last => {
                let end = Nanos((last + 1).saturating_mul(self.interval.0));
                self.send(Snapshot::of(account, end));
            }
            _ => {}
        }
        self.slot = Some(self.slot.map_or(slot, |last| last.max(slot)));
    }

    fn send(&mut self, snapshot: Snapshot) {
        if let Some(waiting) = self.pending.take() {
            if self.snapshots.push(waiting).is_err() {
                self.dropped += 1;
            }
        }
        if self.snapshots.push(snapshot).is_err() {
            self.pending = Some(snapshot);
        }
    }

    /// Takes the newest figures that arrived, journaling each: true when there were any.
    pub fn take(&mut self, journal: &mut Option<OutputJournal>) -> bool {
        let mut any = false;
        while let Ok(f) = self.figures.pop() {
            if let Some(journal) = journal {
                journal.risk_figures(f.at, &FiguresRecord::of(&f).encode());
            }
            self.latest = f;
            any = true;
        }
        any
    }

    pub fn latest(&self) -> &PublishedRisk {
        &self.latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::instrument::{InstrumentRegistry, Venue};
    use pulse_core::num::{Px, Qty, Side};
    use rtrb::RingBuffer;

    #[test]
    fn one_snapshot_per_interval_with_marks_and_signed_exposures() {
        let mut reg = InstrumentRegistry::new();
        reg.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1_000))
            .unwrap();
        reg.add(Venue::Binance, "ETHUSDT", 2, 8, Px(1), Qty(1_000))
            .unwrap();
        let mut account = Account::new(10_000 * 10i128.pow(12), &reg);
        let (tx, mut rx) = RingBuffer::new(4);
        let (_ftx, frx) = RingBuffer::new(2);
        let mut link = PortfolioLink::new(tx, frx, Nanos::from_millis(1_000));
        let sec = |s: f64| Nanos((s * 1e9) as u64);
        link.before_mark(&account, sec(0.5));
        account.on_mark(0, Px(6_000_000), sec(0.5));
        // Short 0.1 BTC at 60,000.
        account.on_fill(0, Side::Sell, Px(6_000_000), Qty(10_000_000), 0);
        link.before_mark(&account, sec(0.9));
        account.on_mark(1, Px(300_000), sec(0.9));
        assert!(rx.pop().is_err(), "nothing before the interval ends");
        link.before_mark(&account, sec(3.2));
        let s = rx.pop().unwrap();
        assert_eq!(s.at, sec(1.0));
        assert_eq!((s.mids[0], s.mids[1]), (6_000_000.0, 300_000.0));
        assert_eq!((s.exposures[0], s.exposures[1]), (-6_000.0, 0.0));
        assert_eq!(s.equity, 10_000.0);
        // The gap (intervals 1 and 2 had no mark) sends nothing more; the next one does.
        link.before_mark(&account, sec(3.7));
        assert!(rx.pop().is_err());
        link.before_mark(&account, sec(4.0));
        assert_eq!(rx.pop().unwrap().at, sec(4.0));
    }
}
