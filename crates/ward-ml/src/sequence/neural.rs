//! Neural next-key model (DeepLog's LSTM idea, with a GRU) on CPU with candle: an embedding
//! of the last `history` keys feeds a GRU whose final state predicts the next key (or the
//! end of the session). A key outside the `top_g` most likely predictions is unexpected;
//! a session with any unexpected key is anomalous. Weights are saved in the model JSON.

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::rnn::{GRU, GRUConfig, RNN};
use candle_nn::{Embedding, Linear, Optimizer, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};

use super::{Session, Unexpected, Vocab};
use crate::error::{MlError, Result};
use crate::rng::Rng;
use crate::sequence::ngram::SequenceScore;

/// Training parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GruParams {
    /// Keys of history per prediction.
    pub history: usize,
    /// Embedding width.
    pub embed: usize,
    /// GRU hidden width.
    pub hidden: usize,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Windows per optimizer step.
    pub batch: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// How many most likely next keys are accepted.
    pub top_g: usize,
    /// Training windows kept at most (a seeded sample beyond that).
    pub max_windows: usize,
    /// Seed for sampling and shuffling.
    pub seed: u64,
}

impl Default for GruParams {
    fn default() -> Self {
        Self {
            history: 10,
            embed: 16,
            hidden: 32,
            epochs: 3,
            batch: 256,
            learning_rate: 0.01,
            top_g: 9,
            max_windows: 40_000,
            seed: 3,
        }
    }
}

/// Saved weights: (name, shape, values).
type Weights = Vec<(String, Vec<usize>, Vec<f32>)>;

/// A trained GRU next-key model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GruModel {
    /// Parameters.
    pub params: GruParams,
    /// Key vocabulary.
    pub vocab: Vocab,
    weights: Weights,
    #[serde(skip)]
    net: Option<Net>,
}

#[derive(Clone, Debug)]
struct Net {
    emb: Embedding,
    gru: GRU,
    out: Linear,
}

impl Net {
    fn new(vb: &VarBuilder<'_>, classes: usize, p: &GruParams) -> candle_core::Result<Self> {
        Ok(Self {
            emb: candle_nn::embedding(classes, p.embed, vb.pp("emb"))?,
            gru: candle_nn::rnn::gru(p.embed, p.hidden, GRUConfig::default(), vb.pp("gru"))?,
            out: candle_nn::linear(p.hidden, classes, vb.pp("out"))?,
        })
    }

    /// Logits `[batch, classes]` for windows `[batch, history]`.
    fn forward(&self, windows: &Tensor) -> candle_core::Result<Tensor> {
        let xs = self.emb.forward(windows)?;
        let states = self.gru.seq(&xs)?;
        let last = states.last().ok_or_else(|| candle_core::Error::Msg("empty window".into()))?;
        self.out.forward(last.h())
    }
}

/// Re-initializes every variable from our seeded generator (candle's CPU generator cannot be
/// seeded), so training is reproducible.
fn seed_weights(varmap: &VarMap, rng: &mut Rng) -> Result<()> {
    let data = varmap.data().lock().map_err(|_| MlError::Neural("variable map poisoned".into()))?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let fan_in = dims.last().copied().unwrap_or(1).max(1) as f64;
        // Embeddings start at unit scale (as candle's own normal init), layers at ±1/√fan-in.
        let bound = if name.starts_with("emb") { 1.0 } else { 1.0 / fan_in.sqrt() };
        let n: usize = dims.iter().product();
        let values: Vec<f32> = (0..n).map(|_| rng.range(-bound, bound) as f32).collect();
        let t = Tensor::from_vec(values, dims.as_slice(), &Device::Cpu).map_err(err)?;
        var.set(&t).map_err(err)?;
    }
    Ok(())
}

fn err(e: candle_core::Error) -> MlError {
    MlError::Neural(e.to_string())
}

impl GruModel {
    /// Class indices: vocabulary ids, then start padding, then end of session.
    fn classes(vocab: &Vocab) -> (usize, u32, u32) {
        let v = vocab.len() as u32;
        (vocab.len() + 2, v, v + 1)
    }

    fn windows(&self, ids: &[u32]) -> (Vec<u32>, Vec<u32>) {
        let (_, start, end) = Self::classes(&self.vocab);
        let h = self.params.history;
        let mut seq = vec![start; h];
        seq.extend_from_slice(ids);
        seq.push(end);
        let mut xs = Vec::with_capacity((seq.len() - h) * h);
        let mut ys = Vec::with_capacity(seq.len() - h);
        for i in h..seq.len() {
            xs.extend_from_slice(&seq[i - h..i]);
            ys.push(seq[i]);
        }
        (xs, ys)
    }

    /// Trains on normal sessions.
    pub fn train(sessions: &[Session], params: GruParams) -> Result<Self> {
        if sessions.is_empty() || params.history == 0 || params.top_g == 0 || params.batch == 0 {
            return Err(MlError::training("lstm", "needs sessions, history ≥ 1, top_g ≥ 1, batch ≥ 1"));
        }
        let vocab = Vocab::build(sessions);
        let (classes, _, _) = Self::classes(&vocab);
        let mut model = Self { params, vocab, weights: Vec::new(), net: None };
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for s in sessions {
            let (x, y) = model.windows(&model.vocab.encode(&s.keys));
            xs.extend(x);
            ys.extend(y);
        }
        let h = params.history;
        let mut order: Vec<usize> = (0..ys.len()).collect();
        let mut rng = Rng::new(params.seed);
        rng.shuffle(&mut order);
        order.truncate(params.max_windows);
        let dev = Device::Cpu;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
        let net = Net::new(&vb, classes, &params).map_err(err)?;
        seed_weights(&varmap, &mut rng)?;
        let adam = candle_nn::ParamsAdamW { lr: params.learning_rate, ..Default::default() };
        let mut opt = candle_nn::AdamW::new(varmap.all_vars(), adam).map_err(err)?;
        for _ in 0..params.epochs {
            rng.shuffle(&mut order);
            for chunk in order.chunks(params.batch) {
                let bx: Vec<u32> =
                    chunk.iter().flat_map(|&i| xs[i * h..(i + 1) * h].iter().copied()).collect();
                let by: Vec<u32> = chunk.iter().map(|&i| ys[i]).collect();
                let bx = Tensor::from_vec(bx, (chunk.len(), h), &dev).map_err(err)?;
                let by = Tensor::from_vec(by, chunk.len(), &dev).map_err(err)?;
                let logits = net.forward(&bx).map_err(err)?;
                let loss = candle_nn::loss::cross_entropy(&logits, &by).map_err(err)?;
                opt.backward_step(&loss).map_err(err)?;
            }
        }
        let data = varmap.data().lock().map_err(|_| MlError::Neural("variable map poisoned".into()))?;
        let mut weights: Weights = Vec::new();
        for (name, var) in data.iter() {
            let t = var.as_tensor();
            let values = t.flatten_all().and_then(|f| f.to_vec1::<f32>()).map_err(err)?;
            weights.push((name.clone(), t.dims().to_vec(), values));
        }
        weights.sort_by(|a, b| a.0.cmp(&b.0));
        drop(data);
        model.weights = weights;
        model.net = Some(net);
        Ok(model)
    }

    /// Rebuilds the network from saved weights (after deserializing).
    pub fn rebuild(&mut self) -> Result<()> {
        self.vocab.reindex();
        let dev = Device::Cpu;
        let mut ts = HashMap::new();
        for (name, shape, values) in &self.weights {
            ts.insert(name.clone(), Tensor::from_vec(values.clone(), shape.as_slice(), &dev).map_err(err)?);
        }
        let vb = VarBuilder::from_tensors(ts, DType::F32, &dev);
        let (classes, _, _) = Self::classes(&self.vocab);
        self.net = Some(Net::new(&vb, classes, &self.params).map_err(err)?);
        Ok(())
    }

    /// Scores a session.
    pub fn score(&self, keys: &[String]) -> SequenceScore {
        match self.try_score(keys) {
            Ok(s) => s,
            Err(e) => SequenceScore {
                anomaly: false,
                score: 0.0,
                unexpected: vec![Unexpected {
                    position: 0,
                    key: format!("<error: {e}>"),
                    expected: Vec::new(),
                }],
            },
        }
    }

    fn try_score(&self, keys: &[String]) -> Result<SequenceScore> {
        self.try_score_batch(&[keys])?.pop().ok_or_else(|| MlError::Neural("no score".into()))
    }

    /// Scores many sessions with one forward pass (much faster than one call per session).
    pub fn score_batch(&self, sessions: &[&[String]]) -> Vec<SequenceScore> {
        match self.try_score_batch(sessions) {
            Ok(scores) => scores,
            Err(_) => sessions.iter().map(|k| self.score(k)).collect(),
        }
    }

    fn try_score_batch(&self, sessions: &[&[String]]) -> Result<Vec<SequenceScore>> {
        let net = self.net.as_ref().ok_or_else(|| MlError::Neural("network not built".into()))?;
        let (mut xs, mut ys, mut spans) = (Vec::new(), Vec::new(), Vec::new());
        for keys in sessions {
            let (x, y) = self.windows(&self.vocab.encode(keys));
            spans.push((ys.len(), y.len()));
            xs.extend(x);
            ys.extend(y);
        }
        let x = Tensor::from_vec(xs, (ys.len(), self.params.history), &Device::Cpu).map_err(err)?;
        let logits: Vec<Vec<f32>> = net.forward(&x).and_then(|l| l.to_vec2()).map_err(err)?;
        Ok(sessions
            .iter()
            .zip(spans)
            .map(|(keys, (start, n))| self.judge(keys, &logits[start..start + n], &ys[start..start + n]))
            .collect())
    }

    fn judge(&self, keys: &[String], logits: &[Vec<f32>], ys: &[u32]) -> SequenceScore {
        let (_, _, end) = Self::classes(&self.vocab);
        let n = ys.len();
        let mut bad = 0;
        let mut unexpected = Vec::new();
        for (pos, (row, &y)) in logits.iter().zip(ys).enumerate() {
            let target = row[y as usize];
            let rank = row.iter().filter(|&&v| v > target).count();
            if y != Vocab::UNKNOWN && rank < self.params.top_g {
                continue;
            }
            bad += 1;
            if unexpected.len() < 10 {
                let mut ranked: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                let name = |k: u32| if k == end { "<end>".to_owned() } else { self.vocab.key(k).to_owned() };
                unexpected.push(Unexpected {
                    position: pos,
                    key: if y == Vocab::UNKNOWN {
                        keys.get(pos).cloned().unwrap_or_default()
                    } else {
                        name(y)
                    },
                    expected: ranked.iter().take(self.params.top_g).map(|&(k, _)| name(k as u32)).collect(),
                });
            }
        }
        SequenceScore { anomaly: bad > 0, score: bad as f64 / n.max(1) as f64, unexpected }
    }
}
