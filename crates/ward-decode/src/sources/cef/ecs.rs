//! CEF extension keys → ECS fields. Every extension is also kept raw under
//! `cef.extensions.<key>`, and labelled custom fields (`cs1Label=Rule cs1=x`) under
//! `cef.custom.<label>`.

use std::net::IpAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use ward_model::{Event, FieldValue};

use super::parse::Extension;
use super::time;
use crate::{DecodeError, util};

/// How an extension value becomes an ECS value.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Text as is.
    Text,
    /// A user name, also added to `related.user`.
    User,
    /// Text lowercased (`network.protocol`).
    Lower,
    /// An IP address, also added to `related.ip`; anything else is rejected.
    Ip,
    /// A port, 0-65535.
    Port,
    /// A signed integer.
    Int,
    /// A CEF time (`@timestamp` sets the event time).
    Time,
    /// A MAC address, normalized to ECS form (`00-0C-29-AB-CD-EF`).
    Mac,
    /// `proto`: a name (lowercased) or an IANA protocol number.
    Transport,
    /// `deviceDirection`: 0 inbound, 1 outbound.
    Direction,
    /// `outcome`: success / failure / unknown, with or without ArcSight's leading `/`.
    Outcome,
    /// `fileHash`: md5, sha1, sha256 or sha512 by length.
    Hash,
}

/// The ECS target of a standard key (CEF key name or its full name).
fn target(key: &str) -> Option<(&'static str, Kind)> {
    use Kind::*;
    Some(match key {
        "src" | "sourceAddress" => ("source.ip", Ip),
        "spt" | "sourcePort" => ("source.port", Port),
        "shost" | "sourceHostName" => ("source.domain", Text),
        "smac" | "sourceMacAddress" => ("source.mac", Mac),
        "suser" | "sourceUserName" => ("source.user.name", User),
        "suid" | "sourceUserId" => ("source.user.id", Text),
        "sntdom" | "sourceNtDomain" => ("source.user.domain", Text),
        "sourceTranslatedAddress" => ("source.nat.ip", Ip),
        "sourceTranslatedPort" => ("source.nat.port", Port),
        "spid" | "sourceProcessId" => ("process.parent.pid", Int),
        "sproc" | "sourceProcessName" => ("process.parent.name", Text),
        "dst" | "destinationAddress" => ("destination.ip", Ip),
        "dpt" | "destinationPort" => ("destination.port", Port),
        "dhost" | "destinationHostName" => ("destination.domain", Text),
        "dmac" | "destinationMacAddress" => ("destination.mac", Mac),
        "duser" | "destinationUserName" => ("destination.user.name", User),
        "duid" | "destinationUserId" => ("destination.user.id", Text),
        "dntdom" | "destinationNtDomain" => ("destination.user.domain", Text),
        "destinationTranslatedAddress" => ("destination.nat.ip", Ip),
        "destinationTranslatedPort" => ("destination.nat.port", Port),
        "dpid" | "destinationProcessId" => ("process.pid", Int),
        "dproc" | "destinationProcessName" => ("process.name", Text),
        "act" | "deviceAction" => ("event.action", Text),
        "app" | "applicationProtocol" => ("network.protocol", Lower),
        "proto" | "transportProtocol" => ("network.transport", Transport),
        "deviceDirection" => ("network.direction", Direction),
        "in" | "bytesIn" => ("source.bytes", Int),
        "out" | "bytesOut" => ("destination.bytes", Int),
        "request" | "requestUrl" => ("url.original", Text),
        "requestMethod" => ("http.request.method", Text),
        "requestClientApplication" => ("user_agent.original", Text),
        "msg" | "message" => ("message", Text),
        "reason" => ("event.reason", Text),
        "externalId" => ("event.id", Text),
        "outcome" | "eventOutcome" => ("event.outcome", Outcome),
        "rt" | "deviceReceiptTime" => ("@timestamp", Time),
        "start" | "startTime" => ("event.start", Time),
        "end" | "endTime" => ("event.end", Time),
        "fname" | "fileName" => ("file.name", Text),
        "filePath" => ("file.path", Text),
        "fsize" | "fileSize" => ("file.size", Int),
        "fileHash" => ("file.hash", Hash),
        "deviceExternalId" => ("observer.name", Text),
        "dvchost" | "deviceHostName" => ("observer.hostname", Text),
        "dvc" | "deviceAddress" => ("observer.ip", Ip),
        "dvcmac" | "deviceMacAddress" => ("observer.mac", Mac),
        "deviceInboundInterface" => ("observer.ingress.interface.name", Text),
        "deviceOutboundInterface" => ("observer.egress.interface.name", Text),
        _ => return None,
    })
}

/// Maps every extension: raw copy, ECS field, labelled custom field.
///
/// # Errors
/// A standard key whose value has the wrong type (an IP that is not one, a port out of range,
/// an unparseable time), naming the key and the value's byte offset.
pub(super) fn apply(
    ev: &mut Event,
    extensions: &[Extension<'_>],
    now: DateTime<Utc>,
) -> Result<(), DecodeError> {
    for ext in extensions {
        keep_raw(ev, ext);
        if let Some((path, kind)) = target(ext.key) {
            let value = ext.value.trim();
            if !value.is_empty() {
                convert(ev, path, kind, value, now)
                    .map_err(|reason| DecodeError::invalid(ext.key, format!("byte {}: {reason}", ext.at)))?;
            }
        }
    }
    for ext in extensions {
        apply_label(ev, ext, extensions);
    }
    Ok(())
}

/// A path segment from a key or label: dots would split it, so they become `_`.
fn segment(prefix: &str, name: &str) -> String {
    let mut path = String::with_capacity(prefix.len() + name.len());
    path.push_str(prefix);
    path.extend(name.chars().map(|c| if c == '.' { '_' } else { c }));
    path
}

/// `cef.extensions.<key>`; a key given twice keeps both values as a list.
fn keep_raw(ev: &mut Event, ext: &Extension<'_>) {
    let path = segment("cef.extensions.", ext.key);
    if ev.get(&path).is_some() {
        ev.push(&path, ext.value.as_ref());
    } else {
        ev.set(&path, ext.value.as_ref());
    }
}

/// `XLabel=Name` + `X=value` → `cef.custom.Name = value` (numbers for `cn*`/`flexNumber*`).
fn apply_label(ev: &mut Event, label: &Extension<'_>, all: &[Extension<'_>]) {
    let Some(base) = label.key.strip_suffix("Label").filter(|b| !b.is_empty()) else { return };
    let name = label.value.trim();
    let Some(value) = all.iter().rev().find(|e| e.key == base) else { return };
    if name.is_empty() {
        return;
    }
    let path = segment("cef.custom.", name);
    let numeric =
        base.starts_with("cn") || base.starts_with("flexNumber") || base.starts_with("deviceCustomNumber");
    match value.value.trim().parse::<i64>() {
        Ok(n) if numeric => ev.set(&path, n),
        _ => ev.set(&path, value.value.as_ref()),
    }
}

fn convert(ev: &mut Event, path: &str, kind: Kind, v: &str, now: DateTime<Utc>) -> Result<(), String> {
    match kind {
        Kind::Text => ev.set(path, v),
        Kind::User => util::set_user(ev, path, v),
        Kind::Lower => ev.set(path, v.to_ascii_lowercase()),
        Kind::Ip => {
            let ip: IpAddr = v.parse().map_err(|_| format!("`{v}` is not an IP address"))?;
            ev.set(path, ip);
            ev.push("related.ip", ip);
        }
        Kind::Port => {
            ev.set(path, v.parse::<u16>().map_err(|_| format!("`{v}` is not a port number (0-65535)"))?)
        }
        Kind::Int => ev.set(path, v.parse::<i64>().map_err(|_| format!("`{v}` is not an integer"))?),
        Kind::Time => {
            let t = time::parse(v, now)?;
            if path == "@timestamp" {
                ev.set_timestamp(t);
            } else {
                ev.set(path, t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            }
        }
        Kind::Mac => ev.set(path, mac(v).ok_or_else(|| format!("`{v}` is not a MAC address"))?),
        Kind::Transport => transport(ev, path, v),
        Kind::Direction => match v {
            "0" => ev.set(path, "inbound"),
            "1" => ev.set(path, "outbound"),
            _ => return Err(format!("`{v}` is not a direction (0 inbound, 1 outbound)")),
        },
        Kind::Outcome => {
            let o = v.trim_start_matches('/').to_ascii_lowercase();
            if matches!(o.as_str(), "success" | "failure" | "unknown") {
                ev.set(path, o);
            }
        }
        Kind::Hash => {
            let algo = match v.len() {
                32 => "md5",
                40 => "sha1",
                64 => "sha256",
                128 => "sha512",
                _ => return Ok(()),
            };
            if v.bytes().all(|b| b.is_ascii_hexdigit()) {
                ev.set(&format!("{path}.{algo}"), v.to_ascii_lowercase());
            }
        }
    }
    Ok(())
}

/// `network.transport` from a name or an IANA number (also kept in `network.iana_number`).
fn transport(ev: &mut Event, path: &str, v: &str) {
    let Ok(n) = v.parse::<u8>() else {
        ev.set(path, v.to_ascii_lowercase());
        return;
    };
    ev.set("network.iana_number", n.to_string());
    let name = match n {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        58 => "ipv6-icmp",
        132 => "sctp",
        _ => return,
    };
    ev.set(path, name);
}

/// A MAC address with `:` or `-` separators (or none) in ECS form: uppercase, `-`-separated.
fn mac(v: &str) -> Option<FieldValue> {
    let hex: String = v.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    if !matches!(hex.len(), 12 | 16) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let pairs: Vec<String> =
        hex.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).to_ascii_uppercase()).collect();
    Some(pairs.join("-").into())
}
