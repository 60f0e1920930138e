//! The textbook evaluation of a policy network, as a straightforward implementation writes it:
//! a `Vec<Vec<f64>>` matrix per layer, a fresh `Vec` per layer per call. The unit tests check
//! [`super::PolicyNetwork`] against it, and the policy bench (which includes this file) measures
//! against it.

use super::{Activation, PolicyWeights};

pub struct NaivePolicy {
    mean: Vec<f64>,
    std: Vec<f64>,
    /// Per layer: rows of weights (one per unit), biases, activation.
    layers: Vec<(Vec<Vec<f64>>, Vec<f64>, Activation)>,
}

impl NaivePolicy {
    pub fn new(weights: &PolicyWeights) -> NaivePolicy {
        let (mean, std) = match weights.normalize() {
            Some(n) => (n.mean().to_vec(), n.std().to_vec()),
            None => (vec![0.0; 16], vec![1.0; 16]),
        };
        let layers = weights
            .layers()
            .iter()
            .map(|layer| {
                let rows = (0..layer.outputs())
                    .map(|j| layer.row(j).to_vec())
                    .collect();
                (rows, layer.biases().to_vec(), layer.activation())
            })
            .collect();
        NaivePolicy { mean, std, layers }
    }

    /// Buy, hold and sell probabilities.
    pub fn probs(&self, features: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = features
            .iter()
            .zip(&self.mean)
            .zip(&self.std)
            .map(|((f, m), s)| (f - m) / s)
            .collect();
        for (rows, biases, activation) in &self.layers {
            let mut y = Vec::new();
            for (row, bias) in rows.iter().zip(biases) {
                let mut sum = *bias;
                for (w, xi) in row.iter().zip(&x) {
                    sum += w * xi;
                }
                y.push(match activation {
                    Activation::Relu => sum.max(0.0),
                    Activation::Tanh => sum.tanh(),
                    Activation::Softmax => sum,
                });
            }
            x = y;
        }
        let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = x.iter().map(|v| (v - top).exp()).collect();
        let total: f64 = exps.iter().sum();
        exps.iter().map(|e| e / total).collect()
    }
}
