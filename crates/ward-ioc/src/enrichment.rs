//! A match rendered as one `threat.enrichments[]` item of an enriched event.
//!
//! The shape follows ECS (`indicator.*`, `matched.*`) and adds the fields Ward's contract
//! names at the top: `feed`, `confidence` (0–100) and the `indicator` object.

use serde_json::{Value, json};

use crate::matching::Match;

/// ECS / STIX 2.1 "None, Low, Med, High" label of a 0–100 confidence (0; 1–29; 30–69; 70–100).
pub fn confidence_label(confidence: u8) -> &'static str {
    match confidence {
        0 => "None",
        1..=29 => "Low",
        30..=69 => "Medium",
        _ => "High",
    }
}

impl Match<'_> {
    /// This match as a `threat.enrichments[]` item.
    pub fn enrichment(&self) -> Value {
        let ind = self.indicator;
        let value = ind.value().to_string();
        let ecs_type = match (ind.kind().ecs_type(), value.contains(':')) {
            (Some("ipv4-addr"), true) => Some("ipv6-addr"),
            (t, _) => t,
        };
        json!({
            "feed": ind.feed(),
            "confidence": ind.confidence(),
            "indicator": {
                "kind": ind.kind(),
                "type": ecs_type,
                "value": value,
                "provider": ind.feed(),
                "confidence": confidence_label(ind.confidence()),
                "entry": ind.entry(),
                "tags": ind.tags(),
                "first_seen": ind.first_seen(),
                "last_seen": ind.last_seen(),
                "to_ids": ind.to_ids(),
            },
            "matched": {
                "field": self.field,
                "atomic": self.value,
                "type": "indicator_match_rule",
                "id": ind.entry(),
            },
        })
    }
}
