//! A running `f64` sum that values leave as well as enter, kept accurate by Neumaier's
//! compensated summation.
//!
//! A plain running sum loses the low bits of every addition, and a rolling sum adds and takes
//! away millions of times: the lost bits add up, and a sum that falls small after large terms
//! leave can be left with nothing but the error. Neumaier's variant of Kahan summation carries
//! the lost bits in a second term, so the error stays near one rounding of the current sum
//! (plus a term of order `updates * eps^2`, negligible at any count a process will reach)
//! instead of growing with the number of updates. Pure IEEE-754 adds and compares: no fused or
//! reordered operations, so the result is the same on every run of a binary.

/// Sum plus compensation: the value is `sum + compensation`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        // The low bits lost forming `t`: exact, whichever operand is the larger.
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    pub(crate) fn sub(&mut self, x: f64) {
        self.add(-x);
    }

    pub(crate) fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_a_plain_sum_loses() {
        let (mut plain, mut compensated) = (0.0f64, CompensatedSum::default());
        for x in [1e16, 1.0, -1e16] {
            plain += x;
            compensated.add(x);
        }
        assert_eq!(plain, 0.0, "the plain sum lost the 1");
        assert_eq!(compensated.value(), 1.0);
        compensated.sub(1.0);
        assert_eq!(compensated.value(), 0.0);
    }
}
