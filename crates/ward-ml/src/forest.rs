//! Random forest binary classifier (Breiman 2001) on histogram-binned features: each
//! feature is cut once into at most 64 quantile bins, so a split search is one pass over a
//! node's rows per candidate feature. Scores come with per-prediction feature
//! contributions (the change of the attack share along each decision path, Saabas-style).

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};
use crate::rng::Rng;

/// Maximum bins per feature.
const MAX_BINS: usize = 64;

/// Forest parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Maximum depth.
    pub max_depth: usize,
    /// Minimum rows in a leaf.
    pub min_leaf: usize,
    /// Features tried per split (0 = √features).
    pub mtry: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for RandomForestParams {
    fn default() -> Self {
        Self { trees: 60, max_depth: 18, min_leaf: 1, mtry: 0, seed: 7 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TNode {
    /// Attack share of the training rows reaching this node.
    value: f64,
    /// (feature, bin threshold: go left when bin ≤ it, left, right); None for leaves.
    split: Option<(u32, u8, u32, u32)>,
}

/// A trained random forest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RandomForest {
    /// Parameters.
    pub params: RandomForestParams,
    /// Upper bin edges per feature (value ≤ edge[b] → bin b).
    edges: Vec<Vec<f64>>,
    trees: Vec<Vec<TNode>>,
}

/// One prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForestScore {
    /// Mean attack probability over trees.
    pub probability: f64,
    /// (feature index, contribution to the probability), largest magnitude first.
    pub top: Vec<(usize, f64)>,
}

impl RandomForest {
    /// Trains on `rows` with binary `labels` (true = attack).
    pub fn train(rows: &[Vec<f64>], labels: &[bool], params: RandomForestParams) -> Result<Self> {
        let dim = rows.first().map_or(0, Vec::len);
        if rows.len() != labels.len() || rows.len() < 2 || dim == 0 || params.trees == 0 {
            return Err(MlError::training("tabular", "needs ≥ 2 labelled rows with ≥ 1 feature"));
        }
        let edges: Vec<Vec<f64>> = (0..dim).map(|f| bin_edges(rows.iter().map(|r| r[f]))).collect();
        let binned: Vec<Vec<u8>> = rows.iter().map(|r| bin_row(&edges, r)).collect();
        let mtry = if params.mtry == 0 { (dim as f64).sqrt().ceil() as usize } else { params.mtry.min(dim) };
        let mut rng = Rng::new(params.seed);
        let trees = (0..params.trees)
            .map(|_| {
                let idx: Vec<u32> = (0..rows.len()).map(|_| rng.below(rows.len()) as u32).collect();
                let mut nodes = Vec::new();
                let ctx = Ctx { binned: &binned, labels, edges: &edges, mtry, params };
                grow(&ctx, &mut nodes, idx, 0, &mut rng);
                nodes
            })
            .collect();
        Ok(Self { params, edges, trees })
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.edges.len()
    }

    /// Predicts one row.
    pub fn score(&self, row: &[f64]) -> ForestScore {
        let bins = bin_row(&self.edges, row);
        let mut contrib = vec![0.0; self.edges.len()];
        let mut total = 0.0;
        for tree in &self.trees {
            let mut i = 0usize;
            while let Some((f, t, l, r)) = tree[i].split {
                let next = if bins[f as usize] <= t { l } else { r } as usize;
                contrib[f as usize] += tree[next].value - tree[i].value;
                i = next;
            }
            total += tree[i].value;
        }
        let n = self.trees.len() as f64;
        let mut top: Vec<(usize, f64)> =
            contrib.into_iter().enumerate().filter(|(_, c)| *c != 0.0).map(|(f, c)| (f, c / n)).collect();
        top.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        top.truncate(5);
        ForestScore { probability: total / n, top }
    }
}

struct Ctx<'a> {
    binned: &'a [Vec<u8>],
    labels: &'a [bool],
    edges: &'a [Vec<f64>],
    mtry: usize,
    params: RandomForestParams,
}

fn grow(ctx: &Ctx<'_>, nodes: &mut Vec<TNode>, idx: Vec<u32>, depth: usize, rng: &mut Rng) -> u32 {
    let id = nodes.len() as u32;
    let pos = idx.iter().filter(|&&i| ctx.labels[i as usize]).count();
    let n = idx.len();
    nodes.push(TNode { value: pos as f64 / n.max(1) as f64, split: None });
    if pos == 0 || pos == n || depth >= ctx.params.max_depth || n < 2 * ctx.params.min_leaf.max(1) {
        return id;
    }
    let parent = gini(pos as f64, n as f64);
    let mut best: Option<(f64, usize, u8)> = None;
    let dim = ctx.edges.len();
    let mut tried = 0;
    let mut order: Vec<usize> = (0..dim).collect();
    rng.shuffle(&mut order);
    for &f in &order {
        if tried >= ctx.mtry {
            break;
        }
        let bins = ctx.edges[f].len() + 1;
        if bins < 2 {
            continue;
        }
        tried += 1;
        let mut cnt = [[0u32; 2]; MAX_BINS + 1];
        for &i in &idx {
            cnt[ctx.binned[i as usize][f] as usize][usize::from(ctx.labels[i as usize])] += 1;
        }
        let (mut ln, mut lp) = (0f64, 0f64);
        for (b, c) in cnt.iter().enumerate().take(bins - 1) {
            ln += f64::from(c[0] + c[1]);
            lp += f64::from(c[1]);
            let rn = n as f64 - ln;
            if ln < ctx.params.min_leaf as f64 || rn < ctx.params.min_leaf as f64 {
                continue;
            }
            let rp = pos as f64 - lp;
            let g = (ln * gini(lp, ln) + rn * gini(rp, rn)) / n as f64;
            if g < parent - 1e-12 && best.is_none_or(|(bg, _, _)| g < bg) {
                best = Some((g, f, b as u8));
            }
        }
    }
    let Some((_, f, t)) = best else { return id };
    let (l, r): (Vec<u32>, Vec<u32>) = idx.into_iter().partition(|&i| ctx.binned[i as usize][f] <= t);
    let left = grow(ctx, nodes, l, depth + 1, rng);
    let right = grow(ctx, nodes, r, depth + 1, rng);
    nodes[id as usize].split = Some((f as u32, t, left, right));
    id
}

fn gini(pos: f64, n: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    let p = pos / n;
    2.0 * p * (1.0 - p)
}

/// Quantile cut points (at most `MAX_BINS − 1`) of a feature's values.
fn bin_edges(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.len() <= MAX_BINS {
        return v.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    }
    let mut edges: Vec<f64> = (1..MAX_BINS).map(|q| v[q * v.len() / MAX_BINS]).collect();
    edges.dedup();
    edges
}

fn bin_row(edges: &[Vec<f64>], row: &[f64]) -> Vec<u8> {
    edges.iter().zip(row).map(|(e, &x)| e.partition_point(|&edge| edge < x) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_threshold_rule_and_credits_its_feature() {
        let mut rng = Rng::new(3);
        let rows: Vec<Vec<f64>> = (0..400).map(|_| vec![rng.unit(), rng.unit() * 10.0]).collect();
        let labels: Vec<bool> = rows.iter().map(|r| r[1] > 5.0).collect();
        let f = RandomForest::train(&rows, &labels, RandomForestParams { trees: 10, ..Default::default() })
            .unwrap();
        let hi = f.score(&[0.5, 9.0]);
        assert!(hi.probability > 0.9 && f.score(&[0.5, 1.0]).probability < 0.1);
        assert_eq!(hi.top[0].0, 1);
    }
}
