//! What the indicator tests share: a tiny deterministic generator and the closeness check that
//! compares an incremental value with its from-scratch reference.

/// SplitMix64: a few lines, full period, the same stream on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// [`Rng::walk`] as `f64`, for the indicators that take real-valued prices.
    pub(crate) fn walk_f64(&mut self, start: i64, step: i64, n: usize) -> Vec<f64> {
        self.walk(start, step, n)
            .into_iter()
            .map(|p| p as f64)
            .collect()
    }

    /// A random walk of price mantissas around `start` with steps in `-step..=step`, flat for a
    /// while now and then (the mid of a real book often is), never below 1.
    pub(crate) fn walk(&mut self, start: i64, step: i64, n: usize) -> Vec<i64> {
        let mut px = start;
        (0..n)
            .map(|_| {
                if self.range(0, 3) != 0 {
                    px = (px + self.range(-step, step)).max(1);
                }
                px
            })
            .collect()
    }
}

/// For each window size in `sizes`: feeds `inputs` one at a time to a fresh indicator built by
/// `new`, calling `check(&indicator, n, t)` after input `t`.
pub(crate) fn each_step<I, T: Copy>(
    sizes: &[usize],
    inputs: &[T],
    new: impl Fn(usize) -> I,
    update: impl Fn(&mut I, T),
    mut check: impl FnMut(&I, usize, usize),
) {
    for &n in sizes {
        let mut indicator = new(n);
        for (t, &input) in inputs.iter().enumerate() {
            update(&mut indicator, input);
            check(&indicator, n, t);
        }
    }
}

/// `actual` is within `1e-9` of `expected`, relative to the larger of `|expected|` and `scale`.
/// `scale` is the magnitude of the inputs: a value that is a difference of inputs (a MACD, a
/// band offset) can be near zero while its rounding error is relative to the inputs.
#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, scale: f64, what: &str) {
    let tolerance = 1e-9 * expected.abs().max(scale);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} vs reference {expected} (tolerance {tolerance:e})"
    );
}
