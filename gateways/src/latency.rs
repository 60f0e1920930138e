//! The simulated venue's latencies: how long after the engine decided an order (or a cancel)
//! the venue acts on it. Three legs, each fixed or drawn from a recorded distribution:
//!
//! - **market data**: the engine sees a venue event `market_data` after it happened, so its
//!   decisions are that much late already;
//! - **order entry**: a new order takes `order` to reach the matching engine;
//! - **cancel**: a cancel (or a query) takes `cancel`.
//!
//! An order decided on an event received at `t` reaches the venue's book as of
//! `t + market_data + order` (in the engine's receive time): market events up to then are
//! applied first, so the order meets the book, and the queue, it would really meet. The
//! session is one ordered connection: a request never overtakes the one before it.
//!
//! Draws come from a fixed xorshift sequence seeded from the config, so the same inputs and
//! seed give the same latencies, fills and reports.

use std::path::Path;

use pulse_feeds::num::Nanos;

/// One leg's latency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Latency {
    Fixed(Nanos),
    /// Recorded samples (ns), drawn uniformly.
    Recorded(Vec<u64>),
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed(Nanos::ZERO)
    }
}

impl Latency {
    /// Samples from a text file: one latency per line in microseconds (decimals allowed, to
    /// the nanosecond); blank lines and `#` comments are skipped. Errors name the line.
    pub fn read(path: &Path) -> Result<Latency, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut samples = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let ns = pulse_feeds::num::parse_decimal(line.as_bytes(), 3)
                .ok()
                .filter(|&v| v >= 0)
                .ok_or_else(|| {
                    format!(
                        "{}: line {}: `{line}` is not a latency in microseconds",
                        path.display(),
                        n + 1
                    )
                })?;
            samples.push(ns as u64);
        }
        if samples.is_empty() {
            return Err(format!("{}: no latency samples", path.display()));
        }
        Ok(Latency::Recorded(samples))
    }

    fn draw(&self, rng: &mut u64) -> Nanos {
        match self {
            Latency::Fixed(ns) => *ns,
            Latency::Recorded(samples) => {
                // xorshift64*
                *rng ^= *rng >> 12;
                *rng ^= *rng << 25;
                *rng ^= *rng >> 27;
                let r = rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
                Nanos(samples[(r % samples.len() as u64) as usize])
            }
        }
    }
}

/// The three legs and the seed of their draws.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VenueLatency {
    pub market_data: Latency,
    pub order: Latency,
    pub cancel: Latency,
    pub seed: u64,
}

/// Draws the delays of successive requests.
pub struct LatencyDraws {
    legs: VenueLatency,
    rng: u64,
}

impl LatencyDraws {
    pub fn new(legs: VenueLatency) -> LatencyDraws {
        // A zero state would stay zero.
        let rng = legs.seed ^ 0x9e37_79b9_7f4a_7c15;
        LatencyDraws { legs, rng }
    }

    /// From the engine's decision to the venue acting on a new order.
    pub fn order(&mut self) -> Nanos {
        let md = self.legs.market_data.draw(&mut self.rng);
        let entry = self.legs.order.draw(&mut self.rng);
        Nanos(md.0 + entry.0)
    }

    /// From the engine's decision to the venue acting on a cancel or a query.
    pub fn cancel(&mut self) -> Nanos {
        let md = self.legs.market_data.draw(&mut self.rng);
        let cancel = self.legs.cancel.draw(&mut self.rng);
        Nanos(md.0 + cancel.0)
    }

    /// Whether every leg is zero: the venue acts at the decision itself.
    pub fn is_zero(&self) -> bool {
        [&self.legs.market_data, &self.legs.order, &self.legs.cancel]
            .iter()
            .all(|l| **l == Latency::Fixed(Nanos::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_legs_add_and_recorded_draws_repeat_with_the_seed() {
        let fixed = VenueLatency {
            market_data: Latency::Fixed(Nanos(100)),
            order: Latency::Fixed(Nanos(250)),
            cancel: Latency::Fixed(Nanos(50)),
            seed: 0,
        };
        let mut d = LatencyDraws::new(fixed);
        assert_eq!((d.order(), d.cancel()), (Nanos(350), Nanos(150)));
        assert!(!d.is_zero());
        assert!(LatencyDraws::new(VenueLatency::default()).is_zero());

        let recorded = |seed| VenueLatency {
            order: Latency::Recorded(vec![1, 2, 3, 4, 5, 6, 7, 8]),
            seed,
            ..VenueLatency::default()
        };
        let draws = |seed| {
            let mut d = LatencyDraws::new(recorded(seed));
            (0..64).map(|_| d.order().0).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let all = draws(7);
        for v in 1..=8 {
            assert!(all.contains(&v), "sample {v} never drawn in {all:?}");
        }
    }

    #[test]
    fn a_latency_file_is_microseconds_per_line_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("pulse-latency-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.txt");
        std::fs::write(&good, "# order entry, us\n250\n\n312.5\n1000.001\n").unwrap();
        assert_eq!(
            Latency::read(&good),
            Ok(Latency::Recorded(vec![250_000, 312_500, 1_000_001]))
        );
        let bad = dir.join("bad.txt");
        std::fs::write(&bad, "250\nfast\n").unwrap();
        let err = Latency::read(&bad).unwrap_err();
        assert!(
            err.ends_with("line 2: `fast` is not a latency in microseconds"),
            "{err}"
        );
        std::fs::write(&bad, "# nothing\n").unwrap();
        assert!(Latency::read(&bad)
            .unwrap_err()
            .ends_with("no latency samples"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
