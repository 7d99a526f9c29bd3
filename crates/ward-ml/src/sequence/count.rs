//! Count-vector model (Xu et al., SOSP 2009, as in loglizer's PCA): each session becomes a
//! vector of key counts (TF-IDF weighted, centred); the principal subspace of normal
//! sessions is learnt, and a session whose residual (squared prediction error, SPE) exceeds
//! the threshold learnt on normal sessions is anomalous. Explanations name the keys with
//! the largest residual contribution.

use serde::{Deserialize, Serialize};

use super::{Session, Vocab};
use crate::error::{MlError, Result};
use crate::linalg::symmetric_eigen;

/// Training parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountParams {
    /// Share of variance the principal subspace keeps.
    pub variance: f64,
    /// Quantile of normal training SPE used as the threshold.
    pub quantile: f64,
    /// Multiplier on that quantile (slack for unseen normal behaviour).
    pub margin: f64,
}

impl Default for CountParams {
    fn default() -> Self {
        Self { variance: 0.95, quantile: 0.995, margin: 1.5 }
    }
}

/// A trained count-vector PCA model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CountModel {
    /// Parameters it was trained with.
    pub params: CountParams,
    /// Key vocabulary (index 0 = unknown keys).
    pub vocab: Vocab,
    idf: Vec<f64>,
    mean: Vec<f64>,
    /// Principal components, one row per component.
    components: Vec<Vec<f64>>,
    /// SPE threshold.
    pub threshold: f64,
}

/// A key's share of a session's residual.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The key.
    pub key: String,
    /// Times it occurred in the session.
    pub count: f64,
    /// Squared residual of its (weighted) count.
    pub residual: f64,
}

/// Score of one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountScore {
    /// SPE above threshold.
    pub anomaly: bool,
    /// SPE / (SPE + threshold), in [0, 1); 0.5 at the threshold.
    pub score: f64,
    /// Raw squared prediction error.
    pub spe: f64,
    /// Top keys by residual.
    pub top: Vec<Contribution>,
}

impl CountModel {
    /// Trains on normal sessions.
    pub fn train(sessions: &[Session], params: CountParams) -> Result<Self> {
        if sessions.len() < 2 {
            return Err(MlError::training("count", "needs at least 2 sessions"));
        }
        let vocab = Vocab::build(sessions);
        let d = vocab.len();
        let raw: Vec<Vec<f64>> = sessions.iter().map(|s| counts(&vocab, &s.keys)).collect();
        let n = raw.len() as f64;
        let mut df = vec![0.0; d];
        for v in &raw {
            for (j, &c) in v.iter().enumerate() {
                if c > 0.0 {
                    df[j] += 1.0;
                }
            }
        }
        let idf: Vec<f64> = df.iter().map(|&f| (n / (f + 1.0)).ln().max(0.0) + 1.0).collect();
        let weighted: Vec<Vec<f64>> = raw.iter().map(|v| weigh(v, &idf)).collect();
        let mut mean = vec![0.0; d];
        for v in &weighted {
            for (m, x) in mean.iter_mut().zip(v) {
                *m += x / n;
            }
        }
        let mut cov = vec![vec![0.0; d]; d];
        for v in &weighted {
            let c: Vec<f64> = v.iter().zip(&mean).map(|(x, m)| x - m).collect();
            for i in 0..d {
                if c[i] == 0.0 {
                    continue;
                }
                for j in i..d {
                    cov[i][j] += c[i] * c[j] / n;
                }
            }
        }
        for i in 0..d {
            let upper: Vec<f64> = (0..i).map(|j| cov[j][i]).collect();
            cov[i][..i].copy_from_slice(&upper);
        }
        let (values, vectors) = symmetric_eigen(cov);
        let total: f64 = values.iter().filter(|v| **v > 0.0).sum();
        let mut components = Vec::new();
        let mut kept = 0.0;
        for (val, vec) in values.iter().zip(vectors) {
            if total <= 0.0 || kept / total >= params.variance {
                break;
            }
            kept += val.max(0.0);
            components.push(vec);
        }
        let mut model = Self { params, vocab, idf, mean, components, threshold: 0.0 };
        let mut spes: Vec<f64> =
            weighted.iter().map(|v| model.residual(v).iter().map(|r| r * r).sum()).collect();
        spes.sort_by(f64::total_cmp);
        let q = ((spes.len() as f64 - 1.0) * params.quantile).round() as usize;
        model.threshold = (spes[q.min(spes.len() - 1)] * params.margin).max(1e-9);
        Ok(model)
    }

    fn residual(&self, weighted: &[f64]) -> Vec<f64> {
        let c: Vec<f64> = weighted.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        let mut r = c.clone();
        for pc in &self.components {
            let dot: f64 = pc.iter().zip(&c).map(|(a, b)| a * b).sum();
            for (ri, p) in r.iter_mut().zip(pc) {
                *ri -= dot * p;
            }
        }
        r
    }

    /// Scores a session.
    pub fn score(&self, keys: &[String]) -> CountScore {
        let raw = counts(&self.vocab, keys);
        let r = self.residual(&weigh(&raw, &self.idf));
        let spe: f64 = r.iter().map(|x| x * x).sum();
        let mut top: Vec<Contribution> = r
            .iter()
            .enumerate()
            .filter(|(_, x)| x.abs() > 1e-12)
            .map(|(j, x)| Contribution {
                key: self.vocab.key(j as u32).to_owned(),
                count: raw[j],
                residual: x * x,
            })
            .collect();
        top.sort_by(|a, b| b.residual.total_cmp(&a.residual));
        top.truncate(5);
        CountScore { anomaly: spe > self.threshold, score: spe / (spe + self.threshold), spe, top }
    }
}

fn counts(vocab: &Vocab, keys: &[String]) -> Vec<f64> {
    let mut v = vec![0.0; vocab.len()];
    for k in keys {
        v[vocab.id(k) as usize] += 1.0;
    }
    v
}

fn weigh(raw: &[f64], idf: &[f64]) -> Vec<f64> {
    raw.iter().zip(idf).map(|(c, w)| c * w).collect()
}
