//! Isolation forest (Liu, Ting and Zhou, ICDM 2008) over dense numeric vectors of any
//! dimension, updateable on a stream: [`IsolationForest::update`] collects points into a
//! window and, each time the window is full, replaces the oldest tree with one grown on it
//! (the sliding-window scheme of iForestASD), so the model follows a drifting normal.
//! Unlike the original, a value outside a split node's sample range isolates at that node,
//! so never-seen magnitudes (9 MB where 600 B was the maximum) score as outliers.

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};
use crate::rng::Rng;

/// Forest parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Points per tree (ψ).
    pub sample_size: usize,
    /// Share of training points expected to be anomalous (sets the threshold).
    pub contamination: f64,
    /// Random seed.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        Self { trees: 100, sample_size: 256, contamination: 0.01, seed: 42 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Node {
    /// `lo..=hi` is the feature's range in the node's sample: a value outside it is isolated
    /// at this node (a value no training point had is as isolated as a point can be).
    Split {
        feature: u32,
        threshold: f64,
        lo: f64,
        hi: f64,
        left: u32,
        right: u32,
    },
    Leaf {
        size: u32,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ITree {
    nodes: Vec<Node>,
}

/// A trained (and updateable) isolation forest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IsolationForest {
    /// Parameters.
    pub params: ForestParams,
    /// Feature dimension.
    pub dim: usize,
    /// Score above which a point is anomalous.
    pub threshold: f64,
    trees: Vec<ITree>,
    window: Vec<Vec<f64>>,
    next_replace: usize,
    rng_state: u64,
}

/// One point's score and the features that isolated it fastest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IForestScore {
    /// Anomaly score in (0, 1]; about 0.5 for ordinary points, near 1 for outliers.
    pub score: f64,
    /// Score above the threshold.
    pub anomaly: bool,
    /// (feature index, share of isolating splits weighted by shallowness), largest first.
    pub top: Vec<(usize, f64)>,
}

impl IsolationForest {
    /// Grows a forest on `rows` (all of dimension `rows[0].len()`).
    pub fn train(rows: &[Vec<f64>], params: ForestParams) -> Result<Self> {
        let dim = rows.first().map_or(0, Vec::len);
        if rows.len() < 2 || dim == 0 || params.trees == 0 || params.sample_size < 2 {
            return Err(MlError::training(
                "iforest",
                "needs ≥ 2 rows with ≥ 1 feature, trees ≥ 1, sample_size ≥ 2",
            ));
        }
        if let Some(i) = rows.iter().position(|r| r.len() != dim) {
            return Err(MlError::training(
                "iforest",
                format!("row {} has {} features, expected {dim}", i + 1, rows[i].len()),
            ));
        }
        let mut rng = Rng::new(params.seed);
        let psi = params.sample_size.min(rows.len());
        let trees = (0..params.trees)
            .map(|_| {
                let sample: Vec<&[f64]> = (0..psi).map(|_| rows[rng.below(rows.len())].as_slice()).collect();
                grow(&sample, &mut rng)
            })
            .collect();
        let mut forest = Self {
            params,
            dim,
            threshold: 1.0,
            trees,
            window: Vec::new(),
            next_replace: 0,
            rng_state: rng.next_u64(),
        };
        let mut scores: Vec<f64> = rows.iter().map(|r| forest.raw_score(r)).collect();
        scores.sort_by(f64::total_cmp);
        let q = ((scores.len() as f64 - 1.0) * (1.0 - params.contamination)).round() as usize;
        forest.threshold = scores[q.min(scores.len() - 1)];
        Ok(forest)
    }

    /// Adds one point of a stream; every `sample_size` points the oldest tree is regrown
    /// on the latest window. Returns whether a tree was replaced.
    pub fn update(&mut self, x: &[f64]) -> Result<bool> {
        if x.len() != self.dim {
            return Err(MlError::Unsupported(format!(
                "point has {} features, model has {}",
                x.len(),
                self.dim
            )));
        }
        self.window.push(x.to_vec());
        if self.window.len() < self.params.sample_size {
            return Ok(false);
        }
        let mut rng = Rng::new(self.rng_state);
        let sample: Vec<&[f64]> = self.window.iter().map(Vec::as_slice).collect();
        let tree = grow(&sample, &mut rng);
        self.rng_state = rng.next_u64();
        self.trees[self.next_replace] = tree;
        self.next_replace = (self.next_replace + 1) % self.trees.len();
        self.window.clear();
        Ok(true)
    }

    fn raw_score(&self, x: &[f64]) -> f64 {
        let total: f64 = self.trees.iter().map(|t| path_length(t, x, &mut |_, _| {})).sum();
        let mean = total / self.trees.len() as f64;
        2f64.powf(-mean / c_factor(self.params.sample_size))
    }

    /// Scores a point, with the features that isolated it.
    pub fn score(&self, x: &[f64]) -> Result<IForestScore> {
        if x.len() != self.dim {
            return Err(MlError::Unsupported(format!(
                "point has {} features, model has {}",
                x.len(),
                self.dim
            )));
        }
        let mut credit = vec![0.0; self.dim];
        let mut total = 0.0;
        for t in &self.trees {
            let mut used = Vec::new();
            let len = path_length(t, x, &mut |f, _| used.push(f));
            total += len;
            for f in used {
                credit[f] += 1.0 / len.max(1.0);
            }
        }
        let score = 2f64.powf(-(total / self.trees.len() as f64) / c_factor(self.params.sample_size));
        let sum: f64 = credit.iter().sum();
        let mut top: Vec<(usize, f64)> = credit
            .into_iter()
            .enumerate()
            .filter(|(_, c)| *c > 0.0)
            .map(|(i, c)| (i, c / sum.max(1e-12)))
            .collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        top.truncate(5);
        Ok(IForestScore { score, anomaly: score > self.threshold, top })
    }
}

/// Average path length of an unsuccessful BST search over `n` points.
fn c_factor(n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let n = n as f64;
    2.0 * ((n - 1.0).ln() + 0.577_215_664_9) - 2.0 * (n - 1.0) / n
}

fn path_length(tree: &ITree, x: &[f64], visit: &mut dyn FnMut(usize, f64)) -> f64 {
    let mut i = 0usize;
    let mut depth = 0.0;
    loop {
        match &tree.nodes[i] {
            Node::Leaf { size } => return depth + c_factor(*size as usize),
            Node::Split { feature, threshold, lo, hi, left, right } => {
                let f = *feature as usize;
                visit(f, *threshold);
                if x[f] < *lo || x[f] > *hi {
                    return depth + 1.0;
                }
                i = if x[f] < *threshold { *left } else { *right } as usize;
                depth += 1.0;
            }
        }
    }
}

fn grow(sample: &[&[f64]], rng: &mut Rng) -> ITree {
    let limit = (sample.len().max(2) as f64).log2().ceil() as usize;
    let mut tree = ITree { nodes: Vec::new() };
    build(&mut tree, sample.to_vec(), 0, limit, rng);
    tree
}

fn build(tree: &mut ITree, rows: Vec<&[f64]>, depth: usize, limit: usize, rng: &mut Rng) -> u32 {
    let id = tree.nodes.len() as u32;
    tree.nodes.push(Node::Leaf { size: rows.len() as u32 });
    if rows.len() <= 1 || depth >= limit {
        return id;
    }
    let dim = rows[0].len();
    // Features whose values differ within this node.
    let spread: Vec<(usize, f64, f64)> = (0..dim)
        .filter_map(|f| {
            let (lo, hi) = rows
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| (lo.min(r[f]), hi.max(r[f])));
            (hi > lo).then_some((f, lo, hi))
        })
        .collect();
    if spread.is_empty() {
        return id;
    }
    let (feature, lo, hi) = spread[rng.below(spread.len())];
    let threshold = rng.range(lo, hi).max(lo + f64::EPSILON * lo.abs().max(1.0));
    let (l, r): (Vec<&[f64]>, Vec<&[f64]>) = rows.into_iter().partition(|row| row[feature] < threshold);
    let left = build(tree, l, depth + 1, limit, rng);
    let right = build(tree, r, depth + 1, limit, rng);
    tree.nodes[id as usize] = Node::Split { feature: feature as u32, threshold, lo, hi, left, right };
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlier_scores_above_cluster_and_names_its_feature() {
        let mut rng = Rng::new(1);
        let mut bell = || (rng.unit() + rng.unit() + rng.unit()) / 3.0;
        let rows: Vec<Vec<f64>> = (0..500).map(|_| vec![bell(), bell()]).collect();
        let f = IsolationForest::train(&rows, ForestParams::default()).unwrap();
        let normal = f.score(&[0.5, 0.5]).unwrap();
        let outlier = f.score(&[0.5, 9.0]).unwrap();
        assert!(outlier.score > normal.score + 0.1, "{outlier:?} vs {normal:?}");
        assert!(outlier.anomaly && !normal.anomaly, "{outlier:?} {normal:?} threshold {}", f.threshold);
        assert_eq!(outlier.top[0].0, 1);
    }
}
