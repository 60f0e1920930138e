//! Volume-weighted average price of trades: the price at which the volume actually changed
//! hands, the level a mid is judged against.

use pulse_core::num::{Px, Qty};

use super::window::Window;

/// How far back a [`Vwap`] looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VwapWindow {
    /// Every trade since construction or the last [`Vwap::reset`]: the classic session VWAP.
    Session,
    /// The last `n` trades. A session VWAP means something only relative to when the session
    /// began (a restarted engine starts a new one); a fixed trade count reads the same at any
    /// point of a day or a replay, which is what a feature for a model needs.
    Trades(usize),
}

/// `Σ px qty / Σ qty` over the window, in price-mantissa units.
///
/// The sums are exact integers (`i128`: a price mantissa times a quantity mantissa fits with
/// room for billions of trades), so a session VWAP does not drift however long it runs, and a
/// rolling one takes each trade back out exactly as it went in. One rounding at the final
/// division. Trades with a non-positive quantity carry no volume and are ignored.
///
/// ```
/// use pulse_strategy::indicators::Vwap;
/// use pulse_core::num::{Px, Qty};
/// let mut vwap = Vwap::rolling(2);
/// vwap.update(Px(100), Qty(1));
/// vwap.update(Px(110), Qty(3));
/// assert_eq!(vwap.value(), 107.5);
/// vwap.update(Px(90), Qty(1)); // the first trade leaves
/// assert_eq!(vwap.value(), 105.0);
/// ```
#[derive(Clone, Debug)]
pub struct Vwap {
    /// The trades in a rolling window; `None` for a session.
    window: Option<Window<(Px, Qty)>>,
    notional: i128,
    volume: i128,
}

impl Vwap {
    /// # Panics
    /// If the window is `Trades(0)`.
    pub fn new(window: VwapWindow) -> Vwap {
        Vwap {
            window: match window {
                VwapWindow::Session => None,
                VwapWindow::Trades(n) => Some(Window::new(n)),
            },
            notional: 0,
            volume: 0,
        }
    }

    pub fn session() -> Vwap {
        Vwap::new(VwapWindow::Session)
    }

    pub fn rolling(trades: usize) -> Vwap {
        Vwap::new(VwapWindow::Trades(trades))
    }

    pub fn update(&mut self, px: Px, qty: Qty) {
        if qty.0 <= 0 {
            return;
        }
        if let Some(Some((old_px, old_qty))) = self.window.as_mut().map(|w| w.push((px, qty))) {
            self.notional = self
                .notional
                .wrapping_sub(old_px.0 as i128 * old_qty.0 as i128);
            self.volume -= old_qty.0 as i128;
        }
        self.notional = self.notional.wrapping_add(px.0 as i128 * qty.0 as i128);
        self.volume += qty.0 as i128;
    }

    /// The VWAP in price-mantissa units; 0 before any volume.
    pub fn value(&self) -> f64 {
        if self.volume == 0 {
            return 0.0;
        }
        self.notional as f64 / self.volume as f64
    }

    /// The volume in the window, in quantity mantissas.
    pub fn volume(&self) -> i128 {
        self.volume
    }

    /// A session has seen a trade; a rolling window is full.
    pub fn is_ready(&self) -> bool {
        match &self.window {
            None => self.volume > 0,
            Some(w) => w.is_full(),
        }
    }

    /// Starts a new session (or empties the rolling window).
    pub fn reset(&mut self) {
        if let Some(w) = self.window.as_mut() {
            w.clear();
        }
        self.notional = 0;
        self.volume = 0;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::indicators::testkit::{assert_close, each_step, Rng};

    fn trades(seed: u64, n: usize) -> Vec<(Px, Qty)> {
        let mut rng = Rng::new(seed);
        let prices = rng.walk(6_000_000, 40, n);
        prices
            .into_iter()
            .map(|px| (Px(px), Qty(rng.range(1, 500_000_000))))
            .collect()
    }

    pub(crate) fn from_scratch(trades: &[(Px, Qty)]) -> f64 {
        let notional: f64 = trades.iter().map(|(p, q)| p.0 as f64 * q.0 as f64).sum();
        let volume: f64 = trades.iter().map(|(_, q)| q.0 as f64).sum();
        notional / volume
    }

    #[test]
    fn hand_computed_session() {
        let mut vwap = Vwap::session();
        assert_eq!((vwap.value(), vwap.is_ready()), (0.0, false));
        for (px, qty) in [(100, 2), (103, 1), (99, 0), (97, 3)] {
            vwap.update(Px(px), Qty(qty));
        }
        // (200 + 103 + 291) / 6 = 99; the zero-quantity trade carries no volume.
        assert_eq!(
            (vwap.value(), vwap.volume(), vwap.is_ready()),
            (99.0, 6, true)
        );
        vwap.reset();
        assert_eq!((vwap.value(), vwap.is_ready()), (0.0, false));
    }

    #[test]
    fn rolling_matches_recomputation_at_every_step() {
        let trades = trades(6, 3_000);
        let update = |vwap: &mut Vwap, (px, qty)| vwap.update(px, qty);
        each_step(
            &[1, 7, 100, 1_000],
            &trades,
            Vwap::rolling,
            update,
            |vwap, n, t| {
                let expected = from_scratch(&trades[t.saturating_sub(n - 1)..=t]);
                assert_close(vwap.value(), expected, 1.0, "rolling vwap");
                assert_eq!(vwap.is_ready(), t + 1 >= n);
            },
        );
    }

    #[test]
    fn session_matches_recomputation_at_every_step() {
        let trades = trades(7, 3_000);
        let mut vwap = Vwap::session();
        for t in 0..trades.len() {
            vwap.update(trades[t].0, trades[t].1);
            assert_close(
                vwap.value(),
                from_scratch(&trades[..=t]),
                1.0,
                "session vwap",
            );
        }
    }
}
