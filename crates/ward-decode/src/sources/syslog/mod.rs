//! Syslog: RFC 5424 and RFC 3164 (BSD) lines, with or without `<PRI>` (files under
//! `/var/log` carry none), with BSD or RFC 3339 timestamps (rsyslog's file format).
//!
//! The header is parsed strictly by our own parser rather than `syslog_loose`, which never
//! rejects (anything unparseable becomes a message) and reports no position. Messages of
//! OpenSSH, Linux-PAM, `su`, `sudo` and cron become ECS authentication, session and process
//! events. `docs/sources/syslog.md` lists the mapping.

mod auth;
mod header;
mod pam;
mod sd;
mod sshd;
mod time;

use chrono::SecondsFormat;
use ward_model::{Event, FieldValue};

use crate::{DecodeContext, DecodeError, Decoder, Framing, util};

pub(crate) use header::{Header, parse as parse_header};
pub(crate) use time::{infer_year, month_of, parse_clock};

/// Facility keywords by code (RFC 5424 table 1, names as rsyslog writes them).
const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Severity names by code (RFC 5424 table 2).
const SEVERITIES: [&str; 8] =
    ["Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"];

/// Decodes syslog lines (RFC 5424, RFC 3164) into ECS events.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyslogDecoder;

impl Decoder for SyslogDecoder {
    fn name(&self) -> &'static str {
        "syslog"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let header = header::parse(record, ctx.now)?;
        let mut ev = Event::new(&ctx.tenant, self.name(), record, 0, header.timestamp.unwrap_or(ctx.now));
        ev.set("event.kind", "event");
        if header.timestamp.is_none() {
            ev.set("event.ingested", ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        apply_header(&mut ev, &header);
        apply_process(&mut ev, &header);
        map_message(&mut ev, &header);
        out.push(ev);
        Ok(())
    }
}

/// Sets `log.syslog.*` and `host.hostname` from a parsed header (also used for the syslog
/// prefix of CEF records).
pub(crate) fn apply_header(ev: &mut Event, h: &Header<'_>) {
    if let Some(pri) = h.pri {
        let (facility, severity) = (usize::from(pri / 8), usize::from(pri % 8));
        ev.set("log.syslog.priority", pri);
        ev.set("log.syslog.facility.code", pri / 8);
        ev.set("log.syslog.facility.name", FACILITIES[facility]);
        ev.set("log.syslog.severity.code", pri % 8);
        ev.set("log.syslog.severity.name", SEVERITIES[severity]);
    }
    ev.set_opt("log.syslog.version", h.version.map(|v| v.to_string()));
    ev.set_opt("host.hostname", h.hostname);
    ev.set_opt("log.syslog.appname", h.appname);
    ev.set_opt("log.syslog.procid", h.procid);
    ev.set_opt("log.syslog.msgid", h.msgid);
    if let Some(sd) = &h.structured_data {
        ev.set("log.syslog.structured_data", FieldValue::Json(Box::new(sd.clone())));
    }
}

/// The program behind an APP-NAME/TAG, and the PAM module of old-style tags (`sshd(pam_unix)`).
fn program_of(app: &str) -> (&str, Option<&str>) {
    match app.strip_suffix(')').and_then(|a| a.split_once('(')) {
        Some((program, module)) if module.starts_with("pam_") && !program.is_empty() => {
            (program, Some(module))
        }
        _ => (app, None),
    }
}

fn apply_process(ev: &mut Event, h: &Header<'_>) {
    if let Some(app) = h.appname {
        ev.set("process.name", program_of(app).0);
    }
    if let Some(pid) = h.procid.and_then(|p| p.parse::<i64>().ok()) {
        ev.set("process.pid", pid);
    }
}

/// Sets `message` and maps what the known programs say in it.
fn map_message(ev: &mut Event, h: &Header<'_>) {
    if h.msg.is_empty() {
        return;
    }
    ev.set("message", h.msg);
    let content = match repeated(h.msg) {
        Some((count, inner)) => {
            ev.set("syslog.repeated", count);
            inner
        }
        None => h.msg,
    };
    let Some((program, module)) = h.appname.map(program_of) else { return };
    if let Some(module) = module {
        ev.set("system.auth.pam.module", module);
        ev.set("system.auth.pam.service", program);
        pam::map_body(ev, content);
        return;
    }
    if content.starts_with("pam_") && pam::map_prefixed(ev, content) {
        return;
    }
    match program {
        "sshd" | "sshd-session" | "sshd-auth" => sshd::map(ev, content),
        "sudo" => auth::sudo(ev, content),
        "su" => auth::su(ev, content),
        "CRON" | "cron" | "crond" => auth::cron(ev, content),
        _ => {}
    }
}

/// rsyslog's reduction `message repeated N times: [ MSG]`: the count and the inner message.
fn repeated(msg: &str) -> Option<(i64, &str)> {
    let rest = msg.strip_prefix("message repeated ")?;
    let (count, rest) = rest.split_once(" times: [")?;
    let inner = rest.strip_suffix(']')?;
    Some((count.parse().ok()?, inner.trim_start()))
}

/// Whether an authentication attempt worked (`event.outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
}

/// Sets `event.action`, `event.category`, `event.type` and, when known, `event.outcome`.
fn classify(ev: &mut Event, action: &str, category: &[&str], types: &[&str], outcome: Option<Outcome>) {
    util::categorize(ev, "event", category, types);
    ev.set("event.action", action);
    if let Some(o) = outcome {
        ev.set("event.outcome", if o == Outcome::Success { "success" } else { "failure" });
    }
}

/// Sets `source.ip` (and `related.ip`) for an address, `source.domain` for a host name.
fn set_source(ev: &mut Event, text: &str) {
    if text.parse::<std::net::IpAddr>().is_ok() {
        util::set_ip(ev, "source.ip", text);
    } else if !text.is_empty() {
        ev.set("source.domain", text);
    }
}

/// Sets a port field when the text is a port number (0-65535).
fn set_port(ev: &mut Event, path: &str, text: Option<regex::Match<'_>>) {
    if let Some(port) = text.and_then(|m| m.as_str().parse::<u16>().ok()) {
        ev.set(path, port);
    }
}
