//! Logging from the hot path without logging on it: the first occurrence of each distinct error
//! kind is copied into a fixed-size [`LogRecord`] and pushed through an SPSC ring to a cold
//! thread that prints it (Agrona's `DistinctErrorLog`). Later occurrences only bump the kind's
//! count and last-seen time. Each stage names its kinds in an enum ([`crate::error_kinds!`]).

use crate::num::Nanos;

/// How many bytes of the offending input a record keeps.
pub const EXCERPT_BYTES: usize = 120;

#[derive(Clone, Copy, Debug)]
pub struct LogRecord {
    pub stage: &'static str,
    pub what: &'static str,
    /// A static detail such as the offending field's name; empty when there is none.
    pub detail: &'static str,
    /// Where it happened: the capture line number, or 0 when not applicable.
    pub line: u64,
    pub excerpt: [u8; EXCERPT_BYTES],
    pub excerpt_len: u8,
}

impl LogRecord {
    pub fn excerpt(&self) -> &[u8] {
        &self.excerpt[..self.excerpt_len as usize]
    }
}

/// How often one kind of error was seen, and when first and last (clock nanos).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    pub count: u64,
    pub first: Nanos,
    pub last: Nanos,
}

impl KindStats {
    pub const NEW: KindStats = KindStats {
        count: 0,
        first: Nanos(0),
        last: Nanos(0),
    };
}

/// A stage's enum of distinct error kinds; declare one with [`crate::error_kinds!`]. Each
/// variant is its own index `0..ALL.len()`, so two kinds never share a slot.
pub trait ErrorKind: Copy + 'static {
    /// Every variant, in index order.
    const ALL: &'static [Self];
    /// One [`KindStats`] per variant: `[KindStats; N]`.
    type Table: AsRef<[KindStats]> + AsMut<[KindStats]> + Copy;
    const EMPTY: Self::Table;

    fn index(self) -> usize;
    /// Stable snake_case key, for reports.
    fn key(self) -> &'static str;
    /// What went wrong, as the cold log prints it.
    fn what(self) -> &'static str;
}

/// Declares an enum of distinct error kinds, each with its key and printed text:
///
/// ```
/// pulse_core::error_kinds! {
///     /// What my stage refuses.
///     pub enum MyError {
///         BadWidget => ("bad_widget", "widget that does not parse"),
///         Overflow => ("overflow", "widget queue full"),
///     }
/// }
/// use pulse_core::log::ErrorKind;
/// assert_eq!(MyError::Overflow.index(), 1);
/// assert_eq!(MyError::ALL.len(), 2);
/// ```
#[macro_export]
macro_rules! error_kinds {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => ($key:literal, $what:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// How many kinds there are.
            pub const COUNT: usize = [$(stringify!($variant)),+].len();
        }

        impl $crate::log::ErrorKind for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            type Table = [$crate::log::KindStats; $name::COUNT];
            const EMPTY: Self::Table = [$crate::log::KindStats::NEW; $name::COUNT];

            fn index(self) -> usize {
                self as usize
            }

            fn key(self) -> &'static str {
                match self {
                    $( $name::$variant => $key ),+
                }
            }

            fn what(self) -> &'static str {
                match self {
                    $( $name::$variant => $what ),+
                }
            }
        }
    };
}

/// Counts every kind of error a stage meets and logs the first of each; owned by one stage.
/// The table is a fixed array sized by the kind enum: nothing allocates after construction.
pub struct DistinctLog<K: ErrorKind> {
    stage: &'static str,
    kinds: K::Table,
    ring: Option<rtrb::Producer<LogRecord>>,
    /// Records that found the ring full or absent.
    pub lost: u64,
}

impl<K: ErrorKind> DistinctLog<K> {
    pub fn new(stage: &'static str, ring: Option<rtrb::Producer<LogRecord>>) -> DistinctLog<K> {
        assert!(
            K::EMPTY.as_ref().len() == K::ALL.len()
                && K::ALL.iter().enumerate().all(|(i, k)| k.index() == i),
            "{stage}: error kinds must be indexed 0..N in declaration order"
        );
        DistinctLog {
            stage,
            kinds: K::EMPTY,
            ring,
            lost: 0,
        }
    }

    /// Counts `kind` at `now` and logs it the first time it is seen, with a static `detail`,
    /// where (`line`, 0 when not applicable) and an excerpt of `input`; returns `true` if
    /// this call logged it.
    pub fn once(
        &mut self,
        kind: K,
        now: Nanos,
        detail: &'static str,
        line: u64,
        input: &[u8],
    ) -> bool {
        let Some(stats) = self.kinds.as_mut().get_mut(kind.index()) else {
            return false;
        };
        stats.count += 1;
        stats.last = now;
        if stats.count > 1 {
            return false;
        }
        stats.first = now;
        let mut excerpt = [0u8; EXCERPT_BYTES];
        let n = input.len().min(EXCERPT_BYTES);
        excerpt[..n].copy_from_slice(&input[..n]);
        let record = LogRecord {
            stage: self.stage,
            what: kind.what(),
            detail,
            line,
            excerpt,
            excerpt_len: n as u8,
        };
        let pushed = match self.ring.as_mut() {
            Some(ring) => ring.push(record).is_ok(),
            None => false,
        };
        if !pushed {
            self.lost += 1;
        }
        pushed
    }

    /// How often `kind` was seen, and when first and last.
    pub fn stats(&self, kind: K) -> KindStats {
        self.kinds
            .as_ref()
            .get(kind.index())
            .copied()
            .unwrap_or_default()
    }

    /// Every kind seen at least once, in index order.
    pub fn seen(&self) -> impl Iterator<Item = (K, KindStats)> + '_ {
        K::ALL
            .iter()
            .map(|&k| (k, self.stats(k)))
            .filter(|(_, s)| s.count > 0)
    }
}

#[cfg(test)]
mod tests;
