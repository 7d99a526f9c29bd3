//! Fusion: one consolidated score in [0, 1] from the signals on an incident, with provenance —
//! each signal's strength, weight and contribution — so the number explains itself.
//!
//! The score is the clamped sum of `weight × strength` over signal families: the strongest rule
//! alert, rule breadth (distinct rules beyond the first, up to 3), the strongest correlation, IOC
//! hit and model score, and the targeted asset's criticality.

use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Factor, Incident, SignalKind};

use crate::config::FusionWeights;

/// The field that carries an asset's criticality on events, alerts and incidents.
pub const CRITICALITY_FIELD: &str = "ward.asset.criticality";

/// One signal family's share of the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Signal family (`rule_level`, `rule_breadth`, `correlation`, `ioc`, `model`, `asset_criticality`).
    pub signal: String,
    /// Strength in [0, 1].
    pub strength: f64,
    /// Configured weight.
    pub weight: f64,
    /// `strength × weight`.
    pub contribution: f64,
    /// The evidence (alert ids, rule ids, criticality).
    pub evidence: String,
}

/// A fused score with its provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fused {
    /// Consolidated score in [0, 1].
    pub score: f64,
    /// Criticality of the most critical asset involved (`low|medium|high|critical`), if known.
    pub criticality: Option<String>,
    /// Every non-zero contribution, largest first.
    pub contributions: Vec<Contribution>,
}

impl Fused {
    /// The contributions as incident reasoning factors (`fusion.<signal>`).
    pub fn factors(&self) -> Vec<Factor> {
        self.contributions
            .iter()
            .map(|c| Factor {
                name: format!("fusion.{}", c.signal),
                weight: c.contribution,
                detail: format!(
                    "{}: strength {:.2} × weight {:.2} = {:.3} ({})",
                    c.signal, c.strength, c.weight, c.contribution, c.evidence
                ),
            })
            .collect()
    }
}

/// Strength of a criticality name (`critical` = 1).
pub fn criticality_strength(name: &str) -> Option<f64> {
    match name {
        "low" => Some(0.25),
        "medium" => Some(0.5),
        "high" => Some(0.75),
        "critical" => Some(1.0),
        _ => None,
    }
}

/// The most critical asset criticality named by the incident or its alerts.
pub fn criticality(incident: &Incident, alerts: &[AlertRecord]) -> Option<String> {
    let named = incident.entities.get(CRITICALITY_FIELD).into_iter().flatten();
    let from_alerts = alerts.iter().flat_map(|a| a.entities.get(CRITICALITY_FIELD).into_iter().flatten());
    named
        .chain(from_alerts)
        .filter_map(|c| criticality_strength(c).map(|s| (s, c.clone())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Fuses an incident's alerts into one score.
pub fn fuse(weights: &FusionWeights, incident: &Incident, alerts: &[AlertRecord]) -> Fused {
    let mut contributions = Vec::new();
    let mut push = |signal: &str, strength: f64, weight: f64, evidence: String| {
        let strength = strength.clamp(0.0, 1.0);
        if strength > 0.0 && weight != 0.0 {
            contributions.push(Contribution {
                signal: signal.to_owned(),
                strength,
                weight,
                contribution: strength * weight,
                evidence,
            });
        }
    };
    let rules: Vec<&AlertRecord> =
        alerts.iter().filter(|a| matches!(a.kind, SignalKind::Sigma | SignalKind::Flow)).collect();
    if let Some(top) = strongest(&rules) {
        let strength = top.score.max(top.level.base_score());
        push("rule_level", strength, weights.rule_level, format!("rule {} level {}", top.rule_id, top.level));
    }
    let mut distinct: Vec<&str> = rules.iter().map(|a| a.rule_id.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let extra = distinct.len().saturating_sub(1).min(3);
    push(
        "rule_breadth",
        extra as f64 / 3.0,
        weights.rule_breadth * 3.0,
        format!("{} distinct rules", distinct.len()),
    );
    for (signal, kind, weight) in [
        ("correlation", SignalKind::Correlation, weights.correlation),
        ("ioc", SignalKind::Ioc, weights.ioc),
        ("model", SignalKind::Model, weights.model),
    ] {
        let of_kind: Vec<&AlertRecord> = alerts.iter().filter(|a| a.kind == kind).collect();
        if let Some(top) = strongest(&of_kind) {
            push(
                signal,
                top.score,
                weight,
                format!("{} alerts, strongest {} ({:.2})", of_kind.len(), top.rule_id, top.score),
            );
        }
    }
    let criticality = criticality(incident, alerts);
    if let Some(c) = &criticality {
        let strength = criticality_strength(c).unwrap_or(0.0);
        push("asset_criticality", strength, weights.asset_criticality, format!("asset criticality {c}"));
    }
    contributions.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let score = contributions.iter().map(|c| c.contribution).sum::<f64>().clamp(0.0, 1.0);
    Fused { score, criticality, contributions }
}

fn strongest<'a>(alerts: &[&'a AlertRecord]) -> Option<&'a AlertRecord> {
    alerts.iter().copied().max_by(|a, b| a.score.total_cmp(&b.score).then(a.level.cmp(&b.level)))
}
