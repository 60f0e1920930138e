//! The policy agent's network: a small multilayer perceptron read from a weights file and
//! evaluated on the hot path without allocating.
//!
//! The network maps the 16 features of one decision to three probabilities, buy, hold and sell.
//! It is the seeds' reinforcement-learning agent, inference only: training happens offline
//! (`scripts/train_policy.py` fits it to labelled decisions), and the weights ship as text so
//! that a change of weights is reviewed as a diff.
//! Everything the evaluation needs, weights and two activation buffers, is allocated when the
//! file is loaded; [`PolicyNetwork::infer`] only reads and writes them.
//!
//! # The weights file, `pulse-policy v1`
//!
//! A text file of lines; values are separated by spaces or tabs. Blank lines and lines whose
//! first non-blank character is `#` are comments and may appear anywhere. Every other line is
//! one of these, in this order:
//!
//! ```text
//! pulse-policy v1                  the first line: format and version
//! input 16                         features per decision (always 16)
//! layer <width> <relu|tanh>        a hidden layer, 0 to 4 of them, width 1 to 256
//! layer 3 softmax                  the output layer: buy, hold, sell, in this order
//! normalize mean <16 values>       optional, with the next line: each feature becomes
//! normalize std <16 values>          (x - mean) / std before the first layer; std > 0
//! weights <k>                      for each layer k = 0, 1, ... in order: `width` rows,
//! <inputs values>                    row j holding the weights into unit j from each of the
//! ...                                layer's inputs (16 for layer 0, else the previous width)
//! bias <k> <width values>          the layer's biases, one per unit
//! end                              the last line, so that a file cut short is refused
//! ```
//!
//! Unit j of a layer computes `activation(bias[j] + sum over i of row_j[i] * input[i])`; the
//! output layer's three values go through a softmax. Values are decimal floating point numbers
//! as Rust and Python print them (`0.25`, `-1.5e-05`); NaN and infinities are refused. The
//! parser is strict: an unknown line, a line out of order, a wrong number of values or rows, a
//! size outside the bounds or a missing section is an error naming the line
//! ([`PolicyError`]). `configs/policy/README.md` has an example and the trainer's command.
//!
//! # Example
//!
//! ```
//! use pulse_engine::policy::{Action, PolicyNetwork};
//!
//! let text = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../configs/policy/example.policy"
//! ))
//! .unwrap();
//! let mut network = PolicyNetwork::parse(&text).unwrap();
//! let out = network.infer(&[0.0; 16]);
//! assert!((out.probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! assert!(matches!(out.action, Action::Buy | Action::Hold | Action::Sell));
//! ```

mod error;
#[cfg(test)]
mod naive;
mod network;
mod parse;
#[cfg(test)]
mod testing;

pub use error::{PolicyError, PolicyErrorKind};
pub use network::{Action, PolicyNetwork, PolicyOutput};
pub use parse::parse;

/// Features per decision: the width of the input.
pub const FEATURES: usize = 16;
/// Outputs of the last layer: buy, hold, sell.
pub const OUTPUTS: usize = 3;
/// The widest layer a weights file may declare.
pub const MAX_WIDTH: usize = 256;
/// The most hidden layers (between the input and the softmax layer) a weights file may declare.
pub const MAX_HIDDEN_LAYERS: usize = 4;

/// What a layer applies to each unit's weighted sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Tanh,
    /// Only the output layer, over its three values together.
    Softmax,
}

impl Activation {
    /// The word the weights file uses.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }
}

/// Per-feature normalization applied before the first layer: `(x - mean) / std`.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    mean: [f64; FEATURES],
    std: [f64; FEATURES],
}

impl Normalize {
    pub fn mean(&self) -> &[f64; FEATURES] {
        &self.mean
    }

    /// Every value is finite and positive.
    pub fn std(&self) -> &[f64; FEATURES] {
        &self.std
    }
}

/// One dense layer as the file gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    inputs: usize,
    activation: Activation,
    /// `outputs` rows of `inputs` values: row j is unit j's weights.
    weights: Vec<f64>,
    biases: Vec<f64>,
}

impl Layer {
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    pub fn outputs(&self) -> usize {
        self.biases.len()
    }

    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Unit `unit`'s weights, one per input, as the file's row.
    pub fn row(&self, unit: usize) -> &[f64] {
        &self.weights[unit * self.inputs..(unit + 1) * self.inputs]
    }

    pub fn biases(&self) -> &[f64] {
        &self.biases
    }
}

/// A weights file, parsed and checked: the layers chain (16 inputs, each layer's inputs the
/// previous one's outputs), hidden layers are relu or tanh, the last is 3-wide softmax, every
/// value is finite. [`parse`] is the only way to make one, so a network built from it is sound.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyWeights {
    normalize: Option<Normalize>,
    layers: Vec<Layer>,
}

impl PolicyWeights {
    pub fn normalize(&self) -> Option<&Normalize> {
        self.normalize.as_ref()
    }

    /// The hidden layers, then the softmax layer.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }
}
