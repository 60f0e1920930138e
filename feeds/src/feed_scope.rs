//! What one feed of several in a process keeps: the books it serves, and the labels that keep
//! its metrics apart from the other feeds'.

use crate::metrics::{Metric, MetricLabel};
use crate::num::InstrumentId;

/// The scope of one feed: by default (the only feed of a process) every book, and metrics as
/// they are reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedScope {
    /// By instrument: whether this feed keeps its book (empty: every instrument).
    serves: Vec<bool>,
    /// The source's name, labelling the feed's unlabelled metrics (`source = name`).
    name: Option<&'static str>,
    /// The input journal stream the feed writes, relabelling `stream = input`.
    stream: Option<&'static str>,
}

impl FeedScope {
    /// One feed of several: it keeps the books of `instruments` (of a registry of `len`),
    /// labels its metrics `source = name` and writes the input journal stream `stream`.
    pub fn new(
        name: &'static str,
        stream: &'static str,
        instruments: &[InstrumentId],
        len: usize,
    ) -> FeedScope {
        let mut serves = vec![false; len];
        for id in instruments {
            if let Some(s) = serves.get_mut(id.0 as usize) {
                *s = true;
            }
        }
        FeedScope {
            serves,
            name: Some(name),
            stream: Some(stream),
        }
    }

    /// The source's name; `None` for the only feed of a process.
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// The input journal stream the feed writes.
    pub fn stream(&self) -> &'static str {
        self.stream.unwrap_or("input")
    }

    /// The instruments whose books this feed keeps; none for the only feed of a process
    /// (which keeps every book: see [`FeedScope::serves`]).
    pub fn served(&self) -> impl Iterator<Item = InstrumentId> + '_ {
        self.serves
            .iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(n, _)| InstrumentId(n as u16))
    }

    pub fn serves(&self, instrument: InstrumentId) -> bool {
        self.serves.is_empty() || self.serves.get(instrument.0 as usize) == Some(&true)
    }

    /// The metric as this feed reports it: `None` for a book another feed keeps.
    pub fn relabel(&self, metric: Metric) -> Option<Metric> {
        let label = match metric.label {
            MetricLabel::Instrument(id) if !self.serves(id) => return None,
            MetricLabel::None => self
                .name
                .map_or(MetricLabel::None, |n| MetricLabel::Tag("source", n)),
            // Each source has a market-data ring of its own into the book stage: the source
            // names which one filled.
            MetricLabel::Tag("ring", "market_data") => self
                .name
                .map_or(metric.label, |n| MetricLabel::Tag("source", n)),
            MetricLabel::Tag("stream", "input") => self
                .stream
                .map_or(metric.label, |s| MetricLabel::Tag("stream", s)),
            other => other,
        };
        Some(Metric { label, ..metric })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::FeedCounter;
    use crate::metrics::Report;
    use pulse_core::counters::CoreCounter;

    #[test]
    fn each_feed_of_several_names_its_own_market_data_ring() {
        let ring = MetricLabel::Tag("ring", "market_data");
        let full = CoreCounter::RingFull.count(ring, 3);
        assert_eq!(FeedScope::default().relabel(full), Some(full));
        let okx = FeedScope::new("okx", "input-1", &[InstrumentId(1)], 2);
        let kraken = FeedScope::new("kraken", "input-2", &[InstrumentId(0)], 2);
        let (a, b) = (okx.relabel(full).unwrap(), kraken.relabel(full).unwrap());
        assert_eq!(a.label, MetricLabel::Tag("source", "okx"));
        assert_eq!(b.label, MetricLabel::Tag("source", "kraken"));
        assert_eq!(a.value, 3);
        // A book another feed keeps is not this feed's to report.
        let book = FeedCounter::Messages.count(MetricLabel::Instrument(InstrumentId(0)), 1);
        assert_eq!(okx.relabel(book), None);
    }
}
