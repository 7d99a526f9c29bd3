//! The adapter the pipeline's `detect` stage calls: a loaded model, its registry identity and
//! mode, scoring events. DGA models read `dns.question.name`; isolation-forest and tabular
//! models read their feature columns as event fields (numbers; missing fields count as 0
//! and are named in the explanation). In shadow mode scores are counted, never alerted.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use ward_model::{AlertRecord, Event, FieldValue, Severity, SignalKind, add_entity};

use crate::model::{Mode, Model, ScoreLine};
use crate::tabular::Column;

/// A model deployed in the pipeline.
#[derive(Debug)]
pub struct ModelDetector {
    name: String,
    version: u32,
    mode: Mode,
    model: Model,
    scored: AtomicU64,
    anomalies: AtomicU64,
}

/// Scores seen by a detector: (events scored, anomalies found), in any mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectorStats {
    /// Events the model scored.
    pub scored: u64,
    /// Of those, anomalous.
    pub anomalies: u64,
}

impl ModelDetector {
    /// Wraps a loaded model.
    pub fn new(name: &str, version: u32, mode: Mode, model: Model) -> Self {
        Self {
            name: name.to_owned(),
            version,
            mode,
            model,
            scored: AtomicU64::new(0),
            anomalies: AtomicU64::new(0),
        }
    }

    /// Loads the active version of `name` from a registry (None if none is active).
    pub fn from_registry(
        registry: &crate::registry::Registry,
        name: &str,
    ) -> crate::error::Result<Option<Self>> {
        let Some(entry) = registry.active(name)? else { return Ok(None) };
        let (model, meta) = Model::load(&entry.dir)?;
        Ok(Some(Self::new(name, entry.version, meta.mode, model)))
    }

    /// Counters so far.
    pub fn stats(&self) -> DetectorStats {
        DetectorStats {
            scored: self.scored.load(Ordering::Relaxed),
            anomalies: self.anomalies.load(Ordering::Relaxed),
        }
    }

    /// Scores an event if the model applies to it (shadow and active alike).
    pub fn score(&self, event: &Event) -> Option<ScoreLine> {
        let line = match &self.model {
            Model::Dga(m) => {
                let name = event.str("dns.question.name")?;
                let s = m.score(name);
                ScoreLine {
                    id: event.id().to_string(),
                    anomaly: s.generated,
                    score: s.probability,
                    label: Some(if s.generated { "dga" } else { "legit" }.into()),
                    explain: json!({ "dns.question.name": name, "label": s.label, "top": s.top }),
                }
            }
            Model::Iforest { schema, .. } | Model::Tabular { schema, .. } => {
                let mut missing = Vec::new();
                let x: Vec<f64> = schema
                    .features
                    .iter()
                    .map(|c| match c {
                        Column::Numeric { name } => number(event.get(name)).unwrap_or_else(|| {
                            missing.push(name.clone());
                            0.0
                        }),
                        Column::Symbolic { name, categories } => {
                            let v = event.get(name).and_then(FieldValue::as_str);
                            if v.is_none() {
                                missing.push(name.clone());
                            }
                            v.and_then(|v| categories.iter().position(|c| c == v)).unwrap_or(categories.len())
                                as f64
                        }
                    })
                    .collect();
                if missing.len() == schema.features.len() {
                    return None;
                }
                let mut line = self.model.score_row(schema, event.id().to_string(), &x).ok()?;
                if let Some(obj) = line.explain.as_object_mut() {
                    obj.insert("missing".into(), json!(missing));
                }
                line
            }
            _ => return None,
        };
        self.scored.fetch_add(1, Ordering::Relaxed);
        if line.anomaly {
            self.anomalies.fetch_add(1, Ordering::Relaxed);
        }
        Some(line)
    }

    /// The alert for an event, only when the model is active and calls it anomalous.
    pub fn score_event(&self, event: &Event) -> Option<AlertRecord> {
        let line = self.score(event)?;
        if self.mode != Mode::Active || !line.anomaly {
            return None;
        }
        let level = Severity::from_score(line.score).max(Severity::Low);
        let mut entities = Default::default();
        for field in ["source.ip", "destination.ip", "host.name", "user.name", "dns.question.name"] {
            if let Some(v) = event.get(field) {
                let text = match v {
                    FieldValue::Str(s) => s.to_string(),
                    FieldValue::Ip(ip) => ip.to_string(),
                    other => format!("{other:?}"),
                };
                add_entity(&mut entities, field, &text);
            }
        }
        let rule_id = format!("model:{}", self.name);
        let id = format!(
            "{:032x}",
            xxhash_rust::xxh3::xxh3_128(format!("{rule_id}\0{}\0{}", self.version, event.id()).as_bytes())
        );
        Some(AlertRecord {
            id,
            tenant: ward_model::TenantId::new(event.tenant()).ok()?,
            kind: SignalKind::Model,
            rule_id,
            rule_title: format!("{} model: anomalous {}", self.model.kind(), self.subject()),
            level,
            score: line.score,
            timestamp: event.timestamp(),
            event_ids: vec![event.id().to_string()],
            tags: vec![format!("ward.model.{}", self.model.kind())],
            techniques: if matches!(self.model, Model::Dga(_)) {
                vec!["T1568.002".into()]
            } else {
                Vec::new()
            },
            entities,
            source: event.source().to_owned(),
            details: json!({ "model": self.name, "version": self.version, "label": line.label, "explain": line.explain }),
        })
    }

    fn subject(&self) -> &'static str {
        match self.model {
            Model::Dga(_) => "domain name (likely generated)",
            _ => "feature values",
        }
    }
}

fn number(v: Option<&FieldValue>) -> Option<f64> {
    match v? {
        FieldValue::Int(i) => Some(*i as f64),
        FieldValue::Float(f) => Some(*f),
        FieldValue::Bool(b) => Some(f64::from(u8::from(*b))),
        FieldValue::Str(s) => s.parse().ok(),
        _ => None,
    }
}
