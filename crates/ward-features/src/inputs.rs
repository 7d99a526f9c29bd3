//! What an event contributes to the features of the entities it names.
//!
//! An event names up to three entities (`source.ip`, `user.name`, `host.name`); each gets one
//! [`Observation`] with the same [`Inputs`]: whether it was a login success or failure, the
//! destination port, user name, source and destination IP and password it carries (as 64-bit
//! fingerprints — a password's text never leaves this module) and the password's character
//! entropy.

use std::collections::HashMap;

use ward_model::{Event, FieldValue, TenantId};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::entity::{EntityKey, EntityKind};

/// The distinct-count sketches kept per bucket, in their fixed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SketchKind {
    /// `destination.port` values.
    DstPorts,
    /// `user.name` values.
    Users,
    /// `source.ip` values.
    SrcIps,
    /// `destination.ip` values.
    DstIps,
    /// Attempted passwords (Cowrie `cowrie.password`).
    Passwords,
}

/// Number of sketches.
pub const SKETCHES: usize = 5;

impl SketchKind {
    /// Every sketch, in index order.
    pub const ALL: [Self; SKETCHES] =
        [Self::DstPorts, Self::Users, Self::SrcIps, Self::DstIps, Self::Passwords];

    /// Feature base name of the distinct count (`distinct_dst_ports`).
    pub fn feature(self) -> &'static str {
        match self {
            Self::DstPorts => "distinct_dst_ports",
            Self::Users => "distinct_users",
            Self::SrcIps => "distinct_src_ips",
            Self::DstIps => "distinct_dst_ips",
            Self::Passwords => "distinct_passwords",
        }
    }
}

/// Outcome of an authentication attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The attempt worked.
    Success,
    /// The attempt failed.
    Failure,
}

/// What one event adds to an entity's buckets.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Inputs {
    /// A login attempt's outcome, when the event is one.
    pub login: Option<LoginOutcome>,
    /// Fingerprints of the values the sketches count, by [`SketchKind`] index.
    pub items: [Option<u64>; SKETCHES],
    /// Shannon entropy (bits per character) of the attempted password, when there is one.
    pub password_char_entropy: Option<f64>,
}

impl Inputs {
    /// The fingerprint for one sketch.
    pub fn item(&self, kind: SketchKind) -> Option<u64> {
        self.items[kind as usize]
    }
}

/// One update of one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The entity updated.
    pub entity: EntityKey,
    /// Event time, Unix milliseconds.
    pub ts_ms: i64,
    /// What the event contributes.
    pub inputs: Inputs,
}

/// Counts from deriving observations of one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Derivation {
    /// Entities found.
    pub entities: u32,
    /// Entity fields present but invalid (e.g. a `source.ip` that is not an IP), skipped.
    pub invalid: u32,
}

/// Derives the observations of `event` for `tenant`, appending them to `out`.
pub fn derive(tenant: &TenantId, event: &Event, out: &mut Vec<Observation>) -> Derivation {
    let inputs = inputs_of(tenant, event);
    let ts_ms = event.timestamp().timestamp_millis();
    let mut d = Derivation::default();
    for kind in EntityKind::ALL {
        let Some(text) = event.get(kind.as_str()).and_then(text_of) else { continue };
        match EntityKey::new(kind, &text) {
            Ok(entity) => {
                d.entities += 1;
                out.push(Observation { entity, ts_ms, inputs });
            }
            Err(_) => d.invalid += 1,
        }
    }
    d
}

/// The inputs one event carries, the same for each of its entities.
pub fn inputs_of(tenant: &TenantId, event: &Event) -> Inputs {
    let seed = xxh3_64(tenant.as_str().as_bytes());
    let field =
        |kind: SketchKind, path: &str| event.get(path).and_then(text_of).map(|t| fingerprint(seed, kind, &t));
    let password = event.str("cowrie.password");
    Inputs {
        login: login_outcome(event),
        items: [
            field(SketchKind::DstPorts, "destination.port"),
            field(SketchKind::Users, "user.name"),
            field(SketchKind::SrcIps, "source.ip"),
            field(SketchKind::DstIps, "destination.ip"),
            password.map(|p| fingerprint(seed, SketchKind::Passwords, p)),
        ],
        password_char_entropy: password.map(char_entropy),
    }
}

/// A value's fingerprint for one sketch: XXH3 seeded by tenant and sketch.
fn fingerprint(seed: u64, kind: SketchKind, text: &str) -> u64 {
    xxh3_64_with_seed(text.as_bytes(), seed ^ (kind as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The first scalar of a field as text (lists give their first item).
fn text_of(value: &FieldValue) -> Option<String> {
    match value {
        FieldValue::Str(s) => Some(s.to_string()),
        FieldValue::Ip(ip) => Some(ip.to_string()),
        FieldValue::Int(i) => Some(i.to_string()),
        FieldValue::List(items) => items.first().and_then(text_of),
        FieldValue::Float(_) | FieldValue::Bool(_) | FieldValue::Json(_) => None,
    }
}

/// A login success or failure: an authentication event (by category or action) with an outcome.
fn login_outcome(event: &Event) -> Option<LoginOutcome> {
    let outcome = match event.str("event.outcome")? {
        "success" => LoginOutcome::Success,
        "failure" => LoginOutcome::Failure,
        _ => return None,
    };
    let is_auth_category = match event.get("event.category") {
        Some(FieldValue::List(items)) => items.iter().any(|i| i.as_str() == Some("authentication")),
        Some(v) => v.as_str() == Some("authentication"),
        None => false,
    };
    let action = event.str("event.action").unwrap_or_default().to_ascii_lowercase();
    let is_auth_action = ["login", "logon", "auth"].iter().any(|w| action.contains(w));
    (is_auth_category || is_auth_action).then_some(outcome)
}

/// Shannon entropy of a text's characters, in bits per character (0 for empty text).
pub fn char_entropy(text: &str) -> f64 {
    let mut counts: HashMap<char, u32> = HashMap::new();
    text.chars().for_each(|c| *counts.entry(c).or_default() += 1);
    let n: u32 = counts.values().sum();
    shannon(counts.values().map(|c| f64::from(*c)), f64::from(n))
}

/// Shannon entropy in bits of a distribution given as counts summing to `total`.
pub fn shannon(counts: impl Iterator<Item = f64>, total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    let h: f64 = counts.filter(|c| *c > 0.0).map(|c| c / total).map(|p| -p * p.log2()).sum();
    h.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_entropy_matches_hand_computed_values() {
        assert_eq!(char_entropy(""), 0.0);
        assert_eq!(char_entropy("aaaa"), 0.0);
        assert!((char_entropy("abab") - 1.0).abs() < 1e-12);
        assert!((char_entropy("abcd") - 2.0).abs() < 1e-12);
    }
}
