//! A weights file's content once parsed and checked: layers, activations, normalization.

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
    pub(super) mean: [f64; FEATURES],
    pub(super) std: [f64; FEATURES],
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
    pub(super) inputs: usize,
    pub(super) activation: Activation,
    /// `outputs` rows of `inputs` values: row j is unit j's weights.
    pub(super) weights: Vec<f64>,
    pub(super) biases: Vec<f64>,
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
    pub(super) normalize: Option<Normalize>,
    pub(super) layers: Vec<Layer>,
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
