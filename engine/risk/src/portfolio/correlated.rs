//! Correlated exposure: how much of the book sits in clusters of positions that move together
//! in the same risk direction, beyond each cluster's largest holding.

/// Instrument `i` held (or traded) in direction `dir` (+1 long / buy, −1 short / sell) is
/// *linked* to held instrument `j ≠ i` when `ρ_ij · dir · sign(e_j) > θ`.
fn linked(corr: &[f64], exposures: &[f64], theta: f64, i: usize, dir: f64, j: usize) -> bool {
    let n = exposures.len();
    j != i && exposures[j] != 0.0 && corr[i * n + j] * dir * exposures[j].signum() > theta
}

/// Scratch for the cluster computations, allocated once for `n` instruments.
#[derive(Clone, Debug)]
pub(crate) struct Clusters {
    parent: Vec<usize>,
    /// Largest |e| of the cluster whose root is the index.
    top: Vec<f64>,
    /// Which pass last counted the cluster whose root is the index.
    seen: Vec<usize>,
    pass: usize,
}

/// The hot path's per-instrument view, written by [`Clusters::publish`].
pub(crate) struct Links<'a> {
    pub buy: &'a mut [bool],
    pub sell: &'a mut [bool],
    pub jump_buy: &'a mut [f64],
    pub jump_sell: &'a mut [f64],
}

impl Clusters {
    pub fn new(n: usize) -> Clusters {
        Clusters {
            parent: vec![0; n],
            top: vec![0.0; n],
            seen: vec![0; n],
            pass: 0,
        }
    }

    /// The correlated exposure in account currency: the held instruments form clusters
    /// (connected through links); each cluster's gross exposure beyond its largest holding,
    /// summed over clusters. An unlinked position adds nothing; two linked ones add the
    /// smaller.
    pub fn gross(&mut self, corr: &[f64], exposures: &[f64], theta: f64) -> f64 {
        self.build(corr, exposures, theta, None);
        let mut excess = 0.0;
        for (i, e) in exposures.iter().enumerate() {
            if *e != 0.0 {
                excess += e.abs();
                if self.find(i) == i {
                    excess -= self.top[i];
                }
            }
        }
        excess
    }

    /// Per instrument and direction: whether an order that way is linked to a held instrument
    /// (`buy`, `sell`), and the most the correlated exposure can jump beyond the order's own
    /// size (`jump_*`, account currency), which is when the order bridges several clusters:
    /// the sum of their largest holdings less the largest (clusters formed without `i`).
    pub fn publish(&mut self, corr: &[f64], exposures: &[f64], theta: f64, out: Links<'_>) {
        for i in 0..exposures.len() {
            self.build(corr, exposures, theta, Some(i));
            let (buy, jump_buy) = self.bridge(corr, exposures, theta, i, 1.0);
            let (sell, jump_sell) = self.bridge(corr, exposures, theta, i, -1.0);
            (out.buy[i], out.jump_buy[i]) = (buy, jump_buy);
            (out.sell[i], out.jump_sell[i]) = (sell, jump_sell);
        }
    }

    /// Whether `i` traded in `dir` is linked, and the bridge excess over the clusters it joins.
    fn bridge(&mut self, corr: &[f64], e: &[f64], theta: f64, i: usize, dir: f64) -> (bool, f64) {
        self.pass += 1;
        let (mut sum, mut max, mut any) = (0.0, 0.0f64, false);
        for j in 0..e.len() {
            if linked(corr, e, theta, i, dir, j) {
                any = true;
                let root = self.find(j);
                if self.seen[root] != self.pass {
                    self.seen[root] = self.pass;
                    sum += self.top[root];
                    max = max.max(self.top[root]);
                }
            }
        }
        (any, sum - max)
    }

    /// Union-find over the held instruments (but `skip`), joined along links, with each
    /// root's cluster maximum |e| in `top`.
    fn build(&mut self, corr: &[f64], e: &[f64], theta: f64, skip: Option<usize>) {
        for (k, p) in self.parent.iter_mut().enumerate() {
            *p = k;
        }
        let held = |k: usize| e[k] != 0.0 && Some(k) != skip;
        for i in (0..e.len()).filter(|&k| held(k)) {
            for j in (i + 1..e.len()).filter(|&k| held(k)) {
                if linked(corr, e, theta, i, e[i].signum(), j) {
                    let (a, b) = (self.find(i), self.find(j));
                    self.parent[a] = b;
                }
            }
        }
        self.top.fill(0.0);
        for k in (0..e.len()).filter(|&k| held(k)) {
            let root = self.find(k);
            self.top[root] = self.top[root].max(e[k].abs());
        }
    }

    fn find(&mut self, mut k: usize) -> usize {
        while self.parent[k] != k {
            self.parent[k] = self.parent[self.parent[k]];
            k = self.parent[k];
        }
        k
    }
}

#[cfg(test)]
mod tests;
