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
//! use pulse_strategy::policy::{Action, PolicyNetwork};
//!
//! let text = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../configs/policy/example.policy"
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
mod weights;

pub use error::{PolicyError, PolicyErrorKind};
pub use network::{Action, PolicyNetwork, PolicyOutput};
pub use parse::parse;
pub use weights::{
    Activation, Layer, Normalize, PolicyWeights, FEATURES, MAX_HIDDEN_LAYERS, MAX_WIDTH, OUTPUTS,
};
