//! Threat-intel indicator hits as a [`Detector`].

use std::sync::Arc;

use ward_ioc::{SharedIndicators, confidence_label};
use ward_model::{AlertRecord, Event, Severity, SignalKind, TenantId};
use ward_rules::AlertId;

use super::{Detector, entities_of};
use crate::runtime::Pass;

/// Matches every event against the indicator set in service (reloads apply to the next event).
pub struct IocDetector {
    indicators: Arc<SharedIndicators>,
    fields: Arc<[String]>,
}

impl IocDetector {
    /// A detector over `indicators`, naming `entity_fields` in its alerts.
    pub fn new(indicators: Arc<SharedIndicators>, entity_fields: Arc<[String]>) -> Self {
        Self { indicators, fields: entity_fields }
    }
}

impl Detector for IocDetector {
    fn name(&self) -> &'static str {
        "ioc"
    }

    fn detect(&mut self, event: &Event, pass: Pass, out: &mut Vec<AlertRecord>) {
        if pass == Pass::Warmup {
            return;
        }
        let set = self.indicators.current();
        if set.is_empty() {
            return;
        }
        for m in set.matches_event(event) {
            let ind = m.indicator;
            let rule_id = format!("ioc:{}", ind.feed());
            let value = ind.value().to_string();
            let id = AlertId::of(&format!("{rule_id}\0{value}"), &[event.id()]);
            let level = match confidence_label(ind.confidence()) {
                "None" => Severity::Informational,
                "Low" => Severity::Low,
                "Medium" => Severity::Medium,
                _ => Severity::High,
            };
            out.push(AlertRecord {
                id: id.to_string(),
                tenant: TenantId::new(event.tenant()).unwrap_or_default(),
                kind: SignalKind::Ioc,
                rule_id,
                rule_title: format!("indicator {value} from feed {}", ind.feed()),
                level,
                score: f64::from(ind.confidence()) / 100.0,
                timestamp: event.timestamp(),
                event_ids: vec![event.id().to_string()],
                tags: ind.tags().iter().map(|t| t.to_string()).collect(),
                techniques: Vec::new(),
                entities: entities_of(event, &self.fields),
                source: event.source().to_owned(),
                details: serde_json::json!({ "ioc": m.enrichment(), "matched_field": m.field, "matched_value": m.value }),
            });
        }
    }
}
