//! MITRE ATT&CK: technique and tactic names and ids from a STIX bundle, attached to alerts by
//! their rule tags, and the coverage of the loaded rules per tactic.
//!
//! The bundled data (`data/attack/enterprise-attack.min.json.gz`, loaded by
//! [`Attack::bundled`]) is ATT&CK Enterprise v18.1 trimmed to names, ids, urls, kill-chain
//! phases and sub-technique links, with MITRE's notice beside it. [`Attack::load`] reads any
//! full or trimmed STIX 2.x bundle (`.json` or gzip), e.g. a newer release.
//!
//! Coverage counts top-level techniques that are neither revoked nor deprecated; a rule tagged
//! with a sub-technique (`attack.t1110.001`) covers its parent (`T1110`). A technique under
//! several tactics counts under each.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ward_model::AlertRecord;

use crate::error::EnrichError;

static BUNDLED: &[u8] = include_bytes!("../data/attack/enterprise-attack.min.json.gz");

/// Most bytes of an uncompressed bundle read.
const MAX_BUNDLE_BYTES: u64 = 256 << 20;

/// One technique or sub-technique.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Technique {
    /// `T1110` or `T1110.001`.
    pub id: String,
    /// `Brute Force`, `Password Guessing`.
    pub name: String,
    /// Tactic short names (`credential-access`).
    pub tactics: Vec<String>,
    /// The parent technique of a sub-technique.
    pub parent: Option<String>,
    /// The technique's page.
    pub url: Option<String>,
    /// Revoked or deprecated in this release.
    pub deprecated: bool,
}

/// One tactic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tactic {
    /// `TA0006`.
    pub id: String,
    /// `credential-access`.
    pub shortname: String,
    /// `Credential Access`.
    pub name: String,
}

/// A technique named in a coverage report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TechniqueRef {
    /// Technique id.
    pub id: String,
    /// Technique name.
    pub name: String,
}

/// Coverage of one tactic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TacticCoverage {
    /// Tactic id.
    pub id: String,
    /// Short name.
    pub shortname: String,
    /// Name.
    pub name: String,
    /// Techniques covered.
    pub covered: usize,
    /// Techniques in the tactic.
    pub total: usize,
    /// Which are covered.
    pub covered_techniques: Vec<TechniqueRef>,
    /// Which are not.
    pub uncovered_techniques: Vec<TechniqueRef>,
}

/// What `GET /api/attack/coverage` returns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Coverage {
    /// Top-level techniques covered (each once, whatever its tactics).
    pub covered: usize,
    /// Top-level techniques in the matrix.
    pub total: usize,
    /// `covered / total`, 0 for an empty matrix.
    pub ratio: f64,
    /// Per tactic, in matrix order.
    pub tactics: Vec<TacticCoverage>,
    /// Ids given that the bundle does not know.
    pub unknown: Vec<String>,
}

/// The loaded matrix.
#[derive(Debug, Clone)]
pub struct Attack {
    techniques: BTreeMap<String, Technique>,
    tactics: Vec<Tactic>,
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(default)]
    objects: Vec<Obj>,
}

#[derive(Deserialize)]
struct Obj {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    external_references: Vec<ExtRef>,
    #[serde(default)]
    kill_chain_phases: Vec<Phase>,
    #[serde(default)]
    x_mitre_shortname: Option<String>,
    #[serde(default)]
    x_mitre_deprecated: bool,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    tactic_refs: Vec<String>,
}

#[derive(Deserialize)]
struct ExtRef {
    source_name: String,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Phase {
    kill_chain_name: String,
    phase_name: String,
}

impl Attack {
    /// The bundled ATT&CK Enterprise v18.1 extract.
    pub fn bundled() -> Result<Self, EnrichError> {
        Self::from_bytes(BUNDLED, Path::new("<bundled>"))
    }

    /// Reads a STIX bundle file (`.json`, or gzip-compressed).
    pub fn load(path: &Path) -> Result<Self, EnrichError> {
        let bytes = std::fs::read(path).map_err(|e| attack_err(path, e.to_string()))?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses a bundle held in memory; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, EnrichError> {
        let mut text = Vec::new();
        let raw: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(bytes)
                .take(MAX_BUNDLE_BYTES)
                .read_to_end(&mut text)
                .map_err(|e| attack_err(path, format!("gzip: {e}")))?;
            &text
        } else {
            bytes
        };
        let bundle: Bundle =
            serde_json::from_slice(raw).map_err(|e| attack_err(path, format!("not a STIX bundle: {e}")))?;
        let attack = Self::from_bundle(bundle);
        if attack.techniques.is_empty() || attack.tactics.is_empty() {
            return Err(attack_err(path, "no ATT&CK techniques or tactics in the bundle".into()));
        }
        Ok(attack)
    }

    fn from_bundle(bundle: Bundle) -> Self {
        let mut techniques = BTreeMap::new();
        let mut tactic_objs = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for o in bundle.objects {
            let mitre = o.external_references.iter().find(|r| r.source_name == "mitre-attack");
            let ext_id = mitre.and_then(|r| r.external_id.clone());
            match o.kind.as_str() {
                "attack-pattern" => {
                    let Some(id) = ext_id else { continue };
                    let tactics = o
                        .kill_chain_phases
                        .iter()
                        .filter(|p| p.kill_chain_name == "mitre-attack")
                        .map(|p| p.phase_name.clone())
                        .collect();
                    let parent = id.split_once('.').map(|(p, _)| p.to_owned());
                    let t = Technique {
                        name: o.name.unwrap_or_default(),
                        tactics,
                        parent,
                        url: mitre.and_then(|r| r.url.clone()),
                        deprecated: o.revoked || o.x_mitre_deprecated,
                        id: id.clone(),
                    };
                    // Of a revoked and a current object with one id, the current one stays.
                    let keep =
                        techniques.get(&id).is_none_or(|old: &Technique| old.deprecated && !t.deprecated);
                    if keep {
                        techniques.insert(id, t);
                    }
                }
                "x-mitre-tactic" if !o.x_mitre_deprecated && !o.revoked => {
                    if let (Some(id), Some(short)) = (ext_id, o.x_mitre_shortname) {
                        tactic_objs
                            .insert(o.id, Tactic { id, shortname: short, name: o.name.unwrap_or_default() });
                    }
                }
                "x-mitre-matrix" if order.is_empty() => order = o.tactic_refs,
                _ => {}
            }
        }
        let mut tactics: Vec<Tactic> = order.iter().filter_map(|r| tactic_objs.remove(r)).collect();
        let mut rest: Vec<Tactic> = tactic_objs.into_values().collect();
        rest.sort_by(|a, b| a.id.cmp(&b.id));
        tactics.extend(rest);
        Self { techniques, tactics }
    }

    /// A technique by id (`T1110.001`, case-insensitive).
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.techniques.get(&id.trim().to_ascii_uppercase())
    }

    /// Tactics in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// Number of techniques and sub-techniques known (deprecated included).
    pub fn len(&self) -> usize {
        self.techniques.len()
    }

    /// Whether nothing loaded.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
    }

    fn tactic(&self, shortname: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|t| t.shortname == shortname)
    }

    /// Adds `details.attack` (techniques with names and tactics, tactics) to an alert from its
    /// `techniques` and its tags (`attack.t1110.001`, `attack.credential_access`), and appends
    /// technique ids found only in tags to `techniques`.
    pub fn attach(&self, alert: &mut AlertRecord) {
        let mut ids: Vec<String> = Vec::new();
        let mut tactic_names: BTreeSet<String> = BTreeSet::new();
        let from_tags = alert.tags.iter().filter_map(|t| t.strip_prefix("attack."));
        for id in alert.techniques.iter().map(String::as_str).chain(from_tags) {
            let upper = id.trim().to_ascii_uppercase();
            if technique_shaped(&upper) {
                if !ids.contains(&upper) {
                    ids.push(upper);
                }
            } else {
                let short = id.trim().to_ascii_lowercase().replace('_', "-");
                if self.tactic(&short).is_some() {
                    tactic_names.insert(short);
                }
            }
        }
        let mut unknown = Vec::new();
        let mut techniques = Vec::new();
        for id in &ids {
            let Some(t) = self.techniques.get(id) else {
                unknown.push(id.clone());
                continue;
            };
            let tactics: Vec<_> = t.tactics.iter().filter_map(|s| self.tactic(s)).collect();
            tactic_names.extend(t.tactics.iter().cloned());
            let parent = t.parent.as_deref().and_then(|p| self.techniques.get(p));
            techniques.push(serde_json::json!({
                "id": t.id,
                "name": t.name,
                "parent": parent.map(|p| serde_json::json!({"id": p.id, "name": p.name})),
                "url": t.url,
                "tactics": tactics,
            }));
            if !alert.techniques.iter().any(|x| x.eq_ignore_ascii_case(id)) {
                alert.techniques.push(id.clone());
            }
        }
        if techniques.is_empty() && tactic_names.is_empty() && unknown.is_empty() {
            return;
        }
        let tactics: Vec<&Tactic> =
            self.tactics.iter().filter(|t| tactic_names.contains(&t.shortname)).collect();
        let value = serde_json::json!({ "techniques": techniques, "tactics": tactics, "unknown": unknown });
        crate::details_object(&mut alert.details).insert("attack".into(), value);
    }

    /// Which techniques the given rule technique ids (or `attack.t…` tags) cover, per tactic.
    pub fn coverage<'a>(&self, technique_ids: impl IntoIterator<Item = &'a str>) -> Coverage {
        let mut covered: BTreeSet<&str> = BTreeSet::new();
        let mut unknown: BTreeSet<String> = BTreeSet::new();
        for raw in technique_ids {
            let id = raw.trim().trim_start_matches("attack.").to_ascii_uppercase();
            match self.techniques.get(&id) {
                Some(t) => {
                    let top = t.parent.as_deref().unwrap_or(&t.id);
                    if let Some((k, _)) = self.techniques.get_key_value(top) {
                        covered.insert(k.as_str());
                    }
                }
                None if technique_shaped(&id) => {
                    unknown.insert(id);
                }
                None => {}
            }
        }
        let top: Vec<&Technique> =
            self.techniques.values().filter(|t| t.parent.is_none() && !t.deprecated).collect();
        let tactics = self
            .tactics
            .iter()
            .map(|tac| {
                let (yes, no): (Vec<&&Technique>, Vec<&&Technique>) = top
                    .iter()
                    .filter(|t| t.tactics.contains(&tac.shortname))
                    .partition(|t| covered.contains(t.id.as_str()));
                let refs = |v: Vec<&&Technique>| -> Vec<TechniqueRef> {
                    v.into_iter().map(|t| TechniqueRef { id: t.id.clone(), name: t.name.clone() }).collect()
                };
                TacticCoverage {
                    id: tac.id.clone(),
                    shortname: tac.shortname.clone(),
                    name: tac.name.clone(),
                    covered: yes.len(),
                    total: yes.len() + no.len(),
                    covered_techniques: refs(yes),
                    uncovered_techniques: refs(no),
                }
            })
            .collect();
        let n_covered = top.iter().filter(|t| covered.contains(t.id.as_str())).count();
        let total = top.len();
        Coverage {
            covered: n_covered,
            total,
            ratio: if total == 0 { 0.0 } else { n_covered as f64 / total as f64 },
            tactics,
            unknown: unknown.into_iter().collect(),
        }
    }
}

/// `T` followed by four digits, optionally `.` and three digits.
fn technique_shaped(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

fn attack_err(path: &Path, reason: String) -> EnrichError {
    EnrichError::Attack { path: PathBuf::from(path), reason }
}
