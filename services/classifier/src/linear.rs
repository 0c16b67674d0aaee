//! Multinomial logistic regression (softmax) over hashed sparse TF-IDF features, trained with
//! SGD.
//!
//! Written here rather than taken from linfa because linfa-logistic and linfa-bayes take dense
//! `ndarray` matrices: with 2^18 hashed buckets a dense training matrix of ~16,000 rows would
//! need ~16 GB (f32). The learner is ~100 lines, deterministic for a given seed, and gives the
//! per-class probabilities and per-feature contributions that confidence and reasons need.

use serde::{Deserialize, Serialize};

use super::features::SparseVector;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct SgdOptions {
    pub(crate) epochs: u32,
    pub(crate) learning_rate: f32,
    pub(crate) l2: f32,
    pub(crate) seed: u64,
    pub(crate) decay: bool,
    /// Return the average of the weights over all steps (Polyak–Ruppert) instead of the last.
    pub(crate) average: bool,
}

/// A trained softmax model: `classes` weights per bucket, row-major by bucket, and the inverse
/// document frequency of each bucket (0 for buckets the model does not know).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SoftmaxModel {
    pub(crate) buckets: u32,
    pub(crate) classes: usize,
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
    pub(crate) idf: Vec<f32>,
}

/// splitmix64: a tiny, well-known deterministic generator for shuffling.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl SoftmaxModel {
    /// Inverse document frequency of `bucket`; 0 when the model does not know it.
    pub(crate) fn idf(&self, bucket: u32) -> f32 {
        self.idf.get(bucket as usize).copied().unwrap_or(0.0)
    }

    /// Class probabilities for one vector, written into `out` (length `classes`).
    pub(crate) fn probabilities(&self, features: &SparseVector, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for (&bucket, &value) in features.buckets.iter().zip(&features.values) {
            let row = &self.weights[bucket as usize * self.classes..][..self.classes];
            for (score, weight) in out.iter_mut().zip(row) {
                *score += weight * value;
            }
        }
        softmax(out);
    }

    /// Contribution of one bucket with `value` to one class's score.
    pub(crate) fn contribution(&self, bucket: u32, class: usize, value: f32) -> f32 {
        self.weights[bucket as usize * self.classes + class] * value
    }

    /// Trains on `(features, class, sample weight)`, every vector weighted with `idf`. The
    /// learning rate decays as `learning_rate / (1 + epoch)`; L2 shrinks only the weights a
    /// sample touches (lazy regularisation, so one step costs O(non-zeros · classes)).
    pub(crate) fn train(
        buckets: u32,
        classes: usize,
        idf: Vec<f32>,
        samples: &[(SparseVector, usize, f32)],
        options: SgdOptions,
    ) -> SoftmaxModel {
        let mut model = SoftmaxModel {
            buckets,
            classes,
            weights: vec![0.0; buckets as usize * classes],
            bias: vec![0.0; classes],
            idf,
        };
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut rng = SplitMix64(options.seed);
        let mut probabilities = vec![0.0f32; classes];
        let mut gradient = vec![0.0f32; classes];
        // Averaging without touching every weight each step: with step counter t, every change
        // d to w also adds t·d to `weighted`; the average of w over T steps is w − weighted / T.
        let mut weighted = if options.average {
            vec![0.0f32; model.weights.len()]
        } else {
            Vec::new()
        };
        let mut weighted_bias = vec![0.0f32; classes];
        let mut step = 0.0f32;
        for epoch in 0..options.epochs {
            for i in (1..order.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let rate = if options.decay {
                options.learning_rate / (1.0 + epoch as f32)
            } else {
                options.learning_rate
            };
            let shrink = rate * options.l2;
            for &index in &order {
                step += 1.0;
                let (features, class, weight) = &samples[index];
                model.probabilities(features, &mut probabilities);
                for (c, (slot, probability)) in gradient.iter_mut().zip(&probabilities).enumerate()
                {
                    let target = if c == *class { 1.0 } else { 0.0 };
                    *slot = (probability - target) * weight;
                }
                for ((bias, weighted), g) in
                    model.bias.iter_mut().zip(&mut weighted_bias).zip(&gradient)
                {
                    *bias -= rate * g;
                    *weighted -= step * rate * g;
                }
                for (&bucket, &value) in features.buckets.iter().zip(&features.values) {
                    let start = bucket as usize * classes;
                    let row = &mut model.weights[start..start + classes];
                    if options.average {
                        let sums = &mut weighted[start..start + classes];
                        for ((slot, sum), g) in row.iter_mut().zip(sums).zip(&gradient) {
                            let change = rate * g * value + shrink * *slot;
                            *slot -= change;
                            *sum -= step * change;
                        }
                    } else {
                        for (slot, g) in row.iter_mut().zip(&gradient) {
                            *slot -= rate * g * value + shrink * *slot;
                        }
                    }
                }
            }
        }
        if options.average && step > 0.0 {
            for (slot, sum) in model.weights.iter_mut().zip(&weighted) {
                *slot -= sum / step;
            }
            for (bias, sum) in model.bias.iter_mut().zip(&weighted_bias) {
                *bias -= sum / step;
            }
        }
        model
    }
}

fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for score in scores.iter_mut() {
        *score = (*score - max).exp();
        sum += *score;
    }
    for score in scores.iter_mut() {
        *score /= sum;
    }
}

/// Sparse, serialisable form: only known buckets are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSoftmax {
    pub(crate) classes: Vec<String>,
    pub(crate) bias: Vec<f32>,
    /// `(bucket, idf, weights per class)`, rounded to 4 decimals.
    pub(crate) rows: Vec<(u32, f32, Vec<f32>)>,
}

fn round(value: f32) -> f32 {
    (value * 1e4).round() / 1e4
}

impl SoftmaxModel {
    pub(crate) fn to_stored(&self, class_names: Vec<String>) -> StoredSoftmax {
        let rows = (0..self.buckets)
            .filter(|bucket| self.idf(*bucket) > 0.0)
            .map(|bucket| {
                let row = bucket as usize * self.classes;
                (
                    bucket,
                    round(self.idf(bucket)),
                    self.weights[row..row + self.classes]
                        .iter()
                        .copied()
                        .map(round)
                        .collect(),
                )
            })
            .collect();
        StoredSoftmax {
            classes: class_names,
            bias: self.bias.clone(),
            rows,
        }
    }

    /// Rebuilds a model; `None` when the stored form is inconsistent with `buckets`.
    pub(crate) fn from_stored(stored: &StoredSoftmax, buckets: u32) -> Option<SoftmaxModel> {
        let classes = stored.classes.len();
        if classes == 0 || stored.bias.len() != classes || !buckets.is_power_of_two() {
            return None;
        }
        let mut weights = vec![0.0; buckets as usize * classes];
        let mut idf = vec![0.0; buckets as usize];
        for (bucket, weight, row) in &stored.rows {
            let sane = *bucket < buckets
                && row.len() == classes
                && weight.is_finite()
                && *weight > 0.0
                && row.iter().all(|w| w.is_finite());
            if !sane {
                return None;
            }
            let start = *bucket as usize * classes;
            weights[start..start + classes].copy_from_slice(row);
            idf[*bucket as usize] = *weight;
        }
        Some(SoftmaxModel {
            buckets,
            classes,
            weights,
            bias: stored.bias.clone(),
            idf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(buckets: &[u32]) -> SparseVector {
        SparseVector {
            buckets: buckets.to_vec(),
            values: vec![1.0 / (buckets.len() as f32).sqrt(); buckets.len()],
        }
    }

    #[test]
    fn learns_a_separable_problem_and_round_trips() {
        let samples: Vec<_> = (0..50)
            .flat_map(|_| [(vector(&[1, 2]), 0, 1.0), (vector(&[3, 4]), 1, 1.0)])
            .collect();
        let mut idf = vec![0.0; 64];
        idf[1..5].fill(1.5);
        let options = SgdOptions {
            epochs: 5,
            learning_rate: 0.5,
            l2: 0.0,
            seed: 7,
            decay: true,
            average: true,
        };
        let model = SoftmaxModel::train(64, 2, idf, &samples, options);
        let mut probabilities = [0.0; 2];
        model.probabilities(&vector(&[1, 2]), &mut probabilities);
        assert!(probabilities[0] > 0.9, "{probabilities:?}");
        let stored = model.to_stored(vec!["a".into(), "b".into()]);
        assert_eq!(stored.rows.len(), 4);
        assert_eq!(stored.rows[0].1, 1.5);
        let restored = SoftmaxModel::from_stored(&stored, 64).expect("consistent");
        let mut again = [0.0; 2];
        restored.probabilities(&vector(&[3, 4]), &mut again);
        assert!(again[1] > 0.9, "{again:?}");
        assert_eq!(restored.idf(2), 1.5);
        assert_eq!(restored.idf(9), 0.0);
        assert!(SoftmaxModel::from_stored(&stored, 2).is_none());
    }
}
