//! Streaming Drain log template mining (He et al., ICWS 2017).
//!
//! Each line is masked (configured regexes → `<*>`), split on whitespace, and routed down a
//! fixed-depth prefix tree: first by token count, then by its first `depth − 3` tokens (a
//! token with a digit goes to the `<*>` child). At the leaf the most similar template wins
//! if its share of equal constant tokens reaches `sim_threshold`; positions that differ
//! become `<*>`. Otherwise a new template starts. Template ids are stable for the miner's
//! life and across [`TemplateMiner::save`]/[`TemplateMiner::load`]; template text only ever
//! generalizes.

use std::path::Path;

use regex::Regex;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

/// The wildcard token.
pub const WILDCARD: &str = "<*>";

/// Drain's knobs, saved with the template store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainConfig {
    /// Tree depth as in the Drain paper (≥ 3): `depth − 3` prefix-token layers.
    pub depth: usize,
    /// Minimum share of equal constant tokens for a line to join a template.
    pub sim_threshold: f64,
    /// Maximum children of an internal node before tokens route to `<*>`.
    pub max_children: usize,
    /// Regexes whose matches are replaced by `<*>` before tokenizing (applied in order).
    pub masks: Vec<String>,
    /// Extra characters treated as token separators besides whitespace.
    #[serde(default)]
    pub delimiters: String,
    /// Regex rewrites applied before the masks (e.g. dropping a unit suffix).
    #[serde(default)]
    pub rewrites: Vec<Rewrite>,
}

/// A regex replacement applied to a line before masking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rewrite {
    /// The regex.
    pub pattern: String,
    /// Its replacement (`$1` refers to groups).
    pub replacement: String,
}

impl Default for DrainConfig {
    fn default() -> Self {
        Self {
            depth: 4,
            sim_threshold: 0.5,
            max_children: 100,
            masks: vec![r"(\d+\.){3}\d+(:\d+)?".into(), r"\b0[xX][0-9a-fA-F]+\b".into()],
            delimiters: String::new(),
            rewrites: Vec::new(),
        }
    }
}

/// One template (log cluster).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Stable id (creation order, from 1).
    pub id: u32,
    /// Tokens; `<*>` marks a parameter.
    pub tokens: Vec<String>,
    /// Lines matched so far.
    pub count: u64,
    /// Tree path the template was filed under (length key, prefix tokens).
    path: Vec<String>,
}

impl Template {
    /// The template as text (tokens joined by spaces).
    pub fn text(&self) -> String {
        self.tokens.join(" ")
    }
}

/// What happened to the template a line matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A new template was created.
    Created,
    /// An existing template became more general.
    Generalized,
    /// The line fit an existing template as is.
    Unchanged,
}

/// The result of mining one line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    /// Template id.
    pub template_id: u32,
    /// Template text after this line.
    pub template: String,
    /// The line's tokens at wildcard positions.
    pub params: Vec<String>,
    /// Whether the line created or changed its template.
    pub change: Change,
}

#[derive(Clone, Debug, Default)]
struct Node {
    children: FxHashMap<String, usize>,
    templates: Vec<usize>,
}

/// The persisted part of a miner.
#[derive(Serialize, Deserialize)]
struct Store {
    format: u32,
    config: DrainConfig,
    templates: Vec<Template>,
}

/// A streaming template miner.
#[derive(Clone, Debug)]
pub struct TemplateMiner {
    config: DrainConfig,
    masks: Vec<Regex>,
    rewrites: Vec<(Regex, String)>,
    nodes: Vec<Node>,
    templates: Vec<Template>,
}

impl TemplateMiner {
    /// A miner with `config`; fails on an invalid mask regex or depth below 3.
    pub fn new(config: DrainConfig) -> Result<Self> {
        if config.depth < 3 {
            return Err(MlError::Unsupported(format!("drain depth {} is below 3", config.depth)));
        }
        let masks = config
            .masks
            .iter()
            .map(|m| Regex::new(m).map_err(|e| MlError::Unsupported(format!("drain mask `{m}`: {e}"))))
            .collect::<Result<Vec<_>>>()?;
        let rewrites = config
            .rewrites
            .iter()
            .map(|r| {
                Regex::new(&r.pattern)
                    .map(|re| (re, r.replacement.clone()))
                    .map_err(|e| MlError::Unsupported(format!("drain rewrite `{}`: {e}", r.pattern)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { config, masks, rewrites, nodes: vec![Node::default()], templates: Vec::new() })
    }

    /// The configuration.
    pub fn config(&self) -> &DrainConfig {
        &self.config
    }

    /// Templates in id order.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The template with `id`.
    pub fn template(&self, id: u32) -> Option<&Template> {
        self.templates.get((id as usize).checked_sub(1)?)
    }

    /// Masks and tokenizes a line the way [`TemplateMiner::add`] does.
    pub fn tokenize(&self, line: &str) -> Vec<String> {
        let mut text = line.trim().to_owned();
        for (re, with) in &self.rewrites {
            if re.is_match(&text) {
                text = re.replace_all(&text, with.as_str()).into_owned();
            }
        }
        for re in &self.masks {
            if re.is_match(&text) {
                text = re.replace_all(&text, WILDCARD).into_owned();
            }
        }
        let delims = &self.config.delimiters;
        text.split(|c: char| c.is_whitespace() || delims.contains(c))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Mines one line: finds or creates its template and returns it with the parameters.
    pub fn add(&mut self, line: &str) -> Parsed {
        let tokens = self.tokenize(line);
        match self.search(&tokens) {
            Some(t) => {
                let tpl = &mut self.templates[t];
                tpl.count += 1;
                let mut changed = false;
                for (slot, tok) in tpl.tokens.iter_mut().zip(&tokens) {
                    if slot != tok && slot != WILDCARD {
                        *slot = WILDCARD.to_owned();
                        changed = true;
                    }
                }
                let change = if changed { Change::Generalized } else { Change::Unchanged };
                self.parsed(t, &tokens, change)
            }
            None => {
                let path = self.path_for(&tokens);
                let id = self.templates.len() as u32 + 1;
                self.templates.push(Template { id, tokens: tokens.clone(), count: 1, path });
                let t = self.templates.len() - 1;
                self.file(t);
                self.parsed(t, &tokens, Change::Created)
            }
        }
    }

    /// Matches a line against known templates without learning (`None` when nothing fits).
    pub fn match_line(&self, line: &str) -> Option<Parsed> {
        let tokens = self.tokenize(line);
        let t = self.search(&tokens)?;
        Some(self.parsed(t, &tokens, Change::Unchanged))
    }

    fn parsed(&self, t: usize, tokens: &[String], change: Change) -> Parsed {
        let tpl = &self.templates[t];
        let params = tpl
            .tokens
            .iter()
            .zip(tokens)
            .filter(|(slot, _)| *slot == WILDCARD)
            .map(|(_, tok)| tok.clone())
            .collect();
        Parsed { template_id: tpl.id, template: tpl.text(), params, change }
    }

    fn prefix_layers(&self) -> usize {
        self.config.depth - 3
    }

    /// The leaf (if any) for `tokens`, following `<*>` when a token has no child.
    fn leaf(&self, tokens: &[String]) -> Option<usize> {
        let mut node = *self.nodes[0].children.get(&len_key(tokens.len()))?;
        for tok in tokens.iter().take(self.prefix_layers()) {
            let children = &self.nodes[node].children;
            node = match children.get(tok.as_str()) {
                Some(&n) => n,
                None => *children.get(WILDCARD)?,
            };
        }
        Some(node)
    }

    fn search(&self, tokens: &[String]) -> Option<usize> {
        let leaf = self.leaf(tokens)?;
        let mut best: Option<(usize, f64, usize)> = None;
        for &t in &self.nodes[leaf].templates {
            let (sim, params) = similarity(&self.templates[t].tokens, tokens);
            let better = match best {
                None => true,
                Some((_, s, p)) => sim > s || (sim == s && params > p),
            };
            if better {
                best = Some((t, sim, params));
            }
        }
        best.filter(|&(_, s, _)| s >= self.config.sim_threshold).map(|(t, _, _)| t)
    }

    /// The tree path a new template with `tokens` is filed under.
    fn path_for(&self, tokens: &[String]) -> Vec<String> {
        let mut path = vec![len_key(tokens.len())];
        let mut node = self.nodes[0].children.get(&path[0]).copied();
        for tok in tokens.iter().take(self.prefix_layers()) {
            let key = match node {
                None => route_new(tok, 0, false, self.config.max_children),
                Some(n) => {
                    let children = &self.nodes[n].children;
                    if children.contains_key(tok.as_str()) {
                        tok.clone()
                    } else {
                        route_new(
                            tok,
                            children.len(),
                            children.contains_key(WILDCARD),
                            self.config.max_children,
                        )
                    }
                }
            };
            node = node.and_then(|n| self.nodes[n].children.get(&key).copied());
            path.push(key);
        }
        path
    }

    /// Files template `t` under its path, creating nodes as needed.
    fn file(&mut self, t: usize) {
        let mut node = 0;
        for key in self.templates[t].path.clone() {
            node = match self.nodes[node].children.get(&key) {
                Some(&n) => n,
                None => {
                    self.nodes.push(Node::default());
                    let n = self.nodes.len() - 1;
                    self.nodes[node].children.insert(key, n);
                    n
                }
            };
        }
        self.nodes[node].templates.push(t);
    }

    /// The template store as JSON.
    pub fn to_json(&self) -> Result<String> {
        let store = Store { format: 1, config: self.config.clone(), templates: self.templates.clone() };
        serde_json::to_string(&store).map_err(|e| MlError::Unsupported(format!("serializing templates: {e}")))
    }

    /// A miner from a template store written by [`TemplateMiner::to_json`].
    pub fn from_json(json: &str, origin: &Path) -> Result<Self> {
        let store: Store = serde_json::from_str(json)
            .map_err(|source| MlError::Format { path: origin.to_owned(), source })?;
        let mut miner = Self::new(store.config)?;
        for (i, tpl) in store.templates.into_iter().enumerate() {
            if tpl.id as usize != i + 1 {
                return Err(MlError::Unsupported(format!(
                    "{}: template {} is out of order (expected id {})",
                    origin.display(),
                    tpl.id,
                    i + 1
                )));
            }
            miner.templates.push(tpl);
            miner.file(i);
        }
        Ok(miner)
    }

    /// Writes the template store to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|e| MlError::io(path, e))
    }

    /// Loads a template store from `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let json = std::fs::read_to_string(path).map_err(|e| MlError::io(path, e))?;
        Self::from_json(&json, path)
    }
}

fn len_key(n: usize) -> String {
    format!("#{n}")
}

/// Drain's child choice for a token that has no child yet.
fn route_new(tok: &str, children: usize, has_wildcard: bool, max_children: usize) -> String {
    if tok.bytes().any(|b| b.is_ascii_digit()) {
        return WILDCARD.to_owned();
    }
    let fits = if has_wildcard { children < max_children } else { children + 1 < max_children };
    if fits { tok.to_owned() } else { WILDCARD.to_owned() }
}

/// Share of positions where the template's constant token equals the line's, and the number
/// of wildcards in the template.
fn similarity(template: &[String], tokens: &[String]) -> (f64, usize) {
    if template.is_empty() {
        return (1.0, 0);
    }
    let mut same = 0;
    let mut wild = 0;
    for (a, b) in template.iter().zip(tokens) {
        if a == WILDCARD {
            wild += 1;
        } else if a == b {
            same += 1;
        }
    }
    (same as f64 / template.len() as f64, wild)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_differing_in_one_value_share_a_template() {
        let mut m = TemplateMiner::new(DrainConfig::default()).unwrap();
        let a = m.add("Receiving block blk_1 src: /10.0.0.1:50010 dest: /10.0.0.2:50010");
        let b = m.add("Receiving block blk_2 src: /10.0.0.3:50010 dest: /10.0.0.4:50010");
        assert_eq!(a.template_id, b.template_id);
        assert_eq!(b.change, Change::Generalized);
        assert_eq!(b.template, "Receiving block <*> src: /<*> dest: /<*>");
        assert_eq!(b.params, vec!["blk_2"]);
    }
}
