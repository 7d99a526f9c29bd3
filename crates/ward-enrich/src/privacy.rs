//! Pseudonymization and masking before events are stored or exported.
//!
//! * **Pseudonymize**: a configured field's value becomes a stable token
//!   `ps1:<class>:<32 hex digits>` — the first 128 bits of HMAC-SHA256(key, class ‖ 0x1f ‖
//!   value). `class` is `ip` (fields ending in `.ip`, value in canonical address form),
//!   `email` (lower-cased), `user` (fields naming a user) or `text`, so one address gets one
//!   token in `source.ip` and `related.ip` and joins, counts and features keep working. The
//!   same key gives the same tokens across runs; without the key a token cannot be reversed or
//!   recomputed.
//! * **Mask**: a configured field's value becomes `[masked]` (captured credentials:
//!   `cowrie.password`, `url.password`, `user.password` by default).
//! * **Seal** (with `seal_key`): each replaced original is kept AES-256-GCM-encrypted under
//!   `ward.privacy.sealed.<field>` as `v1.<base64url(nonce ‖ ciphertext ‖ tag)>` over its
//!   JSON text; [`reveal`] recovers it for a holder of that key only.
//! * **Scrub**: every replaced value is also replaced wherever it occurs inside the event's
//!   other text — `message`, `event.original` and any other string — so the plain value
//!   appears nowhere in the stored event. Values shorter than 4 characters are replaced only
//!   where they stand alone (not inside a longer word or number).
//!
//! `event.id` stays the hash of the original record: it identifies, it does not reveal.

use std::net::IpAddr;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use ward_model::{Event, FieldValue};

use crate::config::PrivacyConfig;

/// Replacement of masked values.
pub const MASK: &str = "[masked]";

/// Prefix of sealed originals.
pub const SEALED_PREFIX: &str = "ward.privacy.sealed.";

const AAD: &[u8] = b"ward-privacy-v1";

/// Personal-data fields pseudonymized in GDPR mode.
pub const GDPR_FIELDS: &[&str] = &[
    "source.ip",
    "client.ip",
    "related.ip",
    "user.name",
    "user.full_name",
    "user.email",
    "user.target.name",
    "related.user",
    "source.user.name",
    "destination.user.name",
    "source.user.email",
    "destination.user.email",
    "email.from.address",
    "email.to.address",
    "email.cc.address",
    "email.sender.address",
    "email.reply_to.address",
];

/// Unusable privacy configuration or sealed data.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// A key is not base64 of the right length.
    #[error("[enrich.privacy] `{key}`: {reason}")]
    Key {
        /// Which key.
        key: &'static str,
        /// What is wrong (never the key itself).
        reason: String,
    },
    /// A configured field cannot be replaced (identity fields are fixed at creation).
    #[error("[enrich.privacy] field `{0}` cannot be pseudonymized or masked (identity field)")]
    Field(String),
    /// A sealed value is malformed, or the key is not the one it was sealed with.
    #[error("cannot reveal sealed value: {0}")]
    Reveal(&'static str),
}

/// The AES-256-GCM key that seals and reveals originals.
pub struct SealKey(LessSafeKey);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// A key from base64 of 32 bytes.
    pub fn from_base64(text: &SecretString) -> Result<Self, PrivacyError> {
        let bytes = decode_key(text, "seal_key")?;
        if bytes.len() != 32 {
            return Err(PrivacyError::Key {
                key: "seal_key",
                reason: format!("must be 32 bytes, is {}", bytes.len()),
            });
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| PrivacyError::Key { key: "seal_key", reason: "rejected by AES-256-GCM".into() })?;
        Ok(Self(LessSafeKey::new(key)))
    }

    fn seal(&self, plain: &[u8]) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut buf = plain.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(AAD), &mut buf)
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Some(format!("v1.{}", URL_SAFE_NO_PAD.encode(out)))
    }
}

/// Recovers the original (as JSON) of a `ward.privacy.sealed.*` value.
pub fn reveal(key: &SealKey, sealed: &str) -> Result<serde_json::Value, PrivacyError> {
    let body = sealed.strip_prefix("v1.").ok_or(PrivacyError::Reveal("unknown format (expected `v1.`)"))?;
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| PrivacyError::Reveal("not base64url"))?;
    if bytes.len() < NONCE_LEN + 16 {
        return Err(PrivacyError::Reveal("too short"));
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| PrivacyError::Reveal("bad nonce"))?;
    let mut buf = rest.to_vec();
    let plain = key
        .0
        .open_in_place(nonce, Aad::from(AAD), &mut buf)
        .map_err(|_| PrivacyError::Reveal("authentication failed (wrong key or altered value)"))?;
    serde_json::from_slice(plain).map_err(|_| PrivacyError::Reveal("sealed content is not JSON"))
}

fn decode_key(text: &SecretString, key: &'static str) -> Result<Vec<u8>, PrivacyError> {
    STANDARD
        .decode(text.expose_secret().trim())
        .map_err(|_| PrivacyError::Key { key, reason: "not valid base64".into() })
}

/// What one event had replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrivacyHits {
    /// Fields pseudonymized.
    pub pseudonymized: u32,
    /// Fields masked.
    pub masked: u32,
}

/// The configured transformation.
pub struct Privacy {
    hmac: hmac::Key,
    seal: Option<SealKey>,
    pseudonymize: Vec<String>,
    mask: Vec<String>,
}

impl std::fmt::Debug for Privacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Privacy")
            .field("pseudonymize", &self.pseudonymize)
            .field("mask", &self.mask)
            .field("sealed", &self.seal.is_some())
            .finish_non_exhaustive()
    }
}

impl Privacy {
    /// Checks keys and builds the field lists (GDPR fields added in GDPR mode).
    pub fn new(cfg: &PrivacyConfig) -> Result<Self, PrivacyError> {
        let key = decode_key(&cfg.hmac_key, "hmac_key")?;
        if key.len() < 32 {
            return Err(PrivacyError::Key {
                key: "hmac_key",
                reason: format!("must be at least 32 bytes, is {}", key.len()),
            });
        }
        let seal = cfg.seal_key.as_ref().map(SealKey::from_base64).transpose()?;
        let fixed = |f: &String| {
            f == "event.original"
                || f == "ward.tenant"
                || f == "ward.source"
                || f.starts_with("ward.event_id")
        };
        if let Some(f) = cfg.pseudonymize.iter().chain(&cfg.mask).find(|f| fixed(f)) {
            return Err(PrivacyError::Field(f.clone()));
        }
        let mut pseudonymize = cfg.pseudonymize.clone();
        if cfg.gdpr {
            for f in GDPR_FIELDS {
                if !pseudonymize.iter().any(|p| p == f) {
                    pseudonymize.push((*f).to_owned());
                }
            }
        }
        Ok(Self { hmac: hmac::Key::new(hmac::HMAC_SHA256, &key), seal, pseudonymize, mask: cfg.mask.clone() })
    }

    /// The token of `value` in `field` (what pseudonymization writes).
    pub fn token(&self, field: &str, value: &str) -> String {
        let class = class_of(field);
        let canonical = match class {
            "ip" => value.trim().parse::<IpAddr>().map_or_else(|_| value.to_owned(), |ip| ip.to_string()),
            "email" => value.trim().to_ascii_lowercase(),
            _ => value.to_owned(),
        };
        let mut ctx = hmac::Context::with_key(&self.hmac);
        ctx.update(class.as_bytes());
        ctx.update(&[0x1f]);
        ctx.update(canonical.as_bytes());
        let tag = ctx.sign();
        let hex: String = tag.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("ps1:{class}:{hex}")
    }

    /// Pseudonymizes, masks, seals and scrubs one event.
    pub fn apply(&self, ev: &mut Event) -> PrivacyHits {
        let mut hits = PrivacyHits::default();
        let mut swaps: Vec<(String, String)> = Vec::new();
        for field in &self.pseudonymize {
            if let Some(old) = ev.remove(field) {
                let new = self.replace(&old, &mut |v| self.token(field, v), &mut swaps);
                self.seal_original(ev, field, &old);
                ev.set(field, new);
                hits.pseudonymized += 1;
            }
        }
        for field in &self.mask {
            if let Some(old) = ev.remove(field) {
                let new = self.replace(&old, &mut |_| MASK.to_owned(), &mut swaps);
                self.seal_original(ev, field, &old);
                ev.set(field, new);
                hits.masked += 1;
            }
        }
        if !swaps.is_empty() {
            scrub(ev, swaps);
        }
        hits
    }

    fn replace(
        &self,
        value: &FieldValue,
        with: &mut dyn FnMut(&str) -> String,
        swaps: &mut Vec<(String, String)>,
    ) -> FieldValue {
        match value {
            FieldValue::List(items) => {
                FieldValue::List(items.iter().map(|i| self.replace(i, with, swaps)).collect())
            }
            FieldValue::Json(_) => {
                swaps.push((value.to_string(), with(&value.to_string())));
                FieldValue::from(MASK)
            }
            other => {
                let plain = other.to_string();
                let token = with(&plain);
                swaps.push((plain, token.clone()));
                FieldValue::from(token)
            }
        }
    }

    fn seal_original(&self, ev: &mut Event, field: &str, old: &FieldValue) {
        let Some(key) = &self.seal else { return };
        let Ok(json) = serde_json::to_vec(old) else { return };
        if let Some(sealed) = key.seal(&json) {
            ev.set(&format!("{SEALED_PREFIX}{field}"), sealed);
        }
    }
}

fn class_of(field: &str) -> &'static str {
    if field.ends_with(".ip") || field.ends_with(".ips") {
        "ip"
    } else if field.contains("email") || field.ends_with(".address") {
        "email"
    } else if field.contains("user") {
        "user"
    } else {
        "text"
    }
}

/// Replaces every replaced plain value inside all other text of the event.
fn scrub(ev: &mut Event, mut swaps: Vec<(String, String)>) {
    swaps.retain(|(plain, _)| !plain.is_empty());
    // JSON-escaped forms too, for values inside `event.original` and nested JSON.
    let escaped: Vec<(String, String)> = swaps
        .iter()
        .filter_map(|(p, t)| {
            let e = serde_json::to_string(p).ok()?;
            let e = e[1..e.len() - 1].to_owned();
            (e != *p).then(|| (e, t.clone()))
        })
        .collect();
    swaps.extend(escaped);
    swaps.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    let paths: Vec<(String, String)> = ev
        .fields()
        .iter()
        .filter(|(p, _)| !p.starts_with(SEALED_PREFIX) && !p.starts_with("ward.event_id"))
        .filter_map(|(p, v)| match v {
            FieldValue::Str(s) => Some((p.to_owned(), s.to_string())),
            FieldValue::List(_) | FieldValue::Json(_) => Some((p.to_owned(), String::new())),
            _ => None,
        })
        .collect();
    let mut original = None;
    for (path, text) in paths {
        if path == "event.original" {
            let new = scrub_text(&text, &swaps);
            if new != text {
                original = Some(new);
            }
            continue;
        }
        let Some(value) = ev.get(&path).cloned() else { continue };
        let new = scrub_value(&value, &swaps);
        if new != value {
            ev.set(&path, new);
        }
    }
    if let Some(new) = original {
        replace_original(ev, new);
    }
}

fn scrub_value(value: &FieldValue, swaps: &[(String, String)]) -> FieldValue {
    match value {
        FieldValue::Str(s) => FieldValue::from(scrub_text(s, swaps)),
        FieldValue::List(items) => FieldValue::List(items.iter().map(|i| scrub_value(i, swaps)).collect()),
        FieldValue::Json(j) => {
            let text = j.to_string();
            let new = scrub_text(&text, swaps);
            serde_json::from_str(&new)
                .map_or_else(|_| FieldValue::from(MASK), |v| FieldValue::Json(Box::new(v)))
        }
        other => other.clone(),
    }
}

/// Replaces each plain value: everywhere when 4 characters or longer, else only where it
/// stands alone (no letter or digit on either side).
pub fn scrub_text(text: &str, swaps: &[(String, String)]) -> String {
    let mut out = text.to_owned();
    for (plain, token) in swaps {
        if !out.contains(plain.as_str()) {
            continue;
        }
        out = if plain.chars().count() >= 4 {
            out.replace(plain.as_str(), token)
        } else {
            replace_bounded(&out, plain, token)
        };
    }
    out
}

fn replace_bounded(text: &str, plain: &str, token: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(at) = rest.find(plain) {
        let before = rest[..at].chars().next_back().or(if at == 0 { prev } else { None });
        let after = rest[at + plain.len()..].chars().next();
        let alone = !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if alone { token } else { plain });
        prev = plain.chars().next_back();
        rest = &rest[at + plain.len()..];
    }
    out.push_str(rest);
    out
}

/// `event.original` is fixed at creation: rebuild the event from its JSON form with the
/// scrubbed original (id, tenant and source unchanged).
fn replace_original(ev: &mut Event, original: String) {
    let Ok(mut doc) = serde_json::to_value(&*ev) else { return };
    if let Some(event) = doc.get_mut("event").and_then(serde_json::Value::as_object_mut) {
        event.insert("original".into(), serde_json::Value::String(original));
    }
    match Event::from_json(doc) {
        Ok(rebuilt) => *ev = rebuilt,
        Err(e) => {
            // Never keep a plain value: without a rebuilt event the original is withheld.
            tracing::warn!(error = %e, "cannot rebuild event with scrubbed original");
            metrics::counter!("ward_enrich_privacy_errors_total").increment(1);
        }
    }
}
