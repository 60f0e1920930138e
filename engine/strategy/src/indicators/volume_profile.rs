//! Volume profile: how much traded at each price, and the price where most did (the point of
//! control), a level prices tend to return to.

use pulse_core::num::{Px, Qty};

/// Traded volume per price bucket over a fixed range of `buckets` buckets of `width` price
/// mantissas each, with the point of control (POC), the bucket of most volume.
///
/// - **Buckets.** A price belongs to bucket `key = floor(px / width)`. The range is the keys
///   `low .. low + buckets`; the first trade centres it on its own bucket. Storage is a ring
///   indexed by `key mod buckets`, so moving the range reuses the slots of the keys that left.
/// - **Re-centring.** A trade outside the range centres the range on the trade's bucket. The
///   buckets that leave are cleared (their volume is forgotten, as is any trade outside the
///   range); the ones still inside keep theirs. A profile that stayed put while the price
///   walked away would describe a market that is gone.
/// - **POC, incrementally.** Volumes only grow between re-centrings, so a trade can only make
///   its own bucket the new maximum: one comparison per trade. Ties go to the lower price, so
///   the POC is a function of the volumes alone, not of the order they arrived in. When a
///   re-centring drops the POC's bucket, a scan of the range finds the new one: O(buckets),
///   bounded, and only when the price travels half the range.
///
/// ```
/// use pulse_strategy::indicators::VolumeProfile;
/// use pulse_core::num::{Px, Qty};
/// let mut profile = VolumeProfile::new(8, Px(10)); // buckets of 10 mantissa units
/// profile.update(Px(1_005), Qty(3)); // bucket 100: [1000, 1010)
/// profile.update(Px(1_012), Qty(2)); // bucket 101
/// profile.update(Px(1_017), Qty(2));
/// assert_eq!(profile.poc(), Some(Px(1_010)));
/// assert_eq!(profile.volume_at(Px(1_001)), 3);
/// ```
#[derive(Clone, Debug)]
pub struct VolumeProfile {
    width: i64,
    volumes: Box<[i64]>,
    /// The lowest key in range; meaningless before the first trade.
    low: i64,
    /// The key of the POC bucket, `None` while the range holds no volume.
    poc: Option<i64>,
    started: bool,
}

impl VolumeProfile {
    /// # Panics
    /// If `buckets` is zero or `bucket_width` is not positive.
    pub fn new(buckets: usize, bucket_width: Px) -> VolumeProfile {
        assert!(buckets > 0, "a profile has at least one bucket");
        assert!(
            bucket_width.0 > 0,
            "a bucket is at least one mantissa unit wide"
        );
        VolumeProfile {
            width: bucket_width.0,
            volumes: vec![0; buckets].into_boxed_slice(),
            low: 0,
            poc: None,
            started: false,
        }
    }

    pub fn update(&mut self, px: Px, qty: Qty) {
        if qty.0 <= 0 {
            return;
        }
        let key = self.key(px);
        if !self.started {
            self.started = true;
            self.low = self.centred_low(key);
        } else if !self.in_range(key) {
            self.recentre(key);
        }
        let slot = self.slot(key);
        self.volumes[slot] = self.volumes[slot].saturating_add(qty.0);
        let volume = self.volumes[slot];
        let takes_over = match self.poc {
            None => true,
            Some(poc) => {
                let top = self.volumes[self.slot(poc)];
                volume > top || (volume == top && key < poc)
            }
        };
        if takes_over {
            self.poc = Some(key);
        }
    }

    /// The lower edge of the POC bucket; `None` before any volume.
    pub fn poc(&self) -> Option<Px> {
        self.poc.map(|key| Px(key.saturating_mul(self.width)))
    }

    /// The middle of the POC bucket, in price-mantissa units.
    pub fn poc_mid(&self) -> Option<f64> {
        self.poc.map(|key| (key as f64 + 0.5) * self.width as f64)
    }

    /// Volume in the bucket holding `px`; 0 outside the range.
    pub fn volume_at(&self, px: Px) -> i64 {
        let key = self.key(px);
        if self.started && self.in_range(key) {
            self.volumes[self.slot(key)]
        } else {
            0
        }
    }

    /// The lowest price in range and the first one above it; `None` before the first trade.
    pub fn range(&self) -> Option<(Px, Px)> {
        let high = self.low + self.buckets();
        let edge = |key: i64| Px(key.saturating_mul(self.width));
        self.started.then(|| (edge(self.low), edge(high)))
    }

    /// Some volume in range: there is a POC.
    pub fn is_ready(&self) -> bool {
        self.poc.is_some()
    }

    /// The bucket of `px`, kept within `±2^61` so that no key arithmetic (differences of two
    /// keys, a key plus the bucket count) can overflow; only a price beyond 2.3e18 mantissa
    /// units at a one-unit width is affected.
    fn key(&self, px: Px) -> i64 {
        const LIMIT: i64 = 1 << 61;
        px.0.div_euclid(self.width).clamp(-LIMIT, LIMIT)
    }

    fn buckets(&self) -> i64 {
        self.volumes.len() as i64
    }

    fn centred_low(&self, key: i64) -> i64 {
        key - self.buckets() / 2
    }

    fn in_range(&self, key: i64) -> bool {
        key >= self.low && key - self.low < self.buckets()
    }

    fn slot(&self, key: i64) -> usize {
        key.rem_euclid(self.buckets()) as usize
    }

    fn recentre(&mut self, key: i64) {
        let low = self.centred_low(key);
        let shift = low.abs_diff(self.low).min(self.volumes.len() as u64) as i64;
        // The keys leaving: the bottom `shift` of the old range when moving up, the top ones
        // when moving down. Their slots are exactly the ones the entering keys will use.
        let first_leaving = if low > self.low {
            self.low
        } else {
            self.low + self.buckets() - shift
        };
        for leaving in first_leaving..first_leaving + shift {
            let slot = self.slot(leaving);
            self.volumes[slot] = 0;
        }
        self.low = low;
        if self.poc.is_some_and(|poc| !self.in_range(poc)) {
            self.poc = self.scan_for_poc();
        }
    }

    /// The key of most volume in range, the lowest on ties; `None` if the range is empty.
    fn scan_for_poc(&self) -> Option<i64> {
        let mut best: Option<(i64, i64)> = None;
        for key in self.low..self.low + self.buckets() {
            let volume = self.volumes[self.slot(key)];
            if volume > best.map_or(0, |(_, top)| top) {
                best = Some((key, volume));
            }
        }
        best.map(|(key, _)| key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::testkit::Rng;

    /// The profile rebuilt from the whole trade history at step `t = keys.len() - 1`: given the
    /// range's low edge after each trade (which follows from the trades alone), a trade's
    /// volume still counts if its bucket stayed inside the range from that trade until now.
    fn from_history(keys: &[i64], qtys: &[i64], lows: &[i64], buckets: i64) -> Vec<(i64, i64)> {
        let t = keys.len() - 1;
        let now_low = lows[t];
        let mut volumes: Vec<(i64, i64)> = (now_low..now_low + buckets).map(|k| (k, 0)).collect();
        let (mut min_low, mut max_low) = (now_low, now_low);
        for j in (0..=t).rev() {
            min_low = min_low.min(lows[j]);
            max_low = max_low.max(lows[j]);
            let k = keys[j];
            if k >= max_low && k < min_low + buckets {
                volumes[(k - now_low) as usize].1 += qtys[j];
            }
        }
        volumes
    }

    #[test]
    fn matches_the_history_rebuilt_at_every_step() {
        let mut rng = Rng::new(8);
        let (buckets, width) = (16usize, 5i64);
        // Steps up to 40 units against a range of 80: trades often land outside it.
        let prices = rng.walk(1_000, 40, 3_000);
        let mut profile = VolumeProfile::new(buckets, Px(width));
        let (mut keys, mut qtys, mut lows) = (Vec::new(), Vec::new(), Vec::new());
        let mut recentred = 0;
        for &px in &prices {
            let qty = rng.range(1, 4);
            let before = profile.range();
            profile.update(Px(px), Qty(qty));
            recentred += usize::from(before.is_some() && before != profile.range());
            let key = px.div_euclid(width);
            let low = match lows.last() {
                Some(&low) if key >= low && key < low + buckets as i64 => low,
                _ => key - buckets as i64 / 2,
            };
            keys.push(key);
            qtys.push(qty);
            lows.push(low);
            let volumes = from_history(&keys, &qtys, &lows, buckets as i64);
            for &(k, v) in &volumes {
                assert_eq!(profile.volume_at(Px(k * width)), v, "bucket {k}");
            }
            let top = volumes.iter().map(|&(_, v)| v).max().unwrap();
            let poc = volumes.iter().find(|&&(_, v)| v == top).map(|&(k, _)| k);
            assert_eq!(
                profile.poc(),
                poc.map(|k| Px(k * width)),
                "ties go to the lower price"
            );
        }
        assert!(
            recentred > 100,
            "the walk leaves the range often: {recentred}"
        );
    }

    #[test]
    fn recentring_drops_what_leaves_and_rescans() {
        let mut profile = VolumeProfile::new(4, Px(10));
        profile.update(Px(100), Qty(5)); // key 10, range keys 8..12
        profile.update(Px(85), Qty(2)); // key 8
        profile.update(Px(115), Qty(1)); // key 11
        assert_eq!(profile.range(), Some((Px(80), Px(120))));
        assert_eq!(profile.poc(), Some(Px(100)));
        profile.update(Px(125), Qty(1)); // key 12: range keys 10..14, keys 8 and 9 leave
        assert_eq!(profile.range(), Some((Px(100), Px(140))));
        assert_eq!(
            [80, 100, 110, 120].map(|p| profile.volume_at(Px(p))),
            [0, 5, 1, 1]
        );
        profile.update(Px(-5), Qty(1)); // key -1: everything leaves, the POC is rescanned
        assert_eq!(profile.range(), Some((Px(-30), Px(10))));
        assert_eq!(profile.poc(), Some(Px(-10)));
        assert_eq!(profile.poc_mid(), Some(-5.0));
        assert_eq!(profile.volume_at(Px(100)), 0);
    }

    #[test]
    fn extreme_prices_neither_overflow_nor_panic() {
        let mut profile = VolumeProfile::new(4, Px(1));
        for px in [i64::MAX, i64::MIN, 0, i64::MAX, 1] {
            profile.update(Px(px), Qty(1));
        }
        // Each trade lands outside the range of the last and clears it: only the 1 is left.
        assert_eq!(profile.poc(), Some(Px(1)));
        assert_eq!(profile.range(), Some((Px(-1), Px(3))));
        assert_eq!(profile.volume_at(Px(0)), 0);
    }

    #[test]
    fn the_poc_survives_a_small_move() {
        let mut profile = VolumeProfile::new(4, Px(1));
        for (px, qty) in [(10, 1), (11, 9), (9, 2), (12, 1)] {
            profile.update(Px(px), Qty(qty)); // keys 8..12 then 10..14 at px 12
        }
        assert_eq!(profile.poc(), Some(Px(11)));
        assert_eq!(profile.volume_at(Px(9)), 0, "key 9 left the range");
    }
}
