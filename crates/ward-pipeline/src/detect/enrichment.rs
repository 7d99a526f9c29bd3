//! The enrichment of a matched event, copied into its alerts' `details.enrichment`, so triage,
//! analysts and the API see GeoIP/ASN, anonymizer flags, threat-intel hits and the asset
//! without reading the event back.
//!
//! `details.enrichment` is a flat object keyed by ECS field: `{source,destination}.ip`,
//! `.geo.{country_iso_code, country_name, city_name}`, `.as.{number, organization.name}`,
//! `ward.anonymizer.{source,destination}.*` (flags), `ward.asset.*` and `threat.enrichments`
//! (at most [`MAX_THREAT_ITEMS`] items, then `threat.enrichments_total`). Text is cut at
//! [`MAX_TEXT`] characters and lists at [`MAX_LIST`] items, so an alert stays small.

use serde_json::{Map, Value};
use ward_model::{AlertRecord, Event, FieldValue};

/// Threat-intel items copied per alert at most.
pub const MAX_THREAT_ITEMS: usize = 8;
/// Characters of a text value copied at most.
pub const MAX_TEXT: usize = 256;
/// Items of a list value copied at most.
pub const MAX_LIST: usize = 16;
/// Serialized size of one threat-intel item kept whole; larger items keep only feed,
/// confidence and indicator value.
const MAX_ITEM_BYTES: usize = 2048;

/// The per-side fields copied (after `source.` / `destination.`).
const SIDE_FIELDS: [&str; 6] =
    ["ip", "geo.country_iso_code", "geo.country_name", "geo.city_name", "as.number", "as.organization.name"];

/// Field prefixes copied whole.
const PREFIXES: [&str; 2] = ["ward.anonymizer.", "ward.asset."];

/// The enrichment of `event` worth carrying on its alerts; `None` when it has none.
pub fn enrichment_of(event: &Event) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    let mut enriched = false;
    for side in ["source", "destination"] {
        for f in SIDE_FIELDS {
            let key = format!("{side}.{f}");
            if let Some(v) = event.get(&key) {
                enriched |= f != "ip";
                out.insert(key, bounded(v));
            }
        }
    }
    for (key, v) in event.fields().iter() {
        if PREFIXES.iter().any(|p| key.starts_with(p)) {
            enriched = true;
            out.insert(key.to_owned(), bounded(v));
        }
    }
    if let Some(v) = event.get("threat.enrichments") {
        let mut items = match serde_json::to_value(v).unwrap_or_default() {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        let total = items.len();
        items.truncate(MAX_THREAT_ITEMS);
        for item in &mut items {
            if serde_json::to_string(item).map_or(0, |s| s.len()) > MAX_ITEM_BYTES {
                *item = serde_json::json!({
                    "feed": item.get("feed"),
                    "confidence": item.get("confidence"),
                    "indicator": {"value": item.pointer("/indicator/value")},
                });
            }
        }
        if total > 0 {
            enriched = true;
            out.insert("threat.enrichments".into(), Value::Array(items));
        }
        if total > MAX_THREAT_ITEMS {
            out.insert("threat.enrichments_total".into(), Value::from(total));
        }
    }
    enriched.then_some(out)
}

/// A field value as bounded JSON.
fn bounded(v: &FieldValue) -> Value {
    match v {
        FieldValue::Str(s) => Value::String(s.chars().take(MAX_TEXT).collect()),
        FieldValue::List(items) => Value::Array(items.iter().take(MAX_LIST).map(bounded).collect()),
        FieldValue::Json(j) => {
            let s = j.to_string();
            if s.len() > MAX_TEXT { Value::String(s.chars().take(MAX_TEXT).collect()) } else { (**j).clone() }
        }
        other => serde_json::to_value(other).unwrap_or_default(),
    }
}

/// Adds `details.enrichment` to every alert that names `event` among its events and has object
/// details without it.
pub fn attach_enrichment(alerts: &mut [AlertRecord], event: &Event) {
    if alerts.is_empty() {
        return;
    }
    let eid = event.id().to_string();
    let mut cached: Option<Option<Map<String, Value>>> = None;
    for a in alerts.iter_mut().filter(|a| a.event_ids.contains(&eid)) {
        let Value::Object(details) = &mut a.details else { continue };
        if details.contains_key("enrichment") {
            continue;
        }
        if let Some(e) = cached.get_or_insert_with(|| enrichment_of(event)) {
            details.insert("enrichment".into(), Value::Object(e.clone()));
        }
    }
}
