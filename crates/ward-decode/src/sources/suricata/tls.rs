//! `tls`: handshake and server certificate.

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use ward_model::{Event, FieldValue};

use super::value::{iso, object, put_bool, put_str, vendor};
use crate::DecodeError;

/// `tls`: certificate subject, issuer, serial, validity and SHA-1 fingerprint (`tls.server.*`,
/// `tls.server.x509.*`), SNI, JA3/JA3S/JA4, resumption and protocol version to ECS; the raw
/// `version` and everything else under `suricata.tls.*`.
///
/// # Errors
/// When `tls` is not an object or has a member name that cannot be a path.
pub(super) fn tls(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "tls")?;
    for (k, v) in obj {
        let done = match k.as_str() {
            "subject" => dn(ev, "tls.server.subject", "tls.server.x509.subject", v),
            "issuerdn" => dn(ev, "tls.server.issuer", "tls.server.x509.issuer", v),
            "serial" => hex(ev, "tls.server.x509.serial_number", v),
            "fingerprint" => hex(ev, "tls.server.hash.sha1", v),
            "notbefore" => validity(ev, ["tls.server.not_before", "tls.server.x509.not_before"], v),
            "notafter" => validity(ev, ["tls.server.not_after", "tls.server.x509.not_after"], v),
            "sni" => put_str(ev, "tls.client.server_name", v) && put_str(ev, "server.domain", v),
            "ja3" => fingerprint(ev, "tls.ja3", "tls.client.ja3", v)?,
            "ja3s" => fingerprint(ev, "tls.ja3s", "tls.server.ja3s", v)?,
            "ja4" => put_str(ev, "tls.client.ja4", v),
            "session_resumed" => put_bool(ev, "tls.resumed", v),
            "certificate" => put_str(ev, "tls.server.certificate", v),
            "chain" => chain(ev, v),
            "version" => {
                version(ev, v);
                false
            }
            _ => false,
        };
        if !done {
            vendor(ev, "tls", k, v)?;
        }
    }
    Ok(())
}

/// `quic`: the TLS handshake inside QUIC (SNI, JA3/JA3S/JA4) to the same ECS `tls.*` fields as
/// `tls`; version, extensions, user agent and the rest under `suricata.quic.*`.
///
/// # Errors
/// When `quic` is not an object or has a member name that cannot be a path.
pub(super) fn quic(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    for (k, v) in object(value, "quic")? {
        let done = match k.as_str() {
            "sni" => put_str(ev, "tls.client.server_name", v) && put_str(ev, "server.domain", v),
            "ja3" => fingerprint(ev, "quic.ja3", "tls.client.ja3", v)?,
            "ja3s" => fingerprint(ev, "quic.ja3s", "tls.server.ja3s", v)?,
            "ja4" => put_str(ev, "tls.client.ja4", v),
            _ => false,
        };
        if !done {
            vendor(ev, "quic", k, v)?;
        }
    }
    Ok(())
}

/// A distinguished name (`C=US, O=Google Inc, CN=*.google.com`): whole, and split into the
/// ECS x509 name lists.
fn dn(ev: &mut Event, whole: &str, x509: &str, value: &Value) -> bool {
    let Some(name) = value.as_str().filter(|n| !n.is_empty()) else {
        return false;
    };
    ev.set(whole, name);
    ev.set(&format!("{x509}.distinguished_name"), name);
    for part in name.split(", ") {
        let Some((key, val)) = part.split_once('=') else { continue };
        let field = match key.trim() {
            "CN" => "common_name",
            "O" => "organization",
            "OU" => "organizational_unit",
            "C" => "country",
            "L" => "locality",
            "ST" => "state_or_province",
            _ => continue,
        };
        ev.push(&format!("{x509}.{field}"), val);
    }
    true
}

/// Colon-separated hex (`e8:89:b9:…`) → the ECS form, uppercase without separators.
fn hex(ev: &mut Event, path: &str, value: &Value) -> bool {
    let Some(text) = value.as_str().filter(|t| !t.is_empty()) else {
        return false;
    };
    let clean: String = text.chars().filter(|c| *c != ':').map(|c| c.to_ascii_uppercase()).collect();
    ev.set(path, clean);
    true
}

/// Certificate validity (`2014-07-15T17:04:39`, UTC) → both ECS dates; kept raw when it is not
/// a time.
fn validity(ev: &mut Event, paths: [&str; 2], value: &Value) -> bool {
    let Some(t) = value
        .as_str()
        .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok())
        .map(|t| iso(Utc.from_utc_datetime(&t)))
    else {
        return false;
    };
    for path in paths {
        ev.set(path, t.as_str());
    }
    true
}

/// A JA3/JA3S object: `hash` → ECS `path`, `string` and the rest under `suricata.<member>.*`.
fn fingerprint(ev: &mut Event, member: &str, path: &str, value: &Value) -> Result<bool, DecodeError> {
    let Some(obj) = value.as_object() else {
        return Ok(false);
    };
    for (k, v) in obj {
        if !(k == "hash" && put_str(ev, path, v)) {
            vendor(ev, member, k, v)?;
        }
    }
    Ok(true)
}

/// `chain` (base64 certificates) → `tls.server.certificate_chain`.
fn chain(ev: &mut Event, value: &Value) -> bool {
    let Some(items) = value.as_array().filter(|i| i.iter().all(Value::is_string)) else {
        return false;
    };
    let list = items.iter().filter_map(Value::as_str).map(FieldValue::from).collect::<Vec<_>>();
    ev.set("tls.server.certificate_chain", list);
    true
}

/// `version` (`TLSv1`, `TLS 1.2`, `SSLv3`) → `tls.version_protocol` and `tls.version`
/// (`1.0`, `1.2`, `3.0`); drafts and `UNDETERMINED` set nothing.
fn version(ev: &mut Event, value: &Value) {
    let Some(text) = value.as_str() else { return };
    let (protocol, number) = if let Some(n) = text.strip_prefix("TLSv").or_else(|| text.strip_prefix("TLS "))
    {
        ("tls", n)
    } else if let Some(n) = text.strip_prefix("SSLv").or_else(|| text.strip_prefix("SSL ")) {
        ("ssl", n)
    } else {
        return;
    };
    let number = match number {
        "1" | "2" | "3" => format!("{number}.0"),
        n if n.len() == 3
            && n.as_bytes()[1] == b'.'
            && n.bytes().all(|b| b == b'.' || b.is_ascii_digit()) =>
        {
            n.to_owned()
        }
        _ => return,
    };
    ev.set("tls.version_protocol", protocol);
    ev.set("tls.version", number);
}
