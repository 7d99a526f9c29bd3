//! Binary classification metrics (attack/anomaly = positive) shared by every evaluation.

use serde::{Deserialize, Serialize};

/// Confusion counts and the derived rates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// True negatives.
    pub tn: u64,
    /// False negatives.
    pub fn_: u64,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// fp / (fp + tn).
    pub fpr: f64,
    /// (tp + tn) / all.
    pub accuracy: f64,
}

impl Metrics {
    /// Metrics from (predicted, actual) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> Self {
        let mut m = Self::default();
        for (pred, actual) in pairs {
            m.add(pred, actual);
        }
        m.finish()
    }

    /// Counts one prediction.
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }

    /// Computes the rates from the counts.
    pub fn finish(mut self) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        };
        self.fpr = ratio(self.fp, self.fp + self.tn);
        self.accuracy = ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn_);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_counts() {
        let m = Metrics::from_pairs([(true, true), (true, false), (false, false), (false, true)]);
        assert_eq!((m.tp, m.fp, m.tn, m.fn_), (1, 1, 1, 1));
        assert!((m.f1 - 0.5).abs() < 1e-12 && (m.fpr - 0.5).abs() < 1e-12);
    }
}
