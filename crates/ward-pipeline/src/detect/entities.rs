//! Entities of an alert: the values of configured ECS fields in the matched event.

use ward_model::{Entities, Event, FieldValue, add_entity};

/// The fields whose first value is an alert's partition key, in order of preference.
const KEY_FIELDS: [&str; 3] = ["source.ip", "host.name", "user.name"];

/// The values of `fields` in `event` (lists contribute each scalar item).
pub fn entities_of(event: &Event, fields: &[String]) -> Entities {
    let mut out = Entities::new();
    for field in fields {
        if let Some(value) = event.get(field) {
            push(&mut out, field, value);
        }
    }
    out
}

fn push(out: &mut Entities, field: &str, value: &FieldValue) {
    match value {
        FieldValue::List(items) => items.iter().for_each(|i| push(out, field, i)),
        FieldValue::Json(_) => {}
        FieldValue::Str(s) if s.is_empty() => {}
        FieldValue::Str(s) => add_entity(out, field, s),
        other => add_entity(out, field, &other.to_string()),
    }
}

/// The first value of the preferred key field an alert names (its log partition key).
pub fn primary_key(entities: &Entities) -> Option<String> {
    KEY_FIELDS.iter().find_map(|f| entities.get(*f).and_then(|v| v.first()).cloned())
}
