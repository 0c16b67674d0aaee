//! Multinomial logistic regression (softmax) over hashed sparse features, trained with SGD.
//!
//! Written here rather than taken from linfa because linfa-logistic and linfa-bayes take dense
//! `ndarray` matrices: with 2^18 hashed buckets a dense training matrix of ~12,000 rows would
//! need ~12 GB (f32). The learner is ~100 lines, deterministic for a given seed, and gives the
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
}

/// A trained softmax model: `classes.len()` weights per bucket, row-major by bucket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SoftmaxModel {
    pub(crate) buckets: u32,
    pub(crate) classes: usize,
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
    /// Buckets seen in at least `min_document_frequency` training documents.
    pub(crate) known: Vec<u64>,
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
    pub(crate) fn is_known(&self, bucket: u32) -> bool {
        let bucket = bucket as usize;
        self.known
            .get(bucket / 64)
            .is_some_and(|word| word & (1 << (bucket % 64)) != 0)
    }

    /// Class probabilities for one vector, written into `out` (length `classes`).
    pub(crate) fn probabilities(&self, features: &SparseVector, out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for &bucket in &features.buckets {
            let row = bucket as usize * self.classes;
            for (score, weight) in out.iter_mut().zip(&self.weights[row..row + self.classes]) {
                *score += weight * features.value;
            }
        }
        softmax(out);
    }

    /// Contribution of one bucket to one class's score.
    pub(crate) fn contribution(&self, bucket: u32, class: usize, value: f32) -> f32 {
        self.weights[bucket as usize * self.classes + class] * value
    }

    /// Trains on `(features, class, sample weight)`. Features of buckets outside `known` must
    /// already be filtered out by the caller.
    pub(crate) fn train(
        buckets: u32,
        classes: usize,
        known: Vec<u64>,
        samples: &[(SparseVector, usize, f32)],
        options: SgdOptions,
    ) -> SoftmaxModel {
        let mut model = SoftmaxModel {
            buckets,
            classes,
            weights: vec![0.0; buckets as usize * classes],
            bias: vec![0.0; classes],
            known,
        };
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut rng = SplitMix64(options.seed);
        let mut probabilities = vec![0.0f32; classes];
        for epoch in 0..options.epochs {
            for i in (1..order.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let rate = options.learning_rate / (1.0 + epoch as f32);
            for &index in &order {
                let (features, class, weight) = &samples[index];
                model.probabilities(features, &mut probabilities);
                for (c, probability) in probabilities.iter().enumerate() {
                    let target = if c == *class { 1.0 } else { 0.0 };
                    let gradient = (probability - target) * weight;
                    model.bias[c] -= rate * gradient;
                    for &bucket in &features.buckets {
                        let slot = &mut model.weights[bucket as usize * classes + c];
                        *slot -= rate * (gradient * features.value + options.l2 * *slot);
                    }
                }
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
    /// `(bucket, weights per class)`, weights rounded to 4 decimals.
    pub(crate) rows: Vec<(u32, Vec<f32>)>,
}

impl SoftmaxModel {
    pub(crate) fn to_stored(&self, class_names: Vec<String>) -> StoredSoftmax {
        let round = |weight: f32| (weight * 1e4).round() / 1e4;
        let rows = (0..self.buckets)
            .filter(|bucket| self.is_known(*bucket))
            .map(|bucket| {
                let row = bucket as usize * self.classes;
                (
                    bucket,
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
        let mut known = vec![0u64; (buckets as usize).div_ceil(64)];
        for (bucket, row) in &stored.rows {
            if *bucket >= buckets || row.len() != classes || row.iter().any(|w| !w.is_finite()) {
                return None;
            }
            let start = *bucket as usize * classes;
            weights[start..start + classes].copy_from_slice(row);
            known[*bucket as usize / 64] |= 1 << (bucket % 64);
        }
        Some(SoftmaxModel {
            buckets,
            classes,
            weights,
            bias: stored.bias.clone(),
            known,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(buckets: &[u32]) -> SparseVector {
        SparseVector {
            buckets: buckets.to_vec(),
            value: 1.0 / (buckets.len() as f32).sqrt(),
        }
    }

    #[test]
    fn learns_a_separable_problem_and_round_trips() {
        let samples: Vec<_> = (0..50)
            .flat_map(|_| [(vector(&[1, 2]), 0, 1.0), (vector(&[3, 4]), 1, 1.0)])
            .collect();
        let known = vec![0b11110];
        let options = SgdOptions {
            epochs: 5,
            learning_rate: 0.5,
            l2: 0.0,
            seed: 7,
        };
        let model = SoftmaxModel::train(64, 2, known, &samples, options);
        let mut probabilities = [0.0; 2];
        model.probabilities(&vector(&[1, 2]), &mut probabilities);
        assert!(probabilities[0] > 0.9, "{probabilities:?}");
        let stored = model.to_stored(vec!["a".into(), "b".into()]);
        assert_eq!(stored.rows.len(), 4);
        let restored = SoftmaxModel::from_stored(&stored, 64).expect("consistent");
        let mut again = [0.0; 2];
        restored.probabilities(&vector(&[3, 4]), &mut again);
        assert!(again[1] > 0.9, "{again:?}");
        assert!(SoftmaxModel::from_stored(&stored, 2).is_none());
    }
}
