//! The books one adapter keeps: one sync per instrument of its venue market, in registry order,
//! found by instrument id. Every venue's adapter holds its syncs this way.

use crate::instrument::{Instrument, InstrumentRegistry};
use crate::num::InstrumentId;

#[derive(Debug)]
pub struct BookSlots<S> {
    syncs: Vec<S>,
    /// By [`InstrumentId`]: the index into `syncs`, if the instrument is this adapter's.
    slots: Vec<Option<usize>>,
}

impl<S> BookSlots<S> {
    /// A sync made by `make` for each instrument of `registry` that `mine` accepts.
    pub fn new(
        registry: &InstrumentRegistry,
        mine: impl Fn(&Instrument) -> bool,
        mut make: impl FnMut(&Instrument) -> S,
    ) -> BookSlots<S> {
        let mut syncs = Vec::new();
        let slots = registry
            .iter()
            .map(|i| {
                mine(i).then(|| {
                    syncs.push(make(i));
                    syncs.len() - 1
                })
            })
            .collect();
        BookSlots { syncs, slots }
    }

    /// The index of `instrument`'s sync, if it is this adapter's.
    #[inline]
    pub fn slot(&self, instrument: InstrumentId) -> Option<usize> {
        self.slots.get(instrument.0 as usize).copied().flatten()
    }

    #[inline]
    pub fn get(&self, instrument: InstrumentId) -> Option<&S> {
        self.syncs.get(self.slot(instrument)?)
    }

    #[inline]
    pub fn get_mut(&mut self, instrument: InstrumentId) -> Option<&mut S> {
        let slot = self.slot(instrument)?;
        self.syncs.get_mut(slot)
    }

    /// Every sync, in registry order.
    pub fn syncs(&self) -> &[S] {
        &self.syncs
    }

    pub fn syncs_mut(&mut self) -> &mut [S] {
        &mut self.syncs
    }

    /// The size of the registry (instrument ids are below it).
    pub fn instruments(&self) -> usize {
        self.slots.len()
    }
}
