//! ECS fields derived from the EventData of the common event families (Sysmon, Security,
//! System service installs, PowerShell). The raw fields stay under `winlog.event_data`; this
//! only adds the normalized view. `docs/sources/winlog.md` has the tables.

mod powershell;
mod security;
mod sysmon;

use std::net::IpAddr;

use ward_model::{Event, FieldValue};

use super::data::EventData;
use super::system::System;
use crate::util::{categorize, set_ip, set_user};

/// `event.action` and the ECS categorization of one event identifier.
pub(super) struct Kind {
    action: &'static str,
    category: &'static [&'static str],
    types: &'static [&'static str],
}

const fn kind(
    action: &'static str,
    category: &'static [&'static str],
    types: &'static [&'static str],
) -> Kind {
    Kind { action, category, types }
}

/// The keyword bits that say whether an audit succeeded or failed.
const AUDIT_SUCCESS: u64 = 0x0020_0000_0000_0000;
const AUDIT_FAILURE: u64 = 0x0010_0000_0000_0000;

/// The event families Ward maps to ECS.
#[derive(Clone, Copy)]
enum Family {
    Sysmon,
    Security,
    ServiceControl,
    PowerShell,
}

impl Family {
    /// The family of an event, from its channel or (when the channel is absent) provider.
    fn of(sys: &System) -> Option<Self> {
        let is = |channel: &str, provider: &str| match sys.channel.as_deref() {
            Some(c) => c.eq_ignore_ascii_case(channel),
            None => sys.provider.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(provider)),
        };
        if is("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon") {
            Some(Self::Sysmon)
        } else if is("Security", "Microsoft-Windows-Security-Auditing") {
            Some(Self::Security)
        } else if is("System", "Service Control Manager") {
            Some(Self::ServiceControl)
        } else if is("Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell")
            || is("PowerShellCore/Operational", "PowerShellCore")
        {
            Some(Self::PowerShell)
        } else {
            None
        }
    }

    fn kind(self, id: i64) -> Option<Kind> {
        match self {
            Self::Sysmon => sysmon::kind_of(id),
            Self::Security => security::kind_of(id),
            Self::ServiceControl => security::service_kind_of(id),
            Self::PowerShell => powershell::kind_of(id),
        }
    }

    fn map(self, ev: &mut Event, id: i64, d: &EventData) {
        match self {
            Self::Sysmon => sysmon::map(ev, id, d),
            Self::Security => security::map(ev, id, d),
            Self::ServiceControl => security::map_service(ev, d),
            Self::PowerShell => powershell::map(ev, id, d),
        }
    }
}

/// Adds the ECS view of one event.
pub(super) fn map(ev: &mut Event, sys: &System, d: &EventData) {
    ev.set("event.kind", "event");
    if let Some(outcome) = sys.keywords.as_ref().and_then(audit_outcome) {
        ev.set("event.outcome", outcome);
    }
    let Some(family) = Family::of(sys) else { return };
    let Some(kind) = family.kind(sys.event_id) else { return };
    categorize(ev, "event", kind.category, kind.types);
    ev.set("event.action", kind.action);
    family.map(ev, sys.event_id, d);
}

/// `success`/`failure` from the Audit Success/Failure keywords (a hex mask, or names as
/// Winlogbeat writes them).
fn audit_outcome(keywords: &FieldValue) -> Option<&'static str> {
    match keywords {
        FieldValue::Str(hex) => {
            let bits = u64::from_str_radix(hex.trim().trim_start_matches("0x"), 16).ok()?;
            if bits & AUDIT_FAILURE != 0 {
                Some("failure")
            } else if bits & AUDIT_SUCCESS != 0 {
                Some("success")
            } else {
                None
            }
        }
        FieldValue::List(names) => names.iter().find_map(|n| match n.as_str() {
            Some("Audit Success") => Some("success"),
            Some("Audit Failure") => Some("failure"),
            _ => None,
        }),
        _ => None,
    }
}

/// Sets `<prefix>.executable` and `<prefix>.name` (the file name) from a Windows path.
fn set_executable(ev: &mut Event, prefix: &str, path: &str) {
    ev.set(&format!("{prefix}.executable"), path);
    ev.set(&format!("{prefix}.name"), file_name(path));
}

/// The last component of a Windows or POSIX path.
fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Sets `file.path`, `file.name`, `file.directory` and `file.extension` from a path.
fn set_file(ev: &mut Event, path: &str) {
    ev.set("file.path", path);
    let name = file_name(path);
    ev.set("file.name", name);
    if name.len() < path.len() {
        ev.set("file.directory", &path[..path.len() - name.len() - 1]);
    }
    if let Some((_, ext)) = name.rsplit_once('.').filter(|(stem, ext)| !stem.is_empty() && !ext.is_empty()) {
        ev.set("file.extension", ext.to_ascii_lowercase());
    }
}

/// Sets `<prefix>.name` and `<prefix>.domain` from `DOMAIN\user` text (adds to `related.user`).
fn set_account(ev: &mut Event, prefix: &str, account: &str) {
    match account.split_once('\\') {
        Some((domain, name)) => {
            set_user(ev, &format!("{prefix}.name"), name);
            if !domain.is_empty() {
                ev.set(&format!("{prefix}.domain"), domain);
            }
        }
        None => set_user(ev, &format!("{prefix}.name"), account),
    }
}

/// Sets `<prefix>.name/domain/id` from three EventData fields (`SubjectUserName`, …).
fn set_user_fields(ev: &mut Event, prefix: &str, d: &EventData, [name, domain, sid]: [&str; 3]) {
    if let Some(n) = d.text(name) {
        set_user(ev, &format!("{prefix}.name"), n);
    }
    ev.set_opt(&format!("{prefix}.domain"), d.text(domain));
    ev.set_opt(&format!("{prefix}.id"), d.text(sid));
}

/// Sets an address field from EventData text, skipping placeholders and unwrapping
/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.5`, as Kerberos events write them).
fn set_address(ev: &mut Event, path: &str, text: Option<&str>) {
    let Some(text) = text else { return };
    match text.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => set_ip(ev, path, &v4.to_string()),
            None => set_ip(ev, path, text),
        },
        _ => set_ip(ev, path, text),
    }
}

/// Sets a port from EventData, when it is a real one (1-65535).
fn set_port(ev: &mut Event, path: &str, d: &EventData, field: &str) {
    if let Some(port) = d.int(field).filter(|p| (1..=65535).contains(p)) {
        ev.set(path, port);
    }
}

/// Sets `<prefix>.md5/sha1/sha256/…` from Sysmon's `SHA1=…,MD5=…,IMPHASH=…` text (IMPHASH goes to
/// `<pe>.imphash`), lower-cased, each also in `related.hash`.
fn set_hashes(ev: &mut Event, prefix: &str, pe: &str, text: &str) {
    for (algo, value) in text.split(',').filter_map(|pair| pair.split_once('=')) {
        let value = value.trim().to_ascii_lowercase();
        let path = match algo.trim().to_ascii_lowercase().as_str() {
            a @ ("md5" | "sha1" | "sha256" | "sha384" | "sha512") => format!("{prefix}.{a}"),
            "imphash" => format!("{pe}.imphash"),
            _ => continue,
        };
        if value.is_empty() {
            continue;
        }
        ev.push("related.hash", value.as_str());
        ev.set(&path, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_keywords_give_outcomes() {
        assert_eq!(audit_outcome(&"0x8020000000000000".into()), Some("success"));
        assert_eq!(audit_outcome(&"0x8010000000000000".into()), Some("failure"));
        assert_eq!(audit_outcome(&"0x8000000000000000".into()), None);
        assert_eq!(audit_outcome(&FieldValue::List(vec!["Audit Failure".into()])), Some("failure"));
    }

    #[test]
    fn paths_split_into_names() {
        assert_eq!(file_name("C:\\Windows\\System32\\cmd.exe"), "cmd.exe");
        assert_eq!(file_name("System"), "System");
        assert_eq!(file_name("/usr/bin/id"), "id");
    }
}
