//! The network in the layout inference wants, and the allocation-free forward pass.

use std::path::Path;

use super::error::{PolicyError, PolicyErrorKind};
use super::parse::parse;
use super::weights::{Activation, Layer, PolicyWeights, FEATURES, OUTPUTS};

/// What the policy advises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Buy,
    Hold,
    Sell,
}

/// One decision: the softmax probabilities of buy, hold and sell (in that order), the action
/// and its probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicyOutput {
    pub probs: [f64; OUTPUTS],
    /// Buy or sell only when strictly more probable than both others; any tie at the top
    /// holds, so an undecided network never trades.
    pub action: Action,
    /// The largest probability.
    pub confidence: f64,
}

impl PolicyOutput {
    /// The answer to features that are not all finite, or that drive the network out of range:
    /// uniform probabilities, hold, confidence one third (below any useful threshold).
    pub const NO_OPINION: PolicyOutput = PolicyOutput {
        probs: [1.0 / 3.0; OUTPUTS],
        action: Action::Hold,
        confidence: 1.0 / 3.0,
    };

    fn from_probs(probs: [f64; OUTPUTS]) -> PolicyOutput {
        let [buy, hold, sell] = probs;
        let (action, confidence) = if buy > hold && buy > sell {
            (Action::Buy, buy)
        } else if sell > hold && sell > buy {
            (Action::Sell, sell)
        } else {
            (Action::Hold, hold.max(buy).max(sell))
        };
        PolicyOutput {
            probs,
            action,
            confidence,
        }
    }
}

/// Units computed together: their running sums stay in registers (eight SSE2 registers for a
/// wide panel) while the inputs stream past, instead of a load and a store per weight. Units
/// past the last whole wide panel go in narrow ones, so that the 3-unit output layer does not
/// pay for 16.
const WIDE: usize = 16;
const NARROW: usize = 4;

/// A dense layer: its units in wide panels, then the rest in narrow panels.
struct Dense {
    inputs: usize,
    outputs: usize,
    activation: Activation,
    wide: Panels<WIDE>,
    narrow: Panels<NARROW>,
}

impl Dense {
    fn new(layer: &Layer) -> Dense {
        let split = layer.outputs() / WIDE * WIDE;
        Dense {
            inputs: layer.inputs(),
            outputs: layer.outputs(),
            activation: layer.activation(),
            wide: Panels::new(layer, 0, split),
            narrow: Panels::new(layer, split, layer.outputs()),
        }
    }

    /// `y = activation(bias + W x)`, each unit summed in input order from its bias, exactly as
    /// the format's documentation writes it.
    fn forward(&self, x: &[f64], y: &mut [f64]) {
        let (wide, narrow) = y.split_at_mut(self.outputs / WIDE * WIDE);
        self.wide.forward(self.inputs, x, wide);
        self.narrow.forward(self.inputs, x, narrow);
        match self.activation {
            // Written so that NaN passes through (`f64::max` would turn it into 0) and is seen
            // at the output.
            Activation::Relu => {
                for v in y.iter_mut() {
                    if *v < 0.0 {
                        *v = 0.0;
                    }
                }
            }
            Activation::Tanh => {
                for v in y.iter_mut() {
                    *v = v.tanh();
                }
            }
            Activation::Softmax => {}
        }
    }
}

/// Units `first..end` of a layer in panels of `N`. Within a panel the weights are input-major,
/// so the forward pass adds `x[i] * weights` into the whole panel at once, which vectorizes
/// without reordering any unit's sum.
struct Panels<const N: usize> {
    /// Per panel, one array per input: the weights from that input into the panel's units.
    /// The last panel's lanes past `end` have zero weights and are never read out.
    weights: Vec<[f64; N]>,
    /// Per panel, its units' biases.
    biases: Vec<[f64; N]>,
}

impl<const N: usize> Panels<N> {
    fn new(layer: &Layer, first: usize, end: usize) -> Panels<N> {
        let inputs = layer.inputs();
        let count = (end - first).div_ceil(N);
        let mut weights = vec![[0.0; N]; count * inputs];
        let mut biases = vec![[0.0; N]; count];
        for (unit, j) in (first..end).enumerate() {
            let (panel, lane) = (unit / N, unit % N);
            for (i, &w) in layer.row(j).iter().enumerate() {
                weights[panel * inputs + i][lane] = w;
            }
            biases[panel][lane] = layer.biases()[j];
        }
        Panels { weights, biases }
    }

    fn forward(&self, inputs: usize, x: &[f64], y: &mut [f64]) {
        let panels = self.weights.chunks_exact(inputs);
        for ((out, bias), panel) in y.chunks_mut(N).zip(&self.biases).zip(panels) {
            let mut sum = *bias;
            for (xi, w) in x.iter().zip(panel) {
                for (s, w) in sum.iter_mut().zip(w) {
                    *s += w * xi;
                }
            }
            for (o, s) in out.iter_mut().zip(sum) {
                *o = s;
            }
        }
    }
}

/// A loaded policy network, ready to evaluate. Loading allocates the weights and two
/// activation buffers as wide as the widest layer; [`PolicyNetwork::infer`] allocates nothing
/// and, given the same weights and features, returns the same bits every time: each sum runs
/// in a fixed order and nothing depends on state left by an earlier call.
///
/// ```
/// use pulse_strategy::policy::{Action, PolicyNetwork};
///
/// // No hidden layer: buy follows feature 0, sell follows feature 1, hold stays at 0.
/// let zeros = "0 ".repeat(14);
/// let text = format!(
///     "pulse-policy v1\ninput 16\nlayer 3 softmax\nweights 0\n\
///      1 0 {zeros}\n0 0 {zeros}\n0 1 {zeros}\nbias 0 0 0 0\nend\n"
/// );
/// let mut network = PolicyNetwork::parse(&text)?;
/// let mut features = [0.0; 16];
/// features[0] = 2.0;
/// let out = network.infer(&features);
/// assert_eq!(out.action, Action::Buy);
/// // e^2 / (e^2 + 1 + 1)
/// assert!((out.confidence - 0.787).abs() < 1e-3);
/// # Ok::<(), pulse_strategy::policy::PolicyError>(())
/// ```
pub struct PolicyNetwork {
    mean: [f64; FEATURES],
    std: [f64; FEATURES],
    layers: Vec<Dense>,
    front: Vec<f64>,
    back: Vec<f64>,
    /// Calls answered with [`PolicyOutput::NO_OPINION`] because a feature or an output value
    /// was NaN or infinite.
    pub non_finite: u64,
}

impl PolicyNetwork {
    pub fn new(weights: &PolicyWeights) -> PolicyNetwork {
        let (mean, std) = match weights.normalize() {
            Some(n) => (*n.mean(), *n.std()),
            None => ([0.0; FEATURES], [1.0; FEATURES]),
        };
        let layers: Vec<Dense> = weights.layers().iter().map(Dense::new).collect();
        let widest = layers.iter().map(|l| l.outputs).fold(FEATURES, usize::max);
        PolicyNetwork {
            mean,
            std,
            layers,
            front: vec![0.0; widest],
            back: vec![0.0; widest],
            non_finite: 0,
        }
    }

    /// Parses a weights file's text ([`parse`]) and builds the network.
    pub fn parse(text: &str) -> Result<PolicyNetwork, PolicyError> {
        Ok(PolicyNetwork::new(&parse(text)?))
    }

    /// Reads and parses a weights file.
    pub fn load(path: &Path) -> Result<PolicyNetwork, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|err| PolicyError {
            kind: PolicyErrorKind::Io,
            line: None,
            message: format!("reading {}: {err}", path.display()),
        })?;
        PolicyNetwork::parse(&text)
    }

    /// Evaluates the network on one decision's features. Allocates nothing.
    pub fn infer(&mut self, features: &[f64; FEATURES]) -> PolicyOutput {
        if !features.iter().all(|x| x.is_finite()) {
            self.non_finite += 1;
            return PolicyOutput::NO_OPINION;
        }
        let (mut x, mut y) = (&mut self.front, &mut self.back);
        for (((xi, f), m), s) in x.iter_mut().zip(features).zip(&self.mean).zip(&self.std) {
            *xi = (f - m) / s;
        }
        let mut width = FEATURES;
        for layer in &self.layers {
            layer.forward(&x[..width], &mut y[..layer.outputs]);
            width = layer.outputs;
            std::mem::swap(&mut x, &mut y);
        }
        let logits = [x[0], x[1], x[2]];
        if !logits.iter().all(|v| v.is_finite()) {
            self.non_finite += 1;
            return PolicyOutput::NO_OPINION;
        }
        PolicyOutput::from_probs(softmax(logits))
    }
}

/// Shifted by the largest logit so that no `exp` overflows; the sum is at least 1.
fn softmax(logits: [f64; OUTPUTS]) -> [f64; OUTPUTS] {
    let top = logits[0].max(logits[1]).max(logits[2]);
    let e = logits.map(|v| (v - top).exp());
    let sum = e[0] + e[1] + e[2];
    e.map(|v| v / sum)
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
