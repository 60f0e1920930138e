//! Counter identities: every counter and gauge a stage reports is a variant of its crate's
//! enum, and each variant has one static [`CounterDescriptor`] (its exported name, kind and help
//! text), as Aeron's `SystemCounterDescriptor` does. The engine registers whatever descriptors
//! the stages report, so a stage adds a counter by adding a variant, nothing in the engine.
//!
//! The counters that several crates report (a full ring, a journal stream's counts) are
//! declared here once, in [`CoreCounter`].

/// Whether a metric only grows or goes up and down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Only ever grows (exported as `pulse_<name>_total`).
    Counter,
    /// Goes up and down (a position, a count of stale books).
    Gauge,
}

/// What a counter is, fixed at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterDescriptor {
    /// Stable snake_case name, without the `pulse_` prefix or the `_total` suffix.
    pub name: &'static str,
    pub kind: MetricKind,
    /// The `# HELP` text (the stats file keeps its first 88 bytes).
    pub help: &'static str,
}

impl CounterDescriptor {
    pub const fn counter(name: &'static str, help: &'static str) -> CounterDescriptor {
        CounterDescriptor {
            name,
            kind: MetricKind::Counter,
            help,
        }
    }

    pub const fn gauge(name: &'static str, help: &'static str) -> CounterDescriptor {
        CounterDescriptor {
            name,
            kind: MetricKind::Gauge,
            help,
        }
    }
}

/// A crate's enum of counter ids; declare one with [`crate::counters!`].
pub trait CounterId: Copy + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];

    fn descriptor(self) -> &'static CounterDescriptor;
}

/// Declares an enum of counter ids, each variant with its kind, name and help text:
///
/// ```
/// pulse_core::counters! {
///     /// What my stage counts.
///     pub enum MyCounter {
///         Widgets => counter("my_widgets", "Widgets made"),
///         Depth => gauge("my_depth", "Widgets waiting"),
///     }
/// }
/// use pulse_core::counters::CounterId;
/// assert_eq!(MyCounter::Depth.descriptor().name, "my_depth");
/// ```
#[macro_export]
macro_rules! counters {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $kind:ident($cname:literal, $help:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::counters::CounterId for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];

            fn descriptor(self) -> &'static $crate::counters::CounterDescriptor {
                match self {
                    $( $name::$variant => {
                        const D: $crate::counters::CounterDescriptor =
                            $crate::counters::CounterDescriptor::$kind($cname, $help);
                        &D
                    } )+
                }
            }
        }
    };
}

counters! {
    /// Counters several crates report, each with its own label.
    pub enum CoreCounter {
        RingFull => counter(
            "ring_full",
            "Events that found a ring full (market data resynced, intents refused)"
        ),
        JournalRecords => counter("journal_records", "Records appended to the journal, by stream"),
        JournalBytes => counter(
            "journal_bytes",
            "Payload bytes appended to the journal, by stream"
        ),
        JournalRefused => counter("journal_refused", "Records the journal refused, by stream"),
    }
}

/// Every descriptor of the enum `C`, in declaration order, for the engine's uniqueness check and for documentation.
pub fn descriptors<C: CounterId>() -> impl Iterator<Item = &'static CounterDescriptor> {
    C::ALL.iter().map(|c| c.descriptor())
}
