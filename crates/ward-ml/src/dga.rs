//! DGA domain classifier: hashed character 1–4-gram features of the registrable label plus
//! length, entropy, digit and vowel shares, and an L2-regularised logistic regression trained
//! by SGD. Small (2^16 weights), fast, and explained by the n-grams that pushed the score.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{MlError, Result};
use crate::rng::Rng;

const BITS: u32 = 16;
const DENSE: usize = 4;

/// Training parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DgaParams {
    /// Passes over the data.
    pub epochs: usize,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// L2 penalty.
    pub l2: f64,
    /// Probability above which a name is called generated.
    pub threshold: f64,
    /// Random seed (shuffling).
    pub seed: u64,
}

impl Default for DgaParams {
    fn default() -> Self {
        Self { epochs: 6, learning_rate: 0.2, l2: 1e-6, threshold: 0.5, seed: 11 }
    }
}

/// A trained DGA classifier.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DgaModel {
    /// Parameters.
    pub params: DgaParams,
    weights: Vec<f32>,
    dense: [f64; DENSE],
    bias: f64,
}

/// One classified name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DgaScore {
    /// Probability that the name was machine-generated.
    pub probability: f64,
    /// Above the threshold.
    pub generated: bool,
    /// The label the model scored (registrable part of the name).
    pub label: String,
    /// Features that pushed the score up most (n-grams as `"abc"`, or dense names).
    pub top: Vec<(String, f64)>,
}

/// The part of a DNS name a DGA controls: the label left of the public suffix, approximated
/// as the longest of the labels before the last one (the TLD), ignoring `www`.
pub fn registrable_label(name: &str) -> String {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
    let body = if labels.len() > 1 { &labels[..labels.len() - 1] } else { &labels[..] };
    body.iter().filter(|l| **l != "www").max_by_key(|l| l.len()).map_or_else(String::new, |l| (*l).to_owned())
}

fn ngrams(label: &str) -> Vec<(u32, String)> {
    let padded: Vec<char> = format!("^{label}$").chars().collect();
    let mut out = Vec::new();
    for n in 1..=4 {
        for w in padded.windows(n) {
            let g: String = w.iter().collect();
            let h = (xxh3_64(g.as_bytes()) & ((1 << BITS) - 1)) as u32;
            out.push((h, g));
        }
    }
    out
}

fn dense(label: &str) -> [f64; DENSE] {
    let n = label.chars().count().max(1) as f64;
    let mut freq = std::collections::HashMap::new();
    for c in label.chars() {
        *freq.entry(c).or_insert(0.0) += 1.0;
    }
    let entropy: f64 = freq.values().map(|&c: &f64| -(c / n) * (c / n).log2()).sum();
    let digits = label.chars().filter(char::is_ascii_digit).count() as f64 / n;
    let vowels = label.chars().filter(|c| "aeiou".contains(*c)).count() as f64 / n;
    [n / 20.0, entropy / 4.0, digits, vowels]
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl DgaModel {
    /// Trains on (name, generated?) pairs.
    pub fn train(data: &[(String, bool)], params: DgaParams) -> Result<Self> {
        if data.iter().all(|d| d.1) || data.iter().all(|d| !d.1) {
            return Err(MlError::training("dga", "needs both generated and legitimate names"));
        }
        let feats: Vec<(Vec<u32>, [f64; DENSE], bool)> = data
            .iter()
            .map(|(name, y)| {
                let l = registrable_label(name);
                (ngrams(&l).into_iter().map(|(h, _)| h).collect(), dense(&l), *y)
            })
            .collect();
        let mut m = Self { params, weights: vec![0.0; 1 << BITS], dense: [0.0; DENSE], bias: 0.0 };
        let mut order: Vec<usize> = (0..feats.len()).collect();
        let mut rng = Rng::new(params.seed);
        let mut step = 0f64;
        for _ in 0..params.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let (hs, d, y) = &feats[i];
                let lr = params.learning_rate / (1.0 + step * 1e-5).sqrt();
                step += 1.0;
                let p = sigmoid(m.margin(hs, d));
                let g = p - f64::from(u8::from(*y));
                for &h in hs {
                    let w = &mut m.weights[h as usize];
                    *w -= (lr * (g + params.l2 * f64::from(*w))) as f32;
                }
                for (w, x) in m.dense.iter_mut().zip(d) {
                    *w -= lr * (g * x + params.l2 * *w);
                }
                m.bias -= lr * g;
            }
        }
        Ok(m)
    }

    fn margin(&self, hs: &[u32], d: &[f64; DENSE]) -> f64 {
        let sparse: f64 = hs.iter().map(|&h| f64::from(self.weights[h as usize])).sum();
        sparse + self.dense.iter().zip(d).map(|(w, x)| w * x).sum::<f64>() + self.bias
    }

    /// Classifies a DNS name (`www.example.com` or a bare label).
    pub fn score(&self, name: &str) -> DgaScore {
        let label = registrable_label(name);
        let grams = ngrams(&label);
        let d = dense(&label);
        let hs: Vec<u32> = grams.iter().map(|(h, _)| *h).collect();
        let probability = sigmoid(self.margin(&hs, &d));
        let mut top: Vec<(String, f64)> =
            grams.into_iter().map(|(h, g)| (g, f64::from(self.weights[h as usize]))).collect();
        for (name, (w, x)) in ["length", "entropy", "digits", "vowels"].iter().zip(self.dense.iter().zip(d)) {
            top.push(((*name).to_owned(), w * x));
        }
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        top.dedup_by(|a, b| a.0 == b.0);
        top.truncate(5);
        DgaScore { probability, generated: probability > self.params.threshold, label, top }
    }
}

/// Reads a labelled domain CSV (`domain,class,…` with a header; `.gz` allowed): class `dga`
/// (or `1`, `malicious`) is generated, anything else legitimate.
pub fn read_labelled(path: &Path) -> Result<Vec<(String, bool)>> {
    let text = read_text(path)?;
    let mut lines = text.lines();
    let header = crate::csv::split(lines.next().unwrap_or_default());
    let col = |n: &str| header.iter().position(|h| h == n);
    let (d, c) = match (col("domain"), col("class").or_else(|| col("label"))) {
        (Some(d), Some(c)) => (d, c),
        _ => {
            return Err(MlError::Input {
                path: path.display().to_string(),
                line: 1,
                reason: "expected `domain` and `class` (or `label`) columns".into(),
            });
        }
    };
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let f = crate::csv::split(line);
        match (f.get(d), f.get(c)) {
            (Some(name), Some(class)) => {
                out.push((name.clone(), matches!(class.as_str(), "dga" | "1" | "malicious")))
            }
            _ => {
                return Err(MlError::Input {
                    path: path.display().to_string(),
                    line: i + 2,
                    reason: "missing fields".into(),
                });
            }
        }
    }
    Ok(out)
}

/// Reads a text file, gunzipping `.gz`.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| MlError::io(path, e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut s)
            .map_err(|e| MlError::io(path, e))?;
        Ok(s)
    } else {
        String::from_utf8(bytes)
            .map_err(|e| MlError::io(path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_label_skips_tld_and_www() {
        assert_eq!(registrable_label("www.Google.com."), "google");
        assert_eq!(registrable_label("xjw9qkz"), "xjw9qkz");
    }
}
