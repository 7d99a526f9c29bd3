//! Identifier newtypes, so an event id is never mistaken for a tenant name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use xxhash_rust::xxh3::Xxh3;

/// Stable identity of an event: a 128-bit XXH3 hash of tenant, source and original record.
///
/// Replaying the same input yields the same ids, which is what makes every downstream write
/// idempotent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(u128);

impl EventId {
    /// Hashes the identifying content of an event. `part` distinguishes several events decoded
    /// from one record (e.g. the rows of an osquery batch); it is 0 for the usual one-to-one case.
    pub fn of(tenant: &TenantId, source: &str, original: &str, part: u32) -> Self {
        let mut h = Xxh3::new();
        h.update(tenant.as_str().as_bytes());
        h.update(&[0x1f]);
        h.update(source.as_bytes());
        h.update(&[0x1f]);
        h.update(original.as_bytes());
        if part != 0 {
            h.update(&[0x1f]);
            h.update(&part.to_le_bytes());
        }
        Self(h.digest128())
    }

    /// The raw 128-bit value.
    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl FromStr for EventId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u128::from_str_radix(s, 16).map(Self)
    }
}

/// Name of a tenant; every record Ward keeps carries one and no query crosses them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TenantId(Box<str>);

/// A tenant name that breaks the naming rule.
#[derive(Debug, thiserror::Error)]
#[error("invalid tenant name {name:?}: use 1-64 characters from a-z, 0-9, '-', '_'")]
pub struct InvalidTenant {
    /// The rejected name.
    pub name: String,
}

impl TenantId {
    /// Validates a tenant name: 1 to 64 characters of `[a-z0-9_-]`.
    pub fn new(name: &str) -> Result<Self, InvalidTenant> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok { Ok(Self(name.into())) } else { Err(InvalidTenant { name: name.to_owned() }) }
    }

    /// The tenant used when none is given.
    pub fn default_tenant() -> Self {
        Self("default".into())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TenantId {
    fn default() -> Self {
        Self::default_tenant()
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = InvalidTenant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for TenantId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_depends_on_every_identifying_part() {
        let t = TenantId::default();
        let base = EventId::of(&t, "cowrie", "{}", 0);
        assert_eq!(base, EventId::of(&t, "cowrie", "{}", 0));
        assert_ne!(base, EventId::of(&TenantId::new("acme").unwrap(), "cowrie", "{}", 0));
        assert_ne!(base, EventId::of(&t, "suricata", "{}", 0));
        assert_ne!(base, EventId::of(&t, "cowrie", "{ }", 0));
        assert_ne!(base, EventId::of(&t, "cowrie", "{}", 1));
    }

    #[test]
    fn event_id_round_trips_through_hex() {
        let id = EventId::of(&TenantId::default(), "x", "y", 0);
        assert_eq!(id.to_string().len(), 32);
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), id);
    }

    #[test]
    fn tenant_names_are_validated() {
        assert!(TenantId::new("acme-01_x").is_ok());
        for bad in ["", "Acme", "a b", "a/b", &"x".repeat(65)] {
            assert!(TenantId::new(bad).is_err(), "{bad:?} accepted");
        }
    }
}
