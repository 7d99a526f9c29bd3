//! DNS messages (RFC 1035): the question, the response code and the answers.

use serde_json::{Value, json};

use super::{Fields, put};

/// The message's ECS fields, `None` when the payload is not a DNS message.
pub(super) fn parse(m: &[u8]) -> Option<Fields> {
    if m.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([m[0], m[1]]);
    let flags = u16::from_be_bytes([m[2], m[3]]);
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    if qd == 0 || qd > 16 || (flags >> 11) & 0xF > 5 {
        return None;
    }
    let mut at = 12;
    let qname = name(m, &mut at)?;
    let qtype = u16::from_be_bytes([*m.get(at)?, *m.get(at + 1)?]);
    let qclass = u16::from_be_bytes([*m.get(at + 2)?, *m.get(at + 3)?]);
    at += 4;
    for _ in 1..qd {
        name(m, &mut at)?;
        at += 4;
    }
    let response = flags & 0x8000 != 0;
    let mut f = Fields::new();
    put(&mut f, "dns.id", id.to_string());
    put(&mut f, "dns.type", if response { "answer" } else { "query" });
    put(&mut f, "dns.question.name", qname);
    put(&mut f, "dns.question.type", type_name(qtype));
    put(&mut f, "dns.question.class", if qclass == 1 { "IN".to_owned() } else { qclass.to_string() });
    put(&mut f, "dns.header_flags", header_flags(flags));
    if response {
        put(&mut f, "dns.response_code", rcode(flags & 0xF));
        let (answers, ips) = answers(m, &mut at, an);
        if !answers.is_empty() {
            put(&mut f, "dns.answers", Value::Array(answers));
        }
        if !ips.is_empty() {
            put(&mut f, "dns.resolved_ip", Value::Array(ips));
        }
    }
    Some(f)
}

fn answers(m: &[u8], at: &mut usize, count: u16) -> (Vec<Value>, Vec<Value>) {
    let (mut out, mut ips) = (Vec::new(), Vec::new());
    for _ in 0..count.min(64) {
        let Some(n) = name(m, at) else { break };
        let Some(h) = m.get(*at..*at + 10) else { break };
        let rtype = u16::from_be_bytes([h[0], h[1]]);
        let ttl = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let len = usize::from(u16::from_be_bytes([h[8], h[9]]));
        let start = *at + 10;
        let Some(rdata) = m.get(start..start + len) else { break };
        let data = match (rtype, len) {
            (1, 4) => Some(std::net::Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string()),
            (28, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(rdata);
                Some(std::net::Ipv6Addr::from(a).to_string())
            }
            (2 | 5 | 12, _) => name(m, &mut start.clone()),
            (15, _) if len > 2 => name(m, &mut (start + 2)),
            (16, _) => Some(String::from_utf8_lossy(rdata.get(1..).unwrap_or_default()).into_owned()),
            _ => None,
        };
        if matches!(rtype, 1 | 28)
            && let Some(ip) = &data
        {
            ips.push(Value::from(ip.clone()));
        }
        let mut a = json!({"name": n, "type": type_name(rtype), "ttl": ttl, "class": "IN"});
        if let Some(d) = data {
            a["data"] = Value::from(d);
        }
        out.push(a);
        *at = start + len;
    }
    (out, ips)
}

/// Reads a possibly compressed name at `*at`, advancing past it.
fn name(m: &[u8], at: &mut usize) -> Option<String> {
    let mut labels: Vec<String> = Vec::new();
    let mut pos = *at;
    let mut jumped = false;
    let mut hops = 0;
    let mut total = 0usize;
    loop {
        let len = *m.get(pos)?;
        if len & 0xC0 == 0xC0 {
            let ptr = usize::from(u16::from_be_bytes([len & 0x3F, *m.get(pos + 1)?]));
            if !jumped {
                *at = pos + 2;
            }
            jumped = true;
            hops += 1;
            if hops > 32 || ptr >= m.len() {
                return None;
            }
            pos = ptr;
            continue;
        }
        if len & 0xC0 != 0 {
            return None;
        }
        if len == 0 {
            if !jumped {
                *at = pos + 1;
            }
            break;
        }
        let l = m.get(pos + 1..pos + 1 + usize::from(len))?;
        total += l.len() + 1;
        if total > 255 {
            return None;
        }
        labels.push(String::from_utf8_lossy(l).into_owned());
        pos += 1 + usize::from(len);
    }
    Some(if labels.is_empty() { ".".to_owned() } else { labels.join(".") })
}

fn header_flags(flags: u16) -> Value {
    let names =
        [(0x0400, "AA"), (0x0200, "TC"), (0x0100, "RD"), (0x0080, "RA"), (0x0020, "AD"), (0x0010, "CD")];
    Value::Array(names.iter().filter(|(b, _)| flags & b != 0).map(|(_, n)| Value::from(*n)).collect())
}

fn rcode(code: u16) -> String {
    match code {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => return code.to_string(),
    }
    .to_owned()
}

fn type_name(t: u16) -> String {
    match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        48 => "DNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        _ => return t.to_string(),
    }
    .to_owned()
}
