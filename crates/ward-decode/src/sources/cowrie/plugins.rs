//! Events that Cowrie's output plugins and proxy mode add: threat-intelligence lookups and
//! submissions (VirusTotal, AbuseIPDB, GreyNoise, URLhaus, MalwareBazaar), reverse DNS, and the
//! proxy backend's connection events.

use ward_model::Event;

use super::events::{Outcome, categorize, generic, outcome, sha256};
use super::fields::Record;
use crate::DecodeError;
use crate::util;

type Mapped = Result<(), DecodeError>;

/// Maps `cowrie.<group>.<name>` for the plugin and proxy groups; any other eventid is generic.
pub(super) fn map(ev: &mut Event, rec: &mut Record, group: &str, name: &str) -> Mapped {
    match (group, name) {
        ("virustotal", "scanfile" | "scanurl") => virustotal(ev, rec),
        ("abuseipdb", "started" | "wakeup" | "ratelimited" | "reportedip" | "reportfail") => {
            abuseipdb(ev, rec, name)
        }
        ("greynoise", "result") => {
            categorize(ev, &["threat"], &["indicator"]);
            Ok(())
        }
        ("urlhaus", "submitted") => urlhaus(ev, rec),
        ("malwarebazaar", "submitted") => malwarebazaar(ev, rec),
        ("reversedns", "connect" | "forward") => {
            categorize(ev, &["network"], &["info"]);
            ev.set_opt("cowrie.reversedns.ptr", rec.non_empty("ptr")?);
            ev.set_opt("cowrie.reversedns.ttl", rec.int("ttl")?);
            Ok(())
        }
        (
            "proxy",
            "backend_connected"
            | "backend_disconnected"
            | "client_disconnect"
            | "backend_connect_error"
            | "ssh",
        ) => proxy(ev, rec, name),
        _ => {
            generic(ev);
            Ok(())
        }
    }
}

/// A VirusTotal verdict on a downloaded file (`scanfile`) or URL (`scanurl`).
fn virustotal(ev: &mut Event, rec: &mut Record) -> Mapped {
    categorize(ev, &["threat"], &["indicator"]);
    sha256(ev, rec.non_empty("sha256")?);
    ev.set_opt("url.original", rec.non_empty("url")?);
    ev.set_opt("cowrie.virustotal.is_new", rec.flag("is_new")?);
    ev.set_opt("cowrie.virustotal.positives", rec.int("positives")?);
    ev.set_opt("cowrie.virustotal.total", rec.int("total")?);
    ev.set_opt("cowrie.virustotal.scan_date", rec.scalar("scan_date")?);
    ev.set_opt("cowrie.virustotal.permalink", rec.non_empty("permalink")?);
    ev.set_opt("cowrie.virustotal.scans", rec.json("scans"));
    Ok(())
}

/// The AbuseIPDB plugin reporting attacker addresses (`IP`), and its own state.
fn abuseipdb(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    match name {
        "reportedip" => categorize(ev, &["threat"], &["indicator"]),
        "reportfail" => {
            categorize(ev, &["threat"], &["indicator"]);
            outcome(ev, Outcome::Failure);
        }
        _ => generic(ev),
    }
    if let Some(ip) = rec.non_empty("IP")? {
        util::set_ip(ev, "source.ip", &ip);
    }
    ev.set_opt("cowrie.abuseipdb.confidence", rec.scalar("confidence")?);
    ev.set_opt("http.response.status_code", rec.int("response")?);
    ev.set_opt("error.message", rec.non_empty("reason")?);
    ev.set_opt("cowrie.abuseipdb.exception", rec.non_empty("exception")?);
    ev.set_opt("cowrie.abuseipdb.retry_after", rec.scalar("retry_after")?);
    ev.set_opt("cowrie.abuseipdb.wake_at", rec.non_empty("wake_at")?);
    Ok(())
}

/// A download URL submitted to URLhaus.
fn urlhaus(ev: &mut Event, rec: &mut Record) -> Mapped {
    categorize(ev, &["threat"], &["indicator"]);
    ev.set_opt("url.original", rec.non_empty("url")?);
    ev.set_opt("cowrie.urlhaus.result", rec.non_empty("result")?);
    ev.set_opt("http.response.status_code", rec.int("http_status")?);
    Ok(())
}

/// A captured file submitted to MalwareBazaar.
fn malwarebazaar(ev: &mut Event, rec: &mut Record) -> Mapped {
    categorize(ev, &["threat"], &["indicator"]);
    sha256(ev, rec.non_empty("sha256")?);
    ev.set_opt("cowrie.malwarebazaar.result", rec.non_empty("result")?);
    ev.set_opt("cowrie.malwarebazaar.query_status", rec.non_empty("query_status")?);
    ev.set_opt("http.response.status_code", rec.int("http_status")?);
    Ok(())
}

/// Proxy mode: Cowrie relaying the attacker to a backend honeypot (`cowrie.proxy.*`).
fn proxy(ev: &mut Event, rec: &mut Record, name: &str) -> Mapped {
    match name {
        "backend_connected" => categorize(ev, &["network"], &["connection", "start"]),
        "backend_disconnected" | "client_disconnect" => categorize(ev, &["network"], &["connection", "end"]),
        "backend_connect_error" => {
            categorize(ev, &["network"], &["connection", "error"]);
            outcome(ev, Outcome::Failure);
        }
        _ => categorize(ev, &["network"], &["protocol"]),
    }
    for key in ["backend_ip", "local_ip", "honey_ip", "direction", "packet", "payload"] {
        ev.set_opt(&format!("cowrie.proxy.{key}"), rec.non_empty(key)?);
    }
    for key in ["backend_port", "local_port", "honey_port"] {
        ev.set_opt(&format!("cowrie.proxy.{key}"), rec.port(key)?);
    }
    ev.set_opt("cowrie.proxy.vm_id", rec.scalar("vm_id")?);
    ev.set_opt("error.message", rec.non_empty("error")?);
    Ok(())
}
