//! DNS (`dns`, and the DNS-shaped `mdns`/`llmnr` of Suricata 8) in every EVE layout:
//!
//! - v1: one record per query and one per answer record, `rrname`/`rrtype`/`ttl`/`rdata` at
//!   the top of the object;
//! - v2: one record per query and per response, answers as a `detailed` list (`answers`)
//!   and/or `grouped` by type; alerts nest `query` (a list) and `answer` (an object);
//! - v3 (Suricata 8): `type` `request`/`response`, questions in `queries`, then `answers`,
//!   `authorities`, `additionals`.

use std::net::IpAddr;

use serde_json::{Map, Value};
use ward_model::{Event, FieldValue};

use super::Record;
use super::value::{object, put_str, vendor};
use crate::DecodeError;
use crate::util::Object;

/// Members of a v1 answer record that describe the answer itself.
const V1_ANSWER: &[&str] = &["rdata", "ttl", "soa", "srv", "sshfp", "hinfo"];

/// What the members of one DNS object add up to.
#[derive(Default)]
struct Message {
    answers: Vec<Value>,
    resolved: Vec<FieldValue>,
    flags: Vec<FieldValue>,
}

/// Maps DNS object `name`: the question, id, op code, response code, header flags, answers
/// (ECS objects `{name, type, ttl, data}`) and the addresses they resolve to.
///
/// # Errors
/// When the object is not an object or has a member name that cannot be a path.
pub(super) fn dns(ev: &mut Event, rec: &Record<'_>, name: &str, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, name)?;
    let mut msg = Message::default();
    map_message(ev, obj, Some(name), &mut msg)?;
    if !msg.answers.is_empty() {
        ev.set("dns.answers", FieldValue::Json(Box::new(Value::Array(msg.answers))));
    }
    if !msg.resolved.is_empty() {
        ev.set("dns.resolved_ip", msg.resolved);
    }
    if !msg.flags.is_empty() {
        ev.set("dns.header_flags", msg.flags);
    }
    if rec.is_subject(name) && ev.str("dns.type") == Some("answer") {
        let outcome = match ev.str("dns.response_code") {
            Some("NOERROR") => Some("success"),
            Some(_) => Some("failure"),
            None => None,
        };
        ev.set_opt("event.outcome", outcome);
    }
    Ok(())
}

/// Maps one DNS message object; members without an ECS home go under `suricata.<prefix>.*`
/// when a prefix is given (nested copies are kept whole by the caller instead).
fn map_message(
    ev: &mut Event,
    obj: &Object,
    prefix: Option<&str>,
    msg: &mut Message,
) -> Result<(), DecodeError> {
    let v1_answer = !obj.contains_key("answers") && V1_ANSWER.iter().any(|k| obj.contains_key(*k));
    if v1_answer {
        msg.push(obj.iter().filter(|(k, _)| {
            k.as_str() == "rrname" || k.as_str() == "rrtype" || V1_ANSWER.contains(&k.as_str())
        }));
    }
    for (k, v) in obj {
        let done = match k.as_str() {
            "type" => dns_type(ev, v),
            "id" => put_id(ev, v),
            "rrname" => put_str(ev, "dns.question.name", v),
            "rrtype" => put_str(ev, "dns.question.type", v),
            "rcode" => put_str(ev, "dns.response_code", v),
            "opcode" => op_code(ev, v),
            "aa" | "tc" | "rd" | "ra" | "ad" | "cd" => msg.flag(k, v),
            "answers" => msg.records(v),
            key if v1_answer && V1_ANSWER.contains(&key) => true,
            "query" | "queries" => {
                question(ev, v, msg)?;
                false
            }
            "answer" if v.is_object() => {
                let sub = prefix.map(|p| format!("{p}.answer"));
                map_message(ev, object(v, "answer")?, sub.as_deref(), msg)?;
                true
            }
            "grouped" => {
                msg.grouped(v);
                false
            }
            _ => false,
        };
        if !done && let Some(p) = prefix {
            vendor(ev, p, k, v)?;
        }
    }
    Ok(())
}

/// The question of a `queries` (v3) or `query` (v2 alert) list: its first entry.
fn question(ev: &mut Event, value: &Value, msg: &mut Message) -> Result<(), DecodeError> {
    match value.as_array().and_then(|qs| qs.first()).and_then(Value::as_object) {
        Some(first) => map_message(ev, first, None, msg),
        None => Ok(()),
    }
}

/// `type` → `dns.type`: `query` (v3 `request`) or `answer` (v3 `response`).
fn dns_type(ev: &mut Event, value: &Value) -> bool {
    let kind = match value.as_str() {
        Some("query" | "request") => "query",
        Some("answer" | "response") => "answer",
        _ => return false,
    };
    ev.set("dns.type", kind);
    true
}

/// `id` → `dns.id` (ECS keyword).
fn put_id(ev: &mut Event, value: &Value) -> bool {
    match value {
        Value::Number(n) => ev.set("dns.id", n.to_string()),
        Value::String(s) if !s.is_empty() => ev.set("dns.id", s.as_str()),
        _ => return false,
    }
    true
}

/// `opcode` (a number) → `dns.op_code` by its IANA name.
fn op_code(ev: &mut Event, value: &Value) -> bool {
    let Some(n) = value.as_u64() else {
        return put_str(ev, "dns.op_code", value);
    };
    match n {
        0 => ev.set("dns.op_code", "QUERY"),
        1 => ev.set("dns.op_code", "IQUERY"),
        2 => ev.set("dns.op_code", "STATUS"),
        4 => ev.set("dns.op_code", "NOTIFY"),
        5 => ev.set("dns.op_code", "UPDATE"),
        6 => ev.set("dns.op_code", "DSO"),
        other => ev.set("dns.op_code", other.to_string()),
    }
    true
}

impl Message {
    /// A header flag member (`rd: true`) → `dns.header_flags` (`RD`).
    fn flag(&mut self, key: &str, value: &Value) -> bool {
        let Some(set) = value.as_bool() else {
            return false;
        };
        let flag = FieldValue::from(key.to_ascii_uppercase());
        if set && !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
        true
    }

    /// A detailed answer list (v2, v3); anything but a list of objects is kept as is.
    fn records(&mut self, value: &Value) -> bool {
        let Some(list) = value.as_array().filter(|l| l.iter().all(Value::is_object)) else {
            return false;
        };
        for item in list.iter().filter_map(Value::as_object) {
            self.push(item.iter());
        }
        true
    }

    /// Adds one answer record, converted to ECS names.
    fn push<'a>(&mut self, members: impl Iterator<Item = (&'a String, &'a Value)>) {
        let mut out = Map::new();
        let (mut rrtype, mut rdata) = (None, None);
        for (k, v) in members {
            let key = match k.as_str() {
                "rrname" => "name",
                "rrtype" => {
                    rrtype = v.as_str();
                    "type"
                }
                "rdata" => {
                    rdata = v.as_str();
                    "data"
                }
                other => {
                    if let Some(text) = rdata_text(other, v) {
                        out.insert("data".into(), Value::String(text));
                    }
                    other
                }
            };
            out.insert(key.into(), v.clone());
        }
        if let (Some("A" | "AAAA"), Some(ip)) = (rrtype, rdata) {
            self.resolve(ip);
        }
        self.answers.push(Value::Object(out));
    }

    /// Addresses of a `grouped` answer object (`{"A": ["192.0.2.1"], …}`).
    fn grouped(&mut self, value: &Value) {
        for rrtype in ["A", "AAAA"] {
            let items = value.get(rrtype).and_then(Value::as_array);
            for ip in items.into_iter().flatten().filter_map(Value::as_str) {
                self.resolve(ip);
            }
        }
    }

    fn resolve(&mut self, text: &str) {
        if let Ok(ip) = text.parse::<IpAddr>() {
            let ip = FieldValue::Ip(ip);
            if !self.resolved.contains(&ip) {
                self.resolved.push(ip);
            }
        }
    }
}

/// The zone-file text of structured record data (`soa`, `srv`, `sshfp`), for `data`.
fn rdata_text(kind: &str, value: &Value) -> Option<String> {
    let fields: &[&str] = match kind {
        "soa" => &["mname", "rname", "serial", "refresh", "retry", "expire", "minimum"],
        "srv" => &["priority", "weight", "port", "name"],
        "sshfp" => &["algo", "type", "fingerprint"],
        "hinfo" => &["cpu", "os"],
        _ => return None,
    };
    let parts: Option<Vec<String>> = fields
        .iter()
        .map(|f| match value.get(f)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    Some(parts.map_or_else(|| value.to_string(), |p| p.join(" ")))
}
