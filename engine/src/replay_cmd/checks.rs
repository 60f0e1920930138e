//! What `pulse replay --verify` holds a report to (see the module docs of
//! [`replay_cmd`](super)): checks made while a book was believed live agree, and every fault the
//! sync detected is followed by a completed resync.

use pulse_feeds::instrument::Venue;

use super::{InstrumentReport, Report};

/// Why `--verify` fails, one line per instrument with a problem; empty when all held. A
/// detected fault (a gap) fails only if the book never recovered from it: it ends not live.
///
/// An instrument whose capture holds no `bookTicker` at all (RUNEEUR in the 4-symbol capture)
/// cannot be checked against the venue; it is reported as unchecked, not failed, as long as some
/// other instrument was checked. Zero checks despite tickers is a failure: the check never ran.
/// Where the venue checksums its book (Kraken, OKX), every checksum is a check; one that
/// disagreed is a detected fault like a gap, and its tickers (which name no book update) are
/// never checked.
pub fn verify(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for i in &report.instruments {
        let mut why = Vec::new();
        let checks = i.ticker_check.ok + i.ticker_check.mismatch;
        if i.ticker_check.mismatch > 0 {
            why.push(format!(
                "{} of {checks} venue ticker(s) disagree with the rebuilt book",
                i.ticker_check.mismatch
            ));
        }
        if i.crossed > 0 {
            why.push(format!("book crossed at {} commit(s)", i.crossed));
        }
        if i.snapshots == 0 {
            why.push("never synced (no usable snapshot)".to_string());
        } else if i.book != "live" {
            let sums = match &i.checksum {
                Some(c) if c.mismatch > 0 => format!(
                    ", {} of {} venue checksum(s) disagreed",
                    c.mismatch,
                    c.ok + c.mismatch
                ),
                _ => String::new(),
            };
            why.push(format!(
                "{} update id gap(s){sums}, {} resync(s): the book is {} at the end (a fault \
                 never recovered)",
                i.gaps, i.resyncs, i.book
            ));
        }
        if i.tickers > 0 && checks == 0 && ticker_checkable(i) {
            why.push(format!(
                "none of its {} ticker(s) could be checked against the book",
                i.tickers
            ));
        }
        if !why.is_empty() {
            failures.push(format!("{} {}: {}", i.venue, i.symbol, why.join("; ")));
        }
    }
    let checks: u64 = report
        .instruments
        .iter()
        .map(InstrumentReport::checks)
        .sum();
    if checks == 0 && report.instruments.iter().any(ticker_checkable) {
        failures.push("the capture: no venue ticker could be checked at all".to_string());
    }
    failures
}

/// The faults the sync detected for the instrument: update id gaps and checksum mismatches.
pub(super) fn faults(i: &InstrumentReport) -> u64 {
    i.gaps + i.checksum.as_ref().map_or(0, |c| c.mismatch)
}

/// Whether the instrument's venue tickers can be held to the rebuilt book.
pub(super) fn ticker_checkable(i: &InstrumentReport) -> bool {
    !i.tardis && Venue::from_name(i.venue).is_some_and(Venue::ticker_names_book_update)
}
