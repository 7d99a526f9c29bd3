//! Smaller app-layer members with some ECS home: `ether`, `email`, `krb5`, `smb`, `ftp`.
//! Everything else about them stays under `suricata.<member>.*`.

use serde_json::Value;
use ward_model::{Event, FieldValue};

use super::Record;
use super::value::{object, put_str, vendor};
use crate::DecodeError;
use crate::util::set_user;

/// `ether`: `src_mac`/`dest_mac` (packet records) or `src_macs`/`dest_macs` (flow records) →
/// `source.mac`/`destination.mac` in ECS form (`00-E0-ED-01-6E-BD`).
///
/// # Errors
/// When `ether` is not an object or has a member name that cannot be a path.
pub(super) fn ether(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    for (k, v) in object(value, "ether")? {
        let path = match k.as_str() {
            "src_mac" | "src_macs" => "source.mac",
            "dest_mac" | "dest_macs" => "destination.mac",
            _ => "",
        };
        let macs = match v {
            Value::String(s) => Some(vec![FieldValue::from(mac(s))]),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(Value::as_str).map(|s| FieldValue::from(mac(s))).collect())
            }
            _ => None,
        };
        match macs {
            Some(mut list) if !path.is_empty() => {
                if list.len() == 1 && v.is_string() {
                    ev.set(path, list.remove(0));
                } else {
                    ev.set(path, list);
                }
            }
            _ => vendor(ev, "ether", k, v)?,
        }
    }
    Ok(())
}

/// A MAC address in ECS form: uppercase hex pairs joined by `-`.
fn mac(text: &str) -> String {
    text.chars().map(|c| if c == ':' { '-' } else { c.to_ascii_uppercase() }).collect()
}

/// `email` (SMTP message): addresses to `email.{from,to,cc,bcc}.address` (the header text is
/// also kept under `suricata.email.*`), subject, message id, mailer and attachment names.
///
/// # Errors
/// When `email` is not an object or has a member name that cannot be a path.
pub(super) fn email(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    for (k, v) in object(value, "email")? {
        let done = match k.as_str() {
            "from" | "to" | "cc" | "bcc" => {
                let list = addresses(v);
                if !list.is_empty() {
                    ev.set(&format!("email.{k}.address"), list);
                }
                false
            }
            "subject" => put_str(ev, "email.subject", v),
            "message_id" => put_str(ev, "email.message_id", v),
            "x_mailer" => put_str(ev, "email.x_mailer", v),
            "attachment" => attachments(ev, v),
            _ => false,
        };
        if !done {
            vendor(ev, "email", k, v)?;
        }
    }
    Ok(())
}

/// The addresses in a header value or list of them (`"A" <a@x>, b@y` → `a@x`, `b@y`).
fn addresses(value: &Value) -> Vec<FieldValue> {
    let texts: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for text in texts {
        if text.contains('<') {
            let angled = text.split('<').skip(1).filter_map(|s| s.split_once('>')).map(|(a, _)| a.trim());
            out.extend(angled.filter(|a| !a.is_empty()).map(FieldValue::from));
        } else {
            out.extend(text.split(',').map(str::trim).filter(|a| !a.is_empty()).map(FieldValue::from));
        }
    }
    out
}

/// `attachment` (file names) → `email.attachments` (`[{"file": {"name": …}}]`).
fn attachments(ev: &mut Event, value: &Value) -> bool {
    let Some(names) = value.as_array().filter(|n| n.iter().all(Value::is_string)) else {
        return false;
    };
    let list = names.iter().map(|n| serde_json::json!({ "file": { "name": n } })).collect();
    ev.set("email.attachments", FieldValue::Json(Box::new(Value::Array(list))));
    true
}

/// `krb5`: the client principal `cname` → `user.name`; on a `krb5` record a `KRB_ERROR` is a
/// failed and an `AS_REP`/`TGS_REP` a successful `event.outcome`.
///
/// # Errors
/// When `krb5` is not an object or has a member name that cannot be a path.
pub(super) fn krb5(ev: &mut Event, rec: &Record<'_>, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "krb5")?;
    for (k, v) in obj {
        match (k.as_str(), v.as_str()) {
            ("cname", Some(name)) if !name.is_empty() && name != "<empty>" => set_user(ev, "user.name", name),
            _ => vendor(ev, "krb5", k, v)?,
        }
    }
    if rec.is_subject("krb5") {
        let outcome = match obj.get("msg_type").and_then(Value::as_str) {
            Some("KRB_ERROR") => Some("failure"),
            Some("KRB_AS_REP" | "KRB_TGS_REP") => Some("success"),
            _ => None,
        };
        ev.set_opt("event.outcome", outcome);
    }
    Ok(())
}

/// `smb`: the NTLMSSP `user`/`domain` → `user.name`/`user.domain`; the rest under
/// `suricata.smb.*`.
///
/// # Errors
/// When `smb` is not an object or has a member name that cannot be a path.
pub(super) fn smb(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    for (k, v) in object(value, "smb")? {
        match v.as_object().filter(|_| k == "ntlmssp") {
            Some(ntlm) => ntlmssp(ev, ntlm)?,
            None => vendor(ev, "smb", k, v)?,
        }
    }
    Ok(())
}

fn ntlmssp(ev: &mut Event, obj: &serde_json::Map<String, Value>) -> Result<(), DecodeError> {
    for (k, v) in obj {
        let done = match (k.as_str(), v.as_str()) {
            ("user", Some(user)) if !user.is_empty() => {
                set_user(ev, "user.name", user);
                true
            }
            ("domain", _) => put_str(ev, "user.domain", v),
            _ => false,
        };
        if !done {
            vendor(ev, "smb.ntlmssp", k, v)?;
        }
    }
    Ok(())
}

/// `ftp`: kept under `suricata.ftp.*`; the argument of a `USER` command is also `user.name`.
///
/// # Errors
/// When `ftp` is not an object or has a member name that cannot be a path.
pub(super) fn ftp(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "ftp")?;
    if obj.get("command").and_then(Value::as_str) == Some("USER")
        && let Some(user) = obj.get("command_data").and_then(Value::as_str)
    {
        set_user(ev, "user.name", user);
    }
    for (k, v) in obj {
        vendor(ev, "ftp", k, v)?;
    }
    Ok(())
}
